package spec

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// mustLoad loads a testdata spec.
func mustLoad(t testing.TB, name string) *Spec {
	t.Helper()
	s, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return s
}

// findOp returns the operation of s with this method, path and host.
func findOp(t *testing.T, s *Spec, method, path, host string) *Operation {
	t.Helper()
	for _, op := range s.Ops {
		if op.Method == method && op.Path == path && op.Host == host {
			return op
		}
	}
	t.Fatalf("%s: no operation %s %s on host %q", s.Source, method, path, host)
	return nil
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		file, format, title, version string
		hosts                        []string
		ops                          int
	}{
		{"shop-3.1.yaml", FormatOpenAPI31, "Vigil demo shop API", "2.4.0", []string{"127.0.0.1:8080"}, 27},
		{"petstore-2.0.yaml", FormatSwagger20, "Pet store (Swagger 2.0)", "1.7.0", []string{"api.pets.test:8443"}, 4},
		// Three servers: two resolve to the same host and base path, one
		// is relative, so each of the 7 operations appears twice.
		{"servers-3.0.json", FormatOpenAPI30, "Multi-server API", "3.2.1", []string{"eu.api.test:8443"}, 14},
		{"cycles-3.0.yaml", FormatOpenAPI30, "Recursive schemas", "1", nil, 3},
		{"deprecated-3.1.yaml", FormatOpenAPI31, "Deprecations", "2026.1", []string{"legacy.example.test"}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s := mustLoad(t, tc.file)
			if s.Format != tc.format || s.Title != tc.title || s.Version != tc.version {
				t.Errorf("format, title, version = %q, %q, %q; want %q, %q, %q",
					s.Format, s.Title, s.Version, tc.format, tc.title, tc.version)
			}
			if !slices.Equal(s.Hosts, tc.hosts) {
				t.Errorf("Hosts = %q, want %q", s.Hosts, tc.hosts)
			}
			if len(s.Ops) != tc.ops {
				t.Errorf("%d operations, want %d", len(s.Ops), tc.ops)
			}
			if s.Source != filepath.Join("testdata", tc.file) {
				t.Errorf("Source = %q", s.Source)
			}
			if s.Truncated {
				t.Error("Truncated set on a small spec")
			}
			for _, op := range s.Ops {
				if op.Spec != s {
					t.Fatalf("%s %s: Spec not set", op.Method, op.Path)
				}
			}
		})
	}
}

