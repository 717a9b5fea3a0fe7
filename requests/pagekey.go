package requests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
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
// An empty key makes a new one, labelled with now. A given key unknown to
// the store is stored as tenant's reporter key; a known one must be a
// reporter key of tenant (else an error matching ErrUnfitPageKey).
func PageKey(ctx context.Context, st KeyStore, tenant, key string, now time.Time) (string, error) {
	key = strings.TrimSpace(key)
	now = now.UTC().Truncate(time.Microsecond)
	if key == "" {
		key, hash := NewAPIKey()
		if _, err := st.CreateAPIKey(ctx, Key{TenantID: tenant, Role: RoleReporter,
			Label: "web page (serve " + now.Format(time.RFC3339) + ")", Hash: hash, CreatedAt: now}); err != nil {
			return "", fmt.Errorf("storing the web page's key: %w", err)
		}
		return key, nil
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
	case k.Role != RoleReporter:
		// Only a key that can do no more than submit may be published
		// in a page.
		return "", unfitPageKey{fmt.Errorf("--web-key is a %s key; the page publishes its key, so give it a reporter key (pinward keys create --role reporter)", k.Role)}
	}
	return key, nil
}
