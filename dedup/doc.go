// Package dedup groups 311 reports that describe the same problem into
// clusters, so public works handles one pothole once however many residents
// report it.
//
// # The rule
//
// Two reports are linked when they fall in the same partition (the same
// category, or categories the Rules declare equivalent) and were created at
// most the partition's Rule.Window apart (any time apart when Window is 0),
// and either
//   - lie at most Rule.Distance metres apart, or
//   - name the same asset (non-empty AssetID) and Rule.SameAsset is set.
//
// A cluster is a connected component of that relation: single linkage. A
// report joins a cluster when it is linked to ANY member, not only to the
// first one, and a report linked to members of two clusters merges them.
// With Window 0 this is exactly DBSCAN with minpoints 1, which is what
// PostGIS computes with ST_ClusterDBSCAN(geom, eps, minpoints => 1).
//
// Because the relation is symmetric and defined pair by pair, the clusters
// do not depend on the order reports are given in (tests shuffle them).
//
// # Distances
//
// Distances are Euclidean in metres in one geo.Projection tangent at the
// municipality (or at the centre of the data for batch runs): the
// projected x, y are what the index stores, and they are what the PostGIS
// comparison feeds ST_ClusterDBSCAN, so both sides measure the same metres.
//
// # Cluster IDs
//
// A cluster is named by its smallest member ID under CompareIDs: integer IDs
// (ASCII digits only) sort numerically and before all other IDs, which sort
// bytewise. Two runs or two implementations can then be compared line by
// line.
//
// # In the service
//
// Intake does not cluster here: the store is the record, and several
// servers share it. Each store applies the same Rules (partition, distance,
// window, same asset) in the submitting transaction, under a database lock
// per tenant and partition cell, and requests.ClusterQuery.Pick chooses
// the open cluster the request joins (one naming the same asset, else the
// nearest). One difference from this package is deliberate: a report
// linked to two open clusters joins one instead of merging them, since
// merging issues that staff may have split apart is a staff decision (the
// stores merge, split and close clusters for the staff API). Cluster
// serves batch runs (pinward cluster), the comparison with PostGIS, and
// what-if analysis of rules over history.
package dedup
