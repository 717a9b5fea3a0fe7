package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/geojsonio"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// DefaultMaxAssetBody is the body limit of an asset upsert when
// AssetAPI.MaxBody is zero: about 200,000 point features.
const DefaultMaxAssetBody = 64 << 20

// AssetAPI configures the integrators' asset sync API under
// /api/v1/assets. A nil Store leaves it unmounted.
type AssetAPI struct {
	Store requests.AssetStore
	// Synced, when set, catches this server's assets.Index up with the
	// store; it is called after each write so the server answers from the
	// new assets before the write's response is sent. Other servers follow
	// through the change feed.
	Synced func(context.Context) error
	// Layers are accepted by PUT besides the catalog's asset layers and the
	// layers already stored.
	Layers  []string
	MaxBody int64 // bytes; DefaultMaxAssetBody when zero
}

type assetAPI struct {
	*handler
	cfg AssetAPI
}

// upsertResult is the answer to a successful PUT.
type upsertResult struct {
	Layer          string `json:"layer"`
	Received       int    `json:"received"`
	Applied        int    `json:"applied"`
	Unchanged      int    `json:"unchanged"`
	DefaultVersion int64  `json:"default_version"`
	Cursor         string `json:"cursor,omitempty"`
}

func (a *assetAPI) upsert(w http.ResponseWriter, r *http.Request) {
	layer := chi.URLParam(r, "layer")
	if err := a.knownLayer(r.Context(), layer); err != nil {
		a.writeError(w, r, err)
		return
	}
	now := a.now().UTC().Truncate(time.Microsecond)
	body := limitBody(w, r, a.cfg.MaxBody)
	batch, lines, err := readFeatures(r.Header.Get("Content-Type"), body, layer, now.UnixMicro())
	if err != nil {
		a.writeAssetError(w, r, err, lines)
		return
	}
	if len(batch) == 0 {
		a.writeError(w, r, i18n.Errorf(i18n.Invalid, "features", i18n.T("the body holds no feature", "le corps ne contient aucune entité")))
		return
	}
	res, err := a.cfg.Store.UpsertAssets(r.Context(), requests.AssetUpsert{Tenant: a.svc.Tenant(), Assets: batch, At: now})
	if err != nil {
		a.writeAssetError(w, r, err, lines)
		return
	}
	a.log.InfoContext(r.Context(), "assets upserted", "layer", layer, "received", len(batch), "applied", res.Applied,
		"unchanged", res.Unchanged, "actor", actor(r))
	a.sync(r.Context())
	out := upsertResult{Layer: layer, Received: len(batch), Applied: res.Applied, Unchanged: res.Unchanged, DefaultVersion: now.UnixMicro()}
	if res.Cursor > 0 {
		out.Cursor = formatCursor(res.Cursor)
	}
	writeJSON(w, http.StatusOK, out)
}

// sync catches this server's index up after a write; a failure is logged
// only, as the write is committed and the follower retries.
func (a *assetAPI) sync(ctx context.Context) {
	if a.cfg.Synced == nil {
		return
	}
	if err := a.cfg.Synced(context.WithoutCancel(ctx)); err != nil {
		a.log.WarnContext(ctx, "asset index catch-up after a write", "err", err)
	}
}

// knownLayer accepts the catalog's asset layers, AssetAPI.Layers and the
// layers already stored (created by `pinward assets import`): a typo in a
// URL must not start a new layer that no category snaps to.
func (a *assetAPI) knownLayer(ctx context.Context, layer string) error {
	if err := requests.ValidateLayerName(layer); err != nil {
		return err
	}
	known := slices.Clone(a.cfg.Layers)
	for _, c := range a.svc.Catalog().Categories() {
		known = append(known, c.AssetLayers...)
	}
	if slices.Contains(known, layer) {
		return nil
	}
	stored, err := a.cfg.Store.AssetLayers(ctx, a.svc.Tenant())
	if err != nil {
		return err
	}
	if slices.Contains(stored, layer) {
		return nil
	}
	known = append(known, stored...)
	slices.Sort(known)
	known = slices.Compact(known)
	return i18n.Errorf(i18n.NotFound, "layer", i18n.T(
		"there is no asset layer %q; known layers: %s (a new layer is created with pinward assets import)",
		"il n'y a pas de couche d'actifs %q; couches connues : %s (une nouvelle couche se crée avec pinward assets import)"),
		layer, strings.Join(known, ", "))
}

