package web

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

func TestSecurityHeaders(t *testing.T) {
	s := newServer(t, nil)
	for _, rq := range []req{
		{target: "/", auth: "cookie"},
		{target: "/", auth: "none"}, // the login form
		{target: "/healthz", auth: "none"},
		{target: "/static/app.js", auth: "none"},
		{target: "/api/v1/summary", auth: "cookie"},
		{target: "/api/v1/summary", auth: "none"},                   // 401
		{target: "/api/v1/findings?limit=x"},                        // 400
		{method: "POST", target: "/api/v1/actions", auth: "cookie"}, // 403
		{target: "/nope", auth: "none"},
	} {
		t.Run(rq.method+" "+rq.target+" "+rq.auth, func(t *testing.T) {
			res := do(t, s, rq)
			want := map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
				"Cache-Control":          "no-store",
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP %q lacks %q", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP %q allows inline code", csp)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		method, target string
		auth           string
		want           int
		allow          string
	}{
		{"POST", "/api/v1/summary", "bearer", 405, "GET, HEAD"},
		{"DELETE", "/api/v1/findings", "bearer", 405, "GET, HEAD"},
		{"PUT", "/api/v1/actions", "bearer", 405, "GET, HEAD, POST"},
		{"GET", "/api/v1/actions/a-active", "bearer", 405, "DELETE"},
		{"POST", "/api/v1/endpoints/samples", "bearer", 405, "GET, HEAD"},
		{"POST", "/healthz", "none", 405, "GET, HEAD"},
		{"PUT", "/", "none", 405, "GET, HEAD"},
		{"GET", "/login", "none", 405, "POST"},
		{"POST", "/api/v1/summary", "none", 401, ""}, // the token first: 405 would confirm the route
		{"HEAD", "/api/v1/summary", "bearer", 200, ""},
		{"GET", "/api/v2/summary", "bearer", 404, ""},
		{"GET", "/nope", "none", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			res := do(t, s, req{method: tt.method, target: tt.target, auth: tt.auth})
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if tt.want == 405 {
				if code, _ := errorCode(t, res); code != codeMethod {
					t.Errorf("code %q, want %q", code, codeMethod)
				}
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	s := newServer(t, nil)
	res := do(t, s, req{target: "/healthz", auth: "none"})
	if body := readBody(t, res); res.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", res.StatusCode, body)
	}
}

func TestSummary(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name   string
		target string
		want   summaryBody
	}{
		{"all", "/api/v1/summary", summaryBody{
			Findings:   4,
			BySeverity: map[string]int{"info": 0, "low": 1, "medium": 1, "high": 1, "critical": 1},
			ByArea:     map[string]int{"business-logic": 0, "chained": 2, "shadow": 1, "automation": 1},
			ByDetector: map[string]int{"detect.injection.sqli": 1, "detect.authz.bola": 1, "detect.shadow.unknown": 1, "detect.automation.rate": 1},
			Endpoints:  3, Incidents: 1, ActiveActions: 1,
		}},
		{"since a day", "/api/v1/summary?since=24h", summaryBody{
			Findings:   3,
			BySeverity: map[string]int{"info": 0, "low": 0, "medium": 1, "high": 1, "critical": 1},
			ByArea:     map[string]int{"business-logic": 0, "chained": 2, "shadow": 1, "automation": 0},
			ByDetector: map[string]int{"detect.injection.sqli": 1, "detect.authz.bola": 1, "detect.shadow.unknown": 1},
			Endpoints:  3, Incidents: 1, ActiveActions: 1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, req{target: tt.target})
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, readBody(t, res))
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			var got summaryBody
			decode(t, res, &got)
			got.Generated, got.Since = time.Time{}, nil
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("summary (-want +got):\n%s", d)
			}
		})
	}
	for _, bad := range []string{"/api/v1/summary?since=yesterday", "/api/v1/summary?limit=3"} {
		if res := do(t, s, req{target: bad}); res.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", bad, res.StatusCode)
		}
	}
}

