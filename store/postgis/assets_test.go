package postgis_test

import (
	"testing"

	"github.com/pinward/pinward/store/storetest"
)

func TestAssetContract(t *testing.T) {
	storetest.RunAssets(t, func(t *testing.T) storetest.Stores {
		s := open(t)
		return storetest.Stores{Store: s}
	})
}
