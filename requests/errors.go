package requests

import "github.com/pinward/pinward/i18n"

// The errors both stores return, worded once here so they say the same.

// RequestNotFoundError is the error for an unknown service_request_id.
func RequestNotFoundError(serviceRequestID string) *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "service_request_id",
		i18n.T("there is no request %q", "il n'existe aucune demande %q"), serviceRequestID)
}

// TokenNotFoundError is the error for an unknown Open311 token.
func TokenNotFoundError() *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "token",
		i18n.T("there is no request with this token", "il n'existe aucune demande avec ce jeton"))
}

// TransitionError is the error for a status change the workflow forbids.
func TransitionError(from, to Status) *i18n.Error {
	return &i18n.Error{Kind: i18n.Conflict, Field: "status", Message: i18n.Text{
		En: "a request that is " + from.Label().En + " cannot become " + to.Label().En,
		Fr: "une demande à l'état « " + from.Label().Fr + " » ne peut pas passer à l'état « " + to.Label().Fr + " »",
	}}
}

// IdempotencyConflictError is the error for an Idempotency-Key reused with
// a different submission.
func IdempotencyConflictError() *i18n.Error {
	return i18n.Errorf(KindIdempotencyReused, "Idempotency-Key",
		i18n.T("this key was already used for a different request; use a new key for a new request",
			"cette clé a déjà servi pour une autre demande; utilisez une nouvelle clé pour une nouvelle demande"))
}

// APIKeyNotFoundError is the error for an unknown API key (api answers 401).
func APIKeyNotFoundError() *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "api_key",
		i18n.T("this API key is not valid", "cette clé d'API n'est pas valide"))
}

// APIKeyConflictError is the error for storing a key hash twice.
func APIKeyConflictError() *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "api_key",
		i18n.T("this API key already exists", "cette clé d'API existe déjà"))
}
