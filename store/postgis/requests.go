package postgis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// requestColumns is what scanRequest reads, in order.
const requestColumns = `id, tenant_id, service_code, description, status, status_notes,
	ST_X(geom), ST_Y(geom), address, ward_id, asset_layer, asset_id, asset_distance_m,
	cluster_id, department, requested_at, updated_at, due_at, attributes, media_url, token, lang,
	channel, assignee, close_reason, status_notes_fr, paused_at, escalation_level, next_escalation_at, NOT located`

func scanRequest(row pgx.Row) (requests.Request, error) {
	var (
		r                 requests.Request
		due, paused, next *time.Time
		attrs             map[string]string
		lang              string
	)
	err := row.Scan(&r.ID, &r.TenantID, &r.ServiceCode, &r.Description, &r.Status, &r.StatusNotes,
		&r.Point[0], &r.Point[1], &r.Address, &r.WardID, &r.AssetLayer, &r.AssetID, &r.AssetDistanceM,
		&r.ClusterID, &r.Department, &r.RequestedAt, &r.UpdatedAt, &due, &attrs, &r.MediaURL, &r.Token, &lang,
		&r.Channel, &r.Assignee, &r.CloseReason, &r.StatusNotesFr, &paused, &r.EscalationLevel, &next, &r.Unlocated)
	if err != nil {
		return requests.Request{}, err
	}
	r.ServiceRequestID = requests.FormatServiceRequestID(r.ID)
	// UTC so both stores return the same time.Time values.
	r.RequestedAt, r.UpdatedAt = r.RequestedAt.UTC(), r.UpdatedAt.UTC()
	for _, t := range []struct {
		src *time.Time
		dst *time.Time
	}{{due, &r.DueAt}, {paused, &r.PausedAt}, {next, &r.NextEscalationAt}} {
		if t.src != nil {
			*t.dst = t.src.UTC()
		}
	}
	if next != nil {
		r.NextEscalationAt = next.UTC()
	}
	if len(attrs) > 0 {
		r.Attributes = attrs
	}
	r.Lang = i18n.Lang(lang)
	return r, nil
}

func collectRequests(rows pgx.Rows) ([]requests.Request, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.Request, error) { return scanRequest(row) })
}

// nullTime maps the zero time (no SLA) to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// nullString maps "" (no idempotency key) to NULL, which never conflicts.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// insertRequestSQL stores a request with its created event and, in the
// second form, its reporter, in one statement. The ID is drawn first so a
// request that starts its own cluster gets its own public ID as cluster_id.
// ON CONFLICT DO NOTHING: a submission with the same key, committed or in
// flight, makes the insert (wait for it and) return no row, and then the
// event and reporter inserts, which read the inserted row, add nothing.
var insertRequestSQL = [2]string{insertRequestStmt(false), insertRequestStmt(true)}

func insertRequestStmt(reporter bool) string {
	sql := `WITH n AS (SELECT nextval(pg_get_serial_sequence('requests', 'id')::regclass) AS id),
	ins AS (INSERT INTO requests (id, tenant_id, service_code, description, status, status_notes,
			geom, address, ward_id, asset_layer, asset_id, asset_distance_m, cluster_id, department,
			requested_at, updated_at, due_at, attributes, media_url, token, lang, idempotency_key, fingerprint, channel,
			next_escalation_at)
		SELECT n.id, $1, $2, $3, $4, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326), $8, $9, $10, $11, $12,
			COALESCE(NULLIF($13, ''), n.id::text), $14,
			$15, $16, $17, $18, $19, $20, $21, $22, $23, $30, $31
		FROM n
		ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
		RETURNING ` + requestColumns + `),
	ev AS (INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, note)
		SELECT ins.tenant_id, ins.id, $24, $25, $26, $27, $28, $29 FROM ins)`
	if reporter {
		sql += `,
	rep AS (INSERT INTO pinward_private.reporters (tenant_id, request_id, first_name, last_name, email, phone, device_id, notify, notice_version)
		SELECT ins.tenant_id, ins.id, $32, $33, $34, $35, $36, $37, $38 FROM ins)`
	}
	return sql + `
	SELECT * FROM ins`
}

