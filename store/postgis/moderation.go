package postgis

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

// requestPK returns tenant's request's primary key, RequestNotFoundError
// when there is none.
func requestPK(ctx context.Context, q queryRower, tenant, serviceRequestID string) (int64, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return 0, requests.RequestNotFoundError(serviceRequestID)
	}
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM requests WHERE tenant_id = $1 AND id = $2)`, tenant, id).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, requests.RequestNotFoundError(serviceRequestID)
	}
	return id, nil
}

// SetDescriptionHidden implements requests.ModerationStore.
func (s *Store) SetDescriptionHidden(ctx context.Context, c requests.DescriptionChange) (requests.Request, error) {
	var out requests.Request
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := requestPK(ctx, tx, c.Tenant, c.ServiceRequestID)
		if err != nil {
			return err
		}
		var hidden string
		// The request's row lock serialises two staff members.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM requests WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, c.Tenant, id); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT description FROM hidden_descriptions WHERE tenant_id = $1 AND request_id = $2`, c.Tenant, id).Scan(&hidden)
		isHidden := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if isHidden == c.Hide {
			return requests.DescriptionStateError(c.Hide)
		}
		kind := requests.EventDescriptionShown
		if c.Hide {
			kind = requests.EventDescriptionHidden
			if _, err := tx.Exec(ctx, `INSERT INTO hidden_descriptions (tenant_id, request_id, description)
				SELECT tenant_id, id, description FROM requests WHERE tenant_id = $1 AND id = $2`, c.Tenant, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE requests SET description = '' WHERE tenant_id = $1 AND id = $2`, c.Tenant, id); err != nil {
				return err
			}
		} else {
			if _, err := tx.Exec(ctx, `UPDATE requests SET description = $3 WHERE tenant_id = $1 AND id = $2`, c.Tenant, id, hidden); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM hidden_descriptions WHERE tenant_id = $1 AND request_id = $2`, c.Tenant, id); err != nil {
				return err
			}
		}
		if err := insertEvent(ctx, tx, requests.Event{TenantID: c.Tenant, RequestID: id, At: c.At, Actor: c.Actor, Kind: kind, Note: c.Reason}); err != nil {
			return err
		}
		out, err = scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE tenant_id = $1 AND id = $2`, c.Tenant, id))
		return err
	})
	if err != nil {
		return requests.Request{}, internal("moderate description", err)
	}
	return out, nil
}

// AddFlag implements requests.ModerationStore.
func (s *Store) AddFlag(ctx context.Context, f requests.Flag) error {
	id, err := requestPK(ctx, s.pool, f.Tenant, f.ServiceRequestID)
	if err != nil {
		return internal("flag request", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO flags (tenant_id, request_id, reason, at) VALUES ($1, $2, $3, $4)`, f.Tenant, id, f.Reason, f.At); err != nil {
		return internal("flag request", err)
	}
	return nil
}

// ListFlags implements requests.ModerationStore.
func (s *Store) ListFlags(ctx context.Context, tenant string, scope requests.Scope, limit int) ([]requests.FlagCount, error) {
	args := []any{tenant, limit}
	inScope := ""
	if c := scope.Where("r.department", "r.ward_id", func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}); c != "" {
		inScope = ` AND EXISTS (SELECT 1 FROM requests r WHERE r.tenant_id = f.tenant_id AND r.id = f.request_id AND ` + c + `)`
	}
	rows, err := s.pool.Query(ctx, `SELECT f.request_id, count(*), max(f.at),
			(SELECT reason FROM flags g WHERE g.tenant_id = f.tenant_id AND g.request_id = f.request_id ORDER BY at DESC, id DESC LIMIT 1),
			EXISTS (SELECT 1 FROM hidden_descriptions h WHERE h.tenant_id = f.tenant_id AND h.request_id = f.request_id)
		FROM flags f WHERE f.tenant_id = $1`+inScope+` GROUP BY f.tenant_id, f.request_id ORDER BY count(*) DESC, max(f.at) DESC LIMIT $2`, args...)
	if err != nil {
		return nil, internal("list flags", err)
	}
	defer rows.Close()
	var out []requests.FlagCount
	for rows.Next() {
		var (
			fc requests.FlagCount
			id int64
		)
		if err := rows.Scan(&id, &fc.Count, &fc.Last, &fc.LastReason, &fc.Hidden); err != nil {
			return nil, internal("list flags", err)
		}
		fc.ServiceRequestID, fc.Last = requests.FormatServiceRequestID(id), fc.Last.UTC()
		out = append(out, fc)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list flags", err)
	}
	return out, nil
}

// RequestModeration implements requests.ModerationStore.
func (s *Store) RequestModeration(ctx context.Context, tenant, serviceRequestID string) (requests.Moderation, error) {
	var m requests.Moderation
	id, err := requestPK(ctx, s.pool, tenant, serviceRequestID)
	if err != nil {
		return m, internal("read moderation", err)
	}
	err = s.pool.QueryRow(ctx, `SELECT COALESCE((SELECT description FROM hidden_descriptions WHERE tenant_id = $1 AND request_id = $2), ''),
		EXISTS (SELECT 1 FROM hidden_descriptions WHERE tenant_id = $1 AND request_id = $2),
		(SELECT count(*) FROM flags WHERE tenant_id = $1 AND request_id = $2)`, tenant, id).Scan(&m.HiddenDescription, &m.DescriptionHidden, &m.Flags)
	if err != nil {
		return m, internal("read moderation", err)
	}
	return m, nil
}
