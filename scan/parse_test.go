package scan

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var identityCases = []struct {
	name, yaml, err string
}{
	{"ok", "identities:\n  - {name: alice, role: customer, bearer: T}\n", ""},
	{"login", "identities:\n  - name: a\n    role: r\n    login: {path: /login, json: {u: x}, token: /data/token, use: 'header:X-Auth'}\n", ""},
	{"empty", "", "empty file"},
	{"unknown key", "identities:\n  - {name: a, role: r, bearer: T, colour: red}\n", "field colour not found"},
	{"no role", "identities:\n  - {name: a, bearer: T}\n", "role is required"},
	{"two credentials", "identities:\n  - {name: a, role: r, bearer: T, cookie: c=1}\n", "exactly one of"},
	{"no credential", "identities:\n  - {name: a, role: r}\n", "exactly one of"},
	{"duplicate", "identities:\n  - {name: a, role: r, bearer: T}\n  - {name: a, role: r, bearer: U}\n", "named twice"},
	{"bad name", "identities:\n  - {name: 'a b', role: r, bearer: T}\n", "name \"a b\""},
	{"login path", "identities:\n  - {name: a, role: r, login: {path: login}}\n", "login.path"},
	{"login use", "identities:\n  - {name: a, role: r, login: {path: /l, use: smoke}}\n", "login.use"},
	{"api key", "identities:\n  - {name: a, role: r, api_key: {header: X-Key}}\n", "api_key needs"},
	{"none", "admin_roles: [admin]\n", "none given"},
	{"expired token", "identities:\n  - {name: a, role: r, bearer: T, expired_token: E}\n  - name: b\n    role: r\n    jwt_secret: s3cret\n    login: {path: /login, json: {u: x}}\n", ""},
	{"expired token of an api key", "identities:\n  - {name: a, role: r, api_key: {header: X, value: v}, expired_token: E}\n", "need a bearer or login identity"},
	{"two keys", "identities:\n  - {name: a, role: r, bearer: T, jwt_secret: s, jwt_key_file: k.pem}\n", "one of jwt_secret and jwt_key_file"},
}

func TestParseIdentities(t *testing.T) {
	for _, tc := range identityCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIdentities([]byte(tc.yaml))
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func FuzzParseIdentities(f *testing.F) {
	for _, tc := range identityCases {
		f.Add([]byte(tc.yaml))
	}
	if b, err := os.ReadFile("testdata/shop-identities.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := ParseIdentities(data)
		if err == nil && (len(ids.Identities) == 0 || len(ids.AdminRoles) == 0) {
			t.Fatalf("accepted without identities or admin roles: %q", data)
		}
	})
}

var templateCases = []struct {
	name, yaml, err string
}{
	{"ok", "id: x.y\nname: X\nkind: inject\ncategory: API8:2023\nseverity: high\npayloads: [{value: a}]\nmatchers: [{body: b}]\n", ""},
	{"two docs", "id: a\nname: A\nkind: bola\ncategory: API1:2023\nseverity: high\n---\nid: b\nname: B\nkind: bfla\ncategory: API5:2023\nseverity: low\n", ""},
	{"unknown key", "id: a\nname: A\nkind: bola\ncategory: API1:2023\nseverity: high\nsevere: yes\n", "field severe not found"},
	{"bad kind", "id: a\nname: A\nkind: magic\ncategory: API1:2023\nseverity: high\n", "kind \"magic\""},
	{"bad category", "id: a\nname: A\nkind: bola\ncategory: API11:2023\nseverity: high\n", "category"},
	{"bad severity", "id: a\nname: A\nkind: bola\ncategory: API1:2023\nseverity: dire\n", "severity"},
	{"bad id", "id: A B\nname: A\nkind: bola\ncategory: API1:2023\nseverity: high\n", "id \"A B\""},
	{"no payloads", "id: a\nname: A\nkind: inject\ncategory: API8:2023\nseverity: high\n", "needs payloads"},
	{"no matchers", "id: a\nname: A\nkind: inject\ncategory: API8:2023\nseverity: high\npayloads: [{value: x}]\n", "no matchers"},
	{"bad regexp", "id: a\nname: A\nkind: inject\ncategory: API8:2023\nseverity: high\npayloads: [{value: x}]\nmatchers: [{body: '('}]\n", "body"},
	{"empty matcher", "id: a\nname: A\nkind: verbose\ncategory: API8:2023\nseverity: high\npayloads: [{value: x}]\nmatchers: [{}]\n", "sets none"},
	{"bad variant", "id: a\nname: A\nkind: auth\nvariant: maybe\ncategory: API2:2023\nseverity: high\n", "variant"},
	{"bad glob", "id: a\nname: A\nkind: bola\ncategory: API1:2023\nseverity: high\nselect: {paths: [orders]}\n", "must start with /"},
	{"empty", "", "no template"},
	{"expired", "id: a\nname: A\nkind: auth\nvariant: expired\ncategory: API2:2023\nseverity: high\n", ""},
	{"replay", "id: r.x\nname: R\nkind: replay\ncategory: API8:2023\nseverity: high\nreplay: {detectors: [detect.x], evidence: '^x', uses: [inject.sql-error]}\n", ""},
	{"replay without uses", "id: r\nname: R\nkind: replay\ncategory: API8:2023\nseverity: high\nreplay: {detectors: [detect.x]}\n", "replay.uses"},
	{"replay without detectors", "id: r\nname: R\nkind: replay\ncategory: API8:2023\nseverity: high\n", "replay.detectors"},
	{"replay any with uses", "id: r\nname: R\nkind: replay\ncategory: API8:2023\nseverity: high\nreplay: {detectors: ['*'], uses: [a]}\n", "only reports"},
	{"replay bad regexp", "id: r\nname: R\nkind: replay\ncategory: API8:2023\nseverity: high\nreplay: {detectors: [d], title: '(', uses: [a]}\n", "replay.title"},
	{"replay on another kind", "id: r\nname: R\nkind: bola\ncategory: API1:2023\nseverity: high\nreplay: {detectors: [d], uses: [a]}\n", "kind replay only"},
}

