package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/pinward/pinward/i18n"
)

// checkClean fails unless out is a JPEG with no APP segment, no comment
// and none of the secrets the test inputs carry.
func checkClean(t *testing.T, out []byte) {
	t.Helper()
	for _, m := range jpegMarkers(t, out) {
		if m >= 0xE0 && m <= 0xEF || m == 0xFE {
			t.Errorf("output carries marker FF%X (APPn or comment)", m)
		}
	}
	for _, s := range []string{"Exif", xmpNamespace, "xmpmeta", secretMake, secretSerial, secretXMP, "MM\x00*", "II*\x00"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("output contains %q", s)
		}
	}
}

func decodeOut(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return img
}

// A phone's portrait JPEG: stored sideways with orientation 6, EXIF with
// GPS and a serial number, XMP and a comment. What comes out is upright
// and carries none of it.
func TestJPEGWithEXIFGPSAndXMP(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		in := withMetadata(encodeJPEG(t, markedImage(64, 32)), bo, OrientRotate90CW)
		// The input really carries what must be removed.
		for _, s := range []string{"Exif\x00\x00", xmpNamespace, secretMake, secretSerial, secretXMP} {
			if !bytes.Contains(in, []byte(s)) {
				t.Fatalf("test input lacks %q", s)
			}
		}
		if c, err := jpeg.DecodeConfig(bytes.NewReader(in)); err != nil || c.Width != 64 || c.Height != 32 {
			t.Fatalf("test input: %v %+v", err, c)
		}

		p, err := Process(in)
		if err != nil {
			t.Fatalf("%v: %v", bo, err)
		}
		if p.Orientation != OrientRotate90CW {
			t.Errorf("orientation read %d, want 6", p.Orientation)
		}
		checkClean(t, p.JPEG)
		checkClean(t, p.Thumb)

		img := decodeOut(t, p.JPEG)
		if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 64 || p.Width != 32 || p.Height != 64 {
			t.Fatalf("output is %v (%d×%d), want 32×64 (turned)", b, p.Width, p.Height)
		}
		// Turning 90° clockwise takes the stored top-left corner to the
		// top-right and the bottom-right to the bottom-left.
		if c := img.At(28, 4); !near(c, red) {
			t.Errorf("top-right is %v, want red", c)
		}
		if c := img.At(3, 60); !near(c, green) {
			t.Errorf("bottom-left is %v, want green", c)
		}
		for _, pt := range []image.Point{{3, 4}, {28, 60}} {
			if c := img.At(pt.X, pt.Y); !near(c, blue) {
				t.Errorf("%v is %v, want blue", pt, c)
			}
		}
	}
}

func TestAllEightOrientations(t *testing.T) {
	// Where the stored red top-left block (of a 64×32 image) must be once
	// upright, as a fraction of the output's width and height.
	cases := []struct {
		o          Orientation
		w, h       int
		redX, redY int // a point inside the red block of the output
	}{
		{OrientNormal, 64, 32, 4, 4},
		{OrientFlipH, 64, 32, 60, 4},
		{OrientRotate180, 64, 32, 60, 28},
		{OrientFlipV, 64, 32, 4, 28},
		{OrientTranspose, 32, 64, 4, 4},
		{OrientRotate90CW, 32, 64, 28, 4},
		{OrientTransverse, 32, 64, 28, 60},
		{OrientRotate90CCW, 32, 64, 4, 60},
	}
	for _, c := range cases {
		in := withMetadata(encodeJPEG(t, markedImage(64, 32)), binary.LittleEndian, c.o)
		p, err := Process(in)
		if err != nil {
			t.Fatalf("orientation %d: %v", c.o, err)
		}
		img := decodeOut(t, p.JPEG)
		if img.Bounds().Dx() != c.w || img.Bounds().Dy() != c.h {
			t.Errorf("orientation %d: %v, want %d×%d", c.o, img.Bounds(), c.w, c.h)
			continue
		}
		if px := img.At(c.redX, c.redY); !near(px, red) {
			t.Errorf("orientation %d: (%d,%d) is %v, want red", c.o, c.redX, c.redY, px)
		}
		// The red block is in one corner only.
		reds := 0
		for _, pt := range []image.Point{{3, 3}, {c.w - 4, 3}, {3, c.h - 4}, {c.w - 4, c.h - 4}} {
			if near(img.At(pt.X, pt.Y), red) {
				reds++
			}
		}
		if reds != 1 {
			t.Errorf("orientation %d: red in %d corners", c.o, reds)
		}
	}
}

