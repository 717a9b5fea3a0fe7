// Package wards holds a municipality's ward boundaries and their
// generations, and answers "which ward is this point in, on this date".
//
// A Ward is an ID, an English and French name, a multipolygon in WGS84
// lon/lat and the remaining source properties as text. LoadGeoJSON reads the
// wards of one boundary file (a GeoJSON FeatureCollection of Polygon and
// MultiPolygon features, as cities publish them) and says precisely which
// feature is wrong and why when it cannot.
//
// A Generation is one set of wards in force over a validity period
// [ValidFrom, ValidTo); a zero time leaves that end unbounded. A Set holds
// the generations of a municipality, which may not overlap. Redistricting adds
// a generation rather than replacing one, so a request keeps the ward in force
// on its own date: Set.Locate(p, at) looks in the generation in force at
// `at`, and reports false both for a point in no ward (outside the
// municipality, see OutsideError) and for a date no generation covers.
//
// Boundary rule: a ward covers the points on its boundary, and a point that
// several wards cover, such as a vertex or edge of a border two wards share,
// belongs to the ward listed first: the lowest position in the slice given
// to NewGeneration, which for LoadGeoJSON is the order of the features in
// the file. Every point of the municipality therefore belongs to exactly one
// ward, and the answer matches PostGIS's
//
//	SELECT id FROM wards WHERE ST_Covers(geom, pt) ORDER BY ord LIMIT 1
//
// (see geo.PolygonIndex, which implements it). Reordering the features of a
// file can move border points between wards, never interior ones.
//
// Generations and Sets are immutable once built and safe for concurrent
// use; a server swaps in a new Set when boundaries change.
package wards
