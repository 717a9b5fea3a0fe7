package requests

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// MediaState is where a photo stands in moderation.
type MediaState string

// The states of a photo. A pending photo is shown to staff only; an
// approved one to everyone (it becomes the request's media_url); a hidden
// one to staff only, for good.
const (
	MediaPending  MediaState = "pending"
	MediaApproved MediaState = "approved"
	MediaHidden   MediaState = "hidden"
)

// The events of a photo's moderation and retention. Their Note names the
// photo (and the reason, for a hidden one).
const (
	EventMediaApproved EventKind = "media_approved"
	EventMediaHidden   EventKind = "media_hidden"
	EventMediaPurged   EventKind = "media_purged"
)

// Photo is one processed photo of a submission (package photo made it: a
// JPEG without metadata, upright, and its thumbnail).
type Photo struct {
	JPEG          []byte
	Thumb         []byte
	Width, Height int
}

// Media is one stored photo of a request.
type Media struct {
	ID               string // random, unguessable; the name in its URL
	TenantID         string
	RequestID        int64
	ServiceRequestID string
	Seq              int // 0, 1, 2: the order the resident sent them in
	State            MediaState
	Width, Height    int
	CreatedAt        time.Time
	// Data is the photo or its thumbnail, as GetMedia was asked; nil in
	// lists.
	Data []byte
}

// MediaPath is the path pinward serves photo id at; the thumbnail's ends
// in _thumb.jpg.
func MediaPath(id string) string { return "/media/" + id + ".jpg" }

// MediaThumbPath is the path of photo id's thumbnail.
func MediaThumbPath(id string) string { return "/media/" + id + "_thumb.jpg" }

// MediaChange is one staff decision on a photo for MediaStore.SetMediaState.
type MediaChange struct {
	Tenant string
	ID     string
	State  MediaState // MediaApproved or MediaHidden
	Actor  string
	Reason string
	At     time.Time
}

// MediaStore keeps photos with their requests. NewRequest.Media is stored
// by CreateRequest in the request's own transaction.
type MediaStore interface {
	// GetMedia returns photo id of tenant with its JPEG (thumb false) or
	// its thumbnail in Data; MediaNotFoundError when there is none.
	GetMedia(ctx context.Context, tenant, id string, thumb bool) (Media, error)
	// ListMedia returns a request's photos in Seq order, without Data;
	// RequestNotFoundError for an unknown request.
	ListMedia(ctx context.Context, tenant, serviceRequestID string) ([]Media, error)
	// SetMediaState records a staff decision in one transaction: the
	// photo's state, an EventMediaApproved or EventMediaHidden event on
	// its request (Actor, Note: the photo ID and the reason), and the
	// request's media_url, which becomes MediaPath of its first approved
	// photo ("" when none is approved). MediaNotFoundError for an
	// unknown photo. It returns the photo as stored, without Data.
	SetMediaState(ctx context.Context, c MediaChange) (Media, error)
	// PurgeMedia deletes the photos of up to p.Limit requests closed
	// before p.ClosedBefore, each request with an EventMediaPurged event
	// and its media_url emptied when it named one of them, and returns how
	// many requests lost their photos.
	PurgeMedia(ctx context.Context, p ReporterPurge) (int, error)
}

// MediaNotFoundError is the error for an unknown (or not yet public) photo.
func MediaNotFoundError() *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "media", i18n.T("there is no such photo", "cette photo n'existe pas"))
}

