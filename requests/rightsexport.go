package requests

import (
	"context"
	"time"

	"github.com/pinward/pinward/i18n"
)

// RightsExport is everything pinward holds under one address, as the
// resident downloads it (Law 25 s. 27, portability: a structured,
// commonly used technological format). Every section and field carries its
// English and French label, so the file reads without pinward.
type RightsExport struct {
	Title       i18n.Text       `json:"title"`
	Email       string          `json:"email"`
	GeneratedAt time.Time       `json:"generated_at"`
	Sections    []RightsSection `json:"sections"`
}

// RightsSection is one kind of record: its label, its fields' labels and
// its items (each a map from field name to value).
type RightsSection struct {
	Name   string               `json:"name"`
	Label  i18n.Text            `json:"label"`
	Fields map[string]i18n.Text `json:"fields"`
	Items  []map[string]any     `json:"items"`
}

// RightsExportStore is what BuildRightsExport reads.
type RightsExportStore interface {
	RightsData(ctx context.Context, tenant, email string) (RightsData, error)
	GetRequest(ctx context.Context, tenant, serviceRequestID string) (Request, error)
	ListEvents(ctx context.Context, tenant, serviceRequestID string) ([]Event, error)
}

// RightsBackend is what the rights routes use: the store's rights and
// the requests and events the export reads.
type RightsBackend interface {
	RightsStore
	RightsExportStore
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// BuildRightsExport gathers what tenant holds under email: the reporter
// rows, their requests, those requests' events, the messages queued or
// sent to them, their satisfaction answers and their rights requests.
func BuildRightsExport(ctx context.Context, st RightsExportStore, tenant, email string, now time.Time) (RightsExport, error) {
	d, err := st.RightsData(ctx, tenant, email)
	if err != nil {
		return RightsExport{}, err
	}
	out := RightsExport{
		Title: i18n.T("What the municipality's 311 service holds about you", "Ce que le service 311 de la municipalité détient à votre sujet"),
		Email: email, GeneratedAt: now.UTC(),
	}
	reporters := RightsSection{Name: "reporters", Label: i18n.T("Your contact details, per request", "Vos coordonnées, par demande"),
		Fields: map[string]i18n.Text{
			"service_request_id": i18n.T("Request number", "Numéro de la demande"),
			"first_name":         i18n.T("First name", "Prénom"),
			"last_name":          i18n.T("Last name", "Nom"),
			"email":              i18n.T("E-mail address", "Adresse courriel"),
			"phone":              i18n.T("Phone", "Téléphone"),
			"device_id":          i18n.T("Device identifier", "Identifiant de l'appareil"),
			"notify":             i18n.T("Receives updates by e-mail", "Reçoit les suivis par courriel"),
			"notice_version":     i18n.T("Version of the privacy notice shown", "Version de l'avis de confidentialité présenté"),
		}, Items: []map[string]any{}}
	reqs := RightsSection{Name: "requests", Label: i18n.T("Your requests", "Vos demandes"),
		Fields: map[string]i18n.Text{
			"service_request_id": i18n.T("Request number", "Numéro de la demande"),
			"service_code":       i18n.T("Category", "Catégorie"),
			"description":        i18n.T("Description", "Description"),
			"address":            i18n.T("Address given", "Adresse indiquée"),
			"lat":                i18n.T("Latitude", "Latitude"),
			"long":               i18n.T("Longitude", "Longitude"),
			"status":             i18n.T("Status", "État"),
			"department":         i18n.T("Department", "Service municipal"),
			"language":           i18n.T("Language", "Langue"),
			"requested_at":       i18n.T("Submitted", "Soumise le"),
			"updated_at":         i18n.T("Last updated", "Mise à jour le"),
		}, Items: []map[string]any{}}
	events := RightsSection{Name: "events", Label: i18n.T("What happened to your requests", "Ce qui est arrivé à vos demandes"),
		Fields: map[string]i18n.Text{
			"service_request_id": i18n.T("Request number", "Numéro de la demande"),
			"at":                 i18n.T("When", "Quand"),
			"kind":               i18n.T("What", "Quoi"),
			"actor":              i18n.T("By", "Par"),
			"from_status":        i18n.T("From status", "De l'état"),
			"to_status":          i18n.T("To status", "À l'état"),
			"public_note_en":     i18n.T("Public note (English)", "Note publique (anglais)"),
			"public_note_fr":     i18n.T("Public note (French)", "Note publique (français)"),
			"note":               i18n.T("Note", "Note"),
		}, Items: []map[string]any{}}
	for _, r := range d.Reporters {
		rep := r.Reporter
		reporters.Items = append(reporters.Items, map[string]any{
			"service_request_id": r.ServiceRequestID, "first_name": rep.FirstName, "last_name": rep.LastName,
			"email": rep.Email, "phone": rep.Phone, "device_id": rep.DeviceID, "notify": !rep.OptOut,
			"notice_version": rep.NoticeVersion,
		})
		q, err := st.GetRequest(ctx, tenant, r.ServiceRequestID)
		if err != nil {
			return RightsExport{}, err
		}
		reqs.Items = append(reqs.Items, map[string]any{
			"service_request_id": q.ServiceRequestID, "service_code": q.ServiceCode, "description": q.Description,
			"address": q.Address, "lat": q.Point.Lat(), "long": q.Point.Lon(), "status": string(q.Status),
			"department": q.Department, "language": string(q.Lang),
			"requested_at": timeOrNil(q.RequestedAt), "updated_at": timeOrNil(q.UpdatedAt),
		})
		evs, err := st.ListEvents(ctx, tenant, r.ServiceRequestID)
		if err != nil {
			return RightsExport{}, err
		}
		for _, e := range evs {
			events.Items = append(events.Items, map[string]any{
				"service_request_id": r.ServiceRequestID, "at": timeOrNil(e.At), "kind": string(e.Kind), "actor": e.Actor,
				"from_status": string(e.From), "to_status": string(e.To), "public_note_en": e.PublicNoteEn,
				"public_note_fr": e.PublicNoteFr, "note": e.Note,
			})
		}
	}
	msgs := RightsSection{Name: "messages", Label: i18n.T("Messages queued or sent to you", "Messages en attente ou envoyés à vous"),
		Fields: map[string]i18n.Text{
			"service_request_id": i18n.T("Request number", "Numéro de la demande"),
			"kind":               i18n.T("Message", "Message"),
			"state":              i18n.T("State (pending, delivered, dead)", "État (pending : en attente, delivered : envoyé, dead : abandonné)"),
			"created_at":         i18n.T("Queued", "Mis en file le"),
			"delivered_at":       i18n.T("Sent", "Envoyé le"),
		}, Items: []map[string]any{}}
	for _, m := range d.Messages {
		msgs.Items = append(msgs.Items, map[string]any{
			"service_request_id": m.RequestID, "kind": string(m.Kind), "state": string(m.State),
			"created_at": timeOrNil(m.CreatedAt), "delivered_at": timeOrNil(m.DeliveredAt),
		})
	}
	sat := RightsSection{Name: "satisfaction", Label: i18n.T("Your satisfaction answers", "Vos réponses sur la satisfaction"),
		Fields: map[string]i18n.Text{
			"service_request_id": i18n.T("Request number", "Numéro de la demande"),
			"score":              i18n.T("Score (1 to 5)", "Note (1 à 5)"),
			"comment":            i18n.T("Comment", "Commentaire"),
			"at":                 i18n.T("Answered", "Répondu le"),
		}, Items: []map[string]any{}}
	for _, s := range d.Satisfaction {
		sat.Items = append(sat.Items, map[string]any{
			"service_request_id": s.ServiceRequestID, "score": s.Score, "comment": s.Comment, "at": timeOrNil(s.At),
		})
	}
	rights := RightsSection{Name: "rights_requests", Label: i18n.T("Your requests for correction or deletion", "Vos demandes de rectification ou de suppression"),
		Fields: map[string]i18n.Text{
			"id":         i18n.T("Number", "Numéro"),
			"kind":       i18n.T("Asked for (correction, deletion)", "Demandé (correction : rectification, deletion : suppression)"),
			"text":       i18n.T("Your words", "Vos mots"),
			"state":      i18n.T("State (open, corrected, deleted, refused)", "État (open : ouverte, corrected : rectifiée, deleted : supprimée, refused : refusée)"),
			"reason":     i18n.T("Answer", "Réponse"),
			"created_at": i18n.T("Filed", "Déposée le"),
			"acted_at":   i18n.T("Answered", "Traitée le"),
		}, Items: []map[string]any{}}
	for _, r := range d.Requests {
		rights.Items = append(rights.Items, map[string]any{
			"id": r.ID, "kind": string(r.Kind), "text": r.Text, "state": string(r.State), "reason": r.Reason,
			"created_at": timeOrNil(r.CreatedAt), "acted_at": timeOrNil(r.ActedAt),
		})
	}
	out.Sections = []RightsSection{reporters, reqs, events, msgs, sat, rights}
	return out, nil
}
