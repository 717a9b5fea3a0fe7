package text

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// The faults CheckValue and Scanner find.
var (
	ErrInvalidUTF8   = errors.New("invalid UTF-8")
	ErrNUL           = errors.New("NUL character")
	ErrLoneSurrogate = errors.New("lone UTF-16 surrogate escape")
)

// CheckValue reports whether s can be stored and shown as text: valid
// UTF-8 without NUL. PostgreSQL refuses both in text columns; SQLite would
// store them and hand them on.
func CheckValue(s string) error {
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8
	}
	if strings.IndexByte(s, 0) >= 0 {
		return ErrNUL
	}
	return nil
}

// Printable is s with invalid UTF-8 and NUL replaced by U+FFFD, for
// quoting a value that failed CheckValue.
func Printable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Scanner checks a stream of bytes, written in pieces of any size, is
// text: valid UTF-8 without NUL. With JSON set it also refuses the
// escapes \u0000 and a UTF-16 surrogate escape that is not a high one
// followed by a low one, which decoders silently turn into U+0000 and
// U+FFFD. It knows only enough JSON to find escapes inside strings; the
// decoder still judges the syntax.
type Scanner struct {
	JSON bool

	pend  [utf8.UTFMax]byte // an incomplete UTF-8 sequence at the end of the last piece
	npend int

	inString bool
	esc      int  // 0: none; 1: after '\'; 2 to 5: reading the 4 hex digits of \u
	hex      rune // the \u value so far
	wantLow  int  // after a high surrogate: 1 expects '\', 2 expects 'u'
	lowEsc   bool // the \u being read must be a low surrogate
}

// Write checks the next piece of the stream.
func (s *Scanner) Write(p []byte) error {
	if s.JSON {
		for _, b := range p {
			if err := s.jsonByte(b); err != nil {
				return err
			}
		}
	} else if bytes.IndexByte(p, 0) >= 0 {
		return ErrNUL
	}
	i := 0
	if s.npend > 0 {
		for s.npend < utf8.UTFMax && i < len(p) && !utf8.FullRune(s.pend[:s.npend]) {
			s.pend[s.npend] = p[i]
			s.npend++
			i++
		}
		if !utf8.FullRune(s.pend[:s.npend]) {
			return nil // p ended inside the sequence
		}
		if !utf8.Valid(s.pend[:s.npend]) {
			return ErrInvalidUTF8
		}
		s.npend = 0
	}
	rest := p[i:]
	k := len(rest)
	for j := len(rest) - 1; j >= 0 && j >= len(rest)-(utf8.UTFMax-1); j-- {
		if utf8.RuneStart(rest[j]) {
			if !utf8.FullRune(rest[j:]) {
				k = j
			}
			break
		}
	}
	if !utf8.Valid(rest[:k]) {
		return ErrInvalidUTF8
	}
	s.npend = copy(s.pend[:], rest[k:])
	return nil
}

// Close reports a stream that ended inside a UTF-8 sequence.
func (s *Scanner) Close() error {
	if s.npend > 0 {
		return ErrInvalidUTF8
	}
	if s.wantLow != 0 {
		return ErrLoneSurrogate
	}
	return nil
}

func (s *Scanner) jsonByte(b byte) error {
	if b == 0 {
		return ErrNUL
	}
	if !s.inString {
		if b == '"' {
			s.inString = true
		}
		return nil
	}
	switch {
	case s.wantLow == 1:
		if b != '\\' {
			return ErrLoneSurrogate
		}
		s.wantLow = 2
		return nil
	case s.wantLow == 2:
		if b != 'u' {
			return ErrLoneSurrogate
		}
		s.wantLow, s.esc, s.hex, s.lowEsc = 0, 2, 0, true
		return nil
	case s.esc == 1:
		s.esc = 0
		if b == 'u' {
			s.esc, s.hex = 2, 0
		}
		return nil
	case s.esc >= 2:
		d, ok := hexDigit(b)
		if !ok {
			s.esc, s.lowEsc = 0, false // the decoder refuses it
			return nil
		}
		s.hex = s.hex<<4 | d
		if s.esc++; s.esc < 6 {
			return nil
		}
		s.esc = 0
		return s.escaped()
	case b == '\\':
		s.esc = 1
	case b == '"':
		s.inString = false
	}
	return nil
}

// escaped judges a complete \uXXXX.
func (s *Scanner) escaped() error {
	low := s.hex >= 0xDC00 && s.hex <= 0xDFFF
	if s.lowEsc {
		s.lowEsc = false
		if !low {
			return ErrLoneSurrogate
		}
		return nil
	}
	switch {
	case s.hex == 0:
		return ErrNUL
	case s.hex >= 0xD800 && s.hex <= 0xDBFF:
		s.wantLow = 1
	case low:
		return ErrLoneSurrogate
	}
	return nil
}

func hexDigit(b byte) (rune, bool) {
	switch {
	case b >= '0' && b <= '9':
		return rune(b - '0'), true
	case b >= 'a' && b <= 'f':
		return rune(b-'a') + 10, true
	case b >= 'A' && b <= 'F':
		return rune(b-'A') + 10, true
	}
	return 0, false
}
