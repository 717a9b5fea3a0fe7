package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pinward/pinward/requests"
)

// recut applies a report's re-cut (requests.Recut) to its statements: a
// common table expression named requests shadows the table (main.requests)
// with the re-cut ward in ward_id, so the report's SQL counts as it always
// does. The IDs come as one JSON array per re-cut ward, each the list of
// an IN, which SQLite builds once into an index (a join on json_each
// would scan the whole list for every request). The zero recut changes
// nothing.
type recut struct {
	cte string
	pre []any
}

// recutFor reads the table's columns in tx, so columns other migrations
// add stay visible to the report.
func recutFor(ctx context.Context, tx *sql.Tx, q requests.ReportQuery) (recut, error) {
	if q.Recut == nil {
		return recut{}, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info('requests') ORDER BY cid`)
	if err != nil {
		return recut{}, wrap(ctx, "report re-cut: columns", err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return recut{}, wrap(ctx, "report re-cut: columns", err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return recut{}, wrap(ctx, "report re-cut: columns", err)
	}
	byWard := map[string][]int64{}
	for i, id := range q.Recut.IDs {
		byWard[q.Recut.Wards[i]] = append(byWard[q.Recut.Wards[i]], id)
	}
	if len(byWard) == 0 {
		return recut{}, nil
	}
	wardExpr, pre := "CASE", make([]any, 0, 2*len(byWard))
	for _, w := range slices.Sorted(maps.Keys(byWard)) {
		b, err := json.Marshal(byWard[w])
		if err != nil {
			return recut{}, fmt.Errorf("report re-cut: %w", err)
		}
		wardExpr += " WHEN r.id IN (SELECT value FROM json_each(?)) THEN ?"
		pre = append(pre, string(b), w)
	}
	wardExpr += " ELSE r.ward_id END AS ward_id"
	for i, c := range cols {
		if c == "ward_id" {
			cols[i] = wardExpr
		} else {
			cols[i] = `r."` + c + `"`
		}
	}
	return recut{cte: "requests AS (SELECT " + strings.Join(cols, ", ") + " FROM main.requests r) ", pre: pre}, nil
}

// sql prefixes a statement with the re-cut's CTEs.
func (rc recut) sql(stmt string) string {
	if rc.cte == "" {
		return stmt
	}
	if rest, ok := strings.CutPrefix(strings.TrimLeft(stmt, " \n\t"), "WITH "); ok {
		return "WITH " + strings.TrimSuffix(rc.cte, " ") + ", " + rest
	}
	return "WITH " + rc.cte + stmt
}

// args puts the re-cut's parameters first, where their placeholders are.
func (rc recut) args(args ...any) []any {
	if rc.cte == "" {
		return args
	}
	return append(slices.Clone(rc.pre), args...)
}
