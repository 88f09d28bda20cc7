package scan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/graceful"
)

// maxHits caps the callback listener's memory of tokens it was called with.
const maxHits = 10_000

// callback is the SSRF listener: an HTTP server on loopback that records
// the tokens in the paths it is asked for.
type callback struct {
	srv  *http.Server
	base string
	done chan struct{}

	mu   sync.Mutex
	hits map[string]string // token → "GET /vigil/... from addr"
}

func startCallback(addr, public string) (*callback, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("scan: callback listener: %w", err)
	}
	c := &callback{base: "http://" + ln.Addr().String(), hits: map[string]string{}, done: make(chan struct{})}
	if public != "" {
		c.base = strings.TrimRight(public, "/")
	}
	c.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok, ok := strings.CutPrefix(req.URL.Path, "/vigil/"); ok && len(tok) <= 64 {
			c.mu.Lock()
			if len(c.hits) < maxHits {
				c.hits[tok] = req.Method + " " + req.URL.Path + " from " + req.RemoteAddr
			}
			c.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]"))
	})}
	graceful.CloseUnused(c.srv)
	go func() {
		defer close(c.done)
		_ = c.srv.Serve(ln) // ends with http.ErrServerClosed on close
	}()
	return c, nil
}

func (c *callback) url(tok string) string { return c.base + "/vigil/" + tok }

// wait polls for a hit with tok for at most d.
func (c *callback) wait(ctx context.Context, tok string, d time.Duration) (string, bool) {
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		h, ok := c.hits[tok]
		c.mu.Unlock()
		if ok {
			return h, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *callback) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
	<-c.done
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
