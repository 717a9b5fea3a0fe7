package dispatch_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/requests"
)

// catalogWith is the sample catalog with public_works given connector c.
func catalogWith(t *testing.T, c map[string]any) *requests.Catalog {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(data.SampleCategoriesJSON(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, d := range raw["departments"].([]any) {
		if d := d.(map[string]any); d["code"] == "public_works" {
			d["connector"] = c
		}
	}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := requests.LoadCatalog(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestFromCatalog(t *testing.T) {
	env := map[string]string{"PW_SECRET": "s3cret", "PW_KEY": "k"}
	getenv := func(k string) string { return env[k] }
	client := &http.Client{}

	hook := catalogWith(t, map[string]any{"type": "webhook", "url": "https://works.example/hook", "secret_env": "PW_SECRET"})
	conns, err := dispatch.FromCatalog(hook, getenv, client)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := conns["public_works"].(*dispatch.Webhook)
	if len(conns) != 1 || !ok || w.URL != "https://works.example/hook" || string(w.Secret) != "s3cret" || w.Client != client {
		t.Errorf("webhook connectors = %#v", conns)
	}

	o311 := catalogWith(t, map[string]any{"type": "open311", "endpoint": "https://works.example/open311/v2", "api_key_env": "PW_KEY"})
	conns, err = dispatch.FromCatalog(o311, getenv, client)
	if o, ok := conns["public_works"].(*dispatch.Open311); err != nil || !ok || o.APIKey != "k" {
		t.Errorf("open311 connectors = %#v, %v", conns, err)
	}

	delete(env, "PW_SECRET")
	_, err = dispatch.FromCatalog(hook, getenv, client)
	var se dispatch.SetupError
	if !errors.As(err, &se) || err.Error() != "department public_works: its webhook's secret_env PW_SECRET is not set" {
		t.Errorf("missing secret: %v", err)
	}
	delete(env, "PW_KEY")
	if _, err = dispatch.FromCatalog(o311, getenv, client); !errors.As(err, &se) {
		t.Errorf("missing Open311 key: %v", err)
	}
}

func TestConfigSends(t *testing.T) {
	if (dispatch.Config{}).Sends() != nil {
		t.Error("no connector and no default: Sends is not nil")
	}
	own := dispatch.Config{Connectors: map[string]dispatch.Connector{"roads": &dispatch.Webhook{}}}.Sends()
	if own == nil || !own("roads") || own("parks") {
		t.Error("a department's own connector: Sends wrong")
	}
	def := dispatch.Config{Default: &dispatch.Webhook{}}.Sends()
	if def == nil || !def("parks") {
		t.Error("a default webhook: Sends wrong")
	}
}
