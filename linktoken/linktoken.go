// Package linktoken makes the unguessable tokens of the links pinward
// mails to residents: unsubscribe, satisfaction, reopen, and the
// resident's access link (rights). Each token does one thing: it is bound
// to a purpose and a subject, and is refused for any other purpose.
//
// A token is the subject plus an HMAC-SHA-256 (truncated to 128 bits) of
// the purpose and the subject under a server secret, in URL-safe base64.
// Nothing is stored to mint or check one, so a token can be written into
// a queued message in the same transaction as the change that causes it.
// The subject must be an opaque identifier (a subscription or request
// ID), never personal information: it is readable in the token.
//
// What a token may do once is the store's business, not the token's:
// satisfaction given twice is refused by the request's state, a second
// unsubscribe finds the subscription already off, a reopen after the
// window is refused by the closing date, and a purged reporter's
// subscription no longer exists, so its tokens find nothing.
//
// Rotating the secret: put the new secret first and keep the old ones
// after it; tokens signed with any of them verify, new ones use the
// first.
package linktoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Purpose is the one thing a token allows.
type Purpose string

// The purposes of the links in messages.
const (
	Unsubscribe  Purpose = "unsubscribe"  // stop messages about one request (subject: the subscription)
	Satisfaction Purpose = "satisfaction" // rate a closed request (subject: the request, or the reporter's subscription)
	Reopen       Purpose = "reopen"       // reopen a closed request (subject: as for Satisfaction)
	// Rights opens a resident's access link once (subject: the link, its
	// rights_link event ID); the store makes it single-use and expiring.
	Rights Purpose = "rights"
	// RightsAction files the one correction or deletion request an opened
	// link allows (subject: the link); given only in the opened link's
	// answer, so the mailed link alone cannot file one.
	RightsAction Purpose = "rights_action"
)

// Sizes and limits.
const (
	MinSecretLen  = 32 // bytes
	MaxSubjectLen = 64 // bytes
	macLen        = 16 // 128 bits: out of reach of guessing
	version       = 1
)

// ErrInvalid is returned for a token that is malformed, forged, signed
// with an unknown secret, or made for another purpose. The API answers it
// with a 404, the same as for a token that was never issued.
var ErrInvalid = errors.New("linktoken: invalid token")

// Keyring mints and verifies tokens.
type Keyring struct {
	secrets [][]byte
}

// New returns a Keyring that signs with secrets[0] and verifies with any
// of them. Each secret has at least MinSecretLen random bytes.
func New(secrets ...[]byte) (*Keyring, error) {
	if len(secrets) == 0 {
		return nil, errors.New("linktoken: a secret is required")
	}
	k := &Keyring{}
	for i, s := range secrets {
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("linktoken: secret %d has %d bytes, want at least %d", i+1, len(s), MinSecretLen)
		}
		k.secrets = append(k.secrets, append([]byte(nil), s...))
	}
	return k, nil
}

// Mint returns the token allowing purpose on subject.
func (k *Keyring) Mint(p Purpose, subject string) (string, error) {
	if err := check(p, subject); err != nil {
		return "", err
	}
	raw := make([]byte, 0, 1+len(subject)+macLen)
	raw = append(raw, version)
	raw = append(raw, subject...)
	raw = append(raw, mac(k.secrets[0], p, subject)...)
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// Verify returns the subject of a token minted for purpose p, or
// ErrInvalid.
func (k *Keyring) Verify(p Purpose, token string) (string, error) {
	if len(token) > base64.RawURLEncoding.EncodedLen(1+MaxSubjectLen+macLen) {
		return "", ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+1+macLen || raw[0] != version {
		return "", ErrInvalid
	}
	subject := string(raw[1 : len(raw)-macLen])
	got := raw[len(raw)-macLen:]
	if check(p, subject) != nil {
		return "", ErrInvalid
	}
	for _, s := range k.secrets {
		if hmac.Equal(got, mac(s, p, subject)) {
			return subject, nil
		}
	}
	return "", ErrInvalid
}

func check(p Purpose, subject string) error {
	switch p {
	case Unsubscribe, Satisfaction, Reopen, Rights, RightsAction:
	default:
		return fmt.Errorf("linktoken: unknown purpose %q", p)
	}
	if subject == "" || len(subject) > MaxSubjectLen || strings.ContainsRune(subject, 0) {
		return fmt.Errorf("linktoken: subject must have 1 to %d bytes and no NUL", MaxSubjectLen)
	}
	return nil
}

// mac binds the purpose and the subject; the NUL keeps "a"+"bc" apart
// from "ab"+"c".
func mac(secret []byte, p Purpose, subject string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("pinward link v1\x00"))
	h.Write([]byte(p))
	h.Write([]byte{0})
	h.Write([]byte(subject))
	return h.Sum(nil)[:macLen]
}
