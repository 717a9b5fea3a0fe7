package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// dueKey is the due order's sort key, the expression of the
// requests_queue_* indexes (migration 1200): no SLA sorts last.
const dueKey = `COALESCE(due_at, 253402214400000000)`

// Queue implements requests.QueueStore: one range of a requests_queue_*
// index from the cursor on, by row-value comparison.
func (s *Store) Queue(ctx context.Context, q requests.QueueQuery) ([]requests.QueueRow, error) {
	where := []string{"tenant_id = ?", "status <> 'closed'"}
	args := []any{q.Tenant}
	add := func(cond string, v ...any) {
		where = append(where, cond)
		args = append(args, v...)
	}
	if q.Department != "" {
		add("department = ?", q.Department)
	}
	if q.WardID != "" {
		add("ward_id = ?", q.WardID)
	}
	if c := q.Scope.Where("department", "ward_id", func(v any) string { args = append(args, v); return "?" }); c != "" {
		where = append(where, c)
	}
	if q.ServiceCode != "" {
		add("service_code = ?", q.ServiceCode)
	}
	if len(q.Statuses) > 0 {
		ph := make([]string, len(q.Statuses))
		for i, st := range q.Statuses {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if q.Assignee != "" {
		add("assignee = ?", q.Assignee)
	}
	if q.Channel != "" {
		add("channel = ?", q.Channel)
	}
	if q.Overdue {
		add(dueKey+" < ?", q.Now.UnixMicro())
	}
	var order string
	switch q.Sort {
	case requests.SortReceived:
		order = "requested_at, id"
		if c := q.After; c != nil {
			add("(requested_at, id) > (?, ?)", c.Time.UnixMicro(), c.ID)
		}
	case requests.SortEscalation:
		order = "-escalation_level, " + dueKey + ", id"
		if c := q.After; c != nil {
			add("(-escalation_level, "+dueKey+", id) > (?, ?, ?)", -c.Level, c.Time.UnixMicro(), c.ID)
		}
	default:
		order = dueKey + ", id"
		if c := q.After; c != nil {
			add("("+dueKey+", id) > (?, ?)", c.Time.UnixMicro(), c.ID)
		}
	}
	limit := q.Limit
	if limit <= 0 || limit > requests.MaxQueueLimit {
		limit = requests.MaxQueueLimit
	}
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, `SELECT `+requestCols+`, channel, assignee, paused_at FROM requests WHERE `+
		strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, wrap(ctx, "queue", err)
	}
	defer rows.Close()
	var out []requests.QueueRow
	for rows.Next() {
		var (
			row    requests.QueueRow
			paused sql.NullInt64
		)
		r, err := scanRequest(extraScan{rows, []any{&row.Channel, &row.Assignee, &paused}})
		if err != nil {
			return nil, wrap(ctx, "queue", err)
		}
		row.Request, row.PausedAt = r, fromMicros(paused)
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "queue", err)
	}
	ids := make([]int64, len(out))
	paused := make([]time.Time, len(out))
	for i, r := range out {
		ids[i], paused[i] = r.Request.ID, r.PausedAt
	}
	pauses, err := s.pausesOf(ctx, s.read, q.Tenant, ids, paused)
	if err != nil {
		return nil, wrap(ctx, "queue", err)
	}
	for i := range out {
		out[i].Pauses = pauses[i]
	}
	return out, nil
}

// extraScan appends destinations to a Scan, so scanRequest can read a row
// with more columns than requestCols.
type extraScan struct {
	scanner
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.scanner.Scan(append(dest, e.extra...)...) }

