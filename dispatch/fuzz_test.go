package dispatch

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary headers and bodies to Verify: nothing
// panics, only a signature SignV1 made verifies, and one it made (with a
// timestamp within the tolerance) always does, alone or beside another.
// Seeds: testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_780_000_000, 0)
	f.Add([]byte("secret"), "msg_1", "1780000000", "v1,abc", []byte(`{"a":1}`))
	f.Add([]byte(""), "", "-1", "", []byte(nil))
	f.Add([]byte("whsec_x"), "id", "99999999999999999999", "v1,a v1,b", []byte("x"))
	f.Fuzz(func(t *testing.T, secret []byte, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if err := Verify(secret, h, body, now); err == nil {
			sec, _ := strconv.ParseInt(ts, 10, 64)
			if !containsField(sig, SignV1(secret, h.Get(HeaderID), time.Unix(sec, 0), body)) {
				t.Fatalf("verified a signature SignV1 did not make: %q", sig)
			}
		}
		if h.Get(HeaderID) == "" {
			return
		}
		good := SignV1(secret, h.Get(HeaderID), now, body)
		h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(HeaderSignature, "v1,stale "+good)
		if err := Verify(secret, h, body, now); err != nil {
			t.Fatalf("its own signature (beside another) fails: %v", err)
		}
	})
}

func containsField(s, want string) bool {
	for _, f := range strings.Fields(s) {
		if f == want {
			return true
		}
	}
	return false
}
