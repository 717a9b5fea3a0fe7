package requests

import (
	"context"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
)

// BlockKind is what a block list entry matches in a submission.
type BlockKind string

// The kinds of block list entries: the reporter's e-mail address (matched
// without regard to case) or the device ID a client sends (exactly).
const (
	BlockEmail  BlockKind = "email"
	BlockDevice BlockKind = "device"
)

// BlockEntry is one entry of a municipality's block list.
type BlockEntry struct {
	ID        int64
	TenantID  string
	Kind      BlockKind
	Value     string // normalised: see NormalizeBlockValue
	Reason    string
	Actor     string // who added it
	CreatedAt time.Time
}

// BlockedSubmission is a submission from a blocked sender. It is never a
// request: it is on no map, in no list but staff's, has no work order and
// no reporter to mail. The sender was answered as if it were accepted,
// with ServiceRequestID and Token.
type BlockedSubmission struct {
	ID               int64 // its own key, in the blocked list
	TenantID         string
	ServiceRequestID string // the ID the sender was answered with (set by the store)
	Token            string
	EntryID          int64 // the entry it matched
	Kind             BlockKind
	Value            string // the matched value
	ServiceCode      string
	Description      string
	Address          string
	Point            orb.Point
	WardID           string
	Department       string
	Email            string
	DeviceID         string
	Actor            string
	ReceivedAt       time.Time
	// IdempotencyKey is the scoped key (see ScopedIdempotencyKey), "" for
	// none: a retry with it gets the first one's number and token back.
	IdempotencyKey string
}

// BlockStore keeps the block list and the submissions it stopped.
type BlockStore interface {
	// AddBlock stores an entry (Kind and Value normalised by the caller)
	// and returns it with its ID; Conflict when the tenant already blocks
	// that value.
	AddBlock(ctx context.Context, e BlockEntry) (BlockEntry, error)
	// ListBlocks returns the tenant's entries in ID order.
	ListBlocks(ctx context.Context, tenant string) ([]BlockEntry, error)
	// RemoveBlock deletes an entry; BlockNotFoundError when the tenant has
	// no such entry. The submissions it stopped stay listed.
	RemoveBlock(ctx context.Context, tenant string, id int64) error
	// StoreBlocked keeps a stopped submission and returns it with its ID
	// and the ServiceRequestID its sender is answered with (the stored one,
	// number and token, when one with the same IdempotencyKey exists): on PostgreSQL
	// a number of the requests' own sequence (never a request's), on
	// SQLite the next request number at that moment.
	StoreBlocked(ctx context.Context, b BlockedSubmission) (BlockedSubmission, error)
	// ListBlocked returns the tenant's stopped submissions in scope
	// (stores apply Scope.Where to Department and WardID), newest first,
	// at most limit.
	ListBlocked(ctx context.Context, tenant string, scope Scope, limit int) ([]BlockedSubmission, error)
}

// BlockNotFoundError is the error for an unknown block list entry.
func BlockNotFoundError() *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "id", i18n.T("there is no such block list entry", "cette entrée de la liste de blocage n'existe pas"))
}

// BlockExistsError is the Conflict of blocking a value twice.
func BlockExistsError() *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "value", i18n.T("this value is already on the block list", "cette valeur est déjà dans la liste de blocage"))
}

// NormalizeBlockValue checks an entry's value for its kind and returns it
// as stored and matched: an e-mail address trimmed and lowercased, a
// device ID trimmed.
func NormalizeBlockValue(kind BlockKind, value string) (string, error) {
	value = strings.TrimSpace(value)
	switch kind {
	case BlockEmail:
		value = strings.ToLower(value)
		if value == "" {
			return "", invalid("value", msgRequired)
		}
		if a, err := mail.ParseAddress(value); err != nil || a.Address != value || len(value) > MaxKeyLen {
			return "", invalid("value", i18n.T("%q is not an e-mail address", "%q n'est pas une adresse courriel"), clip(value))
		}
	case BlockDevice:
		if value == "" {
			return "", invalid("value", msgRequired)
		}
		if err := checkText("value", value, MaxKeyLen, false); err != nil {
			return "", err
		}
	default:
		return "", invalid("kind", i18n.T("%q is not email or device", "%q n'est ni email ni device"), clip(string(kind)))
	}
	return value, nil
}

// The block list is read once a second at most per server: an entry added
// on one server stops submissions on every server within about a second
// (at once on the server that added it), and intake costs no query.
const blockCacheTTL = time.Second

// blockCache is the tenant's block list as last read.
type blockCache struct {
	mu      sync.Mutex
	readAt  time.Time
	entries map[BlockKind]map[string]BlockEntry
}

