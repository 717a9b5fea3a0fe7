package requests

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// The staff workflow: a request moves through the statuses of the
// transitions table (request.go), one Transition at a time, each in one
// store transaction with its EventStatus event. Staff also assign a
// request and add internal notes; neither moves it.

// Channel says how a request came in.
type Channel string

// The channels a request comes in by.
const (
	ChannelWeb     Channel = "web"     // the resident page
	ChannelApp     Channel = "app"     // a mobile app through Open311
	ChannelPhone   Channel = "phone"   // a clerk took a call
	ChannelCounter Channel = "counter" // a clerk at the counter
	ChannelEmail   Channel = "email"   // a clerk entered an e-mail
	ChannelAPI     Channel = "api"     // any other Open311 client (the default)
)

// Channels lists every channel.
func Channels() []Channel {
	return []Channel{ChannelWeb, ChannelApp, ChannelPhone, ChannelCounter, ChannelEmail, ChannelAPI}
}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return slices.Contains(Channels(), c) }

// StaffChannels are the channels a clerk enters a request by on a
// resident's behalf.
func StaffChannels() []Channel { return []Channel{ChannelPhone, ChannelCounter, ChannelEmail} }

// More event kinds: staff actions that do not move a request.
const (
	EventAssigned EventKind = "assigned" // Note is the new assignee ("" unassigned)
	EventNote     EventKind = "note"     // an internal note (InternalNote)
)

// Limits on staff text, in characters.
const (
	MaxNoteLen     = MaxTextLen // public and internal notes
	MaxAssigneeLen = 100
	MaxReferralLen = 200
)

// SLAClock moves a request's due time when its clock resumes: *Catalog.
type SLAClock interface {
	// ResumeDueAt returns the due time of a request of category code, due
	// at due, whose clock stood still from pausedAt to at.
	ResumeDueAt(code string, due, pausedAt, at time.Time) time.Time
}

// Transition is one move of one request (or, through ClusterTransition,
// of each open request of a cluster). The store applies it with Apply
// under the request's row lock.
type Transition struct {
	Tenant           string
	ServiceRequestID string
	To               Status
	// From, when set, is the status the caller saw: the store refuses the
	// move (TransitionError) when the request has moved since. The
	// auto-close sweep uses it, so two servers never close one twice.
	From         Status
	Reason       CloseReason // required to close; refused otherwise
	ReferredTo   string      // required with ReasonReferred: who owns it
	PublicNoteEn string      // shown to residents, per language;
	PublicNoteFr string      // one of them may be empty (see Event.PublicNote)
	InternalNote string      // staff only
	Template     string      // the canned response used, if any
	Actor        string
	At           time.Time
	Clock        SLAClock // nil: the due time stays as it is on resume
}

// EventReason is what a transition's event records as its reason: the
// close reason, and for a referral to whom.
func (t Transition) EventReason() string {
	if t.Reason == ReasonReferred && t.ReferredTo != "" {
		return string(t.Reason) + ": " + t.ReferredTo
	}
	return string(t.Reason)
}

