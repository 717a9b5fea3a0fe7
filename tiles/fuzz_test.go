package tiles

import (
	"errors"
	"testing"

	"github.com/pinward/pinward/i18n"
)

// FuzzParseTile feeds arbitrary tile addresses to ParseTile: nothing
// panics, a refusal is a bilingual NotFound or Invalid, and an accepted
// tile exists (zoom at most MaxZoom, x and y below 2^z). Seeds:
// testdata/fuzz/FuzzParseTile.
func FuzzParseTile(f *testing.F) {
	f.Add(LayerRequests, "0", "0", "0", "mvt")
	f.Add(LayerWards, "14", "4823", "5839", "mvt")
	f.Add(LayerAssets, "22", "4194304", "0", "mvt")
	f.Add(LayerClusters, "-1", "+1", "0x1", "pbf")
	f.Fuzz(func(t *testing.T, layer, z, x, y, ext string) {
		tile, err := ParseTile(layer, z, x, y, ext)
		if err != nil {
			var e *i18n.Error
			if !errors.As(err, &e) || (e.Kind != i18n.NotFound && e.Kind != i18n.Invalid) || e.Message.En == "" || e.Message.Fr == "" {
				t.Fatalf("refusal %v is not a bilingual NotFound or Invalid", err)
			}
			return
		}
		if tile.Z > MaxZoom || uint64(tile.X) >= 1<<tile.Z || uint64(tile.Y) >= 1<<tile.Z {
			t.Fatalf("accepted %q/%q/%q as %+v", z, x, y, tile)
		}
	})
}
