package requests

import (
	"context"
	"fmt"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/wards"
)

// A report re-cut by a generation of wards (ReportQuery.Generation)
// counts each request in the ward of that generation covering its point,
// whatever ward it was stored with, so a council compares two terms on one
// map. A request the generation does not place (imported without
// coordinates, or with a point outside its wards) keeps its stored ward.

// Recut is the re-cut ward of every request of a report's period whose
// ward in the chosen generation differs from its stored one (IDs[i] goes
// to Wards[i]); the stores count those requests there (ReportRows).
type Recut struct {
	IDs   []int64
	Wards []string
}

// generations is what a ward locator holding several generations offers
// (*wards.Set).
type generations interface {
	Current(time.Time) *wards.Generation
	Generations() []*wards.Generation
}

// recutInto sets q.Recut when q asks for a ward report re-cut by the
// generation in force at q.Generation: the requests of the period (in the
// caller's scope) are walked by ID and placed in that generation's wards.
// A request created during the walk is counted in its stored ward.
func (s *Service) recutInto(ctx context.Context, q *ReportQuery) error {
	if q.Generation.IsZero() {
		return nil
	}
	gs, ok := s.cfg.Wards.(generations)
	var gen *wards.Generation
	if ok {
		gen = gs.Current(q.Generation)
	}
	if gen == nil {
		return i18n.Errorf(i18n.Invalid, "generation", i18n.T("no wards are in force on %s", "aucun quartier n'est en vigueur le %s"),
			q.Generation.In(s.cfg.Catalog.Location()).Format(time.DateOnly))
	}
	if q.By != ByWard && q.Cross != ByWard {
		return nil // departments, categories and channels do not depend on wards
	}
	if len(q.Scope.Wards) > 0 {
		// The stores filter a scoped key's wards on the re-cut ward, which
		// would show it requests stored in other wards.
		return i18n.Errorf(i18n.Forbidden, "generation", i18n.T("a key limited to some wards cannot re-cut reports by other boundaries",
			"une clé limitée à certains quartiers ne peut pas redécouper les rapports selon d'autres limites"))
	}
	rc := &Recut{}
	f := Filter{Tenant: s.cfg.Tenant, Start: q.Start, End: q.End, Scope: q.Scope, ByID: true, Limit: MaxListLimit}
	for {
		page, err := s.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return fmt.Errorf("re-cut by the wards of %s: %w", q.Generation.Format(time.DateOnly), err)
		}
		for _, r := range page {
			if w, ok := gen.Locate(r.Point); ok && w.ID != r.WardID {
				rc.IDs = append(rc.IDs, r.ID)
				rc.Wards = append(rc.Wards, w.ID)
			}
		}
		if len(page) < MaxListLimit {
			break
		}
		f.AfterID = page[len(page)-1].ID
	}
	q.Recut = rc
	return nil
}

// wardName is a ward's name in the generation in force at `at`, else in
// the newest generation that has a ward of that ID (a report over an old
// term names the wards it was stored with).
func (s *Service) wardName(id string, at time.Time) (i18n.Text, bool) {
	gs, ok := s.cfg.Wards.(generations)
	if !ok {
		return i18n.Text{}, false
	}
	if g := gs.Current(at); g != nil {
		if w, ok := g.Ward(id); ok {
			return w.Name, true
		}
	}
	all := gs.Generations()
	for i := len(all) - 1; i >= 0; i-- {
		if w, ok := all[i].Ward(id); ok {
			return w.Name, true
		}
	}
	return i18n.Text{}, false
}
