package requests

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// IncidentRetention is how long the register keeps an incident at least:
// Québec's regulation on confidentiality incidents asks for five years
// after the municipality learned of it (PIPEDA's breach records, 24
// months, are covered). Nothing in pinward deletes an incident: the
// retention purge touches reporters only.
const IncidentRetention = 5 * 365 * 24 * time.Hour

// Incident is one entry of the register of confidentiality incidents that
// Law 25 (s. 3.8) and PIPEDA (s. 10.3) require, with the fields of
// Québec's Regulation respecting confidentiality incidents (s. 7).
type Incident struct {
	ID       int64 // store-assigned
	TenantID string
	// OccurredFrom is the date of the incident or the start of the period
	// it lasted; OccurredTo its end (zero: a single date).
	OccurredFrom, OccurredTo time.Time
	DiscoveredAt             time.Time // when the municipality learned of it
	Description              string    // what happened
	Information              string    // the personal information concerned
	PeopleCount              int       // the number of people concerned; -1 when not known
	// RiskAssessment is the assessment of the risk of serious injury to
	// the people concerned, RiskFactors what it weighed (sensitivity of
	// the information, likely misuse, consequences), SeriousRisk its
	// conclusion.
	RiskAssessment string
	RiskFactors    string
	SeriousRisk    bool
	// RegulatorNotifiedAt is when the Commission d'accès à l'information
	// (or the Privacy Commissioner of Canada) was notified, PeopleNotifiedAt
	// when the people concerned were; zero: not notified.
	RegulatorNotifiedAt time.Time
	PeopleNotifiedAt    time.Time
	Measures            string // what was done to reduce the risk and prevent a recurrence
	RecordedBy          string // who entered it ("key:3", "cli")
	RecordedAt          time.Time
}

// IncidentStore keeps the register. Incidents are only ever added: there
// is no update or delete, and no purge reaches them.
type IncidentStore interface {
	// CreateIncident stores in (as CheckIncident left it), assigning ID.
	CreateIncident(ctx context.Context, in Incident) (Incident, error)
	// ListIncidents returns the tenant's incidents, the latest discovered
	// first (DiscoveredAt, then ID, descending).
	ListIncidents(ctx context.Context, tenant string) ([]Incident, error)
}

// IncidentIn is an incident as an administrator enters it (the API's JSON
// body, the CLI's flags): dates as YYYY-MM-DD or RFC 3339, "" for none.
type IncidentIn struct {
	OccurredFrom        string `json:"occurred_from"`
	OccurredTo          string `json:"occurred_to"`
	DiscoveredAt        string `json:"discovered_at"`
	Description         string `json:"description"`
	Information         string `json:"personal_information"`
	PeopleCount         *int   `json:"people_count"` // null: not known
	RiskAssessment      string `json:"risk_assessment"`
	RiskFactors         string `json:"risk_factors"`
	SeriousRisk         bool   `json:"serious_risk"`
	RegulatorNotifiedAt string `json:"regulator_notified_at"`
	PeopleNotifiedAt    string `json:"people_notified_at"`
	Measures            string `json:"measures"`
}

