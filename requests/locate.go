package requests

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/wards"
)

// NearbyRadiusM is the least radius Locate searches for open clusters to
// offer a resident ("is this the same issue?"): wider than most duplicate
// rules, because a resident's pin is rarely where the first reporter's was.
const NearbyRadiusM = 75

// maxNearby is how many clusters Locate offers at most.
const maxNearby = 5

// Location is what a resident is told about a point before submitting:
// its ward, the asset the request would be about, and the open clusters
// of the same issue nearby.
type Location struct {
	Point orb.Point
	Ward  *wards.Ward
	// Asset is the nearest asset of the category's layers within its
	// radius; AssetLayer is empty when there is none (or no category).
	AssetLayer     string
	AssetID        string
	AssetDistanceM float64
	// Nearby are the open clusters of the category (or an equivalent)
	// within max(NearbyRadiusM, the rule's distance) and the rule's time
	// window, nearest first.
	Nearby []NearbyCluster
	// Joins is the ClusterID a request submitted here now would join
	// (the duplicate rule's pick), "" for a new cluster.
	Joins string
}

// NearbyCluster is one open cluster near a point.
type NearbyCluster struct {
	ClusterID   string
	ServiceCode string
	// Point is the position of the cluster's request nearest to the point,
	// and DistanceM its distance in metres.
	Point       orb.Point
	DistanceM   float64
	Count       int    // requests of the cluster found in the search area
	Status      Status // of that nearest request
	Description string
}

// Locate answers what Submit would decide about a point, without storing
// anything: the ward in force now (wards.OutsideError() when none), the
// nearest asset of serviceCode's layers and the open clusters nearby.
// serviceCode may be empty: then only the ward is located.
func (s *Service) Locate(ctx context.Context, p orb.Point, serviceCode string) (Location, error) {
	if err := checkPoint(&p); err != nil {
		return Location{}, err
	}
	var cat Category
	if serviceCode != "" {
		var ok bool
		if cat, ok = s.cfg.Catalog.Category(serviceCode); !ok {
			return Location{}, invalid("service_code", i18n.T("there is no service %q", "il n'existe aucun service %q"), clip(serviceCode))
		}
	}
	now := s.now()
	ward, ok := s.cfg.Wards.Locate(p, now)
	if !ok {
		swapped := orb.Point{p[1], p[0]}
		if geo.ValidatePoint(swapped) == nil {
			if _, ok := s.cfg.Wards.Locate(swapped, now); ok {
				return Location{}, swappedError(p)
			}
		}
		return Location{}, wards.OutsideError()
	}
	loc := Location{Point: p, Ward: ward}
	if serviceCode == "" {
		return loc, nil
	}
	req := Request{TenantID: s.cfg.Tenant, ServiceCode: cat.Code, Point: p}
	if len(cat.AssetLayers) > 0 && s.cfg.Assets != nil {
		if a, d, ok := s.cfg.Assets.Nearest(p, cat.AssetRadiusM, cat.AssetLayers...); ok {
			loc.AssetLayer, loc.AssetID, loc.AssetDistanceM = a.Layer, a.ID, math.Round(d*100)/100
			req.AssetLayer, req.AssetID = a.Layer, a.ID
		}
	}
	q := s.clusterQuery(cat, req, now)
	if q == nil {
		return loc, nil // the category clusters nothing: there is nothing to join
	}
	radius := max(NearbyRadiusM, q.DistanceM)
	// The search area is wider than the rule's distance; a request naming
	// the same asset joins at any distance, so its cluster is offered too.
	// The store reads both by index: correct however many are open.
	near := *q
	near.Bound = geo.NewRuler(p[1]).Buffer(p, radius)
	near.DistanceM = radius
	found, err := s.cfg.Store.OpenRequestsNear(ctx, near)
	if err != nil {
		return Location{}, err
	}
	loc.Joins = q.Pick(found)
	byCluster := map[string]*NearbyCluster{}
	seen := map[int64]bool{}
	for _, r := range found {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		d := geo.Distance(p, r.Point)
		sameAsset := q.AssetID != "" && r.AssetID == q.AssetID && r.AssetLayer == q.AssetLayer
		if d > radius && !sameAsset {
			continue
		}
		id := r.ClusterID
		if id == "" {
			id = r.ServiceRequestID
		}
		c := byCluster[id]
		if c == nil {
			c = &NearbyCluster{ClusterID: id, DistanceM: math.Inf(1)}
			byCluster[id] = c
		}
		c.Count++
		if d < c.DistanceM {
			c.ServiceCode, c.Point, c.DistanceM, c.Status, c.Description = r.ServiceCode, r.Point, d, r.Status, r.Description
		}
	}
	for _, c := range byCluster {
		c.DistanceM = math.Round(c.DistanceM*100) / 100
		loc.Nearby = append(loc.Nearby, *c)
	}
	slices.SortFunc(loc.Nearby, func(a, b NearbyCluster) int {
		if a.ClusterID == loc.Joins {
			return -1
		}
		if b.ClusterID == loc.Joins {
			return 1
		}
		if a.DistanceM != b.DistanceM {
			if a.DistanceM < b.DistanceM {
				return -1
			}
			return 1
		}
		ai, _ := ParseServiceRequestID(a.ClusterID)
		bi, _ := ParseServiceRequestID(b.ClusterID)
		return cmp.Compare(ai, bi)
	})
	if len(loc.Nearby) > maxNearby {
		loc.Nearby = loc.Nearby[:maxNearby]
	}
	return loc, nil
}
