package photo

import (
	"bytes"
	"errors"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/pinward/pinward/i18n"
)

// FuzzProcess feeds Process arbitrary bytes: it must never panic, refuse
// only with a bilingual *i18n.Error of a kind the API maps to a 4xx, and
// whatever it accepts must come out as a clean JPEG within the limits.
// Seeds: testdata/fuzz/FuzzProcess (photos with EXIF, a HEIC header, a
// bomb, a truncated JPEG) and the WebP files in testdata.
func FuzzProcess(f *testing.F) {
	webps, _ := filepath.Glob("testdata/*.webp")
	for _, name := range webps {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	l := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 256, ThumbSide: 64, Quality: 80}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := l.Process(data)
		if err != nil {
			var e *i18n.Error
			if !errors.As(err, &e) {
				t.Fatalf("refusal %v is not an *i18n.Error", err)
			}
			switch e.Kind {
			case i18n.Invalid, i18n.TooLarge, KindUnsupported:
			default:
				t.Fatalf("refusal of kind %q", e.Kind)
			}
			if e.Message.En == "" || e.Message.Fr == "" {
				t.Fatalf("refusal not bilingual: %+v", e.Message)
			}
			return
		}
		for _, out := range []struct {
			b    []byte
			w, h int
			side int
		}{{p.JPEG, p.Width, p.Height, l.MaxSide}, {p.Thumb, p.ThumbWidth, p.ThumbHeight, l.ThumbSide}} {
			c, err := jpeg.DecodeConfig(bytes.NewReader(out.b))
			if err != nil {
				t.Fatalf("output does not decode: %v", err)
			}
			if c.Width != out.w || c.Height != out.h || c.Width > out.side || c.Height > out.side || c.Width < 1 || c.Height < 1 {
				t.Fatalf("output %d×%d, said %d×%d, limit %d", c.Width, c.Height, out.w, out.h, out.side)
			}
			checkClean(t, out.b)
		}
	})
}
