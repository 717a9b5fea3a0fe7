package data_test

import (
	"bytes"
	"fmt"
	"os"

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

func ExampleCity_WriteRequestsCSV() {
	cfg := data.SampleConfig()
	cfg.Requests = 3
	cfg.DuplicateShare = 0
	city, err := data.GenerateCity(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := city.WriteRequestsCSV(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// id,category,created_at,lon,lat
	// 1,illegal_dumping,2025-07-24T22:58:36Z,-73.0978851,46.057475
	// 2,tree_damage,2025-09-03T19:55:08Z,-73.1033187,46.0477639
	// 3,snow_removal,2025-12-09T17:34:28Z,-73.099379,46.0541184
}

func ExampleSampleAssetsCSV() {
	assets, err := data.ReadAssetsCSV(bytes.NewReader(data.SampleAssetsCSV()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(assets[0].ID, assets[0].Type)
	// Output: SL-000001 streetlight
}
