package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The headers a proxy may name the client in.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded" // RFC 7239
)

// proxies decides who the client of a request is.
type proxies struct {
	trusted []netip.Prefix
	header  string // HeaderXForwardedFor or HeaderForwarded
}

func (p proxies) isTrusted(a netip.Addr) bool {
	for _, pr := range p.trusted {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address of the direct peer, unless that peer is a
// trusted proxy: then the proxy header is read from the right (the entry
// the nearest proxy wrote) past every trusted proxy, and the first address
// that is not one is the client. Entries further left were written by the
// client or by proxies nobody vouches for, so they are never believed.
// Only one header is read: if the proxies write X-Forwarded-For, a
// Forwarded header comes from the client and would let it choose its
// address.
func (p proxies) clientIP(r *http.Request) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if !peer.IsValid() || len(p.trusted) == 0 || !p.isTrusted(peer) {
		return peer
	}
	hops := p.hops(r)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := hops[i]
		if !a.IsValid() {
			// "unknown", an obfuscated name or garbage, written by a
			// trusted proxy: the last address known is the best there is.
			return client
		}
		client = a
		if !p.isTrusted(a) {
			return a
		}
	}
	return client
}

// hops lists the addresses in the proxy header, left (furthest) to right
// (nearest); an entry that is not an address is the zero Addr. Repeated
// header lines are one list, in order (RFC 9110, 5.3).
func (p proxies) hops(r *http.Request) []netip.Addr {
	var out []netip.Addr
	for _, line := range r.Header.Values(p.header) {
		for _, item := range strings.Split(line, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if p.header == HeaderForwarded {
				item = forwardedFor(item)
			}
			out = append(out, hostAddr(item))
		}
	}
	return out
}

// forwardedFor returns the for= value of one Forwarded element
// (for=192.0.2.60;proto=http;by=203.0.113.43), unquoted.
func forwardedFor(element string) string {
	for _, pair := range strings.Split(element, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// hostAddr reads "192.0.2.1", "192.0.2.1:4711", "2001:db8::1" or
// "[2001:db8::1]:4711"; the zero Addr for anything else.
func hostAddr(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") { // [v6] without a port
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	return netip.Addr{}
}

func remoteAddr(s string) netip.Addr {
	if a := hostAddr(s); a.IsValid() {
		return a
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}
	}
	return hostAddr(host)
}

// ipKey is what a client IP is counted as: an IPv4 address, or the /64
// an IPv6 address is in, since one household or phone is given a whole
// /64 and can pick any address in it.
func ipKey(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
