package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestIncidents: pinward incidents add records an incident with the
// regulation's fields, list and export give it back as CSV and JSON, a
// bad entry is a usage error, and pinward purge leaves the register whole.
func TestIncidents(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	vars := map[string]string{"PINWARD_DATA_DIR": dir}
	run := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(vars)
		code := Main(t.Context(), args, env)
		return code, out.String(), errb.String()
	}
	if code, _, errb := run("incidents", "add", "--occurred-from", "2026-02-01", "--discovered", "2026-01-01",
		"--description", "x", "--information", "e-mail", "--risk", "low", "--measures", "none"); code != 2 || !strings.Contains(errb, "discovered_at") {
		t.Errorf("discovered before it occurred: exit %d, %s", code, errb)
	}
	code, out, errb := run("incidents", "add", "--occurred-from", "2026-02-01", "--occurred-to", "2026-02-03",
		"--discovered", "2026-02-04", "--description", "Follow-up e-mails sent to the wrong residents",
		"--information", "names, e-mail addresses", "--people", "12", "--risk", "low: no sensitive data",
		"--risk-factors", "sensitivity; likely misuse", "--regulator-notified", "2026-02-05", "--measures", "=recalled; template fixed")
	if code != 0 {
		t.Fatalf("add: exit %d, %s", code, errb)
	}
	var added []map[string]any
	if err := json.Unmarshal([]byte(out), &added); err != nil || len(added) != 1 || added[0]["people_count"] != 12.0 {
		t.Fatalf("add printed %s (%v)", out, err)
	}

	if code, _, errb := run("purge", "--older-than", "1h"); code != 0 {
		t.Fatalf("purge: exit %d, %s", code, errb)
	}
	code, out, errb = run("incidents", "export", "--format", "json")
	if code != 0 {
		t.Fatalf("export json: exit %d, %s", code, errb)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		t.Fatalf("after purge, export json = %s (%v)", out, err)
	}
	for field, want := range map[string]any{"occurred_from": "2026-02-01T00:00:00Z", "occurred_to": "2026-02-03T00:00:00Z",
		"discovered_at": "2026-02-04T00:00:00Z", "personal_information": "names, e-mail addresses", "people_count": 12.0,
		"risk_assessment": "low: no sensitive data", "risk_factors": "sensitivity; likely misuse", "serious_risk": false,
		"regulator_notified_at": "2026-02-05T00:00:00Z", "people_notified_at": nil, "measures": "=recalled; template fixed",
		"keep_until": "2031-02-03T00:00:00Z"} {
		if got[0][field] != want {
			t.Errorf("%s = %v, want %v", field, got[0][field], want)
		}
	}
	code, out, errb = run("incidents", "list")
	if code != 0 {
		t.Fatalf("list: exit %d, %s", code, errb)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("list CSV: %v, %q", err, out)
	}
	if rows[0][5] != "personal information concerned / renseignements personnels visés" || rows[1][12] != "'=recalled; template fixed" {
		t.Errorf("CSV header %q, measures %q (a formula must be defused)", rows[0][5], rows[1][12])
	}
}
