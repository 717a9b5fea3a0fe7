package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// adversarialPoints returns the points where a grid in front of the edge
// test could go wrong: every vertex, points on axis-aligned edges, points a
// few ulps either side of vertices, every corner and edge-midpoint of grid
// cells along a sample of rows, and their ulp neighbours.
func adversarialPoints(polys []orb.MultiPolygon, g *cellGrid, rng *rand.Rand) []orb.Point {
	var pts []orb.Point
	nudge := func(p orb.Point) {
		pts = append(pts, p)
		for _, dx := range []float64{-1, 1} {
			pts = append(pts,
				orb.Point{math.Nextafter(p[0], p[0]+dx), p[1]},
				orb.Point{p[0], math.Nextafter(p[1], p[1]+dx)},
				orb.Point{math.Nextafter(p[0], p[0]+dx), math.Nextafter(p[1], p[1]-dx)})
		}
	}
	for _, mp := range polys {
		for _, poly := range mp {
			for _, r := range poly {
				for k := 0; k+1 < len(r); k++ {
					a, b := r[k], r[k+1]
					nudge(a)
					if a[0] == b[0] || a[1] == b[1] { // the midpoint is exactly on the edge
						nudge(orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2})
					}
					if rng.IntN(4) == 0 { // a point on the segment, up to rounding
						t := rng.Float64()
						pts = append(pts, orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])})
					}
				}
			}
		}
	}
	for range 3000 {
		i, j := rng.IntN(g.nx+1), rng.IntN(g.ny+1)
		x, y := g.minX+float64(i)/g.invW, g.minY+float64(j)/g.invH
		nudge(orb.Point{x, y})
		pts = append(pts, orb.Point{x + 0.5/g.invW, y}, orb.Point{x, y + 0.5/g.invH})
	}
	// Corners of the cells a border crosses, where fast and slow cells
	// meet, and of their subcells.
	for j := 0; j < g.ny; j++ {
		for i := 0; i < g.nx; i++ {
			if g.value(i, j)&cellMixed != 0 && rng.IntN(8) == 0 {
				nudge(orb.Point{g.minX + float64(i)/g.invW, g.minY + float64(j)/g.invH})
				sx, sy := rng.IntN(subSide+1), rng.IntN(subSide+1)
				nudge(orb.Point{g.minX + float64(i*subSide+sx)/(g.invW*subSide), g.minY + float64(j*subSide+sy)/(g.invH*subSide)})
			}
		}
	}
	// The grid's own bounds, corners included.
	for _, x := range []float64{g.minX, g.maxX} {
		for _, y := range []float64{g.minY, g.maxY} {
			nudge(orb.Point{x, y})
		}
	}
	return pts
}

func TestCellGridMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		name  string
		polys []orb.MultiPolygon
	}{
		{"strips", stripCity(8, 200, rng)},
		{"coarse strips", stripCity(3, 12, rng)}, // few edges: a small grid of large cells
		{"tilted squares", tiltedSquares()},
	} {
		t.Run(c.name, func(t *testing.T) {
			ix := NewPolygonIndex(c.polys)
			if ix.grid.blocks == nil {
				t.Fatal("no grid was built")
			}
			cells, mixed, bytes := ix.GridStats()
			fast := 0
			pts := adversarialPoints(c.polys, &ix.grid, rng)
			b := ix.Bound()
			for range 20000 {
				pts = append(pts, orb.Point{
					b.Min[0] + (rng.Float64()*1.2-0.1)*(b.Max[0]-b.Min[0]),
					b.Min[1] + (rng.Float64()*1.2-0.1)*(b.Max[1]-b.Min[1]),
				})
			}
			for _, p := range pts {
				got, ok := ix.Locate(p)
				want, wantOK := bruteLocate(c.polys, p)
				if got != want || ok != wantOK {
					cl, in := ix.grid.cell(p)
					t.Fatalf("Locate(%v) = %d,%v; brute force %d,%v (cell %d in grid %v, value %d)",
						p, got, ok, want, wantOK, cl, in, ix.grid.lookup(p))
				}
				if _, in := ix.grid.cell(p); in && ix.grid.lookup(p)&cellMixed == 0 {
					fast++
				}
			}
			// The batch answers as Locate does, point by point.
			out := make([]int32, len(pts))
			ix.LocateAll(pts, out)
			for i, p := range pts {
				if got, _ := ix.Locate(p); int32(got) != out[i] {
					t.Fatalf("LocateAll at %v: %d, Locate %d", p, out[i], got)
				}
			}
			t.Logf("%d × %d cells, %d mixed (%.1f%%), %d bytes; %d points, %d answered by the grid",
				ix.grid.nx, ix.grid.ny, mixed, 100*float64(mixed)/float64(cells), bytes, len(pts), fast)
			if fast < len(pts)/4 {
				t.Errorf("only %d of %d points took the fast path", fast, len(pts))
			}
		})
	}
}

// tiltedSquares is two wards sharing a long diagonal border of a few edges,
// each edge crossing many cells (the column walk's interpolated case), and
// a hole in the second whose edges run exactly along grid lines.
func tiltedSquares() []orb.MultiPolygon {
	border := []orb.Point{{0, 0}, {3, 1.1}, {7, 8.3}, {10, 10}}
	left := orb.Ring{{0, 0}}
	left = append(left, orb.Point{0, 10}, orb.Point{10, 10})
	for k := len(border) - 2; k >= 0; k-- {
		left = append(left, border[k])
	}
	right := orb.Ring{}
	right = append(right, border...)
	right = append(right, orb.Point{10, 0}, orb.Point{0, 0})
	hole := orb.Ring{{8, 1}, {8, 2}, {9, 2}, {9, 1}, {8, 1}}
	return []orb.MultiPolygon{{{left}}, {{right, hole}}}
}

func TestCellGridTiltedSquaresAreValid(t *testing.T) {
	for i, mp := range tiltedSquares() {
		if err := ValidateMultiPolygon(mp); err != nil {
			t.Fatalf("ward %d: %v", i, err)
		}
	}
}
