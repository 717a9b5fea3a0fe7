package wards

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/geojsonio"
	"github.com/pinward/pinward/i18n"
)

// Fields names the feature properties that hold a ward's ID and names.
// NameEn may be empty (the ID is then the name too), and NameFr may be
// empty (the French name is then the English one, with a warning).
//
// DefaultFields are lenient, for the files municipalities publish with one
// name (Toronto, Windsor, Los Angeles): see LoadGeoJSON.
type Fields struct {
	ID, NameEn, NameFr string
}

// DefaultFields is id, name_en, name_fr, read leniently (see LoadGeoJSON).
func DefaultFields() Fields { return Fields{ID: "id", NameEn: "name_en", NameFr: "name_fr"} }

// ParseFields reads "ID[,NAME_EN[,NAME_FR]]", e.g. "WARD,NAME,NAME_FR",
// the property names of a ward file's ID, English name and French name.
// "id,name_en,name_fr" is DefaultFields.
func ParseFields(spec string) (Fields, error) {
	parts := strings.Split(spec, ",")
	bad := func(why string) (Fields, error) {
		return Fields{}, fmt.Errorf("ward fields %q: %s; want ID[,NAME_EN[,NAME_FR]] property names, e.g. \"WARD,NAME,NAME_FR\"", spec, why)
	}
	if len(parts) > 3 {
		return bad(fmt.Sprintf("%d names given, at most 3", len(parts)))
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" {
			return bad(fmt.Sprintf("name %d is empty", i+1))
		}
	}
	var f Fields
	f.ID = parts[0]
	if len(parts) > 1 {
		f.NameEn = parts[1]
	}
	if len(parts) > 2 {
		f.NameFr = parts[2]
	}
	return f, nil
}

// maxProblems caps the problems one load reports, so a wholly wrong file
// (every feature a point, say) does not bury the first lines.
const maxProblems = 10

// LoadGeoJSON reads the wards of a GeoJSON FeatureCollection (or a single
// Feature) of Polygon and MultiPolygon features, in file order, taking the
// ID and names from the properties f names. The file is read by package
// geojsonio (its rules: WGS84 only, a byte-order mark skipped, numbers as
// text without a trailing ".0"), and every problem is reported at once as
// features[i] with its ID, and why; geometry problems are *geo.InvalidError
// values naming the feature.
//
// With DefaultFields the file may have one name: the English name is
// name_en, or name when no feature has name_en; the ID is id, or the name
// when no feature has id. When no feature has the French name property
// (name_fr by default, or when f gives none), the French names are the
// English ones and one warning is logged. A property that f names
// explicitly and a feature lacks is an error listing the properties the
// feature has.
func LoadGeoJSON(r io.Reader, f Fields) ([]Ward, error) {
	if f.ID == "" {
		return nil, errors.New("wards: no ID property given (Fields.ID is empty)")
	}
	var feats []*geojsonio.Feature
	var problems []error
	opts := geojsonio.Options{Name: i18n.T("the ward file", "le fichier de quartiers"), Single: true,
		Want: i18n.T("of Polygon or MultiPolygon features with the ward ID in their properties",
			"d'entités Polygon ou MultiPolygon portant l'ID du quartier dans leurs propriétés")}
	err := geojsonio.Read(r, opts, func(raw geojsonio.Raw) error {
		feat, err := geojsonio.Decode(raw)
		if err != nil {
			if len(problems) < maxProblems {
				problems = append(problems, fmt.Errorf("wards: %s: %s", featureName(raw.Index, raw.Single, "", ""), english(err)))
			}
			feats = append(feats, nil)
			return nil
		}
		feats = append(feats, feat)
		return nil
	})
	if err != nil {
		var se *geojsonio.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("wards: %s (line %d, column %d): %w", english(err), se.Line, se.Column, se.Err)
		}
		var ie *i18n.Error
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("wards: %s", english(err))
		}
		return nil, fmt.Errorf("wards: %w", err)
	}
	if len(feats) == 0 {
		return nil, errors.New("wards: the FeatureCollection has no features")
	}
	f, frFallback := resolveFields(f, feats)

	// Report every bad feature (up to maxProblems), so an operator fixes
	// the file in one pass.
	wards := make([]Ward, 0, len(feats))
	seen := make(map[string]int, len(feats))
	for i, feat := range feats {
		if len(problems) >= maxProblems {
			break
		}
		if feat == nil {
			continue
		}
		w, err := loadFeature(feat, f, func(id string) string { return featureName(i, feat.Single, f.ID, id) })
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if j, dup := seen[w.ID]; dup {
			problems = append(problems, fmt.Errorf("wards: features[%d] (%s %q): duplicate ward ID, also used by features[%d]", i, f.ID, w.ID, j))
			continue
		}
		seen[w.ID] = i
		wards = append(wards, w)
	}
	if len(problems) > 0 {
		if len(problems) >= maxProblems {
			problems = append(problems, fmt.Errorf("wards: stopped after %d problems", maxProblems))
		}
		return nil, errors.Join(problems...)
	}
	switch frFallback {
	case "":
	case noneGiven:
		slog.Warn("no French ward name property given; the French name of each ward is its English name", "wards", len(wards))
	default:
		slog.Warn("the ward file has no French names; the French name of each ward is its English name",
			"missing_property", frFallback, "wards", len(wards))
	}
	return wards, nil
}

