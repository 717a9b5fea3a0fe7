package requests

import (
	"slices"
	"time"

	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/notify"
)

// Department is a unit of the municipality that works requests.
type Department struct {
	Code string    `json:"code"`
	Name i18n.Text `json:"name"`
	// Connector sends the department's work orders out (nil: none); see
	// Connector.
	Connector *Connector `json:"connector,omitempty"`
	// Contacts are who the department's escalations reach, by group
	// ("department", "supervisor", "director"; see EscalationLevel).
	Contacts map[string][]Contact `json:"contacts,omitempty"`
}

// Category is one service a resident can request (an Open311 "service").
// Values returned by a Catalog share slices and maps with it and must not
// be modified.
type Category struct {
	Code        string    `json:"code"` // Open311 service_code
	Name        i18n.Text `json:"name"`
	Description i18n.Text `json:"description"`
	Group       i18n.Text `json:"group"`
	Keywords    []string  `json:"keywords,omitempty"`

	// Department works the category's requests, except in the wards listed
	// in WardDepartments (ward ID → department code), e.g. where a
	// contractor holds the snow-clearing contract.
	Department      string            `json:"department"`
	WardDepartments map[string]string `json:"ward_departments,omitempty"`

	// A request is snapped to the nearest asset of AssetLayers within
	// AssetRadiusM metres.
	AssetLayers  []string `json:"asset_layers,omitempty"`
	AssetRadiusM float64  `json:"asset_radius_m,omitempty"`

	Dedup      DedupRule      `json:"dedup"`
	SLA        SLA            `json:"sla"`
	Attributes []AttributeDef `json:"attributes,omitempty"` // sorted by Order
	// AutoClose: nil, the catalog's rule applies (see Catalog.AutoClose).
	AutoClose *AutoCloseRule `json:"auto_close,omitempty"`
	// Escalation lists the levels at which an open request is brought to
	// its department's contacts, in the order they fall due.
	Escalation []EscalationLevel `json:"escalation,omitempty"`
}

// DedupRule says when a new request is a duplicate of an open one.
type DedupRule struct {
	// DistanceM: an open request of the same (or an equivalent) category
	// within this many metres is the same issue. Zero turns distance
	// matching off.
	DistanceM float64 `json:"distance_m"`
	// WindowHours: only requests created this recently count. Zero means
	// no window: any open request counts.
	WindowHours float64 `json:"window_hours"`
	// SameAsset: requests naming the same asset are the same issue at any
	// distance.
	SameAsset bool `json:"same_asset"`
	// Equivalent lists categories reported for the same issues ("pothole"
	// and "road_damage"). The catalog closes the relation into groups
	// (symmetric, transitive); a group shares one rule.
	Equivalent []string `json:"equivalent,omitempty"`
}

// DefaultDedup is the rule of a category whose config has no "dedup", the
// same as dedup.DefaultRule: 30 m (GPS error plus the width of a street),
// 14 days (about a repair cycle), and same-asset matching for categories
// that snap to assets.
func DefaultDedup() DedupRule { return DedupRule{DistanceM: 30, WindowHours: 14 * 24, SameAsset: true} }

// SLA is the service-level target for a category: the time from submission
// by which the request should be closed. Hours of zero means no target.
type SLA struct {
	Hours float64 `json:"hours"`
	// BusinessHours counts only the municipality's working hours (see
	// Catalog.DueAt); otherwise hours are elapsed time.
	BusinessHours bool `json:"business_hours"`
}

// Datatype is the type of an Open311 attribute's value.
type Datatype string

// The Open311 GeoReport v2 attribute datatypes.
const (
	String          Datatype = "string"          // one line, up to MaxStringLen characters
	Number          Datatype = "number"          // a finite decimal number
	Datetime        Datatype = "datetime"        // ISO 8601 / RFC 3339; local time when no offset is given
	Text            Datatype = "text"            // free text, up to MaxTextLen characters
	SingleValueList Datatype = "singlevaluelist" // one key of Values
	MultiValueList  Datatype = "multivaluelist"  // one or more keys of Values
)

// IsList reports whether values of d are keys of a list.
func (d Datatype) IsList() bool { return d == SingleValueList || d == MultiValueList }

