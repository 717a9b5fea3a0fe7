package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/mailtest"
	"github.com/pinward/pinward/mail"
	"github.com/pinward/pinward/mailer"
	"github.com/pinward/pinward/notify"
	"github.com/pinward/pinward/requests"
)

const benchMailHelp = `
Measures resident mail: --n requests in one cluster, each with a subscribed
reporter (their receipts are marked sent without sending), then staff close
the cluster: one message per reporter is queued in the close's transaction.
A mailer sends them over SMTP to a local mailpit (built once, as the tests
do), which is then asked how many messages arrived per Message-ID: each
exactly once. Prints the time to queue and messages per second from the
first claim to the last recorded delivery, for each store.

SQLite uses a fresh temporary folder; PostGIS uses --db (default
$PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL) under a tenant of its
own, removed at the end; without a URL PostGIS is skipped.
`

func benchMail(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench mail", "bench mail [--n 10000] [--workers 8] [--db URL]", benchMailHelp)
	n := fs.Int("n", 10000, "reports in the cluster (messages to send)")
	workers := fs.Int("workers", 8, "SMTP connections sending side by side")
	batch := fs.Int("batch", 200, "messages claimed at once")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL`")
	stores := fs.String("stores", "postgis,sqlite", "comma-separated `stores` to measure")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *n < 1 || *n > 1_000_000 || *workers < 1 || *workers > 256 || *batch < 1 || *batch > 10000 {
		return usageErrorf("--n must be in [1, 1000000], --workers in [1, 256], --batch in [1, 10000]")
	}
	return forEachBenchStore(ctx, env, *stores, *db, "bench-mail-", func(bs benchStore, tenant string) error {
		return benchSendMail(ctx, env, bs.name, tenant, bs.store(), *n, *workers, *batch)
	})
}

func benchSendMail(ctx context.Context, env Env, name, tenant string, st requests.Store, n, workers, batch int) (err error) {
	tb := &benchTB{}
	defer func() { err = errors.Join(err, tb.cleanup()) }()
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(benchFatal); ok {
				err = errors.Join(err, errors.New(string(f)))
				return
			}
			panic(r)
		}
	}()
	smtp := mailtest.Start(tb, mailtest.Options{})
	if tb.skipped != "" {
		return fmt.Errorf("bench mail: %s", tb.skipped)
	}

	// One cluster of n reports, each reporter subscribed.
	start := time.Now()
	at := start.UTC().Truncate(time.Microsecond)
	var cluster string
	p := orb.Point{-73.1, 46.0}
	for i := range n {
		// Each joins the cluster as at a busy spot: the store reads a
		// bounded sample of the candidates there (see requests/hotspot.go).
		when := at.Add(time.Duration(i) * time.Microsecond)
		r := requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New,
			Point: p, WardID: "1", Department: "public_works", Description: fmt.Sprintf("bench %d", i),
			RequestedAt: when, UpdatedAt: when, Lang: []i18n.Lang{i18n.En, i18n.Fr}[i%2], Token: fmt.Sprintf("%s-%d", tenant, i)}
		got, err := st.CreateRequest(ctx, requests.NewRequest{Request: r,
			Reporter: &requests.Reporter{Email: fmt.Sprintf("r%d@ok.test", i)},
			Event:    requests.Event{TenantID: tenant, At: when, Actor: "bench", Kind: requests.EventCreated, To: requests.New},
			Cluster: &requests.ClusterQuery{Tenant: tenant, ServiceCodes: []string{"pothole"}, Point: p, DistanceM: 10,
				Bound: geo.NewRuler(p[1]).Buffer(p, 10)}})
		if err != nil {
			return err
		}
		if cluster == "" {
			cluster = got.ClusterID
		}
		if got.ClusterID != cluster {
			return fmt.Errorf("bench mail %s: report %d is in cluster %s, not %s", name, i, got.ClusterID, cluster)
		}
	}
	// The receipts are not what is measured: mark them sent.
	for {
		ms, err := st.ClaimMail(ctx, tenant, time.Now(), time.Minute, 1000)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			break
		}
		rs := make([]requests.MailAttempt, len(ms))
		for i, m := range ms {
			rs[i] = requests.MailAttempt{AttemptResult: requests.AttemptResult{MessageID: m.ID, Delivered: true, At: time.Now()}}
		}
		if err := st.RecordMailAttempts(ctx, tenant, rs); err != nil {
			return err
		}
	}
	seeded := time.Since(start)

	start = time.Now()
	if _, err := st.TransitionCluster(ctx, requests.ClusterTransition{ClusterID: cluster,
		Transition: requests.Transition{Tenant: tenant, To: requests.Closed, Reason: requests.ReasonFixed, PublicNoteEn: "Filled.",
			Actor: "bench", At: time.Now().UTC()}}); err != nil {
		return err
	}
	queueTime := time.Since(start)
	before, err := st.CountMail(ctx, tenant)
	if err != nil {
		return err
	}
	if before.Pending != n {
		return fmt.Errorf("bench mail %s: closing the cluster queued %d messages, want %d", name, before.Pending, n)
	}

	cfg, err := mail.ParseURL(smtp.SMTPURL("", "tls=none"), "311@city.example")
	if err != nil {
		return err
	}
	tm, err := notify.New(notify.Config{NameEn: "City of Example", NameFr: "Ville d'Exemple"}, nil)
	if err != nil {
		return err
	}
	links, err := mailer.LinkKeys(ctx, st, tenant)
	if err != nil {
		return err
	}
	m, err := mailer.New(mailer.Config{Tenant: tenant, Store: st, SMTP: cfg, Templates: tm, Links: links,
		BaseURL: "https://311.city.example", Workers: workers, Batch: batch,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer m.Close()
	start = time.Now()
	for {
		got, err := m.RunOnce(ctx)
		if err != nil {
			return err
		}
		if got == 0 {
			break
		}
	}
	elapsed := time.Since(start)
	after, err := st.CountMail(ctx, tenant)
	if err != nil {
		return err
	}
	byID, err := smtp.CountByMessageID(ctx)
	if err != nil {
		return err
	}
	dup := 0
	for _, k := range byID {
		if k != 1 {
			dup++
		}
	}
	fmt.Fprintf(env.Stdout, "mail %-7s %d reports in one cluster seeded in %.1fs; close queued %d messages in %.2fs; sent in %.2fs: %.0f messages/s (%d SMTP connections, batch %d); mailpit got %d distinct Message-IDs, %d more than once; %d pending, %d dead after the run\n",
		name, n, seeded.Seconds(), before.Pending, queueTime.Seconds(), elapsed.Seconds(), float64(n)/elapsed.Seconds(),
		workers, batch, len(byID), dup, after.Pending, after.Dead)
	if len(byID) != n || dup != 0 || after.Pending != 0 || after.Dead != 0 {
		return fmt.Errorf("bench mail %s: %d distinct Message-IDs for %d messages, %d duplicated, %d pending, %d dead",
			name, len(byID), n, dup, after.Pending, after.Dead)
	}
	return nil
}

// benchTB is the little of testing.TB that mailtest uses, for a bench
// that is not a test: Fatalf ends the bench with an error, Skipf says why
// mailpit is unavailable.
type benchTB struct {
	testing.TB
	dirs     []string
	cleanups []func()
	skipped  string
}

type benchFatal string

func (b *benchTB) Helper() {}
func (b *benchTB) Fatalf(format string, args ...any) {
	panic(benchFatal(fmt.Sprintf(format, args...)))
}
func (b *benchTB) Skipf(format string, args ...any) {
	panic(benchFatal("mailpit is unavailable: " + fmt.Sprintf(format, args...)))
}
func (b *benchTB) Cleanup(f func()) { b.cleanups = append(b.cleanups, f) }
func (b *benchTB) TempDir() string {
	d, err := os.MkdirTemp("", "pinward-bench-mail-")
	if err != nil {
		b.Fatalf("temp dir: %v", err)
	}
	b.dirs = append(b.dirs, d)
	return d
}

func (b *benchTB) cleanup() error {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	var err error
	for _, d := range b.dirs {
		err = errors.Join(err, os.RemoveAll(d))
	}
	return err
}
