package detect

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

type nop struct{}

func (nop) Analyze(context.Context, *vigil.Exchange) ([]vigil.Finding, error) { return nil, nil }

func TestNew(t *testing.T) {
	mk := func() vigil.Analyzer { return nop{} }
	tests := []struct {
		name    string
		fs      []Factory
		wantErr string
		wantN   int
	}{
		// The five request detectors are merged into one analyzer.
		{"builtin", Builtin(), "", len(Builtin()) - 4},
		{"one leaf detector is not wrapped", []Factory{{"a.b", func() vigil.Analyzer { return NewSQLi() }}, {"a.c", mk}}, "", 2},
		{"two", []Factory{{"a.b", mk}, {"a.c", mk}}, "", 2},
		{"duplicate", []Factory{{"a.b", mk}, {"a.b", mk}}, "registered twice", 0},
		{"empty id", []Factory{{"", mk}}, "empty id", 0},
		{"no constructor", []Factory{{"a.b", nil}}, "empty id or constructor", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.fs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.wantN {
				t.Fatalf("New = %d analyzers, %v; want %d", len(got), err, tt.wantN)
			}
		})
	}
}

func TestBuiltinIDs(t *testing.T) {
	want := []string{
		"detect.injection.sqli", "detect.injection.xss", "detect.injection.other", "detect.ssrf",
		"detect.auth.jwt", "detect.misconfig.verbose", "detect.exposure.sensitive", "detect.resource.limits",
		"detect.authz.bfla", "detect.auth.unauthenticated", "detect.auth.tokenshare", "detect.exposure.bulk",
	}
	var got []string
	for _, f := range Builtin() {
		got = append(got, f.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Builtin ids = %v, want %v", got, want)
	}
	if fs := BuiltinWith(Config{Headers: true}); fs[len(fs)-1].ID != "detect.misconfig.headers" {
		t.Errorf("BuiltinWith(Headers) does not add the headers detector")
	}
}

// TestHostileInputsAreCheap feeds each detector inputs built to make naive
// scanners quadratic; the whole run must stay fast.
func TestHostileInputsAreCheap(t *testing.T) {
	as, err := New(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{
		strings.Repeat("|", 64<<10), strings.Repeat("${", 32<<10), strings.Repeat("{{7*", 16<<10),
		strings.Repeat("../", 20<<10), strings.Repeat("%25", 20<<10), strings.Repeat("' or ", 12<<10),
		strings.Repeat("<!ENTITY ", 7<<10), strings.Repeat("[", 64<<10), strings.Repeat(`{"a":`, 12<<10),
	} {
		x := &vigil.Exchange{
			Request: vigil.Request{Method: "POST", URL: &url.URL{Path: "/", RawQuery: "q=" + url.QueryEscape(v[:min(len(v), 8<<10)])},
				Header: http.Header{"Content-Type": {"application/json"}, "X-Q": {v[:min(len(v), 8<<10)]}}, Body: []byte(`{"v":` + strconv.Quote(v) + `}`)},
			Response: &vigil.Response{Status: 500, Body: []byte(v)},
		}
		start := time.Now()
		for _, a := range as {
			if _, err := a.Analyze(context.Background(), x); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("input %.10q…: %v", v, d)
		}
	}
}

// TestSharedWalkEquivalence checks that the merged analyzer New builds finds
// exactly what the request detectors find one by one.
func TestSharedWalkEquivalence(t *testing.T) {
	xs, _ := loadCorpus(t)
	merged, err := New(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var alone []vigil.Analyzer
	for _, f := range Builtin() {
		alone = append(alone, f.New())
	}
	run := func(as []vigil.Analyzer, x *vigil.Exchange) []vigil.Finding {
		var out []vigil.Finding
		for _, a := range as {
			fs, err := a.Analyze(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fs...)
		}
		slices.SortStableFunc(out, func(a, b vigil.Finding) int { return strings.Compare(a.Detector, b.Detector) })
		return out
	}
	for i := range xs {
		if d := cmp.Diff(run(alone, &xs[i]), run(merged, &xs[i])); d != "" {
			t.Fatalf("%s: merged findings differ (-alone +merged):\n%s", xs[i].ID, d)
		}
	}
}
