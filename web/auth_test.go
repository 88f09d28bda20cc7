package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func TestNewRefuses(t *testing.T) {
	st := newStore(t)
	tests := []struct {
		name  string
		store vigil.Store
		token string
	}{
		{"no store", nil, testToken},
		{"no token", st, ""},
		{"token too long", st, strings.Repeat("x", maxTokenBytes+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.store, Config{Token: tt.token})
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("New: got %v, want an EINVALID error", err)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	s := newServer(t, nil)
	session := sessionOf(t, s)
	tests := []struct {
		name   string
		target string
		header map[string]string
		cookie string
		want   int
	}{
		{"api no token", "/api/v1/summary", nil, "", 401},
		{"api wrong bearer", "/api/v1/summary", map[string]string{"Authorization": "Bearer wrong-token"}, "", 401},
		{"api token prefix", "/api/v1/summary", map[string]string{"Authorization": "Bearer " + testToken[:10]}, "", 401},
		{"api token with suffix", "/api/v1/summary", map[string]string{"Authorization": "Bearer " + testToken + "x"}, "", 401},
		{"api basic scheme", "/api/v1/summary", map[string]string{"Authorization": "Basic " + testToken}, "", 401},
		{"api empty bearer", "/api/v1/summary", map[string]string{"Authorization": "Bearer "}, "", 401},
		{"api right bearer", "/api/v1/summary", map[string]string{"Authorization": "Bearer " + testToken}, "", 200},
		{"api bearer lower-case scheme", "/api/v1/summary", map[string]string{"Authorization": "bearer " + testToken}, "", 200},
		{"api right cookie", "/api/v1/summary", nil, session, 200},
		{"api wrong cookie", "/api/v1/summary", nil, "deadbeef", 401},
		{"api token as cookie", "/api/v1/summary", nil, testToken, 401},
		{"api wrong bearer beats right cookie", "/api/v1/summary", map[string]string{"Authorization": "Bearer nope"}, session, 401},
		{"api token in query is not accepted", "/api/v1/summary?token=" + testToken, nil, "", 401},
		{"unknown api path without token", "/api/v1/secret", nil, "", 401},
		{"unknown api path with token", "/api/v1/secret", map[string]string{"Authorization": "Bearer " + testToken}, "", 404},
		{"metrics without token", "/metrics", nil, "", 401},
		{"metrics with token", "/metrics", map[string]string{"Authorization": "Bearer " + testToken}, "", 200},
		{"healthz open", "/healthz", nil, "", 200},
		{"static open", "/static/app.js", nil, "", 200},
		{"static unknown", "/static/index.html", nil, "", 404},
		{"dashboard without session shows login", "/", nil, "", 401},
		{"dashboard with session", "/", nil, session, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: cookieName, Value: tt.cookie})
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			res := w.Result()
			body := readBody(t, res)
			if res.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body %s", res.StatusCode, tt.want, body)
			}
			if strings.Contains(body, testToken) || strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), ";"), testToken) {
				t.Errorf("response echoes the token: %s", body)
			}
			if res.StatusCode == 401 && strings.HasPrefix(tt.target, "/api/") {
				if got := res.Header.Get("WWW-Authenticate"); got != `Bearer realm="vigil"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if !strings.Contains(body, `"code":"unauthorized"`) {
					t.Errorf("401 body = %s, want code unauthorized", body)
				}
			}
		})
	}
}

func TestSessionCookieFlow(t *testing.T) {
	s := newServer(t, nil)

	// The token in the address bar: redirect to "/" with the cookie.
	res := do(t, s, req{target: "/?token=" + url.QueryEscape(testToken), auth: "none"})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("/?token=: status %d, want 303", res.StatusCode)
	}
	if loc := res.Header.Get("Location"); loc != "/" {
		t.Errorf("Location = %q, want / (the token must leave the URL)", loc)
	}
	var c *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == cookieName {
			c = ck
		}
	}
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie = %+v, want HttpOnly, SameSite=Strict, Path=/", c)
	}
	if c.Secure {
		t.Errorf("cookie is Secure on plain HTTP: the browser would drop it")
	}
	if strings.Contains(c.Value, testToken) || c.Value == "" {
		t.Errorf("cookie value %q holds the token or is empty", c.Value)
	}
	if body := readBody(t, res); strings.Contains(body, testToken) {
		t.Errorf("redirect body echoes the token: %s", body)
	}

	// Over TLS the cookie is Secure.
	r := httptest.NewRequest("GET", "https://vigil.test/?token="+testToken, nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if cs := w.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("TLS cookie = %+v, want Secure", cs)
	}

	// The cookie opens the dashboard and the API.
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: cookieName, Value: c.Value})
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `<script src="/static/app.js"`) {
		t.Fatalf("dashboard with cookie: %d %s", w.Code, w.Body.String())
	}

	// A wrong token in the URL: the login form, no cookie, no echo.
	res = do(t, s, req{target: "/?token=wrong-" + testToken[:8], auth: "none"})
	body := readBody(t, res)
	if res.StatusCode != 401 || len(res.Cookies()) != 0 {
		t.Errorf("wrong ?token=: status %d, cookies %v; want 401 and none", res.StatusCode, res.Cookies())
	}
	if !strings.Contains(body, "Wrong token.") || strings.Contains(body, "wrong-"+testToken[:8]) {
		t.Errorf("wrong ?token= page: want the message and no echo of the token, got %s", body)
	}
}

func TestLoginForm(t *testing.T) {
	s := newServer(t, nil)
	form := func(tok string) string { return url.Values{"token": {tok}}.Encode() }
	ct := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	tests := []struct {
		name       string
		body       string
		header     map[string]string
		want       int
		wantCookie bool
	}{
		{"right token", form(testToken), ct, 303, true},
		{"wrong token", form("nope"), ct, 401, false},
		{"empty token", form(""), ct, 401, false},
		{"cross-site form", form(testToken), map[string]string{"Content-Type": ct["Content-Type"], "Sec-Fetch-Site": "cross-site"}, 403, false},
		{"foreign origin", form(testToken), map[string]string{"Content-Type": ct["Content-Type"], "Origin": "https://evil.test"}, 403, false},
		{"same-origin form", form(testToken), map[string]string{"Content-Type": ct["Content-Type"], "Sec-Fetch-Site": "same-origin"}, 303, true},
		{"oversized body", "token=" + strings.Repeat("a", maxBodyBytes+10), ct, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, req{method: "POST", target: "/login", body: tt.body, header: tt.header, auth: "none"})
			body := readBody(t, res)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, tt.want, body)
			}
			if got := len(res.Cookies()) == 1; got != tt.wantCookie {
				t.Errorf("cookie set = %v, want %v", got, tt.wantCookie)
			}
			if strings.Contains(body, testToken) {
				t.Errorf("login response echoes the token")
			}
		})
	}
}

func TestLogout(t *testing.T) {
	s := newServer(t, nil)
	res := do(t, s, req{method: "POST", target: "/logout", auth: "cookie", header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
	if res.StatusCode != 303 {
		t.Fatalf("logout: status %d", res.StatusCode)
	}
	cs := res.Cookies()
	if len(cs) != 1 || cs[0].MaxAge >= 0 || cs[0].Value != "" {
		t.Errorf("logout cookie = %+v, want an expired empty cookie", cs)
	}
	res = do(t, s, req{method: "POST", target: "/logout", auth: "cookie", header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if res.StatusCode != 403 {
		t.Errorf("cross-site logout: status %d, want 403", res.StatusCode)
	}
}

// TestCSRF checks that a cookie-authenticated write needs the X-Vigil-CSRF
// header and no cross-site marks, while a bearer client needs neither.
func TestCSRF(t *testing.T) {
	body := `{"kind":"block","key":"addr:192.0.2.50","duration":"1h"}`
	tests := []struct {
		name   string
		method string
		auth   string
		header map[string]string
		want   int
	}{
		{"cookie, no header", "POST", "cookie", nil, 403},
		{"cookie, wrong header value", "POST", "cookie", map[string]string{"X-Vigil-CSRF": "yes"}, 403},
		{"cookie, header, cross-site", "POST", "cookie", map[string]string{"X-Vigil-CSRF": "1", "Sec-Fetch-Site": "cross-site"}, 403},
		{"cookie, header, same-site subdomain", "POST", "cookie", map[string]string{"X-Vigil-CSRF": "1", "Sec-Fetch-Site": "same-site"}, 403},
		{"cookie, header, foreign Origin", "POST", "cookie", map[string]string{"X-Vigil-CSRF": "1", "Origin": "https://evil.test"}, 403},
		{"cookie, header, null Origin", "POST", "cookie", map[string]string{"X-Vigil-CSRF": "1", "Origin": "null"}, 403},
		{"cookie, same-origin fetch", "POST", "cookie", map[string]string{"X-Vigil-CSRF": "1", "Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, 201},
		{"cookie, header, own Origin", "POST", "cookie", map[string]string{"X-Vigil-CSRF": "1", "Origin": "http://example.com"}, 201},
		{"bearer, no header", "POST", "bearer", nil, 201},
		{"bearer, cross-site marks", "POST", "bearer", map[string]string{"Sec-Fetch-Site": "cross-site"}, 201},
		{"cookie delete, no header", "DELETE", "cookie", nil, 403},
		{"cookie delete, same-origin", "DELETE", "cookie", map[string]string{"X-Vigil-CSRF": "1", "Sec-Fetch-Site": "same-origin"}, 204},
		{"cookie GET needs no header", "GET", "cookie", map[string]string{"Sec-Fetch-Site": "cross-site"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, nil)
			h := map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.header {
				h[k] = v
			}
			target, b := "/api/v1/actions", body
			if tt.method == "DELETE" {
				target, b = "/api/v1/actions/a-active", ""
			}
			res := do(t, s, req{method: tt.method, target: target, auth: tt.auth, header: h, body: b})
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, tt.want, readBody(t, res))
			}
			if tt.want == 403 {
				if code, _ := errorCode(t, res); code != codeForbidden {
					t.Errorf("code %q, want %q", code, codeForbidden)
				}
				// Nothing was written.
				acts, err := s.store.Actions(t.Context(), time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if len(acts) != 2 {
					t.Errorf("refused request changed the actions: %d, want 2", len(acts))
				}
			}
		})
	}
}

func TestTokenCompare(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		tok  string
		want bool
	}{
		{testToken, true},
		{"", false},
		{testToken[:len(testToken)-1], false},
		{testToken + " ", false},
		{strings.ToUpper(testToken), false},
		{strings.Repeat("a", maxTokenBytes+1), false},
	}
	for _, tt := range tests {
		if got := s.tokenOK(tt.tok); got != tt.want {
			t.Errorf("tokenOK(%.20q) = %v, want %v", tt.tok, got, tt.want)
		}
	}
}
