package storeflags

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
)

// TestMediaBucketFlag: --media-bucket file:///DIR (or PINWARD_MEDIA_BUCKET)
// puts a request's photos in that folder and not in the database; a URL
// of another scheme is a usage error.
func TestMediaBucketFlag(t *testing.T) {
	ctx := context.Background()
	photos := t.TempDir()
	env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string {
		if k == "PINWARD_MEDIA_BUCKET" {
			return "file://" + photos
		}
		return ""
	}}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	st, tenant, closeStore, err := OpenTenant(ctx, fs, env, []string{"--data-dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	at := time.Now().UTC().Truncate(time.Microsecond)
	id := requests.NewMediaID()
	nr := requests.NewRequest{
		Request: requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New, Point: orb.Point{-73.1, 46.05},
			WardID: "1", RequestedAt: at, UpdatedAt: at},
		Event: requests.Event{TenantID: tenant, At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
		Media: []requests.NewMedia{{ID: id, State: requests.MediaApproved, Photo: requests.Photo{JPEG: []byte("jpeg"), Thumb: []byte("th"), Width: 1, Height: 1}}},
	}
	if _, err := st.CreateRequest(ctx, nr); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(photos, tenant, id+".jpg")); err != nil || string(b) != "jpeg" {
		t.Errorf("the photo in the folder: %q, %v", b, err)
	}
	if m, err := st.GetMedia(ctx, tenant, id, true); err != nil || string(m.Data) != "th" {
		t.Errorf("GetMedia(thumb) = %q, %v", m.Data, err)
	}

	sf := Flags{DataDir: t.TempDir(), MediaBucket: "gs://elsewhere"}
	var ue cli.UsageError
	if _, _, err := sf.Open(ctx); !errors.As(err, &ue) {
		t.Errorf("--media-bucket gs://elsewhere: %v, want a usage error", err)
	}
}
