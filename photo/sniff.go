package photo

import (
	"bytes"
	"encoding/binary"
)

// format is what a file's first bytes say it is; its extension and the
// client's Content-Type are never trusted.
type format int

const (
	formatUnknown format = iota
	formatJPEG
	formatPNG
	formatWebP
	formatHEIF // HEIC/HEIF: recognised so the refusal can say what to do
	formatAVIF
	formatGIF
)

var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
)

// heifBrands are the ISO BMFF brands of HEIC/HEIF stills and sequences
// (ISO/IEC 23008-12). mif1/msf1 are the generic image brands, also used
// by AVIF, which is why avif/avis are checked first.
var heifBrands = map[string]bool{
	"heic": true, "heix": true, "heim": true, "heis": true,
	"hevc": true, "hevx": true, "hevm": true, "hevs": true,
	"heif": true, "mif1": true, "msf1": true,
}

func sniff(b []byte) format {
	switch {
	case bytes.HasPrefix(b, magicJPEG):
		return formatJPEG
	case bytes.HasPrefix(b, magicPNG):
		return formatPNG
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	}
	return sniffISOBMFF(b)
}

// sniffISOBMFF reads the ftyp box at the start of an ISO BMFF file (the
// container of HEIC and AVIF): its major brand, then its compatible brands.
func sniffISOBMFF(b []byte) format {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return formatUnknown
	}
	size := int(binary.BigEndian.Uint32(b[0:4]))
	if size < 16 || size > len(b) {
		size = len(b)
	}
	brands := []string{string(b[8:12])} // major brand; b[12:16] is its version
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(b[i:i+4]))
	}
	for _, br := range brands {
		if br == "avif" || br == "avis" {
			return formatAVIF
		}
	}
	for _, br := range brands {
		if heifBrands[br] {
			return formatHEIF
		}
	}
	return formatUnknown
}

// maxScans bounds the scans of a JPEG. Encoders write 1 (baseline) to
// about 10 (progressive); each scan makes a decoder walk every block of
// the image again, so a few megabytes of near-empty scans would cost
// minutes of CPU (libjpeg-turbo bounds them too, with -maxscan).
const maxScans = 100

// jpegScans counts the start-of-scan markers of a JPEG, walking the
// marker segments and skipping each scan's entropy-coded data (where
// 0xFF is always followed by 0x00 or a restart marker).
func jpegScans(b []byte) int {
	scans := 0
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return scans
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD9: // end of image
			return scans
		case m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7):
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2 : i+4]))
		i += 2 + n
		if m != 0xDA {
			continue
		}
		scans++
		// Entropy-coded data runs to the next marker that is not a
		// stuffed byte or a restart.
		for i+1 < len(b) && (b[i] != 0xFF || b[i+1] == 0x00 || (b[i+1] >= 0xD0 && b[i+1] <= 0xD7)) {
			i++
		}
	}
	return scans
}
