package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/requests"
)

var _ requests.ClusterStore = (*Store)(nil)

// clusterAnchors selects the anchors of clusters: the requests whose ID
// is their cluster_id. A list pages them first (ORDER BY and LIMIT on the
// newest-first index), so only a page's clusters are counted.
const clusterAnchors = `SELECT a.tenant_id, a.id, a.cluster_id, a.service_code, a.ward_id, a.department,
	a.lon, a.lat, a.asset_layer, a.asset_id, a.requested_at
	FROM requests a WHERE a.tenant_id = ? AND a.cluster_id = CAST(a.id AS TEXT) AND a.located`

// clusterCounts counts the members m of the anchors in "page". The
// reporter count keys a resident by email, else phone, else device, else
// the request (a name alone).
const clusterCounts = ` SELECT a.id, a.tenant_id, a.service_code, a.ward_id, a.department, a.lon, a.lat, a.asset_layer, a.asset_id,
	count(*), sum(m.status <> 'closed'),
	count(DISTINCT CASE WHEN p.email <> '' THEN 'e:' || lower(p.email) WHEN p.phone <> '' THEN 'p:' || p.phone
		WHEN p.device_id <> '' THEN 'd:' || p.device_id WHEN p.request_id IS NOT NULL THEN 'r:' || p.request_id END),
	min(m.requested_at), max(m.updated_at),
	COALESCE((SELECT w.id FROM work_orders w WHERE w.tenant_id = a.tenant_id AND w.cluster_id = a.cluster_id), 0)
	FROM page a
	JOIN requests m ON m.tenant_id = a.tenant_id AND m.cluster_id = a.cluster_id
	LEFT JOIN reporters p ON p.request_id = m.id
	GROUP BY a.id
	ORDER BY a.requested_at DESC, a.id DESC`

// openMember is true when a cluster (anchor a) has a request not closed.
const openMember = `EXISTS (SELECT 1 FROM requests o WHERE o.tenant_id = a.tenant_id AND o.cluster_id = a.cluster_id AND o.status <> 'closed')`

func scanCluster(sc scanner) (requests.Cluster, error) {
	var (
		c                requests.Cluster
		id               int64
		lon, lat         float64
		created, updated sql.NullInt64
	)
	err := sc.Scan(&id, &c.TenantID, &c.ServiceCode, &c.WardID, &c.Department, &lon, &lat, &c.AssetLayer, &c.AssetID,
		&c.Requests, &c.OpenRequests, &c.Reporters, &created, &updated, &c.WorkOrderID)
	if err != nil {
		return c, err
	}
	c.ID = requests.FormatServiceRequestID(id)
	c.Point = orb.Point{lon, lat}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.Status = requests.ClusterOpen
	if c.OpenRequests == 0 {
		c.Status = requests.Closed
	}
	return c, nil
}

// getCluster reads one cluster; field names the input for NotFound.
func getCluster(ctx context.Context, q querier, tenant, field, id string) (requests.Cluster, error) {
	n, ok := requests.ParseServiceRequestID(id)
	if !ok {
		return requests.Cluster{}, requests.ClusterNotFoundError(field, id)
	}
	c, err := scanCluster(q.QueryRowContext(ctx, `WITH page AS (`+clusterAnchors+` AND a.id = ?)`+clusterCounts, tenant, n))
	if errors.Is(err, sql.ErrNoRows) {
		return c, requests.ClusterNotFoundError(field, id)
	}
	return c, err
}

// clusterRequests reads a cluster's requests, oldest first.
func clusterRequests(ctx context.Context, q querier, tenant, id string) ([]requests.Request, error) {
	return queryRequests(ctx, q, `SELECT `+requestCols+` FROM requests WHERE tenant_id = ? AND cluster_id = ?
		ORDER BY requested_at, id`, tenant, id)
}

