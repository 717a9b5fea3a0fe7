package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

var _ requests.Store = (*Store)(nil)

// requestCols are the columns scanRequest reads, in its order.
const requestCols = `id, tenant_id, service_code, description, status, status_notes, lon, lat, address,
	ward_id, asset_layer, asset_id, asset_distance_m, cluster_id, department,
	requested_at, updated_at, due_at, attributes, media_url, token, lang,
	channel, assignee, close_reason, status_notes_fr, paused_at, escalation_level, next_escalation_at, NOT located`

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type scanner interface{ Scan(dest ...any) error }

func scanRequest(sc scanner) (requests.Request, error) {
	var (
		r                          requests.Request
		status, lang, channel, why string
		lon, lat                   float64
		requested, updated, due    sql.NullInt64
		paused, next               sql.NullInt64
		attrs                      sql.NullString
	)
	err := sc.Scan(&r.ID, &r.TenantID, &r.ServiceCode, &r.Description, &status, &r.StatusNotes, &lon, &lat, &r.Address,
		&r.WardID, &r.AssetLayer, &r.AssetID, &r.AssetDistanceM, &r.ClusterID, &r.Department,
		&requested, &updated, &due, &attrs, &r.MediaURL, &r.Token, &lang,
		&channel, &r.Assignee, &why, &r.StatusNotesFr, &paused, &r.EscalationLevel, &next, &r.Unlocated)
	if err != nil {
		return requests.Request{}, err
	}
	r.ServiceRequestID = requests.FormatServiceRequestID(r.ID)
	r.Status, r.Lang = requests.Status(status), i18n.Lang(lang)
	r.Point = orb.Point{lon, lat}
	r.RequestedAt, r.UpdatedAt, r.DueAt = fromMicros(requested), fromMicros(updated), fromMicros(due)
	r.Channel, r.CloseReason = requests.Channel(channel), requests.CloseReason(why)
	r.PausedAt, r.NextEscalationAt = fromMicros(paused), fromMicros(next)
	if attrs.Valid {
		if err := json.Unmarshal([]byte(attrs.String), &r.Attributes); err != nil {
			return requests.Request{}, err
		}
		if len(r.Attributes) == 0 {
			r.Attributes = nil
		}
	}
	return r, nil
}

func queryRequests(ctx context.Context, q querier, query string, args ...any) ([]requests.Request, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []requests.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// getRequest reads one request of tenant by primary key.
func getRequest(ctx context.Context, q querier, tenant string, id int64) (requests.Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests WHERE tenant_id = ? AND id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return requests.Request{}, requests.RequestNotFoundError(requests.FormatServiceRequestID(id))
	}
	return r, err
}

// requestID returns the primary key of tenant's request serviceRequestID,
// RequestNotFoundError when there is none.
func requestID(ctx context.Context, q querier, tenant, serviceRequestID string) (int64, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return 0, requests.RequestNotFoundError(serviceRequestID)
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM requests WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&n)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, requests.RequestNotFoundError(serviceRequestID)
	}
	return id, nil
}

// CreateRequest implements requests.Store. Creations that arrive together
// share one write transaction and one fsync (see groupCommit); each
// returns only once that transaction is committed.
func (s *Store) CreateRequest(ctx context.Context, nr requests.NewRequest) (requests.Request, error) {
	if err := requests.CheckNewRequestText(nr); err != nil {
		return requests.Request{}, err
	}
	return s.commits.submit(ctx, s, nr)
}

