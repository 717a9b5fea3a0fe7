// Package mailtest gives tests a real SMTP server: mailpit, started on free
// loopback ports and read back through its HTTP API, the way pgtest gives
// them a real PostGIS.
//
// The mailpit binary is $PINWARD_MAILPIT when set, else it is built once
// with `go install github.com/axllent/mailpit@Version` into
// $(go env GOCACHE)/../pinward-tools/mailpit-Version and reused by every
// later run. When it cannot be found or built the test is skipped, unless
// PINWARD_REQUIRE_MAIL=1, in which case it fails.
//
// Each Server keeps its messages in its own database file, so a Stop then
// Start on the same ports (SMTP down for a while, then up) keeps what had
// arrived before.
package mailtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Version is the mailpit release the harness builds.
const Version = "v1.33.1"

// Environment variables read by this package.
const (
	EnvBinary  = "PINWARD_MAILPIT"      // path of a mailpit binary to use instead of building one
	EnvRequire = "PINWARD_REQUIRE_MAIL" // "1": fail instead of skipping when mailpit is unavailable
)

const (
	buildTimeout = 10 * time.Minute
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	apiTimeout   = 30 * time.Second
	pageSize     = 500 // messages per page when listing through the API
)

// TLSMode says whether the SMTP port speaks TLS.
type TLSMode int

// The TLS modes of the SMTP port.
const (
	NoTLS       TLSMode = iota // plain SMTP; AUTH allowed in clear on loopback
	StartTLS                   // STARTTLS offered (not required) with a self-signed certificate
	ImplicitTLS                // TLS from the first byte (smtps)
)

// Options configure a Server. The zero value is plain SMTP that accepts any
// sender, any recipient, and any AUTH username and password (or none).
type Options struct {
	// AllowedRecipients, when set, is a Go regular expression: RCPT TO an
	// address it does not match is refused with
	// "550 5.1.0 Requested action not taken: mailbox unavailable"
	// (mailpit's --smtp-allowed-recipients). mailpit cannot reject one
	// address by name; a test that wants one address bounced gives the
	// others a domain the expression matches, e.g. `@ok\.test$`.
	AllowedRecipients string
	// TLS is the SMTP port's TLS mode; the certificate is self-signed
	// for 127.0.0.1 and localhost, trusted by Server.RootCAs.
	TLS TLSMode
}

// Server is one running (or stopped) mailpit. Its methods are safe for
// concurrent use.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	opts Options

	smtpPort, httpPort int
	rootCAs            *x509.CertPool
	certFile, keyFile  string
	client             *http.Client

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  *syncBuffer
}

// Start builds (once) and starts a mailpit for the test; it is stopped when
// the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("mailtest: %s=1 but mailpit is unavailable: %v", EnvRequire, err)
		}
		tb.Skipf("mailtest: mailpit is unavailable (set %s to a mailpit binary, or allow the Go module proxy): %v", EnvBinary, err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), opts: opts,
		client: &http.Client{Timeout: apiTimeout}}
	if s.smtpPort, err = freePort(); err != nil {
		tb.Fatalf("mailtest: %v", err)
	}
	if s.httpPort, err = freePort(); err != nil {
		tb.Fatalf("mailtest: %v", err)
	}
	if opts.TLS != NoTLS {
		if err := s.makeCert(); err != nil {
			tb.Fatalf("mailtest: %v", err)
		}
	}
	tb.Cleanup(s.Stop)
	s.Restart()
	return s
}

// SMTPAddr is the SMTP listener's host:port.
func (s *Server) SMTPAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.smtpPort)) }

// SMTPURL is an SMTP URL for the server with the given userinfo ("" for
// none) and query ("" for none), e.g. SMTPURL("u:p", "tls=none").
func (s *Server) SMTPURL(userinfo, query string) string {
	scheme := "smtp"
	if s.opts.TLS == ImplicitTLS {
		scheme = "smtps"
	}
	u := scheme + "://"
	if userinfo != "" {
		u += userinfo + "@"
	}
	u += s.SMTPAddr()
	if query != "" {
		u += "?" + query
	}
	return u
}

// APIURL is the base URL of mailpit's HTTP API and web UI.
func (s *Server) APIURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.httpPort) + "/" }

// RootCAs trusts the server's self-signed certificate (nil under NoTLS).
func (s *Server) RootCAs() *x509.CertPool { return s.rootCAs }

