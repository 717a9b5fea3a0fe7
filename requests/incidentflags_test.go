package requests

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestIncidentFlagsCheck(t *testing.T) {
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	full := []string{"--occurred-from", "2026-06-01", "--discovered", "2026-06-02", "--description", "lost laptop",
		"--information", "names", "--risk", "low", "--measures", "remote wipe"}
	for _, tc := range []struct {
		add  bool
		args []string
		want string // error substring; "" for none
	}{
		{false, nil, ""},
		{false, []string{"--format", "xml"}, `--format must be csv or json, not "xml"`},
		{true, append([]string{"--people", "many"}, full...), `--people must be a whole number, not "many"`},
		{true, append([]string{"--people", "12"}, full...), ""},
		{true, []string{"--description", "x"}, "occurred"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f IncidentFlags
		f.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		inc, err := f.Check(tc.add, "sample", now)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
		} else if tc.add && (inc.TenantID != "sample" || inc.PeopleCount != 12) {
			t.Errorf("%v: incident %+v", tc.args, inc)
		}
	}
}