// NewIncident checks what an administrator entered and returns the
// incident to store for tenant, recorded by actor at now; Invalid naming
// the field at fault.
func NewIncident(in IncidentIn, tenant, actor string, now time.Time) (Incident, error) {
	inc := Incident{TenantID: tenant, RecordedBy: actor, RecordedAt: now.UTC().Truncate(time.Microsecond), SeriousRisk: in.SeriousRisk, PeopleCount: -1}
	dates := []struct {
		field    string
		v        string
		dst      *time.Time
		required bool
	}{
		{"occurred_from", in.OccurredFrom, &inc.OccurredFrom, true},
		{"occurred_to", in.OccurredTo, &inc.OccurredTo, false},
		{"discovered_at", in.DiscoveredAt, &inc.DiscoveredAt, true},
		{"regulator_notified_at", in.RegulatorNotifiedAt, &inc.RegulatorNotifiedAt, false},
		{"people_notified_at", in.PeopleNotifiedAt, &inc.PeopleNotifiedAt, false},
	}
	for _, d := range dates {
		t, err := parseIncidentDate(d.field, d.v, d.required)
		if err != nil {
			return Incident{}, err
		}
		*d.dst = t
	}
	switch {
	case !inc.OccurredTo.IsZero() && inc.OccurredTo.Before(inc.OccurredFrom):
		return Incident{}, invalid("occurred_to", i18n.T("is before occurred_from", "est antérieure à occurred_from"))
	case inc.DiscoveredAt.Before(inc.OccurredFrom):
		return Incident{}, invalid("discovered_at", i18n.T("is before occurred_from", "est antérieure à occurred_from"))
	case inc.DiscoveredAt.After(inc.RecordedAt):
		return Incident{}, invalid("discovered_at", i18n.T("is in the future", "est dans le futur"))
	}
	for _, n := range []struct {
		field string
		t     time.Time
	}{{"regulator_notified_at", inc.RegulatorNotifiedAt}, {"people_notified_at", inc.PeopleNotifiedAt}} {
		if !n.t.IsZero() && n.t.Before(inc.OccurredFrom) {
			return Incident{}, invalid(n.field, i18n.T("is before occurred_from", "est antérieure à occurred_from"))
		}
	}
	if in.PeopleCount != nil {
		if *in.PeopleCount < 0 {
			return Incident{}, invalid("people_count", i18n.T("must not be negative (leave it out when not known)",
				"ne doit pas être négatif (omettez-le s'il n'est pas connu)"))
		}
		inc.PeopleCount = *in.PeopleCount
	}
	texts := []struct {
		field    string
		v        string
		dst      *string
		required bool
	}{
		{"description", in.Description, &inc.Description, true},
		{"personal_information", in.Information, &inc.Information, true},
		{"risk_assessment", in.RiskAssessment, &inc.RiskAssessment, true},
		{"risk_factors", in.RiskFactors, &inc.RiskFactors, false},
		{"measures", in.Measures, &inc.Measures, true},
	}
	for _, x := range texts {
		v := strings.TrimSpace(x.v)
		if x.required && v == "" {
			return Incident{}, invalid(x.field, msgRequired)
		}
		if err := checkText(x.field, v, MaxTextLen, true); err != nil {
			return Incident{}, err
		}
		*x.dst = v
	}
	if err := checkText("actor", actor, MaxKeyLen, false); err != nil {
		return Incident{}, err
	}
	return inc, nil
}

