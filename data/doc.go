// Package data supplies the municipalities pinward runs against when no
// real one is loaded: a deterministic generator for synthetic cities of any
// size (wards, street assets and 311 requests) and the small bundled sample
// town, embedded so `make run` and the tests work offline.
//
// Generated geometry is meant to stress the spatial code the way real open
// data does: ward borders are jagged polylines with hundreds to thousands
// of vertices, neighbouring wards share those borders bit for bit, one ward
// has an enclave that is an island part of another ward, one lake is a hole
// that belongs to no ward (points in it are outside the municipality), and
// one ward owns an offshore island. The wards always partition the city.
//
// All coordinates are WGS84 lon/lat rounded to 1e-7 degree (about 1 cm), so
// what is written as text parses back to exactly the same float64 values.
//
// The same CityConfig always yields byte-identical files on a given
// platform. The bundled sample is regenerated with `go generate ./data` (or
// `go run ./data/gensample`) and a test checks the embedded files match.
package data

//go:generate go run ./gensample -dir sample
