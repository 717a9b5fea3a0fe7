package photo

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

var (
	red   = color.RGBA{230, 20, 20, 255}
	blue  = color.RGBA{20, 20, 230, 255}
	green = color.RGBA{20, 200, 20, 255}
)

// markedImage is w×h blue with a red block in its top-left corner (a
// quarter of each side) and a green one in its bottom-right corner, so
// that every turn and mirror puts the red somewhere else.
func markedImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := blue
			switch {
			case x < w/4 && y < h/4:
				c = red
			case x >= w-w/4 && y >= h-h/4:
				c = green
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// near says whether c is within a JPEG's error of want.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) int { return abs(int(a>>8) - int(b)) }
	return d(r, want.R) < 50 && d(g, want.G) < 50 && d(b, want.B) < 50
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Secrets the test EXIF and XMP carry; none may reach the output.
const (
	secretMake   = "PinwardTestCam"
	secretSerial = "SN-4815162342"
	secretXMP    = "xmp-secret-creator-Tremblay"
	xmpNamespace = "http://ns.adobe.com/xap/1.0/"
)

// ifdEntry is one TIFF directory entry; data is its value in the file's
// byte order (inline when it fits in 4 bytes).
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

// ifd lays out one directory at offset base of the TIFF data, its values
// longer than 4 bytes right after it.
func ifd(bo binary.ByteOrder, base int, entries []ifdEntry) []byte {
	head := make([]byte, 2+12*len(entries)+4)
	bo.PutUint16(head, uint16(len(entries)))
	var extra []byte
	for i, e := range entries {
		p := head[2+12*i:]
		bo.PutUint16(p[0:], e.tag)
		bo.PutUint16(p[2:], e.typ)
		bo.PutUint32(p[4:], e.count)
		if len(e.data) <= 4 {
			copy(p[8:12], e.data)
			continue
		}
		bo.PutUint32(p[8:], uint32(base+len(head)+len(extra)))
		extra = append(extra, e.data...)
		if len(extra)%2 == 1 {
			extra = append(extra, 0)
		}
	}
	return append(head, extra...)
}

func short(bo binary.ByteOrder, v uint16) []byte {
	b := make([]byte, 2)
	bo.PutUint16(b, v)
	return b
}

func long(bo binary.ByteOrder, v uint32) []byte {
	b := make([]byte, 4)
	bo.PutUint32(b, v)
	return b
}

func rationals(bo binary.ByteOrder, v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = append(b, long(bo, x)...)
	}
	return b
}

// exifTIFF builds EXIF data as a phone writes it: IFD0 with the make and
// the orientation, an Exif IFD with the body serial number, and a GPS IFD
// with a position in Montréal.
func exifTIFF(bo binary.ByteOrder, o Orientation) []byte {
	header := []byte("II*\x00")
	if bo == binary.BigEndian {
		header = []byte("MM\x00*")
	}
	header = append(header, long(bo, 8)...)
	ifd0 := func(exifOff, gpsOff uint32) []byte {
		return ifd(bo, 8, []ifdEntry{
			{0x010F, 2, uint32(len(secretMake) + 1), append([]byte(secretMake), 0)},
			{tagOrientation, 3, 1, short(bo, uint16(o))},
			{0x8769, 4, 1, long(bo, exifOff)},
			{0x8825, 4, 1, long(bo, gpsOff)},
		})
	}
	exifOff := 8 + len(ifd0(0, 0))
	exif := ifd(bo, exifOff, []ifdEntry{
		{0xA431, 2, uint32(len(secretSerial) + 1), append([]byte(secretSerial), 0)},
	})
	gpsOff := exifOff + len(exif)
	gps := ifd(bo, gpsOff, []ifdEntry{
		{0x0001, 2, 2, []byte("N\x00")},
		{0x0002, 5, 3, rationals(bo, 45, 1, 30, 1, 1234, 100)},
		{0x0003, 2, 2, []byte("W\x00")},
		{0x0004, 5, 3, rationals(bo, 73, 1, 34, 1, 5678, 100)},
	})
	out := append(header, ifd0(uint32(exifOff), uint32(gpsOff))...)
	out = append(out, exif...)
	return append(out, gps...)
}

func segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

// withMetadata inserts, right after the SOI of a JPEG, an APP1 Exif
// segment, an APP1 XMP packet and a comment.
func withMetadata(jpg []byte, bo binary.ByteOrder, o Orientation) []byte {
	exif := segment(0xE1, append([]byte("Exif\x00\x00"), exifTIFF(bo, o)...))
	xmp := segment(0xE1, []byte(xmpNamespace+"\x00"+
		`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`+
		`<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="`+secretXMP+`"/></rdf:RDF></x:xmpmeta>`))
	com := segment(0xFE, []byte("comment: "+secretSerial))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, exif...)
	out = append(out, xmp...)
	out = append(out, com...)
	return append(out, jpg[2:]...)
}

// withPNGEXIF inserts an eXIf chunk right after a PNG's IHDR.
func withPNGEXIF(p []byte, o Orientation) []byte {
	data := exifTIFF(binary.LittleEndian, o)
	chunk := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(chunk, uint32(len(data)))
	copy(chunk[4:], "eXIf")
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	ihdrEnd := 8 + 8 + 13 + 4
	out := append([]byte{}, p[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, p[ihdrEnd:]...)
}

// jpegMarkers lists the markers of a JPEG up to its first scan.
func jpegMarkers(t *testing.T, b []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
		t.Fatalf("output is not a JPEG: % x", b[:min(8, len(b))])
	}
	var ms []byte
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			t.Fatalf("no marker at %d", i)
		}
		m := b[i+1]
		ms = append(ms, m)
		if m == 0xDA {
			return ms
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	t.Fatal("no start of scan")
	return nil
}