// createRequest is CreateRequest's work inside the write transaction tx.
// stmts runs createRequest's own statements, prepared, in tx; tx runs
// the helpers shared with other writes.
func createRequest(ctx context.Context, tx *sql.Tx, stmts cachedTx, nr requests.NewRequest) (requests.Request, error) {
	var out requests.Request
	err := func() error {
		r := nr.Request.Normalized()
		if nr.IdempotencyKey != "" {
			// The write lock is held since BEGIN IMMEDIATE, so no other
			// creation can slip in between this read and the insert below.
			var fp string
			var id int64
			err := stmts.QueryRowContext(ctx, `SELECT fingerprint, request_id FROM idempotency WHERE tenant_id = ? AND key = ?`,
				r.TenantID, nr.IdempotencyKey).Scan(&fp, &id)
			switch {
			case err == nil && fp != nr.Fingerprint:
				return requests.IdempotencyConflictError()
			case err == nil:
				out, err = getRequest(ctx, stmts, r.TenantID, id)
				return err
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		r.ClusterID = ""
		if nr.Cluster != nil {
			cands, err := clusterCandidates(ctx, stmts, *nr.Cluster)
			if err != nil {
				return err
			}
			r.ClusterID = nr.Cluster.Pick(cands)
		}
		var attrs any
		if len(r.Attributes) > 0 {
			b, err := json.Marshal(r.Attributes)
			if err != nil {
				return err
			}
			attrs = string(b)
		} else {
			r.Attributes = nil
		}
		// The ID skips the numbers answered to blocked senders (blocklist.go).
		res, err := stmts.ExecContext(ctx, `INSERT INTO requests (id, tenant_id, service_code, description, status, status_notes,
			lon, lat, address, ward_id, asset_layer, asset_id, asset_distance_m, cluster_id, department,
			requested_at, updated_at, due_at, attributes, media_url, token, lang, channel, next_escalation_at)
			VALUES (`+nextRequestID+`, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.TenantID, r.ServiceCode, r.Description, string(r.Status), r.StatusNotes,
			r.Point[0], r.Point[1], r.Address, r.WardID, r.AssetLayer, r.AssetID, r.AssetDistanceM, r.ClusterID, r.Department,
			micros(r.RequestedAt), micros(r.UpdatedAt), micros(r.DueAt), attrs, r.MediaURL, r.Token, string(r.Lang), string(r.Channel),
			micros(r.NextEscalationAt))
		if err != nil {
			return err
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		r.ServiceRequestID = requests.FormatServiceRequestID(r.ID)
		if r.ClusterID == "" {
			// The ID is known only now: the request starts its own cluster.
			r.ClusterID = r.ServiceRequestID
			if _, err := stmts.ExecContext(ctx, `UPDATE requests SET cluster_id = ? WHERE id = ?`, r.ClusterID, r.ID); err != nil {
				return err
			}
		}
		if p := nr.Reporter; p != nil && !p.IsZero() {
			if _, err := stmts.ExecContext(ctx, `INSERT INTO reporters (request_id, tenant_id, first_name, last_name, email, phone, device_id, notify, notice_version)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.TenantID, p.FirstName, p.LastName, p.Email, p.Phone, p.DeviceID, !p.OptOut, p.NoticeVersion); err != nil {
				return err
			}
		}
		if err := insertMedia(ctx, tx, r, nr.Media); err != nil {
			return err
		}
		ev := nr.Event
		ev.RequestID, ev.TenantID = r.ID, r.TenantID
		if err := insertEvent(ctx, stmts, ev); err != nil {
			return err
		}
		if nr.IdempotencyKey != "" {
			if _, err := stmts.ExecContext(ctx, `INSERT INTO idempotency (tenant_id, key, fingerprint, request_id) VALUES (?, ?, ?, ?)`,
				r.TenantID, nr.IdempotencyKey, nr.Fingerprint, r.ID); err != nil {
				return err
			}
		}
		if err := createWorkOrder(ctx, tx, nr, r); err != nil {
			return err
		}
		r.RequestedAt, r.UpdatedAt, r.DueAt = norm(r.RequestedAt), norm(r.UpdatedAt), norm(r.DueAt)
		r.NextEscalationAt = norm(r.NextEscalationAt)
		out = r
		return nil
	}()
	return out, err
}

// clusterCandidates reads the open requests q may join: a superset of those
// q.Matches (same codes, open, since q.Since, and in q.Bound or naming the
// same asset); q.Pick makes the final choice.
//
// The R-tree drives the spatial query (CROSS JOIN fixes the join order):
// left to itself, SQLite walks every request of the category in the window
// by index and tests each against the R-tree, which grows with the table.
// Naming the same asset is a second query on its index.
func clusterCandidates(ctx context.Context, tx querier, q requests.ClusterQuery) ([]requests.Request, error) {
	return candidatesIn(ctx, tx, q, requests.HotspotLimit)
}

// candidatesIn is clusterCandidates reading at most limit candidates in the
// Bound before it looks for the nearest (see hotspot.go); a limit of 0
// reads them all, as Locate wants.
func candidatesIn(ctx context.Context, tx querier, q requests.ClusterQuery, limit int) ([]requests.Request, error) {
	if len(q.ServiceCodes) == 0 {
		return nil, nil
	}
	filter := ` tenant_id = ? AND status <> ? AND service_code IN (` + placeholders(len(q.ServiceCodes)) + `)`
	args := append([]any{q.Tenant, string(requests.Closed)}, anys(q.ServiceCodes)...)
	if !q.Since.IsZero() {
		filter += ` AND requested_at >= ?`
		args = append(args, q.Since.UnixMicro())
	}
	var out []requests.Request
	rd := fullRows // Locate shows them
	if limit > 0 {
		rd = candidateRows // Pick chooses among them
	}
	if q.DistanceM > 0 {
		n := 0 // all
		if limit > 0 {
			n = limit + 1 // one more tells a crowded Bound
		}
		rs, err := inBox(ctx, tx, rd, q.Bound, filter, args, n)
		if err != nil {
			return nil, err
		}
		if limit > 0 && len(rs) > limit {
			if rs, err = hotspotCandidates(ctx, tx, rd, q, filter, args, rs); err != nil {
				return nil, err
			}
		}
		out = rs
	}
	if q.AssetID != "" {
		// For assignment, the earliest on the asset is the one Pick takes
		// among them (as on PostgreSQL); Locate lists them all.
		order := ""
		if limit > 0 {
			order = ` ORDER BY requested_at, id LIMIT 1`
		}
		rs, err := rd.query(ctx, tx, `SELECT `+rd.cols+` FROM requests INDEXED BY requests_tenant_asset
			WHERE asset_layer = ? AND asset_id = ? AND asset_id <> '' AND`+filter+order,
			append([]any{q.AssetLayer, q.AssetID}, args...)...)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if !slices.ContainsFunc(out, func(o requests.Request) bool { return o.ID == r.ID }) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func insertEvent(ctx context.Context, tx execer, ev requests.Event) error {
	_, err := insertEventID(ctx, tx, ev)
	return err
}

// insertEventID inserts ev and returns its ID.
// execer is a *sql.Tx, or a cachedTx running prepared statements (intake).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertEventID(ctx context.Context, tx execer, ev requests.Event) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, note,
			public_note_en, public_note_fr, internal_note, reason, template, level)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.TenantID, ev.RequestID, micros(ev.At), ev.Actor, string(ev.Kind), string(ev.From), string(ev.To), ev.Note,
		ev.PublicNoteEn, ev.PublicNoteFr, ev.InternalNote, ev.Reason, ev.Template, ev.Level)
	if err != nil {
		return 0, fmt.Errorf("insert %s event: %w", ev.Kind, err)
	}
	return res.LastInsertId()
}

