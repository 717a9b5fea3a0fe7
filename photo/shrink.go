package photo

import (
	"image"
	"image/color"
)

// shrink returns src reduced by the integer factor k, each output pixel
// the average of a k×k block (the last w%k columns and h%k rows, fewer
// than k pixels, are dropped), composited over white. Averaging in
// premultiplied alpha keeps transparent pixels' colour out of the result.
func shrink(src image.Image, k int) *image.RGBA {
	b := src.Bounds()
	dw, dh := b.Dx()/k, b.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	sums := make([]uint64, 4*dw) // premultiplied 16-bit R, G, B, A per output column
	px := pixelReader(src)
	n := uint64(k * k)
	for dy := 0; dy < dh; dy++ {
		clear(sums)
		for sy := b.Min.Y + dy*k; sy < b.Min.Y+(dy+1)*k; sy++ {
			for dx := 0; dx < dw; dx++ {
				s := sums[4*dx : 4*dx+4]
				for sx := b.Min.X + dx*k; sx < b.Min.X+(dx+1)*k; sx++ {
					r, g, bl, a := px(sx, sy)
					s[0] += uint64(r)
					s[1] += uint64(g)
					s[2] += uint64(bl)
					s[3] += uint64(a)
				}
			}
		}
		row := dst.Pix[dy*dst.Stride:]
		for dx := 0; dx < dw; dx++ {
			s := sums[4*dx : 4*dx+4]
			white := 0xFFFF - s[3]/n // over white: c + (1 - α)
			row[4*dx+0] = uint8((s[0]/n + white) >> 8)
			row[4*dx+1] = uint8((s[1]/n + white) >> 8)
			row[4*dx+2] = uint8((s[2]/n + white) >> 8)
			row[4*dx+3] = 0xFF
		}
	}
	return dst
}

// pixelReader returns a function reading src's pixel at (x, y) as 16-bit
// premultiplied RGBA, without the interface call and allocation of At for
// the types decoders return most.
func pixelReader(src image.Image) func(x, y int) (r, g, b, a uint32) {
	switch m := src.(type) {
	case *image.YCbCr: // every JPEG in colour
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			r, g, b := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			return uint32(r) * 0x101, uint32(g) * 0x101, uint32(b) * 0x101, 0xFFFF
		}
	case *image.RGBA:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			p := m.Pix[m.PixOffset(x, y):]
			return uint32(p[0]) * 0x101, uint32(p[1]) * 0x101, uint32(p[2]) * 0x101, uint32(p[3]) * 0x101
		}
	case *image.NRGBA: // PNG with transparency
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			p := m.Pix[m.PixOffset(x, y):]
			a := uint32(p[3]) * 0x101
			return uint32(p[0]) * a / 0xFF, uint32(p[1]) * a / 0xFF, uint32(p[2]) * a / 0xFF, a
		}
	}
	return func(x, y int) (uint32, uint32, uint32, uint32) { return src.At(x, y).RGBA() }
}