func TestBrokenOrientationIsIgnored(t *testing.T) {
	jpg := encodeJPEG(t, markedImage(64, 32))
	for name, in := range map[string][]byte{
		"out of range": withMetadata(jpg, binary.LittleEndian, 9),
		"zero":         withMetadata(jpg, binary.LittleEndian, 0),
		"bad TIFF": append(append(append([]byte{}, jpg[:2]...),
			segment(0xE1, []byte("Exif\x00\x00XX*\x00\x08\x00\x00\x00"))...), jpg[2:]...),
		"IFD past the end": append(append(append([]byte{}, jpg[:2]...),
			segment(0xE1, []byte("Exif\x00\x00II*\x00\xff\xff\x00\x00"))...), jpg[2:]...),
	} {
		p, err := Process(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Orientation != OrientNormal || p.Width != 64 || p.Height != 32 {
			t.Errorf("%s: orientation %d, %d×%d", name, p.Orientation, p.Width, p.Height)
		}
	}
}

// A transparent PNG with an eXIf chunk: orientation 8 applied, the
// transparent part white (not black), the EXIF gone.
func TestPNG(t *testing.T) {
	img := markedImage(64, 32)
	for y := 0; y < 32; y++ {
		for x := 32; x < 48; x++ {
			img.Pix[img.PixOffset(x, y)+3] = 0 // transparent
			img.Pix[img.PixOffset(x, y)+0] = 0
			img.Pix[img.PixOffset(x, y)+1] = 0
			img.Pix[img.PixOffset(x, y)+2] = 0
		}
	}
	in := withPNGEXIF(encodePNG(t, img), OrientRotate90CCW)
	if !bytes.Contains(in, []byte(secretSerial)) {
		t.Fatal("test input lacks the EXIF")
	}
	p, err := Process(in)
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, p.JPEG)
	out := decodeOut(t, p.JPEG)
	if out.Bounds().Dx() != 32 || out.Bounds().Dy() != 64 {
		t.Fatalf("output %v, want 32×64", out.Bounds())
	}
	// Turned 90° counter-clockwise: stored top-left goes bottom-left;
	// stored columns 32–47 become rows 16–31.
	if c := out.At(4, 60); !near(c, red) {
		t.Errorf("bottom-left is %v, want red", c)
	}
	if c := out.At(16, 24); !near(c, whiteRGBA) {
		t.Errorf("transparent part is %v, want white", c)
	}
}

var whiteRGBA = color.RGBA{255, 255, 255, 255}

func TestWebP(t *testing.T) {
	// exif6.webp: cwebp's lossy encoding of the 64×32 marked JPEG with its
	// EXIF (orientation 6, GPS, serial) kept in a WebP EXIF chunk.
	in, err := os.ReadFile("testdata/exif6.webp")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(in, []byte(secretSerial)) {
		t.Fatal("exif6.webp lacks its EXIF")
	}
	p, err := Process(in)
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, p.JPEG)
	img := decodeOut(t, p.JPEG)
	if img.Bounds().Dx() != 32 || img.Bounds().Dy() != 64 {
		t.Fatalf("output %v, want 32×64", img.Bounds())
	}
	if c := img.At(28, 4); !near(c, red) {
		t.Errorf("top-right is %v, want red", c)
	}

	// alpha-lossless.webp: lossless, with a transparent band at x 32–47.
	in, err = os.ReadFile("testdata/alpha-lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	p, err = Process(in)
	if err != nil {
		t.Fatal(err)
	}
	img = decodeOut(t, p.JPEG)
	if img.Bounds().Dx() != 64 || img.Bounds().Dy() != 32 {
		t.Fatalf("output %v, want 64×32", img.Bounds())
	}
	if c := img.At(40, 16); !near(c, whiteRGBA) {
		t.Errorf("transparent band is %v, want white", c)
	}
	if c := img.At(4, 4); !near(c, red) {
		t.Errorf("top-left is %v, want red", c)
	}
}

