package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/store/sqlite"
)

// readFindings parses a findings file: one JSON Finding per line.
func readFindings(t *testing.T, b []byte) []vigil.Finding {
	t.Helper()
	var fs []vigil.Finding
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f vigil.Finding
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("findings line %q: %v", sc.Text(), err)
		}
		fs = append(fs, f)
	}
	return fs
}

// examplesDir is resolved before any test changes directory.
var examplesDir, _ = filepath.Abs("../../examples")

// copyExample copies a file of examples/ into dir.
func copyExample(t *testing.T, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAnalyzeExample runs the shipped example file: every labelled attack
// raises a finding on its own exchange, no benign exchange does, and the
// store keeps the findings with credentials and card numbers redacted.
func TestAnalyzeExample(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	copyExample(t, dir, "shop-traffic.jsonl")
	copyExample(t, dir, "shop-traffic.labels.jsonl")

	code, out, errOut := vigilRun(t, "", "analyze", "--store", "v.db", "--findings", "-", "shop-traffic.jsonl")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "read 16 exchanges, skipped 0") {
		t.Errorf("summary line missing: %q", errOut)
	}
	byID := map[string][]vigil.Finding{}
	for _, f := range readFindings(t, []byte(out)) {
		byID[f.ExchangeID] = append(byID[f.ExchangeID], f)
	}
	labels, _ := os.ReadFile("shop-traffic.labels.jsonl")
	var attacks int
	for line := range strings.Lines(string(labels)) {
		var l struct {
			ExchangeID string `json:"exchange_id"`
			Label      string `json:"label"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		got := byID[l.ExchangeID]
		switch {
		case l.Label == "benign" && len(got) > 0:
			t.Errorf("false positive on benign %s: %v", l.ExchangeID, got)
		case l.Label != "benign" && len(got) == 0:
			t.Errorf("missed %s on %s", l.Label, l.ExchangeID)
		}
		if l.Label != "benign" {
			attacks++
		}
	}
	if attacks < 5 {
		t.Fatalf("the example has %d labelled attacks, want at least 5", attacks)
	}
	if strings.Contains(out, "4242 4242 4242 4242") || strings.Contains(out, "c2lnbmF0dXJl") {
		t.Errorf("findings output carries a secret:\n%s", out)
	}

	st, err := sqlite.Open(t.Context(), "v.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored, err := st.Findings(t.Context(), vigil.FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(readFindings(t, []byte(out))) {
		t.Errorf("store holds %d findings, the findings file %d", len(stored), len(readFindings(t, []byte(out))))
	}
	eps, err := st.Endpoints(t.Context())
	if err != nil || len(eps) == 0 {
		t.Fatalf("endpoints: %v, %v", eps, err)
	}
	raw, err := os.ReadFile("v.db")
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile("v.db-wal")
	for _, secret := range []string{"4242 4242 4242 4242", "correct horse battery staple", "c2lnbmF0dXJlLW5vdC1jaGVja2Vk"} {
		if bytes.Contains(raw, []byte(secret)) || bytes.Contains(wal, []byte(secret)) {
			t.Errorf("the store file holds %q in clear", secret)
		}
	}
}

// TestAnalyzeInputs covers the input forms: a malformed line in the middle,
// gzip, standard input, HAR, and --fail-on.
func TestAnalyzeInputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	copyExample(t, dir, "shop-traffic.jsonl")
	ex, _ := os.ReadFile("shop-traffic.jsonl")
	lines := strings.SplitAfter(string(ex), "\n")

	// A broken line 3: lines 1-2 and 4.. still count; ids keep line numbers.
	broken := lines[0] + lines[1] + "{\"id\": \"oops\", \"request\": \n" + strings.Join(lines[2:], "")
	if err := os.WriteFile("broken.jsonl", []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(ex)
	zw.Close()
	if err := os.WriteFile("traffic.jsonl.gz", gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("malformed line", func(t *testing.T) {
		code, out, errOut := vigilRun(t, "", "analyze", "--no-store", "--findings", "-", "broken.jsonl")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(errOut, "read 16 exchanges, skipped 1") {
			t.Errorf("summary: %q", errOut)
		}
		if !strings.Contains(errOut, "broken.jsonl") || !strings.Contains(errOut, "record=3") {
			t.Errorf("the bad record is not named by file and line: %q", errOut)
		}
		// Line 11 of the example (SQL injection) is line 12 here.
		if !strings.Contains(out, `"exchange_id":"broken.jsonl#12"`) {
			t.Errorf("no finding on broken.jsonl#12:\n%s", out)
		}
	})
	t.Run("gzip", func(t *testing.T) {
		code, out, errOut := vigilRun(t, "", "analyze", "--no-store", "--findings", "-", "traffic.jsonl.gz")
		if code != exitOK || !strings.Contains(out, `"exchange_id":"traffic.jsonl.gz#11"`) {
			t.Fatalf("exit %d, stderr %q, out:\n%s", code, errOut, out)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		code, out, errOut := vigilRun(t, string(ex), "analyze", "--no-store", "--findings", "-", "-")
		if code != exitOK || !strings.Contains(errOut, "read 16 exchanges") || !strings.Contains(out, "#11\"") {
			t.Fatalf("exit %d, stderr %q, out:\n%s", code, errOut, out)
		}
	})
	t.Run("fail-on", func(t *testing.T) {
		code, _, errOut := vigilRun(t, "", "analyze", "--no-store", "--fail-on", "high", "shop-traffic.jsonl")
		if code != exitFindings {
			t.Fatalf("exit %d, want %d: %s", code, exitFindings, errOut)
		}
		benign := strings.Join(lines[:10], "")
		code, _, errOut = vigilRun(t, benign, "analyze", "--no-store", "--fail-on", "info", "-")
		if code != exitOK {
			t.Fatalf("benign traffic: exit %d, want 0: %s", code, errOut)
		}
	})
}

func TestAnalyzeHAR(t *testing.T) {
	har, err := filepath.Abs("../../sensor/ingest/testdata/chrome.har")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	code, _, errOut := vigilRun(t, "", "analyze", "--no-store", har)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "skipped 0") || strings.Contains(errOut, "read 0 exchanges") {
		t.Errorf("summary: %q", errOut)
	}
}
