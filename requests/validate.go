package requests

import (
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

// Limits on submitted text, in characters. They keep rows and notices a
// sane size; Open311 sets none.
const (
	MaxDescriptionLen = 4000
	MaxTextLen        = 4000 // text attributes and status notes
	MaxStringLen      = 255  // string attributes
	MaxAddressLen     = 500
	MaxNameLen        = 100
	MaxEmailLen       = 254 // RFC 5321 path limit
	MaxURLLen         = 2048
	MaxKeyLen         = 255 // Idempotency-Key, device ID, actor
)

func invalid(field string, msg i18n.Text, args ...any) *i18n.Error {
	return i18n.Errorf(i18n.Invalid, field, msg, args...)
}

// checkText refuses text a database or a notice cannot carry: invalid
// UTF-8, NUL and other control characters (line breaks and tabs are
// allowed when multiline), and more than max characters.
func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return invalid(field, i18n.T("is not valid UTF-8 text", "n'est pas du texte UTF-8 valide"))
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, i18n.T("is %d characters long; the limit is %d", "compte %d caractères; la limite est de %d"), n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return invalid(field, i18n.T("contains a control character (U+%04X)", "contient un caractère de contrôle (U+%04X)"), r)
		}
	}
	return nil
}

// checkPoint checks lat/long and names the coordinate at fault, in both
// languages (geo's own error, English only, is kept as the cause).
func checkPoint(p *orb.Point) error {
	if p == nil {
		return invalid("lat", i18n.T("lat and long are required: pinward locates requests by their coordinates",
			"lat et long sont obligatoires : pinward situe les demandes par leurs coordonnées"))
	}
	err := geo.ValidatePoint(*p)
	if err == nil {
		return nil
	}
	lon, lat := p[0], p[1]
	var e *i18n.Error
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0):
		e = invalid("long", i18n.T("must be a finite number", "doit être un nombre fini"))
	case math.IsNaN(lat) || math.IsInf(lat, 0):
		e = invalid("lat", i18n.T("must be a finite number", "doit être un nombre fini"))
	case math.Abs(lat) > 90 && math.Abs(lat) <= 180 && math.Abs(lon) <= 90:
		e = invalid("lat", i18n.T("%g is out of range [-90, 90]; lat and long look swapped",
			"%g est hors de l'intervalle [-90, 90]; lat et long semblent inversées"), lat)
	case math.Abs(lon) > 180:
		e = invalid("long", i18n.T("%g is out of range [-180, 180]", "%g est hors de l'intervalle [-180, 180]"), lon)
	default:
		e = invalid("lat", i18n.T("%g is out of range [-90, 90]", "%g est hors de l'intervalle [-90, 90]"), lat)
	}
	e.Err = err
	return e
}

func swappedError(p orb.Point) error {
	return invalid("lat", i18n.T(
		"lat %g, long %g is outside the municipality, but lat %g, long %g is inside: lat and long look swapped",
		"lat %g, long %g est à l'extérieur de la municipalité, mais lat %g, long %g est à l'intérieur : lat et long semblent inversées"),
		p[1], p[0], p[0], p[1])
}

func checkEmail(s string) error {
	if s == "" {
		return nil
	}
	if err := checkText("email", s, MaxEmailLen, false); err != nil {
		return err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return invalid("email", i18n.T("%q is not an email address", "%q n'est pas une adresse courriel"), s)
	}
	return nil
}

// phoneRE accepts the ways Canadians write phone numbers: +1 (819) 555-0100,
// 819.555.0100, 555-0100 poste 12.
var phoneRE = regexp.MustCompile(`(?i)^\+?[0-9 ().-]+?(\s*(x|ext\.?|poste)\s*[0-9]{1,6})?$`)

func checkPhone(s string) error {
	if s == "" {
		return nil
	}
	main, digits := s, 0
	if m := phoneRE.FindStringSubmatchIndex(s); m != nil && m[2] >= 0 {
		main = s[:m[2]]
	}
	for _, r := range main {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if len(s) > 40 || !phoneRE.MatchString(s) || digits < 7 || digits > 15 {
		return invalid("phone", i18n.T("%q is not a phone number", "%q n'est pas un numéro de téléphone"), s)
	}
	return nil
}

func checkURL(field, s string) error {
	if s == "" {
		return nil
	}
	if err := checkText(field, s, MaxURLLen, false); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid(field, i18n.T("%q is not an http or https URL", "%q n'est pas une URL http ou https"), s)
	}
	return nil
}

