package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/pinward/pinward/requests"
)

// SetDescriptionHidden implements requests.ModerationStore.
func (s *Store) SetDescriptionHidden(ctx context.Context, c requests.DescriptionChange) (requests.Request, error) {
	var out requests.Request
	err := s.inTx(ctx, "moderate description", func(tx *sql.Tx) error {
		id, err := requestID(ctx, tx, c.Tenant, c.ServiceRequestID)
		if err != nil {
			return err
		}
		var hidden string
		err = tx.QueryRowContext(ctx, `SELECT description FROM hidden_descriptions WHERE tenant_id = ? AND request_id = ?`, c.Tenant, id).Scan(&hidden)
		isHidden := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if isHidden == c.Hide {
			return requests.DescriptionStateError(c.Hide)
		}
		kind := requests.EventDescriptionShown
		if c.Hide {
			kind = requests.EventDescriptionHidden
			if _, err := tx.ExecContext(ctx, `INSERT INTO hidden_descriptions (tenant_id, request_id, description)
				SELECT tenant_id, id, description FROM requests WHERE tenant_id = ? AND id = ?`, c.Tenant, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE requests SET description = '' WHERE tenant_id = ? AND id = ?`, c.Tenant, id); err != nil {
				return err
			}
		} else {
			if _, err := tx.ExecContext(ctx, `UPDATE requests SET description = ? WHERE tenant_id = ? AND id = ?`, hidden, c.Tenant, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM hidden_descriptions WHERE tenant_id = ? AND request_id = ?`, c.Tenant, id); err != nil {
				return err
			}
		}
		if err := insertEvent(ctx, tx, requests.Event{TenantID: c.Tenant, RequestID: id, At: c.At, Actor: c.Actor, Kind: kind, Note: c.Reason}); err != nil {
			return err
		}
		out, err = getRequest(ctx, tx, c.Tenant, id)
		return err
	})
	return out, err
}

// AddFlag implements requests.ModerationStore.
func (s *Store) AddFlag(ctx context.Context, f requests.Flag) error {
	return s.inTx(ctx, "flag request", func(tx *sql.Tx) error {
		id, err := requestID(ctx, tx, f.Tenant, f.ServiceRequestID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO flags (tenant_id, request_id, reason, at) VALUES (?, ?, ?, ?)`, f.Tenant, id, f.Reason, micros(f.At))
		return err
	})
}

// ListFlags implements requests.ModerationStore.
func (s *Store) ListFlags(ctx context.Context, tenant string, scope requests.Scope, limit int) ([]requests.FlagCount, error) {
	args := []any{tenant}
	inScope := ""
	if c := scope.Where("r.department", "r.ward_id", func(v any) string { args = append(args, v); return "?" }); c != "" {
		inScope = ` AND EXISTS (SELECT 1 FROM requests r WHERE r.tenant_id = f.tenant_id AND r.id = f.request_id AND ` + c + `)`
	}
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, `SELECT f.request_id, count(*), max(f.at),
			(SELECT reason FROM flags g WHERE g.tenant_id = f.tenant_id AND g.request_id = f.request_id ORDER BY at DESC, id DESC LIMIT 1),
			EXISTS (SELECT 1 FROM hidden_descriptions h WHERE h.tenant_id = f.tenant_id AND h.request_id = f.request_id)
		FROM flags f WHERE f.tenant_id = ?`+inScope+` GROUP BY f.request_id ORDER BY count(*) DESC, max(f.at) DESC LIMIT ?`, args...)
	if err != nil {
		return nil, wrap(ctx, "list flags", err)
	}
	defer rows.Close()
	var out []requests.FlagCount
	for rows.Next() {
		var (
			fc   requests.FlagCount
			id   int64
			last sql.NullInt64
		)
		if err := rows.Scan(&id, &fc.Count, &last, &fc.LastReason, &fc.Hidden); err != nil {
			return nil, wrap(ctx, "list flags", err)
		}
		fc.ServiceRequestID, fc.Last = requests.FormatServiceRequestID(id), fromMicros(last)
		out = append(out, fc)
	}
	return out, wrap(ctx, "list flags", rows.Err())
}

// RequestModeration implements requests.ModerationStore.
func (s *Store) RequestModeration(ctx context.Context, tenant, serviceRequestID string) (requests.Moderation, error) {
	var m requests.Moderation
	id, err := requestID(ctx, s.read, tenant, serviceRequestID)
	if err != nil {
		return m, wrap(ctx, "read moderation", err)
	}
	err = s.read.QueryRowContext(ctx, `SELECT description FROM hidden_descriptions WHERE tenant_id = ? AND request_id = ?`, tenant, id).Scan(&m.HiddenDescription)
	m.DescriptionHidden = err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return m, wrap(ctx, "read moderation", err)
	}
	err = s.read.QueryRowContext(ctx, `SELECT count(*) FROM flags WHERE tenant_id = ? AND request_id = ?`, tenant, id).Scan(&m.Flags)
	return m, wrap(ctx, "read moderation", err)
}
