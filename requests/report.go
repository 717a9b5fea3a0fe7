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
	ByChannel    ReportBy = "channel"
)

// ReportGroupings lists every grouping, in the order the help names them.
func ReportGroupings() []ReportBy { return []ReportBy{ByWard, ByDepartment, ByCategory, ByChannel} }

// ParseReportBy reads one grouping; Invalid for anything else.
func ParseReportBy(s string) (ReportBy, error) {
	if b := ReportBy(s); slices.Contains(ReportGroupings(), b) {
		return b, nil
	}
	return "", i18n.Errorf(i18n.Invalid, "by", i18n.T("%q is not a report grouping (ward, department, category, channel, or two of them: ward,department)",
		"%q n'est pas un regroupement de rapport (ward, department, category, channel, ou deux d'entre eux : ward,department)"), clip(s))
}

// ParseReportGrouping reads a report's grouping: one of ReportGroupings,
// or two different ones crossed, comma-separated ("ward,department"), the
// second returned as cross ("" for one grouping).
func ParseReportGrouping(s string) (by, cross ReportBy, err error) {
	first, second, crossed := strings.Cut(s, ",")
	if by, err = ParseReportBy(first); err != nil {
		return "", "", i18n.Errorf(i18n.Invalid, "by", i18n.T("%q is not a report grouping (ward, department, category, channel, or two of them: ward,department)",
			"%q n'est pas un regroupement de rapport (ward, department, category, channel, ou deux d'entre eux : ward,department)"), clip(s))
	}
	if !crossed {
		return by, "", nil
	}
	if cross, err = ParseReportBy(second); err != nil || cross == by {
		return "", "", i18n.Errorf(i18n.Invalid, "by", i18n.T("%q does not cross two different groupings (ward, department, category, channel)",
			"%q ne croise pas deux regroupements différents (ward, department, category, channel)"), clip(s))
	}
	return by, cross, nil
}

// Grouping is the grouping as the API path and the CLI write it: "ward" or
// "ward,department".
func (q ReportQuery) Grouping() string { return grouping(q.By, q.Cross) }

// Grouping is the report's grouping, as ReportQuery's.
func (rep Report) Grouping() string { return grouping(rep.By, rep.Cross) }

func grouping(by, cross ReportBy) string {
	if cross == "" {
		return string(by)
	}
	return string(by) + "," + string(cross)
}

// ReportQuery selects the requests of a report: those received (RequestedAt)
// from Start to End, both inclusive (a zero time leaves that side open).
type ReportQuery struct {
	By ReportBy
	// Cross, when set, is a second grouping: one row per pair of values
	// of By and Cross (those that occur), then the total.
	Cross      ReportBy
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
	// Calendar lays out the working time of a span for business hours to
	// close (Service.Report sets it to the catalog's WorkCalendar); the
	// store asks for a span that holds every instant it counts. Nil
	// leaves business hours NaN.
	Calendar func(from, to time.Time) *WorkCalendar
}

// ReportQuantiles are the quantiles of hours a report gives: the median
// and the 90th percentile.
var ReportQuantiles = [2]float64{0.5, 0.9}

// ReportLevels is how many escalation levels a store counts: the most a
// category may have.
const ReportLevels = maxLevels

// Column is the requests column a grouping reads (the same name in both
// stores' schemas).
func (b ReportBy) Column() string {
	switch b {
	case ByWard:
		return "ward_id"
	case ByDepartment:
		return "department"
	case ByChannel:
		return "channel"
	}
	return "service_code"
}

// Report is the volumes, response times, SLA compliance, escalations and
// satisfaction of the requests received in a period, one row per ward,
// department, category or channel, or per pair of two of them.
type Report struct {
	By, Cross  ReportBy // Cross "" for one grouping
	Start, End time.Time
	AsOf       time.Time // when open requests were judged overdue
	// Levels is how many escalation levels the rows count: the deepest of
	// the catalog, or deeper when requests escalated further before the
	// catalog changed.
	Levels int
	Rows   []ReportRow
	Total  ReportRow // every request of the period
}

