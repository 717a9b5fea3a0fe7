package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pinward/pinward/requests"
)

// The resident's rights (requests.RightsStore): access links and the
// rights log (migration 2200).

// QueueRightsLink implements requests.RightsStore.
func (s *Store) QueueRightsLink(ctx context.Context, a requests.RightsLinkAsk) (int64, error) {
	email := requests.NormalEmail(a.Email)
	var link int64
	err := s.inTx(ctx, "queue rights link", func(tx *sql.Tx) error {
		var reqID int64
		var cluster string
		err := tx.QueryRowContext(ctx, `SELECT q.id, q.cluster_id FROM requests q JOIN reporters rp ON rp.request_id = q.id
			WHERE q.tenant_id = ? AND q.token = ? AND q.token <> '' AND rp.email <> '' AND lower(rp.email) = ?`,
			a.Tenant, a.Token, email).Scan(&reqID, &cluster)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var recent int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM rights_links WHERE tenant_id = ? AND email = ? AND created_at > ?`,
			a.Tenant, email, a.At.Add(-time.Hour).UnixMicro()).Scan(&recent); err != nil {
			return err
		}
		if recent >= requests.RightsLinksPerHour {
			return nil
		}
		if link, err = insertEventID(ctx, tx, requests.Event{TenantID: a.Tenant, RequestID: reqID, At: a.At, Actor: "resident",
			Kind: requests.EventRightsLink}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rights_links (event_id, tenant_id, request_id, email, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, link, a.Tenant, reqID, email, a.At.UnixMicro(), a.At.Add(requests.RightsLinkTTL).UnixMicro()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id, event_at, next_attempt_at, created_at)
			VALUES (?, ?, ?, 'access', ?, ?,
			        CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER),
			        CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))`,
			a.Tenant, reqID, link, cluster, micros(a.At))
		return err
	})
	if err != nil {
		return 0, err
	}
	return link, nil
}

// UseRightsLink implements requests.RightsStore.
func (s *Store) UseRightsLink(ctx context.Context, tenant string, link int64, now time.Time) (string, error) {
	var email string
	err := s.inTx(ctx, "use rights link", func(tx *sql.Tx) error {
		var (
			reqID, expires int64
			used           sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT request_id, email, expires_at, used_at FROM rights_links WHERE tenant_id = ? AND event_id = ?`,
			tenant, link).Scan(&reqID, &email, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return requests.RightsLinkNotFoundError()
		}
		if err != nil {
			return err
		}
		if used.Valid || now.UnixMicro() >= expires {
			return requests.RightsGoneError()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rights_links SET used_at = ? WHERE event_id = ?`, now.UnixMicro(), link); err != nil {
			return err
		}
		return insertEvent(ctx, tx, requests.Event{TenantID: tenant, RequestID: reqID, At: now, Actor: "resident",
			Kind: requests.EventRightsOpened})
	})
	if err != nil {
		return "", err
	}
	return email, nil
}

const rightsRequestCols = `id, tenant_id, link_id, request_id, email, kind, text, state, reason, created_at, acted_at, acted_by`

func scanRightsRequest(sc rowScanner) (requests.RightsRequest, error) {
	var (
		r              requests.RightsRequest
		reqID          int64
		kind, state    string
		created, acted sql.NullInt64
	)
	err := sc.Scan(&r.ID, &r.TenantID, &r.LinkID, &reqID, &r.Email, &kind, &r.Text, &state, &r.Reason, &created, &acted, &r.ActedBy)
	r.ServiceRequestID, r.Kind, r.State = requests.FormatServiceRequestID(reqID), requests.RightsKind(kind), requests.RightsState(state)
	r.CreatedAt, r.ActedAt = fromMicros(created), fromMicros(acted)
	return r, err
}

