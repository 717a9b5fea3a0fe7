package dedup_test

import (
	"fmt"
	"slices"
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

func BenchmarkCluster(b *testing.B) {
	reports, pj := cityReports(b, 100_000)
	for _, bc := range []struct {
		name  string
		rules dedup.Rules
	}{
		{"window0-eps50", dbscanRules(50)},
		{"window30d-eps50", dedup.Rules{Default: dedup.Rule{Distance: 50, Window: 30 * 24 * time.Hour}}},
		{"default-rules", dedup.DefaultRules()},
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

func dupShare(as []dedup.Assignment) float64 {
	n := 0
	for _, a := range as {
		if a.ID != a.ClusterID {
			n++
		}
	}
	return float64(n) / float64(len(as))
}

// BenchmarkAssign measures online assignment with a million reports
// already assigned: with rules without a window (all million indexed, the
// worst case) and with the default rules (the index holds each category's
// window). It reports the 50th and 99th percentile of one Assign.
func BenchmarkAssign(b *testing.B) {
	const indexed, pool = 1_000_000, 100_000
	all, pj := cityReports(b, indexed+pool)
	for _, bc := range []struct {
		name  string
		rules dedup.Rules
	}{
		{"window0-eps50", dbscanRules(50)},
		{"default-rules", dedup.DefaultRules()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a, err := dedup.NewAssigner(bc.rules, pj)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range all[:indexed] {
				if _, err := a.Assign(r); err != nil {
					b.Fatal(err)
				}
			}
			lat := make([]time.Duration, 0, 1<<20)
			i := 0
			for b.Loop() {
				r := all[indexed+i%pool]
				if i >= pool {
					r.ID = fmt.Sprintf("%s-%d", r.ID, i/pool) // a fresh ID each lap
				}
				i++
				t0 := time.Now()
				_, err := a.Assign(r)
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
