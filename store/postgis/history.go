package postgis

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/pinward/pinward/requests"
)

var _ requests.HistoryStore = (*Store)(nil)

// importBatch is about how many rows one transaction of ImportRequests
// copies; the batches of one call run importWorkers at a time.
const importBatch = 50_000

// importWorkers is how many batches are written at once: one connection
// each, so the server's cores share the index maintenance.
func importWorkers() int { return max(2, runtime.GOMAXPROCS(0)) }

// importStageColumns are the columns COPY fills in the staging table.
var importStageColumns = []string{"near", "id", "cluster_id", "service_code", "description", "status", "lon", "lat", "address",
	"ward_id", "asset_layer", "asset_id", "asset_distance_m", "department", "requested_at", "updated_at",
	"channel", "close_reason", "source", "source_id", "source_status", "source_channel",
	"source_category", "located", "close_time_known"}

// importStage is the staging table of one batch (dropped at commit).
const importStage = `CREATE TEMP TABLE import_stage (
	near bigint NOT NULL, id bigint NOT NULL, cluster_id bigint NOT NULL,
	service_code text, description text, status text, lon float8, lat float8, address text,
	ward_id text, asset_layer text, asset_id text, asset_distance_m float8, department text,
	requested_at timestamptz, updated_at timestamptz, channel text, close_reason text,
	source text, source_id text, source_status text, source_channel text,
	source_category text, located bool, close_time_known bool) ON COMMIT DROP`

// importInsert moves the staged rows into requests. IDs and clusters
// were settled before the copy, so batches are independent; the rows go
// in by place (near, a Z-order key), which keeps the spatial index's
// inserts local. A row whose key is stored already is skipped (ON
// CONFLICT DO NOTHING on the unique index).
const importInsert = `INSERT INTO requests (id, tenant_id, service_code, description, status, geom, address,
	ward_id, asset_layer, asset_id, asset_distance_m, cluster_id, department, requested_at, updated_at, channel,
	close_reason, source, source_id, source_status, source_channel, source_category, located, close_time_known)
SELECT s.id, $1, s.service_code, s.description, s.status, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), s.address,
	s.ward_id, s.asset_layer, s.asset_id, s.asset_distance_m, s.cluster_id::text,
	s.department, s.requested_at, s.updated_at, s.channel, s.close_reason, s.source, s.source_id,
	s.source_status, s.source_channel, s.source_category, s.located, s.close_time_known
FROM import_stage s
ORDER BY s.near
ON CONFLICT (tenant_id, source, source_id) WHERE source IS NOT NULL DO NOTHING`

// ImportRequests implements requests.HistoryStore. It draws the rows'
// IDs from the requests sequence first (in input order), so that every
// member's cluster, its head's ID, is known before anything is written:
// the head stored by an earlier import when there is one, else the head's
// ID in rows. The batches are then independent; each is copied (COPY,
// pgx CopyFrom) into a temporary table and inserted from there in one
// statement, in its own transaction, importWorkers at a time.
func (s *Store) ImportRequests(ctx context.Context, tenant string, rows []requests.ImportedRequest) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	ids, clusters, err := s.importIDs(ctx, tenant, rows)
	if err != nil {
		return 0, wrapCtx(ctx, "import requests", err)
	}
	nb := (len(rows) + importBatch - 1) / importBatch
	if w := importWorkers(); nb > 1 && nb%w != 0 {
		nb += w - nb%w // every worker gets as many batches
	}
	size := (len(rows) + nb - 1) / nb
	var inserted atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(importWorkers())
	for start := 0; start < len(rows); start += size {
		end := min(start+size, len(rows))
		g.Go(func() error {
			return pgx.BeginFunc(gctx, s.pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(gctx, importStage); err != nil {
					return err
				}
				src := &importSource{rows: rows[start:end], ids: ids[start:end], clusters: clusters[start:end]}
				if _, err := tx.CopyFrom(gctx, pgx.Identifier{"import_stage"}, importStageColumns, src); err != nil {
					return err
				}
				tag, err := tx.Exec(gctx, importInsert, tenant)
				if err != nil {
					return err
				}
				inserted.Add(tag.RowsAffected())
				return nil
			})
		})
	}
	err = g.Wait()
	return int(inserted.Load()), wrapCtx(ctx, "import requests", err)
}

