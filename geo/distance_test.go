package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestRulerAgainstEllipsoid(t *testing.T) {
	// Lengths of one degree on WGS84 at 45°N (meridian arc and parallel),
	// from the ellipsoid's closed-form radii of curvature.
	r := NewRuler(45)
	lat := r.Distance(orb.Point{0, 44.9995}, orb.Point{0, 45.0005}) * 1000
	lon := r.Distance(orb.Point{-0.0005, 45}, orb.Point{0.0005, 45}) * 1000
	if math.Abs(lat-111131.78) > 0.5 {
		t.Errorf("1° of latitude at 45° = %.2f m, want 111131.78", lat)
	}
	if math.Abs(lon-78847.0) > 1 {
		t.Errorf("1° of longitude at 45° = %.2f m, want 78847", lon)
	}
}

func TestDistanceSymmetricAndShort(t *testing.T) {
	a, b := orb.Point{-75.6972, 45.4215}, orb.Point{-75.6960, 45.4220}
	if d1, d2 := Distance(a, b), Distance(b, a); d1 != d2 || d1 < 108.5 || d1 > 109.5 {
		t.Errorf("Distance = %v / %v, want ~109 m both ways", d1, d2)
	}
	if Distance(a, a) != 0 {
		t.Error("distance to self is not zero")
	}
}

func TestProjectionRoundTrip(t *testing.T) {
	pr := NewProjection(orb.Point{-73.6, 45.5})
	p := orb.Point{-73.55, 45.52}
	m := pr.ToMetres(p)
	back := pr.ToLonLat(m)
	if math.Abs(back[0]-p[0]) > 1e-12 || math.Abs(back[1]-p[1]) > 1e-12 {
		t.Errorf("round trip %v → %v → %v", p, m, back)
	}
	if d := math.Hypot(m[0], m[1]); math.Abs(d-Distance(pr.Origin, p)) > 5 {
		t.Errorf("projected distance %v vs ruler %v", d, Distance(pr.Origin, p))
	}
}

func TestBuffer(t *testing.T) {
	r := NewRuler(45)
	p := orb.Point{-75, 45}
	b := r.Buffer(p, 100)
	if d := r.Distance(p, orb.Point{b.Max[0], p[1]}); math.Abs(d-100) > 1e-6 {
		t.Errorf("east edge at %v m", d)
	}
	if d := r.Distance(p, orb.Point{p[0], b.Min[1]}); math.Abs(d-100) > 1e-6 {
		t.Errorf("south edge at %v m", d)
	}
}
