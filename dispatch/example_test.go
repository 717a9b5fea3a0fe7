package dispatch_test

import (
	"encoding/json"
	"fmt"
	"net/http"
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
			ID: 42, TenantID: "gatineau", ClusterID: "1187", Department: "water", Status: requests.New,
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
	//   "status": "new",
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

// How a receiver checks a delivery: Verify with the connector's secret
// over the headers and the raw body, within five minutes of its
// timestamp. The signature is what pinward sent: the published Standard
// Webhooks test vector.
func ExampleVerify() {
	secret := []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	body := []byte(`{"test": 2432232314}`)
	sent := time.Unix(1614265330, 0)
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", dispatch.SignV1(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", sent, body))
	fmt.Println(h.Get("webhook-signature"))
	fmt.Println(dispatch.Verify(secret, h, body, sent.Add(time.Minute)))
	fmt.Println(dispatch.Verify(secret, h, body, sent.Add(10*time.Minute)) != nil) // a replay, too late
	// Output:
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// <nil>
	// true
}