// importIDs draws an ID for every row, in input order, and finds each
// row's cluster: its own ID for a head, else the ID of the head stored by
// an earlier import, else the head's ID drawn here (the row's own when
// rows lack its head too). Drawn IDs of rows stored already stay unused.
func (s *Store) importIDs(ctx context.Context, tenant string, rows []requests.ImportedRequest) (ids, clusters []int64, err error) {
	type key struct{ source, id string }
	drawn := make(map[key]int, len(rows)) // first row of a key
	var headSources, headIDs []string
	wanted := map[key]bool{}
	for i, ir := range rows {
		k := key{ir.Source, ir.SourceID}
		if _, ok := drawn[k]; !ok {
			drawn[k] = i
		}
		if h := (key{ir.Source, ir.ClusterHead}); h.id != "" && h.id != ir.SourceID && !wanted[h] {
			wanted[h] = true
			headSources, headIDs = append(headSources, h.source), append(headIDs, h.id)
		}
	}
	stored := map[key]int64{}
	if len(headIDs) > 0 {
		rs, err := s.pool.Query(ctx, `SELECT r.source, r.source_id, r.id FROM requests r
			JOIN unnest($2::text[], $3::text[]) AS h(source, source_id) ON r.source = h.source AND r.source_id = h.source_id
			WHERE r.tenant_id = $1`, tenant, headSources, headIDs)
		if err != nil {
			return nil, nil, fmt.Errorf("finding stored cluster heads: %w", err)
		}
		var k key
		var id int64
		if _, err := pgx.ForEachRow(rs, []any{&k.source, &k.id, &id}, func() error { stored[k] = id; return nil }); err != nil {
			return nil, nil, fmt.Errorf("finding stored cluster heads: %w", err)
		}
	}
	rs, err := s.pool.Query(ctx, `SELECT nextval(pg_get_serial_sequence('requests', 'id')) FROM generate_series(1, $1)`, len(rows))
	if err != nil {
		return nil, nil, fmt.Errorf("drawing IDs: %w", err)
	}
	ids = make([]int64, 0, len(rows))
	var id int64
	if _, err := pgx.ForEachRow(rs, []any{&id}, func() error { ids = append(ids, id); return nil }); err != nil {
		return nil, nil, fmt.Errorf("drawing IDs: %w", err)
	}
	if len(ids) != len(rows) {
		return nil, nil, fmt.Errorf("drawing IDs: %d of %d", len(ids), len(rows))
	}
	clusters = make([]int64, len(rows))
	for i, ir := range rows {
		clusters[i] = ids[i]
		h := key{ir.Source, ir.ClusterHead}
		if h.id == "" || h.id == ir.SourceID {
			continue
		}
		if id, ok := stored[h]; ok {
			clusters[i] = id
		} else if j, ok := drawn[h]; ok {
			clusters[i] = ids[j]
		}
	}
	return ids, clusters, nil
}

// importSource feeds CopyFrom one staged row at a time.
type importSource struct {
	rows          []requests.ImportedRequest
	ids, clusters []int64
	i             int
	vals          []any
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
	src.vals = append(src.vals[:0], zOrder(r.Point[0], r.Point[1]), src.ids[src.i], src.clusters[src.i], r.ServiceCode, r.Description, string(r.Status), r.Point[0], r.Point[1],
		r.Address, r.WardID, r.AssetLayer, r.AssetID, r.AssetDistanceM, r.Department, r.RequestedAt, r.UpdatedAt,
		string(r.Channel), string(r.CloseReason), ir.Source, ir.SourceID, ir.SourceStatus, ir.SourceChannel,
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
