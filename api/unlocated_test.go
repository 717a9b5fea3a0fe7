package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// TestOpen311Unlocated: a request imported without coordinates (pinward
// import) is answered by its ID without lat and long, in JSON and XML,
// and is in no list; one imported with a point has them.
func TestOpen311Unlocated(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		hs, ok := w.store.(requests.HistoryStore)
		if !ok {
			t.Fatal("the store imports no history")
		}
		at := time.Date(2014, 1, 14, 13, 48, 0, 0, time.UTC)
		row := func(id string, located bool) requests.ImportedRequest {
			r := requests.Request{ServiceCode: "pothole", Status: requests.Closed, WardID: "1", Department: "public_works",
				RequestedAt: at, UpdatedAt: at.Add(time.Hour), Channel: requests.ChannelPhone}
			if located {
				r.Point = w.inside
			}
			return requests.ImportedRequest{Request: r, Located: located, CloseTimeKnown: true, Source: "test", SourceID: id}
		}
		if n, err := hs.ImportRequests(ctx, tenant, []requests.ImportedRequest{row("with", true), row("without", false)}); err != nil || n != 2 {
			t.Fatalf("ImportRequests = %d, %v", n, err)
		}
		all, err := w.store.ListRequests(ctx, requests.Filter{Tenant: tenant, ByID: true})
		if err != nil || len(all) != 1 {
			t.Fatalf("listed %d requests (%v), want the one with a point", len(all), err)
		}
		with := all[0]
		without := requests.FormatServiceRequestID(with.ID + 1) // IDs follow input order
		for id, wantPoint := range map[string]bool{with.ServiceRequestID: true, without: false} {
			res := w.get("/open311/v2/requests/" + id + ".json")
			if res.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", id, res.status, res.body)
			}
			var got []map[string]any
			if err := json.Unmarshal(res.body, &got); err != nil || len(got) != 1 {
				t.Fatalf("GET %s: %s (%v)", id, res.body, err)
			}
			_, hasLat := got[0]["lat"]
			_, hasLong := got[0]["long"]
			if hasLat != wantPoint || hasLong != wantPoint {
				t.Errorf("GET %s.json: lat %v, long %v; want both %v: %s", id, hasLat, hasLong, wantPoint, res.body)
			}
			res = w.get("/open311/v2/requests/" + id + ".xml")
			if hasLat := strings.Contains(string(res.body), "<lat>"); res.status != http.StatusOK || hasLat != wantPoint {
				t.Errorf("GET %s.xml: %d, <lat> %v; want %v: %s", id, res.status, hasLat, wantPoint, res.body)
			}
		}
	})
}
