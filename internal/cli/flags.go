package cli

import (
	"bytes"
	"flag"
	"log/slog"
	"os"
	"strings"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
)

// LoadCatalog reads the service catalog file, the bundled sample's when
// file is empty.
func LoadCatalog(file string) (*requests.Catalog, error) {
	b, name := data.SampleCategoriesJSON(), "bundled sample categories"
	if file != "" {
		var err error
		if b, err = os.ReadFile(file); err != nil {
			return nil, UsageErrorf("--categories: %v", err)
		}
		name = file
	}
	c, err := requests.LoadCatalog(bytes.NewReader(b))
	if err != nil {
		return nil, UsageErrorf("category file %s: %v", name, err)
	}
	return c, nil
}

// LogFlags choose the logger main owns.
type LogFlags struct {
	format, level string
}

// Register adds --log-format and --log-level to fs.
func (lf *LogFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&lf.format, "log-format", "text", "log `format` on stderr: text or json")
	fs.StringVar(&lf.level, "log-level", "info", "log `level`: debug (every request), info, warn or error")
}

// Logger is the logger the flags ask for, on env.Stderr.
func (lf *LogFlags) Logger(env Env) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(lf.level)); err != nil {
		return nil, UsageErrorf("--log-level: %q is not debug, info, warn or error", lf.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch lf.format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	}
	return nil, UsageErrorf("--log-format: %q is not text or json", lf.format)
}

// ParseEnvFlags parses args, then gives every flag not on the command line
// the value of PINWARD_<FLAG> when that is set, so a container can be
// configured by its environment alone.
// It returns the flags given on the command line.
func ParseEnvFlags(fs *flag.FlagSet, env Env, args []string) (map[string]bool, error) {
	if err := ParseFlags(fs, env, args); err != nil {
		return nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "PINWARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := env.Getenv(name)
		if given[f.Name] || v == "" || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = UsageErrorf("%s: %v", name, e)
		}
	})
	return given, err
}
