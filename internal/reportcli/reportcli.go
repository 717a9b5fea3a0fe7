// Package reportcli is `pinward report`: a council report as CSV from the
// command line, for a cron job or a clerk without the API.
package reportcli

import (
	"context"
	"fmt"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
)

const reportHelp = `
Writes a council report as CSV on stdout: for each ward, department,
category or channel (--by; two crossed, --by ward,department, give one row
per pair), the requests received in the period (--from, --to, inclusive;
default the last 90 days): open, closed, on time or late, open past due,
SLA compliance, median and 90th percentile hours to close (calendar and
business), to first acknowledgement, reopenings, escalations by level and
satisfaction. The last row, key "*", is the total. Headers and names in
--lang (en or fr); the columns of GET /api/v1/reports/{by}.csv. The store
is serve's (--data-dir or --db); --wards and --categories as serve's.
`

// Run runs `pinward report` with args; stf opens the store.
func Run(ctx context.Context, env cli.Env, args []string, stf cli.StoreFlags) error {
	fs := cli.NewFlags(env, "report", "report [--by ward|department|category|channel[,another]] [--from 2026-01-01] [--to 2026-03-31] [--lang en|fr] [--generation DAY] [--data-dir D | --db URL] > report.csv", reportHelp)
	by := fs.String("by", "ward", "group by `ward`, department, category or channel, or two: ward,department")
	from := fs.String("from", "", "first `day` received (YYYY-MM-DD or RFC 3339; default 90 days ago)")
	to := fs.String("to", "", "last `day` received, included (default: now)")
	lang := fs.String("lang", "en", "`language` of the headers and names: en or fr")
	generation := fs.String("generation", "", "re-cut by the wards in force on this `day` (see --wards DATE=FILE): each request with a point counts in the ward covering it then")
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`")
	categories := fs.String("categories", "", "service catalog `JSON` (default: the bundled sample's)")
	var sf cli.SpatialFlags
	cli.RegisterWards(fs, &sf.Wards)
	fs.StringVar(&sf.WardFields, "ward-fields", "id,name_en,name_fr", "ward property names: `ID,NAME_EN[,NAME_FR]`")
	stf.Register(fs)
	if err := stf.Parse(fs, env, args); err != nil {
		return err
	}
	first, cross, err := requests.ParseReportGrouping(*by)
	if err != nil {
		return cli.UsageErrorf("--by must be ward, department, category or channel, or two of them (ward,department): %q", *by)
	}
	if *lang != "en" && *lang != "fr" {
		return cli.UsageErrorf("--lang must be en or fr: %q", *lang)
	}
	catalog, err := cli.LoadCatalog(*categories)
	if err != nil {
		return err
	}
	q := requests.ReportQuery{By: first, Cross: cross}
	if q.Start, q.End, err = cli.ParsePeriod(*from, *to, catalog.Location(), time.Now()); err != nil {
		return cli.UsageError{Err: err}
	}
	sf.Assets = "" // the report names wards; it snaps nothing
	set, _, err := sf.LoadIn(env, catalog.Location())
	if err != nil {
		return err
	}
	if q.Generation, err = cli.ParseGeneration(*generation, catalog.Location(), set); err != nil {
		return err
	}
	st, closeStore, err := stf.Open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: *tenant, Catalog: catalog, Wards: set, Store: st})
	if err != nil {
		return err
	}
	started := time.Now()
	rep, err := svc.Report(ctx, q)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := rep.WriteCSV(env.Stdout, i18n.Lang(*lang)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "pinward report: %d requests in %d groups by %s, %s\n",
		rep.Total.Received, len(rep.Rows), q.Grouping(), time.Since(started).Round(time.Millisecond))
	return nil
}
