package main

import (
	"context"
	"time"

	"github.com/pinward/pinward/holidays"
)

const holidaysHelp = `
Prints the statutory holidays of a calendar in a year, computed by rule
(the same rules the SLA clock skips), as CSV on stdout: a header line
date,name_en,name_fr, then one line per holiday in date order, the date as
YYYY-MM-DD. A weekday given in place of a holiday that fell on a weekend,
where the law fixes one, is its own line, "(observed)" / "(congé reporté)".

Calendars: QC (Loi sur les normes du travail, with Good Friday; the
Fête nationale), ON (Employment Standards Act, 2000: nine public holidays,
no Civic Holiday), federal (Canada Labour Code: ten general holidays).
A municipality's own closures are in its catalog, not here.
`

func runHolidays(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "holidays", "holidays --province QC|ON|federal [--year 2027]", holidaysHelp)
	province := fs.String("province", "", "the `calendar`: QC, ON or federal (required)")
	year := fs.Int("year", time.Now().Year(), "the `year`, 1583 to 9999")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	cal, ok := holidays.ParseCalendar(*province)
	if !ok {
		return usageErrorf("--province must be QC, ON or federal, not %q", *province)
	}
	// Gregorian Easter from 1583; four-digit years for YYYY-MM-DD.
	if *year < 1583 || *year > 9999 {
		return usageErrorf("--year must be between 1583 and 9999, not %d", *year)
	}
	return holidays.WriteCSV(env.Stdout, cal.Year(*year))
}
