package bench

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pinward/pinward/internal/pgtest"
)

// TestBenchGeocode runs the bench on a few hundred points and checks that
// it shows what it promises: pinward's figures, every answer equal to brute
// force, and both PostGIS queries agreeing.
func TestBenchGeocode(t *testing.T) {
	url := pgtest.URL(t)
	env, out, errb := testEnv(nil)
	if err := Run(t.Context(), env, []string{"geocode", "--points", "400", "--runs", "3", "--db", url}); err != nil {
		t.Fatalf("bench geocode: %v\n%s\n%s", err, out, errb)
	}
	got := out.String()
	for _, want := range []string{
		"24 wards", "radius 75 m", "index memory: wards",
		"equal to brute force: wards 400/400", "assets 400/400",
		"ward, geometry ST_Covers (GiST)", "nearest, geography ST_DWithin + ST_Distance",
		"ward, UTM EPSG:32618 ST_Covers (GiST)", "nearest, UTM EPSG:32618 ST_DWithin + <-> LIMIT 1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q:\n%s", want, got)
		}
	}
	for _, lookup := range []string{"ward lookup", "nearest asset within 75 m", "ward \\+ nearest asset"} {
		if !regexp.MustCompile(lookup + ` +(CPU|wall) +\d+ / +\d+ points/s`).MatchString(got) {
			t.Errorf("no figures for %s:\n%s", lookup, got)
		}
	}
}

func TestUTMSRID(t *testing.T) {
	for _, c := range []struct {
		lon, lat float64
		want     int
	}{{-73.1, 46.05, 32618}, {-75.7, 45.4, 32618}, {-118.2, 34.05, 32611}, {2.35, 48.85, 32631}, {151.2, -33.9, 32756}, {180, 0, 32660}, {-180, 0, 32601}} {
		if got := utmSRID([2]float64{c.lon, c.lat}); got != c.want {
			t.Errorf("utmSRID(%g, %g) = %d, want %d", c.lon, c.lat, got, c.want)
		}
	}
}

// TestBenchGeocodeWithoutPostGIS runs the bench with --postgis=false and
// no database in the environment: pinward's figures, its brute-force
// checks and the targets line, and no PostGIS section.
func TestBenchGeocodeWithoutPostGIS(t *testing.T) {
	env, out, errb := testEnv(nil)
	if err := Run(t.Context(), env, []string{"geocode", "--points", "300", "--runs", "1", "--postgis=false"}); err != nil {
		t.Fatalf("bench geocode --postgis=false: %v\n%s\n%s", err, out, errb)
	}
	got := out.String()
	for _, want := range []string{"equal to brute force: wards 300/300", "assets 300/300", "batches equal to single lookups on 300/300", "targets (median run):", "exact: met"} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "PostGIS") {
		t.Errorf("--postgis=false printed a PostGIS section:\n%s", got)
	}
}
