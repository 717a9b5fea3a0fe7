package geocode

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/wards"
)

// WardFile is one boundary file and the first day its wards are in force
// (From, YYYY-MM-DD or RFC 3339; "" for since always).
type WardFile struct{ From, Path string }

// WardFiles are a municipality's ward generations as the repeated --wards
// flag gives them: "FILE" (one set of wards, in force at all times, as
// before generations) or "DATE=FILE" (in force from DATE until the next
// file's DATE). It is a flag.Value; nil is the bundled sample's wards.
type WardFiles []WardFile

// String lists the files as given.
func (w WardFiles) String() string {
	parts := make([]string, len(w))
	for i, f := range w {
		parts[i] = f.Path
		if f.From != "" {
			parts[i] = f.From + "=" + f.Path
		}
	}
	return strings.Join(parts, " ")
}

// Set adds one --wards value. "DATE=FILE" is read as dated when DATE
// starts as a date does (YYYY-MM-DD), so a file name with "=" in it still
// works undated. Several dated files may come in one value separated by
// commas, as PINWARD_WARDS gives them.
func (w *WardFiles) Set(s string) error {
	parts := strings.Split(s, ",")
	if len(parts) == 1 || !all(parts, func(p string) bool { return looksDated.MatchString(p) }) {
		parts = []string{s}
	}
	for _, p := range parts {
		f := WardFile{Path: p}
		if day, path, ok := strings.Cut(p, "="); ok && looksDated.MatchString(p) {
			if _, err := parseDay(day, time.UTC); err != nil {
				return err
			}
			f = WardFile{From: day, Path: path}
		}
		if f.Path == "" {
			return fmt.Errorf("%q names no file: want FILE or DATE=FILE (e.g. 2022-11-15=wards.geojson)", p)
		}
		*w = append(*w, f)
	}
	return nil
}

// looksDated is the start of a DATE=FILE value.
var looksDated = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[^=]*=`)

func all(ss []string, ok func(string) bool) bool {
	for _, s := range ss {
		if !ok(s) {
			return false
		}
	}
	return true
}

// parseDay reads a generation's first day: midnight in loc, or an RFC 3339
// time.
func parseDay(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a day (2022-11-15) or an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// Load reads every file into a ward set: each generation is in force from
// its first day (midnight in loc; UTC when loc is nil) until the next
// one's, the last one from its day on. An undated file is in force since
// always, so it may only be the oldest. Before the oldest dated file's day
// no wards are in force: a point located then is outside, as it should be
// when nobody knows the wards of that time. No files is the bundled
// sample, in force at all times.
func (w WardFiles) Load(fields wards.Fields, loc *time.Location) (*wards.Set, error) {
	if loc == nil {
		loc = time.UTC
	}
	if len(w) == 0 {
		ws, err := wards.LoadGeoJSON(bytes.NewReader(data.SampleWardsGeoJSON()), fields)
		if err != nil {
			return nil, fmt.Errorf("bundled sample wards: %w", err)
		}
		gen, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
		if err != nil {
			return nil, fmt.Errorf("bundled sample wards: %w", err)
		}
		return wards.NewSet(gen)
	}
	type dated struct {
		from time.Time
		WardFile
	}
	files := make([]dated, len(w))
	for i, f := range w {
		files[i].WardFile = f
		if f.From == "" {
			continue
		}
		from, err := parseDay(f.From, loc)
		if err != nil {
			return nil, fmt.Errorf("--wards %s=%s: %w", f.From, f.Path, err)
		}
		files[i].from = from
	}
	slices.SortStableFunc(files, func(a, b dated) int { return a.from.Compare(b.from) })
	for i := 1; i < len(files); i++ {
		a, b := files[i-1], files[i]
		switch {
		case b.From == "":
			return nil, fmt.Errorf("--wards %s and %s: only one boundary file may be undated (in force since always); give the others their first day, DATE=FILE", a.Path, b.Path)
		case a.from.Equal(b.from):
			return nil, fmt.Errorf("--wards: %s and %s both start on %s; one set of wards is in force at a time", a.Path, b.Path, b.From)
		}
	}
	gens := make([]*wards.Generation, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("boundary file: %w", err)
		}
		ws, err := wards.LoadGeoJSON(bytes.NewReader(b), fields)
		if err != nil {
			return nil, fmt.Errorf("boundary file %s: %w", f.Path, err)
		}
		var to time.Time
		if i+1 < len(files) {
			to = files[i+1].from
		}
		if gens[i], err = wards.NewGeneration(ws, f.from, to); err != nil {
			return nil, fmt.Errorf("boundary file %s: %w", f.Path, err)
		}
	}
	set, err := wards.NewSet(gens...)
	if err != nil {
		return nil, fmt.Errorf("--wards: %w", err)
	}
	return set, nil
}
