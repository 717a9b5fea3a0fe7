package api

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/pinward/pinward/i18n"
)

type format int

const (
	formatJSON format = iota
	formatXML
)

// reqInfo is what negotiate learns about a request: the response format
// and language. It is a pointer in the context so POST can switch the
// language once it has read a locale from the body.
type reqInfo struct {
	format format
	lang   i18n.Lang
}

type ctxKey struct{}

// negotiate picks the response format from the path's extension (Open311
// names it there: requests.xml) and the language from the locale parameter
// or Accept-Language, before any handler can fail.
func (h *handler) negotiate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &reqInfo{format: formatJSON}
		if strings.HasSuffix(r.URL.Path, ".xml") {
			info.format = formatXML
		}
		info.lang = i18n.Negotiate(r.URL.Query().Get("locale"), r.Header.Get("Accept-Language"))
		w.Header().Set("Vary", "Accept-Language")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, info)))
	})
}

func infoOf(r *http.Request) *reqInfo {
	if info, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return info
	}
	return &reqInfo{format: formatJSON, lang: i18n.En}
}

func langOf(r *http.Request) i18n.Lang { return infoOf(r).lang }
func formatOf(r *http.Request) format  { return infoOf(r).format }

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(encodingFailedJSON))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeXML(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(encodingFailedXML))
		return
	}
	buf.WriteByte('\n')
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// write answers v (a slice of JSON records) or x (its XML document) in the
// request's format.
func write(w http.ResponseWriter, r *http.Request, status int, v, x any) {
	if formatOf(r) == formatXML {
		writeXML(w, status, x)
		return
	}
	writeJSON(w, status, v)
}

// The answers when a value cannot be encoded (a bug: inputs are checked
// so that none can), still in the bilingual error format.
const (
	encodingFailedJSON = `[{"code":500,"description":"the answer could not be encoded","kind":"internal",` +
		`"description_en":"the answer could not be encoded","description_fr":"la réponse n'a pas pu être encodée"}]` + "\n"
	encodingFailedXML = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<errors><error><code>500</code>` +
		`<description>the answer could not be encoded</description><kind>internal</kind>` +
		`<description_en>the answer could not be encoded</description_en>` +
		`<description_fr>la réponse n'a pas pu être encodée</description_fr></error></errors>` + "\n"
)
