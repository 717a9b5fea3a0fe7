package requests

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

// IncidentFlags are the flags of `pinward incidents`: an entry to add
// (add) and the format of the register (list, export).
type IncidentFlags struct {
	In     IncidentIn
	People string // --people: a whole number, "" when not known
	Format string // --format: csv or json
}

// Register adds the entry's fields and --format to fs.
func (f *IncidentFlags) Register(fs *flag.FlagSet) {
	in := &f.In
	fs.StringVar(&f.Format, "format", "csv", "list and export `format`: csv or json")
	fs.StringVar(&in.OccurredFrom, "occurred-from", "", "the incident's `date`, or the start of its period")
	fs.StringVar(&in.OccurredTo, "occurred-to", "", "the end of the incident's period (`date`)")
	fs.StringVar(&in.DiscoveredAt, "discovered", "", "the `date` the municipality learned of it")
	fs.StringVar(&in.Description, "description", "", "what happened")
	fs.StringVar(&in.Information, "information", "", "the personal information concerned")
	fs.StringVar(&f.People, "people", "", "the number of people concerned (leave out when not known)")
	fs.StringVar(&in.RiskAssessment, "risk", "", "the assessment of the risk of serious injury")
	fs.StringVar(&in.RiskFactors, "risk-factors", "", "the factors weighed (sensitivity, likely misuse, consequences)")
	fs.BoolVar(&in.SeriousRisk, "serious", false, "the risk of serious injury is real (Law 25 then requires notifying)")
	fs.StringVar(&in.RegulatorNotifiedAt, "regulator-notified", "", "the `date` the Commission d'accès à l'information or the Privacy Commissioner was notified")
	fs.StringVar(&in.PeopleNotifiedAt, "people-notified", "", "the `date` the people concerned were notified")
	fs.StringVar(&in.Measures, "measures", "", "the measures taken")
}

// Check validates the flags before the store opens: --format, --people
// and, when add, the entry itself, which it returns ready to record. Its
// errors are the caller's fault (a usage error).
func (f *IncidentFlags) Check(add bool, tenant string, now time.Time) (Incident, error) {
	if f.Format != "csv" && f.Format != "json" {
		return Incident{}, fmt.Errorf("--format must be csv or json, not %q", f.Format)
	}
	if f.People != "" {
		n, err := strconv.Atoi(f.People)
		if err != nil {
			return Incident{}, fmt.Errorf("--people must be a whole number, not %q", f.People)
		}
		f.In.PeopleCount = &n
	}
	if !add {
		return Incident{}, nil
	}
	return NewIncident(f.In, tenant, "cli", now)
}

// WriteRegister writes the tenant's register to w in format (csv, with
// a bilingual header, or json as the API gives it).
func WriteRegister(ctx context.Context, st IncidentStore, tenant, format string, w io.Writer) error {
	incs, err := st.ListIncidents(ctx, tenant)
	if err != nil {
		return fmt.Errorf("reading the register: %w", err)
	}
	if format == "json" {
		return WriteIncidentsJSON(w, incs)
	}
	return WriteIncidentsCSV(w, incs)
}
