package dispatch

import (
	"net/netip"
	"testing"
	"time"
)

// TestPrivateAddress: the addresses a webhook may not reach without
// --allow-private-webhooks, in their IPv4, IPv6 and mapped forms.
func TestPrivateAddress(t *testing.T) {
	for _, a := range []string{
		"127.0.0.1", "127.8.8.8", "::1", "::ffff:127.0.0.1", // loopback
		"10.1.2.3", "172.16.0.1", "192.168.1.1", "fd00:ec2::254", "::ffff:10.0.0.1", // private, AWS IPv6 metadata
		"169.254.169.254", "fe80::1", // link-local: the cloud metadata service
		"100.100.100.200", "100.64.0.1", // shared address space (a cloud's metadata)
		"0.0.0.0", "::", "0.1.2.3", "224.0.0.1", "ff02::1", "255.255.255.255", "192.0.0.192", "198.18.0.1",
		"64:ff9b::a9fe:a9fe", // 169.254.169.254 through NAT64
	} {
		if privateAddress(netip.MustParseAddr(a)) == "" {
			t.Errorf("%s counted as public", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "142.250.72.14", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "100.128.0.1"} {
		if why := privateAddress(netip.MustParseAddr(a)); why != "" {
			t.Errorf("%s refused (%s)", a, why)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"0": 0, "120": 2 * time.Minute, " 7 ": 7 * time.Second, "99999999999": maxRetryAfter,
		"Sun, 01 Mar 2026 12:01:30 GMT":  90 * time.Second,
		"Sun, 01 Mar 2026 11:00:00 GMT":  0, // past
		"Monday, 01-Mar-26 12:00:10 GMT": 10 * time.Second,
	} {
		if got, ok := parseRetryAfter(v, now); !ok || got != want {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "-5", "soon", "1.5"} {
		if got, ok := parseRetryAfter(v, now); ok {
			t.Errorf("parseRetryAfter(%q) = %v, want not understood", v, got)
		}
	}
}
