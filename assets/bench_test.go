package assets_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/geo"
)

const synthN = 1_000_000

// synthetic1M is a layer of a million streetlights spread over a
// 32 km × 32 km city (one every 32 m on average), built once per process.
var synthetic1M = sync.OnceValue(func() []assets.Asset {
	rng := rand.New(rand.NewPCG(1, 1))
	pr := geo.NewProjection(orb.Point{-73.60, 45.52})
	as := make([]assets.Asset, synthN)
	for i := range as {
		as[i] = assets.Asset{
			Layer: "streetlight",
			ID:    fmt.Sprintf("SL%07d", i),
			Point: pr.ToLonLat(orb.Point{rng.Float64()*32000 - 16000, rng.Float64()*32000 - 16000}),
		}
	}
	return as
})

func newSynthetic1M(b *testing.B) *assets.Index {
	b.Helper()
	start := time.Now()
	ix, err := assets.NewIndex(synthetic1M())
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	b.Logf("NewIndex of %d assets: %v; heap in use %d MiB", ix.Len(), took.Round(time.Millisecond), m.HeapInuse>>20)
	return ix
}

// benchCity is the synthetic city of `pinward bench geocode` (24 wards,
// about 157,000 assets in 5 layers), built once per process.
var benchCity = sync.OnceValues(func() (*data.City, error) {
	cfg := data.DefaultCityConfig()
	cfg.WardsX, cfg.WardsY = 6, 4
	cfg.Requests = 0
	return data.GenerateCity(cfg)
})

func BenchmarkNearest(b *testing.B) {
	b.Run("bench_city/r=75m/all_layers", func(b *testing.B) {
		city, err := benchCity()
		if err != nil {
			b.Fatal(err)
		}
		as := make([]assets.Asset, len(city.Assets))
		for i, a := range city.Assets {
			as[i] = assets.Asset{Layer: a.Type, ID: a.ID, Point: a.Point}
		}
		bound := city.Bound
		ix, err := assets.NewIndex(as)
		if err != nil {
			b.Fatal(err)
		}
		// As bench geocode: half the points near an asset, half anywhere.
		rng := rand.New(rand.NewPCG(4, 4))
		pts := make([]orb.Point, 1<<16)
		for i := range pts {
			if i%2 == 0 {
				a := as[rng.IntN(len(as))].Point
				pts[i] = orb.Point{a[0] + (rng.Float64()-0.5)*0.0015, a[1] + (rng.Float64()-0.5)*0.001}
				continue
			}
			pts[i] = orb.Point{bound.Min[0] + rng.Float64()*(bound.Max[0]-bound.Min[0]), bound.Min[1] + rng.Float64()*(bound.Max[1]-bound.Min[1])}
		}
		found := 0
		cpuLoop(b, func(i int) {
			if _, _, ok := ix.Nearest(pts[i&(len(pts)-1)], 75); ok {
				found++
			}
		})
		b.ReportMetric(float64(found)/float64(b.N), "found/op")
	})
	// NearestAll over the same kind of points, reported per point.
	b.Run("bench_city/r=75m/all_layers/batch", func(b *testing.B) {
		city, err := benchCity()
		if err != nil {
			b.Fatal(err)
		}
		as := make([]assets.Asset, len(city.Assets))
		for i, a := range city.Assets {
			as[i] = assets.Asset{Layer: a.Type, ID: a.ID, Point: a.Point}
		}
		ix, err := assets.NewIndex(as)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(4, 4))
		bound := city.Bound
		pts := make([]orb.Point, 1<<16)
		for i := range pts {
			if i%2 == 0 {
				a := as[rng.IntN(len(as))].Point
				pts[i] = orb.Point{a[0] + (rng.Float64()-0.5)*0.0015, a[1] + (rng.Float64()-0.5)*0.001}
				continue
			}
			pts[i] = orb.Point{bound.Min[0] + rng.Float64()*(bound.Max[0]-bound.Min[0]), bound.Min[1] + rng.Float64()*(bound.Max[1]-bound.Min[1])}
		}
		snap := ix.Snapshot()
		found := make([]*assets.Asset, len(pts))
		dist := make([]float64, len(pts))
		cpuLoop(b, func(i int) {
			if i%len(pts) == 0 {
				snap.NearestAll(pts, 75, found, dist)
			}
		})
	})
	// The same search over 16 points, whose cells stay in cache: the cost
	// of the instructions alone, without waiting for memory.
	b.Run("bench_city/r=75m/all_layers/hot", func(b *testing.B) {
		city, err := benchCity()
		if err != nil {
			b.Fatal(err)
		}
		as := make([]assets.Asset, len(city.Assets))
		for i, a := range city.Assets {
			as[i] = assets.Asset{Layer: a.Type, ID: a.ID, Point: a.Point}
		}
		ix, err := assets.NewIndex(as)
		if err != nil {
			b.Fatal(err)
		}
		pts := make([]orb.Point, 16)
		for i := range pts {
			a := as[i*997].Point
			pts[i] = orb.Point{a[0] + 0.0002, a[1] - 0.0001}
		}
		cpuLoop(b, func(i int) { ix.Nearest(pts[i&15], 75) })
	})
	b.Run("gatineau_hydrants", func(b *testing.B) {
		sharedData(b, realLayers["gatineau hydrants"].file)
		as, _ := loadReal(b, "gatineau hydrants")
		ix, err := assets.NewIndex(as)
		if err != nil {
			b.Fatal(err)
		}
		benchNearest(b, ix, as, 50, "hydrant")
	})
	ix := (*assets.Index)(nil)
	for _, radius := range []float64{30, 50} {
		b.Run(fmt.Sprintf("synthetic_1M/r=%gm", radius), func(b *testing.B) {
			if ix == nil {
				ix = newSynthetic1M(b)
			}
			benchNearest(b, ix, synthetic1M(), radius, "streetlight")
		})
	}
}

