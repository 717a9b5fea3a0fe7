package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/photo"
	"github.com/pinward/pinward/requests"
)

// Secrets the test photo carries in its EXIF and XMP.
const (
	secretSerial = "SN-4815162342"
	secretXMP    = "xmp-secret-creator-Tremblay"
)

var (
	red  = color.RGBA{230, 20, 20, 255}
	blue = color.RGBA{20, 20, 230, 255}
)

// phoneJPEG is a w×h JPEG stored sideways as a phone stores a portrait
// photo: blue with a red top-left corner, EXIF orientation 6 (turn 90°
// clockwise to show), a GPS position and a camera serial in EXIF, and XMP.
func phoneJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := blue
			if x < w/4 && y < h/4 {
				c = red
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	bo := binary.BigEndian
	entry := func(tag, typ uint16, count uint32, val uint32) []byte {
		b := make([]byte, 12)
		bo.PutUint16(b, tag)
		bo.PutUint16(b[2:], typ)
		bo.PutUint32(b[4:], count)
		bo.PutUint32(b[8:], val)
		return b
	}
	// TIFF header, IFD0 (orientation, serial, GPS IFD pointer), GPS IFD
	// (latitude ref N), then the serial's text.
	tiff := []byte("MM\x00*\x00\x00\x00\x08")
	ifd0 := []byte{0, 3}
	ifd0 = append(ifd0, entry(0x0112, 3, 1, 6<<16)...)                       // orientation 6
	ifd0 = append(ifd0, entry(0xA431, 2, uint32(len(secretSerial)+1), 0)...) // offset patched below
	ifd0 = append(ifd0, entry(0x8825, 4, 1, 0)...)                           // GPS IFD offset patched below
	ifd0 = append(ifd0, 0, 0, 0, 0)
	gpsOff := 8 + len(ifd0)
	gps := append([]byte{0, 1}, entry(0x0001, 2, 2, uint32('N')<<24)...)
	gps = append(gps, 0, 0, 0, 0)
	serialOff := gpsOff + len(gps)
	bo.PutUint32(ifd0[2+12+8:], uint32(serialOff))
	bo.PutUint32(ifd0[2+24+8:], uint32(gpsOff))
	tiff = append(tiff, ifd0...)
	tiff = append(tiff, gps...)
	tiff = append(tiff, append([]byte(secretSerial), 0)...)
	segment := func(marker byte, payload []byte) []byte {
		s := []byte{0xFF, marker, 0, 0}
		bo.PutUint16(s[2:], uint16(len(payload)+2))
		return append(s, payload...)
	}
	exif := segment(0xE1, append([]byte("Exif\x00\x00"), tiff...))
	xmp := segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><dc:creator>"+secretXMP+"</dc:creator></x:xmpmeta>"))
	jpg := buf.Bytes()
	out := append([]byte{}, jpg[:2]...)
	out = append(out, exif...)
	out = append(out, xmp...)
	return append(out, jpg[2:]...)
}

// mediaServer is an API over w's store with the given photo settings.
func mediaServer(t *testing.T, w *world, public bool, limits photo.Limits) *httptest.Server {
	t.Helper()
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Store: w.store, PhotosPublic: public})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Service: svc, Keys: w.store, Photos: limits,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	return srv
}

