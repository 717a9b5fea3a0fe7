package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/geocode"
	"github.com/pinward/pinward/requests"
	"github.com/prometheus/client_golang/prometheus"
)

const benchAssetsHelp = `
Measures asset upsert throughput (features per second) through the HTTP API
(PUT /api/v1/assets/{layer}) on loopback, for each store: a real server in
this process (the same api handler and store as pinward serve, with the
asset follower catching the index up after every write) and one client
sending bodies encoded beforehand.

Three phases over the same features, in PUTs of --batch features:
  insert   every feature new;
  update   every feature again at a newer version (default version: the
           request time), so every row and the index are rewritten;
  replay   the update bodies again with explicit versions: nothing changes,
           the cost of checking.
Without --file the features are --features synthetic points around the
sample town; with --file (and --asset-columns) a real layer, e.g.
  --file ../shared/data/gatineau/assets/borne_fontaine.csv --asset-columns id=ENTITEID,wkt=GEOM
SQLite uses a fresh temporary folder; PostGIS uses --db (default
$PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL) and a tenant of its
own, removed at the end; without a URL PostGIS is skipped. Each store's
durability settings are read back and printed.
`

func benchAssets(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench assets", "bench assets [--db URL] [--features 50000] [--batch 5000] [--format ndjson] [--file F --asset-columns SPEC]", benchAssetsHelp)
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL` (default $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL)")
	stores := fs.String("stores", "sqlite,postgis", "comma-separated `stores` to measure")
	n := fs.Int("features", 50000, "synthetic features (without --file)")
	batch := fs.Int("batch", 5000, "features per PUT")
	format := fs.String("format", "ndjson", "body `format`: ndjson or geojson")
	file := fs.String("file", "", "a real asset layer `file` (.csv or .geojson) instead of synthetic points")
	columns := fs.String("asset-columns", "", "CSV columns of --file, e.g. `id=ENTITEID,wkt=GEOM`")
	layer := fs.String("layer", "bench_asset", "the `layer` to upsert into")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *n < 1 || *n > 5_000_000 || *batch < 1 || *batch > 200_000 || (*format != "ndjson" && *format != "geojson") {
		return usageErrorf("--features must be in [1, 5000000], --batch in [1, 200000], --format ndjson or geojson")
	}
	if err := requests.ValidateLayerName(*layer); err != nil {
		return usageErrorf("--layer: %v", err)
	}
	set, sample, err := cli.SampleTown(env)
	if err != nil {
		return err
	}
	catalog, err := sampleCatalog()
	if err != nil {
		return err
	}
	var list []assets.Asset
	source := ""
	if *file != "" {
		if list, err = readLayerFile(env, *file, *columns, *layer); err != nil {
			return err
		}
		source = *file
	} else {
		list = syntheticAssets(*n, *layer, sample)
		source = "synthetic points"
	}
	// Bodies are encoded before the clock starts: the figure is the
	// server's (parse, validate, store, index), not the client's.
	insert, update, replay := encodeAssetBodies(list, *batch, *format)
	contentType := map[string]string{"ndjson": "application/x-ndjson", "geojson": "application/geo+json"}[*format]
	fmt.Fprintf(env.Stdout, "assets: %d features of %s in PUTs of %d (%s), layer %s\n", len(list), source, *batch, *format, *layer)

	return forEachBenchStore(ctx, env, *stores, *db, "bench-", func(bs benchStore, tenant string) error {
		name, st := bs.name, bs.store()
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		f, err := requests.StartAssets(ctx, st, tenant, nil, quiet)
		if err != nil {
			return err
		}
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: catalog, Wards: set, Assets: f.Index(), Store: st})
		if err != nil {
			return err
		}
		key, hash := requests.NewAPIKey()
		if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: requests.RoleIntegrator, Label: "bench", Hash: hash, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}); err != nil {
			return err
		}
		h := api.New(api.Config{Service: svc, Keys: st, Logger: quiet, Metrics: prometheus.NewRegistry(),
			Assets: api.AssetAPI{Store: st, Layers: []string{*layer}, MaxBody: 1 << 30,
				Synced: func(ctx context.Context) error { _, err := f.CatchUp(ctx); return err }}})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(env.Stdout, "%-8s %s\n", name, bs.settings(ctx))
		url := "http://" + ln.Addr().String() + "/api/v1/assets/" + *layer
		client := &http.Client{Timeout: 5 * time.Minute}
		for _, ph := range []struct {
			name   string
			bodies [][]byte
			want   string // the response field that must add up to the features
		}{{"insert", insert, "applied"}, {"update", update, "applied"}, {"replay", replay, "unchanged"}} {
			start := time.Now()
			total := 0
			for _, body := range ph.bodies {
				got, err := putAssets(ctx, client, url, key, contentType, body, ph.want)
				if err != nil {
					return fmt.Errorf("%s %s: %w", name, ph.name, err)
				}
				total += got
			}
			el := time.Since(start)
			if total != len(list) {
				return fmt.Errorf("%s %s: %d features %s, want %d", name, ph.name, total, ph.want, len(list))
			}
			fmt.Fprintf(env.Stdout, "%-8s %-7s %8.0f features/s  (%d features in %v, %.1f ms per PUT of %d)\n", name, ph.name,
				float64(total)/el.Seconds(), total, el.Round(time.Millisecond), float64(el.Milliseconds())/float64(len(ph.bodies)), *batch)
		}
		if got := f.Index().Len(); got != len(list) {
			return fmt.Errorf("%s: the index holds %d assets, want %d", name, got, len(list))
		}
		return ctx.Err()
	})
}

// readLayerFile reads --file as the layer's assets, refusing it whole
// (exit 2) if any row is bad, as pinward assets import does.
func readLayerFile(env Env, file, columns, layer string) ([]assets.Asset, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, usageErrorf("asset file: %v", err)
	}
	list, rowErrs, err := geocode.LoadLayer(b, file, columns, layer, 0)
	for i, re := range rowErrs {
		if i == 20 {
			fmt.Fprintf(env.Stderr, "asset file %s: ... and %d more\n", file, len(rowErrs)-i)
			break
		}
		fmt.Fprintf(env.Stderr, "asset file %s: %v\n", file, re)
	}
	if err == nil && len(rowErrs) > 0 {
		err = fmt.Errorf("%d bad row(s)", len(rowErrs))
	}
	if err == nil {
		err = requests.CheckAssetBatch(list)
	}
	if err != nil {
		return nil, usageErrorf("asset file %s: %v", file, err)
	}
	return list, nil
}

// syntheticAssets places n assets on a grid around the sample's assets,
// about 5 m apart.
func syntheticAssets(n int, layer string, sample *assets.Index) []assets.Asset {
	centre := orb.Point{-73.1, 46.05}
	sample.Scan(func(a assets.Asset) bool { centre = a.Point; return false })
	side := 1
	for side*side < n {
		side++
	}
	out := make([]assets.Asset, n)
	for i := range out {
		out[i] = assets.Asset{Layer: layer, ID: fmt.Sprintf("B-%07d", i),
			Point: orb.Point{centre[0] + float64(i%side)*6.5e-5, centre[1] + float64(i/side)*4.5e-5},
			Attrs: map[string]string{"kind": "bench", "serial": strconv.Itoa(i)}}
	}
	return out
}

// encodeAssetBodies returns the PUT bodies of the three phases: insert
// without versions (each PUT's time is the version), update with an
// explicit later version, and replay the update bodies again (equal
// versions: no-ops).
func encodeAssetBodies(list []assets.Asset, batch int, format string) (insert, update, replay [][]byte) {
	// Versions above any request time in microseconds, so update wins over
	// insert (which defaulted to the time) and replay equals update.
	base := time.Now().Add(24 * time.Hour).UnixMicro()
	for start := 0; start < len(list); start += batch {
		part := list[start:min(start+batch, len(list))]
		insert = append(insert, encodeFeatures(part, format, 0))
		up := encodeFeatures(part, format, base)
		update = append(update, up)
		replay = append(replay, up)
	}
	return insert, update, replay
}

func encodeFeatures(list []assets.Asset, format string, version int64) []byte {
	type feature struct {
		Type       string         `json:"type"`
		ID         string         `json:"id"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	fs := make([]feature, len(list))
	for i, a := range list {
		props := make(map[string]any, len(a.Attrs)+1)
		for k, v := range a.Attrs {
			props[k] = v
		}
		if version > 0 {
			props["version"] = version
		}
		fs[i] = feature{Type: "Feature", ID: a.ID, Geometry: map[string]any{"type": "Point", "coordinates": []float64{a.Point[0], a.Point[1]}}, Properties: props}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if format == "geojson" {
		enc.Encode(map[string]any{"type": "FeatureCollection", "features": fs})
		return buf.Bytes()
	}
	for _, f := range fs {
		enc.Encode(f)
	}
	return buf.Bytes()
}

// putAssets sends one body and returns the response's count field.
func putAssets(ctx context.Context, client *http.Client, url, key, contentType string, body []byte, field string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "PUT", url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Api-Key", key)
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %.300s", res.StatusCode, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, err
	}
	v, _ := out[field].(float64)
	return int(v), nil
}