// ListClusters implements requests.ClusterStore.
func (s *Store) ListClusters(ctx context.Context, f requests.ClusterFilter) ([]requests.Cluster, error) {
	q := clusterAnchors
	args := []any{f.Tenant}
	if f.ServiceCode != "" {
		q += ` AND a.service_code = ?`
		args = append(args, f.ServiceCode)
	}
	if f.WardID != "" {
		q += ` AND a.ward_id = ?`
		args = append(args, f.WardID)
	}
	if c := f.Scope.Where("a.department", "a.ward_id", func(v any) string { args = append(args, v); return "?" }); c != "" {
		q += ` AND ` + c
	}
	if b := f.BBox; b != nil {
		q += ` AND a.id IN (SELECT id FROM requests_rtree WHERE max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?)
			AND a.lon BETWEEN ? AND ? AND a.lat BETWEEN ? AND ?`
		args = append(args, b.Min[0], b.Max[0], b.Min[1], b.Max[1], b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	}
	switch f.Status {
	case requests.ClusterOpen:
		q += ` AND ` + openMember
	case requests.Closed:
		// Every request of a closed cluster is closed, its anchor first.
		q += ` AND a.status = 'closed' AND NOT ` + openMember
	}
	limit := f.Limit
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	q = `WITH page AS (` + q + ` ORDER BY a.requested_at DESC, a.id DESC LIMIT ? OFFSET ?)` + clusterCounts
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(ctx, "list clusters", err)
	}
	defer rows.Close()
	out := []requests.Cluster{}
	for rows.Next() {
		c, err := scanCluster(rows)
		if err != nil {
			return nil, wrap(ctx, "list clusters", err)
		}
		out = append(out, c)
	}
	return out, wrap(ctx, "list clusters", rows.Err())
}

// GetCluster implements requests.ClusterStore. One read transaction, so
// the counts and the list agree.
func (s *Store) GetCluster(ctx context.Context, tenant, id string) (requests.Cluster, []requests.Request, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return requests.Cluster{}, nil, wrap(ctx, "get cluster", err)
	}
	defer tx.Rollback()
	c, err := getCluster(ctx, tx, tenant, "cluster_id", id)
	if err != nil {
		return c, nil, wrap(ctx, "get cluster", err)
	}
	rs, err := clusterRequests(ctx, tx, tenant, id)
	return c, rs, wrap(ctx, "get cluster", err)
}