func TestParseTemplates(t *testing.T) {
	for _, tc := range templateCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTemplates("t.yaml", []byte(tc.yaml))
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestBuiltinTemplates(t *testing.T) {
	ts, err := BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	kindsSeen := map[string]bool{}
	for _, x := range ts {
		if seen[x.ID] {
			t.Errorf("template id %s twice", x.ID)
		}
		seen[x.ID] = true
		kindsSeen[x.Kind] = true
	}
	for _, k := range kinds {
		if !kindsSeen[k] {
			t.Errorf("no built-in template of kind %s", k)
		}
	}
}

func FuzzParseTemplates(f *testing.F) {
	for _, tc := range templateCases {
		f.Add([]byte(tc.yaml))
	}
	entries, _ := builtinFS.ReadDir("templates")
	for _, e := range entries {
		if b, err := builtinFS.ReadFile("templates/" + e.Name()); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := ParseTemplates("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, x := range ts {
			if x.ID == "" || x.Name == "" || !validCategory(x.Category) {
				t.Fatalf("accepted an incomplete template: %+v", x)
			}
		}
	})
}

func TestFromPattern(t *testing.T) {
	for _, p := range []string{`^GC-[0-9]{4}$`, `^[0-9]{2}/[0-9]{2}$`, `^[A-Z]{3}-\d+$`, `^(ab|cd)x?$`, `^\w+@\w+\.test$`} {
		got, ok := fromPattern(p)
		if !ok || !regexp.MustCompile(p).MatchString(got) {
			t.Errorf("fromPattern(%q) = %q, %v", p, got, ok)
		}
	}
	if _, ok := fromPattern(`(`); ok {
		t.Error("fromPattern accepted a bad pattern")
	}
}

func FuzzFromPattern(f *testing.F) {
	for _, p := range []string{`^GC-[0-9]{4}$`, `a{1000}`, `(x|y)+z*`, `[^a]`, `\bfoo\b`} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if len(p) > 200 {
			return
		}
		got, ok := fromPattern(p)
		if ok && (len(got) > maxPatternLen || !regexp.MustCompile(p).MatchString(got)) {
			t.Fatalf("fromPattern(%q) = %q", p, got)
		}
	})
}

func TestGlobAndVary(t *testing.T) {
	for _, tc := range []struct {
		pat, path string
		want      bool
	}{
		{"/api/*/orders/{id}", "/api/v2/orders/{id}", true},
		{"/api/**", "/api/v2/orders/{id}", true},
		{"/api/*", "/api/v2/orders", false},
		{"/**/admin/**", "/api/v2/admin/users", true},
		{"/orders", "/orders/{id}", false},
	} {
		if got := glob(tc.pat, tc.path); got != tc.want {
			t.Errorf("glob(%q, %q) = %v", tc.pat, tc.path, got)
		}
	}
	for in, want := range map[string]string{"GC-0000": "GC-0007", "abc": "abc7", "x12": "x07"} {
		if got := vary(in, 7); got != want {
			t.Errorf("vary(%q, 7) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseAPI loads hostile specs and generates a request for every
// operation: neither may panic or run away.
func FuzzParseAPI(f *testing.F) {
	for _, p := range []string{"testdata/notes-api.yaml", "../simulate/shop/openapi.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{"/a/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"type":"string","pattern":"^x+$"}],"responses":{"200":{"description":"ok"}}}}}}`))
	f.Add([]byte("openapi: 3.1.0\ninfo: {title: r, version: '1'}\npaths:\n  /r:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/N'}\n      responses: {'200': {description: ok}}\ncomponents:\n  schemas:\n    N: {type: object, required: [n], properties: {n: {$ref: '#/components/schemas/N'}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		api, err := ParseAPI("fuzz", data)
		if err != nil {
			return
		}
		g := &generator{api: api, pool: newPool()}
		for _, op := range api.Ops {
			if req := g.build(op, "a").request(); !strings.HasPrefix(req.Path, "/") && req.Path != "" {
				t.Fatalf("%s: path %q", op, req.Path)
			}
		}
	})
}

// TestParseAPIBasePath: each spec path gets its own full path under the
// server's base path, also when another path ends the same way.
func TestParseAPIBasePath(t *testing.T) {
	a, err := ParseAPI("base.yaml", []byte(`openapi: 3.0.0
info: {title: base, version: "1"}
servers: [{url: /api}]
paths:
  /orders:
    get: {responses: {"200": {description: ok}}}
  /admin/orders:
    get: {responses: {"200": {description: ok}}}
  /orders/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range a.Ops {
		got = append(got, op.String())
	}
	want := "GET /api/admin/orders|GET /api/orders|GET /api/orders/{id}"
	if strings.Join(got, "|") != want {
		t.Errorf("ops %q, want %s", got, want)
	}
}