// GetRequest implements requests.Store.
func (s *Store) GetRequest(ctx context.Context, tenant, serviceRequestID string) (requests.Request, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return requests.Request{}, requests.RequestNotFoundError(serviceRequestID)
	}
	r, err := getRequest(ctx, s.read, tenant, id)
	return r, wrap(ctx, "get request", err)
}

// GetRequestByToken implements requests.Store.
func (s *Store) GetRequestByToken(ctx context.Context, tenant, token string) (requests.Request, error) {
	if token == "" {
		return requests.Request{}, requests.TokenNotFoundError()
	}
	r, err := scanRequest(s.read.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests WHERE tenant_id = ? AND token = ?`, tenant, token))
	if errors.Is(err, sql.ErrNoRows) {
		return requests.Request{}, requests.TokenNotFoundError()
	}
	return r, wrap(ctx, "get request by token", err)
}

// ListRequests implements requests.Store.
func (s *Store) ListRequests(ctx context.Context, f requests.Filter) ([]requests.Request, error) {
	where := []string{`tenant_id = ?`, `located` /* imported rows without a point: reports only */}
	args := []any{f.Tenant}
	if len(f.ServiceRequestIDs) > 0 {
		var ids []any
		for _, sid := range f.ServiceRequestIDs {
			if id, ok := requests.ParseServiceRequestID(sid); ok {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil, wrap(ctx, "list requests", ctx.Err()) // no ID can match
		}
		where = append(where, `id IN (`+placeholders(len(ids))+`)`)
		args = append(args, ids...)
	}
	if len(f.ServiceCodes) > 0 {
		where = append(where, `service_code IN (`+placeholders(len(f.ServiceCodes))+`)`)
		args = append(args, anys(f.ServiceCodes)...)
	}
	if len(f.Statuses) > 0 {
		where = append(where, `status IN (`+placeholders(len(f.Statuses))+`)`)
		args = append(args, anys(f.Statuses)...)
	}
	if f.WardID != "" {
		where = append(where, `ward_id = ?`)
		args = append(args, f.WardID)
	}
	if f.ClusterID != "" {
		where = append(where, `cluster_id = ?`)
		args = append(args, f.ClusterID)
	}
	if c := f.Scope.Where("department", "ward_id", func(v any) string { args = append(args, v); return "?" }); c != "" {
		where = append(where, c)
	}
	if !f.Start.IsZero() {
		// Microseconds are what is stored; rounding Start up keeps the
		// bound exact for sub-microsecond filter times.
		where = append(where, `requested_at >= ?`)
		args = append(args, ceilMicros(f.Start))
	}
	if !f.End.IsZero() {
		where = append(where, `requested_at <= ?`)
		args = append(args, f.End.UnixMicro())
	}
	if b := f.BBox; b != nil {
		// The R*Tree narrows; the exact columns decide (edges included).
		where = append(where, `id IN (SELECT id FROM requests_rtree WHERE max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?)`,
			`lon BETWEEN ? AND ?`, `lat BETWEEN ? AND ?`)
		args = append(args, b.Min[0], b.Max[0], b.Min[1], b.Max[1], b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	}
	limit := f.Limit
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	order := ` ORDER BY requested_at DESC, id DESC`
	if f.ByID {
		// requests_tenant_id (tenant_id, then the rowid) serves the range
		// and the order.
		where = append(where, `id > ?`)
		args = append(args, f.AfterID)
		order = ` ORDER BY id`
	}
	args = append(args, limit, max(f.Offset, 0))
	out, err := queryRequests(ctx, s.read, `SELECT `+requestCols+` FROM requests WHERE `+strings.Join(where, " AND ")+
		order+` LIMIT ? OFFSET ?`, args...)
	return out, wrap(ctx, "list requests", err)
}

// ListEvents implements requests.Store.
func (s *Store) ListEvents(ctx context.Context, tenant, serviceRequestID string) ([]requests.Event, error) {
	id, err := requestID(ctx, s.read, tenant, serviceRequestID)
	if err != nil {
		return nil, wrap(ctx, "list events", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE tenant_id = ? AND request_id = ? ORDER BY at, id`, tenant, id)
	if err != nil {
		return nil, wrap(ctx, "list events", err)
	}
	out, err := scanEvents(rows)
	return out, wrap(ctx, "list events", err)
}

// eventColumns is what scanEvents reads, in order.
const eventColumns = `id, tenant_id, request_id, at, actor, kind, from_status, to_status, note,
	public_note_en, public_note_fr, internal_note, reason, template, level`

// GetReporter implements requests.Store. The read and its audit event share
// one write transaction: no read goes unlogged.
func (s *Store) GetReporter(ctx context.Context, a requests.ReporterAccess) (requests.Reporter, error) {
	var out requests.Reporter
	err := s.inTx(ctx, "get reporter", func(tx *sql.Tx) error {
		id, err := requestID(ctx, tx, a.Tenant, a.ServiceRequestID)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT first_name, last_name, email, phone, device_id, notice_version FROM reporters
			WHERE tenant_id = ? AND request_id = ?`, a.Tenant, id).Scan(&out.FirstName, &out.LastName, &out.Email, &out.Phone, &out.DeviceID, &out.NoticeVersion)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return insertEvent(ctx, tx, requests.Event{TenantID: a.Tenant, RequestID: id, At: a.At, Actor: a.Actor, Kind: requests.EventReporterRead})
	})
	if err != nil {
		return requests.Reporter{}, err
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
