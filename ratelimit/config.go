package ratelimit

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Class is a kind of route limited together.
type Class string

// The route classes issue 15 names.
const (
	Submissions Class = "submissions" // POST requests
	Locate      Class = "locate"      // what is at this point (ward, asset, duplicates)
	Flags       Class = "flags"       // a resident's "report this"
	Tiles       Class = "tiles"       // map tiles
)

// Classes lists every class, in a fixed order.
var Classes = []Class{Submissions, Locate, Flags, Tiles}

// By is what a limit counts by.
type By string

// What a limit counts by.
const (
	ByIP     By = "ip"
	ByKey    By = "key"
	ByDevice By = "device"
)

// Rate is Events per Per, in a token bucket that holds Events: a client
// may spend them at once, then gets one back every Per/Events. A zero
// Rate is no limit.
type Rate struct {
	Events int
	Per    time.Duration
}

func (r Rate) unlimited() bool { return r.Events <= 0 || r.Per <= 0 }

func (r Rate) String() string {
	if r.unlimited() {
		return "off"
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Events)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.Events)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Events)
	}
	return fmt.Sprintf("%d/%s", r.Events, r.Per)
}

// ParseRate reads "10/m", "600/h", "5/s", "20/30s" (any Go duration after
// the slash) or "off".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want EVENTS/PERIOD, e.g. 10/m", s)
	}
	events, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || events < 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a count", s, n)
	}
	var d time.Duration
	switch per = strings.TrimSpace(per); per {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	default:
		if d, err = time.ParseDuration(per); err != nil || d <= 0 {
			return Rate{}, fmt.Errorf("rate %q: %q is not a period (s, m, h or a duration such as 30s)", s, per)
		}
	}
	return Rate{Events: events, Per: d}, nil
}

// Limits are one class's limits per client IP, per API key and per
// device ID; every one that applies must allow a request.
type Limits struct {
	IP, Key, Device Rate
}

func (l Limits) rate(by By) Rate {
	switch by {
	case ByIP:
		return l.IP
	case ByKey:
		return l.Key
	}
	return l.Device
}

// Defaults are limits a resident never meets and a script soon does. A
// resident reports a few things a week; moving the pin asks locate a few
// times a second at most; a map view loads some tens of tiles.
func Defaults() map[Class]Limits {
	return map[Class]Limits{
		Submissions: {IP: Rate{10, time.Minute}, Key: Rate{60, time.Minute}, Device: Rate{10, time.Minute}},
		Locate:      {IP: Rate{120, time.Minute}, Key: Rate{600, time.Minute}, Device: Rate{120, time.Minute}},
		Flags:       {IP: Rate{20, time.Hour}, Key: Rate{200, time.Hour}, Device: Rate{20, time.Hour}},
		Tiles:       {IP: Rate{1200, time.Minute}},
	}
}

// ParseOverrides applies a flag value such as
// "submissions.ip=5/m,locate.key=off,tiles.ip=3000/m" to limits.
func ParseOverrides(limits map[Class]Limits, s string) error {
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		class, by, ok2 := strings.Cut(name, ".")
		if !ok || !ok2 {
			return fmt.Errorf("rate limit %q: want CLASS.BY=RATE, e.g. submissions.ip=10/m", item)
		}
		c, b := Class(strings.TrimSpace(class)), By(strings.TrimSpace(by))
		if !known(c) {
			return fmt.Errorf("rate limit %q: class %q is not one of submissions, locate, flags, tiles", item, class)
		}
		r, err := ParseRate(value)
		if err != nil {
			return fmt.Errorf("rate limit %q: %w", item, err)
		}
		l := limits[c]
		switch b {
		case ByIP:
			l.IP = r
		case ByKey:
			l.Key = r
		case ByDevice:
			l.Device = r
		default:
			return fmt.Errorf("rate limit %q: %q is not one of ip, key, device", item, by)
		}
		limits[c] = l
	}
	return nil
}

func known(c Class) bool {
	for _, k := range Classes {
		if k == c {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads the --trusted-proxies flag: a comma list of
// CIDR prefixes and single addresses, e.g. "10.0.0.0/8,192.168.1.5".
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", item, err)
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(0, p.Bits()-96))
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", item, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
