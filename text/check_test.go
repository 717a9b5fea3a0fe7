package text_test

import (
	"errors"
	"testing"

	"github.com/pinward/pinward/text"
)

func TestCheckValue(t *testing.T) {
	for s, want := range map[string]error{
		"Montréal": nil, "": nil, "a\x00b": text.ErrNUL, "\xff": text.ErrInvalidUTF8,
		"\xed\xa0\x80": text.ErrInvalidUTF8, // a surrogate encoded in UTF-8
	} {
		if err := text.CheckValue(s); !errors.Is(err, want) {
			t.Errorf("CheckValue(%q) = %v, want %v", s, err, want)
		}
	}
}

// TestScanner feeds each case whole and one byte at a time: a fault must
// be found wherever the pieces are cut.
func TestScanner(t *testing.T) {
	cases := []struct {
		in   string
		json bool
		want error
	}{
		{`{"a":"Montréal 🚲"}`, true, nil},
		{`{"a":"\u00e9\ud83d\udeb2 \\u0000 \"\u0000"}`, true, text.ErrNUL},
		{`{"a":"\\u0000"}`, true, nil}, // an escaped backslash, then text
		{`{"a":"\u0000"}`, true, text.ErrNUL},
		{`{"a":"\ud83d"}`, true, text.ErrLoneSurrogate},
		{`{"a":"\ud83dx"}`, true, text.ErrLoneSurrogate},
		{`{"a":"\ud83d\u0041"}`, true, text.ErrLoneSurrogate},
		{`{"a":"\udeb2"}`, true, text.ErrLoneSurrogate},
		{`{"a":"\uDEB2"}`, true, text.ErrLoneSurrogate},
		{`{"\u0000":1}`, true, text.ErrNUL},
		{"{\"a\":\"\xff\"}", true, text.ErrInvalidUTF8},
		{"{\"a\":\"\xc3\"}", true, text.ErrInvalidUTF8},
		{"caf\xc3", false, text.ErrInvalidUTF8},
		{"a,b\x00", false, text.ErrNUL},
		{`\u0000`, false, nil}, // not JSON: six characters
		{"id,name\n1,Montréal\n", false, nil},
	}
	for _, c := range cases {
		for _, step := range []int{len(c.in), 1, 2, 3} {
			s := text.Scanner{JSON: c.json}
			var err error
			for i := 0; i < len(c.in) && err == nil; i += step {
				err = s.Write([]byte(c.in[i:min(i+step, len(c.in))]))
			}
			if err == nil {
				err = s.Close()
			}
			if !errors.Is(err, c.want) {
				t.Errorf("%q in pieces of %d: %v, want %v", c.in, step, err, c.want)
			}
		}
	}
}
