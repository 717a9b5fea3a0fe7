package mailer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/internal/mailtest"
	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/mailer"
	"github.com/pinward/pinward/requests"
)

// accessLink finds the access link in a message and returns its token.
var accessLink = regexp.MustCompile(`(https?://\S+/rights\?locale=(en|fr))#([A-Za-z0-9_-]+)`)

// wantError checks a bilingual error answer of status.
func wantError(t *testing.T, what string, status int, body []byte, want int) {
	t.Helper()
	var es []struct {
		Kind string `json:"kind"`
		En   string `json:"description_en"`
		Fr   string `json:"description_fr"`
	}
	if status != want || json.Unmarshal(body, &es) != nil || len(es) != 1 || es[0].En == "" || es[0].Fr == "" || es[0].En == es[0].Fr {
		t.Errorf("%s: %d %s; want a bilingual %d", what, status, body, want)
	}
}

// TestResidentRights: with the tracking token (or number) and the address
// they gave, a resident gets a one-time link by mail, in their language;
// a wrong address gets the same answer and no mail; the link opens once
// (410 after, 404 forged, 410 expired) and gives everything held under
// the address with English and French labels; one deletion request goes
// through the opened link; an admin carries it out: the reporter and
// their queued messages go, the request stays, each step an event.
func TestResidentRights(t *testing.T) {
	forEachStore(t, func(t *testing.T, st requests.Store) {
		ctx := context.Background()
		tw := newTown(t, st, mailtest.Options{})
		tw.startMailer()
		f := url.Values{"api_key": {tw.keys[requests.RoleIntegrator]}, "service_code": {"pothole"},
			"lat": {strconv.FormatFloat(tw.inside[1], 'f', -1, 64)}, "long": {strconv.FormatFloat(tw.inside[0]+0.0001, 'f', -1, 64)},
			"description": {"Trou profond devant le 12"}, "attribute[size]": {"large"}, "email": {"Anne@ok.test"},
			"first_name": {"Anne"}, "last_name": {"Roy"}, "phone": {"819-555-0100"}, "locale": {"fr"}}
		status, body := tw.do("POST", "/open311/v2/requests.json", f.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if status != http.StatusCreated {
			t.Fatalf("POST requests: %d %s", status, body)
		}
		var created []struct {
			ID    string `json:"service_request_id"`
			Token string `json:"token"`
		}
		if err := json.Unmarshal(body, &created); err != nil || len(created) != 1 || created[0].Token == "" {
			t.Fatalf("POST answer %s: %v", body, err)
		}
		id, token := created[0].ID, created[0].Token
		tw.waitMail(1) // the receipt
		js := map[string]string{"Content-Type": "application/json"}
		post := func(path string, v any) (int, []byte) {
			t.Helper()
			b, _ := json.Marshal(v)
			return tw.do("POST", path, string(b), js)
		}

		// Bad input: bilingual 4xx, nothing sent.
		for _, c := range []struct {
			what string
			body any
			want int
		}{
			{"no token", map[string]string{"email": "anne@ok.test"}, 400},
			{"no address", map[string]string{"token": token}, 400},
			{"not an address", map[string]string{"token": token, "email": "anne at ok"}, 400},
			{"a NUL", map[string]string{"token": token, "email": "anne@ok.test\x00"}, 400},
			{"an unknown field", map[string]string{"token": token, "email": "anne@ok.test", "name": "x"}, 400},
		} {
			status, body := post("/api/v1/rights/link", c.body)
			wantError(t, c.what, status, body, c.want)
		}
		status, body = tw.do("POST", "/api/v1/rights/link", "token=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		wantError(t, "a form body", status, body, http.StatusUnsupportedMediaType)

		// A wrong address, an unknown token: the same answer as the
		// right one, and no mail.
		// (Nor in its time: every answer waits a floor of 250 ms, longer
		// than either path takes.)
		start := time.Now()
		_, neutral := post("/api/v1/rights/link", map[string]string{"token": token, "email": "paul@ok.test"})
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("a miss answered in %v, before the 250 ms floor", d)
		}
		for _, body := range []map[string]string{
			{"token": "no-such-token", "email": "anne@ok.test"},
			{"token": "999999", "email": "anne@ok.test"},
		} {
			if status, got := post("/api/v1/rights/link", body); status != http.StatusAccepted || string(got) != string(neutral) {
				t.Errorf("link for %v: %d %s; want the neutral 202 %s", body, status, got, neutral)
			}
		}
		start = time.Now()
		status, got := post("/api/v1/rights/link", map[string]string{"token": token, "email": " ANNE@ok.test"})
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("a match answered in %v, before the 250 ms floor", d)
		}
		if status != http.StatusAccepted || string(got) != string(neutral) {
			t.Fatalf("link for the right address: %d %s; want the neutral 202 %s", status, got, neutral)
		}
		tw.waitMail(2)
		time.Sleep(300 * time.Millisecond) // the wrong ones send nothing
		msgs := tw.waitMail(2)
		if len(msgs) != 2 {
			t.Fatalf("%d messages, want the receipt and one access link", len(msgs))
		}
		var access mailtest.Message
		for _, m := range msgs {
			if strings.Contains(m.Text, "/rights?") {
				access = m
			}
		}
		if to(access) != "Anne@ok.test" || access.Header("Content-Language") != "fr" || !strings.Contains(access.Subject, "demande "+id) {
			t.Fatalf("access message to %s (%s): %q\n%s", to(access), access.Header("Content-Language"), access.Subject, access.Text)
		}
		if all := access.Subject + access.Text + access.HTML; strings.Contains(all, "Anne") || strings.Contains(all, "Roy") || strings.Contains(all, "819-555") {
			t.Errorf("the access message repeats personal information:\n%s", access.Text)
		}
		m := accessLink.FindStringSubmatch(access.Text)
		if m == nil || !strings.HasPrefix(m[1], tw.srv.URL) || !strings.Contains(access.HTML, m[0]) {
			t.Fatalf("no access link on the server in:\n%s", access.Text)
		}
		link := m[3]
		// The page the link opens; fetching it uses nothing up (mail
		// scanners fetch links): the token is in the fragment.
		if status, page := tw.do("GET", m[1], "", nil); status != http.StatusOK || !strings.Contains(string(page), "rights") {
			t.Fatalf("GET %s: %d", m[1], status)
		}

		// A forged link, and a link of another purpose: 404.
		status, body = post("/api/v1/rights/open", map[string]string{"token": link[:len(link)-2] + "AA"})
		wantError(t, "a forged link", status, body, http.StatusNotFound)
		keys, err := mailer.LinkKeys(ctx, st, tenant)
		if err != nil {
			t.Fatal(err)
		}
		subject, err := keys.Verify(linktoken.Rights, link)
		if err != nil {
			t.Fatal(err)
		}
		unsub, _ := keys.Mint(linktoken.Unsubscribe, subject)
		status, body = post("/api/v1/rights/open", map[string]string{"token": unsub})
		wantError(t, "an unsubscribe token as an access link", status, body, http.StatusNotFound)

		// The link, once.
		status, body = post("/api/v1/rights/open", map[string]string{"token": link})
		if status != http.StatusOK {
			t.Fatalf("open: %d %s", status, body)
		}
		var opened struct {
			Export struct {
				Email    string `json:"email"`
				Sections []struct {
					Name   string                       `json:"name"`
					Label  map[string]string            `json:"label"`
					Fields map[string]map[string]string `json:"fields"`
					Items  []map[string]any             `json:"items"`
				} `json:"sections"`
			} `json:"export"`
			ActionToken string `json:"action_token"`
		}
		if err := json.Unmarshal(body, &opened); err != nil {
			t.Fatal(err)
		}
		sections := map[string][]map[string]any{}
		for _, s := range opened.Export.Sections {
			if s.Label["en"] == "" || s.Label["fr"] == "" {
				t.Errorf("section %s is not labelled in both languages: %v", s.Name, s.Label)
			}
			for _, it := range s.Items {
				for k := range it {
					if l := s.Fields[k]; l["en"] == "" || l["fr"] == "" {
						t.Errorf("section %s field %s has no bilingual label", s.Name, k)
					}
				}
			}
			sections[s.Name] = s.Items
		}
		if rep := sections["reporters"]; len(rep) != 1 || rep[0]["email"] != "Anne@ok.test" || rep[0]["last_name"] != "Roy" || rep[0]["phone"] != "819-555-0100" {
			t.Errorf("reporters %v", rep)
		}
		if rq := sections["requests"]; len(rq) != 1 || rq[0]["service_request_id"] != id || rq[0]["description"] != "Trou profond devant le 12" {
			t.Errorf("requests %v", rq)
		}
		kinds := map[any]bool{}
		for _, it := range sections["messages"] {
			kinds[it["kind"]] = true
		}
		if !kinds["received"] || !kinds["access"] {
			t.Errorf("messages %v, want the receipt and the access link", sections["messages"])
		}
		evKinds := map[any]bool{}
		for _, it := range sections["events"] {
			evKinds[it["kind"]] = true
		}
		if !evKinds["created"] || !evKinds["rights_link"] || !evKinds["rights_opened"] {
			t.Errorf("events %v", sections["events"])
		}
		status, body = post("/api/v1/rights/open", map[string]string{"token": link})
		wantError(t, "the link a second time", status, body, http.StatusGone)

		// An expired link: 410.
		old, err := st.QueueRightsLink(ctx, requests.RightsLinkAsk{Tenant: tenant, Token: token, Email: "anne@ok.test",
			At: time.Now().Add(-requests.RightsLinkTTL - time.Minute)})
		if err != nil || old == 0 {
			t.Fatalf("queue an old link: %d, %v", old, err)
		}
		expired, _ := keys.Mint(linktoken.Rights, strconv.FormatInt(old, 10))
		status, body = post("/api/v1/rights/open", map[string]string{"token": expired})
		wantError(t, "an expired link", status, body, http.StatusGone)

		// One request through the opened link.
		status, body = post("/api/v1/rights/file", map[string]string{"action_token": link, "kind": "deletion"})
		wantError(t, "the access link as an action token", status, body, http.StatusNotFound)
		status, body = post("/api/v1/rights/file", map[string]string{"action_token": opened.ActionToken, "kind": "forget"})
		wantError(t, "an unknown kind", status, body, http.StatusBadRequest)
		status, body = post("/api/v1/rights/file", map[string]string{"action_token": opened.ActionToken, "kind": "deletion", "text": "Oubliez-moi"})
		if status != http.StatusCreated {
			t.Fatalf("file: %d %s", status, body)
		}
		var filed struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal(body, &filed)
		status, body = post("/api/v1/rights/file", map[string]string{"action_token": opened.ActionToken, "kind": "correction", "text": "x"})
		wantError(t, "a second request through the link", status, body, http.StatusConflict)

		// The log: admin only.
		admin := map[string]string{"X-Api-Key": tw.keys[requests.RoleAdmin], "Content-Type": "application/json"}
		if status, _ := tw.do("GET", "/api/v1/rights/requests", "", map[string]string{"X-Api-Key": tw.keys[requests.RoleStaff]}); status != http.StatusForbidden {
			t.Errorf("a staff key reads the rights log: %d", status)
		}
		status, body = tw.do("GET", "/api/v1/rights/requests?state=open", "", admin)
		var log []struct {
			ID     int64  `json:"id"`
			Email  string `json:"email"`
			Kind   string `json:"kind"`
			State  string `json:"state"`
			Text   string `json:"text"`
			Events []struct {
				Kind  string `json:"kind"`
				Actor string `json:"actor"`
			} `json:"events"`
		}
		if err := json.Unmarshal(body, &log); status != http.StatusOK || err != nil || len(log) != 1 || log[0].ID != filed.ID ||
			log[0].Email != "anne@ok.test" || log[0].Kind != "deletion" || len(log[0].Events) != 1 || log[0].Events[0].Kind != "rights_requested" {
			t.Fatalf("log: %d %s", status, body)
		}
		path := "/api/v1/rights/requests/" + strconv.FormatInt(filed.ID, 10)
		for _, c := range []struct {
			what, body string
			want       int
		}{
			{"an unknown action", `{"action":"ignore"}`, 400},
			{"a correction of a deletion request", `{"action":"correct","last_name":"X"}`, 400},
			{"a refusal without a reason", `{"action":"refuse"}`, 400},
		} {
			status, body := tw.do("POST", path, c.body, admin)
			wantError(t, c.what, status, body, c.want)
		}
		status, body = tw.do("POST", "/api/v1/rights/requests/99999", `{"action":"delete"}`, admin)
		wantError(t, "an unknown rights request", status, body, http.StatusNotFound)

		// A message still queued to Anne goes with the deletion.
		tw.stopMail()
		status, body = tw.do("POST", "/api/v1/requests/"+id+"/transition", `{"to":"closed","reason":"resolved","public_note_en":"Filled"}`,
			map[string]string{"X-Api-Key": tw.keys[requests.RoleStaff], "Content-Type": "application/json"})
		if status != http.StatusOK {
			t.Fatalf("close: %d %s", status, body)
		}
		if counts, _ := tw.outbox("pending"); counts["pending"] == 0 {
			t.Fatalf("pending messages before the deletion: %v", counts)
		}
		status, body = tw.do("POST", path, `{"action":"delete"}`, admin)
		if status != http.StatusOK || !strings.Contains(string(body), `"state":"deleted"`) || !strings.Contains(string(body), `"email":""`) ||
			!strings.Contains(string(body), "rights_deleted") || !strings.Contains(string(body), "Oubliez-moi") {
			t.Fatalf("delete: %d %s", status, body)
		}
		status, body = tw.do("POST", path, `{"action":"delete"}`, admin)
		wantError(t, "acting twice", status, body, http.StatusConflict)
		if counts, _ := tw.outbox("pending"); counts["pending"] != 0 {
			t.Errorf("pending messages after the deletion: %v", counts)
		}
		status, body = tw.do("GET", "/api/v1/requests/"+id+"/reporter", "", map[string]string{"X-Api-Key": tw.keys[requests.RoleStaff]})
		if status != http.StatusOK || strings.Contains(string(body), "ok.test") || strings.Contains(string(body), "Roy") {
			t.Errorf("reporter after the deletion: %d %s", status, body)
		}
		if req, err := st.GetRequest(ctx, tenant, id); err != nil || req.Description != "Trou profond devant le 12" {
			t.Errorf("the request after the deletion: %+v, %v", req, err)
		}
		// Asking again finds no one: the same answer, no link.
		if status, got := post("/api/v1/rights/link", map[string]string{"token": token, "email": "anne@ok.test"}); status != http.StatusAccepted || string(got) != string(neutral) {
			t.Errorf("link after the deletion: %d %s", status, got)
		}
		if d, err := st.RightsData(ctx, tenant, "anne@ok.test"); err != nil || len(d.Reporters)+len(d.Messages) != 0 {
			t.Errorf("held under the address after the deletion: %+v, %v", d, err)
		}
	})
}