// Stop stops mailpit (SMTP and API go down); Restart brings it back on the
// same ports with the messages it had. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts mailpit again after Stop (Start calls it the first time)
// and waits until both its ports answer.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	args := []string{
		"--smtp", s.SMTPAddr(),
		"--listen", "127.0.0.1:" + strconv.Itoa(s.httpPort),
		"--database", filepath.Join(s.dir, "mailpit.db"),
		"--max", "0", // keep every message: benchmarks count thousands
		"--smtp-auth-accept-any",
		"--smtp-disable-rdns",
		"--enable-chaos",
		"--disable-version-check",
		"--quiet",
	}
	if s.opts.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", s.opts.AllowedRecipients)
	}
	switch s.opts.TLS {
	case NoTLS:
		// AUTH in clear: allowed on loopback (mailpit refuses the flag
		// together with --smtp-require-tls).
		args = append(args, "--smtp-auth-allow-insecure")
	case StartTLS:
		args = append(args, "--smtp-tls-cert", s.certFile, "--smtp-tls-key", s.keyFile)
	case ImplicitTLS:
		args = append(args, "--smtp-tls-cert", s.certFile, "--smtp-tls-key", s.keyFile, "--smtp-require-tls")
	}
	s.log = &syncBuffer{}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("mailtest: start mailpit: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(); err != nil {
		_ = cmd.Process.Kill()
		<-done
		s.cmd = nil
		s.tb.Fatalf("mailtest: mailpit did not start: %v\n%s", err, s.log.String())
	}
}

func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.done:
			return errors.New("mailpit exited")
		default:
		}
		err := s.probe()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probe reports whether the API says ready and the SMTP port accepts.
