package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Message is one e-mail to one recipient, ready to send.
type Message struct {
	// ID is the Message-ID without its angle brackets ("local@domain"),
	// the same on every attempt so a duplicate delivery can be spotted;
	// see MessageID.
	ID string
	// To is the recipient's bare address; ToName their display name
	// (usually empty: pinward does not repeat a resident's name).
	To, ToName string
	// From is the header From address ("": Config.From); FromName its
	// display name, e.g. the municipality's name in the recipient's
	// language.
	From, FromName string
	ReplyTo        string // "" for none
	Lang           string // Content-Language ("en", "fr"); "" for none
	Subject        string
	Text           string // the plain-text body (required)
	HTML           string // the HTML alternative ("" for text only)
	// UnsubscribeURL, when set, is the one-click unsubscribe link
	// (RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to
	// it); UnsubscribeMailto an optional mailto: alternative. They make
	// the List-Unsubscribe and List-Unsubscribe-Post headers.
	UnsubscribeURL    string
	UnsubscribeMailto string
	Date              time.Time // zero: now
}

// MessageID makes a Message-ID from a key unique to the message (for
// example "mail.42.montreal" from the outbox row) and the sender
// address's domain: "mail.42.montreal@city.example".
func MessageID(key, from string) string {
	domain := "pinward.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = strings.TrimSuffix(from[i+1:], ">")
	}
	return key + "@" + domain
}

// Outcome is what became of one attempt to send a message.
type Outcome string

// The outcomes of an attempt.
const (
	// Delivered: the server took the message (250 after DATA).
	Delivered Outcome = "delivered"
	// Retry: a temporary failure (4xx reply, connection refused or
	// lost, timeout, TLS or AUTH trouble on our side): try again later
	// with backoff; the message and the address are fine.
	Retry Outcome = "retry"
	// AddressRefused: the server refused the recipient for good (5xx to
	// RCPT TO, e.g. 550 mailbox unavailable) or the address is malformed.
	// Mark the address undeliverable; do not retry.
	AddressRefused Outcome = "address_refused"
	// Refused: the server refused this message for good (5xx after DATA,
	// e.g. 552 too large or 554 rejected as spam): a dead letter for
	// staff, the address stays valid.
	Refused Outcome = "refused"
)

// Result is the outcome of one attempt, in the terms the outbox stores.
type Result struct {
	Outcome Outcome
	// Code is the SMTP reply code that decided it (0 when there was
	// none: a connection error, a timeout, a malformed address).
	Code int
	// Status is the enhanced status code ("5.1.1") when the server gave
	// one.
	Status string
	// Detail says what happened, for staff and logs (at most
	// maxDetail bytes; never the SMTP password).
	Detail string
}

// Permanent reports whether retrying cannot help.
func (r Result) Permanent() bool { return r.Outcome == AddressRefused || r.Outcome == Refused }

const maxDetail = 500

// Sender sends messages over one SMTP connection, opened on first use,
// kept open between messages and reopened after a failure. Send is safe
// for concurrent use but sends one message at a time: run several
// Senders for parallel delivery.
type Sender struct {
	cfg    Config
	client *gomail.Client

	mu   sync.Mutex
	conn *smtp.Client // nil when not connected
}

// NewSender checks cfg and returns a Sender; it does not connect yet.
func NewSender(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS != nil {
		tlsCfg = cfg.TLS.Clone()
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsCfg),
	}
	switch cfg.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case Opportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case Plain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	opts = append(opts, gomail.WithPort(cfg.Port))
	if cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover // the strongest the server offers over TLS
		if cfg.Security == Plain || cfg.Security == Opportunistic {
			// Only allowed on loopback (ParseURL): PLAIN, which
			// go-mail would not choose without TLS.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client for %s: %w", cfg.Redacted(), err)
	}
	return &Sender{cfg: cfg, client: c}, nil
}

// Send makes one attempt to deliver m and classifies the outcome. ctx
// bounds the wait for the connection; once connected, each SMTP exchange
// is bounded by Config.Timeout.
func (s *Sender) Send(ctx context.Context, m Message) Result {
	msg, res, ok := s.build(m)
	if !ok {
		return res
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return retry(0, "", fmt.Errorf("not sent: %w", err))
		}
		reused := s.conn != nil
		if !reused {
			conn, err := s.client.DialToSMTPClientWithContext(ctx)
			if err != nil {
				code, status := replyCode(err)
				return retry(code, status, fmt.Errorf("connect to %s: %w", s.cfg.Redacted(), err))
			}
			s.conn = conn
		}
		err := s.client.SendWithSMTPClient(s.conn, msg)
		var se *gomail.SendError
		if reused && attempt == 0 && errors.As(err, &se) && se.Reason == gomail.ErrConnCheck {
			// The kept connection died while idle (the server's
			// timeout): reconnect once, nothing was sent.
			s.drop()
			continue
		}
		return s.classify(msg, err)
	}
}

