package assets

import (
	"hash/maphash"
	"math/bits"
	"slices"
)

// trie is a persistent hash array mapped trie from asset ID to *Asset: the
// by-ID half of a layer (the R-tree is the by-place half). A change copies
// only the nodes on the path to the key, so an Upsert of k assets into a layer
// of n costs O(k log32 n) and leaves every published snapshot untouched.
// A Go map would have to be copied whole for each batch.
//
// Nodes carry the generation of the write that created them: a write may
// change its own nodes in place (so a batch or a bulk build copies each node
// at most once) and copies any node of an older generation. Generations are
// unique per Index, and published nodes are never written again.
type trie struct {
	root *tnode
	seed maphash.Seed
}

const (
	trieBits  = 5
	trieMask  = 1<<trieBits - 1
	hashWidth = 64
)

type tnode struct {
	gen    uint64
	bitmap uint32  // which of the 32 children are present
	slots  []tslot // present children, in bit order
	coll   []*Asset
}

// tslot is either a leaf (a, with its full hash) or a child node.
type tslot struct {
	child *tnode
	a     *Asset
	hash  uint64
}

// Past the last level all 64 hash bits are spent: a node at that depth is a
// collision list (coll) of IDs with identical hashes.

func (t trie) hash(id string) uint64 { return maphash.String(t.seed, id) }

func (t trie) get(id string) *Asset {
	if t.root == nil {
		return nil
	}
	return getNode(t.root, t.hash(id), id)
}

func getNode(n *tnode, h uint64, id string) *Asset {
	for shift := uint(0); n != nil; shift += trieBits {
		if shift >= hashWidth {
			for _, a := range n.coll {
				if a.ID == id {
					return a
				}
			}
			return nil
		}
		bit := uint32(1) << ((h >> shift) & trieMask)
		if n.bitmap&bit == 0 {
			return nil
		}
		s := &n.slots[bits.OnesCount32(n.bitmap&(bit-1))]
		if s.child == nil {
			if s.hash == h && s.a.ID == id {
				return s.a
			}
			return nil
		}
		n = s.child
	}
	return nil
}

// set stores a under a.ID and returns the asset it replaced, if any.
func (t *trie) set(gen uint64, a *Asset) (old *Asset) {
	h := t.hash(a.ID)
	t.root, old = setNode(t.root, gen, h, 0, a)
	return old
}

// del removes id and returns the asset removed, if any.
func (t *trie) del(gen uint64, id string) (old *Asset) {
	if t.root == nil {
		return nil
	}
	h := t.hash(id)
	t.root, old = delNode(t.root, gen, h, 0, id)
	return old
}

// each calls fn for every asset until fn returns false, and reports whether
// it ran to the end.
func (t trie) each(fn func(*Asset) bool) bool { return eachNode(t.root, fn) }

// own returns n itself when this write created it, else a copy stamped gen.
func own(n *tnode, gen uint64) *tnode {
	if n.gen == gen {
		return n
	}
	return &tnode{gen: gen, bitmap: n.bitmap, slots: slices.Clone(n.slots), coll: slices.Clone(n.coll)}
}

func setNode(n *tnode, gen, h uint64, shift uint, a *Asset) (*tnode, *Asset) {
	if n == nil {
		if shift >= hashWidth {
			return &tnode{gen: gen, coll: []*Asset{a}}, nil
		}
		return &tnode{gen: gen, bitmap: 1 << ((h >> shift) & trieMask), slots: []tslot{{a: a, hash: h}}}, nil
	}
	if shift >= hashWidth {
		for i, c := range n.coll {
			if c.ID == a.ID {
				n = own(n, gen)
				n.coll[i] = a
				return n, c
			}
		}
		n = own(n, gen)
		n.coll = append(n.coll, a)
		return n, nil
	}
	bit := uint32(1) << ((h >> shift) & trieMask)
	i := bits.OnesCount32(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		n = own(n, gen)
		n.bitmap |= bit
		n.slots = slices.Insert(n.slots, i, tslot{a: a, hash: h})
		return n, nil
	}
	s := n.slots[i]
	switch {
	case s.child != nil:
		child, old := setNode(s.child, gen, h, shift+trieBits, a)
		n = own(n, gen)
		n.slots[i] = tslot{child: child}
		return n, old
	case s.hash == h && s.a.ID == a.ID:
		n = own(n, gen)
		n.slots[i].a = a
		return n, s.a
	default:
		// Two keys share this slot: push both one level down.
		child, _ := setNode(nil, gen, s.hash, shift+trieBits, s.a)
		child, _ = setNode(child, gen, h, shift+trieBits, a)
		n = own(n, gen)
		n.slots[i] = tslot{child: child}
		return n, nil
	}
}

// delNode returns the node without id (nil when it became empty) and the
// removed asset; n itself when id is absent.
func delNode(n *tnode, gen, h uint64, shift uint, id string) (*tnode, *Asset) {
	if shift >= hashWidth {
		for i, c := range n.coll {
			if c.ID == id {
				if len(n.coll) == 1 {
					return nil, c
				}
				n = own(n, gen)
				n.coll = slices.Delete(n.coll, i, i+1)
				return n, c
			}
		}
		return n, nil
	}
	bit := uint32(1) << ((h >> shift) & trieMask)
	if n.bitmap&bit == 0 {
		return n, nil
	}
	i := bits.OnesCount32(n.bitmap & (bit - 1))
	s := n.slots[i]
	if s.child == nil {
		if s.hash != h || s.a.ID != id {
			return n, nil
		}
		return removeSlot(n, gen, i, bit), s.a
	}
	child, old := delNode(s.child, gen, h, shift+trieBits, id)
	if old == nil {
		return n, nil
	}
	if child == nil {
		return removeSlot(n, gen, i, bit), old
	}
	n = own(n, gen)
	if leaf, ok := soleLeaf(child, h); ok {
		// A child holding one asset folds back into its parent, so the
		// trie stays as shallow as its keys need.
		n.slots[i] = leaf
	} else {
		n.slots[i] = tslot{child: child}
	}
	return n, old
}

func removeSlot(n *tnode, gen uint64, i int, bit uint32) *tnode {
	if len(n.slots) == 1 {
		return nil
	}
	n = own(n, gen)
	n.bitmap &^= bit
	n.slots = slices.Delete(n.slots, i, i+1)
	return n
}

// soleLeaf returns the only asset under n as a leaf slot when n holds exactly
// one. h is the hash of the key just deleted below n, which shares every hash
// bit with a collision list's members.
func soleLeaf(n *tnode, h uint64) (tslot, bool) {
	if n.coll != nil {
		if len(n.coll) == 1 {
			return tslot{a: n.coll[0], hash: h}, true
		}
		return tslot{}, false
	}
	if len(n.slots) == 1 && n.slots[0].child == nil {
		return n.slots[0], true
	}
	return tslot{}, false
}

func eachNode(n *tnode, fn func(*Asset) bool) bool {
	if n == nil {
		return true
	}
	for _, a := range n.coll {
		if !fn(a) {
			return false
		}
	}
	for _, s := range n.slots {
		if s.child != nil {
			if !eachNode(s.child, fn) {
				return false
			}
		} else if !fn(s.a) {
			return false
		}
	}
	return true
}
