package report

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/scan"
)

func summary(t *testing.T, r *scan.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Summary(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestSummary(t *testing.T) {
	out := summary(t, loadReport(t, "full.json"))
	// Findings first, most severe first; then what could not run; then the
	// counts.
	order := []string{
		"Findings (5):", "CRITICAL", "GET /api/v2/products/search", "HIGH", "GET /api/v2/orders/{id}", "as bob→alice",
		"MEDIUM", "LOW", "INFO", "Could not run (1):", "ssrf.metadata POST /api/v2/imports: connection refused",
		"By severity:  critical 1  high 1  medium 1  low 1  info 1",
		"Tests: 9 run, 2 passed, 5 failed, 1 error, 1 skipped; 214 requests in 7.5s",
	}
	pos := 0
	for _, s := range order {
		i := strings.Index(out[pos:], s)
		if i < 0 {
			t.Fatalf("summary lacks %q after position %d:\n%s", s, pos, out)
		}
		pos += i + len(s)
	}
	if strings.Contains(out, "PARTIAL") {
		t.Error("complete report says PARTIAL")
	}
	golden(t, "full.summary.golden", []byte(out))
}

func TestSummaryCases(t *testing.T) {
	many := &scan.Report{Target: "http://127.0.0.1:1"}
	for i := range 25 {
		many.Results = append(many.Results, scan.Result{Test: fmt.Sprintf("t%02d", i), Operation: "GET /x", Status: scan.StatusError, Detail: "timeout"})
	}
	tests := []struct {
		name    string
		report  *scan.Report
		want    []string
		notWant []string
	}{
		{"empty", &scan.Report{Target: "http://127.0.0.1:1"}, []string{"No findings.", "Tests: 0 run"}, []string{"Findings ("}},
		{"partial", partialReport(t), []string{"PARTIAL: the scan was stopped", "Findings (2):"}, nil},
		{"errors capped", many, []string{"Could not run (25):", "t09 GET /x", "… and 15 more"}, []string{"t10 GET /x"}},
		{"hostile", hostileReport(), []string{`\x1b[2J`, `\u202eevil`, "<script>"}, []string{"\x1b", "\x00", "\r", "\u202e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := summary(t, tt.report)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("summary lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("summary holds %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\twith tab\nand lines", "plain text\twith tab\nand lines"},
		{"HTTP/1.1 200 OK\r\nA: b\r\n", "HTTP/1.1 200 OK\nA: b\n"},
		{"cr\ronly", `cr\x0donly`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"nul\x00", `nul\x00`},
		{"bad \xff", `bad \xff`},
		{"bidi \u202e", `bidi \u202e`},
		{"c1 \u0085", `c1 \x85`},
		{"ok → é 日本", "ok → é 日本"},
		{"real \ufffd kept", "real \ufffd kept"},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := oneLine("a\nb\t c"); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
}

func TestCapText(t *testing.T) {
	long := strings.Repeat("é", maxEvidence) // 2 bytes each
	got := capText(long)
	if len(got) > maxEvidence+64 || !strings.Contains(got, "more bytes cut by the report") {
		t.Errorf("capText: %d bytes, tail %q", len(got), got[len(got)-40:])
	}
	if !strings.HasPrefix(got, "éé") || strings.ContainsRune(got[:maxEvidence], '\ufffd') {
		t.Error("capText cut inside a rune")
	}
	if capText("short") != "short" {
		t.Error("capText changed a short string")
	}
}

func result(status scan.Status, sev vigil.Severity) scan.Result {
	return scan.Result{Test: "bola.read", Name: "reads another's order", Operation: "GET /orders/{id}", Status: status, Severity: sev}
}

func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 20)
	if p.tty {
		t.Fatal("a buffer is not a terminal")
	}
	for i := range 20 {
		st := scan.StatusPass
		switch i {
		case 3:
			st = scan.StatusFail
		case 7:
			st = scan.StatusError
		}
		p.Step(result(st, vigil.SeverityHigh))
	}
	p.Done()
	p.Done()
	p.Step(result(scan.StatusFail, vigil.SeverityHigh)) // after Done: ignored
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		"2/20 tests (10%), 0 findings",
		"FAIL HIGH     GET /orders/{id}  reads another's order (bola.read)",
		"4/20 tests (20%), 1 finding",
		"6/20 tests (30%), 1 finding",
		"8/20 tests (40%), 1 finding, 1 error",
	}
	if len(lines) != 11 {
		t.Errorf("%d lines, want 11 (ten tenths and one finding):\n%s", len(lines), buf.String())
	}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[min(i, len(lines)-1)], w)
		}
	}
	if last := lines[len(lines)-1]; last != "20/20 tests (100%), 1 finding, 1 error" {
		t.Errorf("last line = %q", last)
	}
	if strings.Contains(buf.String(), "\r") || strings.Contains(buf.String(), "\x1b") {
		t.Error("plain output has terminal control characters")
	}
}