// Close closes the connection, if open.
func (s *Sender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.client.CloseWithSMTPClient(s.conn)
	s.conn = nil
	if err != nil {
		return fmt.Errorf("mail: close SMTP connection: %w", err)
	}
	return nil
}

// drop abandons the connection without a polite QUIT (it is broken).
func (s *Sender) drop() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// classify turns go-mail's answer into a Result, dropping the connection
// when it can no longer be trusted.
func (s *Sender) classify(msg *gomail.Msg, err error) Result {
	if err == nil || msg.IsDelivered() {
		// A failed RSET after the 250 for DATA does not undo delivery.
		if err != nil {
			s.drop()
		}
		return Result{Outcome: Delivered}
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		s.drop()
		return retry(0, "", err)
	}
	code, status := se.ErrorCode(), se.EnhancedStatusCode()
	if code == 0 || code == 421 {
		// No reply (a broken connection, a timeout) or the server is
		// closing: start afresh next time.
		s.drop()
	}
	switch {
	case code >= 500 && se.Reason == gomail.ErrSMTPRcptTo:
		return result(AddressRefused, code, status, err)
	case code >= 500 && (se.Reason == gomail.ErrSMTPData || se.Reason == gomail.ErrSMTPDataClose ||
		se.Reason == gomail.ErrWriteContent):
		return result(Refused, code, status, err)
	default:
		// 4xx anywhere, or 5xx to MAIL FROM (the sender address, our
		// configuration: not the resident's fault): retry with backoff,
		// the outbox dead-letters after its last try.
		return retry(code, status, err)
	}
}

// build makes the go-mail message; a malformed recipient is refused for
// good, any other fault is a bug in the caller and refused too (retrying
// the same message cannot fix it).
func (s *Sender) build(m Message) (*gomail.Msg, Result, bool) {
	bad := func(o Outcome, format string, args ...any) (*gomail.Msg, Result, bool) {
		return nil, result(o, 0, "", fmt.Errorf(format, args...)), false
	}
	if _, err := netmail.ParseAddress(m.To); err != nil || strings.ContainsAny(m.To, "<>") {
		return bad(AddressRefused, "recipient %q is not an e-mail address", m.To)
	}
	if m.ID == "" || strings.ContainsAny(m.ID, "<> \t\r\n") || !strings.Contains(m.ID, "@") {
		return bad(Refused, "Message-ID %q must look like local@domain, without < >", m.ID)
	}
	if m.Text == "" {
		return bad(Refused, "message %s has no plain-text body", m.ID)
	}
	msg := gomail.NewMsg()
	from := m.From
	if from == "" {
		from = s.cfg.From
	}
	if err := msg.EnvelopeFrom(s.cfg.From); err != nil {
		return bad(Refused, "envelope sender: %w", err)
	}
	if err := fromFormat(msg, m.FromName, from); err != nil {
		return bad(Refused, "From: %w", err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return bad(AddressRefused, "To: %w", err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return bad(Refused, "Reply-To: %w", err)
		}
	}
	msg.SetMessageIDWithValue(m.ID)
	if m.Date.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Date)
	}
	msg.Subject(m.Subject)
	if m.Lang != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, m.Lang)
	}
	// RFC 3834: an automatic message; out-of-office replies stay away.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Auto-Response-Suppress", "All")
	if m.UnsubscribeURL != "" {
		u, err := url.Parse(m.UnsubscribeURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad(Refused, "unsubscribe link %q is not an http(s) URL", m.UnsubscribeURL)
		}
		links := "<" + u.String() + ">"
		if m.UnsubscribeMailto != "" {
			if _, err := netmail.ParseAddress(m.UnsubscribeMailto); err != nil {
				return bad(Refused, "unsubscribe address %q: %w", m.UnsubscribeMailto, err)
			}
			links += ", <mailto:" + m.UnsubscribeMailto + "?subject=unsubscribe>"
		}
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, links)
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, Result{}, true
}

func fromFormat(msg *gomail.Msg, name, addr string) error {
	if name == "" {
		return msg.From(addr)
	}
	return msg.FromFormat(name, addr)
}

func retry(code int, status string, err error) Result { return result(Retry, code, status, err) }

func result(o Outcome, code int, status string, err error) Result {
	d := err.Error()
	if len(d) > maxDetail {
		d = d[:maxDetail]
	}
	return Result{Outcome: o, Code: code, Status: status, Detail: d}
}

// replyCode digs the SMTP reply code out of a connection-time error (a
// 4xx/5xx greeting, EHLO or AUTH refusal).
func replyCode(err error) (int, string) {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code, ""
	}
	return 0, ""
}