type retireResult struct {
	Layer          string   `json:"layer"`
	ID             string   `json:"id"`
	Retired        bool     `json:"retired"`
	AlreadyRetired bool     `json:"already_retired"`
	Cursor         string   `json:"cursor,omitempty"`
	Flagged        []string `json:"flagged_requests"`
}

func (a *assetAPI) retire(w http.ResponseWriter, r *http.Request) {
	layer, id := pathParam(r, "layer"), pathParam(r, "id")
	res, err := a.cfg.Store.RetireAsset(r.Context(), requests.AssetRetire{
		Tenant: a.svc.Tenant(), Layer: layer, ID: id, Actor: actor(r),
		At: a.now().UTC().Truncate(time.Microsecond),
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.sync(r.Context())
	out := retireResult{Layer: layer, ID: id, Retired: true, AlreadyRetired: res.AlreadyRetired, Flagged: res.Flagged}
	if out.Flagged == nil {
		out.Flagged = []string{}
	}
	if res.Cursor > 0 {
		out.Cursor = formatCursor(res.Cursor)
	}
	writeJSON(w, http.StatusOK, out)
}

// pathParam is a path parameter unescaped: an external ID may hold any
// character, "/" included (sent as %2F).
func pathParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if r.URL.RawPath != "" { // chi matched the escaped path
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// changeOut is one change of the feed.
type changeOut struct {
	Cursor     string            `json:"cursor"`
	Op         string            `json:"op"`
	Layer      string            `json:"layer"`
	ID         string            `json:"id"`
	Version    int64             `json:"version"`
	Lon        float64           `json:"lon"`
	Lat        float64           `json:"lat"`
	Attributes map[string]string `json:"attributes,omitempty"`
	At         time.Time         `json:"at"`
}

type changesOut struct {
	Changes []changeOut `json:"changes"`
	Next    string      `json:"next"`
	More    bool        `json:"more"`
}

// defaultChangesLimit is the page size of the change feed when limit is
// not given.
const defaultChangesLimit = 1000

func (a *assetAPI) changes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := parseCursor(q.Get("since"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	limit := defaultChangesLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > requests.MaxAssetChanges {
			a.writeError(w, r, i18n.Errorf(i18n.Invalid, "limit", i18n.T("must be a whole number from 1 to %d",
				"doit être un nombre entier de 1 à %d"), requests.MaxAssetChanges))
			return
		}
		limit = n
	}
	// One more than asked tells whether there is more.
	cs, err := a.cfg.Store.AssetChanges(r.Context(), a.svc.Tenant(), since, min(limit+1, requests.MaxAssetChanges))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := changesOut{Changes: []changeOut{}, Next: formatCursor(since)}
	if len(cs) > limit {
		cs, out.More = cs[:limit], true
	}
	for _, c := range cs {
		out.Changes = append(out.Changes, changeOut{
			Cursor: formatCursor(c.Seq), Op: string(c.Op), Layer: c.Asset.Layer, ID: c.Asset.ID, Version: c.Asset.Version,
			Lon: c.Asset.Point[0], Lat: c.Asset.Point[1], Attributes: c.Asset.Attrs, At: c.At,
		})
		out.Next = formatCursor(c.Seq)
	}
	writeJSON(w, http.StatusOK, out)
}

// Cursors are opaque to clients: today the feed's sequence number in base
// 36 behind a "c", so no one mistakes it for a count or a time.
func formatCursor(seq int64) string { return "c" + strconv.FormatInt(seq, 36) }

func parseCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if rest, ok := strings.CutPrefix(s, "c"); ok {
		if n, err := strconv.ParseInt(rest, 36, 64); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, i18n.Errorf(i18n.Invalid, "since", i18n.T("%q is not a cursor of this feed; give the next value of a previous page, or nothing to start from the beginning",
		"%q n'est pas un curseur de ce flux; donnez la valeur next d'une page précédente, ou rien pour partir du début"), clip(s))
}

type flaggedOut struct {
	ServiceRequestID string `json:"service_request_id"`
	ServiceCode      string `json:"service_code"`
	Status           string `json:"status"`
	AssetLayer       string `json:"asset_layer"`
	AssetID          string `json:"asset_id"`
	ClusterID        string `json:"cluster_id"`
	RequestedAt      string `json:"requested_datetime"`
}

// retiredOpen lists for staff the requests that are not closed and name an
// asset the asset-management system retired.
func (a *assetAPI) retiredOpen(w http.ResponseWriter, r *http.Request) {
	ids, err := a.cfg.Store.RetiredAssetRequests(r.Context(), a.svc.Tenant())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := []flaggedOut{}
	if len(ids) > 0 {
		list, err := a.svc.List(r.Context(), requests.Filter{ServiceRequestIDs: ids, Limit: requests.MaxListLimit})
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		for _, q := range list {
			out = append(out, flaggedOut{ServiceRequestID: q.ServiceRequestID, ServiceCode: q.ServiceCode, Status: string(q.Status),
				AssetLayer: q.AssetLayer, AssetID: q.AssetID, ClusterID: q.ClusterID, RequestedAt: q.RequestedAt.Format(time.RFC3339)})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

// featureErrorOut is one refused feature in a 4xx body.
type featureErrorOut struct {
	Index         int    `json:"index"`          // position in the body, from 0
	Line          int    `json:"line,omitempty"` // NDJSON line
	Layer         string `json:"layer,omitempty"`
	ID            string `json:"id,omitempty"`
	Kind          string `json:"kind"`
	Field         string `json:"field,omitempty"`
	Description   string `json:"description"`
	DescriptionEn string `json:"description_en"`
	DescriptionFr string `json:"description_fr"`
}

type batchErrorOut struct {
	errorBody
	Refused  int               `json:"features_refused"`
	Features []featureErrorOut `json:"features"`
}

// writeAssetError answers a batch error with the per-feature list, and any
// other error as usual. lines maps feature index to NDJSON line.
func (a *assetAPI) writeAssetError(w http.ResponseWriter, r *http.Request, err error, lines []int) {
	var be *requests.AssetBatchError
	if !errors.As(err, &be) {
		a.writeError(w, r, err)
		return
	}
	lang := langOf(r)
	status := Status(be.Summary.Kind)
	out := batchErrorOut{
		errorBody: errorBody{Code: status, Description: be.Summary.Message.In(lang), Kind: string(be.Summary.Kind),
			Field: be.Summary.Field, DescriptionEn: be.Summary.Message.En, DescriptionFr: be.Summary.Message.Fr},
		Refused: be.Total,
	}
	for _, f := range be.Features {
		fo := featureErrorOut{Index: f.Index, Layer: f.Layer, ID: f.ID, Kind: string(f.Err.Kind), Field: f.Err.Field,
			Description: f.Err.Message.In(lang), DescriptionEn: f.Err.Message.En, DescriptionFr: f.Err.Message.Fr}
		if f.Index < len(lines) {
			fo.Line = lines[f.Index]
		}
		out.Features = append(out.Features, fo)
	}
	writeJSON(w, status, []batchErrorOut{out})
}

// readFeatures reads a FeatureCollection (application/geo+json or
// application/json) or one Feature per line (application/x-ndjson) into
// assets of layer. A feature's ID is its "id" member, else its "id"
// property; its version its "version" property (a whole number), else
// defaultVersion; its other properties become attributes. Every feature
// is checked; when any is refused the error is an *AssetBatchError listing
// them (all or nothing). lines gives each feature's NDJSON line.
func readFeatures(contentType string, body io.Reader, layer string, defaultVersion int64) (batch []assets.Asset, lines []int, err error) {
	mt, _, perr := mime.ParseMediaType(contentType)
	if perr != nil && contentType != "" {
		mt = "?"
	}
	be := requests.NewAssetBatchError(i18n.Invalid)
	add := func(raw []byte, line int) {
		i := len(batch)
		a, ferr := featureAsset(raw, layer, defaultVersion)
		batch, lines = append(batch, a), append(lines, line)
		if ferr != nil {
			be.Add(requests.AssetFeatureError{Index: i, Layer: layer, ID: a.ID, Err: ferr})
		}
	}
	switch mt {
	case "application/geo+json", "application/json":
		err := geojsonio.Read(body, geojsonio.Options{Name: i18n.T("the body", "le corps")}, func(raw geojsonio.Raw) error {
			add(raw.JSON, 0)
			return nil
		})
		if err != nil {
			return nil, nil, bodyError(err)
		}
	case "application/x-ndjson", "application/geo+json-seq":
		br := bufio.NewReader(body)
		for line := 1; ; line++ {
			b, err := br.ReadBytes('\n')
			if t := bytes.TrimSpace(bytes.TrimPrefix(b, []byte{0x1e})); len(t) > 0 { // RS of geo+json-seq
				add(t, line)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, err
			}
		}
	default:
		return nil, nil, i18n.Errorf(kindUnsupportedMedia, "Content-Type", i18n.T(
			"%q is not an asset body pinward reads; send application/geo+json (a FeatureCollection) or application/x-ndjson (one Feature per line)",
			"%q n'est pas un corps d'actifs que pinward lit; envoyez application/geo+json (une FeatureCollection) ou application/x-ndjson (une Feature par ligne)"),
			clip(contentType))
	}
	if err := be.Finish(); err != nil {
		return nil, lines, err
	}
	if err := requests.CheckAssetBatch(batch); err != nil {
		return nil, lines, err
	}
	return batch, lines, nil
}

// bodyError is a GeoJSON body that cannot be read: a body cut by the
// size limit keeps its *http.MaxBytesError, which writeError answers with
// 413; one that is not JSON is malformed; others say why in both languages.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return mbe
	}
	var se *geojsonio.SyntaxError
	if errors.As(err, &se) {
		return errMalformed("GeoJSON", se)
	}
	return err
}

// featureAsset turns one GeoJSON Feature into an asset of layer, or says
// in both languages why it cannot be one.
func featureAsset(raw []byte, layer string, defaultVersion int64) (assets.Asset, *i18n.Error) {
	a := assets.Asset{Layer: layer, Version: defaultVersion}
	f, err := geojsonio.Decode(geojsonio.Raw{JSON: raw})
	if err != nil {
		return a, err
	}
	id, ok, _ := geojsonio.Scalar(f.ID)
	idProp := !ok
	if idProp {
		id, ok, _ = f.Text("id")
	}
	a.ID = strings.TrimSpace(id)
	if !ok || a.ID == "" {
		return a, i18n.Errorf(i18n.Invalid, "id", i18n.T(`the feature has no ID: give an "id" member or an "id" property (a string or a number)`,
			`l'entité n'a pas d'ID : donnez un membre "id" ou une propriété "id" (une chaîne ou un nombre)`))
	}
	if v, ok := f.Properties["version"]; ok {
		s, isScalar, _ := geojsonio.Scalar(v)
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if !isScalar || err != nil || n < 1 {
			return a, i18n.Errorf(i18n.Invalid, "version", i18n.T("asset %s: version %s is not a whole number of 1 or more",
				"actif %s : la version %s n'est pas un nombre entier de 1 ou plus"), clip(a.ID), clip(string(v)))
		}
		a.Version = n
	}
	p, perr := f.Point()
	if perr != nil {
		perr.Message = i18n.Text{En: "asset " + clip(a.ID) + ": " + perr.Message.En, Fr: "actif " + clip(a.ID) + " : " + perr.Message.Fr}
		return a, perr
	}
	a.Point = p
	skip := []string{"version"}
	if idProp {
		skip = append(skip, "id")
	}
	a.Attrs = f.Attrs(skip...)
	return a, nil
}
