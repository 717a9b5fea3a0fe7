package ratelimit

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestFlagsParseConfig(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // error substring; "" for none
	}{
		{nil, ""},
		{[]string{"--rate-limits", "submissions.ip=5/m", "--trusted-proxies", "10.0.0.0/8", "--proxy-header", "Forwarded"}, ""},
		{[]string{"--rate-limits", "bogus.ip=5/m"}, "--rate-limits: "},
		{[]string{"--trusted-proxies", "not-an-ip"}, "--trusted-proxies: "},
		{[]string{"--proxy-header", "X-Real-IP"}, `--proxy-header must be X-Forwarded-For or Forwarded, not "X-Real-IP"`},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f ServerFlags
		f.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.ParseConfig()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.args, err)
			} else if cfg.Limits == nil || cfg.ProxyHeader == "" {
				t.Errorf("%v: config %+v lacks limits or header", tc.args, cfg)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	var f ServerFlags
	f.Overrides = "submissions.ip=off"
	f.ProxyHeader = HeaderXForwardedFor
	cfg, err := f.ParseConfig()
	if err != nil || !cfg.Limits[Submissions].IP.unlimited() {
		t.Errorf("override off not applied: %+v, %v", cfg.Limits[Submissions], err)
	}
}
