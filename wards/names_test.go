package wards

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/realdata"
)

// logLines runs fn with slog's default logger writing to a buffer, and
// returns the lines it logged. Tests using it do not run in parallel.
func logLines(t *testing.T, fn func()) []string {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	fn()
	if buf.Len() == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

// A ward file with one name property loads with the default fields; the
// French names are the English ones, and one warning line says so.
func TestLoadOneNameByDefault(t *testing.T) {
	two := func(a, b string) string {
		return collection(feature(a, polygonJSON(square(0, 0, 1))), feature(b, polygonJSON(square(3, 0, 1))))
	}
	for _, c := range []struct {
		name, doc  string
		fields     Fields
		ids, names []string
		warn       string // "" for no warning
	}{
		{"name only: the name is the ID", two(`{"name":"10","kind":"district"}`, `{"name":"11"}`), DefaultFields(),
			[]string{"10", "11"}, []string{"10", "11"}, `missing_property=name_fr`},
		{"id and name", two(`{"id":1,"name":"Ward One"}`, `{"id":2,"name":"Ward Two"}`), DefaultFields(),
			[]string{"1", "2"}, []string{"Ward One", "Ward Two"}, `missing_property=name_fr`},
		{"id and name_en", two(`{"id":"a","name_en":"Alpha","name":"ignored"}`, `{"id":"b","name_en":"Beta"}`), DefaultFields(),
			[]string{"a", "b"}, []string{"Alpha", "Beta"}, `missing_property=name_fr`},
		{"explicit ID,NAME", two(`{"WARD":"WARD 7","NUMBER":"7"}`, `{"WARD":"WARD 1","NUMBER":"1"}`), Fields{ID: "NUMBER", NameEn: "WARD"},
			[]string{"7", "1"}, []string{"WARD 7", "WARD 1"}, `no French ward name property given`},
		{"bilingual: no warning", two(`{"id":"1","name_en":"East","name_fr":"Est"}`, `{"id":"2","name_en":"West","name_fr":"Ouest"}`), DefaultFields(),
			[]string{"1", "2"}, []string{"East", "West"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ws []Ward
			var err error
			lines := logLines(t, func() { ws, err = load(t, c.doc, c.fields) })
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range ws {
				if w.ID != c.ids[i] || w.Name.En != c.names[i] {
					t.Errorf("ward %d = %q %q, want %q %q", i, w.ID, w.Name.En, c.ids[i], c.names[i])
				}
				if c.warn != "" && w.Name.Fr != w.Name.En {
					t.Errorf("ward %d French name %q, want the English %q", i, w.Name.Fr, w.Name.En)
				}
			}
			if c.warn == "" {
				if len(lines) != 0 || ws[1].Name != i18n.T("West", "Ouest") {
					t.Errorf("bilingual file: names %+v, log %q", ws[1].Name, lines)
				}
				return
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], c.warn) || !strings.Contains(lines[0], "wards=2") {
				t.Errorf("log = %q, want one warning line with %q", lines, c.warn)
			}
		})
	}
}

// A wrong field name still fails, listing the properties the file has.
func TestLoadWrongFieldListsProperties(t *testing.T) {
	doc := collection(feature(`{"WARD":"WARD 7","NUMBER":"7"}`, polygonJSON(square(0, 0, 1))))
	for fields, want := range map[Fields]string{
		DefaultFields():                `no property "id" (the ward ID); its properties are NUMBER, WARD`,
		{ID: "NUMBER", NameEn: "NAME"}: `no property "NAME" (the ward name); its properties are NUMBER, WARD`,
		{ID: "NUMBR"}:                  `no property "NUMBR" (the ward ID); its properties are NUMBER, WARD`,
		{ID: "NUMBER", NameEn: "WARD", NameFr: "WARD_FR"}: `no property "WARD_FR" (the French ward name); its properties are NUMBER, WARD`,
	} {
		if _, err := load(t, doc, fields); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("fields %+v: error %v, want it to contain %q", fields, err, want)
		}
	}
}

// A real one-name file: Los Angeles's council districts load with the
// default fields (name is the district number), with one warning about
// French names. Windsor's wards name their ID and name properties with
// --ward-fields NUMBER,WARD; two of its ten rings intersect themselves
// (a real quirk), so the load fails on those and nothing else.
func TestLoadRealOneNameFiles(t *testing.T) {
	for _, c := range []struct {
		name, file, fields string
		count              int
		id, en             string // one ward that must be there
	}{
		{"Los Angeles", "los_angeles/boundaries/la-city-council-districts-2012.json", "id,name_en,name_fr", 15, "14", "14"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(realdata.File(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseFields(c.fields)
			if err != nil {
				t.Fatal(err)
			}
			var ws []Ward
			lines := logLines(t, func() { ws, err = LoadGeoJSON(bytes.NewReader(b), f) })
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != c.count {
				t.Errorf("%d wards, want %d", len(ws), c.count)
			}
			found := false
			for _, w := range ws {
				if w.Name.Fr != w.Name.En {
					t.Errorf("ward %s: French name %q, want the English %q", w.ID, w.Name.Fr, w.Name.En)
				}
				found = found || (w.ID == c.id && w.Name.En == c.en)
			}
			if !found {
				t.Errorf("no ward %q named %q", c.id, c.en)
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "French") {
				t.Errorf("log = %q, want one warning line", lines)
			}
		})
	}
	t.Run("Windsor", func(t *testing.T) {
		b, err := os.ReadFile(realdata.File(t, "windsor/boundaries/windsor_wards_2018_wgs84.derived.geojson"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = LoadGeoJSON(bytes.NewReader(b), Fields{ID: "NUMBER", NameEn: "WARD"})
		if err == nil {
			t.Skip("Windsor's wards load: the file no longer has self-intersecting rings")
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.Contains(line, "invalid geometry in features[") || !strings.Contains(line, "(NUMBER \"") {
				t.Errorf("problem %q: want only geometry problems of features named by NUMBER", line)
			}
		}
	})
	// Windsor with the default fields fails and says which properties it has.
	t.Run("Windsor by default", func(t *testing.T) {
		b, err := os.ReadFile(realdata.File(t, "windsor/boundaries/windsor_wards_2018_wgs84.derived.geojson"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = LoadGeoJSON(bytes.NewReader(b), DefaultFields())
		if err == nil || !strings.Contains(err.Error(), "its properties are NUMBER, WARD") {
			t.Errorf("error %v, want the properties listed", err)
		}
	})
}
