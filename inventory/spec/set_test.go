package spec

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const shopHost = "127.0.0.1:8080"

// testSet is the shop, the multi-server spec, the Swagger pet store and the
// deprecations spec together.
func testSet(t testing.TB) *Set {
	t.Helper()
	return NewSet(
		mustLoad(t, "shop-3.1.yaml"),
		mustLoad(t, "servers-3.0.json"),
		mustLoad(t, "petstore-2.0.yaml"),
		mustLoad(t, "deprecated-3.1.yaml"),
	)
}

// opName names an operation for test output: "GET /path @host".
func opName(op *Operation) string {
	if op == nil {
		return "<nil>"
	}
	return op.Method + " " + op.Path + " @" + op.Host
}

func TestMatch(t *testing.T) {
	set := testSet(t)
	tests := []struct {
		name, host, method, path string
		want                     string // opName, "<nil>" when undocumented
	}{
		// Concrete paths and templates.
		{"concrete id", shopHost, "GET", "/api/v2/orders/8812", "GET /api/v2/orders/{id} @" + shopHost},
		{"template {id}", shopHost, "GET", "/api/v2/orders/{id}", "GET /api/v2/orders/{id} @" + shopHost},
		{"template other name", shopHost, "GET", "/api/v2/orders/{orderId}", "GET /api/v2/orders/{id} @" + shopHost},
		{"template {...}", shopHost, "GET", "/api/v2/giftcards/{...}/balance", "GET /api/v2/giftcards/{code}/balance @" + shopHost},
		{"concrete code", shopHost, "GET", "/api/v2/giftcards/GC-0042/balance", "GET /api/v2/giftcards/{code}/balance @" + shopHost},
		{"no params", shopHost, "POST", "/api/v2/checkout/pay", "POST /api/v2/checkout/pay @" + shopHost},
		// Literal beats parameter.
		{"me before {id}", shopHost, "GET", "/api/v2/users/me", "GET /api/v2/users/me @" + shopHost},
		{"me PATCH", shopHost, "PATCH", "/api/v2/users/me", "PATCH /api/v2/users/me @" + shopHost},
		{"template is not me", shopHost, "GET", "/api/v2/users/{id}", "GET /api/v2/users/{id} @" + shopHost},
		{"other user", shopHost, "GET", "/api/v2/users/17", "GET /api/v2/users/{id} @" + shopHost},
		{"search before {id}", shopHost, "GET", "/api/v2/products/search", "GET /api/v2/products/search @" + shopHost},
		{"product id", shopHost, "GET", "/api/v2/products/12", "GET /api/v2/products/{id} @" + shopHost},
		{"literal dead end backtracks to param", "any.test", "GET", "/internal/users/me/orders", "GET /internal/users/{userId}/orders @"},
		{"method only on param", shopHost, "PATCH", "/api/v2/users/17", "<nil>"},
		// Segments with text around a parameter.
		{"suffix pattern", "any.test", "GET", "/internal/files/report.json", "GET /internal/files/{name}.json @"},
		{"pattern miss falls to param", "any.test", "GET", "/internal/files/report.csv", "GET /internal/files/{name} @"},
		{"pattern needs a non-empty param", "any.test", "GET", "/internal/files/.json", "GET /internal/files/{name} @"},
		{"template misses pattern", "any.test", "GET", "/internal/files/{id}", "GET /internal/files/{name} @"},
		// Methods.
		{"lower-case method", shopHost, "get", "/api/v2/orders", "GET /api/v2/orders @" + shopHost},
		{"HEAD falls back to GET", shopHost, "HEAD", "/api/v2/products", "GET /api/v2/products @" + shopHost},
		{"HEAD documented", "any.test", "HEAD", "/internal/users/5", "HEAD /internal/users/{userId} @"},
		{"HEAD to GET, relative server", "any.test", "HEAD", "/internal/users/me", "GET /internal/users/me @"},
		{"GET is not HEAD", "any.test", "GET", "/internal/users/5", "GET /internal/users/{userId} @"},
		{"wrong method", shopHost, "PUT", "/api/v2/orders", "<nil>"},
		{"POST is not GET", shopHost, "POST", "/api/v2/orders/1", "<nil>"},
		// Hosts.
		{"host case", "API.PETS.TEST:8443", "GET", "/v1/pets/42", "GET /v1/pets/{petId} @api.pets.test:8443"},
		{"default port ignored", "legacy.example.test:443", "GET", "/v1/reports", "GET /v1/reports @legacy.example.test"},
		{"default port 80 ignored", "legacy.example.test:80", "GET", "/v1/reports/9", "GET /v1/reports/{id} @legacy.example.test"},
		{"other port differs", "legacy.example.test:8443", "GET", "/v1/reports", "<nil>"},
		{"other host", "shop.test", "GET", "/api/v2/orders/1", "<nil>"},
		{"no host", "", "GET", "/api/v2/orders/1", "<nil>"},
		{"server variables host", "eu.api.test:8443", "GET", "/api/v2/users/7", "GET /api/v2/users/{userId} @eu.api.test:8443"},
		{"enum value not default", "us.api.test:8443", "GET", "/api/v2/users/7", "<nil>"},
		{"relative server: any host", "whatever.test", "GET", "/internal/users/7/orders", "GET /internal/users/{userId}/orders @"},
		// Path forms.
		{"query string", shopHost, "GET", "/api/v2/products?limit=5&offset=0", "GET /api/v2/products @" + shopHost},
		{"fragment", shopHost, "GET", "/api/v2/products#top", "GET /api/v2/products @" + shopHost},
		{"trailing slash", shopHost, "GET", "/api/v2/products/", "GET /api/v2/products @" + shopHost},
		{"no leading slash", shopHost, "GET", "api/v2/products", "GET /api/v2/products @" + shopHost},
		// Undocumented.
		{"v1 twin of orders", shopHost, "GET", "/api/v1/orders/8812", "<nil>"},
		{"v1 twin of me", shopHost, "GET", "/api/v1/users/me", "<nil>"},
		{"v1 twin template", shopHost, "GET", "/api/v1/orders/{id}", "<nil>"},
		{"v3 twin", shopHost, "GET", "/api/v3/products", "<nil>"},
		{"shadow admin route", shopHost, "GET", "/api/v2/admin/debug", "<nil>"},
		{"prefix only", shopHost, "GET", "/api/v2", "<nil>"},
		{"too long", shopHost, "GET", "/api/v2/orders/1/items", "<nil>"},
		{"empty segment", shopHost, "GET", "/api/v2//orders", "<nil>"},
		{"empty segment for a param", shopHost, "GET", "/api/v2/orders//", "GET /api/v2/orders @" + shopHost},
		{"root", shopHost, "GET", "/", "<nil>"},
		{"empty", shopHost, "GET", "", "<nil>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := opName(set.Match(tc.host, tc.method, tc.path)); got != tc.want {
				t.Errorf("Match(%q, %q, %q) = %s, want %s", tc.host, tc.method, tc.path, got, tc.want)
			}
		})
	}
}

