package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

var _ requests.HistoryStore = (*Store)(nil)

// importBatch is how many rows one transaction of ImportRequests copies.
const importBatch = 250_000

// importStageColumns are the columns COPY fills in the staging table (id
// is drawn from the requests sequence by its default).
var importStageColumns = []string{"ord", "near", "service_code", "description", "status", "lon", "lat", "address",
	"ward_id", "asset_layer", "asset_id", "asset_distance_m", "department", "requested_at", "updated_at",
	"channel", "close_reason", "source", "source_id", "head", "source_status", "source_channel",
	"source_category", "located", "close_time_known"}

// importInsert moves the staged rows into requests. IDs were drawn in
// input order when the rows were copied; the rows go in by place (near, a
// Z-order key), which keeps the spatial index's inserts local. A row
// whose key is stored already is skipped (ON CONFLICT DO NOTHING on the
// unique index); a member's cluster is its head's ID, the stored one when
// the head came in an earlier import, else the staged one. The lateral
// lookup runs for members only (heads are most rows).
const importInsert = `INSERT INTO requests (id, tenant_id, service_code, description, status, geom, address,
	ward_id, asset_layer, asset_id, asset_distance_m, cluster_id, department, requested_at, updated_at, channel,
	close_reason, source, source_id, source_status, source_channel, source_category, located, close_time_known)
SELECT s.id, $1, s.service_code, s.description, s.status, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), s.address,
	s.ward_id, s.asset_layer, s.asset_id, s.asset_distance_m,
	(CASE WHEN s.head = s.source_id THEN s.id ELSE COALESCE(e.id, h.id, s.id) END)::text,
	s.department, s.requested_at, s.updated_at, s.channel, s.close_reason, s.source, s.source_id,
	s.source_status, s.source_channel, s.source_category, s.located, s.close_time_known
FROM import_stage s
LEFT JOIN import_stage h ON s.head <> s.source_id AND h.source = s.source AND h.source_id = s.head
LEFT JOIN LATERAL (SELECT e.id FROM requests e
	WHERE s.head <> s.source_id AND e.tenant_id = $1 AND e.source = s.source AND e.source_id = s.head) e ON true
ORDER BY s.near
ON CONFLICT (tenant_id, source, source_id) WHERE source IS NOT NULL DO NOTHING`

// ImportRequests implements requests.HistoryStore: each batch is copied
// (COPY, pgx CopyFrom) into a temporary table and inserted from there in
// one statement, in one transaction.
func (s *Store) ImportRequests(ctx context.Context, tenant string, rows []requests.ImportedRequest) (int, error) {
	var seq string
	if err := s.pool.QueryRow(ctx, `SELECT pg_get_serial_sequence('requests', 'id')`).Scan(&seq); err != nil {
		return 0, wrapCtx(ctx, "import requests", err)
	}
	inserted := 0
	for start := 0; start < len(rows); start += importBatch {
		batch := rows[start:min(start+importBatch, len(rows))]
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TEMP TABLE import_stage (
				ord int NOT NULL, near bigint NOT NULL, id bigint NOT NULL DEFAULT nextval('%s'::regclass),
				service_code text, description text, status text, lon float8, lat float8, address text,
				ward_id text, asset_layer text, asset_id text, asset_distance_m float8, department text,
				requested_at timestamptz, updated_at timestamptz, channel text, close_reason text,
				source text, source_id text, head text, source_status text, source_channel text,
				source_category text, located bool, close_time_known bool) ON COMMIT DROP`, seq)); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_stage"}, importStageColumns, &importSource{rows: batch}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `ANALYZE import_stage`); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, importInsert, tenant)
			if err != nil {
				return err
			}
			inserted += int(tag.RowsAffected())
			return nil
		})
		if err != nil {
			return inserted, wrapCtx(ctx, "import requests", err)
		}
	}
	return inserted, nil
}

// importSource feeds CopyFrom one staged row at a time.
type importSource struct {
	rows []requests.ImportedRequest
	i    int
	vals []any
}

func (src *importSource) Next() bool {
	if src.i >= len(src.rows) {
		return false
	}
	ir := src.rows[src.i]
	r := ir.Request.Normalized()
	if !ir.Located {
		r.Point[0], r.Point[1] = 0, 0
	}
	head := ir.ClusterHead
	if head == "" {
		head = ir.SourceID
	}
	src.vals = append(src.vals[:0], int32(src.i), zOrder(r.Point[0], r.Point[1]), r.ServiceCode, r.Description, string(r.Status), r.Point[0], r.Point[1],
		r.Address, r.WardID, r.AssetLayer, r.AssetID, r.AssetDistanceM, r.Department, r.RequestedAt, r.UpdatedAt,
		string(r.Channel), string(r.CloseReason), ir.Source, ir.SourceID, head, ir.SourceStatus, ir.SourceChannel,
		ir.SourceCategory, ir.Located, ir.CloseTimeKnown)
	src.i++
	return true
}

func (src *importSource) Values() ([]any, error) { return src.vals, nil }
func (src *importSource) Err() error             { return nil }

// zOrder interleaves the bits of lon and lat on a 2^21 grid of the world:
// points near each other get near keys.
func zOrder(lon, lat float64) int64 {
	q := func(v, lo, span float64) uint64 {
		f := (v - lo) / span
		return uint64(min(max(f, 0), 1) * (1<<21 - 1))
	}
	x, y := q(lon, -180, 360), q(lat, -90, 180)
	var z uint64
	for b := range 21 {
		z |= (x>>b&1)<<(2*b) | (y>>b&1)<<(2*b+1)
	}
	return int64(z)
}
