package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/pinward/pinward/requests"
)

var _ requests.OutboxStore = (*Store)(nil)

// createWorkOrder is CreateRequest's hook: when nr asks for a work order and
// r starts its cluster, it writes the cluster's work order and its create
// message in CreateRequest's transaction. A request joining a cluster adds
// nothing: the work order counts its requests when it is sent.
func createWorkOrder(ctx context.Context, tx *sql.Tx, nr requests.NewRequest, r requests.Request) error {
	if !nr.WorkOrder || r.ClusterID != r.ServiceRequestID {
		return nil
	}
	payload, err := json.Marshal(requests.NewWorkOrderPayload(r))
	if err != nil {
		return err
	}
	at := micros(nr.Event.At)
	res, err := tx.ExecContext(ctx, `INSERT INTO work_orders (tenant_id, cluster_id, department, status, payload, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.TenantID, r.ClusterID, r.Department, string(r.Status), string(payload), at, at)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return insertOutbox(ctx, tx, r.TenantID, id, requests.OutboxCreate, nr.Event.At)
}

func insertOutbox(ctx context.Context, tx *sql.Tx, tenant string, woID int64, kind requests.OutboxKind, at time.Time) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (tenant_id, work_order_id, kind, state, next_attempt_at, idempotency_key, created_at)
		VALUES (?, ?, ?, 'pending', ?, '', ?)`, tenant, woID, string(kind), at.UnixMicro(), at.UnixMicro())
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE outbox SET idempotency_key = ? WHERE id = ?`,
		requests.WorkOrderIdempotencyKey(tenant, woID, id, kind), id)
	return err
}

// enqueueWorkOrderUpdate writes an update message for the work order of
// tenant's cluster clusterID inside tx, for store code that changes a
// cluster (merge, close) in its own transaction. It reports whether the
// cluster has a work order.
func enqueueWorkOrderUpdate(ctx context.Context, tx *sql.Tx, tenant, clusterID string, at time.Time) (bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM work_orders WHERE tenant_id = ? AND cluster_id = ?`, tenant, clusterID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE work_orders SET updated_at = ? WHERE id = ?`, at.UnixMicro(), id); err != nil {
		return false, err
	}
	return true, insertOutbox(ctx, tx, tenant, id, requests.OutboxUpdate, at)
}

// EnqueueWorkOrderUpdate implements requests.OutboxStore.
func (s *Store) EnqueueWorkOrderUpdate(ctx context.Context, tenant, clusterID string, at time.Time) (bool, error) {
	var ok bool
	err := s.inTx(ctx, "enqueue work order update", func(tx *sql.Tx) error {
		var err error
		ok, err = enqueueWorkOrderUpdate(ctx, tx, tenant, clusterID, at)
		return err
	})
	return ok, err
}

// workOrderCols reads a work order with its request count and the message
// that decides its delivery state: the oldest undelivered one (messages go
// out in order), else the latest.
const workOrderCols = `w.id, w.tenant_id, w.cluster_id, w.department, w.status, w.external_id, w.payload, w.created_at, w.updated_at,
	(SELECT count(*) FROM requests r WHERE r.tenant_id = w.tenant_id AND r.cluster_id = w.cluster_id),
	COALESCE(o.state, ''), COALESCE(o.attempts, 0), COALESCE(o.last_error, '')
	FROM work_orders w LEFT JOIN outbox o ON o.id = COALESCE(
		(SELECT min(x.id) FROM outbox x WHERE x.tenant_id = w.tenant_id AND x.work_order_id = w.id AND x.state <> 'delivered'),
		(SELECT max(x.id) FROM outbox x WHERE x.tenant_id = w.tenant_id AND x.work_order_id = w.id))`

// outboxQuerier and rowScanner are what *sql.DB, *sql.Tx, *sql.Row and
// *sql.Rows offer (own names: this file does not lean on requests.go).
type outboxQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type rowScanner interface{ Scan(dest ...any) error }

func scanWorkOrder(sc rowScanner) (requests.WorkOrder, error) {
	var (
		w                      requests.WorkOrder
		status, payload, state string
		created, updated       sql.NullInt64
	)
	err := sc.Scan(&w.ID, &w.TenantID, &w.ClusterID, &w.Department, &status, &w.ExternalID, &payload, &created, &updated,
		&w.RequestCount, &state, &w.Attempts, &w.LastError)
	if err != nil {
		return w, err
	}
	w.Status, w.Delivery = requests.Status(status), requests.OutboxState(state)
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return w, json.Unmarshal([]byte(payload), &w.Payload)
}

func getWorkOrder(ctx context.Context, q outboxQuerier, tenant string, id int64) (requests.WorkOrder, error) {
	w, err := scanWorkOrder(q.QueryRowContext(ctx, `SELECT `+workOrderCols+` WHERE w.tenant_id = ? AND w.id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, requests.WorkOrderNotFoundError(strconv.FormatInt(id, 10))
	}
	return w, err
}

// GetWorkOrder implements requests.OutboxStore.
func (s *Store) GetWorkOrder(ctx context.Context, tenant string, id int64) (requests.WorkOrder, error) {
	w, err := getWorkOrder(ctx, s.read, tenant, id)
	return w, wrap(ctx, "get work order", err)
}

