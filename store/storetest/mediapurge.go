package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testMediaPurgeList: photos stored without their bytes (as --media-bucket
// stores them) read back with empty Data; PurgeableMedia names exactly the
// photos the next PurgeMedia deletes, within its limit of requests.
func testMediaPurgeList(t *testing.T, s Stores) {
	ctx := context.Background()
	var ids [][]string
	var reqs []requests.Request
	for i := range 3 {
		nr := newRequest(newReq(tenantA, east(float64(100*i)), t0))
		var mine []string
		for seq := range 2 {
			m := requests.NewMedia{ID: requests.NewMediaID(), Seq: seq, State: requests.MediaPending,
				Photo: requests.Photo{JPEG: []byte{}, Thumb: []byte{}, Width: 4, Height: 3}}
			nr.Media = append(nr.Media, m)
			mine = append(mine, m.ID)
		}
		reqs = append(reqs, create(t, s, nr))
		ids = append(ids, mine)
	}
	if m, err := s.GetMedia(ctx, tenantA, ids[0][1], false); err != nil || len(m.Data) != 0 || m.Seq != 1 {
		t.Fatalf("a photo stored without bytes: %+v, %v", m, err)
	}
	for _, r := range reqs[:2] { // the first two closed, the third open
		if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID,
			To: requests.Closed, Note: "fixed", Actor: "crew", At: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	p := requests.ReporterPurge{Tenant: tenantA, ClosedBefore: t0.Add(48 * time.Hour), At: t0.Add(72 * time.Hour), Actor: "retention", Limit: 1}
	for _, want := range [][]string{ids[0], ids[1], nil} {
		got, err := s.PurgeableMedia(ctx, p)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("PurgeableMedia = %v, %v; want %v", got, err, want)
		}
		if other, err := s.PurgeableMedia(ctx, requests.ReporterPurge{Tenant: tenantB, ClosedBefore: p.ClosedBefore, Limit: 10}); err != nil || len(other) != 0 {
			t.Errorf("another tenant's PurgeableMedia = %v, %v", other, err)
		}
		if _, err := s.PurgeMedia(ctx, p); err != nil {
			t.Fatal(err)
		}
		for _, id := range want {
			_, err := s.GetMedia(ctx, tenantA, id, false)
			wantKind(t, "a photo PurgeableMedia named, after PurgeMedia", err, i18n.NotFound)
		}
	}
	if _, err := s.GetMedia(ctx, tenantA, ids[2][0], true); err != nil {
		t.Errorf("the open request's photo: %v", err)
	}
}
