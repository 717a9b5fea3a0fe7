package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/requests"
)

// workorderFlags configure work-order delivery for serve.
type workorderFlags struct {
	webhook, secret string
	timeout         time.Duration
	backoff         time.Duration
	maxAttempts     int
	statusPoll      time.Duration
	allowPrivate    bool
}

func (wf *workorderFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&wf.webhook, "workorder-webhook", "", "send every department's work orders to this webhook `URL` (departments with their own connector keep it)")
	fs.StringVar(&wf.secret, "workorder-secret", "", "HMAC-SHA256 `secret` signing --workorder-webhook deliveries (better: PINWARD_WORKORDER_SECRET)")
	fs.DurationVar(&wf.timeout, "workorder-timeout", 10*time.Second, "time limit of one delivery attempt")
	fs.DurationVar(&wf.backoff, "workorder-backoff", time.Second, "wait before the first retry, doubled each attempt (with jitter, capped at 10m)")
	fs.IntVar(&wf.maxAttempts, "workorder-max-attempts", 10, "delivery attempts before a work order is dead-lettered for staff")
	fs.DurationVar(&wf.statusPoll, "workorder-status-poll", time.Minute, "how often Open311 connectors poll the receiving system for status")
	fs.BoolVar(&wf.allowPrivate, "allow-private-webhooks", false, "let webhooks and connectors reach loopback, private, link-local and metadata addresses (refused by default, checked at connect time)")
}

// workorders is serve's work-order wiring: which departments send work
// orders (the Service opens one for each of their new clusters), and the
// running dispatcher.
type workorders struct {
	sends func(string) bool // nil: none
	stop  func()
}

// setup builds the connectors of the catalog and the flags and starts the
// dispatcher (stopped by stop, before the store closes). The requests a
// work order's status change moves reach the map through the store's
// change stream, like every other change.
func (wf *workorderFlags) setup(ctx context.Context, env Env, log *slog.Logger, cat *requests.Catalog, tenant string, st requests.Store) (*workorders, error) {
	httpc := dispatch.NewClient(wf.allowPrivate) // each attempt is bounded by the dispatcher's timeout
	conns, err := dispatch.FromCatalog(cat, env.Getenv, httpc)
	if err != nil {
		return nil, usageError{err}
	}
	cfg := dispatch.Config{
		Tenant: tenant, Store: st, Connectors: conns,
		MaxAttempts: wf.maxAttempts, BaseDelay: wf.backoff, Timeout: wf.timeout,
		StatusInterval: wf.statusPoll, Logger: log,
	}
	if wf.webhook != "" {
		if wf.secret == "" {
			return nil, usageErrorf("--workorder-webhook needs --workorder-secret (or PINWARD_WORKORDER_SECRET)")
		}
		if err := requests.CheckWebhookURL(wf.webhook); err != nil {
			return nil, usageErrorf("--workorder-webhook: %v", err)
		}
		cfg.Default = &dispatch.Webhook{URL: wf.webhook, Secret: []byte(wf.secret), Client: httpc}
	}
	w := &workorders{sends: cfg.Sends(), stop: func() {}}
	if w.sends == nil {
		return w, nil
	}
	if w.stop, err = dispatch.Start(ctx, cfg); err != nil {
		return nil, err
	}
	log.InfoContext(ctx, "delivering work orders", "departments", len(conns), "webhook", wf.webhook != "")
	return w, nil
}