// insertRequestArgs are insertRequestSQL's arguments and the statement to
// use for them.
func insertRequestArgs(nr requests.NewRequest, r requests.Request) (string, []any) {
	var attrs any // NULL rather than JSON null or {} for no attributes
	if len(r.Attributes) > 0 {
		attrs = r.Attributes
	}
	ev := nr.Event
	args := []any{r.TenantID, r.ServiceCode, r.Description, string(r.Status), r.StatusNotes,
		r.Point[0], r.Point[1], r.Address, r.WardID, r.AssetLayer, r.AssetID, r.AssetDistanceM,
		r.ClusterID, r.Department, r.RequestedAt, r.UpdatedAt, nullTime(r.DueAt), attrs, r.MediaURL,
		r.Token, string(r.Lang), nullString(nr.IdempotencyKey), nr.Fingerprint,
		ev.At, ev.Actor, string(ev.Kind), string(ev.From), string(ev.To), ev.Note, string(r.Channel)}
	args = append(args, nullTime(r.NextEscalationAt))
	if rep := nr.Reporter; rep != nil && !rep.IsZero() {
		return insertRequestSQL[1], append(args, rep.FirstName, rep.LastName, rep.Email, rep.Phone, rep.DeviceID, !rep.OptOut, rep.NoticeVersion)
	}
	return insertRequestSQL[0], args
}

// CreateRequest implements requests.Store.
//
// Intake is the hot path: concurrent creations share one transaction and
// two round trips (see groupcommit.go); each returns once that transaction
// committed.
func (s *Store) CreateRequest(ctx context.Context, nr requests.NewRequest) (requests.Request, error) {
	if err := requests.CheckNewRequestText(nr); err != nil {
		return requests.Request{}, err
	}
	nr.Request = nr.Request.Normalized()
	if groupable(nr) {
		return s.commits.submit(ctx, s, nr)
	}
	return s.createSingle(ctx, nr)
}

// createSingle is CreateRequest in a transaction of its own. It costs at
// most two round trips: the locks and the cluster candidates (after BEGIN)
// in one, the insert of the request, its event and its reporter and COMMIT
// in the other; a request with no duplicate rule, one statement. A request
// that may start a work order takes the general transaction
// (createRequest).
func (s *Store) createSingle(ctx context.Context, nr requests.NewRequest) (requests.Request, error) {
	var (
		out requests.Request
		err error
	)
	if nr.WorkOrder || len(nr.Media) > 0 {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			out, err = createRequest(ctx, tx, nr)
			return err
		})
	} else {
		out, err = s.createPipelined(ctx, nr)
	}
	if err != nil {
		return requests.Request{}, internal("create request", err)
	}
	return out, nil
}

// createPipelined is CreateRequest without a work order, pipelined on one
// connection.
func (s *Store) createPipelined(ctx context.Context, nr requests.NewRequest) (requests.Request, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return requests.Request{}, fmt.Errorf("acquire connection: %w", err)
	}
	// A connection left inside a transaction by a failure is closed by
	// the pool on release rather than reused.
	defer conn.Release()
	r := nr.Request
	inTx := nr.Cluster != nil
	if inTx {
		var b pgx.Batch
		b.Queue("BEGIN")
		cands, err := clusterCandidates(ctx, conn.Conn(), &b, nr)
		if err != nil {
			rollback(conn.Conn())
			return r, err
		}
		r.ClusterID = nr.Cluster.Pick(cands)
	}
	sql, args := insertRequestArgs(nr, r)
	var b pgx.Batch
	b.Queue(sql, args...)
	if inTx {
		b.Queue("COMMIT")
	}
	br := conn.SendBatch(ctx, &b)
	stored, err := scanRequest(br.QueryRow())
	inserted := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		br.Close()
		rollback(conn.Conn())
		return r, fmt.Errorf("insert request: %w", err)
	}
	if err := br.Close(); err != nil {
		rollback(conn.Conn())
		return r, fmt.Errorf("commit request: %w", err)
	}
	if inserted {
		return stored, nil
	}
	// Lost the race to a submission with the same key, now committed.
	prev, found, err := replay(ctx, conn, r.TenantID, nr)
	if err == nil && !found {
		err = errors.New("idempotency key conflicted but no request holds it")
	}
	return prev, err
}

