package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// lockAssets serialises the tenant's asset writes until the transaction
// ends, so the feed's seq (drawn under the lock) follows commit order and
// a follower reading "seq > cursor" never skips a change that commits late.
func lockAssets(ctx context.Context, tx pgx.Tx, tenant string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('pinward assets ' || $1, 0))`, tenant)
	if err != nil {
		return fmt.Errorf("lock assets: %w", err)
	}
	return nil
}

// UpsertAssets implements requests.AssetStore: one statement reads the
// stored versions of the whole batch and one writes it (arrays unnested
// server-side), so a batch costs a few round trips whatever its size.
func (s *Store) UpsertAssets(ctx context.Context, u requests.AssetUpsert) (requests.AssetUpsertResult, error) {
	var res requests.AssetUpsertResult
	if err := requests.CheckAssetBatch(u.Assets); err != nil {
		return res, err
	}
	if len(u.Assets) == 0 {
		return res, ctx.Err()
	}
	n := len(u.Assets)
	layers, ids := make([]string, n), make([]string, n)
	for i, a := range u.Assets {
		layers[i], ids[i] = a.Layer, a.ID
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = requests.AssetUpsertResult{}
		if err := lockAssets(ctx, tx, u.Tenant); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT b.i, a.version
			FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS b(layer, asset_id, i)
			JOIN assets a ON a.tenant_id = $1 AND a.layer = b.layer AND a.asset_id = b.asset_id`,
			u.Tenant, layers, ids)
		if err != nil {
			return fmt.Errorf("read stored versions: %w", err)
		}
		stored := make(map[int]int64)
		var (
			i int
			v int64
		)
		if _, err := pgx.ForEachRow(rows, []any{&i, &v}, func() error { stored[i-1] = v; return nil }); err != nil {
			return fmt.Errorf("read stored versions: %w", err)
		}
		conflicts := requests.NewAssetBatchError(i18n.Conflict)
		var (
			wl, wid  []string
			lon, lat []float64
			attrs    []*string
			vers     []int64
		)
		for i, a := range u.Assets {
			sv, ok := stored[i]
			switch {
			case ok && sv > a.Version:
				conflicts.Add(requests.AssetFeatureError{Index: i, Layer: a.Layer, ID: a.ID, Err: requests.StaleVersionError(a, sv)})
				continue
			case ok && sv == a.Version:
				res.Unchanged++
				continue
			}
			js, err := attrsJSON(a.Attrs)
			if err != nil {
				return err
			}
			wl, wid = append(wl, a.Layer), append(wid, a.ID)
			lon, lat = append(lon, a.Point[0]), append(lat, a.Point[1])
			attrs, vers = append(attrs, js), append(vers, a.Version)
		}
		if err := conflicts.Finish(); err != nil {
			return err
		}
		if len(wl) == 0 {
			return nil
		}
		var last int64
		err = tx.QueryRow(ctx, `WITH b AS (
				SELECT * FROM unnest($2::text[], $3::text[], $4::float8[], $5::float8[], $6::text[], $7::int8[])
					WITH ORDINALITY AS b(layer, asset_id, lon, lat, attrs, version, i)
			), up AS (
				INSERT INTO assets (tenant_id, layer, asset_id, geom, attrs, version, retired, updated_at)
				SELECT $1, layer, asset_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326), attrs::jsonb, version, false, $8 FROM b
				ON CONFLICT (tenant_id, layer, asset_id) DO UPDATE SET geom = excluded.geom, attrs = excluded.attrs,
					version = excluded.version, retired = false, updated_at = excluded.updated_at
			), ch AS (
				INSERT INTO asset_changes (tenant_id, op, layer, asset_id, geom, attrs, version, at)
				SELECT $1, 'upsert', layer, asset_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326), attrs::jsonb, version, $8
				FROM b ORDER BY i
				RETURNING seq
			)
			SELECT max(seq) FROM ch`,
			u.Tenant, wl, wid, lon, lat, attrs, vers, u.At).Scan(&last)
		if err != nil {
			return fmt.Errorf("write assets: %w", err)
		}
		res.Applied, res.Cursor = len(wl), last
		return nil
	})
	if err != nil {
		return requests.AssetUpsertResult{}, internal("upsert assets", err)
	}
	return res, nil
}

