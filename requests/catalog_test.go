package requests

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo

	"github.com/pinward/pinward/i18n"
)

// testCatalog is a small valid config the tests edit one string at a time.
const testCatalog = `{
  "time_zone": "America/Toronto",
  "business_hours": {"open": "08:30", "close": "16:30", "days": ["mon", "tue", "wed", "thu", "fri"]},
  "holidays": ["2026-07-01"],
  "departments": [
    {"code": "public_works", "name": {"en": "Public Works", "fr": "Travaux publics"}},
    {"code": "parks", "name": {"en": "Parks", "fr": "Parcs"}},
    {"code": "contractor", "name": {"en": "Contractor", "fr": "Entrepreneur"}}
  ],
  "categories": [
    {
      "code": "pothole",
      "name": {"en": "Pothole", "fr": "Nid-de-poule"},
      "description": {"en": "A hole in the road.", "fr": "Un trou dans la rue."},
      "group": {"en": "Roads", "fr": "Voirie"},
      "keywords": ["hole", "trou"],
      "department": "public_works",
      "dedup": {"distance_m": 30, "window_hours": 336, "same_asset": false, "equivalent": ["road_damage"]},
      "sla": {"hours": 40, "business_hours": true},
      "attributes": [
        {"code": "notes", "datatype": "text", "order": 9,
         "description": {"en": "Anything else?", "fr": "Autre chose?"}},
        {"code": "size", "datatype": "singlevaluelist", "required": true, "order": 1,
         "description": {"en": "How big?", "fr": "Quelle taille?"},
         "values": [{"key": "small", "name": {"en": "Small", "fr": "Petit"}},
                    {"key": "large", "name": {"en": "Large", "fr": "Grand"}}]},
        {"code": "depth", "datatype": "number", "order": 2,
         "description": {"en": "Depth in cm", "fr": "Profondeur en cm"}},
        {"code": "seen_at", "datatype": "datetime", "order": 3,
         "description": {"en": "When?", "fr": "Quand?"}},
        {"code": "lanes", "datatype": "multivaluelist", "order": 4,
         "description": {"en": "Which lanes?", "fr": "Quelles voies?"},
         "values": [{"key": "left", "name": {"en": "Left", "fr": "Gauche"}},
                    {"key": "right", "name": {"en": "Right", "fr": "Droite"}},
                    {"key": "bike", "name": {"en": "Bike", "fr": "Vélo"}}]},
        {"code": "plate", "datatype": "string", "order": 5,
         "description": {"en": "Plate", "fr": "Plaque"}},
        {"code": "warning", "datatype": "text", "informational": true, "order": 0,
         "description": {"en": "Call 911 in an emergency.", "fr": "Composez le 911 en cas d'urgence."}}
      ]
    },
    {
      "code": "road_damage",
      "name": {"en": "Road damage", "fr": "Chaussée endommagée"},
      "description": {"en": "Broken pavement.", "fr": "Chaussée brisée."},
      "group": {"en": "Roads", "fr": "Voirie"},
      "department": "public_works",
      "dedup": {"distance_m": 30, "window_hours": 336, "same_asset": false},
      "sla": {"hours": 72, "business_hours": false}
    },
    {
      "code": "streetlight_out",
      "name": {"en": "Streetlight out", "fr": "Lampadaire éteint"},
      "description": {"en": "A dark streetlight.", "fr": "Un lampadaire éteint."},
      "group": {"en": "Lighting", "fr": "Éclairage"},
      "department": "public_works",
      "ward_departments": {"2": "contractor"},
      "asset_layers": ["streetlight"],
      "asset_radius_m": 30,
      "sla": {"hours": 24, "business_hours": false}
    }
  ]
}`

func loadTest(t *testing.T) *Catalog {
	t.Helper()
	c, err := LoadCatalog(strings.NewReader(testCatalog))
	if err != nil {
		t.Fatalf("LoadCatalog: %v", err)
	}
	return c
}

// edit replaces the one occurrence of old in the test config.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if strings.Count(testCatalog, old) != 1 {
		t.Fatalf("test config has %d occurrences of %q, want 1", strings.Count(testCatalog, old), old)
	}
	return strings.Replace(testCatalog, old, new, 1)
}