// rollback ends a failed pipelined transaction, so the connection goes
// back to the pool clean (if it fails, the pool closes the connection).
func rollback(c *pgx.Conn) {
	if c.PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Exec(ctx, "ROLLBACK") //nolint:errcheck // see above
	}
}

// createRequest is CreateRequest inside tx, for a request that may start a
// work order.
func createRequest(ctx context.Context, tx pgx.Tx, nr requests.NewRequest) (requests.Request, error) {
	r := nr.Request
	if nr.Cluster != nil {
		var b pgx.Batch
		cands, err := clusterCandidates(ctx, tx, &b, nr)
		if err != nil {
			return r, err
		}
		r.ClusterID = nr.Cluster.Pick(cands)
	}
	sql, args := insertRequestArgs(nr, r)
	stored, err := scanRequest(tx.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		// Lost the race to a submission with the same key, now committed.
		prev, found, err := replay(ctx, tx, r.TenantID, nr)
		if err == nil && !found {
			err = errors.New("idempotency key conflicted but no request holds it")
		}
		return prev, err
	}
	if err != nil {
		return r, fmt.Errorf("insert request: %w", err)
	}
	if err := createWorkOrder(ctx, tx, nr, stored); err != nil {
		return r, err
	}
	if err := insertMedia(ctx, tx, stored, nr.Media); err != nil {
		return r, err
	}
	return stored, nil
}

// replay looks up the request stored under nr's idempotency key: found is
// false when there is none; a different fingerprint is
// IdempotencyConflictError.
func replay(ctx context.Context, tx queryRower, tenant string, nr requests.NewRequest) (requests.Request, bool, error) {
	var fp string
	row := tx.QueryRow(ctx, `SELECT `+requestColumns+`, COALESCE(fingerprint, '')
		FROM requests WHERE tenant_id = $1 AND idempotency_key = $2`, tenant, nr.IdempotencyKey)
	// scanRequest reads a fixed column list; extraRow reads the
	// fingerprint after it.
	r, err := scanRequest(extraRow{row, &fp})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return requests.Request{}, false, nil
	case err != nil:
		return requests.Request{}, false, fmt.Errorf("look up idempotency key: %w", err)
	case fp != nr.Fingerprint:
		return requests.Request{}, true, requests.IdempotencyConflictError()
	}
	return r, true, nil
}

// extraRow appends destinations to a Scan, so scanRequest can read a row
// with more columns than requestColumns.
type extraRow struct {
	pgx.Row
	extra *string
}

func (e extraRow) Scan(dest ...any) error { return e.Row.Scan(append(dest, e.extra)...) }

