package requests

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/notify"
)

// Template is a canned response: a bilingual public note staff pick when
// they move a request, with placeholders filled in for the request
// (RenderTemplate). It applies to the categories it lists, or to every
// category of its department, or to all when it names neither.
type Template struct {
	ID           string      `json:"id"`
	ServiceCodes []string    `json:"service_codes,omitempty"`
	Department   string      `json:"department,omitempty"`
	To           Status      `json:"to"`               // the move it goes with
	Reason       CloseReason `json:"reason,omitempty"` // with "to": "closed", the reason it gives
	En           string      `json:"en"`
	Fr           string      `json:"fr"`
}

// AppliesTo reports whether t may answer a request of category code worked
// by department dept.
func (t Template) AppliesTo(code, dept string) bool {
	switch {
	case len(t.ServiceCodes) > 0:
		return slices.Contains(t.ServiceCodes, code)
	case t.Department != "":
		return t.Department == dept
	}
	return true
}

// Placeholders are the names a template may use, in braces.
var Placeholders = []string{"service_request_id", "ward_name", "due_date", "service_name", "department"}

var placeholderRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// AutoCloseRule closes a request that has waited on the resident for
// WaitingDays business days, as no_response.
type AutoCloseRule struct {
	WaitingDays int `json:"waiting_days"`
}

const maxWaitingDays = 365

// Template returns the template with that ID.
func (c *Catalog) Template(id string) (Template, bool) {
	i := slices.IndexFunc(c.templates, func(t Template) bool { return t.ID == id })
	if i < 0 {
		return Template{}, false
	}
	return c.templates[i], true
}

// Templates returns the templates that apply to category code ("": all
// of them), in the order of the config file.
func (c *Catalog) Templates(code string) []Template {
	var out []Template
	for _, t := range c.templates {
		if code == "" {
			out = append(out, t)
			continue
		}
		if cat, ok := c.Category(code); ok && (t.AppliesTo(code, cat.Department) || anyWardDept(t, cat)) {
			out = append(out, t)
		}
	}
	return out
}

// anyWardDept: a department template also serves a category some of whose
// wards that department works.
func anyWardDept(t Template, cat Category) bool {
	if len(t.ServiceCodes) > 0 || t.Department == "" {
		return false
	}
	for _, d := range cat.WardDepartments {
		if d == t.Department {
			return true
		}
	}
	return false
}

// AutoClose returns the auto-close rule of category code: its own, else
// the catalog's; ok is false when none applies.
func (c *Catalog) AutoClose(code string) (AutoCloseRule, bool) {
	if cat, ok := c.Category(code); ok && cat.AutoClose != nil {
		return *cat.AutoClose, cat.AutoClose.WaitingDays > 0
	}
	if c.autoClose != nil {
		return *c.autoClose, c.autoClose.WaitingDays > 0
	}
	return AutoCloseRule{}, false
}

// MaxAutoCloseDays is the longest auto-close wait of the catalog (0: no
// rule), the sweep's first cut.
func (c *Catalog) MaxAutoCloseDays() int {
	n := 0
	if c.autoClose != nil {
		n = c.autoClose.WaitingDays
	}
	for _, cat := range c.categories {
		if cat.AutoClose != nil {
			n = max(n, cat.AutoClose.WaitingDays)
		}
	}
	return n
}

// MinAutoCloseDays is the shortest auto-close wait of the catalog (0: no
// rule).
func (c *Catalog) MinAutoCloseDays() int {
	n := 0
	consider := func(r *AutoCloseRule) {
		if r != nil && r.WaitingDays > 0 && (n == 0 || r.WaitingDays < n) {
			n = r.WaitingDays
		}
	}
	consider(c.autoClose)
	for _, cat := range c.categories {
		consider(cat.AutoClose)
	}
	return n
}

func checkAutoClose(field string, r *AutoCloseRule) error {
	if r != nil && (r.WaitingDays < 1 || r.WaitingDays > maxWaitingDays) {
		return cfgErr(field+".waiting_days", msgRange, 1.0, float64(maxWaitingDays))
	}
	return nil
}

