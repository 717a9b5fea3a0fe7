// Package assets holds a municipality's point assets (streetlights,
// hydrants, bus stops…) in layers, and answers the question every 311
// request asks of them: which asset of these types is nearest to the pin,
// within a radius?
//
// An Asset is identified by its layer and the external ID the city's
// asset-management system gives it. LoadCSV and LoadGeoJSON read the files
// cities publish, reporting each bad row with its line number and skipping
// it rather than failing the whole import.
//
// Index serves lookups from an immutable Snapshot published through an
// atomic pointer: readers never lock and never see a half-applied change.
// Upsert and Delete build the next snapshot by copy-on-write (the by-ID maps
// as persistent hash tries, the bucket grid by rebuilding only the tiles a
// write touches), so a sync batch costs time proportional to its size, not
// to the number of assets held. The grid of 75 m buckets (grid.go) is the one
// index by place, holding every layer: Nearest reads the few buckets around
// the point, walks the grid's tiles for wide radii and the antimeridian, and
// reads a small overflow R-tree only for assets far from the rest (past the
// grid's 300 km directory) and layers past the 256th. Versions make replays
// of a sync feed idempotent and refuse stale updates.
//
// Distances are metres from geo.Ruler, fitted at the query point's latitude.
// Equal distances are broken by (layer, ID), so answers never depend on the
// order assets were loaded.
package assets
