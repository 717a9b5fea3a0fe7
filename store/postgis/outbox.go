package postgis

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

var _ requests.OutboxStore = (*Store)(nil)

// createWorkOrder is CreateRequest's hook: when nr asks for a work order and
// stored starts its cluster, it writes the cluster's work order and its
// create message in CreateRequest's transaction, in one round trip. A
// request joining a cluster adds nothing: the work order counts its
// requests when it is sent.
func createWorkOrder(ctx context.Context, tx pgx.Tx, nr requests.NewRequest, stored requests.Request) error {
	if !nr.WorkOrder || stored.ClusterID != stored.ServiceRequestID {
		return nil
	}
	_, err := tx.Exec(ctx, `WITH w AS (
			INSERT INTO work_orders (tenant_id, cluster_id, department, status, payload, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id)
		INSERT INTO outbox (tenant_id, work_order_id, kind, state, next_attempt_at, idempotency_key, created_at)
		SELECT $1, w.id, 'create', 'pending', $6, 'pinward-' || $1 || '-wo-' || w.id, $6 FROM w`,
		stored.TenantID, stored.ClusterID, stored.Department, string(stored.Status), requests.NewWorkOrderPayload(stored), nr.Event.At)
	if err != nil {
		return errors.Join(errors.New("insert work order"), err)
	}
	return nil
}

// enqueueWorkOrderUpdate writes an update message for the work order of
// tenant's cluster clusterID inside tx, for store code that changes a
// cluster (merge, close) in its own transaction. It reports whether the
// cluster has a work order.
func enqueueWorkOrderUpdate(ctx context.Context, tx pgx.Tx, tenant, clusterID string, at time.Time) (bool, error) {
	var id int64
	err := tx.QueryRow(ctx, `UPDATE work_orders SET updated_at = $3 WHERE tenant_id = $1 AND cluster_id = $2 RETURNING id`,
		tenant, clusterID, at).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// The key names the message, drawn from the sequence first.
	_, err = tx.Exec(ctx, `WITH n AS (SELECT nextval(pg_get_serial_sequence('outbox', 'id')::regclass) AS id)
		INSERT INTO outbox (tenant_id, id, work_order_id, kind, state, next_attempt_at, idempotency_key, created_at)
		SELECT $1, n.id, $2, 'update', 'pending', $3, $4 || '-update-' || n.id, $3 FROM n`,
		tenant, id, at, requests.WorkOrderIdempotencyKey(tenant, id, 0, requests.OutboxCreate))
	return err == nil, err
}

// EnqueueWorkOrderUpdate implements requests.OutboxStore.
func (s *Store) EnqueueWorkOrderUpdate(ctx context.Context, tenant, clusterID string, at time.Time) (bool, error) {
	var ok bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		ok, err = enqueueWorkOrderUpdate(ctx, tx, tenant, clusterID, at)
		return err
	})
	return ok, wrapCtx(ctx, "enqueue work order update", err)
}

// wrapCtx is internal() that keeps a canceled context visible.
func wrapCtx(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = errors.Join(cerr, err)
	}
	return internal(op, err)
}

// workOrderCols reads a work order with its request count and the message
// that decides its delivery state: the oldest undelivered one (messages go
// out in order), else the latest.
const workOrderCols = `w.id, w.tenant_id, w.cluster_id, w.department, w.status, w.external_id, w.payload, w.created_at, w.updated_at,
	(SELECT count(*) FROM requests r WHERE r.tenant_id = w.tenant_id AND r.cluster_id = w.cluster_id),
	COALESCE(o.state, ''), COALESCE(o.attempts, 0), COALESCE(o.last_error, '')
	FROM work_orders w LEFT JOIN outbox o ON o.tenant_id = w.tenant_id AND o.id = COALESCE(
		(SELECT min(x.id) FROM outbox x WHERE x.tenant_id = w.tenant_id AND x.work_order_id = w.id AND x.state <> 'delivered'),
		(SELECT max(x.id) FROM outbox x WHERE x.tenant_id = w.tenant_id AND x.work_order_id = w.id))`

