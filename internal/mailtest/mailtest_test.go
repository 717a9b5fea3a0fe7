package mailtest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/internal/mailtest"
)

func send(t *testing.T, addr, to, msgID string) error {
	t.Helper()
	body := "From: a@ok.test\r\nTo: " + to + "\r\nSubject: hello\r\nMessage-ID: <" + msgID + ">\r\n\r\nbody\r\n"
	return smtp.SendMail(addr, nil, "a@ok.test", []string{to}, []byte(body))
}

func TestReceiveRestartDelete(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if err := send(t, s.SMTPAddr(), "r@ok.test", "one@pinward.test"); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := send(t, s.SMTPAddr(), "r@ok.test", "two@pinward.test"); err == nil {
		t.Fatal("send to a stopped mailpit succeeded")
	}
	s.Restart()
	if err := send(t, s.SMTPAddr(), "r@ok.test", "two@pinward.test"); err != nil {
		t.Fatal(err)
	}
	counts, err := s.CountByMessageID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["one@pinward.test"] != 1 || counts["two@pinward.test"] != 1 || len(counts) != 2 {
		t.Fatalf("counts by Message-ID after restart = %v, want one of each", counts)
	}
	msgs, err := s.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs[0].Header("Subject"); got != "hello" {
		t.Errorf("Subject header = %q", got)
	}
	if !strings.Contains(msgs[0].Text, "body") || msgs[0].To[0].Address != "r@ok.test" {
		t.Errorf("message = %+v", msgs[0])
	}
	if err := s.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if sums, err := s.Summaries(ctx); err != nil || len(sums) != 0 {
		t.Fatalf("after DeleteAll: %d messages, %v", len(sums), err)
	}
}

func TestAllowedRecipientsRefuse550(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{AllowedRecipients: `@ok\.test$`})
	err := send(t, s.SMTPAddr(), "gone@bounce.test", "x@pinward.test")
	var perr *textproto.Error
	if !errors.As(err, &perr) || perr.Code != 550 {
		t.Fatalf("send to a refused address: %v, want a 550", err)
	}
	if err := send(t, s.SMTPAddr(), "r@ok.test", "y@pinward.test"); err != nil {
		t.Fatal(err)
	}
}

func TestChaos(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{})
	ctx := context.Background()
	if err := s.SetChaos(ctx, mailtest.Chaos{Recipient: mailtest.ChaosTrigger{ErrorCode: 451, Probability: 100}}); err != nil {
		t.Fatal(err)
	}
	var perr *textproto.Error
	if err := send(t, s.SMTPAddr(), "r@ok.test", "z@pinward.test"); !errors.As(err, &perr) || perr.Code != 451 {
		t.Fatalf("send under chaos: %v, want a 451", err)
	}
	if err := s.SetChaos(ctx, mailtest.Chaos{}); err != nil {
		t.Fatal(err)
	}
	if err := send(t, s.SMTPAddr(), "r@ok.test", "z@pinward.test"); err != nil {
		t.Fatal(err)
	}
}

func TestStartTLS(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{TLS: mailtest.StartTLS})
	c, err := smtp.Dial(s.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: s.RootCAs()}); err != nil {
		t.Fatalf("STARTTLS with the harness's root: %v", err)
	}
}