func TestParseOps(t *testing.T) {
	tests := []struct {
		name, file, method, path, host string
		id                             string
		auth, deprecated               bool
		params                         []Param
		reqTypes, reqFields, reqReq    []string
		responses                      map[string][]string // status → fields
	}{
		{
			name: "shop public login", file: "shop-3.1.yaml", method: "POST", path: "/api/v2/auth/login", host: "127.0.0.1:8080",
			id: "login", auth: false,
			reqTypes: []string{"application/json"}, reqFields: []string{"email", "password"}, reqReq: []string{"email", "password"},
			responses: map[string][]string{
				"200": {"expires_in", "token", "token_type", "user", "user.created_at", "user.email", "user.id", "user.name", "user.phone", "user.role"},
				"401": {"error"},
			},
		},
		{
			name: "shop global security", file: "shop-3.1.yaml", method: "GET", path: "/api/v2/orders/{id}", host: "127.0.0.1:8080",
			id: "getOrder", auth: true, params: []Param{{"id", "path", true}},
			responses: map[string][]string{
				"200": {"created_at", "id", "items", "items[]", "items[].id", "items[].name", "items[].price",
					"items[].product_id", "items[].quantity", "payment_id", "shipping_address", "shipping_address.city",
					"shipping_address.country", "shipping_address.id", "shipping_address.line1", "shipping_address.name",
					"shipping_address.phone", "shipping_address.postcode", "shipping_address.user_id", "status", "total", "user_id"},
				"401": {"error"}, "404": {"error"},
			},
		},
		{
			name: "shop nested required", file: "shop-3.1.yaml", method: "POST", path: "/api/v2/checkout/pay", host: "127.0.0.1:8080",
			id: "pay", auth: true, reqTypes: []string{"application/json"},
			reqFields: []string{"card", "card.cvv", "card.expiry", "card.number", "gift_card", "quote_id"},
			reqReq:    []string{"quote_id"}, // card is optional, so its required fields are not
			responses: map[string][]string{
				"200": {"amount", "method", "partner_charge_id", "payment_id", "quote_id", "status"},
				"400": {"error"}, "401": {"error"}, "402": {"error"}, "404": {"error"}, "502": {"error"},
			},
		},
		{
			name: "shop query params", file: "shop-3.1.yaml", method: "GET", path: "/api/v2/products/search", host: "127.0.0.1:8080",
			id: "searchProducts", params: []Param{{"q", "query", true}},
			responses: map[string][]string{
				"200": {"count", "products", "products[]", "products[].category", "products[].id", "products[].name", "products[].price", "query"},
				"400": {"error"},
			},
		},
		{
			name: "swagger security off, header canonical, top-level array", file: "petstore-2.0.yaml",
			method: "GET", path: "/v1/pets", host: "api.pets.test:8443", id: "listPets",
			params: []Param{{"limit", "query", false}, {"X-Request-Id", "header", true}},
			responses: map[string][]string{
				"200":     {"[]", "[].id", "[].name", "[].owner", "[].owner.email", "[].owner.phone", "[].tag"},
				"default": {"code", "message"},
			},
		},
		{
			name: "swagger body parameter, allOf", file: "petstore-2.0.yaml",
			method: "POST", path: "/v1/pets", host: "api.pets.test:8443", id: "addPet", auth: true,
			reqTypes:  []string{"application/json"},
			reqFields: []string{"name", "owner", "owner.email", "owner.phone", "tag"},
			reqReq:    []string{"name"},
			responses: map[string][]string{
				"201": {"id", "name", "owner", "owner.email", "owner.phone", "tag"},
				"400": {"code", "message"},
			},
		},
		{
			name: "swagger path-item params merged, operation wins", file: "petstore-2.0.yaml",
			method: "GET", path: "/v1/pets/{petId}", host: "api.pets.test:8443", id: "getPet", auth: true,
			params: []Param{{"petId", "path", true}, {"verbose", "query", true}},
			responses: map[string][]string{
				"200": {"id", "name", "owner", "owner.email", "owner.phone", "tag"},
				"404": nil,
			},
		},
		{
			name: "swagger deprecated", file: "petstore-2.0.yaml",
			method: "DELETE", path: "/v1/pets/{petId}", host: "api.pets.test:8443", id: "deletePet", auth: true, deprecated: true,
			params:    []Param{{"petId", "path", true}, {"verbose", "query", false}},
			responses: map[string][]string{"204": nil},
		},
		{
			name: "3.0 server variables, global security with {} alternative", file: "servers-3.0.json",
			method: "GET", path: "/api/v2/users/{userId}", host: "eu.api.test:8443", id: "getUser",
			params:    []Param{{"userId", "path", true}},
			responses: map[string][]string{"200": {"email", "id", "tags", "tags[]"}, "4XX": nil},
		},
		{
			name: "3.0 operation security", file: "servers-3.0.json",
			method: "GET", path: "/internal/users/me", host: "", id: "getMe", auth: true,
			responses: map[string][]string{"200": {"email", "id", "tags", "tags[]"}},
		},
		{
			name: "3.0 header and cookie params, media type parameters", file: "servers-3.0.json",
			method: "GET", path: "/internal/users/{userId}/orders", host: "", id: "listUserOrders",
			params: []Param{{"userId", "path", true}, {"X-Trace-Id", "header", false}, {"session", "cookie", false}},
			responses: map[string][]string{
				"200": {"[]", "[].id", "[].lines", "[].lines[]", "[].lines[].qty", "[].lines[].sku"},
			},
		},
		{
			name: "3.0 allOf and oneOf union, required through allOf", file: "servers-3.0.json",
			method: "POST", path: "/api/v2/payments", host: "eu.api.test:8443", id: "pay",
			reqTypes:  []string{"application/json", "application/xml"},
			reqFields: []string{"amount", "currency", "method", "method.cvv", "method.number", "method.wallet_id"},
			reqReq:    []string{"amount", "method"}, // oneOf members' required fields are not definite
			responses: map[string][]string{"201": nil},
		},
		{
			name: "cycle through properties", file: "cycles-3.0.yaml", method: "GET", path: "/tree",
			responses: map[string][]string{"200": {
				"children", "children[]", "children[].children", "children[].children[]",
				"children[].children[].children", "children[].children[].children[]",
				"children[].children[].children[].children", "children[].children[].children[].children[]",
				"children[].children[].children[].name", "children[].children[].name", "children[].name", "name",
			}},
		},
		{
			name: "deprecated 3.1", file: "deprecated-3.1.yaml", method: "GET", path: "/v1/reports/{id}", host: "legacy.example.test",
			id: "oldReport", deprecated: true, params: []Param{{"id", "path", true}},
			responses: map[string][]string{"200": nil},
		},
		{
			name: "not deprecated 3.1", file: "deprecated-3.1.yaml", method: "POST", path: "/v1/reports", host: "legacy.example.test",
			id: "newReport", responses: map[string][]string{"201": nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := findOp(t, mustLoad(t, tc.file), tc.method, tc.path, tc.host)
			if op.OperationID != tc.id {
				t.Errorf("OperationID = %q, want %q", op.OperationID, tc.id)
			}
			if op.Auth != tc.auth {
				t.Errorf("Auth = %v, want %v", op.Auth, tc.auth)
			}
			if op.Deprecated != tc.deprecated {
				t.Errorf("Deprecated = %v, want %v", op.Deprecated, tc.deprecated)
			}
			if !slices.Equal(op.Params, tc.params) {
				t.Errorf("Params = %v, want %v", op.Params, tc.params)
			}
			if !slices.Equal(op.RequestTypes, tc.reqTypes) {
				t.Errorf("RequestTypes = %q, want %q", op.RequestTypes, tc.reqTypes)
			}
			if !slices.Equal(op.RequestFields, tc.reqFields) {
				t.Errorf("RequestFields = %q, want %q", op.RequestFields, tc.reqFields)
			}
			if !slices.Equal(op.RequestRequired, tc.reqReq) {
				t.Errorf("RequestRequired = %q, want %q", op.RequestRequired, tc.reqReq)
			}
			if len(op.Responses) != len(tc.responses) {
				t.Errorf("%d responses, want %d: %v", len(op.Responses), len(tc.responses), op.Responses)
			}
			for status, want := range tc.responses {
				got, ok := op.Responses[status]
				if !ok {
					t.Errorf("no response %s", status)
					continue
				}
				if !slices.Equal(got.Fields, want) {
					t.Errorf("response %s fields = %q, want %q", status, got.Fields, want)
				}
			}
		})
	}
}

