package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

var _ requests.MailStore = (*Store)(nil)

// Rows are written by the triggers of migration 1300 on events; this file
// claims, records, lists and unsubscribes.

// A staff row (escalated) has no reporter: its request is its event's.
const mailCols = `o.id, o.kind, o.state, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.delivered_at,
	COALESCE(o.request_id, (SELECT ev.request_id FROM events ev WHERE ev.id = o.event_id)), o.event_id`

// scanMail reads mailCols, then extra.
func scanMail(sc rowScanner, tenant string, extra ...any) (requests.MailMessage, error) {
	var (
		m                        requests.MailMessage
		kind, state              string
		next, created, delivered sql.NullInt64
		reqID                    int64
	)
	err := sc.Scan(append([]any{&m.ID, &kind, &state, &m.Attempts, &next, &m.LastError, &created, &delivered, &reqID, &m.EventID}, extra...)...)
	m.TenantID, m.Kind, m.State = tenant, requests.MailKind(kind), requests.OutboxState(state)
	m.NextAttemptAt, m.CreatedAt, m.DeliveredAt = fromMicros(next), fromMicros(created), fromMicros(delivered)
	m.RequestID = requests.FormatServiceRequestID(reqID)
	return m, err
}

// ClaimMail implements requests.MailStore. The write transaction
// serialises claims (also across processes on one file).
func (s *Store) ClaimMail(ctx context.Context, tenant string, now time.Time, lease time.Duration, limit int) ([]requests.MailMessage, error) {
	var out []requests.MailMessage
	err := s.inTx(ctx, "claim mail", func(tx *sql.Tx) error {
		// A message whose reporter opted out (an access link excepted: they
		// asked for it) or whose address was refused since it was queued
		// goes dead, with the reason. Neither subquery refers to the outer
		// row, so SQLite builds each once (a correlated one ran per pending
		// message: 69 messages/s at 4,000).
		if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'dead', last_error = 'the reporter no longer receives messages'
			WHERE tenant_id = ? AND state = 'pending' AND next_attempt_at <= ? AND (
				(kind <> 'access' AND request_id IN (SELECT rp.request_id FROM reporters rp WHERE NOT rp.notify))
				OR request_id IN (SELECT rp.request_id FROM reporters rp WHERE rp.email = ''
				   OR EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = rp.tenant_id AND u.email = lower(rp.email))))`,
			tenant, now.UnixMicro()); err != nil {
			return err
		}
		// So does a staff message to an address refused since.
		if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'dead', last_error = 'the address is undeliverable'
			WHERE tenant_id = ? AND state = 'pending' AND next_attempt_at <= ? AND to_address IS NOT NULL
			  AND EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = mail_outbox.tenant_id AND u.email = lower(mail_outbox.to_address))`,
			tenant, now.UnixMicro()); err != nil {
			return err
		}
		lease := now.Add(lease).UnixMicro()
		rows, err := tx.QueryContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ?
			WHERE id IN (SELECT id FROM mail_outbox WHERE tenant_id = ? AND state = 'pending' AND next_attempt_at <= ?
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING id`, lease, tenant, now.UnixMicro(), limit)
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
		if len(ids) == 0 {
			return nil
		}
		// The claimed rows with what their messages need, read through
		// a temporary list of IDs (a batch can be hundreds).
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS mail_claim (id INTEGER PRIMARY KEY)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mail_claim`); err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO mail_claim (id) VALUES (?)`)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := ins.ExecContext(ctx, id); err != nil {
				ins.Close()
				return err
			}
		}
		ins.Close()
		rows, err = tx.QueryContext(ctx, `SELECT `+mailCols+`, COALESCE(o.to_address, rp.email), COALESCE(o.lang, q.lang), q.service_code, q.due_at, q.department,
				e.to_status, e.note, e.public_note_en, e.public_note_fr, e.reason, e.level
			FROM mail_claim c JOIN mail_outbox o ON o.id = c.id
			JOIN events e ON e.id = o.event_id
			LEFT JOIN reporters rp ON rp.request_id = o.request_id
			JOIN requests q ON q.id = COALESCE(o.request_id, e.request_id)
			ORDER BY o.id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				lang, to, email, code, note, en, fr, reason, dept string
				due                                               sql.NullInt64
				level                                             int
			)
			m, err := scanMail(rows, tenant, &email, &lang, &code, &due, &dept, &to, &note, &en, &fr, &reason, &level)
			if err != nil {
				return err
			}
			m.To, m.ServiceCode, m.Note, m.NoteEn, m.NoteFr, m.Reason, m.Department = email, code, note, en, fr, reason, dept
			m.Lang, m.ToStatus, m.DueAt, m.Level = i18n.Lang(lang), requests.Status(to), fromMicros(due), level
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM mail_claim`)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordMailAttempts implements requests.MailStore.
func (s *Store) RecordMailAttempts(ctx context.Context, tenant string, rs []requests.MailAttempt) error {
	if len(rs) == 0 {
		return nil
	}
	return s.inTx(ctx, "record mail attempts", func(tx *sql.Tx) error {
		for _, r := range rs {
			var err error
			switch {
			case r.Delivered:
				_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'delivered', delivered_at = ?, last_error = ''
					WHERE tenant_id = ? AND id = ? AND state = 'pending'`, r.At.UnixMicro(), tenant, r.MessageID)
			case r.Undeliverable:
				var email string
				// The address, a reporter's or a staff contact's.
				err = tx.QueryRowContext(ctx, `SELECT lower(COALESCE(o.to_address, rp.email, '')) FROM mail_outbox o
					LEFT JOIN reporters rp ON rp.request_id = o.request_id
					WHERE o.tenant_id = ? AND o.id = ?`, tenant, r.MessageID).Scan(&email)
				if errors.Is(err, sql.ErrNoRows) || (err == nil && email == "") {
					err = nil
					break
				}
				if err != nil {
					break
				}
				if _, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO mail_undeliverable (tenant_id, email, code, detail, at)
					VALUES (?, ?, ?, ?, ?)`, tenant, email, r.Code, r.Error, r.At.UnixMicro()); err != nil {
					break
				}
				_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'dead', last_error = ?
					WHERE tenant_id = ? AND state = 'pending' AND (lower(to_address) = ? OR request_id IN (
						SELECT request_id FROM reporters WHERE tenant_id = ? AND lower(email) = ?))`, r.Error, tenant, email, tenant, email)
			default:
				state := requests.OutboxPending
				if r.Dead {
					state = requests.OutboxDead
				}
				_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET state = ?, last_error = ?, next_attempt_at = ?
					WHERE tenant_id = ? AND id = ? AND state = 'pending'`, string(state), r.Error, r.Next.UnixMicro(), tenant, r.MessageID)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// ListMail implements requests.MailStore.
func (s *Store) ListMail(ctx context.Context, f requests.MailFilter) ([]requests.MailMessage, error) {
	limit := f.Limit
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+mailCols+` FROM mail_outbox o
		WHERE o.tenant_id = ? AND (? = '' OR o.state = ?) AND o.id > ? ORDER BY o.id LIMIT ?`,
		f.Tenant, string(f.State), string(f.State), f.AfterID, limit)
	if err != nil {
		return nil, wrap(ctx, "list mail", err)
	}
	defer rows.Close()
	var out []requests.MailMessage
	for rows.Next() {
		m, err := scanMail(rows, f.Tenant)
		if err != nil {
			return nil, wrap(ctx, "list mail", err)
		}
		out = append(out, m)
	}
	return out, wrap(ctx, "list mail", rows.Err())
}

// CountMail implements requests.MailStore.
func (s *Store) CountMail(ctx context.Context, tenant string) (requests.MailCounts, error) {
	var c requests.MailCounts
	err := s.read.QueryRowContext(ctx, `SELECT
		coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'delivered'), 0), coalesce(sum(state = 'dead'), 0)
		FROM mail_outbox WHERE tenant_id = ?`, tenant).Scan(&c.Pending, &c.Delivered, &c.Dead)
	return c, wrap(ctx, "count mail", err)
}

// Unsubscribe implements requests.MailStore.
func (s *Store) Unsubscribe(ctx context.Context, tenant, serviceRequestID string) error {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return requests.UnsubscribeNotFoundError()
	}
	return s.inTx(ctx, "unsubscribe", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reporters SET notify = 0 WHERE tenant_id = ? AND request_id = ? AND email <> ''`, tenant, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = requests.UnsubscribeNotFoundError()
			}
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM mail_outbox WHERE tenant_id = ? AND request_id = ? AND state = 'pending'`, tenant, id)
		return err
	})
}

// ReporterMail implements requests.MailStore.
func (s *Store) ReporterMail(ctx context.Context, tenant, serviceRequestID string) (bool, *requests.Undeliverable, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return false, nil, requests.RequestNotFoundError(serviceRequestID)
	}
	var (
		notify bool
		email  string
		code   sql.NullInt64
		detail sql.NullString
		at     sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, `SELECT rp.notify, rp.email, u.code, u.detail, u.at FROM reporters rp
		LEFT JOIN mail_undeliverable u ON u.tenant_id = rp.tenant_id AND u.email = lower(rp.email) AND rp.email <> ''
		WHERE rp.tenant_id = ? AND rp.request_id = ?`, tenant, id).Scan(&notify, &email, &code, &detail, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, wrap(ctx, "reporter mail", err)
	}
	if !code.Valid {
		return notify, nil, nil
	}
	return notify, &requests.Undeliverable{Email: email, Code: int(code.Int64), Detail: detail.String, At: fromMicros(at)}, nil
}

// Setting implements requests.MailStore.
func (s *Store) Setting(ctx context.Context, tenant, name string, make func() (string, error)) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE tenant_id = ? AND name = ?`, tenant, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", wrap(ctx, "read setting "+strconv.Quote(name), err)
	}
	nv, err := make()
	if err != nil {
		return "", err
	}
	// The first process to store it wins; the others read its value.
	err = s.inTx(ctx, "store setting", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO settings (tenant_id, name, value) VALUES (?, ?, ?)`, tenant, name, nv); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE tenant_id = ? AND name = ?`, tenant, name).Scan(&v)
	})
	return v, err
}
