package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/pinward/pinward/requests"
)

var _ requests.TransitionStore = (*Store)(nil)

// lockedRequest reads a request inside the write transaction, which is the
// row lock: no other writer runs.
func lockedRequest(ctx context.Context, tx *sql.Tx, tenant, serviceRequestID string) (requests.Request, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return requests.Request{}, requests.RequestNotFoundError(serviceRequestID)
	}
	return getRequest(ctx, tx, tenant, id)
}

// writeTransition stores what Transition.Apply decided for one request,
// and its event.
func writeTransition(ctx context.Context, tx *sql.Tx, next requests.Request, ev requests.Event) error {
	if _, err := tx.ExecContext(ctx, `UPDATE requests SET status = ?, status_notes = ?, status_notes_fr = ?,
			close_reason = ?, paused_at = ?, due_at = ?, next_escalation_at = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`,
		string(next.Status), next.StatusNotes, next.StatusNotesFr, string(next.CloseReason),
		micros(next.PausedAt), micros(next.DueAt), micros(next.NextEscalationAt), micros(next.UpdatedAt),
		next.TenantID, next.ID); err != nil {
		return err
	}
	return insertEvent(ctx, tx, ev)
}

// TransitionRequest implements requests.TransitionStore.
func (s *Store) TransitionRequest(ctx context.Context, t requests.Transition) (requests.Request, error) {
	var out requests.Request
	err := s.inTx(ctx, "transition request", func(tx *sql.Tx) error {
		r, err := lockedRequest(ctx, tx, t.Tenant, t.ServiceRequestID)
		if err != nil {
			return err
		}
		next, ev, err := t.Apply(r)
		if err != nil {
			return err
		}
		if err := writeTransition(ctx, tx, next, ev); err != nil {
			return err
		}
		out, err = getRequest(ctx, tx, t.Tenant, r.ID)
		return err
	})
	if err != nil {
		return requests.Request{}, err
	}
	return out, nil
}

// TransitionCluster implements requests.TransitionStore.
func (s *Store) TransitionCluster(ctx context.Context, c requests.ClusterTransition) (requests.ClusterResult, error) {
	var out requests.ClusterResult
	t := c.Transition
	err := s.inTx(ctx, "transition cluster", func(tx *sql.Tx) error {
		cl, err := getCluster(ctx, tx, t.Tenant, "cluster_id", c.ClusterID)
		if err != nil {
			return err
		}
		if cl.Status == requests.Closed {
			return requests.ClusterClosedError("cluster_id", cl.ID)
		}
		members, err := clusterRequests(ctx, tx, t.Tenant, cl.ID)
		if err != nil {
			return err
		}
		var refused error
		var ids []int64
		for _, r := range members {
			if r.Status == requests.Closed {
				continue
			}
			next, ev, err := t.Apply(r)
			if err != nil {
				if refused == nil {
					refused = err
				}
				continue
			}
			if err := writeTransition(ctx, tx, next, ev); err != nil {
				return err
			}
			ids = append(ids, r.ID)
		}
		if len(ids) == 0 {
			return refused
		}
		if t.To == requests.Closed && cl.WorkOrderID != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE work_orders SET status = 'closed' WHERE id = ?`, cl.WorkOrderID); err != nil {
				return err
			}
			if out.WorkOrderUpdated, err = enqueueWorkOrderUpdate(ctx, tx, t.Tenant, cl.ID, t.At); err != nil {
				return err
			}
		}
		if out.Cluster, err = getCluster(ctx, tx, t.Tenant, "cluster_id", cl.ID); err != nil {
			return err
		}
		out.Changed, err = requestsByID(ctx, tx, t.Tenant, ids)
		return err
	})
	return out, err
}

// AssignRequest implements requests.TransitionStore.
func (s *Store) AssignRequest(ctx context.Context, a requests.Assignment) (requests.Request, error) {
	var out requests.Request
	err := s.inTx(ctx, "assign request", func(tx *sql.Tx) error {
		r, err := lockedRequest(ctx, tx, a.Tenant, a.ServiceRequestID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET assignee = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			a.Assignee, micros(a.At), a.Tenant, r.ID); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, requests.Event{TenantID: a.Tenant, RequestID: r.ID, At: a.At, Actor: a.Actor,
			Kind: requests.EventAssigned, From: r.Status, To: r.Status, Note: a.Assignee}); err != nil {
			return err
		}
		out, err = getRequest(ctx, tx, a.Tenant, r.ID)
		return err
	})
	if err != nil {
		return requests.Request{}, err
	}
	return out, nil
}

// AddStaffNote implements requests.TransitionStore.
func (s *Store) AddStaffNote(ctx context.Context, n requests.StaffNote) (requests.Event, error) {
	var out requests.Event
	err := s.inTx(ctx, "add note", func(tx *sql.Tx) error {
		r, err := lockedRequest(ctx, tx, n.Tenant, n.ServiceRequestID)
		if err != nil {
			return err
		}
		out = requests.Event{TenantID: n.Tenant, RequestID: r.ID, At: norm(n.At), Actor: n.Actor,
			Kind: requests.EventNote, From: r.Status, To: r.Status, InternalNote: n.Note}
		out.ID, err = insertEventID(ctx, tx, out)
		return err
	})
	if err != nil {
		return requests.Event{}, err
	}
	return out, nil
}

// WaitingSince implements requests.TransitionStore, by the partial index
// requests_waiting.
func (s *Store) WaitingSince(ctx context.Context, tenant string, before, afterAt time.Time, afterID int64, limit int) ([]requests.Request, error) {
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	out, err := queryRequests(ctx, s.read, `SELECT `+requestCols+` FROM requests
		WHERE tenant_id = ? AND status = 'waiting_on_resident' AND paused_at <= ? AND (paused_at, id) > (?, ?)
		ORDER BY paused_at, id LIMIT ?`, tenant, before.UnixMicro(), afterAt.UnixMicro(), afterID, limit)
	return out, wrap(ctx, "list waiting requests", err)
}

// UpdateStatus implements requests.Store.
func (s *Store) UpdateStatus(ctx context.Context, c requests.StatusChange) (requests.Request, error) {
	return s.TransitionRequest(ctx, c.Transition())
}