// TestParseCycles: recursive schemas, through properties, array items and
// allOf/anyOf, load and flatten within the depth limit.
func TestParseCycles(t *testing.T) {
	s := mustLoad(t, "cycles-3.0.yaml")
	loop := findOp(t, s, "POST", "/loop", "")
	for _, f := range []string{"a", "b", "self", "self.a", "self.self.b"} {
		if !slices.Contains(loop.RequestFields, f) {
			t.Errorf("/loop request fields lack %q: %q", f, loop.RequestFields)
		}
	}
	for _, op := range s.Ops {
		for _, r := range op.Responses {
			checkFields(t, op, r.Fields)
		}
		checkFields(t, op, op.RequestFields)
	}
	people := findOp(t, s, "GET", "/people", "")
	want := "[].friend.friend.friend.friend.friend.friend.friend" // 8 steps
	if f := people.Responses["200"].Fields; !slices.Contains(f, want) || slices.Contains(f, want+".name") {
		t.Errorf("/people fields not cut at depth %d: %q", MaxDepth, f)
	}
}

// checkFields checks the Fields invariants: sorted, distinct, within the
// depth limit.
func checkFields(t *testing.T, op *Operation, fields []string) {
	t.Helper()
	if !slices.IsSorted(fields) || len(slices.Compact(slices.Clone(fields))) != len(fields) {
		t.Errorf("%s %s: fields not sorted and distinct: %q", op.Method, op.Path, fields)
	}
	if len(fields) > MaxFields {
		t.Errorf("%s %s: %d fields", op.Method, op.Path, len(fields))
	}
	for _, f := range fields {
		if steps := fieldSteps(f); steps > MaxDepth {
			t.Errorf("%s %s: field %q deeper than %d", op.Method, op.Path, f, MaxDepth)
		}
	}
}

