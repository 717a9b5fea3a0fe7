package postgis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// dueKey is the due order's sort key, the expression of the
// requests_queue_* indexes (migration 1200): no SLA sorts last.
const dueKey = `COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz)`

// Queue implements requests.QueueStore: one range of a requests_queue_*
// index from the cursor on, by row-value comparison.
func (s *Store) Queue(ctx context.Context, q requests.QueueQuery) ([]requests.QueueRow, error) {
	sql, args := queueSQL(q)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, internal("queue", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.QueueRow, error) {
		var (
			qr     requests.QueueRow
			paused *time.Time
		)
		r, err := scanRequest(extraRows{row, []any{&qr.Channel, &qr.Assignee, &paused}})
		qr.Request = r
		if paused != nil {
			qr.PausedAt = paused.UTC()
		}
		return qr, err
	})
	if err != nil {
		return nil, internal("queue", err)
	}
	ids := make([]int64, len(out))
	paused := make([]time.Time, len(out))
	for i, r := range out {
		ids[i], paused[i] = r.Request.ID, r.PausedAt
	}
	pauses, err := pausesOf(ctx, s.pool, q.Tenant, ids, paused)
	if err != nil {
		return nil, internal("queue", err)
	}
	for i := range out {
		out[i].Pauses = pauses[i]
	}
	return out, nil
}

