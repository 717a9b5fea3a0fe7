package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

// secure is the first middleware of every route: the security headers
// every answer carries, and the one check of the text a request brings in
// its path, its query and its Idempotency-Key (valid UTF-8, no NUL), so no
// handler and no store ever sees such a value. Bodies are checked by
// their readers (checkForm, textReader).
func (h *handler) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", h.csp)
		// A status page's URL is the resident's link; nothing of it
		// goes to another site. Elsewhere, the origin only.
		if strings.HasPrefix(r.URL.Path, "/r/") {
			hd.Set("Referrer-Policy", "no-referrer")
		} else {
			hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		}
		if err := checkRequestText(r); err != nil {
			h.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pagePolicy is the Content-Security-Policy of every answer: scripts,
// styles and MapLibre's worker come from pinward itself (MapLibre sets
// styles through the DOM, which style-src does not govern, and loads its
// worker from /static, so neither 'unsafe-inline' nor blob: is needed;
// TestBrowserCSP holds the pages to it); nothing may frame a page.
// origins are other places the pages fetch from (a basemap's style).
func pagePolicy(origins []string) string {
	extra := ""
	for _, o := range origins {
		extra += " " + o
	}
	return "default-src 'self'; script-src 'self'; worker-src 'self'; child-src 'self'; " +
		"style-src 'self'; img-src 'self' data: blob:" + extra + "; connect-src 'self'" + extra +
		"; font-src 'self'" + extra + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// checkRequestText refuses a path, query or Idempotency-Key that holds
// invalid UTF-8 or NUL: PostgreSQL cannot store either, SQLite would
// store NUL, and neither has a meaning in an ID or a filter.
func checkRequestText(r *http.Request) error {
	if err := text.CheckValue(r.URL.Path); err != nil {
		return errBadText("path", err)
	}
	if r.URL.RawPath != "" {
		if p, err := url.PathUnescape(r.URL.RawPath); err == nil {
			if err := text.CheckValue(p); err != nil {
				return errBadText("path", err)
			}
		}
	}
	q, _ := url.ParseQuery(r.URL.RawQuery) // malformed pairs are dropped, as Query does
	for k, vs := range q {
		if err := text.CheckValue(k); err != nil {
			return errBadText("query", err)
		}
		for _, v := range vs {
			if err := text.CheckValue(v); err != nil {
				return errBadText(k, err)
			}
		}
	}
	if err := text.CheckValue(r.Header.Get("Idempotency-Key")); err != nil {
		return errBadText("Idempotency-Key", err)
	}
	return nil
}

// checkForm is checkRequestText for a parsed form body.
func checkForm(form url.Values) error {
	for k, vs := range form {
		if err := text.CheckValue(k); err != nil {
			return errBadText("form", err)
		}
		for _, v := range vs {
			if err := text.CheckValue(v); err != nil {
				return errBadText(k, err)
			}
		}
	}
	return nil
}

// errBadText is the 400 of a value that is not text; field is clipped and
// made printable, since it may itself be the bad value.
func errBadText(field string, err error) error {
	e := i18n.Errorf(i18n.Invalid, text.Printable(clip(field)), i18n.T(
		"must be valid UTF-8 text without NUL characters or lone surrogates",
		"doit être du texte UTF-8 valide sans caractère NUL ni demi-paire de substitution"))
	e.Err = err
	return e
}

// textReader passes a body through while checking it is text: valid
// UTF-8 without NUL and, for JSON, without the escapes \u0000 and lone
// surrogates, which encoding/json would silently turn into U+0000 and
// U+FFFD. The first fault ends the read with errBadText.
type textReader struct {
	r    io.Reader
	scan text.Scanner
}

func newTextReader(r io.Reader, json bool) *textReader {
	return &textReader{r: r, scan: text.Scanner{JSON: json}}
}

func (t *textReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if serr := t.scan.Write(p[:n]); serr != nil {
		return 0, errBadText("body", serr)
	}
	if errors.Is(err, io.EOF) {
		if serr := t.scan.Close(); serr != nil {
			return 0, errBadText("body", serr)
		}
	}
	return n, err
}

// drainAfter413 bounds what is read of a body the server refused as too
// large, so the client, still sending, finishes and reads the 413 instead
// of seeing the connection reset under it.
const (
	drainAfter413Bytes = 64 << 20
	drainAfter413Time  = 5 * time.Second
)

// limitedBody is a request body behind the size limit and the text check
// (limitBody); it keeps the original body to drain after a 413.
type limitedBody struct {
	io.Reader
	limited io.ReadCloser
	orig    io.ReadCloser
}

func (b *limitedBody) Close() error { return b.limited.Close() }

// limitBody puts r's body behind a limit of n bytes and, for JSON, NDJSON
// and CSV, behind a textReader; forms are checked once parsed (checkForm)
// and multipart files are not text. It replaces r.Body so writeError can
// drain it after a 413.
func limitBody(w http.ResponseWriter, r *http.Request, n int64) io.ReadCloser {
	orig := r.Body
	lim := http.MaxBytesReader(w, orig, n)
	b := &limitedBody{Reader: lim, limited: lim, orig: orig}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-ndjson" || mt == "application/geo+json-seq":
		b.Reader = newTextReader(lim, true)
	case strings.HasPrefix(mt, "text/"):
		b.Reader = newTextReader(lim, false)
	}
	r.Body = b
	return b
}

// drain reads and discards, within bounds, what the client is still
// sending of a body refused as too large, after the 413 went out: closing
// a connection with unread data resets it, and the client may lose the
// answer under the reset.
func (b *limitedBody) drain(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.Flush()                                            //nolint:errcheck // best effort: the answer is written
	rc.SetReadDeadline(time.Now().Add(drainAfter413Time)) //nolint:errcheck // not every writer has a deadline
	io.CopyN(io.Discard, b.orig, drainAfter413Bytes)      //nolint:errcheck // whatever arrives in time
}

// bilingualErrors turns the plain-text errors of a handler pinward does
// not write itself (http.FileServer's and http.NotFound's, behind the
// pages) into the bilingual error body. Statuses it has no words for
// pass through.
func (h *handler) bilingualErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&errorCatcher{ResponseWriter: w, h: h, r: r}, r)
	})
}

type errorCatcher struct {
	http.ResponseWriter
	h      *handler
	r      *http.Request
	caught bool
}

func (c *errorCatcher) WriteHeader(code int) {
	if err := plainStatusError(code); err != nil && strings.HasPrefix(c.Header().Get("Content-Type"), "text/plain") {
		c.caught = true
		c.h.writeError(c.ResponseWriter, c.r, err)
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *errorCatcher) Write(b []byte) (int, error) {
	if c.caught {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

func (c *errorCatcher) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// plainStatusError is the bilingual error for a status another handler
// answered in plain text; nil when pinward has no words for it.
func plainStatusError(code int) error {
	switch code {
	case http.StatusNotFound:
		return errNotFound()
	case http.StatusMethodNotAllowed:
		return errMethod()
	case http.StatusBadRequest:
		return i18n.Errorf(i18n.Invalid, "", i18n.T("the request is malformed", "la requête est mal formée"))
	case http.StatusForbidden:
		return i18n.Errorf(i18n.Forbidden, "", i18n.T("this is not allowed", "ceci n'est pas permis"))
	}
	return nil
}
