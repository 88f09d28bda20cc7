package schema

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// fixture returns the documents of testdata/name.jsonl, one per line.
func fixture(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, MaxDocumentSize)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			docs = append(docs, slices.Clone(line))
		}
	}
	return docs
}

func observeAll(t testing.TB, n *Node, docs [][]byte) {
	t.Helper()
	for i, d := range docs {
		if err := n.ObserveJSON(d); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
	}
}

func fieldMap(fs []Field) map[string]Field {
	m := make(map[string]Field, len(fs))
	for _, f := range fs {
		m[f.Path] = f
	}
	return m
}

func paths(fs []Field) []string {
	var p []string
	for _, f := range fs {
		p = append(p, f.Path)
	}
	return p
}

// want describes one expected field; types as "a,b".
type want struct {
	path, types, format string
	required            bool
	classes             Class
}

func checkFields(t *testing.T, fs []Field, wantPaths []string, wants []want) {
	t.Helper()
	if got := paths(fs); !slices.Equal(got, wantPaths) {
		t.Errorf("paths:\n got %q\nwant %q", got, wantPaths)
	}
	m := fieldMap(fs)
	for _, w := range wants {
		f, ok := m[w.path]
		if !ok {
			t.Errorf("%s: missing", w.path)
			continue
		}
		if got := strings.Join(f.Types, ","); got != w.types {
			t.Errorf("%s: types %q, want %q", w.path, got, w.types)
		}
		if f.Format != w.format {
			t.Errorf("%s: format %q, want %q", w.path, f.Format, w.format)
		}
		if f.Required != w.required {
			t.Errorf("%s: required %v, want %v", w.path, f.Required, w.required)
		}
		if f.Classes != w.classes {
			t.Errorf("%s: classes %q, want %q", w.path, f.Classes, w.classes)
		}
	}
}

func TestFieldsOrders(t *testing.T) {
	n := New()
	observeAll(t, n, fixture(t, "orders"))
	if n.Count() != 3 {
		t.Errorf("Count = %d", n.Count())
	}
	checkFields(t, n.Fields(), []string{
		"next", "orders", "orders[]", "orders[].coupon", "orders[].created_at", "orders[].id",
		"orders[].items", "orders[].items[]", "orders[].items[].price", "orders[].items[].qty",
		"orders[].items[].sku", "orders[].shipping", "orders[].shipping.email", "orders[].shipping.phone",
		"orders[].shipping.zip", "orders[].status", "total",
	}, []want{
		{"next", "null,string", "uri", true, 0},
		{"orders", "array", "", true, 0},
		{"orders[]", "object", "", false, 0},
		{"orders[].coupon", "null,string", "", false, 0},
		{"orders[].created_at", "string", "date-time", true, 0},
		{"orders[].id", "integer", "", true, 0},
		{"orders[].items[].price", "integer,number", "", true, 0},
		{"orders[].items[].qty", "integer", "", true, 0},
		{"orders[].shipping.email", "string", "email", true, Email},
		{"orders[].shipping.phone", "string", "", false, Phone},
		{"orders[].shipping.zip", "string", "", true, 0},
		{"orders[].status", "string", "", true, 0},
		{"total", "integer", "", true, 0},
	})
	if got := n.Classes(); got != Email|Phone {
		t.Errorf("Classes = %q", got)
	}
	if n.Truncated() != 0 {
		t.Errorf("Truncated = %d", n.Truncated())
	}
}

func TestFieldsUsers(t *testing.T) {
	n := New()
	observeAll(t, n, fixture(t, "users"))
	checkFields(t, n.Fields(), []string{
		"avatar", "email", "id", "ip", "last_login", "password_hash", "password_reset_required", "role",
	}, []want{
		{"avatar", "string", "uri", false, 0},
		{"email", "string", "email", true, Email},
		{"id", "string", "uuid", true, 0},
		{"ip", "string", "ipv4", true, PrivateIP},
		{"last_login", "null,string", "date", true, 0},
		{"password_hash", "string", "", false, Password},
		{"password_reset_required", "boolean", "", true, 0},
		{"role", "string", "", true, 0},
	})
}

