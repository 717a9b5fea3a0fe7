package api

import "testing"

func TestInFlight(t *testing.T) {
	var f inFlight
	if !f.begin("1:a") || f.begin("1:a") {
		t.Fatal("a key in flight began twice")
	}
	if !f.begin("2:a") {
		t.Fatal("another API key's key is busy")
	}
	f.end("1:a")
	if !f.begin("1:a") {
		t.Fatal("a key ended is still busy")
	}
}
