// Package bench is `pinward bench`: it measures pinward against PostGIS on
// the same data in the same run and checks both give the same answers. It
// opens the stores it measures itself and removes, from the database it is
// given, every table and tenant it creates.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
)

// Env is the process environment a bench may touch.
type Env = cli.Env

var (
	usageErrorf = cli.UsageErrorf
	newFlags    = cli.NewFlags
	parseFlags  = cli.ParseFlags
)

const benchHelp = `
Measures pinward against PostGIS on the same data in the same run, and checks
that both give the same answers. Modes:

  geocode   ward lookup and nearest asset for N points (default 100,000)
  cluster   batch duplicate clustering against ST_ClusterDBSCAN
  import    1,000,000 historical requests imported (geocoded, clustered, committed) beside COPY + SQL assignment
  intake    Open311 POST throughput and latency on loopback, for each store
  hotspot   POSTs at one point already holding thousands of open reports, for each store
  assets    asset upsert throughput (features/s) through PUT /api/v1/assets, for each store
  workorders  work-order delivery to a local webhook (work orders/s), for each store
  tiles     vector tiles (requests, clusters) against ST_AsMVT, zooms 12-16
  report    the council report by ward against one SQL GROUP BY
  queue     department queue pages (1,000,000 requests) beside hand-written SQL
  escalation  finding and firing due escalation levels among 1,000,000 open requests
  mail      resident mail: close a cluster of 10,000 reports, send every message to mailpit (messages/s), for each store

Each mode has its own flags: pinward bench MODE --help.
`

// Run runs `pinward bench MODE [flags]`.
func Run(ctx context.Context, env Env, args []string) error {
	modes := map[string]func(context.Context, Env, []string) error{
		"geocode":    benchGeocode,
		"intake":     benchIntake,
		"hotspot":    benchHotspot,
		"cluster":    benchCluster,
		"import":     benchImport,
		"assets":     benchAssets,
		"workorders": benchWorkOrders,
		"tiles":      benchTiles,
		"report":     benchReport,
		"queue":      benchQueue,
		"escalation": benchEscalation,
		"mail":       benchMail,
	}
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintf(env.Stdout, "Usage: pinward bench MODE [flags]\n%s", benchHelp)
		if len(args) == 0 {
			return usageErrorf("bench needs a mode")
		}
		return nil
	}
	run, ok := modes[args[0]]
	if !ok {
		return usageErrorf("unknown bench mode %q (see pinward bench --help)", args[0])
	}
	return run(ctx, env, args[1:])
}

// databaseURL is the PostGIS to measure against: --db, else the environment
// that make test / make bench set up.
func databaseURL(env Env, flagValue string) (string, error) {
	for _, v := range []string{flagValue, env.Getenv("PINWARD_DATABASE_URL"), env.Getenv("PINWARD_TEST_DATABASE_URL")} {
		if v != "" {
			return v, nil
		}
	}
	return "", usageErrorf("no PostGIS to compare with: pass --db postgres://... or set PINWARD_DATABASE_URL (make bench starts a throwaway one)")
}

// appStore is what the benches use of a store; both stores have all of
// it, checked here at compile time.
type appStore interface {
	requests.Store
	requests.KeyStore
	requests.AssetStore
	requests.OutboxStore
}

var (
	_ appStore = (*sqlite.Store)(nil)
	_ appStore = (*postgis.Store)(nil)
)

// benchStore is one store a bench measures: exactly one of sqlite (in a
// fresh temporary folder) and postgis (the database given) is set.
type benchStore struct {
	name    string
	sqlite  *sqlite.Store
	postgis *postgis.Store
}

func (b benchStore) store() appStore {
	if b.postgis != nil {
		return b.postgis
	}
	return b.sqlite
}

// settings describes the store's durability, read back from the database,
// for the figures to be read right.
func (b benchStore) settings(ctx context.Context) string {
	if b.postgis != nil {
		return pgSettings(ctx, b.postgis.Pool())
	}
	journal, sync, err := b.sqlite.Durability(ctx)
	if err != nil {
		return "SQLite settings unknown: " + err.Error()
	}
	s := fmt.Sprintf("%s, synchronous=%s", strings.ToUpper(journal), sync)
	if sync == "FULL" || sync == "EXTRA" {
		return s + " (every acknowledged write is on disk)"
	}
	return s + " (NOT durable: a power loss may lose acknowledged writes)"
}

// newTenant names the rows of one bench run: prefix and the time.
func newTenant(prefix string) string {
	return prefix + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// forEachBenchStore opens each store named in the comma-separated list
// (sqlite: a fresh temporary folder, removed after; postgis: --db or the
// environment's URL, skipped with a line on stdout when there is none),
// runs fn on it under a new tenant named prefix+time, then removes that
// tenant's rows from PostGIS and closes the store.
func forEachBenchStore(ctx context.Context, env Env, list, db, prefix string, fn func(bs benchStore, tenant string) error) error {
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name != "sqlite" && name != "postgis" {
			return usageErrorf("--stores: unknown store %q (sqlite, postgis)", name)
		}
		bs := benchStore{name: name}
		if name == "postgis" {
			u, err := databaseURL(env, db)
			if err != nil {
				fmt.Fprintf(env.Stdout, "postgis: skipped (no --db, PINWARD_DATABASE_URL or PINWARD_TEST_DATABASE_URL)\n")
				continue
			}
			if bs.postgis, err = postgis.Open(ctx, u); err != nil {
				return err
			}
		} else {
			dir, err := os.MkdirTemp("", "pinward-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if bs.sqlite, err = sqlite.Open(ctx, filepath.Join(dir, "pinward.db")); err != nil {
				return err
			}
		}
		tenant := newTenant(prefix)
		err := fn(bs, tenant)
		if bs.postgis != nil {
			err = errors.Join(err, dropTenant(context.WithoutCancel(ctx), bs.postgis.Pool(), tenant))
			bs.postgis.Close()
		} else {
			err = errors.Join(err, bs.sqlite.Close())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sampleCatalog is the bundled sample's service catalog.
func sampleCatalog() (*requests.Catalog, error) {
	c, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		return nil, fmt.Errorf("bundled sample categories: %w", err)
	}
	return c, nil
}