func TestLoadCatalog(t *testing.T) {
	c := loadTest(t)
	var codes []string
	for _, cat := range c.Categories() {
		codes = append(codes, cat.Code)
	}
	if want := []string{"pothole", "road_damage", "streetlight_out"}; !slices.Equal(codes, want) {
		t.Errorf("Categories() = %v, want file order %v", codes, want)
	}
	if c.Location().String() != "America/Toronto" {
		t.Errorf("Location() = %v", c.Location())
	}
	p, _ := c.Category("pothole")
	var attrs []string
	for i, a := range p.Attributes {
		attrs = append(attrs, a.Code)
		if a.Order != i+1 {
			t.Errorf("attribute %s has order %d, want %d", a.Code, a.Order, i+1)
		}
	}
	if want := []string{"warning", "size", "depth", "seen_at", "lanes", "plate", "notes"}; !slices.Equal(attrs, want) {
		t.Errorf("attributes in order %v, want %v", attrs, want)
	}
	if _, ok := c.Category("nope"); ok {
		t.Error(`Category("nope") found something`)
	}
	if d, ok := c.Department("parks"); !ok || d.Name.Fr != "Parcs" {
		t.Errorf(`Department("parks") = %v, %v`, d, ok)
	}
	if n := len(c.Departments()); n != 3 {
		t.Errorf("%d departments, want 3", n)
	}
}

func TestDedupDefaultsAndEquivalents(t *testing.T) {
	c := loadTest(t)
	sl, _ := c.Category("streetlight_out")
	if want := (DedupRule{DistanceM: 30, WindowHours: 336, SameAsset: true}); !equalRule(sl.Dedup, want) {
		t.Errorf("streetlight_out without dedup got %+v, want the default with same_asset %+v", sl.Dedup, want)
	}
	// Equivalence was declared on pothole only; the catalog makes it mutual.
	for _, code := range []string{"pothole", "road_damage"} {
		if got := c.Equivalents(code); !slices.Equal(got, []string{"pothole", "road_damage"}) {
			t.Errorf("Equivalents(%s) = %v", code, got)
		}
	}
	rd, _ := c.Category("road_damage")
	if !slices.Equal(rd.Dedup.Equivalent, []string{"pothole"}) {
		t.Errorf("road_damage.Dedup.Equivalent = %v, want [pothole]", rd.Dedup.Equivalent)
	}
	if got := c.Equivalents("streetlight_out"); !slices.Equal(got, []string{"streetlight_out"}) {
		t.Errorf("Equivalents(streetlight_out) = %v", got)
	}
	// The rules the catalog hands to package dedup must be ones it accepts.
	rs, err := c.DedupRules().Compile()
	if err != nil {
		t.Fatalf("DedupRules().Compile(): %v", err)
	}
	if rs.Partition("road_damage") != rs.Partition("pothole") {
		t.Error("dedup sees pothole and road_damage in different partitions")
	}
	if r := rs.Rule("streetlight_out"); r.Distance != 30 || r.Window != 336*time.Hour || !r.SameAsset {
		t.Errorf("dedup rule for streetlight_out = %+v", r)
	}
}

func equalRule(a, b DedupRule) bool {
	return a.DistanceM == b.DistanceM && a.WindowHours == b.WindowHours && a.SameAsset == b.SameAsset
}

