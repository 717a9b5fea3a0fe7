package api

import (
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// report answers council reports (staff or admin key):
//
//	GET /api/v1/reports/{by}.{json|csv}?start_date=&end_date=&generation=&locale=
//
// by is ward, department or category. The period bounds when requests
// were received, as Open311's filters do (default: the last 90 days).
// generation, a date, re-cuts a ward report by the wards in force then.

// reportRowOut is one row of a report in JSON; figures that do not exist
// yet (no outcome known, nothing closed) are null.
type reportRowOut struct {
	Key                string   `json:"key"`
	NameEn             string   `json:"name_en"`
	NameFr             string   `json:"name_fr"`
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
}

type reportOut struct {
	By        string         `json:"by"`
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
	by, err := requests.ParseReportBy(chi.URLParam(r, "by"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q := requests.ReportQuery{By: by}
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
	out := reportOut{By: string(rep.By), AsOf: rep.AsOf.UTC(), Rows: make([]reportRowOut, 0, len(rep.Rows)), Total: rowOut(rep.Total)}
	if !rep.Start.IsZero() {
		t := rep.Start.UTC()
		out.StartDate = &t
	}
	if !rep.End.IsZero() {
		t := rep.End.UTC()
		out.EndDate = &t
	}
	for _, row := range rep.Rows {
		out.Rows = append(out.Rows, rowOut(row))
	}
	out.Total.Key = "*"
	writeJSON(w, http.StatusOK, out)
}

func rowOut(r requests.ReportRow) reportRowOut {
	return reportRowOut{Key: r.Key, NameEn: r.Name.En, NameFr: r.Name.Fr, Received: r.Received, Open: r.Open, Closed: r.Closed,
		ClosedOnTime: r.ClosedOnTime, ClosedLate: r.ClosedLate, OpenOverdue: r.OpenOverdue, NoSLA: r.NoSLA,
		SLACompliance: finite(r.SLACompliance), MedianHoursToClose: finite(r.MedianHoursToClose), P90HoursToClose: finite(r.P90HoursToClose)}
}

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
	w.Header().Set("Content-Disposition", `attachment; filename="pinward-report-`+string(rep.By)+`.csv"`)
	rep.WriteCSV(w, lang) //nolint:errcheck // the client hung up
}
