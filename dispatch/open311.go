package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/text"
)

// Open311 sends work orders to another Open311 GeoReport v2 endpoint, as
// FixMyStreet does toward council back-ends: a create message is a POST
// requests.json (form-encoded, with the message's Idempotency-Key, which
// pinward and other careful receivers honour) and the service_request_id
// it answers becomes the work order's ExternalID; Poll reads requests.json
// for those IDs and reports the ones the receiving system closed. GeoReport
// v2 has no way to update a request, so update messages are acknowledged
// without a call. No personal information is sent.
type Open311 struct {
	Endpoint       string // the base URL, e.g. https://city.example/open311/v2
	APIKey         string
	ServiceCodeMap map[string]string // pinward code → remote code; unmapped codes go as they are
	// Client defaults to NewClient(AllowPrivate); a given one is used with
	// redirects turned off, and its transport decides which addresses it
	// may reach.
	Client       *http.Client
	AllowPrivate bool
}

func (o *Open311) url(path string) string { return strings.TrimRight(o.Endpoint, "/") + path }

// Deliver implements Connector.
func (o *Open311) Deliver(ctx context.Context, m requests.OutboxMessage) (string, error) {
	id, err := o.deliver(ctx, m)
	return id, o.scrub(err)
}

// scrub takes the endpoint's password and the API key (which a receiver
// might echo in its answer) out of err's message.
func (o *Open311) scrub(err error) error {
	err = scrub(err, o.Endpoint)
	if err != nil && o.APIKey != "" && strings.Contains(err.Error(), o.APIKey) {
		err = scrubbed{strings.ReplaceAll(err.Error(), o.APIKey, "xxxxx"), err}
	}
	return err
}

func (o *Open311) deliver(ctx context.Context, m requests.OutboxMessage) (string, error) {
	if m.Kind != requests.OutboxCreate {
		return "", nil
	}
	p := m.WorkOrder.Payload
	code := p.Category
	if c, ok := o.ServiceCodeMap[code]; ok {
		code = c
	}
	form := url.Values{}
	form.Set("api_key", o.APIKey)
	form.Set("service_code", code)
	form.Set("lat", strconv.FormatFloat(p.Lat, 'f', -1, 64))
	form.Set("long", strconv.FormatFloat(p.Lon, 'f', -1, 64))
	form.Set("description", p.Description)
	if p.Address != "" {
		form.Set("address_string", p.Address)
	}
	for k, v := range p.Attributes {
		// multivaluelist values are joined by "," (codes have none).
		for _, one := range strings.Split(v, ",") {
			form.Add("attribute["+k+"]", one)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url("/requests.json"), strings.NewReader(form.Encode()))
	if err != nil {
		return "", Permanent(fmt.Errorf("open311 request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	resp, err := client(o.Client, o.AllowPrivate).Do(req)
	if err != nil {
		return "", fmt.Errorf("open311 %s: %w", redactURL(o.Endpoint), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := statusError("open311 endpoint", resp); err != nil {
		return "", fmt.Errorf("%w: %s", err, clip(string(body)))
	}
	var out []struct {
		ServiceRequestID string `json:"service_request_id"`
		Token            string `json:"token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out) == 0 || out[0].ServiceRequestID == "" {
		// Accepted but no ID yet (a token-only answer): try again later,
		// the Idempotency-Key makes the retry safe.
		return "", fmt.Errorf("open311 endpoint answered no service_request_id: %s", clip(string(body)))
	}
	return out[0].ServiceRequestID, nil
}

// Poll implements Poller: one GET requests.json for all of wos (their
// ExternalIDs), reporting those now closed.
func (o *Open311) Poll(ctx context.Context, wos []requests.WorkOrder) ([]StatusReport, error) {
	out, err := o.poll(ctx, wos)
	return out, o.scrub(err)
}

func (o *Open311) poll(ctx context.Context, wos []requests.WorkOrder) ([]StatusReport, error) {
	byExt := map[string]int64{}
	var ids []string
	for _, w := range wos {
		if w.ExternalID != "" {
			byExt[w.ExternalID] = w.ID
			ids = append(ids, w.ExternalID)
		}
	}
	var out []StatusReport
	for len(ids) > 0 {
		n := min(len(ids), 100) // keep the URL short
		q := url.Values{"service_request_id": {strings.Join(ids[:n], ",")}}
		ids = ids[n:]
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.url("/requests.json")+"?"+q.Encode(), nil)
		if err != nil {
			return out, err
		}
		resp, err := client(o.Client, o.AllowPrivate).Do(req)
		if err != nil {
			return out, fmt.Errorf("open311 poll %s: %w", redactURL(o.Endpoint), err)
		}
		var recs []struct {
			ServiceRequestID string `json:"service_request_id"`
			Status           string `json:"status"`
			StatusNotes      string `json:"status_notes"`
		}
		err = statusError("open311 endpoint", resp)
		if err == nil {
			err = json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&recs)
		}
		resp.Body.Close()
		if err != nil {
			return out, fmt.Errorf("open311 poll %s: %w", redactURL(o.Endpoint), err)
		}
		for _, r := range recs {
			id, ok := byExt[r.ServiceRequestID]
			if !ok || r.Status != "closed" {
				continue
			}
			note := r.StatusNotes
			if strings.TrimSpace(note) == "" {
				note = "closed by " + redactURL(o.Endpoint)
			}
			out = append(out, StatusReport{WorkOrderID: id, Status: requests.Closed, Note: note})
		}
	}
	return out, nil
}

// clip shortens a remote reply quoted in an error or a log line.
func clip(s string) string { return text.Clip(s, text.Reply) }
