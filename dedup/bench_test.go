package dedup_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/geo"
)

// cityReports returns the first n requests of the synthetic city with n
// requests (deterministic), as Reports. Cached: generating a million takes
// about a second.
var cityReports = func() func(tb testing.TB, n int) ([]dedup.Report, geo.Projection) {
	var mu sync.Mutex
	cache := map[int][]dedup.Report{}
	return func(tb testing.TB, n int) ([]dedup.Report, geo.Projection) {
		tb.Helper()
		mu.Lock()
		defer mu.Unlock()
		cfg := data.DefaultCityConfig()
		if rs, ok := cache[n]; ok {
			return rs, geo.NewProjection(cfg.Center)
		}
		cfg.Requests = n
		city, err := data.GenerateCity(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		rs := make([]dedup.Report, len(city.Requests))
		for i, r := range city.Requests {
			rs[i] = dedup.Report{ID: r.ID, Category: r.Category, CreatedAt: r.CreatedAt, Point: r.Point, AssetID: r.AssetID}
		}
		cache[n] = rs
		return rs, geo.NewProjection(cfg.Center)
	}
}()

// dbscanRules are the rules ST_ClusterDBSCAN(geom, eps, 1) OVER (PARTITION
// BY category) applies: distance only, no window, no assets.
func dbscanRules(eps float64) dedup.Rules {
	return dedup.Rules{Default: dedup.Rule{Distance: eps}}
}

// BenchmarkCluster clusters the synthetic city at two sizes, without a
// window (the grid) and with windows (members indexed in time order). The
// larger city packs ten times the requests into the same wards and year,
// so each report has more neighbours and ns/report grows with it.
func BenchmarkCluster(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		reports, pj := cityReports(b, n)
		for _, bc := range []struct {
			name  string
			rules dedup.Rules
		}{
			{"window0-eps50", dbscanRules(50)},
			{"window30d-eps50", dedup.Rules{Default: dedup.Rule{Distance: 50, Window: 30 * 24 * time.Hour}}},
			// What the service gives a category without tuning.
			{"default-rule", dedup.Rules{Default: dedup.DefaultRule()}},
		} {
			b.Run(fmt.Sprintf("%s/n=%d", bc.name, len(reports)), func(b *testing.B) {
				var as []dedup.Assignment
				for b.Loop() {
					var err error
					if as, err = dedup.ClusterIn(reports, bc.rules, pj); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(reports)), "ns/report")
				b.ReportMetric(dupShare(as), "dup-share")
			})
		}
	}
}

func dupShare(as []dedup.Assignment) float64 {
	n := 0
	for _, a := range as {
		if a.ID != a.ClusterID {
			n++
		}
	}
	return float64(n) / float64(len(as))
}
