package web

import (
	"flag"
	"slices"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		origins []string
		pages   bool
	}{
		{nil, nil, true},
		{[]string{"--basemap-style", "https://tiles.example.ca/style.json"}, []string{"https://tiles.example.ca"}, true},
		{[]string{"--basemap-style", "style.json"}, nil, true},
		{[]string{"--no-web", "--basemap-style", "https://tiles.example.ca/style.json"}, nil, false},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var f Flags
		f.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := f.Origins(); !slices.Equal(got, tc.origins) {
			t.Errorf("%v: origins %v, want %v", tc.args, got, tc.origins)
		}
		h, err := f.Pages("k", [4]float64{-73.6, 45.4, -73.5, 45.5}, true, false)
		if err != nil || (h != nil) != tc.pages {
			t.Errorf("%v: pages %v, %v; want pages %v", tc.args, h, err, tc.pages)
		}
	}
}
