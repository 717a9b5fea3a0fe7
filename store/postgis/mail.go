package postgis

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

var _ requests.MailStore = (*Store)(nil)

// Rows are written by the trigger of migration 1300 on events; this file
// claims, records, lists and unsubscribes.

// mailCols are the columns every read of the outbox returns. A staff row
// (escalated) has no reporter: its request is its event's.
const mailCols = `o.id, o.kind, o.state, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.delivered_at,
	COALESCE(o.request_id, (SELECT ev.request_id FROM events ev WHERE ev.tenant_id = o.tenant_id AND ev.id = o.event_id)), o.event_id`

func scanMail(row pgx.Row, tenant string) (requests.MailMessage, error) {
	var (
		m           requests.MailMessage
		kind, state string
		delivered   *time.Time
		reqID       int64
	)
	err := row.Scan(&m.ID, &kind, &state, &m.Attempts, &m.NextAttemptAt, &m.LastError, &m.CreatedAt, &delivered, &reqID, &m.EventID)
	m.TenantID, m.Kind, m.State = tenant, requests.MailKind(kind), requests.OutboxState(state)
	m.NextAttemptAt, m.CreatedAt = m.NextAttemptAt.UTC(), m.CreatedAt.UTC()
	if delivered != nil {
		m.DeliveredAt = delivered.UTC()
	}
	m.RequestID = requests.FormatServiceRequestID(reqID)
	return m, err
}

// ClaimMail implements requests.MailStore. FOR UPDATE SKIP LOCKED lets
// several servers claim side by side without taking the same message.
func (s *Store) ClaimMail(ctx context.Context, tenant string, now time.Time, lease time.Duration, limit int) ([]requests.MailMessage, error) {
	var out []requests.MailMessage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A message whose reporter opted out (an access link excepted: they
		// asked for it) or whose address was refused since it was queued
		// goes dead, with the reason; so does a staff
		// message to an address refused since.
		if _, err := tx.Exec(ctx, `WITH c AS (
				SELECT o.id FROM mail_outbox o JOIN pinward_private.reporters rp ON rp.tenant_id = o.tenant_id AND rp.request_id = o.request_id
				WHERE o.tenant_id = $1 AND o.state = 'pending' AND o.next_attempt_at <= $2
				  AND ((NOT rp.notify AND o.kind <> 'access') OR rp.email = '' OR EXISTS (SELECT 1 FROM mail_undeliverable u
				       WHERE u.tenant_id = rp.tenant_id AND u.email = lower(rp.email)))
				FOR UPDATE OF o SKIP LOCKED)
			UPDATE mail_outbox o SET state = 'dead', last_error = 'the reporter no longer receives messages'
			FROM c WHERE o.tenant_id = $1 AND o.id = c.id`, tenant, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `WITH c AS (
				SELECT o.id FROM mail_outbox o
				WHERE o.tenant_id = $1 AND o.state = 'pending' AND o.next_attempt_at <= $2 AND o.to_address IS NOT NULL
				  AND EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = o.tenant_id AND u.email = lower(o.to_address))
				FOR UPDATE OF o SKIP LOCKED)
			UPDATE mail_outbox o SET state = 'dead', last_error = 'the address is undeliverable'
			FROM c WHERE o.tenant_id = $1 AND o.id = c.id`, tenant, now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `WITH c AS (
				SELECT o.id FROM mail_outbox o
				WHERE o.tenant_id = $1 AND o.state = 'pending' AND o.next_attempt_at <= $2
				ORDER BY o.next_attempt_at, o.id LIMIT $3
				FOR UPDATE SKIP LOCKED),
			u AS (UPDATE mail_outbox o SET attempts = o.attempts + 1, next_attempt_at = $4
				FROM c WHERE o.tenant_id = $1 AND o.id = c.id RETURNING o.*)
			SELECT `+mailCols+`, COALESCE(o.to_address, rp.email), COALESCE(o.lang, q.lang), q.service_code, q.due_at, q.department,
				e.to_status, e.note, e.public_note_en, e.public_note_fr, e.reason, e.level
			FROM u o
			JOIN events e ON e.tenant_id = o.tenant_id AND e.id = o.event_id
			LEFT JOIN pinward_private.reporters rp ON rp.tenant_id = o.tenant_id AND rp.request_id = o.request_id
			JOIN requests q ON q.tenant_id = o.tenant_id AND q.id = COALESCE(o.request_id, e.request_id)
			ORDER BY o.id`, tenant, now, limit, now.Add(lease))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.MailMessage, error) {
			var (
				m           requests.MailMessage
				kind, state string
				delivered   *time.Time
				due         *time.Time
				reqID       int64
				lang, to    string
			)
			err := row.Scan(&m.ID, &kind, &state, &m.Attempts, &m.NextAttemptAt, &m.LastError, &m.CreatedAt, &delivered, &reqID, &m.EventID,
				&m.To, &lang, &m.ServiceCode, &due, &m.Department, &to, &m.Note, &m.NoteEn, &m.NoteFr, &m.Reason, &m.Level)
			m.TenantID, m.Kind, m.State, m.Lang, m.ToStatus = tenant, requests.MailKind(kind), requests.OutboxState(state), i18n.Lang(lang), requests.Status(to)
			m.NextAttemptAt, m.CreatedAt = m.NextAttemptAt.UTC(), m.CreatedAt.UTC()
			m.RequestID = requests.FormatServiceRequestID(reqID)
			if due != nil {
				m.DueAt = due.UTC()
			}
			return m, err
		})
		return err
	})
	if err != nil {
		return nil, wrapCtx(ctx, "claim mail", err)
	}
	return out, nil
}

