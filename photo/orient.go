package photo

import (
	"bytes"
	"encoding/binary"
	"image"
)

// Orientation is the EXIF Orientation tag (0x0112): how the stored pixels
// must be turned to be seen upright. Phones store the sensor's rows as they
// come and set this tag instead of rotating, so a photo taken in portrait
// is stored sideways with orientation 6.
type Orientation int

// The eight orientations of the EXIF specification (CIPA DC-008), named by
// what displaying the stored image upright takes.
const (
	OrientNormal      Orientation = 1 // as stored
	OrientFlipH       Orientation = 2 // mirrored left-right
	OrientRotate180   Orientation = 3
	OrientFlipV       Orientation = 4 // mirrored top-bottom
	OrientTranspose   Orientation = 5 // mirrored left-right, then turned 90° counter-clockwise
	OrientRotate90CW  Orientation = 6
	OrientTransverse  Orientation = 7 // mirrored left-right, then turned 90° clockwise
	OrientRotate90CCW Orientation = 8
)

const tagOrientation = 0x0112

// readOrientation finds the EXIF orientation of a file of format f: the
// APP1 "Exif" segment of a JPEG, the eXIf chunk of a PNG, the EXIF chunk of
// a WebP. Anything missing, malformed or out of range is OrientNormal: a
// broken tag must never make a photo unreadable.
func readOrientation(b []byte, f format) Orientation {
	var tiff []byte
	switch f {
	case formatJPEG:
		tiff = jpegEXIF(b)
	case formatPNG:
		tiff = pngEXIF(b)
	case formatWebP:
		tiff = webpEXIF(b)
	}
	return tiffOrientation(tiff)
}

// jpegEXIF returns the TIFF data of a JPEG's first APP1 Exif segment,
// walking the marker segments up to the start of the scan.
func jpegEXIF(b []byte) []byte {
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return nil
		}
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
			i += 2 // markers without a length
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[i+2 : i+4]))
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngEXIF returns the content of a PNG's eXIf chunk (PNG 1.5 extension).
func pngEXIF(b []byte) []byte {
	i := len(magicPNG)
	for i+8 <= len(b) {
		n := int(binary.BigEndian.Uint32(b[i : i+4]))
		typ := string(b[i+4 : i+8])
		if n < 0 || i+12+n > len(b) || n > len(b) {
			return nil
		}
		if typ == "eXIf" {
			return b[i+8 : i+8+n]
		}
		if typ == "IDAT" || typ == "IEND" { // eXIf must come before the image data
			return nil
		}
		i += 12 + n // length, type, data, CRC
	}
	return nil
}

// webpEXIF returns the content of a WebP's EXIF chunk. Some writers keep
// the JPEG "Exif\0\0" prefix in it; it is dropped.
func webpEXIF(b []byte) []byte {
	i := 12 // RIFF, size, WEBP
	for i+8 <= len(b) {
		typ := string(b[i : i+4])
		n := int(binary.LittleEndian.Uint32(b[i+4 : i+8]))
		if n < 0 || n > len(b) || i+8+n > len(b) {
			return nil
		}
		if typ == "EXIF" {
			return bytes.TrimPrefix(b[i+8:i+8+n], []byte("Exif\x00\x00"))
		}
		i += 8 + n + n&1 // chunks are padded to an even size
	}
	return nil
}

// tiffOrientation reads the Orientation entry of IFD0 of TIFF-structured
// EXIF data, in either byte order.
func tiffOrientation(t []byte) Orientation {
	if len(t) < 8 {
		return OrientNormal
	}
	var bo binary.ByteOrder
	switch string(t[0:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return OrientNormal
	}
	ifd := int64(bo.Uint32(t[4:8]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return OrientNormal
	}
	count := int64(bo.Uint16(t[ifd : ifd+2]))
	for k := int64(0); k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			break
		}
		if bo.Uint16(t[e:e+2]) != tagOrientation {
			continue
		}
		// Type SHORT (3), count 1: the value sits in the first two bytes
		// of the 4-byte value field.
		if bo.Uint16(t[e+2:e+4]) != 3 || bo.Uint32(t[e+4:e+8]) != 1 {
			return OrientNormal
		}
		o := Orientation(bo.Uint16(t[e+8 : e+10]))
		if o < OrientNormal || o > OrientRotate90CCW {
			return OrientNormal
		}
		return o
	}
	return OrientNormal
}

// orient returns src turned upright according to o. Orientations 5 to 8
// swap width and height.
func orient(src *image.RGBA, o Orientation) *image.RGBA {
	if o <= OrientNormal || o > OrientRotate90CCW {
		return src
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= OrientTranspose {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		row := src.Pix[(y)*src.Stride : (y)*src.Stride+4*w]
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case OrientFlipH:
				dx, dy = w-1-x, y
			case OrientRotate180:
				dx, dy = w-1-x, h-1-y
			case OrientFlipV:
				dx, dy = x, h-1-y
			case OrientTranspose:
				dx, dy = y, x
			case OrientRotate90CW:
				dx, dy = h-1-y, x
			case OrientTransverse:
				dx, dy = h-1-y, w-1-x
			case OrientRotate90CCW:
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dy*dst.Stride+4*dx:dy*dst.Stride+4*dx+4], row[4*x:4*x+4])
		}
	}
	return dst
}