func TestFieldsTopLevelArray(t *testing.T) {
	n := New()
	observeAll(t, n, fixture(t, "products"))
	checkFields(t, n.Fields(), []string{
		"[]", "[].discontinued", "[].id", "[].name", "[].price", "[].sku", "[].stock", "[].stock.count",
		"[].stock.warehouse", "[].tags", "[].tags[]",
	}, []want{
		{"[]", "object", "", false, 0},
		{"[].discontinued", "boolean", "", false, 0},
		{"[].id", "integer", "", true, 0},
		{"[].price", "integer,number", "", true, 0},
		{"[].stock", "null,object", "", true, 0},
		{"[].stock.warehouse", "string", "", true, 0},
		{"[].tags", "array", "", true, 0},
		{"[].tags[]", "string", "", false, 0},
	})
	if got := n.Classes(); got != 0 {
		t.Errorf("product list classified %q", got)
	}
}

func TestFieldsLogin(t *testing.T) {
	n := New()
	observeAll(t, n, fixture(t, "login"))
	m := fieldMap(n.Fields())
	for path, c := range map[string]Class{
		"password": Password, "card.number": Card, "card.last4": 0, "card.exp": 0, "token": JWT,
		"api_key": APIKey, "field": 0, "user": 0, "remember": 0, "expires_in": 0,
	} {
		if m[path].Classes != c {
			t.Errorf("%s: classes %q, want %q", path, m[path].Classes, c)
		}
	}
	if got, want := n.Classes(), Password|Card|JWT|APIKey; got != want {
		t.Errorf("Classes = %q, want %q", got, want)
	}
}

func TestRequiredMixed(t *testing.T) {
	n := New()
	observeAll(t, n, [][]byte{
		[]byte(`{"a":1,"b":2,"o":{"x":1,"y":2}}`),
		[]byte(`{"a":3,"o":null}`),
		[]byte(`{"a":4,"b":null,"o":{"x":5}}`),
		[]byte(`{"a":5,"a":6,"o":{"x":1,"x":2}}`), // duplicate keys count once
		[]byte(`[1,2]`),                           // not an object: does not count as a parent
	})
	m := fieldMap(n.Fields())
	for path, req := range map[string]bool{"a": true, "b": false, "o": true, "o.x": true, "o.y": false, "[]": false} {
		if m[path].Required != req {
			t.Errorf("%s: required %v, want %v", path, m[path].Required, req)
		}
	}
	if got := strings.Join(m["o"].Types, ","); got != "null,object" {
		t.Errorf("o: types %q", got)
	}
}

func TestFormats(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []string
		want   string
	}{
		{"email", []string{"a@shop.test", "", "b@x.example.org"}, "email"},
		{"uuid", []string{"550e8400-e29b-41d4-a716-446655440000", "6FA459EA-EE8A-3CA4-894E-DB77E160355E"}, "uuid"},
		{"date-time", []string{"2026-03-01T10:00:00Z", "2026-03-01T10:00:00.123+02:00"}, "date-time"},
		{"date", []string{"2026-03-01", "1999-12-31"}, "date"},
		{"uri", []string{"https://shop.test/a", "http://x.test", "urn:isbn:0451450523"}, "uri"},
		{"ipv4", []string{"8.8.8.8", "10.0.0.1"}, "ipv4"},
		{"ipv6", []string{"2001:db8::1", "::1"}, "ipv6"},
		{"mixed", []string{"2026-03-01", "2026-03-01T10:00:00Z"}, ""},
		{"one off", []string{"a@shop.test", "not an email"}, ""},
		{"bad date", []string{"2026-13-01"}, ""},
		{"bad time", []string{"2026-03-01T25:00:00Z"}, ""},
		{"empty only", []string{"", ""}, ""},
		{"relative", []string{"/api/v2/orders"}, ""},
	} {
		n := New()
		for _, v := range tt.values {
			b, _ := json.Marshal(map[string]string{"v": v})
			if err := n.ObserveJSON(b); err != nil {
				t.Fatal(err)
			}
		}
		if got := fieldMap(n.Fields())["v"].Format; got != tt.want {
			t.Errorf("%s: format %q, want %q", tt.name, got, tt.want)
		}
	}
}

