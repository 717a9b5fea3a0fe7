package api

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// report answers council reports (staff or admin key):
//
//	GET /api/v1/reports/{by}.{json|csv}?start_date=&end_date=&generation=&locale=
//
// by is ward, department, category or channel, or two of them crossed
// ("ward,department": one row per pair). The period bounds when requests
// were received, as Open311's filters do (default: the last 90 days). The
// CSV's header and names are in the request's language (lang, locale,
// Accept-Language).
// generation, a date, re-cuts a ward report by the wards in force then.

// reportRowOut is one row of a report in JSON; figures that do not exist
// yet (no outcome known, nothing closed) are null.
type reportRowOut struct {
	Key    string `json:"key"`
	NameEn string `json:"name_en"`
	NameFr string `json:"name_fr"`
	// The second grouping's, in a crossed report only.
	Key2               *string  `json:"key2,omitempty"`
	Name2En            *string  `json:"name2_en,omitempty"`
	Name2Fr            *string  `json:"name2_fr,omitempty"`
	Received           int      `json:"received"`
	Open               int      `json:"open"`
	Closed             int      `json:"closed"`
	ClosedOnTime       int      `json:"closed_on_time"`
	ClosedLate         int      `json:"closed_late"`
	OpenOverdue        int      `json:"open_overdue"`
	NoSLA              int      `json:"no_sla"`
	SLACompliance      *float64 `json:"sla_compliance"`
	MedianHoursToClose *float64 `json:"median_hours_to_close"`
	P90HoursToClose    *float64 `json:"p90_hours_to_close"`

	MedianBusinessHoursToClose *float64 `json:"median_business_hours_to_close"`
	P90BusinessHoursToClose    *float64 `json:"p90_business_hours_to_close"`
	Acknowledged               int      `json:"acknowledged"`
	MedianHoursToAck           *float64 `json:"median_hours_to_acknowledge"`
	P90HoursToAck              *float64 `json:"p90_hours_to_acknowledge"`
	Reopened                   int      `json:"reopened"`
	// Escalations[i] counts the escalations to level i+1.
	Escalations       []int    `json:"escalations"`
	SatisfactionCount int      `json:"satisfaction_count"`
	SatisfactionMean  *float64 `json:"satisfaction_mean"`
	SatisfiedShare    *float64 `json:"satisfied_share"`
}

type reportOut struct {
	By        string         `json:"by"` // "ward", or "ward,department" crossed
	Levels    int            `json:"escalation_levels"`
	StartDate *time.Time     `json:"start_date"`
	EndDate   *time.Time     `json:"end_date"`
	AsOf      time.Time      `json:"as_of"`
	Rows      []reportRowOut `json:"rows"`
	Total     reportRowOut   `json:"total"`
}

func (h *handler) report(w http.ResponseWriter, r *http.Request) {
	format := chi.URLParam(r, "format")
	if format != "json" && format != "csv" {
		h.writeError(w, r, i18n.Errorf(i18n.NotFound, "format", i18n.T("reports come as .json or .csv, not %q",
			"les rapports sont en .json ou en .csv, pas %q"), clip(format)))
		return
	}
	by, cross, err := requests.ParseReportGrouping(chi.URLParam(r, "by"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q := requests.ReportQuery{By: by, Cross: cross}
	if q.Start, q.End, err = h.period(r.URL.Query()); err != nil {
		h.writeError(w, r, err)
		return
	}
	if q.Generation, err = parseDate("generation", r.URL.Query().Get("generation"), h.svc.Catalog().Location(), false); err != nil {
		h.writeError(w, r, err)
		return
	}
	rep, err := h.svc.Report(r.Context(), q)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// Staff figures: never kept by a shared cache.
	w.Header().Set("Cache-Control", "private, no-cache")
	if format == "csv" {
		writeReportCSV(w, rep, langOf(r))
		return
	}
	crossed := rep.Cross != ""
	out := reportOut{By: rep.Grouping(), Levels: rep.Levels, AsOf: rep.AsOf.UTC(),
		Rows: make([]reportRowOut, 0, len(rep.Rows)), Total: rowOut(rep.Total, crossed)}
	if !rep.Start.IsZero() {
		t := rep.Start.UTC()
		out.StartDate = &t
	}
	if !rep.End.IsZero() {
		t := rep.End.UTC()
		out.EndDate = &t
	}
	for _, row := range rep.Rows {
		out.Rows = append(out.Rows, rowOut(row, crossed))
	}
	out.Total.Key = "*"
	if crossed {
		out.Total.Key2, out.Total.Name2En, out.Total.Name2Fr = reportText("*"), &out.Total.NameEn, &out.Total.NameFr
	}
	writeJSON(w, http.StatusOK, out)
}

func rowOut(r requests.ReportRow, crossed bool) reportRowOut {
	out := reportRowOut{Key: r.Key, NameEn: r.Name.En, NameFr: r.Name.Fr, Received: r.Received, Open: r.Open, Closed: r.Closed,
		ClosedOnTime: r.ClosedOnTime, ClosedLate: r.ClosedLate, OpenOverdue: r.OpenOverdue, NoSLA: r.NoSLA,
		SLACompliance: finite(r.SLACompliance), MedianHoursToClose: finite(r.MedianHoursToClose), P90HoursToClose: finite(r.P90HoursToClose),
		MedianBusinessHoursToClose: finite(r.MedianBusinessHoursToClose), P90BusinessHoursToClose: finite(r.P90BusinessHoursToClose),
		Acknowledged: r.Acknowledged, MedianHoursToAck: finite(r.MedianHoursToAck), P90HoursToAck: finite(r.P90HoursToAck),
		Reopened: r.Reopened, Escalations: r.Escalations, SatisfactionCount: r.SatisfactionCount,
		SatisfactionMean: finite(r.SatisfactionMean), SatisfiedShare: finite(r.SatisfiedShare)}
	if out.Escalations == nil {
		out.Escalations = []int{}
	}
	if crossed {
		out.Key2, out.Name2En, out.Name2Fr = reportText(r.Key2), reportText(r.Name2.En), reportText(r.Name2.Fr)
	}
	return out
}

func reportText(s string) *string { return &s }

// finite is nil for NaN: JSON has no NaN.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// writeReportCSV sends the report as CSV for a spreadsheet.
func writeReportCSV(w http.ResponseWriter, rep requests.Report, lang i18n.Lang) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="pinward-report-`+strings.ReplaceAll(rep.Grouping(), ",", "-")+`.csv"`)
	rep.WriteCSV(w, lang) //nolint:errcheck // the client hung up
}
