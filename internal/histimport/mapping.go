package histimport

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pinward/pinward/requests"
)

// Mapping describes one source's file: which columns hold what, how its
// dates are written, and how its statuses, channels, categories and ward
// spellings translate to pinward's. The built-in mappings (mappings/*.json)
// are written in the same format a --mapping file uses.
type Mapping struct {
	// Source names the system the rows come from; with each row's ID it
	// keys the row, so importing a file twice changes nothing.
	Source string `json:"source"`
	// Format is "csv" (optionally gzip-compressed, by a .gz name) or
	// "json" (an array of objects).
	Format string `json:"format"`
	// TimeZone is where dates without an offset were written (IANA name).
	TimeZone string `json:"time_zone"`
	// DateFormats are Go time layouts, tried in order.
	DateFormats []string `json:"date_formats"`
	Columns     Columns  `json:"columns"`
	// DefaultStatus is the status of a row whose file has no status (or an
	// empty one): a closed row's closing time is then unknown unless the
	// file has a closing date.
	DefaultStatus string `json:"default_status"`
	// Statuses, Channels, Categories and Wards map the source's values,
	// compared without case, accents or surrounding space, to pinward's:
	// a status, a channel, a catalog category code, a ward ID.
	Statuses   map[string]string `json:"statuses"`
	Channels   map[string]string `json:"channels"`
	Categories map[string]string `json:"categories"`
	Wards      map[string]string `json:"wards"`

	loc *time.Location
	// The maps above with normalized keys.
	statuses, channels, categories, wardNames map[string]string
}

// Columns names, for each field, the source columns that may hold it
// (matched without case): the first present in the file is read. For
// channel, the first whose value is a known channel wins (files whose
// columns shift from month to month); address joins every present column.
// ID may be empty: a row is then keyed by a hash of its fields and its
// occurrence in the file.
type Columns struct {
	ID          []string `json:"id"`
	Requested   []string `json:"requested"`
	Closed      []string `json:"closed"`
	Status      []string `json:"status"`
	Channel     []string `json:"channel"`
	Category    []string `json:"category"`
	Department  []string `json:"department"`
	Ward        []string `json:"ward"`
	Lon         []string `json:"lon"`
	Lat         []string `json:"lat"`
	Description []string `json:"description"`
	Address     []string `json:"address"`
}

//go:embed mappings/*.json
var builtin embed.FS

// Sources lists the built-in mappings.
func Sources() []string { return []string{"ottawa", "windsor", "la", "montreal"} }

// Builtin returns the built-in mapping of source.
func Builtin(source string) (*Mapping, error) {
	if !slices.Contains(Sources(), source) {
		return nil, fmt.Errorf("unknown source %q (built in: %s; or give --mapping FILE)", source, strings.Join(Sources(), ", "))
	}
	b, err := builtin.ReadFile("mappings/" + source + ".json")
	if err != nil {
		return nil, fmt.Errorf("built-in mapping %s: %w", source, err)
	}
	return parseMapping(b, source)
}

// LoadMapping reads a mapping file (JSON, the format of mappings/*.json).
func LoadMapping(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping file: %w", err)
	}
	return parseMapping(b, path)
}

func parseMapping(b []byte, name string) (*Mapping, error) {
	var m Mapping
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", name, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", name, err)
	}
	return &m, nil
}

func (m *Mapping) check() error {
	switch {
	case strings.TrimSpace(m.Source) == "":
		return fmt.Errorf("source is empty")
	case m.Format != "csv" && m.Format != "json":
		return fmt.Errorf("format %q: want csv or json", m.Format)
	case len(m.Columns.Requested) == 0:
		return fmt.Errorf("columns.requested is empty: every row needs its date")
	case len(m.DateFormats) == 0:
		return fmt.Errorf("date_formats is empty")
	case len(m.Columns.Lon) != len(m.Columns.Lat):
		return fmt.Errorf("columns.lon and columns.lat must be given together")
	}
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		return fmt.Errorf("time_zone: %w", err)
	}
	m.loc = loc
	if m.DefaultStatus == "" {
		m.DefaultStatus = string(requests.Closed)
	}
	if !requests.Status(m.DefaultStatus).Valid() {
		return fmt.Errorf("default_status %q: want one of %s", m.DefaultStatus, requests.StatusList())
	}
	m.statuses, m.channels, m.categories = norm(m.Statuses), norm(m.Channels), norm(m.Categories)
	m.wardNames = map[string]string{}
	for k, v := range m.Wards {
		m.wardNames[nameKey(k)] = v
	}
	for k, v := range m.statuses {
		if !requests.Status(v).Valid() {
			return fmt.Errorf("statuses[%q] = %q: want one of %s", k, v, requests.StatusList())
		}
	}
	for k, v := range m.channels {
		if !requests.Channel(v).Valid() {
			return fmt.Errorf("channels[%q] = %q: not a channel", k, v)
		}
	}
	return nil
}

func norm(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[key(k)] = v
	}
	return out
}

// key is a source value as mappings compare it: lower case, accents and
// surrounding space removed, inner runs of space collapsed.
func key(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	return strings.Map(func(r rune) rune {
		if i := strings.IndexRune("àâäáéèêëíîïóôöúùûüçñ", r); i >= 0 {
			return rune("aaaaeeeeiiiooouuuucn"[len([]rune("àâäáéèêëíîïóôöúùûüçñ"[:i]))])
		}
		return r
	}, s)
}
