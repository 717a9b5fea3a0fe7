package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pinward/pinward/internal/cli"
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
	subs := map[string]func([]string) error{}
	for _, verb := range []string{"list", "export", "add"} {
		subs[verb] = func(args []string) error { return runIncidentsVerb(ctx, env, verb, args) }
	}
	return cli.Subcommands(env, args, "incidents list|add|export [flags]", incidentsHelp, func(string) error {
		return usageErrorf("usage: pinward incidents list|add|export [flags] (pinward incidents --help)")
	}, subs)
}

func runIncidentsVerb(ctx context.Context, env Env, verb string, args []string) error {
	fs := newFlags(env, "incidents "+verb, "incidents "+verb+" [flags]", incidentsHelp)
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`")
	var f requests.IncidentFlags
	f.Register(fs)
	var stf storeflags.Flags
	stf.Register(fs)
	if err := stf.Parse(fs, env, args); err != nil {
		return err
	}
	inc, err := f.Check(verb == "add", *tenant, time.Now())
	if err != nil {
		return usageError{err}
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
	return requests.WriteRegister(ctx, st, *tenant, f.Format, env.Stdout)
}
