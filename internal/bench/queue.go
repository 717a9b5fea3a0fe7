package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
)

const benchQueueHelp = `
Stores --requests synthetic requests (--open of them open) in PostGIS and
times pages of the department queue (GET /api/v1/queue's store query, with
the pauses it reads) beside the same page written in SQL by hand, in the
same run, alternating: a department by due time, a department and ward,
overdue only, by reception and by escalation, first pages and pages
reached by cursor. It checks both give the same requests and prints
p50/p99 of each. The rows are removed afterwards.
`

const benchEscalationHelp = `
Stores --requests synthetic open requests in PostGIS, each with a next
escalation time, --due of them due now, and times what the sweeper does:
finding what is due (the indexed next_escalation_at <= now query) and
claims of 100 that fire a level with its event and message, until none is
due. The rows are removed afterwards.
`

func benchQueue(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench queue", "bench queue [--requests 1000000] [--open 100000] [--pages 200] [--db URL]", benchQueueHelp)
	total := fs.Int("requests", 1_000_000, "synthetic requests stored")
	open := fs.Int("open", 100_000, "of which open")
	pages := fs.Int("pages", 200, "timed pages of each query and each side")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL`")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *total < 1 || *total > 10_000_000 || *open < 1 || *open > *total || *pages < 10 || *pages > 100_000 {
		return usageErrorf("--requests in [1, 10000000], --open in [1, requests], --pages in [10, 100000]")
	}
	u, err := databaseURL(env, *db)
	if err != nil {
		return err
	}
	set, _, err := cli.SampleTown(env)
	if err != nil {
		return err
	}
	catalog, err := sampleCatalog()
	if err != nil {
		return err
	}
	ps, err := postgis.Open(ctx, u)
	if err != nil {
		return err
	}
	defer ps.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	tenant := newTenant("bench-queue-")
	err = seedQueue(ctx, env, ps.Pool(), tenant, *total, *open, 0, now, wardIDs(set.Current(now).Wards), catalog.Categories())
	if err == nil {
		err = timeQueue(ctx, env, ps, tenant, *total, *open, *pages, now, catalog, wardIDs(set.Current(now).Wards))
	}
	return errors.Join(err, dropTenant(context.WithoutCancel(ctx), ps.Pool(), tenant))
}

// seedQueue stores total requests received over the last year, open of
// them open (spread over the open statuses and a few escalation levels),
// due of those with a next escalation time already past and the rest in
// the future.
func seedQueue(ctx context.Context, env Env, pool *pgxpool.Pool, tenant string, total, open, due int, now time.Time,
	wardIDs []string, cats []requests.Category) error {
	const batch = 10_000
	rng := rand.New(rand.NewPCG(uint64(total), uint64(open)))
	start := now.AddDate(-1, 0, 0)
	span := now.Sub(start)
	openStatuses := []string{"open", "acknowledged", "in_progress"}
	for done := 0; done < total; {
		m := min(batch, total-done)
		var (
			codes, statuses, wards, depts []string
			reqAt                         []time.Time
			dueAt, nextAt                 []*time.Time
			levels                        []int32
		)
		for i := range m {
			k := done + i
			c := cats[rng.IntN(len(cats))]
			at := start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Microsecond)
			var d, next *time.Time
			if rng.Float64() < 0.9 {
				x := at.Add(time.Duration(24+rng.IntN(96)) * time.Hour)
				d = &x
			}
			status, level := "closed", int32(0)
			if k < open { // spread by the random times, not by k
				status = openStatuses[rng.IntN(len(openStatuses))]
				level = int32(rng.IntN(3))
				x := now.Add(time.Duration(1 + rng.Int64N(int64(30*24*time.Hour)))).Truncate(time.Microsecond)
				if k < due {
					x = now.Add(-time.Duration(1 + rng.Int64N(int64(time.Hour)))).Truncate(time.Microsecond)
				}
				next = &x
			}
			codes, statuses, depts = append(codes, c.Code), append(statuses, status), append(depts, c.Department)
			wards = append(wards, wardIDs[rng.IntN(len(wardIDs))])
			reqAt, dueAt, nextAt, levels = append(reqAt, at), append(dueAt, d), append(nextAt, next), append(levels, level)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO requests (tenant_id, service_code, status, geom, ward_id, cluster_id,
				department, requested_at, updated_at, due_at, lang, escalation_level, next_escalation_at)
			SELECT $1, c, s, ST_SetSRID(ST_MakePoint(-73.066, 46.03), 4326), w, 'bench', d, r, r, due, 'en', l, n
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::int[], $9::timestamptz[])
				AS t(c, s, w, d, r, due, l, n)`,
			tenant, codes, statuses, wards, depts, reqAt, dueAt, levels, nextAt); err != nil {
			return fmt.Errorf("store synthetic requests: %w", err)
		}
		done += m
		if done%max(total/10, batch) == 0 || done == total {
			fmt.Fprintf(env.Stderr, "bench: %d/%d requests stored\n", done, total)
		}
	}
	if _, err := pool.Exec(ctx, "ANALYZE requests"); err != nil {
		return fmt.Errorf("analyze requests: %w", err)
	}
	return nil
}

