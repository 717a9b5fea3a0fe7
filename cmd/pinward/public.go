package main

import (
	"flag"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/ratelimit"
)

// publicFlags configure what residents' photos and scripts meet (issue 15).
type publicFlags struct {
	photos    string
	publicURL string
	rl        ratelimit.ServerFlags
	rlConfig  ratelimit.Config // parsed by check
}

func (pf *publicFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&pf.photos, "photos-public", "after-approval", "when residents' photos become public: after-approval (a staff member approves each) or `immediately`")
	pf.rl.Register(fs)
	fs.StringVar(&pf.publicURL, "public-url", "", "the `URL` residents reach pinward at (https://311.example.ca): photos' absolute media_url and the links in messages (default: the request's host; in messages, http:// and the listening address)")
}

func (pf *publicFlags) check() error {
	switch pf.photos {
	case "after-approval", "immediately":
	default:
		return usageErrorf("--photos-public must be after-approval or immediately, not %q", pf.photos)
	}
	var err error
	if pf.rlConfig, err = pf.rl.ParseConfig(); err != nil {
		return usageError{err}
	}
	if err := cli.CheckPublicURL(pf.publicURL); err != nil {
		return usageError{err}
	}
	return nil
}

func (pf *publicFlags) photosPublic() bool { return pf.photos == "immediately" }

// limiter is the server's rate limiter, counted on reg.
func (pf *publicFlags) limiter(reg prometheus.Registerer) (*ratelimit.Limiter, error) {
	cfg := pf.rlConfig
	cfg.Registerer = reg
	return ratelimit.New(cfg)
}
