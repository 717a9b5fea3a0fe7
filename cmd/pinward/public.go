package main

import (
	"flag"
	"net/netip"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinward/pinward/ratelimit"
)

// publicFlags configure what residents' photos and scripts meet (issue 15).
type publicFlags struct {
	photos      string
	publicURL   string
	rateLimits  string
	proxies     string
	proxyHeader string

	limits  map[ratelimit.Class]ratelimit.Limits // parsed by check
	trusted []netip.Prefix
}

func (pf *publicFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&pf.photos, "photos-public", "after-approval", "when residents' photos become public: after-approval (a staff member approves each) or `immediately`")
	fs.StringVar(&pf.rateLimits, "rate-limits", "", "override limits per client: `CLASS.BY=RATE`,... with CLASS submissions, locate, flags or tiles, BY ip, key or device, RATE N/s, N/m, N/h or off (e.g. submissions.ip=5/m,tiles.ip=off)")
	fs.StringVar(&pf.proxies, "trusted-proxies", "", "`CIDRs` and addresses of the proxies in front of pinward whose --proxy-header is believed for the client IP (e.g. 10.0.0.0/8)")
	fs.StringVar(&pf.proxyHeader, "proxy-header", ratelimit.HeaderXForwardedFor, "the `header` the trusted proxies write: X-Forwarded-For or Forwarded")
	fs.StringVar(&pf.publicURL, "public-url", "", "the `URL` residents reach pinward at (https://311.example.ca): photos' absolute media_url and the links in messages (default: the request's host; in messages, http:// and the listening address)")
}

func (pf *publicFlags) check() error {
	switch pf.photos {
	case "after-approval", "immediately":
	default:
		return usageErrorf("--photos-public must be after-approval or immediately, not %q", pf.photos)
	}
	pf.limits = ratelimit.Defaults()
	if err := ratelimit.ParseOverrides(pf.limits, pf.rateLimits); err != nil {
		return usageErrorf("--rate-limits: %v", err)
	}
	var err error
	if pf.trusted, err = ratelimit.ParseTrustedProxies(pf.proxies); err != nil {
		return usageErrorf("--trusted-proxies: %v", err)
	}
	if pf.proxyHeader != ratelimit.HeaderXForwardedFor && pf.proxyHeader != ratelimit.HeaderForwarded {
		return usageErrorf("--proxy-header must be %s or %s, not %q", ratelimit.HeaderXForwardedFor, ratelimit.HeaderForwarded, pf.proxyHeader)
	}
	if pf.publicURL != "" {
		u, err := url.Parse(pf.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("--public-url must be an http or https URL, not %q", pf.publicURL)
		}
	}
	return nil
}

func (pf *publicFlags) photosPublic() bool { return pf.photos == "immediately" }

// limiter is the server's rate limiter, counted on reg.
func (pf *publicFlags) limiter(reg prometheus.Registerer) (*ratelimit.Limiter, error) {
	return ratelimit.New(ratelimit.Config{Limits: pf.limits, TrustedProxies: pf.trusted, ProxyHeader: pf.proxyHeader, Registerer: reg})
}