func TestFindings(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name    string
		query   string
		wantIDs []string
	}{
		{"all, newest first", "", []string{"f-sqli", "f-bola", "f-xss", "f-old"}},
		{"since duration", "since=24h", []string{"f-sqli", "f-bola", "f-xss"}},
		{"since RFC 3339", "since=2025-06-01T09:30:00Z", []string{"f-sqli", "f-bola"}},
		{"since with offset", "since=2025-06-01T11:30:00%2B01:00", []string{"f-sqli"}}, // 10:30Z
		{"detector", "detector=detect.authz.bola", []string{"f-bola"}},
		{"unknown detector", "detector=detect.none", []string{}},
		{"actor by addr", "actor=addr:203.0.113.9", []string{"f-sqli"}},
		{"actor by fingerprint", "actor=fingerprint:fp-curl", []string{"f-sqli"}},
		{"actor by principal", "actor=principal:jwt:mallory", []string{"f-bola"}},
		{"actor by mapped IPv4", "actor=addr:::ffff:203.0.113.9", []string{"f-sqli"}},
		{"min severity", "min_severity=high", []string{"f-sqli", "f-bola"}},
		{"min severity any case", "min_severity=CRITICAL", []string{"f-bola"}},
		{"limit", "limit=2", []string{"f-sqli", "f-bola"}},
		{"combined", "since=720h&min_severity=medium&limit=1000", []string{"f-sqli", "f-bola", "f-xss"}},
		{"empty values do not filter", "detector=&actor=&min_severity=&since=&limit=", []string{"f-sqli", "f-bola", "f-xss", "f-old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, req{target: "/api/v1/findings?" + tt.query})
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, readBody(t, res))
			}
			var got findingsBody
			decode(t, res, &got)
			ids := []string{}
			for _, f := range got.Findings {
				ids = append(ids, f.ID)
			}
			if d := cmp.Diff(tt.wantIDs, ids); d != "" {
				t.Errorf("ids (-want +got):\n%s", d)
			}
			if got.Count != len(got.Findings) {
				t.Errorf("count %d, findings %d", got.Count, len(got.Findings))
			}
		})
	}
}

func TestFindingsBadParams(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name, query, wantMsg string
	}{
		{"since garbage", "since=yesterday", "since: want an RFC 3339 time"},
		{"since days", "since=30d", "since: want an RFC 3339 time"},
		{"since negative", "since=-1h", "a duration must be positive"},
		{"detector with space", "detector=detect%20sqli", "not a dotted detector id"},
		{"detector with markup", "detector=%3Cscript%3E", "not a dotted detector id"},
		{"actor without kind", "actor=203.0.113.9", "actor key"},
		{"actor unknown kind", "actor=user:bob", "unknown kind"},
		{"actor bad addr", "actor=addr:999.1.1.1", "not an IP address"},
		{"actor empty value", "actor=addr:", "actor key"},
		{"min_severity unknown", "min_severity=extreme", "min_severity: unknown severity"},
		{"limit zero", "limit=0", "limit: want a whole number from 1 to 1000"},
		{"limit too big", "limit=1001", "limit: want a whole number from 1 to 1000"},
		{"limit not a number", "limit=ten", "limit: want a whole number"},
		{"limit negative", "limit=-5", "limit: want a whole number"},
		{"unknown parameter", "severity=high", `unknown parameter "severity"`},
		{"repeated parameter", "detector=a&detector=b", "given 2 times"},
		{"value too long", "detector=" + strings.Repeat("a", maxParamBytes+1), "longer than 256 bytes"},
		{"control character", "actor=principal:a%0Ab", "control characters"},
		{"invalid UTF-8", "actor=principal:%FF", "not valid UTF-8"},
		{"malformed escape", "detector=%zz", "malformed query string"},
		{"query too long", "detector=a" + strings.Repeat("&x=1", 600), "query string longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, req{target: "/api/v1/findings?" + tt.query})
			if res.StatusCode != 400 {
				t.Fatalf("status %d, want 400", res.StatusCode)
			}
			code, msg := errorCode(t, res)
			if code != vigil.EINVALID || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q %q, want invalid and a message with %q", code, msg, tt.wantMsg)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	s := newServer(t, nil)
	res := do(t, s, req{target: "/api/v1/endpoints"})
	var got struct {
		Endpoints []vigil.EndpointStats `json:"endpoints"`
	}
	decode(t, res, &got)
	var names []string
	for _, e := range got.Endpoints {
		names = append(names, e.String())
	}
	want := []string{"GET shop.test/products", "GET shop.test/orders/{id}", "GET api.test/orders/{id}"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("endpoints (-want +got):\n%s", d)
	}
	if got.Endpoints[0].Count != 120 || got.Endpoints[0].Statuses[500] != 2 {
		t.Errorf("first endpoint stats = %+v", got.Endpoints[0])
	}
	if res := do(t, s, req{target: "/api/v1/endpoints?x=1"}); res.StatusCode != 400 {
		t.Errorf("unknown parameter: status %d, want 400", res.StatusCode)
	}
}

func TestSamples(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name     string
		query    string
		want     int
		wantIDs  []string
		wantCode string
	}{
		{"one endpoint", "method=GET&path=/products", 200, []string{"x2", "x1"}, ""},
		{"method any case", "method=get&path=/products&limit=1", 200, []string{"x2"}, ""},
		{"explicit host", "method=GET&path=/orders/{id}&host=api.test", 200, []string{}, ""},
		{"ambiguous host", "method=GET&path=/orders/{id}", 400, nil, vigil.EINVALID},
		{"unknown endpoint", "method=GET&path=/nope", 404, nil, vigil.ENOTFOUND},
		{"no method", "path=/products", 400, nil, vigil.EINVALID},
		{"no path", "method=GET", 400, nil, vigil.EINVALID},
		{"relative path", "method=GET&path=products", 400, nil, vigil.EINVALID},
		{"bad method", "method=G%20T&path=/products", 400, nil, vigil.EINVALID},
		{"limit too big", "method=GET&path=/products&limit=51", 400, nil, vigil.EINVALID},
		{"unknown parameter", "method=GET&path=/products&template=/x", 400, nil, vigil.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, req{target: "/api/v1/endpoints/samples?" + tt.query})
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.want, readBody(t, res))
			}
			if tt.wantCode != "" {
				if code, _ := errorCode(t, res); code != tt.wantCode {
					t.Errorf("code %q, want %q", code, tt.wantCode)
				}
				return
			}
			var got struct {
				Endpoint vigil.Endpoint `json:"endpoint"`
				Samples  []sample       `json:"samples"`
			}
			decode(t, res, &got)
			ids := []string{}
			for _, x := range got.Samples {
				ids = append(ids, x.Exchange.ID)
			}
			if d := cmp.Diff(tt.wantIDs, ids); d != "" {
				t.Errorf("sample ids (-want +got):\n%s", d)
			}
		})
	}

	// The stored samples are redacted and carry their actor.
	res := do(t, s, req{target: "/api/v1/endpoints/samples?method=GET&path=/products"})
	body := readBody(t, res)
	if strings.Contains(body, "sekrit-token-value") {
		t.Errorf("a sample shows an unredacted Authorization header: %s", body)
	}
	if !strings.Contains(body, `"addr":"203.0.113.10"`) {
		t.Errorf("samples lack their actor: %s", body)
	}
}

