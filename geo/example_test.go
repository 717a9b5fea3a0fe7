package geo_test

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

func ExamplePolygonIndex() {
	west := orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}
	east := orb.MultiPolygon{{{{1, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 0}}}}
	ix := geo.NewPolygonIndex([]orb.MultiPolygon{west, east})
	for _, p := range []orb.Point{{0.5, 0.5}, {1.5, 0.5}, {1, 0.5}, {3, 3}} {
		i, ok := ix.Locate(p)
		fmt.Println(p, i, ok)
	}
	// Output:
	// [0.5 0.5] 0 true
	// [1.5 0.5] 1 true
	// [1 0.5] 0 true
	// [3 3] -1 false
}

func ExamplePointIndex_Nearest() {
	var lights geo.PointIndex[int]
	lights.Insert(orb.Point{-75.6972, 45.4215}, 1)
	lights.Insert(orb.Point{-75.6975, 45.4216}, 2)
	id, metres, ok := lights.Nearest(orb.Point{-75.69745, 45.42159}, 30, nil)
	fmt.Printf("%d %.1f m %v\n", id, metres, ok)
	// Output: 2 4.1 m true
}