// pausesOf returns the pauses of each request of ids (whose paused_at are
// paused), from their status changes into and out of waiting on the
// resident.
func (s *Store) pausesOf(ctx context.Context, q querier, tenant string, ids []int64, paused []time.Time) ([][]requests.Pause, error) {
	out := make([][]requests.Pause, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ph := make([]string, len(ids))
	args := []any{tenant}
	at := map[int64]int{}
	for i, id := range ids {
		ph[i] = "?"
		args = append(args, id)
		at[id] = i
	}
	rows, err := q.QueryContext(ctx, `SELECT request_id, at, from_status, to_status FROM events
		WHERE tenant_id = ? AND request_id IN (`+strings.Join(ph, ", ")+`) AND kind = 'status'
		  AND (from_status = 'waiting_on_resident' OR to_status = 'waiting_on_resident')
		ORDER BY request_id, at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read pauses: %w", err)
	}
	defer rows.Close()
	steps := make([][]requests.StatusStep, len(ids))
	for rows.Next() {
		var (
			id       int64
			t        sql.NullInt64
			from, to string
		)
		if err := rows.Scan(&id, &t, &from, &to); err != nil {
			return nil, fmt.Errorf("read pauses: %w", err)
		}
		i := at[id]
		steps[i] = append(steps[i], requests.StatusStep{At: fromMicros(t), From: requests.Status(from), To: requests.Status(to)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pauses: %w", err)
	}
	for i := range ids {
		out[i] = requests.PausesOf(steps[i], paused[i])
	}
	return out, nil
}

const escalationCols = `id, service_code, department, ward_id, status, requested_at, due_at, paused_at,
	escalation_level, next_escalation_at`

func scanEscalationState(sc scanner) (requests.EscalationState, error) {
	var (
		e                                  requests.EscalationState
		status                             string
		requested, due, paused, nextAtNull sql.NullInt64
	)
	if err := sc.Scan(&e.ID, &e.ServiceCode, &e.Department, &e.WardID, &status, &requested, &due, &paused,
		&e.EscalationLevel, &nextAtNull); err != nil {
		return e, err
	}
	e.ServiceRequestID = requests.FormatServiceRequestID(e.ID)
	e.Status = requests.Status(status)
	e.RequestedAt, e.DueAt, e.PausedAt, e.NextEscalationAt = fromMicros(requested), fromMicros(due), fromMicros(paused), fromMicros(nextAtNull)
	return e, nil
}

// escalationStates reads the states of ids (with their pauses) through q.
func (s *Store) escalationStates(ctx context.Context, q querier, tenant string, where string, args ...any) ([]requests.EscalationState, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+escalationCols+` FROM requests WHERE tenant_id = ? AND `+where,
		append([]any{tenant}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("read escalation states: %w", err)
	}
	var out []requests.EscalationState
	for rows.Next() {
		e, err := scanEscalationState(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("read escalation states: %w", err)
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read escalation states: %w", err)
	}
	ids := make([]int64, len(out))
	paused := make([]time.Time, len(out))
	for i, e := range out {
		ids[i], paused[i] = e.ID, e.PausedAt
	}
	pauses, err := s.pausesOf(ctx, q, tenant, ids, paused)
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
	var out []requests.EscalationState
	for len(serviceRequestIDs) > 0 {
		n := min(len(serviceRequestIDs), 500) // under SQLite's variable limit with room to spare
		var (
			ph   []string
			args []any
		)
		for _, sid := range serviceRequestIDs[:n] {
			if id, ok := requests.ParseServiceRequestID(sid); ok {
				ph = append(ph, "?")
				args = append(args, id)
			}
		}
		serviceRequestIDs = serviceRequestIDs[n:]
		if len(ph) == 0 {
			continue
		}
		page, err := s.escalationStates(ctx, s.read, tenant, "id IN ("+strings.Join(ph, ", ")+")", args...)
		if err != nil {
			return nil, wrap(ctx, "escalation states", err)
		}
		out = append(out, page...)
	}
	return out, nil
}

// SetNextEscalations implements requests.QueueStore.
func (s *Store) SetNextEscalations(ctx context.Context, tenant string, ns []requests.NextEscalation) (int, error) {
	if len(ns) == 0 {
		return 0, nil
	}
	changed := 0
	err := s.inTx(ctx, "set next escalations", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE requests SET next_escalation_at = ?
			WHERE tenant_id = ? AND id = ? AND status = ? AND paused_at IS ? AND escalation_level = ?
			  AND next_escalation_at IS NOT ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, n := range ns {
			next := micros(n.At)
			res, err := stmt.ExecContext(ctx, next, tenant, n.ID, string(n.Status), micros(n.PausedAt), n.EscalationLevel, next)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			changed += int(k)
		}
		return nil
	})
	return changed, err
}

// ClaimEscalations implements requests.QueueStore. The write transaction
// is the claim: one writer at a time, and the level is raised only from
// the level read.
func (s *Store) ClaimEscalations(ctx context.Context, c requests.EscalationClaim) (int, error) {
	limit := c.Limit
	if limit <= 0 {
		limit = 100
	}
	fired := 0
	err := s.inTx(ctx, "claim escalations", func(tx *sql.Tx) error {
		due, err := s.escalationStates(ctx, tx, c.Tenant,
			`next_escalation_at IS NOT NULL AND next_escalation_at <= ? ORDER BY next_escalation_at, id LIMIT ?`,
			c.Now.UnixMicro(), limit)
		if err != nil {
			return err
		}
		var planned []plannedEscalation
		for _, st := range due {
			esc, ok := c.Plan(st)
			if !ok {
				if _, err := tx.ExecContext(ctx, `UPDATE requests SET next_escalation_at = ? WHERE id = ? AND escalation_level = ?`,
					micros(esc.Next), st.ID, st.EscalationLevel); err != nil {
					return err
				}
				continue
			}
			res, err := tx.ExecContext(ctx, `UPDATE requests SET escalation_level = ?, next_escalation_at = ?
				WHERE id = ? AND tenant_id = ? AND escalation_level = ?`,
				esc.Level, micros(esc.Next), st.ID, c.Tenant, esc.Level-1)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("raise level of request %d: %d rows, %v", st.ID, n, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, level, note)
				VALUES (?, ?, ?, ?, ?, '', '', ?, ?)`, c.Tenant, st.ID, micros(c.Now), esc.Actor, string(requests.EventEscalated),
				esc.Level, esc.Notify); err != nil {
				return err
			}
			planned = append(planned, plannedEscalation{st.ID, esc})
			fired++
		}
		if c.AfterClaim != nil {
			c.AfterClaim(ctx)
		}
		// One message per contact into the mail outbox, against the
		// level's event; an address refused for good gets none.
		for _, p := range planned {
			for _, ct := range p.esc.Contacts {
				if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id,
						event_at, next_attempt_at, created_at, to_address, lang)
					SELECT e.tenant_id, NULL, e.id, 'escalated', q.cluster_id, e.at,
						CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER), ?, ?, ?
					FROM events e JOIN requests q ON q.id = e.request_id
					WHERE e.tenant_id = ? AND e.request_id = ? AND e.kind = 'escalated' AND e.level = ? AND e.at = ?
					  AND NOT EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = e.tenant_id AND u.email = lower(?))`,
					micros(c.Now), ct.Email, string(ct.Lang),
					c.Tenant, p.id, p.esc.Level, micros(c.Now), ct.Email); err != nil {
					return fmt.Errorf("queue escalation messages: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
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
	rows, err := s.read.QueryContext(ctx, `SELECT o.id, e.request_id, e.level, e.note, o.to_address, o.lang, o.created_at
		FROM mail_outbox o JOIN events e ON e.id = o.event_id
		WHERE o.tenant_id = ? AND o.kind = 'escalated' AND o.created_at >= ? ORDER BY o.created_at, o.id LIMIT ?`, tenant, since.UnixMicro(), limit)
	if err != nil {
		return nil, wrap(ctx, "escalation messages", err)
	}
	defer rows.Close()
	var out []requests.EscalationMessage
	for rows.Next() {
		var (
			m       requests.EscalationMessage
			reqID   int64
			lang    string
			created sql.NullInt64
		)
		if err := rows.Scan(&m.ID, &reqID, &m.Level, &m.Notify, &m.Recipient, &lang, &created); err != nil {
			return nil, wrap(ctx, "escalation messages", err)
		}
		m.ServiceRequestID, m.Lang, m.Created = requests.FormatServiceRequestID(reqID), i18n.Lang(lang), fromMicros(created)
		out = append(out, m)
	}
	return out, wrap(ctx, "escalation messages", rows.Err())
}