// checkTemplates checks the catalog's templates: unique codes, known
// categories and department, a known status and reason, text in both
// languages with known placeholders.
func (c *Catalog) checkTemplates(ts []Template) error {
	seen := map[string]bool{}
	for i, t := range ts {
		if !codeRE.MatchString(t.ID) {
			return cfgErr(fmt.Sprintf("templates[%d].id", i), msgBadCode, t.ID)
		}
		field := "templates[" + t.ID + "]"
		if seen[t.ID] {
			return cfgErr(field+".id", msgDuplicate, t.ID)
		}
		seen[t.ID] = true
		for _, code := range t.ServiceCodes {
			if _, ok := c.catByCode[code]; !ok {
				return cfgErr(field+".service_codes", msgUnknownCt, code)
			}
		}
		if t.Department != "" {
			if len(t.ServiceCodes) > 0 {
				return cfgErr(field+".department", i18n.T("give service_codes or department, not both", "indiquez service_codes ou department, pas les deux"))
			}
			if _, ok := c.deptByCode[t.Department]; !ok {
				return cfgErr(field+".department", msgUnknownDp, t.Department)
			}
		}
		if !t.To.Valid() {
			return cfgErr(field+".to", i18n.T("%q is not a status (%s)", "%q n'est pas un état (%s)"), t.To, StatusList())
		}
		switch {
		case t.To == Closed && t.Reason == "":
			return cfgErr(field+".reason", i18n.T("a template that closes gives a reason", "un modèle qui ferme donne un motif"))
		case t.To != Closed && t.Reason != "":
			return cfgErr(field+".reason", i18n.T("only a template that closes gives a reason", "seul un modèle qui ferme donne un motif"))
		case t.Reason == ReasonReferred:
			return cfgErr(field+".reason", i18n.T("a referral names who owns the request: staff write it", "un transfert nomme le responsable : le personnel l'écrit"))
		case t.Reason != "" && !slices.Contains(CloseReasons(), t.Reason):
			return cfgErr(field+".reason", i18n.T("%q is not a close reason (%s)", "%q n'est pas un motif de fermeture (%s)"), t.Reason, closeReasonList())
		}
		if !bilingual(i18n.T(t.En, t.Fr)) {
			return cfgErr(field, msgBilingual)
		}
		for _, x := range [][2]string{{"en", t.En}, {"fr", t.Fr}} { // in order: the error names the first at fault
			lang, s := x[0], x[1]
			if err := checkText(field+"."+lang, s, MaxNoteLen, true); err != nil {
				return err
			}
			for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
				if !slices.Contains(Placeholders, m[1]) {
					return cfgErr(field+"."+lang, i18n.T("unknown placeholder {%s} (known: %s)", "paramètre inconnu {%s} (connus : %s)"),
						m[1], strings.Join(Placeholders, ", "))
				}
			}
		}
	}
	c.templates = ts
	return nil
}

// RenderTemplate fills t's placeholders for r, in each language: its
// public ID, its ward's name, its due date (the municipality's day, in
// each language's format: "June 23, 2026", "23 juin 2026"), its category's
// and department's names.
func (s *Service) RenderTemplate(t Template, r Request) i18n.Text {
	cat, _ := s.cfg.Catalog.Category(r.ServiceCode)
	dept, _ := s.cfg.Catalog.Department(r.Department)
	ward := i18n.T(r.WardID, r.WardID)
	if w, ok := s.cfg.Wards.Locate(r.Point, r.RequestedAt); ok && w.ID == r.WardID {
		ward = w.Name
	}
	render := func(text string, lang i18n.Lang) string {
		return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
			switch m[1 : len(m)-1] {
			case "service_request_id":
				return r.ServiceRequestID
			case "ward_name":
				return ward.In(lang)
			case "due_date":
				if r.DueAt.IsZero() {
					return i18n.T("as soon as we can", "dès que possible").In(lang)
				}
				return notify.FormatDate(r.DueAt.In(s.cfg.Catalog.Location()), lang)
			case "service_name":
				return cat.Name.In(lang)
			case "department":
				return dept.Name.In(lang)
			}
			return m
		})
	}
	return i18n.Text{En: render(t.En, i18n.En), Fr: render(t.Fr, i18n.Fr)}
}

// DueDate is a due time as a resident reads it in lang (the
// municipality's day), "" when there is none.
func (s *Service) DueDate(due time.Time, lang i18n.Lang) string {
	if due.IsZero() {
		return ""
	}
	return notify.FormatDate(due.In(s.cfg.Catalog.Location()), lang)
}
