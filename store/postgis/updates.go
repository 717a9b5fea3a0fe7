package postgis

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/requests"
)

// publicUpdate is the SQL of requests.Event.IsPublicUpdate; the partial
// index events_public_updates (migration 1710) has the same predicate.
const publicUpdate = `kind = 'status' AND (public_note_en <> '' OR public_note_fr <> '')`

// ListPublicUpdates implements requests.PublicUpdateStore.
func (s *Store) ListPublicUpdates(ctx context.Context, f requests.UpdateFilter) ([]requests.Event, error) {
	where, args := []string{"tenant_id = $1", publicUpdate}, []any{f.Tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(f.ServiceRequestIDs) > 0 {
		ids := make([]int64, 0, len(f.ServiceRequestIDs))
		for _, sid := range f.ServiceRequestIDs {
			if id, ok := requests.ParseServiceRequestID(sid); ok {
				ids = append(ids, id)
			}
		}
		where = append(where, "request_id = ANY("+arg(ids)+")")
	}
	if !f.Start.IsZero() {
		where = append(where, "at >= "+arg(f.Start))
	}
	if !f.End.IsZero() {
		where = append(where, "at <= "+arg(f.End))
	}
	q := `SELECT ` + eventColumns + ` FROM events WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY at, id LIMIT ` + arg(f.Limit) + ` OFFSET ` + arg(max(f.Offset, 0))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, internal("list public updates", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.Event, error) { return scanEvent(row) })
	if err != nil {
		return nil, internal("list public updates", err)
	}
	return evs, nil
}
