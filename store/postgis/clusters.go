package postgis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

var _ requests.ClusterStore = (*Store)(nil)

// clusterAnchors selects the anchors of clusters: the requests whose ID
// is their cluster_id. A list pages them first (ORDER BY and LIMIT on the
// newest-first index), so only a page's clusters are counted.
const clusterAnchors = `SELECT a.tenant_id, a.id, a.cluster_id, a.service_code, a.ward_id, a.department,
	ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat, a.asset_layer, a.asset_id, a.requested_at
	FROM requests a WHERE a.tenant_id = $1 AND a.cluster_id = a.id::text AND a.located`

// clusterCounts counts the members m of the anchors in "page". The
// reporter count keys a resident by email, else phone, else device, else
// the request (a name alone).
const clusterCounts = ` SELECT a.id, a.tenant_id, a.service_code, a.ward_id, a.department, a.lon, a.lat,
	a.asset_layer, a.asset_id, count(*), count(*) FILTER (WHERE m.status <> 'closed'),
	count(DISTINCT CASE WHEN p.email <> '' THEN 'e:' || lower(p.email) WHEN p.phone <> '' THEN 'p:' || p.phone
		WHEN p.device_id <> '' THEN 'd:' || p.device_id WHEN p.request_id IS NOT NULL THEN 'r:' || p.request_id END),
	min(m.requested_at), max(m.updated_at),
	COALESCE((SELECT w.id FROM work_orders w WHERE w.tenant_id = a.tenant_id AND w.cluster_id = a.cluster_id), 0)
	FROM page a
	JOIN requests m ON m.tenant_id = a.tenant_id AND m.cluster_id = a.cluster_id
	LEFT JOIN pinward_private.reporters p ON p.tenant_id = m.tenant_id AND p.request_id = m.id
	GROUP BY a.tenant_id, a.id, a.cluster_id, a.service_code, a.ward_id, a.department, a.lon, a.lat, a.asset_layer, a.asset_id, a.requested_at
	ORDER BY a.requested_at DESC, a.id DESC`

// openMember is true when a cluster (anchor a) has a request not closed.
const openMember = `EXISTS (SELECT 1 FROM requests o WHERE o.tenant_id = a.tenant_id AND o.cluster_id = a.cluster_id AND o.status <> 'closed')`

func scanCluster(row pgx.Row) (requests.Cluster, error) {
	var (
		c  requests.Cluster
		id int64
	)
	err := row.Scan(&id, &c.TenantID, &c.ServiceCode, &c.WardID, &c.Department, &c.Point[0], &c.Point[1],
		&c.AssetLayer, &c.AssetID, &c.Requests, &c.OpenRequests, &c.Reporters, &c.CreatedAt, &c.UpdatedAt, &c.WorkOrderID)
	if err != nil {
		return c, err
	}
	c.ID = requests.FormatServiceRequestID(id)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.Status = requests.ClusterOpen
	if c.OpenRequests == 0 {
		c.Status = requests.Closed
	}
	return c, nil
}

// getCluster reads one cluster; field names the input for NotFound.
func getCluster(ctx context.Context, q queryRower, tenant, field, id string) (requests.Cluster, error) {
	n, ok := requests.ParseServiceRequestID(id)
	if !ok {
		return requests.Cluster{}, requests.ClusterNotFoundError(field, id)
	}
	c, err := scanCluster(q.QueryRow(ctx, `WITH page AS (`+clusterAnchors+` AND a.id = $2)`+clusterCounts, tenant, n))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, requests.ClusterNotFoundError(field, id)
	}
	if err != nil {
		return c, fmt.Errorf("read cluster: %w", err)
	}
	return c, nil
}

// querier is what a pgx.Tx and the pool offer for reading rows.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// clusterRequests reads a cluster's requests, oldest first; forUpdate
// locks their rows.
func clusterRequests(ctx context.Context, q querier, tenant, id string, forUpdate bool) ([]requests.Request, error) {
	sql := `SELECT ` + requestColumns + ` FROM requests WHERE tenant_id = $1 AND cluster_id = $2 ORDER BY requested_at, id`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, sql, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("read cluster requests: %w", err)
	}
	rs, err := collectRequests(rows)
	if err != nil {
		return nil, fmt.Errorf("read cluster requests: %w", err)
	}
	return rs, nil
}

