package requests

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pinward/pinward/i18n"
)

// AutoCloseActor is the actor of the events the auto-close sweep writes.
const AutoCloseActor = "auto-close"

// autoCloseNote is the public note of an auto-close, in both languages.
func autoCloseNote(days int) i18n.Text {
	return i18n.Textf(i18n.T("We closed this request because we did not hear back from you within %d business days. Report it again if the problem is still there.",
		"Nous avons fermé cette demande faute de réponse de votre part dans les %d jours ouvrables. Signalez-la de nouveau si le problème persiste."), days)
}

// AutoCloseSweep closes, as no_response, every request that has waited on
// the resident for at least its category's auto-close rule (business
// days, as the SLA clock counts them), and returns how many it closed.
// Several servers may sweep at once: each close names the status and
// checks it under the request's row lock, so a request closes once and
// the loser's refusal is ignored.
func (s *Service) AutoCloseSweep(ctx context.Context) (int, error) {
	cat := s.cfg.Catalog
	minDays := cat.MinAutoCloseDays()
	if minDays == 0 {
		return 0, nil
	}
	now := s.now()
	// N business days are at least N calendar days: nothing paused since
	// then can be due.
	before := now.Add(-time.Duration(minDays) * 24 * time.Hour)
	closed := 0
	var afterAt time.Time
	var afterID int64
	for {
		page, err := s.cfg.Store.WaitingSince(ctx, s.cfg.Tenant, before, afterAt, afterID, 500)
		if err != nil {
			return closed, fmt.Errorf("auto-close: list waiting requests: %w", err)
		}
		for _, r := range page {
			afterAt, afterID = r.PausedAt, r.ID
			rule, ok := cat.AutoClose(r.ServiceCode)
			if !ok || cat.WorkingTime(r.PausedAt, now, nil) < time.Duration(rule.WaitingDays)*cat.WorkingDay() {
				continue
			}
			note := autoCloseNote(rule.WaitingDays)
			_, err := s.cfg.Store.TransitionRequest(ctx, Transition{
				Tenant: s.cfg.Tenant, ServiceRequestID: r.ServiceRequestID, From: WaitingOnResident, To: Closed,
				Reason: ReasonNoResponse, PublicNoteEn: note.En, PublicNoteFr: note.Fr, Actor: AutoCloseActor, At: now, Clock: cat,
			})
			switch {
			case err == nil:
				closed++
			case i18n.KindOf(err) != i18n.Conflict && i18n.KindOf(err) != i18n.NotFound:
				return closed, fmt.Errorf("auto-close request %s: %w", r.ServiceRequestID, err)
			}
		}
		if len(page) < 500 {
			return closed, nil
		}
	}
}

// StartAutoClose runs AutoCloseSweep every interval (and once now) until
// ctx ends or the returned stop is called; stop waits for a sweep in
// progress. A catalog without auto-close rules starts nothing.
func (s *Service) StartAutoClose(ctx context.Context, interval time.Duration, log *slog.Logger) (stop func()) {
	if s.cfg.Catalog.MinAutoCloseDays() == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			n, err := s.AutoCloseSweep(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.ErrorContext(ctx, "auto-close sweep failed", "err", err)
			case n > 0:
				log.InfoContext(ctx, "auto-closed requests waiting on residents", "closed", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
