// Package basemap reads street tiles from a local PMTiles v3 archive
// (github.com/protomaps/go-pmtiles) for pinward to serve itself, so no
// third-party tile server learns where residents look; and writes small
// archives (the sample town's generated streets, data/gensample).
//
// The tiles are Mapbox Vector Tiles in the Protomaps basemap schema (layers
// earth, roads, water, ...), drawn by the Protomaps style the pages bundle
// (npm @protomaps/basemaps).
package basemap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/protomaps/go-pmtiles/pmtiles"
)

// headerLen is the fixed length of a PMTiles v3 header.
const headerLen = 127

// maxLeaves bounds the leaf directories kept decoded in memory.
const maxLeaves = 64

// Archive is an open PMTiles archive of vector tiles. Its methods are safe
// for concurrent use.
type Archive struct {
	r      io.ReaderAt
	closer io.Closer
	h      pmtiles.HeaderV3
	root   []pmtiles.EntryV3

	mu     sync.Mutex
	leaves map[uint64][]pmtiles.EntryV3 // by leaf offset
}

// Open opens the PMTiles file at path.
func Open(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("basemap: %w", err)
	}
	a, err := New(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("basemap %s: %w", path, err)
	}
	a.closer = f
	return a, nil
}

// New reads an archive from r (a file, or the bytes of an embedded one).
func New(r io.ReaderAt) (*Archive, error) {
	hb := make([]byte, headerLen)
	if _, err := r.ReadAt(hb, 0); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	h, err := pmtiles.DeserializeHeader(hb)
	if err != nil {
		return nil, fmt.Errorf("not a PMTiles v3 archive: %w", err)
	}
	if h.TileType != pmtiles.Mvt {
		return nil, errors.New("its tiles are not vector tiles (MVT); pinward draws vector basemaps only")
	}
	if h.TileCompression != pmtiles.Gzip && h.TileCompression != pmtiles.NoCompression {
		return nil, errors.New("its tiles are compressed with neither gzip nor nothing (re-pack it with pmtiles convert)")
	}
	if h.InternalCompression != pmtiles.Gzip && h.InternalCompression != pmtiles.NoCompression {
		return nil, errors.New("its directories are compressed with neither gzip nor nothing")
	}
	a := &Archive{r: r, h: h, leaves: map[uint64][]pmtiles.EntryV3{}}
	if a.root, err = a.dir(h.RootOffset, h.RootLength); err != nil {
		return nil, fmt.Errorf("root directory: %w", err)
	}
	return a, nil
}

// Close closes the file Open opened.
func (a *Archive) Close() error {
	if a.closer == nil {
		return nil
	}
	return a.closer.Close()
}

func (a *Archive) dir(off, n uint64) ([]pmtiles.EntryV3, error) {
	if n > 64<<20 {
		return nil, fmt.Errorf("a directory of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := a.r.ReadAt(b, int64(off)); err != nil {
		return nil, err
	}
	if a.h.InternalCompression == pmtiles.Gzip {
		// DeserializeEntries panics on a broken gzip stream: check it first.
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		return pmtiles.DeserializeEntries(bytes.NewBuffer(raw), pmtiles.NoCompression), nil
	}
	return pmtiles.DeserializeEntries(bytes.NewBuffer(b), pmtiles.NoCompression), nil
}

func (a *Archive) leaf(off, n uint64) ([]pmtiles.EntryV3, error) {
	a.mu.Lock()
	e, ok := a.leaves[off]
	a.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := a.dir(a.h.LeafDirectoryOffset+off, n)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if len(a.leaves) >= maxLeaves {
		clear(a.leaves)
	}
	a.leaves[off] = e
	a.mu.Unlock()
	return e, nil
}

// Tile returns tile z/x/y as stored, and whether it is gzipped; nil and no
// error when the archive has no such tile (the sea, or past its zooms).
func (a *Archive) Tile(z uint8, x, y uint32) (data []byte, gzipped bool, err error) {
	if z < a.h.MinZoom || z > a.h.MaxZoom || x >= 1<<z || y >= 1<<z {
		return nil, false, nil
	}
	id := pmtiles.ZxyToID(z, x, y)
	entries := a.root
	for depth := 0; depth < 4; depth++ {
		e, ok := pmtiles.FindTile(entries, id)
		if !ok {
			return nil, false, nil
		}
		if e.RunLength > 0 {
			b := make([]byte, e.Length)
			if _, err := a.r.ReadAt(b, int64(a.h.TileDataOffset+e.Offset)); err != nil {
				return nil, false, fmt.Errorf("basemap: tile %d/%d/%d: %w", z, x, y, err)
			}
			return b, a.h.TileCompression == pmtiles.Gzip, nil
		}
		if entries, err = a.leaf(e.Offset, uint64(e.Length)); err != nil {
			return nil, false, fmt.Errorf("basemap: tile %d/%d/%d: %w", z, x, y, err)
		}
	}
	return nil, false, fmt.Errorf("basemap: tile %d/%d/%d: directories nested too deep", z, x, y)
}

// Info is what a TileJSON document says of the archive.
type Info struct {
	MinZoom, MaxZoom int
	Bounds           [4]float64 // west, south, east, north
	Center           [3]float64 // lon, lat, zoom
}

// Info describes the archive from its header.
func (a *Archive) Info() Info {
	e7 := func(v int32) float64 { return float64(v) / 1e7 }
	h := a.h
	return Info{
		MinZoom: int(h.MinZoom), MaxZoom: int(h.MaxZoom),
		Bounds: [4]float64{e7(h.MinLonE7), e7(h.MinLatE7), e7(h.MaxLonE7), e7(h.MaxLatE7)},
		Center: [3]float64{e7(h.CenterLonE7), e7(h.CenterLatE7), float64(h.CenterZoom)},
	}
}