// ReportRow is one group's figures. A request's SLA outcome is known when
// it closed (within its due time or late) or is still open past it;
// compliance is the share of known outcomes that were on time.
type ReportRow struct {
	Key  string    // ward ID, department code, service code or channel; "" for none
	Name i18n.Text // the key's name in both languages (the key when unknown)
	// Key2 and Name2 are the second grouping's, in a crossed report.
	Key2  string
	Name2 i18n.Text

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
	// MedianBusinessHoursToClose and P90BusinessHoursToClose are the same
	// span on the SLA clock: working hours only (the catalog's business
	// hours, statutory holidays and closures), less the time spent
	// waiting on the resident.
	MedianBusinessHoursToClose float64
	P90BusinessHoursToClose    float64

	// Acknowledged counts the requests that left "new" (their first
	// transition out of it, whatever it went to); MedianHoursToAck and
	// P90HoursToAck are the calendar hours from received to that
	// transition, over them (NaN when none).
	Acknowledged     int
	MedianHoursToAck float64
	P90HoursToAck    float64

	Reopened int // transitions to "reopened"
	// Escalations counts the requests escalated to each level (an
	// EventEscalated event of that level; each level fires once per
	// request): Escalations[0] level 1, and so on.
	Escalations []int

	// Satisfaction: how many residents answered, the sum of their scores
	// (1 to 5) and how many gave 4 or 5; the mean and the share of 4 and 5
	// derive from them (NaN when nobody answered).
	SatisfactionCount int
	SatisfactionSum   int
	Satisfied         int
	SatisfactionMean  float64
	SatisfiedShare    float64
}

// finish derives what the counts give, with levels escalation columns.
func (r *ReportRow) finish(levels int) {
	r.SLACompliance = math.NaN()
	if n := r.ClosedOnTime + r.ClosedLate + r.OpenOverdue; n > 0 {
		r.SLACompliance = float64(r.ClosedOnTime) / float64(n)
	}
	r.SatisfactionMean, r.SatisfiedShare = math.NaN(), math.NaN()
	if r.SatisfactionCount > 0 {
		r.SatisfactionMean = float64(r.SatisfactionSum) / float64(r.SatisfactionCount)
		r.SatisfiedShare = float64(r.Satisfied) / float64(r.SatisfactionCount)
	}
	esc := make([]int, levels)
	copy(esc, r.Escalations)
	r.Escalations = esc
}

// Report computes a council report over the tenant's requests received in
// the period. The store aggregates where the rows are (Store.ReportRows);
// the service names the groups and orders them.
func (s *Service) Report(ctx context.Context, q ReportQuery) (Report, error) {
	if _, err := ParseReportBy(string(q.By)); err != nil {
		return Report{}, err
	}
	if q.Cross != "" {
		if _, _, err := ParseReportGrouping(q.Grouping()); err != nil {
			return Report{}, err
		}
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start) {
		return Report{}, i18n.Errorf(i18n.Invalid, "end_date", i18n.T("is before start_date", "est antérieure à start_date"))
	}
	q.AsOf, q.Scope, q.Calendar = s.now(), ScopeFrom(ctx), s.cfg.Catalog.WorkCalendar
	if err := s.recutInto(ctx, &q); err != nil {
		return Report{}, err
	}
	rows, total, err := s.cfg.Store.ReportRows(ctx, s.cfg.Tenant, q)
	if err != nil {
		return Report{}, fmt.Errorf("report: %w", err)
	}
	levels := 0
	for _, c := range s.cfg.Catalog.Categories() {
		levels = max(levels, len(c.Escalation))
	}
	for _, r := range slices.Concat(rows, []ReportRow{total}) {
		for i, n := range r.Escalations {
			if n > 0 {
				levels = max(levels, i+1)
			}
		}
	}
	for i := range rows {
		rows[i].Name = s.reportName(q.By, rows[i].Key, cmp.Or(q.Generation, q.AsOf))
		if q.Cross != "" {
			rows[i].Name2 = s.reportName(q.Cross, rows[i].Key2, cmp.Or(q.Generation, q.AsOf))
		}
		rows[i].finish(levels)
	}
	slices.SortFunc(rows, func(a, b ReportRow) int {
		return cmp.Or(compareKeys(a.Key, b.Key), compareKeys(a.Key2, b.Key2))
	})
	total.Key, total.Name, total.Key2, total.Name2 = "", i18n.T("All", "Total"), "", i18n.Text{}
	total.finish(levels)
	return Report{By: q.By, Cross: q.Cross, Start: q.Start, End: q.End, AsOf: q.AsOf, Levels: levels, Rows: rows, Total: total}, nil
}

