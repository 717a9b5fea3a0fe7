package requests

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/notify"
)

// LoadCatalog reads a municipality's category config, checks all of it, and
// returns the catalog or an *i18n.Error of kind Invalid whose Field is the
// JSON path at fault (`categories[pothole].sla.hours`).
//
// The format, with every optional field shown:
//
//	{
//	  "time_zone": "America/Toronto",
//	  "business_hours": {"open": "08:30", "close": "16:30",
//	                     "days": ["mon", "tue", "wed", "thu", "fri"]},
//	  "holidays": "QC",
//	  "closures": ["easter_monday", "2026-12-24", "2026-12-31"],
//	  "privacy_notice": {"version": "2026-01",
//	                     "purpose": {"en": "...", "fr": "..."},
//	                     "retention": {"en": "...", "fr": "..."},
//	                     "contact": {"en": "...", "fr": "..."}},
//	  "departments": [
//	    {"code": "public_works", "name": {"en": "Public Works", "fr": "Travaux publics"},
//	     "contacts": {"department": [{"email": "roads@example.ca", "lang": "fr"}],
//	                  "supervisor": [{"email": "chief@example.ca", "lang": "en"}]}}
//	  ],
//	  "categories": [{
//	    "code": "streetlight_out",
//	    "name": {"en": "Streetlight out", "fr": "Lampadaire éteint"},
//	    "description": {"en": "...", "fr": "..."},
//	    "group": {"en": "Roads", "fr": "Voirie"},
//	    "keywords": ["light", "lampadaire"],
//	    "department": "public_works",
//	    "ward_departments": {"7": "contractor_north"},
//	    "asset_layers": ["streetlight"],
//	    "asset_radius_m": 30,
//	    "dedup": {"distance_m": 30, "window_hours": 720, "same_asset": true,
//	              "equivalent": ["other_code"]},
//	    "sla": {"hours": 40, "business_hours": true},
//	    "escalation": [{"at": "75%", "notify": "department"},
//	                   {"at": "100%+2bd", "notify": "supervisor"}],
//	    "attributes": [{
//	      "code": "pole_number", "datatype": "string", "required": false,
//	      "description": {"en": "Number on the pole", "fr": "Numéro sur le poteau"},
//	      "datatype_description": {"en": "...", "fr": "..."},
//	      "informational": false, "order": 1,
//	      "values": [{"key": "k", "name": {"en": "...", "fr": "..."}}]
//	    }],
//	    "auto_close": {"waiting_days": 10}
//	  }],
//	  "auto_close": {"waiting_days": 15},
//	  "reopen_days": 14,
//	  "templates": [{
//	    "id": "pothole_scheduled", "service_codes": ["pothole"], "to": "in_progress",
//	    "en": "Request {service_request_id}: a crew will fill it by {due_date}.",
//	    "fr": "Demande {service_request_id} : une équipe le bouchera d'ici le {due_date}."
//	  }, {
//	    "id": "roads_fixed", "department": "public_works", "to": "closed", "reason": "fixed",
//	    "en": "...", "fr": "..."
//	  }]
//	}
//
// Required: time_zone (an IANA name), at least one department and category,
// and for each category code, name, description and group in both
// languages, and department. Codes are 1–64 characters of a–z, 0–9, _ and
// -. business_hours defaults to Monday–Friday 08:30–16:30. holidays names
// the statutory calendar the municipality keeps ("QC", "ON" or "federal",
// computed for every year by package holidays; absent: none); closures adds
// the municipality's own days off, each a date YYYY-MM-DD in its time zone
// or the ID of a holiday rule (easter_monday, civic_holiday, boxing_day,
// christmas_eve, new_years_eve, ...: see holidays.Rules) for a closure every
// year. The older form of holidays, a list of dates, is read as closures.
// privacy_notice is what the resident page shows before the contact fields
// (see PrivacyNotice): when present, a version (1–64 characters) and the
// three texts in both languages are required.
// A category without "dedup" gets
// DefaultDedup (same_asset only when it has asset layers); one with it gets
// exactly what it says. Equivalent categories form groups (the relation is
// made symmetric and transitive) and must agree on distance_m,
// window_hours and same_asset, as package dedup requires. "values" is
// required for list datatypes and refused for others; attributes are
// ordered by "order", then by their place in the file, and renumbered 1..n.
// auto_close (per category, else for the catalog) closes a request
// waiting on the resident for waiting_days business days as no_response.
// reopen_days is how many days after closing a resident may reopen a
// request (0 to 366; default 14; 0: never).
// A template (a canned response, see Template) lists service_codes, or a
// department, or neither (every category); "to" is the move it goes with,
// "reason" the close reason when that is "closed"; en and fr may use the
// placeholders {service_request_id}, {ward_name}, {due_date},
// {service_name} and {department}.
// escalation needs an SLA; each level's "at" is a share of the SLA ("75%")
// or business days past one ("100%+2bd"), in the order they fall due, and
// its "notify" a contacts group every department the category may be
// routed to has (contacts: e-mail addresses with their language, en or
// fr). Unknown fields are refused, so a typo does not silently drop a setting.
func LoadCatalog(r io.Reader) (*Catalog, error) {
	var f catalogFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, &i18n.Error{Kind: i18n.Invalid, Field: "catalog", Err: err,
			Message: i18n.Textf(i18n.T("is not a valid category config: %s", "n'est pas une configuration de catégories valide : %s"), err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, cfgErr("catalog", i18n.T("has data after the JSON object", "contient des données après l'objet JSON"))
	}
	return f.build()
}

type catalogFile struct {
	TimeZone      string          `json:"time_zone"`
	BusinessHours *hoursFile      `json:"business_hours"`
	Holidays      json.RawMessage `json:"holidays"`
	Closures      []string        `json:"closures"`
	Departments   []Department    `json:"departments"`
	Categories    []categoryFile  `json:"categories"`
	Templates     []Template      `json:"templates"`
	AutoClose     *AutoCloseRule  `json:"auto_close"`
	Mail          *notify.Config  `json:"mail,omitempty"`             // catalogmail.go
	Language      string          `json:"default_language,omitempty"` // catalogmail.go
	PrivacyNotice *PrivacyNotice  `json:"privacy_notice"`
	ReopenDays    *int            `json:"reopen_days"` // satisfaction.go
}

type hoursFile struct {
	Open  string   `json:"open"`
	Close string   `json:"close"`
	Days  []string `json:"days"`
}

// categoryFile tells an absent "dedup" (defaults) from a present one: the
// outer field shadows the embedded one for the same JSON name.
type categoryFile struct {
	Category
	Dedup *DedupRule `json:"dedup"`
}

var codeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Limits on config values, so a typo (hours for minutes, km for m) is
// caught at start rather than in the field.
const (
	maxRadiusM   = 1000
	maxSLAHours  = 24 * 366
	maxWindowHrs = 24 * 366
)

func cfgErr(field string, msg i18n.Text, args ...any) *i18n.Error {
	return i18n.Errorf(i18n.Invalid, field, msg, args...)
}

var (
	msgRequired  = i18n.T("is required", "est obligatoire")
	msgBilingual = i18n.T("needs both an English and a French text", "doit avoir un texte en anglais et en français")
	msgBadCode   = i18n.T("%q is not a valid code: use 1 to 64 lowercase letters, digits, _ or -",
		"%q n'est pas un code valide : utilisez de 1 à 64 lettres minuscules, chiffres, _ ou -")
	msgDuplicate = i18n.T("%q is used twice", "%q est utilisé deux fois")
	msgRange     = i18n.T("must be between %g and %g", "doit être entre %g et %g")
	msgUnknownDp = i18n.T("unknown department %q", "service municipal inconnu %q")
	msgUnknownCt = i18n.T("unknown category %q", "catégorie inconnue %q")
)

func bilingual(t i18n.Text) bool {
	return strings.TrimSpace(t.En) != "" && strings.TrimSpace(t.Fr) != ""
}

func (f *catalogFile) build() (*Catalog, error) {
	c := &Catalog{
		deptByCode:  map[string]int{},
		catByCode:   map[string]int{},
		equivalents: map[string][]string{},
	}
	if f.TimeZone == "" {
		return nil, cfgErr("time_zone", msgRequired)
	}
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil {
		return nil, cfgErr("time_zone", i18n.T("%q is not a known time zone", "%q n'est pas un fuseau horaire connu"), f.TimeZone)
	}
	c.loc = loc
	if c.hours, err = f.BusinessHours.build(); err != nil {
		return nil, err
	}
	if c.days, err = f.daysOff(); err != nil {
		return nil, err
	}
	if err := f.buildMail(c); err != nil {
		return nil, err
	}
	if err := f.buildReopen(c); err != nil {
		return nil, err
	}
	if n := f.PrivacyNotice; n != nil {
		if err := n.check(); err != nil {
			return nil, err
		}
		c.notice = n
	}

	if len(f.Departments) == 0 {
		return nil, cfgErr("departments", i18n.T("needs at least one department", "doit compter au moins un service municipal"))
	}
	for i, d := range f.Departments {
		field := fmt.Sprintf("departments[%d]", i)
		if !codeRE.MatchString(d.Code) {
			return nil, cfgErr(field+".code", msgBadCode, d.Code)
		}
		field = "departments[" + d.Code + "]"
		if _, dup := c.deptByCode[d.Code]; dup {
			return nil, cfgErr(field+".code", msgDuplicate, d.Code)
		}
		if !bilingual(d.Name) {
			return nil, cfgErr(field+".name", msgBilingual)
		}
		if err := checkConnector(field, d.Connector); err != nil {
			return nil, err
		}
		if err := checkContacts(field, d); err != nil {
			return nil, err
		}
		c.deptByCode[d.Code] = len(c.departments)
		c.departments = append(c.departments, d)
	}

	if len(f.Categories) == 0 {
		return nil, cfgErr("categories", i18n.T("needs at least one category", "doit compter au moins une catégorie"))
	}
	for i, cf := range f.Categories {
		cat := cf.Category
		cat.Dedup = DefaultDedup()
		cat.Dedup.SameAsset = len(cat.AssetLayers) > 0
		if cf.Dedup != nil {
			cat.Dedup = *cf.Dedup
		}
		if !codeRE.MatchString(cat.Code) {
			return nil, cfgErr(fmt.Sprintf("categories[%d].code", i), msgBadCode, cat.Code)
		}
		if _, dup := c.catByCode[cat.Code]; dup {
			return nil, cfgErr("categories["+cat.Code+"].code", msgDuplicate, cat.Code)
		}
		if err := c.checkCategory(&cat); err != nil {
			return nil, err
		}
		c.catByCode[cat.Code] = len(c.categories)
		c.categories = append(c.categories, cat)
	}
	if err := c.linkEquivalents(); err != nil {
		return nil, err
	}
	if err := checkAutoClose("auto_close", f.AutoClose); err != nil {
		return nil, err
	}
	c.autoClose = f.AutoClose
	if err := c.checkTemplates(f.Templates); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Catalog) checkCategory(cat *Category) error {
	field := "categories[" + cat.Code + "]"
	texts := []struct {
		name string
		t    i18n.Text
	}{{"name", cat.Name}, {"description", cat.Description}, {"group", cat.Group}}
	for _, x := range texts {
		if !bilingual(x.t) {
			return cfgErr(field+"."+x.name, msgBilingual)
		}
	}
	for i, k := range cat.Keywords {
		if strings.TrimSpace(k) == "" {
			return cfgErr(fmt.Sprintf("%s.keywords[%d]", field, i), msgRequired)
		}
	}
	if cat.Department == "" {
		return cfgErr(field+".department", msgRequired)
	}
	if _, ok := c.deptByCode[cat.Department]; !ok {
		return cfgErr(field+".department", msgUnknownDp, cat.Department)
	}
	for ward, d := range cat.WardDepartments {
		if ward == "" {
			return cfgErr(field+".ward_departments", i18n.T("has an empty ward ID", "contient un identifiant de quartier vide"))
		}
		if _, ok := c.deptByCode[d]; !ok {
			return cfgErr(field+".ward_departments["+ward+"]", msgUnknownDp, d)
		}
	}
	if err := checkAssets(field, cat); err != nil {
		return err
	}
	if err := checkDedup(field+".dedup", cat); err != nil {
		return err
	}
	if err := checkAutoClose(field+".auto_close", cat.AutoClose); err != nil {
		return err
	}
	if cat.SLA.Hours < 0 || cat.SLA.Hours > maxSLAHours {
		return cfgErr(field+".sla.hours", msgRange, 0.0, float64(maxSLAHours))
	}
	if err := c.checkEscalation(field, cat); err != nil {
		return err
	}
	return checkAttributeDefs(field+".attributes", cat)
}

func checkAssets(field string, cat *Category) error {
	for i, l := range cat.AssetLayers {
		if !codeRE.MatchString(l) {
			return cfgErr(fmt.Sprintf("%s.asset_layers[%d]", field, i), msgBadCode, l)
		}
		if slices.Index(cat.AssetLayers, l) != i {
			return cfgErr(field+".asset_layers", msgDuplicate, l)
		}
	}
	switch {
	case len(cat.AssetLayers) > 0 && (cat.AssetRadiusM <= 0 || cat.AssetRadiusM > maxRadiusM):
		return cfgErr(field+".asset_radius_m", msgRange, 0.0, float64(maxRadiusM))
	case len(cat.AssetLayers) == 0 && cat.AssetRadiusM != 0:
		return cfgErr(field+".asset_radius_m", i18n.T("is set but asset_layers is empty", "est indiqué mais asset_layers est vide"))
	}
	return nil
}

func checkDedup(field string, cat *Category) error {
	d := cat.Dedup
	if d.DistanceM < 0 || d.DistanceM > maxRadiusM {
		return cfgErr(field+".distance_m", msgRange, 0.0, float64(maxRadiusM))
	}
	if d.WindowHours < 0 || d.WindowHours > maxWindowHrs {
		return cfgErr(field+".window_hours", msgRange, 0.0, float64(maxWindowHrs))
	}
	if d.SameAsset && len(cat.AssetLayers) == 0 {
		return cfgErr(field+".same_asset", i18n.T("needs asset_layers", "exige asset_layers"))
	}
	for i, e := range d.Equivalent {
		if e == cat.Code {
			return cfgErr(fmt.Sprintf("%s.equivalent[%d]", field, i),
				i18n.T("a category is not listed as equivalent to itself", "une catégorie n'est pas déclarée équivalente à elle-même"))
		}
	}
	return nil
}

func checkAttributeDefs(field string, cat *Category) error {
	seen := map[string]bool{}
	for i, a := range cat.Attributes {
		if !codeRE.MatchString(a.Code) {
			return cfgErr(fmt.Sprintf("%s[%d].code", field, i), msgBadCode, a.Code)
		}
		af := field + "[" + a.Code + "]"
		if seen[a.Code] {
			return cfgErr(af+".code", msgDuplicate, a.Code)
		}
		seen[a.Code] = true
		switch a.Datatype {
		case String, Number, Datetime, Text, SingleValueList, MultiValueList:
		default:
			return cfgErr(af+".datatype", i18n.T(
				"%q is not an Open311 datatype (string, number, datetime, text, singlevaluelist, multivaluelist)",
				"%q n'est pas un type Open311 (string, number, datetime, text, singlevaluelist, multivaluelist)"), a.Datatype)
		}
		if !bilingual(a.Description) {
			return cfgErr(af+".description", msgBilingual)
		}
		if a.DatatypeDescription != (i18n.Text{}) && !bilingual(a.DatatypeDescription) {
			return cfgErr(af+".datatype_description", msgBilingual)
		}
		if a.Informational && a.Required {
			return cfgErr(af+".required", i18n.T("an informational attribute takes no value, so it cannot be required",
				"un attribut informatif ne prend pas de valeur et ne peut donc pas être obligatoire"))
		}
		if err := checkValues(af+".values", a); err != nil {
			return err
		}
	}
	// Stable: equal orders keep their place in the file.
	slices.SortStableFunc(cat.Attributes, func(a, b AttributeDef) int { return a.Order - b.Order })
	for i := range cat.Attributes {
		cat.Attributes[i].Order = i + 1
	}
	return nil
}

func checkValues(field string, a AttributeDef) error {
	if !a.Datatype.IsList() {
		if len(a.Values) > 0 {
			return cfgErr(field, i18n.T("only list datatypes take values", "seuls les types liste prennent des valeurs"))
		}
		return nil
	}
	if len(a.Values) == 0 {
		return cfgErr(field, i18n.T("a list attribute needs at least one value", "un attribut de type liste doit avoir au moins une valeur"))
	}
	keys := map[string]bool{}
	for i, v := range a.Values {
		// Codes have no comma, so multivaluelist keys can be joined by one.
		if !codeRE.MatchString(v.Key) {
			return cfgErr(fmt.Sprintf("%s[%d].key", field, i), msgBadCode, v.Key)
		}
		if keys[v.Key] {
			return cfgErr(field+"["+v.Key+"].key", msgDuplicate, v.Key)
		}
		keys[v.Key] = true
		if !bilingual(v.Name) {
			return cfgErr(field+"["+v.Key+"].name", msgBilingual)
		}
	}
	return nil
}

// linkEquivalents checks the equivalent codes and closes the relation into
// groups (union-find), so every member of a group has the same list.
func (c *Catalog) linkEquivalents() error {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			parent[x] = find(p)
			return parent[x]
		}
		return x
	}
	for _, cat := range c.categories {
		for i, e := range cat.Dedup.Equivalent {
			if _, ok := c.catByCode[e]; !ok {
				return cfgErr(fmt.Sprintf("categories[%s].dedup.equivalent[%d]", cat.Code, i), msgUnknownCt, e)
			}
			a, b := find(cat.Code), find(e)
			if a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
	}
	groups := map[string][]string{}
	for _, cat := range c.categories {
		r := find(cat.Code)
		groups[r] = append(groups[r], cat.Code)
	}
	for i := range c.categories {
		cat := &c.categories[i]
		g := groups[find(cat.Code)]
		slices.Sort(g)
		first := c.categories[c.catByCode[g[0]]].Dedup
		if d := cat.Dedup; d.DistanceM != first.DistanceM || d.WindowHours != first.WindowHours || d.SameAsset != first.SameAsset {
			return cfgErr("categories["+cat.Code+"].dedup", i18n.T(
				"is equivalent to %q but has a different rule: equivalent categories share distance_m, window_hours and same_asset",
				"est équivalente à %q mais a une règle différente : les catégories équivalentes partagent distance_m, window_hours et same_asset"), g[0])
		}
		c.equivalents[cat.Code] = g
		// Expose the closed relation on the category too.
		cat.Dedup.Equivalent = nil
		for _, code := range g {
			if code != cat.Code {
				cat.Dedup.Equivalent = append(cat.Dedup.Equivalent, code)
			}
		}
	}
	return nil
}
