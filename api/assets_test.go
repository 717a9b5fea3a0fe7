package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/internal/realdata"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/prometheus/client_golang/prometheus"
)

// assetWorld is a running API with the asset sync routes, whose index a
// follower keeps current, over a real store.
type assetWorld struct {
	*world
	as       requests.AssetStore
	follower *live.Assets
	staffKey string
}

const assetMaxBody = 8 << 20

// newAssetWorld serves st with the sample municipality, seeding the store
// with the sample's assets when seed is set; the change stream keeps its
// index current until the test ends, polling every 100 ms (notified: only
// woken by the store, polling hourly).
func newAssetWorld(t *testing.T, st store, notified bool, seed bool) *assetWorld {
	t.Helper()
	ctx := context.Background()
	as := st
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	var sample []assets.Asset
	if seed {
		sample = sampleAssets(t)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, err := live.StartAssets(ctx, as, tenant, sample, quiet)
	if err != nil {
		t.Fatal(err)
	}
	// Notified, polling is too slow to matter: the changes of other
	// servers must arrive by LISTEN/NOTIFY.
	poll := 100 * time.Millisecond
	if notified {
		poll = time.Hour
	}
	stream := live.New(live.Config{Store: st, Tenant: tenant, Poll: poll, Log: quiet})
	stream.Register("assets", f, requests.ChangeAsset)
	if err := stream.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stream.Stop)

	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Assets: f.Index(), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	w := &assetWorld{world: &world{t: t, store: st, reg: prometheus.NewRegistry()}, as: as, follower: f}
	w.key = newKey(t, st, requests.RoleIntegrator)
	w.staffKey = newKey(t, st, requests.RoleStaff)
	h := api.New(api.Config{
		Service: svc, Keys: st, Logger: quiet, Metrics: w.reg,
		Assets: api.AssetAPI{
			Store:   as,
			Synced:  stream.Sync,
			Layers:  []string{"bus_stop"},
			MaxBody: assetMaxBody,
		},
	})
	w.srv = httptest.NewServer(h)
	t.Cleanup(w.srv.Close)
	return w
}

