package live

import (
	"context"
	"time"

	"github.com/pinward/pinward/tiles"
	"github.com/pinward/pinward/wards"
)

// tileWards is a generation's wards as the map draws them (none for nil).
func tileWards(g *wards.Generation) []tiles.Ward {
	if g == nil {
		return nil
	}
	ws := make([]tiles.Ward, 0, len(g.Wards))
	for _, w := range g.Wards {
		ws = append(ws, tiles.Ward{ID: w.ID, NameEn: w.Name.En, NameFr: w.Name.Fr, Geometry: w.Geometry})
	}
	return ws
}

// WatchWards redraws the map's ward layer when the next generation of set
// comes into force (its first day passes while the server runs), so the
// map shows the wards new requests are located in. Requests keep the ward
// of their own date; only the layer changes. now is time.Now when nil.
// stop ends the watch.
func WatchWards(ctx context.Context, set *wards.Set, tl *tiles.Tiler, now func() time.Time) (stop func()) {
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			next, ok := nextChange(set, now())
			if !ok {
				return
			}
			// Sleep in bounded steps: a suspended host or a clock step
			// must not leave the layer stale for the whole wait.
			t := time.NewTimer(min(next.Sub(now()), time.Minute))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if at := now(); !at.Before(next) {
				// The generations were checked when the set was built.
				_ = tl.SetWards(tileWards(set.Current(at)))
			}
		}
	}()
	return func() { cancel(); <-done }
}

// nextChange is the first start or end of a generation after t.
func nextChange(set *wards.Set, t time.Time) (time.Time, bool) {
	for _, g := range set.Generations() {
		for _, edge := range []time.Time{g.ValidFrom, g.ValidTo} {
			if !edge.IsZero() && edge.After(t) {
				return edge, true
			}
		}
	}
	return time.Time{}, false
}
