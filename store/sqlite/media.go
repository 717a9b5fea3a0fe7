package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pinward/pinward/requests"
)

// insertMedia stores a new request's photos, in its transaction.
func insertMedia(ctx context.Context, tx *sql.Tx, r requests.Request, media []requests.NewMedia) error {
	for _, m := range media {
		if _, err := tx.ExecContext(ctx, `INSERT INTO media (id, tenant_id, request_id, seq, state, width, height, created_at, jpeg, thumb)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, r.TenantID, r.ID, m.Seq, string(m.State), m.Width, m.Height,
			micros(r.RequestedAt), m.JPEG, m.Thumb); err != nil {
			return fmt.Errorf("insert photo %d: %w", m.Seq, err)
		}
	}
	return nil
}

const mediaCols = `id, tenant_id, request_id, seq, state, width, height, created_at`

func scanMedia(sc scanner, extra ...any) (requests.Media, error) {
	var (
		m       requests.Media
		state   string
		created sql.NullInt64
	)
	err := sc.Scan(append([]any{&m.ID, &m.TenantID, &m.RequestID, &m.Seq, &state, &m.Width, &m.Height, &created}, extra...)...)
	m.State, m.CreatedAt = requests.MediaState(state), fromMicros(created)
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
	m, err := scanMedia(s.read.QueryRowContext(ctx, `SELECT `+mediaCols+`, `+col+` FROM media WHERE tenant_id = ? AND id = ?`, tenant, id), &data)
	if errors.Is(err, sql.ErrNoRows) {
		return requests.Media{}, requests.MediaNotFoundError()
	}
	if err != nil {
		return requests.Media{}, wrap(ctx, "get photo", err)
	}
	m.Data = data
	return m, nil
}

// ListMedia implements requests.MediaStore.
func (s *Store) ListMedia(ctx context.Context, tenant, serviceRequestID string) ([]requests.Media, error) {
	id, err := requestID(ctx, s.read, tenant, serviceRequestID)
	if err != nil {
		return nil, wrap(ctx, "list photos", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+mediaCols+` FROM media WHERE tenant_id = ? AND request_id = ? ORDER BY seq`, tenant, id)
	if err != nil {
		return nil, wrap(ctx, "list photos", err)
	}
	defer rows.Close()
	var out []requests.Media
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, wrap(ctx, "list photos", err)
		}
		out = append(out, m)
	}
	return out, wrap(ctx, "list photos", rows.Err())
}

// SetMediaState implements requests.MediaStore.
func (s *Store) SetMediaState(ctx context.Context, c requests.MediaChange) (requests.Media, error) {
	var m requests.Media
	err := s.inTx(ctx, "moderate photo", func(tx *sql.Tx) error {
		var err error
		m, err = scanMedia(tx.QueryRowContext(ctx, `SELECT `+mediaCols+` FROM media WHERE tenant_id = ? AND id = ?`, c.Tenant, c.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return requests.MediaNotFoundError()
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE media SET state = ? WHERE id = ?`, string(c.State), c.ID); err != nil {
			return err
		}
		m.State = c.State
		if err := syncMediaURL(ctx, tx, c.Tenant, m.RequestID, c.At); err != nil {
			return err
		}
		return insertEvent(ctx, tx, mediaEvent(c, m.RequestID))
	})
	return m, err
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
func syncMediaURL(ctx context.Context, tx *sql.Tx, tenant string, requestID int64, at time.Time) error {
	var first string
	err := tx.QueryRowContext(ctx, `SELECT id FROM media WHERE tenant_id = ? AND request_id = ? AND state = 'approved'
		ORDER BY seq LIMIT 1`, tenant, requestID).Scan(&first)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	url := ""
	if first != "" {
		url = requests.MediaPath(first)
	}
	_, err = tx.ExecContext(ctx, `UPDATE requests SET media_url = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND media_url <> ?
		AND (? <> '' OR media_url LIKE '/media/%')`, url, micros(at), tenant, requestID, url, url)
	return err
}

// PurgeMedia implements requests.MediaStore.
func (s *Store) PurgeMedia(ctx context.Context, p requests.ReporterPurge) (int, error) {
	var n int
	err := s.inTx(ctx, "purge photos", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT m.request_id FROM media m JOIN requests q ON q.id = m.request_id
			WHERE m.tenant_id = ? AND q.status = ? AND COALESCE(q.updated_at, q.requested_at) < ?
			ORDER BY m.request_id LIMIT ?`, p.Tenant, string(requests.Closed), micros(p.ClosedBefore), p.Limit)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		note := fmt.Sprintf("closed before %s", p.ClosedBefore.UTC().Format("2006-01-02"))
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM media WHERE tenant_id = ? AND request_id = ?`, p.Tenant, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE requests SET media_url = '' WHERE tenant_id = ? AND id = ? AND media_url LIKE '/media/%'`,
				p.Tenant, id); err != nil {
				return err
			}
			if err := insertEvent(ctx, tx, requests.Event{TenantID: p.Tenant, RequestID: id, At: p.At, Actor: p.Actor,
				Kind: requests.EventMediaPurged, Note: note}); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}