func observeValues(t *testing.T, values ...any) *Node {
	t.Helper()
	n := New()
	for _, v := range values {
		b, err := json.Marshal(map[string]any{"v": v})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.ObserveJSON(b); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func repeat(n int, vs ...any) []any {
	var out []any
	for i := range n {
		out = append(out, vs[i%len(vs)])
	}
	return out
}

func TestEnum(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []any
		want   []string
	}{
		{"small set", repeat(20, "shipped", "pending", "cancelled"), []string{"cancelled", "pending", "shipped"}},
		{"too few observations", repeat(19, "shipped", "pending"), nil},
		{"eight", repeat(40, "a", "b", "c", "d", "e", "f", "g", "h"), []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{"nine", repeat(40, "a", "b", "c", "d", "e", "f", "g", "h", "i"), nil},
		{"long value", repeat(30, "a", strings.Repeat("x", MaxEnumValueLen+1)), nil},
		{"64 bytes ok", repeat(30, "a", strings.Repeat("x", MaxEnumValueLen)), []string{"a", strings.Repeat("x", MaxEnumValueLen)}},
		{"sensitive", repeat(30, "a@shop.test", "b@shop.test"), nil},
		{"with null", repeat(30, "on", nil, "off"), []string{"off", "on"}},
		{"with numbers", repeat(30, "on", 1), nil},
	} {
		n := observeValues(t, tt.values...)
		f := fieldMap(n.Fields())["v"]
		if !slices.Equal(f.Enum, tt.want) {
			t.Errorf("%s: enum %q, want %q", tt.name, f.Enum, tt.want)
		}
	}
	// Once off, enum tracking stays off.
	n := observeValues(t, repeat(40, "a", "b", "c", "d", "e", "f", "g", "h", "i")...)
	for range 30 {
		_ = n.ObserveJSON([]byte(`{"v":"a"}`))
	}
	if e := fieldMap(n.Fields())["v"].Enum; e != nil {
		t.Errorf("enum came back: %q", e)
	}
}

func TestIntegerNumberOpenAPI(t *testing.T) {
	n := observeValues(t, 1, 2.5, nil)
	if got := strings.Join(fieldMap(n.Fields())["v"].Types, ","); got != "integer,null,number" {
		t.Errorf("types %q", got)
	}
	s := n.OpenAPI().Properties["v"].Value
	if got := s.Type.Slice(); !slices.Equal(got, []string{"null", "number"}) {
		t.Errorf("OpenAPI type %q", got)
	}
}

func TestInvalidJSONLeavesNodeUnchanged(t *testing.T) {
	n := New()
	observeAll(t, n, fixture(t, "orders"))
	before, _ := n.MarshalJSON()
	for _, bad := range []string{``, `{`, `{"a":1,}`, `{"a":1}{"b":2}`, `[1,2`, `{"a":tru}`, `{"new":1`, "\x00"} {
		if err := n.ObserveJSON([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	after, _ := n.MarshalJSON()
	if !bytes.Equal(before, after) {
		t.Error("invalid documents changed the schema")
	}
}

func TestMergeEqualsObserveAll(t *testing.T) {
	var docs [][]byte
	for _, f := range []string{"orders", "users", "products", "login"} {
		docs = append(docs, fixture(t, f)...)
	}
	for i := range 30 {
		docs = append(docs, fmt.Appendf(nil, `{"status":%q,"n":%d}`, []string{"a", "b", "c"}[i%3], i))
	}
	all := New()
	observeAll(t, all, docs)
	// Interleave the documents over two workers.
	a, b := New(), New()
	for i, d := range docs {
		w := a
		if i%2 == 1 {
			w = b
		}
		if err := w.ObserveJSON(d); err != nil {
			t.Fatal(err)
		}
	}
	a.Merge(b)
	want, _ := all.MarshalJSON()
	got, _ := a.MarshalJSON()
	if !bytes.Equal(got, want) {
		t.Errorf("merged schema differs:\n got %s\nwant %s", got, want)
	}
	if !slices.EqualFunc(a.Fields(), all.Fields(), fieldEqual) {
		t.Error("merged fields differ")
	}
	if fieldMap(a.Fields())["status"].Enum == nil {
		t.Error("merged enum lost")
	}
	// Merging into itself doubles the counts.
	c := New()
	observeAll(t, c, docs)
	c.Merge(c)
	if c.Count() != 2*all.Count() || c.Nodes() != all.Nodes() {
		t.Errorf("self merge: count %d, nodes %d", c.Count(), c.Nodes())
	}
	c.Merge(nil)
}

func fieldEqual(a, b Field) bool {
	return a.Path == b.Path && slices.Equal(a.Types, b.Types) && a.Format == b.Format &&
		a.Required == b.Required && slices.Equal(a.Enum, b.Enum) && a.Classes == b.Classes
}

func TestRoundTrip(t *testing.T) {
	n := New()
	for _, f := range []string{"orders", "users", "login"} {
		observeAll(t, n, fixture(t, f))
	}
	for range 25 {
		_ = n.ObserveJSON([]byte(`{"role":"admin","weird.key[0]":"x"}`))
	}
	b, err := n.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m Node
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	b2, _ := m.MarshalJSON()
	if !bytes.Equal(b, b2) {
		t.Errorf("round trip differs:\n%s\n%s", b, b2)
	}
	if !slices.EqualFunc(m.Fields(), n.Fields(), fieldEqual) || m.Count() != n.Count() || m.Nodes() != n.Nodes() {
		t.Error("round trip changed the fields")
	}
	if fieldMap(m.Fields())["role"].Enum == nil {
		t.Error("enum lost in round trip")
	}
	// The loaded schema keeps learning like the original.
	doc := []byte(`{"email":"z@shop.test","extra":[1]}`)
	_ = n.ObserveJSON(doc)
	_ = m.ObserveJSON(doc)
	b, _ = n.MarshalJSON()
	b2, _ = m.MarshalJSON()
	if !bytes.Equal(b, b2) {
		t.Error("loaded schema learns differently")
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good := New()
	observeAll(t, good, fixture(t, "users"))
	want, _ := good.MarshalJSON()
	for _, tt := range []struct{ name, in string }{
		{"not json", `{`},
		{"version", `{"version":2,"count":1}`},
		{"no version", `{"count":1}`},
		{"negative", `{"version":1,"count":-1}`},
		{"negative node", `{"version":1,"count":1,"root":{"seen":-5}}`},
		{"type", `{"version":1,"count":1,"root":{"types":["string","blob"]}}`},
		{"format", `{"version":1,"count":1,"root":{"formats":["ssn"]}}`},
		{"class", `{"version":1,"count":1,"root":{"classes":"email,dna"}}`},
		{"too big", `{"version":1,"count":1,"root":{"enum":["` + strings.Repeat("a", MaxPersistedSize) + `"]}}`},
	} {
		n := New()
		_ = n.UnmarshalJSON(want)
		if err := n.UnmarshalJSON([]byte(tt.in)); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
		if got, _ := n.MarshalJSON(); !bytes.Equal(got, want) {
			t.Errorf("%s: failed load changed the node", tt.name)
		}
	}
}

func TestUnmarshalEnforcesLimits(t *testing.T) {
	// A hand-made persisted form over every limit.
	props := map[string]any{}
	for i := range 3 * MaxProperties {
		props[fmt.Sprintf("k%04d", i)] = map[string]any{"seen": 1, "types": []string{"string"}}
	}
	props[strings.Repeat("k", MaxKeyLen+1)] = map[string]any{"seen": 1}
	deep := map[string]any{"types": []string{"object"}}
	for range 100 {
		deep = map[string]any{"types": []string{"object"}, "properties": map[string]any{"d": deep}}
	}
	props["deep"] = deep
	var enum []string
	for i := range 20 {
		enum = append(enum, fmt.Sprint("v", i))
	}
	props["enum"] = map[string]any{"strings": 100, "types": []string{"string"}, "enum": enum}
	b, _ := json.Marshal(map[string]any{"version": 1, "count": 1, "root": map[string]any{"objects": 1, "types": []string{"object"}, "properties": props}})
	var n Node
	if err := n.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if n.Truncated() == 0 {
		t.Error("nothing counted as truncated")
	}
	if len(n.root.props) > MaxProperties {
		t.Errorf("%d properties", len(n.root.props))
	}
	if n.Nodes() > MaxNodes {
		t.Errorf("%d nodes", n.Nodes())
	}
	for _, f := range n.Fields() {
		if strings.Count(f.Path, ".") >= MaxDepth {
			t.Errorf("path too deep: %d levels", strings.Count(f.Path, ".")+1)
		}
		if len(f.Enum) > MaxEnum {
			t.Errorf("%s: %d enum values", f.Path, len(f.Enum))
		}
	}
}

func TestOpenAPIValidates(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"orders", "users", "products", "login"} {
		t.Run(name, func(t *testing.T) {
			docs := fixture(t, name)
			n := New()
			observeAll(t, n, docs)
			for range 25 {
				_ = n.ObserveJSON(docs[0])
			}
			s := n.OpenAPI()
			if err := s.Validate(ctx, openapi3.IsOpenAPI31OrLater()); err != nil {
				t.Fatalf("schema does not validate: %v", err)
			}
			doc := &openapi3.T{
				OpenAPI:    "3.1.0",
				Info:       &openapi3.Info{Title: "inferred", Version: "1"},
				Paths:      openapi3.NewPaths(),
				Components: &openapi3.Components{Schemas: openapi3.Schemas{"Body": openapi3.NewSchemaRef("", s)}},
			}
			if err := doc.Validate(ctx); err != nil {
				t.Fatalf("document does not validate: %v", err)
			}
			// Every observed document conforms to the inferred schema.
			for i, d := range docs {
				var v any
				if err := json.Unmarshal(d, &v); err != nil {
					t.Fatal(err)
				}
				if err := s.VisitJSON(v); err != nil {
					t.Errorf("doc %d does not conform: %v", i, err)
				}
			}
		})
	}
	// And the schema is not vacuous: a document missing a required property,
	// or with a wrong type, fails.
	n := New()
	observeAll(t, n, fixture(t, "users"))
	s := n.OpenAPI()
	if err := s.VisitJSON(map[string]any{"id": "x"}); err == nil {
		t.Error("document missing required properties accepted")
	}
	if got := s.Properties["email"].Value.Format; got != "email" {
		t.Errorf("email format %q", got)
	}
	if got := s.Properties["email"].Value.Extensions[ClassesExtension]; !slices.Equal(got.([]string), []string{"email"}) {
		t.Errorf("email classes extension %v", got)
	}
	if !slices.Equal(s.Required, []string{"email", "id", "ip", "last_login", "password_reset_required", "role"}) {
		t.Errorf("required %q", s.Required)
	}
	if got := s.Properties["last_login"].Value.Type.Slice(); !slices.Equal(got, []string{"null", "string"}) {
		t.Errorf("last_login type %q", got)
	}
	e := observeValues(t, repeat(30, "on", "off", nil)...).OpenAPI().Properties["v"].Value
	if len(e.Enum) != 3 || e.Enum[2] != nil {
		t.Errorf("enum %v", e.Enum)
	}
	if err := e.VisitJSON("maybe"); err == nil {
		t.Error("value outside the enum accepted")
	}
	if err := e.VisitJSON(nil); err != nil {
		t.Errorf("null rejected: %v", err)
	}
}

func TestZeroNode(t *testing.T) {
	var n Node
	if n.Fields() != nil || n.Count() != 0 || n.Classes() != 0 {
		t.Error("zero node not empty")
	}
	if s := n.OpenAPI(); s.Type != nil {
		t.Error("zero node has a type")
	}
	if err := n.ObserveJSON([]byte(`{"a":1}`)); err != nil || len(n.Fields()) != 1 {
		t.Errorf("zero node unusable: %v", err)
	}
	var m Node
	m.Merge(&n)
	if m.Count() != 1 {
		t.Error("merge into zero node failed")
	}
}

func TestKeysKeptAsIs(t *testing.T) {
	n := New()
	observeAll(t, n, [][]byte{[]byte(`{"a.b":1,"a":{"b":"x"},"c[]":true,"":null,"\u00e9\ud83d\ude00":1}`)})
	fs := n.Fields()
	if got := paths(fs); !slices.Equal(got, []string{"", "a", "a.b", "c[]", "é😀"}) {
		t.Errorf("paths %q", got)
	}
	if got := strings.Join(fieldMap(fs)["a.b"].Types, ","); got != "integer,string" {
		t.Errorf("merged a.b types %q", got)
	}
}