func TestProgressPlainStoppedEarly(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 100)
	for range 5 {
		p.Step(result(scan.StatusPass, vigil.SeverityLow))
	}
	p.Done()
	if got := buf.String(); got != "5/100 tests (5%), 0 findings\n" {
		t.Errorf("output = %q", got)
	}
	buf.Reset()
	NewProgress(&buf, 0).Done()
	if got := buf.String(); got != "0/0 tests (100%), 0 findings\n" {
		t.Errorf("zero total: %q", got)
	}
}

func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 4)
	p.tty = true
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.Step(result(scan.StatusPass, vigil.SeverityLow)) // draws (first)
	p.Step(result(scan.StatusPass, vigil.SeverityLow)) // same instant: no redraw
	now = now.Add(redrawEvery)
	p.Step(result(scan.StatusFail, vigil.SeverityCritical)) // finding line, then bar
	p.Step(result(scan.StatusPass, vigil.SeverityLow))      // last: draws
	p.Done()
	out := buf.String()
	frames := strings.Split(out, "\r\x1b[K")
	want := []string{
		"",
		"███████░░░░░░░░░░░░░░░░░░░░░░░ 1/4 tests (25%), 0 findings",
		"FAIL CRITICAL GET /orders/{id}  reads another's order (bola.read)\n",
		"██████████████████████░░░░░░░░ 3/4 tests (75%), 1 finding",
		"██████████████████████████████ 4/4 tests (100%), 1 finding",
		"██████████████████████████████ 4/4 tests (100%), 1 finding\n",
	}
	if strings.Join(frames, "|") != strings.Join(want, "|") {
		t.Errorf("frames:\n%q\nwant:\n%q", frames, want)
	}
}

func TestProgressConcurrent(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 400)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				st := scan.StatusPass
				if i == g {
					st = scan.StatusFail
				}
				p.Step(result(st, vigil.SeverityMedium))
			}
		})
	}
	wg.Wait()
	p.Done()
	out := buf.String()
	if !strings.HasSuffix(out, "400/400 tests (100%), 8 findings\n") {
		t.Errorf("end of output: %q", out[max(0, len(out)-80):])
	}
	if n := strings.Count(out, "FAIL MEDIUM"); n != 8 {
		t.Errorf("%d finding lines, want 8", n)
	}
}

// FuzzPrintable: whatever the target sends, what reaches a person is valid
// UTF-8 without control characters other than tab and newline, and
// printable is idempotent (its escapes are themselves printable).
func FuzzPrintable(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s)
	}
	f.Add("HTTP/1.1 200 OK\r\n\r\n{}")
	f.Fuzz(func(t *testing.T, s string) {
		out := printable(s)
		if !utf8.ValidString(out) {
			t.Fatalf("printable(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if unsafeRune(r) {
				t.Fatalf("printable(%q) = %q: holds %U", s, out, r)
			}
		}
		if again := printable(out); again != out {
			t.Fatalf("printable is not idempotent: %q -> %q", out, again)
		}
		if l := oneLine(s); strings.ContainsAny(l, "\n\r\t") {
			t.Fatalf("oneLine(%q) = %q", s, l)
		}
	})
}
