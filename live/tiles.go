package live

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/tiles"
	"github.com/pinward/pinward/wards"
)

// NewTiler returns the tile renderer with the wards in force today (see
// WatchWards for the next generation's) and
// every asset of ix; the requests come with the Tiles view's Load.
func NewTiler(set *wards.Set, ix *assets.Index) (*tiles.Tiler, error) {
	tl := tiles.New(tiles.Options{})
	if err := tl.SetWards(tileWards(set.Current(time.Now()))); err != nil {
		return nil, err
	}
	tl.SetAssets(tileAssets(ix))
	return tl, nil
}

// Tiles is the map tiles view: open requests (and so clusters) and assets.
// Register it for requests.ChangeRequest and requests.ChangeAsset, after
// the Assets view whose index it reads.
type Tiles struct {
	store  requests.RequestStore
	tenant string
	tl     *tiles.Tiler
	ix     *assets.Index // nil: no assets on the map

	// Now is the clock overdue is judged by (time.Now when nil).
	Now func() time.Time
	// mu guards pending: the requests on the map that are not overdue
	// yet but have a due time, which Watch marks overdue once it passes
	// (no change of the request says so).
	mu      sync.Mutex
	pending map[string]tiles.Request
	dueAt   map[string]time.Time
}

// NewTiles returns the view of tl; ix is the asset index it shows.
func NewTiles(store requests.RequestStore, tenant string, tl *tiles.Tiler, ix *assets.Index) *Tiles {
	return &Tiles{store: store, tenant: tenant, tl: tl, ix: ix, pending: map[string]tiles.Request{}, dueAt: map[string]time.Time{}}
}

func (v *Tiles) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// tileRequest is what a tile may show of a request (no description,
// address, attributes, media or reporter), with overdue judged at now;
// one with a due time still ahead is remembered for Watch.
func (v *Tiles) tileRequest(r requests.Request, now time.Time) tiles.Request {
	t := tiles.Request{
		ID: r.ServiceRequestID, ServiceCode: r.ServiceCode, Status: string(r.Status),
		ClusterID: r.ClusterID, WardID: r.WardID, Point: r.Point, RequestedAt: r.RequestedAt,
		Overdue: !r.DueAt.IsZero() && r.DueAt.Before(now), EscalationLevel: r.EscalationLevel,
	}
	delete(v.pending, t.ID)
	delete(v.dueAt, t.ID)
	if !r.DueAt.IsZero() && !t.Overdue {
		v.pending[t.ID], v.dueAt[t.ID] = t, r.DueAt
	}
	return t
}

// MarkOverdue puts the requests whose due time has passed back on the map
// as overdue and returns how many.
func (v *Tiles) MarkOverdue() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	n := 0
	for id, t := range v.pending {
		if v.dueAt[id].Before(now) {
			t.Overdue = true
			v.tl.PutRequest(t)
			delete(v.pending, id)
			delete(v.dueAt, id)
			n++
		}
	}
	return n
}

// Watch runs MarkOverdue every period until ctx is done or the returned
// stop is called.
func (v *Tiles) Watch(ctx context.Context, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				v.MarkOverdue()
			}
		}
	}()
	return func() { cancel(); <-done }
}

// Load implements View: every asset of the index and every request that
// is not closed.
func (v *Tiles) Load(ctx context.Context) error {
	v.tl.SetAssets(tileAssets(v.ix))
	return v.loadRequests(ctx)
}

// Apply implements View: the requests named are read back and put on the
// map (closed ones taken off); the assets named are put or taken off as
// the index now holds them.
func (v *Tiles) Apply(ctx context.Context, cs []requests.Change) error {
	var ids []string
	seen := map[string]bool{}
	var put, remove []tiles.Asset
	reloadRequests := false
	for _, c := range cs {
		switch c.Kind {
		case requests.ChangeRequest:
			if c.Key == requests.AllKeys {
				reloadRequests = true
			} else if !seen[c.Key] {
				seen[c.Key] = true
				ids = append(ids, c.Key)
			}
		case requests.ChangeAsset:
			if v.ix == nil {
				continue
			}
			if c.Key == requests.AllKeys {
				v.tl.SetAssets(tileAssets(v.ix))
				continue
			}
			layer, id, _ := c.AssetRef()
			// The index's state, not the change's: it may be newer, and
			// it is what the server answers from.
			if a, ok := v.ix.Get(layer, id); ok {
				put = append(put, tiles.Asset{Layer: a.Layer, ID: a.ID, Point: a.Point})
			} else {
				remove = append(remove, tiles.Asset{Layer: layer, ID: id})
			}
		}
	}
	if len(put)+len(remove) > 0 {
		v.tl.UpdateAssets(put, remove)
	}
	if reloadRequests {
		return v.loadRequests(ctx)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	for len(ids) > 0 {
		n := min(len(ids), requests.MaxListLimit)
		rs, err := v.store.ListRequests(ctx, requests.Filter{Tenant: v.tenant, ServiceRequestIDs: ids[:n], Limit: n})
		if err != nil {
			return fmt.Errorf("tiles: read changed requests: %w", err)
		}
		for _, r := range rs {
			if r.Status == requests.Closed {
				v.tl.RemoveRequest(r.ServiceRequestID)
				delete(v.pending, r.ServiceRequestID)
				delete(v.dueAt, r.ServiceRequestID)
			} else {
				v.tl.PutRequest(v.tileRequest(r, now))
			}
		}
		ids = ids[n:]
	}
	return nil
}

// loadRequests puts every request that is not closed on the map, page by
// page. It pages by ID (keyset), not by offset: with offsets each page
// rereads every row before it, and 900,000 open requests took 6 minutes
// to list instead of 10 s.
func (v *Tiles) loadRequests(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.pending)
	clear(v.dueAt)
	now := v.now()
	var rs []tiles.Request
	f := requests.Filter{Tenant: v.tenant, Statuses: requests.OpenStatuses(),
		ByID: true, Limit: requests.MaxListLimit}
	for {
		page, err := v.store.ListRequests(ctx, f)
		if err != nil {
			return fmt.Errorf("tiles: load the open requests: %w", err)
		}
		for _, r := range page {
			rs = append(rs, v.tileRequest(r, now))
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	v.tl.SetRequests(rs)
	return nil
}

// tileAssets is every asset of ix as the tiles show it.
func tileAssets(ix *assets.Index) []tiles.Asset {
	var as []tiles.Asset
	if ix != nil {
		ix.Scan(func(a assets.Asset) bool {
			as = append(as, tiles.Asset{Layer: a.Layer, ID: a.ID, Point: a.Point})
			return true
		})
	}
	return as
}
