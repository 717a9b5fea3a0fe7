package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

var _ requests.AssetStore = (*Store)(nil)

// UpsertAssets implements requests.AssetStore. The write transaction
// (BEGIN IMMEDIATE) serialises it with every other write, so change
// sequence numbers follow commit order.
func (s *Store) UpsertAssets(ctx context.Context, u requests.AssetUpsert) (requests.AssetUpsertResult, error) {
	var res requests.AssetUpsertResult
	if err := requests.CheckAssetBatch(u.Assets); err != nil {
		return res, err
	}
	if len(u.Assets) == 0 {
		return res, ctx.Err()
	}
	err := s.inTx(ctx, "upsert assets", func(tx *sql.Tx) error {
		res = requests.AssetUpsertResult{}
		sel, err := tx.PrepareContext(ctx, `SELECT version FROM assets WHERE tenant_id = ? AND layer = ? AND asset_id = ?`)
		if err != nil {
			return err
		}
		defer sel.Close()
		// First every check, then every write: a conflict leaves nothing
		// to roll back but the reads.
		write := make([]bool, len(u.Assets))
		conflicts := requests.NewAssetBatchError(i18n.Conflict)
		for i, a := range u.Assets {
			var stored int64
			err := sel.QueryRowContext(ctx, u.Tenant, a.Layer, a.ID).Scan(&stored)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				write[i] = true
			case err != nil:
				return err
			case stored > a.Version:
				conflicts.Add(requests.AssetFeatureError{Index: i, Layer: a.Layer, ID: a.ID, Err: requests.StaleVersionError(a, stored)})
			case stored == a.Version:
				res.Unchanged++
			default:
				write[i] = true
			}
		}
		if err := conflicts.Finish(); err != nil {
			return err
		}
		up, err := tx.PrepareContext(ctx, `INSERT INTO assets (tenant_id, layer, asset_id, lon, lat, attrs, version, retired, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
			ON CONFLICT (tenant_id, layer, asset_id) DO UPDATE SET lon = excluded.lon, lat = excluded.lat,
				attrs = excluded.attrs, version = excluded.version, retired = 0, updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer up.Close()
		ch, err := tx.PrepareContext(ctx, insertChangeSQL)
		if err != nil {
			return err
		}
		defer ch.Close()
		at := micros(u.At)
		if at == nil {
			at = int64(0)
		}
		for i, a := range u.Assets {
			if !write[i] {
				continue
			}
			attrs, err := encodeAttrs(a.Attrs)
			if err != nil {
				return err
			}
			if _, err := up.ExecContext(ctx, u.Tenant, a.Layer, a.ID, a.Point[0], a.Point[1], attrs, a.Version, at); err != nil {
				return err
			}
			r, err := ch.ExecContext(ctx, u.Tenant, string(requests.AssetUpserted), a.Layer, a.ID, a.Point[0], a.Point[1], attrs, a.Version, at)
			if err != nil {
				return err
			}
			if res.Cursor, err = r.LastInsertId(); err != nil {
				return err
			}
			res.Applied++
		}
		return nil
	})
	if err != nil {
		return requests.AssetUpsertResult{}, err
	}
	return res, nil
}

const insertChangeSQL = `INSERT INTO asset_changes (tenant_id, op, layer, asset_id, lon, lat, attrs, version, at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// RetireAsset implements requests.AssetStore.
func (s *Store) RetireAsset(ctx context.Context, r requests.AssetRetire) (requests.AssetRetireResult, error) {
	var res requests.AssetRetireResult
	if err := requests.CheckStoredText("id", r.Tenant, r.Layer, r.ID, r.Actor); err != nil {
		return res, err
	}
	err := s.inTx(ctx, "retire asset", func(tx *sql.Tx) error {
		res = requests.AssetRetireResult{}
		var (
			lon, lat float64
			attrs    sql.NullString
			version  int64
			retired  bool
		)
		err := tx.QueryRowContext(ctx, `SELECT lon, lat, attrs, version, retired FROM assets
			WHERE tenant_id = ? AND layer = ? AND asset_id = ?`, r.Tenant, r.Layer, r.ID).Scan(&lon, &lat, &attrs, &version, &retired)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return requests.AssetNotFoundError(r.Layer, r.ID)
		case err != nil:
			return err
		case retired:
			res.AlreadyRetired = true
			return nil
		}
		at := micros(r.At)
		if _, err := tx.ExecContext(ctx, `UPDATE assets SET retired = 1, updated_at = ? WHERE tenant_id = ? AND layer = ? AND asset_id = ?`,
			at, r.Tenant, r.Layer, r.ID); err != nil {
			return err
		}
		ins, err := tx.ExecContext(ctx, insertChangeSQL, r.Tenant, string(requests.AssetRetired), r.Layer, r.ID, lon, lat, attrs, version, at)
		if err != nil {
			return err
		}
		if res.Cursor, err = ins.LastInsertId(); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM requests
			WHERE tenant_id = ? AND asset_layer = ? AND asset_id = ? AND status <> ? ORDER BY id`,
			r.Tenant, r.Layer, r.ID, string(requests.Closed))
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			ev := requests.Event{TenantID: r.Tenant, RequestID: id, At: r.At, Actor: r.Actor, Kind: requests.EventAssetRetired,
				Note: "asset " + requests.AssetKey(r.Layer, r.ID) + " was retired by the asset-management system"}
			if err := insertEvent(ctx, tx, ev); err != nil {
				return err
			}
			res.Flagged = append(res.Flagged, requests.FormatServiceRequestID(id))
		}
		return nil
	})
	if err != nil {
		return requests.AssetRetireResult{}, err
	}
	return res, nil
}

// AssetChanges implements requests.AssetStore.
func (s *Store) AssetChanges(ctx context.Context, tenant string, after int64, limit int) ([]requests.AssetChange, error) {
	if limit <= 0 || limit > requests.MaxAssetChanges {
		limit = requests.MaxAssetChanges
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, op, layer, asset_id, lon, lat, attrs, version, at FROM asset_changes
		WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, tenant, after, limit)
	if err != nil {
		return nil, wrap(ctx, "asset changes", err)
	}
	defer rows.Close()
	var out []requests.AssetChange
	for rows.Next() {
		var (
			c     requests.AssetChange
			op    string
			attrs sql.NullString
			at    sql.NullInt64
		)
		a := &c.Asset
		if err := rows.Scan(&c.Seq, &op, &a.Layer, &a.ID, &a.Point[0], &a.Point[1], &attrs, &a.Version, &at); err != nil {
			return nil, wrap(ctx, "asset changes", err)
		}
		c.Op, c.At = requests.AssetChangeOp(op), fromMicros(at)
		if a.Attrs, err = decodeAttrs(attrs); err != nil {
			return nil, wrap(ctx, "asset changes", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "asset changes", err)
	}
	return out, nil
}

// LoadAssets implements requests.AssetStore: one read transaction is one
// WAL snapshot, so the assets and the cursor agree.
func (s *Store) LoadAssets(ctx context.Context, tenant string) ([]assets.Asset, int64, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, wrap(ctx, "load assets", err)
	}
	defer tx.Rollback()
	var cursor sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(seq) FROM asset_changes WHERE tenant_id = ?`, tenant).Scan(&cursor); err != nil {
		return nil, 0, wrap(ctx, "load assets", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT layer, asset_id, lon, lat, attrs, version FROM assets
		WHERE tenant_id = ? AND retired = 0 ORDER BY layer, asset_id`, tenant)
	if err != nil {
		return nil, 0, wrap(ctx, "load assets", err)
	}
	defer rows.Close()
	var out []assets.Asset
	for rows.Next() {
		var (
			a     assets.Asset
			attrs sql.NullString
		)
		if err := rows.Scan(&a.Layer, &a.ID, &a.Point[0], &a.Point[1], &attrs, &a.Version); err != nil {
			return nil, 0, wrap(ctx, "load assets", err)
		}
		if a.Attrs, err = decodeAttrs(attrs); err != nil {
			return nil, 0, wrap(ctx, "load assets", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, wrap(ctx, "load assets", err)
	}
	return out, cursor.Int64, nil
}

// AssetLayers implements requests.AssetStore.
func (s *Store) AssetLayers(ctx context.Context, tenant string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT layer FROM assets WHERE tenant_id = ? ORDER BY layer`, tenant)
	if err != nil {
		return nil, wrap(ctx, "asset layers", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, wrap(ctx, "asset layers", err)
		}
		out = append(out, l)
	}
	return out, wrap(ctx, "asset layers", rows.Err())
}

// RetiredAssetRequests implements requests.AssetStore.
func (s *Store) RetiredAssetRequests(ctx context.Context, tenant string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT r.id FROM requests r
		JOIN assets a ON a.tenant_id = r.tenant_id AND a.layer = r.asset_layer AND a.asset_id = r.asset_id
		WHERE r.tenant_id = ? AND r.asset_id <> '' AND r.status <> ? AND a.retired = 1
		ORDER BY r.id LIMIT ?`, tenant, string(requests.Closed), requests.MaxListLimit)
	if err != nil {
		return nil, wrap(ctx, "retired asset requests", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(ctx, "retired asset requests", err)
		}
		out = append(out, requests.FormatServiceRequestID(id))
	}
	return out, wrap(ctx, "retired asset requests", rows.Err())
}

// encodeAttrs is an asset's attributes as stored: a JSON object, NULL when
// there are none.
func encodeAttrs(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode asset attributes: %w", err)
	}
	return string(b), nil
}

func decodeAttrs(v sql.NullString) (map[string]string, error) {
	if !v.Valid || v.String == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(v.String), &m); err != nil {
		return nil, fmt.Errorf("decode asset attributes: %w", err)
	}
	return m, nil
}
