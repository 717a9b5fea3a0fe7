package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/tiles"
	"github.com/pinward/pinward/wards"
)

// newTiler returns the tile renderer with the wards in force today and
// every asset; the requests come later from loadTileRequests.
func newTiler(set *wards.Set, ix *assets.Index) (*tiles.Tiler, error) {
	tl := tiles.New(tiles.Options{})
	var ws []tiles.Ward
	if g := set.Current(time.Now()); g != nil {
		for _, w := range g.Wards {
			ws = append(ws, tiles.Ward{ID: w.ID, NameEn: w.Name.En, NameFr: w.Name.Fr, Geometry: w.Geometry})
		}
	}
	if err := tl.SetWards(ws); err != nil {
		return nil, err
	}
	tl.SetAssets(tileAssets(ix))
	return tl, nil
}

// tileRequest is what a tile may show of a request: no description,
// address, attributes, media or reporter.
func tileRequest(r requests.Request) tiles.Request {
	return tiles.Request{
		ID: r.ServiceRequestID, ServiceCode: r.ServiceCode, Status: string(r.Status),
		ClusterID: r.ClusterID, WardID: r.WardID, Point: r.Point, RequestedAt: r.RequestedAt,
	}
}

// tileUpdater is the Service's OnChange for the tiles: a closed request
// leaves the map, any other change replaces it.
func tileUpdater(tl *tiles.Tiler) func(requests.Request) {
	return func(r requests.Request) {
		if r.Status == requests.Closed {
			tl.RemoveRequest(r.ServiceRequestID)
			return
		}
		tl.PutRequest(tileRequest(r))
	}
}

// followTiles keeps tl current with what other servers change, then loads
// the requests (replacing loadTileRequests at start):
//
//   - assets: when af (the asset follower) is not nil, the tiles take its
//     index and every batch of changes it applies, whether written through
//     this server's asset API or by another server (the follower reads the
//     store's change feed);
//   - requests and clusters: when the store is shared (it implements
//     requests.RequestWatcher: PostGIS), every request another server
//     creates or changes is read back and put on the map within
//     milliseconds of its commit (LISTEN/NOTIFY). This server's own
//     changes come through the Service's OnChange first and are read back
//     too, which also settles the order of two quick changes to one
//     request.
//
// The watcher starts before the requests load, so nothing committed in
// between is missed. stop ends the following and waits for it; call it
// before the store closes. On error nothing is left running.
func followTiles(ctx context.Context, st any, svc *requests.Service, tl *tiles.Tiler, af *requests.AssetFollower, tenant string, log *slog.Logger) (stop func(), err error) {
	if af != nil {
		af.Observe(func(ix *assets.Index) { tl.SetAssets(tileAssets(ix)) }, func(cs []requests.AssetChange) {
			ix := af.Index()
			var put, remove []tiles.Asset
			for _, c := range cs {
				// The index's state, not the change's: they differ when
				// the index refused a change (see AssetFollower.apply).
				if a, ok := ix.Get(c.Asset.Layer, c.Asset.ID); ok {
					put = append(put, tiles.Asset{Layer: a.Layer, ID: a.ID, Point: a.Point})
				} else {
					remove = append(remove, tiles.Asset{Layer: c.Asset.Layer, ID: c.Asset.ID})
				}
			}
			tl.UpdateAssets(put, remove)
		})
	}
	w, ok := st.(requests.RequestWatcher)
	if !ok {
		return func() {}, loadTileRequests(ctx, svc, tl)
	}
	fctx, cancel := context.WithCancel(ctx)
	changes, err := w.WatchRequests(fctx, tenant)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("following request changes for the tiles: %w", err)
	}
	drain := func() {
		cancel()
		for range changes { // closed once the watcher's connection is
		}
	}
	if err := loadTileRequests(ctx, svc, tl); err != nil {
		drain()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range changes {
			if err := applyTileChanges(fctx, svc, tl, c); err != nil && fctx.Err() == nil {
				// The next change of those requests, or a restart, puts
				// them right; say so rather than retry in a loop.
				log.WarnContext(fctx, "tiles: reading changed requests", "err", err, "requests", len(c.IDs), "all", c.All)
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}

// applyTileChanges reads back the requests of one RequestChanges and puts
// them on the map (or takes closed ones off); All reloads every request.
func applyTileChanges(ctx context.Context, svc *requests.Service, tl *tiles.Tiler, c requests.RequestChanges) error {
	if c.All {
		return loadTileRequests(ctx, svc, tl)
	}
	update := tileUpdater(tl)
	for len(c.IDs) > 0 {
		n := min(len(c.IDs), requests.MaxListLimit)
		rs, err := svc.List(ctx, requests.Filter{ServiceRequestIDs: c.IDs[:n], Limit: n})
		if err != nil {
			return err
		}
		for _, r := range rs {
			update(r)
		}
		c.IDs = c.IDs[n:]
	}
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

// loadTileRequests puts every request that is not closed on the map, page
// by page, before the server takes its first submission. It pages by ID
// (keyset), not by offset: with offsets each page rereads every row before
// it, and 900,000 open requests took 6 minutes to list instead of 10 s.
func loadTileRequests(ctx context.Context, svc *requests.Service, tl *tiles.Tiler) error {
	var rs []tiles.Request
	f := requests.Filter{Statuses: []requests.Status{requests.Open, requests.Acknowledged, requests.InProgress},
		ByID: true, Limit: requests.MaxListLimit}
	for {
		page, err := svc.List(ctx, f)
		if err != nil {
			return fmt.Errorf("loading the open requests for the tiles: %w", err)
		}
		for _, r := range page {
			rs = append(rs, tileRequest(r))
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	tl.SetRequests(rs)
	return nil
}
