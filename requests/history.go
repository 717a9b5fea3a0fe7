package requests

import "context"

// HistoryStore loads requests imported from a municipality's earlier
// system (pinward import, internal/histimport).
type HistoryStore interface {
	// ImportRequests stores rows for tenant, keyed by (Source, SourceID):
	// a row whose key is already stored is left as it is, so importing the
	// same file again changes nothing. Each row's cluster is the stored
	// request whose SourceID is its ClusterHead (the row itself when
	// ClusterHead is empty or its own SourceID); a head must come before
	// its members in rows or in an earlier call. Rows are written in
	// batches of at most a few hundred thousand, each committed with its
	// change-feed entry; it returns how many rows were new.
	ImportRequests(ctx context.Context, tenant string, rows []ImportedRequest) (inserted int, err error)
}

// ImportedRequest is one historical request. Request holds what pinward
// keeps of any request (ServiceCode, Description, Status, CloseReason,
// Point, WardID, asset, Department, Channel, RequestedAt, and UpdatedAt:
// the closing time when known, else RequestedAt); ID, ServiceRequestID,
// ClusterID and TenantID are assigned by the store.
type ImportedRequest struct {
	Request Request
	// Located is false for a row without coordinates: it keeps its ward,
	// counts in reports, and stays off the map, tiles, Open311 and
	// clusters.
	Located bool
	// CloseTimeKnown is false when the source says closed but not when;
	// reports leave the row out of the time to close.
	CloseTimeKnown bool
	// Source names the system ("ottawa", "la"...); SourceID is its ID for
	// the row, unique within the source.
	Source, SourceID string
	// The source's own status, channel and category text, as published.
	SourceStatus, SourceChannel, SourceCategory string
	ClusterHead                                 string
}