func TestIncidents(t *testing.T) {
	s := newServer(t, nil)
	var got struct {
		Incidents []vigil.Incident `json:"incidents"`
	}
	decode(t, do(t, s, req{target: "/api/v1/incidents"}), &got)
	if len(got.Incidents) != 1 || got.Incidents[0].ID != "i-1" || got.Incidents[0].Stage != vigil.StageExploitation {
		t.Errorf("incidents = %+v", got.Incidents)
	}
	if res := do(t, s, req{target: "/api/v1/incidents?limit=1"}); res.StatusCode != 400 {
		t.Errorf("unknown parameter: status %d, want 400", res.StatusCode)
	}
}

func TestListActions(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		query string
		want  []string // id:active
		code  int
	}{
		{"", []string{"a-active:true", "a-expired:false"}, 200},
		{"active=true", []string{"a-active:true"}, 200},
		{"active=1", []string{"a-active:true"}, 200},
		{"active=false", []string{"a-active:true", "a-expired:false"}, 200},
		{"active=maybe", nil, 400},
		{"kind=block", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := do(t, s, req{target: "/api/v1/actions?" + tt.query})
			if res.StatusCode != tt.code {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.code)
			}
			if tt.code != 200 {
				return
			}
			var got struct {
				Actions []actionView `json:"actions"`
			}
			decode(t, res, &got)
			var ids []string
			for _, a := range got.Actions {
				ids = append(ids, a.ID+":"+map[bool]string{true: "true", false: "false"}[a.Active])
			}
			if d := cmp.Diff(tt.want, ids); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
		})
	}
}