// reportName names a group in both languages: the category or department
// of the catalog, the ward of the boundaries in force now, the channel.
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
	case ByChannel:
		if n, ok := channelNames[Channel(key)]; ok {
			return n
		}
	case ByWard:
		if n, ok := s.wardName(key, now); ok {
			return n
		}
	}
	return i18n.T(key, key)
}

// channelNames name the channels in reports.
var channelNames = map[Channel]i18n.Text{
	ChannelWeb:     i18n.T("Web page", "Page Web"),
	ChannelApp:     i18n.T("Mobile app", "Application mobile"),
	ChannelPhone:   i18n.T("Phone", "Téléphone"),
	ChannelCounter: i18n.T("At the counter", "Au comptoir"),
	ChannelEmail:   i18n.T("E-mail", "Courriel"),
	ChannelAPI:     i18n.T("Other Open311 client", "Autre client Open311"),
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

// groupingLabels head a grouping's key and name columns.
var groupingLabels = map[ReportBy][2]i18n.Text{
	ByWard:       {i18n.T("Ward", "Quartier"), i18n.T("Ward name", "Nom du quartier")},
	ByDepartment: {i18n.T("Department", "Service"), i18n.T("Department name", "Nom du service")},
	ByCategory:   {i18n.T("Category", "Catégorie"), i18n.T("Category name", "Nom de la catégorie")},
	ByChannel:    {i18n.T("Channel", "Canal"), i18n.T("Channel name", "Nom du canal")},
}

// reportFigures are a row's CSV columns after its keys and names, in
// order: the header (in the report's language) and the cell.
var reportFigures = []struct {
	label i18n.Text
	cell  func(r ReportRow) string
}{
	{i18n.T("Received", "Reçues"), func(r ReportRow) string { return strconv.Itoa(r.Received) }},
	{i18n.T("Open", "Ouvertes"), func(r ReportRow) string { return strconv.Itoa(r.Open) }},
	{i18n.T("Closed", "Fermées"), func(r ReportRow) string { return strconv.Itoa(r.Closed) }},
	{i18n.T("Closed on time", "Fermées dans les délais"), func(r ReportRow) string { return strconv.Itoa(r.ClosedOnTime) }},
	{i18n.T("Closed late", "Fermées en retard"), func(r ReportRow) string { return strconv.Itoa(r.ClosedLate) }},
	{i18n.T("Open past due", "Ouvertes en retard"), func(r ReportRow) string { return strconv.Itoa(r.OpenOverdue) }},
	{i18n.T("No SLA", "Sans délai"), func(r ReportRow) string { return strconv.Itoa(r.NoSLA) }},
	{i18n.T("SLA compliance", "Respect des délais"), func(r ReportRow) string { return num(r.SLACompliance, 4) }},
	{i18n.T("Median hours to close", "Heures médianes avant fermeture"), func(r ReportRow) string { return num(r.MedianHoursToClose, 2) }},
	{i18n.T("90th percentile hours to close", "Heures avant fermeture, 90e centile"), func(r ReportRow) string { return num(r.P90HoursToClose, 2) }},
	{i18n.T("Median business hours to close", "Heures ouvrables médianes avant fermeture"), func(r ReportRow) string { return num(r.MedianBusinessHoursToClose, 2) }},
	{i18n.T("90th percentile business hours to close", "Heures ouvrables avant fermeture, 90e centile"), func(r ReportRow) string { return num(r.P90BusinessHoursToClose, 2) }},
	{i18n.T("Acknowledged", "Prises en charge"), func(r ReportRow) string { return strconv.Itoa(r.Acknowledged) }},
	{i18n.T("Median hours to acknowledge", "Heures médianes avant prise en charge"), func(r ReportRow) string { return num(r.MedianHoursToAck, 2) }},
	{i18n.T("90th percentile hours to acknowledge", "Heures avant prise en charge, 90e centile"), func(r ReportRow) string { return num(r.P90HoursToAck, 2) }},
	{i18n.T("Reopened", "Réouvertures"), func(r ReportRow) string { return strconv.Itoa(r.Reopened) }},
}

// satisfactionFigures follow the escalation columns.
var satisfactionFigures = []struct {
	label i18n.Text
	cell  func(r ReportRow) string
}{
	{i18n.T("Satisfaction answers", "Réponses de satisfaction"), func(r ReportRow) string { return strconv.Itoa(r.SatisfactionCount) }},
	{i18n.T("Mean satisfaction (1 to 5)", "Satisfaction moyenne (1 à 5)"), func(r ReportRow) string { return num(r.SatisfactionMean, 2) }},
	{i18n.T("Share satisfied (4 or 5)", "Part de satisfaits (4 ou 5)"), func(r ReportRow) string { return num(r.SatisfiedShare, 4) }},
}

// num formats a figure; empty when it does not exist yet (NaN).
func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// Columns is the report's CSV header in lang: the grouping's key and name
// (both groupings' when crossed), then the figures, one column per
// escalation level.
func (rep Report) Columns(lang i18n.Lang) []string {
	var cols []string
	for _, by := range []ReportBy{rep.By, rep.Cross} {
		if l, ok := groupingLabels[by]; ok {
			cols = append(cols, l[0].In(lang), l[1].In(lang))
		}
	}
	for _, f := range reportFigures {
		cols = append(cols, f.label.In(lang))
	}
	for l := 1; l <= rep.Levels; l++ {
		cols = append(cols, fmt.Sprintf(i18n.T("Escalations, level %d", "Escalades, niveau %d").In(lang), l))
	}
	for _, f := range satisfactionFigures {
		cols = append(cols, f.label.In(lang))
	}
	return cols
}

// WriteCSV writes the report for a spreadsheet: the header and group
// names in lang, one row per group, the total last (key "*"), empty cells
// where a figure does not exist yet.
func (rep Report) WriteCSV(w io.Writer, lang i18n.Lang) error {
	cw := csv.NewWriter(w)
	row := func(r ReportRow) []string {
		rec := []string{r.Key, r.Name.In(lang)}
		if rep.Cross != "" {
			rec = append(rec, r.Key2, r.Name2.In(lang))
		}
		for _, f := range reportFigures {
			rec = append(rec, f.cell(r))
		}
		for _, n := range r.Escalations {
			rec = append(rec, strconv.Itoa(n))
		}
		for _, f := range satisfactionFigures {
			rec = append(rec, f.cell(r))
		}
		return rec
	}
	recs := [][]string{rep.Columns(lang)}
	for _, r := range rep.Rows {
		recs = append(recs, row(r))
	}
	total := rep.Total
	total.Key, total.Key2, total.Name2 = "*", "*", total.Name
	recs = append(recs, row(total))
	if err := cw.WriteAll(recs); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
