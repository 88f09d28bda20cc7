package shop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startShop starts a shop for one test and stops it at the end.
func startShop(t testing.TB) *Shop {
	t.Helper()
	return startShopWith(t, Options{})
}

// startShopWith is startShop with o (seed 1 and a silent logger).
func startShopWith(t testing.TB, o Options) *Shop {
	t.Helper()
	o.Seed, o.Logger = 1, slog.New(slog.DiscardHandler)
	s, err := Start(t.Context(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// client talks to a shop the way a test reads it: status and decoded JSON.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func newClient(t testing.TB, s *Shop) *client {
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: s.URL(), hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

type reply struct {
	status int
	raw    []byte
	json   map[string]any
}

func (r reply) String() string {
	b := r.raw
	if len(b) > 300 {
		b = b[:300]
	}
	return fmt.Sprintf("%d %s", r.status, b)
}

// str reads a top-level string field.
func (r reply) str(key string) string { s, _ := r.json[key].(string); return s }

// num reads a top-level number field.
func (r reply) num(key string) float64 { f, _ := r.json[key].(float64); return f }

// call sends body (marshalled unless it is a string, sent raw) with token.
func (c *client) call(method, path, token string, body any) reply {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	r := reply{status: resp.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &r.json)
	return r
}

// login signs in and returns the token; it fails the test otherwise.
func (c *client) login(email, password string) string {
	c.t.Helper()
	r := c.call("POST", "/api/v2/auth/login", "", map[string]string{"email": email, "password": password})
	if r.status != 200 || r.str("token") == "" {
		c.t.Fatalf("login %s: %v", email, r)
	}
	return r.str("token")
}

func (c *client) customer(n int) string {
	return c.login(fmt.Sprintf("user%d@shop.test", n), fmt.Sprintf("Passw0rd!%d", n))
}

// noneToken forges an unsigned token: alg "none", an empty signature.
func noneToken(claims map[string]any) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
}

var forgedAdmin7 = map[string]any{"sub": "7", "role": "admin", "email": "admin@shop.test", "iat": 1700000000, "exp": 4100000000}

// checkout runs cart → quote and returns the quote id.
func (c *client) quoteOne(token string, productID int, body map[string]any) string {
	c.t.Helper()
	if r := c.call("POST", "/api/v2/cart/items", token, map[string]any{"product_id": productID, "quantity": 1}); r.status != 201 {
		c.t.Fatalf("cart add: %v", r)
	}
	if body == nil {
		body = map[string]any{}
	}
	r := c.call("POST", "/api/v2/checkout/quote", token, body)
	if r.status != 201 || r.str("quote_id") == "" {
		c.t.Fatalf("quote: %v", r)
	}
	return r.str("quote_id")
}
