package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pinward/pinward/internal/storeflags"

	"github.com/pinward/pinward/requests"
)

const incidentsHelp = `
The register of confidentiality incidents that Québec's Law 25 and PIPEDA
require: every incident involving personal information, whether or not it
presents a risk of serious injury. Entries are only added, never changed
or deleted, and kept at least five years; pinward purge never touches them.
The API has the same register at /api/v1/incidents (admin key).

  pinward incidents add --occurred-from D [--occurred-to D] --discovered D
      --description T --information T [--people N] --risk T [--risk-factors T]
      [--serious] [--regulator-notified D] [--people-notified D] --measures T
  pinward incidents list|export [--format csv|json]
      the register on stdout, latest discovered first (CSV by default,
      with a bilingual header; JSON as the API gives it)

Dates are YYYY-MM-DD or RFC 3339.
`

func runIncidents(ctx context.Context, env Env, args []string) error {
	usage := "usage: pinward incidents list|add|export [flags] (pinward incidents --help)"
	if len(args) == 0 {
		return usageErrorf("%s", usage)
	}
	switch args[0] {
	case "--help", "-h", "-help":
		fmt.Fprintf(env.Stdout, "Usage: pinward incidents list|add|export [flags]\n%s", incidentsHelp)
		return nil
	case "list", "export", "add":
	default:
		return usageErrorf("%s", usage)
	}
	verb := args[0]
	fs := newFlags(env, "incidents "+verb, "incidents "+verb+" [flags]", incidentsHelp)
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`")
	format := fs.String("format", "csv", "list and export `format`: csv or json")
	var in requests.IncidentIn
	fs.StringVar(&in.OccurredFrom, "occurred-from", "", "the incident's `date`, or the start of its period")
	fs.StringVar(&in.OccurredTo, "occurred-to", "", "the end of the incident's period (`date`)")
	fs.StringVar(&in.DiscoveredAt, "discovered", "", "the `date` the municipality learned of it")
	fs.StringVar(&in.Description, "description", "", "what happened")
	fs.StringVar(&in.Information, "information", "", "the personal information concerned")
	people := fs.String("people", "", "the number of people concerned (leave out when not known)")
	fs.StringVar(&in.RiskAssessment, "risk", "", "the assessment of the risk of serious injury")
	fs.StringVar(&in.RiskFactors, "risk-factors", "", "the factors weighed (sensitivity, likely misuse, consequences)")
	fs.BoolVar(&in.SeriousRisk, "serious", false, "the risk of serious injury is real (Law 25 then requires notifying)")
	fs.StringVar(&in.RegulatorNotifiedAt, "regulator-notified", "", "the `date` the Commission d'accès à l'information or the Privacy Commissioner was notified")
	fs.StringVar(&in.PeopleNotifiedAt, "people-notified", "", "the `date` the people concerned were notified")
	fs.StringVar(&in.Measures, "measures", "", "the measures taken")
	var stf storeflags.Flags
	stf.Register(fs)
	if err := stf.Parse(fs, env, args[1:]); err != nil {
		return err
	}
	if *format != "csv" && *format != "json" {
		return usageErrorf("--format must be csv or json, not %q", *format)
	}
	if *people != "" {
		n, err := strconv.Atoi(*people)
		if err != nil {
			return usageErrorf("--people must be a whole number, not %q", *people)
		}
		in.PeopleCount = &n
	}
	var inc requests.Incident
	if verb == "add" {
		var err error
		if inc, err = requests.NewIncident(in, *tenant, "cli", time.Now()); err != nil {
			return usageErrorf("%v", err)
		}
	}
	st, closeStore, err := stf.Open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	if verb == "add" {
		if inc, err = st.CreateIncident(ctx, inc); err != nil {
			return fmt.Errorf("recording the incident: %w", err)
		}
		fmt.Fprintf(env.Stderr, "pinward incidents: recorded incident %d for tenant %q in %s\n", inc.ID, *tenant, stf.Describe())
		return requests.WriteIncidentsJSON(env.Stdout, []requests.Incident{inc})
	}
	incs, err := st.ListIncidents(ctx, *tenant)
	if err != nil {
		return fmt.Errorf("reading the register: %w", err)
	}
	if *format == "json" {
		return requests.WriteIncidentsJSON(env.Stdout, incs)
	}
	return requests.WriteIncidentsCSV(env.Stdout, incs)
}