// RecordMailAttempts implements requests.MailStore: one transaction, one
// round trip.
func (s *Store) RecordMailAttempts(ctx context.Context, tenant string, rs []requests.MailAttempt) error {
	if len(rs) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, r := range rs {
		switch {
		case r.Delivered:
			b.Queue(`UPDATE mail_outbox SET state = 'delivered', delivered_at = $3, last_error = ''
				WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`, tenant, r.MessageID, r.At)
		case r.Undeliverable:
			// The address (a reporter's or a staff contact's), then every
			// pending message to it, to reporters and to staff.
			b.Queue(`INSERT INTO mail_undeliverable (tenant_id, email, code, detail, at)
				SELECT o.tenant_id, lower(COALESCE(o.to_address, rp.email)), $3, $4, $5 FROM mail_outbox o
				LEFT JOIN pinward_private.reporters rp ON rp.tenant_id = o.tenant_id AND rp.request_id = o.request_id
				WHERE o.tenant_id = $1 AND o.id = $2 AND COALESCE(o.to_address, rp.email, '') <> ''
				ON CONFLICT DO NOTHING`, tenant, r.MessageID, r.Code, r.Error, r.At)
			b.Queue(`WITH addr AS (SELECT lower(COALESCE(o2.to_address, r2.email)) AS email FROM mail_outbox o2
				      LEFT JOIN pinward_private.reporters r2 ON r2.tenant_id = o2.tenant_id AND r2.request_id = o2.request_id
				      WHERE o2.tenant_id = $1 AND o2.id = $2)
				UPDATE mail_outbox o SET state = 'dead', last_error = $3
				WHERE o.tenant_id = $1 AND o.state = 'pending' AND (
				  lower(o.to_address) = (SELECT email FROM addr)
				  OR o.request_id IN (SELECT rp.request_id FROM pinward_private.reporters rp
				      WHERE rp.tenant_id = $1 AND lower(rp.email) = (SELECT email FROM addr)))`, tenant, r.MessageID, r.Error)
		default:
			state := requests.OutboxPending
			if r.Dead {
				state = requests.OutboxDead
			}
			b.Queue(`UPDATE mail_outbox SET state = $3, last_error = $4, next_attempt_at = $5
				WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`, tenant, r.MessageID, string(state), r.Error, r.Next)
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, &b).Close() })
	return wrapCtx(ctx, "record mail attempts", err)
}

// ListMail implements requests.MailStore.
func (s *Store) ListMail(ctx context.Context, f requests.MailFilter) ([]requests.MailMessage, error) {
	limit := f.Limit
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+mailCols+` FROM mail_outbox o
		WHERE o.tenant_id = $1 AND ($2 = '' OR o.state = $2) AND o.id > $3 ORDER BY o.id LIMIT $4`,
		f.Tenant, string(f.State), f.AfterID, limit)
	if err != nil {
		return nil, wrapCtx(ctx, "list mail", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.MailMessage, error) { return scanMail(row, f.Tenant) })
	return out, wrapCtx(ctx, "list mail", err)
}

// CountMail implements requests.MailStore.
func (s *Store) CountMail(ctx context.Context, tenant string) (requests.MailCounts, error) {
	var c requests.MailCounts
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'delivered'),
		count(*) FILTER (WHERE state = 'dead') FROM mail_outbox WHERE tenant_id = $1`, tenant).Scan(&c.Pending, &c.Delivered, &c.Dead)
	return c, wrapCtx(ctx, "count mail", err)
}

// Unsubscribe implements requests.MailStore.
func (s *Store) Unsubscribe(ctx context.Context, tenant, serviceRequestID string) error {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return requests.UnsubscribeNotFoundError()
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE pinward_private.reporters SET notify = false WHERE tenant_id = $1 AND request_id = $2 AND email <> ''`, tenant, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return requests.UnsubscribeNotFoundError()
		}
		_, err = tx.Exec(ctx, `DELETE FROM mail_outbox WHERE tenant_id = $1 AND request_id = $2 AND state = 'pending'`, tenant, id)
		return err
	})
	return wrapCtx(ctx, "unsubscribe", err)
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
		code   *int
		detail *string
		at     *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT rp.notify, rp.email, u.code, u.detail, u.at FROM pinward_private.reporters rp
		LEFT JOIN mail_undeliverable u ON u.tenant_id = rp.tenant_id AND u.email = lower(rp.email) AND rp.email <> ''
		WHERE rp.tenant_id = $1 AND rp.request_id = $2`, tenant, id).Scan(&notify, &email, &code, &detail, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, wrapCtx(ctx, "reporter mail", err)
	}
	if code == nil {
		return notify, nil, nil
	}
	return notify, &requests.Undeliverable{Email: email, Code: *code, Detail: *detail, At: at.UTC()}, nil
}

// Setting implements requests.MailStore.
func (s *Store) Setting(ctx context.Context, tenant, name string, make func() (string, error)) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE tenant_id = $1 AND name = $2`, tenant, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", wrapCtx(ctx, "read setting "+strconv.Quote(name), err)
	}
	nv, err := make()
	if err != nil {
		return "", err
	}
	// The first server to store it wins; the others read its value.
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (tenant_id, name, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		tenant, name, nv); err != nil {
		return "", wrapCtx(ctx, "store setting "+strconv.Quote(name), err)
	}
	err = s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE tenant_id = $1 AND name = $2`, tenant, name).Scan(&v)
	return v, wrapCtx(ctx, "read setting "+strconv.Quote(name), err)
}
