package requests_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// withConnector is the sample catalog with public_works given connector c.
func withConnector(t *testing.T, c any) []byte {
	t.Helper()
	var cat map[string]any
	if err := json.Unmarshal(data.SampleCategoriesJSON(), &cat); err != nil {
		t.Fatal(err)
	}
	for _, d := range cat["departments"].([]any) {
		if d := d.(map[string]any); d["code"] == "public_works" {
			d["connector"] = c
		}
	}
	b, err := json.Marshal(cat)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCatalogConnectors(t *testing.T) {
	cat, err := requests.LoadCatalog(bytes.NewReader(withConnector(t, map[string]any{
		"type": "open311", "endpoint": "https://works.example/open311/v2", "api_key_env": "PW_KEY",
		"service_code_map": map[string]string{"pothole": "PH01"},
	})))
	if err != nil {
		t.Fatal(err)
	}
	cs := cat.Connectors()
	if len(cs) != 1 || cs["public_works"].Type != "open311" || cs["public_works"].ServiceCodeMap["pothole"] != "PH01" {
		t.Errorf("Connectors() = %+v", cs)
	}
	if _, err := requests.LoadCatalog(bytes.NewReader(withConnector(t, map[string]any{
		"type": "webhook", "url": "http://127.0.0.1:9/hook", "secret_env": "PW_SECRET"}))); err != nil {
		t.Errorf("webhook connector refused: %v", err)
	}
	for _, tc := range []struct {
		c     any
		field string
	}{
		{map[string]any{"type": "ftp", "url": "ftp://x"}, "departments[public_works].connector.type"},
		{map[string]any{"type": "webhook", "secret_env": "S"}, "departments[public_works].connector.url"},
		{map[string]any{"type": "webhook", "url": "file:///etc/passwd", "secret_env": "S"}, "departments[public_works].connector.url"},
		{map[string]any{"type": "webhook", "url": "https://x.example"}, "departments[public_works].connector.secret_env"},
		{map[string]any{"type": "webhook", "url": "https://x.example", "secret_env": "not a name"}, "departments[public_works].connector.secret_env"},
		{map[string]any{"type": "webhook", "url": "https://x.example", "secret_env": "S", "endpoint": "https://y"}, "departments[public_works].connector"},
		{map[string]any{"type": "open311"}, "departments[public_works].connector.endpoint"},
		{map[string]any{"type": "open311", "endpoint": "https://y", "service_code_map": map[string]string{"pothole": ""}}, "departments[public_works].connector.service_code_map"},
		{map[string]any{"type": "open311", "endpoint": "https://y", "secret": "inline"}, "catalog"}, // unknown field
	} {
		_, err := requests.LoadCatalog(bytes.NewReader(withConnector(t, tc.c)))
		var e *i18n.Error
		if !errAs(err, &e) || e.Kind != i18n.Invalid || e.Field != tc.field || e.Message.Fr == "" || strings.Contains(e.Message.Fr, "%!") {
			t.Errorf("connector %v: %v (field %q), want Invalid at %s", tc.c, err, fieldOf(e), tc.field)
		}
	}
}

func errAs(err error, e **i18n.Error) bool {
	ie, ok := err.(*i18n.Error)
	*e = ie
	return ok
}

func fieldOf(e *i18n.Error) string {
	if e == nil {
		return ""
	}
	return e.Field
}

// TestCheckWebhookURLHidesPassword: a refused URL is quoted without its
// password, which would otherwise reach the operator's log.
func TestCheckWebhookURLHidesPassword(t *testing.T) {
	for _, u := range []string{"ftp://ops:Secret9@host/hook", "http://ops:Secret9@host:port/hook", "http//ops:Secret9@host"} {
		err := requests.CheckWebhookURL(u)
		if err == nil || strings.Contains(err.Error(), "Secret9") {
			t.Errorf("CheckWebhookURL(%q) = %v; want an error without the password", u, err)
		}
	}
}
