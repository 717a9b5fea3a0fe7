package mailer

import (
	"context"
	"flag"
	"net"
)

// Flags are serve's flags for messages to residents.
type Flags struct {
	SMTPURL, From string
}

// Register adds --smtp and --mail-from to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.SMTPURL, "smtp", "", "SMTP server `URL` for messages to residents: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (better: PINWARD_SMTP_URL); none: messages stay queued")
	fs.StringVar(&f.From, "mail-from", "", "sender `address` of messages to residents (default: the catalog's mail.from)")
}

// Start starts the mail sender (see Start) once the server listens on
// addr, with cfg's SMTPURL and From taken from the flags (--smtp, else
// getenv's PINWARD_SMTP_URL). Links in messages start with cfg.PublicURL
// (--public-url), else http:// and addr. An error is the flags' fault.
func (f *Flags) Start(ctx context.Context, getenv func(string) string, addr net.Addr, cfg ServeConfig) (stop func(), err error) {
	cfg.SMTPURL, cfg.From = f.SMTPURL, f.From
	if cfg.SMTPURL == "" { // --smtp is also PINWARD_SMTP, the generic name
		cfg.SMTPURL = getenv("PINWARD_SMTP_URL")
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + addr.String()
	}
	return Start(ctx, cfg)
}
