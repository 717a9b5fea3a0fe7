package main

import (
	"context"
	"flag"
	"log/slog"
	"net"

	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/mailer"
	"github.com/pinward/pinward/requests"
)

// mailFlags configure messages to residents for serve.
type mailFlags struct {
	smtpURL, from string
}

func (mf *mailFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&mf.smtpURL, "smtp", "", "SMTP server `URL` for messages to residents: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (better: PINWARD_SMTP_URL); none: messages stay queued")
	fs.StringVar(&mf.from, "mail-from", "", "sender `address` of messages to residents (default: the catalog's mail.from)")
}

// start starts the mail sender once the server listens on ln; links in
// messages start with publicURL (--public-url), else http:// and ln's
// address.
func (mf *mailFlags) start(ctx context.Context, env Env, ln net.Listener, publicURL string, st requests.MailStore, cat *requests.Catalog, links *linktoken.Keyring, tenant string, log *slog.Logger) (func(), error) {
	if mf.smtpURL == "" { // --smtp is also PINWARD_SMTP, the generic name
		mf.smtpURL = env.Getenv("PINWARD_SMTP_URL")
	}
	pub := publicURL
	if pub == "" {
		pub = "http://" + ln.Addr().String()
	}
	stop, err := mailer.Start(ctx, mailer.ServeConfig{SMTPURL: mf.smtpURL, From: mf.from, PublicURL: pub, Tenant: tenant,
		Store: st, Catalog: cat, Links: links, Logger: log})
	if err != nil {
		return stop, usageErrorf("--smtp: %v", err)
	}
	return stop, nil
}
