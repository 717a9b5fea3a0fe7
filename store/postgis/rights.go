package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

// The resident's rights (requests.RightsStore): links and the rights log
// live in pinward_private with the reporters (migration 2200).

// QueueRightsLink implements requests.RightsStore.
func (s *Store) QueueRightsLink(ctx context.Context, a requests.RightsLinkAsk) (int64, error) {
	email := requests.NormalEmail(a.Email)
	var link int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var reqID int64
		var cluster string
		err := tx.QueryRow(ctx, `SELECT q.id, q.cluster_id FROM requests q
			JOIN pinward_private.reporters rp ON rp.tenant_id = q.tenant_id AND rp.request_id = q.id
			WHERE q.tenant_id = $1 AND q.token = $2 AND q.token <> '' AND rp.email <> '' AND lower(rp.email) = $3
			FOR UPDATE OF rp`, a.Tenant, a.Token, email).Scan(&reqID, &cluster)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var recent int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pinward_private.rights_links
			WHERE tenant_id = $1 AND email = $2 AND created_at > $3`, a.Tenant, email, a.At.Add(-time.Hour)).Scan(&recent); err != nil {
			return err
		}
		if recent >= requests.RightsLinksPerHour {
			return nil
		}
		if err := tx.QueryRow(ctx, insertEventSQL+` RETURNING id`, eventArgs(requests.Event{TenantID: a.Tenant, RequestID: reqID,
			At: a.At, Actor: "resident", Kind: requests.EventRightsLink})...).Scan(&link); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pinward_private.rights_links (tenant_id, event_id, request_id, email, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, a.Tenant, link, reqID, email, a.At, a.At.Add(requests.RightsLinkTTL)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id, event_at, next_attempt_at, created_at)
			VALUES ($1, $2, $3, 'access', $4, $5, clock_timestamp(), clock_timestamp())`, a.Tenant, reqID, link, cluster, a.At)
		return err
	})
	if err != nil {
		return 0, wrapCtx(ctx, "queue rights link", err)
	}
	return link, nil
}