// handQueueSQL is a queue page written by hand: what a developer would
// type for "this department's open requests, soonest due first", with
// the filters the case uses, keyset after the cursor.
func handQueueSQL(q requests.QueueQuery) (string, []any) {
	where := "tenant_id = $1 AND status <> 'closed'"
	args := []any{q.Tenant}
	add := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND "+cond, len(args))
	}
	if q.Department != "" {
		add("department = $%d", q.Department)
	}
	if q.WardID != "" {
		add("ward_id = $%d", q.WardID)
	}
	if q.Overdue {
		add("due_at < $%d", q.Now)
	}
	const due = "COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz)"
	order := due + ", id"
	switch q.Sort {
	case requests.SortReceived:
		order = "requested_at, id"
		if c := q.After; c != nil {
			args = append(args, c.Time, c.ID)
			where += fmt.Sprintf(" AND (requested_at, id) > ($%d, $%d)", len(args)-1, len(args))
		}
	case requests.SortEscalation:
		order = "-escalation_level, " + due + ", id"
		if c := q.After; c != nil {
			args = append(args, -c.Level, c.Time, c.ID)
			where += fmt.Sprintf(" AND (-escalation_level, %s, id) > ($%d::int, $%d, $%d)", due, len(args)-2, len(args)-1, len(args))
		}
	default:
		if c := q.After; c != nil {
			args = append(args, c.Time, c.ID)
			where += fmt.Sprintf(" AND (%s, id) > ($%d, $%d)", due, len(args)-1, len(args))
		}
	}
	args = append(args, q.Limit)
	return fmt.Sprintf(`SELECT id, service_code, description, status, ST_X(geom), ST_Y(geom), address, ward_id, department,
		cluster_id, requested_at, due_at, escalation_level, next_escalation_at, channel, assignee, paused_at
		FROM requests WHERE %s ORDER BY %s LIMIT $%d`, where, order, len(args)), args
}

func timeQueue(ctx context.Context, env Env, ps *postgis.Store, tenant string, total, open, pages int, now time.Time,
	catalog *requests.Catalog, wards []string) error {
	depts := catalog.Departments()
	rng := rand.New(rand.NewPCG(1, 2))
	type variant struct {
		name string
		make func() requests.QueueQuery
	}
	dept := func() string { return depts[rng.IntN(len(depts))].Code }
	base := func() requests.QueueQuery {
		return requests.QueueQuery{Tenant: tenant, Now: now, Sort: requests.SortDue, Limit: 51}
	}
	variants := []variant{
		{"department by due", func() requests.QueueQuery { q := base(); q.Department = dept(); return q }},
		{"department and ward by due", func() requests.QueueQuery {
			q := base()
			q.Department, q.WardID = dept(), wards[rng.IntN(len(wards))]
			return q
		}},
		{"department overdue", func() requests.QueueQuery { q := base(); q.Department, q.Overdue = dept(), true; return q }},
		{"department by received", func() requests.QueueQuery {
			q := base()
			q.Department, q.Sort = dept(), requests.SortReceived
			return q
		}},
		{"all by escalation", func() requests.QueueQuery { q := base(); q.Sort = requests.SortEscalation; return q }},
	}
	fmt.Fprintf(env.Stdout, "queue pages of 50 on PostGIS: %d requests stored, %d open, %d departments, %d wards; %d pages per query and side (half first pages, half 1-20 pages deep by cursor)\n",
		total, open, len(depts), len(wards), pages)
	pool := ps.Pool()
	for _, v := range variants {
		var pin, hand []time.Duration
		for i := range pages + 10 { // 10 warm-up pages
			q := v.make()
			if i%2 == 1 { // a page reached by cursor
				depth := 1 + rng.IntN(20)
				for range depth {
					rows, err := ps.Queue(ctx, q)
					if err != nil {
						return err
					}
					if len(rows) < q.Limit {
						break
					}
					c := q.CursorAfter(rows[q.Limit-2])
					q.After = &c
				}
			}
			t0 := time.Now()
			rows, err := ps.Queue(ctx, q)
			d1 := time.Since(t0)
			if err != nil {
				return err
			}
			sql, args := handQueueSQL(q)
			t0 = time.Now()
			r, err := pool.Query(ctx, sql, args...)
			var ids []int64
			if err == nil {
				ids, err = pgx.CollectRows(r, func(row pgx.CollectableRow) (int64, error) {
					vs, err := row.Values()
					if err != nil {
						return 0, err
					}
					return vs[0].(int64), nil
				})
			}
			d2 := time.Since(t0)
			if err != nil {
				return fmt.Errorf("hand-written queue page: %w", err)
			}
			got := make([]int64, len(rows))
			for j, row := range rows {
				got[j] = row.Request.ID
			}
			if !slices.Equal(got, ids) {
				return fmt.Errorf("%s: pinward and the hand-written SQL differ: %v, %v", v.name, got, ids)
			}
			if i >= 10 {
				pin, hand = append(pin, d1), append(hand, d2)
			}
		}
		fmt.Fprintf(env.Stdout, "  %-28s pinward p50 %6s p99 %6s | hand-written SQL p50 %6s p99 %6s\n", v.name,
			durPct(pin, 50), durPct(pin, 99), durPct(hand, 50), durPct(hand, 99))
	}
	return nil
}

