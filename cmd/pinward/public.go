package main

import (
	"flag"
	"net/url"
)

// publicFlags configure what residents' photos and scripts meet (issue 15).
type publicFlags struct {
	photos    string
	publicURL string
}

func (pf *publicFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&pf.photos, "photos-public", "after-approval", "when residents' photos become public: after-approval (a staff member approves each) or `immediately`")
	fs.StringVar(&pf.publicURL, "public-url", "", "the `URL` residents reach pinward at (https://311.example.ca), for photos' absolute media_url (default: the request's host)")
}

func (pf *publicFlags) check() error {
	switch pf.photos {
	case "after-approval", "immediately":
	default:
		return usageErrorf("--photos-public must be after-approval or immediately, not %q", pf.photos)
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