// AttributeDef is one question of a category's Open311 service definition.
type AttributeDef struct {
	Code     string   `json:"code"`
	Datatype Datatype `json:"datatype"`
	Required bool     `json:"required"`
	// Description is the question asked of the resident.
	Description i18n.Text `json:"description"`
	// DatatypeDescription explains the expected format, when useful.
	DatatypeDescription i18n.Text `json:"datatype_description,omitzero"`
	// Informational attributes only show text and take no value (Open311
	// variable=false).
	Informational bool             `json:"informational,omitempty"`
	Order         int              `json:"order"`
	Values        []AttributeValue `json:"values,omitempty"` // for list datatypes
}

// AttributeValue is one choice of a list attribute.
type AttributeValue struct {
	Key  string    `json:"key"`
	Name i18n.Text `json:"name"`
}

// Catalog is a municipality's categories, departments and working calendar,
// loaded once with LoadCatalog and then read-only (safe for concurrent use).
type Catalog struct {
	loc         *time.Location
	hours       businessHours
	days        *daysOff // statutory holidays and closures, in loc
	departments []Department
	deptByCode  map[string]int
	categories  []Category
	catByCode   map[string]int
	equivalents map[string][]string // code → itself and its equivalents, sorted
	templates   []Template
	autoClose   *AutoCloseRule
	mail        notify.Config  // catalogmail.go
	lang        i18n.Lang      // catalogmail.go
	notice      *PrivacyNotice // nil: the catalog has none
	reopenDays  *int           // satisfaction.go; nil: DefaultReopenDays
}

// Category returns the category with the given code.
func (c *Catalog) Category(code string) (Category, bool) {
	i, ok := c.catByCode[code]
	if !ok {
		return Category{}, false
	}
	return c.categories[i], true
}

// Categories returns every category in the order of the config file (the
// order the municipality wants residents to see).
func (c *Catalog) Categories() []Category { return slices.Clone(c.categories) }

// Department returns the department with the given code.
func (c *Catalog) Department(code string) (Department, bool) {
	i, ok := c.deptByCode[code]
	if !ok {
		return Department{}, false
	}
	return c.departments[i], true
}

// Departments returns every department in config order.
func (c *Catalog) Departments() []Department { return slices.Clone(c.departments) }

// Location returns the municipality's time zone.
func (c *Catalog) Location() *time.Location { return c.loc }

// Route returns the code of the department that works requests of category
// code in ward wardID: the ward's override if it has one, else the
// category's department. It reports false for an unknown category.
func (c *Catalog) Route(code, wardID string) (string, bool) {
	cat, ok := c.Category(code)
	if !ok {
		return "", false
	}
	if d, ok := cat.WardDepartments[wardID]; ok {
		return d, true
	}
	return cat.Department, true
}

// Equivalents returns code and the codes of its equivalent categories,
// sorted: the categories a request of code may share a cluster with.
func (c *Catalog) Equivalents(code string) []string {
	return slices.Clone(c.equivalents[code])
}

// DueAt returns when a request of category code submitted at at is due by
// its SLA, in UTC; zero when the category has no SLA or is unknown.
//
// Calendar SLAs add elapsed hours. Business-hour SLAs count only working
// time: the configured hours (default 08:30–16:30) on the configured days
// (default Monday to Friday) in the municipality's time zone, skipping its
// statutory holidays and closures (see DaysOff). A request submitted
// outside working hours starts its clock at the next opening, and a due
// time that falls exactly at closing stays on that day. DueAtPaused adds
// the time a request waited on the resident.
func (c *Catalog) DueAt(code string, at time.Time) time.Time {
	return c.DueAtPaused(code, at, nil)
}

// DedupRules returns the catalog's duplicate rules in package dedup's
// terms, for batch clustering and the online assigner.
func (c *Catalog) DedupRules() dedup.Rules {
	rs := dedup.Rules{Default: dedup.DefaultRule(), Categories: map[string]dedup.Rule{}}
	for _, cat := range c.categories {
		d := cat.Dedup
		rs.Categories[cat.Code] = dedup.Rule{
			Distance:   d.DistanceM,
			Window:     time.Duration(d.WindowHours * float64(time.Hour)),
			SameAsset:  d.SameAsset,
			Equivalent: slices.Clone(d.Equivalent),
		}
	}
	return rs
}