func durPct(ds []time.Duration, p int) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, (len(s)*p+99)/100-1)
	return s[max(i, 0)].Round(10 * time.Microsecond).String()
}

func benchEscalation(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench escalation", "bench escalation [--requests 1000000] [--due 1000] [--db URL]", benchEscalationHelp)
	total := fs.Int("requests", 1_000_000, "synthetic open requests, each with a next escalation time")
	due := fs.Int("due", 1000, "of which due now")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL`")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *total < 1 || *total > 10_000_000 || *due < 0 || *due > *total {
		return usageErrorf("--requests in [1, 10000000], --due in [0, requests]")
	}
	u, err := databaseURL(env, *db)
	if err != nil {
		return err
	}
	set, _, err := cli.SampleTown(env)
	if err != nil {
		return err
	}
	catalog, err := sampleCatalog()
	if err != nil {
		return err
	}
	ps, err := postgis.Open(ctx, u)
	if err != nil {
		return err
	}
	defer ps.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	tenant := newTenant("bench-escalation-")
	err = seedQueue(ctx, env, ps.Pool(), tenant, *total, *total, *due, now, wardIDs(set.Current(now).Wards), catalog.Categories())
	if err == nil {
		err = timeEscalation(ctx, env, ps, tenant, *total, *due, now)
	}
	return errors.Join(err, dropTenant(context.WithoutCancel(ctx), ps.Pool(), tenant))
}

func timeEscalation(ctx context.Context, env Env, ps *postgis.Store, tenant string, total, due int, now time.Time) error {
	pool := ps.Pool()
	var find []time.Duration
	for range 20 {
		t0 := time.Now()
		rows, err := pool.Query(ctx, `SELECT id FROM requests WHERE tenant_id = $1 AND next_escalation_at IS NOT NULL
			AND next_escalation_at <= $2 ORDER BY next_escalation_at LIMIT 100`, tenant, now)
		if err == nil {
			_, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		}
		if err != nil {
			return fmt.Errorf("find due escalations: %w", err)
		}
		find = append(find, time.Since(t0))
	}
	rows, err := pool.Query(ctx, `EXPLAIN (FORMAT TEXT) SELECT id FROM requests WHERE tenant_id = $1 AND next_escalation_at IS NOT NULL
			AND next_escalation_at <= $2 ORDER BY next_escalation_at LIMIT 100`, tenant, now)
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	plan := strings.Join(lines, "\n")
	contact := []requests.Contact{{Email: "roads@example.ca", Lang: i18n.Fr}}
	fired, claims := 0, 0
	var claimTimes []time.Duration
	start := time.Now()
	for {
		t0 := time.Now()
		n, err := ps.ClaimEscalations(ctx, requests.EscalationClaim{Tenant: tenant, Now: now, Limit: 100,
			Plan: func(st requests.EscalationState) (requests.Escalation, bool) {
				return requests.Escalation{Level: st.EscalationLevel + 1, Notify: "department", Contacts: contact, Actor: "bench"}, true
			}})
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		claimTimes = append(claimTimes, time.Since(t0))
		fired += n
		claims++
	}
	all := time.Since(start)
	msgs, err := ps.EscalationMessages(ctx, tenant, time.Time{}, 100_000)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "escalation on PostGIS: %d open requests with a next escalation time, %d due now\n", total, due)
	fmt.Fprintf(env.Stdout, "  find the first 100 due (index %v): p50 %s, worst %s\n", strings.Contains(plan, "requests_next_escalation"), durPct(find, 50), durPct(find, 100))
	if claims > 0 {
		fmt.Fprintf(env.Stdout, "  claims of 100 (lock, raise level, event, message): %d claims, p50 %s, worst %s; all %d due fired in %s; %d messages queued\n",
			claims, durPct(claimTimes, 50), durPct(claimTimes, 100), fired, all.Round(time.Millisecond), len(msgs))
	}
	if fired != due || len(msgs) != due {
		return fmt.Errorf("fired %d levels and queued %d messages, want %d", fired, len(msgs), due)
	}
	return nil
}
