package ratelimit

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	good := map[string]Rate{
		"10/m":   {10, time.Minute},
		" 600/h": {600, time.Hour},
		"5/s":    {5, time.Second},
		"20/30s": {20, 30 * time.Second},
		"off":    {},
		"0":      {},
	}
	for s, want := range good {
		got, err := ParseRate(s)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"10", "x/m", "-1/m", "10/fortnight", "10/-5s", "10/0s"} {
		if _, err := ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q) accepted", s)
		}
	}
	if s := (Rate{10, time.Minute}).String(); s != "10/m" {
		t.Errorf("String = %q", s)
	}
}

func TestParseOverrides(t *testing.T) {
	l := Defaults()
	if err := ParseOverrides(l, "submissions.ip=5/m, locate.key=off,tiles.device=100/s"); err != nil {
		t.Fatal(err)
	}
	if l[Submissions].IP != (Rate{5, time.Minute}) || l[Submissions].Key != Defaults()[Submissions].Key {
		t.Errorf("submissions %+v", l[Submissions])
	}
	if !l[Locate].Key.unlimited() || l[Tiles].Device != (Rate{100, time.Second}) {
		t.Errorf("locate %+v tiles %+v", l[Locate], l[Tiles])
	}
	for _, s := range []string{"submissions=5/m", "photos.ip=5/m", "submissions.user=5/m", "submissions.ip=lots"} {
		if err := ParseOverrides(Defaults(), s); err == nil {
			t.Errorf("ParseOverrides(%q) accepted", s)
		}
	}
}

// The defaults let a resident through and stop a script.
func TestDefaults(t *testing.T) {
	d := Defaults()
	for _, c := range Classes {
		if d[c].IP.unlimited() {
			t.Errorf("%s has no per-IP default", c)
		}
	}
	if s := d[Submissions].IP; s.Events != 10 || s.Per != time.Minute {
		t.Errorf("submissions per IP %v, want 10/m", s)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	p, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.5,2001:db8::/32,::ffff:172.16.0.0/108,")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p) != "[10.0.0.0/8 192.168.1.5/32 2001:db8::/32 172.16.0.0/12]" {
		t.Errorf("got %v", p)
	}
	for _, s := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1/8x"} {
		if _, err := ParseTrustedProxies(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if p, err := ParseTrustedProxies(""); err != nil || len(p) != 0 {
		t.Errorf("empty: %v %v", p, err)
	}
}

func TestClientIP(t *testing.T) {
	xff := proxies{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, header: HeaderXForwardedFor}
	fwd := proxies{trusted: xff.trusted, header: HeaderForwarded}
	none := proxies{header: HeaderXForwardedFor}
	cases := []struct {
		p         proxies
		remote    string
		xff, fwd  string
		want, key string
	}{
		{none, "192.0.2.1:5555", "198.51.100.1", "", "192.0.2.1", "192.0.2.1"},
		{xff, "192.0.2.1:5555", "198.51.100.1", "", "192.0.2.1", "192.0.2.1"},
		{xff, "10.0.0.1:5555", "198.51.100.1", "", "198.51.100.1", "198.51.100.1"},
		{xff, "10.0.0.1:5555", "6.6.6.6, 198.51.100.1, 10.9.9.9", "", "198.51.100.1", "198.51.100.1"},
		{xff, "10.0.0.1:5555", "10.2.2.2, 10.3.3.3", "", "10.2.2.2", "10.2.2.2"},
		{xff, "10.0.0.1:5555", "", "", "10.0.0.1", "10.0.0.1"},
		{xff, "10.0.0.1:5555", "unknown", "", "10.0.0.1", "10.0.0.1"},
		{xff, "10.0.0.1:5555", "198.51.100.1, garbage, 10.4.4.4", "", "10.4.4.4", "10.4.4.4"},
		{xff, "10.0.0.1:5555", "198.51.100.1:4711", "", "198.51.100.1", "198.51.100.1"},
		{xff, "[::ffff:10.0.0.1]:5555", "::ffff:198.51.100.1", "", "198.51.100.1", "198.51.100.1"},
		{xff, "10.0.0.1:5555", "2001:db8:1:2:3:4:5:6", "", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{xff, "10.0.0.1:5555", "", "for=198.51.100.1", "10.0.0.1", "10.0.0.1"},
		{fwd, "10.0.0.1:5555", "198.51.100.1", `for=192.0.2.9;proto=https, For="[2001:db8::7]:80"`, "2001:db8::7", "2001:db8::/64"},
		{fwd, "10.0.0.1:5555", "", `for=_hidden, for=10.5.5.5`, "10.5.5.5", "10.5.5.5"},
		{fwd, "192.0.2.1:5555", "", `for=198.51.100.1`, "192.0.2.1", "192.0.2.1"},
		{xff, "[2001:db8::1%eth0]:5555", "", "", "2001:db8::1", "2001:db8::/64"},
		{xff, "@", "", "", "invalid IP", ""},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set(HeaderXForwardedFor, c.xff)
		}
		if c.fwd != "" {
			r.Header.Set(HeaderForwarded, c.fwd)
		}
		got := c.p.clientIP(r)
		if got.String() != c.want || ipKey(got) != c.key {
			t.Errorf("%s via %q / %q (%s): %v key %q, want %s key %q", c.remote, c.xff, c.fwd, c.p.header, got, ipKey(got), c.want, c.key)
		}
	}
}

// FuzzClientIP: whatever the headers say, the client is the peer or an
// address the headers name, never a panic; an untrusted peer is always
// itself.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "198.51.100.1, 10.2.2.2", `for="[2001:db8::7]:80";proto=https`)
	f.Add("192.0.2.1:80", "unknown", "for=_hidden")
	f.Add("[::1]:80", ",,,", `for="`)
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, remote, xffValue, fwdValue string) {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header.Set(HeaderXForwardedFor, xffValue)
		r.Header.Set(HeaderForwarded, fwdValue)
		peer := remoteAddr(remote)
		for _, p := range []proxies{{trusted, HeaderXForwardedFor}, {trusted, HeaderForwarded}} {
			got := p.clientIP(r)
			if !p.isTrusted(peer) && got != peer {
				t.Fatalf("untrusted peer %v seen as %v", peer, got)
			}
			if got.IsValid() && got != peer && !strings.Contains(xffValue+fwdValue, got.String()) &&
				!strings.Contains(strings.ToLower(xffValue+fwdValue), strings.ToLower(got.String())) {
				// Addresses may be written differently (zeros, ::ffff:),
				// so only check that something was parsed from the header.
				if len(p.hops(r)) == 0 {
					t.Fatalf("client %v from no header", got)
				}
			}
			_ = ipKey(got)
		}
	})
}
