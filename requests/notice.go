package requests

import (
	"strings"

	"github.com/pinward/pinward/i18n"
)

// PrivacyNotice is what the municipality tells residents before they give
// contact details (Law 25, s. 8; PIPEDA principle 4.2): why they are
// collected, how long they are kept, and whom to ask, in both languages.
// Version names this text; each reporter's row records the version in
// force when they gave their details, so the municipality can show what a
// resident was told.
type PrivacyNotice struct {
	Version   string    `json:"version"`
	Purpose   i18n.Text `json:"purpose"`
	Retention i18n.Text `json:"retention"`
	Contact   i18n.Text `json:"contact"`
}

// PrivacyNotice returns the catalog's notice, and false when it has none.
func (c *Catalog) PrivacyNotice() (PrivacyNotice, bool) {
	if c.notice == nil {
		return PrivacyNotice{}, false
	}
	return *c.notice, true
}

// check checks a notice from the catalog file ("privacy_notice").
func (n *PrivacyNotice) check() error {
	const field = "privacy_notice"
	n.Version = strings.TrimSpace(n.Version)
	if n.Version == "" {
		return cfgErr(field+".version", msgRequired)
	}
	if err := checkText(field+".version", n.Version, 64, false); err != nil {
		return err
	}
	for _, x := range []struct {
		name string
		t    i18n.Text
	}{{"purpose", n.Purpose}, {"retention", n.Retention}, {"contact", n.Contact}} {
		if !bilingual(x.t) {
			return cfgErr(field+"."+x.name, msgBilingual)
		}
		for _, s := range []string{x.t.En, x.t.Fr} {
			if err := checkText(field+"."+x.name, s, MaxTextLen, true); err != nil {
				return err
			}
		}
	}
	return nil
}
