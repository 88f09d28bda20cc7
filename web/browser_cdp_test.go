//go:build unix

package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vigilsec/vigil"
)

// cdp is a minimal Chrome DevTools Protocol client over one page's socket.
type cdp struct {
	c  *websocket.Conn
	id int
}

func (p *cdp) call(ctx context.Context, method string, params any, result any) error {
	p.id++
	msg, err := json.Marshal(map[string]any{"id": p.id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if err := p.c.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	for { // events come in between: skip them until our answer
		_, b, err := p.c.Read(ctx)
		if err != nil {
			return err
		}
		var r struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if r.ID != p.id {
			continue
		}
		if r.Error != nil {
			return fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	}
}

// eval runs a JavaScript expression in the page and returns its value.
func (p *cdp) eval(ctx context.Context, expr string) (any, error) {
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err := p.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, fmt.Errorf("%s: %s", expr, r.ExceptionDetails.Text)
	}
	return r.Result.Value, nil
}

// waitFor polls cond every 50 ms until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestBrowserWrites drives the dashboard in headless Chromium over the
// DevTools protocol: the lift button and the new-action form must work with
// the session cookie alone, so the browser's own fetch must pass the CSRF
// check (X-Vigil-CSRF, Sec-Fetch-Site: same-origin).
func TestBrowserWrites(t *testing.T) {
	bin := chromium(t)
	s := newServer(t, nil)
	srv := httptest.NewServer(s)
	defer srv.Close()

	// A bound for a hung browser, not a speed test: it takes 3-4 s alone,
	// and once took 18 s with the whole suite loading both cores.
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
		"--no-first-run", "--disable-background-networking", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-port=0", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}()

	// "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
	listening := regexp.MustCompile(`DevTools listening on ((ws://127\.0\.0\.1:\d+)/devtools/browser/\S+)`)
	var browserURL, base string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			browserURL, base = m[1], m[2]
			break
		}
	}
	if base == "" {
		t.Fatalf("chromium did not print its DevTools address (scan: %v)", sc.Err())
	}
	go func() { // keep draining stderr so chromium never blocks on it
		for sc.Scan() {
		}
	}()

	// Find the page target and connect to it.
	bc, _, err := websocket.Dial(ctx, browserURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pageID string
	{
		b := &cdp{c: bc}
		var targets struct {
			TargetInfos []struct {
				TargetID string `json:"targetId"`
				Type     string `json:"type"`
			} `json:"targetInfos"`
		}
		if err := b.call(ctx, "Target.getTargets", map[string]any{}, &targets); err != nil {
			t.Fatal(err)
		}
		for _, ti := range targets.TargetInfos {
			if ti.Type == "page" {
				pageID = ti.TargetID
			}
		}
		bc.Close(websocket.StatusNormalClosure, "")
	}
	if pageID == "" {
		t.Fatal("no page target")
	}
	pc, _, err := websocket.Dial(ctx, base+"/devtools/page/"+pageID, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc.SetReadLimit(16 << 20)
	defer pc.Close(websocket.StatusNormalClosure, "")
	p := &cdp{c: pc}

	start := time.Now()
	defer func() { t.Logf("dashboard loaded and driven in %v", time.Since(start).Round(time.Millisecond)) }()
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": srv.URL + "/?token=" + testToken}, nil); err != nil {
		t.Fatal(err)
	}
	ready := func() (bool, error) {
		v, err := p.eval(ctx, `document.body ? document.body.dataset.state || "" : ""`)
		return v == "ready", err
	}
	if err := waitFor(ctx, "the dashboard", ready); err != nil {
		t.Fatal(err)
	}
	t.Logf("ready after %v", time.Since(start).Round(time.Millisecond))
	if v, err := p.eval(ctx, `location.search`); err != nil || v != "" {
		t.Errorf("location.search = %v (%v): the token must have left the URL", v, err)
	}
	if v, err := p.eval(ctx, `document.cookie`); err != nil || v != "" {
		t.Errorf("document.cookie = %q (%v): the session cookie must be HttpOnly", v, err)
	}

	actionIDs := func() []string {
		acts, err := s.store.Actions(context.Background(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range acts {
			ids = append(ids, a.ID+" "+a.Key)
		}
		return ids
	}

	// Lift the first action (a-active expires last, so it is listed first).
	if _, err := p.eval(ctx, `window.confirm = () => true; document.querySelector("#actions-table button.lift").click(); true`); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, "the lift", func() (bool, error) {
		return !slices.Contains(actionIDs(), "a-active addr:203.0.113.9"), nil
	}); err != nil {
		t.Fatalf("%v; actions now %v", err, actionIDs())
	}

	// Create an action with the form.
	const create = `(() => {
		const f = document.getElementById("action-form");
		f.elements.kind.value = "rate-limit";
		f.elements.key.value = "addr:192.0.2.99";
		f.elements.duration.value = "30m";
		f.elements.rate.value = "3";
		f.elements.reason.value = "<i>from the browser</i>";
		f.requestSubmit();
		return true;
	})()`
	if _, err := p.eval(ctx, create); err != nil {
		t.Fatal(err)
	}
	var made vigil.Action
	if err := waitFor(ctx, "the new action", func() (bool, error) {
		acts, err := s.store.Actions(context.Background(), time.Time{})
		for _, a := range acts {
			if a.Key == "addr:192.0.2.99" {
				made = a
				return true, nil
			}
		}
		return false, err
	}); err != nil {
		t.Fatalf("%v; actions now %v", err, actionIDs())
	}
	if made.Kind != vigil.ActionRateLimit || made.Rate != 3 || !made.Until.Equal(testNow.Add(30*time.Minute)) {
		t.Errorf("created action = %+v", made)
	}
	// The dashboard shows it after its refresh, its reason as text.
	if err := waitFor(ctx, "the new row", func() (bool, error) {
		v, err := p.eval(ctx, `[...document.querySelectorAll("#actions-table td")].some(td => td.textContent === "<i>from the browser</i>") && document.querySelectorAll("#actions-table i").length === 0`)
		return v == true, err
	}); err != nil {
		t.Error(err)
	}
	if v, err := p.eval(ctx, `document.getElementById("actions-error").textContent`); err != nil || v != "" {
		t.Errorf("the dashboard shows an error: %q (%v)", v, err)
	}
}