// fieldSteps counts the property names and "[]" of a field path.
func fieldSteps(f string) int {
	n := 0
	for _, part := range strings.Split(f, ".") {
		items := strings.Count(part, "[]")
		n += items
		if strings.TrimRight(part, "[]") != "" {
			n++
		}
	}
	return n
}

// TestParseWideRecursion: a schema whose every property refers back to it
// would list 10^8 fields; the list is capped, the deepest fields go first,
// and Truncated says so.
func TestParseWideRecursion(t *testing.T) {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: wide, version: '1'}\npaths:\n  /w:\n    get:\n      responses:\n        '200':\n          description: w\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/W'}\ncomponents:\n  schemas:\n    W:\n      type: object\n      properties:\n")
	for _, c := range "abcdefghij" {
		b.WriteString("        " + string(c) + ": {$ref: '#/components/schemas/W'}\n")
	}
	start := time.Now()
	s, err := Parse("wide", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Parse took %v", d)
	}
	fields := s.Ops[0].Responses["200"].Fields
	if len(fields) != MaxFields || !s.Truncated {
		t.Errorf("%d fields, Truncated %v; want %d and true", len(fields), s.Truncated, MaxFields)
	}
	for _, f := range []string{"a", "j", "j.j", "j.j.j"} {
		if !slices.Contains(fields, f) {
			t.Errorf("shallow field %q was cut", f)
		}
	}
}

