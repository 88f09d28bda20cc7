package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// addTestdataSeeds adds every testdata file as a fuzz seed.
func addTestdataSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParse: Parse never panics, and what it returns keeps its invariants.
func FuzzParse(f *testing.F) {
	addTestdataSeeds(f)
	f.Add([]byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a/{b}.c":{"get":{"responses":{"200":{"description":"d"}}}}}}`))
	f.Add([]byte("swagger: '2.0'\ninfo: {title: t, version: '1'}\nbasePath: /x\npaths: {/y: {get: {responses: {'200': {description: d}}}}}\n"))
	f.Add(yamlBomb())
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "spec: fuzz: ") {
				t.Fatalf("error does not name the source: %v", err)
			}
			return
		}
		set := NewSet(s)
		for _, op := range s.Ops {
			if op.Spec != s || op.Method != strings.ToUpper(op.Method) || !strings.HasPrefix(op.Path, "/") {
				t.Fatalf("bad operation %+v", op)
			}
			if len(op.Path) > 1 && strings.HasSuffix(op.Path, "/") {
				t.Fatalf("trailing slash: %q", op.Path)
			}
			if !slices.IsSorted(op.RequestFields) || len(op.RequestFields) > MaxFields {
				t.Fatalf("request fields: %q", op.RequestFields)
			}
			// Every operation is found by its own path, unless its path has
			// empty segments ("//"), which never match.
			host := op.Host
			if host == "" {
				host = "fuzz.test"
			}
			if !strings.Contains(op.Path, "//") && !strings.ContainsAny(op.Path, "?#") {
				if got := set.Match(host, op.Method, op.Path); got == nil {
					t.Fatalf("Match(%q, %q, %q) = nil", host, op.Method, op.Path)
				}
			}
		}
		Compare(s, s)
		s.Validate()
	})
}

// FuzzMatch: Match never panics on any request, and a concrete path with
// no empty or braced segment never matches across a literal mismatch.
func FuzzMatch(f *testing.F) {
	set := testSet(f)
	f.Add(shopHost, "GET", "/api/v2/orders/8812")
	f.Add("any.test", "HEAD", "/internal/files/{x}.json")
	f.Add("", "", "")
	f.Add("a", "GET", "//{}/{/}/?#")
	f.Add("legacy.example.test:443", "get", "/v1/reports/")
	f.Fuzz(func(t *testing.T, host, method, path string) {
		op := set.Match(host, method, path)
		if op == nil {
			return
		}
		if !strings.EqualFold(op.Method, method) && !(op.Method == "GET" && strings.EqualFold(method, "HEAD")) {
			t.Fatalf("method %q matched %s", method, opName(op))
		}
		if op.Host != "" && !sameHost(op.Host, host) {
			t.Fatalf("host %q matched %s", host, opName(op))
		}
		// The matched path has as many segments as the request's.
		clean := path
		if i := strings.IndexAny(clean, "?#"); i >= 0 {
			clean = clean[:i]
		}
		clean = strings.TrimPrefix(strings.TrimRight(clean, "/"), "/")
		if strings.Count(clean, "/") != strings.Count(strings.Trim(op.Path, "/"), "/") {
			t.Fatalf("%q matched %s", path, opName(op))
		}
	})
}
