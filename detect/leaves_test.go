package detect

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilsec/vigil"
)

type gotLeaf struct {
	Loc, Key, Value string
	Kind            Kind
	Decoded         bool
}

func collect(r *vigil.Request) []gotLeaf {
	var out []gotLeaf
	for l := range Leaves(r) {
		out = append(out, gotLeaf{l.Loc(), l.Key, l.Value, l.Kind, l.Decoded})
	}
	return out
}

func TestLeaves(t *testing.T) {
	mp := "--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi there\r\n" +
		"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--B--\r\n"
	tests := []struct {
		name    string
		url     string
		ct      string
		body    string
		headers map[string]string
		want    []gotLeaf
	}{
		{
			name: "query, path and double encoding",
			url:  "https://a.test/api/v2/%2e%2e/x?q=a+b&u=%2527x&user%5B%24ne%5D=1",
			want: []gotLeaf{
				{"path.0", "", "api", KindString, false},
				{"path.1", "", "v2", KindString, false},
				{"path.2", "", "..", KindString, false},
				{"path.3", "", "x", KindString, false},
				{"query.q", "q", "a b", KindString, false},
				{"query.u", "u", "%27x", KindString, false},
				{"query.u", "u", "'x", KindString, true},
				{"query.user[$ne]", "user[$ne]", "user[$ne]", KindKey, false},
				{"query.user[$ne]", "user[$ne]", "1", KindString, false},
			},
		},
		{
			name: "json at depth with escapes, numbers and nested JSON",
			url:  "https://a.test/", ct: "application/json",
			body: `{"a":{"b":[1,"x\u0027y",{"c":true}]},"f":"{\"$ne\":null}"}`,
			want: []gotLeaf{
				{"body.a", "a", "a", KindKey, false},
				{"body.a.b", "b", "b", KindKey, false},
				{"body.a.b.0", "b", "1", KindNumber, false},
				{"body.a.b.1", "b", "x'y", KindString, false},
				{"body.a.b.2.c", "c", "c", KindKey, false},
				{"body.a.b.2.c", "c", "true", KindBool, false},
				{"body.f", "f", "f", KindKey, false},
				{"body.f", "f", `{"$ne":null}`, KindString, false},
				{"body.f.$ne", "$ne", "$ne", KindKey, false},
				{"body.f.$ne", "$ne", "null", KindNull, false},
			},
		},
		{
			name: "truncated json is walked as far as valid",
			url:  "https://a.test/", ct: "application/json",
			body: `{"a":"one","b":"tw`,
			want: []gotLeaf{
				{"body.a", "a", "a", KindKey, false},
				{"body.a", "a", "one", KindString, false},
				{"body.b", "b", "b", KindKey, false},
			},
		},
		{
			name: "form",
			url:  "https://a.test/", ct: "application/x-www-form-urlencoded; charset=utf-8",
			body: "name=O%27Brien&bio=a+%26+b",
			want: []gotLeaf{
				{"form.name", "name", "O'Brien", KindString, false},
				{"form.bio", "bio", "a & b", KindString, false},
			},
		},
		{
			name: "multipart keeps the raw file name and skips file bytes",
			url:  "https://a.test/", ct: "multipart/form-data; boundary=B", body: mp,
			want: []gotLeaf{
				{"multipart.title", "title", "hi there", KindString, false},
				{"multipart.f.filename", "f.filename", "../a.png", KindString, false},
			},
		},
		{
			name: "headers: selected, credentials never",
			url:  "https://a.test/",
			headers: map[string]string{"User-Agent": "ua", "Authorization": "Bearer s3cret", "Cookie": "sid=s3cret",
				"X-Api-Key": "s3cret", "X-Trace": "t1", "Referer": "https://r.test/p?q=1"},
			want: []gotLeaf{
				{"header.Referer", "Referer", "https://r.test/p?q=1", KindString, false},
				{"header.Referer.q", "Referer.q", "1", KindString, false},
				{"header.User-Agent", "User-Agent", "ua", KindString, false},
				{"header.X-Trace", "X-Trace", "t1", KindString, false},
			},
		},
		{
			name: "xml body: one raw leaf, then its texts and attributes decoded",
			url:  "https://a.test/", ct: "application/xml",
			body: `<s:Envelope xmlns:s="urn:x"><q id="7">a &apos;b&#39; &amp;c</q><e/></s:Envelope>`,
			want: []gotLeaf{
				{"body", "", `<s:Envelope xmlns:s="urn:x"><q id="7">a &apos;b&#39; &amp;c</q><e/></s:Envelope>`, KindRaw, false},
				{"xml.id", "id", "7", KindString, false},
				{"xml.q", "q", "a 'b' &c", KindString, false},
			},
		},
		{
			name: "not xml: a text body is one raw leaf",
			url:  "https://a.test/", ct: "text/plain", body: "a <b> c",
			want: []gotLeaf{{"body", "", "a <b> c", KindRaw, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse(tt.url)
			r := &vigil.Request{Method: "POST", URL: u, Header: http.Header{}, Body: []byte(tt.body)}
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if d := cmp.Diff(tt.want, collect(r)); d != "" {
				t.Errorf("leaves (-want +got):\n%s", d)
			}
		})
	}
}

func TestLeavesCaps(t *testing.T) {
	t.Run("leaf cap", func(t *testing.T) {
		b := "[" + strings.Repeat(`"x",`, 5000) + `"x"]`
		r := &vigil.Request{URL: &url.URL{Path: "/"}, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(b)}
		if n := len(collect(r)); n != maxLeaves {
			t.Errorf("got %d leaves, want the cap %d", n, maxLeaves)
		}
	})
	t.Run("depth cap", func(t *testing.T) {
		b := strings.Repeat(`{"a":`, 100) + `"deep"` + strings.Repeat("}", 100)
		r := &vigil.Request{URL: &url.URL{Path: "/"}, Header: http.Header{}, Body: []byte(b)}
		for _, l := range collect(r) {
			if l.Value == "deep" {
				t.Errorf("a leaf below the depth cap was yielded")
			}
		}
	})
	t.Run("early stop", func(t *testing.T) {
		r := &vigil.Request{URL: &url.URL{Path: "/a/b/c", RawQuery: "x=1&y=2"}, Header: http.Header{}}
		n := 0
		for range Leaves(r) {
			n++
			break
		}
		if n != 1 {
			t.Errorf("loop ran %d times", n)
		}
	})
}

// jsonStrings lists every string and object key of a decoded document.
func jsonStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, e := range v {
			jsonStrings(e, out)
		}
	case map[string]any:
		for k, e := range v {
			*out = append(*out, k)
			jsonStrings(e, out)
		}
	}
}

