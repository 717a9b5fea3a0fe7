package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testBlockList: entries are kept per tenant, once per value, and removed
// by ID; a submission from a blocked e-mail (any case) or device is
// answered like an accepted one, with a number no request ever gets, and
// is no request, work order or mail, only a row in the staff's list (in
// scope); the same submission unblocked is all of those.
func testBlockList(t *testing.T, s Stores) {
	ctx := context.Background()
	at := utc(t0)
	e, err := s.AddBlock(ctx, requests.BlockEntry{TenantID: tenantA, Kind: requests.BlockEmail, Value: "spam@example.org", Reason: "floods", Actor: "staff:ana", CreatedAt: t0})
	if err != nil || e.ID == 0 || !e.CreatedAt.Equal(at) {
		t.Fatalf("AddBlock = %+v, %v", e, err)
	}
	_, err = s.AddBlock(ctx, requests.BlockEntry{TenantID: tenantA, Kind: requests.BlockEmail, Value: "spam@example.org", Actor: "x", CreatedAt: t0})
	wantKind(t, "blocking a value twice", err, i18n.Conflict)
	d, err := s.AddBlock(ctx, requests.BlockEntry{TenantID: tenantA, Kind: requests.BlockDevice, Value: "dev-666", Actor: "staff:ana", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.AddBlock(ctx, requests.BlockEntry{TenantID: tenantB, Kind: requests.BlockEmail, Value: "spam@example.org", Actor: "x", CreatedAt: t0})
	if err != nil {
		t.Fatalf("another tenant blocking the same value: %v", err)
	}
	es, err := s.ListBlocks(ctx, tenantA)
	if err != nil || len(es) != 2 || es[0] != e || es[1].ID != d.ID || es[1].Kind != requests.BlockDevice || es[1].Value != "dev-666" {
		t.Fatalf("ListBlocks = %+v, %v; want %+v then the device", es, err, e)
	}
	wantKind(t, "removing another tenant's entry", s.RemoveBlock(ctx, tenantA, other.ID), i18n.NotFound)
	wantKind(t, "removing an unknown entry", s.RemoveBlock(ctx, tenantA, d.ID+1000), i18n.NotFound)

	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenantA, Catalog: cat, Wards: set, Store: s.Store,
		SendsWorkOrders: func(string) bool { return true }, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	submit := func(email, device string, lonOffset float64) requests.Request {
		t.Helper()
		p := origin
		p[0] += lonOffset // 0.01° apart: never one cluster
		r, err := svc.Submit(ctx, requests.Submission{ServiceCode: "pothole", Point: &p, Attributes: map[string][]string{"size": {"large"}},
			Description: "Deep one", Reporter: requests.Reporter{Email: email, DeviceID: device}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	counts := func() (reqs, orders, mails int) {
		t.Helper()
		rs, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		ws, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA})
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.CountMail(ctx, tenantA)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs), len(ws), m.Pending + m.Delivered + m.Dead
	}
	byMail := submit("Spam@Example.ORG ", "", 0)
	byDevice := submit("", "dev-666", 0.01)
	for _, b := range []requests.Request{byMail, byDevice} {
		if _, ok := requests.ParseServiceRequestID(b.ServiceRequestID); !ok || b.ClusterID != b.ServiceRequestID || b.Token == "" || b.WardID == "" {
			t.Errorf("a blocked submission's answer = %+v; want an ID, its own cluster, a token and a ward, as accepted", b)
		}
		_, err := s.GetRequest(ctx, tenantA, b.ServiceRequestID)
		wantKind(t, "reading a blocked submission as a request", err, i18n.NotFound)
	}
	if r, o, m := counts(); r != 0 || o != 0 || m != 0 {
		t.Errorf("after two blocked submissions: %d requests, %d work orders, %d mails; want none", r, o, m)
	}
	real := submit("resident@example.org", "dev-1", 0.02)
	if real.ServiceRequestID == byMail.ServiceRequestID || real.ServiceRequestID == byDevice.ServiceRequestID {
		t.Errorf("a request has the number answered to a blocked sender: %s", real.ServiceRequestID)
	}
	if r, o, m := counts(); r != 1 || o != 1 || m != 1 {
		t.Errorf("after one accepted submission: %d requests, %d work orders, %d mails; want 1 of each", r, o, m)
	}
	bs, err := s.ListBlocked(ctx, tenantA, requests.Scope{}, 10)
	if err != nil || len(bs) != 2 {
		t.Fatalf("ListBlocked = %+v, %v", bs, err)
	}
	if b := bs[1]; b.ServiceRequestID != byMail.ServiceRequestID || b.Token != byMail.Token || b.EntryID != e.ID ||
		b.Kind != requests.BlockEmail || b.Value != "spam@example.org" || b.Email != "Spam@Example.ORG" || b.ServiceCode != "pothole" ||
		b.Description != "Deep one" || b.Point != origin || b.WardID != byMail.WardID || b.Department != byMail.Department ||
		!b.ReceivedAt.Equal(utc(t0)) || b.Actor != "resident" {
		t.Errorf("the blocked e-mail's row = %+v; want it as submitted (%+v)", b, byMail)
	}
	if b := bs[0]; b.ServiceRequestID != byDevice.ServiceRequestID || b.EntryID != d.ID || b.DeviceID != "dev-666" {
		t.Errorf("the blocked device's row = %+v", b)
	}
	if bs, err := s.ListBlocked(ctx, tenantA, requests.Scope{Departments: []string{"parks"}}, 10); err != nil || len(bs) != 0 {
		t.Errorf("ListBlocked for a parks scope = %+v, %v; want none", bs, err)
	}
	if bs, err := s.ListBlocked(ctx, tenantA, requests.Scope{Departments: []string{byMail.Department}}, 1); err != nil || len(bs) != 1 {
		t.Errorf("ListBlocked in scope, limit 1 = %+v, %v", bs, err)
	}
	if bs, err := s.ListBlocked(ctx, tenantB, requests.Scope{}, 10); err != nil || len(bs) != 0 {
		t.Errorf("another tenant's ListBlocked = %+v, %v", bs, err)
	}

	// A retry with the same Idempotency-Key is answered as the first was,
	// as a request's retry would be, and kept once.
	retry := func() requests.Request {
		t.Helper()
		p := east(300)
		r, err := svc.Submit(ctx, requests.Submission{ServiceCode: "pothole", Point: &p, Attributes: map[string][]string{"size": {"large"}},
			Description: "Again", Reporter: requests.Reporter{Email: "spam@example.org"}, IdempotencyKey: "retry-1", APIKeyID: 7})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if first, second := retry(), retry(); first.ServiceRequestID != second.ServiceRequestID || first.Token != second.Token {
		t.Errorf("a blocked retry is answered %s/%s, the first %s/%s; want the same", second.ServiceRequestID, second.Token,
			first.ServiceRequestID, first.Token)
	}
	if bs, err := s.ListBlocked(ctx, tenantA, requests.Scope{}, 10); err != nil || len(bs) != 3 {
		t.Errorf("after a retried blocked submission, ListBlocked = %d rows, %v; want 3", len(bs), err)
	}

	// Unblocked, the same sender's next submission is a request.
	if err := svc.RemoveBlock(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "removing twice", s.RemoveBlock(ctx, tenantA, e.ID), i18n.NotFound)
	again := submit("spam@example.org", "", 0.03)
	if _, err := s.GetRequest(ctx, tenantA, again.ServiceRequestID); err != nil {
		t.Errorf("a submission after its entry was removed: %v", err)
	}
	if es, _ := s.ListBlocks(ctx, tenantA); len(es) != 1 || es[0].ID != d.ID {
		t.Errorf("ListBlocks after removing = %+v", es)
	}
}
