package geo

import "fmt"

// InvalidError says why a piece of input geometry was refused. Feature names
// the offending input (a feature ID, a CSV line, a request field) when the
// caller knows it; Reason is a short English sentence for logs and operators.
type InvalidError struct {
	Feature string
	Reason  string
}

func (e *InvalidError) Error() string {
	if e.Feature == "" {
		return "invalid geometry: " + e.Reason
	}
	return fmt.Sprintf("invalid geometry in %s: %s", e.Feature, e.Reason)
}

func invalid(format string, args ...any) *InvalidError {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// Named returns err with the feature name filled in when err is an
// *InvalidError without one; other errors are returned unchanged.
func Named(err error, feature string) error {
	if e, ok := err.(*InvalidError); ok && e.Feature == "" {
		return &InvalidError{Feature: feature, Reason: e.Reason}
	}
	return err
}
