package dispatch_test

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/requests"
)

func TestFlagsConfig(t *testing.T) {
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(string) string { return "set" }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		args []string
		want string // error substring; "" for none
	}{
		{nil, ""},
		{[]string{"--workorder-webhook", "https://wo.example.ca/in"}, "--workorder-webhook needs --workorder-secret"},
		{[]string{"--workorder-webhook", "ftp://wo.example.ca/in", "--workorder-secret", "s"}, "--workorder-webhook: "},
		{[]string{"--workorder-webhook", "https://wo.example.ca/in", "--workorder-secret", "s", "--workorder-max-attempts", "3"}, ""},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var f dispatch.Flags
		f.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.Config(cat, getenv, "sample", nil, log)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if (cfg.Default != nil) != (f.Webhook != "") || cfg.MaxAttempts != f.MaxAttempts {
			t.Errorf("%v: config %+v", tc.args, cfg)
		}
		if f.Webhook != "" && (cfg.Sends() == nil || !cfg.Sends()("any department")) {
			t.Errorf("%v: a default webhook sends every department's work orders", tc.args)
		}
	}
}
