package web

import (
	"flag"
	"net/http"
	"net/url"
)

// Flags configure the pages of serve.
type Flags struct {
	Key, Basemap string
	Off          bool
}

// Register adds --web-key, --basemap-style and --no-web to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Key, "web-key", "", "the Open311 api_key the resident page submits with (a reporter `key`; "+
		"created, hashed, when unknown; default: the stored page key, made once and kept across restarts; pinward keys rotate --role reporter replaces it)")
	fs.StringVar(&f.Basemap, "basemap-style", "", "`URL` of a MapLibre style drawn under the maps (default: none; the wards and assets tiles are the context)")
	fs.BoolVar(&f.Off, "no-web", false, "serve no pages (/, /r/{id}, /staff): the APIs only")
}

// Origins are the origins the pages fetch from besides pinward, for the
// Content-Security-Policy: the basemap style's.
func (f *Flags) Origins() []string {
	u, err := url.Parse(f.Basemap)
	if f.Off || err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// Pages is the pages' handler, submitting with key (the page key the
// server made sure of) and opening on bounds, drawing pinward's own
// basemap when it serves one and offering address search when it has an
// address file; nil with --no-web.
func (f *Flags) Pages(key string, bounds [4]float64, basemap, addresses bool) (http.Handler, error) {
	if f.Off {
		return nil, nil
	}
	return Handler(Options{WebKey: key, BasemapStyle: f.Basemap, Basemap: basemap, Addresses: addresses, Bounds: bounds})
}
