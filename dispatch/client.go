package dispatch

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress is what a connection to a loopback, private,
// link-local or metadata address fails with when private addresses are
// not allowed (pinward serve --allow-private-webhooks allows them).
var ErrPrivateAddress = errors.New("private, loopback, link-local or metadata addresses are refused (pinward serve --allow-private-webhooks allows them)")

// NewClient returns the HTTP client connectors use: it never follows a
// redirect (a 3xx is the answer, and a failed delivery), and unless
// allowPrivate it refuses to connect to loopback, private, link-local and
// metadata addresses. The address is checked when the connection is made,
// after DNS, so a name that resolves to a public address when checked and
// a private one when used (DNS rebinding) is still refused. Connections go
// straight to the receiver, never through an HTTP_PROXY: through a proxy
// the receiver's address could not be checked.
func NewClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = refusePrivate
	}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: noRedirect}
}

// noRedirect makes the client return a 3xx as it is. Following one would
// send a 302's work order as a GET without its body, or a 307's signed
// body wherever Location points.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Shared clients for connectors built without one.
var (
	publicClient  = NewClient(false)
	privateClient = NewClient(true)
)

// client is c with redirects off (a copy: the caller's client is left as
// it is), or the shared client when c is nil.
func client(c *http.Client, allowPrivate bool) *http.Client {
	if c == nil {
		if allowPrivate {
			return privateClient
		}
		return publicClient
	}
	cc := *c
	cc.CheckRedirect = noRedirect
	return &cc
}

// refusePrivate is a net.Dialer Control function: it sees the address
// about to be connected to, after name resolution.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", address, ErrPrivateAddress)
	}
	if why := privateAddress(ap.Addr()); why != "" {
		return fmt.Errorf("connecting to %s (%s): %w", address, why, ErrPrivateAddress)
	}
	return nil
}

// Ranges beyond what netip classifies: "this network", shared address
// space (carrier-grade NAT, and some clouds' metadata service at
// 100.100.100.200), IETF protocol assignments, benchmarking and reserved.
var specialV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// privateAddress says why a is not a public unicast address, or "" when it
// is one. Cloud metadata services live at link-local (169.254.169.254,
// fe80::) or unique-local (fd00:ec2::254) addresses, which are refused.
func privateAddress(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "not an IP address"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local or metadata"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return "multicast"
	}
	if a.Is4() {
		for _, p := range specialV4 {
			if p.Contains(a) {
				return "reserved"
			}
		}
	} else if nat64.Contains(a) {
		// An IPv4 address written as IPv6 through a NAT64 gateway.
		b := a.As16()
		return privateAddress(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	return ""
}