// UseRightsLink implements requests.RightsStore.
func (s *Store) UseRightsLink(ctx context.Context, tenant string, link int64, now time.Time) (string, error) {
	var email string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			reqID   int64
			expires time.Time
			used    *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT request_id, email, expires_at, used_at FROM pinward_private.rights_links
			WHERE tenant_id = $1 AND event_id = $2 FOR UPDATE`, tenant, link).Scan(&reqID, &email, &expires, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			return requests.RightsLinkNotFoundError()
		}
		if err != nil {
			return err
		}
		if used != nil || !now.Before(expires) {
			return requests.RightsGoneError()
		}
		if _, err := tx.Exec(ctx, `UPDATE pinward_private.rights_links SET used_at = $3 WHERE tenant_id = $1 AND event_id = $2`,
			tenant, link, now); err != nil {
			return err
		}
		return insertEvent(ctx, tx, requests.Event{TenantID: tenant, RequestID: reqID, At: now, Actor: "resident",
			Kind: requests.EventRightsOpened})
	})
	if err != nil {
		return "", wrapCtx(ctx, "use rights link", err)
	}
	return email, nil
}

const rightsRequestCols = `id, tenant_id, link_id, request_id, email, kind, text, state, reason, created_at, acted_at, acted_by`

func scanRightsRequest(row pgx.Row) (requests.RightsRequest, error) {
	var (
		r           requests.RightsRequest
		reqID       int64
		kind, state string
		acted       *time.Time
	)
	err := row.Scan(&r.ID, &r.TenantID, &r.LinkID, &reqID, &r.Email, &kind, &r.Text, &state, &r.Reason, &r.CreatedAt, &acted, &r.ActedBy)
	r.ServiceRequestID, r.Kind, r.State, r.CreatedAt = requests.FormatServiceRequestID(reqID), requests.RightsKind(kind), requests.RightsState(state), r.CreatedAt.UTC()
	if acted != nil {
		r.ActedAt = acted.UTC()
	}
	return r, err
}

// RightsData implements requests.RightsStore.
func (s *Store) RightsData(ctx context.Context, tenant, email string) (requests.RightsData, error) {
	email = requests.NormalEmail(email)
	var d requests.RightsData
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT request_id, first_name, last_name, email, phone, device_id, notify, notice_version
			FROM pinward_private.reporters WHERE tenant_id = $1 AND email <> '' AND lower(email) = $2 ORDER BY request_id`, tenant, email)
		if err != nil {
			return err
		}
		d.Reporters, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.RightsReporter, error) {
			var (
				r      requests.RightsReporter
				id     int64
				notify bool
			)
			err := row.Scan(&id, &r.Reporter.FirstName, &r.Reporter.LastName, &r.Reporter.Email, &r.Reporter.Phone,
				&r.Reporter.DeviceID, &notify, &r.Reporter.NoticeVersion)
			r.ServiceRequestID, r.Reporter.OptOut = requests.FormatServiceRequestID(id), !notify
			return r, err
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+mailCols+` FROM mail_outbox o
			JOIN pinward_private.reporters rp ON rp.tenant_id = o.tenant_id AND rp.request_id = o.request_id
			WHERE o.tenant_id = $1 AND rp.email <> '' AND lower(rp.email) = $2 ORDER BY o.id`, tenant, email)
		if err != nil {
			return err
		}
		d.Messages, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.MailMessage, error) { return scanMail(row, tenant) })
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT sa.request_id, sa.score, sa.comment, sa.at FROM satisfaction sa
			JOIN pinward_private.reporters rp ON rp.tenant_id = sa.tenant_id AND rp.request_id = sa.request_id
			WHERE sa.tenant_id = $1 AND rp.email <> '' AND lower(rp.email) = $2 ORDER BY sa.request_id`, tenant, email)
		if err != nil {
			return err
		}
		d.Satisfaction, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.Satisfaction, error) {
			var (
				sa requests.Satisfaction
				id int64
			)
			err := row.Scan(&id, &sa.Score, &sa.Comment, &sa.At)
			sa.ServiceRequestID, sa.At = requests.FormatServiceRequestID(id), sa.At.UTC()
			return sa, err
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+rightsRequestCols+` FROM pinward_private.rights_requests
			WHERE tenant_id = $1 AND email = $2 ORDER BY id`, tenant, email)
		if err != nil {
			return err
		}
		d.Requests, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.RightsRequest, error) { return scanRightsRequest(row) })
		return err
	})
	if err != nil {
		return requests.RightsData{}, wrapCtx(ctx, "rights data", err)
	}
	return d, nil
}

// FileRightsRequest implements requests.RightsStore.
func (s *Store) FileRightsRequest(ctx context.Context, f requests.RightsFiling) (requests.RightsRequest, error) {
	var out requests.RightsRequest
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			reqID int64
			email string
			used  *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT request_id, email, used_at FROM pinward_private.rights_links
			WHERE tenant_id = $1 AND event_id = $2 FOR UPDATE`, f.Tenant, f.LinkID).Scan(&reqID, &email, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			return requests.RightsLinkNotFoundError()
		}
		if err != nil {
			return err
		}
		if used == nil || !f.At.Before(used.Add(requests.RightsActionTTL)) {
			return requests.RightsGoneError()
		}
		out, err = scanRightsRequest(tx.QueryRow(ctx, `INSERT INTO pinward_private.rights_requests
			(tenant_id, link_id, request_id, email, kind, text, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, link_id) DO NOTHING
			RETURNING `+rightsRequestCols, f.Tenant, f.LinkID, reqID, email, string(f.Kind), f.Text, f.At))
		if errors.Is(err, pgx.ErrNoRows) {
			return requests.RightsFiledError()
		}
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, requests.Event{TenantID: f.Tenant, RequestID: reqID, At: f.At, Actor: "resident",
			Kind: requests.EventRightsRequested, Note: requests.RightsNote(out.ID, string(f.Kind))})
	})
	if err != nil {
		return requests.RightsRequest{}, wrapCtx(ctx, "file rights request", err)
	}
	return out, nil
}

