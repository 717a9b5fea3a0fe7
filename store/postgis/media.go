package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

// insertMedia stores a new request's photos, in its transaction.
func insertMedia(ctx context.Context, tx pgx.Tx, r requests.Request, media []requests.NewMedia) error {
	for _, m := range media {
		if _, err := tx.Exec(ctx, `INSERT INTO media (id, tenant_id, request_id, seq, state, width, height, created_at, jpeg, thumb)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, m.ID, r.TenantID, r.ID, m.Seq, string(m.State), m.Width, m.Height,
			r.RequestedAt, m.JPEG, m.Thumb); err != nil {
			return fmt.Errorf("insert photo %d: %w", m.Seq, err)
		}
	}
	return nil
}

const mediaCols = `id, tenant_id, request_id, seq, state, width, height, created_at`

func scanMedia(row pgx.Row, extra ...any) (requests.Media, error) {
	var (
		m     requests.Media
		state string
	)
	err := row.Scan(append([]any{&m.ID, &m.TenantID, &m.RequestID, &m.Seq, &state, &m.Width, &m.Height, &m.CreatedAt}, extra...)...)
	m.State, m.CreatedAt = requests.MediaState(state), m.CreatedAt.UTC()
	m.ServiceRequestID = requests.FormatServiceRequestID(m.RequestID)
	return m, err
}

// GetMedia implements requests.MediaStore.
func (s *Store) GetMedia(ctx context.Context, tenant, id string, thumb bool) (requests.Media, error) {
	col := "jpeg"
	if thumb {
		col = "thumb"
	}
	var data []byte
	m, err := scanMedia(s.pool.QueryRow(ctx, `SELECT `+mediaCols+`, `+col+` FROM media WHERE tenant_id = $1 AND id = $2`, tenant, id), &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return requests.Media{}, requests.MediaNotFoundError()
	}
	if err != nil {
		return requests.Media{}, internal("get photo", err)
	}
	m.Data = data
	return m, nil
}

// ListMedia implements requests.MediaStore.
func (s *Store) ListMedia(ctx context.Context, tenant, serviceRequestID string) ([]requests.Media, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return nil, requests.RequestNotFoundError(serviceRequestID)
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM requests WHERE tenant_id = $1 AND id = $2)`, tenant, id).Scan(&exists); err != nil {
		return nil, internal("list photos", err)
	}
	if !exists {
		return nil, requests.RequestNotFoundError(serviceRequestID)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+mediaCols+` FROM media WHERE tenant_id = $1 AND request_id = $2 ORDER BY seq`, tenant, id)
	if err != nil {
		return nil, internal("list photos", err)
	}
	defer rows.Close()
	var out []requests.Media
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, internal("list photos", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list photos", err)
	}
	return out, nil
}

// SetMediaState implements requests.MediaStore.
func (s *Store) SetMediaState(ctx context.Context, c requests.MediaChange) (requests.Media, error) {
	var m requests.Media
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		m, err = scanMedia(tx.QueryRow(ctx, `UPDATE media SET state = $3 WHERE tenant_id = $1 AND id = $2 RETURNING `+mediaCols,
			c.Tenant, c.ID, string(c.State)))
		if errors.Is(err, pgx.ErrNoRows) {
			return requests.MediaNotFoundError()
		}
		if err != nil {
			return err
		}
		if err := syncMediaURL(ctx, tx, c.Tenant, m.RequestID, c.At); err != nil {
			return err
		}
		return insertEvent(ctx, tx, mediaEvent(c, m.RequestID))
	})
	if err != nil {
		return requests.Media{}, internal("moderate photo", err)
	}
	return m, nil
}

func mediaEvent(c requests.MediaChange, requestID int64) requests.Event {
	kind, note := requests.EventMediaApproved, "photo "+c.ID
	if c.State == requests.MediaHidden {
		kind = requests.EventMediaHidden
	}
	if c.Reason != "" {
		note += ": " + c.Reason
	}
	return requests.Event{TenantID: c.Tenant, RequestID: requestID, At: c.At, Actor: c.Actor, Kind: kind, Note: note}
}

// syncMediaURL points a request's media_url at its first approved photo,
// or empties it when it named one of its photos and none is approved. A
// media_url the client gave (another site's) stays while no photo is.
func syncMediaURL(ctx context.Context, tx pgx.Tx, tenant string, requestID int64, at time.Time) error {
	_, err := tx.Exec(ctx, `WITH first AS (
			SELECT COALESCE((SELECT '/media/' || id || '.jpg' FROM media WHERE tenant_id = $1 AND request_id = $2
				AND state = 'approved' ORDER BY seq LIMIT 1), '') AS url)
		UPDATE requests SET media_url = first.url, updated_at = $3 FROM first
		WHERE tenant_id = $1 AND id = $2 AND media_url <> first.url AND (first.url <> '' OR media_url LIKE '/media/%')`,
		tenant, requestID, at)
	return err
}

// PurgeMedia implements requests.MediaStore.
func (s *Store) PurgeMedia(ctx context.Context, p requests.ReporterPurge) (int, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `WITH doomed AS (
				SELECT DISTINCT m.request_id FROM media m
				JOIN requests q ON q.tenant_id = m.tenant_id AND q.id = m.request_id
				WHERE m.tenant_id = $1 AND q.status = $2 AND q.updated_at < $3
				ORDER BY m.request_id LIMIT $4
			), gone AS (
				DELETE FROM media m USING doomed d WHERE m.tenant_id = $1 AND m.request_id = d.request_id
				RETURNING m.request_id
			), cleared AS (
				UPDATE requests q SET media_url = '' FROM doomed d
				WHERE q.tenant_id = $1 AND q.id = d.request_id AND q.media_url LIKE '/media/%'
			)
			INSERT INTO events (tenant_id, request_id, at, actor, kind, note)
			SELECT $1, d.request_id, $5, $6, $7, $8 FROM doomed d WHERE d.request_id IN (SELECT request_id FROM gone)`,
			p.Tenant, string(requests.Closed), p.ClosedBefore, p.Limit, p.At, p.Actor, string(requests.EventMediaPurged),
			fmt.Sprintf("closed before %s", p.ClosedBefore.UTC().Format("2006-01-02")))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, internal("purge photos", err)
	}
	return int(n), nil
}
