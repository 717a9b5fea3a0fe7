package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

var _ requests.TransitionStore = (*Store)(nil)

// lockRequest reads a request FOR UPDATE: two staff moving one request in
// parallel each check the move against the status the other left.
func lockRequest(ctx context.Context, tx pgx.Tx, tenant, serviceRequestID string) (requests.Request, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return requests.Request{}, requests.RequestNotFoundError(serviceRequestID)
	}
	r, err := scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, requests.RequestNotFoundError(serviceRequestID)
	}
	if err != nil {
		return r, fmt.Errorf("lock request: %w", err)
	}
	return r, nil
}

// updateTransitionSQL writes what Transition.Apply decided for one
// request.
const updateTransitionSQL = `UPDATE requests SET status = $3, status_notes = $4, status_notes_fr = $5,
		close_reason = $6, paused_at = $7, due_at = $8, next_escalation_at = $9, updated_at = $10
	WHERE tenant_id = $1 AND id = $2`

func updateTransitionArgs(next requests.Request) []any {
	return []any{next.TenantID, next.ID, string(next.Status), next.StatusNotes, next.StatusNotesFr, string(next.CloseReason),
		nullTime(next.PausedAt), nullTime(next.DueAt), nullTime(next.NextEscalationAt), next.UpdatedAt}
}

// writeTransition stores what Transition.Apply decided for one request,
// and its event, and returns the request as stored.
func writeTransition(ctx context.Context, tx pgx.Tx, next requests.Request, ev requests.Event) (requests.Request, error) {
	stored, err := scanRequest(tx.QueryRow(ctx, updateTransitionSQL+` RETURNING `+requestColumns, updateTransitionArgs(next)...))
	if err != nil {
		return stored, fmt.Errorf("update request %d: %w", next.ID, err)
	}
	return stored, insertEvent(ctx, tx, ev)
}

// queueTransition adds one request's move and its event to b: a cluster
// of thousands moves in one round trip.
func queueTransition(b *pgx.Batch, next requests.Request, ev requests.Event) {
	b.Queue(updateTransitionSQL, updateTransitionArgs(next)...)
	b.Queue(insertEventSQL, eventArgs(ev)...)
}

// applyAll applies t to each request of rs that may move (skipping closed
// ones when skipClosed), in one batch, and returns the IDs moved and the
// first refusal.
func applyAll(ctx context.Context, tx pgx.Tx, t requests.Transition, rs []requests.Request, skipClosed bool) ([]int64, error, error) {
	var (
		b       pgx.Batch
		ids     []int64
		refused error
	)
	for _, r := range rs {
		if skipClosed && r.Status == requests.Closed {
			continue
		}
		next, ev, err := t.Apply(r)
		if err != nil {
			if refused == nil {
				refused = err
			}
			continue
		}
		queueTransition(&b, next, ev)
		ids = append(ids, r.ID)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return nil, refused, fmt.Errorf("move requests: %w", err)
		}
	}
	return ids, refused, nil
}

// TransitionRequest implements requests.TransitionStore.
func (s *Store) TransitionRequest(ctx context.Context, t requests.Transition) (requests.Request, error) {
	var out requests.Request
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := lockRequest(ctx, tx, t.Tenant, t.ServiceRequestID)
		if err != nil {
			return err
		}
		next, ev, err := t.Apply(r)
		if err != nil {
			return err
		}
		out, err = writeTransition(ctx, tx, next, ev)
		return err
	})
	if err != nil {
		return requests.Request{}, wrapCtx(ctx, "transition request", err)
	}
	return out, nil
}

