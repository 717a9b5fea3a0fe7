package requests

import (
	"strconv"

	"github.com/pinward/pinward/i18n"
)

// Idempotency keys are the client's, and a client is an API key (issue
// 16, as the IETF Idempotency-Key draft has it): two clients that happen
// to choose the same key, or one replaying another's, never share a
// request. The stores keep the key's ID in the stored key itself,
// "<api key id>:<client's key>", so their unique (tenant, key) index is
// per API key without a change to the intake's hot path; migration 1400
// rewrote the keys stored before.

// ScopedIdempotencyKey is the key a store keeps for the client key sent
// with API key apiKeyID; "" stays "" (no key, no deduplication).
func ScopedIdempotencyKey(apiKeyID int64, key string) string {
	if key == "" {
		return ""
	}
	return strconv.FormatInt(apiKeyID, 10) + ":" + key
}

// KindIdempotencyReused is an Idempotency-Key reused with a different
// request body: the API answers 422, as the draft says.
const KindIdempotencyReused i18n.Kind = "idempotency_key_reused"

// IdempotencyInFlightError is the error for a request whose
// Idempotency-Key is still being processed for the same client (409).
func IdempotencyInFlightError() *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "Idempotency-Key",
		i18n.T("a request with this key is still being processed; retry in a moment to get its answer",
			"une demande avec cette clé est encore en traitement; réessayez dans un instant pour obtenir sa réponse"))
}
