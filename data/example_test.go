package data_test

import (
	"bytes"
	"fmt"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
)

func ExampleGenerateCity() {
	cfg := data.SampleConfig()
	cfg.Requests = 1000
	city, err := data.GenerateCity(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	w := city.Wards[0]
	fmt.Printf("%d wards; ward %s is %q / %q\n", len(city.Wards), w.ID, w.NameEn, w.NameFr)
	r := city.Requests[0]
	fmt.Printf("%d requests, the first on %s\n", len(city.Requests), r.CreatedAt.Format("2006-01-02"))
	// Output:
	// 9 wards; ward 1 is "Mill Ward" / "Quartier du Moulin"
	// 1000 requests, the first on 2025-01-02
}

func ExampleSampleAssetsCSV() {
	as, _, err := assets.LoadCSV(bytes.NewReader(data.SampleAssetsCSV()), assets.DefaultCSVFormat())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(as[0].ID, as[0].Layer)
	// Output: SL-000001 streetlight
}
