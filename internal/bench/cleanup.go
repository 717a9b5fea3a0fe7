package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// dropTenant deletes every row of tenant from every table of the current
// schema that has a tenant_id column, so a bench leaves the database it
// was given as it found it. The tables are found, not listed, so a new
// table is cleaned too; a table still referenced by another (a foreign
// key without ON DELETE CASCADE) is retried after the others.
func dropTenant(ctx context.Context, pool *pgxpool.Pool, tenant string) error {
	rows, err := pool.Query(ctx, `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name`)
	if err != nil {
		return fmt.Errorf("removing bench tenant %s: %w", tenant, err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("removing bench tenant %s: %w", tenant, err)
	}
	for len(tables) > 0 {
		var again []string
		var lastErr error
		for _, t := range tables {
			_, err := pool.Exec(ctx, "DELETE FROM "+pgx.Identifier{t}.Sanitize()+" WHERE tenant_id = $1", tenant)
			var pe *pgconn.PgError
			switch {
			case errors.As(err, &pe) && pe.Code == "23503": // foreign_key_violation: another table first
				again, lastErr = append(again, t), err
			case err != nil:
				return fmt.Errorf("removing bench tenant %s from %s: %w", tenant, t, err)
			}
		}
		if len(again) == len(tables) {
			return fmt.Errorf("removing bench tenant %s: %w", tenant, lastErr)
		}
		tables = again
	}
	return nil
}
