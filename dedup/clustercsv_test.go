package dedup_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pinward/pinward/dedup"
)

func TestClusterCSV(t *testing.T) {
	in := "id,category,lon,lat\n" +
		"1,pothole,-73.5700,45.5000\n" +
		"2,pothole,-73.5701,45.5001\n" + // about 14 m from 1
		"3,pothole,-73.6000,45.5000\n" + // kilometres away
		"4,graffiti,-73.5700,45.5000\n" // same spot, another category
	var out strings.Builder
	sum, err := dedup.ClusterCSV(t.Context(), strings.NewReader(in), &out, dedup.Rule{Distance: 50}, dedup.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "id,cluster_id\n1,1\n2,1\n3,3\n4,4\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if sum.Requests != 4 || sum.Clusters != 3 || sum.DuplicateShare() != 25 {
		t.Errorf("summary %+v, share %v", sum, sum.DuplicateShare())
	}
	_, err = dedup.ClusterCSV(t.Context(), strings.NewReader("id,lon\n1,2\n"), &out, dedup.Rule{Distance: 50}, dedup.CSVOptions{})
	if !errors.Is(err, dedup.ErrCSVInput) {
		t.Errorf("missing columns: %v, want ErrCSVInput", err)
	}
}
