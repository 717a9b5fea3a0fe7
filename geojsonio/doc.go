// Package geojsonio is pinward's one GeoJSON reading layer, on top of
// orb's (github.com/paulmach/orb/geojson). Ward files, asset files, the
// asset API and anything else that takes GeoJSON read it through here, so
// the rules are the same everywhere:
//
//   - A document is a FeatureCollection (or, where the caller allows it, a
//     single Feature). A leading byte-order mark is skipped. A legacy "crs"
//     member, on the document or a feature, must name WGS84 lon/lat
//     (CRS84, EPSG:4326): anything else is refused rather than misread as
//     degrees. Nothing may follow the document.
//   - Each feature is decoded on its own, with the line it starts on, so
//     one bad feature is one problem, not a failed file.
//   - Properties: an ID or name is a string or a number; a number is kept
//     as written, except that a whole number loses a fraction or exponent
//     ("14.0" and "1.4e1" are "14"). Attributes are every other non-null
//     property: strings as they are, numbers by the same rule, booleans as
//     true/false, objects and arrays as compact JSON.
//   - Points: a Point, or a MultiPoint of exactly one point (taken as that
//     point); 2 or 3 numbers, the third (altitude) ignored; checked with
//     geo.ValidatePoint. Coordinates are read strictly, never zero-filled.
//   - Areas: a Polygon or MultiPolygon, decoded by orb; the caller
//     validates it (geo.ValidateMultiPolygon) and names the feature.
//
// Errors are *i18n.Error values (English and French), so the API can
// answer with them as they are; JSON syntax errors carry a *SyntaxError
// with the line and column.
package geojsonio
