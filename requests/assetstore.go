package requests

import (
	"context"
	"fmt"
	"github.com/pinward/pinward/text"
	"regexp"
	"strings"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
)

// AssetStore keeps the asset layers an asset-management system (Cityworks,
// Maximo...) pushes in, and a change feed of every upsert and retirement in
// commit order, which each server follows to keep its assets.Index current
// (see AssetFollower); each change is also logged to the ChangeFeed. Implemented by store/postgis and store/sqlite and
// checked by storetest.RunAssets.
//
// Every method is scoped to one tenant. Errors are *i18n.Error (or an
// *AssetBatchError, which unwraps to one).
type AssetStore interface {
	// UpsertAssets stores a batch in one transaction, all or nothing,
	// serialised with every other asset write of the tenant (so change
	// sequence numbers follow commit order). For each asset, in order:
	// a (Layer, ID) not stored yet is inserted; a stored one with a lower
	// Version is replaced (a retired one comes back); an equal Version is a
	// replay and changes nothing (a retired asset stays retired); a higher
	// stored Version is a conflict. Each insert or replacement appends an
	// "upsert" change. When any asset conflicts, nothing is written and the
	// error is an *AssetBatchError of kind Conflict listing each one. A
	// batch naming one (Layer, ID) twice is refused the same way with kind
	// Invalid.
	UpsertAssets(ctx context.Context, u AssetUpsert) (AssetUpsertResult, error)

	// RetireAsset marks one asset retired, appends a "retire" change and,
	// in the same transaction, adds an EventAssetRetired event to every
	// request that is not closed and was snapped to it, so staff see it.
	// AssetNotFoundError when the tenant never stored it; retiring a
	// retired asset changes nothing and reports AlreadyRetired.
	RetireAsset(ctx context.Context, r AssetRetire) (AssetRetireResult, error)

	// AssetChanges returns up to limit changes (MaxAssetChanges when limit
	// is zero or less, at most that) with Seq greater than after, in Seq
	// order, which is commit order.
	AssetChanges(ctx context.Context, tenant string, after int64, limit int) ([]AssetChange, error)

	// LoadAssets returns every asset of the tenant that is not retired and
	// the Seq of the last change they include, read consistently, so a
	// follower that starts from them misses nothing.
	LoadAssets(ctx context.Context, tenant string) ([]assets.Asset, int64, error)

	// AssetLayers returns the names of the layers the tenant stored assets
	// in (retired ones included), sorted.
	AssetLayers(ctx context.Context, tenant string) ([]string, error)

	// RetiredAssetRequests returns the public IDs of the tenant's requests
	// that are not closed and name a retired asset, oldest first, at most
	// MaxListLimit.
	RetiredAssetRequests(ctx context.Context, tenant string) ([]string, error)
}

// MaxAssetChanges is the most changes one AssetChanges call returns.
const MaxAssetChanges = 10000

// EventAssetRetired marks a request whose asset the asset-management
// system retired: staff should check it (GET /api/v1/assets/retired-open).
const EventAssetRetired EventKind = "asset_retired"

// AssetChangeOp is what a change did.
type AssetChangeOp string

// The change operations.
const (
	AssetUpserted AssetChangeOp = "upsert"
	AssetRetired  AssetChangeOp = "retire"
)

// AssetUpsert is one UpsertAssets batch.
type AssetUpsert struct {
	Tenant string
	Assets []assets.Asset // valid (assets.Index would take them), Version set
	At     time.Time      // commit time recorded on the changes
}

// AssetUpsertResult says what a batch did.
type AssetUpsertResult struct {
	Applied   int   // inserted or replaced
	Unchanged int   // replays of the stored version
	Cursor    int64 // Seq of the batch's last change; 0 when it made none
}

// AssetRetire is one RetireAsset call.
type AssetRetire struct {
	Tenant, Layer, ID string
	Actor             string // who retired it, recorded on the request events
	At                time.Time
}

// AssetRetireResult says what a retirement did.
type AssetRetireResult struct {
	AlreadyRetired bool
	Cursor         int64    // Seq of the retire change; 0 when already retired
	Flagged        []string // public IDs of the open requests given an EventAssetRetired event
}

// AssetChange is one entry of the change feed.
type AssetChange struct {
	Seq   int64
	Op    AssetChangeOp
	Asset assets.Asset // for a retirement: Layer, ID and the retired Version (Point and Attrs as last stored)
	At    time.Time
}

// AssetFeatureError is the problem with one asset of a batch.
type AssetFeatureError struct {
	Index int    // position in the batch, from 0
	Layer string // as given, when known
	ID    string
	Err   *i18n.Error
}

// AssetBatchError refuses a whole batch because of some of its assets;
// nothing of the batch was written. It unwraps to an *i18n.Error with the
// batch's kind and a summary, so KindOf and MessageOf work on it.
type AssetBatchError struct {
	Summary  *i18n.Error
	Features []AssetFeatureError // at most MaxFeatureErrors
	Total    int                 // how many assets were refused (may exceed len(Features))
}

