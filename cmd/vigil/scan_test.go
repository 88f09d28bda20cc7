package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/simulate/shop"
)

// startScanShop starts the demo shop and writes its spec for the CLI.
func startScanShop(t *testing.T) (target, specPath string) {
	return startScanShopWith(t, shop.Options{})
}

func startScanShopWith(t *testing.T, o shop.Options) (target, specPath string) {
	t.Helper()
	o.Seed, o.Logger = 1, slog.New(slog.DiscardHandler)
	s, err := shop.Start(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	specPath = filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(specPath, shop.Spec(), 0o600); err != nil {
		t.Fatal(err)
	}
	return s.URL(), specPath
}

const scanIdentities = "../../scan/testdata/shop-identities.yaml"

func TestScanCommand(t *testing.T) {
	target, spec := startScanShop(t)
	out := filepath.Join(t.TempDir(), "report.sarif")
	start := time.Now()
	code, stdout, stderr := vigilRun(t, "", "scan", "--spec", spec, "--target", target, "--identities", scanIdentities,
		"--concurrency", "8", "--rate", "1000", "--format", "sarif", "--output", out, "--fail-on", "high")
	t.Logf("full scan in %s", time.Since(start).Round(time.Millisecond))
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (findings at or above high)\nstdout:\n%s\nstderr:\n%s", code, exitFindings, stdout, stderr)
	}
	if !strings.Contains(stderr, "findings at or above high") {
		t.Errorf("stderr does not say why: %s", stderr)
	}
	if !strings.Contains(stdout, "bola") && !strings.Contains(stdout, "BOLA") && !strings.Contains(stdout, "API1:2023") {
		t.Errorf("the summary does not name the BOLA finding:\n%s", stdout)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(raw, &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) == 0 {
		t.Errorf("SARIF report: version %q, runs %d, err %v", sarif.Version, len(sarif.Runs), err)
	}
}

func TestScanCommandSafeJSON(t *testing.T) {
	target, spec := startScanShop(t)
	code, stdout, stderr := vigilRun(t, "", "scan", "--spec", spec, "--target", target, "--identities", scanIdentities,
		"--rate", "1000", "--safe", "--only", "bola,exposure,auth.no-credentials", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s", code, stderr)
	}
	var rep struct {
		Results []struct {
			Test, Operation, Status string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%.500s", err, stdout)
	}
	fails := 0
	for _, r := range rep.Results {
		if !strings.HasPrefix(r.Test, "bola") && !strings.HasPrefix(r.Test, "exposure") && r.Test != "auth.no-credentials" {
			t.Errorf("--only let %s run", r.Test)
		}
		if r.Status == "fail" {
			fails++
		}
		if strings.HasPrefix(r.Operation, "POST") || strings.HasPrefix(r.Operation, "PATCH") || strings.HasPrefix(r.Operation, "DELETE") {
			if r.Status != "skipped" {
				t.Errorf("--safe ran %s on %s: %s", r.Test, r.Operation, r.Status)
			}
		}
	}
	if fails != 3 { // bola orders and addresses, exposure of /users/me
		t.Errorf("%d findings, want 3: %s", fails, stdout)
	}
}

// TestScanCommandReplay: vigil analyze writes the simulator's traffic into
// a store; vigil scan --from-store replays the attacks it detected against
// the shop (the SQL injection and the SSRF are confirmed) and against the
// hardened shop (nothing is).
func TestScanCommandReplay(t *testing.T) {
	traffic, err := filepath.Abs("../../testdata/sim/seed7-30s.traffic.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "vigil.db")
	if code, _, stderr := vigilRun(t, "", "analyze", "--store", db, traffic); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, stderr)
	}
	for _, hardened := range []bool{false, true} {
		target, spec := startScanShopWith(t, shop.Options{Hardened: hardened})
		code, stdout, stderr := vigilRun(t, "", "scan", "--spec", spec, "--target", target, "--identities", scanIdentities,
			"--rate", "1000", "--from-store", db, "--only", "replay", "--format", "json")
		if code != exitOK {
			t.Fatalf("hardened %v: exit %d: %s", hardened, code, stderr)
		}
		var rep struct {
			Results []struct {
				Test, Operation, Status, Detail string
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("stdout is not the JSON report: %v\n%.500s", err, stdout)
		}
		status := map[string]string{}
		for _, r := range rep.Results {
			if !strings.HasPrefix(r.Test, "replay.") {
				t.Errorf("--only replay let %s run", r.Test)
			}
			if r.Status == "error" || (hardened && r.Status == "fail") {
				t.Errorf("hardened %v: %s %s: %s %s", hardened, r.Test, r.Operation, r.Status, r.Detail)
			}
			status[r.Test+" "+r.Operation] = r.Status
		}
		want := map[bool]string{false: "fail", true: "pass"}[hardened]
		for _, k := range []string{"replay.sqli GET /api/v2/products/search", "replay.ssrf POST /api/v2/imports"} {
			if status[k] != want {
				t.Errorf("hardened %v: %s: %q, want %s", hardened, k, status[k], want)
			}
		}
	}
}

func TestScanCommandInterrupted(t *testing.T) {
	target, spec := startScanShop(t)
	ctx, cancel := context.WithCancel(t.Context())
	var out, errb strings.Builder
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	code := run(ctx, []string{"scan", "--spec", spec, "--target", target, "--identities", scanIdentities, "--rate", "20",
		"--format", "json"}, strings.NewReader(""), &out, &errb)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d: %s", code, exitInterrupted, errb.String())
	}
	var rep struct {
		Partial bool `json:"partial"`
	}
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil || !rep.Partial {
		t.Errorf("the report is not a partial JSON report: %v %.300s", err, out.String())
	}
}

func TestScanCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"scan", "--spec", "x.yaml"}, "--spec and --target are required"},
		{"bad format", []string{"scan", "--spec", "x.yaml", "--target", "http://127.0.0.1:1", "--format", "pdf"}, "--format"},
		{"bad fail-on", []string{"scan", "--spec", "x.yaml", "--target", "http://127.0.0.1:1", "--fail-on", "dire"}, "--fail-on"},
		{"missing spec", []string{"scan", "--spec", "does-not-exist.yaml", "--target", "http://127.0.0.1:1"}, "does-not-exist.yaml"},
		{"bad bearer", []string{"scan", "--spec", "../../simulate/shop/openapi.yaml", "--target", "http://127.0.0.1:1", "--bearer", "alice"}, "NAME:ROLE:TOKEN"},
		{"replay without a store", []string{"scan", "--spec", "../../simulate/shop/openapi.yaml", "--target", "http://127.0.0.1:1", "--bearer", "a:r:T", "--only", "replay"}, "give --from-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := vigilRun(t, "", tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
}