// RightsData implements requests.RightsStore.
func (s *Store) RightsData(ctx context.Context, tenant, email string) (requests.RightsData, error) {
	email = requests.NormalEmail(email)
	var d requests.RightsData
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return d, wrap(ctx, "rights data", err)
	}
	defer tx.Rollback()
	each := func(q string, scan func(rowScanner) error) error {
		rows, err := tx.QueryContext(ctx, q, tenant, email)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err = each(`SELECT request_id, first_name, last_name, email, phone, device_id, notify, notice_version
		FROM reporters WHERE tenant_id = ? AND email <> '' AND lower(email) = ? ORDER BY request_id`, func(sc rowScanner) error {
		var (
			r      requests.RightsReporter
			id     int64
			notify bool
		)
		err := sc.Scan(&id, &r.Reporter.FirstName, &r.Reporter.LastName, &r.Reporter.Email, &r.Reporter.Phone,
			&r.Reporter.DeviceID, &notify, &r.Reporter.NoticeVersion)
		r.ServiceRequestID, r.Reporter.OptOut = requests.FormatServiceRequestID(id), !notify
		d.Reporters = append(d.Reporters, r)
		return err
	})
	if err == nil {
		err = each(`SELECT `+mailCols+` FROM mail_outbox o JOIN reporters rp ON rp.request_id = o.request_id
			WHERE o.tenant_id = ? AND rp.email <> '' AND lower(rp.email) = ? ORDER BY o.id`, func(sc rowScanner) error {
			m, err := scanMail(sc, tenant)
			d.Messages = append(d.Messages, m)
			return err
		})
	}
	if err == nil {
		err = each(`SELECT sa.request_id, sa.score, sa.comment, sa.at FROM satisfaction sa JOIN reporters rp ON rp.request_id = sa.request_id
			WHERE sa.tenant_id = ? AND rp.email <> '' AND lower(rp.email) = ? ORDER BY sa.request_id`, func(sc rowScanner) error {
			var (
				sa requests.Satisfaction
				id int64
				at sql.NullInt64
			)
			err := sc.Scan(&id, &sa.Score, &sa.Comment, &at)
			sa.ServiceRequestID, sa.At = requests.FormatServiceRequestID(id), fromMicros(at)
			d.Satisfaction = append(d.Satisfaction, sa)
			return err
		})
	}
	if err == nil {
		err = each(`SELECT `+rightsRequestCols+` FROM rights_requests WHERE tenant_id = ? AND email = ? ORDER BY id`, func(sc rowScanner) error {
			r, err := scanRightsRequest(sc)
			d.Requests = append(d.Requests, r)
			return err
		})
	}
	if err != nil {
		return requests.RightsData{}, wrap(ctx, "rights data", err)
	}
	return d, nil
}

