package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Import-from-URL limits. The fetch is the planted SSRF, so it really
// happens – but only to loopback addresses, so nothing leaves the machine.
const (
	fetchTimeout   = 3 * time.Second
	maxFetchBytes  = 64 << 10
	maxRedirects   = 3
	maxImportItems = 50
)

var errNotLoopback = errors.New("the demo shop fetches loopback addresses only")

// newFetcher is the import client: every connection it dials, redirects
// included, must go to a loopback address.
func newFetcher() *http.Client {
	d := &net.Dialer{Timeout: 2 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return errNotLoopback
		}
		return nil
	}}
	return &http.Client{
		Timeout: fetchTimeout,
		Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true,
			ResponseHeaderTimeout: fetchTimeout, MaxResponseHeaderBytes: 16 << 10},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
}

// importURL fetches a product feed from a URL the caller chooses, with no
// allow-list, and echoes what it got: the planted "ssrf-import".
func (a *app) importURL(w http.ResponseWriter, r *http.Request, p principal) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	raw, ok := str(w, m, "url", 2048)
	if !ok {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fail(w, http.StatusBadRequest, `field "url" must be an http(s) URL`)
		return
	}
	if a.cfg.hardened {
		if why := importRefused(u.Hostname()); why != "" {
			fail(w, http.StatusBadRequest, "import URL refused: %s", why)
			return
		}
	}
	if !isLoopbackHost(u.Hostname()) {
		fail(w, http.StatusBadRequest, "import from %s refused: %v", u.Host, errNotLoopback)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		fail(w, http.StatusBadRequest, "bad import URL: %v", err)
		return
	}
	req.Header.Set("User-Agent", "shop-importer/2.4")
	resp, err := a.fetcher.Do(req)
	if err != nil {
		if a.cfg.hardened {
			fail(w, http.StatusBadGateway, "import fetch failed")
			return
		}
		fail(w, http.StatusBadGateway, "import fetch failed: %v", err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes+1))
	if err != nil {
		fail(w, http.StatusBadGateway, "import fetch failed: %v", err)
		return
	}
	truncated := len(b) > maxFetchBytes
	if truncated {
		b = b[:maxFetchBytes]
	}
	imported := a.importProducts(r.Context(), b)
	writeJSON(w, http.StatusOK, map[string]any{
		"url": u.String(), "status": resp.StatusCode, "content_type": resp.Header.Get("Content-Type"),
		"size": len(b), "truncated": truncated, "content": string(b), "imported": imported,
	})
}

// importProducts adds the products of a JSON array feed
// ([{"name":..,"price":..,"category":..}]) and returns how many it added.
func (a *app) importProducts(ctx context.Context, b []byte) int {
	var feed []struct {
		Name     string  `json:"name"`
		Price    float64 `json:"price"`
		Category string  `json:"category"`
	}
	if json.Unmarshal(b, &feed) != nil {
		return 0
	}
	var added []*product
	a.mu.Lock()
	for _, f := range feed {
		if len(added) >= maxImportItems || a.imported >= maxImports {
			break
		}
		if f.Name == "" || len(f.Name) > 100 || f.Price <= 0 || f.Price > 1e6 || len(f.Category) > 32 {
			continue
		}
		p := &product{ID: a.nextProduct, Name: f.Name, Category: f.Category, Price: money(f.Price), Description: "Imported product."}
		a.nextProduct++
		a.imported++
		a.products[p.ID] = p
		a.productIDs = append(a.productIDs, p.ID)
		added = append(added, p)
	}
	a.mu.Unlock()
	for _, p := range added {
		if err := a.db.insertProduct(ctx, p); err != nil {
			a.logger.Warn("store imported product", "err", err)
		}
	}
	return len(added)
}

// charge asks the partner payment service to charge a card. It returns the
// partner's charge id and status ("succeeded", "declined", "failed").
func (a *app) charge(r *http.Request, amount float64, c card, ref string) (id, status string, err error) {
	b, _ := json.Marshal(map[string]any{"amount": amount, "currency": "USD", "card": c, "reference": ref})
	base := a.cfg.partnerURL
	if a.cfg.partnerVia != "" {
		base = a.cfg.partnerVia
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, base+"/v1/charges", bytes.NewReader(b))
	if err != nil {
		return "", "", err
	}
	if a.cfg.partnerVia != "" {
		req.Host = a.cfg.partnerHost
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.partnerKey)
	resp, err := a.partner.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var out struct{ ID, Status string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		return "", "", fmt.Errorf("partner answered %d without a charge: %w", resp.StatusCode, err)
	}
	if out.Status == "" {
		out.Status = "failed"
	}
	return out.ID, out.Status, nil
}

// maxChatMessage caps a support message.
const maxChatMessage = 4000

// chat forwards the customer's message to the LLM under the system prompt,
// unfiltered, and returns the answer unfiltered: the planted
// "prompt-injection".
func (a *app) chat(w http.ResponseWriter, r *http.Request) {
	m, ok := body(w, r)
	if !ok {
		return
	}
	msg, ok := str(w, m, "message", maxChatMessage)
	if !ok {
		return
	}
	if strings.TrimSpace(msg) == "" {
		fail(w, http.StatusBadRequest, `field "message" is required`)
		return
	}
	b, _ := json.Marshal(map[string]any{"model": "shopbot-1", "messages": []map[string]string{
		{"role": "system", "content": systemPrompt}, {"role": "user", "content": msg},
	}})
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, a.cfg.llmURL+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		fail(w, http.StatusInternalServerError, "support bot: %v", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.llm.Do(req)
	if err != nil {
		if a.cfg.hardened {
			fail(w, http.StatusBadGateway, "support bot unavailable")
			return
		}
		fail(w, http.StatusBadGateway, "support bot unavailable: %v", err)
		return
	}
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<10)).Decode(&out); err != nil || len(out.Choices) == 0 {
		fail(w, http.StatusBadGateway, "support bot answered %d without a reply", resp.StatusCode)
		return
	}
	reply := out.Choices[0].Message.Content
	if a.cfg.hardened && leaksPrompt(reply) {
		reply = refusal // the hardened twin never repeats its instructions
	}
	writeJSON(w, http.StatusOK, map[string]string{"reply": reply})
}
