package main

import (
	"context"
	"fmt"
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
	var as []tiles.Asset
	if ix != nil {
		ix.Scan(func(a assets.Asset) bool {
			as = append(as, tiles.Asset{Layer: a.Layer, ID: a.ID, Point: a.Point})
			return true
		})
	}
	tl.SetAssets(as)
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

// loadTileRequests puts every request that is not closed on the map, page
// by page, before the server takes its first submission.
func loadTileRequests(ctx context.Context, svc *requests.Service, tl *tiles.Tiler) error {
	var rs []tiles.Request
	f := requests.Filter{Statuses: []requests.Status{requests.Open, requests.Acknowledged, requests.InProgress}, Limit: requests.MaxListLimit}
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
		f.Offset += len(page)
	}
	tl.SetRequests(rs)
	return nil
}
