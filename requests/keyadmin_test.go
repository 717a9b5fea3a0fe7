package requests_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

func TestKeyTable(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	made := now.Add(-48 * time.Hour)
	keys := []requests.Key{
		{ID: 1, Role: requests.RoleReporter, Label: "web page", CreatedAt: made},
		{ID: 2, Role: requests.RoleStaff, Label: "desk", CreatedAt: made, RevokedAt: now.Add(-time.Hour)},
		{ID: 3, Role: requests.RoleIntegrator, Label: "app", CreatedAt: made, ExpiresAt: now.Add(-time.Minute)},
	}
	var b strings.Builder
	if err := requests.WriteKeyTable(&b, keys, 1, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID  ROLE") {
		t.Fatalf("table:\n%s", b.String())
	}
	for i, want := range []string{"active (web page)", "revoked 2026-06-01T11:00:00Z", "expired"} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("key %d: %q does not say %q", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(lines[3], "2026-06-01T11:59:00Z") || !strings.Contains(lines[1], "never") {
		t.Errorf("expiry column wrong:\n%s", b.String())
	}
}

func TestParseLayerNames(t *testing.T) {
	got, err := requests.ParseLayerNames(" hydrant, ,streetlight ")
	if err != nil || strings.Join(got, "|") != "hydrant|streetlight" {
		t.Errorf("ParseLayerNames = %q, %v", got, err)
	}
	if got, err := requests.ParseLayerNames(""); err != nil || len(got) != 0 {
		t.Errorf(`ParseLayerNames("") = %q, %v`, got, err)
	}
	if _, err := requests.ParseLayerNames("hydrant,changes"); err == nil {
		t.Error("a word of the asset API's paths accepted as a layer")
	}
}
