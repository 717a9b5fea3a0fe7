package requests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pinward/pinward/i18n"
)

// KeyAdmin manages API keys after they are made: list, revoke, expire,
// and the resident page's key, which every server of a tenant publishes
// and which outlives restarts.
type KeyAdmin interface {
	// ListAPIKeys returns tenant's keys by ID, revoked ones included.
	ListAPIKeys(ctx context.Context, tenant string) ([]Key, error)
	// RevokeAPIKey marks key id of tenant revoked at at (a key already
	// revoked keeps its first time) and returns it; APIKeyIDNotFoundError
	// when tenant has no such key. LookupAPIKey still finds a revoked key,
	// with RevokedAt set: Key.Usable refuses it.
	RevokeAPIKey(ctx context.Context, tenant string, id int64, at time.Time) (Key, error)
	// SetAPIKeyExpiry makes key id of tenant expire at at (zero: never).
	SetAPIKeyExpiry(ctx context.Context, tenant string, id int64, at time.Time) error
	// PageKey returns the key stored as tenant's page key ("" for none).
	PageKey(ctx context.Context, tenant string) (key string, id int64, err error)
	// SetPageKey stores key (of ID id) as tenant's page key.
	SetPageKey(ctx context.Context, tenant, key string, id int64) error
}

// Usable reports whether k may be used at now: not revoked, not expired.
func (k Key) Usable(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// APIKeyIDNotFoundError is the error for an unknown key ID (keys revoke).
func APIKeyIDNotFoundError(id int64) *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "id", i18n.T("there is no API key %d", "il n'existe aucune clé d'API %d"), id)
}

// IssueAPIKey makes a new key like k (its Hash and CreatedAt are set
// here), stores it, expiring at expires unless that is zero, and returns
// the key, shown this once, with the stored Key.
func IssueAPIKey(ctx context.Context, st PageKeyStore, k Key, expires, now time.Time) (string, Key, error) {
	key, hash := NewAPIKey()
	k.Hash, k.CreatedAt = hash, now.UTC().Truncate(time.Microsecond)
	k, err := st.CreateAPIKey(ctx, k)
	if err != nil {
		return "", Key{}, fmt.Errorf("storing the key: %w", err)
	}
	if !expires.IsZero() {
		if err := st.SetAPIKeyExpiry(ctx, k.TenantID, k.ID, expires); err != nil {
			return "", Key{}, fmt.Errorf("storing the key's expiry: %w", err)
		}
		k.ExpiresAt = expires
	}
	return key, k, nil
}

// State says whether k works at now, for operators: active, expired or
// revoked with the time, and "(web page)" when it is the page key pageID.
func (k Key) State(now time.Time, pageID int64) string {
	state := "active"
	switch {
	case !k.RevokedAt.IsZero():
		state = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
	case !k.Usable(now):
		state = "expired"
	}
	if k.ID == pageID {
		state += " (web page)"
	}
	return state
}

// WriteKeyTable writes keys as the aligned table keys list prints: ID,
// role, state (see Key.State), creation, expiry and label; never a key.
func WriteKeyTable(w io.Writer, keys []Key, pageID int64, now time.Time) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tSTATE\tCREATED\tEXPIRES\tLABEL")
	for _, k := range keys {
		exp := "never"
		if !k.ExpiresAt.IsZero() {
			exp = k.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, k.State(now, pageID), k.CreatedAt.UTC().Format(time.RFC3339), exp, k.Label)
	}
	return tw.Flush()
}

// ParseKeyID reads `pinward keys revoke ID`'s operands: exactly one, a
// key ID as keys list shows it. Its errors are usage errors.
func ParseKeyID(operands []string) (int64, error) {
	if len(operands) != 1 {
		return 0, errors.New("usage: pinward keys revoke ID (the ID keys list shows)")
	}
	id, err := strconv.ParseInt(operands[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("keys revoke: %q is not a key ID", operands[0])
	}
	return id, nil
}
