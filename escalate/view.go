package escalate

import (
	"context"
	"fmt"

	"github.com/pinward/pinward/requests"
)

// View keeps every open request's next escalation time current: register
// it on the change stream (live.Stream) for requests.ChangeRequest. For
// each changed request it reads the state back, computes the next level's
// time and stores it when it differs from the stored one. Storing it is a
// change too, which comes back here, computes the same time and stops:
// the update never loops. The store writes only while the request is as
// read, so a view holding an older state never overwrites a newer one.
type View struct {
	cfg Config
}

// NewView returns the view of cfg.
func NewView(cfg Config) *View { return &View{cfg: cfg.withDefaults()} }

// Load implements live.View: every open request is recomputed (a catalog
// whose escalation changed since the last start moves their times), page
// by page.
func (v *View) Load(ctx context.Context) error {
	q := requests.QueueQuery{Tenant: v.cfg.Tenant, Sort: requests.SortReceived, Limit: requests.MaxQueueLimit}
	changed := 0
	for {
		rows, err := v.cfg.Store.Queue(ctx, q)
		if err != nil {
			return fmt.Errorf("escalate: load: %w", err)
		}
		states := make([]requests.EscalationState, len(rows))
		for i, r := range rows {
			states[i] = requests.EscalationState{
				ID: r.Request.ID, ServiceCode: r.Request.ServiceCode, Status: r.Request.Status,
				RequestedAt: r.Request.RequestedAt, PausedAt: r.PausedAt, Pauses: r.Pauses,
				EscalationLevel: r.Request.EscalationLevel, NextEscalationAt: r.Request.NextEscalationAt,
			}
		}
		n, err := v.update(ctx, states)
		if err != nil {
			return fmt.Errorf("escalate: load: %w", err)
		}
		changed += n
		if len(rows) < q.Limit {
			break
		}
		c := q.CursorAfter(rows[len(rows)-1])
		q.After = &c
	}
	if changed > 0 {
		v.cfg.Log.InfoContext(ctx, "escalation times recomputed at start", "changed", changed)
	}
	return nil
}

// Apply implements live.View.
func (v *View) Apply(ctx context.Context, cs []requests.Change) error {
	var ids []string
	seen := map[string]bool{}
	for _, c := range cs {
		if c.Kind != requests.ChangeRequest {
			continue
		}
		if c.Key == requests.AllKeys {
			return v.Load(ctx)
		}
		if !seen[c.Key] {
			seen[c.Key] = true
			ids = append(ids, c.Key)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), requests.MaxListLimit)
		states, err := v.cfg.Store.EscalationStates(ctx, v.cfg.Tenant, ids[:n])
		if err != nil {
			return fmt.Errorf("escalate: read changed requests: %w", err)
		}
		if _, err := v.update(ctx, states); err != nil {
			return fmt.Errorf("escalate: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// update stores the next times of states that differ from the stored ones.
func (v *View) update(ctx context.Context, states []requests.EscalationState) (int, error) {
	var ns []requests.NextEscalation
	for _, st := range states {
		next := v.cfg.Catalog.NextEscalation(st)
		if next.Equal(st.NextEscalationAt) {
			continue
		}
		ns = append(ns, requests.NextEscalation{ID: st.ID, Status: st.Status, PausedAt: st.PausedAt,
			EscalationLevel: st.EscalationLevel, At: next})
	}
	return v.cfg.Store.SetNextEscalations(ctx, v.cfg.Tenant, ns)
}
