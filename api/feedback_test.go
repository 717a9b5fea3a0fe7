package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/requests"
)

// feedbackWorld is the world with the mail links and the residents'
// answers mounted, a clock the test moves, and departments with staff
// contacts.
type feedbackWorld struct {
	*world
	links *linktoken.Keyring
	now   *atomic.Pointer[time.Time]
}

func newFeedbackWorld(t *testing.T, st store) *feedbackWorld {
	t.Helper()
	base := newWorld(t, st) // the store's keys and the sample town
	var raw map[string]any
	if err := json.Unmarshal(data.SampleCategoriesJSON(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, d := range raw["departments"].([]any) {
		d.(map[string]any)["contacts"] = map[string]any{"department": []any{map[string]any{"email": "roads@example.ca", "lang": "fr"}}}
	}
	raw["reopen_days"] = 14
	b, _ := json.Marshal(raw)
	cat, err := requests.LoadCatalog(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := data.SampleWards()
	ix, _ := data.SampleAssets()
	now := &atomic.Pointer[time.Time]{}
	t0 := time.Now().UTC()
	now.Store(&t0)
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Assets: ix, Store: st,
		Now: func() time.Time { return *now.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	links, err := linktoken.New([]byte(strings.Repeat("k", linktoken.MinSecretLen)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{
		Service: svc, Keys: st, Jurisdiction: "sample.example", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxBody: maxBody, Mail: api.MailAPI{Store: st, Links: links, Feedback: st},
	}))
	t.Cleanup(srv.Close)
	base.srv = srv
	return &feedbackWorld{world: base, links: links, now: now}
}

func (w *feedbackWorld) token(p linktoken.Purpose, id string) string {
	tok, err := w.links.Mint(p, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

func (w *feedbackWorld) postJSON(path string, v any) response {
	b, _ := json.Marshal(v)
	return w.do("POST", path+"?locale=fr", bytes.NewReader(b), map[string]string{"Content-Type": "application/json"})
}

// state is what a refused call must leave as it was.
func (w *feedbackWorld) state(id string) string {
	w.t.Helper()
	ctx := context.Background()
	r, err := w.store.GetRequest(ctx, tenant, id)
	if err != nil {
		w.t.Fatal(err)
	}
	evs, _ := w.store.ListEvents(ctx, tenant, id)
	s, ok, _ := w.store.GetSatisfaction(ctx, tenant, id)
	mail, _ := w.store.ListMail(ctx, requests.MailFilter{Tenant: tenant})
	notify, _, _ := w.store.ReporterMail(ctx, tenant, id)
	b, _ := json.Marshal([]any{r, len(evs), s, ok, len(mail), notify})
	return string(b)
}

// TestFeedbackOverHTTP: a resident with the links of the closing mail
// rates a closed request once and reopens it within the window; every bad
// input is a bilingual 4xx that changes nothing: an unknown or forged
// token (404), satisfaction twice (409), a reopen after the window (409),
// a comment over its limit (400); an unsubscribe link used twice is 200
// both times.
func TestFeedbackOverHTTP(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newFeedbackWorld(t, b.open(t))
			ctx := context.Background()
			form := w.pothole()
			form.Set("email", "resident@example.ca")
			form.Set("locale", "fr")
			id := w.submit(form)
			form = w.pothole()
			form.Set("lat", ftoa(w.inside[1]+0.01)) // another cluster
			openID := w.submit(form)
			closeAt := *w.now.Load()
			if _, err := w.store.TransitionRequest(ctx, requests.Transition{Tenant: tenant, ServiceRequestID: id, To: requests.Closed,
				Reason: requests.ReasonFixed, PublicNoteFr: "Réparé", Actor: "key:9", At: closeAt}); err != nil {
				t.Fatal(err)
			}
			sat, reo := w.token(linktoken.Satisfaction, id), w.token(linktoken.Reopen, id)
			long := strings.Repeat("é", requests.MaxFeedbackLen+1)

			// The status page's history says until when it may reopen.
			res := w.get("/api/v1/requests/" + id + "/history?locale=fr")
			var h struct {
				ReopenUntil     string `json:"reopen_until"`
				ReopenUntilDate string `json:"reopen_until_date"`
			}
			mustJSON(t, res.body, &h)
			if until, err := time.Parse(time.RFC3339, h.ReopenUntil); err != nil || !until.Equal(closeAt.Add(14*24*time.Hour).Truncate(time.Second)) || h.ReopenUntilDate == "" {
				t.Errorf("history reopen_until %+v (%v)", h, err)
			}

			bad := []struct {
				name   string
				id     string
				call   func() response
				status int
			}{
				{"forged satisfaction token", id, func() response {
					return w.postJSON("/api/v1/requests/"+id+"/satisfaction", map[string]any{"token": sat[:len(sat)-2] + "AA", "score": 4})
				}, 404},
				{"unknown token", id, func() response {
					return w.get("/api/v1/requests/" + id + "/satisfaction?locale=fr&token=nope")
				}, 404},
				{"another request's token", openID, func() response {
					return w.postJSON("/api/v1/requests/"+openID+"/satisfaction", map[string]any{"token": sat, "score": 4})
				}, 404},
				{"a reopen token for satisfaction", id, func() response {
					return w.postJSON("/api/v1/requests/"+id+"/satisfaction", map[string]any{"token": reo, "score": 4})
				}, 404},
				{"a satisfaction token to reopen", id, func() response {
					return w.postJSON("/api/v1/requests/"+id+"/reopen", map[string]any{"token": sat, "comment": "Toujours là"})
				}, 404},
				{"a token of a request that does not exist", id, func() response {
					return w.postJSON("/api/v1/requests/999999/satisfaction", map[string]any{"token": w.token(linktoken.Satisfaction, "999999"), "score": 4})
				}, 404},
				{"satisfaction comment over its limit", id, func() response {
					return w.postJSON("/api/v1/requests/"+id+"/satisfaction", map[string]any{"token": sat, "score": 4, "comment": long})
				}, 400},
				{"score 6", id, func() response {
					return w.postJSON("/api/v1/requests/"+id+"/satisfaction", map[string]any{"token": sat, "score": 6})
				}, 400},
				{"no score", id, func() response {
					return w.postJSON("/api/v1/requests/"+id+"/satisfaction", map[string]any{"token": sat})
				}, 400},
				{"reopen comment over its limit", id, func() response {
					return w.postJSON("/api/v1/requests/"+id+"/reopen", map[string]any{"token": reo, "comment": long})
				}, 400},
				{"reopen without a comment", id, func() response {
					return w.postJSON("/api/v1/requests/"+id+"/reopen", map[string]any{"token": reo, "comment": "  "})
				}, 400},
				{"satisfaction before closure", openID, func() response {
					return w.postJSON("/api/v1/requests/"+openID+"/satisfaction", map[string]any{"token": w.token(linktoken.Satisfaction, openID), "score": 4})
				}, 409},
				{"reopen of an open request", openID, func() response {
					return w.postJSON("/api/v1/requests/"+openID+"/reopen", map[string]any{"token": w.token(linktoken.Reopen, openID), "comment": "?"})
				}, 409},
			}
			for _, c := range bad {
				before := w.state(c.id)
				e := checkError(t, c.call(), c.status)
				if e.Description != e.DescriptionFr {
					t.Errorf("%s: a French page's error is not in French: %+v", c.name, e)
				}
				if after := w.state(c.id); after != before {
					t.Errorf("%s changed the request:\n%s\n%s", c.name, before, after)
				}
			}

			// Satisfaction once: 201, then 409 with the first answer kept.
			res = w.postJSON("/api/v1/requests/"+id+"/satisfaction", map[string]any{"token": sat, "score": 2, "comment": "Mal bouché"})
			if res.status != http.StatusCreated || !strings.Contains(string(res.body), `"score":2`) {
				t.Fatalf("satisfaction: %d %s", res.status, res.body)
			}
			before := w.state(id)
			checkError(t, w.postJSON("/api/v1/requests/"+id+"/satisfaction", map[string]any{"token": sat, "score": 5}), 409)
			if w.state(id) != before {
				t.Error("a second satisfaction changed something")
			}
			res = w.get("/api/v1/requests/" + id + "/satisfaction?token=" + sat)
			if res.status != http.StatusOK || !strings.Contains(string(res.body), `"given":true,"score":2,"comment":"Mal bouché"`) {
				t.Errorf("GET satisfaction: %d %s", res.status, res.body)
			}

			// Reopen within the window: back in the queue, the staff told.
			w.now.Store(ptr(closeAt.Add(13 * 24 * time.Hour)))
			res = w.postJSON("/api/v1/requests/"+id+"/reopen", map[string]any{"token": reo, "comment": "Le trou est revenu"})
			if res.status != http.StatusOK || !strings.Contains(string(res.body), `"detailed_status":"reopened","detailed_status_label":"Rouverte"`) {
				t.Fatalf("reopen: %d %s", res.status, res.body)
			}
			r, _ := w.store.GetRequest(ctx, tenant, id)
			evs, _ := w.store.ListEvents(ctx, tenant, id)
			last := evs[len(evs)-1]
			if r.Status != requests.Reopened || last.To != requests.Reopened || last.Actor != requests.ResidentActor || last.InternalNote != "Le trou est revenu" {
				t.Errorf("after reopen: %s, event %+v", r.Status, last)
			}
			ms, _ := w.store.ListMail(ctx, requests.MailFilter{Tenant: tenant})
			kinds := map[requests.MailKind]int{}
			for _, m := range ms {
				kinds[m.Kind]++
			}
			if kinds[requests.MailReopenedStaff] != 1 || kinds[requests.MailReopened] != 1 {
				t.Errorf("outbox after reopen: %v", kinds)
			}
			q, err := w.store.Queue(ctx, requests.QueueQuery{Tenant: tenant, Department: r.Department, Now: *w.now.Load(), Limit: 50})
			if err != nil || !queueHas(q, id) {
				t.Errorf("the reopened request is not in its department's queue: %v", err)
			}
			// Reopened, it is no longer closed: a second reopen is 409.
			before = w.state(id)
			checkError(t, w.postJSON("/api/v1/requests/"+id+"/reopen", map[string]any{"token": reo, "comment": "encore"}), 409)
			if w.state(id) != before {
				t.Error("a second reopen changed something")
			}

			// Closed again, then 15 days later: past the window, 409.
			if _, err := w.store.TransitionRequest(ctx, requests.Transition{Tenant: tenant, ServiceRequestID: id, To: requests.Closed,
				Reason: requests.ReasonFixed, Actor: "key:9", At: *w.now.Load()}); err != nil {
				t.Fatal(err)
			}
			w.now.Store(ptr(w.now.Load().Add(15 * 24 * time.Hour)))
			before = w.state(id)
			e := checkError(t, w.postJSON("/api/v1/requests/"+id+"/reopen", map[string]any{"token": reo, "comment": "Encore"}), 409)
			if !strings.Contains(e.DescriptionFr, "14 jours") || w.state(id) != before {
				t.Errorf("reopen after the window: %+v, changed: %v", e, w.state(id) != before)
			}

			// An unsubscribe link used twice: 200 both times, unsubscribed once.
			unsub := "/u/" + w.token(linktoken.Unsubscribe, id)
			for i := range 2 {
				res := w.do("POST", unsub, strings.NewReader("List-Unsubscribe=One-Click"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
				if res.status != http.StatusOK {
					t.Fatalf("unsubscribe #%d: %d %s", i+1, res.status, res.body)
				}
				if notify, _, err := w.store.ReporterMail(ctx, tenant, id); notify || err != nil {
					t.Errorf("unsubscribe #%d: still notified (%v)", i+1, err)
				}
			}
			checkError(t, w.do("POST", "/u/"+w.token(linktoken.Reopen, id), nil, nil), 404)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func queueHas(q []requests.QueueRow, id string) bool {
	for _, it := range q {
		if it.Request.ServiceRequestID == id {
			return true
		}
	}
	return false
}
