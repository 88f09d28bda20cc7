package identity

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

func signed(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unsigned(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hex12(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

func mustResolver(t testing.TB, cfg Config) *Resolver {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func prefixes(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func TestAddr(t *testing.T) {
	xff := Default()
	xff.ClientIPHeader = "X-Forwarded-For"
	xff.TrustedProxies = prefixes("10.0.0.0/8", "2001:db8:ffff::/48")
	realIP := Default()
	realIP.ClientIPHeader = "x-real-ip"
	realIP.TrustedProxies = prefixes("10.0.0.1/32")
	tests := []struct {
		name   string
		cfg    Config
		peer   string
		header http.Header
		want   string
	}{
		{"peer with port", Default(), "203.0.113.9:4321", nil, "203.0.113.9"},
		{"peer without port", Default(), "203.0.113.9", nil, "203.0.113.9"},
		{"ipv6 peer", Default(), "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"ipv4-mapped peer", Default(), "[::ffff:203.0.113.9]:80", nil, "203.0.113.9"},
		{"zone dropped", Default(), "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"bad peer", Default(), "pipe", http.Header{"X-Forwarded-For": {"1.2.3.4"}}, ""},
		{"xff ignored without config", Default(), "10.0.0.1:1", http.Header{"X-Forwarded-For": {"1.2.3.4"}}, "10.0.0.1"},
		{"xff from untrusted peer ignored", xff, "203.0.113.9:1", http.Header{"X-Forwarded-For": {"1.2.3.4"}}, "203.0.113.9"},
		{"xff from trusted peer", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"1.2.3.4"}}, "1.2.3.4"},
		{"xff rightmost untrusted", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"6.6.6.6, 1.2.3.4, 10.0.0.7"}}, "1.2.3.4"},
		{"xff several lines", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"6.6.6.6, 1.2.3.4", "10.0.0.7, 10.0.0.8"}}, "1.2.3.4"},
		{"xff all trusted", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"10.1.1.1, 10.0.0.7"}}, "10.1.1.1"},
		{"xff invalid stops the walk", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"1.2.3.4, garbage, 10.0.0.7"}}, "10.0.0.7"},
		{"xff invalid rightmost", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"1.2.3.4, unknown"}}, "10.0.0.1"},
		{"xff empty", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {""}}, "10.0.0.1"},
		{"xff ipv6 and ports", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"[2001:db8::7]:5555, 2001:db8:ffff::1"}}, "2001:db8::7"},
		{"xff mapped", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"::ffff:1.2.3.4"}}, "1.2.3.4"},
		{"xff spoof attempt", xff, "10.0.0.1:1", http.Header{"X-Forwarded-For": {"127.0.0.1, 198.51.100.7"}}, "198.51.100.7"},
		{"x-real-ip trusted", realIP, "10.0.0.1:1", http.Header{"X-Real-Ip": {"198.51.100.7"}}, "198.51.100.7"},
		{"x-real-ip other peer", realIP, "10.0.0.2:1", http.Header{"X-Real-Ip": {"198.51.100.7"}}, "10.0.0.2"},
		{"empty peer uses xff", Default(), "", http.Header{"X-Forwarded-For": {"198.51.100.7, 203.0.113.1"}}, "203.0.113.1"},
		{"empty peer skips trusted", xff, "", http.Header{"X-Forwarded-For": {"198.51.100.7, 10.0.0.3"}}, "198.51.100.7"},
		{"empty peer x-real-ip", Default(), "", http.Header{"X-Real-Ip": {"198.51.100.8"}}, "198.51.100.8"},
		{"empty peer xff first", Default(), "", http.Header{"X-Real-Ip": {"198.51.100.8"}, "X-Forwarded-For": {"198.51.100.9"}}, "198.51.100.9"},
		{"empty peer configured header only", realIP, "", http.Header{"X-Forwarded-For": {"198.51.100.9"}}, ""},
		{"empty peer nothing", Default(), "", http.Header{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustResolver(t, tt.cfg).Resolve(tt.peer, tt.header).Addr
			if got != tt.want {
				t.Errorf("Addr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestXFFHopCap(t *testing.T) {
	cfg := Default()
	cfg.ClientIPHeader = "X-Forwarded-For"
	cfg.TrustedProxies = prefixes("10.0.0.0/8")
	hops := strings.Repeat("10.0.0.9, ", 1000) + "10.0.0.8"
	got := mustResolver(t, cfg).Resolve("10.0.0.1:1", http.Header{"X-Forwarded-For": {"1.2.3.4, " + hops}}).Addr
	if got != "10.0.0.9" {
		t.Errorf("Addr = %q, want the last address seen within the hop cap", got)
	}
}

func TestPrincipal(t *testing.T) {
	withSub := signed(t, jwt.MapClaims{"sub": "17", "role": "customer"})
	numericSub := signed(t, jwt.MapClaims{"sub": 42})
	noSub := signed(t, jwt.MapClaims{"role": "admin"})
	none := unsigned(t, jwt.MapClaims{"sub": "1"})
	oddSub := signed(t, jwt.MapClaims{"sub": "a b\n<script>"})
	longSub := signed(t, jwt.MapClaims{"sub": strings.Repeat("x", 200)})
	huge := signed(t, jwt.MapClaims{"sub": "9", "pad": strings.Repeat("p", 9000)})
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"anonymous", http.Header{}, ""},
		{"jwt", http.Header{"Authorization": {"Bearer " + withSub}}, "jwt:17"},
		{"jwt lower-case scheme", http.Header{"Authorization": {"bearer " + withSub}}, "jwt:17"},
		{"jwt numeric sub", http.Header{"Authorization": {"Bearer " + numericSub}}, "jwt:42"},
		{"jwt alg none", http.Header{"Authorization": {"Bearer " + none}}, "jwt:1"},
		{"jwt without sub", http.Header{"Authorization": {"Bearer " + noSub}}, "bearer:" + hex12(noSub)},
		{"jwt odd sub", http.Header{"Authorization": {"Bearer " + oddSub}}, "jwt:sha256-" + hex12("a b\n<script>")},
		{"jwt long sub", http.Header{"Authorization": {"Bearer " + longSub}}, "jwt:sha256-" + hex12(strings.Repeat("x", 200))},
		{"jwt over 8 KiB", http.Header{"Authorization": {"Bearer " + huge}}, "bearer:" + hex12(huge)},
		{"malformed jwt", http.Header{"Authorization": {"Bearer eyJ.eyJ.x"}}, "bearer:" + hex12("eyJ.eyJ.x")},
		{"opaque bearer", http.Header{"Authorization": {"Bearer 2YotnFZFEjr1zCsicMWpAA"}}, "bearer:" + hex12("2YotnFZFEjr1zCsicMWpAA")},
		{"basic", http.Header{"Authorization": {basic("alice:s3cret")}}, "basic:alice"},
		{"basic bad base64", http.Header{"Authorization": {"Basic !!!"}}, "basic:sha256-" + hex12("!!!")},
		{"basic no colon", http.Header{"Authorization": {basic("alice")}}, "basic:sha256-" + hex12(base64.StdEncoding.EncodeToString([]byte("alice")))},
		{"other scheme", http.Header{"Authorization": {"Token abc"}}, "apikey:" + hex12("Token abc")},
		{"bare token", http.Header{"Authorization": {"abc"}}, "apikey:" + hex12("abc")},
		{"api key", http.Header{"X-Api-Key": {"k-123"}}, "apikey:" + hex12("k-123")},
		{"api key second header", http.Header{"X-Auth-Token": {"t-9"}}, "apikey:" + hex12("t-9")},
		{"session cookie", http.Header{"Cookie": {"theme=dark; session=s-1; x=y"}}, "session:" + hex12("s-1")},
		{"session cookie order", http.Header{"Cookie": {"PHPSESSID=p-1", "sid=s-2"}}, "session:" + hex12("s-2")},
		{"quoted cookie", http.Header{"Cookie": {`sessionid="abc"`}}, "session:" + hex12("abc")},
		{"unknown cookie", http.Header{"Cookie": {"theme=dark"}}, ""},
		{"empty cookie value", http.Header{"Cookie": {"session="}}, ""},
		{"precedence jwt over all", http.Header{"Authorization": {"Bearer " + withSub}, "X-Api-Key": {"k"}, "Cookie": {"session=s"}}, "jwt:17"},
		{"precedence basic over api key", http.Header{"Authorization": {basic("bob:pw")}, "X-Api-Key": {"k"}}, "basic:bob"},
		{"precedence api key over session", http.Header{"X-Api-Key": {"k"}, "Cookie": {"session=s"}}, "apikey:" + hex12("k")},
	}
	r := mustResolver(t, Default())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Resolve("203.0.113.9:1", tt.header).Principal
			if got != tt.want {
				t.Errorf("Principal = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	chrome := func(extra ...string) http.Header {
		h := http.Header{
			"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
			"Accept":          {"application/json"},
			"Accept-Language": {"en-US,en;q=0.9"},
			"Accept-Encoding": {"gzip, deflate, br, zstd"},
			"Sec-Fetch-Mode":  {"cors"},
			"Sec-Ch-Ua":       {`"Chromium";v="131"`},
		}
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	curl := http.Header{"User-Agent": {"curl/8.5.0"}, "Accept": {"*/*"}}
	tests := []struct {
		name string
		a, b http.Header
		same bool
	}{
		{"same browser, other volatile headers", chrome(), chrome("Authorization", "Bearer x", "Cookie", "a=b", "Content-Length", "12", "Content-Type", "application/json", "Referer", "https://shop.test/"), true},
		{"browser version upgrade", chrome(), chrome("User-Agent", "Mozilla/5.0 Chrome/132.0.0.0 Safari/537.36"), true},
		{"curl versions", curl, http.Header{"User-Agent": {"curl/7.88.1"}, "Accept": {"*/*"}}, true},
		{"curl vs browser", curl, chrome(), false},
		{"curl vs python", curl, http.Header{"User-Agent": {"python-requests/2.32.3"}, "Accept": {"*/*"}}, false},
		{"other language", chrome(), chrome("Accept-Language", "de-DE"), false},
		{"extra header", chrome(), chrome("X-Requested-With", "XMLHttpRequest"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa, fb := Fingerprint(tt.a), Fingerprint(tt.b)
			if len(fa) != 16 || strings.Trim(fa, "0123456789abcdef") != "" {
				t.Errorf("fingerprint %q is not 16 hex digits", fa)
			}
			if (fa == fb) != tt.same {
				t.Errorf("fingerprints %q and %q: same = %v, want %v", fa, fb, fa == fb, tt.same)
			}
		})
	}
}

func TestUAFamily(t *testing.T) {
	tests := map[string]string{
		"":                            "",
		"curl/8.5.0":                  "curl",
		"python-requests/2.32.3":      "python-requests",
		"Go-http-client/1.1":          "go-http-client",
		"okhttp/4.12.0":               "okhttp",
		"sqlmap/1.8#stable (https:/)": "sqlmap",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "edge",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                        "firefox",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":            "safari",
		"Mozilla/5.0 (compatible; Googlebot/2.1)":                                                                                       "bot",
		"my-tool/1.0": "other",
	}
	for ua, want := range tests {
		if got := UAFamily(ua); got != want {
			t.Errorf("UAFamily(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"bad header", Config{ClientIPHeader: "X Forwarded"}},
		{"bad api key header", Config{APIKeyHeaders: []string{"a:b"}}},
		{"bad cookie", Config{SessionCookies: []string{"a=b"}}},
		{"bad prefix", Config{TrustedProxies: []netip.Prefix{{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("New error = %v, want an EINVALID error", err)
			}
		})
	}
}

func TestResolveActor(t *testing.T) {
	r := mustResolver(t, Default())
	h := http.Header{"User-Agent": {"curl/8.5.0"}, "X-Api-Key": {"k-1"}}
	got := r.Resolve("198.51.100.2:9", h)
	want := vigil.Actor{Principal: "apikey:" + hex12("k-1"), Addr: "198.51.100.2", Fingerprint: Fingerprint(h)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("10.0.0.1:1", "1.2.3.4, 10.0.0.7", "Bearer "+signed(f, jwt.MapClaims{"sub": "17"}), "session=abc", "k", "curl/8")
	f.Add("", "garbage", "Basic YWxpY2U6cHc=", "sid=", "", "")
	f.Add("[::1]:5", "[2001:db8::1]:9", "Bearer "+unsigned(f, jwt.MapClaims{"sub": "x"}), "", "", "Mozilla/5.0 Chrome/1")
	f.Add("pipe", ",,,", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJcdTAwMDAifQ.", "a=b;;session=\"x\"", "", "sqlmap")
	cfg := Default()
	cfg.ClientIPHeader = "X-Forwarded-For"
	cfg.TrustedProxies = prefixes("10.0.0.0/8", "::1/128")
	r := mustResolver(f, cfg)
	f.Fuzz(func(t *testing.T, peer, xff, auth, cookie, apiKey, ua string) {
		h := http.Header{"X-Forwarded-For": {xff}, "Authorization": {auth}, "Cookie": {cookie}, "User-Agent": {ua}}
		if apiKey != "" {
			h["X-Api-Key"] = []string{apiKey}
		}
		a := r.Resolve(peer, h)
		if again := r.Resolve(peer, h); again != a {
			t.Fatalf("second (cached) resolution %+v, first %+v", again, a)
		}
		if want := referenceFingerprint(h); a.Fingerprint != want {
			t.Fatalf("Fingerprint %q, reference %q", a.Fingerprint, want)
		}
		if a.Addr != "" {
			if _, err := netip.ParseAddr(a.Addr); err != nil {
				t.Fatalf("Addr %q is not an IP address", a.Addr)
			}
		}
		_, cred, _ := strings.Cut(strings.TrimSpace(auth), " ")
		for _, secret := range []string{strings.TrimSpace(cred), apiKey} {
			if len(secret) >= 8 && strings.Contains(a.Principal, secret) {
				t.Fatalf("Principal %q contains the secret %q", a.Principal, secret)
			}
		}
		if len(a.Principal) > 140 {
			t.Fatalf("Principal %q is too long", a.Principal)
		}
		for i := 0; i < len(a.Principal); i++ {
			if c := a.Principal[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("Principal %q has a non-printable byte", a.Principal)
			}
		}
	})
}

func BenchmarkResolve(b *testing.B) {
	cfg := Default()
	cfg.ClientIPHeader = "X-Forwarded-For"
	cfg.TrustedProxies = prefixes("10.0.0.0/8")
	r := mustResolver(b, cfg)
	browser := http.Header{
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
		"Accept":          {"application/json"},
		"Accept-Language": {"en-US,en;q=0.9"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"X-Forwarded-For": {"198.51.100.7, 10.0.0.3"},
		"Cookie":          {"theme=dark; session=0123456789abcdef"},
	}
	withJWT := browser.Clone()
	withJWT.Set("Authorization", "Bearer "+signed(b, jwt.MapClaims{"sub": "17", "email": "user17@shop.test", "role": "customer", "iat": 1764324000, "exp": 1764327600}))
	for _, bc := range []struct {
		name string
		h    http.Header
	}{{"jwt", withJWT}, {"session", browser}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Resolve("10.0.0.1:5555", bc.h)
			}
		})
	}
	// The cost of a token seen for the first time (the cache's miss path).
	b.Run("jwt-uncached", func(b *testing.B) {
		b.ReportAllocs()
		auth := withJWT.Get("Authorization")
		for b.Loop() {
			r.fromAuthorization(auth)
		}
	})
	// The same through golang-jwt alone, which the fast reader replaces.
	b.Run("jwt-golang-jwt", func(b *testing.B) {
		b.ReportAllocs()
		tok := strings.TrimPrefix(withJWT.Get("Authorization"), "Bearer ")
		for b.Loop() {
			r.jwtSubjectSlow(tok)
		}
	})
}
