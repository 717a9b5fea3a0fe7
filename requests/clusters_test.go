package requests

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/pinward/pinward/i18n"
)

// errNoClusters is what memStore answers to cluster calls: the Service
// checks below must refuse bad input before the store is reached, and
// pass good input through to it. The stores' own behaviour is the
// contract suite's (store/storetest/clusters.go).
var errNoClusters = errors.New("memStore keeps no clusters")

func (m *memStore) ListClusters(context.Context, ClusterFilter) ([]Cluster, error) {
	return nil, errNoClusters
}

func (m *memStore) GetCluster(context.Context, string, string) (Cluster, []Request, error) {
	return Cluster{}, nil, errNoClusters
}

func (m *memStore) MergeClusters(context.Context, ClusterMerge) (ClusterResult, error) {
	return ClusterResult{}, errNoClusters
}

func (m *memStore) SplitCluster(context.Context, ClusterSplit) (ClusterResult, error) {
	return ClusterResult{}, errNoClusters
}

func (m *memStore) TransitionCluster(context.Context, ClusterTransition) (ClusterResult, error) {
	return ClusterResult{}, errNoClusters
}

func TestClusterInputs(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		call  func() error
		kind  i18n.Kind
		field string
	}{
		{"merge into itself", func() error { _, err := w.svc.MergeClusters(ctx, "5", "5", "", "key:1"); return err }, i18n.Invalid, "into"},
		{"merge into nothing", func() error { _, err := w.svc.MergeClusters(ctx, "5", "", "", "key:1"); return err }, i18n.Invalid, "into"},
		{"merge into a bad ID", func() error { _, err := w.svc.MergeClusters(ctx, "5", "x", "", "key:1"); return err }, i18n.NotFound, "into"},
		{"merge from a bad ID", func() error { _, err := w.svc.MergeClusters(ctx, "05", "6", "", "key:1"); return err }, i18n.NotFound, "cluster_id"},
		{"merge without actor", func() error { _, err := w.svc.MergeClusters(ctx, "5", "6", "", ""); return err }, i18n.Invalid, "actor"},
		{"split nothing", func() error { _, err := w.svc.SplitCluster(ctx, "5", nil, "key:1"); return err }, i18n.Invalid, "requests"},
		{"split a bad ID", func() error { _, err := w.svc.SplitCluster(ctx, "5", []string{"7", "abc"}, "key:1"); return err }, i18n.Invalid, "requests"},
		{"split the anchor", func() error { _, err := w.svc.SplitCluster(ctx, "5", []string{"7", "5"}, "key:1"); return err }, i18n.Invalid, "requests"},
		{"close without note", func() error { _, err := w.svc.CloseCluster(ctx, "5", "  ", "", "", "key:1"); return err }, i18n.Invalid, "note"},
		{"close for a bad reason", func() error { _, err := w.svc.CloseCluster(ctx, "5", "fixed", "bored", "", "key:1"); return err }, i18n.Invalid, "reason"},
		{"close a bad ID", func() error { _, err := w.svc.CloseCluster(ctx, "-1", "fixed", "", "", "key:1"); return err }, i18n.NotFound, "cluster_id"},
		{"get a bad ID", func() error { _, _, err := w.svc.Cluster(ctx, "1e3"); return err }, i18n.NotFound, "cluster_id"},
		{"list an unknown category", func() error { _, err := w.svc.ListClusters(ctx, ClusterFilter{ServiceCode: "nope"}); return err }, i18n.Invalid, "category"},
		{"list a bad status", func() error { _, err := w.svc.ListClusters(ctx, ClusterFilter{Status: InProgress}); return err }, i18n.Invalid, "status"},
	} {
		err := tc.call()
		var e *i18n.Error
		if !errors.As(err, &e) || e.Kind != tc.kind || e.Field != tc.field {
			t.Errorf("%s: %v, want %s on %s", tc.name, err, tc.kind, tc.field)
		}
	}
	// Good input reaches the store.
	for name, call := range map[string]func() error{
		"merge": func() error { _, err := w.svc.MergeClusters(ctx, "5", "6", "", "key:1"); return err },
		"split": func() error { _, err := w.svc.SplitCluster(ctx, "5", []string{"9", "7", "9"}, "key:1"); return err },
		"close": func() error {
			_, err := w.svc.CloseCluster(ctx, "5", "Filled", ReasonDuplicate, "", "key:1")
			return err
		},
		"list": func() error {
			_, err := w.svc.ListClusters(ctx, ClusterFilter{ServiceCode: "pothole", Status: Closed})
			return err
		},
	} {
		if err := call(); !errors.Is(err, errNoClusters) {
			t.Errorf("%s: %v, want the store's answer", name, err)
		}
	}
}

// TestClusterLockKeys: a staff change takes the lock group of every
// category a Submit may lock, so the two never interleave.
func TestClusterLockKeys(t *testing.T) {
	w := newWorld(t)
	keys := w.svc.ClusterLockKeys()
	if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Errorf("keys not sorted and distinct: %q", keys)
	}
	for _, c := range w.svc.Catalog().Categories() {
		q := w.svc.clusterQuery(c, Request{}, w.now)
		if q == nil {
			continue
		}
		group, _ := NewRequest{Cluster: q}.ClusterLocks()
		if !slices.Contains(keys, group) {
			t.Errorf("category %s locks group %q, which staff changes do not take (%q)", c.Code, group, keys)
		}
	}
	if !slices.Contains(keys, "sample#clusters") {
		t.Errorf("no tenant key in %q", keys)
	}
}