// match returns the entry blocking email or device, if any.
func (c *blockCache) match(ctx context.Context, st BlockStore, tenant, email, device string) (BlockEntry, bool, error) {
	email, device = strings.ToLower(strings.TrimSpace(email)), strings.TrimSpace(device)
	if email == "" && device == "" {
		return BlockEntry{}, false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || time.Since(c.readAt) > blockCacheTTL {
		es, err := st.ListBlocks(ctx, tenant)
		if err != nil {
			return BlockEntry{}, false, err
		}
		c.entries = map[BlockKind]map[string]BlockEntry{BlockEmail: {}, BlockDevice: {}}
		for _, e := range es {
			if m := c.entries[e.Kind]; m != nil {
				m[e.Value] = e
			}
		}
		c.readAt = time.Now()
	}
	if e, ok := c.entries[BlockEmail][email]; ok && email != "" {
		return e, true, nil
	}
	if e, ok := c.entries[BlockDevice][device]; ok && device != "" {
		return e, true, nil
	}
	return BlockEntry{}, false, nil
}

// forget makes the next match read the list again.
func (c *blockCache) forget() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

// stopBlocked keeps nr as a BlockedSubmission when its reporter's e-mail
// or device is blocked, and returns the request its sender is answered
// with (true); false when it is not blocked.
func (s *Service) stopBlocked(ctx context.Context, nr NewRequest) (Request, bool, error) {
	if s.cfg.Blocks == nil || nr.Reporter == nil {
		return Request{}, false, nil
	}
	e, ok, err := s.blocks.match(ctx, s.cfg.Blocks, s.cfg.Tenant, nr.Reporter.Email, nr.Reporter.DeviceID)
	if err != nil || !ok {
		return Request{}, false, err
	}
	r := nr.Request
	b, err := s.cfg.Blocks.StoreBlocked(ctx, BlockedSubmission{TenantID: s.cfg.Tenant, Token: r.Token, EntryID: e.ID,
		Kind: e.Kind, Value: e.Value, ServiceCode: r.ServiceCode, Description: r.Description, Address: r.Address,
		Point: r.Point, WardID: r.WardID, Department: r.Department, Email: nr.Reporter.Email, DeviceID: nr.Reporter.DeviceID,
		Actor: nr.Event.Actor, ReceivedAt: r.RequestedAt, IdempotencyKey: nr.IdempotencyKey})
	if err != nil {
		return Request{}, true, err
	}
	// What a new request starting its own cluster answers; the photos and
	// a public media_url are dropped with it.
	r.ServiceRequestID, r.ClusterID, r.MediaURL, r.Token = b.ServiceRequestID, b.ServiceRequestID, "", b.Token
	r.ID, _ = ParseServiceRequestID(b.ServiceRequestID)
	return r, true, nil
}

// blockAdmin checks that the caller may manage the block list: it is the
// whole municipality's, so a staff key limited to departments or wards
// may not.
func blockAdmin(ctx context.Context) error {
	if !ScopeFrom(ctx).IsZero() {
		return i18n.Errorf(i18n.Forbidden, "scope", i18n.T(
			"the block list is the whole municipality's: a key limited to departments or wards may not manage it",
			"la liste de blocage vaut pour toute la municipalité : une clé limitée à des services ou à des districts ne peut pas la gérer"))
	}
	return nil
}

// AddBlock puts an e-mail address or a device ID on the block list; actor
// is required.
func (s *Service) AddBlock(ctx context.Context, kind BlockKind, value, reason, actor string) (BlockEntry, error) {
	if err := blockAdmin(ctx); err != nil {
		return BlockEntry{}, err
	}
	v, err := NormalizeBlockValue(kind, value)
	if err != nil {
		return BlockEntry{}, err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case actor == "":
		return BlockEntry{}, invalid("actor", msgRequired)
	case s.cfg.Blocks == nil:
		return BlockEntry{}, invalid("kind", i18n.T("this server keeps no block list", "ce serveur ne tient pas de liste de blocage"))
	}
	if err := checkText("reason", reason, MaxTextLen, false); err != nil {
		return BlockEntry{}, err
	}
	e, err := s.cfg.Blocks.AddBlock(ctx, BlockEntry{TenantID: s.cfg.Tenant, Kind: kind, Value: v, Reason: reason, Actor: actor, CreatedAt: s.now()})
	s.blocks.forget()
	return e, err
}

// Blocks lists the block list.
func (s *Service) Blocks(ctx context.Context) ([]BlockEntry, error) {
	if err := blockAdmin(ctx); err != nil || s.cfg.Blocks == nil {
		return nil, err
	}
	return s.cfg.Blocks.ListBlocks(ctx, s.cfg.Tenant)
}

// RemoveBlock takes entry id off the block list.
func (s *Service) RemoveBlock(ctx context.Context, id int64) error {
	if err := blockAdmin(ctx); err != nil {
		return err
	}
	if s.cfg.Blocks == nil || id <= 0 {
		return BlockNotFoundError()
	}
	err := s.cfg.Blocks.RemoveBlock(ctx, s.cfg.Tenant, id)
	s.blocks.forget()
	return err
}

// Blocked lists the submissions the block list stopped, for staff (in
// their scope), newest first.
func (s *Service) Blocked(ctx context.Context, limit int) ([]BlockedSubmission, error) {
	if s.cfg.Blocks == nil {
		return nil, nil
	}
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	return s.cfg.Blocks.ListBlocked(ctx, s.cfg.Tenant, ScopeFrom(ctx), limit)
}
