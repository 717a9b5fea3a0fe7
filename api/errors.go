package api

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/ratelimit"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/text"
)

// Status returns the HTTP status for an error of kind k. This is the one
// place a kind becomes a status (ARCHITECTURE.md: "api alone maps").
//
// Outside the municipality is 400, not 422: Open311 clients know 400 as
// "fix your input", and the body's "kind":"outside" tells the cases apart
// for clients that care.
func Status(k i18n.Kind) int {
	switch k {
	case i18n.Invalid, i18n.Outside:
		return http.StatusBadRequest
	case i18n.NotFound:
		return http.StatusNotFound
	case requests.KindGone:
		return http.StatusGone
	case i18n.Conflict:
		return http.StatusConflict
	case requests.KindIdempotencyReused:
		return http.StatusUnprocessableEntity
	case i18n.Unauthorized:
		return http.StatusUnauthorized
	case i18n.Forbidden:
		return http.StatusForbidden
	case i18n.TooLarge:
		return http.StatusRequestEntityTooLarge
	case ratelimit.KindTooMany:
		return http.StatusTooManyRequests
	case kindUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case kindMethod:
		return http.StatusMethodNotAllowed
	case i18n.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// kindUnsupportedMedia is api's own kind for a body in a format it does not
// read; no layer below HTTP knows about content types.
const kindUnsupportedMedia i18n.Kind = "unsupported_media_type"

// kindMethod is api's own kind for a method a route does not take.
const kindMethod i18n.Kind = "method_not_allowed"

// errorBody is one error in the Open311 format ("code", "description"),
// with pinward's machine-readable, bilingual extension.
type errorBody struct {
	XMLName       xml.Name `json:"-" xml:"error"`
	Code          int      `json:"code" xml:"code"`
	Description   string   `json:"description" xml:"description"`
	Kind          string   `json:"kind" xml:"kind"`
	Field         string   `json:"field,omitempty" xml:"field,omitempty"`
	DescriptionEn string   `json:"description_en" xml:"description_en"`
	DescriptionFr string   `json:"description_fr" xml:"description_fr"`
}

type xmlErrors struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []errorBody `xml:"error"`
}

// writeError answers err in the Open311 error format of the request's
// format, in the request's language. Internal errors are logged with their
// cause and answered with the generic message only.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := i18n.KindOf(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		if lb, ok := r.Body.(*limitedBody); ok {
			defer lb.drain(w)
		}
		kind = i18n.TooLarge
		err = i18n.Errorf(i18n.TooLarge, "", i18n.T("the request body is larger than the limit of %d bytes",
			"le corps de la requête dépasse la limite de %d octets"), mbe.Limit)
	}
	status := Status(kind)
	if status == http.StatusInternalServerError && clientGone(r) {
		// Not a fault of pinward's: counted apart (nginx's 499) and
		// logged at debug, so a client hanging up raises no alarm.
		h.log.DebugContext(r.Context(), "client closed the request", "method", r.Method, "path", r.URL.Path, "err", err)
		w.WriteHeader(StatusClientClosed)
		return
	}
	if status == http.StatusInternalServerError {
		kind = i18n.Internal
		h.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	msg := i18n.MessageOf(err)
	// The last guard of "never echo a value whole": messages built by
	// hand, not through i18n.Errorf, are capped here.
	msg.En, msg.Fr = text.Clip(msg.En, maxMessage), text.Clip(msg.Fr, maxMessage)
	body := errorBody{
		Code:          status,
		Description:   msg.In(langOf(r)),
		Kind:          string(kind),
		DescriptionEn: msg.En,
		DescriptionFr: msg.Fr,
	}
	var e *i18n.Error
	if errors.As(err, &e) && kind != i18n.Internal {
		body.Field = e.Field
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `api_key realm="pinward"`)
	}
	if formatOf(r) == formatXML {
		writeXML(w, status, xmlErrors{Errors: []errorBody{body}})
		return
	}
	writeJSON(w, status, []errorBody{body})
}

// StatusClientClosed is the status recorded for a request whose client
// hung up before it was answered (nginx's 499); nobody receives it.
const StatusClientClosed = 499

// clientGone reports whether a failure happened after the client closed
// the request: net/http cancels its context then, and whatever the store
// was doing failed for that reason.
func clientGone(r *http.Request) bool { return errors.Is(r.Context().Err(), context.Canceled) }

// Errors api raises itself, worded once.

func errUnsupportedMedia(ct string) error {
	return i18n.Errorf(kindUnsupportedMedia, "Content-Type", i18n.T(
		"%q is not a body pinward reads; send application/x-www-form-urlencoded, multipart/form-data or application/json",
		"%q n'est pas un corps que pinward lit; envoyez application/x-www-form-urlencoded, multipart/form-data ou application/json"), ct)
}

// errAPIKeyMissing says what the key is for: submitting on Open311, else
// the staff and integrator API.
func errAPIKeyMissing(r *http.Request) error {
	if strings.HasPrefix(r.URL.Path, "/open311/") {
		return i18n.Errorf(i18n.Unauthorized, "api_key", i18n.T(
			"is required to submit a request; ask the municipality for a key",
			"est obligatoire pour soumettre une demande; demandez une clé à la municipalité"))
	}
	return i18n.Errorf(i18n.Unauthorized, "api_key", i18n.T(
		"is required here (X-Api-Key header or api_key parameter); ask the municipality's pinward administrator for a key",
		"est obligatoire ici (en-tête X-Api-Key ou paramètre api_key); demandez une clé à l'administrateur pinward de la municipalité"))
}

func errAPIKeyInvalid() error {
	return i18n.Errorf(i18n.Forbidden, "api_key", i18n.T("this API key is not valid", "cette clé d'API n'est pas valide"))
}

func errNotFound() error {
	return i18n.Errorf(i18n.NotFound, "", i18n.T("there is nothing at this address", "il n'y a rien à cette adresse"))
}

func errMethod() error {
	return i18n.Errorf(kindMethod, "", i18n.T("this method is not allowed here", "cette méthode n'est pas permise ici"))
}

func errJurisdiction(id string) error {
	return i18n.Errorf(i18n.NotFound, "jurisdiction_id", i18n.T("pinward serves no jurisdiction %q here",
		"pinward ne dessert aucune juridiction %q ici"), clip(id))
}

func errNumber(field, v string) error {
	return i18n.Errorf(i18n.Invalid, field, i18n.T("%q is not a number", "%q n'est pas un nombre"), clip(v))
}

func errMalformed(what string, err error) error {
	e := i18n.Errorf(i18n.Invalid, "", i18n.T("the %s body is malformed: %s", "le corps %s est mal formé : %s"), what, clip(err.Error()))
	e.Err = err
	return e
}

// maxMessage caps an error's description, in runes.
const maxMessage = 1000

// clip shortens a value quoted back in an error message.
func clip(s string) string { return text.Clip(s, text.Short) }
