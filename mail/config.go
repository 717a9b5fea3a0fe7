// Package mail sends one e-mail at a time over SMTP and says what became
// of it: delivered, to retry later, refused for good for its address, or
// refused for good for the message. It builds messages with go-mail (no
// MIME by hand); what a message says comes from package notify, when and
// how often it is tried is the outbox's business.
package mail

import (
	"crypto/tls"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Security is how the connection to the SMTP server is protected.
type Security string

// The security modes of an SMTP URL.
const (
	// StartTLS upgrades with STARTTLS and refuses a server that does not
	// offer it (smtp://, the default).
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (smtps://).
	ImplicitTLS Security = "tls"
	// Opportunistic uses STARTTLS when the server offers it, plain text
	// otherwise (smtp://…?tls=opportunistic).
	Opportunistic Security = "opportunistic"
	// Plain never uses TLS (smtp://…?tls=none).
	Plain Security = "none"
)

// Default ports and timeout.
const (
	SubmissionPort  = 587 // smtp://
	SubmissionsPort = 465 // smtps://
	DefaultTimeout  = 30 * time.Second
)

// Config is where and how to send mail: pinward serve's --smtp (or
// PINWARD_SMTP_URL) and --mail-from.
type Config struct {
	Host     string
	Port     int
	Username string // "" for no AUTH
	Password string
	Security Security
	// From is the envelope sender (MAIL FROM, so bounces come back here)
	// and the header From of messages that do not set their own.
	From string
	// Timeout bounds the connection and each SMTP exchange; zero:
	// DefaultTimeout.
	Timeout time.Duration
	// TLS overrides the TLS settings (tests trust their own root with
	// it); its ServerName defaults to Host.
	TLS *tls.Config
}

// ParseURL reads an SMTP URL and the sender address:
//
//	smtp://user:pass@host:587   STARTTLS, required (port 587 by default)
//	smtps://user:pass@host:465  TLS from the start (port 465 by default)
//
// The user and password are percent-decoded. ?tls=opportunistic (STARTTLS
// when offered) and ?tls=none (no TLS) are accepted only where a password
// cannot leak: a loopback host, or no credentials at all (a relay on the
// municipality's own network).
func ParseURL(raw, from string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, and with it the password.
		return Config{}, fmt.Errorf("mail: the SMTP URL is not a URL")
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.Security, c.Port = StartTLS, SubmissionPort
	case "smtps":
		c.Security, c.Port = ImplicitTLS, SubmissionsPort
	default:
		return Config{}, fmt.Errorf("mail: SMTP URL scheme %q: use smtp:// (STARTTLS) or smtps:// (TLS)", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, fmt.Errorf("mail: the SMTP URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("mail: SMTP port %q is not a port number", p)
		}
		c.Port = n
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, fmt.Errorf("mail: the SMTP URL has a path (%q); it takes none", u.Path)
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return Config{}, fmt.Errorf("mail: unknown SMTP URL parameter %q (known: tls)", k)
		}
	}
	switch t := q.Get("tls"); t {
	case "":
	case string(Opportunistic), string(Plain):
		if c.Security == ImplicitTLS {
			return Config{}, fmt.Errorf("mail: smtps:// always uses TLS; tls=%s applies to smtp:// only", t)
		}
		if c.Username != "" && !IsLoopback(c.Host) {
			return Config{}, fmt.Errorf("mail: tls=%s would send the SMTP password to %s in clear; use STARTTLS or smtps://", t, c.Host)
		}
		c.Security = Security(t)
	default:
		return Config{}, fmt.Errorf("mail: tls=%q: use opportunistic or none (or no tls parameter for STARTTLS)", t)
	}
	c.From = from
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks a Config built by hand (ParseURL calls it).
func (c Config) Validate() error {
	if c.Host == "" || c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("mail: SMTP host and port are required")
	}
	switch c.Security {
	case StartTLS, ImplicitTLS, Opportunistic, Plain:
	default:
		return fmt.Errorf("mail: unknown SMTP security %q", c.Security)
	}
	if c.From == "" {
		return fmt.Errorf("mail: a sender address is required (--mail-from)")
	}
	a, err := netmail.ParseAddress(c.From)
	if err != nil || a.Name != "" {
		return fmt.Errorf("mail: --mail-from %q is not a bare e-mail address (like 311@city.example)", c.From)
	}
	return nil
}

// Redacted is the Config's URL without the password, for logs.
func (c Config) Redacted() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.Security == ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, "xxxxx")
	}
	if c.Security == Opportunistic || c.Security == Plain {
		u.RawQuery = "tls=" + string(c.Security)
	}
	return u.String()
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
