package requests

import (
	"context"
	"strconv"
	"time"

	"github.com/pinward/pinward/i18n"
)

// PublicUpdateStore lists the public notes of a tenant's requests across
// requests: Open311's service request updates.
type PublicUpdateStore interface {
	// ListPublicUpdates returns the events of f.Tenant that are public
	// updates (see Event.IsPublicUpdate), oldest first (At, then ID): of
	// the requests in f.ServiceRequestIDs when set (IDs that cannot exist
	// match nothing), with At within Start and End (both inclusive; a zero
	// time leaves that side open), at most f.Limit after f.Offset.
	ListPublicUpdates(ctx context.Context, f UpdateFilter) ([]Event, error)
}

// UpdateFilter selects public updates (PublicUpdateStore).
type UpdateFilter struct {
	Tenant            string
	ServiceRequestIDs []string
	Start, End        time.Time
	Limit, Offset     int
}

// IsPublicUpdate reports whether e is an update a resident is told of: a
// public event (IsPublic) that moved the request with a public note in
// either language. The stores select the same events in SQL.
func (e Event) IsPublicUpdate() bool {
	return e.IsPublic() && e.Kind == EventStatus && (e.PublicNoteEn != "" || e.PublicNoteFr != "")
}

// ServiceRequestID is the public ID of the request e belongs to.
func (e Event) ServiceRequestID() string { return strconv.FormatInt(e.RequestID, 10) }

// PublicUpdates lists the tenant's public updates as f selects them; the
// limit is MaxListLimit when f.Limit is zero or more than that.
func (s *Service) PublicUpdates(ctx context.Context, f UpdateFilter) ([]Event, error) {
	f.Tenant = s.cfg.Tenant
	if !f.Start.IsZero() && !f.End.IsZero() && f.End.Before(f.Start) {
		return nil, invalid("end_date", i18n.T("is before start_date", "est antérieure à start_date"))
	}
	if f.Offset < 0 {
		return nil, invalid("page", i18n.T("must not be negative", "ne doit pas être négatif"))
	}
	if f.Limit <= 0 || f.Limit > MaxListLimit {
		f.Limit = MaxListLimit
	}
	return s.cfg.Store.ListPublicUpdates(ctx, f)
}
