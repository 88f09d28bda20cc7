package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/inventory"
)

const (
	policyBlock = `mode: enforce
rules:
  - name: block-injection
    detectors: [detect.injection.*]
    min_severity: high
    action: block
    ttl: 1m
`
	policyNone = `mode: enforce
rules:
  - name: let-injection-through
    detectors: [detect.injection.*]
    action: none
`
	policyBad = `mode: enforce
rules:
  - name: broken
    action: explode
`
)

// TestProxyReload runs vigil proxy with the inline check in enforce mode and
// changes its policy file under it: a valid change takes effect, a bad file
// keeps the policy in force, and a request in flight across the reloads
// completes.
func TestProxyReload(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		fmt.Fprintln(w, `{"ok":true}`)
	}))
	defer up.Close()

	dir := t.TempDir()
	polPath := filepath.Join(dir, "policy.yaml")
	writeFile(t, polPath, policyBlock)

	a := &app{streams: &streams{in: nil, out: io.Discard, err: io.Discard}, cfg: config.Default(), logger: slog.New(slog.DiscardHandler)}
	a.cfg.Proxy.Listen = "127.0.0.1:0"
	a.cfg.Proxy.Upstream = up.URL
	a.cfg.Store.Path = filepath.Join(dir, "vigil.db")
	a.cfg.Respond.Policy = polPath
	a.cfg.Proxy.Inline.Enabled = true
	a.cfg.Proxy.Inline.Deadline = 500 * time.Millisecond // this test is not about overruns

	ctx, cancel := context.WithCancel(t.Context())
	hup := make(chan os.Signal, 1)
	addr := make(chan string, 1)
	var eng atomic.Pointer[engine]
	done := make(chan error, 1)
	go func() {
		done <- a.runProxy(ctx, proxyRun{
			ready:       func(s string) { addr <- s },
			hup:         hup,
			reloadEvery: 20 * time.Millisecond,
			group: func(_ context.Context, _ *errgroup.Group, e *engine) error {
				eng.Store(e)
				return nil
			},
		})
	}()
	var base string
	select {
	case s := <-addr:
		base = "http://" + s
	case err := <-done:
		t.Fatalf("proxy did not start: %v", err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runProxy: %v", err)
		}
	}()

	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	n := 0
	// attack sends an injection under a fresh API key, so that the
	// actions the pipeline stores for earlier ones do not apply to it.
	attack := func() int {
		n++
		req, _ := http.NewRequest("GET", base+"/products?id=1'+UNION+SELECT+password+FROM+users--", nil)
		req.Header.Set("X-Api-Key", fmt.Sprintf("key-%d", n))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	if got := attack(); got != http.StatusForbidden {
		t.Fatalf("injection under the blocking policy: %d, want 403", got)
	}

	// A request in flight across the reloads.
	slow := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", base+"/slow", nil)
		req.Header.Set("X-Api-Key", "slow-client")
		resp, err := client.Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		slow <- err
	}()

	waitFor("the engine", func() bool { return eng.Load() != nil })
	e := eng.Load()

	// A bad file is refused; the blocking policy stays.
	writeFile(t, polPath, policyBad)
	waitFor("the bad policy to be refused", func() bool { return e.reload.failures.Load() > 0 })
	if got := attack(); got != http.StatusForbidden {
		t.Errorf("after a bad policy file: %d, want 403 (the old policy kept)", got)
	}

	// A good file takes effect.
	writeFile(t, polPath, policyNone)
	waitFor("the new policy", func() bool { return e.reload.reloads.Load() > 0 })
	if got := attack(); got != http.StatusOK {
		t.Errorf("after the policy let injection through: %d, want 200", got)
	}

	// SIGHUP reloads too (here the same file: still in force).
	before := e.reload.reloads.Load()
	hup <- os.Interrupt
	waitFor("the SIGHUP reload", func() bool { return e.reload.reloads.Load() > before })
	if got := attack(); got != http.StatusOK {
		t.Errorf("after SIGHUP: %d, want 200", got)
	}

	close(release)
	select {
	case err := <-slow:
		if err != nil {
			t.Errorf("request in flight across reloads: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("request in flight never completed")
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	// A new size or a later time: the poll sees a change even within the
	// file system's time resolution.
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Duration(len(s)) * time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

const (
	specOne = `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /users/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
`
	specTwo = specOne + `  /orders:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {sku: {type: string}, qty: {type: integer}}
      responses: {"201": {description: created}}
`
)

// TestSpecReload swaps the specs in force when their file changes, and keeps
// them when the new file does not load.
func TestSpecReload(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "openapi.yaml")
	writeFile(t, specPath, specOne)
	a := &app{streams: &streams{out: io.Discard, err: io.Discard}, cfg: config.Default(), logger: slog.New(slog.DiscardHandler)}
	a.cfg.Inventory.Specs = []string{specPath}
	eng, err := a.openEngine(t.Context(), engineOpts{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rl := newReloader(a, eng, a.logger, &eng.reload)
	ops := func() int { return len(eng.live.Load().Ops()) }
	if got := ops(); got != 1 {
		t.Fatalf("%d operations at start, want 1", got)
	}
	steps := []struct {
		name     string
		content  string
		wantOps  int
		reloads  uint64
		failures uint64
	}{
		{"unchanged", "", 1, 0, 0},
		{"one more operation", specTwo, 2, 1, 0},
		{"a file that does not parse", "openapi: [", 2, 1, 1},
		{"fixed again", specOne, 1, 2, 1},
	}
	for _, st := range steps {
		if st.content != "" {
			writeFile(t, specPath, st.content)
		}
		rl.check(false)
		if got := ops(); got != st.wantOps {
			t.Errorf("%s: %d operations, want %d", st.name, got, st.wantOps)
		}
		if r, f := eng.reload.reloads.Load(), eng.reload.failures.Load(); r != st.reloads || f != st.failures {
			t.Errorf("%s: %d reloads, %d failures; want %d, %d", st.name, r, f, st.reloads, st.failures)
		}
	}
}

// TestDecoyShapes shapes decoys on what the inventory learned of an
// endpoint's answers.
func TestDecoyShapes(t *testing.T) {
	inv := inventory.New(inventory.Config{})
	observe := func(method, path string, status int, body string) {
		u, _ := url.Parse("http://shop.test" + path)
		inv.Observe(&vigil.Exchange{
			Request:  vigil.Request{Method: method, URL: u, Header: http.Header{}},
			Response: &vigil.Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body), BodySize: int64(len(body))},
		})
	}
	for i := range 20 {
		observe("GET", fmt.Sprintf("/api/users/%d", 100+i), 200,
			fmt.Sprintf(`{"id":%d,"username":"u%d","email":"u%d@shop.test","address":{"city":"x"},"roles":["a"]}`, 100+i, i, i))
		observe("GET", "/api/orders", 200, `[{"order_id":1,"total":9.5},{"order_id":2,"total":3}]`)
	}
	d := &decoyShapes{inv: inv}
	tests := []struct {
		path     string
		wantOK   bool
		wantList bool
		want     []string // field names
	}{
		{"/api/users/4711", true, false, []string{"address", "email", "id", "roles", "username"}},
		{"/api/orders", true, true, []string{"order_id", "total"}},
		{"/api/unknown", false, false, nil},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://shop.test"+tt.path, nil)
		sh, ok := d.lookup(r)
		var names []string
		for _, f := range sh.Fields {
			names = append(names, f.Name)
		}
		if ok != tt.wantOK || sh.List != tt.wantList || strings.Join(names, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: ok %v list %v fields %v; want %v %v %v", tt.path, ok, sh.List, names, tt.wantOK, tt.wantList, tt.want)
		}
	}
}
