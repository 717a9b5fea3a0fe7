package cli

import (
	"bytes"
	"flag"
	"fmt"

	"github.com/pinward/pinward/addresses"
	"github.com/pinward/pinward/basemap"
	"github.com/pinward/pinward/data"
)

// MapFlags are serve's local map sources: the street basemap and the
// address file, both read on this machine so no service on the internet
// learns where residents look.
type MapFlags struct {
	Basemap, Addresses string
	archive            *basemap.Archive
}

// RegisterMapFlags adds --basemap and --addresses to fs.
func RegisterMapFlags(fs *flag.FlagSet) *MapFlags {
	f := &MapFlags{}
	fs.StringVar(&f.Basemap, "basemap", "", "street basemap `FILE.pmtiles` (vector tiles, Protomaps schema) served under /basemap/ "+
		"(default: the sample town's generated streets when the sample runs, else none; --basemap-style wins)")
	fs.StringVar(&f.Addresses, "addresses", "", "civic address `file`, .csv or .geojson points, searched by the resident page (default: none, no search)")
	return f
}

// Load opens the basemap (the bundled sample streets when none is named
// and sample is true) and the address file; nil for what is not
// configured. A file that cannot be used is a usage error.
func (f *MapFlags) Load(env Env, sample bool) (*basemap.Archive, *addresses.Index, error) {
	var err error
	switch {
	case f.Basemap != "":
		f.archive, err = basemap.Open(f.Basemap)
	case sample:
		f.archive, err = basemap.New(bytes.NewReader(data.SampleStreetsPMTiles()))
	}
	if err != nil {
		return nil, nil, UsageError{err}
	}
	if f.Addresses == "" {
		return f.archive, nil, nil
	}
	ad, skipped, err := addresses.LoadFile(f.Addresses)
	if err != nil {
		f.Close()
		return nil, nil, UsageError{err}
	}
	if skipped > 0 {
		fmt.Fprintf(env.Stderr, "pinward: %s: %d rows without an address or a point skipped\n", f.Addresses, skipped)
	}
	return f.archive, ad, nil
}

// Close closes the basemap file Load opened.
func (f *MapFlags) Close() {
	if f.archive != nil {
		f.archive.Close()
	}
}
