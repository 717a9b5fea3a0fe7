package dispatch_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/requests"
)

// The document a webhook receives for a new work order (the README shows
// this output).
func ExampleNewPayload() {
	at := time.Date(2026, 6, 2, 13, 4, 5, 0, time.UTC)
	p := dispatch.NewPayload(requests.OutboxMessage{
		Kind: requests.OutboxCreate,
		WorkOrder: requests.WorkOrder{
			ID: 42, TenantID: "gatineau", ClusterID: "1187", Department: "water", Status: requests.Open,
			RequestCount: 3, CreatedAt: at,
			Payload: requests.WorkOrderPayload{
				Category: "hydrant_damage", WardID: "8", AssetLayer: "hydrant", AssetID: "{1A2B-77}",
				Lon: -75.7321, Lat: 45.4765, Address: "25 rue Laurier", Description: "Leaking at the base",
				Attributes: map[string]string{"problem": "leaking"}, RequestedAt: at, DueAt: at.Add(48 * time.Hour),
			},
		},
	})
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(p)
	// Output:
	// {
	//   "event": "work_order.created",
	//   "work_order_id": "42",
	//   "cluster_id": "1187",
	//   "tenant": "gatineau",
	//   "department": "water",
	//   "status": "open",
	//   "category": "hydrant_damage",
	//   "ward": "8",
	//   "asset_layer": "hydrant",
	//   "asset_id": "{1A2B-77}",
	//   "location": {
	//     "type": "Point",
	//     "coordinates": [
	//       -75.7321,
	//       45.4765
	//     ]
	//   },
	//   "address": "25 rue Laurier",
	//   "description": "Leaking at the base",
	//   "attributes": {
	//     "problem": "leaking"
	//   },
	//   "request_count": 3,
	//   "created_at": "2026-06-02T13:04:05Z",
	//   "due_at": "2026-06-04T13:04:05Z"
	// }
}

// How a receiver checks X-Pinward-Signature: the HMAC-SHA256 of the raw
// body under the connector's secret, compared in constant time.
func ExampleSign() {
	secret := []byte("the connector's secret")
	body := []byte(`{"event":"work_order.created","work_order_id":"42"}`)
	header := dispatch.Sign(secret, body) // what pinward sends

	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	fmt.Println(hmac.Equal([]byte(header), []byte(want)))
	// Output: true
}
