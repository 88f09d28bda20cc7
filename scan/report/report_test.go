package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// loadReport reads a scan.Report fixture from testdata/.
func loadReport(t *testing.T, name string) *scan.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var r scan.Report
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &r
}

// hostileStrings are what a target can put into a report: markup, script,
// terminal escapes, NUL and other control characters, invalid UTF-8, bidi
// overrides, XML-breaking text and a CDATA end.
var hostileStrings = []string{
	`<script>alert(1)</script>`,
	`</pre></details><script src=//evil.test/x.js></script>`,
	`"><img src=x onerror=alert(1)>`,
	"\x1b[2J\x1b[31mred\x1b]0;title\x07",
	"nul\x00byte\x01\x08\x0b\x0c\x7f",
	"bad utf8 \xff\xfe",
	"bidi \u202eevil\u202c \u2066x\u2069",
	"]]><!-- <?xml version='1.0'?> &amp; &lt;",
	"line\rreturn and\r\ncrlf \u2028 sep \ufeff bom \u0085 nel",
}

// hostileReport puts the hostile strings in every free-text field.
func hostileReport() *scan.Report {
	h := strings.Join(hostileStrings, " | ")
	r := &scan.Report{
		Tool: "vigil " + h, Target: "http://127.0.0.1:1/" + h, Spec: h + ".yaml",
		Started:  time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC),
		Finished: time.Date(2026, 11, 29, 9, 0, 1, 0, time.UTC),
		Requests: 3,
	}
	for i, s := range []scan.Status{scan.StatusFail, scan.StatusError, scan.StatusSkipped, scan.StatusPass} {
		r.Results = append(r.Results, scan.Result{
			Test: "t" + h, Name: h, Category: vigil.Category(h), Operation: "GET /" + h,
			Status: s, Severity: vigil.Severity(i), Identity: h, Detail: h,
			Evidence: []scan.Evidence{{Request: "GET /" + h + " HTTP/1.1\r\n\r\n", Response: "HTTP/1.1 200 OK\r\n\r\n" + h}},
		})
	}
	return r
}

func partialReport(t *testing.T) *scan.Report {
	r := loadReport(t, "full.json")
	r.Partial = true
	r.Results = r.Results[:4]
	return r
}

// fixtures are the reports every writer is tested with.
func fixtures(t *testing.T) map[string]*scan.Report {
	return map[string]*scan.Report{
		"empty":   {Tool: "vigil devel", Target: "http://127.0.0.1:1"},
		"full":    loadReport(t, "full.json"),
		"shop":    loadReport(t, "shop-scan.json"), // a real scan of the demo shop, trimmed
		"partial": partialReport(t),
		"hostile": hostileReport(),
	}
}

func render(t *testing.T, format string, r *scan.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, r); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

func TestFormats(t *testing.T) {
	want := []string{"json", "sarif", "junit", "html"}
	if diff := cmp.Diff(want, Formats()); diff != "" {
		t.Errorf("Formats (-want +got):\n%s", diff)
	}
	for _, f := range Formats() {
		if _, ok := writers[f]; !ok {
			t.Errorf("format %s has no writer", f)
		}
	}
	if len(writers) != len(want) {
		t.Errorf("%d writers, %d formats", len(writers), len(want))
	}
}

func TestWriteErrors(t *testing.T) {
	r := loadReport(t, "full.json")
	tests := []struct {
		name, format string
		report       *scan.Report
		wantCode     string
		wantText     string
	}{
		{"unknown format", "xml", r, vigil.EINVALID, `unknown report format "xml" (want one of json, sarif, junit, html)`},
		{"empty format", "", r, vigil.EINVALID, "unknown report format"},
		{"nil report", "json", nil, vigil.EINVALID, "no scan report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.format, tt.report)
			var ve *vigil.Error
			if !errors.As(err, &ve) || ve.Code != tt.wantCode {
				t.Fatalf("err = %v, want a %s vigil.Error", err, tt.wantCode)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantText)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes on error", buf.Len())
			}
		})
	}
	// Formats are case-insensitive.
	if err := Write(&bytes.Buffer{}, " SARIF ", r); err != nil {
		t.Errorf("Write(SARIF): %v", err)
	}
}

// failWriter fails every write, to check that write errors come back.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteReportsWriteErrors(t *testing.T) {
	r := loadReport(t, "full.json")
	for _, f := range Formats() {
		if err := Write(failWriter{}, f, r); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: err = %v, want the write error", f, err)
		}
	}
	if err := Summary(failWriter{}, r); err == nil {
		t.Error("Summary: no error from a failing writer")
	}
}

func TestJSON(t *testing.T) {
	for name, r := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			out := render(t, "json", r)
			if !bytes.HasSuffix(out, []byte("}\n")) || !bytes.HasPrefix(out, []byte("{\n  \"tool\"")) {
				t.Errorf("not an indented object starting with tool:\n%.200s", out)
			}
			var got scan.Report
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := *r
			if want.Results == nil {
				want.Results = []scan.Result{}
			}
			if bytes.Contains(out, []byte("<script")) || bytes.ContainsRune(out, 0x1b) {
				t.Error("JSON holds a raw <script or ESC")
			}
			if name == "hostile" {
				// Invalid UTF-8 cannot survive JSON (encoding/json writes
				// U+FFFD); the markup must come back as it was.
				if !strings.Contains(got.Results[0].Detail, "<script>alert(1)</script>") {
					t.Errorf("hostile detail lost: %q", got.Results[0].Detail)
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	golden(t, "full.json.golden", render(t, "json", loadReport(t, "full.json")))
	if out := render(t, "json", &scan.Report{}); !bytes.Contains(out, []byte(`"results": []`)) {
		t.Errorf("empty report: want \"results\": [], got\n%s", out)
	}
}
