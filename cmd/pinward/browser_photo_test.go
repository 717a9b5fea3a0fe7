package main

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPhoto: on a phone, a resident chooses a 12-megapixel photo,
// places the pin, picks a category and submits; the request is stored with
// one photo, pending approval, that staff see and the public does not.
func TestBrowserPhoto(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, staffKey := startServeWithStaffKey(t)
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	for y := range 3000 {
		for x := range 4000 {
			img.SetRGBA(x, y, color.RGBA{uint8(x / 16), uint8(y / 12), 120, 255})
		}
	}
	file := filepath.Join(t.TempDir(), "IMG_0001.jpg")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("enable-unsafe-swiftshader", true), chromedp.Flag("use-angle", "swiftshader"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	// Start the browser on ctx itself: the first action's context owns it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	b := &browser{t: t, ctx: ctx}
	const lon, lat = -73.066232, 46.0300619
	b.do("resident page", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/"), chromedp.WaitVisible("#cats input[value=pothole]"))
	if capture := eval[string](b, `document.getElementById("photo").getAttribute("capture")`); capture != "environment" {
		t.Errorf("photo field capture=%q, want environment", capture)
	}
	b.do("choosing a photo", chromedp.SetUploadFiles("#photo", []string{file}), chromedp.WaitVisible("#photos li img"))
	// The page downsized it through a canvas before upload.
	side := 0
	for range 100 { // the preview decodes asynchronously
		if side = eval[int](b, `(() => { const i = document.querySelector("#photos img"); return Math.max(i.naturalWidth, i.naturalHeight); })()`); side > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if side != 2048 {
		t.Errorf("photo to upload is %d px on its longest side, want 2048", side)
	}
	b.dropPin(lon+0.0002, lat)
	b.do("filling the form",
		chromedp.Click("#cats input[value=pothole]"),
		chromedp.WaitVisible("#attr-size"),
		chromedp.SetValue("#attr-size", "large"),
		chromedp.Click("#submit"), chromedp.WaitVisible("#request-number"))
	number := b.text("#request-number")
	req, _ := http.NewRequest("GET", base+"/api/v1/requests/"+number+"/media", nil)
	req.Header.Set("X-Api-Key", staffKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var media []struct {
		State, URL    string
		Width, Height int
	}
	if err := json.NewDecoder(res.Body).Decode(&media); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(media) != 1 || media[0].State != "pending" || media[0].Width != 2048 || media[0].Height != 1536 {
		t.Fatalf("request %s photos: %+v, want one 2048×1536 photo pending", number, media)
	}
	if res, err := http.Get(base + media[0].URL); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("public GET of the pending photo: %v %v", res.StatusCode, err)
	}
	if !strings.HasPrefix(media[0].URL, "/media/") {
		t.Errorf("photo URL %q", media[0].URL)
	}
}