func TestFields(t *testing.T) {
	s, err := Parse("inline", []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/x":{"post":{
		"requestBody":{"content":{"application/vnd.api+json":{"schema":{"type":"object","properties":{
			"items":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"}}}},
			"total":{"type":"integer"},
			"matrix":{"type":"array","items":{"type":"array","items":{"type":"number"}}},
			"tags":{"type":["array","null"]}}}},
			"text/plain":{"schema":{"type":"object","properties":{"ignored":{"type":"string"}}}}}},
		"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"string"}}}}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	op := s.Ops[0]
	want := []string{"items", "items[]", "items[].id", "matrix", "matrix[]", "matrix[][]", "tags", "tags[]", "total"}
	if !slices.Equal(op.RequestFields, want) {
		t.Errorf("RequestFields = %q, want %q", op.RequestFields, want)
	}
	if !slices.Equal(op.RequestTypes, []string{"application/vnd.api+json", "text/plain"}) {
		t.Errorf("RequestTypes = %q", op.RequestTypes)
	}
	if f := op.Responses["200"].Fields; f != nil {
		t.Errorf("a string body has fields %q", f)
	}
	if got := Fields(nil); got != nil {
		t.Errorf("Fields(nil) = %q", got)
	}
}

func TestParseServers(t *testing.T) {
	tests := []struct {
		name, servers string
		want          []string // "host path" of GET /things
	}{
		{"none", ``, []string{" /things"}},
		{"root", `servers: [{url: /}]`, []string{" /things"}},
		{"relative base", `servers: [{url: /api/v2/}]`, []string{" /api/v2/things"}},
		{"relative without slash", `servers: [{url: api}]`, []string{" /api/things"}},
		{"absolute", `servers: [{url: "HTTPS://Api.Example.Test/base"}]`, []string{"api.example.test /base/things"}},
		{"absolute root", `servers: [{url: "https://api.example.test"}]`, []string{"api.example.test /things"}},
		{"scheme-relative", `servers: [{url: "//cdn.example.test/v1"}]`, []string{"cdn.example.test /v1/things"}},
		{"userinfo and query dropped", `servers: [{url: "https://u:p@api.example.test:9443/x?y=1"}]`, []string{"api.example.test:9443 /x/things"}},
		{"variables", `servers: [{url: "https://{env}.example.test/{v}", variables: {env: {default: prod}, v: {enum: [v3, v4], default: v3}}}]`,
			[]string{"prod.example.test /v3/things"}},
		{"enum without default", `servers: [{url: "/{v}", variables: {v: {enum: [v9]}}}]`, []string{" /v9/things"}},
		{"unresolved host variable", `servers: [{url: "https://{tenant}.example.test/api"}]`, []string{" /api/things"}},
		{"http and https same host", `servers: [{url: "http://a.test/api"}, {url: "https://a.test/api"}]`, []string{"a.test /api/things"}},
		{"two bases", `servers: [{url: "https://a.test/v1"}, {url: "https://a.test/v2"}]`, []string{"a.test /v1/things", "a.test /v2/things"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n" + tc.servers +
				"\npaths:\n  /things/:\n    get:\n      responses:\n        '200': {description: ok}\n"
			s, err := Parse(tc.name, []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, op := range s.Ops {
				got = append(got, op.Host+" "+op.Path)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPathLevelServers(t *testing.T) {
	doc := `openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: "https://main.test/api"}]
paths:
  /a:
    servers: [{url: "https://files.test/"}]
    get:
      responses: {'200': {description: ok}}
    put:
      servers: [{url: "/upload"}]
      responses: {'200': {description: ok}}
  /b:
    get:
      responses: {'200': {description: ok}}
`
	s, err := Parse("levels", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range s.Ops {
		got = append(got, op.Method+" "+op.Host+" "+op.Path)
	}
	want := []string{"GET files.test /a", "GET main.test /api/b", "PUT  /upload/a"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if !slices.Equal(s.Hosts, []string{"files.test", "main.test"}) {
		t.Errorf("Hosts = %q", s.Hosts)
	}
}

func TestJoinPath(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"", "/", "/"},
		{"", "", "/"},
		{"/api", "/", "/api"},
		{"/api/", "/orders/", "/api/orders"},
		{"/api", "orders", "/api/orders"},
		{"", "/orders/{id}", "/orders/{id}"},
	}
	for _, tc := range tests {
		if got := joinPath(tc.base, tc.path); got != tc.want {
			t.Errorf("joinPath(%q, %q) = %q, want %q", tc.base, tc.path, got, tc.want)
		}
	}
}

// yamlBomb is the billion laughs: nine levels of nine aliases.
func yamlBomb() []byte {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: bomb, version: '1'}\npaths: {}\nx-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString("x-" + name + ": &" + name + " [")
		for i := range 9 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	return []byte(b.String())
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		is   error  // errors.Is target, or nil
		want string // substring of the error
	}{
		{"nil", nil, ErrNotSpec, "empty document"},
		{"whitespace", []byte(" \n\t\n"), ErrNotSpec, "empty document"},
		{"binary", []byte("\x00\x01\x02\xffPK\x03\x04"), ErrNotSpec, "binary data"},
		{"invalid utf-8", []byte("openapi: 3.0.3\ninfo: \xc3\x28\n"), ErrNotSpec, "binary data"},
		{"json not a spec", []byte(`{"name": "vigil", "version": 1}`), ErrNotSpec, `no "openapi" or "swagger" field`},
		{"json array", []byte(`[1, 2, 3]`), ErrNotSpec, "not an OpenAPI or Swagger document"},
		{"yaml scalar", []byte("just a line of text"), ErrNotSpec, "not an OpenAPI or Swagger document"},
		{"html", []byte("<!doctype html><html><body>hi</body></html>"), ErrNotSpec, "not an OpenAPI or Swagger document"},
		{"broken yaml", []byte("openapi: 3.0.3\n  info: [\n"), ErrNotSpec, "not an OpenAPI or Swagger document"},
		{"openapi 4", []byte("openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"), ErrNotSpec, `unsupported openapi version "4.0.0"`},
		{"swagger 1.2", []byte(`{"swagger": "1.2"}`), ErrNotSpec, `unsupported swagger version "1.2"`},
		{"yaml bomb", yamlBomb(), nil, "alias"},
		{"remote ref", readTestdata(t, "remote-ref.yaml"), ErrExternalRef, `"http://127.0.0.1:9/schemas.yaml"`},
		{"file ref", readTestdata(t, "file-ref.yaml"), ErrExternalRef, "only refs inside the document"},
		{"absolute file ref", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"$ref":"/etc/passwd"}}}}}}`), ErrExternalRef, "/etc/passwd"},
		{"missing local ref", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"$ref":"#/components/responses/Nope"}}}}}}`), nil, "cannot load"},
		{"swagger host with path", []byte("swagger: '2.0'\ninfo: {title: t, version: '1'}\nhost: a.test/x\npaths: {}\n"), nil, "cannot load"},
		{"swagger yaml bomb", []byte(strings.Replace(string(yamlBomb()), "openapi: 3.0.3", "swagger: '2.0'", 1)), nil, "alias"},
		{"too large", make([]byte, MaxSize+1), ErrTooLarge, "over 16 MiB"},
		{"too many operations", manyOps(1000, 101), nil, "more than 100000 operations"},
		{"too many segments", []byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  " + strings.Repeat("/a", MaxSegments+1) + ":\n    get: {responses: {'200': {description: d}}}\n"), nil, "more than 256 segments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s, err := Parse("bad.yaml", tc.data)
			if err == nil {
				t.Fatalf("Parse accepted it: %d operations", len(s.Ops))
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Parse took %v", d)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			if !strings.HasPrefix(msg, "spec: bad.yaml: ") {
				t.Errorf("error %q does not name the source", msg)
			}
			if len(msg) > 600 {
				t.Errorf("error is %d bytes long", len(msg))
			}
		})
	}
}

