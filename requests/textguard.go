package requests

import (
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

// The stores' last guard on text (issue 16): whatever the API or a
// command checked before, a store refuses to write a value that is not
// valid UTF-8 or holds NUL. PostgreSQL would fail with an internal error
// and SQLite would store it and hand it on (webhook payloads, tiles).

// CheckStoredText returns an Invalid error naming field when a value is
// not text.
func CheckStoredText(field string, values ...string) error {
	for _, v := range values {
		if err := text.CheckValue(v); err != nil {
			e := i18n.Errorf(i18n.Invalid, field, i18n.T("must be valid UTF-8 text without NUL characters",
				"doit être du texte UTF-8 valide sans caractère NUL"))
			e.Err = err
			return e
		}
	}
	return nil
}

// CheckNewRequestText is CheckStoredText over every text a new request,
// its reporter and its event carry.
func CheckNewRequestText(nr NewRequest) error {
	r := nr.Request
	if err := CheckStoredText("request", r.TenantID, r.ServiceCode, r.Description, r.StatusNotes, r.Address, r.WardID,
		r.AssetLayer, r.AssetID, r.ClusterID, r.Department, r.MediaURL, r.Token, string(r.Lang)); err != nil {
		return err
	}
	for k, v := range r.Attributes {
		if err := CheckStoredText("attributes", k, v); err != nil {
			return err
		}
	}
	if err := CheckStoredText("Idempotency-Key", nr.IdempotencyKey, nr.Fingerprint); err != nil {
		return err
	}
	if err := CheckStoredText("event", nr.Event.Actor, nr.Event.Note); err != nil {
		return err
	}
	if rep := nr.Reporter; rep != nil {
		return CheckStoredText("reporter", rep.FirstName, rep.LastName, rep.Email, rep.Phone, rep.DeviceID)
	}
	return nil
}

// checkAssetText is CheckStoredText over an asset's layer, ID and
// attributes; CheckAssetBatch, which both stores call, applies it.
func checkAssetText(a assets.Asset) *i18n.Error {
	var err error
	if err = CheckStoredText("id", a.Layer, a.ID); err == nil {
		for k, v := range a.Attrs {
			if err = CheckStoredText("properties", k, v); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err.(*i18n.Error)
	}
	return nil
}
