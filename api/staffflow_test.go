package api_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
)

type staffDoc struct {
	ServiceRequestID string   `json:"service_request_id"`
	Status           string   `json:"status"`
	CloseReason      string   `json:"close_reason"`
	StatusNotesEn    string   `json:"status_notes_en"`
	StatusNotesFr    string   `json:"status_notes_fr"`
	Assignee         string   `json:"assignee"`
	Channel          string   `json:"channel"`
	PausedAt         string   `json:"paused_at"`
	Next             []string `json:"next"`
	Token            string   `json:"token"`
}

type historyDoc struct {
	ServiceRequestID    string `json:"service_request_id"`
	Status              string `json:"status"`
	DetailedStatus      string `json:"detailed_status"`
	DetailedStatusLabel string `json:"detailed_status_label"`
	CloseReason         string `json:"close_reason"`
	StatusNotes         string `json:"status_notes"`
	ExpectedDate        string `json:"expected_date"`
	History             []struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	} `json:"history"`
}

func TestStaffWorkflowAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, base *world) {
		w := newClusterWorld(t, base.store)
		id := w.report(w.a, "marie@example.ca")
		path := "/api/v1/requests/" + id

		// A template gives both languages.
		res := w.staff("POST", path+"/transition", `{"template":"received_reviewing","internal_note":"rappeler Marie"}`)
		var doc staffDoc
		if res.status != http.StatusOK {
			t.Fatalf("acknowledge: %d %s", res.status, res.body)
		}
		mustJSON(t, res.body, &doc)
		if doc.Status != "acknowledged" || !strings.Contains(doc.StatusNotesEn, "We received request "+id) ||
			!strings.Contains(doc.StatusNotesFr, "Nous avons reçu la demande "+id) || !strings.Contains(doc.StatusNotesFr, "Travaux publics") {
			t.Errorf("acknowledged: %s", res.body)
		}

		// A refused move: 409 in both languages, nothing changed.
		e := checkError(t, w.staff("POST", path+"/transition", `{"to":"reopened"}`), http.StatusConflict)
		if e.Field != "status" || !strings.Contains(e.DescriptionFr, "Rouverte") || !strings.Contains(e.DescriptionEn, "Reopened") {
			t.Errorf("409 %+v", e)
		}
		for body, field := range map[string]string{
			`{"to":"closed"}`:                     "reason",
			`{"to":"closed","reason":"referred"}`: "referred_to",
			`{"to":"open"}`:                       "to",
			`{"to":"in_progress","public_note_en":"` + strings.Repeat("x", 4001) + `"}`: "public_note_en",
			`{"to":"in_progress","public_note_fr":"a\u0000b"}`:                          "public_note_fr",
			`{"to":"in_progress","template":"roads_fixed"}`:                             "template",
		} {
			if e := checkError(t, w.staff("POST", path+"/transition", body), http.StatusBadRequest); e.Field != field {
				t.Errorf("%.60s: field %q, want %q", body, e.Field, field)
			}
		}
		checkError(t, w.staff("POST", path+"/transition", `{"to":"in_progress","colour":"red"}`), http.StatusBadRequest)
		checkError(t, w.staff("POST", "/api/v1/requests/999999/transition", `{"to":"in_progress"}`), http.StatusNotFound)

		// Waiting on the resident, a note in French only: kept as written.
		res = w.staff("POST", path+"/transition", `{"to":"waiting_on_resident","public_note_fr":"Quel coin de rue?"}`)
		mustJSON(t, res.body, &doc)
		if res.status != http.StatusOK || doc.PausedAt == "" || doc.StatusNotesEn != "" || doc.StatusNotesFr != "Quel coin de rue?" {
			t.Errorf("waiting: %d %s", res.status, res.body)
		}
		// Open311 shows the latest public note in the asked language, or
		// as written; and the detailed status.
		for _, loc := range []string{"en", "fr"} {
			var recs []struct {
				Status         string `json:"status"`
				DetailedStatus string `json:"detailed_status"`
				StatusNotes    string `json:"status_notes"`
			}
			mustJSON(t, w.get("/open311/v2/requests/"+id+".json?locale="+loc).body, &recs)
			if len(recs) != 1 || recs[0].Status != "open" || recs[0].DetailedStatus != "waiting_on_resident" || recs[0].StatusNotes != "Quel coin de rue?" {
				t.Errorf("Open311 in %s: %+v", loc, recs)
			}
		}
		var x struct {
			XMLName xml.Name `xml:"service_requests"`
			Reqs    []struct {
				DetailedStatus string `xml:"detailed_status"`
				StatusNotes    string `xml:"status_notes"`
			} `xml:"request"`
		}
		mustXML(t, w.get("/open311/v2/requests/"+id+".xml?locale=fr").body, &x)
		if len(x.Reqs) != 1 || x.Reqs[0].DetailedStatus != "waiting_on_resident" || x.Reqs[0].StatusNotes != "Quel coin de rue?" {
			t.Errorf("Open311 XML: %+v", x)
		}

		// Assign, note, then close with a referral.
		res = w.staff("POST", path+"/assign", `{"assignee":"crew-7"}`)
		mustJSON(t, res.body, &doc)
		if res.status != http.StatusOK || doc.Assignee != "crew-7" || doc.Status != "waiting_on_resident" {
			t.Errorf("assign: %d %s", res.status, res.body)
		}
		checkError(t, w.staff("POST", path+"/assign", `{}`), http.StatusBadRequest)
		if res = w.staff("POST", path+"/notes", `{"internal_note":"Called, no answer."}`); res.status != http.StatusCreated {
			t.Errorf("note: %d %s", res.status, res.body)
		}
		checkError(t, w.staff("POST", path+"/notes", `{"internal_note":"  "}`), http.StatusBadRequest)
		res = w.staff("POST", path+"/transition", `{"to":"closed","reason":"referred","referred_to":"Hydro-Québec","public_note_en":"Hydro-Québec owns this pole."}`)
		mustJSON(t, res.body, &doc)
		if res.status != http.StatusOK || doc.Status != "closed" || doc.CloseReason != "referred" || len(doc.Next) != 1 || doc.Next[0] != "reopened" {
			t.Errorf("close: %d %s", res.status, res.body)
		}

		// The public history: public notes only, in the page's language.
		var h historyDoc
		res = w.get("/api/v1/requests/" + id + "/history?locale=fr")
		mustJSON(t, res.body, &h)
		if res.status != http.StatusOK || h.DetailedStatus != "closed" || h.DetailedStatusLabel != "Fermée" || h.CloseReason != "referred" ||
			len(h.History) != 4 || h.History[0].Status != "new" || !strings.HasPrefix(h.History[1].Note, "Nous avons reçu") ||
			h.History[2].Note != "Quel coin de rue?" || h.History[3].Note != "Hydro-Québec owns this pole." {
			t.Errorf("history: %d %s", res.status, res.body)
		}
		if strings.Contains(string(res.body), "rappeler") || strings.Contains(string(res.body), "crew-7") ||
			strings.Contains(string(res.body), "marie@") || strings.Contains(string(res.body), "key:") {
			t.Errorf("history leaks staff matters: %s", res.body)
		}
		checkError(t, w.get("/api/v1/requests/notatoken/history"), http.StatusNotFound)

		// The staff events carry the internal notes.
		res = w.staff("GET", path+"/events", "")
		for _, want := range []string{`"internal_note":"rappeler Marie"`, `"template":"received_reviewing"`, `"reason":"referred: Hydro-Québec"`, `"kind":"note"`, `"kind":"assigned"`} {
			if !strings.Contains(string(res.body), want) {
				t.Errorf("events lack %s: %s", want, res.body)
			}
		}

		// A clerk enters a request for a caller; the channel is required.
		form := `{"service_code":"pothole","lat":` + ftoa(w.b[1]) + `,"long":` + ftoa(w.b[0]) + `,"description":"Appel : trou profond","attributes":{"size":"large"},"channel":"phone","locale":"fr"}`
		res = w.staff("POST", "/api/v1/requests", form)
		mustJSON(t, res.body, &doc)
		if res.status != http.StatusCreated || doc.Channel != "phone" || doc.Status != "new" || doc.Token == "" {
			t.Fatalf("staff intake: %d %s", res.status, res.body)
		}
		res = w.staff("GET", "/api/v1/requests/"+doc.ServiceRequestID+"/events", "")
		if !strings.Contains(string(res.body), `"actor":"key:`) || !strings.Contains(string(res.body), `"kind":"created"`) {
			t.Errorf("intake event: %s", res.body)
		}
		if e := checkError(t, w.staff("POST", "/api/v1/requests", strings.Replace(form, `"phone"`, `"web"`, 1)), http.StatusBadRequest); e.Field != "channel" {
			t.Errorf("intake as web: %+v", e)
		}
		intake := doc.ServiceRequestID
		mustJSON(t, w.get("/api/v1/requests/"+doc.Token+"/history").body, &h)
		if h.ServiceRequestID != doc.ServiceRequestID || h.ExpectedDate == "" {
			t.Errorf("history by token: %+v", h)
		}

		// Templates for a category.
		var ts []struct {
			ID string `json:"id"`
		}
		mustJSON(t, w.staff("GET", "/api/v1/templates?service_code=pothole", "").body, &ts)
		var names []string
		for _, x := range ts {
			names = append(names, x.ID)
		}
		if got := strings.Join(names, ","); !strings.Contains(got, "pothole_scheduled") || strings.Contains(got, "streetlight_crew") {
			t.Errorf("pothole templates: %s", got)
		}
		checkError(t, w.staff("GET", "/api/v1/templates?service_code=nope", ""), http.StatusBadRequest)

		// A cluster's move: 409 when none of its requests may make it.
		c := w.report(w.b, "") // joins the clerk's request's cluster
		cl := intake
		res = w.staff("POST", "/api/v1/clusters/"+cl+"/transition", `{"template":"pothole_scheduled"}`)
		if res.status != http.StatusOK || !strings.Contains(string(res.body), `"changed_requests":["`+cl+`","`+c+`"]`) {
			t.Errorf("cluster transition: %d %s", res.status, res.body)
		}
		checkError(t, w.staff("POST", "/api/v1/clusters/"+cl+"/transition", `{"to":"in_progress"}`), http.StatusConflict)
		// The first close API still works, old reason names included.
		res = w.staff("POST", "/api/v1/clusters/"+cl+"/close", `{"note":"Filled","reason":"resolved"}`)
		if res.status != http.StatusOK {
			t.Errorf("close: %d %s", res.status, res.body)
		}
		var hc historyDoc
		mustJSON(t, w.get("/api/v1/requests/"+c+"/history").body, &hc)
		if hc.CloseReason != "fixed" || hc.StatusNotes != "Filled" {
			t.Errorf("closed through /close: %+v", hc)
		}
	})
}
