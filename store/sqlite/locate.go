package sqlite

import (
	"context"

	"github.com/pinward/pinward/requests"
)

// OpenRequestsNear implements requests.Store: the same two indexed reads as
// a creation's cluster candidates (the R-tree for q.Bound, requests_tenant_asset
// for the asset), on a read connection and without the write lock.
func (s *Store) OpenRequestsNear(ctx context.Context, q requests.ClusterQuery) ([]requests.Request, error) {
	// clusterCandidates reads the Bound only for a rule with a distance;
	// here the Bound is always searched.
	q.DistanceM = max(q.DistanceM, 1)
	out, err := candidatesIn(ctx, s.read, q, 0)
	if err != nil {
		return nil, wrap(ctx, "open requests near", err)
	}
	return out, nil
}