func scanWorkOrder(row pgx.Row) (requests.WorkOrder, error) {
	var (
		w             requests.WorkOrder
		status, state string
		count         int64
	)
	err := row.Scan(&w.ID, &w.TenantID, &w.ClusterID, &w.Department, &status, &w.ExternalID, &w.Payload, &w.CreatedAt, &w.UpdatedAt,
		&count, &state, &w.Attempts, &w.LastError)
	w.Status, w.Delivery, w.RequestCount = requests.Status(status), requests.OutboxState(state), int(count)
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	w.Payload.RequestedAt = w.Payload.RequestedAt.UTC()
	if !w.Payload.DueAt.IsZero() {
		w.Payload.DueAt = w.Payload.DueAt.UTC()
	}
	return w, err
}

type outboxRowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getWorkOrder(ctx context.Context, q outboxRowQuerier, tenant string, id int64) (requests.WorkOrder, error) {
	w, err := scanWorkOrder(q.QueryRow(ctx, `SELECT `+workOrderCols+` WHERE w.tenant_id = $1 AND w.id = $2`, tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return w, requests.WorkOrderNotFoundError(strconv.FormatInt(id, 10))
	}
	return w, err
}

// GetWorkOrder implements requests.OutboxStore.
func (s *Store) GetWorkOrder(ctx context.Context, tenant string, id int64) (requests.WorkOrder, error) {
	w, err := getWorkOrder(ctx, s.pool, tenant, id)
	return w, wrapCtx(ctx, "get work order", err)
}

// ListWorkOrders implements requests.OutboxStore.
func (s *Store) ListWorkOrders(ctx context.Context, f requests.WorkOrderFilter) ([]requests.WorkOrder, error) {
	limit := f.Limit
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	if err := requests.CheckStoredText("department", f.Department); err != nil {
		return nil, err
	}
	args := []any{f.Tenant, string(f.Delivery), f.Department, f.Polling, limit, f.AfterID}
	scope := f.Scope.Where("w.department", "w.payload->>'ward_id'", func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	})
	if scope != "" {
		scope = " AND " + scope
	}
	rows, err := s.pool.Query(ctx, `SELECT `+workOrderCols+` WHERE w.tenant_id = $1
		AND ($2 = '' OR o.state = $2) AND ($3 = '' OR w.department = $3)
		AND (NOT $4 OR (w.external_id <> '' AND w.status <> 'closed')) AND w.id > $6`+scope+`
		ORDER BY w.id LIMIT $5`, args...)
	if err != nil {
		return nil, wrapCtx(ctx, "list work orders", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.WorkOrder, error) { return scanWorkOrder(row) })
	return out, wrapCtx(ctx, "list work orders", err)
}

