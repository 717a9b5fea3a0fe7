package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// mountBlockList mounts the block list (unscoped staff and admins manage
// it) and the submissions it stopped (staff, in their scope) on staff.
func (h *handler) mountBlockList(staff chi.Router) {
	staff.Get("/api/v1/blocks", h.listBlocks)
	staff.Post("/api/v1/blocks", h.addBlock)
	staff.Delete("/api/v1/blocks/{id}", h.removeBlock)
	staff.Get("/api/v1/blocked", h.listBlocked)
}

type blockOut struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
}

func toBlockOut(e requests.BlockEntry) blockOut {
	return blockOut{e.ID, string(e.Kind), e.Value, e.Reason, e.Actor, e.CreatedAt.UTC()}
}

func (h *handler) listBlocks(w http.ResponseWriter, r *http.Request) {
	es, err := h.svc.Blocks(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]blockOut, 0, len(es))
	for _, e := range es {
		out = append(out, toBlockOut(e))
	}
	writeJSON(w, http.StatusOK, out)
}

// addBlock reads {"kind": "email"|"device", "value": "...", "reason": "..."}.
func (h *handler) addBlock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind   string `json:"kind"`
		Value  string `json:"value"`
		Reason string `json:"reason"`
	}
	if err := h.readJSONObject(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	e, err := h.svc.AddBlock(r.Context(), requests.BlockKind(in.Kind), in.Value, in.Reason, actor(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toBlockOut(e))
}

func (h *handler) removeBlock(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		id = 0 // not a number: no such entry
	}
	if err := h.svc.RemoveBlock(r.Context(), id); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// blockedOut is a stopped submission: "blocked" is always true, so a
// client merging it with requests can tell it apart.
type blockedOut struct {
	ServiceRequestID string    `json:"service_request_id"`
	Blocked          bool      `json:"blocked"`
	Kind             string    `json:"blocked_by_kind"`
	Value            string    `json:"blocked_by_value"`
	EntryID          int64     `json:"block_id"`
	ServiceCode      string    `json:"service_code"`
	Description      string    `json:"description"`
	Address          string    `json:"address"`
	Lat              float64   `json:"lat"`
	Long             float64   `json:"long"`
	WardID           string    `json:"ward_id"`
	Department       string    `json:"department"`
	Email            string    `json:"email"`
	DeviceID         string    `json:"device_id"`
	ReceivedAt       time.Time `json:"received_at"`
}

func (h *handler) listBlocked(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	bs, err := h.svc.Blocked(r.Context(), limit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]blockedOut, 0, len(bs))
	for _, b := range bs {
		out = append(out, blockedOut{ServiceRequestID: b.ServiceRequestID, Blocked: true, Kind: string(b.Kind), Value: b.Value,
			EntryID: b.EntryID, ServiceCode: b.ServiceCode, Description: b.Description, Address: b.Address,
			Lat: b.Point[1], Long: b.Point[0], WardID: b.WardID, Department: b.Department, Email: b.Email,
			DeviceID: b.DeviceID, ReceivedAt: b.ReceivedAt.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
}

// readJSONObject reads a JSON object body into v, refusing another
// Content-Type, a field v does not have and anything after the object.
func (h *handler) readJSONObject(w http.ResponseWriter, r *http.Request, v any) error {
	raw, err := io.ReadAll(limitBody(w, r, h.maxBody))
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return i18n.Errorf(kindUnsupportedMedia, "Content-Type", i18n.T("%q is not a body this route reads; send application/json",
			"%q n'est pas un corps que cette route lit; envoyez application/json"), clip(r.Header.Get("Content-Type")))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errMalformed("JSON", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errMalformed("JSON", errors.New("more after the object"))
	}
	return nil
}
