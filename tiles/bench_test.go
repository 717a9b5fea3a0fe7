package tiles_test

import (
	"testing"

	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/tiles"
)

// pinward bench tiles compares with ST_AsMVT on 1,000,000 requests; these
// benchmarks are the quick per-change view (200,000 requests).
func benchCity(b *testing.B) (*data.City, []tiles.Request) {
	cfg := data.DefaultCityConfig()
	cfg.Requests = 200_000
	c, err := data.GenerateCity(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c, cityRequests(c)
}

func BenchmarkSetRequests(b *testing.B) {
	_, reqs := benchCity(b)
	tl := tiles.New(tiles.Options{})
	b.ResetTimer()
	for range b.N {
		tl.SetRequests(reqs)
	}
}

func BenchmarkRender(b *testing.B) {
	c, reqs := benchCity(b)
	tl := tiles.New(tiles.Options{CacheTiles: -1})
	tl.SetRequests(reqs)
	for _, layer := range []string{tiles.LayerRequests, tiles.LayerClusters} {
		for _, z := range []maptile.Zoom{12, 14, 16} {
			tile := maptile.At(c.Bound.Center(), z)
			b.Run(layer+"/z"+string(rune('0'+z/10))+string(rune('0'+z%10)), func(b *testing.B) {
				for range b.N {
					if _, err := tl.Render(layer, tile); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
