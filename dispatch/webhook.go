package dispatch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/pinward/pinward/requests"
)

// Payload is the JSON document a webhook receives for each work order
// message. It names the issue, never a reporter: no name, email, phone or
// device of anyone who reported it.
type Payload struct {
	Event        string            `json:"event"` // "work_order.created" or "work_order.updated"
	WorkOrderID  string            `json:"work_order_id"`
	ClusterID    string            `json:"cluster_id"`
	Tenant       string            `json:"tenant"`
	Department   string            `json:"department"`
	Status       string            `json:"status"`
	Category     string            `json:"category"`
	Ward         string            `json:"ward"`
	AssetLayer   string            `json:"asset_layer,omitempty"`
	AssetID      string            `json:"asset_id,omitempty"`
	Location     Point             `json:"location"`
	Address      string            `json:"address,omitempty"`
	Description  string            `json:"description"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	RequestCount int               `json:"request_count"`
	CreatedAt    time.Time         `json:"created_at"`
	DueAt        *time.Time        `json:"due_at"` // null when the category has no SLA
}

// Point is a GeoJSON point (WGS84 lon/lat).
type Point struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"`
}

// NewPayload is the document for m.
func NewPayload(m requests.OutboxMessage) Payload {
	w := m.WorkOrder
	p := Payload{
		Event:       "work_order.created",
		WorkOrderID: strconv.FormatInt(w.ID, 10), ClusterID: w.ClusterID, Tenant: w.TenantID,
		Department: w.Department, Status: string(w.Status),
		Category: w.Payload.Category, Ward: w.Payload.WardID,
		AssetLayer: w.Payload.AssetLayer, AssetID: w.Payload.AssetID,
		Location:    Point{"Point", [2]float64{w.Payload.Lon, w.Payload.Lat}},
		Address:     w.Payload.Address,
		Description: w.Payload.Description, Attributes: w.Payload.Attributes,
		RequestCount: w.RequestCount, CreatedAt: w.CreatedAt,
	}
	if m.Kind == requests.OutboxUpdate {
		p.Event = "work_order.updated"
	}
	if !w.Payload.DueAt.IsZero() {
		due := w.Payload.DueAt
		p.DueAt = &due
	}
	return p
}

// Sign returns the X-Pinward-Signature value of body under secret:
// "sha256=" and the hex HMAC-SHA256. Receivers recompute it over the raw
// body and compare in constant time (hmac.Equal).
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Webhook posts each work order message as JSON to URL with the headers
// Idempotency-Key (the message's, stable across retries),
// X-Pinward-Signature and X-Pinward-Event. Any 2xx is a delivery; 408, 429
// and 5xx are retried; other 4xx are permanent.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client // http.DefaultClient when nil; the Dispatcher's context bounds each attempt
}

// Deliver implements Connector.
func (h *Webhook) Deliver(ctx context.Context, m requests.OutboxMessage) (string, error) {
	p := NewPayload(m)
	body, err := json.Marshal(p)
	if err != nil {
		return "", Permanent(fmt.Errorf("encode work order: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return "", Permanent(fmt.Errorf("webhook request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pinward")
	req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	req.Header.Set("X-Pinward-Signature", Sign(h.Secret, body))
	req.Header.Set("X-Pinward-Event", p.Event)
	resp, err := client(h.Client).Do(req)
	if err != nil {
		return "", fmt.Errorf("webhook %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	return "", statusError("webhook", resp)
}

func client(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}

// statusError is nil for a 2xx, a retryable error for 408, 429 and 5xx,
// and a permanent one for any other status.
func statusError(what string, resp *http.Response) error {
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return fmt.Errorf("%s answered %s", what, resp.Status)
	default:
		return Permanent(fmt.Errorf("%s refused it: %s", what, resp.Status))
	}
}