// ListClusters implements requests.ClusterStore.
func (s *Store) ListClusters(ctx context.Context, f requests.ClusterFilter) ([]requests.Cluster, error) {
	sql := clusterAnchors
	args := []any{f.Tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.ServiceCode != "" {
		sql += ` AND a.service_code = ` + arg(f.ServiceCode)
	}
	if f.WardID != "" {
		sql += ` AND a.ward_id = ` + arg(f.WardID)
	}
	if c := f.Scope.Where("a.department", "a.ward_id", arg); c != "" {
		sql += ` AND ` + c
	}
	if b := f.BBox; b != nil {
		// && narrows by the GiST index (float4 boxes rounded outward);
		// the exact test keeps the edges and drops the rest.
		minX, minY, maxX, maxY := arg(b.Min[0]), arg(b.Min[1]), arg(b.Max[0]), arg(b.Max[1])
		sql += fmt.Sprintf(" AND a.geom && ST_MakeEnvelope(%[1]s, %[2]s, %[3]s, %[4]s, 4326)"+
			" AND ST_X(a.geom) BETWEEN %[1]s AND %[3]s AND ST_Y(a.geom) BETWEEN %[2]s AND %[4]s", minX, minY, maxX, maxY)
	}
	switch f.Status {
	case requests.ClusterOpen:
		sql += ` AND ` + openMember
	case requests.Closed:
		// Every request of a closed cluster is closed, its anchor first.
		sql += ` AND a.status = 'closed' AND NOT ` + openMember
	}
	limit := f.Limit
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	sql = `WITH page AS (` + sql + ` ORDER BY a.requested_at DESC, a.id DESC LIMIT ` + arg(limit) + ` OFFSET ` + arg(max(f.Offset, 0)) + `)` + clusterCounts
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrapCtx(ctx, "list clusters", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.Cluster, error) { return scanCluster(row) })
	if err != nil {
		return nil, wrapCtx(ctx, "list clusters", err)
	}
	if out == nil {
		out = []requests.Cluster{}
	}
	return out, nil
}

// GetCluster implements requests.ClusterStore. One REPEATABLE READ
// transaction, so the counts and the list agree.
func (s *Store) GetCluster(ctx context.Context, tenant, id string) (requests.Cluster, []requests.Request, error) {
	var (
		c  requests.Cluster
		rs []requests.Request
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if c, err = getCluster(ctx, tx, tenant, "cluster_id", id); err != nil {
			return err
		}
		rs, err = clusterRequests(ctx, tx, tenant, id, false)
		return err
	})
	if err != nil {
		return requests.Cluster{}, nil, wrapCtx(ctx, "get cluster", err)
	}
	return c, rs, nil
}

