package live

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collectors are the stream's metrics, for a Prometheus registry:
// pinward_change_stream_lag_seconds (how long ago the views were last
// known current), pinward_change_stream_last_change_timestamp_seconds and
// pinward_changes_applied_total by view.
func (s *Stream) Collectors() []prometheus.Collector {
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pinward_change_stream_lag_seconds",
			Help: "Seconds since this server's views last held every change the store had handed out.",
		}, func() float64 { return s.Lag().Behind(time.Now()).Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pinward_change_stream_last_change_timestamp_seconds",
			Help: "When the last change applied to this server's views was written (0: none since start).",
		}, func() float64 {
			if at := s.Lag().LastChange; !at.IsZero() {
				return float64(at.UnixNano()) / 1e9
			}
			return 0
		}),
	}
	for _, r := range s.views {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "pinward_changes_applied_total",
			Help:        "Changes applied to an in-memory view since the server started.",
			ConstLabels: prometheus.Labels{"view": r.name},
		}, func() float64 { return float64(r.applied.Load()) }))
	}
	return cs
}
