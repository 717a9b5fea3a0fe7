package requests

// A busy spot (issue 15): with thousands of open requests at one point,
// reading every candidate in a ClusterQuery's Bound makes each new request
// there cost more than the last. A store reads a bounded set instead:
//
//   - when the Bound holds at most HotspotLimit candidates, all of them
//     (Pick then chooses exactly as over every stored request);
//   - else the HotspotLimit nearest (PostGIS: a KNN index scan; SQLite: the
//     smallest box around the point holding any), plus the earliest
//     request at the exact point of the nearest (ties at one point go to
//     the earliest, as Pick wants, by an index on tenant, point, time);
//   - and, for a same-asset rule, the earliest request naming the asset
//     (same asset wins over distance, then the earliest).
//
// Pick's choice is the same as over every candidate except when more than
// HotspotLimit candidates crowd the Bound and the nearest of them are not
// at one point but within the difference between the store's distance
// order and geo.Distance's (PostGIS orders by planar degrees), or tie at
// equal distance from different points: then a request among the nearest
// is chosen, not necessarily the very nearest.

// HotspotLimit is how many nearest candidates a store reads at most for a
// crowded Bound.
const HotspotLimit = 64

// Best returns the candidate Pick would choose, and false when none
// matches.
func (q ClusterQuery) Best(candidates []Request) (Request, bool) {
	var best *Request
	var bestScore float64
	for i := range candidates {
		r := &candidates[i]
		s, ok := q.score(*r)
		if !ok {
			continue
		}
		if best == nil || s < bestScore || (s == bestScore && (r.RequestedAt.Before(best.RequestedAt) ||
			r.RequestedAt.Equal(best.RequestedAt) && r.ID < best.ID)) {
			best, bestScore = r, s
		}
	}
	if best == nil {
		return Request{}, false
	}
	return *best, true
}