func TestRoute(t *testing.T) {
	c := loadTest(t)
	for _, tc := range []struct{ code, ward, want string }{
		{"streetlight_out", "1", "public_works"},
		{"streetlight_out", "2", "contractor"}, // the ward's override
		{"pothole", "2", "public_works"},       // overrides are per category
		{"streetlight_out", "", "public_works"},
	} {
		if got, ok := c.Route(tc.code, tc.ward); !ok || got != tc.want {
			t.Errorf("Route(%s, %s) = %q, %v; want %q", tc.code, tc.ward, got, ok, tc.want)
		}
	}
	if _, ok := c.Route("nope", "1"); ok {
		t.Error("Route of an unknown category reported ok")
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, field string
	}{
		{"not JSON", `"time_zone": "America/Toronto",`, `"time_zone": ,`, "catalog"},
		{"unknown field", `"time_zone"`, `"timezone"`, "catalog"},
		{"trailing data", `"categories": [`, `"categories": [`, ""}, // replaced below
		{"no time zone", `"time_zone": "America/Toronto",`, ``, "time_zone"},
		{"unknown time zone", `America/Toronto`, `Mars/Olympus_Mons`, "time_zone"},
		{"close before open", `"close": "16:30"`, `"close": "08:00"`, "business_hours.close"},
		{"bad opening time", `"open": "08:30"`, `"open": "8h30"`, "business_hours.open"},
		{"bad day", `["mon", "tue"`, `["monday", "tue"`, "business_hours.days[0]"},
		{"no days", `"days": ["mon", "tue", "wed", "thu", "fri"]`, `"days": []`, "business_hours.days"},
		{"bad holiday", `"2026-07-01"`, `"2026-13-01"`, "holidays[0]"},
		{"bad department code", `"code": "parks"`, `"code": "Parks Dept"`, "departments[1].code"},
		{"duplicate department", `"code": "contractor"`, `"code": "parks"`, "departments[parks].code"},
		{"department not bilingual", `"fr": "Parcs"`, `"fr": " "`, "departments[parks].name"},
		{"bad category code", `"code": "pothole"`, `"code": "pot hole"`, "categories[0].code"},
		{"duplicate category", `"code": "streetlight_out"`, `"code": "road_damage"`, "categories[road_damage].code"},
		{"name not bilingual", `"fr": "Nid-de-poule"`, `"fr": ""`, "categories[pothole].name"},
		{"description not bilingual", `"en": "Broken pavement."`, `"en": ""`, "categories[road_damage].description"},
		{"no group", `"group": {"en": "Lighting", "fr": "Éclairage"},`, ``, "categories[streetlight_out].group"},
		{"empty keyword", `["hole", "trou"]`, `["hole", " "]`, "categories[pothole].keywords[1]"},
		{"unknown department", `"department": "public_works",
      "dedup": {"distance_m": 30, "window_hours": 336, "same_asset": false, "equivalent"`, `"department": "roads",
      "dedup": {"distance_m": 30, "window_hours": 336, "same_asset": false, "equivalent"`, "categories[pothole].department"},
		{"no department", `"department": "public_works",
      "ward_departments"`, `"ward_departments"`, "categories[streetlight_out].department"},
		{"bad ward override", `{"2": "contractor"}`, `{"2": "snow"}`, "categories[streetlight_out].ward_departments[2]"},
		{"empty ward ID", `{"2": "contractor"}`, `{"": "contractor"}`, "categories[streetlight_out].ward_departments"},
		{"radius without layers", `"sla": {"hours": 72`, `"asset_radius_m": 10, "sla": {"hours": 72`, "categories[road_damage].asset_radius_m"},
		{"layers without radius", `"asset_radius_m": 30`, `"asset_radius_m": 0`, "categories[streetlight_out].asset_radius_m"},
		{"radius too large", `"asset_radius_m": 30`, `"asset_radius_m": 30000`, "categories[streetlight_out].asset_radius_m"},
		{"bad layer", `["streetlight"]`, `["Street Light"]`, "categories[streetlight_out].asset_layers[0]"},
		{"duplicate layer", `["streetlight"]`, `["streetlight", "streetlight"]`, "categories[streetlight_out].asset_layers"},
		{"negative distance", `"distance_m": 30, "window_hours": 336, "same_asset": false}`, `"distance_m": -1, "window_hours": 336, "same_asset": false}`, "categories[road_damage].dedup.distance_m"},
		{"window too long", `"window_hours": 336, "same_asset": false}`, `"window_hours": 99999, "same_asset": false}`, "categories[road_damage].dedup.window_hours"},
		{"same asset without layers", `"same_asset": false}`, `"same_asset": true}`, "categories[road_damage].dedup.same_asset"},
		{"unknown equivalent", `"equivalent": ["road_damage"]`, `"equivalent": ["road"]`, "categories[pothole].dedup.equivalent[0]"},
		{"equivalent to itself", `"equivalent": ["road_damage"]`, `"equivalent": ["pothole"]`, "categories[pothole].dedup.equivalent[0]"},
		{"equivalents disagree", `"distance_m": 30, "window_hours": 336, "same_asset": false}`, `"distance_m": 50, "window_hours": 336, "same_asset": false}`, "categories[road_damage].dedup"},
		{"negative SLA", `"hours": 40`, `"hours": -4`, "categories[pothole].sla.hours"},
		{"bad attribute code", `"code": "depth"`, `"code": "Depth!"`, "categories[pothole].attributes[2].code"},
		{"duplicate attribute", `"code": "plate"`, `"code": "depth"`, "categories[pothole].attributes[depth].code"},
		{"bad datatype", `"datatype": "number"`, `"datatype": "integer"`, "categories[pothole].attributes[depth].datatype"},
		{"attribute not bilingual", `"fr": "Quand?"`, `"fr": ""`, "categories[pothole].attributes[seen_at].description"},
		{"datatype description not bilingual", `"code": "plate", "datatype": "string",`, `"code": "plate", "datatype": "string", "datatype_description": {"en": "ABC 123"},`, "categories[pothole].attributes[plate].datatype_description"},
		{"informational and required", `"informational": true`, `"informational": true, "required": true`, "categories[pothole].attributes[warning].required"},
		{"list with no values", `"code": "plate", "datatype": "string"`, `"code": "plate", "datatype": "singlevaluelist"`, "categories[pothole].attributes[plate].values"},
		{"values on a number", `"datatype": "number", "order": 2,`, `"datatype": "number", "order": 2, "values": [{"key": "a", "name": {"en": "A", "fr": "A"}}],`, "categories[pothole].attributes[depth].values"},
		{"bad value key", `{"key": "left"`, `{"key": "left,right"`, "categories[pothole].attributes[lanes].values[0].key"},
		{"duplicate value key", `{"key": "bike"`, `{"key": "left"`, "categories[pothole].attributes[lanes].values[left].key"},
		{"value not bilingual", `"fr": "Grand"`, `"fr": ""`, "categories[pothole].attributes[size].values[large].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := edit(t, tc.old, tc.new)
			if tc.name == "trailing data" {
				doc, tc.field = testCatalog+"\n{}", "catalog"
			}
			_, err := LoadCatalog(strings.NewReader(doc))
			var e *i18n.Error
			if !errors.As(err, &e) {
				t.Fatalf("LoadCatalog error = %v, want an *i18n.Error", err)
			}
			if e.Kind != i18n.Invalid || e.Field != tc.field {
				t.Errorf("got kind %s field %q (%v); want invalid, field %q", e.Kind, e.Field, err, tc.field)
			}
			if e.Message.En == "" || e.Message.Fr == "" || e.Message.En == e.Message.Fr {
				t.Errorf("message not bilingual: %+v", e.Message)
			}
		})
	}
}

