package dispatch

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps a receiver's Retry-After, so a wrong or hostile
// answer cannot park a work order for good.
const maxRetryAfter = 24 * time.Hour

// retryLater is a failed attempt whose receiver said when to come back
// (Retry-After on a 429 or 503).
type retryLater struct {
	err   error
	after time.Duration
}

func (e retryLater) Error() string { return e.err.Error() }
func (e retryLater) Unwrap() error { return e.err }

// RetryAfter is the wait the receiver asked for with err's attempt, if
// it asked (Retry-After on a 429 or 503).
func RetryAfter(err error) (time.Duration, bool) {
	var r retryLater
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// parseRetryAfter reads a Retry-After value: delay seconds or an
// HTTP-date (RFC 9110 §10.2.3), as a wait from now, capped at
// maxRetryAfter. A date already past is no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil {
		if s > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// statusError is nil for a 2xx. A 3xx, 408, 429 or 5xx is a failed
// attempt, retried (with the receiver's Retry-After on a 429 or 503); any
// other status is a permanent refusal.
func statusError(what string, resp *http.Response) error {
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 300 && c < 400:
		// Not followed (see noRedirect): the receiver never got the work
		// order as it was sent.
		return fmt.Errorf("%s answered %s, a redirect to %s, which pinward does not follow: set the connector to the final URL",
			what, resp.Status, location(resp))
	case c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable:
		err := fmt.Errorf("%s answered %s", what, resp.Status)
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return retryLater{fmt.Errorf("%w (Retry-After %v)", err, d), d}
		}
		return err
	case c == http.StatusRequestTimeout || c >= 500:
		return fmt.Errorf("%s answered %s", what, resp.Status)
	default:
		return Permanent(fmt.Errorf("%s refused it: %s", what, resp.Status))
	}
}

// location is a 3xx's Location for an operator to read: resolved against
// the request, without credentials, clipped.
func location(resp *http.Response) string {
	l := resp.Header.Get("Location")
	if l == "" {
		return "nowhere (no Location)"
	}
	u, err := url.Parse(l)
	if err != nil {
		return "an unreadable Location"
	}
	if resp.Request != nil && resp.Request.URL != nil {
		u = resp.Request.URL.ResolveReference(u)
	}
	return clip(u.Redacted())
}
