package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pinward/pinward/requests"
)

// recut applies a report's re-cut (requests.Recut) to its statements: a
// common table expression named requests shadows the table (main.requests)
// with the re-cut ward in ward_id, so the report's SQL counts as it always
// does. The pairs come as one JSON array, materialized so SQLite indexes
// it for the join. The zero recut changes nothing.
type recut struct {
	cte  string
	pair any
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
		if c == "ward_id" {
			cols = append(cols, "coalesce(rc.ward, r.ward_id) AS ward_id")
		} else {
			cols = append(cols, `r."`+c+`"`)
		}
	}
	if err := rows.Err(); err != nil {
		return recut{}, wrap(ctx, "report re-cut: columns", err)
	}
	pairs := make([][2]any, len(q.Recut.IDs))
	for i, id := range q.Recut.IDs {
		pairs[i] = [2]any{id, q.Recut.Wards[i]}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return recut{}, fmt.Errorf("report re-cut: %w", err)
	}
	return recut{
		cte: "recut(id, ward) AS MATERIALIZED (SELECT value->>0, value->>1 FROM json_each(?)), " +
			"requests AS (SELECT " + strings.Join(cols, ", ") + " FROM main.requests r LEFT JOIN recut rc ON rc.id = r.id) ",
		pair: string(b),
	}, nil
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

// args puts the re-cut's parameter first, where its placeholder is.
func (rc recut) args(args ...any) []any {
	if rc.cte == "" {
		return args
	}
	return append([]any{rc.pair}, args...)
}
