package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/pinward/pinward/requests"
)

// SetupError is a connector the catalog names but the environment cannot
// complete (a secret or key variable that is not set): the operator's
// mistake, which a command reports as bad usage.
type SetupError struct{ Msg string }

func (e SetupError) Error() string { return e.Msg }

// FromCatalog builds the connectors of the catalog's departments, reading
// their webhook secrets and Open311 keys with getenv; every connector
// delivers with client.
func FromCatalog(cat *requests.Catalog, getenv func(string) string, client *http.Client) (map[string]Connector, error) {
	conns := map[string]Connector{}
	for dept, c := range cat.Connectors() {
		switch c.Type {
		case requests.ConnectorWebhook:
			secret := getenv(c.SecretEnv)
			if secret == "" {
				return nil, SetupError{fmt.Sprintf("department %s: its webhook's secret_env %s is not set", dept, c.SecretEnv)}
			}
			conns[dept] = &Webhook{URL: c.URL, Secret: []byte(secret), Client: client}
		case requests.ConnectorOpen311:
			key := ""
			if c.APIKeyEnv != "" {
				if key = getenv(c.APIKeyEnv); key == "" {
					return nil, SetupError{fmt.Sprintf("department %s: its Open311 api_key_env %s is not set", dept, c.APIKeyEnv)}
				}
			}
			conns[dept] = &Open311{Endpoint: c.Endpoint, APIKey: key, ServiceCodeMap: c.ServiceCodeMap, Client: client}
		}
	}
	return conns, nil
}

// Sends reports whether cfg delivers the work orders of a department: it
// has its own connector, or there is a default. Nil when no department's
// are delivered, so the Service opens none.
func (cfg Config) Sends() func(dept string) bool {
	if len(cfg.Connectors) == 0 && cfg.Default == nil {
		return nil
	}
	return func(dept string) bool {
		_, ok := cfg.Connectors[dept]
		return ok || cfg.Default != nil
	}
}

// Start runs a Dispatcher of cfg until stop, which ends it and waits for
// its deliveries (call it before the store closes).
func Start(ctx context.Context, cfg Config) (stop func(), err error) {
	d, err := New(cfg)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.Run(dctx)
	}()
	return func() { cancel(); wg.Wait() }, nil
}
