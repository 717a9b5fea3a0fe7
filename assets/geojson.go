package assets

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pinward/pinward/geojsonio"
	"github.com/pinward/pinward/i18n"
)

// LoadGeoJSON reads assets from a GeoJSON FeatureCollection of Point
// features, by package geojsonio's rules (a MultiPoint of exactly one point
// is that point; attributes are the other non-null properties).
//
// The ID comes from the property idProp, or from the feature's "id" member
// when idProp is empty; a string or a number. The layer comes from the
// property layerProp when it is set and not empty, else defaultLayer.
//
// Features that cannot be assets are skipped and reported in rowErrs with
// the line their object starts on. err is for input that is not a GeoJSON
// FeatureCollection, or declares a CRS other than WGS84 longitude/latitude.
func LoadGeoJSON(r io.Reader, idProp, layerProp, defaultLayer string) ([]Asset, []RowError, error) {
	if layerProp == "" && defaultLayer == "" {
		return nil, nil, fmt.Errorf("assets: load GeoJSON: %w", invalidf("no layer property and no default layer given",
			"ni propriété de couche ni couche par défaut"))
	}
	var assets []Asset
	var rowErrs []RowError
	seen := map[layerID]int{}
	opts := geojsonio.Options{Name: i18n.T("the asset file", "le fichier d'actifs"), Want: i18n.T("of Point features", "d'entités Point")}
	err := geojsonio.Read(r, opts, func(raw geojsonio.Raw) error {
		a, err := featureAsset(raw, idProp, layerProp, defaultLayer)
		if err != nil {
			rowErrs = append(rowErrs, RowError{Line: raw.Line, ID: a.ID, Err: err})
			return nil
		}
		k := layerID{a.Layer, a.ID}
		if first, dup := seen[k]; dup {
			rowErrs = append(rowErrs, RowError{Line: raw.Line, ID: a.ID, Err: fmt.Errorf("duplicate ID in layer %q (first on line %d)", a.Layer, first)})
			return nil
		}
		seen[k] = raw.Line
		assets = append(assets, a)
		return nil
	})
	if err != nil {
		return assets, rowErrs, fmt.Errorf("assets: load GeoJSON: %w", err)
	}
	return assets, rowErrs, nil
}

func featureAsset(raw geojsonio.Raw, idProp, layerProp, defaultLayer string) (Asset, error) {
	a := Asset{Layer: defaultLayer}
	f, ierr := geojsonio.Decode(raw)
	if ierr != nil {
		return a, plain(ierr)
	}
	idRaw, idName := f.ID, "the feature id"
	if idProp != "" {
		idRaw, idName = f.Properties[idProp], fmt.Sprintf("property %q", idProp)
	}
	id, _, ierr := geojsonio.Scalar(idRaw)
	if ierr != nil {
		return a, fmt.Errorf("%s %s", idName, ierr.Message.En)
	}
	a.ID = strings.TrimSpace(id)
	if a.ID == "" {
		return a, fmt.Errorf("missing ID (%s)", idName)
	}
	if layerProp != "" {
		l, _, ierr := f.Text(layerProp)
		if ierr != nil {
			return a, fmt.Errorf("property %q %s", layerProp, ierr.Message.En)
		}
		if l = strings.TrimSpace(l); l != "" {
			a.Layer = l
		}
	}
	if a.Layer == "" {
		return a, fmt.Errorf("missing layer (property %q) and no default layer", layerProp)
	}
	p, ierr := f.Point()
	if ierr != nil {
		return a, plain(ierr)
	}
	a.Point = p
	a.Attrs = f.Attrs(idProp, layerProp)
	return a, nil
}

// plain is a geojsonio error as a row error: its English message, without
// the field name the API shows separately, and its cause.
func plain(e *i18n.Error) error {
	if e.Err != nil {
		return fmt.Errorf("%s: %w", e.Message.En, e.Err)
	}
	return errors.New(e.Message.En)
}
