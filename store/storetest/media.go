package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testMedia: photos are stored with their request; the request's
// media_url follows the first approved one; every decision is an event;
// the purge deletes the photos of requests closed before the cut-off.
func testMedia(t *testing.T, s Stores) {
	ctx := context.Background()
	photo := func(b byte) requests.Photo {
		return requests.Photo{JPEG: bytes.Repeat([]byte{0xFF, 0xD8, b}, 1000), Thumb: []byte{0xFF, 0xD8, b, b}, Width: 40, Height: 30}
	}
	nr := newRequest(newReq(tenantA, origin, t0))
	ms := []requests.NewMedia{
		{ID: requests.NewMediaID(), Seq: 0, State: requests.MediaPending, Photo: photo(1)},
		{ID: requests.NewMediaID(), Seq: 1, State: requests.MediaPending, Photo: photo(2)},
	}
	nr.Media = ms
	r := create(t, s, nr)
	if r.MediaURL != "" {
		t.Errorf("media_url of a request with pending photos = %q, want none", r.MediaURL)
	}
	for _, m := range ms {
		for _, thumb := range []bool{false, true} {
			got, err := s.GetMedia(ctx, tenantA, m.ID, thumb)
			if err != nil {
				t.Fatalf("GetMedia(%s, thumb %v): %v", m.ID, thumb, err)
			}
			want := m.JPEG
			if thumb {
				want = m.Thumb
			}
			if !bytes.Equal(got.Data, want) || got.State != requests.MediaPending || got.RequestID != r.ID ||
				got.ServiceRequestID != r.ServiceRequestID || got.Seq != m.Seq || got.Width != 40 || got.Height != 30 ||
				!got.CreatedAt.Equal(utc(t0)) {
				t.Errorf("GetMedia(%s, thumb %v) = %+v (%d bytes), want the stored photo", m.ID, thumb, got, len(got.Data))
			}
		}
	}
	_, err := s.GetMedia(ctx, tenantB, ms[0].ID, false)
	wantKind(t, "another tenant's photo", err, i18n.NotFound)
	_, err = s.GetMedia(ctx, tenantA, requests.NewMediaID(), false)
	wantKind(t, "an unknown photo", err, i18n.NotFound)
	list, err := s.ListMedia(ctx, tenantA, r.ServiceRequestID)
	if err != nil || len(list) != 2 || list[0].ID != ms[0].ID || list[1].ID != ms[1].ID || list[0].Data != nil {
		t.Fatalf("ListMedia = %+v, %v; want both photos in order, without data", list, err)
	}
	_, err = s.ListMedia(ctx, tenantA, "999999")
	wantKind(t, "ListMedia of an unknown request", err, i18n.NotFound)

	url := func() string {
		t.Helper()
		got, err := s.GetRequest(ctx, tenantA, r.ServiceRequestID)
		if err != nil {
			t.Fatal(err)
		}
		return got.MediaURL
	}
	set := func(id string, st requests.MediaState, at time.Duration) {
		t.Helper()
		m, err := s.SetMediaState(ctx, requests.MediaChange{Tenant: tenantA, ID: id, State: st, Actor: "staff:ana", Reason: "ok", At: t0.Add(at)})
		if err != nil || m.State != st || m.ID != id {
			t.Fatalf("SetMediaState(%s, %s) = %+v, %v", id, st, m, err)
		}
	}
	set(ms[1].ID, requests.MediaApproved, time.Minute)
	if got := url(); got != requests.MediaPath(ms[1].ID) {
		t.Errorf("media_url after approving the second photo = %q, want %q", got, requests.MediaPath(ms[1].ID))
	}
	set(ms[0].ID, requests.MediaApproved, 2*time.Minute)
	if got := url(); got != requests.MediaPath(ms[0].ID) {
		t.Errorf("media_url after approving the first photo = %q, want it", got)
	}
	set(ms[0].ID, requests.MediaHidden, 3*time.Minute)
	if got := url(); got != requests.MediaPath(ms[1].ID) {
		t.Errorf("media_url after hiding the first photo = %q, want the second's", got)
	}
	set(ms[1].ID, requests.MediaHidden, 4*time.Minute)
	if got := url(); got != "" {
		t.Errorf("media_url with every photo hidden = %q, want none", got)
	}
	_, err = s.SetMediaState(ctx, requests.MediaChange{Tenant: tenantB, ID: ms[0].ID, State: requests.MediaApproved, Actor: "x", At: t0})
	wantKind(t, "moderating another tenant's photo", err, i18n.NotFound)
	evs, err := s.ListEvents(ctx, tenantA, r.ServiceRequestID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []requests.EventKind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
		if e.Kind == requests.EventMediaApproved && e.Actor != "staff:ana" {
			t.Errorf("approval event by %q, want staff:ana", e.Actor)
		}
	}
	want := []requests.EventKind{requests.EventCreated, requests.EventMediaApproved, requests.EventMediaApproved,
		requests.EventMediaHidden, requests.EventMediaHidden}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}

	// A client's own media_url stays while no photo is approved.
	ext := newReq(tenantA, east(500), t0)
	ext.MediaURL = "https://example.ca/p.jpg"
	enr := newRequest(ext)
	enr.Media = []requests.NewMedia{{ID: requests.NewMediaID(), State: requests.MediaPending, Photo: photo(3)}}
	er := create(t, s, enr)
	if _, err := s.SetMediaState(ctx, requests.MediaChange{Tenant: tenantA, ID: enr.Media[0].ID, State: requests.MediaHidden, Actor: "x", At: t0}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetRequest(ctx, tenantA, er.ServiceRequestID); got.MediaURL != ext.MediaURL {
		t.Errorf("hiding a photo emptied the client's media_url: %q", got.MediaURL)
	}

	// Purge: only requests closed before the cut-off lose their photos.
	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID,
		To: requests.Closed, Note: "fixed", Actor: "crew", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	p := requests.ReporterPurge{Tenant: tenantA, ClosedBefore: t0.Add(48 * time.Hour), At: t0.Add(72 * time.Hour), Actor: "retention", Limit: 10}
	if n, err := s.PurgeMedia(ctx, p); err != nil || n != 1 {
		t.Fatalf("PurgeMedia = %d, %v; want 1", n, err)
	}
	_, err = s.GetMedia(ctx, tenantA, ms[1].ID, false)
	wantKind(t, "a purged photo", err, i18n.NotFound)
	if _, err := s.GetMedia(ctx, tenantA, enr.Media[0].ID, false); err != nil {
		t.Errorf("the photo of an open request was purged: %v", err)
	}
	if n, err := s.PurgeMedia(ctx, p); err != nil || n != 0 {
		t.Errorf("second PurgeMedia = %d, %v; want 0", n, err)
	}
	evs, _ = s.ListEvents(ctx, tenantA, r.ServiceRequestID)
	if last := evs[len(evs)-1]; last.Kind != requests.EventMediaPurged || last.Actor != "retention" {
		t.Errorf("last event %+v, want media_purged by retention", last)
	}
}