// FuzzJSONLeaves checks the JSON walker against encoding/json: on a valid
// document within the caps it yields exactly the strings and keys, and on
// any input it never panics and stays bounded.
func FuzzJSONLeaves(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,"x\u0027y",{"c":true}]}}`, `{"a":"\ud83d\ude00"}`, `["\ud800"]`, `{"f":"{\"$ne\":1}"}`, `[1e5,-0.5,null]`, `{"a":"b`, `{`, `"\u00"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []string
		n := 0
		for l := range JSONLeaves(b) {
			n++
			if l.prefix == "" && (l.Kind == KindString || l.Kind == KindKey) && !l.Decoded {
				got = append(got, validUTF8(l.Value))
			}
			_ = l.Loc()
		}
		if n > maxLeaves {
			t.Fatalf("%d leaves, cap %d", n, maxLeaves)
		}
		// Borrowed leaves (Sensitive's walk) are the same leaves.
		var copied, borrowed []string
		for l := range JSONLeaves(b) {
			copied = append(copied, l.Loc()+"="+l.Key+":"+l.Value)
		}
		for l := range jsonLeaves(b, true) {
			borrowed = append(borrowed, l.Loc()+"="+l.Key+":"+l.Value)
		}
		if !slices.Equal(copied, borrowed) {
			t.Fatalf("borrowed leaves differ:\n got %q\nwant %q", borrowed, copied)
		}
		var v any
		if !json.Valid(b) || json.Unmarshal(b, &v) != nil || n >= maxLeaves-1 || strings.Count(string(b), "[")+strings.Count(string(b), "{") > maxDepth {
			return
		}
		if _, ok := v.(map[string]any); !ok {
			if _, ok := v.([]any); !ok {
				return // scalars at the top are not walked
			}
		}
		var want []string
		jsonStrings(v, &want)
		// encoding/json keeps the last of duplicate keys; compare sets then.
		slices.Sort(got)
		slices.Sort(want)
		got, want = slices.Compact(got), slices.Compact(want)
		if !slices.Equal(got, want) {
			t.Fatalf("strings differ:\n got %q\nwant %q", got, want)
		}
	})
}

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does
// (the walker keeps raw bytes: an overlong "\xc0\xaf" is evidence).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// FuzzLeaves walks hostile requests: it must never panic and stay bounded.
func FuzzLeaves(f *testing.F) {
	f.Add("/a/%2e%2e/b", "q=1&u=%25&x[$ne]=1", "application/json", []byte(`{"a":[1,{"b":"c"}]}`))
	f.Add("/", "", "application/x-www-form-urlencoded", []byte("a=%zz&b=%u0041&c=+"))
	f.Add("/", "", "multipart/form-data; boundary=B", []byte("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n{\"x\":1}\r\n--B--"))
	f.Add("/", "", "text/xml", []byte("<!DOCTYPE a [<!ENTITY e SYSTEM \"x\">]>"))
	f.Fuzz(func(t *testing.T, path, rawQuery, ct string, body []byte) {
		r := &vigil.Request{Method: "POST", URL: &url.URL{Path: path, RawQuery: rawQuery}, Header: http.Header{"Content-Type": {ct}, "X-A": {rawQuery}}, Body: body}
		n := 0
		for l := range Leaves(r) {
			n++
			_ = l.Loc()
			_ = l.Parent()
		}
		if n > maxLeaves+1 {
			t.Fatalf("%d leaves", n)
		}
	})
}