// MaxFeatureErrors caps the per-feature list of an AssetBatchError.
const MaxFeatureErrors = 100

func (e *AssetBatchError) Error() string { return e.Summary.Error() }
func (e *AssetBatchError) Unwrap() error { return e.Summary }

// Add records one refused asset.
func (e *AssetBatchError) Add(fe AssetFeatureError) {
	e.Total++
	if len(e.Features) < MaxFeatureErrors {
		e.Features = append(e.Features, fe)
	}
}

// NewAssetBatchError returns an empty batch error of kind k; call Add for
// each refused asset and Finish before returning it.
func NewAssetBatchError(k i18n.Kind) *AssetBatchError {
	return &AssetBatchError{Summary: &i18n.Error{Kind: k}}
}

// Finish sets the summary message from the count; it returns nil when no
// asset was refused, so callers can write `if err := be.Finish(); err != nil`.
func (e *AssetBatchError) Finish() error {
	if e.Total == 0 {
		return nil
	}
	switch e.Summary.Kind {
	case i18n.Conflict:
		e.Summary.Field = "version"
		e.Summary.Message = i18n.Textf(i18n.T(
			"%d asset(s) have an older version than the one stored; nothing was applied",
			"%d actif(s) ont une version antérieure à celle enregistrée; rien n'a été appliqué"), e.Total)
	default:
		e.Summary.Message = i18n.Textf(i18n.T(
			"%d feature(s) cannot be stored as assets; nothing was applied",
			"%d entité(s) ne peuvent pas être enregistrées comme actifs; rien n'a été appliqué"), e.Total)
	}
	return e
}

// StaleVersionError is the per-asset conflict of an upsert.
func StaleVersionError(a assets.Asset, stored int64) *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "version", i18n.T(
		"asset %s/%s: version %d is older than the stored version %d",
		"actif %s/%s : la version %d est antérieure à la version enregistrée %d"), a.Layer, a.ID, a.Version, stored)
}

// DuplicateAssetError is the per-asset error for a (Layer, ID) given twice
// in one batch.
func DuplicateAssetError(a assets.Asset, first int) *i18n.Error {
	return i18n.Errorf(i18n.Invalid, "id", i18n.T(
		"asset %s/%s appears twice in the batch (first at feature %d)",
		"l'actif %s/%s figure deux fois dans le lot (d'abord à l'entité %d)"), a.Layer, a.ID, first)
}

// AssetNotFoundError is RetireAsset's error for an asset never stored.
func AssetNotFoundError(layer, id string) *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "id", i18n.T("there is no asset %q in layer %q",
		"il n'y a pas d'actif %q dans la couche %q"), clip(id), clip(layer))
}

// CheckAssetBatch refuses a batch that names one (Layer, ID) twice, as
// UpsertAssets must; stores call it before writing.
func CheckAssetBatch(batch []assets.Asset) error {
	be := NewAssetBatchError(i18n.Invalid)
	seen := make(map[[2]string]int, len(batch))
	for i, a := range batch {
		if err := checkAssetText(a); err != nil {
			be.Add(AssetFeatureError{Index: i, Layer: a.Layer, ID: text.Printable(a.ID), Err: err})
			continue
		}
		k := [2]string{a.Layer, a.ID}
		if first, dup := seen[k]; dup {
			be.Add(AssetFeatureError{Index: i, Layer: a.Layer, ID: a.ID, Err: DuplicateAssetError(a, first)})
			continue
		}
		seen[k] = i
	}
	return be.Finish()
}

// layerName is what a layer may be called: it appears in URLs and tile
// names, so lower-case ASCII, digits, _ and -.
var layerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidateLayerName refuses a layer name that cannot be one (see
// layerName), or that is a word of the asset API's paths.
func ValidateLayerName(name string) error {
	if !layerName.MatchString(name) || name == "changes" || name == "retired-open" {
		return i18n.Errorf(i18n.Invalid, "layer", i18n.T(
			"%q is not a layer name: use 1 to 63 lower-case letters, digits, _ or -",
			"%q n'est pas un nom de couche : utilisez de 1 à 63 lettres minuscules, chiffres, _ ou -"), clip(name))
	}
	return nil
}

// String is how a change is logged.
func (c AssetChange) String() string {
	return fmt.Sprintf("#%d %s %s/%s v%d", c.Seq, c.Op, c.Asset.Layer, c.Asset.ID, c.Asset.Version)
}

// AssetKey is how a (layer, ID) pair is written in messages and logs.
func AssetKey(layer, id string) string { return strings.Join([]string{layer, id}, "/") }

// ParseLayerNames reads a comma-separated list of layer names (spaces
// around them and empty items ignored), each checked by
// ValidateLayerName.
func ParseLayerNames(list string) ([]string, error) {
	var layers []string
	for _, l := range strings.Split(list, ",") {
		if l = strings.TrimSpace(l); l != "" {
			if err := ValidateLayerName(l); err != nil {
				return nil, err
			}
			layers = append(layers, l)
		}
	}
	return layers, nil
}
