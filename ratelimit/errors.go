package ratelimit

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/pinward/pinward/i18n"
)

// errorBody is the Open311 error with pinward's bilingual extension, the
// shape package api answers every error in (this package does not import
// api, which will import it).
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

// WriteError answers err with status 429 in pinward's error format: XML
// for a path ending in .xml (as Open311 names formats), JSON otherwise, in
// the language of the locale parameter or Accept-Language.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	const status = http.StatusTooManyRequests
	msg := i18n.MessageOf(err)
	lang := i18n.Negotiate(r.URL.Query().Get("locale"), r.Header.Get("Accept-Language"))
	body := errorBody{
		Code:          status,
		Description:   msg.In(lang),
		Kind:          string(KindTooMany),
		DescriptionEn: msg.En,
		DescriptionFr: msg.Fr,
	}
	var buf bytes.Buffer
	if strings.HasSuffix(r.URL.Path, ".xml") {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		buf.WriteString(xml.Header)
		_ = xml.NewEncoder(&buf).Encode(xmlErrors{Errors: []errorBody{body}})
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode([]errorBody{body})
	}
	w.Header().Set("Vary", "Accept-Language")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
