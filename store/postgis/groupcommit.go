package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pinward/pinward/requests"
)

// Group commit: concurrent CreateRequest calls are gathered into one
// transaction of a few multi-row statements, in two round trips whatever
// the group's size: (1) BEGIN, the cluster locks of every creation in one
// sorted pass, the IDs, and every creation's cluster candidates; (2) the
// requests, events and reporters as unnest arrays, and COMMIT. Per request,
// PostgreSQL then parses, plans and commits almost nothing, and each caller
// still returns only after the transaction holding its request committed.
//
// There is no timer: while maxGroupsInFlight groups are being committed,
// new creations queue, and the next free committer takes them all (up to
// maxGroupSize). An idle store commits a lone request at once.

// maxGroupSize bounds one group: its locks and its arrays.
const maxGroupSize = 64

// maxGroupsInFlight is how many groups commit at once, each on its own
// connection: enough to keep both the server and this process busy while
// the other works, few enough that the queue, not the pool, batches.
const maxGroupsInFlight = 3

// groupTimeout bounds one group's transaction: it runs on no caller's
// context (one caller hanging up must not roll back the others).
const groupTimeout = time.Minute

type groupCommit struct {
	mu      sync.Mutex
	pending []*createOp
	running int // committers
	closed  bool
	wg      sync.WaitGroup
	// inserted counts the requests stored, for analyzeYoung.
	inserted atomic.Int64
}

// youngEvery and youngUntil: after every youngEvery requests stored, up to
// youngUntil, the store checks that the tables have statistics.
const youngEvery, youngUntil = 1000, 20_000

// analyzeYoung gives a database that never had its tables analyzed their
// first statistics. Until autovacuum first gets to them (up to a minute or
// more), PostgreSQL plans for empty tables, and the foreign key check of
// each event, planned with an index on tenant_id alone, scans the tenant's
// requests: intake slows as the table grows. Best effort: an error (a role
// that may not ANALYZE) leaves it to autovacuum.
func (s *Store) analyzeYoung() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var young bool
	err := s.pool.QueryRow(ctx, `SELECT last_analyze IS NULL AND last_autoanalyze IS NULL
		FROM pg_stat_user_tables WHERE relid = 'requests'::regclass`).Scan(&young)
	if err == nil && young {
		s.pool.Exec(ctx, "ANALYZE requests, events, pinward_private.reporters") //nolint:errcheck // see above
	}
}

type createOp struct {
	ctx  context.Context
	nr   requests.NewRequest
	out  requests.Request
	err  error
	done chan struct{}
}

var errClosed = errors.New("postgis: store closed")

// groupable reports whether nr can join a group: a creation that may start
// a work order takes the general transaction, and service codes that
// cannot be packed into one text value (no real catalog has them) take the
// single path.
func groupable(nr requests.NewRequest) bool {
	if nr.WorkOrder || len(nr.Media) > 0 {
		return false
	}
	if q := nr.Cluster; q != nil {
		for _, c := range q.ServiceCodes {
			if strings.ContainsRune(c, codeSep) {
				return false
			}
		}
	}
	return true
}

// submit queues nr and waits for the outcome of its group's transaction.
func (g *groupCommit) submit(ctx context.Context, s *Store, nr requests.NewRequest) (requests.Request, error) {
	op := &createOp{ctx: ctx, nr: nr, done: make(chan struct{})}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return requests.Request{}, errClosed
	}
	g.pending = append(g.pending, op)
	if g.running < maxGroupsInFlight {
		g.running++
		g.wg.Add(1)
		go g.commit(s)
	}
	g.mu.Unlock()
	// Not abandoned on ctx.Done: once its transaction started, the request
	// may be committed, and the caller must learn whether it was.
	<-op.done
	return op.out, op.err
}

// close waits for the committers; later submits fail.
func (g *groupCommit) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}

