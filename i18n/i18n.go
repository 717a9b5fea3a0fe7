// Package i18n holds pinward's two official languages: bilingual text, the
// errors every layer returns (a kind plus an English and a French message),
// and the choice of language from a request's locale or Accept-Language.
package i18n

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pinward/pinward/text"
	"golang.org/x/text/language"
)

// Lang is a language pinward speaks.
type Lang string

// The languages every resident-facing text exists in.
const (
	En Lang = "en"
	Fr Lang = "fr"
)

// Text is one message in English and French.
type Text struct {
	En string `json:"en"`
	Fr string `json:"fr"`
}

// In returns the text in lang, falling back to English.
func (t Text) In(lang Lang) string {
	if lang == Fr && t.Fr != "" {
		return t.Fr
	}
	return t.En
}

// T builds a Text from its two translations.
func T(en, fr string) Text { return Text{En: en, Fr: fr} }

// MaxEcho is the most runes of one argument a formatted text quotes: an
// error echoing what a client sent (a 1 MB phone number) stays small.
const MaxEcho = text.Reply

// Textf formats both translations with the same arguments, each string,
// error or byte slice among them clipped to MaxEcho runes.
func Textf(t Text, args ...any) Text {
	args = clipArgs(args)
	return Text{En: fmt.Sprintf(t.En, args...), Fr: fmt.Sprintf(t.Fr, args...)}
}

// clipArgs caps every text argument at the source, so no message built
// here can quote a value whole, whatever its caller forgot.
func clipArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = text.Clip(v, MaxEcho)
		case []byte:
			out[i] = text.Clip(string(v), MaxEcho)
		case error:
			if msg := v.Error(); len(msg) > MaxEcho {
				out[i] = text.Clip(msg, MaxEcho)
				continue
			}
			out[i] = v
		default:
			out[i] = a
		}
	}
	return out
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.French})

// Negotiate picks the language for a request: an explicit locale parameter
// ("fr", "fr_CA", "en-CA") wins, then the Accept-Language header; English when
// neither says anything we speak.
func Negotiate(locale, acceptLanguage string) Lang {
	if locale != "" {
		l := strings.ToLower(strings.ReplaceAll(locale, "_", "-"))
		switch {
		case l == "fr" || strings.HasPrefix(l, "fr-"):
			return Fr
		case l == "en" || strings.HasPrefix(l, "en-"):
			return En
		}
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, i, conf := matcher.Match(tags...)
			if conf != language.No && i == 1 {
				return Fr
			}
		}
	}
	return En
}

// Kind classifies an error for the API, which alone maps it to an HTTP status.
type Kind string

// The kinds of error pinward reports.
const (
	Invalid      Kind = "invalid"      // the input is malformed or out of range
	Outside      Kind = "outside"      // the location is outside the municipality
	NotFound     Kind = "not_found"    // the thing asked for does not exist
	Conflict     Kind = "conflict"     // the change conflicts with the current state (e.g. a stale version)
	Unauthorized Kind = "unauthorized" // no or unknown credentials
	Forbidden    Kind = "forbidden"    // credentials lack the role
	TooLarge     Kind = "too_large"    // the body or batch is over the limit
	Unavailable  Kind = "unavailable"  // a dependency is down; retry later
	Internal     Kind = "internal"     // a bug or an unexpected failure; never shown in detail
)

// Error is an error with a kind and a bilingual message safe to show to the
// person who made the request. Field names the input at fault, when known.
type Error struct {
	Kind    Kind
	Field   string
	Message Text
	Err     error // the underlying cause, for logs; never shown
}

func (e *Error) Error() string {
	msg := e.Message.En
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k about field, with a message formatted in
// both languages from the same arguments.
func Errorf(k Kind, field string, msg Text, args ...any) *Error {
	return &Error{Kind: k, Field: text.Clip(field, MaxEcho), Message: Textf(msg, args...)}
}

// KindOf returns the kind of err, Internal when it carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// MessageOf returns the bilingual message of err; a generic one when err
// carries none, so internals never reach a resident.
func MessageOf(err error) Text {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		if e.Field != "" {
			return Text{En: e.Field + ": " + e.Message.En, Fr: e.Field + " : " + e.Message.Fr}
		}
		return e.Message
	}
	return T("Something went wrong on our side. Please try again later.",
		"Une erreur s'est produite de notre côté. Veuillez réessayer plus tard.")
}