// FuzzForm walks form bodies.
func FuzzForm(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a=%2527&&=x", "x[$ne]=1&y={\"$gt\":1}", "%", "a=%u00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := &vigil.Request{Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(s)}
		n := 0
		for l := range Leaves(r) {
			n++
			if l.Source != SourceForm && l.Source != SourceJSON {
				t.Fatalf("leaf from %v", l.Source)
			}
		}
		if n > maxLeaves+1 {
			t.Fatalf("%d leaves", n)
		}
	})
}

// FuzzMultipart walks multipart bodies.
func FuzzMultipart(f *testing.F) {
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"a\"; filename=\"../x\"\r\n\r\nv\r\n--B--\r\n"))
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"j\"\r\nContent-Type: application/json\r\n\r\n{\"a\":[1]}\r\n--B"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &vigil.Request{Header: http.Header{"Content-Type": {"multipart/form-data; boundary=B"}}, Body: b}
		n := 0
		for range Leaves(r) {
			n++
		}
		if n > maxLeaves+1 {
			t.Fatalf("%d leaves", n)
		}
	})
}

// FuzzPercentDecode checks the lenient decoder: never longer than its input,
// and equal to net/url's on input net/url accepts without '+'.
func FuzzPercentDecode(f *testing.F) {
	for _, s := range []string{"%41", "%zz", "%", "%4", "a%u0041", "%c0%af", "%%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := percentDecode(s)
		if len(d) > len(s) || !ok && d != s {
			t.Fatalf("percentDecode(%q) = %q, %v", s, d, ok)
		}
		if want, err := url.PathUnescape(s); err == nil && !strings.Contains(strings.ToLower(s), "%u") && d != want {
			t.Fatalf("percentDecode(%q) = %q, want %q", s, d, want)
		}
	})
}