// manyOps is a spec of paths GET operations served on servers base paths.
func manyOps(servers, paths int) []byte {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers:\n")
	for i := range servers {
		fmt.Fprintf(&b, "  - url: /s%d\n", i)
	}
	b.WriteString("paths:\n")
	for i := range paths {
		fmt.Fprintf(&b, "  /p%d:\n    get: {responses: {'200': {description: d}}}\n", i)
	}
	return []byte(b.String())
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExternalRefNoNetwork: a $ref to a live server is refused without a
// request reaching it.
func TestExternalRefNoNetwork(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("type: object\nproperties: {leak: {type: string}}\n"))
	}))
	defer srv.Close()
	for _, doc := range []string{
		`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"d","content":{"application/json":{"schema":{"$ref":"` + srv.URL + `/s.yaml"}}}}}}}}}`,
		`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/x":{"$ref":"` + srv.URL + `/p.yaml"}}}`,
		`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"d","schema":{"$ref":"` + srv.URL + `/s.json"}}}}}}}`,
	} {
		if _, err := Parse("remote", []byte(doc)); !errors.Is(err, ErrExternalRef) {
			t.Errorf("error %v, want ErrExternalRef", err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was asked %d times", n)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	data := append([]byte("openapi: 3.0.3\nx-pad: "), make([]byte, MaxSize)...)
	for i := 22; i < len(data); i++ {
		data[i] = 'a'
	}
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) {
		t.Errorf("big file: %v", err)
	}
}

// TestParseJSONFallback: JSON that YAML refuses (a duplicate key) still
// loads, and a UTF-8 byte order mark is accepted.
func TestParseJSONFallback(t *testing.T) {
	doc := "\xef\xbb\xbf" + `{"openapi":"3.0.3","info":{"title":"first","title":"second","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"d"}}}}}}`
	s, err := Parse("dup.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Ops) != 1 || s.Title != "second" {
		t.Errorf("%d ops, title %q", len(s.Ops), s.Title)
	}
}

func TestValidate(t *testing.T) {
	for _, f := range []string{"shop-3.1.yaml", "petstore-2.0.yaml", "servers-3.0.json", "cycles-3.0.yaml", "deprecated-3.1.yaml", "compare-old.yaml", "compare-new.yaml"} {
		if err := mustLoad(t, f).Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// Loads, but the path parameter is not declared: Parse accepts it,
	// Validate does not.
	doc := `openapi: 3.0.3
info: {title: sloppy, version: '1'}
paths:
  /orders/{id}:
    get:
      responses: {'200': {description: ok}}
`
	s, err := Parse("sloppy.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse refused a loadable spec: %v", err)
	}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "sloppy.yaml") {
		t.Errorf("Validate = %v, want an error naming the source", err)
	}
	if err := (&Spec{}).Validate(); err == nil {
		t.Error("an empty Spec validates")
	}
}
