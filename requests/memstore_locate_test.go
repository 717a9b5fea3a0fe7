package requests

import (
	"context"
	"slices"
)

// OpenRequestsNear is the memStore's Store.OpenRequestsNear: a scan, which
// is all a map of a few requests needs.
func (m *memStore) OpenRequestsNear(_ context.Context, q ClusterQuery) ([]Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Request
	for _, r := range m.reqs {
		if r.TenantID != q.Tenant || r.Status == Closed || !slices.Contains(q.ServiceCodes, r.ServiceCode) ||
			(!q.Since.IsZero() && r.RequestedAt.Before(q.Since)) {
			continue
		}
		sameAsset := q.AssetID != "" && r.AssetLayer == q.AssetLayer && r.AssetID == q.AssetID
		if sameAsset || q.Bound.Contains(r.Point) {
			out = append(out, r)
		}
	}
	return out, nil
}