// FuzzDetectors runs every builtin detector on hostile exchanges: no panic,
// no error, bounded evidence.
func FuzzDetectors(f *testing.F) {
	f.Add("q=%27+OR+1%3D1--&url=http%3A%2F%2F0x7f000001", "application/json", []byte(`{"a":"${${lower:j}ndi:ldap://x}","u":"http://[::ffff:127.0.0.1]/"}`), "Bearer eyJhbGciOiJub25lIn0.eyJleHAiOjF9.", []byte("goroutine 1 [running]:\n/app/a.go:1"))
	f.Add("host=0177.1&limit=1e9", "text/plain", []byte("{{7*7}}"), "Bearer a.b.c", []byte(`{"card":"4111 1111 1111 1111","password":"x"}`))
	f.Add("a=1; b=%27+OR+1%3D1--", "text/xml", []byte(`<e:E xmlns:e="u"><q id="&apos;">x&apos; OR &#39;1&apos;=&apos;1</q><!DOCTYPE a SYSTEM "http://x/a.dtd"></e:E>`), "Bearer a.b", []byte("DATABASE_URL=postgres://u:p4ss@db/x\nSECRET_KEY_BASE=abc"))
	f.Add("x", "multipart/form-data; boundary=B", []byte("--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.svg\"\r\n\r\n<svg onload=alert(1)><script>x</script></svg>\r\n--B--\r\n"), "", []byte("order_id,card_number\n1,4111111111111111\n"))
	as, err := New(Builtin())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rawQuery, ct string, body []byte, auth string, rbody []byte) {
		x := &vigil.Exchange{
			Request:  vigil.Request{Method: "POST", URL: &url.URL{Scheme: "https", Host: "a.test", Path: "/p", RawQuery: rawQuery}, Header: http.Header{"Content-Type": {ct}, "Authorization": {auth}, "Origin": {rawQuery}, "Cookie": {rawQuery}, "X-Forwarded-Host": {auth}}, Body: body, BodySize: int64(len(body))},
			Response: &vigil.Response{Status: 200, Header: http.Header{"Access-Control-Allow-Origin": {rawQuery}, "Access-Control-Allow-Credentials": {"true"}}, Body: rbody},
		}
		for _, a := range as {
			fs, err := a.Analyze(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			for _, fd := range fs {
				if len(fd.Evidence) > maxEvidence {
					t.Fatalf("%d evidence", len(fd.Evidence))
				}
				for _, e := range fd.Evidence {
					if len([]rune(e.Value)) > maxEvidenceValue {
						t.Fatalf("evidence value too long: %q", e.Value)
					}
				}
			}
		}
	})
}

// FuzzPrefilters: the byte-set pre-tests of the request detectors pass
// every value their former string tests passed, and judgeOther finds
// nothing in a value they stop.
func FuzzPrefilters(f *testing.F) {
	for _, s := range []string{"", "ab", "chair", "a'b", "<svg/onload=1>", "../../etc/passwd", "${jndi:ldap://x}", "{{7*7}}", "ls;id", "é", "x\x00", "<!DOCTYPE x>", "XInclude", "%2e%2e%2f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		l := &Leaf{Value: v}
		sqlCandidate := false
		for i := 0; i < len(v); i++ {
			c := v[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '@' || c == '-') {
				sqlCandidate = true
			}
		}
		if got := l.passes(preSQL); got != sqlCandidate {
			t.Errorf("%q: preSQL %v, want %v", v, got, sqlCandidate)
		}
		if got, want := l.passes(preXSS), strings.ContainsAny(v, "<>\"'`=:"); got != want {
			t.Errorf("%q: preXSS %v, want %v", v, got, want)
		}
		if !l.passes(preOther) {
			for _, src := range []Source{SourceQuery, SourcePath, SourceJSON, SourceForm} {
				if vd := judgeOther("file", v, src); vd.n != 0 {
					t.Errorf("%q: judgeOther found %v though preOther stopped it", v, vd.hits[:vd.n])
				}
			}
		}
	})
}