// ListWorkOrders implements requests.OutboxStore.
func (s *Store) ListWorkOrders(ctx context.Context, f requests.WorkOrderFilter) ([]requests.WorkOrder, error) {
	if err := requests.CheckStoredText("department", f.Department); err != nil {
		return nil, err
	}
	q := `SELECT ` + workOrderCols + ` WHERE w.tenant_id = ? AND w.id > ?`
	args := []any{f.Tenant, f.AfterID}
	if f.Delivery != "" {
		q += ` AND o.state = ?`
		args = append(args, string(f.Delivery))
	}
	if f.Department != "" {
		q += ` AND w.department = ?`
		args = append(args, f.Department)
	}
	if f.Polling {
		q += ` AND w.external_id <> '' AND w.status <> 'closed'`
	}
	if c := f.Scope.Where("w.department", "json_extract(w.payload, '$.ward_id')", func(v any) string { args = append(args, v); return "?" }); c != "" {
		q += ` AND ` + c
	}
	limit := f.Limit
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY w.id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, wrap(ctx, "list work orders", err)
	}
	defer rows.Close()
	var out []requests.WorkOrder
	for rows.Next() {
		w, err := scanWorkOrder(rows)
		if err != nil {
			return nil, wrap(ctx, "list work orders", err)
		}
		out = append(out, w)
	}
	return out, wrap(ctx, "list work orders", rows.Err())
}

// ClaimOutbox implements requests.OutboxStore. The write transaction
// serialises claims (also across processes on one file).
func (s *Store) ClaimOutbox(ctx context.Context, tenant string, now time.Time, lease time.Duration, limit int) ([]requests.OutboxMessage, error) {
	var out []requests.OutboxMessage
	err := s.inTx(ctx, "claim outbox", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT o.id, o.work_order_id, o.kind, o.attempts, o.idempotency_key, o.created_at
			FROM outbox o WHERE o.tenant_id = ? AND o.state = 'pending' AND o.next_attempt_at <= ?
			  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.tenant_id = o.tenant_id AND p.work_order_id = o.work_order_id
			                  AND p.id < o.id AND p.state <> 'delivered')
			ORDER BY o.next_attempt_at, o.id LIMIT ?`, tenant, now.UnixMicro(), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			m := requests.OutboxMessage{TenantID: tenant, State: requests.OutboxPending}
			var kind string
			var created sql.NullInt64
			if err := rows.Scan(&m.ID, &m.WorkOrderID, &kind, &m.Attempts, &m.IdempotencyKey, &created); err != nil {
				rows.Close()
				return err
			}
			m.Kind, m.CreatedAt = requests.OutboxKind(kind), fromMicros(created)
			m.Attempts++
			m.NextAttemptAt = norm(now.Add(lease))
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			m := &out[i]
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?`,
				m.Attempts, m.NextAttemptAt.UnixMicro(), m.ID); err != nil {
				return err
			}
			if m.WorkOrder, err = getWorkOrder(ctx, tx, tenant, m.WorkOrderID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordAttempts implements requests.OutboxStore.
func (s *Store) RecordAttempts(ctx context.Context, tenant string, rs []requests.AttemptResult) error {
	if len(rs) == 0 {
		return nil
	}
	return s.inTx(ctx, "record delivery attempts", func(tx *sql.Tx) error {
		for _, r := range rs {
			if !r.Delivered {
				state := requests.OutboxPending
				if r.Dead {
					state = requests.OutboxDead
				}
				if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, last_error = ?, next_attempt_at = ?
					WHERE tenant_id = ? AND id = ? AND state = 'pending'`, string(state), r.Error, r.Next.UnixMicro(), tenant, r.MessageID); err != nil {
					return err
				}
				continue
			}
			var woID int64
			err := tx.QueryRowContext(ctx, `UPDATE outbox SET state = 'delivered', delivered_at = ?, last_error = ''
				WHERE tenant_id = ? AND id = ? AND state = 'pending' RETURNING work_order_id`, r.At.UnixMicro(), tenant, r.MessageID).Scan(&woID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if r.ExternalID != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE work_orders SET external_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
					r.ExternalID, r.At.UnixMicro(), tenant, woID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// RetryWorkOrder implements requests.OutboxStore.
func (s *Store) RetryWorkOrder(ctx context.Context, tenant string, id int64, at time.Time) (requests.WorkOrder, error) {
	var out requests.WorkOrder
	err := s.inTx(ctx, "retry work order", func(tx *sql.Tx) error {
		if _, err := getWorkOrder(ctx, tx, tenant, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?
			WHERE tenant_id = ? AND work_order_id = ? AND state = 'dead'`, at.UnixMicro(), tenant, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = requests.NothingToRetryError()
			}
			return err
		}
		out, err = getWorkOrder(ctx, tx, tenant, id)
		return err
	})
	return out, err
}

// SetWorkOrderStatus implements requests.OutboxStore.
func (s *Store) SetWorkOrderStatus(ctx context.Context, c requests.WorkOrderStatusChange) (requests.WorkOrder, int, error) {
	var (
		out   requests.WorkOrder
		moved int
	)
	err := s.inTx(ctx, "set work order status", func(tx *sql.Tx) error {
		w, err := getWorkOrder(ctx, tx, c.Tenant, c.WorkOrderID)
		if err != nil {
			return err
		}
		if w.Status == c.To {
			out = w
			return nil
		}
		if !w.Status.CanTransition(c.To) {
			return requests.TransitionError(w.Status, c.To)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE work_orders SET status = ?, updated_at = ? WHERE id = ?`,
			string(c.To), micros(c.At), w.ID); err != nil {
			return err
		}
		members, err := clusterRequests(ctx, tx, c.Tenant, w.ClusterID)
		if err != nil {
			return err
		}
		t := requests.WorkOrderTransition(c)
		for _, r := range members {
			next, ev, err := t.Apply(r)
			if err != nil {
				continue // a request that may not make the move stays
			}
			if err := writeTransition(ctx, tx, next, ev); err != nil {
				return err
			}
			moved++
		}
		out, err = getWorkOrder(ctx, tx, c.Tenant, c.WorkOrderID)
		return err
	})
	return out, moved, err
}
