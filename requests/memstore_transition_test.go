package requests

import (
	"context"
	"time"
)

// The memStore's part of TransitionStore: Transition.Apply under the
// store's lock, as the real stores do it under a row lock.

func (m *memStore) TransitionRequest(_ context.Context, t Transition) (Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(t.Tenant, t.ServiceRequestID)
	if err != nil {
		return Request{}, err
	}
	next, ev, err := t.Apply(*r)
	if err != nil {
		return Request{}, err
	}
	m.addEvent(ev)
	*r = next
	return next, nil
}

func (m *memStore) AssignRequest(_ context.Context, a Assignment) (Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(a.Tenant, a.ServiceRequestID)
	if err != nil {
		return Request{}, err
	}
	r.Assignee, r.UpdatedAt = a.Assignee, a.At
	m.addEvent(Event{TenantID: a.Tenant, RequestID: r.ID, At: a.At, Actor: a.Actor, Kind: EventAssigned, From: r.Status, To: r.Status, Note: a.Assignee})
	return *r, nil
}

func (m *memStore) AddStaffNote(_ context.Context, n StaffNote) (Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(n.Tenant, n.ServiceRequestID)
	if err != nil {
		return Event{}, err
	}
	ev := Event{TenantID: n.Tenant, RequestID: r.ID, At: n.At, Actor: n.Actor, Kind: EventNote, From: r.Status, To: r.Status, InternalNote: n.Note}
	m.addEvent(ev)
	return ev, nil
}

func (m *memStore) WaitingSince(_ context.Context, tenant string, before, afterAt time.Time, afterID int64, limit int) ([]Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Request
	for _, r := range m.reqs {
		if r.TenantID == tenant && r.Status == WaitingOnResident && !r.PausedAt.After(before) && len(out) < limit &&
			(r.PausedAt.After(afterAt) || r.PausedAt.Equal(afterAt) && r.ID > afterID) {
			out = append(out, r)
		}
	}
	return out, nil
}
