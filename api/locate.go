package api

import (
	"net/http"

	"github.com/pinward/pinward/i18n"
)

// locateResult is the answer of GET /api/v1/locate: what the resident page
// shows before a request is submitted.
type locateResult struct {
	Lat    float64        `json:"lat"`
	Long   float64        `json:"long"`
	Ward   *locateWard    `json:"ward"`
	Asset  *locateAsset   `json:"asset"`  // null: no asset of the category within its radius
	Nearby []nearbyRecord `json:"nearby"` // open clusters of the same issue, nearest first
	// Joins is the cluster a request submitted here now would join; ""
	// when it would start its own.
	Joins string `json:"joins"`
}

type locateWard struct {
	ID     string `json:"id"`
	Name   string `json:"name"` // in the request's language
	NameEn string `json:"name_en"`
	NameFr string `json:"name_fr"`
}

type locateAsset struct {
	ID        string  `json:"id"`
	Layer     string  `json:"layer"`
	DistanceM float64 `json:"distance_m"`
}

type nearbyRecord struct {
	ClusterID   string  `json:"cluster_id"`
	ServiceCode string  `json:"service_code"`
	ServiceName string  `json:"service_name"`
	Status      string  `json:"status"`
	StatusLabel string  `json:"status_label"`
	Description string  `json:"description"`
	Lat         float64 `json:"lat"`
	Long        float64 `json:"long"`
	DistanceM   float64 `json:"distance_m"`
	Count       int     `json:"count"`
}

// locate answers GET /api/v1/locate?lat=&long=&service_code=&locale=:
// the ward of a point (or the "outside" error), the nearest asset of the
// category's layers and the open clusters nearby. Public, like Open311's
// GET requests: it reveals nothing a request list does not.
func (h *handler) locate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := point(q.Get("lat"), q.Get("long"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if p == nil {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "lat", i18n.T("lat and long are required", "lat et long sont obligatoires")))
		return
	}
	loc, err := h.svc.Locate(r.Context(), *p, q.Get("service_code"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	lang := langOf(r)
	out := locateResult{Lat: loc.Point[1], Long: loc.Point[0], Nearby: []nearbyRecord{}, Joins: loc.Joins}
	if wd := loc.Ward; wd != nil {
		out.Ward = &locateWard{ID: wd.ID, Name: wd.Name.In(lang), NameEn: wd.Name.En, NameFr: wd.Name.Fr}
	}
	if loc.AssetID != "" {
		out.Asset = &locateAsset{ID: loc.AssetID, Layer: loc.AssetLayer, DistanceM: loc.AssetDistanceM}
	}
	for _, c := range loc.Nearby {
		name := c.ServiceCode
		if cat, ok := h.svc.Catalog().Category(c.ServiceCode); ok {
			name = cat.Name.In(lang)
		}
		out.Nearby = append(out.Nearby, nearbyRecord{
			ClusterID: c.ClusterID, ServiceCode: c.ServiceCode, ServiceName: name,
			Status: string(c.Status), StatusLabel: c.Status.Label().In(lang), Description: c.Description,
			Lat: c.Point[1], Long: c.Point[0], DistanceM: c.DistanceM, Count: c.Count,
		})
	}
	// Nearby requests change with every submission: a short private cache.
	w.Header().Set("Cache-Control", "private, max-age=5")
	writeJSON(w, http.StatusOK, out)
}
