package mediabucket_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/paulmach/orb"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/mediabucket"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
)

const tenant = "sample"

// s3 is a real S3 server (gofakes3, in memory) on loopback, its bucket
// "photos", and the --media-bucket URL that reaches it.
type s3 struct {
	backend *s3mem.Backend
	url     string
}

func newS3(t *testing.T) s3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("photos"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	// The SDK's credential chain reads these; nothing reaches a real cloud.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return s3{backend, "s3://photos?endpoint=" + url.QueryEscape(srv.URL) + "&use_path_style=true&region=us-east-1&disable_https=true"}
}

// keys lists the objects in the bucket, read from the server's side.
func (s s3) keys(t *testing.T) []string {
	t.Helper()
	list, err := s.backend.ListBucket("photos", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range list.Contents {
		out = append(out, o.Key)
	}
	slices.Sort(out)
	return out
}

// object is one object's bytes, from the server's side.
func (s s3) object(t *testing.T, key string) []byte {
	t.Helper()
	o, err := s.backend.GetObject("photos", key, nil)
	if err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	defer o.Contents.Close()
	b, err := io.ReadAll(o.Contents)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func forEachStore(t *testing.T, fn func(t *testing.T, st requests.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pinward.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	t.Run("postgis", func(t *testing.T) {
		st, err := postgis.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		fn(t, st)
	})
}

func photoKeys(id string) []string {
	return []string{tenant + "/" + id + ".jpg", tenant + "/" + id + "_thumb.jpg"}
}

// TestBucketStore: photos go to the S3 bucket, not the database, and come
// back from it; a request the store refuses leaves no object, nor does an
// idempotent retry; the purge deletes the objects of the photos it
// deletes and no other.
func TestBucketStore(t *testing.T) {
	forEachStore(t, func(t *testing.T, inner requests.Store) {
		ctx := context.Background()
		s3 := newS3(t)
		st, err := mediabucket.Open(ctx, s3.url, inner, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		at := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
		photo := func(b byte) requests.Photo {
			return requests.Photo{JPEG: bytes.Repeat([]byte{0xFF, 0xD8, b}, 500), Thumb: []byte{0xFF, 0xD8, b}, Width: 4, Height: 3}
		}
		newRequest := func(lon float64, key, fp string, photos ...requests.Photo) requests.NewRequest {
			r := requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New, Point: orb.Point{lon, 46.05},
				WardID: "1", Department: "public_works", RequestedAt: at, UpdatedAt: at, Token: requests.NewMediaID()}
			nr := requests.NewRequest{Request: r, IdempotencyKey: key, Fingerprint: fp,
				Event: requests.Event{TenantID: tenant, At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New}}
			for i, p := range photos {
				nr.Media = append(nr.Media, requests.NewMedia{ID: requests.NewMediaID(), Seq: i, State: requests.MediaPending, Photo: p})
			}
			return nr
		}

		nr := newRequest(-73.1, "k1", "fp1", photo(1), photo(2))
		r, err := st.CreateRequest(ctx, nr)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Concat(photoKeys(nr.Media[0].ID), photoKeys(nr.Media[1].ID))
		slices.Sort(want)
		if got := s3.keys(t); !slices.Equal(got, want) {
			t.Fatalf("bucket holds %v, want %v", got, want)
		}
		if !bytes.Equal(s3.object(t, tenant+"/"+nr.Media[1].ID+".jpg"), nr.Media[1].JPEG) {
			t.Error("the bucket's object is not the photo")
		}
		for _, thumb := range []bool{false, true} {
			row, err := inner.GetMedia(ctx, tenant, nr.Media[0].ID, thumb)
			if err != nil || len(row.Data) != 0 {
				t.Errorf("the database holds %d bytes of the photo (thumb %v), %v; want none", len(row.Data), thumb, err)
			}
			m, err := st.GetMedia(ctx, tenant, nr.Media[0].ID, thumb)
			wantData := nr.Media[0].JPEG
			if thumb {
				wantData = nr.Media[0].Thumb
			}
			if err != nil || !bytes.Equal(m.Data, wantData) || m.ServiceRequestID != r.ServiceRequestID {
				t.Errorf("GetMedia(thumb %v) = %d bytes, %v", thumb, len(m.Data), err)
			}
		}

		// Refused in the store's transaction (the key reused for another
		// submission), and an idempotent retry answered with the first
		// request: their objects go.
		_, err = st.CreateRequest(ctx, newRequest(-73.1, "k1", "another", photo(3)))
		if i18n.KindOf(err) != requests.KindIdempotencyReused {
			t.Fatalf("reusing the key: %v, want it refused", err)
		}
		again, err := st.CreateRequest(ctx, newRequest(-73.1, "k1", "fp1", photo(1), photo(2)))
		if err != nil || again.ServiceRequestID != r.ServiceRequestID {
			t.Fatalf("retry = %+v, %v", again, err)
		}
		if got := s3.keys(t); !slices.Equal(got, want) {
			t.Errorf("after a refused request and a retry, the bucket holds %v, want %v", got, want)
		}

		// The purge: the closed request's photos go, the open one's stay.
		nr2 := newRequest(-73.0, "", "", photo(4))
		if _, err := st.CreateRequest(ctx, nr2); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateStatus(ctx, requests.StatusChange{Tenant: tenant, ServiceRequestID: r.ServiceRequestID,
			To: requests.Closed, Note: "fixed", Actor: "crew", At: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		n, err := requests.PurgePhotos(ctx, st, tenant, 24*time.Hour, at.Add(72*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("PurgePhotos = %d, %v; want 1", n, err)
		}
		if got := s3.keys(t); !slices.Equal(got, photoKeys(nr2.Media[0].ID)) {
			t.Errorf("after the purge the bucket holds %v, want the open request's %v", got, photoKeys(nr2.Media[0].ID))
		}
		_, err = st.GetMedia(ctx, tenant, nr.Media[0].ID, false)
		if i18n.KindOf(err) != i18n.NotFound {
			t.Errorf("a purged photo: %v, want not found", err)
		}
	})
}

// TestBucketOverHTTP: a resident's JPEG posted as multipart media through
// the API lands in the S3 bucket re-encoded, and /media serves it from
// there once staff approve it.
func TestBucketOverHTTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, inner requests.Store) {
		ctx := context.Background()
		s3 := newS3(t)
		st, err := mediabucket.Open(ctx, s3.url, inner, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
		if err != nil {
			t.Fatal(err)
		}
		set, err := data.SampleWards()
		if err != nil {
			t.Fatal(err)
		}
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api.New(api.Config{Service: svc, Keys: st, Logger: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		key := func(role requests.Role) string {
			k, hash := requests.NewAPIKey()
			if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: role, Label: "t", Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
				t.Fatal(err)
			}
			return k
		}
		reporter, staff := key(requests.RoleReporter), key(requests.RoleStaff)

		var spot orb.Point
		for _, w := range set.Current(time.Now()).Wards {
			spot = w.Geometry.Bound().Center()
			if _, ok := set.Locate(spot, time.Now()); ok {
				break
			}
		}
		img := image.NewRGBA(image.Rect(0, 0, 64, 48))
		for i := range img.Pix {
			img.Pix[i] = byte(i)
		}
		img.Set(0, 0, color.White)
		var jpg bytes.Buffer
		if err := jpeg.Encode(&jpg, img, nil); err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range map[string]string{"api_key": reporter, "service_code": "pothole", "attribute[size]": "large",
			"lat": ftoa(spot[1]), "long": ftoa(spot[0]), "description": "with a photo"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("media", "hole.jpg")
		fw.Write(jpg.Bytes())
		mw.Close()
		res, err := http.Post(srv.URL+"/open311/v2/requests.json", mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST: %d %s", res.StatusCode, b)
		}
		id := between(string(b), `"service_request_id":"`, `"`)
		ms, err := st.ListMedia(ctx, tenant, id)
		if err != nil || len(ms) != 1 {
			t.Fatalf("ListMedia(%s) = %+v, %v", id, ms, err)
		}
		stored := s3.object(t, tenant+"/"+ms[0].ID+".jpg")
		if _, err := jpeg.Decode(bytes.NewReader(stored)); err != nil || bytes.Equal(stored, jpg.Bytes()) {
			t.Errorf("the bucket's object is not a re-encoded JPEG (decode: %v)", err)
		}
		get := func(path, key string) (int, []byte) {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			if key != "" {
				req.Header.Set("X-Api-Key", key)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, b
		}
		path := requests.MediaPath(ms[0].ID)
		if code, _ := get(path, ""); code != http.StatusNotFound {
			t.Errorf("before approval the public gets %d, want 404", code)
		}
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/media/"+ms[0].ID+"/approve", nil)
		req.Header.Set("X-Api-Key", staff)
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("approve: %v %v", res, err)
		}
		if code, got := get(path, ""); code != http.StatusOK || !bytes.Equal(got, stored) {
			t.Errorf("after approval: %d, %d bytes; want the bucket's %d", code, len(got), len(stored))
		}
	})
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func between(s, start, end string) string {
	_, after, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(after, end)
	return v
}
