package requests

import (
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/notify"
)

// The catalog's resident-notification settings:
//
//	"default_language": "fr",   the language of a resident who states none
//	                            (no locale, no Accept-Language); default en
//	"mail": {...}               the municipality's name, sender, reply-to and
//	                            message templates (notify.Config)

// buildMail reads the catalog's mail section and default language.
func (f *catalogFile) buildMail(c *Catalog) error {
	switch f.Language {
	case "", string(i18n.En):
		c.lang = i18n.En
	case string(i18n.Fr):
		c.lang = i18n.Fr
	default:
		return cfgErr("default_language", i18n.T("%q is not a language pinward speaks (en, fr)",
			"%q n'est pas une langue de pinward (en, fr)"), clip(f.Language))
	}
	if f.Mail != nil {
		if err := f.Mail.Validate(); err != nil {
			return err
		}
		c.mail = *f.Mail
	}
	return nil
}

// Mail is the catalog's "mail" section (zero when it has none: notify's
// defaults).
func (c *Catalog) Mail() notify.Config { return c.mail }

// DefaultLang is the language of a resident who states none.
func (c *Catalog) DefaultLang() i18n.Lang {
	if c.lang == "" {
		return i18n.En
	}
	return c.lang
}