// TestMatchHosts: the same path on several hosts; the request's host wins
// over an any-host operation listed before it.
func TestMatchHosts(t *testing.T) {
	spec := func(label, server string) *Spec {
		doc := "openapi: 3.0.3\ninfo: {title: " + label + ", version: '1'}\n" + server +
			"\npaths:\n  /status:\n    get:\n      operationId: " + label + "\n      responses: {'200': {description: ok}}\n" +
			"  /root/{id}:\n    get:\n      operationId: " + label + "-root\n      responses: {'200': {description: ok}}\n"
		s, err := Parse(label, []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	set := NewSet(
		spec("any", "servers: [{url: /}]"),
		nil,
		spec("a", "servers: [{url: 'https://a.test'}]"),
		spec("b", "servers: [{url: 'https://B.test:8443/'}]"),
	)
	tests := []struct{ host, path, want string }{
		{"a.test", "/status", "a"},
		{"A.TEST:443", "/status", "a"},
		{"b.test:8443", "/status", "b"},
		{"b.test", "/status", "any"},
		{"c.test", "/status", "any"},
		{"a.test", "/root/1", "a-root"},
	}
	for _, tc := range tests {
		op := set.Match(tc.host, "GET", tc.path)
		if op == nil || op.OperationID != tc.want {
			t.Errorf("Match(%q, GET, %q) = %s, want %s", tc.host, tc.path, opName(op), tc.want)
		}
	}
	if got, want := set.Hosts(), []string{"a.test", "b.test:8443"}; !slices.Equal(got, want) {
		t.Errorf("Hosts = %q, want %q", got, want)
	}
	if n := len(set.Ops()); n != 6 {
		t.Errorf("%d ops, want 6", n)
	}
}

func TestSetOpsAndHosts(t *testing.T) {
	set := testSet(t)
	if n := len(set.Ops()); n != 27+14+4+4 {
		t.Errorf("%d ops, want %d", n, 27+14+4+4)
	}
	want := []string{"127.0.0.1:8080", "api.pets.test:8443", "eu.api.test:8443", "legacy.example.test"}
	if got := set.Hosts(); !slices.Equal(got, want) {
		t.Errorf("Hosts = %q, want %q", got, want)
	}
	// Every operation matches its own path, as a template and with its
	// parameters filled in.
	for _, op := range set.Ops() {
		host := op.Host
		if host == "" {
			host = "any.test"
		}
		concrete := fill(op.Path)
		for _, p := range []string{op.Path, concrete} {
			got := set.Match(host, op.Method, p)
			if got == nil || NormalizePath(got.Path) != NormalizePath(op.Path) || got.Method != op.Method {
				t.Errorf("Match(%q, %q, %q) = %s, want %s", host, op.Method, p, opName(got), opName(op))
			}
		}
	}
	var empty *Set
	if empty.Match("a", "GET", "/") != nil {
		t.Error("a nil Set matched")
	}
	if NewSet().Match("a", "GET", "/") != nil {
		t.Error("an empty Set matched")
	}
}

// fill replaces each parameter of a path with "x7".
func fill(p string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(p, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(p[open:], '}')
		b.WriteString(p[:open] + "x7")
		p = p[open+end+1:]
	}
	b.WriteString(p)
	return b.String()
}

func TestPatternMatches(t *testing.T) {
	tests := []struct {
		seg, in string
		want    bool
	}{
		{"{name}.json", "a.json", true},
		{"{name}.json", ".json", false},
		{"{name}.json", "a.jsonx", false},
		{"v{major}", "v2", true},
		{"v{major}", "v", false},
		{"{a}-{b}", "x-y", true},
		{"{a}-{b}", "-y", false},
		{"{a}-{b}", "x-", false},
		{"{a}-{b}", "x--y", true},
		{"pre{a}mid{b}post", "preXmidYpost", true},
		{"pre{a}mid{b}post", "premidYpost", false},
		{"{a}{b}", "xy", true},
		{"{a}{b}", "x", false},
	}
	for _, tc := range tests {
		parts, isParam := segmentParts(tc.seg)
		if isParam || parts == nil {
			t.Fatalf("segmentParts(%q) = %q, %v", tc.seg, parts, isParam)
		}
		p := &pattern{parts: parts}
		if got := p.matches(tc.in); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.seg, tc.in, got, tc.want)
		}
	}
	for _, seg := range []string{"plain", "{open", "close}", "}{", "{a{b}}"} {
		if parts, isParam := segmentParts(seg); parts != nil || isParam {
			t.Errorf("segmentParts(%q) = %q, %v; want a literal", seg, parts, isParam)
		}
	}
	if _, isParam := segmentParts("{id}"); !isParam {
		t.Error(`"{id}" is not a parameter`)
	}
}

