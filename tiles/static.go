package tiles

import (
	"fmt"
	"math"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
)

// Ward is a ward boundary as the wards layer shows it.
type Ward struct {
	ID, NameEn, NameFr string
	Geometry           orb.MultiPolygon // lon/lat
}

// Asset is a street asset as the assets layer shows it.
type Asset struct {
	Layer, ID string
	Point     orb.Point // lon/lat
}

// wardSet is an immutable set of wards with their geometry in normalised
// Mercator, simplified lazily once per zoom.
type wardSet struct {
	wards []Ward
	geom  []orb.MultiPolygon // (u, v) coordinates
	props []geojson.Properties
	bound orb.Bound // lon/lat of all wards

	mu     sync.Mutex
	byZoom map[maptile.Zoom][]orb.MultiPolygon
}

func newWardSet(ws []Ward) (*wardSet, error) {
	s := &wardSet{wards: ws, byZoom: map[maptile.Zoom][]orb.MultiPolygon{}}
	for i, w := range ws {
		if w.ID == "" || len(w.Geometry) == 0 {
			return nil, fmt.Errorf("tiles: ward %d has no ID or no geometry", i)
		}
		mp := make(orb.MultiPolygon, len(w.Geometry))
		for j, poly := range w.Geometry {
			mp[j] = make(orb.Polygon, len(poly))
			for k, ring := range poly {
				r := make(orb.Ring, len(ring))
				for l, p := range ring {
					m := toMerc(p)
					r[l] = orb.Point{m.u, m.v}
				}
				mp[j][k] = r
			}
		}
		s.geom = append(s.geom, mp)
		s.props = append(s.props, geojson.Properties{"id": w.ID, "name_en": w.NameEn, "name_fr": w.NameFr})
		if i == 0 {
			s.bound = w.Geometry.Bound()
		} else {
			s.bound = s.bound.Union(w.Geometry.Bound())
		}
	}
	return s, nil
}

// atZoom returns the wards simplified for zoom z (tolerance
// SimplifyTolerance tile units at that zoom).
func (s *wardSet) atZoom(z maptile.Zoom) []orb.MultiPolygon {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.byZoom[z]; ok {
		return g
	}
	tol := SimplifyTolerance / (float64(uint64(1)<<z) * Extent)
	dp := simplify.DouglasPeucker(tol)
	out := make([]orb.MultiPolygon, len(s.geom))
	for i, mp := range s.geom {
		out[i] = dp.MultiPolygon(mp.Clone())
	}
	s.byZoom[z] = out
	return out
}

func (s *wardSet) features(t maptile.Tile) []*geojson.Feature {
	if s == nil || len(s.wards) == 0 {
		return nil
	}
	f := frameOf(t)
	// The buffered tile in (u, v).
	box := orb.Bound{
		Min: orb.Point{(f.x0 - Buffer) / f.scale, (f.y0 - Buffer) / f.scale},
		Max: orb.Point{(f.x0 + Extent + Buffer) / f.scale, (f.y0 + Extent + Buffer) / f.scale},
	}
	var out []*geojson.Feature
	var geoms []orb.MultiPolygon
	for i := range s.geom {
		if !s.geom[i].Bound().Intersects(box) {
			continue
		}
		if geoms == nil {
			geoms = s.atZoom(t.Z)
		}
		mp := toTile(clip.MultiPolygon(box, geoms[i].Clone()), f)
		if len(mp) == 0 {
			continue
		}
		out = append(out, &geojson.Feature{Geometry: mp, Properties: s.props[i]})
	}
	return out
}

// toTile moves a clipped (u, v) multipolygon to tile units on the integer
// grid, dropping repeated points and rings left without area, and orients
// rings as MVT wants them (exterior positive area in tile coordinates,
// holes negative).
func toTile(mp orb.MultiPolygon, f frame) orb.MultiPolygon {
	var out orb.MultiPolygon
	for _, poly := range mp {
		var np orb.Polygon
		for k, ring := range poly {
			r := make(orb.Ring, 0, len(ring))
			for _, p := range ring {
				q := orb.Point{math.Round(p[0]*f.scale - f.x0), math.Round(p[1]*f.scale - f.y0)}
				if len(r) == 0 || r[len(r)-1] != q {
					r = append(r, q)
				}
			}
			if len(r) > 0 && r[0] != r[len(r)-1] {
				r = append(r, r[0])
			}
			a := area(r)
			if len(r) < 4 || a == 0 {
				if k == 0 {
					break // no exterior, no polygon
				}
				continue
			}
			if (k == 0) != (a > 0) {
				r.Reverse()
			}
			np = append(np, r)
		}
		if len(np) > 0 {
			out = append(out, np)
		}
	}
	return out
}

// area is the shoelace area of a closed ring, in the MVT spec's sign:
// positive for an exterior ring in tile coordinates (y down).
func area(r orb.Ring) float64 {
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

type assetEntry struct {
	m     merc
	key   assetKey
	props geojson.Properties
}

type assetKey struct{ layer, id string }

type assetLoc struct {
	bucket uint64
	slot   int
}

// assetSet holds the assets in bucketZoom buckets. It changes only under
// the Tiler's write lock (UpdateAssets), so renders read it unlocked.
type assetSet struct {
	buckets map[uint64][]assetEntry
	at      map[assetKey]assetLoc
}

func newAssetSet(as []Asset) *assetSet {
	s := &assetSet{buckets: map[uint64][]assetEntry{}, at: make(map[assetKey]assetLoc, len(as))}
	for _, a := range as {
		s.put(a)
	}
	return s
}

// put adds an asset or moves the one of the same layer and ID.
func (s *assetSet) put(a Asset) {
	k := assetKey{a.Layer, a.ID}
	s.remove(k)
	m := toMerc(a.Point)
	b := cellKey(cellOf(m, bucketZoom))
	s.at[k] = assetLoc{bucket: b, slot: len(s.buckets[b])}
	s.buckets[b] = append(s.buckets[b], assetEntry{m: m, key: k, props: geojson.Properties{"layer": a.Layer, "id": a.ID}})
}

func (s *assetSet) remove(k assetKey) bool {
	loc, ok := s.at[k]
	if !ok {
		return false
	}
	delete(s.at, k)
	es := s.buckets[loc.bucket]
	last := len(es) - 1
	if loc.slot != last {
		es[loc.slot] = es[last]
		s.at[es[loc.slot].key] = loc
	}
	es[last] = assetEntry{}
	if last == 0 {
		delete(s.buckets, loc.bucket)
	} else {
		s.buckets[loc.bucket] = es[:last]
	}
	return true
}

func (s *assetSet) features(t maptile.Tile) []*geojson.Feature {
	if s == nil || t.Z < AssetsMinZoom {
		return nil
	}
	f := frameOf(t)
	x0, y0, x1, y1 := buckets(t)
	var out []*geojson.Feature
	for by := y0; by <= y1; by++ {
		for bx := x0; bx <= x1; bx++ {
			for i := range s.buckets[cellKey(bx, by)] {
				e := &s.buckets[cellKey(bx, by)][i]
				if p := f.point(e.m); inBuffer(p) {
					out = append(out, &geojson.Feature{Geometry: p, Properties: e.props})
				}
			}
		}
	}
	return out
}
