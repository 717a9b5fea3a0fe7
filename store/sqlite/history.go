package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/pinward/pinward/requests"
)

var _ requests.HistoryStore = (*Store)(nil)

// importBatch is how many rows one write transaction of ImportRequests
// holds: large enough that commits do not dominate, small enough that
// other writers wait well under a second.
const importBatch = 5000

// ImportRequests implements requests.HistoryStore in batched write
// transactions; the unique index on (tenant, source, source ID) makes a
// row already stored a no-op (ON CONFLICT DO NOTHING).
func (s *Store) ImportRequests(ctx context.Context, tenant string, rows []requests.ImportedRequest) (int, error) {
	inserted := 0
	for len(rows) > 0 {
		batch := rows[:min(importBatch, len(rows))]
		rows = rows[len(batch):]
		err := s.inTx(ctx, "import requests", func(tx *sql.Tx) error {
			n, err := importBatchTx(ctx, tx, tenant, batch)
			inserted += n
			return err
		})
		if err != nil {
			return inserted, err
		}
	}
	return inserted, nil
}

func importBatchTx(ctx context.Context, tx *sql.Tx, tenant string, batch []requests.ImportedRequest) (int, error) {
	// IDs are drawn here, under the write lock, so a row's own cluster ID
	// goes in with it (no second write per row).
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM requests`).Scan(&last); err != nil {
		return 0, err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO requests (id, tenant_id, service_code, description, status,
		status_notes, lon, lat, address, ward_id, asset_layer, asset_id, asset_distance_m, cluster_id, department,
		requested_at, updated_at, channel, close_reason, source, source_id, source_status, source_channel,
		source_category, located, close_time_known, media_url, token, lang)
		VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '')
		ON CONFLICT (tenant_id, source, source_id) WHERE source IS NOT NULL DO NOTHING`)
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	head, err := tx.PrepareContext(ctx, `SELECT id FROM requests WHERE tenant_id = ? AND source = ? AND source_id = ?`)
	if err != nil {
		return 0, err
	}
	defer head.Close()
	n := 0
	for _, ir := range batch {
		r := ir.Request.Normalized()
		if !ir.Located {
			r.Point[0], r.Point[1] = 0, 0
		}
		id := last + 1
		cluster := id
		if ir.ClusterHead != "" && ir.ClusterHead != ir.SourceID {
			err := head.QueryRowContext(ctx, tenant, ir.Source, ir.ClusterHead).Scan(&cluster)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return n, err
			}
		}
		res, err := ins.ExecContext(ctx, id, tenant, r.ServiceCode, r.Description, string(r.Status),
			r.Point[0], r.Point[1], r.Address, r.WardID, r.AssetLayer, r.AssetID, r.AssetDistanceM,
			requests.FormatServiceRequestID(cluster), r.Department,
			micros(r.RequestedAt), micros(r.UpdatedAt), string(r.Channel), string(r.CloseReason),
			ir.Source, ir.SourceID, ir.SourceStatus, ir.SourceChannel, ir.SourceCategory, ir.Located, ir.CloseTimeKnown)
		if err != nil {
			return n, err
		}
		if k, err := res.RowsAffected(); err != nil {
			return n, err
		} else if k == 1 {
			last, n = id, n+1
		}
	}
	return n, nil
}
