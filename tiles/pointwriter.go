package tiles

import (
	"math/bits"
	"strconv"
)

// pointWriter encodes one MVT layer of point features straight to protobuf
// (vector_tile.proto, version 2). The requests and clusters layers go
// through it rather than orb's general encoder, which spends most of a
// tile's time building and sorting a property map per feature: here the
// values of an entry are computed once when it is indexed (as fvals: 16
// bytes, no pointers), and a tile only numbers the distinct ones. Tests decode its output with orb's
// encoding/mvt.
//
// A Tiler keeps used writers in a pool (reset clears them), so a render
// allocates little besides the tile it returns.
type pointWriter struct {
	keys    []string
	keyIdx  map[string]uint32
	fvals   []fval // the layer's values, numbered by fv
	fvalIdx fvalTable
	dict    *valueDict // of the fDictStr values
	ctrs    *counters  // of the fCtrName values
	feats   []byte
	tags    []uint32
	layer   []byte
}

func newPointWriter() *pointWriter {
	return &pointWriter{keyIdx: map[string]uint32{}}
}

// reset empties the writer for the next tile, keeping its memory unless a
// huge tile grew it.
func (w *pointWriter) reset() {
	const keep = 1 << 20
	if cap(w.feats) > keep || len(w.fvalIdx.idx) > keep/16 {
		*w = *newPointWriter()
		return
	}
	clear(w.keys)
	w.keys, w.fvals, w.feats, w.tags, w.layer = w.keys[:0], w.fvals[:0], w.feats[:0], w.tags[:0], w.layer[:0]
	w.dict, w.ctrs = nil, nil
	clear(w.keyIdx)
	w.fvalIdx.reset()
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

// fv numbers a value of the layer.
func (w *pointWriter) fv(v fval) uint32 {
	slot := w.fvalIdx.find(v, w.fvals)
	if i := w.fvalIdx.idx[slot]; i != 0 {
		return i - 1
	}
	i := uint32(len(w.fvals))
	w.fvals = append(w.fvals, v)
	w.fvalIdx.idx[slot] = i + 1
	if w.fvalIdx.grow(len(w.fvals)) {
		for j, v := range w.fvals {
			w.fvalIdx.idx[w.fvalIdx.find(v, w.fvals)] = uint32(j) + 1
		}
	}
	return i
}

// fvalTable numbers the fvals of a tile: open addressing with linear
// probing over 16-byte keys, several times cheaper than a Go map here
// (a zoom 16 tile numbers some 6,000 values). idx holds index+1 into the
// writer's fvals, 0 for an empty slot.
type fvalTable struct {
	idx []uint32
}

func (t *fvalTable) find(v fval, vals []fval) int {
	if len(t.idx) == 0 {
		t.idx = make([]uint32, 1024)
	}
	mask := len(t.idx) - 1
	h := (v[0]*0x9E3779B97F4A7C15 ^ v[1]) * 0xBF58476D1CE4E5B9
	for i := int(h>>32) & mask; ; i = (i + 1) & mask {
		if j := t.idx[i]; j == 0 || vals[j-1] == v {
			return i
		}
	}
}

// grow doubles the table when n entries fill more than half of it and
// reports whether it did (the caller then reinserts every entry).
func (t *fvalTable) grow(n int) bool {
	if 2*n <= len(t.idx) {
		return false
	}
	t.idx = make([]uint32, 2*len(t.idx))
	return true
}

func (t *fvalTable) reset() { clear(t.idx) }

// begin starts a feature; add its properties with prop, then end it.
func (w *pointWriter) begin() { w.tags = w.tags[:0] }

func (w *pointWriter) prop(k uint32, v fval) { w.tags = append(w.tags, k, w.fv(v)) }

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
	layer := appendVarint(append(w.layer[:0], 15<<3), 2) // version
	layer = appendBytes(layer, 1, name)
	layer = append(layer, w.feats...)
	for _, k := range w.keys {
		layer = appendBytes(layer, 3, k)
	}
	var digits [20]byte
	for _, v := range w.fvals {
		var vb []byte
		switch v[0] {
		case fInt:
			vb = intValue(digits[:0], int64(v[1]))
		case fBool:
			vb = appendVarint(append(digits[:0], 7<<3), v[1])
		case fNumStr:
			vb = strconv.AppendUint(digits[:0], v[1], 10)
			layer = appendVarint(append(layer, 4<<3|2), uint64(len(vb)+2)) // a Value of one short string
			layer = appendVarint(append(layer, 1<<3|2), uint64(len(vb)))
			layer = append(layer, vb...)
			continue
		case fDictStr, fCtrName:
			var s string
			if v[0] == fDictStr {
				s = w.dict.strs[v[1]]
			} else {
				s = w.ctrs.names[v[1]].name
			}
			layer = appendVarint(append(layer, 4<<3|2), uint64(1+varintLen(uint64(len(s)))+len(s)))
			layer = appendBytes(layer, 1, s)
			continue
		}
		layer = appendVarint(append(layer, 4<<3|2), uint64(len(vb)))
		layer = append(layer, vb...)
	}
	layer = appendVarint(append(layer, 5<<3), Extent)
	w.layer = layer
	out := make([]byte, 0, len(layer)+varintLen(uint64(len(layer)))+1)
	out = appendVarint(append(out, 3<<3|2), uint64(len(layer)))
	return append(out, layer...)
}

// intValue appends a Value message of an integer: uint_value when it is
// not negative, else sint_value.
func intValue(b []byte, i int64) []byte {
	if i >= 0 {
		return appendVarint(append(b, 5<<3), uint64(i))
	}
	return appendVarint(append(b, 6<<3), uint64(i<<1^i>>63))
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
