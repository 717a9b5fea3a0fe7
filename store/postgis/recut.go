package postgis

import (
	"context"
	"strconv"
	"strings"

	"github.com/pinward/pinward/requests"
)

// withRecut applies a report's re-cut (requests.Recut) to its statement:
// a common table expression named requests shadows the table for that one
// statement, with the re-cut ward in ward_id, so the report's SQL counts
// as it always does. The CTE is inlined by the planner, so the period's
// index still serves; the pairs come as two arrays. The column list is
// read from the catalog, so columns other migrations add stay visible.
func (s *Store) withRecut(ctx context.Context, sql string, args []any, q requests.ReportQuery) (string, []any, error) {
	if q.Recut == nil {
		return sql, args, nil
	}
	var cols []string
	if err := s.pool.QueryRow(ctx, `SELECT array_agg(quote_ident(attname::text) ORDER BY attnum) FROM pg_attribute
		WHERE attrelid = 'requests'::regclass AND attnum > 0 AND NOT attisdropped`).Scan(&cols); err != nil {
		return "", nil, wrapCtx(ctx, "report re-cut: columns", err)
	}
	for i, c := range cols {
		cols[i] = "r." + c
		if c == "ward_id" {
			cols[i] = "coalesce(rc.ward, r.ward_id) AS ward_id"
		}
	}
	args = append(args, q.Recut.IDs, q.Recut.Wards)
	n := len(args)
	cte := "requests AS (SELECT " + strings.Join(cols, ", ") + " FROM requests r LEFT JOIN unnest($" +
		strconv.Itoa(n-1) + "::bigint[], $" + strconv.Itoa(n) + "::text[]) AS rc(id, ward) ON rc.id = r.id)"
	if rest, ok := strings.CutPrefix(strings.TrimLeft(sql, " \n\t"), "WITH "); ok {
		return "WITH " + cte + ", " + rest, args, nil
	}
	return "WITH " + cte + " " + sql, args, nil
}
