package requests

import (
	"strings"
	"testing"
)

func TestNewKeyRequest(t *testing.T) {
	for _, tc := range []struct {
		role, tenant, depts, wards string
		want                       string // error substring; "" for none
	}{
		{"integrator", "sample", "", "", ""},
		{"staff", "sample", "roads", "3,4", ""},
		{"root", "sample", "", "", `--role must be integrator, staff or admin, not "root"`},
		{"admin", "", "", "", "--tenant is empty"},
		{"integrator", "sample", "roads", "", "--departments and --wards limit staff keys only, not integrator keys"},
	} {
		k, err := NewKeyRequest(tc.role, tc.tenant, "label", tc.depts, tc.wards)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%+v: error %v, want %q", tc, err, tc.want)
			}
			continue
		}
		if err != nil || k.Role != Role(tc.role) || k.TenantID != tc.tenant || k.Label != "label" || k.Scope.IsZero() != (tc.depts == "" && tc.wards == "") {
			t.Errorf("%+v: key %+v, %v", tc, k, err)
		}
	}
}

func TestParseKeyID(t *testing.T) {
	if id, err := ParseKeyID([]string{"42"}); id != 42 || err != nil {
		t.Errorf("42: %d, %v", id, err)
	}
	for _, ops := range [][]string{nil, {"1", "2"}, {"0"}, {"-3"}, {"abc"}} {
		if _, err := ParseKeyID(ops); err == nil {
			t.Errorf("%q: no error", ops)
		}
	}
}
