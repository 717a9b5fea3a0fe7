package photo

import (
	"image"
	"image/color"
	"testing"
)

// benchPhoto is a w×h JPEG of smooth gradients with some detail, roughly
// what a phone writes.
func benchPhoto(b *testing.B, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 0xFF), 255})
		}
	}
	return encodeJPEG(b, img)
}

// BenchmarkProcess12MP: a 4000×3000 phone photo to 2048 px and a thumbnail.
func BenchmarkProcess12MP(b *testing.B) {
	in := benchPhoto(b, 4000, 3000)
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Process(in); err != nil {
			b.Fatal(err)
		}
	}
}
