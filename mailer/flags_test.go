package mailer_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/mailer"
	"github.com/pinward/pinward/requests"
)

// TestFlagsStart: --smtp wins over PINWARD_SMTP_URL, which stands in when
// the flag is absent; no server at all leaves messages queued.
func TestFlagsStart(t *testing.T) {
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	cfg := mailer.ServeConfig{Tenant: "sample", Catalog: cat, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, tc := range []struct {
		args    []string
		env     string
		wantErr bool
	}{
		{nil, "", false},
		{nil, "gopher://nowhere", true},
		{[]string{"--smtp", "gopher://nowhere"}, "", true},
		{[]string{"--mail-from", "311@example.ca"}, "", false},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var f mailer.Flags
		f.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		stop, err := f.Start(context.Background(), func(k string) string {
			if k == "PINWARD_SMTP_URL" {
				return tc.env
			}
			return ""
		}, addr, cfg)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v, env %q: error %v, want error %v", tc.args, tc.env, err, tc.wantErr)
		}
		stop()
	}
}