func TestScaledAndThumbnail(t *testing.T) {
	in := encodePNG(t, markedImage(3000, 1000))
	p, err := Process(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 2048 || p.Height != 682 {
		t.Errorf("photo %d×%d, want 2048×682", p.Width, p.Height)
	}
	if p.ThumbWidth != 320 || p.ThumbHeight != 106 {
		t.Errorf("thumbnail %d×%d, want 320×106", p.ThumbWidth, p.ThumbHeight)
	}
	for _, b := range [][]byte{p.JPEG, p.Thumb} {
		c, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if c.Width != 2048 && c.Width != 320 {
			t.Errorf("encoded width %d", c.Width)
		}
	}
	thumb := decodeOut(t, p.Thumb)
	if c := thumb.At(10, 10); !near(c, red) {
		t.Errorf("thumbnail top-left %v, want red", c)
	}
	if c := thumb.At(310, 100); !near(c, green) {
		t.Errorf("thumbnail bottom-right %v, want green", c)
	}

	// A small photo is not scaled up.
	p, err = Process(encodePNG(t, markedImage(100, 50)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 100 || p.Height != 50 || p.ThumbWidth != 100 {
		t.Errorf("small photo became %d×%d, thumbnail %d wide", p.Width, p.Height, p.ThumbWidth)
	}
}

// refused checks that err is an *i18n.Error of kind k about the media
// field, with both languages, the English one containing want.
func refused(t *testing.T, err error, k i18n.Kind, want string) {
	t.Helper()
	var e *i18n.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *i18n.Error", err, err)
	}
	if e.Kind != k || e.Field != Field {
		t.Errorf("kind %q field %q, want %q %q", e.Kind, e.Field, k, Field)
	}
	if e.Message.En == "" || e.Message.Fr == "" || e.Message.En == e.Message.Fr {
		t.Errorf("message not bilingual: %+v", e.Message)
	}
	if !strings.Contains(e.Message.En, want) {
		t.Errorf("message %q lacks %q", e.Message.En, want)
	}
}

func TestHEICRefused(t *testing.T) {
	// The first box of an iPhone photo: ftyp, major brand heic.
	heic := append([]byte{0, 0, 0, 0x18}, "ftypheic\x00\x00\x00\x00mif1heic"...)
	heic = append(heic, make([]byte, 64)...)
	_, err := Process(heic)
	refused(t, err, KindUnsupported, "HEIC")

	// A HEIF whose major brand is the generic mif1.
	mif1 := append([]byte{0, 0, 0, 0x18}, "ftypmif1\x00\x00\x00\x00mif1heix"...)
	_, err = Process(mif1)
	refused(t, err, KindUnsupported, "HEIC")

	avif := append([]byte{0, 0, 0, 0x1c}, "ftypavif\x00\x00\x00\x00avifmif1miaf"...)
	_, err = Process(avif)
	refused(t, err, KindUnsupported, "AVIF")
}

func TestOtherTypesRefused(t *testing.T) {
	cases := map[string][]byte{
		"GIF":  []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"SVG":  []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`),
		"HTML": []byte("<!doctype html><p>hello"),
		"PDF":  []byte("%PDF-1.7\n"),
		"MP4":  append([]byte{0, 0, 0, 0x18}, "ftypisom\x00\x00\x00\x00isomiso2"...),
	}
	for name, b := range cases {
		_, err := Process(b)
		want := "not a photo pinward accepts"
		if name == "GIF" {
			want = "GIF"
		}
		t.Run(name, func(t *testing.T) { refused(t, err, KindUnsupported, want) })
	}
	_, err := Process(nil)
	refused(t, err, i18n.Invalid, "empty")
}

// A 100,000 × 100,000 PNG header (10 gigapixels, 40 GB once decoded) in a
// file of a few dozen bytes is refused from its header.
func TestDecompressionBombRefused(t *testing.T) {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 100_000)
	binary.BigEndian.PutUint32(ihdr[4:], 100_000)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	bomb := append([]byte{}, magicPNG...)
	bomb = append(bomb, pngChunk("IHDR", ihdr)...)
	bomb = append(bomb, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	bomb = append(bomb, pngChunk("IEND", nil)...)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Process(bomb)
	runtime.ReadMemStats(&after)
	refused(t, err, i18n.TooLarge, "100000 × 100000")
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes: it was decoded", n)
	}

	// The pixel limit is configurable.
	l := DefaultLimits()
	l.MaxPixels = 1000
	_, err = l.Process(encodePNG(t, markedImage(40, 30)))
	refused(t, err, i18n.TooLarge, "megapixels")
}

func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

func TestTruncatedJPEGRefused(t *testing.T) {
	jpg := withMetadata(encodeJPEG(t, markedImage(64, 32)), binary.BigEndian, OrientRotate90CW)
	for _, n := range []int{len(jpg) / 2, len(jpg) - 40, 300} {
		_, err := Process(jpg[:n])
		refused(t, err, i18n.Invalid, "incomplete")
	}
	// Cut inside the headers: the header itself is unreadable.
	_, err := Process(jpg[:20])
	refused(t, err, i18n.Invalid, "")
}

func TestByteLimit(t *testing.T) {
	l := DefaultLimits()
	l.MaxBytes = 1 << 20
	big := append(encodeJPEG(t, markedImage(64, 32)), make([]byte, 1<<20)...)
	_, err := l.Process(big)
	refused(t, err, i18n.TooLarge, "1 MB")

	_, err = l.Read(bytes.NewReader(big))
	refused(t, err, i18n.TooLarge, "1 MB")
	b, err := l.Read(bytes.NewReader(big[:1000]))
	if err != nil || len(b) != 1000 {
		t.Errorf("Read under the limit: %d bytes, %v", len(b), err)
	}
}

func TestCheckCount(t *testing.T) {
	for n := 0; n <= MaxPerRequest; n++ {
		if err := CheckCount(n); err != nil {
			t.Errorf("CheckCount(%d) = %v", n, err)
		}
	}
	refused(t, CheckCount(MaxPerRequest+1), i18n.TooLarge, "at most 3 photos")
}

// Reducing a one-pixel checkerboard must give grey (area averaging), not
// black, white or moiré (what sampling every other pixel gives); a
// transparent half comes out white, not black.
func TestLargeReductionAverages(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 1000, 1000))
	for y := 0; y < 1000; y++ {
		for x := 0; x < 1000; x++ {
			c := color.NRGBA{0, 0, 0, 255}
			if (x+y)%2 == 0 {
				c = color.NRGBA{255, 255, 255, 255}
			}
			if y >= 500 {
				c = color.NRGBA{255, 0, 0, 0} // transparent red: must not show
			}
			img.SetNRGBA(x, y, c)
		}
	}
	l := DefaultLimits()
	l.MaxSide, l.ThumbSide = 256, 64
	p, err := l.Process(encodePNG(t, img))
	if err != nil {
		t.Fatal(err)
	}
	out := decodeOut(t, p.JPEG)
	if out.Bounds().Dx() != 256 || out.Bounds().Dy() != 256 {
		t.Fatalf("output %v", out.Bounds())
	}
	for y := 4; y < 124; y += 7 {
		for x := 4; x < 252; x += 7 {
			r, g, b, _ := out.At(x, y).RGBA()
			if abs(int(r>>8)-128) > 30 || abs(int(g>>8)-128) > 30 || abs(int(b>>8)-128) > 30 {
				t.Fatalf("checkerboard at (%d,%d) became %d,%d,%d, want grey", x, y, r>>8, g>>8, b>>8)
			}
		}
	}
	for y := 132; y < 252; y += 7 {
		for x := 4; x < 252; x += 7 {
			if c := out.At(x, y); !near(c, whiteRGBA) {
				t.Fatalf("transparent half at (%d,%d) is %v, want white", x, y, c)
			}
		}
	}
}

// A JPEG repeating its scan hundreds of times (each scan makes the decoder
// walk the whole image again) is refused before decoding; a real one,
// with its single scan, is not.
func TestTooManyScansRefused(t *testing.T) {
	jpg := encodeJPEG(t, markedImage(64, 32))
	sos := bytes.Index(jpg, []byte{0xFF, 0xDA})
	eoi := bytes.LastIndex(jpg, []byte{0xFF, 0xD9})
	if n := jpegScans(jpg); n != 1 {
		t.Fatalf("baseline JPEG counted %d scans", n)
	}
	if n := jpegScans(withMetadata(jpg, binary.BigEndian, OrientRotate90CW)); n != 1 {
		t.Fatalf("JPEG with metadata counted %d scans", n)
	}
	bomb := append([]byte{}, jpg[:sos]...)
	for i := 0; i < maxScans+1; i++ {
		bomb = append(bomb, jpg[sos:eoi]...)
	}
	bomb = append(bomb, 0xFF, 0xD9)
	if n := jpegScans(bomb); n != maxScans+1 {
		t.Fatalf("counted %d scans, want %d", n, maxScans+1)
	}
	_, err := Process(bomb)
	refused(t, err, i18n.Invalid, "damaged")
	var e *i18n.Error
	if errors.As(err, &e) && !strings.Contains(e.Err.Error(), "scans") {
		t.Errorf("cause %v", e.Err)
	}
}