// FileRightsRequest implements requests.RightsStore.
func (s *Store) FileRightsRequest(ctx context.Context, f requests.RightsFiling) (requests.RightsRequest, error) {
	var out requests.RightsRequest
	err := s.inTx(ctx, "file rights request", func(tx *sql.Tx) error {
		var (
			reqID int64
			email string
			used  sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT request_id, email, used_at FROM rights_links WHERE tenant_id = ? AND event_id = ?`,
			f.Tenant, f.LinkID).Scan(&reqID, &email, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return requests.RightsLinkNotFoundError()
		}
		if err != nil {
			return err
		}
		if !used.Valid || !f.At.Before(fromMicros(used).Add(requests.RightsActionTTL)) {
			return requests.RightsGoneError()
		}
		out, err = scanRightsRequest(tx.QueryRowContext(ctx, `INSERT INTO rights_requests
			(tenant_id, link_id, request_id, email, kind, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (link_id) DO NOTHING RETURNING `+rightsRequestCols,
			f.Tenant, f.LinkID, reqID, email, string(f.Kind), f.Text, f.At.UnixMicro()))
		if errors.Is(err, sql.ErrNoRows) {
			return requests.RightsFiledError()
		}
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, requests.Event{TenantID: f.Tenant, RequestID: reqID, At: f.At, Actor: "resident",
			Kind: requests.EventRightsRequested, Note: requests.RightsNote(out.ID, string(f.Kind))})
	})
	if err != nil {
		return requests.RightsRequest{}, err
	}
	return out, nil
}

// ListRightsRequests implements requests.RightsStore.
func (s *Store) ListRightsRequests(ctx context.Context, f requests.RightsFilter) ([]requests.RightsRequest, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+rightsRequestCols+` FROM rights_requests
		WHERE tenant_id = ? AND (? = '' OR state = ?) ORDER BY created_at DESC, id DESC`, f.Tenant, string(f.State), string(f.State))
	if err != nil {
		return nil, wrap(ctx, "list rights requests", err)
	}
	defer rows.Close()
	var out []requests.RightsRequest
	for rows.Next() {
		r, err := scanRightsRequest(rows)
		if err != nil {
			return nil, wrap(ctx, "list rights requests", err)
		}
		out = append(out, r)
	}
	return out, wrap(ctx, "list rights requests", rows.Err())
}

// ActOnRightsRequest implements requests.RightsStore.
func (s *Store) ActOnRightsRequest(ctx context.Context, a requests.RightsAction) (requests.RightsRequest, error) {
	var out requests.RightsRequest
	err := s.inTx(ctx, "act on rights request", func(tx *sql.Tx) error {
		r, err := scanRightsRequest(tx.QueryRowContext(ctx, `SELECT `+rightsRequestCols+` FROM rights_requests
			WHERE tenant_id = ? AND id = ?`, a.Tenant, a.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return requests.RightsRequestNotFoundError(a.ID)
		}
		if err != nil {
			return err
		}
		if err := requests.CheckRightsState(r); err != nil {
			return err
		}
		if err := requests.CheckRightsAction(&a, r.Kind); err != nil {
			return err
		}
		reqID, _ := requests.ParseServiceRequestID(r.ServiceRequestID)
		ev := requests.Event{TenantID: a.Tenant, RequestID: reqID, At: a.At, Actor: a.Actor}
		email, reason := r.Email, a.Reason
		switch a.Action {
		case requests.RightsCorrected:
			if _, err := tx.ExecContext(ctx, `UPDATE reporters SET
				first_name = COALESCE(?, first_name), last_name = COALESCE(?, last_name),
				email = COALESCE(?, email), phone = COALESCE(?, phone)
				WHERE tenant_id = ? AND email <> '' AND lower(email) = ?`,
				a.FirstName, a.LastName, a.Email, a.Phone, a.Tenant, r.Email); err != nil {
				return err
			}
			if a.Email != nil {
				email = requests.NormalEmail(*a.Email)
				for _, q := range []string{
					`UPDATE rights_links SET email = ? WHERE tenant_id = ? AND email = ?`,
					`UPDATE rights_requests SET email = ? WHERE tenant_id = ? AND email = ?`,
				} {
					if _, err := tx.ExecContext(ctx, q, email, a.Tenant, r.Email); err != nil {
						return err
					}
				}
			}
			if reason == "" {
				reason = "corrected: " + a.CorrectedFields()
			}
			ev.Kind, ev.Note = requests.EventRightsCorrected, requests.RightsNote(r.ID, a.CorrectedFields())
		case requests.RightsDeleted:
			// The retention purge's anonymisation: the reporter rows go
			// (their queued messages with them, ON DELETE CASCADE), each
			// request keeps its description and trail with a
			// reporter_purged event.
			rows, err := tx.QueryContext(ctx, `DELETE FROM reporters WHERE tenant_id = ? AND email <> '' AND lower(email) = ? RETURNING request_id`,
				a.Tenant, r.Email)
			if err != nil {
				return err
			}
			var gone []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				gone = append(gone, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, id := range gone {
				if err := insertEvent(ctx, tx, requests.Event{TenantID: a.Tenant, RequestID: id, At: a.At, Actor: a.Actor,
					Kind: requests.EventReporterPurged, Note: requests.RightsNote(r.ID, "deletion")}); err != nil {
					return err
				}
			}
			for _, q := range []string{
				`DELETE FROM rights_links WHERE tenant_id = ? AND email = ?`,
				`DELETE FROM mail_undeliverable WHERE tenant_id = ? AND email = ?`,
				`UPDATE rights_requests SET email = '' WHERE tenant_id = ? AND email = ?`,
			} {
				if _, err := tx.ExecContext(ctx, q, a.Tenant, r.Email); err != nil {
					return err
				}
			}
			email = ""
			ev.Kind, ev.Note = requests.EventRightsDeleted, requests.RightsNote(r.ID, "reporter details deleted")
		case requests.RightsRefused:
			ev.Kind, ev.Note = requests.EventRightsRefused, requests.RightsNote(r.ID, "refused: "+a.Reason)
		}
		out, err = scanRightsRequest(tx.QueryRowContext(ctx, `UPDATE rights_requests
			SET state = ?, reason = ?, acted_at = ?, acted_by = ?, email = ?
			WHERE tenant_id = ? AND id = ? RETURNING `+rightsRequestCols,
			string(a.Action), reason, a.At.UnixMicro(), a.Actor, email, a.Tenant, a.ID))
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return requests.RightsRequest{}, err
	}
	return out, nil
}
