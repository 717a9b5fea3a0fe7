package histimport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/requests"
)

// row is one source row parsed, before geocoding.
type row struct {
	sourceID    string
	requested   time.Time
	closed      time.Time // zero: unknown
	status      requests.Status
	srcStatus   string
	channel     requests.Channel
	srcChannel  string
	category    string // the source's text
	department  string
	ward        string // the source's text
	point       orb.Point
	located     bool
	description string
	address     string
}

// first returns the value of the first of cols present in rec.
func first(rec record, cols []string) (string, bool) {
	for _, c := range cols {
		if v, ok := rec.field(strings.ToLower(c)); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// parseRow reads rec with m. occurrence numbers the rows of the file with
// the same fields, for keying rows of a file without IDs.
func (m *Mapping) parseRow(rec record, occurrence func(string) int) (row, error) {
	var r row
	if rec.err != nil {
		return r, rec.err
	}
	if id, ok := first(rec, m.Columns.ID); ok {
		if id == "" {
			return r, fmt.Errorf("no ID")
		}
		r.sourceID = id
	} else {
		h := sha256.Sum256([]byte(strings.Join(rec.raw, "\x1f")))
		k := hex.EncodeToString(h[:12])
		r.sourceID = k + "-" + strconv.Itoa(occurrence(k))
	}
	when, _ := first(rec, m.Columns.Requested)
	if when == "" {
		return r, fmt.Errorf("no date requested")
	}
	var err error
	if r.requested, err = m.parseTime(when); err != nil {
		return r, err
	}
	if v, _ := first(rec, m.Columns.Closed); v != "" {
		c, err := m.parseTime(v)
		if err != nil {
			return r, fmt.Errorf("closed: %w", err)
		}
		if !c.Before(r.requested) {
			r.closed = c
		}
	}
	r.srcStatus, _ = first(rec, m.Columns.Status)
	switch st, ok := m.statuses[key(r.srcStatus)]; {
	case ok:
		r.status = requests.Status(st)
	case r.srcStatus != "":
		return r, fmt.Errorf("status %q is not in the mapping's statuses", r.srcStatus)
	case !r.closed.IsZero() && len(m.Columns.Status) == 0:
		r.status = requests.Closed
	default:
		r.status = requests.Status(m.DefaultStatus)
	}
	r.channel = requests.ChannelAPI
	for _, c := range m.Columns.Channel {
		v, ok := rec.field(strings.ToLower(c))
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if ch, ok := m.channels[key(v)]; ok {
			r.channel, r.srcChannel = requests.Channel(ch), v
			break
		}
		if r.srcChannel == "" {
			r.srcChannel = v
		}
	}
	r.category, _ = first(rec, m.Columns.Category)
	r.department, _ = first(rec, m.Columns.Department)
	r.ward, _ = first(rec, m.Columns.Ward)
	r.description, _ = first(rec, m.Columns.Description)
	var addr []string
	for _, c := range m.Columns.Address {
		if v, _ := rec.field(strings.ToLower(c)); strings.TrimSpace(v) != "" {
			v = strings.TrimSpace(v)
			addr = append(addr, v)
		}
	}
	r.address = strings.Join(addr, " ")
	lonS, _ := first(rec, m.Columns.Lon)
	latS, _ := first(rec, m.Columns.Lat)
	if lonS != "" && latS != "" {
		lon, err1 := strconv.ParseFloat(lonS, 64)
		lat, err2 := strconv.ParseFloat(latS, 64)
		if err1 != nil || err2 != nil {
			return r, fmt.Errorf("coordinates %q, %q are not numbers", lonS, latS)
		}
		// 0,0 is how many systems write "not geocoded".
		if lon != 0 || lat != 0 {
			r.point = orb.Point{lon, lat}
			if err := geo.ValidatePoint(r.point); err != nil || math.Abs(lat) > 90 {
				return r, fmt.Errorf("coordinates %q, %q are not longitude and latitude", lonS, latS)
			}
			r.located = true
		}
	}
	return r, nil
}

func (m *Mapping) parseTime(s string) (time.Time, error) {
	for _, layout := range m.DateFormats {
		if t, err := time.ParseInLocation(layout, s, m.loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q matches none of the mapping's date_formats", clip(s))
}

func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

var (
	wardNumber  = regexp.MustCompile(`(?i)ward\s*-?\s*(\d{1,3})\b`)
	leadingNum  = regexp.MustCompile(`^\s*(\d{1,3})\b`)
	nonAlnumRun = regexp.MustCompile(`[^a-z0-9]+`)
)

// wardCandidates are the ward IDs a source's ward text may stand for, most
// likely first: the number it carries ("Ward 14", "WARD 14", "`WARD 14",
// "22 - GLOUCESTER-SOUTH NEPEAN - ..."), then the mapping's spelling of
// its name, then the text itself (a ward set keyed by name).
func (m *Mapping) wardCandidates(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var out []string
	if g := wardNumber.FindStringSubmatch(s); g != nil {
		out = append(out, strings.TrimLeft(g[1], "0"))
	} else if g := leadingNum.FindStringSubmatch(s); g != nil {
		out = append(out, strings.TrimLeft(g[1], "0"))
	}
	if id, ok := m.wardNames[nameKey(s)]; ok {
		out = append(out, id)
	}
	return append(out, s)
}

// nameKey compares ward names: "Rideau-Vanier" and "RIDEAU VANIER" agree.
func nameKey(s string) string { return strings.Trim(nonAlnumRun.ReplaceAllString(key(s), " "), " ") }
