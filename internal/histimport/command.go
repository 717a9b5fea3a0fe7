package histimport

import (
	"context"
	"fmt"
	"strings"

	"github.com/pinward/pinward/internal/cli"
)

const help = `
Loads historical requests from the files a municipality's earlier system
published. --source names a built-in mapping (ottawa, windsor, la,
montreal: columns, date formats, statuses, channels, the category map to
the catalog and ward spellings); --mapping FILE describes any other
city's file in the same JSON format (see the README, "Import").

Rows with coordinates are located in the ward in force at their date
(--wards) and at their nearest asset of their category's layers
(--assets), and clustered by the catalog's duplicate rules. Rows without
coordinates keep the ward their source names, matched by number or name;
they count in reports but are not on the map. Unmapped categories are
stored as "other" and listed at the end. A bad row is reported with its
line and skipped. Rows are keyed by the source and its ID (a hash of the
row and its occurrence when the file has none): importing the same file
again changes nothing. Progress and bad rows on stderr, the summary on
stdout. PostGIS is loaded through COPY, SQLite in batched transactions.
`

// Command is `pinward import --source S [--mapping F] FILE… [--data-dir D | --db URL]`.
func Command(ctx context.Context, env cli.Env, args []string, sf cli.StoreFlags) error {
	fs := cli.NewFlags(env, "import", "import --source ottawa|windsor|la|montreal [--mapping F] FILE… [--data-dir D | --db URL]", help)
	source := fs.String("source", "", "built-in `source`: "+strings.Join(Sources(), ", ")+" (with --mapping: the name rows are keyed under)")
	mapping := fs.String("mapping", "", "mapping `file` (JSON) for another city's format")
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`")
	categories := fs.String("categories", "", "service catalog `JSON` (default: the bundled sample's)")
	maxBad := fs.Int("max-bad-rows", 20, "list at most `n` bad rows (all are counted)")
	var spatial cli.SpatialFlags
	spatial.Register(fs)
	sf.Register(fs)
	flags, files := cli.SplitArgs(args)
	if err := sf.Parse(fs, env, flags); err != nil {
		return err
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 {
		return cli.UsageErrorf("import needs at least one FILE")
	}
	var m *Mapping
	var err error
	switch {
	case *mapping != "":
		if m, err = LoadMapping(*mapping); err != nil {
			return cli.UsageError{Err: err}
		}
		if *source != "" {
			m.Source = *source
		}
	case *source == "":
		return cli.UsageErrorf("--source (%s) or --mapping is required", strings.Join(Sources(), ", "))
	default:
		if m, err = Builtin(*source); err != nil {
			return cli.UsageError{Err: err}
		}
	}
	catalog, err := cli.LoadCatalog(*categories)
	if err != nil {
		return err
	}
	set, ix, err := spatial.LoadIn(env, catalog.Location())
	if err != nil {
		return err
	}
	st, closeStore, err := sf.Open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	sum, err := Import(ctx, Config{Tenant: *tenant, Mapping: m, Catalog: catalog, Wards: set, Assets: ix,
		Store: st, Log: env.Stderr, MaxBadRows: *maxBad}, files)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	sum.Write(env.Stdout)
	return nil
}