// TestLoadCatalogEmpty covers configs too broken to edit into shape.
func TestLoadCatalogEmpty(t *testing.T) {
	for doc, field := range map[string]string{
		``:                     "catalog",
		`{}`:                   "time_zone",
		`{"time_zone": "UTC"}`: "departments",
		`{"time_zone": "UTC", "departments": [{"code": "a", "name": {"en": "A", "fr": "A"}}]}`: "categories",
	} {
		_, err := LoadCatalog(strings.NewReader(doc))
		var e *i18n.Error
		if !errors.As(err, &e) || e.Kind != i18n.Invalid || e.Field != field {
			t.Errorf("LoadCatalog(%q) = %v, want an invalid error about %s", doc, err, field)
		}
	}
}

// TestSampleCatalog checks the bundled sample municipality's categories:
// they load, speak both languages everywhere, and snap to the asset layers
// the synthetic city has.
func TestSampleCatalog(t *testing.T) {
	f, err := os.Open("../data/sample/categories.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := LoadCatalog(f)
	if err != nil {
		t.Fatalf("sample categories: %v", err)
	}
	cats := c.Categories()
	if len(cats) < 20 {
		t.Errorf("sample has %d categories, want about 20", len(cats))
	}
	layers := map[string]bool{"streetlight": true, "hydrant": true, "tree": true, "sign": true, "catch_basin": true}
	bilingualOK := func(what string, tx i18n.Text) {
		if tx.En == "" || tx.Fr == "" {
			t.Errorf("%s is not in both languages: %+v", what, tx)
		}
	}
	for _, d := range c.Departments() {
		bilingualOK("department "+d.Code, d.Name)
	}
	for _, cat := range cats {
		bilingualOK(cat.Code+" name", cat.Name)
		bilingualOK(cat.Code+" description", cat.Description)
		bilingualOK(cat.Code+" group", cat.Group)
		for _, a := range cat.Attributes {
			bilingualOK(cat.Code+"."+a.Code, a.Description)
			for _, v := range a.Values {
				bilingualOK(cat.Code+"."+a.Code+"."+v.Key, v.Name)
			}
		}
		for _, l := range cat.AssetLayers {
			if !layers[l] {
				t.Errorf("%s snaps to layer %q, which the sample city does not have", cat.Code, l)
			}
		}
		if cat.SLA.Hours <= 0 {
			t.Errorf("%s has no SLA", cat.Code)
		}
	}
	// What the issue and the synthetic city rely on.
	for code, layer := range map[string]string{"streetlight_out": "streetlight", "hydrant_damage": "hydrant", "tree_damage": "tree", "sign_damage": "sign"} {
		cat, ok := c.Category(code)
		if !ok || !slices.Contains(cat.AssetLayers, layer) {
			t.Errorf("sample category %s missing or not snapping to %s", code, layer)
		}
	}
	for _, code := range []string{"pothole", "graffiti", "missed_collection", "noise_bylaw", "sidewalk_repair", "illegal_dumping", "snow_removal"} {
		if _, ok := c.Category(code); !ok {
			t.Errorf("sample lacks category %s (the synthetic city generates it)", code)
		}
	}
	if !slices.Contains(c.Equivalents("pothole"), "road_damage") {
		t.Error("sample: road_damage is not equivalent to pothole")
	}
	if _, err := c.DedupRules().Compile(); err != nil {
		t.Errorf("sample dedup rules: %v", err)
	}
}
