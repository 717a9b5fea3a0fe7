package dispatch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers every delivery carries. The signature
// covers the ID, the timestamp and the body together, so a captured
// delivery cannot be replayed under another ID or, once Tolerance has
// passed, at all.
const (
	HeaderID        = "webhook-id"        // the message's Idempotency-Key, stable across retries
	HeaderTimestamp = "webhook-timestamp" // Unix seconds of this attempt
	HeaderSignature = "webhook-signature" // "v1,<base64>" entries separated by spaces
)

// Tolerance is how far a delivery's timestamp may be from the receiver's
// clock, either way.
const Tolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrTimestamp      = errors.New("webhook: timestamp outside the tolerance")
	ErrSignature      = errors.New("webhook: no matching signature")
)

// secretKey is the HMAC key of a secret: a "whsec_" secret is base64 of
// the key, as the Standard Webhooks libraries read it; any other secret is
// the key as it is.
func secretKey(secret []byte) []byte {
	if s, ok := strings.CutPrefix(string(secret), "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(s); err == nil {
			return k
		}
	}
	return secret
}

// SignV1 returns one webhook-signature entry: "v1," and the base64
// HMAC-SHA256, under secret, of the ID, the Unix timestamp and the body
// joined by dots.
func SignV1(secret []byte, id string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, secretKey(secret))
	m.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify is the receiver's check of a delivery: the three Standard
// Webhooks headers are there, the timestamp is within Tolerance of now,
// and one of the signatures (during a rotation there are two) is the
// HMAC of the ID, timestamp and raw body under secret, compared in
// constant time. A receiver should also drop a webhook-id it has already
// processed: retries carry the same one.
func Verify(secret []byte, h http.Header, body []byte, now time.Time) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not Unix seconds", ErrTimestamp, tsText)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: %s is %v from now", ErrTimestamp, tsText, d.Round(time.Second))
	}
	want := []byte(SignV1(secret, id, ts, body))
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrSignature
}

// Sign returns the X-Pinward-Signature value of body under secret:
// "sha256=" and the hex HMAC-SHA256 of the body alone.
//
// Deprecated: the header covers neither the ID nor a time, so a captured
// delivery can be replayed; it is still sent for one release. Receivers
// check webhook-signature with Verify.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + fmt.Sprintf("%x", m.Sum(nil))
}
