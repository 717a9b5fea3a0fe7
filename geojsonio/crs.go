package geojsonio

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

const (
	wgs84OnlyEn = "coordinates must be WGS84 longitude/latitude (CRS84 or EPSG:4326); reproject the file first, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson"
	wgs84OnlyFr = "les coordonnées doivent être en longitude/latitude WGS84 (CRS84 ou EPSG:4326); reprojetez d'abord le fichier, p. ex. ogr2ogr -t_srs EPSG:4326 sortie.geojson entree.geojson"
)

// CheckCRS accepts a missing or null legacy "crs" member, and one naming
// WGS84 lon/lat; anything else means projected coordinates that would be
// misread as degrees.
func CheckCRS(raw json.RawMessage) *i18n.Error {
	raw = nonNull(raw)
	if raw == nil {
		return nil
	}
	var crs struct {
		Type       string `json:"type"`
		Properties struct {
			Name string `json:"name"`
			Href string `json:"href"`
			Code any    `json:"code"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &crs); err != nil {
		return crsErr(fmt.Sprintf("the \"crs\" member is malformed (%v)", err), fmt.Sprintf("le membre \"crs\" est mal formé (%v)", err))
	}
	var name string
	switch strings.ToLower(crs.Type) {
	case "name":
		name = crs.Properties.Name
		if isWGS84(name) {
			return nil
		}
	case "epsg": // GeoJSON 2008 draft form: {"type": "EPSG", "properties": {"code": 4326}}
		name = "EPSG:" + fmt.Sprint(crs.Properties.Code)
		if name == "EPSG:4326" {
			return nil
		}
	case "link":
		h := text.Clip(crs.Properties.Href, text.Cell)
		return crsErr(fmt.Sprintf("the file declares its coordinate reference system by link (%q), which cannot be checked", h),
			fmt.Sprintf("le fichier déclare son système de coordonnées par un lien (%q), qui ne peut être vérifié", h))
	default:
		name = string(raw)
	}
	name = text.Clip(name, text.Cell)
	return crsErr(fmt.Sprintf("the file declares the coordinate reference system %q", name),
		fmt.Sprintf("le fichier déclare le système de coordonnées %q", name))
}

func crsErr(en, fr string) *i18n.Error {
	e := bad(en+"; "+wgs84OnlyEn, fr+"; "+wgs84OnlyFr)
	e.Field = "crs"
	return e
}

// isWGS84 recognises the usual spellings: urn:ogc:def:crs:OGC:1.3:CRS84,
// urn:ogc:def:crs:EPSG::4326, EPSG:4326 and the opengis.net URLs.
func isWGS84(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if strings.HasSuffix(n, "crs84") {
		return true
	}
	parts := strings.FieldsFunc(n, func(r rune) bool { return r == ':' || r == '/' })
	return len(parts) >= 2 && parts[len(parts)-1] == "4326" && slices.Contains(parts, "epsg")
}
