package requests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
)

// workflowCatalog is testCatalog with templates and an auto-close rule.
const workflowExtra = `,
  "auto_close": {"waiting_days": 10},
  "templates": [
    {"id": "pothole_scheduled", "service_codes": ["pothole"], "to": "in_progress",
     "en": "Request {service_request_id} in {ward_name}: {service_name} repair by {due_date} ({department}).",
     "fr": "Demande {service_request_id}, {ward_name} : réparation ({service_name}) d'ici le {due_date} ({department})."},
    {"id": "works_fixed", "department": "public_works", "to": "closed", "reason": "fixed",
     "en": "Fixed: {service_request_id}.", "fr": "Réglé : {service_request_id}."}
  ]
}`

func workflowWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	cat, err := LoadCatalog(strings.NewReader(strings.TrimSuffix(testCatalog, "\n}") + workflowExtra))
	if err != nil {
		t.Fatal(err)
	}
	w.svc.cfg.Catalog = cat
	return w
}

func TestTemplateRendersPerLanguage(t *testing.T) {
	w := workflowWorld(t)
	ctx := context.Background()
	r := w.submit(t, pothole(inWard1)) // due Tue 10 March 2026
	got, err := w.svc.Transition(ctx, r.ServiceRequestID, TransitionInput{Template: "pothole_scheduled", Actor: "key:1"})
	if err != nil {
		t.Fatal(err)
	}
	wantEn := "Request 1 in West: Pothole repair by March 10, 2026 (Public Works)."
	wantFr := "Demande 1, Ouest : réparation (Nid-de-poule) d'ici le 10 mars 2026 (Travaux publics)."
	if got.Status != InProgress || got.StatusNotes != wantEn || got.StatusNotesFr != wantFr {
		t.Errorf("after the template: %s %q %q", got.Status, got.StatusNotes, got.StatusNotesFr)
	}
	evs, _ := w.svc.Events(ctx, r.ServiceRequestID)
	last := evs[len(evs)-1]
	if last.Template != "pothole_scheduled" || last.PublicNote(i18n.Fr) != wantFr || last.From != New || last.To != InProgress {
		t.Errorf("event %+v", last)
	}
	// A hand-written note wins over the template's text in its language.
	r2 := w.submit(t, pothole(offset(inWard1, 200, 0)))
	got, err = w.svc.Transition(ctx, r2.ServiceRequestID, TransitionInput{Template: "works_fixed", PublicNoteFr: "Bouché ce matin.", Actor: "key:1"})
	if err != nil || got.Status != Closed || got.CloseReason != ReasonFixed || got.StatusNotes != "Fixed: 2." || got.StatusNotesFr != "Bouché ce matin." {
		t.Errorf("close with a template = %+v, %v", got, err)
	}
}

func TestTransitionRefusals(t *testing.T) {
	w := workflowWorld(t)
	ctx := context.Background()
	r := w.submit(t, pothole(inWard1))
	long := strings.Repeat("é", MaxNoteLen+1)
	for _, tc := range []struct {
		name  string
		in    TransitionInput
		kind  i18n.Kind
		field string
	}{
		{"no status", TransitionInput{Actor: "k"}, i18n.Invalid, "to"},
		{"unknown status", TransitionInput{To: "open", Actor: "k"}, i18n.Invalid, "to"},
		{"close without reason", TransitionInput{To: Closed, Actor: "k"}, i18n.Invalid, "reason"},
		{"unknown reason", TransitionInput{To: Closed, Reason: "bored", Actor: "k"}, i18n.Invalid, "reason"},
		{"reason without close", TransitionInput{To: InProgress, Reason: "fixed", Actor: "k"}, i18n.Invalid, "reason"},
		{"referral to nobody", TransitionInput{To: Closed, Reason: "referred", Actor: "k"}, i18n.Invalid, "referred_to"},
		{"NUL in a note", TransitionInput{To: InProgress, PublicNoteEn: "a\x00b", Actor: "k"}, i18n.Invalid, "public_note_en"},
		{"bad UTF-8", TransitionInput{To: InProgress, InternalNote: "\xff", Actor: "k"}, i18n.Invalid, "internal_note"},
		{"too long", TransitionInput{To: InProgress, PublicNoteFr: long, Actor: "k"}, i18n.Invalid, "public_note_fr"},
		{"unknown template", TransitionInput{Template: "nope", Actor: "k"}, i18n.Invalid, "template"},
		{"template for another move", TransitionInput{To: Acknowledged, Template: "pothole_scheduled", Actor: "k"}, i18n.Invalid, "template"},
		{"forbidden move", TransitionInput{To: Reopened, Actor: "k"}, i18n.Conflict, "status"},
	} {
		_, err := w.svc.Transition(ctx, r.ServiceRequestID, tc.in)
		if e, ok := err.(*i18n.Error); !ok || e.Kind != tc.kind || e.Field != tc.field || e.Message.En == "" || e.Message.Fr == "" {
			t.Errorf("%s: %v, want %s on %s", tc.name, err, tc.kind, tc.field)
		}
	}
	if got, _ := w.svc.Get(ctx, r.ServiceRequestID); got.Status != New || got.UpdatedAt != r.UpdatedAt {
		t.Errorf("a refused move changed the request: %+v", got)
	}
}