// moveRequests gives the requests of tenant selected by where (with args)
// cluster into, with an event of kind each, and returns their IDs.
func moveRequests(ctx context.Context, tx *sql.Tx, tenant, into string, kind requests.EventKind, note, actor string, at time.Time,
	where string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM requests WHERE tenant_id = ? AND `+where+` ORDER BY id`, append([]any{tenant}, args...)...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET cluster_id = ?, updated_at = ? WHERE id = ?`, into, micros(at), id); err != nil {
			return nil, err
		}
		if err := insertEvent(ctx, tx, requests.Event{TenantID: tenant, RequestID: id, At: at, Actor: actor, Kind: kind, Note: note}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// requestsByID reads requests of tenant by primary key, oldest first.
func requestsByID(ctx context.Context, tx *sql.Tx, tenant string, ids []int64) ([]requests.Request, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return queryRequests(ctx, tx, `SELECT `+requestCols+` FROM requests WHERE tenant_id = ? AND id IN (`+placeholders(len(ids))+`)
		ORDER BY requested_at, id`, append([]any{tenant}, anys(ids)...)...)
}

// MergeClusters implements requests.ClusterStore. The write transaction
// serialises it with every creation (c.Locks are for PostgreSQL).
func (s *Store) MergeClusters(ctx context.Context, m requests.ClusterMerge) (requests.ClusterResult, error) {
	var out requests.ClusterResult
	err := s.inTx(ctx, "merge clusters", func(tx *sql.Tx) error {
		from, err := getCluster(ctx, tx, m.Tenant, "cluster_id", m.From)
		if err != nil {
			return err
		}
		into, err := getCluster(ctx, tx, m.Tenant, "into", m.Into)
		if err != nil {
			return err
		}
		note, err := requests.MergeNote(from, into, m.Note)
		if err != nil {
			return err
		}
		ids, err := moveRequests(ctx, tx, m.Tenant, into.ID, requests.EventMerged, note, m.Actor, m.At, `cluster_id = ?`, from.ID)
		if err != nil {
			return err
		}
		// One work order for the merged cluster: Into's, else From's
		// moved over; a second one is closed (its issue is Into's now).
		switch {
		case into.WorkOrderID == 0 && from.WorkOrderID != 0:
			if _, err := tx.ExecContext(ctx, `UPDATE work_orders SET cluster_id = ? WHERE id = ?`, into.ID, from.WorkOrderID); err != nil {
				return err
			}
		case into.WorkOrderID != 0 && from.WorkOrderID != 0:
			if _, err := tx.ExecContext(ctx, `UPDATE work_orders SET status = 'closed' WHERE id = ?`, from.WorkOrderID); err != nil {
				return err
			}
			if _, err := enqueueWorkOrderUpdate(ctx, tx, m.Tenant, from.ID, m.At); err != nil {
				return err
			}
		}
		if out.WorkOrderUpdated, err = enqueueWorkOrderUpdate(ctx, tx, m.Tenant, into.ID, m.At); err != nil {
			return err
		}
		if out.Cluster, err = getCluster(ctx, tx, m.Tenant, "into", into.ID); err != nil {
			return err
		}
		out.Changed, err = requestsByID(ctx, tx, m.Tenant, ids)
		return err
	})
	return out, err
}

// SplitCluster implements requests.ClusterStore.
func (s *Store) SplitCluster(ctx context.Context, sp requests.ClusterSplit) (requests.ClusterResult, error) {
	var out requests.ClusterResult
	err := s.inTx(ctx, "split cluster", func(tx *sql.Tx) error {
		src, err := getCluster(ctx, tx, sp.Tenant, "cluster_id", sp.ClusterID)
		if err != nil {
			return err
		}
		rowIDs, err := requests.SplitRequestIDs(src, sp.Requests)
		if err != nil {
			return err
		}
		ids := make([]any, 0, len(rowIDs))
		for i, id := range rowIDs {
			var cluster string
			err := tx.QueryRowContext(ctx, `SELECT cluster_id FROM requests WHERE tenant_id = ? AND id = ?`, sp.Tenant, id).Scan(&cluster)
			if errors.Is(err, sql.ErrNoRows) || err == nil && cluster != src.ID {
				return requests.NotInClusterError(sp.Requests[i], src.ID)
			}
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		// Requests is sorted: its first is the new cluster's anchor.
		newID := sp.Requests[0]
		moved, err := moveRequests(ctx, tx, sp.Tenant, newID, requests.EventSplit, requests.SplitEventNote(src.ID, newID),
			sp.Actor, sp.At, `id IN (`+placeholders(len(ids))+`)`, ids...)
		if err != nil {
			return err
		}
		if src.WorkOrderID != 0 {
			if out.WorkOrderUpdated, err = enqueueWorkOrderUpdate(ctx, tx, sp.Tenant, src.ID, sp.At); err != nil {
				return err
			}
			// The new cluster may carry the name of one merged away
			// earlier, whose closed work order then reopens: one work
			// order per cluster ID.
			var prev int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM work_orders WHERE tenant_id = ? AND cluster_id = ?`, sp.Tenant, newID).Scan(&prev)
			switch {
			case err == nil:
				if _, err := tx.ExecContext(ctx, `UPDATE work_orders SET status = 'reopened' WHERE id = ?`, prev); err != nil {
					return err
				}
				if _, err := enqueueWorkOrderUpdate(ctx, tx, sp.Tenant, newID, sp.At); err != nil {
					return err
				}
			case errors.Is(err, sql.ErrNoRows):
				anchor, err := getRequest(ctx, tx, sp.Tenant, moved[0])
				if err != nil {
					return err
				}
				if err := createWorkOrder(ctx, tx, requests.NewRequest{WorkOrder: true, Event: requests.Event{At: sp.At}}, anchor); err != nil {
					return err
				}
			default:
				return err
			}
		}
		if out.Cluster, err = getCluster(ctx, tx, sp.Tenant, "cluster_id", src.ID); err != nil {
			return err
		}
		if out.New, err = getCluster(ctx, tx, sp.Tenant, "cluster_id", newID); err != nil {
			return err
		}
		out.Changed, err = requestsByID(ctx, tx, sp.Tenant, moved)
		return err
	})
	return out, err
}
