// Package geo is pinward's geometry kernel on top of orb: it checks input
// geometry, measures distances in metres, and answers the two spatial
// questions every request asks: which polygon covers this point
// (PolygonIndex) and which point lies nearest to it (PointIndex).
//
// It is the one place pinward tests a point against a polygon (ring.go:
// PolygonIndex, and Covers as its slow reference) and the one local flat
// projection (Ruler for distances, Projection for planar algorithms such
// as clustering). The data generator keeps its own copies on purpose, as an
// independent test oracle (see package data).
//
// Coordinates are WGS84 longitude/latitude in GeoJSON order (orb.Point{lon, lat}).
// Distances are metres on the WGS84 ellipsoid, computed with a local flat-earth
// approximation that is exact to well under a millimetre over the few hundred
// metres a lookup ever measures.
package geo