// Apply returns r after t and the event that records it, or
// TransitionError when the workflow forbids the move (or r is no longer in
// t.From). It is the one place a transition's effects are decided; the
// stores only write what it returns.
func (t Transition) Apply(r Request) (Request, Event, error) {
	if (t.From != "" && r.Status != t.From) || !r.Status.CanTransition(t.To) {
		return r, Event{}, TransitionError(r.Status, t.To)
	}
	next := r
	next.Status, next.UpdatedAt = t.To, t.At
	if t.PublicNoteEn != "" || t.PublicNoteFr != "" {
		// The latest public note, as written: a note in one language only
		// leaves the other empty rather than keeping an older note there.
		next.StatusNotes, next.StatusNotesFr = t.PublicNoteEn, t.PublicNoteFr
	}
	next.CloseReason = ""
	if t.To == Closed {
		next.CloseReason = t.Reason
	}
	if r.Status == WaitingOnResident && !r.PausedAt.IsZero() {
		// The clock resumes: the due time moves later by the time it
		// stood still (the escalation sweep recomputes the next level
		// from it).
		if t.Clock != nil && !r.DueAt.IsZero() {
			next.DueAt = t.Clock.ResumeDueAt(r.ServiceCode, r.DueAt, r.PausedAt, t.At).UTC().Truncate(time.Microsecond)
		}
		next.PausedAt = time.Time{}
	}
	if t.To == WaitingOnResident {
		next.PausedAt, next.NextEscalationAt = t.At, time.Time{}
	}
	ev := Event{
		TenantID: r.TenantID, RequestID: r.ID, At: t.At, Actor: t.Actor, Kind: EventStatus,
		From: r.Status, To: t.To, Note: firstNonEmpty(t.PublicNoteEn, t.PublicNoteFr),
		PublicNoteEn: t.PublicNoteEn, PublicNoteFr: t.PublicNoteFr, InternalNote: t.InternalNote,
		Reason: t.EventReason(), Template: t.Template,
	}
	return next, ev, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// PublicNote returns the event's public note in lang, or, when it was
// written in the other language only, that one as written (pinward does
// not translate). "" when it has none.
func (e Event) PublicNote(lang i18n.Lang) string {
	if lang == i18n.Fr {
		return firstNonEmpty(e.PublicNoteFr, e.PublicNoteEn)
	}
	return firstNonEmpty(e.PublicNoteEn, e.PublicNoteFr)
}

// PublicNote returns the request's latest public note in lang, or in the
// other language when it was written in that one only.
func (r Request) PublicNote(lang i18n.Lang) string {
	if lang == i18n.Fr {
		return firstNonEmpty(r.StatusNotesFr, r.StatusNotes)
	}
	return firstNonEmpty(r.StatusNotes, r.StatusNotesFr)
}

// IsPublic reports whether a resident may see e on the request's history:
// its creation and its moves. Assignments, internal notes, reporter reads
// and merges are staff matters.
func (e Event) IsPublic() bool { return e.Kind == EventCreated || e.Kind == EventStatus }

// ClusterTransition applies Transition (its ServiceRequestID and From
// ignored) to every request of cluster ClusterID that is not closed and
// may make the move; the others stay as they are.
type ClusterTransition struct {
	ClusterID  string
	Transition Transition
	Locks      []string // see ClusterLockKeys
}

// Assignment gives a request to a crew or person ("" unassigns it).
type Assignment struct {
	Tenant           string
	ServiceRequestID string
	Assignee         string
	Actor            string
	At               time.Time
}

// StaffNote is an internal note on a request; it does not move it.
type StaffNote struct {
	Tenant           string
	ServiceRequestID string
	Note             string
	Actor            string
	At               time.Time
}

// TransitionStore is the part of Store that keeps the staff workflow.
// Every method runs in one transaction with its event; a change to a
// request reaches the change feed by the store's own logging.
type TransitionStore interface {
	// TransitionRequest locks the request, applies t (Transition.Apply),
	// writes what Apply returns (status, public notes, close reason,
	// pause, due time, next escalation, updated time) and its event, and
	// returns the request as stored. RequestNotFoundError for an unknown
	// request, TransitionError for a move Apply refuses.
	TransitionRequest(ctx context.Context, t Transition) (Request, error)
	// TransitionCluster applies c.Transition to each request of the
	// cluster that is not closed and may move (the others are left
	// alone), in one transaction; when it closes the cluster and the
	// cluster has a work order, the work order closes too and gets an
	// update message. ClusterNotFoundError, ClusterClosedError for a
	// closed cluster, TransitionError (from the first open request) when
	// no request may move.
	TransitionCluster(ctx context.Context, c ClusterTransition) (ClusterResult, error)
	// AssignRequest sets the assignee with an EventAssigned event (Note:
	// the assignee); RequestNotFoundError for an unknown request.
	AssignRequest(ctx context.Context, a Assignment) (Request, error)
	// AddStaffNote writes an EventNote event with n.Note as its internal
	// note and returns it; RequestNotFoundError for an unknown request.
	AddStaffNote(ctx context.Context, n StaffNote) (Event, error)
	// WaitingSince returns up to limit of the tenant's requests waiting on
	// the resident whose clock stopped at or before before, longest
	// waiting first (PausedAt, then ID), after the one at (afterAt,
	// afterID) in that order (zero: from the first); for the auto-close
	// sweep.
	WaitingSince(ctx context.Context, tenant string, before, afterAt time.Time, afterID int64, limit int) ([]Request, error)
}

// ResumeDueAt implements SLAClock: due moves later by the counted time
// (working time for a business-hour SLA, elapsed time otherwise) from
// pausedAt to at.
func (c *Catalog) ResumeDueAt(code string, due, pausedAt, at time.Time) time.Time {
	_, business, ok := c.SLATarget(code)
	if !ok || due.IsZero() || !at.After(pausedAt) {
		return due
	}
	return c.add(due, c.between(pausedAt, at, business, nil), business, nil).UTC()
}

// TransitionInput is a staff member's move of a request, as the API
// received it.
type TransitionInput struct {
	To           Status
	Template     string
	PublicNoteEn string
	PublicNoteFr string
	InternalNote string
	Reason       string
	ReferredTo   string
	Actor        string
}

// checkTransitionInput checks what needs no request: a known status, a
// reason exactly when closing (and to whom for a referral), text a
// database and a page can carry.
func checkTransitionInput(in *TransitionInput) (CloseReason, error) {
	in.PublicNoteEn = strings.TrimSpace(in.PublicNoteEn)
	in.PublicNoteFr = strings.TrimSpace(in.PublicNoteFr)
	in.InternalNote = strings.TrimSpace(in.InternalNote)
	in.ReferredTo = strings.TrimSpace(in.ReferredTo)
	in.Template = strings.TrimSpace(in.Template)
	if in.Actor == "" {
		return "", invalid("actor", msgRequired)
	}
	if in.To == "" && in.Template == "" {
		return "", invalid("to", msgRequired)
	}
	if in.To != "" && !in.To.Valid() {
		return "", invalid("to", i18n.T("%q is not a status (%s)", "%q n'est pas un état (%s)"), clip(string(in.To)), StatusList())
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"public_note_en", in.PublicNoteEn, MaxNoteLen}, {"public_note_fr", in.PublicNoteFr, MaxNoteLen},
		{"internal_note", in.InternalNote, MaxNoteLen}, {"referred_to", in.ReferredTo, MaxReferralLen},
		{"template", in.Template, MaxKeyLen}, {"reason", in.Reason, MaxKeyLen}} {
		if err := checkText(f.name, f.v, f.max, true); err != nil {
			return "", err
		}
	}
	var reason CloseReason
	if in.Reason != "" {
		r, ok := ParseCloseReason(in.Reason)
		if !ok {
			return "", invalid("reason", i18n.T("%q is not a close reason (%s)", "%q n'est pas un motif de fermeture (%s)"),
				clip(in.Reason), closeReasonList())
		}
		reason = r
	}
	return reason, nil
}

