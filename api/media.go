package api

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/photo"
	"github.com/pinward/pinward/requests"
)

// Photos (issue 15): up to photo.MaxPerRequest files in the multipart
// field "media" of Open311's POST requests, as FixMyStreet's and
// SeeClickFix's clients send them. readMultipart reads them raw (bounded);
// postRequest processes them (package photo) only after the key is
// authenticated and the limits passed, so an anonymous client cannot make
// the server decode images.

// mountMedia mounts the public photo route on r and the staff routes on
// staff.
func (h *handler) mountMedia(r, staff chi.Router) {
	r.Get("/media/{file}", h.getMedia)
	staff.Get("/api/v1/requests/{id}/media", h.listMedia)
	staff.Post("/api/v1/media/{id}/approve", h.moderateMedia(requests.MediaApproved))
	staff.Post("/api/v1/media/{id}/hide", h.moderateMedia(requests.MediaHidden))
}

// bodyLimit is the most a request body may hold: a multipart submission
// also carries its photos.
func (h *handler) bodyLimit(r *http.Request) int64 {
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/") {
		return h.maxBody + photo.MaxPerRequest*h.photos.MaxBytes + 64<<10
	}
	return h.maxBody
}

// readMultipart reads a multipart/form-data body part by part, without
// temporary files: the form's fields (at most maxBody bytes in all, with
// the query's) and the raw bytes of each "media" file (each bounded by
// photo.Limits.MaxBytes, at most photo.MaxPerRequest of them).
func (h *handler) readMultipart(r *http.Request) (url.Values, [][]byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, errMalformed("form", err)
	}
	form := r.URL.Query()
	var (
		photos [][]byte
		count  int
		fields int64
	)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, multipartError(err)
		}
		name := p.FormName()
		if name == photo.Field {
			if p.FileName() == "" {
				// An empty file input sends an empty part without a name.
				b, err := io.ReadAll(io.LimitReader(p, 1))
				if err != nil {
					return nil, nil, multipartError(err)
				}
				if len(b) == 0 {
					continue
				}
			}
			count++
			if count > photo.MaxPerRequest {
				// Counted to the end (the body limit bounds it), so the
				// message says how many were sent.
				if _, err := io.Copy(io.Discard, p); err != nil {
					return nil, nil, multipartError(err)
				}
				continue
			}
			b, err := h.photos.Read(p)
			if err != nil {
				return nil, nil, multipartError(err)
			}
			photos = append(photos, b)
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, h.maxBody-fields+1))
		if err != nil {
			return nil, nil, multipartError(err)
		}
		if fields += int64(len(b)); fields > h.maxBody {
			return nil, nil, i18n.Errorf(i18n.TooLarge, "", i18n.T("the form's fields are larger than the limit of %d bytes",
				"les champs du formulaire dépassent la limite de %d octets"), h.maxBody)
		}
		if p.FileName() == "" {
			form.Add(name, string(b))
		}
	}
	if err := photo.CheckCount(count); err != nil {
		return nil, nil, err
	}
	return form, photos, nil
}

// multipartError keeps the body limit's and the photo limits' errors, and
// calls anything else a malformed form.
func multipartError(err error) error {
	var mbe *http.MaxBytesError
	var ie *i18n.Error
	if errors.As(err, &mbe) || errors.As(err, &ie) {
		return err
	}
	return errMalformed("form", err)
}

// processPhotos turns the uploaded files into public photos. Decoding is
// bounded to a few at a time across the server: each needs tens of MB.
func (h *handler) processPhotos(r *http.Request, raw [][]byte) ([]requests.Photo, error) {
	out := make([]requests.Photo, 0, len(raw))
	for _, b := range raw {
		select {
		case h.decoding <- struct{}{}:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		p, err := h.photos.Process(b)
		<-h.decoding
		if err != nil {
			return nil, err
		}
		out = append(out, requests.Photo{JPEG: p.JPEG, Thumb: p.Thumb, Width: p.Width, Height: p.Height})
	}
	return out, nil
}

// getMedia serves /media/{id}.jpg and /media/{id}_thumb.jpg: to everyone
// once approved; to a staff key (header or api_key) at once.
func (h *handler) getMedia(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(chi.URLParam(r, "file"), ".jpg")
	if !ok {
		h.writeError(w, r, requests.MediaNotFoundError())
		return
	}
	id, thumb := strings.CutSuffix(name, "_thumb")
	staff := false
	ctx := r.Context()
	if r.Header.Get("X-Api-Key") != "" || r.URL.Query().Get("api_key") != "" {
		k, err := h.authenticate(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		staff = slices.Contains(staffers, k.Role)
		if k.Role == requests.RoleStaff {
			ctx = requests.WithScope(ctx, k.Scope) // a scoped key sees others' photos as the public does
		}
	}
	m, err := h.svc.Photo(ctx, id, thumb, staff)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", photo.ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(m.Data)))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Del("Vary")
	if m.State == requests.MediaApproved && !staff {
		// Short: a photo hidden later must not stay in caches for long.
		hd.Set("Cache-Control", "public, max-age=300")
	} else {
		hd.Set("Cache-Control", "private, no-store")
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(m.Data)
	}
}

// mediaOut is a photo as the staff API lists it.
type mediaOut struct {
	ID               string    `json:"id"`
	ServiceRequestID string    `json:"service_request_id"`
	State            string    `json:"state"`
	URL              string    `json:"url"`
	ThumbURL         string    `json:"thumb_url"`
	Width            int       `json:"width"`
	Height           int       `json:"height"`
	CreatedAt        time.Time `json:"created_at"`
}

func outMedia(m requests.Media) mediaOut {
	return mediaOut{ID: m.ID, ServiceRequestID: m.ServiceRequestID, State: string(m.State),
		URL: requests.MediaPath(m.ID), ThumbURL: requests.MediaThumbPath(m.ID),
		Width: m.Width, Height: m.Height, CreatedAt: m.CreatedAt.UTC()}
}

func (h *handler) listMedia(w http.ResponseWriter, r *http.Request) {
	ms, err := h.svc.Photos(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]mediaOut, 0, len(ms))
	for _, m := range ms {
		out = append(out, outMedia(m))
	}
	writeJSON(w, http.StatusOK, out)
}

// moderateMedia approves or hides a photo; the body may give a reason
// ({"reason": "..."}), kept in the event with the staff key.
func (h *handler) moderateMedia(state requests.MediaState) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in, err := h.readClusterBody(w, r, "reason")
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		reason := ""
		if in.Reason != nil {
			reason = *in.Reason
		}
		m, err := h.svc.ModeratePhoto(r.Context(), chi.URLParam(r, "id"), state, actor(r), reason)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, outMedia(m))
	}
}

// absURL makes a media_url pinward serves ("/media/...") absolute, as
// Open311 clients expect: on Config.PublicURL, else on the request's host.
func (h *handler) absURL(r *http.Request, u string) string {
	if !strings.HasPrefix(u, "/") {
		return u
	}
	if h.publicURL != "" {
		return h.publicURL + u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + u
}