// lockClusters takes a staff change's locks, exclusively and in the order
// given (sorted by requests.Service): they exclude every creation that
// could pick one of the clusters (creations hold their group's lock
// shared) and every other staff change, on every server.
func lockClusters(ctx context.Context, tx pgx.Tx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k`, keys); err != nil {
		return fmt.Errorf("lock clusters: %w", err)
	}
	return nil
}

// moveRequests gives the requests of tenant selected by where (args from
// $2) cluster into, with an event of kind each, and returns their IDs.
func moveRequests(ctx context.Context, tx pgx.Tx, tenant, into string, kind requests.EventKind, note, actor string, at time.Time,
	where string, args ...any) ([]int64, error) {
	n := len(args)
	rows, err := tx.Query(ctx, `WITH moved AS (
			UPDATE requests SET cluster_id = $`+strconv.Itoa(n+2)+`, updated_at = $`+strconv.Itoa(n+3)+`
			WHERE tenant_id = $1 AND `+where+` RETURNING id),
		ev AS (INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, note)
			SELECT $1, moved.id, $`+strconv.Itoa(n+3)+`, $`+strconv.Itoa(n+4)+`, $`+strconv.Itoa(n+5)+`, '', '', $`+strconv.Itoa(n+6)+` FROM moved)
		SELECT id FROM moved ORDER BY id`,
		append(append([]any{tenant}, args...), into, at, actor, string(kind), note)...)
	if err != nil {
		return nil, fmt.Errorf("move requests: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("move requests: %w", err)
	}
	return ids, nil
}

// requestsByID reads requests of tenant by primary key, oldest first.
func requestsByID(ctx context.Context, tx pgx.Tx, tenant string, ids []int64) ([]requests.Request, error) {
	rows, err := tx.Query(ctx, `SELECT `+requestColumns+` FROM requests WHERE tenant_id = $1 AND id = ANY($2)
		ORDER BY requested_at, id`, tenant, ids)
	if err != nil {
		return nil, fmt.Errorf("read changed requests: %w", err)
	}
	rs, err := collectRequests(rows)
	if err != nil {
		return nil, fmt.Errorf("read changed requests: %w", err)
	}
	return rs, nil
}

// MergeClusters implements requests.ClusterStore.
func (s *Store) MergeClusters(ctx context.Context, m requests.ClusterMerge) (requests.ClusterResult, error) {
	var out requests.ClusterResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockClusters(ctx, tx, m.Locks); err != nil {
			return err
		}
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
		ids, err := moveRequests(ctx, tx, m.Tenant, into.ID, requests.EventMerged, note, m.Actor, m.At, `cluster_id = $2`, from.ID)
		if err != nil {
			return err
		}
		// One work order for the merged cluster: Into's, else From's
		// moved over; a second one is closed (its issue is Into's now).
		switch {
		case into.WorkOrderID == 0 && from.WorkOrderID != 0:
			if _, err := tx.Exec(ctx, `UPDATE work_orders SET cluster_id = $3 WHERE tenant_id = $1 AND id = $2`,
				m.Tenant, from.WorkOrderID, into.ID); err != nil {
				return fmt.Errorf("move work order: %w", err)
			}
		case into.WorkOrderID != 0 && from.WorkOrderID != 0:
			if _, err := tx.Exec(ctx, `UPDATE work_orders SET status = 'closed' WHERE tenant_id = $1 AND id = $2`,
				m.Tenant, from.WorkOrderID); err != nil {
				return fmt.Errorf("close merged work order: %w", err)
			}
			if _, err := enqueueWorkOrderUpdate(ctx, tx, m.Tenant, from.ID, m.At); err != nil {
				return fmt.Errorf("update merged work order: %w", err)
			}
		}
		if out.WorkOrderUpdated, err = enqueueWorkOrderUpdate(ctx, tx, m.Tenant, into.ID, m.At); err != nil {
			return fmt.Errorf("update work order: %w", err)
		}
		if out.Cluster, err = getCluster(ctx, tx, m.Tenant, "into", into.ID); err != nil {
			return err
		}
		out.Changed, err = requestsByID(ctx, tx, m.Tenant, ids)
		return err
	})
	if err != nil {
		return requests.ClusterResult{}, wrapCtx(ctx, "merge clusters", err)
	}
	return out, nil
}

// SplitCluster implements requests.ClusterStore.
func (s *Store) SplitCluster(ctx context.Context, sp requests.ClusterSplit) (requests.ClusterResult, error) {
	var out requests.ClusterResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockClusters(ctx, tx, sp.Locks); err != nil {
			return err
		}
		src, err := getCluster(ctx, tx, sp.Tenant, "cluster_id", sp.ClusterID)
		if err != nil {
			return err
		}
		ids, err := requests.SplitRequestIDs(src, sp.Requests)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM requests WHERE tenant_id = $1 AND cluster_id = $2 AND id = ANY($3)`,
			sp.Tenant, src.ID, ids)
		if err != nil {
			return fmt.Errorf("read split requests: %w", err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("read split requests: %w", err)
		}
		in := make(map[int64]bool, len(found))
		for _, id := range found {
			in[id] = true
		}
		for i, id := range ids {
			if !in[id] {
				return requests.NotInClusterError(sp.Requests[i], src.ID)
			}
		}
		// Requests is sorted: its first is the new cluster's anchor.
		newID := sp.Requests[0]
		moved, err := moveRequests(ctx, tx, sp.Tenant, newID, requests.EventSplit, requests.SplitEventNote(src.ID, newID),
			sp.Actor, sp.At, `id = ANY($2)`, ids)
		if err != nil {
			return err
		}
		if src.WorkOrderID != 0 {
			if out.WorkOrderUpdated, err = enqueueWorkOrderUpdate(ctx, tx, sp.Tenant, src.ID, sp.At); err != nil {
				return fmt.Errorf("update work order: %w", err)
			}
			// The new cluster may carry the name of one merged away
			// earlier, whose closed work order then reopens: one work
			// order per cluster ID.
			tag, err := tx.Exec(ctx, `UPDATE work_orders SET status = 'reopened' WHERE tenant_id = $1 AND cluster_id = $2`, sp.Tenant, newID)
			if err != nil {
				return fmt.Errorf("reopen work order: %w", err)
			}
			if tag.RowsAffected() > 0 {
				if _, err := enqueueWorkOrderUpdate(ctx, tx, sp.Tenant, newID, sp.At); err != nil {
					return fmt.Errorf("update reopened work order: %w", err)
				}
			} else {
				anchor, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE tenant_id = $1 AND id = $2`,
					sp.Tenant, moved[0]))
				if err != nil {
					return fmt.Errorf("read new anchor: %w", err)
				}
				if err := createWorkOrder(ctx, tx, requests.NewRequest{WorkOrder: true, Event: requests.Event{At: sp.At}}, anchor); err != nil {
					return err
				}
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
	if err != nil {
		return requests.ClusterResult{}, wrapCtx(ctx, "split cluster", err)
	}
	return out, nil
}
