package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"net/url"
	"time"

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
		"created, hashed, when unknown; default: the stored page key, made once and kept across restarts; pinward keys rotate --role reporter replaces it)")
	fs.StringVar(&wf.basemap, "basemap-style", "", "`URL` of a MapLibre style drawn under the maps (default: none; the wards and assets tiles are the context)")
	fs.BoolVar(&wf.off, "no-web", false, "serve no pages (/, /r/{id}, /staff): the APIs only")
}

// origins are the origins the pages fetch from besides pinward, for the
// Content-Security-Policy: the basemap style's.
func (wf *webFlags) origins() []string {
	u, err := url.Parse(wf.basemap)
	if wf.off || err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// pages returns the web handler, after making sure the page's (public,
// reporter) key exists in the store: requests.PageKey holds the policy.
func (wf *webFlags) pages(ctx context.Context, st requests.PageKeyStore, tenant string, set *wards.Set, log *slog.Logger) (http.Handler, error) {
	if wf.off {
		return nil, nil
	}
	key, err := requests.PageKey(ctx, st, tenant, wf.key, time.Now())
	if errors.Is(err, requests.ErrUnfitPageKey) {
		return nil, usageError{err}
	} else if err != nil {
		return nil, err
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