func sampleAssets(t *testing.T) []assets.Asset {
	t.Helper()
	list, _, err := assets.LoadCSV(bytes.NewReader(data.SampleAssetsCSV()), assets.DefaultCSVFormat())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func newKey(t *testing.T, st store, role requests.Role) string {
	t.Helper()
	key, hash := requests.NewAPIKey()
	if _, err := st.CreateAPIKey(context.Background(), requests.Key{TenantID: tenant, Role: role, Label: "test", Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	return key
}

func (w *assetWorld) put(layer, contentType string, body []byte, key string) response {
	w.t.Helper()
	h := map[string]string{"Content-Type": contentType}
	if key != "" {
		h["X-Api-Key"] = key
	}
	return w.do("PUT", "/api/v1/assets/"+layer, bytes.NewReader(body), h)
}

func (w *assetWorld) decode(res response, want int, v any) {
	w.t.Helper()
	if res.status != want {
		w.t.Fatalf("status %d, want %d: %s", res.status, want, res.body)
	}
	if v != nil {
		if err := json.Unmarshal(res.body, v); err != nil {
			w.t.Fatalf("%v: %s", err, res.body)
		}
	}
}

type feature struct {
	Type       string         `json:"type"`
	ID         any            `json:"id,omitempty"`
	Geometry   any            `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

func point(p orb.Point) map[string]any {
	return map[string]any{"type": "Point", "coordinates": []float64{p[0], p[1]}}
}

func featureOf(a assets.Asset) feature {
	props := map[string]any{}
	for k, v := range a.Attrs {
		props[k] = v
	}
	if a.Version != 0 {
		props["version"] = a.Version
	}
	return feature{Type: "Feature", ID: a.ID, Geometry: point(a.Point), Properties: props}
}

func collection(t *testing.T, fs ...feature) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"type": "FeatureCollection", "features": fs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ndjson(t *testing.T, fs ...feature) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, f := range fs {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

type upserted struct {
	Layer                        string
	Received, Applied, Unchanged int
	DefaultVersion               int64 `json:"default_version"`
	Cursor                       string
}

type batchErr []struct {
	Code          int
	Kind          string
	DescriptionEn string `json:"description_en"`
	DescriptionFr string `json:"description_fr"`
	Refused       int    `json:"features_refused"`
	Features      []struct {
		Index         int
		Line          int
		ID            string
		Kind          string
		DescriptionEn string `json:"description_en"`
		DescriptionFr string `json:"description_fr"`
	}
}

// loadShared reads a real asset layer of ../shared/data, skipping the test
// when it is absent (fails it with PINWARD_REQUIRE_DATA=1).
func loadShared(t *testing.T, rel, spec string) []assets.Asset {
	t.Helper()
	path := realdata.File(t, rel) // skips, or fails with PINWARD_REQUIRE_DATA=1
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := assets.ParseCSVFormat(spec)
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := assets.LoadCSV(bytes.NewReader(b), f)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestAssetsRealLayers upserts Gatineau's hydrants (a FeatureCollection)
// and Ottawa's bus stops (NDJSON) through the API, then re-imports newer
// data over them.
func TestAssetsRealLayers(t *testing.T) {
	hydrants := loadShared(t, "gatineau/assets/borne_fontaine.csv", "id=ENTITEID,wkt=GEOM,layer=hydrant")
	stops := loadShared(t, "ottawa/assets/OC_Transpo_Stops.csv", "id=FID,lon=Longitude,lat=Latitude,layer=bus_stop")
	if testing.Short() || raceEnabled {
		t.Logf("a sample of %d features per layer (-short or -race); the whole layers run without them", 1500)
		hydrants, stops = hydrants[:1500], stops[:1500]
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newAssetWorld(t, b.open(t), false, false)
			ctx := context.Background()

			var fs []feature
			for _, a := range hydrants {
				fs = append(fs, featureOf(a))
			}
			var up upserted
			w.decode(w.put("hydrant", "application/geo+json", collection(t, fs...), w.key), 200, &up)
			if up.Received != len(hydrants) || up.Applied != len(hydrants) {
				t.Fatalf("hydrants: %+v, want %d applied", up, len(hydrants))
			}
			fs = fs[:0]
			for _, a := range stops {
				fs = append(fs, featureOf(a))
			}
			stopsBody := ndjson(t, fs...)
			w.decode(w.put("bus_stop", "application/x-ndjson", stopsBody, w.key), 200, &up)
			if up.Applied != len(stops) {
				t.Fatalf("stops: %+v, want %d applied", up, len(stops))
			}
			// The index answers from them already (Synced ran before the
			// answer), attributes included.
			h := hydrants[len(hydrants)/2]
			got, ok := w.follower.Index().Get("hydrant", h.ID)
			if !ok || got.Point != h.Point || got.Attrs["TYPE"] != h.Attrs["TYPE"] {
				t.Fatalf("index has %+v, %v; want %+v", got, ok, h)
			}
			if _, _, ok := w.follower.Index().Nearest(stops[0].Point, 1, "bus_stop"); !ok {
				t.Fatalf("no bus stop at %v", stops[0].Point)
			}
			// Re-importing (part of) the file later (default version: the
			// request time) wins over the first import.
			w.decode(w.put("bus_stop", "application/x-ndjson", ndjson(t, fs[:500]...), w.key), 200, &up)
			if up.Applied != 500 {
				t.Fatalf("re-import: %+v", up)
			}
			list, cursor, err := w.as.LoadAssets(ctx, tenant)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, a := range list {
				if a.Layer == "hydrant" && strings.HasPrefix(a.ID, "{") || a.Layer == "bus_stop" {
					n++
				}
			}
			if n != len(hydrants)+len(stops) || len(list) != n || cursor == 0 {
				t.Fatalf("stored %d real assets of %d at cursor %d, want %d", n, len(list), cursor, len(hydrants)+len(stops))
			}
		})
	}
}

// changesPage is a page of the change feed.
type changesPage struct {
	Changes []struct {
		Cursor, Op, Layer, ID string
		Version               int64
		Lon, Lat              float64
		Attributes            map[string]string
	}
	Next string
	More bool
}

func (w *assetWorld) changes(since string, limit int) changesPage {
	w.t.Helper()
	q := url.Values{"since": {since}}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	var p changesPage
	w.decode(w.do("GET", "/api/v1/assets/changes?"+q.Encode(), nil, map[string]string{"X-Api-Key": w.key}), 200, &p)
	return p
}

// TestAssetsVersionsRetireFeed: stale versions are refused whole, a
// retired asset flags its open requests and leaves the index, and the feed
// resumes from any cursor.
func TestAssetsVersionsRetireFeed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newAssetWorld(t, b.open(t), false, false)
			ctx := context.Background()
			start := ""
			for { // to the end of the seed
				p := w.changes(start, requests.MaxAssetChanges)
				start = p.Next
				if !p.More {
					break
				}
			}
			if p := w.changes(start, 0); len(p.Changes) != 0 || p.More || p.Next != start {
				t.Fatalf("feed after the seed: %d changes, more %v, next %s", len(p.Changes), p.More, p.Next)
			}

			var seeded assets.Asset // a sample hydrant, in a ward
			for _, a := range sampleAssets(t) {
				if a.ID == "HY-000001" {
					seeded = a
				}
			}
			moved := orb.Point{seeded.Point[0] + 1e-5, seeded.Point[1]}
			h1 := assets.Asset{Layer: "hydrant", ID: "HY-000001", Point: moved, Version: 5, Attrs: map[string]string{"colour": "red"}}
			h2 := assets.Asset{Layer: "hydrant", ID: "NEW-1", Point: moved, Version: 5}
			var up upserted
			w.decode(w.put("hydrant", "application/geo+json", collection(t, featureOf(h1), featureOf(h2)), w.key), 200, &up)
			if up.Applied != 2 || up.Cursor == "" {
				t.Fatalf("upsert: %+v", up)
			}

			// Stale: one older version refuses the batch, the new asset too.
			stale := h1
			stale.Version = 4
			h3 := assets.Asset{Layer: "hydrant", ID: "NEW-2", Point: moved, Version: 1}
			var be batchErr
			w.decode(w.put("hydrant", "application/x-ndjson", ndjson(t, featureOf(h3), featureOf(stale)), w.key), 409, &be)
			if be[0].Kind != "conflict" || be[0].Refused != 1 || len(be[0].Features) != 1 || be[0].Features[0].Index != 1 ||
				be[0].Features[0].Line != 2 || be[0].Features[0].ID != "HY-000001" || be[0].Features[0].DescriptionFr == "" {
				t.Fatalf("stale body: %+v", be)
			}
			if _, ok := w.follower.Index().Get("hydrant", "NEW-2"); ok {
				t.Fatal("a refused batch reached the index")
			}
			// A replay is a no-op.
			w.decode(w.put("hydrant", "application/geo+json", collection(t, featureOf(h1)), w.key), 200, &up)
			if up.Applied != 0 || up.Unchanged != 1 {
				t.Fatalf("replay: %+v", up)
			}

			// A resident reports the hydrant: the request keeps its ID.
			form := url.Values{"api_key": {w.key}, "service_code": {"hydrant_damage"}, "lat": {ftoa(moved[1])}, "long": {ftoa(moved[0])},
				"description": {"Leaking"}, "attribute[problem]": {"leaking"}}
			var created []struct {
				ServiceRequestID string `json:"service_request_id"`
			}
			res := w.postForm("/open311/v2/requests.json", form, nil)
			w.decode(res, 201, &created)
			id := created[0].ServiceRequestID
			req, err := w.store.GetRequest(ctx, tenant, id)
			if err != nil || req.AssetID != "HY-000001" && req.AssetID != "NEW-1" {
				t.Fatalf("request snapped to %q (%v)", req.AssetID, err)
			}
			snapped := req.AssetID

			// Retire it: the request is flagged for staff and keeps its ID.
			var ret struct {
				Retired        bool
				AlreadyRetired bool     `json:"already_retired"`
				Flagged        []string `json:"flagged_requests"`
			}
			w.decode(w.do("DELETE", "/api/v1/assets/hydrant/"+snapped, nil, map[string]string{"X-Api-Key": w.key}), 200, &ret)
			if !slices.Equal(ret.Flagged, []string{id}) {
				t.Fatalf("retire flagged %v, want [%s]", ret.Flagged, id)
			}
			if _, ok := w.follower.Index().Get("hydrant", snapped); ok {
				t.Fatal("retired asset still in the index")
			}
			if req, _ := w.store.GetRequest(ctx, tenant, id); req.AssetID != snapped {
				t.Fatalf("request lost its asset: %q", req.AssetID)
			}
			evs, _ := w.store.ListEvents(ctx, tenant, id)
			if evs[len(evs)-1].Kind != requests.EventAssetRetired {
				t.Fatalf("events %+v", evs)
			}
			var flagged struct {
				Requests []struct {
					ServiceRequestID string `json:"service_request_id"`
					AssetID          string `json:"asset_id"`
				}
			}
			w.decode(w.do("GET", "/api/v1/assets/retired-open", nil, map[string]string{"X-Api-Key": w.staffKey}), 200, &flagged)
			if len(flagged.Requests) != 1 || flagged.Requests[0].ServiceRequestID != id || flagged.Requests[0].AssetID != snapped {
				t.Fatalf("retired-open: %+v", flagged)
			}
			w.decode(w.do("GET", "/api/v1/assets/retired-open", nil, map[string]string{"X-Api-Key": w.key}), 403, nil)
			w.decode(w.do("DELETE", "/api/v1/assets/hydrant/"+snapped, nil, map[string]string{"X-Api-Key": w.key}), 200, &ret)
			if !ret.AlreadyRetired {
				t.Fatalf("second retire: %+v", ret)
			}
			w.decode(w.do("DELETE", "/api/v1/assets/hydrant/nope", nil, map[string]string{"X-Api-Key": w.key}), 404, nil)
			// An ID with a slash and braces, escaped in the path.
			odd := assets.Asset{Layer: "hydrant", ID: "{A/B}", Point: moved, Version: 1}
			w.decode(w.put("hydrant", "application/geo+json", collection(t, featureOf(odd)), w.key), 200, &up)
			w.decode(w.do("DELETE", "/api/v1/assets/hydrant/"+url.PathEscape(odd.ID), nil, map[string]string{"X-Api-Key": w.key}), 200, &ret)

			// The feed from the start cursor: every change in commit order,
			// the same whether read at once or a page of one at a time.
			all := w.changes(start, 0)
			var got []string
			for _, c := range all.Changes {
				got = append(got, c.Op+" "+c.ID)
			}
			want := []string{"upsert HY-000001", "upsert NEW-1", "retire " + snapped, "upsert {A/B}", "retire {A/B}"}
			if !slices.Equal(got, want) || all.More {
				t.Fatalf("feed %v (more %v), want %v", got, all.More, want)
			}
			if c := all.Changes[0]; c.Version != 5 || c.Attributes["colour"] != "red" || c.Lon != moved[0] {
				t.Fatalf("first change %+v", c)
			}
			cursor, paged := start, []string{}
			for {
				p := w.changes(cursor, 1)
				if len(p.Changes) == 0 {
					break
				}
				paged = append(paged, p.Changes[0].Op+" "+p.Changes[0].ID)
				if p.More != (len(paged) < len(want)) {
					t.Fatalf("page %d: more = %v", len(paged), p.More)
				}
				cursor = p.Next
			}
			if !slices.Equal(paged, want) {
				t.Fatalf("paged feed %v, want %v", paged, want)
			}
			// Resuming from the middle gives the rest.
			if p := w.changes(all.Changes[2].Cursor, 0); len(p.Changes) != 2 || p.Changes[0].ID != "{A/B}" {
				t.Fatalf("resumed feed: %+v", p)
			}
			w.decode(w.do("GET", "/api/v1/assets/changes?since=zzz", nil, map[string]string{"X-Api-Key": w.key}), 400, nil)
		})
	}
}

// TestAssetsBadInput: each bad input is a clear bilingual 4xx and nothing
// is applied.
func TestAssetsBadInput(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newAssetWorld(t, b.open(t), false, false)
			ctx := context.Background()
			good := feature{Type: "Feature", ID: "G1", Geometry: point(orb.Point{-73.06, 46.03}), Properties: map[string]any{}}
			big := bytes.Repeat([]byte(" "), assetMaxBody+1)
			for _, tc := range []struct {
				name, layer, ct, key string
				body                 []byte
				status               int
				perFeature           int // refused features listed, 0: a plain error
			}{
				{"invalid JSON", "hydrant", "application/geo+json", w.key, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature",`), 400, 0},
				{"not a collection", "hydrant", "application/geo+json", w.key, []byte(`{"type":"Point","coordinates":[1,2]}`), 400, 0},
				{"no ID", "hydrant", "application/geo+json", w.key, collection(t, good, feature{Type: "Feature", Geometry: point(orb.Point{-73.06, 46.03}), Properties: map[string]any{}}), 400, 1},
				{"NaN literal", "hydrant", "application/x-ndjson", w.key, append(ndjson(t, good), []byte(`{"type":"Feature","id":"N","geometry":{"type":"Point","coordinates":[NaN,46]}}`+"\n")...), 400, 1},
				{"NaN string", "hydrant", "application/geo+json", w.key, collection(t, good, feature{Type: "Feature", ID: "N", Geometry: map[string]any{"type": "Point", "coordinates": []any{"NaN", 46}}}), 400, 1},
				{"out of range", "hydrant", "application/geo+json", w.key, collection(t, good, feature{Type: "Feature", ID: "N", Geometry: point(orb.Point{-273, 46})}), 400, 1},
				{"bad version", "hydrant", "application/geo+json", w.key, collection(t, good, feature{Type: "Feature", ID: "V", Geometry: point(orb.Point{-73, 46}), Properties: map[string]any{"version": "soon"}}), 400, 1},
				{"duplicate", "hydrant", "application/geo+json", w.key, collection(t, good, good), 400, 1},
				{"over the limit", "hydrant", "application/geo+json", w.key, append(collection(t, good), big...), 413, 0},
				{"unknown layer", "hydrants", "application/geo+json", w.key, collection(t, good), 404, 0},
				{"bad layer name", "Hydrant!", "application/geo+json", w.key, collection(t, good), 400, 0},
				{"wrong content type", "hydrant", "text/csv", w.key, []byte("id,lon,lat\n"), 415, 0},
				{"no key", "hydrant", "application/geo+json", "", collection(t, good), 401, 0},
				{"wrong key", "hydrant", "application/geo+json", "pw_notakey", collection(t, good), 403, 0},
				{"staff key", "hydrant", "application/geo+json", w.staffKey, collection(t, good), 403, 0},
				{"empty", "hydrant", "application/geo+json", w.key, collection(t), 400, 0},
			} {
				res := w.put(tc.layer, tc.ct, tc.body, tc.key)
				var be batchErr
				if res.status != tc.status || json.Unmarshal(res.body, &be) != nil || len(be) != 1 {
					t.Errorf("%s: status %d, want %d: %.300s", tc.name, res.status, tc.status, res.body)
					continue
				}
				e := be[0]
				if e.DescriptionEn == "" || e.DescriptionFr == "" || e.DescriptionEn == e.DescriptionFr || e.Code != tc.status ||
					strings.Contains(string(res.body), "%!") {
					t.Errorf("%s: body not bilingual: %s", tc.name, res.body)
				}
				if len(e.Features) != tc.perFeature {
					t.Errorf("%s: %d features listed, want %d: %s", tc.name, len(e.Features), tc.perFeature, res.body)
				}
				for _, f := range e.Features {
					if f.DescriptionEn == "" || f.DescriptionFr == "" || f.Index != 1 {
						t.Errorf("%s: feature error %+v", tc.name, f)
					}
				}
				if cs, err := w.as.AssetChanges(ctx, tenant, 0, 1); err != nil || len(cs) != 0 {
					t.Errorf("%s: the store changed: %v, %v", tc.name, cs, err)
				}
			}
			if _, ok := w.follower.Index().Get("hydrant", "G1"); ok {
				t.Fatal("a refused feature reached the index")
			}
			// DELETE and the feed want a key too.
			w.decode(w.do("DELETE", "/api/v1/assets/hydrant/HY-000001", nil, nil), 401, nil)
			w.decode(w.do("GET", "/api/v1/assets/changes", nil, map[string]string{"X-Api-Key": w.staffKey}), 403, nil)
		})
	}
}

