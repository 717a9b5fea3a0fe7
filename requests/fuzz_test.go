package requests

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/i18n"
)

// FuzzLoadCatalog feeds arbitrary bytes to LoadCatalog: nothing panics, a
// refusal is a bilingual Invalid naming the field, and an accepted catalog
// answers for every category it lists (its department exists, routing and
// equivalents include it). Seeds: the sample catalog, and
// testdata/fuzz/FuzzLoadCatalog.
func FuzzLoadCatalog(f *testing.F) {
	f.Add(data.SampleCategoriesJSON())
	f.Add([]byte(`{"time_zone":"UTC","departments":[{"code":"d","name":{"en":"D","fr":"D"}}],"categories":[{"code":"c","name":{"en":"C","fr":"C"},"description":{"en":"x","fr":"x"},"group":{"en":"g","fr":"g"},"department":"d"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := LoadCatalog(bytes.NewReader(b))
		if err != nil {
			var e *i18n.Error
			if !errors.As(err, &e) || e.Kind != i18n.Invalid || e.Field == "" || e.Message.En == "" || e.Message.Fr == "" {
				t.Fatalf("refusal %v is not a bilingual Invalid naming a field", err)
			}
			return
		}
		for _, cat := range c.Categories() {
			if _, ok := c.Department(cat.Department); !ok {
				t.Fatalf("category %s routes to unknown department %s", cat.Code, cat.Department)
			}
			eq := c.Equivalents(cat.Code)
			found := false
			for _, e := range eq {
				found = found || e == cat.Code
			}
			if !found {
				t.Fatalf("equivalents of %s leave it out: %v", cat.Code, eq)
			}
		}
	})
}

// FuzzAPIKeyScope feeds arbitrary text to the parsers of a key's scope
// (keys create --departments --wards, and the stored form): nothing
// panics, and what NewScope accepts survives a store round trip.
func FuzzAPIKeyScope(f *testing.F) {
	f.Add("roads,parks", "3,4")
	f.Add(" ,roads,,roads ", "")
	f.Add("Roads", "a\x00b")
	f.Fuzz(func(t *testing.T, depts, wards string) {
		s, err := NewScope(depts, wards)
		if err != nil {
			return
		}
		back := SplitScope(JoinScope(s))
		if len(back.Departments) != len(s.Departments) || len(back.Wards) != len(s.Wards) {
			t.Fatalf("%+v read back as %+v", s, back)
		}
		for i := range s.Departments {
			if back.Departments[i] != s.Departments[i] {
				t.Fatalf("%+v read back as %+v", s, back)
			}
		}
		for i := range s.Wards {
			if back.Wards[i] != s.Wards[i] {
				t.Fatalf("%+v read back as %+v", s, back)
			}
		}
	})
}
