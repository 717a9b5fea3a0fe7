package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// workOrder is a work order as integrators and staff see it: no reporter
// information exists on it.
type workOrder struct {
	WorkOrderID  string    `json:"work_order_id"`
	ClusterID    string    `json:"cluster_id"`
	Department   string    `json:"department"`
	Status       string    `json:"status"`
	ExternalID   string    `json:"external_id"`
	Category     string    `json:"category"`
	Ward         string    `json:"ward"`
	AssetID      string    `json:"asset_id"`
	RequestCount int       `json:"request_count"`
	Delivery     string    `json:"delivery"` // pending, delivered or dead
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// MovedRequests answers a status change: how many requests of the
	// cluster it moved (each with its event).
	MovedRequests *int `json:"moved_requests,omitempty"`
}

func toWorkOrder(w requests.WorkOrder) workOrder {
	return workOrder{
		WorkOrderID: strconv.FormatInt(w.ID, 10), ClusterID: w.ClusterID, Department: w.Department,
		Status: string(w.Status), ExternalID: w.ExternalID, Category: w.Payload.Category, Ward: w.Payload.WardID,
		AssetID: w.Payload.AssetID, RequestCount: w.RequestCount, Delivery: string(w.Delivery),
		Attempts: w.Attempts, LastError: w.LastError, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
	}
}

// The work-order routes, mounted when a store keeps work orders:
//
//	POST /api/v1/workorders/{id}/status  integrator, staff or admin: {"status": "...", "status_notes": "..."}
//	GET  /api/v1/workorders?state=dead   staff or admin: list (state: pending, delivered, dead)
//	POST /api/v1/workorders/{id}/retry   staff or admin: dead deliveries back to pending

func (h *handler) workOrderStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := requests.ParseWorkOrderID(chi.URLParam(r, "id"))
	if !ok {
		h.writeError(w, r, requests.WorkOrderNotFoundError(chi.URLParam(r, "id")))
		return
	}
	limitBody(w, r, h.maxBody)
	in, err := readStatusBody(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c := requests.WorkOrderStatusChange{
		Tenant: h.svc.Tenant(), WorkOrderID: id, To: requests.Status(in.Status), Note: strings.TrimSpace(in.Notes),
		Actor: actor(r), At: h.now().UTC().Truncate(time.Microsecond), Clock: h.svc.Catalog(),
	}
	if err := requests.WorkOrderStatus(c); err != nil {
		h.writeError(w, r, err)
		return
	}
	wo, moved, err := h.workOrders.SetWorkOrderStatus(r.Context(), c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := toWorkOrder(wo)
	out.MovedRequests = &moved
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) listWorkOrders(w http.ResponseWriter, r *http.Request) {
	f := requests.WorkOrderFilter{Tenant: h.svc.Tenant(), Delivery: requests.OutboxState(r.URL.Query().Get("state")),
		Department: r.URL.Query().Get("department")}
	if f.Delivery != "" && !f.Delivery.Valid() {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "state", i18n.T("%q is not a delivery state (pending, delivered, dead)",
			"%q n'est pas un état d'envoi (pending, delivered, dead)"), clip(string(f.Delivery))))
		return
	}
	limit, err := workOrderPage(r.URL.Query(), &f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	f.Limit = limit + 1 // one more tells whether there is a next page
	wos, err := h.workOrders.ListWorkOrders(r.Context(), f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if len(wos) > limit {
		wos = wos[:limit]
		next := formatWorkOrderCursor(wos[limit-1].ID)
		q := r.URL.Query()
		q.Set("cursor", next)
		w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
		w.Header().Set("X-Next-Cursor", next)
	}
	out := make([]workOrder, 0, len(wos))
	for _, wo := range wos {
		out = append(out, toWorkOrder(wo))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) retryWorkOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := requests.ParseWorkOrderID(chi.URLParam(r, "id"))
	if !ok {
		h.writeError(w, r, requests.WorkOrderNotFoundError(chi.URLParam(r, "id")))
		return
	}
	wo, err := h.workOrders.RetryWorkOrder(r.Context(), h.svc.Tenant(), id, h.now().UTC().Truncate(time.Microsecond))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWorkOrder(wo))
}

// defaultWorkOrderPage is the page size of GET /api/v1/workorders when
// limit is not given.
const defaultWorkOrderPage = 100

// workOrderPage reads limit (1 to MaxListLimit) and cursor (the
// X-Next-Cursor of the previous page) into f, and returns the page size.
func workOrderPage(q url.Values, f *requests.WorkOrderFilter) (int, error) {
	limit := defaultWorkOrderPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n >= requests.MaxListLimit {
			return 0, i18n.Errorf(i18n.Invalid, "limit", i18n.T("must be a whole number from 1 to %d",
				"doit être un nombre entier de 1 à %d"), requests.MaxListLimit-1)
		}
		limit = n
	}
	if s := q.Get("cursor"); s != "" {
		rest, ok := strings.CutPrefix(s, "w")
		n, err := strconv.ParseInt(rest, 36, 64)
		if !ok || err != nil || n < 0 {
			return 0, i18n.Errorf(i18n.Invalid, "cursor", i18n.T("%q is not a cursor of this list; give the X-Next-Cursor of a previous page",
				"%q n'est pas un curseur de cette liste; donnez le X-Next-Cursor d'une page précédente"), clip(s))
		}
		f.AfterID = n
	}
	return limit, nil
}

// formatWorkOrderCursor is opaque to clients: the last ID of the page in
// base 36 behind a "w".
func formatWorkOrderCursor(id int64) string { return "w" + strconv.FormatInt(id, 36) }

type statusBody struct {
	Status string `json:"status"`
	Notes  string `json:"status_notes"`
}

// readStatusBody reads a JSON object or a form with status and
// status_notes; unknown JSON fields are refused.
func readStatusBody(r *http.Request) (statusBody, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var in statusBody
	switch mt {
	case "application/json":
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			var mbe *http.MaxBytesError
			var ie *i18n.Error
			if errors.As(err, &mbe) || errors.As(err, &ie) {
				return in, err
			}
			return in, errMalformed("JSON", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return in, errMalformed("JSON", errors.New("data after the object"))
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return in, errMalformed("form", err)
		}
		if err := checkForm(r.PostForm); err != nil {
			return in, err
		}
		in.Status, in.Notes = r.PostForm.Get("status"), r.PostForm.Get("status_notes")
	default:
		return in, errUnsupportedMedia(r.Header.Get("Content-Type"))
	}
	if in.Status == "" {
		return in, i18n.Errorf(i18n.Invalid, "status", i18n.T("is required", "est obligatoire"))
	}
	return in, nil
}
