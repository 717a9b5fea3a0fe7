package geocode

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/wards"
)

// ErrInput matches (errors.Is) the errors of an input the geocoder
// refuses as a whole: no CSV header, or a header without a needed column.
var ErrInput = errors.New("unusable input")

type inputError struct{ error }

func (inputError) Is(target error) bool { return target == ErrInput }

// Options are the questions asked of every point.
type Options struct {
	At      time.Time // whose ward boundaries apply
	Radius  float64   // asset search radius in metres
	Layers  []string  // asset layers to consider (nil: all)
	Columns map[string]string
	// Log receives one line per skipped row and the summary.
	Log io.Writer
	// Progress, when set, is called with the number of points written.
	Progress func(n int)
}

// ColumnNames parses "key=column,..." for the given keys; keys not named
// keep their own name as column name.
func ColumnNames(spec string, keys ...string) (map[string]string, error) {
	names := map[string]string{}
	for _, k := range keys {
		names[k] = k
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if _, known := names[k]; !ok || !known || v == "" {
			return nil, fmt.Errorf("%q is not KEY=COLUMN with KEY one of %s", kv, strings.Join(keys, ", "))
		}
		names[k] = v
	}
	return names, nil
}

// CSV reads points (id, lon, lat under the names of opt.Columns) from in
// and writes id,ward_id,asset_id,asset_distance_m to out in input order. A
// bad row is reported on opt.Log with its line number and skipped.
func CSV(ctx context.Context, in io.Reader, out io.Writer, set *wards.Set, ix *assets.Index, opt Options) error {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return inputError{fmt.Errorf("reading the CSV header: %w", err)}
	}
	cols, err := columnsAs(header, opt.Columns, "id", "lon", "lat")
	if err != nil {
		return inputError{err}
	}
	w := csv.NewWriter(out)
	if err := w.Write([]string{"id", "ward_id", "asset_id", "asset_distance_m"}); err != nil {
		return err
	}
	var area orb.Bound
	if g := set.Current(opt.At); g != nil {
		area = g.Bound()
	}
	var good, bad, located int
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			fmt.Fprintf(opt.Log, "line %d: %v (skipped)\n", line, err)
			bad++
			continue
		}
		id, p, err := pointRow(rec, cols)
		if err != nil {
			fmt.Fprintf(opt.Log, "line %d: %v (skipped)\n", line, err)
			bad++
			continue
		}
		if geo.LooksSwapped(p, area) {
			fmt.Fprintf(opt.Log, "line %d: id %s: lon %g, lat %g lies outside the municipality, but inside it with longitude and latitude swapped (skipped)\n", line, id, p[0], p[1])
			bad++
			continue
		}
		row := []string{id, "", "", ""}
		if ward, ok := set.Locate(p, opt.At); ok {
			row[1] = ward.ID
			located++
		}
		if a, d, ok := ix.Nearest(p, opt.Radius, opt.Layers...); ok {
			row[2], row[3] = a.ID, strconv.FormatFloat(d, 'f', 2, 64)
		}
		if err := w.Write(row); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
		good++
		if opt.Progress != nil {
			opt.Progress(good)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	fmt.Fprintf(opt.Log, "geocode: %d points, %d in a ward, %d outside, %d bad rows skipped\n", good, located, good-located, bad)
	return nil
}

// columnsAs finds the columns for keys in a CSV header, under the names
// given (a key missing from names is its own column name).
func columnsAs(header []string, names map[string]string, keys ...string) (map[string]int, error) {
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := idx[h]; !dup {
			idx[h] = i
		}
	}
	cols := map[string]int{}
	for _, k := range keys {
		n := k
		if v, ok := names[k]; ok {
			n = v
		}
		i, ok := idx[strings.ToLower(n)]
		if !ok {
			return nil, fmt.Errorf("the CSV header has no %q column (it has: %s)", n, strings.Join(header, ","))
		}
		cols[k] = i
	}
	return cols, nil
}

func field(rec []string, cols map[string]int, name string) (string, error) {
	i := cols[name]
	if i >= len(rec) {
		return "", fmt.Errorf("row has %d fields, no %s", len(rec), name)
	}
	return strings.TrimSpace(rec[i]), nil
}

func pointRow(rec []string, cols map[string]int) (string, orb.Point, error) {
	id, err := field(rec, cols, "id")
	if err != nil {
		return "", orb.Point{}, err
	}
	if id == "" {
		return "", orb.Point{}, errors.New("empty id")
	}
	var p orb.Point
	for i, name := range []string{"lon", "lat"} {
		s, err := field(rec, cols, name)
		if err != nil {
			return id, p, err
		}
		if p[i], err = strconv.ParseFloat(s, 64); err != nil {
			return id, p, fmt.Errorf("id %s: %s %q is not a number", id, name, s)
		}
	}
	if err := geo.ValidatePoint(p); err != nil {
		return id, p, fmt.Errorf("id %s: %w", id, err)
	}
	return id, p, nil
}
