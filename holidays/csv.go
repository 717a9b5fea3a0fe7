package holidays

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
)

// WriteCSV writes list as CSV to w: a header date,name_en,name_fr, then
// one line per holiday, the date as YYYY-MM-DD. Nothing is written when
// the CSV cannot be built whole.
func WriteCSV(w io.Writer, list []Holiday) error {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"date", "name_en", "name_fr"})
	for _, h := range list {
		cw.Write([]string{h.DateString(), h.Name.En, h.Name.Fr})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("holidays: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}
