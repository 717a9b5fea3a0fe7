package addresses

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/geojsonio"
	"github.com/pinward/pinward/i18n"
)

// Column names, lower case, tried in order. A label column holds the
// whole address; otherwise a number column and a street column make it.
var (
	labelCols  = []string{"address", "adresse", "full_address", "address_full", "civic_address", "adresse_complete", "adr_comple", "adresse_civique", "label"}
	numberCols = []string{"civic_number", "civic_no", "no_civique", "numero_civique", "house_number", "housenumber", "addr:housenumber", "number", "numero", "num", "civic"}
	streetCols = []string{"full_street_name", "street_name", "street", "nom_rue", "rue", "addr:street", "nom_voie", "odonyme"}
	unitCols   = []string{"unit", "suite", "appartement", "unite"}
	lonCols    = []string{"longitude", "long", "lon", "lng"}
	latCols    = []string{"latitude", "lat"}
	wktCols    = []string{"geom", "geometry", "wkt", "the_geom", "geometrie"}
)

// LoadFile reads the addresses of a CSV file (.csv) or a GeoJSON
// FeatureCollection of points (.geojson, .json); rows without a usable
// address or point are skipped and counted.
func LoadFile(path string) (*Index, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("addresses: %w", err)
	}
	defer f.Close()
	var (
		list    []Address
		skipped int
	)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".txt":
		list, skipped, err = ReadCSV(f)
	case ".geojson", ".json":
		list, skipped, err = ReadGeoJSON(f)
	default:
		return nil, 0, fmt.Errorf("addresses %s: name a .csv or .geojson file", path)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("addresses %s: %w", path, err)
	}
	if len(list) == 0 {
		return nil, 0, fmt.Errorf("addresses %s: no address with a point in it (%d rows skipped)", path, skipped)
	}
	return New(list), skipped, nil
}

// fields finds the columns of names (lower case) among header.
type fields map[string]int

func (f fields) find(names []string) int {
	for _, n := range names {
		if i, ok := f[n]; ok {
			return i
		}
	}
	return -1
}

// ReadCSV reads addresses from CSV with a header row: an address column
// (or a civic number and a street), and longitude and latitude columns
// (or a WKT POINT column) in WGS84 degrees.
func ReadCSV(r io.Reader) ([]Address, int, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, 0, fmt.Errorf("reading the header: %w", err)
	}
	f := fields{}
	for i, h := range head {
		if k := strings.ToLower(strings.TrimSpace(h)); k != "" {
			if _, dup := f[k]; !dup {
				f[k] = i
			}
		}
	}
	label, num, street, unit := f.find(labelCols), f.find(numberCols), f.find(streetCols), f.find(unitCols)
	lon, lat, wkt := f.find(lonCols), f.find(latCols), f.find(wktCols)
	if label < 0 && (num < 0 || street < 0) {
		return nil, 0, fmt.Errorf("no address column (%s) nor a civic number and a street column", strings.Join(labelCols, ", "))
	}
	if (lon < 0 || lat < 0) && wkt < 0 {
		return nil, 0, errors.New("no longitude and latitude columns nor a WKT POINT column")
	}
	cell := func(rec []string, i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	var (
		out     []Address
		skipped int
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				skipped++
				continue
			}
			return nil, 0, err
		}
		a := Address{Label: cell(rec, label)}
		if a.Label == "" {
			a.Label = compose(cell(rec, num), cell(rec, street), cell(rec, unit))
		}
		var p orb.Point
		var ok bool
		if lon >= 0 && lat >= 0 {
			p, ok = parsePoint(cell(rec, lon), cell(rec, lat))
		}
		if !ok && wkt >= 0 {
			p, ok = parseWKT(cell(rec, wkt))
		}
		if a.Label == "" || !ok {
			skipped++
			continue
		}
		a.Lon, a.Lat = p[0], p[1]
		out = append(out, a)
	}
	return out, skipped, nil
}

func compose(num, street, unit string) string {
	if street == "" {
		return ""
	}
	s := strings.TrimSpace(num + " " + street)
	if unit != "" {
		s += ", " + unit
	}
	return s
}

func parsePoint(lonS, latS string) (orb.Point, bool) {
	lon, err1 := strconv.ParseFloat(strings.ReplaceAll(lonS, ",", "."), 64)
	lat, err2 := strconv.ParseFloat(strings.ReplaceAll(latS, ",", "."), 64)
	p := orb.Point{lon, lat}
	if err1 != nil || err2 != nil || geo.ValidatePoint(p) != nil {
		return p, false
	}
	return p, true
}

// parseWKT reads "POINT (lon lat)" (or POINT Z).
func parseWKT(s string) (orb.Point, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "POINT") {
		return orb.Point{}, false
	}
	open, end := strings.IndexByte(u, '('), strings.LastIndexByte(u, ')')
	if open < 0 || end < open {
		return orb.Point{}, false
	}
	xy := strings.Fields(u[open+1 : end])
	if len(xy) < 2 {
		return orb.Point{}, false
	}
	return parsePoint(xy[0], xy[1])
}

// ReadGeoJSON reads a FeatureCollection of points (see geojsonio) whose
// properties name the address as a CSV's columns do.
func ReadGeoJSON(r io.Reader) ([]Address, int, error) {
	var (
		out     []Address
		skipped int
	)
	opts := geojsonio.Options{Name: i18n.T("the address file", "le fichier d'adresses"), Want: i18n.T("of Point features", "d'entités Point")}
	err := geojsonio.Read(r, opts, func(raw geojsonio.Raw) error {
		f, ierr := geojsonio.Decode(raw)
		if ierr != nil {
			skipped++
			return nil
		}
		cols := fields{}
		keys := f.Keys()
		for i, k := range keys {
			cols[strings.ToLower(k)] = i
		}
		text := func(names []string) string {
			i := cols.find(names)
			if i < 0 {
				return ""
			}
			s, _, _ := f.Text(keys[i])
			return strings.TrimSpace(s)
		}
		a := Address{Label: text(labelCols)}
		if a.Label == "" {
			a.Label = compose(text(numberCols), text(streetCols), text(unitCols))
		}
		p, perr := f.Point()
		if a.Label == "" || perr != nil {
			skipped++
			return nil
		}
		a.Lon, a.Lat = p[0], p[1]
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, skipped, nil
}
