package dispatch

import (
	"net/url"
	"strings"
)

// A connector URL may carry credentials (https://user:password@host/…),
// which net/http sends as Basic authentication. They must never reach a
// log or a work order's last_error, which every staff key can read.

// redactURL is raw with its password replaced by "xxxxx".
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}

// scrubbed is an error whose message had a URL's credentials taken out;
// it still unwraps to the original, so errors.Is and As see through it.
type scrubbed struct {
	msg string
	err error
}

func (e scrubbed) Error() string { return e.msg }
func (e scrubbed) Unwrap() error { return e.err }

// scrub takes raw's password out of err's message wherever it shows:
// the URL as written, its encoded user information, the decoded password.
// net/http already masks the password in the URLs it quotes; url.Parse
// errors and connector messages may not.
func scrub(err error, raw string) error {
	if err == nil {
		return nil
	}
	u, perr := url.Parse(raw)
	if perr != nil {
		// The URL cannot be taken apart, and the message may quote it
		// (escaped): none of it is kept.
		return scrubbed{"the connector's URL does not parse", err}
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), raw, u.Redacted())
	msg = strings.ReplaceAll(msg, u.User.String(), u.User.Username()+":xxxxx")
	msg = strings.ReplaceAll(msg, pw, "xxxxx")
	if msg == err.Error() {
		return err
	}
	return scrubbed{msg, err}
}
