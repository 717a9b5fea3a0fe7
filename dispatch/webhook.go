package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
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

// Webhook posts each work order message as JSON to URL, signed as
// Standard Webhooks sign: webhook-id (the message's Idempotency-Key,
// stable across retries), webhook-timestamp and webhook-signature (see
// Verify). It also sends Idempotency-Key, X-Pinward-Event and, for one
// release, the deprecated X-Pinward-Signature (see Sign). Any 2xx is a
// delivery; 3xx (never followed), 408, 429 and 5xx are retried; other
// 4xx are permanent.
type Webhook struct {
	URL string // may carry user:password, sent as Basic authentication and never logged
	// Secret is the signing secret ("whsec_" and base64, or any text).
	// During a rotation it holds the new secret and the old one,
	// separated by a space: each delivery is signed under both, and the
	// receiver accepts either, until every receiver has the new one.
	Secret []byte
	// Client defaults to NewClient(AllowPrivate); a given one is used
	// with redirects turned off, and its transport decides which
	// addresses it may reach.
	Client       *http.Client
	AllowPrivate bool
}

// Deliver implements Connector.
func (h *Webhook) Deliver(ctx context.Context, m requests.OutboxMessage) (string, error) {
	return "", scrub(h.deliver(ctx, m), h.URL)
}

func (h *Webhook) deliver(ctx context.Context, m requests.OutboxMessage) error {
	p := NewPayload(m)
	body, err := json.Marshal(p)
	if err != nil {
		return Permanent(fmt.Errorf("encode work order: %w", err))
	}
	secrets := strings.Fields(string(h.Secret))
	if len(secrets) == 0 {
		return Permanent(errors.New("webhook has no secret"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook request: %w", err))
	}
	now := time.Now()
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		sigs[i] = SignV1([]byte(s), m.IdempotencyKey, now, body)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pinward")
	req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	req.Header.Set(HeaderID, m.IdempotencyKey)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, strings.Join(sigs, " "))
	req.Header.Set("X-Pinward-Signature", Sign([]byte(secrets[0]), body))
	req.Header.Set("X-Pinward-Event", p.Event)
	resp, err := client(h.Client, h.AllowPrivate).Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", redactURL(h.URL), err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	return statusError("webhook", resp)
}