// ListRightsRequests implements requests.RightsStore.
func (s *Store) ListRightsRequests(ctx context.Context, f requests.RightsFilter) ([]requests.RightsRequest, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+rightsRequestCols+` FROM pinward_private.rights_requests
		WHERE tenant_id = $1 AND ($2 = '' OR state = $2) ORDER BY created_at DESC, id DESC`, f.Tenant, string(f.State))
	if err != nil {
		return nil, wrapCtx(ctx, "list rights requests", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.RightsRequest, error) { return scanRightsRequest(row) })
	return out, wrapCtx(ctx, "list rights requests", err)
}

// ActOnRightsRequest implements requests.RightsStore.
func (s *Store) ActOnRightsRequest(ctx context.Context, a requests.RightsAction) (requests.RightsRequest, error) {
	var out requests.RightsRequest
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := scanRightsRequest(tx.QueryRow(ctx, `SELECT `+rightsRequestCols+` FROM pinward_private.rights_requests
			WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, a.Tenant, a.ID))
		if errors.Is(err, pgx.ErrNoRows) {
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
			if _, err := tx.Exec(ctx, `UPDATE pinward_private.reporters SET
				first_name = COALESCE($3, first_name), last_name = COALESCE($4, last_name),
				email = COALESCE($5, email), phone = COALESCE($6, phone)
				WHERE tenant_id = $1 AND email <> '' AND lower(email) = $2`,
				a.Tenant, r.Email, a.FirstName, a.LastName, a.Email, a.Phone); err != nil {
				return err
			}
			if a.Email != nil {
				email = requests.NormalEmail(*a.Email)
				for _, q := range []string{
					`UPDATE pinward_private.rights_links SET email = $3 WHERE tenant_id = $1 AND email = $2`,
					`UPDATE pinward_private.rights_requests SET email = $3 WHERE tenant_id = $1 AND email = $2`,
				} {
					if _, err := tx.Exec(ctx, q, a.Tenant, r.Email, email); err != nil {
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
			if _, err := tx.Exec(ctx, `WITH gone AS (
					DELETE FROM pinward_private.reporters WHERE tenant_id = $1 AND email <> '' AND lower(email) = $2
					RETURNING request_id)
				INSERT INTO events (tenant_id, request_id, at, actor, kind, note)
				SELECT $1, request_id, $3, $4, $5, $6 FROM gone`,
				a.Tenant, r.Email, a.At, a.Actor, string(requests.EventReporterPurged), requests.RightsNote(r.ID, "deletion")); err != nil {
				return err
			}
			for _, q := range []string{
				`DELETE FROM pinward_private.rights_links WHERE tenant_id = $1 AND email = $2`,
				`DELETE FROM mail_undeliverable WHERE tenant_id = $1 AND email = $2`,
				`UPDATE pinward_private.rights_requests SET email = '' WHERE tenant_id = $1 AND email = $2`,
			} {
				if _, err := tx.Exec(ctx, q, a.Tenant, r.Email); err != nil {
					return err
				}
			}
			email = ""
			ev.Kind, ev.Note = requests.EventRightsDeleted, requests.RightsNote(r.ID, "reporter details deleted")
		case requests.RightsRefused:
			ev.Kind, ev.Note = requests.EventRightsRefused, requests.RightsNote(r.ID, "refused: "+a.Reason)
		}
		out, err = scanRightsRequest(tx.QueryRow(ctx, `UPDATE pinward_private.rights_requests
			SET state = $3, reason = $4, acted_at = $5, acted_by = $6, email = $7
			WHERE tenant_id = $1 AND id = $2 RETURNING `+rightsRequestCols,
			a.Tenant, a.ID, string(a.Action), reason, a.At, a.Actor, email))
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return requests.RightsRequest{}, wrapCtx(ctx, "act on rights request", err)
	}
	return out, nil
}
