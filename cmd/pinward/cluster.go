package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/geo"
)

const clusterHelp = `
Groups duplicate requests. Reads a CSV of requests on stdin whose header
has the columns id, category, created_at, lon and lat (any order, names
case-insensitive, other columns ignored; asset_id too with --same-asset) and
writes id,cluster_id on stdout, one line per good input row, in input order.
cluster_id is the smallest id in the cluster: integer ids compare
numerically and before all others, other ids as strings. Two runs, or
pinward and PostGIS, can be compared line by line.

Two requests are linked when they have the same category (unless --by none),
lie at most --eps metres apart and, with a --window, were created at most
that long apart; or, with --same-asset, name the same asset_id within the
window. Clusters are the connected groups of linked requests (single
linkage): with --window 0 this is exactly PostGIS
ST_ClusterDBSCAN(geom_in_metres, eps, minpoints => 1) OVER (PARTITION BY
category). Metres are measured in a local projection centred on the data.

created_at is RFC 3339, or "YYYY-MM-DD HH:MM:SS" or YYYY-MM-DD without a
zone (read as UTC); it may be left out with --window 0, and category with
--by none.

A bad row (unparseable date, coordinates that are not numbers, NaN, out of
range or swapped, empty or repeated id) is reported on stderr with its line
number and skipped; the summary counts them. A missing column is refused
with exit status 2.
`

// clusterOptions are the flags of pinward cluster.
type clusterOptions struct {
	eps       float64
	window    time.Duration
	byNone    bool
	sameAsset bool
}

func runCluster(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "cluster", "cluster [--eps 50] [--window 0|30d|72h] [--by category|none] [--same-asset] < requests.csv > assignments.csv", clusterHelp)
	eps := fs.Float64("eps", 50, "link distance in `metres`")
	window := fs.String("window", "0", "time window: 0 for none, or a `duration` in days (30d) or Go units (72h, 90m)")
	by := fs.String("by", "category", "partition requests by `category`, or none to cluster all together")
	sameAsset := fs.Bool("same-asset", false, "also link requests naming the same asset_id (column required)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	opt := clusterOptions{eps: *eps, sameAsset: *sameAsset}
	if math.IsNaN(opt.eps) || math.IsInf(opt.eps, 0) || opt.eps < 0 {
		return usageErrorf("--eps must be a finite number of metres ≥ 0")
	}
	var err error
	if opt.window, err = parseWindow(*window); err != nil {
		return usageErrorf("--window: %v", err)
	}
	switch *by {
	case "category":
	case "none":
		opt.byNone = true
	default:
		return usageErrorf("--by must be category or none, not %q", *by)
	}
	return clusterCSV(ctx, env, opt)
}

// parseWindow reads 0, a number of days ("30d", "1.5d") or a Go duration.
func parseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	switch {
	case s == "0":
		return 0, nil
	case strings.HasSuffix(s, "d"):
		days, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil || math.IsNaN(days) || math.IsInf(days, 0) || days > 100*366 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(days * float64(24*time.Hour))
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not 0, a number of days (30d) or a duration (72h)", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// maxBadRowLines caps the skipped-row messages, so a wrong file does not
// bury the summary; the summary still counts every bad row.
const maxBadRowLines = 100

func clusterCSV(ctx context.Context, env Env, opt clusterOptions) error {
	start := time.Now()
	in := csv.NewReader(env.Stdin)
	in.FieldsPerRecord = -1
	in.ReuseRecord = true
	header, err := in.Read()
	if errors.Is(err, io.EOF) {
		return usageErrorf("the input is empty: expected a CSV header with id,category,created_at,lon,lat")
	}
	if err != nil {
		return usageErrorf("reading the CSV header: %v", err)
	}
	need := []string{"id", "lon", "lat"}
	if !opt.byNone {
		need = append(need, "category")
	}
	if opt.window > 0 {
		need = append(need, "created_at")
	}
	if opt.sameAsset {
		need = append(need, "asset_id")
	}
	cols, err := clusterColumns(header, need)
	if err != nil {
		return usageError{err}
	}

	var (
		reports []dedup.Report
		lineOf  = map[string]int{} // id → line, to name the first of two
		bad     int
		prog    = newProgress(env.Stderr, "cluster: reading")
	)
	skip := func(line int, format string, args ...any) {
		bad++
		if bad <= maxBadRowLines {
			fmt.Fprintf(env.Stderr, "line %d: %s (skipped)\n", line, fmt.Sprintf(format, args...))
		} else if bad == maxBadRowLines+1 {
			fmt.Fprintf(env.Stderr, "further bad rows are not shown; the summary counts them\n")
		}
	}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := in.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			skip(pe.StartLine, "%v", pe.Err)
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the input: %w", err)
		}
		line, _ := in.FieldPos(0)
		r, err := clusterRow(rec, cols, opt)
		if err != nil {
			skip(line, "%v", err)
			continue
		}
		if first, dup := lineOf[r.ID]; dup {
			skip(line, "id %s already appears on line %d", r.ID, first)
			continue
		}
		lineOf[r.ID] = line
		reports = append(reports, r)
		prog.tick(len(reports))
	}
	lineOf = nil // no longer needed: let a large input's map go

	rules := dedup.Rules{Default: dedup.Rule{Distance: opt.eps, Window: opt.window, SameAsset: opt.sameAsset}}
	clusterStart := time.Now()
	as, err := dedup.Cluster(reports, rules)
	if err != nil {
		return fmt.Errorf("clustering: %w", err) // rows were checked: a bug
	}
	clusterTime := time.Since(clusterStart)

	out := csv.NewWriter(env.Stdout)
	if err := out.Write([]string{"id", "cluster_id"}); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	clusters := 0
	for i, a := range as {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if a.ID == a.ClusterID {
			clusters++
		}
		if err := out.Write([]string{a.ID, a.ClusterID}); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	share := 0.0
	if len(as) > 0 {
		share = 100 * float64(len(as)-clusters) / float64(len(as))
	}
	fmt.Fprintf(env.Stderr, "cluster: %d requests, %d clusters, duplicate share %.1f%% (%d requests joined an earlier cluster), %d bad rows skipped, %.2f s (clustering %.2f s)\n",
		len(as), clusters, share, len(as)-clusters, bad, time.Since(start).Seconds(), clusterTime.Seconds())
	return nil
}

// clusterColumns finds the columns of pinward cluster's input: the names
// in need, which must be there, and created_at whenever it is there, so
// the same file keeps the same rows whatever the flags. Names compare
// case-insensitively, without surrounding spaces or a byte order mark.
func clusterColumns(header []string, need []string) (map[string]int, error) {
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

// clusterRow reads one request; errors name the offending field.
func clusterRow(rec []string, cols map[string]int, opt clusterOptions) (dedup.Report, error) {
	get := func(name string) string {
		i, ok := cols[name]
		if !ok {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	for _, i := range cols {
		if i >= len(rec) {
			return dedup.Report{}, fmt.Errorf("row has %d fields, too few for the header", len(rec))
		}
	}
	r := dedup.Report{ID: get("id")}
	if r.ID == "" {
		return r, errors.New("empty id")
	}
	if !opt.byNone {
		r.Category = get("category")
	}
	if opt.sameAsset {
		r.AssetID = get("asset_id")
	}
	if _, ok := cols["created_at"]; ok {
		s := get("created_at")
		t, err := parseCreatedAt(s)
		if err != nil {
			return r, fmt.Errorf("id %s: created_at %v", r.ID, err)
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