// benchNearest looks up points within 60 m of a random asset, the way pins
// land near what residents report.
func benchNearest(b *testing.B, ix *assets.Index, as []assets.Asset, radius float64, layer string) {
	rng := rand.New(rand.NewPCG(2, 2))
	pts := make([]orb.Point, 4096)
	for i := range pts {
		a := as[rng.IntN(len(as))]
		pts[i] = geo.NewProjection(a.Point).ToLonLat(orb.Point{rng.Float64()*120 - 60, rng.Float64()*120 - 60})
	}
	found := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, ok := ix.Nearest(pts[i%len(pts)], radius, layer); ok {
			found++
		}
	}
	b.ReportMetric(float64(found)/float64(b.N), "found/op")
}

// BenchmarkUpsert applies batches to an index of a million assets: moves of
// existing assets (a new version each time) and inserts of new ones. The
// cost should follow the batch, not the million: compare with the same
// batches into 100,000 and with batches of one.
func BenchmarkUpsert(b *testing.B) {
	for _, bc := range []struct {
		kind      string
		batch, of int
	}{
		{"move", 1000, synthN}, {"insert", 1000, synthN}, {"move", 1, synthN}, {"move", 1000, synthN / 10},
	} {
		b.Run(fmt.Sprintf("%s_%d_into_%dk", bc.kind, bc.batch, bc.of/1000), func(b *testing.B) {
			base := synthetic1M()[:bc.of]
			start := time.Now()
			ix, err := assets.NewIndex(base)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("NewIndex of %d assets: %v", ix.Len(), time.Since(start).Round(time.Millisecond))
			rng := rand.New(rand.NewPCG(3, 3))
			pr := geo.NewProjection(orb.Point{-73.60, 45.52})
			batch := make([]assets.Asset, bc.batch)
			b.ReportAllocs()
			b.ResetTimer()
			for v := int64(1); b.Loop(); v++ {
				for i := range batch {
					p := pr.ToLonLat(orb.Point{rng.Float64()*32000 - 16000, rng.Float64()*32000 - 16000})
					if bc.kind == "move" {
						batch[i] = assets.Asset{Layer: "streetlight", ID: base[rng.IntN(len(base))].ID, Point: p, Version: v}
					} else {
						batch[i] = assets.Asset{Layer: "streetlight", ID: fmt.Sprintf("N%d-%d", v, i), Point: p}
					}
				}
				if err := ix.Upsert(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/asset")
		})
	}
}

// BenchmarkLoadCSV reads Gatineau's 8,077 hydrants.
func BenchmarkLoadCSV(b *testing.B) {
	raw, err := os.ReadFile(sharedData(b, realLayers["gatineau hydrants"].file))
	if err != nil {
		b.Fatal(err)
	}
	f, _ := assets.ParseCSVFormat(realLayers["gatineau hydrants"].format)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := assets.LoadCSV(bytes.NewReader(raw), f); err != nil {
			b.Fatal(err)
		}
	}
}
