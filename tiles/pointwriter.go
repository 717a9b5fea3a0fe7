package tiles

import "math/bits"

// pointWriter encodes one MVT layer of point features straight to protobuf
// (vector_tile.proto, version 2). The requests and clusters layers go
// through it rather than orb's general encoder, which spends most of a
// tile's time building and sorting a property map per feature: here the
// values of an entry are computed once when it is indexed, and a tile only
// numbers the distinct ones. Tests decode its output with orb's
// encoding/mvt.
type pointWriter struct {
	keys   []string
	keyIdx map[string]uint32
	vals   []pval
	valIdx map[pval]uint32
	feats  []byte
	tags   []uint32
}

// pval is one property value: a string, an integer or a boolean.
type pval struct {
	s    string
	i    int64
	kind uint8
}

const (
	kString uint8 = iota
	kInt
	kBool
)

func sval(s string) pval { return pval{s: s, kind: kString} }
func ival(i int64) pval  { return pval{i: i, kind: kInt} }

func newPointWriter() *pointWriter {
	return &pointWriter{keyIdx: map[string]uint32{}, valIdx: map[pval]uint32{}}
}

func (w *pointWriter) key(k string) uint32 {
	if i, ok := w.keyIdx[k]; ok {
		return i
	}
	i := uint32(len(w.keys))
	w.keys = append(w.keys, k)
	w.keyIdx[k] = i
	return i
}

func (w *pointWriter) val(v pval) uint32 {
	if i, ok := w.valIdx[v]; ok {
		return i
	}
	i := uint32(len(w.vals))
	w.vals = append(w.vals, v)
	w.valIdx[v] = i
	return i
}

// begin starts a feature; add its properties with prop, then end it.
func (w *pointWriter) begin() { w.tags = w.tags[:0] }

func (w *pointWriter) prop(k uint32, v pval) { w.tags = append(w.tags, k, w.val(v)) }

// end writes the feature begun last: an optional id (hasID) and one point
// in tile units.
func (w *pointWriter) end(id uint64, hasID bool, x, y float64) {
	var body [64]byte
	b := body[:0]
	if hasID {
		b = appendVarint(append(b, 1<<3), id)
	}
	if len(w.tags) > 0 {
		n := 0
		for _, t := range w.tags {
			n += varintLen(uint64(t))
		}
		b = appendVarint(append(b, 2<<3|2), uint64(n))
		for _, t := range w.tags {
			b = appendVarint(b, uint64(t))
		}
	}
	b = append(b, 3<<3, 1) // type POINT
	xi, yi := int32(x), int32(y)
	cmd := uint64(1<<3 | 1) // MoveTo, count 1
	zx, zy := uint64(uint32(xi<<1^xi>>31)), uint64(uint32(yi<<1^yi>>31))
	b = appendVarint(append(b, 4<<3|2), uint64(varintLen(cmd)+varintLen(zx)+varintLen(zy)))
	b = appendVarint(appendVarint(appendVarint(b, cmd), zx), zy)
	w.feats = appendVarint(append(w.feats, 2<<3|2), uint64(len(b)))
	w.feats = append(w.feats, b...)
}

// tile returns the whole tile (one layer), or an empty slice when no
// feature was written.
func (w *pointWriter) tile(name string) []byte {
	if len(w.feats) == 0 {
		return []byte{}
	}
	layer := make([]byte, 0, len(w.feats)+64*len(w.vals)+16*len(w.keys)+32)
	layer = appendVarint(append(layer, 15<<3), 2) // version
	layer = appendBytes(layer, 1, name)
	layer = append(layer, w.feats...)
	for _, k := range w.keys {
		layer = appendBytes(layer, 3, k)
	}
	for _, v := range w.vals {
		var vb []byte
		switch v.kind {
		case kString:
			vb = appendBytes(nil, 1, v.s)
		case kInt:
			if v.i >= 0 {
				vb = appendVarint([]byte{5 << 3}, uint64(v.i)) // uint_value
			} else {
				vb = appendVarint([]byte{6 << 3}, uint64(v.i<<1^v.i>>63)) // sint_value
			}
		case kBool:
			vb = appendVarint([]byte{7 << 3}, uint64(v.i))
		}
		layer = appendVarint(append(layer, 4<<3|2), uint64(len(vb)))
		layer = append(layer, vb...)
	}
	layer = appendVarint(append(layer, 5<<3), Extent)
	out := make([]byte, 0, len(layer)+8)
	out = appendVarint(append(out, 3<<3|2), uint64(len(layer)))
	return append(out, layer...)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func varintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

func appendBytes(b []byte, field int, s string) []byte {
	b = appendVarint(append(b, byte(field<<3|2)), uint64(len(s)))
	return append(b, s...)
}
