package basemap

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriteRead writes an archive big enough to need leaf directories
// (every tile of zooms 0 to 7, some of them equal) and reads every tile
// back from a file.
func TestWriteRead(t *testing.T) {
	var tiles []Tile
	want := map[[3]uint32]string{}
	for z := uint8(0); z <= 7; z++ {
		for x := uint32(0); x < 1<<z; x++ {
			for y := uint32(0); y < 1<<z; y++ {
				body := fmt.Sprintf("tile %d/%d/%d", z, x, y)
				if x%4 == 0 {
					body = "the sea" // equal tiles are stored once
				}
				tiles = append(tiles, Tile{Z: z, X: x, Y: y, Data: []byte(body)})
				want[[3]uint32{uint32(z), x, y}] = body
			}
		}
	}
	var buf bytes.Buffer
	info := Info{MinZoom: 0, MaxZoom: 7, Bounds: [4]float64{-180, -85, 180, 85}, Center: [3]float64{-73.1, 46.05, 3}}
	if err := Write(&buf, tiles, info, map[string]any{"name": "test"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.pmtiles")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.h.LeafDirectoryLength == 0 {
		t.Errorf("%d tiles and no leaf directory: the leaf path is not tested", len(tiles))
	}
	if got := a.Info(); got != info {
		t.Errorf("info %+v, want %+v", got, info)
	}
	for k, body := range want {
		data, gz, err := a.Tile(uint8(k[0]), k[1], k[2])
		if err != nil || !gz {
			t.Fatalf("tile %v: gzipped %v, %v", k, gz, err)
		}
		if got := string(gunzip(t, data)); got != body {
			t.Fatalf("tile %v = %q, want %q", k, got, body)
		}
	}
	for _, k := range [][3]uint32{{8, 0, 0}, {3, 8, 0}, {3, 0, 8}} {
		if data, _, err := a.Tile(uint8(k[0]), k[1], k[2]); data != nil || err != nil {
			t.Errorf("tile %v outside the archive: %d bytes, %v", k, len(data), err)
		}
	}
	// The same tiles in another order give the same bytes.
	var again bytes.Buffer
	rev := make([]Tile, len(tiles))
	for i, tl := range tiles {
		rev[len(tiles)-1-i] = tl
	}
	if err := Write(&again, rev, info, map[string]any{"name": "test"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Error("the same tiles in another order wrote other bytes")
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string][]byte{
		"empty":       nil,
		"not pmtiles": bytes.Repeat([]byte("x"), 200),
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, body, 0o644)
		if a, err := Open(path); err == nil {
			a.Close()
			t.Errorf("%s: opened", name)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.pmtiles")); err == nil {
		t.Error("a missing file opened")
	}
}
