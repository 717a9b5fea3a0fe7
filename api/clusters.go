package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// defaultClusterPage is the page size of GET /api/v1/clusters without
// page_size.
const defaultClusterPage = 100

// cluster is a cluster as staff see it: its anchor's category, ward and
// place, and counts. Its requests (detail only) carry no reporter
// information: the type has no field for it.
type cluster struct {
	ClusterID        string           `json:"cluster_id"`
	Category         string           `json:"category"`
	Ward             string           `json:"ward"`
	Department       string           `json:"department"`
	Status           string           `json:"status"` // open or closed
	Lon              float64          `json:"lon"`
	Lat              float64          `json:"lat"`
	AssetLayer       string           `json:"asset_layer,omitempty"`
	AssetID          string           `json:"asset_id,omitempty"`
	RequestCount     int              `json:"request_count"`
	OpenRequestCount int              `json:"open_request_count"`
	ReporterCount    int              `json:"reporter_count"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
	WorkOrderID      string           `json:"work_order_id,omitempty"`
	Requests         []clusterRequest `json:"requests,omitempty"`
}

type clusterRequest struct {
	ServiceRequestID string    `json:"service_request_id"`
	ServiceCode      string    `json:"service_code"`
	Status           string    `json:"status"`
	StatusNotes      string    `json:"status_notes"`
	Description      string    `json:"description"`
	Address          string    `json:"address"`
	Lon              float64   `json:"long"`
	Lat              float64   `json:"lat"`
	Ward             string    `json:"ward_id"`
	AssetLayer       string    `json:"asset_layer,omitempty"`
	AssetID          string    `json:"asset_id,omitempty"`
	MediaURL         string    `json:"media_url,omitempty"`
	RequestedAt      time.Time `json:"requested_datetime"`
	UpdatedAt        time.Time `json:"updated_datetime"`
	DueAt            time.Time `json:"expected_datetime,omitzero"`
}

// clusterChange answers a merge, split or close.
type clusterChange struct {
	Cluster cluster  `json:"cluster"`
	New     *cluster `json:"new_cluster,omitempty"` // split
	Merged  string   `json:"merged_cluster,omitempty"`
	// Changed lists the requests moved or closed.
	Changed          []string `json:"changed_requests"`
	WorkOrderUpdated bool     `json:"work_order_updated"`
}

func toCluster(c requests.Cluster) cluster {
	out := cluster{
		ClusterID: c.ID, Category: c.ServiceCode, Ward: c.WardID, Department: c.Department, Status: string(c.Status),
		Lon: c.Point[0], Lat: c.Point[1], AssetLayer: c.AssetLayer, AssetID: c.AssetID,
		RequestCount: c.Requests, OpenRequestCount: c.OpenRequests, ReporterCount: c.Reporters,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.WorkOrderID != 0 {
		out.WorkOrderID = strconv.FormatInt(c.WorkOrderID, 10)
	}
	return out
}

func toClusterRequest(r requests.Request) clusterRequest {
	return clusterRequest{
		ServiceRequestID: r.ServiceRequestID, ServiceCode: r.ServiceCode, Status: string(r.Status), StatusNotes: r.StatusNotes,
		Description: r.Description, Address: r.Address, Lon: r.Point[0], Lat: r.Point[1], Ward: r.WardID,
		AssetLayer: r.AssetLayer, AssetID: r.AssetID, MediaURL: r.MediaURL,
		RequestedAt: r.RequestedAt, UpdatedAt: r.UpdatedAt, DueAt: r.DueAt,
	}
}

func toChange(res requests.ClusterResult) clusterChange {
	out := clusterChange{Cluster: toCluster(res.Cluster), Changed: make([]string, 0, len(res.Changed)), WorkOrderUpdated: res.WorkOrderUpdated}
	if res.New.ID != "" {
		n := toCluster(res.New)
		out.New = &n
	}
	for _, r := range res.Changed {
		out.Changed = append(out.Changed, r.ServiceRequestID)
	}
	return out
}

// The staff cluster routes (staff or admin key, in the X-Api-Key header or
// api_key in the query):
//
//	GET  /api/v1/clusters?bbox=&category=&ward=&status=open|closed&page=&page_size=
//	GET  /api/v1/clusters/{id}
//	POST /api/v1/clusters/{id}/merge  {"into": "<cluster id>", "note": "..."}
//	POST /api/v1/clusters/{id}/split  {"requests": ["<request id>", ...]}
//	POST /api/v1/clusters/{id}/close  {"note": "...", "reason": "resolved|duplicate|no_action|referred"}

func (h *handler) listClusters(w http.ResponseWriter, r *http.Request) {
	f, err := clusterFilter(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	cs, err := h.svc.ListClusters(r.Context(), f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]cluster, 0, len(cs))
	for _, c := range cs {
		out = append(out, toCluster(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// clusterFilter reads the list's query parameters.
func clusterFilter(r *http.Request) (requests.ClusterFilter, error) {
	q := r.URL.Query()
	f := requests.ClusterFilter{ServiceCode: q.Get("category"), WardID: q.Get("ward"), Status: requests.Status(q.Get("status"))}
	if s := q.Get("bbox"); s != "" {
		b, err := parseBBox(s)
		if err != nil {
			return f, err
		}
		f.BBox = &b
	}
	size, err := positive(q.Get("page_size"), "page_size", defaultClusterPage)
	if err != nil {
		return f, err
	}
	if size > requests.MaxListLimit {
		return f, i18n.Errorf(i18n.Invalid, "page_size", i18n.T("is at most %d", "vaut au plus %d"), requests.MaxListLimit)
	}
	page, err := positive(q.Get("page"), "page", 1)
	if err != nil {
		return f, err
	}
	if page > math.MaxInt32/size {
		return f, i18n.Errorf(i18n.Invalid, "page", i18n.T("is past the last page", "dépasse la dernière page"))
	}
	f.Limit, f.Offset = size, (page-1)*size
	return f, nil
}

// positive reads a positive integer parameter, def when it is absent.
func positive(s, field string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errNumber(field, s)
	}
	if n < 1 {
		return 0, i18n.Errorf(i18n.Invalid, field, i18n.T("must be 1 or more", "doit valoir 1 ou plus"))
	}
	return n, nil
}

// parseBBox reads minLon,minLat,maxLon,maxLat (WGS84, GeoJSON order).
func parseBBox(s string) (orb.Bound, error) {
	bad := func(msg i18n.Text, args ...any) (orb.Bound, error) {
		return orb.Bound{}, i18n.Errorf(i18n.Invalid, "bbox", msg, args...)
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return bad(i18n.T("%q is not minLon,minLat,maxLon,maxLat", "%q n'est pas minLon,minLat,maxLon,maxLat"), clip(s))
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return bad(i18n.T("%q is not a number", "%q n'est pas un nombre"), clip(p))
		}
		v[i] = f
	}
	switch {
	case v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[0] > 180 || v[2] < -180 || v[1] > 90 || v[3] < -90:
		return bad(i18n.T("longitudes lie in -180..180 and latitudes in -90..90", "les longitudes vont de -180 à 180 et les latitudes de -90 à 90"))
	case v[0] > v[2] || v[1] > v[3]:
		return bad(i18n.T("the minimum exceeds the maximum (minLon,minLat,maxLon,maxLat)", "le minimum dépasse le maximum (minLon,minLat,maxLon,maxLat)"))
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}

func (h *handler) getCluster(w http.ResponseWriter, r *http.Request) {
	c, rs, err := h.svc.Cluster(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := toCluster(c)
	out.Requests = make([]clusterRequest, 0, len(rs))
	for _, rq := range rs {
		out.Requests = append(out.Requests, toClusterRequest(rq))
	}
	writeJSON(w, http.StatusOK, out)
}

// clusterBody is every field the change routes read; each route refuses
// the fields that are not its own.
type clusterBody struct {
	Into     *idValue  `json:"into"`
	Note     *string   `json:"note"`
	Reason   *string   `json:"reason"`
	Referred *string   `json:"referred_to"`
	Requests []idValue `json:"requests"`
}

// idValue is an ID given as a JSON string ("12") or an integer (12): the
// staff map sends the string value of a <select>.
type idValue string

func (v *idValue) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(b, []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = idValue(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("an ID is a string or an integer")
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
		return errors.New("an ID is a string or an integer")
	}
	*v = idValue(n.String())
	return nil
}

// readClusterBody reads a change's JSON body (an empty body is {}), and
// refuses fields outside allowed.
func (h *handler) readClusterBody(w http.ResponseWriter, r *http.Request, allowed ...string) (clusterBody, error) {
	var in clusterBody
	raw, err := io.ReadAll(limitBody(w, r, h.maxBody))
	if err != nil {
		return in, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return in, nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return in, i18n.Errorf(kindUnsupportedMedia, "Content-Type", i18n.T("%q is not a body this route reads; send application/json",
			"%q n'est pas un corps que cette route lit; envoyez application/json"), clip(r.Header.Get("Content-Type")))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return in, errMalformed("JSON", err)
	}
	for k := range fields {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return in, i18n.Errorf(i18n.Invalid, k, i18n.T("is not a field of this request (it takes %s)",
				"n'est pas un champ de cette requête (elle prend %s)"), strings.Join(allowed, ", "))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&in); err != nil {
		return in, errMalformed("JSON", err)
	}
	return in, nil
}

func (h *handler) mergeCluster(w http.ResponseWriter, r *http.Request) {
	in, err := h.readClusterBody(w, r, "into", "note")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var into, note string
	if in.Into != nil {
		into = string(*in.Into)
	}
	if in.Note != nil {
		note = *in.Note
	}
	from := chi.URLParam(r, "id")
	res, err := h.svc.MergeClusters(r.Context(), from, into, note, actor(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "clusters merged", "from", from, "into", into, "moved", len(res.Changed), "actor", actor(r))
	out := toChange(res)
	out.Merged = from
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) splitCluster(w http.ResponseWriter, r *http.Request) {
	in, err := h.readClusterBody(w, r, "requests")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ids := make([]string, len(in.Requests))
	for i, v := range in.Requests {
		ids[i] = string(v)
	}
	id := chi.URLParam(r, "id")
	res, err := h.svc.SplitCluster(r.Context(), id, ids, actor(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "cluster split", "from", id, "new", res.New.ID, "moved", len(res.Changed), "actor", actor(r))
	w.Header().Set("Location", "/api/v1/clusters/"+res.New.ID)
	writeJSON(w, http.StatusCreated, toChange(res))
}

func (h *handler) closeCluster(w http.ResponseWriter, r *http.Request) {
	in, err := h.readClusterBody(w, r, "note", "reason", "referred_to")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var note, reason, referredTo string
	if in.Referred != nil {
		referredTo = *in.Referred
	}
	if in.Note != nil {
		note = *in.Note
	}
	if in.Reason != nil {
		reason = *in.Reason
		if reason == "" {
			h.writeError(w, r, i18n.Errorf(i18n.Invalid, "reason", i18n.T("is empty; leave it out for %q", "est vide; omettez-le pour %q"), requests.ReasonFixed))
			return
		}
	}
	id := chi.URLParam(r, "id")
	res, err := h.svc.CloseCluster(r.Context(), id, note, requests.CloseReason(reason), referredTo, actor(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "cluster closed", "cluster", id, "closed", len(res.Changed), "actor", actor(r))
	writeJSON(w, http.StatusOK, toChange(res))
}