func TestCreateAction(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ctype   string
		want    int
		check   func(t *testing.T, a vigil.Action)
		wantMsg string
	}{
		{name: "block", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"2h","reason":"manual"}`, want: 201,
			check: func(t *testing.T, a vigil.Action) {
				if a.Kind != vigil.ActionBlock || a.Key != "addr:192.0.2.7" || !a.Until.Equal(testNow.Add(2*time.Hour)) ||
					!a.Created.Equal(testNow) || a.Reason != "manual" || !strings.HasPrefix(a.ID, "a-") {
					t.Errorf("action = %+v", a)
				}
			}},
		{name: "rate-limit", body: `{"kind":"rate-limit","key":"principal:jwt:bob","until":"2025-06-02T00:00:00Z","rate":2.5}`, want: 201,
			check: func(t *testing.T, a vigil.Action) {
				if a.Rate != 2.5 || !a.Until.Equal(time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)) || a.Reason == "" {
					t.Errorf("action = %+v", a)
				}
			}},
		{name: "tarpit, delay string", body: `{"kind":"tarpit","key":"fingerprint:fp-x","duration":"10m","delay":"1500ms"}`, want: 201,
			check: func(t *testing.T, a vigil.Action) {
				if a.Delay != 1500*time.Millisecond {
					t.Errorf("delay = %v", a.Delay)
				}
			}},
		{name: "tarpit, delay nanoseconds", body: `{"kind":"tarpit","key":"fingerprint:fp-x","duration":"10m","delay":2000000000}`, want: 201,
			check: func(t *testing.T, a vigil.Action) {
				if a.Delay != 2*time.Second {
					t.Errorf("delay = %v", a.Delay)
				}
			}},
		{name: "monitor, kind any case", body: `{"kind":"MONITOR","key":"addr:2001:DB8::1","duration":"1h","source":"f-sqli"}`, want: 201,
			check: func(t *testing.T, a vigil.Action) {
				if a.Kind != vigil.ActionMonitor || a.Key != "addr:2001:db8::1" || a.Source != "f-sqli" {
					t.Errorf("action = %+v (the address must be canonical)", a)
				}
			}},
		{name: "mapped IPv4 canonical", body: `{"kind":"block","key":"addr:::ffff:192.0.2.8","duration":"1h"}`, want: 201,
			check: func(t *testing.T, a vigil.Action) {
				if a.Key != "addr:192.0.2.8" {
					t.Errorf("key = %q", a.Key)
				}
			}},

		{name: "unknown kind", body: `{"kind":"ban","key":"addr:192.0.2.7","duration":"1h"}`, want: 400, wantMsg: "unknown action"},
		{name: "no key", body: `{"kind":"block","duration":"1h"}`, want: 400, wantMsg: "key: required"},
		{name: "key without kind", body: `{"kind":"block","key":"192.0.2.7","duration":"1h"}`, want: 400, wantMsg: "actor key"},
		{name: "addr key not an IP", body: `{"kind":"block","key":"addr:shop.test","duration":"1h"}`, want: 400, wantMsg: "not an IP address"},
		{name: "addr with port", body: `{"kind":"block","key":"addr:192.0.2.7:80","duration":"1h"}`, want: 400, wantMsg: "not an IP address"},
		{name: "key with space", body: `{"kind":"block","key":"principal:a b","duration":"1h"}`, want: 400, wantMsg: "white space"},
		{name: "no duration", body: `{"kind":"block","key":"addr:192.0.2.7"}`, want: 400, wantMsg: "duration or until: required"},
		{name: "both duration and until", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h","until":"2025-06-02T00:00:00Z"}`, want: 400, wantMsg: "not both"},
		{name: "bad duration", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1 day"}`, want: 400, wantMsg: "not a duration"},
		{name: "negative duration", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"-1h"}`, want: 400, wantMsg: "end in the future"},
		{name: "until in the past", body: `{"kind":"block","key":"addr:192.0.2.7","until":"2025-01-01T00:00:00Z"}`, want: 400, wantMsg: "end in the future"},
		{name: "too long", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"9000h"}`, want: 400, wantMsg: "at most"},
		{name: "rate-limit without rate", body: `{"kind":"rate-limit","key":"addr:192.0.2.7","duration":"1h"}`, want: 400, wantMsg: "needs a rate"},
		{name: "rate-limit zero rate", body: `{"kind":"rate-limit","key":"addr:192.0.2.7","duration":"1h","rate":0}`, want: 400, wantMsg: "needs a rate"},
		{name: "rate-limit huge rate", body: `{"kind":"rate-limit","key":"addr:192.0.2.7","duration":"1h","rate":1e9}`, want: 400, wantMsg: "needs a rate"},
		{name: "rate on block", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h","rate":3}`, want: 400, wantMsg: "only for rate-limit"},
		{name: "tarpit without delay", body: `{"kind":"tarpit","key":"addr:192.0.2.7","duration":"1h"}`, want: 400, wantMsg: "needs a delay"},
		{name: "tarpit delay too long", body: `{"kind":"tarpit","key":"addr:192.0.2.7","duration":"1h","delay":"2m"}`, want: 400, wantMsg: "needs a delay"},
		{name: "tarpit bad delay", body: `{"kind":"tarpit","key":"addr:192.0.2.7","duration":"1h","delay":true}`, want: 400, wantMsg: "delay: want"},
		{name: "delay on block", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h","delay":"1s"}`, want: 400, wantMsg: "only for tarpit"},
		{name: "reason with control chars", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h","reason":"a\u0000b"}`, want: 400, wantMsg: "control characters"},
		{name: "reason too long", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h","reason":"` + strings.Repeat("r", maxReasonBytes+1) + `"}`, want: 400, wantMsg: "longer than"},
		{name: "unknown field", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h","id":"mine"}`, want: 400, wantMsg: `unknown field "id"`},
		{name: "wrong type", body: `{"kind":"block","key":7,"duration":"1h"}`, want: 400, wantMsg: `field "key": wrong type`},
		{name: "trailing data", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h"} {}`, want: 400, wantMsg: "trailing data"},
		{name: "empty body", body: ``, want: 400, wantMsg: "empty body"},
		{name: "not JSON", body: `kind=block`, want: 400, wantMsg: "malformed JSON"},
		{name: "array", body: `[]`, want: 400, wantMsg: "wrong type"},
		{name: "oversized body", body: `{"kind":"block","reason":"` + strings.Repeat("r", maxBodyBytes) + `"}`, want: 400, wantMsg: "body longer than"},
		{name: "form content type", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h"}`, ctype: "application/x-www-form-urlencoded", want: 400, wantMsg: "Content-Type must be application/json"},
		{name: "text/plain content type", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h"}`, ctype: "text/plain", want: 400, wantMsg: "Content-Type"},
		{name: "JSON with charset", body: `{"kind":"block","key":"addr:192.0.2.7","duration":"1h"}`, ctype: "application/json; charset=utf-8", want: 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, nil)
			ct := tt.ctype
			if ct == "" {
				ct = "application/json"
			}
			res := do(t, s, req{method: "POST", target: "/api/v1/actions", body: tt.body, header: map[string]string{"Content-Type": ct}})
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.want, readBody(t, res))
			}
			acts, err := s.store.Actions(t.Context(), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != 201 {
				code, msg := errorCode(t, res)
				if code != vigil.EINVALID || !strings.Contains(msg, tt.wantMsg) {
					t.Errorf("error %q %q, want invalid with %q", code, msg, tt.wantMsg)
				}
				if len(acts) != 2 {
					t.Errorf("a refused request stored an action: %d actions", len(acts))
				}
				return
			}
			var got actionView
			decode(t, res, &got)
			if loc := res.Header.Get("Location"); loc != "/api/v1/actions/"+got.ID {
				t.Errorf("Location = %q, id %q", loc, got.ID)
			}
			if !got.Active {
				t.Errorf("new action not active")
			}
			i := slices.IndexFunc(acts, func(a vigil.Action) bool { return a.ID == got.ID })
			if i < 0 {
				t.Fatalf("action %s not in the store", got.ID)
			}
			if d := cmp.Diff(got.Action, acts[i]); d != "" {
				t.Errorf("stored action differs from the response (-resp +stored):\n%s", d)
			}
			if tt.check != nil {
				tt.check(t, acts[i])
			}
		})
	}
}

func TestDeleteAction(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name, target string
		want         int
	}{
		{"existing", "/api/v1/actions/a-active", 204},
		{"again", "/api/v1/actions/a-active", 404},
		{"unknown", "/api/v1/actions/a-nope", 404},
		{"control char", "/api/v1/actions/a%01b", 400},
		{"too long", "/api/v1/actions/" + strings.Repeat("x", maxIDBytes+1), 400},
		{"with query", "/api/v1/actions/a-expired?force=1", 400},
		{"no id", "/api/v1/actions/", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, req{method: "DELETE", target: tt.target})
			body := readBody(t, res)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.want, body)
			}
			if tt.want == 204 && body != "" {
				t.Errorf("204 with a body: %q", body)
			}
		})
	}
	acts, err := s.store.Actions(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 1 || acts[0].ID != "a-expired" {
		t.Errorf("after deletes: %+v, want only a-expired", acts)
	}
}

