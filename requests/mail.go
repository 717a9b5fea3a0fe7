package requests

import (
	"context"
	"time"

	"github.com/pinward/pinward/i18n"
)

// MailKind is what a message to a resident tells (package notify's
// resident messages, by the same names).
type MailKind string

// The messages residents get.
const (
	MailReceived MailKind = "received" // the request's receipt, to its own reporter
	MailUpdated  MailKind = "updated"  // a status change with a public note
	MailClosed   MailKind = "closed"   // the request was closed
	MailReopened MailKind = "reopened" // the request was reopened
	// MailEscalated goes to staff, not to a reporter: one per contact of a
	// fired escalation level (QueueStore.ClaimEscalations), to the
	// contact's address in the contact's language; it names the request
	// and nothing of its reporter.
	MailEscalated MailKind = "escalated"
)

// MailMessage is one row of the mail outbox: a message to one reporter
// about one event. It is written by the store, in the transaction of the
// event (see MailStore), and holds no message: the mail is rendered when
// it is sent, in the reporter's language, from what ClaimMail reads.
//
// The outbox is the work orders' (OutboxMessage): the same states, the
// same attempts and lease (NextAttemptAt while claimed), the same
// AttemptResult recorded, the same retry policy (package dispatch).
type MailMessage struct {
	ID            int64
	TenantID      string
	Kind          MailKind
	State         OutboxState
	Attempts      int // attempts started, this one included once claimed
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   time.Time // zero until delivered
	// RequestID is the public ID of the reporter's own request (the
	// message names it, not the request whose event caused it), or of the
	// escalated request for MailEscalated; EventID the event that caused
	// the message.
	RequestID string
	EventID   int64

	// Filled by ClaimMail only: what the message says and to whom.
	To          string    // the reporter's address (MailEscalated: the contact's)
	Lang        i18n.Lang // the reporter's language (the request's; MailEscalated: the contact's)
	Level       int       // MailEscalated: the level reached
	Department  string    // MailEscalated: the request's department code
	ServiceCode string
	DueAt       time.Time // the request's SLA due time (zero: none)
	ToStatus    Status    // the event's new status ("" for a receipt)
	NoteEn      string    // the event's public note in English
	NoteFr      string    // and in French (each may be empty)
	Reason      string    // the event's close reason, as stored
	Note        string    // the event's note (older events keep their public note here)
}

// MailAttempt is the outcome of one attempt to send a MailMessage.
type MailAttempt struct {
	AttemptResult
	// Undeliverable: the server refused the address for good (a 5xx to
	// RCPT TO). The store marks the address undeliverable (no more mail is
	// queued to it), and this message and the address's other pending
	// ones go dead.
	Undeliverable bool
	Code          int // the SMTP reply code, for the undeliverable table
}

// MailFilter selects outbox rows for admins. Empty fields do not filter.
type MailFilter struct {
	Tenant  string
	State   OutboxState
	AfterID int64 // keyset paging: rows with a larger ID
	Limit   int   // MaxListLimit when zero or more
}

// Undeliverable is an address a mail server refused for good.
type Undeliverable struct {
	Email  string
	Code   int
	Detail string
	At     time.Time
}

// MailCounts counts the outbox rows by state.
type MailCounts struct {
	Pending, Delivered, Dead int
}

// MailStore keeps the mail outbox; store/sqlite and store/postgis
// implement it (contract: storetest.RunMail).
//
// Rows are written by a database trigger on events, in the transaction
// that writes the event, whatever code writes it (intake, a status
// change, a cluster close, a staff transition):
//
//   - a "created" event: MailReceived to the request's own reporter;
//   - a "status" event to closed: MailClosed; to reopened: MailReopened;
//     with a public note (public_note_en or public_note_fr): MailUpdated;
//     each to every subscribed reporter of the request's cluster, once per
//     update however many of the cluster's requests the update wrote an
//     event for (one per reporter, kind and event time).
//
// A reporter is subscribed when they gave an e-mail address, did not opt
// out (notify) and their address is not undeliverable. Deleting a
// reporter (PurgeReporters) deletes their rows.
type MailStore interface {
	// ClaimMail takes up to limit pending messages of tenant due at now,
	// oldest first, counts the attempt and leases them until now+lease,
	// with what the message needs to be written. A message whose reporter
	// opted out or whose address became undeliverable since it was queued
	// is not returned (it goes dead with a reason).
	ClaimMail(ctx context.Context, tenant string, now time.Time, lease time.Duration, limit int) ([]MailMessage, error)
	// RecordMailAttempts records the outcomes of claimed attempts in one
	// transaction, as RecordAttempts does for work orders, and marks
	// refused addresses undeliverable.
	RecordMailAttempts(ctx context.Context, tenant string, rs []MailAttempt) error
	// ListMail returns the rows f selects by ID, without any personal
	// information (no address).
	ListMail(ctx context.Context, f MailFilter) ([]MailMessage, error)
	// CountMail counts tenant's rows by state.
	CountMail(ctx context.Context, tenant string) (MailCounts, error)
	// Unsubscribe stops the messages to the reporter of request
	// serviceRequestID and deletes their pending ones; the same call again
	// changes nothing. RequestNotFoundError when the request has no
	// reporter with an address.
	Unsubscribe(ctx context.Context, tenant, serviceRequestID string) error
	// ReporterMail returns whether the reporter of a request wants
	// messages and, when their address was refused, the refusal.
	ReporterMail(ctx context.Context, tenant, serviceRequestID string) (notify bool, u *Undeliverable, err error)
	// Setting returns the tenant's setting name, storing make()'s value
	// first when there is none (the first server to start wins; every
	// other server and restart reads the same value).
	Setting(ctx context.Context, tenant, name string, make func() (string, error)) (string, error)
}

// UnsubscribeNotFoundError is the answer to an unsubscribe link whose
// token is forged, unknown or names no subscription.
func UnsubscribeNotFoundError() *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "token", i18n.T("this link is not valid", "ce lien n'est pas valide"))
}