// queueSQL is Queue's statement; the bench shows it beside one written by
// hand.
func queueSQL(q requests.QueueQuery) (string, []any) {
	where := []string{"tenant_id = $1", "status <> 'closed'"}
	args := []any{q.Tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Department != "" {
		where = append(where, "department = "+arg(q.Department))
	}
	if q.WardID != "" {
		where = append(where, "ward_id = "+arg(q.WardID))
	}
	if c := q.Scope.Where("department", "ward_id", arg); c != "" {
		where = append(where, c)
	}
	if q.ServiceCode != "" {
		where = append(where, "service_code = "+arg(q.ServiceCode))
	}
	if len(q.Statuses) > 0 {
		st := make([]string, len(q.Statuses))
		for i, v := range q.Statuses {
			st[i] = string(v)
		}
		where = append(where, "status = ANY("+arg(st)+")")
	}
	if q.Assignee != "" {
		where = append(where, "assignee = "+arg(q.Assignee))
	}
	if q.Channel != "" {
		where = append(where, "channel = "+arg(q.Channel))
	}
	if q.Overdue {
		where = append(where, dueKey+" < "+arg(q.Now))
	}
	var order string
	switch q.Sort {
	case requests.SortReceived:
		order = "requested_at, id"
		if c := q.After; c != nil {
			where = append(where, "(requested_at, id) > ("+arg(c.Time)+", "+arg(c.ID)+")")
		}
	case requests.SortEscalation:
		order = "(-escalation_level), " + dueKey + ", id"
		if c := q.After; c != nil {
			where = append(where, "((-escalation_level), "+dueKey+", id) > ("+arg(-c.Level)+"::int, "+arg(c.Time)+", "+arg(c.ID)+")")
		}
	default:
		order = dueKey + ", id"
		if c := q.After; c != nil {
			where = append(where, "("+dueKey+", id) > ("+arg(c.Time)+", "+arg(c.ID)+")")
		}
	}
	limit := q.Limit
	if limit <= 0 || limit > requests.MaxQueueLimit {
		limit = requests.MaxQueueLimit
	}
	return `SELECT ` + requestColumns + `, channel, assignee, paused_at FROM requests WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY ` + order + ` LIMIT ` + arg(limit), args
}

// extraRows appends destinations to a Scan, so scanRequest can read a row
// with more columns than requestColumns.
type extraRows struct {
	pgx.Row
	extra []any
}

func (e extraRows) Scan(dest ...any) error { return e.Row.Scan(append(dest, e.extra...)...) }

// pausesOf returns the pauses of each request of ids (whose paused_at are
// paused), from their status changes into and out of waiting on the
// resident (events_request index).
func pausesOf(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, tenant string, ids []int64, paused []time.Time) ([][]requests.Pause, error) {
	out := make([][]requests.Pause, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	at := map[int64]int{}
	for i, id := range ids {
		at[id] = i
	}
	rows, err := q.Query(ctx, `SELECT request_id, at, from_status, to_status FROM events
		WHERE tenant_id = $1 AND request_id = ANY($2) AND kind = 'status'
		  AND (from_status = 'waiting_on_resident' OR to_status = 'waiting_on_resident')
		ORDER BY request_id, at, id`, tenant, ids)
	if err != nil {
		return nil, fmt.Errorf("read pauses: %w", err)
	}
	steps := make([][]requests.StatusStep, len(ids))
	var (
		id       int64
		t        time.Time
		from, to string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &t, &from, &to}, func() error {
		i := at[id]
		steps[i] = append(steps[i], requests.StatusStep{At: t.UTC(), From: requests.Status(from), To: requests.Status(to)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read pauses: %w", err)
	}
	for i := range ids {
		out[i] = requests.PausesOf(steps[i], paused[i])
	}
	return out, nil
}

const escalationCols = `id, service_code, department, ward_id, status, requested_at, due_at, paused_at,
	escalation_level, next_escalation_at`

type pgQuerier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// escalationStates reads the states the where clause selects (with their
// pauses) through q; $1 is the tenant.
func escalationStates(ctx context.Context, q pgQuerier, tenant, where string, args ...any) ([]requests.EscalationState, error) {
	rows, err := q.Query(ctx, `SELECT `+escalationCols+` FROM requests WHERE tenant_id = $1 AND `+where,
		append([]any{tenant}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("read escalation states: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.EscalationState, error) {
		var (
			e                   requests.EscalationState
			due, paused, nextAt *time.Time
		)
		err := row.Scan(&e.ID, &e.ServiceCode, &e.Department, &e.WardID, &e.Status, &e.RequestedAt, &due, &paused,
			&e.EscalationLevel, &nextAt)
		e.ServiceRequestID = requests.FormatServiceRequestID(e.ID)
		e.RequestedAt = e.RequestedAt.UTC()
		for _, p := range []struct {
			src *time.Time
			dst *time.Time
		}{{due, &e.DueAt}, {paused, &e.PausedAt}, {nextAt, &e.NextEscalationAt}} {
			if p.src != nil {
				*p.dst = p.src.UTC()
			}
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read escalation states: %w", err)
	}
	ids := make([]int64, len(out))
	paused := make([]time.Time, len(out))
	for i, e := range out {
		ids[i], paused[i] = e.ID, e.PausedAt
	}
	pauses, err := pausesOf(ctx, q, tenant, ids, paused)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Pauses = pauses[i]
	}
	return out, nil
}

// EscalationStates implements requests.QueueStore.
func (s *Store) EscalationStates(ctx context.Context, tenant string, serviceRequestIDs []string) ([]requests.EscalationState, error) {
	ids := make([]int64, 0, len(serviceRequestIDs))
	for _, sid := range serviceRequestIDs {
		if id, ok := requests.ParseServiceRequestID(sid); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := escalationStates(ctx, s.pool, tenant, "id = ANY($2)", ids)
	if err != nil {
		return nil, internal("escalation states", err)
	}
	return out, nil
}

// SetNextEscalations implements requests.QueueStore, in one statement.
func (s *Store) SetNextEscalations(ctx context.Context, tenant string, ns []requests.NextEscalation) (int, error) {
	if len(ns) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(ns))
	status := make([]string, len(ns))
	paused, next := make([]*time.Time, len(ns)), make([]*time.Time, len(ns))
	level := make([]int32, len(ns))
	for i, n := range ns {
		ids[i], status[i], paused[i], level[i], next[i] = n.ID, string(n.Status), nullTime(n.PausedAt), int32(n.EscalationLevel), nullTime(n.At)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE requests r SET next_escalation_at = u.next
		FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::int[], $6::timestamptz[]) AS u(id, status, paused, level, next)
		WHERE r.tenant_id = $1 AND r.id = u.id AND r.status = u.status AND r.paused_at IS NOT DISTINCT FROM u.paused
		  AND r.escalation_level = u.level AND r.next_escalation_at IS DISTINCT FROM u.next`,
		tenant, ids, status, paused, level, next)
	if err != nil {
		return 0, internal("set next escalations", err)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimEscalations implements requests.QueueStore. FOR UPDATE SKIP LOCKED:
// sweepers on several servers each take rows no other holds, and a row is
// raised only from the level read, so a level fires once.
func (s *Store) ClaimEscalations(ctx context.Context, c requests.EscalationClaim) (int, error) {
	limit := c.Limit
	if limit <= 0 {
		limit = 100
	}
	fired := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		due, err := escalationStates(ctx, tx, c.Tenant, `id IN (SELECT id FROM requests
			WHERE tenant_id = $1 AND next_escalation_at IS NOT NULL AND next_escalation_at <= $2
			ORDER BY next_escalation_at LIMIT $3 FOR UPDATE SKIP LOCKED)`, c.Now, limit)
		if err != nil {
			return err
		}
		var (
			b       pgx.Batch
			planned []plannedEscalation
		)
		for _, st := range due {
			esc, ok := c.Plan(st)
			if !ok {
				b.Queue(`UPDATE requests SET next_escalation_at = $3 WHERE tenant_id = $1 AND id = $2 AND escalation_level = $4`,
					c.Tenant, st.ID, nullTime(esc.Next), st.EscalationLevel)
				continue
			}
			b.Queue(`UPDATE requests SET escalation_level = $3, next_escalation_at = $4
				WHERE tenant_id = $1 AND id = $2 AND escalation_level = $5`,
				c.Tenant, st.ID, esc.Level, nullTime(esc.Next), esc.Level-1).Exec(func(tag pgconn.CommandTag) error {
				if tag.RowsAffected() != 1 {
					return fmt.Errorf("raise level of request %d: %d rows", st.ID, tag.RowsAffected())
				}
				return nil
			})
			b.Queue(`INSERT INTO events (tenant_id, request_id, at, actor, kind, level, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				c.Tenant, st.ID, c.Now, esc.Actor, string(requests.EventEscalated), esc.Level, esc.Notify)
			planned = append(planned, plannedEscalation{st.ID, esc})
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return fmt.Errorf("raise escalation levels: %w", err)
			}
		}
		fired = len(planned)
		if c.AfterClaim != nil {
			c.AfterClaim(ctx)
		}
		// One message per contact into the mail outbox, against the
		// level's event; an address refused for good gets none.
		var mb pgx.Batch
		for _, p := range planned {
			for _, ct := range p.esc.Contacts {
				mb.Queue(`INSERT INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id, event_at,
						next_attempt_at, created_at, to_address, lang)
					SELECT e.tenant_id, NULL, e.id, 'escalated', q.cluster_id, e.at, clock_timestamp(), $4, $5, $6
					FROM events e JOIN requests q ON q.tenant_id = e.tenant_id AND q.id = e.request_id
					WHERE e.tenant_id = $1 AND e.request_id = $2 AND e.kind = 'escalated' AND e.level = $3 AND e.at = $4
					  AND NOT EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = $1 AND u.email = lower($5))
					ON CONFLICT DO NOTHING`,
					c.Tenant, p.id, p.esc.Level, c.Now, ct.Email, string(ct.Lang))
			}
		}
		if mb.Len() > 0 {
			if err := tx.SendBatch(ctx, &mb).Close(); err != nil {
				return fmt.Errorf("queue escalation messages: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, internal("claim escalations", err)
	}
	return fired, nil
}

type plannedEscalation struct {
	id  int64
	esc requests.Escalation
}

// EscalationMessages implements requests.QueueStore.
func (s *Store) EscalationMessages(ctx context.Context, tenant string, since time.Time, limit int) ([]requests.EscalationMessage, error) {
	if limit <= 0 {
		limit = 1000
	}
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	rows, err := s.pool.Query(ctx, `SELECT o.id, e.request_id, e.level, e.note, o.to_address, o.lang, o.created_at
		FROM mail_outbox o JOIN events e ON e.tenant_id = o.tenant_id AND e.id = o.event_id
		WHERE o.tenant_id = $1 AND o.kind = 'escalated' AND o.created_at >= $2 ORDER BY o.created_at, o.id LIMIT $3`, tenant, since, limit)
	if err != nil {
		return nil, internal("escalation messages", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.EscalationMessage, error) {
		var (
			m     requests.EscalationMessage
			reqID int64
			lang  string
		)
		err := row.Scan(&m.ID, &reqID, &m.Level, &m.Notify, &m.Recipient, &lang, &m.Created)
		m.ServiceRequestID, m.Lang, m.Created = requests.FormatServiceRequestID(reqID), i18n.Lang(lang), m.Created.UTC()
		return m, err
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, internal("escalation messages", err)
	}
	return out, nil
}