// TransitionCluster implements requests.TransitionStore.
func (s *Store) TransitionCluster(ctx context.Context, c requests.ClusterTransition) (requests.ClusterResult, error) {
	var out requests.ClusterResult
	t := c.Transition
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockClusters(ctx, tx, c.Locks); err != nil {
			return err
		}
		// The rows first (FOR UPDATE: a concurrent move of one request
		// waits, or is waited for), then the counts.
		members, err := clusterRequests(ctx, tx, t.Tenant, c.ClusterID, true)
		if err != nil {
			return err
		}
		cl, err := getCluster(ctx, tx, t.Tenant, "cluster_id", c.ClusterID)
		if err != nil {
			return err
		}
		if cl.Status == requests.Closed {
			return requests.ClusterClosedError("cluster_id", cl.ID)
		}
		ids, refused, err := applyAll(ctx, tx, t, members, true)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return refused
		}
		if t.To == requests.Closed && cl.WorkOrderID != 0 {
			if _, err := tx.Exec(ctx, `UPDATE work_orders SET status = 'closed' WHERE tenant_id = $1 AND id = $2`,
				t.Tenant, cl.WorkOrderID); err != nil {
				return fmt.Errorf("close work order: %w", err)
			}
			if out.WorkOrderUpdated, err = enqueueWorkOrderUpdate(ctx, tx, t.Tenant, cl.ID, t.At); err != nil {
				return fmt.Errorf("update work order: %w", err)
			}
		}
		if out.Cluster, err = getCluster(ctx, tx, t.Tenant, "cluster_id", cl.ID); err != nil {
			return err
		}
		out.Changed, err = requestsByID(ctx, tx, t.Tenant, ids)
		return err
	})
	if err != nil {
		return requests.ClusterResult{}, wrapCtx(ctx, "transition cluster", err)
	}
	return out, nil
}

// AssignRequest implements requests.TransitionStore.
func (s *Store) AssignRequest(ctx context.Context, a requests.Assignment) (requests.Request, error) {
	var out requests.Request
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := lockRequest(ctx, tx, a.Tenant, a.ServiceRequestID)
		if err != nil {
			return err
		}
		out, err = scanRequest(tx.QueryRow(ctx, `UPDATE requests SET assignee = $3, updated_at = $4
			WHERE tenant_id = $1 AND id = $2 RETURNING `+requestColumns, a.Tenant, r.ID, a.Assignee, a.At))
		if err != nil {
			return fmt.Errorf("assign: %w", err)
		}
		return insertEvent(ctx, tx, requests.Event{TenantID: a.Tenant, RequestID: r.ID, At: a.At, Actor: a.Actor,
			Kind: requests.EventAssigned, From: r.Status, To: r.Status, Note: a.Assignee})
	})
	if err != nil {
		return requests.Request{}, wrapCtx(ctx, "assign request", err)
	}
	return out, nil
}

// AddStaffNote implements requests.TransitionStore.
func (s *Store) AddStaffNote(ctx context.Context, n requests.StaffNote) (requests.Event, error) {
	var out requests.Event
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := lockRequest(ctx, tx, n.Tenant, n.ServiceRequestID)
		if err != nil {
			return err
		}
		ev := requests.Event{TenantID: n.Tenant, RequestID: r.ID, At: n.At, Actor: n.Actor,
			Kind: requests.EventNote, From: r.Status, To: r.Status, InternalNote: n.Note}
		out, err = scanEvent(tx.QueryRow(ctx, insertEventSQL+` RETURNING `+eventColumns, eventArgs(ev)...))
		return err
	})
	if err != nil {
		return requests.Event{}, wrapCtx(ctx, "add note", err)
	}
	return out, nil
}

// WaitingSince implements requests.TransitionStore, by the partial index
// requests_waiting.
func (s *Store) WaitingSince(ctx context.Context, tenant string, before, afterAt time.Time, afterID int64, limit int) ([]requests.Request, error) {
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+requestColumns+` FROM requests
		WHERE tenant_id = $1 AND status = 'waiting_on_resident' AND paused_at <= $2 AND (paused_at, id) > ($4, $5)
		ORDER BY paused_at, id LIMIT $3`, tenant, before, limit, afterAt, afterID)
	if err != nil {
		return nil, wrapCtx(ctx, "list waiting requests", err)
	}
	out, err := collectRequests(rows)
	if err != nil {
		return nil, wrapCtx(ctx, "list waiting requests", err)
	}
	return out, nil
}

// UpdateStatus implements requests.Store.
func (s *Store) UpdateStatus(ctx context.Context, c requests.StatusChange) (requests.Request, error) {
	return s.TransitionRequest(ctx, c.Transition())
}
