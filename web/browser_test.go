//go:build unix

package web

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromium returns the path of the chromium binary, or skips the test
// (fails it when VIGIL_REQUIRE_BROWSER is set).
func chromium(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_BROWSER") != "" {
			t.Fatalf("VIGIL_REQUIRE_BROWSER is set but there is no chromium binary on PATH: %v", err)
		}
		t.Skip("no chromium binary on PATH: the real-browser test is skipped (set VIGIL_REQUIRE_BROWSER=1 to make this fail)")
	}
	return bin
}

// dumpDOM loads url in headless Chromium, lets its scripts run for a few
// seconds of virtual time, and returns the serialised DOM.
func dumpDOM(t *testing.T, bin, url string) string {
	t.Helper()
	// A bound for a hung browser, not a speed test (see TestBrowserWrites).
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
		"--no-first-run", "--disable-background-networking", "--disable-sync",
		"--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000", "--dump-dom", url)
	// Chromium starts helper processes: give it its own process group and
	// kill the whole group on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\nstderr: %s", err, stderr.String())
	}
	return string(out)
}

// TestBrowserDashboard loads the dashboard in a real browser against a
// seeded store: /?token= must set the cookie and redirect, the page's script
// must fetch the API with that cookie and render every section, and the
// stored markup must show as text, creating no element.
func TestBrowserDashboard(t *testing.T) {
	bin := chromium(t)
	srv := httptest.NewServer(newServer(t, nil))
	defer srv.Close()

	start := time.Now()
	dom := dumpDOM(t, bin, srv.URL+"/?token="+testToken)
	t.Logf("chromium took %v", time.Since(start).Round(time.Millisecond))

	if !strings.Contains(dom, `data-state="ready"`) {
		t.Fatalf("the dashboard did not finish loading (no data-state=ready); DOM:\n%s", dom)
	}
	for _, want := range []string{
		"SQL injection in query parameter", // a finding's title
		"detect.authz.bola",                // a detector
		"addr:203.0.113.9",                 // an actor key (findings, actions)
		"/orders/{id}",                     // an endpoint
		"BOLA sweep by mallory",            // an incident
		"Lift",                             // the actions' lift buttons
		"1' OR '1'='1",                     // evidence
		// The payloads, as text: the serialiser escapes < and > of text nodes.
		"&lt;img src=x onerror=alert(1)&gt;",
		"&lt;svg onload=alert(3)&gt;",
		"/&lt;script&gt;alert(2)&lt;/script&gt;",
		"principal:jwt:&lt;b&gt;bold&lt;/b&gt;",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %q", want)
		}
	}
	// No element came from the data: no img, svg or b element at all, and
	// no script element but the page's own.
	for _, re := range []string{`(?i)<img\b`, `(?i)<svg\b`, `(?i)<b>`, `(?i)<script>`} {
		if m := regexp.MustCompile(re).FindString(dom); m != "" {
			t.Errorf("the DOM holds an injected element %q", m)
		}
	}
	if n := strings.Count(dom, "<script"); n != 1 {
		t.Errorf("%d script elements, want the page's one", n)
	}
	if c := strings.Count(dom, `<tr class="finding"`); c != 4 {
		t.Errorf("%d finding rows, want 4", c)
	}
	if strings.Contains(dom, testToken) {
		t.Errorf("the token is in the page")
	}
}

// TestBrowserWithoutToken checks that the browser without a token gets the
// login form and no data.
func TestBrowserWithoutToken(t *testing.T) {
	bin := chromium(t)
	srv := httptest.NewServer(newServer(t, nil))
	defer srv.Close()
	dom := dumpDOM(t, bin, srv.URL+"/")
	if !strings.Contains(dom, `action="/login"`) || strings.Contains(dom, "SQL injection") {
		t.Errorf("without a token: want the login form and no data; DOM:\n%s", dom)
	}
}