// checkReason checks the reason against the status the move goes to.
func checkReason(to Status, reason CloseReason, referredTo string) error {
	switch {
	case to == Closed && reason == "":
		return invalid("reason", i18n.T("a request is closed with a reason (%s)", "une demande est fermée avec un motif (%s)"), closeReasonList())
	case to != Closed && reason != "":
		return invalid("reason", i18n.T("only a move to closed takes a reason", "seule une fermeture prend un motif"))
	case reason == ReasonReferred && referredTo == "":
		return invalid("referred_to", i18n.T("say to whom the request was referred", "indiquez à qui la demande a été transmise"))
	case reason != ReasonReferred && referredTo != "":
		return invalid("referred_to", i18n.T("only a referral names who owns the request", "seul un transfert nomme le responsable de la demande"))
	}
	return nil
}

func closeReasonList() string {
	var s []string
	for _, r := range CloseReasons() {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

// Transition moves a request on a staff member's behalf: with a template,
// its bilingual text (rendered for the request) is the public note, and
// its status the default destination; free notes in either language are
// kept as written. Bad input is Invalid, a move the workflow forbids a
// Conflict (TransitionError).
func (s *Service) Transition(ctx context.Context, id string, in TransitionInput) (Request, error) {
	reason, err := checkTransitionInput(&in)
	if err != nil {
		return Request{}, err
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return Request{}, err
	}
	t := Transition{
		Tenant: s.cfg.Tenant, ServiceRequestID: r.ServiceRequestID, To: in.To, Reason: reason, ReferredTo: in.ReferredTo,
		PublicNoteEn: in.PublicNoteEn, PublicNoteFr: in.PublicNoteFr, InternalNote: in.InternalNote,
		Actor: in.Actor, At: s.now(), Clock: s.cfg.Catalog,
	}
	if err := s.applyTemplate(&t, in.Template, r); err != nil {
		return Request{}, err
	}
	if err := checkReason(t.To, t.Reason, t.ReferredTo); err != nil {
		return Request{}, err
	}
	return s.cfg.Store.TransitionRequest(ctx, t)
}

// applyTemplate fills t's status (when not given) and public notes (those
// not written by hand) from template id rendered for r.
func (s *Service) applyTemplate(t *Transition, id string, r Request) error {
	if id == "" {
		return nil
	}
	tpl, ok := s.cfg.Catalog.Template(id)
	if !ok || !tpl.AppliesTo(r.ServiceCode, r.Department) {
		return invalid("template", i18n.T("there is no template %q for this request's category", "il n'existe aucun modèle %q pour la catégorie de cette demande"), clip(id))
	}
	if t.To == "" {
		t.To = tpl.To
	}
	if tpl.To != "" && t.To != tpl.To {
		return invalid("template", i18n.T("template %q is for a move to %s", "le modèle %q sert au passage à l'état %s"), id, tpl.To)
	}
	if t.To == Closed && t.Reason == "" {
		t.Reason = tpl.Reason
	}
	text := s.RenderTemplate(tpl, r)
	if t.PublicNoteEn == "" {
		t.PublicNoteEn = text.En
	}
	if t.PublicNoteFr == "" {
		t.PublicNoteFr = text.Fr
	}
	t.Template = id
	return nil
}

// TransitionCluster applies a move to every open request of cluster id
// that may make it (see TransitionStore.TransitionCluster); a template is
// rendered for the cluster's first request.
func (s *Service) TransitionCluster(ctx context.Context, id string, in TransitionInput) (ClusterResult, error) {
	reason, err := checkTransitionInput(&in)
	if err != nil {
		return ClusterResult{}, err
	}
	if in.To == Reopened {
		return ClusterResult{}, invalid("to", i18n.T("a resident reopens a request, not a cluster", "un résident rouvre une demande, pas un regroupement"))
	}
	_, members, err := s.Cluster(ctx, id)
	if err != nil {
		return ClusterResult{}, err
	}
	t := Transition{
		Tenant: s.cfg.Tenant, To: in.To, Reason: reason, ReferredTo: in.ReferredTo,
		PublicNoteEn: in.PublicNoteEn, PublicNoteFr: in.PublicNoteFr, InternalNote: in.InternalNote,
		Actor: in.Actor, At: s.now(), Clock: s.cfg.Catalog,
	}
	if len(members) > 0 {
		if err := s.applyTemplate(&t, in.Template, members[0]); err != nil {
			return ClusterResult{}, err
		}
	}
	if err := checkReason(t.To, t.Reason, t.ReferredTo); err != nil {
		return ClusterResult{}, err
	}
	return s.cfg.Store.TransitionCluster(ctx, ClusterTransition{ClusterID: id, Transition: t, Locks: s.ClusterLockKeys()})
}

// Assign gives request id to assignee ("" unassigns it).
func (s *Service) Assign(ctx context.Context, id, assignee, actor string) (Request, error) {
	assignee = strings.TrimSpace(assignee)
	if actor == "" {
		return Request{}, invalid("actor", msgRequired)
	}
	if err := checkText("assignee", assignee, MaxAssigneeLen, false); err != nil {
		return Request{}, err
	}
	if err := s.requestInScope(ctx, id); err != nil {
		return Request{}, err
	}
	return s.cfg.Store.AssignRequest(ctx, Assignment{Tenant: s.cfg.Tenant, ServiceRequestID: id, Assignee: assignee, Actor: actor, At: s.now()})
}

// AddNote writes an internal note on request id.
func (s *Service) AddNote(ctx context.Context, id, note, actor string) (Event, error) {
	note = strings.TrimSpace(note)
	switch {
	case actor == "":
		return Event{}, invalid("actor", msgRequired)
	case note == "":
		return Event{}, invalid("internal_note", msgRequired)
	}
	if err := checkText("internal_note", note, MaxNoteLen, true); err != nil {
		return Event{}, err
	}
	if err := s.requestInScope(ctx, id); err != nil {
		return Event{}, err
	}
	return s.cfg.Store.AddStaffNote(ctx, StaffNote{Tenant: s.cfg.Tenant, ServiceRequestID: id, Note: note, Actor: actor, At: s.now()})
}

// PublicHistory returns what a resident may see of the request with
// tracking token: the request and its public events, oldest first.
func (s *Service) PublicHistory(ctx context.Context, token string) (Request, []Event, error) {
	r, err := s.GetByToken(ctx, token)
	if err != nil {
		return Request{}, nil, err
	}
	evs, err := s.cfg.Store.ListEvents(ctx, s.cfg.Tenant, r.ServiceRequestID)
	if err != nil {
		return Request{}, nil, err
	}
	out := evs[:0]
	for _, e := range evs {
		if e.IsPublic() {
			out = append(out, e)
		}
	}
	return r, out, nil
}

// Normalized is r as a store keeps it: an unset channel is ChannelAPI (the
// column's default), so what CreateRequest returns equals what it reads
// back.
func (r Request) Normalized() Request {
	if r.Channel == "" {
		r.Channel = ChannelAPI
	}
	return r
}
