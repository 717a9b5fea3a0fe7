package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/internal/mailtest"
)

// TestServeSendsMail: serve with PINWARD_SMTP_URL sends a resident's
// receipt to a real mailpit, in French for a French submission, with its
// links on --public-url, and never logs the SMTP password.
func TestServeSendsMail(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	dir := filepath.Join(t.TempDir(), "var")
	vars := map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_FORMAT": "json",
		"PINWARD_SMTP_URL": smtp.SMTPURL("clerk:s3cret-pw", "tls=none"), "PINWARD_MAIL_FROM": "311@city.example",
		"PINWARD_PUBLIC_URL": "https://311.city.example"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "integrator"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	key := strings.TrimSpace(out.String())

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	serveErr := &lockedBuffer{b: &bytes.Buffer{}}
	senv := Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: serveErr, Getenv: func(k string) string { return vars[k] }}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, senv); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "pinward: listening on "))
	res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{
		"api_key": {key}, "service_code": {"graffiti"}, "lat": {"46.0300619"}, "long": {"-73.066232"},
		"attribute[offensive]": {"yes"}, "email": {"resident@ok.test"}, "locale": {"fr"},
	})
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("POST: %v %v", res, err)
	}
	res.Body.Close()
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer wcancel()
	if _, err := smtp.WaitForCount(wctx, 1); err != nil {
		t.Fatal(err)
	}
	msgs, err := smtp.Messages(wctx)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages: %d, %v", len(msgs), err)
	}
	m := msgs[0]
	if !strings.Contains(m.Subject, "nous avons reçu votre demande") || m.Username != "clerk" ||
		!strings.Contains(m.Text, "https://311.city.example/r/") || !strings.HasPrefix(m.Header("List-Unsubscribe"), "<https://311.city.example/u/") {
		t.Errorf("receipt: %q (user %q)\n%s\n%s", m.Subject, m.Username, m.Text, m.Header("List-Unsubscribe"))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, serveErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
	if log := serveErr.String(); strings.Contains(log, "s3cret-pw") || !strings.Contains(log, "smtp://clerk:xxxxx@") {
		t.Errorf("serve's log shows the SMTP password or not the server:\n%s", log)
	}
}
