// Package photo turns a photo a resident uploads into a safe public one: the
// type is read from the content, the size is bounded in bytes and pixels
// before anything is decoded, the EXIF orientation is applied, and the
// image is re-encoded as a plain JPEG (with a thumbnail), so that no
// metadata of the original — GPS position, camera serial, XMP, comments,
// colour profiles — can survive.
package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/pinward/pinward/i18n"
)

// MaxPerRequest is how many photos one request may carry (issue 15).
const MaxPerRequest = 3

// Field is the name of the multipart part photos come in (as FixMyStreet's
// and SeeClickFix's Open311 clients send them); errors name it.
const Field = "media"

// ContentType is the type of every photo Process returns.
const ContentType = "image/jpeg"

// KindUnsupported is the error kind of a file that is not an accepted
// image type. Its value is the api package's own kind for a body it does
// not read, which the api answers with 415.
const KindUnsupported i18n.Kind = "unsupported_media_type"

// Limits bound what Process accepts and what it makes; start from
// DefaultLimits().
type Limits struct {
	MaxBytes  int64 // size of one uploaded file
	MaxPixels int64 // width × height, read from the header before decoding
	MaxSide   int   // longest side of the public photo, in pixels
	ThumbSide int   // longest side of the thumbnail
	Quality   int   // JPEG quality of the public photo and the thumbnail, 1–100
}

// DefaultLimits are pinward's defaults: 10 MB and 40 megapixels in (a
// phone's full-resolution photo passes even when the page could not
// downsize it), 2048 px and 320 px out.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 10 << 20, MaxPixels: 40_000_000, MaxSide: 2048, ThumbSide: 320, Quality: 85}
}

// Photo is a processed photo: two JPEGs without any metadata, upright.
type Photo struct {
	JPEG          []byte // the public photo
	Width, Height int
	Thumb         []byte // the thumbnail
	ThumbWidth    int
	ThumbHeight   int
	Orientation   Orientation // the original's EXIF orientation, now applied
}

// CheckCount refuses more than MaxPerRequest photos in one request.
func CheckCount(n int) error {
	if n > MaxPerRequest {
		return i18n.Errorf(i18n.TooLarge, Field, i18n.T(
			"a request carries at most %d photos; this one has %d",
			"une demande compte au plus %d photos; celle-ci en a %d"), MaxPerRequest, n)
	}
	return nil
}

// Read reads one uploaded file, refusing it as soon as it is over
// l.MaxBytes, so that an oversized upload is never held whole in memory.
func (l Limits) Read(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, l.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read photo: %w", err)
	}
	if int64(len(b)) > l.MaxBytes {
		return nil, errTooManyBytes(l.MaxBytes)
	}
	return b, nil
}

