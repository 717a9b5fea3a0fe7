package requests

import (
	"context"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// The events of moderating a request's description; Note is the reason.
const (
	EventDescriptionHidden EventKind = "description_hidden"
	EventDescriptionShown  EventKind = "description_shown"
)

// DescriptionChange is a staff decision to hide or show a request's public
// description.
type DescriptionChange struct {
	Tenant           string
	ServiceRequestID string
	Hide             bool
	Actor            string
	Reason           string
	At               time.Time
}

// Flag is a resident's "report this" on a request.
type Flag struct {
	Tenant           string
	ServiceRequestID string
	Reason           string
	At               time.Time
}

// FlagCount is one request's flags, for staff.
type FlagCount struct {
	ServiceRequestID string
	Count            int
	Last             time.Time
	LastReason       string
	Hidden           bool // its description is hidden now
}

// Moderation is a request's moderation state, for staff.
type Moderation struct {
	DescriptionHidden bool
	HiddenDescription string // the description the public no longer sees
	Flags             int
}

// ModerationStore keeps staff moderation and residents' flags.
type ModerationStore interface {
	// SetDescriptionHidden hides (moves the description out of the public
	// record, kept for staff) or shows (puts it back) a request's
	// description, with an EventDescriptionHidden or EventDescriptionShown
	// event (Actor, Note: the reason), in one transaction; Conflict when
	// it is already so, RequestNotFoundError for an unknown request. The
	// request, its dispatch and its work order go on.
	SetDescriptionHidden(ctx context.Context, c DescriptionChange) (Request, error)
	// AddFlag records a flag; RequestNotFoundError for an unknown request.
	AddFlag(ctx context.Context, f Flag) error
	// ListFlags returns the tenant's flagged requests in scope (all for
	// the zero Scope; stores apply Scope.Where), most flagged first, at
	// most limit.
	ListFlags(ctx context.Context, tenant string, scope Scope, limit int) ([]FlagCount, error)
	// RequestModeration returns a request's moderation state.
	RequestModeration(ctx context.Context, tenant, serviceRequestID string) (Moderation, error)
}

// MaxFlagReasonLen bounds a flag's reason.
const MaxFlagReasonLen = 500

// FlagRequest records a resident's flag on a request.
func (s *Service) FlagRequest(ctx context.Context, serviceRequestID, reason string) error {
	reason = strings.TrimSpace(reason)
	if _, ok := ParseServiceRequestID(serviceRequestID); !ok || s.cfg.Moderation == nil {
		return RequestNotFoundError(clip(serviceRequestID))
	}
	if err := checkText("reason", reason, MaxFlagReasonLen, false); err != nil {
		return err
	}
	return s.cfg.Moderation.AddFlag(ctx, Flag{Tenant: s.cfg.Tenant, ServiceRequestID: serviceRequestID, Reason: reason, At: s.now()})
}

// HideDescription hides or shows a request's description; the reason is
// required to hide.
func (s *Service) HideDescription(ctx context.Context, serviceRequestID string, hide bool, actor, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case actor == "":
		return Request{}, invalid("actor", msgRequired)
	case hide && reason == "":
		return Request{}, invalid("reason", i18n.T("say why the description is hidden", "dites pourquoi la description est masquée"))
	}
	if err := checkText("reason", reason, MaxTextLen, false); err != nil {
		return Request{}, err
	}
	if s.cfg.Moderation == nil {
		return Request{}, RequestNotFoundError(clip(serviceRequestID))
	}
	if err := s.requestInScope(ctx, serviceRequestID); err != nil {
		return Request{}, err
	}
	return s.cfg.Moderation.SetDescriptionHidden(ctx, DescriptionChange{Tenant: s.cfg.Tenant, ServiceRequestID: serviceRequestID,
		Hide: hide, Actor: actor, Reason: reason, At: s.now()})
}

// Flags lists the flagged requests, for staff.
func (s *Service) Flags(ctx context.Context, limit int) ([]FlagCount, error) {
	if s.cfg.Moderation == nil {
		return nil, nil
	}
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	return s.cfg.Moderation.ListFlags(ctx, s.cfg.Tenant, ScopeFrom(ctx), limit)
}

// ModerationOf returns a request's moderation state, for staff.
func (s *Service) ModerationOf(ctx context.Context, serviceRequestID string) (Moderation, error) {
	if s.cfg.Moderation == nil {
		return Moderation{}, RequestNotFoundError(clip(serviceRequestID))
	}
	if err := s.requestInScope(ctx, serviceRequestID); err != nil {
		return Moderation{}, err
	}
	return s.cfg.Moderation.RequestModeration(ctx, s.cfg.Tenant, serviceRequestID)
}

// DescriptionStateError is the Conflict of hiding a hidden description or
// showing a shown one.
func DescriptionStateError(hide bool) error {
	if hide {
		return i18n.Errorf(i18n.Conflict, "description", i18n.T("the description is already hidden", "la description est déjà masquée"))
	}
	return i18n.Errorf(i18n.Conflict, "description", i18n.T("the description is not hidden", "la description n'est pas masquée"))
}