// ClaimOutbox implements requests.OutboxStore. FOR UPDATE SKIP LOCKED lets
// several servers on one database claim side by side without taking the
// same message.
func (s *Store) ClaimOutbox(ctx context.Context, tenant string, now time.Time, lease time.Duration, limit int) ([]requests.OutboxMessage, error) {
	var out []requests.OutboxMessage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH c AS (
				SELECT o.id FROM outbox o
				WHERE o.tenant_id = $1 AND o.state = 'pending' AND o.next_attempt_at <= $2
				  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.tenant_id = o.tenant_id AND p.work_order_id = o.work_order_id
				                  AND p.id < o.id AND p.state <> 'delivered')
				ORDER BY o.next_attempt_at, o.id LIMIT $3
				FOR UPDATE SKIP LOCKED)
			UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = $4
			FROM c WHERE o.tenant_id = $1 AND o.id = c.id
			RETURNING o.id, o.work_order_id, o.kind, o.attempts, o.next_attempt_at, o.idempotency_key, o.created_at`,
			tenant, now, limit, now.Add(lease))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.OutboxMessage, error) {
			m := requests.OutboxMessage{TenantID: tenant, State: requests.OutboxPending}
			err := row.Scan(&m.ID, &m.WorkOrderID, &m.Kind, &m.Attempts, &m.NextAttemptAt, &m.IdempotencyKey, &m.CreatedAt)
			m.NextAttemptAt, m.CreatedAt = m.NextAttemptAt.UTC(), m.CreatedAt.UTC()
			return m, err
		})
		if err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		// Their work orders in one query.
		ids := make([]int64, len(out))
		for i, m := range out {
			ids[i] = m.WorkOrderID
		}
		rows, err = tx.Query(ctx, `SELECT `+workOrderCols+` WHERE w.tenant_id = $1 AND w.id = ANY($2)`, tenant, ids)
		if err != nil {
			return err
		}
		wos, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.WorkOrder, error) { return scanWorkOrder(row) })
		if err != nil {
			return err
		}
		byID := make(map[int64]requests.WorkOrder, len(wos))
		for _, w := range wos {
			byID[w.ID] = w
		}
		for i := range out {
			out[i].WorkOrder = byID[out[i].WorkOrderID]
		}
		return nil
	})
	if err != nil {
		return nil, wrapCtx(ctx, "claim outbox", err)
	}
	// Oldest first, as claimed (RETURNING has no order).
	sortMessages(out)
	return out, nil
}

func sortMessages(ms []requests.OutboxMessage) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].ID < ms[j-1].ID; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// RecordAttempts implements requests.OutboxStore: one transaction, one
// round trip.
func (s *Store) RecordAttempts(ctx context.Context, tenant string, rs []requests.AttemptResult) error {
	if len(rs) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, r := range rs {
		if !r.Delivered {
			state := requests.OutboxPending
			if r.Dead {
				state = requests.OutboxDead
			}
			b.Queue(`UPDATE outbox SET state = $3, last_error = $4, next_attempt_at = $5
				WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`, tenant, r.MessageID, string(state), r.Error, r.Next)
			continue
		}
		b.Queue(`WITH m AS (
				UPDATE outbox SET state = 'delivered', delivered_at = $3, last_error = ''
				WHERE tenant_id = $1 AND id = $2 AND state = 'pending' RETURNING work_order_id)
			UPDATE work_orders w SET external_id = $4, updated_at = $3
			FROM m WHERE $4 <> '' AND w.tenant_id = $1 AND w.id = m.work_order_id`, tenant, r.MessageID, r.At, r.ExternalID)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, &b).Close() })
	return wrapCtx(ctx, "record delivery attempts", err)
}

// RetryWorkOrder implements requests.OutboxStore.
func (s *Store) RetryWorkOrder(ctx context.Context, tenant string, id int64, at time.Time) (requests.WorkOrder, error) {
	var out requests.WorkOrder
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := getWorkOrder(ctx, tx, tenant, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $3
			WHERE tenant_id = $1 AND work_order_id = $2 AND state = 'dead'`, tenant, id, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return requests.NothingToRetryError()
		}
		out, err = getWorkOrder(ctx, tx, tenant, id)
		return err
	})
	return out, wrapCtx(ctx, "retry work order", err)
}

// SetWorkOrderStatus implements requests.OutboxStore.
func (s *Store) SetWorkOrderStatus(ctx context.Context, c requests.WorkOrderStatusChange) (requests.WorkOrder, int, error) {
	var (
		out   requests.WorkOrder
		moved int
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the work order first: two status calls for it queue up.
		var cur string
		var clusterID string
		err := tx.QueryRow(ctx, `SELECT status, cluster_id FROM work_orders WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			c.Tenant, c.WorkOrderID).Scan(&cur, &clusterID)
		if errors.Is(err, pgx.ErrNoRows) {
			return requests.WorkOrderNotFoundError(strconv.FormatInt(c.WorkOrderID, 10))
		}
		if err != nil {
			return err
		}
		from := requests.Status(cur)
		if from != c.To {
			if !from.CanTransition(c.To) {
				return requests.TransitionError(from, c.To)
			}
			if _, err := tx.Exec(ctx, `UPDATE work_orders SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
				c.Tenant, c.WorkOrderID, string(c.To), c.At); err != nil {
				return err
			}
			members, err := clusterRequests(ctx, tx, c.Tenant, clusterID, true)
			if err != nil {
				return err
			}
			// A request that may not make the move stays as it is.
			ids, _, err := applyAll(ctx, tx, requests.WorkOrderTransition(c), members, false)
			if err != nil {
				return err
			}
			moved = len(ids)
		}
		out, err = getWorkOrder(ctx, tx, c.Tenant, c.WorkOrderID)
		return err
	})
	return out, moved, wrapCtx(ctx, "set work order status", err)
}
