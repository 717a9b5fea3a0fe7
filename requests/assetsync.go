package requests

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
)

// SeedVersion is the version of assets seeded from a file at a server's
// first start: the lowest, so any later import or sync replaces them, and
// two servers seeding at once write the same thing once.
const SeedVersion = 1

// AssetFollower keeps one server's assets.Index equal to the store's
// assets by applying the asset feed (AssetChanges, which carries each
// version) from a cursor. Only the follower changes the index, so changes
// land in commit order even when several servers write. The change stream
// (package live) calls CatchUp when asset changes come by. It is safe for
// concurrent use.
type AssetFollower struct {
	store  AssetStore
	ix     *assets.Index
	tenant string
	log    *slog.Logger

	mu     sync.Mutex // one catch-up at a time
	cursor int64
}

// StartAssets loads the tenant's assets from the store into a new Index,
// first seeding the store with seed (at SeedVersion when their Version is
// zero) when it holds no asset layer at all, and returns a follower
// positioned after what it loaded.
func StartAssets(ctx context.Context, store AssetStore, tenant string, seed []assets.Asset, log *slog.Logger) (*AssetFollower, error) {
	if log == nil {
		log = slog.Default()
	}
	layers, err := store.AssetLayers(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("assets: list stored layers: %w", err)
	}
	if len(layers) == 0 && len(seed) > 0 {
		batch := make([]assets.Asset, len(seed))
		copy(batch, seed)
		for i := range batch {
			if batch[i].Version == 0 {
				batch[i].Version = SeedVersion
			}
		}
		res, err := store.UpsertAssets(ctx, AssetUpsert{Tenant: tenant, Assets: batch, At: time.Now().UTC().Truncate(time.Microsecond)})
		if err != nil && i18n.KindOf(err) != i18n.Conflict { // a conflict: another server seeded newer data first
			return nil, fmt.Errorf("assets: seed the store: %w", err)
		}
		log.InfoContext(ctx, "seeded the asset store", "assets", len(batch), "applied", res.Applied)
	}
	list, cursor, err := store.LoadAssets(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("assets: load from the store: %w", err)
	}
	ix, err := assets.NewIndex(list)
	if err != nil {
		return nil, fmt.Errorf("assets: index stored assets: %w", err)
	}
	return &AssetFollower{store: store, ix: ix, tenant: tenant, log: log, cursor: cursor}, nil
}

// NewAssetFollower returns a follower that applies changes after cursor to
// ix.
func NewAssetFollower(store AssetStore, ix *assets.Index, tenant string, cursor int64, log *slog.Logger) *AssetFollower {
	if log == nil {
		log = slog.Default()
	}
	return &AssetFollower{store: store, ix: ix, tenant: tenant, log: log, cursor: cursor}
}

// Index returns the index the follower keeps current.
func (f *AssetFollower) Index() *assets.Index { return f.ix }

// Cursor returns the Seq of the last change applied.
func (f *AssetFollower) Cursor() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor
}

// CatchUp applies every change committed after the cursor and returns how
// many it applied.
func (f *AssetFollower) CatchUp(ctx context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for {
		changes, err := f.store.AssetChanges(ctx, f.tenant, f.cursor, MaxAssetChanges)
		if err != nil {
			return n, fmt.Errorf("assets: read the change feed after %d: %w", f.cursor, err)
		}
		if len(changes) == 0 {
			return n, nil
		}
		f.apply(changes)
		f.cursor = changes[len(changes)-1].Seq
		n += len(changes)
		if len(changes) < MaxAssetChanges {
			return n, nil
		}
	}
}

// apply applies changes in order: runs of upserts as one batch (one new
// snapshot), retirements one by one.
func (f *AssetFollower) apply(changes []AssetChange) {
	var run []assets.Asset
	flush := func() {
		if len(run) == 0 {
			return
		}
		if err := f.ix.Upsert(run); err != nil {
			// The feed is in commit order, so this only happens when the
			// index was built from newer data than the feed's start: keep
			// what applies, one by one.
			for _, a := range run {
				if err := f.ix.Upsert([]assets.Asset{a}); err != nil {
					f.log.Warn("asset change not applied", "asset", AssetKey(a.Layer, a.ID), "err", err)
				}
			}
		}
		run = run[:0]
	}
	for _, c := range changes {
		switch c.Op {
		case AssetUpserted:
			// One run may not hold an asset twice at one version (a
			// retire between them is flushed first), so Upsert takes it.
			run = append(run, c.Asset)
		case AssetRetired:
			flush()
			f.ix.Delete(c.Asset.Layer, c.Asset.ID)
		}
	}
	flush()
}
