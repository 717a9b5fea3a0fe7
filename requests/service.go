package requests

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/wards"
)

// WardLocator finds the ward of a point on a date: *wards.Set, or whatever
// holder a server swaps new boundaries into.
type WardLocator interface {
	Locate(p orb.Point, at time.Time) (*wards.Ward, bool)
}

// AssetFinder finds the nearest asset of some layers: *assets.Index.
type AssetFinder interface {
	Nearest(p orb.Point, radius float64, layers ...string) (assets.Asset, float64, bool)
}

// ServiceConfig is what a Service works with.
type ServiceConfig struct {
	Tenant  string // the municipality, stored on every row
	Catalog *Catalog
	Wards   WardLocator
	Assets  AssetFinder // nil: requests are never snapped to assets
	Store   RequestStore
	Now     func() time.Time // time.Now when nil
	// SendsWorkOrders reports whether a department's new clusters get a
	// work order (it has a connector); nil: none does. The work order is
	// created in the request's own transaction.
	SendsWorkOrders func(department string) bool
	// Media keeps photos; nil: the Store's, when it keeps them (a
	// submission with photos is refused when none does).
	Media MediaStore
	// Moderation keeps flags and hidden descriptions; nil: the Store's,
	// when it keeps them.
	Moderation ModerationStore
	// PhotosPublic publishes photos as they arrive (--photos-public
	// immediately) instead of after a staff member approves each.
	PhotosPublic bool
	// Blocks is the block list (blocklist.go); nil: the Store's.
	Blocks BlockStore
}

// Service is the domain's entry point for one municipality: the API calls
// it, it calls the Store. It is safe for concurrent use.
type Service struct {
	cfg    ServiceConfig
	blocks blockCache
}

