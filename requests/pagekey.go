package requests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/wards"
)

// ErrUnfitPageKey matches (errors.Is) PageKey's refusal of a key that
// belongs to another tenant or may do more than submit.
var ErrUnfitPageKey = errors.New("unfit page key")

type unfitPageKey struct{ error }

func (unfitPageKey) Is(target error) bool { return target == ErrUnfitPageKey }

// PageKey returns the key the resident page submits with, after making
// sure it is stored. The page is public, so its key is too: anyone can
// read it from the page. It is therefore a reporter key (stored as a hash,
// revocable like any other), which may submit requests and nothing else.
//
// An empty key is the tenant's stored page key while it is usable (so
// restarts and every server publish one key); else a new one, labelled
// with now and stored as the page key (RotatePageKey). A given key unknown
// to the store is stored as tenant's reporter key; a known one must be a
// usable reporter key of tenant (else an error matching ErrUnfitPageKey).
func PageKey(ctx context.Context, st PageKeyStore, tenant, key string, now time.Time) (string, error) {
	key = strings.TrimSpace(key)
	now = now.UTC().Truncate(time.Microsecond)
	if key == "" {
		stored, _, err := st.PageKey(ctx, tenant)
		if err != nil {
			return "", fmt.Errorf("reading the web page's key: %w", err)
		}
		if stored != "" {
			k, err := st.LookupAPIKey(ctx, HashAPIKey(stored))
			switch {
			case err == nil && k.Usable(now) && k.TenantID == tenant && k.Role == RoleReporter:
				return stored, nil
			case err != nil && i18n.KindOf(err) != i18n.NotFound:
				return "", fmt.Errorf("looking up the web page's key: %w", err)
			}
		}
		key, _, err := RotatePageKey(ctx, st, tenant, "web page (serve "+now.Format(time.RFC3339)+")", now)
		return key, err
	}
	hash := HashAPIKey(key)
	k, err := st.LookupAPIKey(ctx, hash)
	switch {
	case i18n.KindOf(err) == i18n.NotFound:
		if _, err := st.CreateAPIKey(ctx, Key{TenantID: tenant, Role: RoleReporter,
			Label: "web page (--web-key)", Hash: hash, CreatedAt: now}); err != nil && i18n.KindOf(err) != i18n.Conflict {
			return "", fmt.Errorf("storing --web-key: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("looking up --web-key: %w", err)
	case k.TenantID != tenant:
		return "", unfitPageKey{fmt.Errorf("--web-key belongs to tenant %q, not %q", k.TenantID, tenant)}
	case !k.Usable(now):
		return "", unfitPageKey{fmt.Errorf("--web-key (key %d) is revoked or expired", k.ID)}
	case k.Role != RoleReporter:
		// Only a key that can do no more than submit may be published
		// in a page.
		return "", unfitPageKey{fmt.Errorf("--web-key is a %s key; the page publishes its key, so give it a reporter key (pinward keys create --role reporter)", k.Role)}
	}
	return key, nil
}

// PageKeyStore is what the page's key needs of a store.
type PageKeyStore interface {
	KeyStore
	KeyAdmin
}

// RotatePageKey makes a new reporter key, stores it as tenant's page key
// and returns it with the previous page key's ID (0 for none), which the
// caller may revoke once every server publishes the new one.
func RotatePageKey(ctx context.Context, st PageKeyStore, tenant, label string, now time.Time) (key string, previous int64, err error) {
	_, previous, err = st.PageKey(ctx, tenant)
	if err != nil {
		return "", 0, fmt.Errorf("reading the web page's key: %w", err)
	}
	key, hash := NewAPIKey()
	k, err := st.CreateAPIKey(ctx, Key{TenantID: tenant, Role: RoleReporter, Label: label, Hash: hash, CreatedAt: now})
	if err != nil {
		return "", 0, fmt.Errorf("storing the web page's key: %w", err)
	}
	if err := st.SetPageKey(ctx, tenant, key, k.ID); err != nil {
		return "", 0, fmt.Errorf("storing the web page's key: %w", err)
	}
	return key, previous, nil
}

// PageBounds is the extent of set's wards in force at now, [west, south,
// east, north], the pages' first view; zero when none is in force.
func PageBounds(set *wards.Set, now time.Time) (b [4]float64) {
	if g := set.Current(now); g != nil {
		r := g.Bound()
		b = [4]float64{r.Min[0], r.Min[1], r.Max[0], r.Max[1]}
	}
	return b
}
