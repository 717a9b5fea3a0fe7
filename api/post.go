package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// readPost is the first middleware of Open311's POST requests: the
// spec puts api_key in the body, so the body is read (a form or, as an
// extension, a JSON object with the same field names) and its envelope
// checked before require authenticates the key found in it. Every refusal
// happens before Service.Submit stores anything.
func (h *handler) readPost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.start(w, r) {
			return
		}
		limitBody(w, r, h.bodyLimit(r))
		in, err := h.readSubmission(r)
		if err == nil {
			err = in.applyNotify()
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if in.locale != "" {
			infoOf(r).lang = i18n.Negotiate(in.locale, r.Header.Get("Accept-Language"))
		}
		if in.jurisdiction != "" && in.jurisdiction != h.jurisdiction {
			h.writeError(w, r, errJurisdiction(in.jurisdiction))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), submissionCtxKey{}, &in)))
	})
}

type submissionCtxKey struct{}

// postRequest is Open311 POST requests, behind readPost and require.
func (h *handler) postRequest(w http.ResponseWriter, r *http.Request) {
	in, _ := r.Context().Value(submissionCtxKey{}).(*submission)
	if in == nil {
		h.writeError(w, r, &i18n.Error{Kind: i18n.Internal, Err: errors.New("postRequest mounted without readPost")})
		return
	}
	sub := in.sub
	// The resident's language, kept for their messages: the page's (its
	// locale), else the locale or Accept-Language, else the catalog's
	// default (the Service's, for "").
	sub.Lang = statedLang(in.locale, r.Header.Get("Accept-Language"))
	sub.IdempotencyKey = r.Header.Get("Idempotency-Key")
	sub.APIKeyID = keyOf(r).ID
	sub.Actor = actor(r)
	if sub.IdempotencyKey != "" {
		scoped := requests.ScopedIdempotencyKey(sub.APIKeyID, sub.IdempotencyKey)
		if !h.inFlight.begin(scoped) {
			w.Header().Set("Retry-After", "1")
			h.writeError(w, r, requests.IdempotencyInFlightError())
			return
		}
		defer h.inFlight.end(scoped)
	}
	photos, err := h.processPhotos(r, in.photos)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	sub.Photos = photos
	req, err := h.svc.Submit(r.Context(), sub)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ext := "json"
	if formatOf(r) == formatXML {
		ext = "xml"
	}
	w.Header().Set("Location", "/open311/v2/requests/"+req.ServiceRequestID+"."+ext)
	writeRecords(w, r, http.StatusCreated, []created{{
		ServiceRequestID: req.ServiceRequestID,
		Token:            req.Token,
		ServiceNotice:    notice(req).In(langOf(r)),
		WardID:           req.WardID,
		ClusterID:        req.ClusterID,
	}})
}

// submission is a POST body read into the Service's terms, plus the fields
// the API itself uses.
type submission struct {
	sub          requests.Submission
	apiKey       string
	jurisdiction string
	locale       string
	notify       string   // "false" (or 0, no, off) opts out of messages
	photos       [][]byte // raw uploads of the multipart field "media"
}

func (h *handler) readSubmission(r *http.Request) (submission, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil && ct != "" {
		return submission{}, errUnsupportedMedia(ct)
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return submission{}, errMalformed("form", err)
		}
		if err := checkForm(r.Form); err != nil {
			return submission{}, err
		}
		return formSubmission(r.Form)
	case "multipart/form-data":
		// Photos come as files of the field "media" (see media.go).
		form, photos, err := h.readMultipart(r)
		if err != nil {
			return submission{}, err
		}
		if err := checkForm(form); err != nil {
			return submission{}, err
		}
		s, err := formSubmission(form)
		s.photos = photos
		return s, err
	case "application/json":
		return jsonSubmission(r.Body)
	}
	return submission{}, errUnsupportedMedia(ct)
}

// formSubmission reads the spec's form fields. attribute[code] may repeat,
// or be written attribute[code][], for multivaluelist attributes.
func formSubmission(form url.Values) (submission, error) {
	s := submission{
		apiKey:       form.Get("api_key"),
		jurisdiction: form.Get("jurisdiction_id"),
		locale:       form.Get("locale"),
		notify:       form.Get("notify"),
		sub: requests.Submission{
			ServiceCode: form.Get("service_code"),
			Address:     form.Get("address_string"),
			Description: form.Get("description"),
			MediaURL:    form.Get("media_url"),
			Channel:     requests.Channel(form.Get("channel")),
			Reporter: requests.Reporter{
				FirstName: form.Get("first_name"),
				LastName:  form.Get("last_name"),
				Email:     form.Get("email"),
				Phone:     form.Get("phone"),
				DeviceID:  form.Get("device_id"),
			},
		},
	}
	p, err := point(form.Get("lat"), form.Get("long"))
	if err != nil {
		return s, err
	}
	s.sub.Point = p
	for k, vs := range form {
		code, ok := strings.CutPrefix(k, "attribute[")
		if !ok {
			continue
		}
		code = strings.TrimSuffix(code, "[]")
		code, ok = strings.CutSuffix(code, "]")
		if !ok || code == "" {
			return s, i18n.Errorf(i18n.Invalid, clip(k), i18n.T("is not an attribute field; write attribute[code]",
				"n'est pas un champ d'attribut; écrivez attribute[code]"))
		}
		if s.sub.Attributes == nil {
			s.sub.Attributes = map[string][]string{}
		}
		s.sub.Attributes[code] = append(s.sub.Attributes[code], vs...)
	}
	return s, nil
}

