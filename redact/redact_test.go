package redact_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/redact"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/body")

type stringCase struct {
	Name string `json:"name"`
	In   string `json:"in"`
	Want string `json:"want"`
}

func loadStringCases(t testing.TB) []stringCase {
	t.Helper()
	b, err := os.ReadFile("testdata/strings.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []stringCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestString(t *testing.T) {
	r := redact.New()
	for _, tt := range loadStringCases(t) {
		t.Run(tt.Name, func(t *testing.T) {
			got := r.String(tt.In)
			if got != tt.Want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.In, got, tt.Want)
			}
			if again := r.String(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestLuhn(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"4242424242424242", true},
		{"4242 4242 4242 4242", true},
		{"5555-5555-5555-4444", true},
		{"378282246310005", true},
		{"4242424242424241", false},
		{"424242424242", false}, // 12 digits
		{"42424242424242424242", false},
		{"4242x4242424242424242", false},
	}
	for _, tt := range tests {
		if got := redact.Luhn(tt.in); got != tt.want {
			t.Errorf("Luhn(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestHeader(t *testing.T) {
	r := redact.New(redact.WithHeaders("X-Partner-Key"))
	in := http.Header{
		"Authorization":       {"Bearer abc.def.ghi"},
		"Proxy-Authorization": {"Basic Ym9iOmh1bnRlcjI="},
		"Cookie":              {"sid=s3cr3t; theme=dark"},
		"Set-Cookie":          {"sid=s3cr3t; Path=/; HttpOnly", "flag"},
		"X-Api-Key":           {"ak_live_123"},
		"Api-Key":             {"k"},
		"X-Auth-Token":        {"t0k3n"},
		"X-Csrf-Token":        {"c5rf"},
		"X-Partner-Key":       {"partner"},
		"Referer":             {"https://shop.test/reset?token=abc&x=1"},
		"X-Note":              {"card 4242 4242 4242 4242"},
		"Content-Type":        {"application/json"},
		"User-Agent":          {"curl/8.5.0"},
		"Accept":              {"a", "b"},
	}
	want := http.Header{
		"Authorization":       {"Bearer [REDACTED]"},
		"Proxy-Authorization": {"Basic [REDACTED]"},
		"Cookie":              {"sid=[REDACTED]; theme=[REDACTED]"},
		"Set-Cookie":          {"sid=[REDACTED]; Path=/; HttpOnly", "[REDACTED]"},
		"X-Api-Key":           {"[REDACTED]"},
		"Api-Key":             {"[REDACTED]"},
		"X-Auth-Token":        {"[REDACTED]"},
		"X-Csrf-Token":        {"[REDACTED]"},
		"X-Partner-Key":       {"[REDACTED]"},
		"Referer":             {"https://shop.test/reset?token=[REDACTED]&x=1"},
		"X-Note":              {"card ************4242"},
		"Content-Type":        {"application/json"},
		"User-Agent":          {"curl/8.5.0"},
		"Accept":              {"a", "b"},
	}
	orig := in.Clone()
	got := r.Header(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Header (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(orig, in); diff != "" {
		t.Errorf("Header changed its input (-was +now):\n%s", diff)
	}
	if diff := cmp.Diff(got, r.Header(got)); diff != "" {
		t.Errorf("Header not idempotent:\n%s", diff)
	}
	if r.Header(nil) != nil {
		t.Error("Header(nil) != nil")
	}
}

func TestURL(t *testing.T) {
	r := redact.New()
	tests := []struct{ in, want string }{
		{"https://shop.test/login?user=bob&password=hunter2", "https://shop.test/login?user=bob&password=[REDACTED]"},
		{"https://shop.test/a?api_key=k1&access_token=t&q=shoes", "https://shop.test/a?api_key=[REDACTED]&access_token=[REDACTED]&q=shoes"},
		{"https://shop.test/pay?card=4242+4242+4242+4242", "https://shop.test/pay?card=************4242"},
		{"https://bob:hunter2@shop.test/x", "https://bob:%5BREDACTED%5D@shop.test/x"},
		{"https://shop.test/cards/4242424242424242/charge", "https://shop.test/cards/************4242/charge"},
		{"https://shop.test/orders/4242424242424241?page=2", "https://shop.test/orders/4242424242424241?page=2"},
		{"/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2ln", "/reset/[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := r.URL(u)
			if got.String() != tt.want {
				t.Errorf("URL(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if u.String() != tt.in {
				t.Errorf("input changed to %s", u)
			}
			if _, err := url.Parse(got.String()); err != nil {
				t.Errorf("redacted URL does not parse: %v", err)
			}
			if again := r.URL(got).String(); again != got.String() {
				t.Errorf("not idempotent: %s → %s", got, again)
			}
		})
	}
}

// TestBody redacts testdata/body/* and compares with the .golden files
// (go test -run TestBody -update rewrites them).
func TestBody(t *testing.T) {
	r := redact.New()
	files, err := filepath.Glob("testdata/body/*")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{".json": "application/json; charset=utf-8", ".form": "application/x-www-form-urlencoded", ".txt": "text/plain"}
	n := 0
	for _, f := range files {
		ct, ok := types[filepath.Ext(f)]
		if !ok {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Body(ct, in)
			if *update {
				if err := os.WriteFile(f+".golden", got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(f + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("Body(%s)\n got %s\nwant %s", f, got, want)
			}
			if again := r.Body(ct, got); string(again) != string(got) {
				t.Errorf("not idempotent:\n%s\n%s", got, again)
			}
			if strings.HasSuffix(f, ".json") && json.Valid(in) && !json.Valid(got) {
				t.Errorf("valid JSON became invalid: %s", got)
			}
		})
	}
	if n < 4 {
		t.Fatalf("only %d body fixtures", n)
	}
}

// TestBodySecrets checks, independently of the golden files, that no secret
// of the fixtures survives and that benign values do.
func TestBodySecrets(t *testing.T) {
	r := redact.New()
	tests := []struct {
		file       string
		ct         string
		gone, kept []string
	}{
		{"login.json", "application/json", []string{"hunter2", "1234,", "4242 4242", "5555555555554444", "eyJhbGci", "123", "4111111111111111", "4242\\u0020"},
			[]string{"bob@shop.test", `"password manager"`, "4242424242424241", `"max_tokens": 512`, `"remember": true`, `"refresh_token": null`}},
		{"truncated.json", "application/json", []string{"ak_live"}, []string{`"name":"Ann"`, `"items":[{"id":1}]`}},
		{"form.form", "application/x-www-form-urlencoded", []string{"hunter", "4242+4242"}, []string{"grant_type=password", "username=bob", "q=books"}},
		{"plain.txt", "text/plain", []string{"4242424242424242", "abcdefgh1234"}, []string{"name=ok", "free text"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata/body", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := string(r.Body(tt.ct, in))
			for _, s := range tt.gone {
				if strings.Contains(got, s) {
					t.Errorf("%q survived in %s", s, got)
				}
			}
			for _, s := range tt.kept {
				if !strings.Contains(got, s) {
					t.Errorf("benign %q was lost from %s", s, got)
				}
			}
		})
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func sampleExchange(t testing.TB) *vigil.Exchange {
	return &vigil.Exchange{
		ID: "x1", Time: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), Sensor: vigil.SensorProxy,
		Client: vigil.Client{Addr: "203.0.113.9:5000", TLS: &vigil.TLS{Version: "1.3"}},
		Request: vigil.Request{
			Method: "POST", URL: mustURL(t, "https://shop.test/api/login?api_key=k1"), Proto: "HTTP/1.1",
			Header: http.Header{"Authorization": {"Bearer abc.def.ghi"}, "Content-Type": {"application/json"}},
			Body:   []byte(`{"user":"bob","password":"hunter2","card":"4242 4242 4242 4242"}`), BodySize: 60,
		},
		Response: &vigil.Response{
			Status: 200, Header: http.Header{"Set-Cookie": {"sid=s3cr3t; HttpOnly"}, "Content-Type": {"application/json"}},
			Body: []byte(`{"access_token":"tok","user":{"id":7}}`), BodySize: 40,
		},
		Actor: vigil.Actor{Principal: "jwt:7", Addr: "203.0.113.9"},
	}
}

func TestExchange(t *testing.T) {
	r := redact.New()
	x := sampleExchange(t)
	before, _ := json.Marshal(x)
	y := r.Exchange(x)
	after, _ := json.Marshal(x)
	if string(before) != string(after) {
		t.Fatalf("Exchange changed its input:\n%s\n%s", before, after)
	}
	got, _ := json.Marshal(y)
	for _, s := range []string{"hunter2", "abc.def.ghi", "4242 4242", "s3cr3t", `"tok"`, "k1"} {
		if strings.Contains(string(got), s) {
			t.Errorf("%q survived: %s", s, got)
		}
	}
	for _, s := range []string{`\"user\":\"bob\"`, "Bearer [REDACTED]", `\"id\":7`, "sid=[REDACTED]; HttpOnly"} {
		if !strings.Contains(string(got), s) {
			t.Errorf("%q missing from %s", s, got)
		}
	}
	if y.Actor != x.Actor || y.Client.TLS == x.Client.TLS || y.Request.URL == x.Request.URL {
		t.Errorf("not a deep copy, or the actor changed: %+v", y)
	}
	if y.Request.BodySize != 60 || y.Response.Status != 200 {
		t.Errorf("sizes or status changed: %+v", y)
	}
	if r.Exchange(nil) != nil {
		t.Error("Exchange(nil) != nil")
	}
	// Truncated JSON still loses its card number and password.
	x.Request.Body = []byte(`{"password":"hunter2","card":"4242424242424242","note":"to`)
	x.Request.Truncated = true
	if b := string(r.Exchange(x).Request.Body); strings.Contains(b, "hunter2") || strings.Contains(b, "4242424242424242") {
		t.Errorf("truncated body passed through: %s", b)
	}
}

func TestFinding(t *testing.T) {
	r := redact.New()
	f := vigil.Finding{
		ID: "f1", Detector: "detect.x", Title: "token leak eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2ln",
		Endpoint: vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/orders/{id}"},
		Evidence: []vigil.Evidence{
			{Where: "header.Authorization", Value: "Bearer abc.def.ghi", Why: "bearer"},
			{Where: "body.user.password", Value: "hunter2", Why: "weak"},
			{Where: "query.q", Value: "' OR 1=1 --", Why: "sqli"},
			{Where: "body.note", Value: "4242 4242 4242 4242", Why: "card"},
			{Where: "cookie.sid", Value: "abc", Why: "session"},
			{Where: "body.text", Value: "Authorization: Bearer abc.def.ghi", Why: "echo"},
		},
	}
	orig := f.Evidence[0].Value
	got := r.Finding(f)
	want := []string{"Bearer [REDACTED]", "[REDACTED]", "' OR 1=1 --", "************4242", "[REDACTED]", "Authorization: [REDACTED]"}
	for i, w := range want {
		if got.Evidence[i].Value != w {
			t.Errorf("evidence %s = %q, want %q", got.Evidence[i].Where, got.Evidence[i].Value, w)
		}
	}
	if f.Evidence[0].Value != orig {
		t.Error("Finding changed its input's evidence")
	}
	if got.Title != "token leak [REDACTED]" {
		t.Errorf("title = %q", got.Title)
	}
	if diff := cmp.Diff(got, r.Finding(got)); diff != "" {
		t.Errorf("not idempotent:\n%s", diff)
	}
}

func TestWithFields(t *testing.T) {
	r := redact.New(redact.WithFields("Mothers-Maiden-Name"))
	got := string(r.Body("application/json", []byte(`{"mothers_maiden_name":"Smith","name":"Ann"}`)))
	if want := `{"mothers_maiden_name":"[REDACTED]","name":"Ann"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if redact.New().SensitiveField("mothers_maiden_name") {
		t.Error("the option leaked into another Redactor")
	}
}

func TestConcurrent(t *testing.T) {
	r := redact.New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				y := r.Exchange(sampleExchange(t))
				if strings.Contains(string(y.Request.Body), "hunter2") {
					t.Error("secret survived")
				}
			}
		})
	}
	wg.Wait()
}
