package mailer_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/pinward/pinward/escalate"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/mailtest"
	"github.com/pinward/pinward/requests"
)

// escalationCatalog: potholes are due in 16 business hours and escalate
// at half (the department) and at the due time (the supervisor: one
// contact in English, one in French).
const escalationCatalog = `{
  "time_zone": "America/Toronto",
  "holidays": "QC",
  "departments": [{"code": "roads", "name": {"en": "Roads", "fr": "Voirie"},
    "contacts": {"department": [{"email": "roads@staff.test", "lang": "fr"}],
                 "supervisor": [{"email": "chief@staff.test", "lang": "en"}, {"email": "deputy@staff.test", "lang": "fr"}]}}],
  "categories": [{
    "code": "pothole", "name": {"en": "Pothole", "fr": "Nid-de-poule"},
    "description": {"en": "A hole.", "fr": "Un trou."}, "group": {"en": "Roads", "fr": "Voirie"},
    "department": "roads", "dedup": {"distance_m": 0, "window_hours": 0, "same_asset": false},
    "sla": {"hours": 16, "business_hours": true},
    "escalation": [{"at": "50%", "notify": "department"}, {"at": "100%", "notify": "supervisor"}]
  }]
}`

// TestEscalationMessagesGoOut: the levels a sweep fires queue their
// messages in the mail outbox; the mailer sends each once to each
// contact, in the contact's language, with the level, the due time and
// the staff queue link, nothing of the reporter and no unsubscribe.
func TestEscalationMessagesGoOut(t *testing.T) {
	forEachStore(t, func(t *testing.T, st requests.Store) {
		ctx := context.Background()
		cat, err := requests.LoadCatalog(strings.NewReader(escalationCatalog))
		if err != nil {
			t.Fatal(err)
		}
		tw := newTown(t, st, mailtest.Options{})
		tw.mailerCfg.Catalog = cat

		// Monday 2 March 2026, 09:00 in Toronto; due Tuesday 17:00.
		t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
		r := requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New,
			Point: orb.Point{-73.1, 46.05}, WardID: "1", Department: "roads",
			RequestedAt: t0, UpdatedAt: t0, DueAt: cat.DueAt("pothole", t0), Lang: i18n.En, Token: "esc-mail"}
		r.NextEscalationAt, _ = cat.LevelAt("pothole", t0, nil, 1)
		stored, err := st.CreateRequest(ctx, requests.NewRequest{Request: r,
			Reporter: &requests.Reporter{FirstName: "Zoé", LastName: "Tremblay", Email: "zoe@resident.test", Phone: "819-555-0199"},
			Event:    requests.Event{TenantID: tenant, At: t0, Actor: "resident", Kind: requests.EventCreated, To: requests.New}})
		if err != nil {
			t.Fatal(err)
		}
		id := stored.ServiceRequestID

		// Both levels are due on Wednesday morning: each fires once
		// (sweeping twice changes nothing).
		now := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
		sw := escalate.NewSweeper(escalate.Config{Store: st, Catalog: cat, Tenant: tenant, Now: func() time.Time { return now }, Log: tw.mailerCfg.Logger})
		for range 2 {
			if _, err := sw.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		tw.startMailer()
		tw.waitMail(4) // the reporter's receipt and three staff messages
		time.Sleep(500 * time.Millisecond)
		msgs := tw.waitMail(4)
		if len(msgs) != 4 {
			t.Fatalf("%d messages, want 4", len(msgs))
		}
		byTo := map[string][]mailtest.Message{}
		for _, m := range msgs {
			byTo[to(m)] = append(byTo[to(m)], m)
		}
		want := map[string]struct {
			lang, subject string
		}{
			"roads@staff.test":  {"fr", "[Escalade niveau 1] Demande " + id + " (Nid-de-poule) : en retard"},
			"chief@staff.test":  {"en", "[Escalation level 2] Request " + id + " (Pothole): overdue"},
			"deputy@staff.test": {"fr", "[Escalade niveau 2] Demande " + id + " (Nid-de-poule) : en retard"},
		}
		if len(byTo["zoe@resident.test"]) != 1 {
			t.Errorf("the reporter got %d messages, want the receipt only", len(byTo["zoe@resident.test"]))
		}
		for addr, w := range want {
			ms := byTo[addr]
			if len(ms) != 1 {
				t.Errorf("%s got %d messages, want 1", addr, len(ms))
				continue
			}
			m := ms[0]
			if m.Subject != w.subject || m.Header("Content-Language") != w.lang {
				t.Errorf("%s: subject %q in %q, want %q in %q", addr, m.Subject, m.Header("Content-Language"), w.subject, w.lang)
			}
			link := tw.srv.URL + "/staff/queue?request=" + id
			if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) {
				t.Errorf("%s: no link to %s in\n%s", addr, link, m.Text)
			}
			if dep := map[string]string{"fr": "Voirie", "en": "Roads"}[w.lang]; !strings.Contains(m.Text, ", "+dep) {
				t.Errorf("%s: the department %q is not named:\n%s", addr, dep, m.Text)
			}
			if w.lang == "fr" && !strings.Contains(m.Text, "mars 2026") {
				t.Errorf("%s: the due date is not written in French:\n%s", addr, m.Text)
			}
			all := m.Subject + m.Text + m.HTML + strings.Join(headerValues(m), "\n")
			for _, private := range []string{"Zoé", "Tremblay", "zoe@resident.test", "819-555"} {
				if strings.Contains(all, private) {
					t.Errorf("%s: the staff message carries the reporter's %q", addr, private)
				}
			}
			if m.Header("List-Unsubscribe") != "" || strings.Contains(m.Text, "/u/") {
				t.Errorf("%s: a staff message has an unsubscribe link", addr)
			}
		}
		if status, body := tw.do("GET", "/staff/queue?request="+id, "", nil); status != http.StatusOK {
			t.Errorf("GET the staff link: %d %.200s", status, body)
		}
		counts, listed := tw.outbox("")
		if counts["sent"] != 4 || counts["pending"] != 0 || counts["dead"] != 0 {
			t.Errorf("outbox counts %v", counts)
		}
		escalated := 0
		for _, m := range listed {
			if m["kind"] == "escalated" {
				escalated++
				if m["service_request_id"] != id {
					t.Errorf("staff row lists request %v, want %s", m["service_request_id"], id)
				}
			}
		}
		if escalated != 3 {
			t.Errorf("%d escalated rows listed, want 3: %v", escalated, listed)
		}
	})
}