// TestScanCommandHAR replays object reads recorded for user3 (Vigil JSON
// lines, as vigil proxy captures them) as the scan's identities.
func TestScanCommandHAR(t *testing.T) {
	target, spec := startScanShop(t)
	tok := func(email, pw string) string {
		resp, err := http.Post(target+"/api/v2/auth/login", "application/json",
			strings.NewReader(`{"email":"`+email+`","password":"`+pw+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Token string }
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return v.Token
	}(("user3@shop.test"), "Passw0rd!3")
	var lines []byte
	for _, p := range []string{"/api/v2/orders/1007", "/api/v2/addresses/503"} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", target+p, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		x := vigil.Exchange{ID: p, Time: time.Now(), Request: vigil.Request{Method: "GET", URL: req.URL, Proto: "HTTP/1.1", Header: req.Header, BodySize: 0},
			Response: &vigil.Response{Status: resp.StatusCode, Proto: "HTTP/1.1", Header: resp.Header, Body: body, BodySize: int64(len(body))}}
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, b...), '\n')
	}
	traffic := filepath.Join(t.TempDir(), "traffic.jsonl")
	if err := os.WriteFile(traffic, lines, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := vigilRun(t, "", "scan", "--spec", spec, "--target", target, "--identities", scanIdentities,
		"--rate", "1000", "--safe", "--only", "bola.observed", "--har", traffic, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Results []struct{ Test, Operation, Status string } `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	var fails []string
	for _, r := range rep.Results {
		if r.Status == "fail" {
			fails = append(fails, r.Operation)
		}
	}
	if strings.Join(fails, ",") != "GET /api/v2/addresses/{id},GET /api/v2/orders/{id}" {
		t.Errorf("findings on %v, want the two BOLA reads", fails)
	}
	if code, _, stderr := vigilRun(t, "", "scan", "--spec", spec, "--target", target, "--har", "nope.har", "--bearer", "a:b:c"); code != exitUsage || !strings.Contains(stderr, "--har") {
		t.Errorf("missing --har file: exit %d, %s", code, stderr)
	}
}

// TestScanCommandHardened: the hardened shop passes a CI gate at any
// severity.
func TestScanCommandHardened(t *testing.T) {
	target, spec := startScanShopWith(t, shop.Options{Hardened: true})
	code, stdout, stderr := vigilRun(t, "", "scan", "--spec", spec, "--target", target, "--identities", scanIdentities,
		"--concurrency", "8", "--rate", "1000", "--format", "junit", "--output", filepath.Join(t.TempDir(), "r.xml"), "--fail-on", "info")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