func TestMatchAllocs(t *testing.T) {
	set := testSet(t)
	for _, p := range []string{"/api/v2/giftcards/GC-0042/balance", "/api/v2/users/me", "/api/v1/orders/1", "/internal/files/a.json?x=1"} {
		if n := testing.AllocsPerRun(100, func() { set.Match(shopHost, "GET", p) }); n != 0 {
			t.Errorf("Match(%q) allocates %v times", p, n)
		}
	}
}

// bigSet is a synthetic API of 200 resources with 5 operations each.
func bigSet(b testing.TB) *Set {
	var sb strings.Builder
	sb.WriteString("openapi: 3.0.3\ninfo: {title: big, version: '1'}\nservers: [{url: 'https://big.test/api/v1'}]\npaths:\n")
	for i := range 200 {
		fmt.Fprintf(&sb, "  /res%d:\n    get: {responses: {'200': {description: ok}}}\n    post: {responses: {'200': {description: ok}}}\n", i)
		fmt.Fprintf(&sb, "  /res%d/{id}:\n    get: {responses: {'200': {description: ok}}}\n    delete: {responses: {'200': {description: ok}}}\n", i)
		fmt.Fprintf(&sb, "  /res%d/{id}/items/{itemId}:\n    get: {responses: {'200': {description: ok}}}\n", i)
	}
	s, err := Parse("big", []byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	return NewSet(s)
}

func BenchmarkMatch(b *testing.B) {
	set := testSet(b)
	big := bigSet(b)
	cases := []struct {
		name     string
		set      *Set
		host     string
		path     string
		wantMiss bool
	}{
		{"shop/5-segments", set, shopHost, "/api/v2/giftcards/GC-0042/balance", false},
		{"shop/template", set, shopHost, "/api/v2/orders/{id}", false},
		{"shop/literal", set, shopHost, "/api/v2/users/me", false},
		{"shop/miss-v1", set, shopHost, "/api/v1/orders/8812", true},
		{"big-1000-ops/5-segments", big, "big.test", "/api/v1/res150/42/items/7", false},
	}
	for _, c := range cases {
		if got := c.set.Match(c.host, "GET", c.path); (got == nil) != c.wantMiss {
			b.Fatalf("%s: Match = %s", c.name, opName(got))
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.set.Match(c.host, "GET", c.path)
			}
		})
	}
}