// NewService checks cfg and returns its Service.
func NewService(cfg ServiceConfig) (*Service, error) {
	switch {
	case cfg.Tenant == "":
		return nil, errors.New("requests: ServiceConfig.Tenant is empty")
	case cfg.Catalog == nil:
		return nil, errors.New("requests: ServiceConfig.Catalog is nil")
	case cfg.Wards == nil:
		return nil, errors.New("requests: ServiceConfig.Wards is nil")
	case cfg.Store == nil:
		return nil, errors.New("requests: ServiceConfig.Store is nil")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if ms, ok := cfg.Store.(MediaStore); ok && cfg.Media == nil {
		cfg.Media = ms
	}
	if ms, ok := cfg.Store.(ModerationStore); ok && cfg.Moderation == nil {
		cfg.Moderation = ms
	}
	if bs, ok := cfg.Store.(BlockStore); ok && cfg.Blocks == nil {
		cfg.Blocks = bs
	}
	return &Service{cfg: cfg}, nil
}

// Tenant returns the municipality the Service serves.
func (s *Service) Tenant() string { return s.cfg.Tenant }

// Catalog returns the municipality's categories and departments.
func (s *Service) Catalog() *Catalog { return s.cfg.Catalog }

// now is the current time as stores keep it (UTC, microseconds), so a
// request read back equals the one returned.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Submission is a resident's request as the API received it (Open311 POST
// requests), before validation.
type Submission struct {
	ServiceCode string
	Point       *orb.Point // lon/lat; nil when lat or long was not given
	Address     string     // address_string, kept as given (not geocoded)
	Description string
	// Attributes are the Open311 attribute[code] values; several values
	// only for multivaluelist.
	Attributes map[string][]string
	Reporter   Reporter // all optional
	MediaURL   string
	Lang       i18n.Lang // "" is English
	// IdempotencyKey is the client's Idempotency-Key header: a retry with
	// the same key gets the same request back.
	IdempotencyKey string
	APIKeyID       int64   // the API key that sent it, which scopes IdempotencyKey; 0 for none
	Actor          string  // who submitted ("key:12", "web"); "resident" when empty
	Channel        Channel // how it came in; ChannelAPI when empty
	// Photos are the submission's photos, already processed (package
	// photo), at most MaxPhotos; stored with the request.
	Photos []Photo
}

// Submit validates a submission, locates it (ward, nearest asset), finds
// its duplicate cluster, routes it, sets its SLA due time and stores it
// with its "created" event in one transaction. Invalid input is refused
// with an Invalid error naming the field, a point in no ward with
// wards.OutsideError(); nothing is stored then.
func (s *Service) Submit(ctx context.Context, sub Submission) (Request, error) {
	now := s.now()
	sub.Reporter = sub.Reporter.trimmed()
	cat, req, err := s.check(sub)
	if err != nil {
		return Request{}, err
	}
	p := *sub.Point
	ward, ok := s.cfg.Wards.Locate(p, now)
	if !ok {
		swapped := orb.Point{p[1], p[0]}
		if geo.ValidatePoint(swapped) == nil {
			if _, ok := s.cfg.Wards.Locate(swapped, now); ok {
				return Request{}, swappedError(p)
			}
		}
		return Request{}, wards.OutsideError()
	}
	req.TenantID = s.cfg.Tenant
	req.Point = p
	req.WardID = ward.ID
	req.Status = New
	req.RequestedAt, req.UpdatedAt = now, now
	req.Department, _ = s.cfg.Catalog.Route(cat.Code, ward.ID)
	if err := submitInScope(ctx, req); err != nil {
		return Request{}, err
	}
	req.DueAt = s.cfg.Catalog.DueAt(cat.Code, now).Truncate(time.Microsecond)
	// The escalation clock starts with the request; the live escalation
	// view keeps it current afterwards.
	req.NextEscalationAt, _ = s.cfg.Catalog.LevelAt(cat.Code, now, nil, 1)
	if len(cat.AssetLayers) > 0 && s.cfg.Assets != nil {
		if a, d, ok := s.cfg.Assets.Nearest(p, cat.AssetRadiusM, cat.AssetLayers...); ok {
			// Centimetres: what a float column round-trips and a person reads.
			req.AssetLayer, req.AssetID, req.AssetDistanceM = a.Layer, a.ID, math.Round(d*100)/100
		}
	}
	req.Token = newToken()
	if err := checkPhotos(sub.Photos); err != nil {
		return Request{}, err
	}
	if len(sub.Photos) > 0 && s.cfg.Media == nil {
		return Request{}, invalid("media", i18n.T("this server keeps no photos", "ce serveur ne conserve pas de photos"))
	}
	// Fingerprinted before a public photo's random URL is set, so that a
	// retry matches.
	fp := fingerprint(req, sub.Reporter)
	if d := photosDigest(sub.Photos); d != "" {
		sum := sha256.Sum256([]byte(fp + d))
		fp = hex.EncodeToString(sum[:])
	}
	media := s.newMedia(sub.Photos, &req)

	nr := NewRequest{
		Media:          media,
		Request:        req,
		Event:          Event{TenantID: s.cfg.Tenant, At: now, Actor: sub.Actor, Kind: EventCreated, To: New},
		IdempotencyKey: ScopedIdempotencyKey(sub.APIKeyID, sub.IdempotencyKey),
		Fingerprint:    fp,
		Cluster:        s.clusterQuery(cat, req, now),
	}
	if nr.Event.Actor == "" {
		nr.Event.Actor = "resident"
	}
	if !sub.Reporter.IsZero() {
		r := sub.Reporter
		if n, ok := s.cfg.Catalog.PrivacyNotice(); ok {
			r.NoticeVersion = n.Version // what the page showed before the contact fields
		}
		nr.Reporter = &r
	}
	nr.WorkOrder = s.cfg.SendsWorkOrders != nil && s.cfg.SendsWorkOrders(req.Department)
	if r, blocked, err := s.stopBlocked(ctx, nr); blocked || err != nil {
		return r, err
	}
	return s.cfg.Store.CreateRequest(ctx, nr)
}

// check validates everything about a submission that needs no lookup, in
// the order a form shows it, and returns the request it describes so far.
func (s *Service) check(sub Submission) (Category, Request, error) {
	if sub.ServiceCode == "" {
		return Category{}, Request{}, invalid("service_code", msgRequired)
	}
	cat, ok := s.cfg.Catalog.Category(sub.ServiceCode)
	if !ok {
		return Category{}, Request{}, invalid("service_code", i18n.T("there is no service %q", "il n'existe aucun service %q"), clip(sub.ServiceCode))
	}
	if err := checkPoint(sub.Point); err != nil {
		return cat, Request{}, err
	}
	req := Request{
		ServiceCode: cat.Code,
		Description: strings.TrimSpace(sub.Description),
		Address:     strings.TrimSpace(sub.Address),
		MediaURL:    strings.TrimSpace(sub.MediaURL),
		Lang:        sub.Lang,
	}
	if err := checkText("description", req.Description, MaxDescriptionLen, true); err != nil {
		return cat, req, err
	}
	if err := checkText("address_string", req.Address, MaxAddressLen, false); err != nil {
		return cat, req, err
	}
	attrs, err := checkAttributes(cat, sub.Attributes, s.cfg.Catalog.Location())
	if err != nil {
		return cat, req, err
	}
	req.Attributes = attrs
	if err := checkURL("media_url", req.MediaURL); err != nil {
		return cat, req, err
	}
	if err := checkReporter(sub.Reporter); err != nil {
		return cat, req, err
	}
	switch req.Lang {
	case "":
		req.Lang = s.cfg.Catalog.DefaultLang()
	case i18n.En, i18n.Fr:
	default:
		return cat, req, invalid("locale", i18n.T("%q is not a language pinward speaks (en, fr)", "%q n'est pas une langue de pinward (en, fr)"), clip(string(req.Lang)))
	}
	switch {
	case sub.Channel == "":
		req.Channel = ChannelAPI
	case sub.Channel.Valid():
		req.Channel = sub.Channel
	default:
		return cat, req, invalid("channel", i18n.T("%q is not a channel (web, app, phone, counter, email, api)",
			"%q n'est pas un canal (web, app, phone, counter, email, api)"), clip(string(sub.Channel)))
	}
	if err := checkText("Idempotency-Key", sub.IdempotencyKey, MaxKeyLen, false); err != nil {
		return cat, req, err
	}
	return cat, req, checkText("actor", sub.Actor, MaxKeyLen, false)
}

// clusterQuery is the duplicate rule of req's category, or nil when the
// category clusters nothing.
func (s *Service) clusterQuery(cat Category, req Request, now time.Time) *ClusterQuery {
	rule := cat.Dedup
	sameAsset := rule.SameAsset && req.AssetID != ""
	if rule.DistanceM <= 0 && !sameAsset {
		return nil
	}
	q := &ClusterQuery{
		Tenant:       s.cfg.Tenant,
		ServiceCodes: s.cfg.Catalog.Equivalents(cat.Code),
		Point:        req.Point,
		DistanceM:    rule.DistanceM,
		Bound:        geo.NewRuler(req.Point[1]).Buffer(req.Point, rule.DistanceM),
		// One grid for the whole group: equivalent categories share
		// their rule (LoadCatalog checks it).
		LockCellDeg: LockCellDeg(rule.DistanceM),
	}
	if rule.WindowHours > 0 {
		q.Since = now.Add(-time.Duration(rule.WindowHours * float64(time.Hour)))
	}
	if sameAsset {
		q.AssetLayer, q.AssetID = req.AssetLayer, req.AssetID
	}
	return q
}

// newToken returns an Open311 token: 128 random bits, lowercase base32.
func newToken() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// fingerprint digests what a resident submitted (not what intake derived
// from it, which may change with time), so a replayed Idempotency-Key can
// be told from a reused one.
func fingerprint(req Request, rep Reporter) string {
	b, _ := json.Marshal(struct {
		Code, Description, Address, MediaURL string
		Lang                                 i18n.Lang
		Point                                orb.Point
		Attributes                           map[string]string
		Reporter                             Reporter
	}{req.ServiceCode, req.Description, req.Address, req.MediaURL, req.Lang, req.Point, req.Attributes, rep})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Get returns a request by its public ID.
func (s *Service) Get(ctx context.Context, serviceRequestID string) (Request, error) {
	if _, ok := ParseServiceRequestID(serviceRequestID); !ok {
		return Request{}, RequestNotFoundError(clip(serviceRequestID))
	}
	r, err := s.cfg.Store.GetRequest(ctx, s.cfg.Tenant, serviceRequestID)
	if err != nil {
		return r, err
	}
	return r, inScope(ctx, r)
}

// GetByToken returns a request by its Open311 token.
func (s *Service) GetByToken(ctx context.Context, token string) (Request, error) {
	if token == "" || len(token) > MaxKeyLen {
		return Request{}, TokenNotFoundError()
	}
	return s.cfg.Store.GetRequestByToken(ctx, s.cfg.Tenant, token)
}

// List returns the requests f selects, newest first. The tenant is the
// Service's; a Limit of zero or more than MaxListLimit means MaxListLimit.
func (s *Service) List(ctx context.Context, f Filter) ([]Request, error) {
	f.Tenant, f.Scope = s.cfg.Tenant, ScopeFrom(ctx)
	for _, st := range f.Statuses {
		if !st.Valid() {
			return nil, invalid("status", i18n.T("%q is not a status (%s)", "%q n'est pas un état (%s)"), clip(string(st)), StatusList())
		}
	}
	if !f.Start.IsZero() && !f.End.IsZero() && f.End.Before(f.Start) {
		return nil, invalid("end_date", i18n.T("is before start_date", "est antérieure à start_date"))
	}
	if f.Offset < 0 {
		return nil, invalid("page", i18n.T("must not be negative", "ne doit pas être négatif"))
	}
	if f.Limit <= 0 || f.Limit > MaxListLimit {
		f.Limit = MaxListLimit
	}
	return s.cfg.Store.ListRequests(ctx, f)
}

// StatusUpdate is a staff member's plain change of a request's status (see
// Transition for the full form).
type StatusUpdate struct {
	ServiceRequestID string
	To               Status
	Note             string      // required to close: shown to the resident
	Reason           CloseReason // ReasonFixed when closing without one
	Actor            string      // required: who made the change
}

// UpdateStatus moves a request to u.To with a public note as written; a
// change the workflow forbids is a Conflict (see Status.CanTransition).
func (s *Service) UpdateStatus(ctx context.Context, u StatusUpdate) (Request, error) {
	if u.To == Closed && strings.TrimSpace(u.Note) == "" {
		return Request{}, invalid("status_notes", i18n.T("a request is closed with a note for the resident", "une demande est fermée avec une note pour le résident"))
	}
	if u.To == Closed && u.Reason == "" {
		u.Reason = ReasonFixed
	}
	if _, err := s.Get(ctx, u.ServiceRequestID); err != nil { // unknown or out of the caller's scope
		return Request{}, err
	}
	return s.Transition(ctx, u.ServiceRequestID, TransitionInput{To: u.To, PublicNoteEn: u.Note, Reason: string(u.Reason), Actor: u.Actor})
}

// Events returns a request's audit trail, oldest first.
func (s *Service) Events(ctx context.Context, serviceRequestID string) ([]Event, error) {
	if _, err := s.Get(ctx, serviceRequestID); err != nil { // unknown or out of the caller's scope
		return nil, err
	}
	return s.cfg.Store.ListEvents(ctx, s.cfg.Tenant, serviceRequestID)
}

// ReporterFor returns the personal information of a request's reporter to
// a staff member; the store logs the read as an event. actor is required.
func (s *Service) ReporterFor(ctx context.Context, serviceRequestID, actor string) (Reporter, error) {
	if actor == "" {
		return Reporter{}, invalid("actor", msgRequired)
	}
	if _, err := s.Get(ctx, serviceRequestID); err != nil { // unknown or out of the caller's scope
		return Reporter{}, err
	}
	return s.cfg.Store.GetReporter(ctx, ReporterAccess{
		Tenant: s.cfg.Tenant, ServiceRequestID: serviceRequestID, Actor: actor, At: s.now(),
	})
}
