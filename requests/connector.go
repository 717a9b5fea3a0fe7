package requests

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/pinward/pinward/i18n"
)

// Connector is how a department receives its work orders, configured on
// the department in the category config (optional):
//
//	{"type": "webhook", "url": "https://...", "secret_env": "PW_PARKS_SECRET"}
//	{"type": "open311", "endpoint": "https://.../open311/v2",
//	 "api_key_env": "PW_CITYWORKS_KEY", "service_code_map": {"pothole": "PH01"}}
//
// A webhook gets a signed JSON document per work order (see package
// dispatch); Open311 posts a GeoReport v2 request to another system and
// polls its requests.json for status. Secrets are never in the file: the
// *_env fields name environment variables, which only cmd/pinward reads.
type Connector struct {
	Type      string `json:"type"`
	URL       string `json:"url,omitempty"`
	SecretEnv string `json:"secret_env,omitempty"`

	Endpoint  string `json:"endpoint,omitempty"`
	APIKeyEnv string `json:"api_key_env,omitempty"`
	// ServiceCodeMap maps pinward category codes to the receiving system's
	// service codes; an unmapped category is sent with its own code.
	ServiceCodeMap map[string]string `json:"service_code_map,omitempty"`
}

// The connector types.
const (
	ConnectorWebhook = "webhook"
	ConnectorOpen311 = "open311"
)

var envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkConnector validates a department's connector (nil: none); field is
// the department's JSON path.
func checkConnector(field string, c *Connector) error {
	if c == nil {
		return nil
	}
	field += ".connector"
	switch c.Type {
	case ConnectorWebhook:
		if err := checkHTTPURL(field+".url", c.URL); err != nil {
			return err
		}
		if c.SecretEnv == "" {
			return cfgErr(field+".secret_env", msgRequired)
		}
		if c.Endpoint != "" || c.APIKeyEnv != "" || len(c.ServiceCodeMap) > 0 {
			return cfgErr(field, i18n.T("a webhook takes url and secret_env only", "un webhook ne prend que url et secret_env"))
		}
	case ConnectorOpen311:
		if err := checkHTTPURL(field+".endpoint", c.Endpoint); err != nil {
			return err
		}
		if c.URL != "" || c.SecretEnv != "" {
			return cfgErr(field, i18n.T("an open311 connector takes endpoint, api_key_env and service_code_map only",
				"un connecteur open311 ne prend que endpoint, api_key_env et service_code_map"))
		}
		for k, v := range c.ServiceCodeMap {
			if k == "" || v == "" {
				return cfgErr(field+".service_code_map", i18n.T("has an empty code", "contient un code vide"))
			}
		}
	default:
		return cfgErr(field+".type", i18n.T("%q is not a connector type (webhook, open311)",
			"%q n'est pas un type de connecteur (webhook, open311)"), clip(c.Type))
	}
	for name, v := range map[string]string{"secret_env": c.SecretEnv, "api_key_env": c.APIKeyEnv} {
		if v != "" && !envRE.MatchString(v) {
			return cfgErr(field+"."+name, i18n.T("%q is not an environment variable name", "%q n'est pas un nom de variable d'environnement"), clip(v))
		}
	}
	return nil
}

func checkHTTPURL(field, s string) error {
	if s == "" {
		return cfgErr(field, msgRequired)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Quoted without its password (a URL may carry one); one that
		// cannot be taken apart is not quoted if it may hold one.
		shown := s
		switch {
		case err == nil && u.User != nil:
			shown = u.Redacted()
		case strings.Contains(s, "@"):
			shown = "(not shown: it may hold a password)"
		}
		return cfgErr(field, i18n.T("%q is not an http or https URL", "%q n'est pas une URL http ou https"), clip(shown))
	}
	return nil
}

// Connectors returns the departments that have a connector, by code.
func (c *Catalog) Connectors() map[string]Connector {
	out := map[string]Connector{}
	for _, d := range c.departments {
		if d.Connector != nil {
			out[d.Code] = *d.Connector
		}
	}
	return out
}

// CheckWebhookURL checks a webhook URL given outside the catalog (the
// --workorder-webhook flag).
func CheckWebhookURL(s string) error { return checkHTTPURL("workorder-webhook", s) }
