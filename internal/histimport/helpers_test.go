package histimport_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/histimport"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
	"github.com/pinward/pinward/wards"
)

const tenant = "hist"

// forEachStore runs fn once per store, each on a fresh database.
func forEachStore(t *testing.T, fn func(t *testing.T, st requests.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pinward.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
	t.Run("postgis", func(t *testing.T) {
		s, err := postgis.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		fn(t, s)
	})
}

var sample = sync.OnceValues(func() (*wards.Set, error) {
	set, _, err := cli.SampleTown(cli.Env{Stderr: io.Discard})
	return set, err
})

func catalog(t *testing.T) *requests.Catalog {
	t.Helper()
	c, err := cli.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runImport imports files with the built-in mapping of source and returns
// the summary and what it logged.
func runImport(t *testing.T, st requests.Store, source string, ws histimport.Wards, files ...string) (histimport.Summary, string) {
	t.Helper()
	m, err := histimport.Builtin(source)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	sum, err := histimport.Import(context.Background(), histimport.Config{Tenant: tenant, Mapping: m,
		Catalog: catalog(t), Wards: ws, Store: st, Log: &log}, files)
	if err != nil {
		t.Fatalf("import %s: %v\n%s", source, err, log.String())
	}
	return sum, log.String()
}

// mappedCategories reads the category keys of a built-in mapping straight
// from its JSON file (lower case), to count unmapped rows without the
// importer's code.
func mappedCategories(t *testing.T, source string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("mappings", source+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Categories map[string]string `json:"categories"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for k := range m.Categories {
		out[strings.ToLower(k)] = true
	}
	return out
}

// readCSV returns a CSV file's header (lower case, BOM removed) and rows.
func readCSV(t *testing.T, r io.Reader) ([]string, [][]string) {
	t.Helper()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	h := recs[0]
	for i := range h {
		h[i] = strings.ToLower(strings.TrimPrefix(h[i], "\ufeff"))
	}
	return h, recs[1:]
}

func col(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == strings.ToLower(name) {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return -1
}

func check(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}
