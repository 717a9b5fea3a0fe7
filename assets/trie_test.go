package assets

import (
	"fmt"
	"hash/maphash"
	"maps"
	"math/rand/v2"
	"testing"
)

// TestTrie checks the persistent trie against a Go map, with real hashes and
// with hashes crushed to a few values so that collision lists, deep paths
// and their folding on delete are exercised; and checks that every root
// kept from an earlier write still reads as it did.
func TestTrie(t *testing.T) {
	seed := maphash.MakeSeed()
	for name, hash := range map[string]func(string) uint64{
		"maphash": func(s string) uint64 { return maphash.String(seed, s) },
		// Only 8 distinct hashes, differing in their top bits: every key
		// shares a path to the last level and most end in collision lists.
		"collide": func(s string) uint64 { return (maphash.String(seed, s) % 8) << 61 },
		// Hashes equal in the low 30 bits: long single-child chains.
		"deep": func(s string) uint64 { return maphash.String(seed, s) &^ (1<<30 - 1) },
	} {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			type version struct {
				root *tnode
				want map[string]int64
			}
			var (
				root    *tnode
				want    = map[string]int64{}
				history []version
			)
			for gen := uint64(1); gen <= 300; gen++ {
				for range rng.IntN(20) + 1 {
					id := fmt.Sprint(rng.IntN(400))
					h := hash(id)
					if rng.IntN(3) == 0 {
						var old *Asset
						root, old = delNodeOrNil(root, gen, h, id)
						_, had := want[id]
						if (old != nil) != had {
							t.Fatalf("gen %d: del %s removed %v, map had it: %v", gen, id, old, had)
						}
						delete(want, id)
						continue
					}
					a := &Asset{ID: id, Version: int64(gen)}
					var old *Asset
					root, old = setNode(root, gen, h, 0, a)
					_, had := want[id]
					if (old != nil) != had {
						t.Fatalf("gen %d: set %s replaced %v, map had it: %v", gen, id, old, had)
					}
					want[id] = int64(gen)
				}
				history = append(history, version{root, maps.Clone(want)})
			}
			for i, v := range history {
				n := 0
				eachNode(v.root, func(a *Asset) bool {
					n++
					if v.want[a.ID] != a.Version {
						t.Fatalf("history %d: each gave %s@%d, want @%d", i, a.ID, a.Version, v.want[a.ID])
					}
					return true
				})
				if n != len(v.want) {
					t.Fatalf("history %d: each visited %d assets, want %d", i, n, len(v.want))
				}
				for id := range 400 {
					s := fmt.Sprint(id)
					a := getNode(v.root, hash(s), s)
					wv, ok := v.want[s]
					if (a != nil) != ok || (ok && a.Version != wv) {
						t.Fatalf("history %d: get %s = %v, want %v %v", i, s, a, wv, ok)
					}
				}
			}
		})
	}
}

func delNodeOrNil(root *tnode, gen, h uint64, id string) (*tnode, *Asset) {
	if root == nil {
		return nil, nil
	}
	return delNode(root, gen, h, 0, id)
}
