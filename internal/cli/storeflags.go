package cli

import (
	"context"
	"flag"

	"github.com/pinward/pinward/requests"
)

// StoreFlags chooses and opens the store: internal/storeflags.Flags, given
// by cmd to the commands that live in packages (only the wiring opens a
// store).
type StoreFlags interface {
	Register(fs *flag.FlagSet)
	Parse(fs *flag.FlagSet, env Env, args []string) error
	Open(ctx context.Context) (requests.Store, func(), error)
}