// queryRower is what a pgx.Tx, *pgx.Conn and *pgxpool.Conn offer.
type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// batcher is what a pgx.Tx and *pgx.Conn offer.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// clusterCandidates takes nr's cluster locks and returns a superset of the
// requests nr.Cluster.Matches: open, of its codes, since its Since, and
// inside its Bound (by the GiST index) or on the same asset. Pick makes the
// exact choice.
func clusterCandidates(ctx context.Context, tx batcher, b *pgx.Batch, nr requests.NewRequest) ([]requests.Request, error) {
	sql, args := candidatesSQL, candidatesArgs([]int32{0}, []*requests.ClusterQuery{nr.Cluster})

	// One round trip, several statements (after what b already holds): the candidates are read after
	// the locks are granted, so (READ COMMITTED: a snapshot per statement)
	// they include every request committed by a previous holder. The locks
	// serialise assignment across every server on the database and are
	// released at commit. The group lock is taken shared by creations that
	// lock grid cells, exclusively by one that locks its whole group (and
	// by servers of earlier versions, which only take it exclusively).
	group, cells := nr.ClusterLocks()
	before := b.Len()
	if cells == nil {
		b.Queue("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", group)
	} else {
		b.Queue("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))", group)
		// A function scan returns the array in order: the cells are
		// locked in their sorted order, so no two creations deadlock.
		b.Queue("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k", cells)
	}
	b.Queue(sql, args...)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	for i := range b.Len() - 1 {
		if i < before {
			if _, err := br.Exec(); err != nil {
				return nil, err
			}
			continue
		}
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("lock cluster %q: %w", group, err)
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("query cluster candidates: %w", err)
	}
	var cands []requests.Request
	for rows.Next() {
		var i int32
		r, err := scanCandidate(rows, &i)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("read cluster candidates: %w", err)
		}
		cands = append(cands, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cluster candidates: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	return cands, nil
}

const insertEventSQL = `INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, note,
		public_note_en, public_note_fr, internal_note, reason, template, level)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

func eventArgs(ev requests.Event) []any {
	return []any{ev.TenantID, ev.RequestID, ev.At, ev.Actor, string(ev.Kind), string(ev.From), string(ev.To), ev.Note,
		ev.PublicNoteEn, ev.PublicNoteFr, ev.InternalNote, ev.Reason, ev.Template, ev.Level}
}

func insertEvent(ctx context.Context, tx pgx.Tx, ev requests.Event) error {
	if _, err := tx.Exec(ctx, insertEventSQL, eventArgs(ev)...); err != nil {
		return fmt.Errorf("insert %s event: %w", ev.Kind, err)
	}
	return nil
}

// GetRequest implements requests.Store.
func (s *Store) GetRequest(ctx context.Context, tenant, serviceRequestID string) (requests.Request, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return requests.Request{}, requests.RequestNotFoundError(serviceRequestID)
	}
	r, err := scanRequest(s.pool.QueryRow(ctx,
		`SELECT `+requestColumns+` FROM requests WHERE tenant_id = $1 AND id = $2`, tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return requests.Request{}, requests.RequestNotFoundError(serviceRequestID)
	}
	if err != nil {
		return requests.Request{}, internal("get request", err)
	}
	return r, nil
}

// GetRequestByToken implements requests.Store.
func (s *Store) GetRequestByToken(ctx context.Context, tenant, token string) (requests.Request, error) {
	if token == "" {
		return requests.Request{}, requests.TokenNotFoundError()
	}
	r, err := scanRequest(s.pool.QueryRow(ctx,
		`SELECT `+requestColumns+` FROM requests WHERE tenant_id = $1 AND token = $2`, tenant, token))
	if errors.Is(err, pgx.ErrNoRows) {
		return requests.Request{}, requests.TokenNotFoundError()
	}
	if err != nil {
		return requests.Request{}, internal("get request by token", err)
	}
	return r, nil
}

// ListRequests implements requests.Store.
func (s *Store) ListRequests(ctx context.Context, f requests.Filter) ([]requests.Request, error) {
	var (
		// Imported rows without a point are for reports only.
		where = []string{"tenant_id = $1", "located"}
		args  = []any{f.Tenant}
	)
	// arg adds a bind parameter and returns its placeholder.
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(f.ServiceRequestIDs) > 0 {
		// IDs that cannot exist are dropped; if none is left, nothing
		// matches.
		ids := make([]int64, 0, len(f.ServiceRequestIDs))
		for _, s := range f.ServiceRequestIDs {
			if id, ok := requests.ParseServiceRequestID(s); ok {
				ids = append(ids, id)
			}
		}
		where = append(where, "id = ANY("+arg(ids)+")")
	}
	if len(f.ServiceCodes) > 0 {
		where = append(where, "service_code = ANY("+arg(f.ServiceCodes)+")")
	}
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, v := range f.Statuses {
			st[i] = string(v)
		}
		where = append(where, "status = ANY("+arg(st)+")")
	}
	if f.WardID != "" {
		where = append(where, "ward_id = "+arg(f.WardID))
	}
	if f.ClusterID != "" {
		where = append(where, "cluster_id = "+arg(f.ClusterID))
	}
	if c := f.Scope.Where("department", "ward_id", arg); c != "" {
		where = append(where, c)
	}
	if !f.Start.IsZero() {
		where = append(where, "requested_at >= "+arg(f.Start))
	}
	if !f.End.IsZero() {
		where = append(where, "requested_at <= "+arg(f.End))
	}
	if b := f.BBox; b != nil {
		// && uses the GiST index but compares float4 boxes rounded outward;
		// the exact float8 test keeps points on the edges and drops the
		// rest.
		minX, minY, maxX, maxY := arg(b.Min[0]), arg(b.Min[1]), arg(b.Max[0]), arg(b.Max[1])
		where = append(where, fmt.Sprintf("geom && ST_MakeEnvelope(%[1]s, %[2]s, %[3]s, %[4]s, 4326)"+
			" AND ST_X(geom) BETWEEN %[1]s AND %[3]s AND ST_Y(geom) BETWEEN %[2]s AND %[4]s", minX, minY, maxX, maxY))
	}
	limit := f.Limit
	if limit <= 0 || limit > requests.MaxListLimit {
		limit = requests.MaxListLimit
	}
	order := ` ORDER BY requested_at DESC, id DESC`
	if f.ByID {
		// The primary key (tenant_id, id) serves the range and the order.
		where = append(where, "id > "+arg(f.AfterID))
		order = ` ORDER BY id`
	}
	sql := `SELECT ` + requestColumns + ` FROM requests WHERE ` + strings.Join(where, " AND ") +
		order + ` LIMIT ` + arg(limit) + ` OFFSET ` + arg(max(f.Offset, 0))
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, internal("list requests", err)
	}
	out, err := collectRequests(rows)
	if err != nil {
		return nil, internal("list requests", err)
	}
	return out, nil
}

// requestExists answers RequestNotFoundError for an unknown request.
func requestExists(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, tenant, serviceRequestID string) (int64, error) {
	id, ok := requests.ParseServiceRequestID(serviceRequestID)
	if !ok {
		return 0, requests.RequestNotFoundError(serviceRequestID)
	}
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM requests WHERE tenant_id = $1 AND id = $2)`,
		tenant, id).Scan(&exists); err != nil {
		return 0, fmt.Errorf("look up request: %w", err)
	}
	if !exists {
		return 0, requests.RequestNotFoundError(serviceRequestID)
	}
	return id, nil
}

