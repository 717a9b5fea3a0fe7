package postgis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/requests"
)

var _ requests.RequestWatcher = (*Store)(nil)

// requestChannel is the NOTIFY channel of request changes, fed by the
// trigger of migration 0006_request_notify: "<tenant>\t<id>,<id>..." or
// "<tenant>\t*".
const requestChannel = "pinward_requests"

// maxPendingIDs bounds the IDs a watcher keeps for a slow reader; past it
// the reader is told to reload everything instead.
const maxPendingIDs = 10000

// WatchRequests implements requests.RequestWatcher with LISTEN on a
// connection of its own. When that connection fails it reconnects (every
// second until it can) and then reports All, since notifications sent
// while it was away are lost.
func (s *Store) WatchRequests(ctx context.Context, tenant string) (<-chan requests.RequestChanges, error) {
	conn, err := s.listenChannel(ctx, requestChannel)
	if err != nil {
		return nil, err
	}
	// The reader blocks in WaitForNotification; the batcher gathers what
	// it reads until the consumer is ready, so a slow consumer never
	// stalls the connection.
	type note struct {
		ids []string
		all bool
	}
	notes := make(chan note, 64)
	go func() {
		defer close(notes)
		defer func() {
			if conn != nil {
				conn.Close(context.WithoutCancel(ctx))
			}
		}()
		send := func(n note) bool {
			select {
			case notes <- n:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for ctx.Err() == nil {
			if conn == nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				if conn, err = s.listenChannel(ctx, requestChannel); err != nil {
					conn = nil
					continue
				}
				if !send(note{all: true}) {
					return
				}
			}
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				conn.Close(context.WithoutCancel(ctx))
				conn = nil
				continue
			}
			t, payload, ok := strings.Cut(n.Payload, "\t")
			if !ok || t != tenant {
				continue
			}
			if payload == "*" {
				if !send(note{all: true}) {
					return
				}
				continue
			}
			var ids []string
			for _, v := range strings.Split(payload, ",") {
				if id, err := strconv.ParseInt(v, 10, 64); err == nil {
					ids = append(ids, requests.FormatServiceRequestID(id))
				}
			}
			if !send(note{ids: ids}) {
				return
			}
		}
	}()

	// out closes only after the reader has closed its connection, so a
	// caller that drains it knows the watcher is done with the store.
	out := make(chan requests.RequestChanges)
	go func() {
		defer close(out)
		pending := map[string]struct{}{}
		all, dirty := false, false
		var batch requests.RequestChanges
		stop := ctx.Done()
		for {
			if dirty {
				batch = requests.RequestChanges{All: all}
				if !all {
					batch.IDs = make([]string, 0, len(pending))
					for id := range pending {
						batch.IDs = append(batch.IDs, id)
					}
				}
				dirty = false
			}
			var ready chan requests.RequestChanges
			if stop != nil && (all || len(pending) > 0) {
				ready = out
			}
			select {
			case n, ok := <-notes:
				if !ok {
					return
				}
				all, dirty = all || n.all, true
				for _, id := range n.ids {
					pending[id] = struct{}{}
				}
				if all || len(pending) > maxPendingIDs {
					all = true
					clear(pending)
				}
			case ready <- batch:
				all = false
				clear(pending)
			case <-stop:
				stop = nil // wait for the reader to finish
			}
		}
	}()
	return out, nil
}

// listenChannel opens a connection outside the pool that LISTENs on
// channel (a constant of this package).
func (s *Store) listenChannel(ctx context.Context, channel string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgis: connect to listen: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("postgis: listen on %s: %w", channel, err)
	}
	return conn, nil
}
