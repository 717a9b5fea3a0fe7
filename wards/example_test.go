package wards_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/wards"
)

func ExampleLoadGeoJSON() {
	// Two wards sharing the border x = -75.70; ward "14" is listed first,
	// so points on that border are in 14.
	const file = `{"type": "FeatureCollection", "features": [
	  {"type": "Feature", "properties": {"WARD": "14", "NAME": "Somerset", "NAME_FR": "Somerset"},
	   "geometry": {"type": "Polygon", "coordinates": [[[-75.72, 45.40], [-75.70, 45.40], [-75.70, 45.43], [-75.72, 45.43], [-75.72, 45.40]]]}},
	  {"type": "Feature", "properties": {"WARD": 12, "NAME": "Rideau-Vanier", "NAME_FR": "Rideau-Vanier"},
	   "geometry": {"type": "Polygon", "coordinates": [[[-75.70, 45.40], [-75.66, 45.40], [-75.66, 45.43], [-75.70, 45.43], [-75.70, 45.40]]]}}
	]}`
	fields, err := wards.ParseFields("WARD,NAME,NAME_FR")
	if err != nil {
		panic(err)
	}
	ws, err := wards.LoadGeoJSON(strings.NewReader(file), fields)
	if err != nil {
		panic(err)
	}
	gen, err := wards.NewGeneration(ws, time.Date(2022, 11, 15, 0, 0, 0, 0, time.UTC), time.Time{})
	if err != nil {
		panic(err)
	}
	set, err := wards.NewSet(gen)
	if err != nil {
		panic(err)
	}
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, p := range []orb.Point{{-75.71, 45.42}, {-75.68, 45.42}, {-75.70, 45.42}, {-75.60, 45.42}} {
		if w, ok := set.Locate(p, at); ok {
			fmt.Printf("%v: ward %s, %s\n", p, w.ID, w.Name.In(i18n.Fr))
		} else {
			fmt.Printf("%v: %s\n", p, wards.OutsideError().Message.In(i18n.Fr))
		}
	}
	// Output:
	// [-75.71 45.42]: ward 14, Somerset
	// [-75.68 45.42]: ward 12, Rideau-Vanier
	// [-75.7 45.42]: ward 14, Somerset
	// [-75.6 45.42]: L'emplacement est situé à l'extérieur des limites de la municipalité.
}
