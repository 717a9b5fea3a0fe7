// Package opsmetrics is the part of /metrics an operator watches beyond
// HTTP: outbox depth, dead letters and delivery lag per connector, open
// and overdue requests (read from the store when scraped), and the
// reporter purge's runs.
package opsmetrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/pinward/pinward/requests"
	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds the store read of one scrape: a slow database
// must not hang the scraper.
const scrapeTimeout = 5 * time.Second

// Collector reads requests.OpsStats at each scrape. Register it once per
// server; every server reports the same store figures, so alert on max,
// not sum.
type Collector struct {
	store  requests.OpsStatsStore
	tenant string
	now    func() time.Time
	log    *slog.Logger

	outbox, oldest, open, overdue, up *prometheus.Desc

	purgeRuns   *prometheus.CounterVec
	purgedTotal prometheus.Counter
	mu          sync.Mutex // one store read at a time, however many scrapers
}

// New returns the collector of tenant's figures, registered on reg.
func New(reg prometheus.Registerer, st requests.OpsStatsStore, tenant string, log *slog.Logger) (*Collector, error) {
	c := &Collector{
		store: st, tenant: tenant, now: time.Now, log: log,
		outbox: prometheus.NewDesc("pinward_outbox_messages",
			"Outbox messages not yet delivered, by connector (department) and state (pending, dead).",
			[]string{"connector", "state"}, nil),
		oldest: prometheus.NewDesc("pinward_outbox_oldest_pending_age_seconds",
			"Age of the oldest pending outbox message, by connector: how far delivery lags.",
			[]string{"connector"}, nil),
		open:    prometheus.NewDesc("pinward_requests_open", "Requests not closed.", nil, nil),
		overdue: prometheus.NewDesc("pinward_requests_overdue", "Requests not closed whose SLA due time has passed.", nil, nil),
		up: prometheus.NewDesc("pinward_ops_stats_up",
			"1 when the last scrape read the store's figures, 0 when it failed (the other ops figures are then absent).", nil, nil),
		purgeRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinward_purge_runs_total",
			Help: "Runs of the reporters' personal-information purge, by outcome (ok, error).",
		}, []string{"outcome"}),
		purgedTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pinward_purged_reporters_total",
			Help: "Requests whose reporter's personal information the purge removed.",
		}),
	}
	for _, col := range []prometheus.Collector{c, c.purgeRuns, c.purgedTotal} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// PurgeRan records one run of the purge: n reporters removed, or err.
func (c *Collector) PurgeRan(n int, err error) {
	if err != nil {
		c.purgeRuns.WithLabelValues("error").Inc()
		return
	}
	c.purgeRuns.WithLabelValues("ok").Inc()
	c.purgedTotal.Add(float64(n))
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.outbox, c.oldest, c.open, c.overdue, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one store read per scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	now := c.now()
	st, err := c.store.OpsStats(ctx, c.tenant, now)
	if err != nil {
		if c.log != nil {
			c.log.Warn("metrics: reading the store's figures", "err", err)
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.Open))
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(st.Overdue))
	for _, o := range st.Outbox {
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(o.Pending), o.Connector, "pending")
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(o.Dead), o.Connector, "dead")
		age := 0.0
		if !o.OldestPending.IsZero() {
			age = max(0, now.Sub(o.OldestPending).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, o.Connector)
	}
}
