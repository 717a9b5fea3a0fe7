package wards_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/wards"
)

// BenchmarkLocate measures one ward lookup on real and synthetic
// boundaries, over points spread across the city and a margin around it
// (so some are outside, as some resident pins are). Set/ also pays for
// finding the generation in force. bench_city is the city of `pinward bench
// geocode` (24 wards, about 40,000 vertices); its points are 1<<16, more
// than a cache holds of the grid, as a real stream of pins is.
func BenchmarkLocate(b *testing.B) {
	cities := []struct {
		name  string
		wards func(testing.TB) []wards.Ward
	}{
		{"Ottawa", func(tb testing.TB) []wards.Ward {
			return loadFile(tb, dataFile(tb, "ottawa/boundaries/Wards_2022-2026.geojson"), "WARD,NAME,NAME_FR")
		}},
		{"synthetic", syntheticWards},
		{"bench_city", benchCityWards},
	}
	for _, c := range cities {
		b.Run(c.name, func(b *testing.B) {
			g := generation(b, c.wards(b))
			pts := spread(rand.New(rand.NewPCG(1, 1)), 1<<16, g.Bound())
			b.Run("Generation", func(b *testing.B) {
				cpuLoop(b, func(i int) { g.Locate(pts[i&(len(pts)-1)]) })
			})
			b.Run("Generation_batch", func(b *testing.B) {
				// LocateAll over the points, reported per point.
				out := make([]int32, len(pts))
				cpuLoop(b, func(i int) {
					if i%len(pts) == 0 {
						g.LocateAll(pts, out)
					}
				})
			})
			b.Run("Generation_hot", func(b *testing.B) {
				cpuLoop(b, func(i int) { g.Locate(pts[i&15]) })
			})
			b.Run("Set", func(b *testing.B) {
				// Three generations, as after two redistrictings.
				y := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
				g1, err := wards.NewGeneration(g.Wards, time.Time{}, y(2014))
				if err != nil {
					b.Fatal(err)
				}
				g2, err := wards.NewGeneration(g.Wards, y(2014), y(2022))
				if err != nil {
					b.Fatal(err)
				}
				g3, err := wards.NewGeneration(g.Wards, y(2022), time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				s, err := wards.NewSet(g1, g2, g3)
				if err != nil {
					b.Fatal(err)
				}
				at := y(2024)
				cpuLoop(b, func(i int) { s.Locate(pts[i&(len(pts)-1)], at) })
			})
		})
	}
}

// benchCityWards is the synthetic city of `pinward bench geocode`: the
// default city with 6 × 4 wards.
func benchCityWards(tb testing.TB) []wards.Ward {
	tb.Helper()
	cfg := data.DefaultCityConfig()
	cfg.WardsX, cfg.WardsY = 6, 4
	return cityWards(tb, cfg)
}