// parseIncidentDate reads YYYY-MM-DD (midnight UTC) or RFC 3339.
func parseIncidentDate(field, s string, required bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return time.Time{}, invalid(field, msgRequired)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
	}
	if err != nil || t.Year() < 1900 || t.Year() > 9999 {
		return time.Time{}, invalid(field, i18n.T("%q is not a date (YYYY-MM-DD or RFC 3339)", "%q n'est pas une date (AAAA-MM-JJ ou RFC 3339)"), clip(s))
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// IncidentOut is an incident as the API and the CLI's JSON export give it:
// dates RFC 3339 in UTC, null when not set; people_count null when not
// known.
type IncidentOut struct {
	ID                  int64      `json:"id"`
	OccurredFrom        time.Time  `json:"occurred_from"`
	OccurredTo          *time.Time `json:"occurred_to"`
	DiscoveredAt        time.Time  `json:"discovered_at"`
	Description         string     `json:"description"`
	Information         string     `json:"personal_information"`
	PeopleCount         *int       `json:"people_count"`
	RiskAssessment      string     `json:"risk_assessment"`
	RiskFactors         string     `json:"risk_factors"`
	SeriousRisk         bool       `json:"serious_risk"`
	RegulatorNotifiedAt *time.Time `json:"regulator_notified_at"`
	PeopleNotifiedAt    *time.Time `json:"people_notified_at"`
	Measures            string     `json:"measures"`
	RecordedBy          string     `json:"recorded_by"`
	RecordedAt          time.Time  `json:"recorded_at"`
	KeepUntil           time.Time  `json:"keep_until"` // DiscoveredAt + IncidentRetention, at least
}

// Out is the incident as IncidentOut.
func (in Incident) Out() IncidentOut {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	o := IncidentOut{
		ID: in.ID, OccurredFrom: in.OccurredFrom.UTC(), OccurredTo: opt(in.OccurredTo), DiscoveredAt: in.DiscoveredAt.UTC(),
		Description: in.Description, Information: in.Information, RiskAssessment: in.RiskAssessment,
		RiskFactors: in.RiskFactors, SeriousRisk: in.SeriousRisk, RegulatorNotifiedAt: opt(in.RegulatorNotifiedAt),
		PeopleNotifiedAt: opt(in.PeopleNotifiedAt), Measures: in.Measures, RecordedBy: in.RecordedBy,
		RecordedAt: in.RecordedAt.UTC(), KeepUntil: in.DiscoveredAt.Add(IncidentRetention).UTC(),
	}
	if in.PeopleCount >= 0 {
		n := in.PeopleCount
		o.PeopleCount = &n
	}
	return o
}

// WriteIncidentsJSON writes the register as one JSON array.
func WriteIncidentsJSON(w io.Writer, incs []Incident) error {
	out := make([]IncidentOut, 0, len(incs))
	for _, in := range incs {
		out = append(out, in.Out())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing incidents as JSON: %w", err)
	}
	return nil
}

// incidentColumns are the CSV export's header: each column's English and
// French name, so the register reads in either language.
var incidentColumns = []i18n.Text{
	{En: "id", Fr: "id"},
	{En: "occurred from", Fr: "survenu du"},
	{En: "occurred to", Fr: "survenu au"},
	{En: "discovered at", Fr: "connu le"},
	{En: "description", Fr: "description"},
	{En: "personal information concerned", Fr: "renseignements personnels visés"},
	{En: "people concerned", Fr: "personnes visées"},
	{En: "risk of serious injury: assessment", Fr: "risque de préjudice sérieux : évaluation"},
	{En: "risk factors", Fr: "facteurs de risque"},
	{En: "serious risk", Fr: "risque sérieux"},
	{En: "regulator notified at", Fr: "Commission avisée le"},
	{En: "people notified at", Fr: "personnes avisées le"},
	{En: "measures taken", Fr: "mesures prises"},
	{En: "recorded by", Fr: "inscrit par"},
	{En: "recorded at", Fr: "inscrit le"},
	{En: "keep until", Fr: "conserver jusqu'au"},
}

// WriteIncidentsCSV writes the register as CSV with a bilingual header
// ("description / description"); dates RFC 3339 UTC, empty when not set.
func WriteIncidentsCSV(w io.Writer, incs []Incident) error {
	cw := csv.NewWriter(w)
	head := make([]string, len(incidentColumns))
	for i, c := range incidentColumns {
		head[i] = c.En + " / " + c.Fr
	}
	cw.Write(head) //nolint:errcheck // cw.Error below
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, in := range incs {
		people := ""
		if in.PeopleCount >= 0 {
			people = strconv.Itoa(in.PeopleCount)
		}
		cw.Write([]string{ //nolint:errcheck // cw.Error below
			strconv.FormatInt(in.ID, 10), date(in.OccurredFrom), date(in.OccurredTo), date(in.DiscoveredAt),
			csvSafe(in.Description), csvSafe(in.Information), people, csvSafe(in.RiskAssessment), csvSafe(in.RiskFactors),
			strconv.FormatBool(in.SeriousRisk), date(in.RegulatorNotifiedAt), date(in.PeopleNotifiedAt),
			csvSafe(in.Measures), csvSafe(in.RecordedBy), date(in.RecordedAt), date(in.DiscoveredAt.Add(IncidentRetention)),
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing incidents as CSV: %w", err)
	}
	return nil
}

// csvSafe keeps a spreadsheet from reading a text cell as a formula
// (CSV injection): a leading =, +, - or @ gets a quote mark before it.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
