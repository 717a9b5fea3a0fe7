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
	"github.com/pinward/pinward/wards"
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
// from Start to End, both inclusive.
type ReportQuery struct {
	By         ReportBy
	Start, End time.Time
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
	OpenOverdue  int // open and past their due time
	NoSLA        int // in a category without an SLA

	// SLACompliance is ClosedOnTime / (ClosedOnTime + ClosedLate +
	// OpenOverdue); NaN when no outcome is known yet.
	SLACompliance float64
	// MedianHoursToClose and P90HoursToClose are over the closed requests,
	// from received to closed (their last update); NaN when none closed.
	MedianHoursToClose float64
	P90HoursToClose    float64

	hours []float64
}

func (r *ReportRow) add(q Request, now time.Time) {
	r.Received++
	closed := q.Status == Closed
	if closed {
		r.Closed++
		r.hours = append(r.hours, q.UpdatedAt.Sub(q.RequestedAt).Hours())
	} else {
		r.Open++
	}
	switch {
	case q.DueAt.IsZero():
		r.NoSLA++
	case closed && !q.UpdatedAt.After(q.DueAt):
		r.ClosedOnTime++
	case closed:
		r.ClosedLate++
	case now.After(q.DueAt):
		r.OpenOverdue++
	}
}

func (r *ReportRow) finish() {
	r.SLACompliance = math.NaN()
	if n := r.ClosedOnTime + r.ClosedLate + r.OpenOverdue; n > 0 {
		r.SLACompliance = float64(r.ClosedOnTime) / float64(n)
	}
	slices.Sort(r.hours)
	r.MedianHoursToClose, r.P90HoursToClose = quantile(r.hours, 0.5), quantile(r.hours, 0.9)
	r.hours = nil
}

// quantile of sorted xs by linear interpolation; NaN for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (xs[i+1]-xs[i])*(pos-float64(i))
}

// Report computes a council report over the tenant's requests received in
// the period. It walks them by ID (one index range scan per page of
// MaxListLimit) and groups them in memory: one pass, whatever the grouping.
func (s *Service) Report(ctx context.Context, q ReportQuery) (Report, error) {
	if _, err := ParseReportBy(string(q.By)); err != nil {
		return Report{}, err
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start) {
		return Report{}, i18n.Errorf(i18n.Invalid, "end_date", i18n.T("is before start_date", "est antérieure à start_date"))
	}
	now := s.now()
	rep := Report{By: q.By, Start: q.Start, End: q.End, AsOf: now}
	rows := map[string]*ReportRow{}
	f := Filter{Tenant: s.cfg.Tenant, Start: q.Start, End: q.End, ByID: true, Limit: MaxListLimit}
	for {
		page, err := s.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return Report{}, fmt.Errorf("report: list requests: %w", err)
		}
		for _, r := range page {
			key := reportKey(q.By, r)
			row := rows[key]
			if row == nil {
				row = &ReportRow{Key: key, Name: s.reportName(q.By, key, now)}
				rows[key] = row
			}
			row.add(r, now)
			rep.Total.add(r, now)
		}
		if len(page) < MaxListLimit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	for _, row := range rows {
		row.finish()
		rep.Rows = append(rep.Rows, *row)
	}
	slices.SortFunc(rep.Rows, func(a, b ReportRow) int { return compareKeys(a.Key, b.Key) })
	rep.Total.Name = i18n.T("All", "Total")
	rep.Total.finish()
	return rep, nil
}

func reportKey(by ReportBy, r Request) string {
	switch by {
	case ByWard:
		return r.WardID
	case ByDepartment:
		return r.Department
	}
	return r.ServiceCode
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
		if ws, ok := s.cfg.Wards.(interface {
			Current(time.Time) *wards.Generation
		}); ok {
			if g := ws.Current(now); g != nil {
				if w, ok := g.Ward(key); ok {
					return w.Name
				}
			}
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
