package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/pinward/pinward/store/storetest"
)

func TestAssetContract(t *testing.T) {
	storetest.RunAssets(t, func(t *testing.T) storetest.Stores {
		s := open(t, filepath.Join(t.TempDir(), "pinward.db"))
		return storetest.Stores{Store: s}
	})
}