// multipartBody is form plus files, each in the field "media".
func multipartBody(t *testing.T, form url.Values, files ...[]byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, f := range files {
		fw, err := mw.CreateFormFile("media", fmt.Sprintf("IMG_%04d.jpg", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

func call(t *testing.T, method, u string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func staffKey(t *testing.T, st requests.KeyStore) string {
	t.Helper()
	key, hash := requests.NewAPIKey()
	if _, err := st.CreateAPIKey(context.Background(), requests.Key{TenantID: tenant, Role: requests.RoleStaff, Label: "staff",
		Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	return key
}

// TestPhotoUpload: a phone's JPEG with EXIF GPS, a serial, XMP and an
// orientation tag goes in as multipart media; what its media_url serves is
// upright and carries none of it, is 404 to the public until staff approve
// it (staff see it at once) and 200 after; the approval is an event.
func TestPhotoUpload(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		srv := mediaServer(t, w, false, photo.DefaultLimits())
		staff := staffKey(t, w.store)
		in := phoneJPEG(t, 64, 32)
		for _, s := range []string{"Exif", secretSerial, secretXMP, "http://ns.adobe.com/xap"} {
			if !bytes.Contains(in, []byte(s)) {
				t.Fatalf("test photo lacks %q", s)
			}
		}
		body, ct := multipartBody(t, w.pothole(), in)
		res := call(t, "POST", srv.URL+"/open311/v2/requests.json", body, map[string]string{"Content-Type": ct})
		if res.status != http.StatusCreated {
			t.Fatalf("POST with a photo: %d %s", res.status, res.body)
		}
		var created []struct {
			ID string `json:"service_request_id"`
		}
		mustJSON(t, res.body, &created)
		id := created[0].ID

		// Staff list the photo; the public record has no media_url yet.
		res = call(t, "GET", srv.URL+"/api/v1/requests/"+id+"/media", nil, map[string]string{"X-Api-Key": staff})
		var media []struct {
			ID, State, URL string
			ThumbURL       string `json:"thumb_url"`
			Width, Height  int
		}
		mustJSON(t, res.body, &media)
		if res.status != 200 || len(media) != 1 || media[0].State != "pending" || media[0].Width != 32 || media[0].Height != 64 {
			t.Fatalf("staff list: %d %s", res.status, res.body)
		}
		m := media[0]
		mediaURL := func() string {
			var recs []struct {
				MediaURL string `json:"media_url"`
			}
			res := call(t, "GET", srv.URL+"/open311/v2/requests/"+id+".json", nil, nil)
			mustJSON(t, res.body, &recs)
			return recs[0].MediaURL
		}
		if u := mediaURL(); u != "" {
			t.Errorf("media_url before approval = %q, want none", u)
		}
		for _, u := range []string{m.URL, m.ThumbURL} {
			if r := call(t, "GET", srv.URL+u, nil, nil); r.status != http.StatusNotFound {
				t.Errorf("public GET %s before approval: %d, want 404", u, r.status)
			} else {
				checkError(t, r, http.StatusNotFound)
			}
			if r := call(t, "GET", srv.URL+u, nil, map[string]string{"X-Api-Key": w.key}); r.status != http.StatusNotFound {
				t.Errorf("GET %s with an integrator key before approval: %d, want 404", u, r.status)
			}
			r := call(t, "GET", srv.URL+u, nil, map[string]string{"X-Api-Key": staff})
			if r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" || !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
				t.Errorf("staff GET %s: %d %v", u, r.status, r.header)
			}
		}

		// A reporter key may not approve; staff may.
		if r := call(t, "POST", srv.URL+"/api/v1/media/"+m.ID+"/approve", nil, map[string]string{"X-Api-Key": w.key}); r.status != http.StatusForbidden {
			t.Errorf("approve with an integrator key: %d", r.status)
		}
		r := call(t, "POST", srv.URL+"/api/v1/media/"+m.ID+"/approve", strings.NewReader(`{"reason":"clear photo"}`),
			map[string]string{"X-Api-Key": staff, "Content-Type": "application/json"})
		if r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		if u := mediaURL(); u != srv.URL+m.URL {
			t.Errorf("media_url after approval = %q, want %q", u, srv.URL+m.URL)
		}
		pub := call(t, "GET", srv.URL+m.URL, nil, nil)
		if pub.status != 200 || pub.header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("public GET after approval: %d %s", pub.status, pub.header)
		}
		// No metadata: no APPn segment or comment before the scan, and none
		// of the secrets anywhere.
		checkNoMetadata(t, pub.body)
		img, err := jpeg.Decode(bytes.NewReader(pub.body))
		if err != nil {
			t.Fatal(err)
		}
		// Turned 90° clockwise: 32 wide, 64 high, red now top-right.
		if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 64 {
			t.Fatalf("served photo is %v, want 32×64", b)
		}
		if !near(img.At(28, 4), red) || !near(img.At(3, 4), blue) || !near(img.At(28, 60), blue) {
			t.Errorf("served photo is not upright: top-right %v, top-left %v", img.At(28, 4), img.At(3, 4))
		}
		thumb := call(t, "GET", srv.URL+m.ThumbURL, nil, nil)
		if thumb.status != 200 {
			t.Errorf("thumbnail after approval: %d", thumb.status)
		}
		checkNoMetadata(t, thumb.body)

		// The approval is on the audit trail with the staff key.
		r = call(t, "GET", srv.URL+"/api/v1/requests/"+id+"/events", nil, map[string]string{"X-Api-Key": staff})
		if !bytes.Contains(r.body, []byte(`"media_approved"`)) || !bytes.Contains(r.body, []byte("clear photo")) {
			t.Errorf("events lack the approval: %s", r.body)
		}
		// Hidden: 404 to the public again.
		if r := call(t, "POST", srv.URL+"/api/v1/media/"+m.ID+"/hide", nil, map[string]string{"X-Api-Key": staff}); r.status != 200 {
			t.Fatalf("hide: %d %s", r.status, r.body)
		}
		if r := call(t, "GET", srv.URL+m.URL, nil, nil); r.status != http.StatusNotFound {
			t.Errorf("public GET of a hidden photo: %d", r.status)
		}
		if u := mediaURL(); u != "" {
			t.Errorf("media_url of a request whose photo is hidden = %q", u)
		}
		if r := call(t, "POST", srv.URL+"/api/v1/media/nosuchphoto/approve", nil, map[string]string{"X-Api-Key": staff}); r.status != http.StatusNotFound {
			t.Errorf("approving an unknown photo: %d", r.status)
		}
	})
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { x := int(a>>8) - int(b); return x > -50 && x < 50 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// checkNoMetadata fails unless b is a JPEG with no APPn segment and no
// comment before its first scan, and holds none of the test's secrets.
func checkNoMetadata(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
		t.Fatalf("not a JPEG: % x", b[:min(8, len(b))])
	}
	for i := 2; i+4 <= len(b); {
		m := b[i+1]
		if m >= 0xE0 && m <= 0xEF || m == 0xFE {
			t.Errorf("served JPEG carries marker FF%X (APPn or comment)", m)
		}
		if m == 0xDA {
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	for _, s := range []string{"Exif", "MM\x00*", "II*\x00", secretSerial, secretXMP, "xmpmeta", "http://ns.adobe.com"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("served JPEG contains %q", s)
		}
	}
}

// TestPhotosPublicImmediately: with --photos-public immediately a photo is
// public as soon as the request is stored.
func TestPhotosPublicImmediately(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		srv := mediaServer(t, w, true, photo.DefaultLimits())
		body, ct := multipartBody(t, w.pothole(), phoneJPEG(t, 40, 20), phoneJPEG(t, 20, 40))
		res := call(t, "POST", srv.URL+"/open311/v2/requests.json", body, map[string]string{"Content-Type": ct})
		if res.status != http.StatusCreated {
			t.Fatalf("POST: %d %s", res.status, res.body)
		}
		var created []struct {
			ID string `json:"service_request_id"`
		}
		mustJSON(t, res.body, &created)
		var recs []struct {
			MediaURL string `json:"media_url"`
		}
		mustJSON(t, call(t, "GET", srv.URL+"/open311/v2/requests/"+created[0].ID+".json", nil, nil).body, &recs)
		if !strings.HasPrefix(recs[0].MediaURL, srv.URL+"/media/") {
			t.Fatalf("media_url = %q, want a pinward photo", recs[0].MediaURL)
		}
		if r := call(t, "GET", recs[0].MediaURL, nil, nil); r.status != 200 {
			t.Errorf("public GET: %d", r.status)
		}
	})
}

// TestPhotoLimits: too many photos, too many bytes, too many pixels, a
// type pinward does not take and a damaged file are each refused with a
// bilingual 4xx naming media, and nothing is stored.
func TestPhotoLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		lim := photo.DefaultLimits()
		lim.MaxBytes, lim.MaxPixels = 60_000, 500_000
		srv := mediaServer(t, w, false, lim)
		small := phoneJPEG(t, 40, 20)
		noisy := func(wd, ht int) []byte { // incompressible: many bytes
			img := image.NewRGBA(image.Rect(0, 0, wd, ht))
			for i := range img.Pix {
				img.Pix[i] = byte(i*7919 ^ i>>3)
			}
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
		big := noisy(300, 300)
		if len(big) <= int(lim.MaxBytes) {
			t.Fatalf("test photo of %d bytes is not over the limit", len(big))
		}
		// A small file of a million pixels.
		huge := func() []byte {
			img := image.NewGray(image.Rect(0, 0, 1000, 1000))
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 10}); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}()
		heic := append([]byte{0, 0, 0, 24}, []byte("ftypheic\x00\x00\x00\x00mif1heic")...)
		heic = append(heic, make([]byte, 100)...)
		for _, tc := range []struct {
			name  string
			files [][]byte
			want  int
		}{
			{"four photos", [][]byte{small, small, small, small}, http.StatusRequestEntityTooLarge},
			{"too many bytes", [][]byte{big}, http.StatusRequestEntityTooLarge},
			{"too many pixels", [][]byte{huge}, http.StatusRequestEntityTooLarge},
			{"HEIC", [][]byte{heic}, http.StatusUnsupportedMediaType},
			{"not an image", [][]byte{[]byte("<svg xmlns='http://www.w3.org/2000/svg'/>")}, http.StatusUnsupportedMediaType},
			{"damaged", [][]byte{small[:len(small)/2]}, http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := w.count()
				body, ct := multipartBody(t, w.pothole(), tc.files...)
				r := call(t, "POST", srv.URL+"/open311/v2/requests.json", body, map[string]string{"Content-Type": ct, "Accept-Language": "fr"})
				e := checkError(t, r, tc.want)
				if e.Field != "media" {
					t.Errorf("error names field %q, want media: %+v", e.Field, e)
				}
				if e.Description != e.DescriptionFr {
					t.Errorf("description not in French: %+v", e)
				}
				if n := w.count(); n != before {
					t.Errorf("refused submission stored something: %d requests, want %d", n, before)
				}
			})
		}
		// Three photos pass.
		body, ct := multipartBody(t, w.pothole(), small, small, small)
		if r := call(t, "POST", srv.URL+"/open311/v2/requests.json", body, map[string]string{"Content-Type": ct}); r.status != http.StatusCreated {
			t.Errorf("three photos: %d %s", r.status, r.body)
		}
	})
}