// TestMatchAlias: a host no spec names matches as an alias of the specs'
// hosts; a host a spec names (whatever its port) gets no second chance.
func TestMatchAlias(t *testing.T) {
	s, err := Parse("api.yaml", []byte(`openapi: 3.1.0
info: {title: t, version: "1"}
servers: [{url: "https://api.shop.test/v2"}, {url: "https://admin.shop.test:8443/v2"}]
paths:
  /orders/{id}:
    get:
      responses: {"200": {description: ok}}
`))
	if err != nil {
		t.Fatal(err)
	}
	set := NewSet(s)
	for _, c := range []struct {
		host, path string
		want       bool
	}{
		{"api.shop.test", "/v2/orders/7", true},
		{"10.0.0.5", "/v2/orders/7", true},      // an alias
		{"10.0.0.5:8080", "/v2/orders/7", true}, // with a port
		{"10.0.0.5", "/v1/orders/7", false},     // not documented anywhere
		{"admin.shop.test", "/v2/orders/x/y", false},
	} {
		if got := set.MatchAlias(c.host, "GET", c.path) != nil; got != c.want {
			t.Errorf("MatchAlias(%q, %q) = %v, want %v", c.host, c.path, got, c.want)
		}
	}
	// A named host that fails to match is not retried under another name.
	named, err := Parse("named.yaml", []byte(`openapi: 3.1.0
info: {title: t, version: "1"}
servers: [{url: "https://a.test"}, {url: "https://b.test/x"}]
paths:
  /orders:
    get:
      responses: {"200": {description: ok}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if NewSet(named).MatchAlias("a.test", "GET", "/x/orders") != nil {
		t.Error("a.test matched b.test's base path through the alias rule")
	}
	var nilSet *Set
	if nilSet.MatchAlias("h", "GET", "/") != nil {
		t.Error("nil set matched")
	}
}
