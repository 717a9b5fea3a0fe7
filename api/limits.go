package api

import (
	"net/http"

	"github.com/pinward/pinward/ratelimit"
	"github.com/pinward/pinward/requests"
)

// Limits against abuse (issue 15): Config.Limiter counts submissions,
// locate and tiles per client IP, per API key and per device ID.
//
// A submission is counted once readPost and require know its key: one
// made with a reporter key (the key the resident page publishes, which
// every resident shares) is counted by client IP and device_id, never by
// key, or one abuser would lock every resident out; one made with any
// other key (an integrator's app, a call centre, staff: a known party,
// often many residents behind one address) is counted by its key. Photos
// are decoded only after this.

// limit is the middleware counting class by what ratelimit.ClientOf finds
// (IP, X-Api-Key or api_key, device_id in the query).
func (h *handler) limit(class ratelimit.Class) func(http.Handler) http.Handler {
	if h.limiter == nil {
		return passThrough
	}
	return h.limiter.Middleware(class)
}

// limitSubmitter counts a submission (see above); after readPost and
// require.
func (h *handler) limitSubmitter(next http.Handler) http.Handler {
	if h.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c ratelimit.Client
		if k := keyOf(r); k.Role != requests.RoleReporter {
			c.APIKey = k.Hash
		} else {
			c.IP = h.limiter.ClientIP(r)
			if in, ok := r.Context().Value(submissionCtxKey{}).(*submission); ok {
				c.Device = in.sub.Reporter.DeviceID
			}
		}
		if err := h.limiter.Allow(ratelimit.Submissions, c); err != nil {
			h.limiter.Refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func passThrough(next http.Handler) http.Handler { return next }
