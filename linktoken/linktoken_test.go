package linktoken_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"testing"

	"github.com/pinward/pinward/linktoken"
)

func secret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func keyring(t *testing.T, secrets ...[]byte) *linktoken.Keyring {
	t.Helper()
	k, err := linktoken.New(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestMintVerify(t *testing.T) {
	k := keyring(t, secret())
	tok, err := k.Mint(linktoken.Unsubscribe, "sub-42")
	if err != nil {
		t.Fatal(err)
	}
	if url.PathEscape(tok) != tok {
		t.Errorf("token %q needs escaping in a URL path", tok)
	}
	got, err := k.Verify(linktoken.Unsubscribe, tok)
	if err != nil || got != "sub-42" {
		t.Fatalf("Verify = %q, %v", got, err)
	}
	// Each token does one thing.
	for _, p := range []linktoken.Purpose{linktoken.Satisfaction, linktoken.Reopen, linktoken.Rights, linktoken.RightsAction} {
		if _, err := k.Verify(p, tok); !errors.Is(err, linktoken.ErrInvalid) {
			t.Errorf("an unsubscribe token verified as %s: %v", p, err)
		}
	}
	// The access link cannot file a request, nor the reverse.
	rights, _ := k.Mint(linktoken.Rights, "17")
	if _, err := k.Verify(linktoken.RightsAction, rights); !errors.Is(err, linktoken.ErrInvalid) {
		t.Errorf("an access link verified as a rights action: %v", err)
	}
	action, _ := k.Mint(linktoken.RightsAction, "17")
	if got, err := k.Verify(linktoken.Rights, action); !errors.Is(err, linktoken.ErrInvalid) {
		t.Errorf("a rights action verified as an access link: %q, %v", got, err)
	}
}

func TestForgeries(t *testing.T) {
	k := keyring(t, secret())
	tok, err := k.Mint(linktoken.Reopen, "req-7")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)

	// Another subject with the MAC of this one.
	swapped := bytes.Clone(raw)
	swapped[len(swapped)-17] = '8' // "req-7" → "req-8"
	// A flipped bit in the MAC.
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 1
	// A token from another server's secret.
	foreign, _ := keyring(t, secret()).Mint(linktoken.Reopen, "req-7")

	for name, bad := range map[string]string{
		"empty":          "",
		"not base64":     "!!!",
		"other subject":  base64.RawURLEncoding.EncodeToString(swapped),
		"flipped MAC":    base64.RawURLEncoding.EncodeToString(flipped),
		"truncated":      tok[:len(tok)-2],
		"other secret":   foreign,
		"padded":         tok + "==",
		"very long":      tok + string(bytes.Repeat([]byte("A"), 200)),
		"unknown format": base64.RawURLEncoding.EncodeToString(append([]byte{9}, raw[1:]...)),
	} {
		if s, err := k.Verify(linktoken.Reopen, bad); !errors.Is(err, linktoken.ErrInvalid) || s != "" {
			t.Errorf("%s token verified: %q, %v", name, s, err)
		}
	}
}

func TestRotation(t *testing.T) {
	old, next := secret(), secret()
	tok, err := keyring(t, old).Mint(linktoken.Satisfaction, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	rotated := keyring(t, next, old)
	if s, err := rotated.Verify(linktoken.Satisfaction, tok); err != nil || s != "req-1" {
		t.Errorf("old token after rotation: %q, %v", s, err)
	}
	fresh, _ := rotated.Mint(linktoken.Satisfaction, "req-1")
	if _, err := keyring(t, next).Verify(linktoken.Satisfaction, fresh); err != nil {
		t.Errorf("new tokens are not signed with the first secret: %v", err)
	}
	if _, err := keyring(t, old).Verify(linktoken.Satisfaction, fresh); err == nil {
		t.Error("a new token verified under the old secret alone")
	}
}

func TestBadInput(t *testing.T) {
	if _, err := linktoken.New(); err == nil {
		t.Error("New without a secret")
	}
	if _, err := linktoken.New([]byte("short")); err == nil {
		t.Error("New with a short secret")
	}
	k := keyring(t, secret())
	if _, err := k.Mint("delete", "x"); err == nil {
		t.Error("Mint with an unknown purpose")
	}
	if _, err := k.Mint(linktoken.Reopen, ""); err == nil {
		t.Error("Mint with no subject")
	}
	if _, err := k.Mint(linktoken.Reopen, string(bytes.Repeat([]byte("x"), 65))); err == nil {
		t.Error("Mint with a subject over 64 bytes")
	}
}
