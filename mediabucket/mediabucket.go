// Package mediabucket keeps photos in a bucket (S3-compatible, a folder or
// memory, through gocloud.dev/blob) instead of in the database: it wraps a
// requests.Store, whose rows keep everything about a photo but its bytes.
//
// A photo's bytes are written before its request's transaction and deleted
// when that transaction fails, so a stored row always has its bytes; a
// purge deletes the rows first and the bytes after, so a crash between
// leaves an unreferenced object in the bucket, never a row without one.
package mediabucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:///path
	_ "gocloud.dev/blob/memblob"  // mem://
	_ "gocloud.dev/blob/s3blob"   // s3://bucket?endpoint=...&use_path_style=true&region=...
	"gocloud.dev/gcerrors"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// Store is a requests.Store whose photos live in a bucket.
type Store struct {
	requests.Store
	bucket *blob.Bucket
	log    *slog.Logger
}

// Open opens the bucket at rawURL (s3://, file:// or mem://) and returns st
// keeping its photos there.
func Open(ctx context.Context, rawURL string, st requests.Store, log *slog.Logger) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "s3" && u.Scheme != "file" && u.Scheme != "mem") {
		return nil, fmt.Errorf("--media-bucket %q: want an s3://, file:// or mem:// URL", rawURL)
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("opening the media bucket: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{Store: st, bucket: b, log: log}, nil
}

// Close closes the bucket (not the wrapped store).
func (s *Store) Close() error { return s.bucket.Close() }

// key is where a photo's bytes (or its thumbnail's) are kept.
func key(tenant, id string, thumb bool) string {
	suffix := ".jpg"
	if thumb {
		suffix = "_thumb.jpg"
	}
	return url.PathEscape(tenant) + "/" + id + suffix
}

// failed is the error of a bucket that did not answer as it should.
func failed(op string, err error) error {
	return &i18n.Error{Kind: i18n.Unavailable, Message: i18n.T("the photo store failed; try again",
		"le stockage des photos a échoué; réessayez"), Err: fmt.Errorf("media bucket: %s: %w", op, err)}
}

// CreateRequest writes the photos' bytes, then stores the request with
// photos that carry none; the bytes go again when it fails, or when the
// store answered with an earlier request (an idempotent retry) that does
// not hold these photos.
func (s *Store) CreateRequest(ctx context.Context, nr requests.NewRequest) (requests.Request, error) {
	if len(nr.Media) == 0 {
		return s.Store.CreateRequest(ctx, nr)
	}
	tenant := nr.Request.TenantID
	var written []string
	media := make([]requests.NewMedia, len(nr.Media))
	for i, m := range nr.Media {
		for _, thumb := range []bool{false, true} {
			data := m.JPEG
			if thumb {
				data = m.Thumb
			}
			k := key(tenant, m.ID, thumb)
			if err := s.bucket.WriteAll(ctx, k, data, &blob.WriterOptions{ContentType: "image/jpeg"}); err != nil {
				s.remove(ctx, written)
				return requests.Request{}, failed("write "+k, err)
			}
			written = append(written, k)
		}
		m.JPEG, m.Thumb = []byte{}, []byte{}
		media[i] = m
	}
	nr.Media = media
	r, err := s.Store.CreateRequest(ctx, nr)
	if err != nil {
		s.remove(ctx, written)
		return r, err
	}
	kept, lerr := s.Store.ListMedia(ctx, tenant, r.ServiceRequestID)
	if lerr != nil {
		s.log.WarnContext(ctx, "media bucket: cannot tell a retry's photos apart; they stay", "request", r.ServiceRequestID, "err", lerr)
		return r, nil
	}
	var stray []string
	for _, m := range media {
		if !slices.ContainsFunc(kept, func(k requests.Media) bool { return k.ID == m.ID }) {
			stray = append(stray, key(tenant, m.ID, false), key(tenant, m.ID, true))
		}
	}
	s.remove(ctx, stray)
	return r, nil
}

// remove deletes objects, even when ctx is done (a client that hung up
// must not leave them behind); a failure is logged and leaves an
// unreferenced object.
func (s *Store) remove(ctx context.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, k := range keys {
		if err := s.bucket.Delete(ctx, k); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			s.log.ErrorContext(ctx, "media bucket: an object stays behind", "key", k, "err", err)
		}
	}
}

// GetMedia reads the photo's row, then its bytes from the bucket (a photo
// stored before --media-bucket was set keeps its bytes in its row).
func (s *Store) GetMedia(ctx context.Context, tenant, id string, thumb bool) (requests.Media, error) {
	m, err := s.Store.GetMedia(ctx, tenant, id, thumb)
	if err != nil || len(m.Data) > 0 {
		return m, err
	}
	k := key(tenant, id, thumb)
	r, err := s.bucket.NewReader(ctx, k, nil)
	if err != nil {
		return requests.Media{}, failed("read "+k, err)
	}
	defer r.Close()
	if m.Data, err = io.ReadAll(r); err != nil {
		return requests.Media{}, failed("read "+k, err)
	}
	return m, nil
}

// PurgeMedia purges the rows, then deletes the bytes of the photos whose
// rows are gone.
func (s *Store) PurgeMedia(ctx context.Context, p requests.ReporterPurge) (int, error) {
	ids, err := s.Store.PurgeableMedia(ctx, p)
	if err != nil {
		return 0, err
	}
	n, err := s.Store.PurgeMedia(ctx, p)
	if err != nil {
		return n, err
	}
	var gone []string
	for _, id := range ids {
		// A request reopened between the two calls keeps its photos.
		switch _, err := s.Store.GetMedia(ctx, p.Tenant, id, true); {
		case i18n.KindOf(err) == i18n.NotFound:
			gone = append(gone, key(p.Tenant, id, false), key(p.Tenant, id, true))
		case err != nil:
			return n, errors.Join(err, fmt.Errorf("media bucket: photo %s stays in the bucket", id))
		}
	}
	s.remove(ctx, gone)
	return n, nil
}
