package live

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/requests"
)

// Assets is the asset index view: its follower applies the asset feed
// (AssetChanges, which carries each version) from its own cursor whenever
// asset changes come by, so the index lands in commit order.
type Assets struct {
	f *requests.AssetFollower
}

// StartAssets loads the tenant's assets (seeding an empty store with seed,
// see requests.StartAssets) into the index the server answers from;
// register the view with the stream for requests.ChangeAsset.
func StartAssets(ctx context.Context, store requests.AssetStore, tenant string, seed []assets.Asset, log *slog.Logger) (*Assets, error) {
	f, err := requests.StartAssets(ctx, store, tenant, seed, log)
	if err != nil {
		return nil, err
	}
	return &Assets{f: f}, nil
}

// Index is the index the view keeps current.
func (a *Assets) Index() *assets.Index { return a.f.Index() }

// Load implements View: the index was loaded by StartAssets; this brings
// it up to what the store holds now.
func (a *Assets) Load(ctx context.Context) error {
	_, err := a.f.CatchUp(ctx)
	return err
}

// Apply implements View.
func (a *Assets) Apply(ctx context.Context, _ []requests.Change) error {
	if _, err := a.f.CatchUp(ctx); err != nil {
		return fmt.Errorf("assets: %w", err)
	}
	return nil
}

// StartAssetsFrom is StartAssets seeded from file, the asset file's
// index (the bundled sample or serve --assets): the file only seeds an
// empty store, and the log says so when the store held assets already.
func StartAssetsFrom(ctx context.Context, store requests.AssetStore, tenant string, file *assets.Index, log *slog.Logger) (*Assets, error) {
	var seed []assets.Asset
	file.Scan(func(a assets.Asset) bool { seed = append(seed, a); return true })
	v, err := StartAssets(ctx, store, tenant, seed, log)
	if err != nil {
		return nil, err
	}
	if n := v.Index().Len(); len(seed) > 0 && n != len(seed) {
		log.InfoContext(ctx, "assets come from the store; the asset file only seeds an empty store (use pinward assets import)",
			"stored", n, "file", len(seed))
	}
	log.InfoContext(ctx, "assets loaded from the store", "assets", v.Index().Len(), "layers", v.Index().Layers())
	return v, nil
}
