package tiles

import (
	"sync"

	"github.com/paulmach/orb/maptile"
)

type cacheKey struct {
	layer string
	tile  maptile.Tile
}

type cached struct {
	version uint64
	r       *Rendered
}

// cache keeps rendered tiles stamped with the version of their layer's
// data; an entry of an older version is a miss. It holds at most max
// entries and, when full, drops an arbitrary eighth of them: cheaper than
// an LRU list, and a dropped tile costs one render.
type cache struct {
	mu  sync.Mutex
	max int
	m   map[cacheKey]cached
}

func newCache(max int) *cache { return &cache{max: max, m: map[cacheKey]cached{}} }

func (c *cache) get(k cacheKey, version uint64) *Rendered {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok && e.version == version {
		return e.r
	}
	return nil
}

func (c *cache) put(k cacheKey, version uint64, r *Rendered) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		drop := max(1, c.max/8)
		for old := range c.m {
			delete(c.m, old)
			if drop--; drop == 0 {
				break
			}
		}
	}
	c.m[k] = cached{version: version, r: r}
}
