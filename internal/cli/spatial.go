package cli

import (
	"flag"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/geocode"
	"github.com/pinward/pinward/wards"
)

// SpatialFlags are the flags that choose a municipality's boundaries and
// assets, shared by serve, geocode and bench geocode.
type SpatialFlags struct{ geocode.Files }

// Register adds --wards, --ward-fields, --assets and --asset-columns.
func (sf *SpatialFlags) Register(fs *flag.FlagSet) {
	RegisterWards(fs, &sf.Wards)
	fs.StringVar(&sf.WardFields, "ward-fields", "id,name_en,name_fr", "ward property names: `ID,NAME_EN[,NAME_FR]` (e.g. WARD,NAME,NAME_FR for Ottawa)")
	fs.StringVar(&sf.Assets, "assets", "", "asset layer `file`, .csv or .geojson (default: the bundled sample's assets when --wards is not given, else none)")
	fs.StringVar(&sf.AssetColumns, "asset-columns", "", "asset CSV columns, e.g. `id=ENTITEID,wkt=GEOM,layer=hydrant` (default id,type,lon,lat); for GeoJSON only id= and layer= apply")
}

// Load reads the ward set and asset index the flags name: a file that
// cannot be used is a usage error (exit 2); skipped asset rows are
// reported on stderr.
func (sf *SpatialFlags) Load(env Env) (*wards.Set, *assets.Index, error) {
	set, ix, err := sf.Files.Load(env.Stderr)
	if err != nil {
		return nil, nil, UsageError{err}
	}
	return set, ix, nil
}

// LoadIn is Load with the generations' first days read as midnight in
// loc, the municipality's time zone (its catalog's).
func (sf *SpatialFlags) LoadIn(env Env, loc *time.Location) (*wards.Set, *assets.Index, error) {
	sf.Location = loc
	return sf.Load(env)
}

// WardsFlag is the repeated --wards flag: "FILE" (one set of wards in
// force at all times) or "DATE=FILE" (a generation in force from DATE,
// midnight in the municipality's time zone, until the next file's DATE).
// Its Load builds the wards.Set; a command that does not use SpatialFlags
// (pinward import) registers one with RegisterWards.
type WardsFlag = geocode.WardFiles

// RegisterWards adds the repeatable --wards flag to fs.
func RegisterWards(fs *flag.FlagSet, w *WardsFlag) {
	fs.Var(w, "wards", "ward boundaries `GeoJSON`, or DATE=FILE, repeated, for each generation of wards and its first day (default: the bundled sample)")
}

// SampleTown loads the bundled sample municipality's wards and assets.
func SampleTown(env Env) (*wards.Set, *assets.Index, error) {
	sf := SpatialFlags{geocode.Files{WardFields: "id,name_en,name_fr"}}
	return sf.Load(env)
}

// ParseGeneration reads a report's --generation: a day in loc (or an RFC
// 3339 time) on which set has wards in force; "" is the zero time (no
// re-cut). Anything else is a usage error.
func ParseGeneration(s string, loc *time.Location, set *wards.Set) (time.Time, error) {
	t, err := ParseDay(s, loc, false)
	if err != nil {
		return time.Time{}, UsageErrorf("--generation: %v", err)
	}
	if s != "" && set.Current(t) == nil {
		return time.Time{}, UsageErrorf("--generation %s: no wards are in force then (see --wards DATE=FILE)", s)
	}
	return t, nil
}
