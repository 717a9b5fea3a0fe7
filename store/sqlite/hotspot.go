package sqlite

import (
	"context"
	"database/sql"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/requests"
)

// rowReader reads requests with some of their columns: fullRows all of
// them, candidateRows only what ClusterQuery.Pick looks at (cluster
// assignment reads up to 130 candidates per creation at a busy spot, and
// decoding whole rows was most of its cost).
type rowReader struct {
	cols string
	scan func(scanner) (requests.Request, error)
}

var (
	fullRows      = rowReader{requestCols, scanRequest}
	candidateRows = rowReader{candidateCols, scanCandidate}
)

// candidateCols are the columns ClusterQuery.Pick (and Best, Matches)
// read.
const candidateCols = `id, tenant_id, service_code, status, lon, lat, asset_layer, asset_id, cluster_id, requested_at`

func scanCandidate(sc scanner) (requests.Request, error) {
	var (
		r         requests.Request
		status    string
		requested sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &r.TenantID, &r.ServiceCode, &status, &r.Point[0], &r.Point[1], &r.AssetLayer, &r.AssetID,
		&r.ClusterID, &requested); err != nil {
		return requests.Request{}, err
	}
	r.ServiceRequestID = requests.FormatServiceRequestID(r.ID)
	r.Status, r.RequestedAt = requests.Status(status), fromMicros(requested)
	return r, nil
}

// query runs query (whose select list is rd.cols) and reads every row.
func (rd rowReader) query(ctx context.Context, q querier, query string, args ...any) ([]requests.Request, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []requests.Request
	for rows.Next() {
		r, err := rd.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// inBox reads at most limit open requests matching filter in bound, by
// the R-tree (a limit of 0: all of them).
func inBox(ctx context.Context, tx querier, rd rowReader, bound orb.Bound, filter string, args []any, limit int) ([]requests.Request, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return rd.query(ctx, tx, `SELECT `+rd.cols+` FROM
		(SELECT id AS rid FROM requests_rtree WHERE max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?) AS t
		CROSS JOIN requests ON requests.id = t.rid WHERE`+filter+` LIMIT ?`,
		append(append([]any{bound.Min[0], bound.Max[0], bound.Min[1], bound.Max[1]}, args...), limit)...)
}

// hotspotRadiiM are the boxes a crowded Bound is searched in, smallest
// first: the first holding a candidate within its radius holds the
// nearest.
var hotspotRadiiM = []float64{0.5, 2, 8, 32, 128}

// hotspotCandidates reads a crowded Bound's candidates as hotspot.go (in
// requests) says: the smallest box around the point that holds a match
// within its radius, whole when it is not crowded, else a sample of it;
// plus the earliest request at the exact point of the best so far.
func hotspotCandidates(ctx context.Context, tx querier, rd rowReader, q requests.ClusterQuery, filter string, args []any, sample []requests.Request) ([]requests.Request, error) {
	ruler := geo.NewRuler(q.Point[1])
	out := sample
	// A match at the very point is as near as any can be: Pick then takes
	// the earliest there, which the query below reads, and the boxes
	// could add nothing (at a busy spot, where everyone taps the same
	// place, this halves the reads).
	radii := hotspotRadiiM
	if best, ok := q.Best(sample); ok && best.Point == q.Point {
		radii = nil
	}
	for _, r := range radii {
		if r >= q.DistanceM {
			break
		}
		rs, err := inBox(ctx, tx, rd, ruler.Buffer(q.Point, r), filter, args, requests.HotspotLimit+1)
		if err != nil {
			return nil, err
		}
		if best, ok := q.Best(rs); ok && geo.Distance(q.Point, best.Point) <= r {
			out = rs // the nearest is in this box (a sample of it when crowded)
			break
		}
	}
	best, ok := q.Best(out)
	if !ok {
		return out, nil
	}
	earliest, err := rd.query(ctx, tx, `SELECT `+rd.cols+` FROM requests INDEXED BY requests_tenant_point
		WHERE lon = ? AND lat = ? AND`+filter+` ORDER BY requested_at, id LIMIT 1`,
		append([]any{best.Point[0], best.Point[1]}, args...)...)
	if err != nil {
		return nil, err
	}
	return append(out, earliest...), nil
}
