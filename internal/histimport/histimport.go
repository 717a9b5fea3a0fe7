// Package histimport is `pinward import`: it loads a municipality's past
// requests from the files its earlier system published (Ottawa, Windsor,
// Los Angeles and Montréal built in, any other city through a mapping
// file), geocodes the rows that have coordinates to the ward in force at
// their date and to their nearest asset, clusters them, and stores them
// keyed by the source's ID so that a second run changes nothing.
package histimport

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/wards"
)

// Other is the category of a row whose category the mapping does not map
// (or maps to a code the catalog lacks).
const Other = "other"

// Wards finds a row's ward by the row's own date: the generation in force
// then. *wards.Set is one; it is the one seam for ward generations.
type Wards interface {
	Locate(p orb.Point, at time.Time) (*wards.Ward, bool)
	Current(t time.Time) *wards.Generation
}

// Config is one import.
type Config struct {
	Tenant  string
	Mapping *Mapping
	Catalog *requests.Catalog
	Wards   Wards         // nil: rows keep no ward
	Assets  *assets.Index // nil: rows name no asset
	Store   requests.HistoryStore
	// Log receives progress and the bad rows (stderr); at most MaxBadRows
	// bad rows are listed (0: 20).
	Log        io.Writer
	MaxBadRows int
	// Chunk is how many rows go to the store per call (0: 100,000).
	Chunk int
	// Rules, when set, replace the catalog's duplicate rules (the
	// benchmark clusters as ST_ClusterDBSCAN does: no time window).
	Rules *dedup.Rules
}

// Summary counts what an import did.
type Summary struct {
	Rows     int // data rows read from the files
	Imported int // stored by this run
	Skipped  int // bad rows, reported with their line
	// Unmapped rows were stored in category "other"; by source category.
	Unmapped           int
	UnmappedCategories map[string]int
	Duplicates         int // a source ID seen earlier in the same run
	AlreadyStored      int // keyed by a source ID an earlier import stored
	Located            int // rows with a point
	Outside            int // of those, in no ward in force at their date
	// WardUnmatched counts rows without a point whose ward text names no
	// ward of the set in force at their date: they keep the number (or
	// the mapping's ID for the spelling) the text gives, else no ward.
	WardUnmatched int
	Clusters      int // clusters the located rows form
	// Elapsed is the whole import; the phases are reading and parsing the
	// files, geocoding (ward, asset, mapping), clustering, and storing.
	Elapsed, Read, Geocode, Cluster, Store time.Duration
}

// Import reads files with cfg.Mapping and stores their rows.
func Import(ctx context.Context, cfg Config, files []string) (Summary, error) {
	started := time.Now()
	sum := Summary{UnmappedCategories: map[string]int{}}
	if cfg.MaxBadRows == 0 {
		cfg.MaxBadRows = 20
	}
	if cfg.Chunk <= 0 {
		cfg.Chunk = 100_000
	}
	m := cfg.Mapping
	var rows []row
	seen := map[string]bool{}
	for _, f := range files {
		bad := cli.BadRows{W: cfg.Log, Max: cfg.MaxBadRows}
		occ := map[string]int{}
		occurrence := func(k string) int { occ[k]++; return occ[k] }
		name := filepath.Base(f)
		err := parseFile(ctx, m, f, func(p parsed) error {
			sum.Rows++
			r, err := p.row, p.err
			if p.hashKey != "" {
				// Numbered here, in file order (identical rows parse alike).
				r.sourceID = p.hashKey + "-" + strconv.Itoa(occurrence(p.hashKey))
			}
			if err != nil {
				bad.Skip(p.line, fmt.Errorf("%s: %w", name, err))
				return nil
			}
			if seen[r.sourceID] {
				sum.Duplicates++
				return nil
			}
			seen[r.sourceID] = true
			rows = append(rows, r)
			return ctx.Err()
		})
		sum.Skipped += bad.N
		if err != nil {
			return sum, fmt.Errorf("%s: %w", f, err)
		}
	}
	sum.Read = time.Since(started)
	phase := time.Now()
	// Oldest first: a cluster's head (its earliest request) is stored
	// before its members, and IDs follow time.
	slices.SortStableFunc(rows, func(a, b row) int { return a.requested.Compare(b.requested) })

	out := cfg.requests(rows, &sum)
	sum.Geocode, phase = time.Since(phase), time.Now()
	rules := cfg.Catalog.DedupRules()
	if cfg.Rules != nil {
		rules = *cfg.Rules
	}
	sum.Clusters = cluster(rules, out)
	sum.Cluster, phase = time.Since(phase), time.Now()

	prog := cli.NewProgress(cfg.Log, "pinward import")
	for start := 0; start < len(out); start += cfg.Chunk {
		chunk := out[start:min(start+cfg.Chunk, len(out))]
		n, err := cfg.Store.ImportRequests(ctx, cfg.Tenant, chunk)
		sum.Imported += n
		if err != nil {
			return sum, err
		}
		fmt.Fprintf(cfg.Log, "pinward import: %d of %d rows stored (%.0f/s)\n", start+len(chunk), len(out),
			float64(start+len(chunk))/time.Since(prog.Start).Seconds())
	}
	sum.AlreadyStored = len(out) - sum.Imported
	sum.Store, sum.Elapsed = time.Since(phase), time.Since(started)
	return sum, nil
}