func (s *Server) probe() error {
	resp, err := s.client.Get(s.APIURL() + "readyz")
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	c, err := net.DialTimeout("tcp", s.SMTPAddr(), time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// Address is a mailbox as mailpit reports it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is one message in mailpit's list.
type Summary struct {
	ID        string    `json:"ID"`        // mailpit's own ID
	MessageID string    `json:"MessageID"` // the Message-ID header, without < >
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
	Created   time.Time `json:"Created"`
	Username  string    `json:"Username"` // the SMTP AUTH user, "" without AUTH
}

// Message is one received message in full.
type Message struct {
	Summary
	ReplyTo []Address           `json:"ReplyTo"`
	Text    string              `json:"Text"`
	HTML    string              `json:"HTML"`
	Headers map[string][]string `json:"-"` // canonical header names
	// ListUnsubscribe is mailpit's reading of the List-Unsubscribe
	// headers; Errors is empty when they are valid.
	ListUnsubscribe struct {
		Header     string   `json:"Header"`
		Links      []string `json:"Links"`
		Errors     string   `json:"Errors"`
		HeaderPost string   `json:"HeaderPost"`
	} `json:"ListUnsubscribe"`
}

// Header returns the first value of header name ("" when absent).
func (m Message) Header(name string) string {
	if v := m.Headers[http.CanonicalHeaderKey(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Summaries lists every received message, newest first.
func (s *Server) Summaries(ctx context.Context) ([]Summary, error) {
	var all []Summary
	for start := 0; ; start += pageSize {
		var page struct {
			Total    int       `json:"messages_count"`
			Messages []Summary `json:"messages"`
		}
		q := url.Values{"start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(pageSize)}}
		if err := s.getJSON(ctx, "api/v1/messages?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Messages...)
		if len(page.Messages) < pageSize || len(all) >= page.Total {
			return all, nil
		}
	}
}

// Messages returns every received message in full, newest first.
func (s *Server) Messages(ctx context.Context) ([]Message, error) {
	sums, err := s.Summaries(ctx)
	if err != nil {
		return nil, err
	}
	msgs := make([]Message, 0, len(sums))
	for _, sum := range sums {
		m, err := s.Message(ctx, sum.ID)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// Message returns one message in full by mailpit's ID.
func (s *Server) Message(ctx context.Context, id string) (Message, error) {
	var m Message
	if err := s.getJSON(ctx, "api/v1/message/"+url.PathEscape(id), &m); err != nil {
		return Message{}, err
	}
	var h map[string][]string
	if err := s.getJSON(ctx, "api/v1/message/"+url.PathEscape(id)+"/headers", &h); err != nil {
		return Message{}, err
	}
	m.Headers = make(map[string][]string, len(h))
	for k, v := range h {
		k = http.CanonicalHeaderKey(k)
		m.Headers[k] = append(m.Headers[k], v...)
	}
	return m, nil
}

// CountByMessageID counts the received messages per Message-ID.
func (s *Server) CountByMessageID(ctx context.Context) (map[string]int, error) {
	sums, err := s.Summaries(ctx)
	if err != nil {
		return nil, err
	}
	n := make(map[string]int, len(sums))
	for _, m := range sums {
		n[m.MessageID]++
	}
	return n, nil
}

// WaitForCount waits until at least n messages have arrived and returns
// them (summaries), or fails after ctx ends.
func (s *Server) WaitForCount(ctx context.Context, n int) ([]Summary, error) {
	for {
		sums, err := s.Summaries(ctx)
		if err == nil && len(sums) >= n {
			return sums, nil
		}
		select {
		case <-ctx.Done():
			return sums, fmt.Errorf("mailtest: %d of %d messages arrived: %w", len(sums), n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DeleteAll deletes every received message.
func (s *Server) DeleteAll(ctx context.Context) error {
	return s.do(ctx, http.MethodDelete, "api/v1/messages", nil, nil)
}

// ChaosTrigger makes a share of SMTP commands fail with an error code.
type ChaosTrigger struct {
	ErrorCode   int `json:"ErrorCode"`   // 400–599
	Probability int `json:"Probability"` // 0–100 (percent)
}

// Chaos is mailpit's failure injection: Sender fails MAIL FROM,
// Recipient fails RCPT TO (every recipient alike), Authentication fails
// AUTH. A zero trigger turns its failures off.
type Chaos struct {
	Sender         ChaosTrigger `json:"Sender"`
	Recipient      ChaosTrigger `json:"Recipient"`
	Authentication ChaosTrigger `json:"Authentication"`
}

// SetChaos replaces the server's failure injection; it lasts until the
// next SetChaos or Restart.
func (s *Server) SetChaos(ctx context.Context, c Chaos) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.do(ctx, http.MethodPut, "api/v1/chaos", bytes.NewReader(body), nil)
}

// Log returns what mailpit has printed since it last started.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

func (s *Server) getJSON(ctx context.Context, path string, v any) error {
	return s.do(ctx, http.MethodGet, path, nil, v)
}

func (s *Server) do(ctx context.Context, method, path string, body io.Reader, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.APIURL()+path, body)
	if err != nil {
		return fmt.Errorf("mailtest: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("mailtest: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("mailtest: %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailtest: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("mailtest: %s %s: decode: %w", method, path, err)
	}
	return nil
}

// makeCert writes a self-signed certificate for 127.0.0.1 and localhost.
func (s *Server) makeCert() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("parse certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	s.certFile = filepath.Join(s.dir, "cert.pem")
	s.keyFile = filepath.Join(s.dir, "key.pem")
	if err := os.WriteFile(s.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(s.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	s.rootCAs = x509.NewCertPool()
	s.rootCAs.AddCert(cert)
	return nil
}

// syncBuffer is mailpit's output: written by its stdout and stderr
// copiers, read by Log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// binary returns the mailpit to run: $PINWARD_MAILPIT, else the cached
// build, building it first if needed (once per process; a file lock keeps
// parallel test processes from building it twice).
func binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvBinary, err)
		}
		return p, nil
	}
	buildOnce.Do(func() { buildBin, buildErr = build() })
	return buildBin, buildErr
}

func build() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go command to build mailpit: %w", err)
	}
	out, err := exec.Command(goBin, "env", "GOCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOCACHE: %w", err)
	}
	cache := strings.TrimSpace(string(out))
	if cache == "" || cache == "off" {
		return "", errors.New("GOCACHE is off; set " + EnvBinary)
	}
	dir := filepath.Join(filepath.Dir(cache), "pinward-tools")
	bin := filepath.Join(dir, "mailpit-"+Version)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "mailpit.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // another process built it while we waited
	}

	// Build into a private GOBIN, then rename: a half-written binary is
	// never at bin.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "install", "github.com/axllent/mailpit@"+Version)
	cmd.Dir = tmp // outside any module: mailpit builds with its own go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install mailpit@%s: %w\n%s", Version, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "mailpit"), bin); err != nil {
		return "", err
	}
	return bin, nil
}
