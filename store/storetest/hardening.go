package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testStoredText: a store writes no value that is not text (invalid UTF-8
// or NUL), whatever its caller checked, and refuses a filter holding one
// with Invalid rather than an internal error (issue 16: PostgreSQL failed
// with a 500, SQLite stored a NUL asset ID and sent it on in webhooks).
func testStoredText(t *testing.T, s Stores) {
	ctx := context.Background()
	for name, change := range map[string]func(*requests.NewRequest){
		"NUL description":       func(nr *requests.NewRequest) { nr.Request.Description = "a\x00b" },
		"bad UTF-8 address":     func(nr *requests.NewRequest) { nr.Request.Address = "rue \xff" },
		"NUL idempotency key":   func(nr *requests.NewRequest) { nr.IdempotencyKey, nr.Fingerprint = "k\x00", "fp" },
		"NUL attribute":         func(nr *requests.NewRequest) { nr.Request.Attributes = map[string]string{"size": "\x00"} },
		"bad UTF-8 reporter":    func(nr *requests.NewRequest) { nr.Reporter = &requests.Reporter{FirstName: "\xc3"} },
		"NUL in the event note": func(nr *requests.NewRequest) { nr.Event.Note = "\x00" },
	} {
		nr := newRequest(newReq(tenantA, origin, t0))
		change(&nr)
		_, err := s.CreateRequest(ctx, nr)
		wantKind(t, name, err, i18n.Invalid)
	}
	if got := list(t, s, requests.Filter{Tenant: tenantA}); len(got) != 0 {
		t.Errorf("refused requests stored: %v", got)
	}

	at := t0.UTC().Truncate(time.Microsecond)
	for name, a := range map[string]assets.Asset{
		"NUL asset ID":        {Layer: "hydrant", ID: "h\x00", Point: origin, Version: 1},
		"bad UTF-8 asset ID":  {Layer: "hydrant", ID: "h\xff", Point: origin, Version: 1},
		"NUL in an attribute": {Layer: "hydrant", ID: "h1", Point: origin, Version: 1, Attrs: map[string]string{"k": "v\x00"}},
		"NUL in an attr name": {Layer: "hydrant", ID: "h1", Point: origin, Version: 1, Attrs: map[string]string{"k\x00": "v"}},
	} {
		_, err := s.UpsertAssets(ctx, requests.AssetUpsert{Tenant: tenantA, Assets: []assets.Asset{a}, At: at})
		wantKind(t, name, err, i18n.Invalid)
	}
	if cs, err := s.AssetChanges(ctx, tenantA, 0, 10); err != nil || len(cs) != 0 {
		t.Errorf("refused assets: changes %v, %v", cs, err)
	}
	_, err := s.RetireAsset(ctx, requests.AssetRetire{Tenant: tenantA, Layer: "tree", ID: "a\x00b", Actor: "test", At: at})
	wantKind(t, "retire a NUL ID", err, i18n.Invalid)
	_, err = s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA, Department: "\x00"})
	wantKind(t, "work orders of department NUL", err, i18n.Invalid)
}

// testWorkOrderPaging: ListWorkOrders pages by AfterID in ID order, each
// work order once.
func testWorkOrderPaging(t *testing.T, s Stores) {
	ctx := context.Background()
	for i := range 5 {
		createWO(t, s, woRequest(newReq(tenantA, east(float64(i)*500), t0)))
	}
	var seen []int64
	var after int64
	for range 10 {
		page, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA, Limit: 2, AfterID: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d, limit 2", len(page))
		}
		for _, w := range page {
			if w.ID <= after {
				t.Errorf("work order %d after %d", w.ID, after)
			}
			seen = append(seen, w.ID)
			after = w.ID
		}
	}
	if len(seen) != 5 {
		t.Errorf("paged through %v, want 5 work orders", seen)
	}
}