// Process checks one uploaded file and returns its public version. Every
// refusal is an *i18n.Error naming the field "media": KindUnsupported for a
// type pinward does not take (HEIC explained), i18n.TooLarge for too many
// bytes or pixels, i18n.Invalid for a damaged file.
func (l Limits) Process(data []byte) (*Photo, error) {
	if len(data) == 0 {
		return nil, i18n.Errorf(i18n.Invalid, Field, i18n.T("the photo is empty", "la photo est vide"))
	}
	if int64(len(data)) > l.MaxBytes {
		return nil, errTooManyBytes(l.MaxBytes)
	}
	f := sniff(data)
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch f {
	case formatJPEG:
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case formatPNG:
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case formatWebP:
		decodeConfig, decode = webp.DecodeConfig, webp.Decode
	case formatHEIF:
		return nil, i18n.Errorf(KindUnsupported, Field, i18n.T(
			"HEIC photos are not accepted; send a JPEG, PNG or WebP photo (on an iPhone: Settings, Camera, Formats, Most Compatible; sharing the photo from the Photos app also sends a JPEG)",
			"les photos HEIC ne sont pas acceptées; envoyez une photo JPEG, PNG ou WebP (sur un iPhone : Réglages, Appareil photo, Formats, Le plus compatible; partager la photo depuis l'app Photos envoie aussi un JPEG)"))
	case formatAVIF:
		return nil, i18n.Errorf(KindUnsupported, Field, i18n.T(
			"AVIF images are not accepted; send a JPEG, PNG or WebP photo",
			"les images AVIF ne sont pas acceptées; envoyez une photo JPEG, PNG ou WebP"))
	case formatGIF:
		return nil, i18n.Errorf(KindUnsupported, Field, i18n.T(
			"GIF images are not accepted; send a JPEG, PNG or WebP photo",
			"les images GIF ne sont pas acceptées; envoyez une photo JPEG, PNG ou WebP"))
	default:
		return nil, i18n.Errorf(KindUnsupported, Field, i18n.T(
			"this file is not a photo pinward accepts; send a JPEG, PNG or WebP photo",
			"ce fichier n'est pas une photo que pinward accepte; envoyez une photo JPEG, PNG ou WebP"))
	}

	// The header alone says how many pixels decoding would allocate: a
	// small file may claim 100,000 × 100,000 (a decompression bomb).
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, errDamaged(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, errDamaged(fmt.Errorf("image is %d×%d", cfg.Width, cfg.Height))
	}
	if int64(cfg.Width)*int64(cfg.Height) > l.MaxPixels {
		e := i18n.Errorf(i18n.TooLarge, Field, i18n.T(
			"the photo is %d × %d pixels, more than the limit of %d megapixels",
			"la photo fait %d × %d pixels, plus que la limite de %d mégapixels"),
			cfg.Width, cfg.Height, l.MaxPixels/1_000_000)
		return nil, e
	}

	if f == formatJPEG && jpegScans(data) > maxScans {
		return nil, errDamaged(fmt.Errorf("more than %d scans", maxScans))
	}

	src, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, errDamaged(err)
	}
	o := readOrientation(data, f)

	full := orient(fit(src, l.MaxSide), o)
	thumb := fit(full, l.ThumbSide)

	p := &Photo{Width: full.Bounds().Dx(), Height: full.Bounds().Dy(),
		ThumbWidth: thumb.Bounds().Dx(), ThumbHeight: thumb.Bounds().Dy(), Orientation: o}
	q := l.Quality
	if q <= 0 || q > 100 {
		q = DefaultLimits().Quality
	}
	if p.JPEG, err = encode(full, q); err != nil {
		return nil, err
	}
	if p.Thumb, err = encode(thumb, q); err != nil {
		return nil, err
	}
	return p, nil
}

// Process processes one file with DefaultLimits.
func Process(data []byte) (*Photo, error) { return DefaultLimits().Process(data) }

// fit returns src scaled down so that its longest side is at most side,
// on an opaque white background (JPEG has no transparency, and a
// transparent PNG would otherwise turn black). It is never scaled up.
//
// Large reductions first average whole k×k blocks (shrink), which cannot
// alias and needs no more memory than its result; the remaining factor,
// under 2, is bilinear. (x/image/draw's kernel scalers keep a buffer of
// 32 bytes per destination column and source row: 200 MB for a 12 MP
// photo.)
func fit(src image.Image, side int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if side <= 0 || (w <= side && h <= side) {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Over)
		return dst
	}
	tw, th := side, max(1, int(int64(h)*int64(side)/int64(w)))
	if h > w {
		tw, th = max(1, int(int64(w)*int64(side)/int64(h))), side
	}
	if k := max(w, h) / side; k >= 2 {
		mid := shrink(src, k)
		if mid.Bounds().Dx() == tw && mid.Bounds().Dy() == th {
			return mid
		}
		dst := image.NewRGBA(image.Rect(0, 0, tw, th))
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), mid, mid.Bounds(), draw.Src, nil)
		return dst
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	return dst
}

// encode writes img as a baseline JPEG. The standard library's encoder
// writes only the image itself: no APP segment, no comment.
func encode(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode photo: %w", err)
	}
	return buf.Bytes(), nil
}

func errTooManyBytes(limit int64) error {
	if limit >= 1<<20 && limit%(1<<20) == 0 {
		return i18n.Errorf(i18n.TooLarge, Field, i18n.T(
			"the photo is larger than the limit of %d MB",
			"la photo dépasse la limite de %d Mo"), limit>>20)
	}
	return i18n.Errorf(i18n.TooLarge, Field, i18n.T(
		"the photo is larger than the limit of %d bytes",
		"la photo dépasse la limite de %d octets"), limit)
}

func errDamaged(cause error) error {
	e := i18n.Errorf(i18n.Invalid, Field, i18n.T(
		"the photo is damaged or incomplete and cannot be read; send it again",
		"la photo est endommagée ou incomplète et ne peut pas être lue; envoyez-la de nouveau"))
	e.Err = cause
	if errors.Is(cause, io.ErrUnexpectedEOF) {
		e.Message = i18n.T("the photo is incomplete (was the upload cut off?); send it again",
			"la photo est incomplète (l'envoi a-t-il été interrompu?); envoyez-la de nouveau")
	}
	return e
}
