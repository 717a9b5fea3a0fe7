package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
)

// TestRedistricting: serve, on SQLite and on PostGIS at once, runs two
// generations of wards given as --wards DATE=FILE: the bundled sample's
// wards since 2018-12-01, then three strips over the western two thirds of
// the town from a moment a few seconds into the test. Requests posted over
// HTTP before that moment are stored in the old wards, those after it in
// the strips (and a point east of the strips is outside then). pinward
// report --generation re-cuts both stores' requests by either generation,
// and every count equals PostGIS's ST_Covers placement computed in SQL:
// the ward of the generation covering the point (first in file order),
// else the stored ward.
func TestRedistricting(t *testing.T) {
	db := pgtest.URL(t) // skips without PINWARD_TEST_DATABASE_URL
	ctx := t.Context()
	dir := t.TempDir()
	oldFile, newFile := filepath.Join(dir, "old.geojson"), filepath.Join(dir, "new.geojson")
	if err := os.WriteFile(oldFile, data.SampleWardsGeoJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	sample, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	b := sample.Current(time.Now()).Bound()
	west := b.Min[0] + (b.Max[0]-b.Min[0])*2/3 // the strips' eastern edge
	strips := geojson.NewFeatureCollection()
	for i := range 3 {
		x0 := b.Min[0] - 0.01 + float64(i)*(west-b.Min[0]+0.01)/3
		x1 := b.Min[0] - 0.01 + float64(i+1)*(west-b.Min[0]+0.01)/3
		f := geojson.NewFeature(orb.Polygon{{{x0, b.Min[1] - 0.01}, {x1, b.Min[1] - 0.01}, {x1, b.Max[1] + 0.01}, {x0, b.Max[1] + 0.01}, {x0, b.Min[1] - 0.01}}})
		f.Properties["id"] = fmt.Sprintf("N%d", i+1)
		f.Properties["name_en"], f.Properties["name_fr"] = fmt.Sprintf("Strip %d", i+1), fmt.Sprintf("Bande %d", i+1)
		strips.Append(f)
	}
	newJSON, err := strips.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newFile, newJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	change := time.Now().Add(10 * time.Second).UTC().Truncate(time.Second)
	changeArg := change.Format(time.RFC3339)
	wardArgs := []string{"--wards", "2018-12-01=" + oldFile, "--wards", changeArg + "=" + newFile}
	stores := map[string][]string{"sqlite": {"--data-dir", filepath.Join(dir, "var")}, "postgis": {"--db", db}}

	type server struct{ base, key string }
	servers := map[string]server{}
	for name, storeArgs := range stores {
		env, out, errb := testEnv(nil)
		if code := Main(ctx, append([]string{"keys", "create", "--role", "integrator"}, storeArgs...), env); code != 0 {
			t.Fatalf("%s: keys create: exit %d: %s", name, code, errb)
		}
		servers[name] = server{base: startServeArgs(t, append(append([]string{"serve", "--addr", "127.0.0.1:0"}, storeArgs...), wardArgs...)...),
			key: strings.TrimSpace(out.String())}
	}
	post := func(name string, p orb.Point) (int, string) {
		res, err := http.PostForm(servers[name].base+"/open311/v2/requests.json", url.Values{
			"api_key": {servers[name].key}, "service_code": {"graffiti"}, "attribute[offensive]": {"no"},
			"lat": {strconv.FormatFloat(p[1], 'f', -1, 64)}, "long": {strconv.FormatFloat(p[0], 'f', -1, 64)},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	rng := rand.New(rand.NewPCG(2018, 2022))
	inTown := func(keep func(orb.Point) bool) orb.Point {
		for {
			p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
			if _, ok := sample.Locate(p, time.Now()); ok && keep(p) {
				return p
			}
		}
	}
	anywhere := func(orb.Point) bool { return true }
	east := func(p orb.Point) bool { return p[0] > west+0.001 }
	// Before the change: anywhere in the old wards, the first east of the
	// strips; up to 25 each, as many as a loaded machine posts in time.
	created := map[string]int{}
	for i := 0; i < 25 && time.Now().Before(change.Add(-time.Second)); i++ {
		for name := range servers {
			keep := anywhere
			if i == 0 {
				keep = east
			}
			code, body := post(name, inTown(keep))
			switch {
			case code == http.StatusCreated:
				created[name]++
			case code == http.StatusBadRequest && !time.Now().Before(change):
				// The change came while posting: east of the strips is outside.
			default:
				t.Fatalf("%s: POST before the change: %d %s", name, code, body)
			}
		}
	}
	time.Sleep(time.Until(change) + 100*time.Millisecond)
	// After it: inside the strips; east of them is outside the town now.
	for range 25 {
		for name := range servers {
			if code, body := post(name, inTown(func(p orb.Point) bool { return p[0] < west })); code != http.StatusCreated {
				t.Fatalf("%s: POST after the change: %d %s", name, code, body)
			}
			created[name]++
		}
	}
	for name := range servers {
		code, body := post(name, inTown(east))
		if code != http.StatusBadRequest || !strings.Contains(body, "outside") || !strings.Contains(body, "l'extérieur") {
			t.Errorf("%s: POST east of the new wards after the change: %d %s, want 400 outside (bilingual)", name, code, body)
		}
	}

	// The oracle: both generations' wards and every stored request in
	// PostGIS tables beside the store's own.
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(`CREATE TABLE gen_wards (gen int, ord int, id text, geom geometry(MultiPolygon, 4326))`)
	mustExec(`CREATE TABLE pts (store text, id bigint, requested_at timestamptz, ward_id text, geom geometry(Point, 4326))`)
	for gen, raw := range map[int][]byte{1: data.SampleWardsGeoJSON(), 2: newJSON} {
		fc, err := geojson.UnmarshalFeatureCollection(raw)
		if err != nil {
			t.Fatal(err)
		}
		for ord, f := range fc.Features {
			g, err := geojson.NewGeometry(f.Geometry).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			mustExec(`INSERT INTO gen_wards VALUES ($1, $2, $3, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($4), 4326)))`,
				gen, ord, fmt.Sprint(f.Properties["id"]), string(g))
		}
	}
	// PostGIS's requests straight from the store's table; SQLite's as its
	// store lists them.
	mustExec(`INSERT INTO pts SELECT 'postgis', id, requested_at, ward_id, geom FROM requests`)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "var", "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.ListRequests(ctx, requests.Filter{Tenant: "sample"})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		mustExec(`INSERT INTO pts VALUES ('sqlite', $1, $2, $3, ST_SetSRID(ST_MakePoint($4, $5), 4326))`, r.ID, r.RequestedAt, r.WardID, r.Point[0], r.Point[1])
	}
	placed := `SELECT p.store, p.id, p.requested_at, p.ward_id, w.id FROM pts p LEFT JOIN LATERAL (
		SELECT id FROM gen_wards g WHERE g.gen = %s AND ST_Covers(g.geom, p.geom) ORDER BY g.ord LIMIT 1) w ON true`

	// Each request is stored in the ward of the generation in force at
	// its own date.
	rows, err := conn.Query(ctx, fmt.Sprintf(placed, "CASE WHEN p.requested_at >= $1 THEN 2 ELSE 1 END"), change)
	if err != nil {
		t.Fatal(err)
	}
	sides := map[string][2]int{}
	for rows.Next() {
		var (
			store, stored string
			want          *string
			id            int64
			at            time.Time
		)
		if err := rows.Scan(&store, &id, &at, &stored, &want); err != nil {
			t.Fatal(err)
		}
		if want == nil || *want != stored {
			t.Errorf("%s request %d of %s: stored in ward %q, PostGIS places it in %v", store, id, at, stored, want)
		}
		s := sides[store]
		if at.Before(change) {
			s[0]++
		} else {
			s[1]++
		}
		sides[store] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for name := range stores {
		if s := sides[name]; s[0] < 1 || s[1] < 25 || s[0]+s[1] != created[name] {
			t.Errorf("%s: %v requests stored before and after the change, want at least 1 and 25, %d in all", name, s, created[name])
		}
	}

	// The reports re-cut by each generation, and the plain one, equal
	// PostGIS's counts.
	for name, storeArgs := range stores {
		for _, gen := range []struct {
			flag, sql string
		}{{"2020-06-01", "1"}, {changeArg, "2"}, {"", ""}} {
			args := append(append([]string{"report", "--by", "ward"}, storeArgs...), wardArgs...)
			want := map[string]int{}
			q := `SELECT ward_id, count(*) FROM pts WHERE store = $1 GROUP BY 1`
			if gen.flag != "" {
				args = append(args, "--generation", gen.flag)
				q = `SELECT coalesce(x.id, x.ward_id), count(*) FROM (` + fmt.Sprintf(placed, gen.sql) + `) x(store, rid, at, ward_id, id) WHERE store = $1 GROUP BY 1`
			}
			rows, err := conn.Query(ctx, q, name)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var (
					k string
					n int
				)
				if err := rows.Scan(&k, &n); err != nil {
					t.Fatal(err)
				}
				want[k] = n
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			env, out, errb := testEnv(nil)
			if code := Main(ctx, args, env); code != 0 {
				t.Fatalf("%s: %v: exit %d: %s", name, args, code, errb)
			}
			got := map[string]int{}
			recs, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs[1:] {
				if rec[0] == "*" {
					if rec[2] != strconv.Itoa(created[name]) {
						t.Errorf("%s --generation %q: total %s, want %d", name, gen.flag, rec[2], created[name])
					}
					continue
				}
				n, _ := strconv.Atoi(rec[2])
				got[rec[0]] = n
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s report --generation %q by ward: %v, PostGIS ST_Covers: %v\n%s", name, gen.flag, got, want, out)
			}
			if gen.sql == "2" && len(want) < 4 {
				t.Errorf("%s: the re-cut by the strips has %d wards (%v): want the strips and the old wards east of them", name, len(want), want)
			}
		}
	}
}

// TestWardsFlagUsage: a --wards or --generation that cannot be used
// exits with status 2 and says why.
func TestWardsFlagUsage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wards.geojson")
	if err := os.WriteFile(file, data.SampleWardsGeoJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	storeArgs := []string{"--data-dir", filepath.Join(dir, "var")}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--generation", "March"}, "--generation"},
		{[]string{"report", "--wards", "2018-12-01=" + file, "--generation", "2010-01-01"}, "no wards are in force"},
		{[]string{"report", "--wards", "2022-13-01=" + file}, "not a day"},
		{[]string{"report", "--wards", file, "--wards", file}, "only one boundary file may be undated"},
		{[]string{"report", "--wards", "2018-12-01=" + file, "--wards", "2018-12-01=" + file}, "both start on 2018-12-01"},
		{[]string{"geocode", "--wards", "2018-12-01=" + filepath.Join(dir, "missing.geojson")}, "missing.geojson"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--wards", "2018-12-01="}, "names no file"},
	} {
		env, _, errb := testEnv(nil)
		args := tc.args
		if args[0] == "report" || args[0] == "serve" {
			args = append(args, storeArgs...)
		}
		if code := Main(t.Context(), args, env); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, %s; want 2 and %q", tc.args, code, errb, tc.want)
		}
	}
}

// startServeArgs runs Main with args (a serve) on loopback and returns its
// URL; it stops when the test ends.
func startServeArgs(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	serveErr := &lockedBuffer{b: &bytes.Buffer{}}
	env := Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: serveErr, Getenv: func(k string) string {
		if k == "PINWARD_RATE_LIMITS" {
			return testRateLimits
		}
		return ""
	}}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, args, env); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, serveErr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v: %s", err, serveErr.String())
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "pinward: listening on "))
}
