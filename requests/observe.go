package requests

import (
	"context"
	"log/slog"
)

// notify passes a stored request to ServiceConfig.OnChange (tile caches,
// live views) and returns its arguments unchanged, so a store call can be
// wrapped in it: return s.notify(s.cfg.Store.UpdateStatus(...)).
func (s *Service) notify(r Request, err error) (Request, error) {
	if err == nil && s.cfg.OnChange != nil {
		s.cfg.OnChange(r)
	}
	return r, err
}

// RequestWatcher is implemented by stores that several servers may share
// (PostgreSQL, by LISTEN/NOTIFY): it tells a server which requests were
// created or changed by any server, so its map tiles follow. Stores
// without it serve one process, whose own changes reach OnChange.
type RequestWatcher interface {
	// WatchRequests starts listening for the tenant's request changes and
	// returns once it listens: every change committed after it returns is
	// reported, until ctx is done (then the channel is closed). Each
	// receive gives what changed since the previous one.
	WatchRequests(ctx context.Context, tenant string) (<-chan RequestChanges, error)
}

// RequestChanges is one delivery of a RequestWatcher.
type RequestChanges struct {
	// IDs are the public IDs (ServiceRequestID) of the requests created or
	// changed, each once, in no particular order. Reading them back gives
	// their state at or after the change.
	IDs []string
	// All means some changes were not itemised (a bulk update, or the
	// watcher lost its connection and listens again): read everything.
	All bool
}

// ObservedOutbox is an OutboxStore whose work-order status changes reach
// OnChange: SetWorkOrderStatus moves a whole cluster's requests in the
// store, past the Service, so without it a work order closed by the
// asset-management system would leave its pins open on the map of a
// server with no RequestWatcher (SQLite).
type ObservedOutbox struct {
	OutboxStore
	Clusters ClusterStore // reads the moved cluster's requests back
	OnChange func(Request)
	Log      *slog.Logger // may be nil
}

// SetWorkOrderStatus is OutboxStore.SetWorkOrderStatus, then OnChange for
// each request of the work order's cluster when any moved.
func (o ObservedOutbox) SetWorkOrderStatus(ctx context.Context, c WorkOrderStatusChange) (WorkOrder, int, error) {
	wo, moved, err := o.OutboxStore.SetWorkOrderStatus(ctx, c)
	if err != nil || moved == 0 || o.OnChange == nil {
		return wo, moved, err
	}
	_, rs, cerr := o.Clusters.GetCluster(ctx, wo.TenantID, wo.ClusterID)
	if cerr != nil {
		// The change is committed: report it as done; only the map lags
		// until the cluster's next change.
		if o.Log != nil {
			o.Log.WarnContext(ctx, "work order status: reading its cluster back for the map", "cluster", wo.ClusterID, "err", cerr)
		}
		return wo, moved, nil
	}
	for _, r := range rs {
		o.OnChange(r)
	}
	return wo, moved, nil
}