// commit takes groups off the queue until it is empty.
func (g *groupCommit) commit(s *Store) {
	defer g.wg.Done()
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxGroupSize)
		if n == 0 {
			g.running--
			g.pending = nil // let a burst's backing array go
			g.mu.Unlock()
			return
		}
		group := g.pending[:n:n]
		g.pending = g.pending[n:]
		g.mu.Unlock()
		s.commitGroup(group)
	}
}

// commitGroup stores the group's live creations in one transaction and
// tells each its outcome. If the transaction fails before COMMIT (one
// creation's idempotency key was taken, one value refused...), nothing of
// it was stored and each creation is retried alone, so one bad creation
// fails alone, as in its own transaction. If COMMIT's outcome is unknown
// (the connection broke), every creation fails: retrying could store one
// twice.
func (s *Store) commitGroup(group []*createOp) {
	live := group[:0:0]
	for _, op := range group {
		if err := op.ctx.Err(); err != nil {
			op.err = internal("create request", err)
			close(op.done)
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	out, err := s.insertGroup(ctx, live)
	var ce commitError
	switch {
	case err == nil:
		for i, op := range live {
			op.out = out[i]
			close(op.done)
		}
		n := s.commits.inserted.Add(int64(len(live)))
		if n <= youngUntil && n/youngEvery != (n-int64(len(live)))/youngEvery {
			s.analyzeYoung()
		}
	case !errors.As(err, &ce):
		// Alone, each creation gets its own outcome (and an idempotency
		// replay its stored request).
		var wg sync.WaitGroup
		for _, op := range live {
			wg.Go(func() {
				defer close(op.done)
				op.out, op.err = s.createSingle(op.ctx, op.nr)
			})
		}
		wg.Wait()
	default:
		for _, op := range live {
			op.err = internal("create request", err)
			close(op.done)
		}
	}
}

// commitError is a failure of COMMIT itself, or of the connection after
// COMMIT was sent: the transaction may have committed.
type commitError struct{ err error }

func (e commitError) Error() string { return "commit request group: " + e.err.Error() }
func (e commitError) Unwrap() error { return e.err }

// codeSep separates a query's service codes in one text value (catalog
// codes are [a-z0-9_-]).
const codeSep = '\x1f'

// planSQL sets how the transaction's statements are planned, so that a
// young table, or a tenant its statistics do not know yet, cannot turn a
// lookup into a scan of the tenant's requests:
//   - generic plans: the foreign key checks of the events and reporters
//     (one query per row) are otherwise planned afresh for each row, and
//     then PostgreSQL prefers an index on tenant_id alone to the primary
//     key;
//   - no sequential scans: a plan made while the table was (nearly) empty
//     would read the whole table once it has grown, and stay cached.
const planSQL = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
	set_config('enable_seqscan', 'off', true)`

// prepareSQL takes a group's advisory locks, each once and in sorted order
// (the order every creation takes its own locks in, so no two transactions
// wait for each other in a cycle), exclusively where any creation of the
// group needs it so; and draws the group's request IDs, so a request that
// starts its own cluster knows its cluster ID before the insert (and later
// requests of the group can join it).
const prepareSQL = `SELECT (SELECT count(l.v) FROM (SELECT CASE WHEN t.x THEN pg_advisory_xact_lock(hashtextextended(t.k, 0))::text
		ELSE pg_advisory_xact_lock_shared(hashtextextended(t.k, 0))::text END
		FROM unnest($1::text[], $2::bool[]) AS t(k, x)) AS l(v)),
	ARRAY(SELECT nextval(pg_get_serial_sequence('requests', 'id')::regclass) FROM generate_series(1, $3::int))`

// candidatesSQL reads every creation's cluster candidates in one statement,
// tagged with the creation's index: what its ClusterQuery may match,
// bounded as requests/hotspot.go says (Pick decides). Three branches, each
// on its own index: the requests.HotspotLimit nearest in the bound (a KNN
// scan of the GiST index: all of them when the bound is not crowded), the
// earliest at the exact point of the nearest (requests_tenant_point), and
// the earliest on the same asset. A query with no window has since
// noWindow.
var candidatesSQL = `SELECT q.i, c.* FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[],
		$5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::text[], $11::float8[], $12::float8[])
		AS q(i, tenant, codes, since, x0, y0, x1, y1, alayer, aid, px, py)
	CROSS JOIN LATERAL (
		(SELECT ` + candidateColumns + ` FROM requests
		WHERE geom && ST_MakeEnvelope(q.x0, q.y0, q.x1, q.y1, 4326)
		  AND tenant_id = q.tenant AND status <> 'closed'
		  AND service_code = ANY(string_to_array(q.codes, E'\x1f')) AND requested_at >= q.since
		ORDER BY geom <-> ST_SetSRID(ST_MakePoint(q.px, q.py), 4326) LIMIT ` + hotspotLimit + `)
		UNION ALL
		(SELECT e.* FROM (SELECT geom AS g FROM requests
			WHERE geom && ST_MakeEnvelope(q.x0, q.y0, q.x1, q.y1, 4326)
			  AND tenant_id = q.tenant AND status <> 'closed'
			  AND service_code = ANY(string_to_array(q.codes, E'\x1f')) AND requested_at >= q.since
			ORDER BY geom <-> ST_SetSRID(ST_MakePoint(q.px, q.py), 4326) LIMIT 1) AS n
		CROSS JOIN LATERAL (SELECT ` + candidateColumns + ` FROM requests
			WHERE tenant_id = q.tenant AND ST_X(geom) = ST_X(n.g) AND ST_Y(geom) = ST_Y(n.g)
			  AND status <> 'closed'
			  AND service_code = ANY(string_to_array(q.codes, E'\x1f')) AND requested_at >= q.since
			ORDER BY requested_at, id LIMIT 1) AS e)
		UNION ALL
		(SELECT ` + candidateColumns + ` FROM requests
		WHERE q.aid <> '' AND tenant_id = q.tenant AND asset_layer = q.alayer AND asset_id = q.aid AND asset_id <> ''
		  AND status <> 'closed'
		  AND service_code = ANY(string_to_array(q.codes, E'\x1f')) AND requested_at >= q.since
		ORDER BY requested_at, id LIMIT 1)
	) AS c`

var hotspotLimit = strconv.Itoa(requests.HotspotLimit)

// insertGroupSQL stores a group's requests, events and reporters. A plain
// INSERT: a taken idempotency key aborts the group (commitGroup then
// retries each creation alone, where the key is replayed).
const insertGroupSQL = `WITH r AS (
		INSERT INTO requests (id, tenant_id, service_code, description, status, status_notes,
			geom, address, ward_id, asset_layer, asset_id, asset_distance_m, cluster_id, department,
			requested_at, updated_at, due_at, attributes, media_url, token, lang, idempotency_key, fingerprint, channel,
			next_escalation_at)
		SELECT t.id, t.tenant, t.code, t.descr, t.status, t.notes, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326),
			t.addr, t.ward, t.alayer, t.aid, t.adist, t.cluster, t.dept, t.req_at, t.upd_at, t.due_at,
			t.attrs::jsonb, t.media, t.token, t.lang, t.ikey, t.fp, t.channel, t.next_esc
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::float8[], $8::float8[], $9::text[], $10::text[], $11::text[], $12::text[], $13::float8[],
			$14::text[], $15::text[], $16::timestamptz[], $17::timestamptz[], $18::timestamptz[], $19::text[],
			$20::text[], $21::text[], $22::text[], $23::text[], $24::text[], $38::text[], $39::timestamptz[])
			AS t(id, tenant, code, descr, status, notes, x, y, addr, ward, alayer, aid, adist, cluster, dept,
				req_at, upd_at, due_at, attrs, media, token, lang, ikey, fp, channel, next_esc)
		RETURNING 1),
	e AS (
		INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, note)
		SELECT * FROM unnest($2::text[], $1::bigint[], $25::timestamptz[], $26::text[], $27::text[],
			$28::text[], $29::text[], $30::text[])
		RETURNING 1),
	p AS (
		INSERT INTO pinward_private.reporters (tenant_id, request_id, first_name, last_name, email, phone, device_id, notify, notice_version)
		SELECT * FROM unnest($31::text[], $32::bigint[], $33::text[], $34::text[], $35::text[], $36::text[],
			$37::text[], $40::bool[], $41::text[])
		RETURNING 1)
	SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM e), (SELECT count(*) FROM p)`

// lockKey is one advisory lock of a group.
type lockKey struct {
	key       string
	exclusive bool
}

// groupLocks merges the group's creations' locks: each key once, exclusive
// if any creation takes it so, sorted.
func groupLocks(ops []*createOp) ([]string, []bool) {
	var keys []lockKey
	for _, op := range ops {
		group, cells := op.nr.ClusterLocks()
		if group == "" {
			continue
		}
		keys = append(keys, lockKey{group, cells == nil})
		for _, c := range cells {
			keys = append(keys, lockKey{c, true})
		}
	}
	slices.SortFunc(keys, func(a, b lockKey) int { return strings.Compare(a.key, b.key) })
	var (
		names []string
		excl  []bool
	)
	for _, k := range keys {
		if n := len(names); n > 0 && names[n-1] == k.key {
			excl[n-1] = excl[n-1] || k.exclusive
			continue
		}
		names, excl = append(names, k.key), append(excl, k.exclusive)
	}
	return names, excl
}

// insertGroup stores ops in one transaction and returns their requests as
// stored, in order. An error that is not a commitError left nothing stored.
func (s *Store) insertGroup(ctx context.Context, ops []*createOp) ([]requests.Request, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire connection: %w", err)
	}
	// A connection left inside a transaction by a failure is rolled back
	// (or closed by the pool on release).
	defer conn.Release()
	c := conn.Conn()
	ids, cands, err := groupPrepare(ctx, c, ops)
	if err != nil {
		rollback(c)
		return nil, err
	}
	out := assignGroup(ops, ids, cands)
	if err := groupInsert(ctx, c, ops, out); err != nil {
		rollback(c)
		return nil, err
	}
	return out, nil
}

// groupPrepare is round trip 1: BEGIN, the group's cluster locks, its IDs
// and every creation's cluster candidates (read after the locks are
// granted, so they include every request committed by a previous holder).
func groupPrepare(ctx context.Context, c *pgx.Conn, ops []*createOp) ([]int64, [][]requests.Request, error) {
	var b pgx.Batch
	b.Queue("BEGIN")
	b.Queue(planSQL)
	names, excl := groupLocks(ops)
	b.Queue(prepareSQL, names, excl, len(ops))
	var qi []int32
	var qs []*requests.ClusterQuery
	for i, op := range ops {
		if op.nr.Cluster != nil {
			qi = append(qi, int32(i))
			qs = append(qs, op.nr.Cluster)
		}
	}
	if len(qi) > 0 {
		b.Queue(candidatesSQL, candidatesArgs(qi, qs)...)
	}
	cands := make([][]requests.Request, len(ops))
	br := c.SendBatch(ctx, &b)
	defer br.Close()
	for range 2 {
		if _, err := br.Exec(); err != nil {
			return nil, nil, fmt.Errorf("begin: %w", err)
		}
	}
	var locks int64
	var ids []int64
	if err := br.QueryRow().Scan(&locks, &ids); err != nil {
		return nil, nil, fmt.Errorf("lock clusters and draw request IDs: %w", err)
	}
	if len(ids) != len(ops) || locks != int64(len(names)) {
		return nil, nil, fmt.Errorf("drew %d request IDs for %d requests, took %d locks of %d", len(ids), len(ops), locks, len(names))
	}
	// In group order, so IDs follow the order requests are assigned in.
	slices.Sort(ids)
	if len(qi) > 0 {
		rows, err := br.Query()
		if err != nil {
			return nil, nil, fmt.Errorf("query cluster candidates: %w", err)
		}
		for rows.Next() {
			var i int32
			r, err := scanCandidate(rows, &i)
			if err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("read cluster candidates: %w", err)
			}
			cands[i] = append(cands[i], r)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("read cluster candidates: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, nil, fmt.Errorf("prepare request group: %w", err)
	}
	return ids, cands, nil
}

// candidatesArgs are candidatesSQL's arguments for queries qs of the
// creations qi.
func candidatesArgs(qi []int32, qs []*requests.ClusterQuery) []any {
	var (
		qTenant, qCodes, qLayer, qAsset []string
		qSince                          []time.Time
		qX0, qY0, qX1, qY1, qPX, qPY    []float64
	)
	for _, q := range qs {
		since := q.Since
		if since.IsZero() {
			since = noWindow
		}
		qTenant = append(qTenant, q.Tenant)
		qCodes = append(qCodes, strings.Join(q.ServiceCodes, string(codeSep)))
		qSince = append(qSince, since)
		qX0, qY0 = append(qX0, q.Bound.Min[0]), append(qY0, q.Bound.Min[1])
		qX1, qY1 = append(qX1, q.Bound.Max[0]), append(qY1, q.Bound.Max[1])
		qLayer, qAsset = append(qLayer, q.AssetLayer), append(qAsset, q.AssetID)
		qPX, qPY = append(qPX, q.Point[0]), append(qPY, q.Point[1])
	}
	return []any{qi, qTenant, qCodes, qSince, qX0, qY0, qX1, qY1, qLayer, qAsset, qPX, qPY}
}

// noWindow is the since of a query with no time window: before any request.
var noWindow = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)

// candidateColumns are what Pick reads of a candidate.
const candidateColumns = `id, tenant_id, service_code, status, ST_X(geom), ST_Y(geom), asset_layer, asset_id,
	cluster_id, requested_at`

// scanCandidate reads a row of candidatesSQL: the creation's index and a
// candidate with the fields Pick reads.
func scanCandidate(row pgx.Row, i *int32) (requests.Request, error) {
	var r requests.Request
	err := row.Scan(i, &r.ID, &r.TenantID, &r.ServiceCode, &r.Status, &r.Point[0], &r.Point[1], &r.AssetLayer, &r.AssetID,
		&r.ClusterID, &r.RequestedAt)
	r.ServiceRequestID = requests.FormatServiceRequestID(r.ID)
	r.RequestedAt = r.RequestedAt.UTC()
	return r, err
}

// assignGroup gives each creation its ID and cluster, in group order: a
// creation also sees the earlier ones of its group as candidates, as it
// would had they committed just before it. It returns the requests as
// GetRequest will read them.
func assignGroup(ops []*createOp, ids []int64, cands [][]requests.Request) []requests.Request {
	out := make([]requests.Request, len(ops))
	for i, op := range ops {
		r := op.nr.Request.Normalized()
		r.ID = ids[i]
		r.ServiceRequestID = requests.FormatServiceRequestID(r.ID)
		if q := op.nr.Cluster; q != nil {
			r.ClusterID = q.Pick(append(cands[i], out[:i]...))
		}
		if r.ClusterID == "" {
			r.ClusterID = r.ServiceRequestID
		}
		r.RequestedAt, r.UpdatedAt, r.DueAt = stored(r.RequestedAt), stored(r.UpdatedAt), stored(r.DueAt)
		r.NextEscalationAt = stored(r.NextEscalationAt)
		if len(r.Attributes) == 0 {
			r.Attributes = nil
		}
		out[i] = r
	}
	return out
}

// stored is t as PostgreSQL keeps it and pgx reads it back: UTC,
// microseconds (pgx drops the nanoseconds).
func stored(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// groupInsert is round trip 2: the group's rows in one statement, and
// COMMIT.
func groupInsert(ctx context.Context, c *pgx.Conn, ops []*createOp, rs []requests.Request) error {
	n := len(ops)
	var (
		ids                                             = make([]int64, n)
		tenant, code, descr, status, notes              = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		x, y, adist                                     = make([]float64, n), make([]float64, n), make([]float64, n)
		addr, ward, alayer, aid, cluster, dept          = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		reqAt, updAt                                    = make([]time.Time, n), make([]time.Time, n)
		dueAt, nextEsc                                  = make([]*time.Time, n), make([]*time.Time, n)
		attrs, ikey                                     = make([]*string, n), make([]*string, n)
		media, token, lang, fp                          = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		channel                                         = make([]string, n)
		evAt                                            = make([]time.Time, n)
		evActor, evKind, evFrom, evTo, evNote           = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		pTenant                                         []string
		pID                                             []int64
		pFirst, pLast, pEmail, pPhone, pDevice, pNotice []string
		pNotify                                         []bool
	)
	for i, op := range ops {
		r, nr := rs[i], op.nr
		ids[i], tenant[i], code[i], descr[i], status[i], notes[i] = r.ID, r.TenantID, r.ServiceCode, r.Description, string(r.Status), r.StatusNotes
		x[i], y[i], addr[i], ward[i], alayer[i], aid[i], adist[i] = r.Point[0], r.Point[1], r.Address, r.WardID, r.AssetLayer, r.AssetID, r.AssetDistanceM
		cluster[i], dept[i], reqAt[i], updAt[i], dueAt[i] = r.ClusterID, r.Department, r.RequestedAt, r.UpdatedAt, nullTime(r.DueAt)
		nextEsc[i] = nullTime(r.NextEscalationAt)
		if len(r.Attributes) > 0 {
			b, err := json.Marshal(r.Attributes)
			if err != nil {
				return fmt.Errorf("encode attributes: %w", err)
			}
			a := string(b)
			attrs[i] = &a
		}
		media[i], token[i], lang[i], ikey[i], fp[i] = r.MediaURL, r.Token, string(r.Lang), nullString(nr.IdempotencyKey), nr.Fingerprint
		channel[i] = string(r.Channel)
		ev := nr.Event
		evAt[i], evActor[i], evKind[i], evFrom[i], evTo[i], evNote[i] = ev.At, ev.Actor, string(ev.Kind), string(ev.From), string(ev.To), ev.Note
		if p := nr.Reporter; p != nil && !p.IsZero() {
			pTenant, pID = append(pTenant, r.TenantID), append(pID, r.ID)
			pFirst, pLast, pEmail = append(pFirst, p.FirstName), append(pLast, p.LastName), append(pEmail, p.Email)
			pPhone, pDevice, pNotice = append(pPhone, p.Phone), append(pDevice, p.DeviceID), append(pNotice, p.NoticeVersion)
			pNotify = append(pNotify, !p.OptOut)
		}
	}
	var b pgx.Batch
	b.Queue(insertGroupSQL, ids, tenant, code, descr, status, notes, x, y, addr, ward, alayer, aid, adist,
		cluster, dept, reqAt, updAt, dueAt, attrs, media, token, lang, ikey, fp,
		evAt, evActor, evKind, evFrom, evTo, evNote,
		pTenant, pID, pFirst, pLast, pEmail, pPhone, pDevice, channel, nextEsc, pNotify, pNotice)
	b.Queue("COMMIT")
	br := c.SendBatch(ctx, &b)
	defer br.Close()
	var nr, ne, np int64
	if err := br.QueryRow().Scan(&nr, &ne, &np); err != nil {
		if isServerError(err) {
			return fmt.Errorf("insert request group: %w", err) // nothing committed: COMMIT was skipped
		}
		return commitError{err}
	}
	if _, err := br.Exec(); err != nil {
		if isServerError(err) {
			return fmt.Errorf("commit request group: %w", err) // the server rolled back
		}
		return commitError{err}
	}
	if err := br.Close(); err != nil {
		return commitError{err}
	}
	if nr != int64(n) || ne != int64(n) || np != int64(len(pID)) {
		// Cannot happen with plain INSERTs; committed all the same.
		return commitError{fmt.Errorf("stored %d requests, %d events, %d reporters of %d, %d, %d",
			nr, ne, np, n, n, len(pID))}
	}
	return nil
}

// isServerError reports whether err is PostgreSQL's answer to a statement
// (which then did not change anything) rather than a broken connection.
func isServerError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}
