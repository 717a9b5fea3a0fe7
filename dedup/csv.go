package dedup

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// ErrCSVInput matches (errors.Is) the errors of a CSV file ReadCSV refuses
// as a whole: it is empty, or its header lacks a column or repeats one.
var ErrCSVInput = errors.New("unusable CSV input")

type csvInputError struct{ error }

func (csvInputError) Is(target error) bool { return target == ErrCSVInput }

// CSVOptions say which columns ReadCSV needs and reads.
type CSVOptions struct {
	NoCategory bool // every report in one partition: category is not read
	Window     bool // created_at is needed (else read when present)
	SameAsset  bool // asset_id is needed and read
	// Bad is called for each row that is skipped, with its line number;
	// nil skips them silently.
	Bad func(line int, err error)
	// Progress, when set, is called with the number of reports read.
	Progress func(n int)
}

// ReadCSV reads reports from a CSV file whose header has the columns id,
// category, created_at, lon and lat (any order, names case-insensitive,
// other columns ignored). A bad row (unparseable date or coordinates, empty
// or repeated id) goes to opt.Bad and is skipped.
func ReadCSV(ctx context.Context, r io.Reader, opt CSVOptions) ([]Report, error) {
	in := csv.NewReader(r)
	in.FieldsPerRecord = -1
	in.ReuseRecord = true
	header, err := in.Read()
	if errors.Is(err, io.EOF) {
		return nil, csvInputError{errors.New("the input is empty: expected a CSV header with id,category,created_at,lon,lat")}
	}
	if err != nil {
		return nil, csvInputError{fmt.Errorf("reading the CSV header: %w", err)}
	}
	need := []string{"id", "lon", "lat"}
	if !opt.NoCategory {
		need = append(need, "category")
	}
	if opt.Window {
		need = append(need, "created_at")
	}
	if opt.SameAsset {
		need = append(need, "asset_id")
	}
	cols, err := csvColumns(header, need)
	if err != nil {
		return nil, csvInputError{err}
	}
	if opt.Bad == nil { // skipped rows are then skipped silently (found by FuzzReadCSV: it panicked)
		opt.Bad = func(int, error) {}
	}
	var (
		reports []Report
		lineOf  = map[string]int{} // id → line, to name the first of two
	)
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rec, err := in.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			opt.Bad(pe.StartLine, pe.Err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the input: %w", err)
		}
		line, _ := in.FieldPos(0)
		r, err := csvRow(rec, cols, opt)
		if err != nil {
			opt.Bad(line, err)
			continue
		}
		if first, dup := lineOf[r.ID]; dup {
			opt.Bad(line, fmt.Errorf("id %s already appears on line %d", r.ID, first))
			continue
		}
		lineOf[r.ID] = line
		reports = append(reports, r)
		if opt.Progress != nil {
			opt.Progress(len(reports))
		}
	}
	return reports, nil
}

// WriteCSV writes id,cluster_id, one line per assignment, and returns the
// number of clusters.
func WriteCSV(ctx context.Context, w io.Writer, as []Assignment) (clusters int, err error) {
	out := csv.NewWriter(w)
	if err := out.Write([]string{"id", "cluster_id"}); err != nil {
		return 0, fmt.Errorf("writing output: %w", err)
	}
	for i, a := range as {
		if i%4096 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if a.ID == a.ClusterID {
			clusters++
		}
		if err := out.Write([]string{a.ID, a.ClusterID}); err != nil {
			return 0, fmt.Errorf("writing output: %w", err)
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return 0, fmt.Errorf("writing output: %w", err)
	}
	return clusters, nil
}

// csvColumns finds the columns of the input: the names in need, which must
// be there, and created_at whenever it is there, so the same file keeps
// the same rows whatever the options. Names compare case-insensitively,
// without surrounding spaces or a byte order mark.
func csvColumns(header []string, need []string) (map[string]int, error) {
	at, twice := map[string]int{}, map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := at[h]; dup {
			twice[h] = true
		}
		at[h] = i
	}
	cols := map[string]int{}
	optional := !slices.Contains(need, "created_at")
	if optional {
		need = append(need, "created_at") // read when present
	}
	for _, name := range need {
		i, ok := at[name]
		switch {
		case !ok && optional && name == "created_at":
			continue
		case !ok:
			return nil, fmt.Errorf("the CSV header has no %q column (it has: %s)", name, strings.Join(header, ","))
		case twice[name]:
			return nil, fmt.Errorf("the CSV header names column %q twice", name)
		}
		cols[name] = i
	}
	return cols, nil
}

// parseCreatedAt reads RFC 3339, or a date and time without a zone
// ("YYYY-MM-DD HH:MM:SS", "YYYY-MM-DDTHH:MM:SS") or a date alone, both
// taken as UTC: only differences matter for a window, so a city's local
// time works as it is, give or take a daylight-saving hour.
func parseCreatedAt(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD", s)
}

// csvRow reads one report; errors name the offending field.
func csvRow(rec []string, cols map[string]int, opt CSVOptions) (Report, error) {
	get := func(name string) string {
		i, ok := cols[name]
		if !ok {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	for _, i := range cols {
		if i >= len(rec) {
			return Report{}, fmt.Errorf("row has %d fields, too few for the header", len(rec))
		}
	}
	r := Report{ID: get("id")}
	if r.ID == "" {
		return r, errors.New("empty id")
	}
	if !opt.NoCategory {
		r.Category = get("category")
	}
	if opt.SameAsset {
		r.AssetID = get("asset_id")
	}
	if _, ok := cols["created_at"]; ok {
		t, err := parseCreatedAt(get("created_at"))
		if err != nil {
			return r, fmt.Errorf("id %s: created_at %w", r.ID, err)
		}
		r.CreatedAt = t
	}
	var p orb.Point
	for k, name := range []string{"lon", "lat"} {
		s := get(name)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return r, fmt.Errorf("id %s: %s %q is not a number", r.ID, name, s)
		}
		p[k] = v
	}
	if err := geo.ValidatePoint(p); err != nil {
		return r, fmt.Errorf("id %s: %w", r.ID, err)
	}
	r.Point = p
	return r, nil
}

// CSVSummary is what ClusterCSV did.
type CSVSummary struct {
	Requests, Clusters int
	Clustering         time.Duration // Cluster alone, without reading and writing
}

// DuplicateShare is the percentage of requests that joined an earlier
// cluster.
func (s CSVSummary) DuplicateShare() float64 {
	if s.Requests == 0 {
		return 0
	}
	return 100 * float64(s.Requests-s.Clusters) / float64(s.Requests)
}

// ClusterCSV reads requests from r as ReadCSV does, clusters them by rule
// and writes the assignments to w as WriteCSV does (pinward cluster).
// Errors of the input wrap ErrCSVInput.
func ClusterCSV(ctx context.Context, r io.Reader, w io.Writer, rule Rule, opt CSVOptions) (CSVSummary, error) {
	reports, err := ReadCSV(ctx, r, opt)
	if err != nil {
		return CSVSummary{}, err
	}
	start := time.Now()
	as, err := Cluster(reports, Rules{Default: rule})
	if err != nil {
		return CSVSummary{}, fmt.Errorf("clustering: %w", err) // rows were checked: a bug
	}
	sum := CSVSummary{Requests: len(as), Clustering: time.Since(start)}
	sum.Clusters, err = WriteCSV(ctx, w, as)
	return sum, err
}