// RetireAsset implements requests.AssetStore.
func (s *Store) RetireAsset(ctx context.Context, r requests.AssetRetire) (requests.AssetRetireResult, error) {
	var res requests.AssetRetireResult
	if err := requests.CheckStoredText("id", r.Tenant, r.Layer, r.ID, r.Actor); err != nil {
		return res, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = requests.AssetRetireResult{}
		if err := lockAssets(ctx, tx, r.Tenant); err != nil {
			return err
		}
		var retired bool
		err := tx.QueryRow(ctx, `SELECT retired FROM assets WHERE tenant_id = $1 AND layer = $2 AND asset_id = $3`,
			r.Tenant, r.Layer, r.ID).Scan(&retired)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return requests.AssetNotFoundError(r.Layer, r.ID)
		case err != nil:
			return fmt.Errorf("read asset: %w", err)
		case retired:
			res.AlreadyRetired = true
			return nil
		}
		err = tx.QueryRow(ctx, `WITH a AS (
				UPDATE assets SET retired = true, updated_at = $4
				WHERE tenant_id = $1 AND layer = $2 AND asset_id = $3
				RETURNING geom, attrs, version
			)
			INSERT INTO asset_changes (tenant_id, op, layer, asset_id, geom, attrs, version, at)
			SELECT $1, 'retire', $2, $3, geom, attrs, version, $4 FROM a
			RETURNING seq`, r.Tenant, r.Layer, r.ID, r.At).Scan(&res.Cursor)
		if err != nil {
			return fmt.Errorf("retire asset: %w", err)
		}
		note := "asset " + requests.AssetKey(r.Layer, r.ID) + " was retired by the asset-management system"
		rows, err := tx.Query(ctx, `INSERT INTO events (tenant_id, request_id, at, actor, kind, note)
			SELECT $1, id, $4, $5, $6, $7 FROM requests
			WHERE tenant_id = $1 AND asset_layer = $2 AND asset_id = $3 AND status <> 'closed'
			ORDER BY id
			RETURNING request_id`, r.Tenant, r.Layer, r.ID, r.At, r.Actor, string(requests.EventAssetRetired), note)
		if err != nil {
			return fmt.Errorf("flag requests: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("flag requests: %w", err)
		}
		for _, id := range ids {
			res.Flagged = append(res.Flagged, requests.FormatServiceRequestID(id))
		}
		return nil
	})
	if err != nil {
		return requests.AssetRetireResult{}, internal("retire asset", err)
	}
	return res, nil
}

// AssetChanges implements requests.AssetStore.
func (s *Store) AssetChanges(ctx context.Context, tenant string, after int64, limit int) ([]requests.AssetChange, error) {
	if limit <= 0 || limit > requests.MaxAssetChanges {
		limit = requests.MaxAssetChanges
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, op, layer, asset_id, ST_X(geom), ST_Y(geom), attrs::text, version, at
		FROM asset_changes WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, tenant, after, limit)
	if err != nil {
		return nil, internal("asset changes", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.AssetChange, error) {
		var (
			c     requests.AssetChange
			op    string
			attrs *string
		)
		a := &c.Asset
		if err := row.Scan(&c.Seq, &op, &a.Layer, &a.ID, &a.Point[0], &a.Point[1], &attrs, &a.Version, &c.At); err != nil {
			return c, err
		}
		c.Op, c.At = requests.AssetChangeOp(op), c.At.UTC()
		var err error
		a.Attrs, err = parseAttrs(attrs)
		return c, err
	})
	if err != nil {
		return nil, internal("asset changes", err)
	}
	return out, nil
}

// LoadAssets implements requests.AssetStore: a repeatable-read snapshot
// makes the assets and the cursor agree.
func (s *Store) LoadAssets(ctx context.Context, tenant string) ([]assets.Asset, int64, error) {
	var (
		out    []assets.Asset
		cursor *int64
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT max(seq) FROM asset_changes WHERE tenant_id = $1`, tenant).Scan(&cursor); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT layer, asset_id, ST_X(geom), ST_Y(geom), attrs::text, version FROM assets
			WHERE tenant_id = $1 AND NOT retired ORDER BY layer, asset_id`, tenant)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (assets.Asset, error) {
			var (
				a     assets.Asset
				attrs *string
			)
			if err := row.Scan(&a.Layer, &a.ID, &a.Point[0], &a.Point[1], &attrs, &a.Version); err != nil {
				return a, err
			}
			var err error
			a.Attrs, err = parseAttrs(attrs)
			return a, err
		})
		return err
	})
	if err != nil {
		return nil, 0, internal("load assets", err)
	}
	if cursor == nil {
		return out, 0, nil
	}
	return out, *cursor, nil
}

// AssetLayers implements requests.AssetStore.
func (s *Store) AssetLayers(ctx context.Context, tenant string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT layer FROM assets WHERE tenant_id = $1 ORDER BY layer`, tenant)
	if err != nil {
		return nil, internal("asset layers", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, internal("asset layers", err)
	}
	return out, nil
}

// RetiredAssetRequests implements requests.AssetStore.
func (s *Store) RetiredAssetRequests(ctx context.Context, tenant string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id FROM requests r
		JOIN assets a ON a.tenant_id = r.tenant_id AND a.layer = r.asset_layer AND a.asset_id = r.asset_id
		WHERE r.tenant_id = $1 AND r.asset_id <> '' AND r.status <> 'closed' AND a.retired
		ORDER BY r.id LIMIT $2`, tenant, requests.MaxListLimit)
	if err != nil {
		return nil, internal("retired asset requests", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, internal("retired asset requests", err)
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = requests.FormatServiceRequestID(id)
	}
	return out, nil
}

func attrsJSON(m map[string]string) (*string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode asset attributes: %w", err)
	}
	s := string(b)
	return &s, nil
}

func parseAttrs(s *string) (map[string]string, error) {
	if s == nil {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(*s), &m); err != nil {
		return nil, fmt.Errorf("decode asset attributes: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
