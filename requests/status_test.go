package requests

import (
	"slices"
	"testing"

	"github.com/pinward/pinward/i18n"
)

func TestStatusTransitions(t *testing.T) {
	// The README's status table, written out by hand.
	allowed := map[[2]Status]bool{
		{New, Acknowledged}: true, {New, InProgress}: true, {New, WaitingOnResident}: true, {New, Closed}: true,
		{Acknowledged, InProgress}: true, {Acknowledged, WaitingOnResident}: true, {Acknowledged, Closed}: true,
		{InProgress, WaitingOnResident}: true, {InProgress, Closed}: true,
		{WaitingOnResident, InProgress}: true, {WaitingOnResident, Closed}: true,
		{Closed, Reopened}:     true,
		{Reopened, InProgress}: true, {Reopened, WaitingOnResident}: true, {Reopened, Closed}: true,
	}
	if n := len(Statuses()); n != 6 {
		t.Errorf("%d statuses, want 6", n)
	}
	for _, from := range Statuses() {
		if !from.Valid() {
			t.Errorf("%s not valid", from)
		}
		for _, to := range Statuses() {
			if got := from.CanTransition(to); got != allowed[[2]Status{from, to}] {
				t.Errorf("%s → %s allowed = %v", from, to, got)
			}
		}
	}
	if Status("pending").Valid() || Status("pending").CanTransition(New) || New.CanTransition("pending") {
		t.Error("an unknown status is accepted")
	}
}

func TestStatusOpen311(t *testing.T) {
	for s, want := range map[Status]string{New: "open", Acknowledged: "open", InProgress: "open", WaitingOnResident: "open", Closed: "closed", Reopened: "open"} {
		if got := s.Open311(); got != want {
			t.Errorf("%s.Open311() = %s, want %s", s, got, want)
		}
		if l := s.Label(); l.En == "" || l.Fr == "" || l.En == l.Fr && s != Closed {
			t.Errorf("%s.Label() = %+v", s, l)
		}
	}
}

func TestOpen311Statuses(t *testing.T) {
	for _, s := range Statuses() {
		got, ok := Open311Statuses(s.Open311())
		if !ok || !slices.Contains(got, s) {
			t.Errorf("Open311Statuses(%q) = %v, lacks %s", s.Open311(), got, s)
		}
	}
	if _, ok := Open311Statuses("in_progress"); ok {
		t.Error(`Open311Statuses("in_progress") accepted`)
	}
}

func TestTransitionError(t *testing.T) {
	e := TransitionError(Closed, InProgress)
	if e.Kind != i18n.Conflict || e.Field != "status" {
		t.Errorf("TransitionError = %+v", e)
	}
	if want := "a request that is Closed cannot become In progress"; e.Message.En != want {
		t.Errorf("English message %q, want %q", e.Message.En, want)
	}
}

func TestServiceRequestID(t *testing.T) {
	for _, id := range []int64{1, 42, 1 << 62} {
		s := FormatServiceRequestID(id)
		if got, ok := ParseServiceRequestID(s); !ok || got != id {
			t.Errorf("ParseServiceRequestID(%q) = %d, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "0", "-1", "+1", "007", "1.5", "abc", "99999999999999999999", " 1"} {
		if id, ok := ParseServiceRequestID(s); ok {
			t.Errorf("ParseServiceRequestID(%q) = %d, true", s, id)
		}
	}
}

func TestAPIKey(t *testing.T) {
	k1, h1 := NewAPIKey()
	k2, h2 := NewAPIKey()
	if k1 == k2 || h1 == h2 || len(k1) < 40 || k1[:3] != "pw_" {
		t.Errorf("keys %q %q not random or badly formed", k1, k2)
	}
	if HashAPIKey(k1) != h1 || len(h1) != 64 {
		t.Errorf("HashAPIKey(%q) = %q, NewAPIKey gave %q", k1, HashAPIKey(k1), h1)
	}
	for _, r := range []Role{RoleIntegrator, RoleStaff, RoleAdmin} {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	if Role("root").Valid() {
		t.Error(`Role("root") is valid`)
	}
}
