package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pinward/pinward/requests"
)

var _ requests.FeedbackStore = (*Store)(nil)

// GiveSatisfaction implements requests.FeedbackStore. The write
// transaction serialises two answers; the primary key would refuse the
// second anyway.
func (s *Store) GiveSatisfaction(ctx context.Context, sa requests.Satisfaction) error {
	return s.inTx(ctx, "give satisfaction", func(tx *sql.Tx) error {
		r, err := lockedRequest(ctx, tx, sa.Tenant, sa.ServiceRequestID)
		if err != nil {
			return err
		}
		if r.Status != requests.Closed {
			return requests.NotClosedError()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO satisfaction (request_id, tenant_id, score, comment, at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, r.ID, sa.Tenant, sa.Score, sa.Comment, micros(sa.At))
		if err != nil {
			return fmt.Errorf("insert satisfaction: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, requests.SatisfactionGivenError())
		}
		return nil
	})
}

// GetSatisfaction implements requests.FeedbackStore.
func (s *Store) GetSatisfaction(ctx context.Context, tenant, serviceRequestID string) (requests.Satisfaction, bool, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return requests.Satisfaction{}, false, requests.RequestNotFoundError(serviceRequestID)
	}
	var (
		out              = requests.Satisfaction{Tenant: tenant, ServiceRequestID: serviceRequestID}
		at, score, found sql.NullInt64
		comment          sql.NullString
	)
	err := s.read.QueryRowContext(ctx, `SELECT q.id, x.score, x.comment, x.at FROM requests q
		LEFT JOIN satisfaction x ON x.request_id = q.id
		WHERE q.tenant_id = ? AND q.id = ?`, tenant, id).Scan(&found, &score, &comment, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return requests.Satisfaction{}, false, requests.RequestNotFoundError(serviceRequestID)
	}
	if err != nil {
		return requests.Satisfaction{}, false, wrap(ctx, "get satisfaction", err)
	}
	if !at.Valid {
		return requests.Satisfaction{}, false, nil
	}
	out.Score, out.Comment, out.At = int(score.Int64), comment.String, fromMicros(at)
	return out, true, nil
}

// ReopenRequest implements requests.FeedbackStore.
func (s *Store) ReopenRequest(ctx context.Context, ro requests.Reopening) (requests.Request, error) {
	t := ro.Transition
	var out requests.Request
	err := s.inTx(ctx, "reopen request", func(tx *sql.Tx) error {
		r, err := lockedRequest(ctx, tx, t.Tenant, t.ServiceRequestID)
		if err != nil {
			return err
		}
		next, ev, err := t.Apply(r)
		if err != nil {
			return err
		}
		var closed sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(at) FROM events
			WHERE request_id = ? AND kind = 'status' AND to_status = 'closed'`, r.ID).Scan(&closed); err != nil {
			return fmt.Errorf("read closing time: %w", err)
		}
		if !closed.Valid || fromMicros(closed).Before(ro.ClosedSince) {
			return requests.ReopenWindowError(int(t.At.Sub(ro.ClosedSince).Hours() / 24))
		}
		if err := writeTransition(ctx, tx, next, ev); err != nil {
			return err
		}
		// The event just written (one writer: the request's last).
		if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM events WHERE request_id = ?`, r.ID).Scan(&ev.ID); err != nil {
			return fmt.Errorf("read reopen event: %w", err)
		}
		for _, ct := range ro.Staff {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id,
					event_at, next_attempt_at, created_at, to_address, lang)
				SELECT ?, NULL, ?, 'reopened_staff', q.cluster_id, ?, ?, ?, ?, ?
				FROM requests q WHERE q.id = ?
				  AND NOT EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = q.tenant_id AND u.email = lower(?))`,
				t.Tenant, ev.ID, micros(ev.At), micros(t.At), micros(t.At), ct.Email, string(ct.Lang), r.ID, ct.Email); err != nil {
				return fmt.Errorf("queue reopen messages: %w", err)
			}
		}
		out, err = getRequest(ctx, tx, t.Tenant, r.ID)
		return err
	})
	if err != nil {
		return requests.Request{}, err
	}
	return out, nil
}
