package api

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// Two Open311 documents beside GeoReport v2's core (public, no key):
//
//	GET /open311/v2/servicerequestupdates.{json,xml}   the public notes staff wrote on requests, as
//	                                                    FixMyStreet and other Open311 servers list them:
//	                                                    start_date, end_date, service_request_id, page, page_size
//	GET /open311/v2/discovery.{json,xml}               where this endpoint is and what it speaks, as the spec says

// requestUpdate is one public note on a request. media_url is always
// empty: staff notes carry no photo, but clients expect the field.
type requestUpdate struct {
	XMLName          xml.Name `json:"-" xml:"request_update"`
	UpdateID         string   `json:"update_id" xml:"update_id"`
	ServiceRequestID string   `json:"service_request_id" xml:"service_request_id"`
	Status           string   `json:"status" xml:"status"`
	UpdatedDatetime  string   `json:"updated_datetime" xml:"updated_datetime"`
	Description      string   `json:"description" xml:"description"`
	MediaURL         string   `json:"media_url" xml:"media_url"`
}

type xmlRequestUpdates struct {
	XMLName xml.Name        `xml:"service_request_updates"`
	Updates []requestUpdate `xml:"request_update"`
}

// mountUpdates mounts both routes in r, among the public ones.
func (h *handler) mountUpdates(r chi.Router) {
	r.Get("/open311/v2/servicerequestupdates.{format}", h.listUpdates)
	r.Get("/open311/v2/discovery.{format}", h.discovery)
}

// listUpdates lists public notes oldest first. The window is the one GET
// requests uses (period): the last DefaultWindow when no date is given,
// except for named requests, whose whole public history is listed.
func (h *handler) listUpdates(w http.ResponseWriter, r *http.Request) {
	if !h.start(w, r) {
		return
	}
	q := r.URL.Query()
	var page requests.Filter
	if err := h.page(q.Get("page"), q.Get("page_size"), &page); err != nil {
		h.writeError(w, r, err)
		return
	}
	f := requests.UpdateFilter{ServiceRequestIDs: splitList(q.Get("service_request_id")), Limit: page.Limit, Offset: page.Offset}
	var err error
	if f.Start, f.End, err = h.period(q); err != nil {
		h.writeError(w, r, err)
		return
	}
	if len(f.ServiceRequestIDs) > 0 && q.Get("start_date") == "" && q.Get("end_date") == "" {
		f.Start = time.Time{} // no default window for named requests
	}
	evs, err := h.svc.PublicUpdates(r.Context(), f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	lang, loc := langOf(r), h.svc.Catalog().Location()
	out := make([]requestUpdate, len(evs))
	for i, e := range evs {
		// The note as the public history shows it (Event.PublicNote).
		out[i] = requestUpdate{UpdateID: strconv.FormatInt(e.ID, 10), ServiceRequestID: e.ServiceRequestID(),
			Status: e.To.Open311(), UpdatedDatetime: fmtTime(e.At, loc), Description: e.PublicNote(lang)}
	}
	write(w, r, http.StatusOK, out, xmlRequestUpdates{Updates: out})
}

// DiscoveryChangeset is when the Open311 surface last changed (the
// discovery document's changeset): bump it with the API.
const DiscoveryChangeset = "2026-12-06T00:00:00Z"

// The discovery document, as the GeoReport v2 spec gives it.
type discoveryDoc struct {
	XMLName    xml.Name            `json:"-" xml:"discovery"`
	Changeset  string              `json:"changeset" xml:"changeset"`
	Contact    string              `json:"contact" xml:"contact"`
	KeyService string              `json:"key_service" xml:"key_service"`
	Endpoints  []discoveryEndpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

type discoveryEndpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

// discovery tells a client where the GeoReport v2 endpoint is (the
// public URL, else the host it was asked on) and whom to ask for a key:
// the municipality named in the catalog's mail section.
func (h *handler) discovery(w http.ResponseWriter, r *http.Request) {
	if !h.start(w, r) {
		return
	}
	lang := langOf(r)
	m := h.svc.Catalog().Mail()
	name := i18n.T(m.NameEn, m.NameFr).In(lang)
	addr := m.ReplyTo
	if addr == "" {
		addr = m.From
	}
	contact := name
	if addr != "" {
		contact = strings.TrimPrefix(name+" <"+addr+">", " ")
	}
	doc := discoveryDoc{
		Changeset: DiscoveryChangeset,
		Contact:   contact,
		KeyService: i18n.T("API keys are issued by the municipality's administrators (pinward keys).",
			"Les clés d'API sont délivrées par les administrateurs de la municipalité (pinward keys).").In(lang),
		Endpoints: []discoveryEndpoint{{
			Specification: "http://wiki.open311.org/GeoReport_v2",
			URL:           h.absURL(r, "/open311/v2"),
			Changeset:     DiscoveryChangeset,
			Type:          "production",
			Formats:       []string{"application/json", "text/xml"},
		}},
	}
	if contact != "" {
		doc.KeyService += " " + i18n.Textf(i18n.T("Write to %s.", "Écrivez à %s."), contact).In(lang)
	}
	write(w, r, http.StatusOK, doc, doc)
}
