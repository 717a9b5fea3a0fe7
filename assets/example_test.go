package assets_test

import (
	"fmt"
	"strings"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
)

func Example() {
	// Two hydrants in Gatineau's format (WKT in GEOM, ID in ENTITEID),
	// one of them with its coordinates the wrong way round.
	csv := "\uFEFF\"ENTITEID\",\"PROPRIO\",\"GEOM\"\n" +
		"\"{H1}\",\"Ville\",\"POINT (-75.738712 45.500612)\"\n" +
		"\"{H2}\",\"Privé\",\"POINT (45.500612 -175.738712)\"\n" +
		"\"{H3}\",\"Ville\",\"POINT (-75.738100 45.500900)\"\n"
	format, err := assets.ParseCSVFormat("id=ENTITEID,wkt=GEOM,layer=hydrant")
	if err != nil {
		panic(err)
	}
	hydrants, rowErrs, err := assets.LoadCSV(strings.NewReader(csv), format)
	if err != nil {
		panic(err)
	}
	for _, e := range rowErrs {
		fmt.Println("skipped:", e)
	}

	ix, err := assets.NewIndex(hydrants)
	if err != nil {
		panic(err)
	}
	pin := orb.Point{-75.73865, 45.50055}
	a, metres, ok := ix.Nearest(pin, 30, "hydrant")
	fmt.Printf("%s %s %.1f m %v\n", a.ID, a.Attrs["PROPRIO"], metres, ok)

	// The city's asset system moves {H3} next to the pin.
	err = ix.Upsert([]assets.Asset{{Layer: "hydrant", ID: "{H3}", Point: orb.Point{-75.73866, 45.50056}, Version: 2}})
	fmt.Println(err)
	a, metres, _ = ix.Nearest(pin, 30, "hydrant")
	fmt.Printf("%s %.1f m\n", a.ID, metres)

	// A stale update is refused.
	err = ix.Upsert([]assets.Asset{{Layer: "hydrant", ID: "{H3}", Point: pin, Version: 1}})
	fmt.Println(err)
	// Output:
	// skipped: line 3: id "{H2}": invalid geometry: latitude -175.738712 is out of range [-90, 90]; longitude and latitude look swapped
	// {H1} Ville 8.4 m true
	// <nil>
	// {H3} 1.4 m
	// version: asset hydrant/{H3}: version 1 is older than the stored version 2
}
