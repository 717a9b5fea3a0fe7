package mailer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/mail"
	"github.com/pinward/pinward/notify"
	"github.com/pinward/pinward/requests"
)

// ServeConfig is pinward serve's mail wiring.
type ServeConfig struct {
	SMTPURL   string // --smtp / PINWARD_SMTP_URL; "" : messages stay queued
	From      string // --mail-from; "" : the catalog's mail.from
	PublicURL string // the root of the links in messages
	Tenant    string
	Store     requests.MailStore
	Catalog   *requests.Catalog
	Links     *linktoken.Keyring
	Logger    *slog.Logger
}

// Start checks cfg and, when an SMTP server is configured, starts a Mailer
// in the background; stop ends it (before the store closes). Without one,
// messages stay queued and go out once a server starts with --smtp.
func Start(ctx context.Context, cfg ServeConfig) (stop func(), err error) {
	stop = func() {}
	if cfg.SMTPURL == "" {
		cfg.Logger.InfoContext(ctx, "mail: no SMTP server (--smtp): messages to residents stay queued")
		return stop, nil
	}
	from := cfg.From
	if from == "" {
		from = cfg.Catalog.Mail().From
	}
	smtp, err := mail.ParseURL(cfg.SMTPURL, from)
	if err != nil {
		return stop, err // never repeats the password
	}
	tm, err := notify.New(cfg.Catalog.Mail(), cfg.Catalog.Location())
	if err != nil {
		return stop, fmt.Errorf("catalog mail section: %w", err)
	}
	m, err := New(Config{Tenant: cfg.Tenant, Store: cfg.Store, SMTP: smtp, Templates: tm, Catalog: cfg.Catalog,
		Links: cfg.Links, BaseURL: cfg.PublicURL, Logger: cfg.Logger})
	if err != nil {
		return stop, err
	}
	mctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = m.Run(mctx)
	}()
	cfg.Logger.InfoContext(ctx, "mail: sending to residents", "smtp", smtp.Redacted(), "from", smtp.From, "links", cfg.PublicURL)
	return func() { cancel(); wg.Wait() }, nil
}
