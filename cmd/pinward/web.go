package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/wards"
	"github.com/pinward/pinward/web"
)

// webFlags configure the resident and staff pages of serve.
type webFlags struct {
	key, basemap string
	off          bool
}

func (wf *webFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&wf.key, "web-key", "", "the Open311 api_key the resident page submits with (a reporter `key`; "+
		"created, hashed, when unknown; default: a new one at each start)")
	fs.StringVar(&wf.basemap, "basemap-style", "", "`URL` of a MapLibre style drawn under the maps (default: none; the wards and assets tiles are the context)")
	fs.BoolVar(&wf.off, "no-web", false, "serve no pages (/, /r/{id}, /staff): the APIs only")
}

// pages returns the web handler, after making sure the page's key exists
// in the store. The page is public, so its key is too: anyone can read it
// from the page. It is therefore a reporter key (stored as a hash,
// revocable like any other), which may submit requests and nothing else.
func (wf *webFlags) pages(ctx context.Context, st requests.KeyStore, tenant string, set *wards.Set, log *slog.Logger) (http.Handler, error) {
	if wf.off {
		return nil, nil
	}
	key := strings.TrimSpace(wf.key)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if key == "" {
		var hash string
		key, hash = requests.NewAPIKey()
		if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: requests.RoleReporter,
			Label: "web page (serve " + now.Format(time.RFC3339) + ")", Hash: hash, CreatedAt: now}); err != nil {
			return nil, fmt.Errorf("storing the web page's key: %w", err)
		}
	} else {
		hash := requests.HashAPIKey(key)
		k, err := st.LookupAPIKey(ctx, hash)
		switch {
		case i18n.KindOf(err) == i18n.NotFound:
			if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: requests.RoleReporter,
				Label: "web page (--web-key)", Hash: hash, CreatedAt: now}); err != nil && i18n.KindOf(err) != i18n.Conflict {
				return nil, fmt.Errorf("storing --web-key: %w", err)
			}
		case err != nil:
			return nil, fmt.Errorf("looking up --web-key: %w", err)
		case k.TenantID != tenant:
			return nil, usageErrorf("--web-key belongs to tenant %q, not %q", k.TenantID, tenant)
		case k.Role != requests.RoleReporter:
			// Only a key that can do no more than submit may be published
			// in a page.
			return nil, usageErrorf("--web-key is a %s key; the page publishes its key, so give it a reporter key (pinward keys create --role reporter)", k.Role)
		}
	}
	opts := web.Options{WebKey: key, BasemapStyle: wf.basemap}
	if g := set.Current(time.Now()); g != nil {
		b := g.Bound()
		opts.Bounds = [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	}
	h, err := web.Handler(opts)
	if err != nil {
		return nil, err
	}
	log.InfoContext(ctx, "web pages", "resident", "/", "staff", "/staff", "basemap", wf.basemap != "")
	return h, nil
}
