// Package assetimport is `pinward assets import`: an asset file read as one
// layer and written to the store in batches, as PUT /api/v1/assets does.
package assetimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/geocode"
	"github.com/pinward/pinward/requests"
)

// maxListedErrors is how many bad rows Read prints before summing up.
const maxListedErrors = 20

// Read loads file as layer, each asset with its version or
// defaultVersion. Any bad row refuses the whole file (a usage error, with
// the rows listed on stderr): an import is a sync, and a silently dropped
// asset would look retired to nobody.
func Read(stderr io.Writer, file, columns, layer string, defaultVersion int64) ([]assets.Asset, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, cli.UsageErrorf("asset file: %v", err)
	}
	list, rowErrs, err := geocode.LoadLayer(b, file, columns, layer, defaultVersion)
	if err != nil {
		return nil, cli.UsageErrorf("asset file %s: %v", file, err)
	}
	if len(rowErrs) > 0 {
		for i, re := range rowErrs {
			if i == maxListedErrors {
				fmt.Fprintf(stderr, "asset file %s: ... and %d more\n", file, len(rowErrs)-i)
				break
			}
			fmt.Fprintf(stderr, "asset file %s: %v\n", file, re)
		}
		return nil, cli.UsageErrorf("asset file %s: %d bad row(s); nothing imported", file, len(rowErrs))
	}
	if err := requests.CheckAssetBatch(list); err != nil {
		printBatchError(stderr, err, 0)
		return nil, cli.UsageErrorf("asset file %s: %v", file, err)
	}
	return list, nil
}

// Result counts what an Import wrote.
type Result struct {
	Applied, Unchanged int
	Elapsed            time.Duration
}

// Import upserts list into the tenant's assets, batch assets per
// transaction (each all or nothing), reporting progress on stderr. A
// batch the store refuses stops the import there; running it again is
// safe, since equal versions change nothing.
func Import(ctx context.Context, st requests.AssetStore, stderr io.Writer, tenant, layer string, list []assets.Asset, batch int) (Result, error) {
	prog := cli.NewProgress(stderr, "assets import "+layer)
	var res Result
	for start := 0; start < len(list); start += batch {
		end := min(start+batch, len(list))
		r, err := st.UpsertAssets(ctx, requests.AssetUpsert{Tenant: tenant, Assets: list[start:end], At: time.Now().UTC().Truncate(time.Microsecond)})
		if err != nil {
			printBatchError(stderr, err, start)
			return res, fmt.Errorf("batch at asset %d: %w (%d applied before it)", start, err, res.Applied)
		}
		res.Applied += r.Applied
		res.Unchanged += r.Unchanged
		for n := start + 1; n <= end; n++ {
			prog.Tick(n)
		}
	}
	res.Elapsed = time.Since(prog.Start)
	return res, nil
}

// printBatchError lists the refused assets of a batch on stderr.
func printBatchError(stderr io.Writer, err error, offset int) {
	var be *requests.AssetBatchError
	if !errors.As(err, &be) {
		return
	}
	for _, f := range be.Features {
		fmt.Fprintf(stderr, "asset %d (%s): %s\n", offset+f.Index+1, requests.AssetKey(f.Layer, f.ID), f.Err.Message.En)
	}
	if be.Total > len(be.Features) {
		fmt.Fprintf(stderr, "... and %d more\n", be.Total-len(be.Features))
	}
}