// featureName names feature i in messages, with its ID once known.
func featureName(i int, single bool, idProp, id string) string {
	name := fmt.Sprintf("features[%d]", i)
	if single {
		name = "the feature"
	}
	if id != "" {
		name += fmt.Sprintf(" (%s %q)", idProp, id)
	}
	return name
}

// english is an error's English message, without the field prefix
// i18n.Error adds (messages here name the feature and property already).
func english(err error) string {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		return ie.Message.En
	}
	return err.Error()
}

// resolveFields applies the lenient rules of DefaultFields to the file's
// properties, and says which French name property is missing from every
// feature ("" when the French names are in the file).
func resolveFields(f Fields, feats []*geojsonio.Feature) (Fields, string) {
	anyHas := func(key string) bool {
		return slices.ContainsFunc(feats, func(ft *geojsonio.Feature) bool { return ft != nil && ft.Has(key) })
	}
	if f == DefaultFields() {
		if !anyHas(f.NameEn) && anyHas("name") {
			f.NameEn = "name"
		}
		if !anyHas(f.ID) && anyHas(f.NameEn) {
			f.ID, f.NameEn = f.NameEn, ""
		}
	}
	switch {
	case f.NameFr == "":
		return f, noneGiven
	case !anyHas(f.NameFr) && f.NameFr == DefaultFields().NameFr:
		missing := f.NameFr
		f.NameFr = ""
		return f, missing
	}
	return f, ""
}

const noneGiven = "\x00none"

// loadFeature turns one feature into a Ward; name(id) names the feature in
// errors.
func loadFeature(ft *geojsonio.Feature, f Fields, name func(id string) string) (Ward, error) {
	id, err := propText(ft, f.ID, "ward ID")
	if err != nil {
		return Ward{}, fmt.Errorf("wards: %s: %w", name(""), err)
	}
	fname := name(id)

	w := Ward{ID: id, Name: i18n.T(id, id)}
	if f.NameEn != "" {
		en, err := propText(ft, f.NameEn, "ward name")
		if err != nil {
			return Ward{}, fmt.Errorf("wards: %s: %w", fname, err)
		}
		w.Name = i18n.T(en, en)
	}
	if f.NameFr != "" {
		if !ft.Has(f.NameFr) {
			// Absent everywhere is most likely a wrong field name.
			return Ward{}, fmt.Errorf("wards: %s: %s", fname, missingProp(ft, f.NameFr, "French ward name"))
		}
		// A null or blank French name falls back to the English one.
		s, ok, err := ft.Text(f.NameFr)
		if err != nil {
			return Ward{}, fmt.Errorf("wards: %s: property %q (the French ward name) %s", fname, f.NameFr, err.Message.En)
		}
		if s = strings.TrimSpace(s); ok && s != "" {
			w.Name.Fr = s
		}
	}

	w.Props = ft.Attrs(f.ID, f.NameEn, f.NameFr)
	if w.Props == nil {
		w.Props = map[string]string{}
	}
	mp, ierr := ft.Areas()
	if ierr != nil {
		msg := english(ierr)
		if ierr.Err != nil {
			msg += ": " + ierr.Err.Error()
		}
		return Ward{}, fmt.Errorf("wards: %s: %s", fname, msg)
	}
	w.Geometry = mp
	if err := geo.ValidateMultiPolygon(w.Geometry); err != nil {
		return Ward{}, fmt.Errorf("wards: %w", geo.Named(err, fname))
	}
	return w, nil
}

// propText returns property key as trimmed, non-empty text; what is the
// property's role, for the message.
func propText(ft *geojsonio.Feature, key, what string) (string, error) {
	if !ft.Has(key) {
		return "", errors.New(missingProp(ft, key, what))
	}
	s, ok, err := ft.Text(key)
	if err != nil {
		return "", fmt.Errorf("property %q (the %s) %s", key, what, err.Message.En)
	}
	if !ok {
		return "", fmt.Errorf("property %q (the %s) is null", key, what)
	}
	if s = strings.TrimSpace(s); s == "" {
		return "", fmt.Errorf("property %q (the %s) is empty", key, what)
	}
	return s, nil
}

// missingProp says a property is absent and lists the ones present, since
// the usual cause is a wrong field name (or case) in the configuration.
func missingProp(ft *geojsonio.Feature, key, what string) string {
	keys := ft.Keys()
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf("no property %q (the %s); did you mean %q?", key, what, k)
		}
	}
	if len(keys) == 0 {
		return fmt.Sprintf("no property %q (the %s); the feature has no properties", key, what)
	}
	if len(keys) > 20 {
		keys = append(keys[:20], "…")
	}
	return fmt.Sprintf("no property %q (the %s); its properties are %s", key, what, strings.Join(keys, ", "))
}