// point reads lat and long; both empty is no point (the Service says they
// are required). strconv reads "NaN" and "Inf", which the Service refuses
// with its own message.
func point(latS, longS string) (*orb.Point, error) {
	latS, longS = strings.TrimSpace(latS), strings.TrimSpace(longS)
	if latS == "" && longS == "" {
		return nil, nil
	}
	if latS == "" {
		return nil, i18n.Errorf(i18n.Invalid, "lat", i18n.T("is required with long", "est obligatoire avec long"))
	}
	if longS == "" {
		return nil, i18n.Errorf(i18n.Invalid, "long", i18n.T("is required with lat", "est obligatoire avec lat"))
	}
	lat, err := strconv.ParseFloat(latS, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, errNumber("lat", latS)
	}
	lon, err := strconv.ParseFloat(longS, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, errNumber("long", longS)
	}
	return &orb.Point{lon, lat}, nil
}

// jsonBody is the JSON extension of POST requests: the form's field names,
// lat and long as numbers or strings, attributes as an object.
type jsonBody struct {
	APIKey         string                     `json:"api_key"`
	JurisdictionID string                     `json:"jurisdiction_id"`
	Locale         string                     `json:"locale"`
	ServiceCode    string                     `json:"service_code"`
	Lat            json.RawMessage            `json:"lat"`
	Long           json.RawMessage            `json:"long"`
	AddressString  string                     `json:"address_string"`
	AddressID      string                     `json:"address_id"`
	Description    string                     `json:"description"`
	Attributes     map[string]json.RawMessage `json:"attributes"`
	Email          string                     `json:"email"`
	DeviceID       string                     `json:"device_id"`
	AccountID      string                     `json:"account_id"`
	FirstName      string                     `json:"first_name"`
	LastName       string                     `json:"last_name"`
	Phone          string                     `json:"phone"`
	MediaURL       string                     `json:"media_url"`
	Channel        string                     `json:"channel"` // extension: how it came in (default api)
	Notify         json.RawMessage            `json:"notify"`  // true or false (or a string, as in a form)
}

func jsonSubmission(body io.Reader) (submission, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields() // a misspelt field is an error, not a silent loss
	var b jsonBody
	if err := dec.Decode(&b); err != nil {
		return submission{}, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the JSON object")
		}
		return submission{}, jsonError(err)
	}
	s := submission{
		apiKey: b.APIKey, jurisdiction: b.JurisdictionID, locale: b.Locale, notify: strings.Trim(string(b.Notify), `"`),
		sub: requests.Submission{
			ServiceCode: b.ServiceCode,
			Address:     b.AddressString,
			Description: b.Description,
			MediaURL:    b.MediaURL,
			Channel:     requests.Channel(b.Channel),
			Reporter: requests.Reporter{
				FirstName: b.FirstName, LastName: b.LastName,
				Email: b.Email, Phone: b.Phone, DeviceID: b.DeviceID,
			},
		},
	}
	latS, err := jsonScalar("lat", b.Lat)
	if err != nil {
		return s, err
	}
	longS, err := jsonScalar("long", b.Long)
	if err != nil {
		return s, err
	}
	if s.sub.Point, err = point(latS, longS); err != nil {
		return s, err
	}
	for code, raw := range b.Attributes {
		field := "attribute[" + code + "]"
		var list []json.RawMessage
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
			if err := json.Unmarshal(raw, &list); err != nil {
				return s, jsonError(err)
			}
		} else {
			list = []json.RawMessage{raw}
		}
		if s.sub.Attributes == nil {
			s.sub.Attributes = map[string][]string{}
		}
		for _, v := range list {
			str, err := jsonScalar(field, v)
			if err != nil {
				return s, err
			}
			s.sub.Attributes[code] = append(s.sub.Attributes[code], str)
		}
	}
	return s, nil
}

// jsonScalar returns a JSON string, number or boolean as text; null and
// absent are "".
func jsonScalar(field string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", jsonError(err)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", i18n.Errorf(i18n.Invalid, field, i18n.T("must be a string or a number", "doit être une chaîne ou un nombre"))
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var ie *i18n.Error
	if errors.As(err, &mbe) || errors.As(err, &ie) {
		return err
	}
	e := i18n.Errorf(i18n.Invalid, "", i18n.T("the JSON body is malformed: %s", "le corps JSON est mal formé : %s"),
		strings.TrimPrefix(err.Error(), "json: "))
	e.Err = err
	return e
}

// inFlight are the Idempotency-Keys (scoped to their API key) of the
// submissions this server is processing: the same key again meanwhile is
// a 409, as the IETF draft says, rather than a second wait on the store.
// Across servers, the store's unique key still makes one request, and the
// later submission gets it back once the first committed.
type inFlight struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

func (f *inFlight) begin(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, busy := f.keys[key]; busy {
		return false
	}
	if f.keys == nil {
		f.keys = map[string]struct{}{}
	}
	f.keys[key] = struct{}{}
	return true
}

func (f *inFlight) end(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, key)
}