// failingStore fails every read with an internal error.
type failingStore struct{ vigil.Store }

var errDisk = errors.New("disk I/O error at /var/lib/vigil/secret-path.db")

func (failingStore) Findings(context.Context, vigil.FindingFilter) ([]vigil.Finding, error) {
	return nil, errDisk
}
func (failingStore) Endpoints(context.Context) ([]vigil.EndpointStats, error) { return nil, errDisk }
func (failingStore) Incidents(context.Context) ([]vigil.Incident, error)      { return nil, errDisk }
func (failingStore) Actions(context.Context, time.Time) ([]vigil.Action, error) {
	return nil, errDisk
}
func (failingStore) DeleteAction(context.Context, string) error { return errDisk }

func TestStoreErrorsHideDetail(t *testing.T) {
	s := newServer(t, failingStore{newStore(t)})
	for _, rq := range []req{
		{target: "/api/v1/summary"},
		{target: "/api/v1/findings"},
		{target: "/api/v1/endpoints"},
		{target: "/api/v1/endpoints/samples?method=GET&path=/products"},
		{target: "/api/v1/incidents"},
		{target: "/api/v1/actions"},
		{method: "DELETE", target: "/api/v1/actions/a-active"},
	} {
		t.Run(rq.target, func(t *testing.T) {
			res := do(t, s, rq)
			if res.StatusCode != 500 {
				t.Fatalf("status %d, want 500", res.StatusCode)
			}
			code, msg := errorCode(t, res)
			if code != vigil.EINTERNAL || msg != "internal error" {
				t.Errorf("error %q %q, want internal / internal error", code, msg)
			}
		})
	}
}