// TestEscalationAddressRefused: a permanent 5xx for a staff address marks
// it undeliverable like a resident's; the other contacts get theirs.
func TestEscalationAddressRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, st requests.Store) {
		ctx := context.Background()
		cat, err := requests.LoadCatalog(strings.NewReader(strings.ReplaceAll(escalationCatalog, "deputy@staff.test", "deputy@gone.test")))
		if err != nil {
			t.Fatal(err)
		}
		tw := newTown(t, st, mailtest.Options{AllowedRecipients: `@staff\.test$`})
		tw.mailerCfg.Catalog = cat
		t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
		for i := range 2 {
			r := requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New,
				Point: orb.Point{-73.1 + float64(i)*1e-3, 46.05}, WardID: "1", Department: "roads",
				RequestedAt: t0, UpdatedAt: t0, DueAt: cat.DueAt("pothole", t0), Lang: i18n.En, Token: "esc-refused-" + string(rune('a'+i))}
			r.NextEscalationAt, _ = cat.LevelAt("pothole", t0, nil, 1)
			if _, err := st.CreateRequest(ctx, requests.NewRequest{Request: r,
				Event: requests.Event{TenantID: tenant, At: t0, Actor: "resident", Kind: requests.EventCreated, To: requests.New}}); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
		sw := escalate.NewSweeper(escalate.Config{Store: st, Catalog: cat, Tenant: tenant, Now: func() time.Time { return now }, Log: tw.mailerCfg.Logger})
		if _, err := sw.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		tw.startMailer()
		tw.waitMail(4) // two requests × (roads, chief)
		deadline := time.Now().Add(20 * time.Second)
		for {
			counts, _ := tw.outbox("")
			if counts["sent"] == 4 && counts["dead"] == 2 && counts["pending"] == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("outbox: %v", counts)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// One refusal marked the address; the second message to it went
		// dead without an attempt.
		_, dead := tw.outbox("dead")
		attempts := 0.0
		for _, m := range dead {
			attempts += m["attempts"].(float64)
			if strings.Contains(m["last_error"].(string), "deputy@gone.test") {
				t.Errorf("the dead letter repeats the address: %v", m)
			}
		}
		if len(dead) != 2 || attempts > 2 || attempts < 1 {
			t.Errorf("dead letters: %v", dead)
		}
		for _, m := range tw.waitMail(4) {
			if to(m) == "deputy@gone.test" {
				t.Error("a refused address got mail")
			}
		}
	})
}

func headerValues(m mailtest.Message) []string {
	var out []string
	for k, vs := range m.Headers {
		out = append(out, k+": "+strings.Join(vs, ","))
	}
	return out
}
