package requests

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
)

const testContacts = `{"code": "public_works", "name": {"en": "Public Works", "fr": "Travaux publics"},
     "contacts": {"department": [{"email": "roads@example.ca", "lang": "fr"}],
                  "supervisor": [{"email": "chief@example.ca", "lang": "en"}, {"email": "adjoint@example.ca", "lang": "fr"}],
                  "director": [{"email": "dg@example.ca", "lang": "fr"}]}},`

const testLevels = `"sla": {"hours": 40, "business_hours": true},
      "escalation": [{"at": "75%", "notify": "department"}, {"at": "100%", "notify": "supervisor"},
                     {"at": "100%+2bd", "notify": "director"}],`

// escalationCatalog is the test catalog with public works' contacts and
// three levels on potholes (40 business hours).
func escalationCatalog(t *testing.T, levels string) (*Catalog, error) {
	t.Helper()
	doc := strings.Replace(testCatalog,
		`{"code": "public_works", "name": {"en": "Public Works", "fr": "Travaux publics"}},`, testContacts, 1)
	doc = strings.Replace(doc, `"sla": {"hours": 40, "business_hours": true},`, levels, 1)
	return LoadCatalog(strings.NewReader(doc))
}

func TestLevelAt(t *testing.T) {
	c, err := escalationCatalog(t, testLevels)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { return toronto(t, s).UTC() }
	for _, tc := range []struct {
		name     string
		received string
		pauses   []Pause
		want     [3]string
	}{
		// 30, 40 and 40+16 business hours of 8 a day.
		{"a plain week", "2026-03-02 08:30", nil, [3]string{"2026-03-05 14:30", "2026-03-06 16:30", "2026-03-10 16:30"}},
		// A working day waiting on the resident moves every level a day.
		{"paused a day", "2026-03-02 08:30", []Pause{{Start: at("2026-03-03 08:30"), End: at("2026-03-04 08:30")}},
			[3]string{"2026-03-06 14:30", "2026-03-09 16:30", "2026-03-11 16:30"}},
		// 1 July (a closure here) moves every level a day.
		{"over a holiday", "2026-06-30 08:30", nil, [3]string{"2026-07-06 14:30", "2026-07-07 16:30", "2026-07-09 16:30"}},
	} {
		for i, w := range tc.want {
			got, ok := c.LevelAt("pothole", at(tc.received), tc.pauses, i+1)
			if !ok || !got.Equal(at(w)) {
				t.Errorf("%s: level %d at %v (%v), want %s", tc.name, i+1, got.In(c.Location()), ok, w)
			}
		}
	}
	if _, ok := c.LevelAt("pothole", at("2026-03-02 08:30"), nil, 4); ok {
		t.Error("a fourth level exists")
	}
	if _, ok := c.LevelAt("road_damage", at("2026-03-02 08:30"), nil, 1); ok {
		t.Error("a category without escalation has a level")
	}
	// Paused before level 2 and still waiting: no next time.
	st := EscalationState{ServiceCode: "pothole", Status: WaitingOnResident, RequestedAt: at("2026-03-02 08:30"),
		EscalationLevel: 1, PausedAt: at("2026-03-06 09:00")}
	st.Pauses = PausesOf([]StatusStep{{At: st.PausedAt, From: InProgress, To: WaitingOnResident}}, st.PausedAt)
	if got := c.NextEscalation(st); !got.IsZero() {
		t.Errorf("next escalation while paused: %v, want none", got)
	}
	st.Status = Closed
	st.Pauses, st.PausedAt = nil, time.Time{}
	if got := c.NextEscalation(st); !got.IsZero() {
		t.Errorf("next escalation of a closed request: %v, want none", got)
	}
	if got := c.Contacts("public_works", "supervisor"); len(got) != 2 || got[1] != (Contact{Email: "adjoint@example.ca", Lang: i18n.Fr}) {
		t.Errorf("supervisor contacts %+v", got)
	}
}

func TestPausesOf(t *testing.T) {
	t1, t2, t3 := time.Unix(100, 0), time.Unix(200, 0), time.Unix(300, 0)
	steps := []StatusStep{
		{At: t1, From: InProgress, To: WaitingOnResident},
		{At: t2, From: WaitingOnResident, To: InProgress},
		{At: t3, From: InProgress, To: WaitingOnResident},
	}
	got := PausesOf(steps, t3)
	if len(got) != 2 || got[0] != (Pause{t1, t2}) || got[1] != (Pause{Start: t3}) {
		t.Errorf("PausesOf = %+v", got)
	}
	if got := PausesOf(steps[:2], time.Time{}); len(got) != 1 || got[0] != (Pause{t1, t2}) {
		t.Errorf("PausesOf (resumed) = %+v", got)
	}
	if got := PausesOf(nil, t2); len(got) != 1 || got[0] != (Pause{Start: t2}) {
		t.Errorf("PausesOf (paused without a step) = %+v", got)
	}
}

