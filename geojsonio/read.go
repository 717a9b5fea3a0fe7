package geojsonio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

// Options say what a document may be and how to name it in messages.
type Options struct {
	// Name is the document in messages, e.g. "the ward file" (default
	// "the file").
	Name i18n.Text
	// Single accepts a document that is one Feature.
	Single bool
	// Want describes the features expected, after "a FeatureCollection",
	// e.g. "of Polygon or MultiPolygon features".
	Want i18n.Text
}

// Raw is one feature as it appears in the document: its JSON, its position
// in the features array and the line it starts on. Single marks a document
// that is one Feature (Index 0, Line 1).
type Raw struct {
	JSON   json.RawMessage
	Index  int
	Line   int
	Single bool
}

// SyntaxError is a document that is not JSON, with where it stops being.
type SyntaxError struct {
	Line, Column int
	Err          error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Read reads a whole GeoJSON document from r and calls fn for each feature,
// in order; fn's error stops the read and is returned as it is. A read
// error from r (such as *http.MaxBytesError) is returned wrapped.
func Read(r io.Reader, o Options, fn func(Raw) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return ReadBytes(data, o, fn)
}

// ReadBytes is Read on a document already in memory.
func ReadBytes(data []byte, o Options, fn func(Raw) error) error {
	if o.Name.En == "" {
		o.Name = i18n.T("the file", "le fichier")
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // UTF-8 BOM, as Windows tools write
	if len(bytes.TrimSpace(data)) == 0 {
		return bad(o.Name.En+" is empty", o.Name.Fr+" est vide")
	}
	w := walker{data: data, dec: json.NewDecoder(bytes.NewReader(data)), line: 1, o: o}
	w.dec.UseNumber()
	return w.document(fn)
}

type walker struct {
	data []byte
	dec  *json.Decoder
	off  int // data[:off] has been counted into line
	line int
	o    Options
}

// lineAt returns the line of the first byte at or after off that is not
// space or a comma: where the next value starts.
func (w *walker) lineAt(off int) int {
	for off < len(w.data) && strings.IndexByte(" \t\r\n,", w.data[off]) >= 0 {
		off++
	}
	w.line += bytes.Count(w.data[w.off:off], []byte{'\n'})
	w.off = off
	return w.line
}

// syntax turns a decoding error into a *SyntaxError at its place in the
// document, inside an Invalid *i18n.Error.
func (w *walker) syntax(err error) error {
	off := int(w.dec.InputOffset())
	// The decoder's token offsets vary with where it noticed; decoding the
	// whole document again places every syntax error after its character.
	var v json.RawMessage
	if uerr := json.Unmarshal(w.data, &v); uerr != nil {
		err = uerr
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off = int(se.Offset)
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		off, err = len(w.data), errors.New("unexpected end of JSON input")
	}
	off = min(max(off, 0), len(w.data))
	pre := w.data[:off]
	line := bytes.Count(pre, []byte("\n")) + 1
	col := off - (bytes.LastIndexByte(pre, '\n') + 1)
	e := bad(w.o.Name.En+" is not valid JSON", w.o.Name.Fr+" n'est pas du JSON valide")
	e.Err = &SyntaxError{Line: line, Column: col, Err: err}
	return e
}

func (w *walker) document(fn func(Raw) error) error {
	tok, err := w.dec.Token()
	if err != nil {
		return w.syntax(err)
	}
	if tok != json.Delim('{') {
		return bad(fmt.Sprintf("%s is JSON %s, not a GeoJSON object", w.o.Name.En, kindOfToken(tok)),
			fmt.Sprintf("%s est du JSON (%s), pas un objet GeoJSON", w.o.Name.Fr, kindOfToken(tok)))
	}
	var typ string
	sawFeatures := false
	single := map[string]json.RawMessage{} // the members a single Feature needs
	index := 0
	for w.dec.More() {
		key, err := w.dec.Token()
		if err != nil {
			return w.syntax(err)
		}
		switch key {
		case "type":
			var v json.RawMessage
			if err := w.dec.Decode(&v); err != nil {
				return w.syntax(err)
			}
			if json.Unmarshal(v, &typ) != nil {
				return bad(fmt.Sprintf(`not GeoJSON: "type" is %s where GeoJSON expects a string`, kindOf(v)),
					fmt.Sprintf(`pas du GeoJSON : "type" est %s au lieu d'une chaîne`, kindOf(v)))
			}
		case "crs":
			var v json.RawMessage
			if err := w.dec.Decode(&v); err != nil {
				return w.syntax(err)
			}
			if err := CheckCRS(v); err != nil {
				return err
			}
		case "features":
			sawFeatures = true
			tok, err := w.dec.Token()
			if err != nil {
				return w.syntax(err)
			}
			if tok != json.Delim('[') {
				k := kindOfToken(tok)
				if tok == json.Delim('{') {
					k = "an object"
				}
				return bad(fmt.Sprintf(`not GeoJSON: "features" is %s where GeoJSON expects an array`, k),
					fmt.Sprintf(`pas du GeoJSON : "features" est %s au lieu d'un tableau`, k))
			}
			for w.dec.More() {
				line := w.lineAt(int(w.dec.InputOffset()))
				var raw json.RawMessage
				if err := w.dec.Decode(&raw); err != nil {
					return w.syntax(err)
				}
				if err := fn(Raw{JSON: raw, Index: index, Line: line}); err != nil {
					return err
				}
				index++
			}
			if _, err := w.dec.Token(); err != nil { // ']'
				return w.syntax(err)
			}
		default:
			var v json.RawMessage
			if err := w.dec.Decode(&v); err != nil {
				return w.syntax(err)
			}
			if s, isString := key.(string); isString && w.o.Single {
				single[s] = v
			}
		}
	}
	if _, err := w.dec.Token(); err != nil { // '}'
		return w.syntax(err)
	}
	if _, err := w.dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the GeoJSON object")
		}
		return w.syntax(err)
	}

	want := func() (string, string) {
		en, fr := "a FeatureCollection", "une FeatureCollection"
		if w.o.Single {
			en, fr = "a FeatureCollection (or a Feature)", "une FeatureCollection (ou une Feature)"
		}
		if w.o.Want.En != "" {
			en, fr = en+" "+w.o.Want.En, fr+" "+w.o.Want.Fr
		}
		return en, fr
	}
	switch typ {
	case "FeatureCollection":
		if !sawFeatures {
			return bad(`the FeatureCollection has no "features" array`, `la FeatureCollection n'a pas de tableau "features"`)
		}
		return nil
	case "Feature":
		if w.o.Single && !sawFeatures {
			single["type"] = json.RawMessage(`"Feature"`)
			b, err := json.Marshal(single)
			if err != nil {
				return fmt.Errorf("re-encode the feature: %w", err)
			}
			return fn(Raw{JSON: b, Line: 1, Single: true})
		}
	case "":
		en, fr := want()
		return bad(fmt.Sprintf(`not GeoJSON: the top-level object has no "type"; want %s`, en),
			fmt.Sprintf(`pas du GeoJSON : l'objet n'a pas de "type"; %s est attendue`, fr))
	}
	en, fr := want()
	return bad(fmt.Sprintf("%s is a GeoJSON %s; want %s", w.o.Name.En, text.Clip(typ, text.Short), en),
		fmt.Sprintf("%s est un %s GeoJSON; %s est attendue", w.o.Name.Fr, text.Clip(typ, text.Short), fr))
}

// bad is an Invalid error with no field.
func bad(en, fr string) *i18n.Error {
	return &i18n.Error{Kind: i18n.Invalid, Message: i18n.T(en, fr)}
}

func kindOfToken(tok json.Token) string {
	switch tok {
	case json.Delim('['):
		return "array"
	case json.Delim('{'):
		return "object"
	}
	switch tok.(type) {
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

// kindOf names the JSON kind of a raw value, with its article.
func kindOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