// NewMediaID returns a photo ID: 128 random bits, lowercase base32.
func NewMediaID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ValidMediaID reports whether s can be a photo ID (so a lookup of junk
// costs no query).
func ValidMediaID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// photosDigest is part of a submission's fingerprint: a retry with the
// same Idempotency-Key must carry the same photos.
func photosDigest(ps []Photo) string {
	if len(ps) == 0 {
		return ""
	}
	h := sha256.New()
	for _, p := range ps {
		s := sha256.Sum256(p.JPEG)
		h.Write(s[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Photo returns photo id as the caller may see it: staff see every
// photo (of their scope), everyone else an approved one only (a pending
// or hidden photo is NotFound to them, as if it did not exist).
func (s *Service) Photo(ctx context.Context, id string, thumb, staff bool) (Media, error) {
	if s.cfg.Media == nil || !ValidMediaID(id) {
		return Media{}, MediaNotFoundError()
	}
	m, err := s.cfg.Media.GetMedia(ctx, s.cfg.Tenant, id, thumb)
	if err != nil {
		return Media{}, err
	}
	if m.State != MediaApproved && !staff {
		return Media{}, MediaNotFoundError()
	}
	if m.State != MediaApproved {
		// Staff, but a photo of a request outside a scoped key's scope is
		// as unseen as to the public.
		switch err := s.requestInScope(ctx, m.ServiceRequestID); {
		case i18n.KindOf(err) == i18n.NotFound:
			return Media{}, MediaNotFoundError()
		case err != nil:
			return Media{}, err
		}
	}
	return m, nil
}

// Photos returns a request's photos, for staff.
func (s *Service) Photos(ctx context.Context, serviceRequestID string) ([]Media, error) {
	if s.cfg.Media == nil {
		return nil, RequestNotFoundError(clip(serviceRequestID))
	}
	if err := s.requestInScope(ctx, serviceRequestID); err != nil {
		return nil, err
	}
	return s.cfg.Media.ListMedia(ctx, s.cfg.Tenant, serviceRequestID)
}

// ModeratePhoto approves or hides photo id; actor is required.
func (s *Service) ModeratePhoto(ctx context.Context, id string, state MediaState, actor, reason string) (Media, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case state != MediaApproved && state != MediaHidden:
		return Media{}, invalid("state", i18n.T("%q is not approved or hidden", "%q n'est ni approved ni hidden"), clip(string(state)))
	case actor == "":
		return Media{}, invalid("actor", msgRequired)
	case s.cfg.Media == nil || !ValidMediaID(id):
		return Media{}, MediaNotFoundError()
	}
	if err := s.mediaInScope(ctx, id); err != nil {
		return Media{}, err
	}
	if err := checkText("reason", reason, MaxTextLen, false); err != nil {
		return Media{}, err
	}
	return s.cfg.Media.SetMediaState(ctx, MediaChange{Tenant: s.cfg.Tenant, ID: id, State: state,
		Actor: actor, Reason: reason, At: s.now()})
}

// PurgePhotos deletes, batch by batch, the photos of requests closed more
// than retention before now (the reporter retention, with --purge-photos).
func PurgePhotos(ctx context.Context, st MediaStore, tenant string, retention time.Duration, now time.Time) (int, error) {
	if retention <= 0 {
		return 0, invalid("retention", msgRequired)
	}
	p := ReporterPurge{Tenant: tenant, ClosedBefore: now.Add(-retention), At: now, Actor: "retention", Limit: 200}
	total := 0
	for {
		n, err := st.PurgeMedia(ctx, p)
		total += n
		if err != nil || n < p.Limit {
			return total, err
		}
	}
}

// NewMedia is one photo CreateRequest stores with its request.
type NewMedia struct {
	ID    string
	Seq   int
	State MediaState
	Photo
}

// newMedia turns a submission's photos into what CreateRequest stores,
// and names the first in req.MediaURL when photos are public at once.
func (s *Service) newMedia(photos []Photo, req *Request) []NewMedia {
	if len(photos) == 0 {
		return nil
	}
	state := MediaPending
	if s.cfg.PhotosPublic {
		state = MediaApproved
	}
	out := make([]NewMedia, len(photos))
	for i, p := range photos {
		out[i] = NewMedia{ID: NewMediaID(), Seq: i, State: state, Photo: p}
	}
	if state == MediaApproved {
		req.MediaURL = MediaPath(out[0].ID)
	}
	return out
}

// checkPhotos refuses more photos than a request may carry, or a photo
// that was not processed.
func checkPhotos(ps []Photo) error {
	if len(ps) > MaxPhotos {
		return i18n.Errorf(i18n.TooLarge, "media", i18n.T(
			"a request carries at most %d photos; this one has %d",
			"une demande compte au plus %d photos; celle-ci en a %d"), MaxPhotos, len(ps))
	}
	for _, p := range ps {
		if len(p.JPEG) == 0 || len(p.Thumb) == 0 {
			return invalid("media", i18n.T("the photo is empty", "la photo est vide"))
		}
	}
	return nil
}

// MaxPhotos is how many photos one request may carry (photo.MaxPerRequest).
const MaxPhotos = 3
