package requests

import "context"

// MediaPurgeLister names the photos a purge would delete, so that photos
// kept outside the database (a bucket, package mediabucket) can follow
// their rows.
type MediaPurgeLister interface {
	// PurgeableMedia returns the IDs of the photos PurgeMedia(p) would
	// delete if it ran now (those of the same requests).
	PurgeableMedia(ctx context.Context, p ReporterPurge) ([]string, error)
}
