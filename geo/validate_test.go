package geo

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestValidatePoint(t *testing.T) {
	cases := []struct {
		p    orb.Point
		want string // substring of the error; "" for valid
	}{
		{orb.Point{-75.69, 45.42}, ""},
		{orb.Point{180, -90}, ""},
		{orb.Point{math.NaN(), 45}, "longitude is not a finite number"},
		{orb.Point{-75, math.Inf(1)}, "latitude is not a finite number"},
		{orb.Point{45.42, -118.25}, "look swapped"},
		{orb.Point{-181, 45}, "longitude -181 is out of range"},
		{orb.Point{-200, 95}, "out of range"},
		{orb.Point{10, 91}, "latitude 91 is out of range"},
	}
	for _, c := range cases {
		err := ValidatePoint(c.p)
		if c.want == "" {
			if err != nil {
				t.Errorf("ValidatePoint(%v) = %v, want nil", c.p, err)
			}
			continue
		}
		var ie *InvalidError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidatePoint(%v) = %v, want an InvalidError containing %q", c.p, err, c.want)
		}
	}
}

func TestLooksSwapped(t *testing.T) {
	ottawa := orb.Bound{Min: orb.Point{-76.36, 44.96}, Max: orb.Point{-75.24, 45.54}}
	if !LooksSwapped(orb.Point{45.42, -75.69}, ottawa) {
		t.Error("swapped Ottawa point not detected")
	}
	if LooksSwapped(orb.Point{-75.69, 45.42}, ottawa) {
		t.Error("correct Ottawa point reported as swapped")
	}
}

func square(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestValidatePolygon(t *testing.T) {
	cases := []struct {
		name string
		p    orb.Polygon
		want string
	}{
		{"square", orb.Polygon{square(0, 0, 1, 1)}, ""},
		{"square with hole", orb.Polygon{square(0, 0, 4, 4), square(1, 1, 2, 2)}, ""},
		{"no rings", orb.Polygon{}, "no rings"},
		{"too few points", orb.Polygon{{{0, 0}, {1, 0}, {0, 0}}}, "needs at least 4"},
		{"not closed", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, "not closed"},
		{"flat", orb.Polygon{{{0, 0}, {1, 1}, {2, 2}, {0, 0}}}, "doubles back"},
		{"bow tie", orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}, "intersects itself"},
		{"spike back on itself", orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {1, 2}, {1, -1}, {0, 2}, {0, 0}}}, "intersects itself"},
		{"hole outside", orb.Polygon{square(0, 0, 1, 1), square(5, 5, 6, 6)}, "outside the outer ring"},
		{"bad hole", orb.Polygon{square(0, 0, 4, 4), {{1, 1}, {2, 2}, {2, 1}, {1, 2}, {1, 1}}}, "hole: ring intersects itself"},
		{"NaN vertex", orb.Polygon{{{0, 0}, {math.NaN(), 0}, {1, 1}, {0, 0}}}, "not a finite number"},
	}
	for _, c := range cases {
		err := ValidatePolygon(c.p)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error containing %q", c.name, err, c.want)
		}
	}
}

func TestNamed(t *testing.T) {
	err := Named(ValidatePolygon(orb.Polygon{}), "ward 7")
	if got := err.Error(); got != "invalid geometry in ward 7: polygon has no rings" {
		t.Errorf("got %q", got)
	}
}

func TestSelfIntersectionBigRing(t *testing.T) {
	// A valid 10,000-vertex circle, then the same with one vertex pulled
	// across the ring.
	r := circle(orb.Point{0, 0}, 1, 10000)
	if err := ValidateRing(r); err != nil {
		t.Fatalf("circle: %v", err)
	}
	r[5000] = orb.Point{1.5, 0.001} // the spike crosses the far side
	if err := ValidateRing(r); err == nil {
		t.Fatal("pulled vertex not detected")
	}
}

func circle(c orb.Point, radius float64, n int) orb.Ring {
	r := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		r = append(r, orb.Point{c[0] + radius*math.Cos(a), c[1] + radius*math.Sin(a)})
	}
	return append(r, r[0])
}

func TestDegenerateVertices(t *testing.T) {
	if err := ValidateRing(orb.Ring{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 0}}); err == nil || !strings.Contains(err.Error(), "repeats") {
		t.Errorf("repeated point: %v", err)
	}
	if err := ValidateRing(orb.Ring{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}); err == nil || !strings.Contains(err.Error(), "doubles back") {
		t.Errorf("spike: %v", err)
	}
}
