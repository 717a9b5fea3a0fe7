// Package cli is the command-line plumbing shared by cmd/pinward and the
// benchmark harness (internal/bench): the process environment a command may
// touch, usage errors (exit status 2), flag sets whose --help goes to
// stdout, and parsers for flag values the commands share.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Env is everything a subcommand may touch of the process, so tests can run
// commands in-process with their own streams and environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// UsageError marks errors caused by how pinward was called or by an input
// file it refuses: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// UsageErrorf formats a UsageError.
func UsageErrorf(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// ExitCode is the process exit status for a command's error: 0 for none
// or --help, 2 for a usage error, 1 for any other failure.
func ExitCode(err error) int {
	var ue UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

// NewFlags returns a flag set for a subcommand whose --help prints
// synopsis, the description and the flags.
func NewFlags(env Env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: pinward %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// ParseFlags parses args; --help prints usage on stdout and returns
// flag.ErrHelp, and a bad flag or a stray argument is a usage error.
func ParseFlags(fs *flag.FlagSet, env Env, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return UsageError{err}
	}
	if fs.NArg() > 0 {
		return UsageErrorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// ParseWindow reads a span given as 0, a number of days ("30d", "1.5d")
// or a Go duration ("72h").
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	switch {
	case s == "0":
		return 0, nil
	case strings.HasSuffix(s, "d"):
		days, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil || math.IsNaN(days) || math.IsInf(days, 0) || days > 100*366 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(days * float64(24*time.Hour))
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not 0, a number of days (30d) or a duration (72h)", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// ParseTime accepts a date (YYYY-MM-DD, midnight UTC), RFC 3339, or
// "YYYY-MM-DD HH:MM:SS" (UTC).
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD), RFC 3339 time or YYYY-MM-DD HH:MM:SS", s)
}

// ParseDay reads a report's --from or --to: a day in loc (an end day
// includes the whole day) or an RFC 3339 time; "" is the zero time.
func ParseDay(s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a day (2026-03-14) or an RFC 3339 time", s)
	}
	if end {
		t = t.AddDate(0, 0, 1).Add(-time.Microsecond)
	}
	return t.UTC(), nil
}

// ParseExpiry reads a key's --expires: a date (midnight UTC) or an RFC
// 3339 time; "" is the zero time, never.
func ParseExpiry(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2027-01-01) or an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// ParseInstant reads RFC 3339, or a date and time without offset in loc
// (2026-06-23T15:00, 2026-06-23 15:00, with or without seconds).
func ParseInstant(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339 (2026-06-23T15:00:00-04:00) or a local time (2026-06-23T15:00)", s)
}

// SplitArgs separates the operands of args from its flags, so operands
// may come before, between or after the flags: every flag takes a value
// (as "-f v" or "-f=v") except the help flags. Everything after "--" is
// an operand.
func SplitArgs(args []string) (flags, operands []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(operands, args[i+1:]...)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && a != "-h" && a != "--help" && a != "-help" {
				i++
				flags = append(flags, args[i])
			}
		default:
			operands = append(operands, a)
		}
	}
	return flags, operands
}

// CheckPublicURL refuses a --public-url that is not an absolute http or
// https URL; "" (none given) passes.
func CheckPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url must be an http or https URL, not %q", s)
	}
	return nil
}

// ParsePeriod reads the --from and --to flags of a report: days
// (YYYY-MM-DD in loc, --to inclusive) or RFC 3339 times. --from defaults to
// 90 days before now, --to to none (open-ended). Errors name the flag.
func ParsePeriod(from, to string, loc *time.Location, now time.Time) (start, end time.Time, err error) {
	if start, err = ParseDay(from, loc, false); err != nil {
		return start, end, fmt.Errorf("--from: %w", err)
	}
	if end, err = ParseDay(to, loc, true); err != nil {
		return start, end, fmt.Errorf("--to: %w", err)
	}
	if start.IsZero() {
		start = now.UTC().AddDate(0, 0, -90)
	}
	if !end.IsZero() && end.Before(start) {
		return start, end, errors.New("--to is before --from")
	}
	return start, end, nil
}

// Subcommands runs a command made of subcommands (keys create, sla due):
// args[0] names one of subs, which gets the arguments after it. -h,
// --help or -help prints "Usage: pinward SYNOPSIS" and help on stdout.
// No subcommand or an unknown one is missing's to answer (a usage error
// in the command's own words; sub is "" when none was given).
func Subcommands(env Env, args []string, synopsis, help string, missing func(sub string) error, subs map[string]func(args []string) error) error {
	if len(args) == 0 {
		return missing("")
	}
	if run, ok := subs[args[0]]; ok {
		return run(args[1:])
	}
	switch args[0] {
	case "-h", "--help", "-help":
		_, err := fmt.Fprintf(env.Stdout, "Usage: pinward %s\n%s", synopsis, help)
		return err
	}
	return missing(args[0])
}
