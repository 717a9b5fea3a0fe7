package histimport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// record is one data row of a source file: its line (CSV) or position
// (JSON array, 1-based), its raw fields (in file order for CSV: what a row
// without an ID is keyed by) and the index of each lower-case column name
// in them (shared by every row of a CSV file).
type record struct {
	line int
	cols map[string]int
	raw  []string
	err  error // the row cannot be read: reported and skipped
}

// field returns the value of column c (lower case).
func (r record) field(c string) (string, bool) {
	i, ok := r.cols[c]
	if !ok {
		return "", false
	}
	return r.raw[i], true
}

// readFile calls fn for every data row of path.
func readFile(path, format string, fn func(record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	if format == "json" {
		return readJSON(r, fn)
	}
	return readCSV(r, fn)
}

func readCSV(r io.Reader, fn func(record) error) error {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3) //nolint:errcheck // peeked
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	cols := make(map[string]int, len(header))
	for i, h := range header {
		if c := strings.ToLower(strings.TrimSpace(h)); c != "" {
			if _, dup := cols[c]; !dup {
				cols[c] = i
			}
		}
	}
	width := len(header)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if err := fn(record{line: pe.StartLine, err: pe.Err}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		out := record{line: line, raw: rec, cols: cols}
		if len(rec) != width {
			out.err = fmt.Errorf("%d fields where the header has %d", len(rec), width)
		}
		if err := fn(out); err != nil {
			return err
		}
	}
}

func readJSON(r io.Reader, fn func(record) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return fmt.Errorf("want a JSON array of objects")
	}
	for n := 1; dec.More(); n++ {
		var obj map[string]any
		out := record{line: n}
		if err := dec.Decode(&obj); err != nil {
			return fmt.Errorf("record %d: %w", n, err)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys) // a map's order is random; the hash key must not be
		out.cols = make(map[string]int, len(obj))
		for _, k := range keys {
			v := obj[k]
			var s string
			switch v := v.(type) {
			case nil:
			case string:
				s = v
			case json.Number:
				s = v.String()
			case bool:
				s = strconv.FormatBool(v)
			default:
				b, _ := json.Marshal(v)
				s = string(b)
			}
			out.cols[strings.ToLower(k)] = len(out.raw)
			out.raw = append(out.raw, s)
		}
		if err := fn(out); err != nil {
			return err
		}
	}
	return nil
}
