package ratelimit

import (
	"flag"
	"fmt"
)

// ServerFlags are a server's rate-limit and proxy flags, kept here so the flag
// texts and their checks live beside the parsers they call.
type ServerFlags struct {
	Overrides   string // --rate-limits
	Proxies     string // --trusted-proxies
	ProxyHeader string // --proxy-header
}

// Register adds --rate-limits, --trusted-proxies and --proxy-header to fs.
func (f *ServerFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Overrides, "rate-limits", "", "override limits per client: `CLASS.BY=RATE`,... with CLASS submissions, locate, flags or tiles, BY ip, key or device, RATE N/s, N/m, N/h or off (e.g. submissions.ip=5/m,tiles.ip=off)")
	fs.StringVar(&f.Proxies, "trusted-proxies", "", "`CIDRs` and addresses of the proxies in front of pinward whose --proxy-header is believed for the client IP (e.g. 10.0.0.0/8)")
	fs.StringVar(&f.ProxyHeader, "proxy-header", HeaderXForwardedFor, "the `header` the trusted proxies write: X-Forwarded-For or Forwarded")
}

// ParseConfig checks the flags and returns the limiter's configuration
// (the defaults with the overrides applied; Registerer is the caller's).
// Each error names the flag at fault.
func (f *ServerFlags) ParseConfig() (Config, error) {
	cfg := Config{Limits: Defaults(), ProxyHeader: f.ProxyHeader}
	if err := ParseOverrides(cfg.Limits, f.Overrides); err != nil {
		return Config{}, fmt.Errorf("--rate-limits: %w", err)
	}
	var err error
	if cfg.TrustedProxies, err = ParseTrustedProxies(f.Proxies); err != nil {
		return Config{}, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if f.ProxyHeader != HeaderXForwardedFor && f.ProxyHeader != HeaderForwarded {
		return Config{}, fmt.Errorf("--proxy-header must be %s or %s, not %q", HeaderXForwardedFor, HeaderForwarded, f.ProxyHeader)
	}
	return cfg, nil
}