func TestSLAState(t *testing.T) {
	c := loadTest(t)
	at := func(s string) time.Time { return toronto(t, s).UTC() }
	received := at("2026-03-02 08:30")
	st := c.SLAState("pothole", received, nil, at("2026-03-03 12:30")) // 12 of 40 business hours gone
	if !st.HasSLA || st.Remaining != 28*time.Hour || st.OverdueBy != 0 || st.Paused {
		t.Errorf("on time: %+v", st)
	}
	st = c.SLAState("pothole", received, nil, at("2026-03-09 10:30")) // due Fri 16:30, 2 h over
	if st.Remaining != 0 || st.OverdueBy != 2*time.Hour {
		t.Errorf("overdue: %+v", st)
	}
	st = c.SLAState("pothole", received, []Pause{{Start: at("2026-03-03 08:30")}}, at("2026-03-20 10:30"))
	if !st.Paused || st.Remaining != 32*time.Hour {
		t.Errorf("paused after a day: %+v", st)
	}
	if st := c.SLAState("nope", received, nil, received); st.HasSLA {
		t.Errorf("unknown category: %+v", st)
	}
}

func TestEscalationConfigErrors(t *testing.T) {
	for _, tc := range []struct{ levels, field string }{
		{`"sla": {"hours": 40, "business_hours": true}, "escalation": [{"at": "75", "notify": "department"}],`, "categories[pothole].escalation[0].at"},
		{`"sla": {"hours": 40, "business_hours": true}, "escalation": [{"at": "100%+2d", "notify": "department"}],`, "categories[pothole].escalation[0].at"},
		{`"sla": {"hours": 40, "business_hours": true}, "escalation": [{"at": "0%", "notify": "department"}],`, "categories[pothole].escalation[0].at"},
		{`"sla": {"hours": 40, "business_hours": true}, "escalation": [{"at": "100%", "notify": "mayor"}],`, "categories[pothole].escalation[0].notify"},
		{`"sla": {"hours": 40, "business_hours": true}, "escalation": [{"at": "100%+1bd", "notify": "department"}, {"at": "100%", "notify": "department"}],`, "categories[pothole].escalation[1].at"},
		{`"sla": {"hours": 0}, "escalation": [{"at": "100%", "notify": "department"}],`, "categories[pothole].escalation"},
	} {
		_, err := escalationCatalog(t, tc.levels)
		var e *i18n.Error
		if !errors.As(err, &e) || e.Field != tc.field || e.Message.En == "" || e.Message.Fr == "" || e.Message.En == e.Message.Fr {
			t.Errorf("%s: %v, want a bilingual error on %s", tc.levels, err, tc.field)
		}
	}
	// A category routed to a department without the group is refused.
	doc := strings.Replace(testCatalog, `"sla": {"hours": 24, "business_hours": false}`,
		`"sla": {"hours": 24, "business_hours": false}, "escalation": [{"at": "50%", "notify": "department"}]`, 1)
	doc = strings.Replace(doc, `{"code": "public_works", "name": {"en": "Public Works", "fr": "Travaux publics"}},`, testContacts, 1)
	if _, err := LoadCatalog(strings.NewReader(doc)); i18n.KindOf(err) != i18n.Invalid || !strings.Contains(err.Error(), "contractor") {
		t.Errorf("ward department without contacts: %v", err)
	}
	for _, bad := range []string{
		`"department": [{"email": "not an address", "lang": "fr"}]`,
		`"department": [{"email": "a@example.ca", "lang": "de"}]`,
		`"department": []`,
		`"Bad Group": [{"email": "a@example.ca", "lang": "fr"}]`,
	} {
		doc := strings.Replace(testCatalog, `{"code": "parks", "name": {"en": "Parks", "fr": "Parcs"}},`,
			`{"code": "parks", "name": {"en": "Parks", "fr": "Parcs"}, "contacts": {`+bad+`}},`, 1)
		_, err := LoadCatalog(strings.NewReader(doc))
		if i18n.KindOf(err) != i18n.Invalid || !strings.Contains(err.Error(), "departments[parks].contacts") {
			t.Errorf("contacts %s: %v", bad, err)
		}
	}
}
