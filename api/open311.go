package api

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// The Open311 GeoReport v2 documents. Field names and element names are
// the spec's; ward_id, asset_id and cluster_id are pinward's extensions.

type service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

type xmlServices struct {
	XMLName  xml.Name  `xml:"services"`
	Services []service `xml:"service"`
}

type serviceDefinition struct {
	XMLName     xml.Name    `json:"-" xml:"service_definition"`
	ServiceCode string      `json:"service_code" xml:"service_code"`
	Attributes  []attribute `json:"attributes" xml:"attributes>attribute"`
}

type attribute struct {
	Variable            bool        `json:"variable" xml:"variable"`
	Code                string      `json:"code" xml:"code"`
	Datatype            string      `json:"datatype" xml:"datatype"`
	Required            bool        `json:"required" xml:"required"`
	DatatypeDescription string      `json:"datatype_description" xml:"datatype_description"`
	Order               int         `json:"order" xml:"order"`
	Description         string      `json:"description" xml:"description"`
	Values              []attrValue `json:"values,omitempty" xml:"values>value,omitempty"`
}

type attrValue struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

// serviceRequest is a request as the public sees it. It has no field for
// the reporter: personal information cannot leak through a field that does
// not exist.
type serviceRequest struct {
	XMLName           xml.Name `json:"-" xml:"request"`
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	DetailedStatus    string   `json:"detailed_status" xml:"detailed_status"` // extension: the workflow status
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               *float64 `json:"lat,omitempty" xml:"lat,omitempty"` // none for a request imported without coordinates
	Long              *float64 `json:"long,omitempty" xml:"long,omitempty"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
	WardID            string   `json:"ward_id" xml:"ward_id"`
	AssetID           string   `json:"asset_id" xml:"asset_id"`
	ClusterID         string   `json:"cluster_id" xml:"cluster_id"`
}

type xmlServiceRequests struct {
	XMLName  xml.Name `xml:"service_requests"`
	Requests []any    `xml:"request"`
}

// created is the answer to POST requests: the ID, the token, and a notice.
type created struct {
	XMLName          xml.Name `json:"-" xml:"request"`
	ServiceRequestID string   `json:"service_request_id" xml:"service_request_id"`
	Token            string   `json:"token" xml:"token"`
	ServiceNotice    string   `json:"service_notice" xml:"service_notice"`
	AccountID        *string  `json:"account_id" xml:"account_id,omitempty"`
	WardID           string   `json:"ward_id" xml:"ward_id"`
	ClusterID        string   `json:"cluster_id" xml:"cluster_id"`
}

type tokenResult struct {
	XMLName          xml.Name `json:"-" xml:"request"`
	ServiceRequestID string   `json:"service_request_id" xml:"service_request_id"`
	Token            string   `json:"token" xml:"token"`
}

// writeRecords answers a list of records in the request's format.
func writeRecords[T any](w http.ResponseWriter, r *http.Request, status int, recs []T) {
	x := xmlServiceRequests{Requests: make([]any, len(recs))}
	for i := range recs {
		x.Requests[i] = recs[i]
	}
	if recs == nil {
		recs = []T{}
	}
	write(w, r, status, recs, x)
}

// start checks what every Open311 route checks: the format in the path and
// the jurisdiction. It answers the error itself and reports false.
func (h *handler) start(w http.ResponseWriter, r *http.Request) bool {
	switch chi.URLParam(r, "format") {
	case "json", "xml":
	default:
		h.writeError(w, r, errNotFound())
		return false
	}
	if j := r.URL.Query().Get("jurisdiction_id"); j != "" && j != h.jurisdiction {
		h.writeError(w, r, errJurisdiction(j))
		return false
	}
	return true
}

func (h *handler) listServices(w http.ResponseWriter, r *http.Request) {
	if !h.start(w, r) {
		return
	}
	lang := langOf(r)
	cats := h.svc.Catalog().Categories()
	out := make([]service, len(cats))
	for i, c := range cats {
		out[i] = service{
			ServiceCode: c.Code,
			ServiceName: c.Name.In(lang),
			Description: c.Description.In(lang),
			Metadata:    len(c.Attributes) > 0,
			Type:        "realtime",
			Keywords:    strings.Join(c.Keywords, ","),
			Group:       c.Group.In(lang),
		}
	}
	write(w, r, http.StatusOK, out, xmlServices{Services: out})
}

func (h *handler) serviceDefinition(w http.ResponseWriter, r *http.Request) {
	if !h.start(w, r) {
		return
	}
	code := chi.URLParam(r, "code")
	c, ok := h.svc.Catalog().Category(code)
	if !ok {
		h.writeError(w, r, i18n.Errorf(i18n.NotFound, "service_code",
			i18n.T("there is no service %q", "il n'existe aucun service %q"), clip(code)))
		return
	}
	lang := langOf(r)
	def := serviceDefinition{ServiceCode: c.Code, Attributes: make([]attribute, len(c.Attributes))}
	for i, a := range c.Attributes {
		at := attribute{
			Variable:            !a.Informational,
			Code:                a.Code,
			Datatype:            string(a.Datatype),
			Required:            a.Required,
			DatatypeDescription: a.DatatypeDescription.In(lang),
			Order:               a.Order,
			Description:         a.Description.In(lang),
		}
		for _, v := range a.Values {
			at.Values = append(at.Values, attrValue{Key: v.Key, Name: v.Name.In(lang)})
		}
		def.Attributes[i] = at
	}
	write(w, r, http.StatusOK, def, def)
}

func (h *handler) getRequest(w http.ResponseWriter, r *http.Request) {
	if !h.start(w, r) {
		return
	}
	req, err := h.svc.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	rec := h.record(req, langOf(r))
	rec.MediaURL = h.absURL(r, rec.MediaURL)
	writeRecords(w, r, http.StatusOK, []serviceRequest{rec})
}

func (h *handler) getToken(w http.ResponseWriter, r *http.Request) {
	if !h.start(w, r) {
		return
	}
	req, err := h.svc.GetByToken(r.Context(), chi.URLParam(r, "token"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeRecords(w, r, http.StatusOK, []tokenResult{{ServiceRequestID: req.ServiceRequestID, Token: req.Token}})
}

// DefaultWindow is how far back GET requests looks when it is given no
// date and no ID: the 90 days the Open311 spec suggests.
const DefaultWindow = 90 * 24 * time.Hour

func (h *handler) listRequests(w http.ResponseWriter, r *http.Request) {
	if !h.start(w, r) {
		return
	}
	f, err := h.filter(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list, err := h.svc.List(r.Context(), f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	lang := langOf(r)
	recs := make([]serviceRequest, len(list))
	for i, req := range list {
		recs[i] = h.record(req, lang)
		recs[i].MediaURL = h.absURL(r, recs[i].MediaURL)
	}
	writeRecords(w, r, http.StatusOK, recs)
}

// filter reads the Open311 query parameters of GET requests. As the spec
// says, service_request_id overrides every other filter; with no ID and no
// date the window is the last DefaultWindow.
func (h *handler) filter(r *http.Request) (requests.Filter, error) {
	q := r.URL.Query()
	f := requests.Filter{Limit: requests.MaxListLimit}
	if err := h.page(q.Get("page"), q.Get("page_size"), &f); err != nil {
		return f, err
	}
	if ids := splitList(q.Get("service_request_id")); len(ids) > 0 {
		for _, id := range ids {
			// An ID that cannot exist matches nothing; keeping it out
			// spares the store a value it would have to refuse.
			if _, ok := requests.ParseServiceRequestID(id); ok {
				f.ServiceRequestIDs = append(f.ServiceRequestIDs, id)
			}
		}
		if len(f.ServiceRequestIDs) == 0 {
			f.ServiceRequestIDs = []string{"0"}
		}
		return f, nil
	}
	cat := h.svc.Catalog()
	for _, code := range splitList(q.Get("service_code")) {
		if _, ok := cat.Category(code); !ok {
			return f, i18n.Errorf(i18n.Invalid, "service_code", i18n.T("there is no service %q", "il n'existe aucun service %q"), clip(code))
		}
		f.ServiceCodes = append(f.ServiceCodes, code)
	}
	for _, s := range splitList(q.Get("status")) {
		sts, ok := requests.Open311Statuses(s)
		if !ok && requests.Status(s).Valid() {
			sts, ok = []requests.Status{requests.Status(s)}, true
		}
		if !ok {
			return f, i18n.Errorf(i18n.Invalid, "status", i18n.T("%q is not a status (open, closed)", "%q n'est pas un état (open, closed)"), clip(s))
		}
		for _, st := range sts {
			if !slices.Contains(f.Statuses, st) {
				f.Statuses = append(f.Statuses, st)
			}
		}
	}
	var err error
	f.Start, f.End, err = h.period(q)
	return f, err
}

// period reads start_date and end_date, as Open311 filters by them: in the
// municipality's time zone, the last DefaultWindow when neither is given.
func (h *handler) period(q url.Values) (start, end time.Time, err error) {
	loc := h.svc.Catalog().Location()
	if start, err = parseDate("start_date", q.Get("start_date"), loc, false); err != nil {
		return start, end, err
	}
	if end, err = parseDate("end_date", q.Get("end_date"), loc, true); err != nil {
		return start, end, err
	}
	switch {
	case start.IsZero() && end.IsZero():
		start = h.now().Add(-DefaultWindow).UTC()
	case !start.IsZero() && !end.IsZero() && end.Before(start):
		return start, end, i18n.Errorf(i18n.Invalid, "end_date", i18n.T("is before start_date", "est antérieure à start_date"))
	}
	return start, end, nil
}

// page reads the page/page_size extension: pages count from 1 and hold at
// most MaxListLimit requests, the spec's cap.
func (h *handler) page(pageS, sizeS string, f *requests.Filter) error {
	page, size := 1, requests.MaxListLimit
	if sizeS != "" {
		n, err := strconv.Atoi(sizeS)
		if err != nil || n < 1 || n > requests.MaxListLimit {
			return i18n.Errorf(i18n.Invalid, "page_size", i18n.T("%q is not a whole number from 1 to %d",
				"%q n'est pas un nombre entier de 1 à %d"), clip(sizeS), requests.MaxListLimit)
		}
		size = n
	}
	if pageS != "" {
		n, err := strconv.Atoi(pageS)
		if err != nil || n < 1 || n > 1_000_000 {
			return i18n.Errorf(i18n.Invalid, "page", i18n.T("%q is not a page number (1, 2, ...)", "%q n'est pas un numéro de page (1, 2, ...)"), clip(pageS))
		}
		page = n
	}
	f.Limit, f.Offset = size, (page-1)*size
	return nil
}

// dateLayouts are the forms start_date and end_date take: the spec's W3C
// datetime, and for people typing URLs, a local time or a bare date.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly}

// The years a date filter may name: every date of a municipality's
// records, far from the ends of what the stores and JSON can hold (year 0
// and 10000 cannot be encoded; a bare 9999-12-31 end date runs into 10000).
const minDateYear, maxDateYear = 1900, 2999

// parseDate reads a date filter (Open311's and the reports' start_date
// and end_date); times without an offset are the
// municipality's local time, and a bare end date includes its whole day.
func parseDate(field, s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range dateLayouts {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if t.Year() < minDateYear || t.Year() > maxDateYear {
			return time.Time{}, i18n.Errorf(i18n.Invalid, field, i18n.T("%q is out of range: give a date from %d to %d",
				"%q est hors limites : donnez une date de %d à %d"), clip(s), minDateYear, maxDateYear)
		}
		if layout == time.DateOnly && end {
			t = t.AddDate(0, 0, 1).Add(-time.Microsecond)
		}
		return t.UTC(), nil
	}
	return time.Time{}, i18n.Errorf(i18n.Invalid, field, i18n.T("%q is not a date (e.g. 2026-03-14 or 2026-03-14T21:30:00-04:00)",
		"%q n'est pas une date (p. ex. 2026-03-14 ou 2026-03-14T21:30:00-04:00)"), clip(s))
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// record is req as the public sees it, in lang. Times are in the
// municipality's zone with their offset, as the spec's examples show.
func (h *handler) record(req requests.Request, lang i18n.Lang) serviceRequest {
	cat := h.svc.Catalog()
	loc := cat.Location()
	rec := serviceRequest{
		ServiceRequestID:  req.ServiceRequestID,
		Status:            req.Status.Open311(),
		StatusNotes:       req.PublicNote(lang),
		DetailedStatus:    string(req.Status),
		ServiceCode:       req.ServiceCode,
		ServiceName:       req.ServiceCode,
		Description:       req.Description,
		AgencyResponsible: req.Department,
		ServiceNotice:     notice(req).In(lang),
		RequestedDatetime: fmtTime(req.RequestedAt, loc),
		UpdatedDatetime:   fmtTime(req.UpdatedAt, loc),
		ExpectedDatetime:  fmtTime(req.DueAt, loc),
		Address:           req.Address,
		MediaURL:          req.MediaURL,
		WardID:            req.WardID,
		AssetID:           req.AssetID,
		ClusterID:         req.ClusterID,
	}
	if !req.Unlocated {
		rec.Lat, rec.Long = &req.Point[1], &req.Point[0]
	}
	if c, ok := cat.Category(req.ServiceCode); ok {
		rec.ServiceName = c.Name.In(lang)
	}
	if d, ok := cat.Department(req.Department); ok {
		rec.AgencyResponsible = d.Name.In(lang)
	}
	return rec
}

// notice tells a resident whose report joined an existing one.
func notice(req requests.Request) i18n.Text {
	if req.ClusterID == "" || req.ClusterID == req.ServiceRequestID {
		return i18n.Text{}
	}
	return i18n.Textf(i18n.T("This issue was already reported (request %s); your report was added to it.",
		"Ce problème a déjà été signalé (demande %s); votre signalement y a été ajouté."), req.ClusterID)
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}
