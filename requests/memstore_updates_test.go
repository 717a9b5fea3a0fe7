package requests

import (
	"context"
	"slices"
)

// ListPublicUpdates implements PublicUpdateStore on the test store.
func (m *memStore) ListPublicUpdates(_ context.Context, f UpdateFilter) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, e := range m.events {
		if e.TenantID != f.Tenant || !e.IsPublicUpdate() || (!f.Start.IsZero() && e.At.Before(f.Start)) || (!f.End.IsZero() && e.At.After(f.End)) ||
			(len(f.ServiceRequestIDs) > 0 && !slices.Contains(f.ServiceRequestIDs, e.ServiceRequestID())) {
			continue
		}
		out = append(out, e)
	}
	out = out[min(f.Offset, len(out)):]
	return out[:min(f.Limit, len(out))], nil
}
