// Package tiles renders Mapbox Vector Tiles (MVT, extent 4096, buffer 64)
// of pinward's four map layers from memory: ward boundaries, assets,
// requests and duplicate clusters. The api package serves them at
// /tiles/{layer}/{z}/{x}/{y}.mvt with TileJSON at /tiles/{layer}.json.
//
// tiles imports no store, requests, wards or assets: its data comes in as
// the plain types of this package (Ward, Asset, Request), fed by the
// caller. The Tiles view of package live loads the open requests from the
// store at start and follows the store's change stream: Tiler.PutRequest
// and RemoveRequest for the requests any server changes, and
// Tiler.UpdateAssets for the assets, so a tile reflects a change within
// milliseconds of its commit on any server.
//
// # Layers and feature properties
//
// Every tile holds exactly one MVT layer, named as the layer in the URL.
// Zoom levels 0 to MaxZoom (22) are served for every layer; below a
// layer's minzoom (assets) the tile is empty.
//
// wards (polygons, every zoom): id, name_en, name_fr. Boundaries are
// simplified per zoom (Douglas-Peucker, tolerance SimplifyTolerance tile
// units, so a ward of 1,600 vertices has a few dozen at zoom 10) and
// clipped to the tile plus its buffer.
//
// assets (points, from zoom AssetsMinZoom = 15, where one tile holds a few
// hundred street assets): layer, id.
//
// requests and clusters have two forms. From DetailZoom (15) on, one
// feature per request or cluster, except that up to MaxAggZoom (18) a
// tile holding more than MaxDetailFeatures (1,000) of them stays
// aggregated, so a dense city never sends a tile of thousands of points
// (Tiler.Aggregated tells which form a tile has):
//
//   - requests: id (the service_request_id; also the MVT feature id when
//     numeric), service_code, status, cluster_id, ward_id, requested_at
//     (Unix seconds, UTC), overdue (past its SLA due time) and
//     escalation_level (levels fired).
//   - clusters: cluster_id, count (requests in the cluster), service_code
//     and ward_id (of the cluster's earliest request), status (the least
//     advanced among its requests: open < acknowledged < in_progress <
//     closed), requested_at (its earliest request, Unix seconds), overdue
//     (any of its requests) and escalation_level (the highest). The point
//     is the mean of its requests' points.
//
// Otherwise a tile is a 16 × 16 grid of cells (256 tile units, 32
// screen pixels on a 512 px tile) and each non-empty cell is one point at
// the mean position of what it counts, with:
//
//   - aggregate: true (absent on the individual features above);
//   - count: requests (requests layer) or clusters (clusters layer) in the
//     cell; the clusters layer also has requests, the requests in them;
//   - service_<code> and status_<status>: the count per category and per
//     status, only those that are non-zero (e.g. service_pothole,
//     status_in_progress);
//   - service_code, status, ward_id: the most common value in the cell, so
//     one style can colour both forms.
//
// A cell count is exact, not sampled; a z12 tile of a city with 1,000,000
// requests is about 20 KB. Requests in tiles never carry personal
// information: Request has no field for any, and the property names above
// are the complete list.
//
// # Caching
//
// Tiler.Tile keeps rendered tiles (and their gzip form) in a bounded
// in-memory cache stamped with the version of the layer's data. Every
// change (PutRequest, RemoveRequest, SetRequests, SetWards, SetAssets,
// UpdateAssets) bumps the version under the same lock that readers render
// under, so the next request for any tile of that layer renders afresh: a
// change is visible on the next fetch, and no stale render can be stored
// after it.
// ETags are a hash of the tile's bytes, so a client revalidating a tile
// the change did not touch still gets 304.
package tiles