func checkReporter(r Reporter) error {
	for _, f := range []struct{ field, v string }{{"first_name", r.FirstName}, {"last_name", r.LastName}} {
		if err := checkText(f.field, f.v, MaxNameLen, false); err != nil {
			return err
		}
	}
	if err := checkEmail(r.Email); err != nil {
		return err
	}
	if err := checkPhone(r.Phone); err != nil {
		return err
	}
	return checkText("device_id", r.DeviceID, MaxKeyLen, false)
}

// datetimeLayouts are the forms accepted for datetime attributes; those
// without an offset are local time in the municipality.
var datetimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", time.DateOnly}

// checkAttributes validates the Open311 attribute values of a submission
// against the category's service definition and returns them normalised.
func checkAttributes(cat Category, given map[string][]string, loc *time.Location) (map[string]string, error) {
	defs := map[string]AttributeDef{}
	for _, a := range cat.Attributes {
		defs[a.Code] = a
	}
	codes := make([]string, 0, len(given))
	for code := range given {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		if _, ok := defs[code]; !ok {
			return nil, invalid(attrField(code), i18n.T("is not a question of service %q", "n'est pas une question du service %q"), cat.Code)
		}
	}
	out := map[string]string{}
	for _, a := range cat.Attributes {
		field := attrField(a.Code)
		var vals []string
		for _, v := range given[a.Code] {
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
		switch {
		case len(vals) == 0 && a.Required:
			return nil, &i18n.Error{Kind: i18n.Invalid, Field: field, Message: i18n.Text{
				En: "is required: " + a.Description.En,
				Fr: "est obligatoire : " + a.Description.Fr,
			}}
		case len(vals) == 0:
			continue
		case a.Informational:
			return nil, invalid(field, i18n.T("is information only and takes no value", "est informatif et ne prend pas de valeur"))
		case len(vals) > 1 && a.Datatype != MultiValueList:
			return nil, invalid(field, i18n.T("takes one value, not %d", "prend une seule valeur, et non %d"), len(vals))
		}
		v, err := attrValue(field, a, vals, loc)
		if err != nil {
			return nil, err
		}
		out[a.Code] = v
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func attrField(code string) string { return "attribute[" + code + "]" }

func attrValue(field string, a AttributeDef, vals []string, loc *time.Location) (string, error) {
	v := vals[0]
	switch a.Datatype {
	case String:
		return v, checkText(field, v, MaxStringLen, false)
	case Text:
		return v, checkText(field, v, MaxTextLen, true)
	case Number:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || len(v) > 64 {
			return "", invalid(field, i18n.T("%q is not a number", "%q n'est pas un nombre"), clip(v))
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case Datetime:
		for _, layout := range datetimeLayouts {
			if t, err := time.ParseInLocation(layout, v, loc); err == nil {
				return t.Format(time.RFC3339), nil
			}
		}
		return "", invalid(field, i18n.T("%q is not a date and time (e.g. 2026-03-14T21:30)", "%q n'est pas une date et une heure (p. ex. 2026-03-14T21:30)"), clip(v))
	}
	// List datatypes: every value must be a key of the list.
	seen := map[string]bool{}
	var keys []string
	for _, v := range vals {
		if !slices.ContainsFunc(a.Values, func(x AttributeValue) bool { return x.Key == v }) {
			return "", invalid(field, i18n.T("%q is not one of the choices (%s)", "%q ne fait pas partie des choix (%s)"), clip(v), valueKeys(a))
		}
		if !seen[v] {
			seen[v] = true
			keys = append(keys, v)
		}
	}
	return strings.Join(keys, ","), nil
}

func valueKeys(a AttributeDef) string {
	keys := make([]string, len(a.Values))
	for i, v := range a.Values {
		keys[i] = v.Key
	}
	return strings.Join(keys, ", ")
}

// clip shortens a value quoted back in an error message.
func clip(s string) string { return text.Clip(s, text.Short) }