// TestAssetsTwoServers: two servers (two stores, two handlers, two
// followers woken by LISTEN/NOTIFY) on one PostGIS; a change made through
// one is in the other's index within a second.
func TestAssetsTwoServers(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	var ws [2]*assetWorld
	for i := range ws {
		s, err := postgis.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		ws[i] = newAssetWorld(t, s, true, true)
	}
	a := assets.Asset{Layer: "hydrant", ID: "TWO-1", Point: orb.Point{-73.06, 46.03}, Version: 7}
	within := func(what string, ok func() bool) {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > time.Second {
				t.Fatalf("%s: not seen by the other server within a second", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("%s seen by the other server after %v", what, time.Since(start).Round(time.Millisecond))
	}
	ws[0].decode(ws[0].put("hydrant", "application/geo+json", collection(t, featureOf(a)), ws[0].key), 200, nil)
	within("upsert", func() bool { got, ok := ws[1].follower.Index().Get("hydrant", "TWO-1"); return ok && got.Version == 7 })
	ws[1].decode(ws[1].do("DELETE", "/api/v1/assets/hydrant/TWO-1", nil, map[string]string{"X-Api-Key": ws[1].key}), 200, nil)
	within("retirement", func() bool { _, ok := ws[0].follower.Index().Get("hydrant", "TWO-1"); return !ok })
	if n0, n1 := ws[0].follower.Index().Len(), ws[1].follower.Index().Len(); n0 != n1 {
		t.Fatalf("indexes differ: %d and %d assets", n0, n1)
	}
}