// The SLA clock stops while the request waits on the resident and the due
// time moves by the working time it stood still.
func TestPauseMovesDueTime(t *testing.T) {
	w := workflowWorld(t)
	ctx := context.Background()
	r := w.submit(t, pothole(inWard1))                   // Tue 3 March 09:00 Toronto, due Tue 10 March 09:00
	w.now = time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC) // Tue 10:00
	p, err := w.svc.Transition(ctx, r.ServiceRequestID, TransitionInput{To: WaitingOnResident, PublicNoteEn: "Which corner?", Actor: "k"})
	if err != nil || !p.PausedAt.Equal(w.now) || !p.DueAt.Equal(r.DueAt) {
		t.Fatalf("pause = %+v, %v", p, err)
	}
	w.now = time.Date(2026, 3, 5, 15, 0, 0, 0, time.UTC) // Thu 10:00: two working days later
	got, err := w.svc.Transition(ctx, r.ServiceRequestID, TransitionInput{To: InProgress, Actor: "k"})
	want := r.DueAt.Add(2 * 24 * time.Hour) // Thu 12 March 09:00, 16 working hours later
	if err != nil || !got.PausedAt.IsZero() || !got.DueAt.Equal(want) || got.StatusNotes != "Which corner?" {
		t.Errorf("resume = due %v paused %v notes %q, %v; want due %v", got.DueAt, got.PausedAt, got.StatusNotes, err, want)
	}
}

func TestAutoCloseSweep(t *testing.T) {
	w := workflowWorld(t)
	ctx := context.Background()
	a := w.submit(t, pothole(inWard1))
	b := w.submit(t, pothole(offset(inWard1, 300, 0)))
	for _, r := range []Request{a, b} {
		if _, err := w.svc.Transition(ctx, r.ServiceRequestID, TransitionInput{To: WaitingOnResident, Actor: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	w.now = w.now.Add(time.Hour)
	if _, err := w.svc.Transition(ctx, b.ServiceRequestID, TransitionInput{To: InProgress, Actor: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Transition(ctx, b.ServiceRequestID, TransitionInput{To: WaitingOnResident, Actor: "k"}); err != nil {
		t.Fatal(err)
	}
	// Tue 3 March 09:00 (a) and 10:00 (b) + 10 business days: Tue 17 March.
	w.now = time.Date(2026, 3, 17, 13, 30, 0, 0, time.UTC) // 09:30 Toronto (daylight time)
	n, err := w.svc.AutoCloseSweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep closed %d, %v; want 1", n, err)
	}
	ga, _ := w.svc.Get(ctx, a.ServiceRequestID)
	gb, _ := w.svc.Get(ctx, b.ServiceRequestID)
	if ga.Status != Closed || ga.CloseReason != ReasonNoResponse || !strings.Contains(ga.StatusNotesFr, "10 jours ouvrables") {
		t.Errorf("a after the sweep: %+v", ga)
	}
	if gb.Status != WaitingOnResident {
		t.Errorf("b closed before its time: %+v", gb)
	}
	if n, err := w.svc.AutoCloseSweep(ctx); err != nil || n != 0 {
		t.Errorf("second sweep closed %d, %v", n, err)
	}
}

func TestTemplateCatalogChecks(t *testing.T) {
	base := strings.TrimSuffix(testCatalog, "\n}")
	for _, tc := range []struct{ name, extra, field string }{
		{"unknown placeholder", `, "templates": [{"id": "x", "to": "acknowledged", "en": "{name}", "fr": "{name}"}]}`, "templates[x].en"},
		{"one language", `, "templates": [{"id": "x", "to": "acknowledged", "en": "Hi", "fr": ""}]}`, "templates[x]"},
		{"unknown category", `, "templates": [{"id": "x", "service_codes": ["nope"], "to": "acknowledged", "en": "a", "fr": "b"}]}`, "templates[x].service_codes"},
		{"close without reason", `, "templates": [{"id": "x", "to": "closed", "en": "a", "fr": "b"}]}`, "templates[x].reason"},
		{"unknown status", `, "templates": [{"id": "x", "to": "open", "en": "a", "fr": "b"}]}`, "templates[x].to"},
		{"zero days", `, "auto_close": {"waiting_days": 0}}`, "auto_close.waiting_days"},
	} {
		_, err := LoadCatalog(strings.NewReader(base + tc.extra))
		if e, ok := err.(*i18n.Error); !ok || e.Field != tc.field {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
}
