package dispatch

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/pinward/pinward/requests"
)

// Flags are serve's work-order delivery flags.
type Flags struct {
	Webhook, Secret string
	Timeout         time.Duration
	Backoff         time.Duration
	MaxAttempts     int
	StatusPoll      time.Duration
	AllowPrivate    bool
}

// Register adds the --workorder-* flags and --allow-private-webhooks to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Webhook, "workorder-webhook", "", "send every department's work orders to this webhook `URL` (departments with their own connector keep it)")
	fs.StringVar(&f.Secret, "workorder-secret", "", "HMAC-SHA256 `secret` signing --workorder-webhook deliveries (better: PINWARD_WORKORDER_SECRET)")
	fs.DurationVar(&f.Timeout, "workorder-timeout", 10*time.Second, "time limit of one delivery attempt")
	fs.DurationVar(&f.Backoff, "workorder-backoff", time.Second, "wait before the first retry, doubled each attempt (with jitter, capped at 10m)")
	fs.IntVar(&f.MaxAttempts, "workorder-max-attempts", 10, "delivery attempts before a work order is dead-lettered for staff")
	fs.DurationVar(&f.StatusPoll, "workorder-status-poll", time.Minute, "how often Open311 connectors poll the receiving system for status")
	fs.BoolVar(&f.AllowPrivate, "allow-private-webhooks", false, "let webhooks and connectors reach loopback, private, link-local and metadata addresses (refused by default, checked at connect time)")
}

// Config builds the dispatcher's configuration from the catalog's
// connectors (their secrets read with getenv) and the flags. Every error
// is the operator's: a missing secret or a bad flag.
func (f *Flags) Config(cat *requests.Catalog, getenv func(string) string, tenant string, st requests.OutboxStore, log *slog.Logger) (Config, error) {
	httpc := NewClient(f.AllowPrivate) // each attempt is bounded by the dispatcher's timeout
	conns, err := FromCatalog(cat, getenv, httpc)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Tenant: tenant, Store: st, Connectors: conns,
		MaxAttempts: f.MaxAttempts, BaseDelay: f.Backoff, Timeout: f.Timeout,
		StatusInterval: f.StatusPoll, Logger: log,
	}
	if f.Webhook != "" {
		if f.Secret == "" {
			return Config{}, SetupError{"--workorder-webhook needs --workorder-secret (or PINWARD_WORKORDER_SECRET)"}
		}
		if err := requests.CheckWebhookURL(f.Webhook); err != nil {
			return Config{}, SetupError{fmt.Sprintf("--workorder-webhook: %v", err)}
		}
		cfg.Default = &Webhook{URL: f.Webhook, Secret: []byte(f.Secret), Client: httpc}
	}
	return cfg, nil
}

// StartSending starts the dispatcher of cfg when it delivers some
// department's work orders (see Start); otherwise stop does nothing.
func StartSending(ctx context.Context, cfg Config) (stop func(), err error) {
	if cfg.Sends() == nil {
		return func() {}, nil
	}
	if stop, err = Start(ctx, cfg); err != nil {
		return nil, err
	}
	cfg.Logger.InfoContext(ctx, "delivering work orders", "departments", len(cfg.Connectors), "webhook", cfg.Default != nil)
	return stop, nil
}
