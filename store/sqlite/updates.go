package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/pinward/pinward/requests"
)

// publicUpdate is the SQL of requests.Event.IsPublicUpdate; the partial
// index events_public_updates (migration 1710) has the same predicate.
const publicUpdate = `kind = 'status' AND (public_note_en <> '' OR public_note_fr <> '')`

// ListPublicUpdates implements requests.PublicUpdateStore.
func (s *Store) ListPublicUpdates(ctx context.Context, f requests.UpdateFilter) ([]requests.Event, error) {
	where, args := []string{`tenant_id = ?`, publicUpdate}, []any{f.Tenant}
	if len(f.ServiceRequestIDs) > 0 {
		var ids []any
		for _, sid := range f.ServiceRequestIDs {
			if id, ok := requests.ParseServiceRequestID(sid); ok {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil, wrap(ctx, "list public updates", ctx.Err()) // no ID can match
		}
		where = append(where, `request_id IN (`+placeholders(len(ids))+`)`)
		args = append(args, ids...)
	}
	if !f.Start.IsZero() {
		where, args = append(where, `at >= ?`), append(args, micros(f.Start))
	}
	if !f.End.IsZero() {
		where, args = append(where, `at <= ?`), append(args, micros(f.End))
	}
	args = append(args, f.Limit, max(f.Offset, 0))
	rows, err := s.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE `+
		strings.Join(where, " AND ")+` ORDER BY at, id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, wrap(ctx, "list public updates", err)
	}
	out, err := scanEvents(rows)
	return out, wrap(ctx, "list public updates", err)
}

// scanEvents reads rows of eventColumns and closes them.
func scanEvents(rows *sql.Rows) ([]requests.Event, error) {
	defer rows.Close()
	var out []requests.Event
	for rows.Next() {
		var (
			e              requests.Event
			at             sql.NullInt64
			kind, from, to string
		)
		if err := rows.Scan(&e.ID, &e.TenantID, &e.RequestID, &at, &e.Actor, &kind, &from, &to, &e.Note,
			&e.PublicNoteEn, &e.PublicNoteFr, &e.InternalNote, &e.Reason, &e.Template, &e.Level); err != nil {
			return nil, err
		}
		e.At, e.Kind, e.From, e.To = fromMicros(at), requests.EventKind(kind), requests.Status(from), requests.Status(to)
		out = append(out, e)
	}
	return out, rows.Err()
}
