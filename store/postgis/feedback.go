package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

var _ requests.FeedbackStore = (*Store)(nil)

// GiveSatisfaction implements requests.FeedbackStore. The request's row
// lock orders two answers; the primary key refuses the second.
func (s *Store) GiveSatisfaction(ctx context.Context, sa requests.Satisfaction) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := lockRequest(ctx, tx, sa.Tenant, sa.ServiceRequestID)
		if err != nil {
			return err
		}
		if r.Status != requests.Closed {
			return requests.NotClosedError()
		}
		tag, err := tx.Exec(ctx, `INSERT INTO satisfaction (tenant_id, request_id, score, comment, at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, sa.Tenant, r.ID, sa.Score, sa.Comment, sa.At)
		if err != nil {
			return fmt.Errorf("insert satisfaction: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return requests.SatisfactionGivenError()
		}
		return nil
	})
	return wrapCtx(ctx, "give satisfaction", err)
}

// GetSatisfaction implements requests.FeedbackStore.
func (s *Store) GetSatisfaction(ctx context.Context, tenant, serviceRequestID string) (requests.Satisfaction, bool, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return requests.Satisfaction{}, false, requests.RequestNotFoundError(serviceRequestID)
	}
	var (
		score   *int
		comment *string
		at      *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT x.score, x.comment, x.at FROM requests q
		LEFT JOIN satisfaction x ON x.tenant_id = q.tenant_id AND x.request_id = q.id
		WHERE q.tenant_id = $1 AND q.id = $2`, tenant, id).Scan(&score, &comment, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return requests.Satisfaction{}, false, requests.RequestNotFoundError(serviceRequestID)
	}
	if err != nil {
		return requests.Satisfaction{}, false, wrapCtx(ctx, "get satisfaction", err)
	}
	if at == nil {
		return requests.Satisfaction{}, false, nil
	}
	return requests.Satisfaction{Tenant: tenant, ServiceRequestID: serviceRequestID, Score: *score, Comment: *comment,
		At: at.UTC()}, true, nil
}

// ReopenRequest implements requests.FeedbackStore.
func (s *Store) ReopenRequest(ctx context.Context, ro requests.Reopening) (requests.Request, error) {
	t := ro.Transition
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
		var closed *time.Time
		if err := tx.QueryRow(ctx, `SELECT max(at) FROM events
			WHERE tenant_id = $1 AND request_id = $2 AND kind = 'status' AND to_status = 'closed'`, t.Tenant, r.ID).Scan(&closed); err != nil {
			return fmt.Errorf("read closing time: %w", err)
		}
		if closed == nil || closed.Before(ro.ClosedSince) {
			return requests.ReopenWindowError(int(t.At.Sub(ro.ClosedSince).Hours() / 24))
		}
		if out, err = writeTransition(ctx, tx, next, ev); err != nil {
			return err
		}
		for _, ct := range ro.Staff {
			// Against the reopen event just written (one reopen per
			// request and time: a second is refused by the workflow).
			if _, err := tx.Exec(ctx, `INSERT INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id, event_at,
					next_attempt_at, created_at, to_address, lang)
				SELECT e.tenant_id, NULL, e.id, 'reopened_staff', q.cluster_id, e.at, clock_timestamp(), $3, $4, $5
				FROM events e JOIN requests q ON q.tenant_id = e.tenant_id AND q.id = e.request_id
				WHERE e.tenant_id = $1 AND e.request_id = $2 AND e.kind = 'status' AND e.to_status = 'reopened' AND e.at = $3
				  AND NOT EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = $1 AND u.email = lower($4))
				ON CONFLICT DO NOTHING`, t.Tenant, r.ID, t.At, ct.Email, string(ct.Lang)); err != nil {
				return fmt.Errorf("queue reopen messages: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return requests.Request{}, wrapCtx(ctx, "reopen request", err)
	}
	return out, nil
}