// parsed is one record of a file, parsed.
type parsed struct {
	line    int
	row     row
	err     error
	hashKey string // the row has no ID: its key before numbering
}

// parseFile reads path and parses its records on every core, handing
// them to fn in file order: one goroutine reads, workers parse blocks of
// records, and fn runs on the caller's goroutine.
func parseFile(ctx context.Context, m *Mapping, path string, fn func(parsed) error) error {
	const block = 4096
	type job struct {
		recs []record
		out  chan []parsed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job, workers)
	order := make(chan chan []parsed, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				out := make([]parsed, len(j.recs))
				for i, rec := range j.recs {
					p := &out[i]
					p.line = rec.line
					p.row, p.err = m.parseRow(rec, func(k string) int { p.hashKey = k; return 0 })
				}
				j.out <- out
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		var recs []record
		send := func() error {
			j := job{recs: recs, out: make(chan []parsed, 1)}
			recs = make([]record, 0, block)
			select {
			case order <- j.out:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		}
		err := readFile(path, m.Format, func(rec record) error {
			if recs = append(recs, rec); len(recs) == block {
				return send()
			}
			return nil
		})
		if err == nil && len(recs) > 0 {
			err = send()
		}
		readErr <- err
	}()
	var err error
	for out := range order {
		if err != nil {
			continue // drain: the reader is stopping
		}
		var ps []parsed
		select {
		case ps = <-out:
		case <-ctx.Done():
			err = ctx.Err() // this block may never be parsed
			continue
		}
		for _, p := range ps {
			if err == nil {
				err = fn(p)
			}
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			cancel() // the reader stops; drain what is queued
		}
	}
	wg.Wait()
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// requests turns the parsed rows into what the store keeps, on every
// core: each worker takes a contiguous part with its own counts and ward
// name cache (the ward set and asset index are safe for concurrent reads).
func (cfg *Config) requests(rows []row, sum *Summary) []requests.ImportedRequest {
	out := make([]requests.ImportedRequest, len(rows))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(rows)/10_000))
	parts := make([]Summary, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(rows)/workers, (w+1)*len(rows)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := &parts[w]
			part.UnmappedCategories = map[string]int{}
			wm := wardMatcher{m: cfg.Mapping, byGen: map[*wards.Generation]map[string]string{}}
			for i := lo; i < hi; i++ {
				out[i] = cfg.request(rows[i], part, wm)
			}
		}()
	}
	wg.Wait()
	for _, p := range parts {
		sum.Unmapped += p.Unmapped
		sum.Located += p.Located
		sum.Outside += p.Outside
		sum.WardUnmatched += p.WardUnmatched
		for k, n := range p.UnmappedCategories {
			sum.UnmappedCategories[k] += n
		}
	}
	return out
}

// request turns a parsed row into what the store keeps.
func (cfg *Config) request(r row, sum *Summary, wm wardMatcher) requests.ImportedRequest {
	code := Other
	if c, ok := cfg.Mapping.categories[key(r.category)]; ok {
		if _, known := cfg.Catalog.Category(c); known {
			code = c
		}
	}
	if code == Other {
		sum.Unmapped++
		sum.UnmappedCategories[r.category]++
	}
	req := requests.Request{
		ServiceCode: code, Description: r.description, Status: r.status, Channel: r.channel,
		Address: r.address, Department: r.department, RequestedAt: r.requested, UpdatedAt: r.requested,
	}
	if req.Description == "" {
		req.Description = r.category
	}
	known := r.status != requests.Closed || !r.closed.IsZero()
	if r.status == requests.Closed && known {
		req.UpdatedAt = r.closed
	}
	if r.located {
		sum.Located++
		req.Point = r.point
		if cfg.Wards != nil {
			if w, ok := cfg.Wards.Locate(r.point, r.requested); ok {
				req.WardID = w.ID
			} else {
				sum.Outside++
			}
		}
		if cat, ok := cfg.Catalog.Category(code); ok && cfg.Assets != nil && len(cat.AssetLayers) > 0 {
			if a, d, ok := cfg.Assets.Nearest(r.point, cat.AssetRadiusM, cat.AssetLayers...); ok {
				req.AssetLayer, req.AssetID, req.AssetDistanceM = a.Layer, a.ID, d
			}
		}
	} else {
		var ok bool
		if req.WardID, ok = wm.match(cfg.Wards, r.ward, r.requested); !ok {
			sum.WardUnmatched++
		}
	}
	if req.Department == "" {
		req.Department, _ = cfg.Catalog.Route(code, req.WardID)
	}
	return requests.ImportedRequest{
		Request: req, Located: r.located, CloseTimeKnown: known,
		Source: cfg.Mapping.Source, SourceID: r.sourceID,
		SourceStatus: r.srcStatus, SourceChannel: r.srcChannel, SourceCategory: r.category,
	}
}

