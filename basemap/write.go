package basemap

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/protomaps/go-pmtiles/pmtiles"
)

// Tile is one vector tile to write, its MVT bytes uncompressed.
type Tile struct {
	Z    uint8
	X, Y uint32
	Data []byte
}

// Write writes tiles as a PMTiles v3 archive to w: tiles and directories
// gzipped, identical tiles stored once, clustered (in tile ID order), so
// the same tiles always give the same bytes. info gives the zooms, bounds
// and centre; metadata is the archive's JSON metadata (vector_layers...).
func Write(w io.Writer, tiles []Tile, info Info, metadata map[string]any) error {
	tiles = slices.Clone(tiles)
	id := func(t Tile) uint64 { return pmtiles.ZxyToID(t.Z, t.X, t.Y) }
	slices.SortFunc(tiles, func(a, b Tile) int { return cmpU64(id(a), id(b)) })
	zw := &gzipper{}
	var (
		data    bytes.Buffer
		entries []pmtiles.EntryV3
		seen    = map[string]pmtiles.EntryV3{} // content -> where it is stored
		content uint64
	)
	for _, t := range tiles {
		if len(entries) > 0 && entries[len(entries)-1].TileID == id(t) {
			return fmt.Errorf("basemap: tile %d/%d/%d given twice", t.Z, t.X, t.Y)
		}
		at, ok := seen[string(t.Data)]
		if !ok {
			gz, err := zw.gzip(t.Data)
			if err != nil {
				return err
			}
			at = pmtiles.EntryV3{Offset: uint64(data.Len()), Length: uint32(len(gz))}
			seen[string(t.Data)] = at
			data.Write(gz)
			content++
		}
		last := len(entries) - 1
		if ok && last >= 0 && entries[last].Offset == at.Offset && entries[last].TileID+uint64(entries[last].RunLength) == id(t) {
			entries[last].RunLength++
			continue
		}
		entries = append(entries, pmtiles.EntryV3{TileID: id(t), Offset: at.Offset, Length: at.Length, RunLength: 1})
	}
	root, leaves, _ := pmtiles.BuildDirectories(entries, 16384-headerLen, pmtiles.Gzip)
	meta, err := pmtiles.SerializeMetadata(metadata, pmtiles.Gzip)
	if err != nil {
		return fmt.Errorf("basemap: metadata: %w", err)
	}
	e7 := func(v float64) int32 { return int32(math.Round(v * 1e7)) }
	h := pmtiles.HeaderV3{
		SpecVersion: 3,
		RootOffset:  headerLen, RootLength: uint64(len(root)),
		MetadataOffset: headerLen + uint64(len(root)), MetadataLength: uint64(len(meta)),
		LeafDirectoryOffset: headerLen + uint64(len(root)+len(meta)), LeafDirectoryLength: uint64(len(leaves)),
		TileDataOffset: headerLen + uint64(len(root)+len(meta)+len(leaves)), TileDataLength: uint64(data.Len()),
		AddressedTilesCount: uint64(len(tiles)), TileEntriesCount: uint64(len(entries)), TileContentsCount: content,
		Clustered: true, InternalCompression: pmtiles.Gzip, TileCompression: pmtiles.Gzip, TileType: pmtiles.Mvt,
		MinZoom: uint8(info.MinZoom), MaxZoom: uint8(info.MaxZoom),
		MinLonE7: e7(info.Bounds[0]), MinLatE7: e7(info.Bounds[1]), MaxLonE7: e7(info.Bounds[2]), MaxLatE7: e7(info.Bounds[3]),
		CenterLonE7: e7(info.Center[0]), CenterLatE7: e7(info.Center[1]), CenterZoom: uint8(info.Center[2]),
	}
	for _, b := range [][]byte{pmtiles.SerializeHeader(h), root, meta, leaves, data.Bytes()} {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("basemap: writing: %w", err)
		}
	}
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// gzipper compresses tiles with a fixed header (no name, no time), so
// equal tiles give equal bytes; one writer is reused for all.
type gzipper struct {
	zw  *gzip.Writer
	out bytes.Buffer
}

func (g *gzipper) gzip(b []byte) ([]byte, error) {
	g.out.Reset()
	if g.zw == nil {
		zw, err := gzip.NewWriterLevel(&g.out, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		g.zw = zw
	} else {
		g.zw.Reset(&g.out)
	}
	if _, err := g.zw.Write(b); err != nil {
		return nil, fmt.Errorf("basemap: gzip: %w", err)
	}
	if err := g.zw.Close(); err != nil {
		return nil, fmt.Errorf("basemap: gzip: %w", err)
	}
	return bytes.Clone(g.out.Bytes()), nil
}
