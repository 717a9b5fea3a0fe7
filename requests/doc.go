// Package requests is pinward's domain: 311 requests, their categories,
// departments, statuses and audit events; the Store interface the domain
// needs from a database; and the Service that takes a resident's submission
// from validation to a stored, routed, clustered request.
//
// The package does no I/O of its own (after benbjohnson/wtf): it never
// imports net/http, pgx or a store. The stores (store/postgis, store/sqlite)
// implement Store and KeyStore; package api turns HTTP into Service calls.
//
// Conventions every implementation follows:
//
//   - Every error a Service or Store method returns is an *i18n.Error (kinds
//     Invalid, Outside, NotFound, Conflict; Internal for everything else),
//     built with the constructors in errors.go where one exists so both
//     stores word it the same way.
//   - A request has a numeric ID assigned by the store and a public
//     ServiceRequestID, the Open311 service_request_id. It is the decimal ID
//     ("1042"): short enough to read over the phone, stable, and it maps one
//     to one onto the primary key (see FormatServiceRequestID). Open311
//     clients treat it as an opaque string; nothing may rely on it being
//     numeric except ParseServiceRequestID.
//   - Times are UTC, truncated to the microsecond (what PostgreSQL keeps), so
//     a request read back equals the one written.
//   - Reporter personal information (name, email, phone, device) is its own
//     type and never part of a Request; each staff read of it is an event.
package requests