// wardMatcher finds the ward a row without a point names, in the
// generation in force at its date: by number or ID, then by the mapping's
// spellings, then by the ward's name in either language.
type wardMatcher struct {
	m     *Mapping
	byGen map[*wards.Generation]map[string]string // name key → ward ID
}

func (wm wardMatcher) match(ws Wards, text string, at time.Time) (string, bool) {
	cands := wm.m.wardCandidates(text)
	var g *wards.Generation
	if ws != nil {
		g = ws.Current(at)
	}
	if g != nil {
		names, ok := wm.byGen[g]
		if !ok {
			names = map[string]string{}
			for _, w := range g.Wards {
				for _, n := range []string{w.ID, w.Name.En, w.Name.Fr} {
					names[nameKey(n)] = w.ID
				}
			}
			wm.byGen[g] = names
		}
		for _, c := range cands {
			if w, ok := g.Ward(c); ok {
				return w.ID, true
			}
			if id, ok := names[nameKey(c)]; ok {
				return id, true
			}
		}
	}
	// No ward of the set: keep the number (or the mapping's ID for the
	// spelling) the source gives, never free text.
	if len(cands) > 1 {
		return cands[0], false
	}
	return "", false
}

// cluster groups the located rows as the catalog's duplicate rules say
// (dedup's batch clustering, equal to ST_ClusterDBSCAN) and sets each
// member's ClusterHead to its cluster's earliest row. rows are sorted by
// time, so the smallest index of a cluster is its earliest. It returns
// the number of clusters.
func cluster(rules dedup.Rules, rows []requests.ImportedRequest) int {
	var reps []dedup.Report
	var idx []int
	for i, ir := range rows {
		if !ir.Located {
			continue
		}
		c := ir.Request.ServiceCode
		if c == Other {
			c = Other + ":" + ir.SourceCategory // unmapped kinds never merge with each other
		}
		asset := ""
		if ir.Request.AssetID != "" {
			asset = ir.Request.AssetLayer + "/" + ir.Request.AssetID
		}
		reps = append(reps, dedup.Report{ID: strconv.Itoa(i), Category: c, CreatedAt: ir.Request.RequestedAt,
			Point: ir.Request.Point, AssetID: asset})
		idx = append(idx, i)
	}
	if len(reps) == 0 {
		return 0
	}
	as, err := dedup.Cluster(reps, rules)
	if err != nil {
		// The rules were checked when the catalog loaded; without them
		// every row keeps its own cluster.
		return len(reps)
	}
	heads := map[string]bool{}
	for k, a := range as {
		h, _ := strconv.Atoi(a.ClusterID)
		rows[idx[k]].ClusterHead = rows[h].SourceID
		heads[a.ClusterID] = true
	}
	return len(heads)
}

// Write prints the summary: the counts, then the unmapped categories, most
// rows first.
func (s Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "rows %d, imported %d, skipped %d (bad rows), unmapped %d (stored as %q), duplicates in the files %d, already stored %d\n",
		s.Rows, s.Imported, s.Skipped, s.Unmapped, Other, s.Duplicates, s.AlreadyStored)
	fmt.Fprintf(w, "with a point %d (outside every ward %d, in %d clusters); without a point whose ward matched no ward of the set %d; %s\n",
		s.Located, s.Outside, s.Clusters, s.WardUnmatched, s.Elapsed.Round(time.Millisecond))
	if len(s.UnmappedCategories) == 0 {
		return
	}
	fmt.Fprintf(w, "unmapped categories (rows):\n")
	keys := slices.Collect(maps.Keys(s.UnmappedCategories))
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(s.UnmappedCategories[b], s.UnmappedCategories[a]), cmp.Compare(a, b))
	})
	for _, k := range keys {
		name := k
		if name == "" {
			name = "(empty)"
		}
		fmt.Fprintf(w, "  %s\t%d\n", name, s.UnmappedCategories[k])
	}
}
