// Command gensample regenerates the bundled sample town in data/sample from
// data.SampleConfig. Run it from the repository root after changing the
// generator:
//
//	go run ./data/gensample
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pinward/pinward/data"
)

func main() {
	dir := flag.String("dir", filepath.Join("data", "sample"), "directory to write wards.geojson, assets.csv and streets.pmtiles to")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gensample:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory (run from the repository root or pass -dir)", dir)
	}
	city, err := data.GenerateCity(data.SampleConfig())
	if err != nil {
		return fmt.Errorf("generate sample: %w", err)
	}
	files := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"wards.geojson", func(b *bytes.Buffer) error { return city.WriteWardsGeoJSON(b) }},
		{"assets.csv", func(b *bytes.Buffer) error { return city.WriteAssetsCSV(b) }},
		{"streets.pmtiles", func(b *bytes.Buffer) error { return city.WriteStreetsPMTiles(b) }},
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return err
		}
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Printf("wrote %s (%d bytes)\n", path, buf.Len())
	}
	fmt.Printf("%d wards, %d assets\n", len(city.Wards), len(city.Assets))
	return nil
}