// ListEvents implements requests.Store.
func (s *Store) ListEvents(ctx context.Context, tenant, serviceRequestID string) ([]requests.Event, error) {
	id, err := requestExists(ctx, s.pool, tenant, serviceRequestID)
	if err != nil {
		return nil, internal("list events", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events WHERE tenant_id = $1 AND request_id = $2 ORDER BY at, id`, tenant, id)
	if err != nil {
		return nil, internal("list events", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.Event, error) { return scanEvent(row) })
	if err != nil {
		return nil, internal("list events", err)
	}
	return evs, nil
}

// eventColumns is what scanEvent reads, in order.
const eventColumns = `id, tenant_id, request_id, at, actor, kind, from_status, to_status, note,
	public_note_en, public_note_fr, internal_note, reason, template, level`

func scanEvent(row pgx.Row) (requests.Event, error) {
	var ev requests.Event
	err := row.Scan(&ev.ID, &ev.TenantID, &ev.RequestID, &ev.At, &ev.Actor, &ev.Kind, &ev.From, &ev.To, &ev.Note,
		&ev.PublicNoteEn, &ev.PublicNoteFr, &ev.InternalNote, &ev.Reason, &ev.Template, &ev.Level)
	ev.At = ev.At.UTC()
	return ev, err
}

// GetReporter implements requests.Store.
func (s *Store) GetReporter(ctx context.Context, a requests.ReporterAccess) (requests.Reporter, error) {
	var rep requests.Reporter
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := requestExists(ctx, tx, a.Tenant, a.ServiceRequestID)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT first_name, last_name, email, phone, device_id, notice_version
			FROM pinward_private.reporters WHERE tenant_id = $1 AND request_id = $2`, a.Tenant, id).
			Scan(&rep.FirstName, &rep.LastName, &rep.Email, &rep.Phone, &rep.DeviceID, &rep.NoticeVersion)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) { // no row: an anonymous report
			return fmt.Errorf("read reporter: %w", err)
		}
		// The read is logged in the same transaction: no access goes
		// unrecorded.
		return insertEvent(ctx, tx, requests.Event{TenantID: a.Tenant, RequestID: id, At: a.At, Actor: a.Actor,
			Kind: requests.EventReporterRead})
	})
	if err != nil {
		return requests.Reporter{}, internal("get reporter", err)
	}
	return rep, nil
}