// TestJSONEscapesMarkup checks the API's half of the XSS defence: stored
// markup leaves as JSON with <, > and & escaped, under a JSON content type
// and nosniff, so no browser renders it as HTML. The dashboard's half is
// TestDashboardUsesTextOnly and TestBrowserDashboard.
func TestJSONEscapesMarkup(t *testing.T) {
	s := newServer(t, nil)
	res := do(t, s, req{target: "/api/v1/findings?detector=detect.shadow.unknown"})
	body := readBody(t, res)
	if strings.Contains(body, "<img") || strings.Contains(body, "<script") {
		t.Errorf("raw markup in the JSON: %s", body)
	}
	if !strings.Contains(body, `\u003cimg src=x onerror=alert(1)\u003e`) {
		t.Errorf("the payload is not in the JSON, escaped: %s", body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// TestDashboardUsesTextOnly scans the embedded UI for the APIs that parse
// HTML or run strings as code, and for inline script, which CSP blocks.
func TestDashboardUsesTextOnly(t *testing.T) {
	js, err := ui.ReadFile("ui/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"on", "srcdoc", "DOMParser", "createContextualFragment"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s: render data with textContent only", bad)
		}
	}
	for _, name := range []string{"ui/index.html", "ui/login.html"} {
		b, err := ui.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		h := strings.ToLower(string(b))
		if strings.Contains(h, "<script>") || strings.Contains(h, " onclick=") || strings.Contains(h, " onload=") || strings.Contains(h, "style=") {
			t.Errorf("%s has inline script or style, which the CSP blocks", name)
		}
		if strings.Contains(h, "http://") || strings.Contains(h, "https://") || strings.Contains(h, "//cdn") {
			t.Errorf("%s loads something from another origin", name)
		}
	}
	if strings.Contains(string(js), "http://") || strings.Contains(string(js), "https://") {
		t.Errorf("app.js names an external URL")
	}
}

func TestStaticAssets(t *testing.T) {
	s := newServer(t, nil)
	for file, ct := range staticTypes {
		res := do(t, s, req{target: "/static/" + file, auth: "none"})
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != ct {
			t.Errorf("%s: %d %q, want 200 %q", file, res.StatusCode, res.Header.Get("Content-Type"), ct)
		}
	}
	res := do(t, s, req{target: "/static/..%2fauth.go", auth: "none"})
	if res.StatusCode != 404 {
		t.Errorf("path traversal: status %d, want 404", res.StatusCode)
	}
	if res := do(t, s, req{target: "/metrics"}); readBody(t, res) != "vigil_up 1\n" {
		t.Errorf("/metrics does not serve the metrics handler")
	}
	// Without a Metrics handler there is no /metrics route.
	s2, err := New(newStore(t), Config{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if res := do(t, s2, req{target: "/metrics"}); res.StatusCode != 404 {
		t.Errorf("/metrics without a handler: status %d, want 404", res.StatusCode)
	}
}
