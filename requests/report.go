package requests

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// ReportBy is what a council report groups requests by.
type ReportBy string

const (
	ByWard       ReportBy = "ward"
	ByDepartment ReportBy = "department"
	ByCategory   ReportBy = "category"
)

// ParseReportBy reads a grouping; Invalid for anything else.
func ParseReportBy(s string) (ReportBy, error) {
	switch b := ReportBy(s); b {
	case ByWard, ByDepartment, ByCategory:
		return b, nil
	}
	return "", i18n.Errorf(i18n.Invalid, "by", i18n.T("%q is not a report grouping (ward, department, category)",
		"%q n'est pas un regroupement de rapport (ward, department, category)"), clip(s))
}

// ReportQuery selects the requests of a report: those received (RequestedAt)
// from Start to End, both inclusive (a zero time leaves that side open).
type ReportQuery struct {
	By         ReportBy
	Start, End time.Time
	// AsOf is when open requests are judged overdue; Service.Report sets
	// it to now.
	AsOf time.Time
	// Scope keeps the requests a scoped staff key may see (Service.Report
	// sets it from the context).
	Scope Scope
	// Generation, when set, re-cuts a ward report by the wards in force
	// then; Service.Report fills Recut, which stores apply (recut.go).
	Generation time.Time
	Recut      *Recut
}

// ReportQuantiles are the quantiles of hours to close a report gives:
// the median and the 90th percentile.
var ReportQuantiles = [2]float64{0.5, 0.9}

// Column is the requests column a grouping reads (the same name in both
// stores' schemas).
func (b ReportBy) Column() string {
	switch b {
	case ByWard:
		return "ward_id"
	case ByDepartment:
		return "department"
	}
	return "service_code"
}

// Report is the volumes, response times and SLA compliance of the
// requests received in a period, one row per ward, department or category.
type Report struct {
	By         ReportBy
	Start, End time.Time
	AsOf       time.Time // when open requests were judged overdue
	Rows       []ReportRow
	Total      ReportRow // every request of the period
}

// ReportRow is one group's figures. A request's SLA outcome is known when
// it closed (within its due time or late) or is still open past it;
// compliance is the share of known outcomes that were on time.
type ReportRow struct {
	Key  string    // ward ID, department code or service code; "" for none
	Name i18n.Text // the key's name in both languages (the key when unknown)

	Received int // requests received in the period
	Open     int // of those, not closed now
	Closed   int

	ClosedOnTime int // closed at or before their due time
	ClosedLate   int
	OpenOverdue  int // open at AsOf and past their due time
	NoSLA        int // in a category without an SLA

	// SLACompliance is ClosedOnTime / (ClosedOnTime + ClosedLate +
	// OpenOverdue); NaN when no outcome is known yet.
	SLACompliance float64
	// MedianHoursToClose and P90HoursToClose are over the closed requests,
	// from received to closed (their last update), interpolated linearly
	// between the two nearest closed requests (SQL's percentile_cont);
	// NaN when none closed.
	MedianHoursToClose float64
	P90HoursToClose    float64
}

// finish derives what the counts give.
func (r *ReportRow) finish() {
	r.SLACompliance = math.NaN()
	if n := r.ClosedOnTime + r.ClosedLate + r.OpenOverdue; n > 0 {
		r.SLACompliance = float64(r.ClosedOnTime) / float64(n)
	}
}

// Report computes a council report over the tenant's requests received in
// the period. The store aggregates where the rows are (Store.ReportRows);
// the service names the groups and orders them.
func (s *Service) Report(ctx context.Context, q ReportQuery) (Report, error) {
	if _, err := ParseReportBy(string(q.By)); err != nil {
		return Report{}, err
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start) {
		return Report{}, i18n.Errorf(i18n.Invalid, "end_date", i18n.T("is before start_date", "est antérieure à start_date"))
	}
	q.AsOf, q.Scope = s.now(), ScopeFrom(ctx)
	if err := s.recutInto(ctx, &q); err != nil {
		return Report{}, err
	}
	rows, total, err := s.cfg.Store.ReportRows(ctx, s.cfg.Tenant, q)
	if err != nil {
		return Report{}, fmt.Errorf("report: %w", err)
	}
	for i := range rows {
		rows[i].Name = s.reportName(q.By, rows[i].Key, cmp.Or(q.Generation, q.AsOf))
		rows[i].finish()
	}
	slices.SortFunc(rows, func(a, b ReportRow) int { return compareKeys(a.Key, b.Key) })
	total.Key, total.Name = "", i18n.T("All", "Total")
	total.finish()
	return Report{By: q.By, Start: q.Start, End: q.End, AsOf: q.AsOf, Rows: rows, Total: total}, nil
}

// reportName names a group in both languages: the category or department
// of the catalog, the ward of the boundaries in force now.
func (s *Service) reportName(by ReportBy, key string, now time.Time) i18n.Text {
	if key == "" {
		return i18n.T("(none)", "(aucun)")
	}
	switch by {
	case ByCategory:
		if c, ok := s.cfg.Catalog.Category(key); ok {
			return c.Name
		}
	case ByDepartment:
		if d, ok := s.cfg.Catalog.Department(key); ok {
			return d.Name
		}
	case ByWard:
		if n, ok := s.wardName(key, now); ok {
			return n
		}
	}
	return i18n.T(key, key)
}

// compareKeys orders keys as people number wards: "2" before "10", then
// other keys alphabetically.
func compareKeys(a, b string) int {
	ai, aerr := strconv.Atoi(a)
	bi, berr := strconv.Atoi(b)
	switch {
	case aerr == nil && berr == nil:
		return cmp.Compare(ai, bi)
	case aerr == nil:
		return -1
	case berr == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// ReportColumns is the CSV header of a report; the total comes last with
// key "*".
var ReportColumns = []string{"key", "name", "received", "open", "closed", "closed_on_time", "closed_late",
	"open_overdue", "no_sla", "sla_compliance", "median_hours_to_close", "p90_hours_to_close"}

// WriteCSV writes the report for a spreadsheet: stable column names, group
// names in lang, empty cells where a figure does not exist yet.
func (rep Report) WriteCSV(w io.Writer, lang i18n.Lang) error {
	cw := csv.NewWriter(w)
	num := func(v float64, prec int) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}
	row := func(key string, r ReportRow) []string {
		return []string{key, r.Name.In(lang), strconv.Itoa(r.Received), strconv.Itoa(r.Open), strconv.Itoa(r.Closed),
			strconv.Itoa(r.ClosedOnTime), strconv.Itoa(r.ClosedLate), strconv.Itoa(r.OpenOverdue), strconv.Itoa(r.NoSLA),
			num(r.SLACompliance, 4), num(r.MedianHoursToClose, 2), num(r.P90HoursToClose, 2)}
	}
	recs := [][]string{ReportColumns}
	for _, r := range rep.Rows {
		recs = append(recs, row(r.Key, r))
	}
	recs = append(recs, row("*", rep.Total))
	if err := cw.WriteAll(recs); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
