package identity

import (
	"encoding/base64"
	"strings"
	"testing"
)

// jwtCases are tokens built from a header, claims and a signature; want is
// the subject (ok) that golang-jwt gives, which the fast reader must match
// whenever it decides.
var jwtCases = []struct {
	name, header, claims, sig string
	want                      string
	ok                        bool
}{
	{"typical", `{"alg":"HS256","typ":"JWT"}`, `{"sub":"17","email":"a@b.test","iat":1764324000,"exp":1764327600}`, "c2ln", "17", true},
	{"numeric sub", `{"alg":"RS256"}`, `{"sub":42}`, "", "42", true},
	{"float sub", `{"alg":"RS256"}`, `{"sub":1.5e3}`, "", "1500", true},
	{"alg none", `{"alg":"none"}`, `{"sub":"1"}`, "", "1", true},
	{"whitespace", " {\n\"alg\" : \"ES256\" } ", " { \"sub\" : \"x\" } ", "", "x", true},
	{"upper-case sub key", `{"alg":"HS256"}`, `{"SUB":"u"}`, "", "u", true},
	{"last sub wins", `{"alg":"HS256"}`, `{"sub":"a","Sub":"b"}`, "", "b", true},
	{"later null sub", `{"alg":"HS256"}`, `{"sub":"a","sub":null}`, "", "", false},
	{"bool sub", `{"alg":"HS256"}`, `{"sub":true}`, "", "", false},
	{"empty sub", `{"alg":"HS256"}`, `{"sub":""}`, "", "", false},
	{"no sub", `{"alg":"HS256"}`, `{"role":"admin","nested":{"sub":"x"}}`, "", "", false},
	{"nested values skipped", `{"alg":"HS256","kid":"k"}`, `{"a":[1,{"b":"}\"]"}],"sub":"n","c":{"d":[]}}`, "", "n", true},
	{"escaped sub", `{"alg":"HS256"}`, `{"sub":"a\"b"}`, "", `a"b`, true},
	{"escaped key", `{"alg":"HS256"}`, `{"s\u0075b":"e"}`, "", "e", true},
	{"object sub", `{"alg":"HS256"}`, `{"sub":{"id":1}}`, "", "", false},
	{"huge number in claims elsewhere", `{"alg":"HS256"}`, `{"x":1e400,"sub":"s"}`, "", "s", true},
	{"huge number sub", `{"alg":"HS256"}`, `{"sub":1e400}`, "", "", false},
	{"huge number in header", `{"alg":"HS256","x":1e400}`, `{"sub":"s"}`, "", "", false},
	{"huge number nested in header", `{"alg":"HS256","x":[1,{"y":-1e999}]}`, `{"sub":"s"}`, "", "", false},
	{"no alg", `{"typ":"JWT"}`, `{"sub":"s"}`, "", "", false},
	{"numeric alg", `{"alg":256}`, `{"sub":"s"}`, "", "", false},
	{"unknown alg", `{"alg":"XX999"}`, `{"sub":"s"}`, "", "", false},
	{"last alg wins", `{"alg":7,"alg":"HS256"}`, `{"sub":"s"}`, "", "s", true},
	{"last alg wins, not a string", `{"alg":"HS256","alg":null}`, `{"sub":"s"}`, "", "", false},
	{"escaped alg", `{"alg":"HS\u003256"}`, `{"sub":"s"}`, "", "s", true},
	{"header not an object", `null`, `{"sub":"s"}`, "", "", false},
	{"header an array", `["alg"]`, `{"sub":"s"}`, "", "", false},
	{"claims null", `{"alg":"HS256"}`, `null`, "", "", false},
	{"claims an array", `{"alg":"HS256"}`, `[{"sub":"s"}]`, "", "", false},
	{"invalid header json", `{"alg":"HS256"`, `{"sub":"s"}`, "", "", false},
	{"invalid claims json", `{"alg":"HS256"}`, `{"sub":"s",}`, "", "", false},
	{"bad signature", `{"alg":"HS256"}`, `{"sub":"s"}`, "a", "", false},
	{"padded signature", `{"alg":"HS256"}`, `{"sub":"s"}`, "c2k=", "", false},
	{"signature with line break", `{"alg":"HS256"}`, `{"sub":"s"}`, "c2\nln", "s", true},
	{"non-ascii key", `{"alg":"HS256"}`, `{"ſub":"s"}`, "", "s", true},
	{"invalid utf-8 sub", `{"alg":"HS256"}`, "{\"sub\":\"\xff\"}", "", "\ufffd", true},
}

func jwtToken(header, claims, sig string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + sig
}

func TestJWTSubject(t *testing.T) {
	r := mustResolver(t, Default())
	for _, tt := range jwtCases {
		t.Run(tt.name, func(t *testing.T) {
			tok := jwtToken(tt.header, tt.claims, tt.sig)
			sub, ok := r.jwtSubjectSlow(tok)
			if sub != tt.want || ok != tt.ok {
				t.Fatalf("golang-jwt gives %q, %v; the table says %q, %v", sub, ok, tt.want, tt.ok)
			}
			checkJWTFast(t, r, tok)
			if sub, ok := r.jwtSubject(tok); sub != tt.want || ok != tt.ok {
				t.Errorf("jwtSubject = %q, %v; want %q, %v", sub, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestJWTFastDecides: the usual tokens never reach golang-jwt.
func TestJWTFastDecides(t *testing.T) {
	for _, tt := range jwtCases[:6] {
		if _, v := jwtSubFast(jwtToken(tt.header, tt.claims, tt.sig)); v == jwtUndecided {
			t.Errorf("%s: the fast reader left the token undecided", tt.name)
		}
	}
}

// checkJWTFast fails when the fast reader decides differently from
// golang-jwt.
func checkJWTFast(t *testing.T, r *Resolver, tok string) {
	t.Helper()
	sub, v := jwtSubFast(tok)
	if v == jwtUndecided {
		return
	}
	want, ok := r.jwtSubjectSlow(tok)
	if got := v == jwtAccepted; got != ok || (ok && sub != want) {
		t.Fatalf("token %q: fast reader gives %q (verdict %d), golang-jwt %q, %v", tok, sub, v, want, ok)
	}
}

func FuzzJWTSubject(f *testing.F) {
	for _, tt := range jwtCases {
		f.Add(tt.header, tt.claims, tt.sig)
	}
	r := mustResolver(f, Default())
	f.Fuzz(func(t *testing.T, header, claims, sig string) {
		checkJWTFast(t, r, jwtToken(header, claims, sig))
		// The same text as a raw token, for malformed base64.
		if raw := header + "." + claims + "." + sig; strings.Count(raw, ".") == 2 {
			checkJWTFast(t, r, raw)
		}
	})
}
