package vigil_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigilsec/vigil"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestExchangeJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		x    vigil.Exchange
	}{
		{
			name: "text bodies",
			x: vigil.Exchange{
				ID:     "a#1",
				Time:   time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC),
				Sensor: vigil.SensorProxy,
				Client: vigil.Client{Addr: "203.0.113.7:5123", TLS: &vigil.TLS{Version: "1.3", ServerName: "shop.test"}},
				Request: vigil.Request{
					Method: "POST", URL: mustURL(t, "https://shop.test/api/v2/cart/items?x=1"), Proto: "HTTP/1.1",
					Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"a", "b"}},
					Body:   []byte(`{"product_id":3}`), BodySize: 16,
				},
				Response: &vigil.Response{
					Status: 201, Proto: "HTTP/1.1", Header: http.Header{"Content-Type": {"application/json"}},
					Body: []byte(`{"ok":true}`), BodySize: 1 << 20, Truncated: true,
				},
				Duration: 1500 * time.Microsecond,
			},
		},
		{
			name: "binary body and no response",
			x: vigil.Exchange{
				ID:   "b#2",
				Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
				Request: vigil.Request{
					Method: "PUT", URL: mustURL(t, "http://10.0.0.1:8080/upload"),
					Header: http.Header{}, Body: []byte{0xff, 0x00, 0xfe}, BodySize: 3,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.x)
			if err != nil {
				t.Fatal(err)
			}
			var got vigil.Exchange
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if diff := cmp.Diff(tt.x, got, cmpopts.IgnoreUnexported(vigil.Exchange{})); diff != "" {
				t.Errorf("round trip (-want +got):\n%s\nwire: %s", diff, b)
			}
		})
	}
}

func TestExchangeJSONLenient(t *testing.T) {
	line := `{"time":"2026-11-28T10:00:00Z","request":{"method":"GET","url":"/api/v2/orders/7",` +
		`"headers":{"host":"shop.test","x-forwarded-for":["198.51.100.4"]}},"response":{"status":200,"body":"e30=","body_encoding":"base64"}}`
	var x vigil.Exchange
	if err := json.Unmarshal([]byte(line), &x); err != nil {
		t.Fatal(err)
	}
	if got, want := x.Request.URL.String(), "http://shop.test/api/v2/orders/7"; got != want {
		t.Errorf("url = %q, want %q", got, want)
	}
	if got := x.Request.Header.Get("X-Forwarded-For"); got != "198.51.100.4" {
		t.Errorf("X-Forwarded-For = %q", got)
	}
	if got := string(x.Response.Body); got != "{}" {
		t.Errorf("response body = %q, want {}", got)
	}
	if x.Response.BodySize != 2 || x.Response.Truncated {
		t.Errorf("body size %d truncated %v, want 2 false", x.Response.BodySize, x.Response.Truncated)
	}
}

func TestExchangeJSONErrors(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"no method", `{"request":{"url":"/x"}}`, "request.method is missing"},
		{"no url", `{"request":{"method":"GET"}}`, "request.url is missing"},
		{"bad status", `{"request":{"method":"GET","url":"/"},"response":{"status":42}}`, "response.status 42"},
		{"bad base64", `{"request":{"method":"GET","url":"/","body":"!!","body_encoding":"base64"}}`, "request.body: invalid base64"},
		{"bad encoding", `{"request":{"method":"GET","url":"/","body":"x","body_encoding":"gzip"}}`, `body_encoding "gzip"`},
		{"bad header", `{"request":{"method":"GET","url":"/","headers":{"A":1}}}`, `header "A"`},
		{"negative size", `{"request":{"method":"GET","url":"/","body_size":-5}}`, "negative"},
		{"not json", `{"request":`, "unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x vigil.Exchange
			err := json.Unmarshal([]byte(tt.line), &x)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzExchangeJSON(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-28T10:00:00Z","request":{"method":"GET","url":"/a","headers":{"Host":"h"}}}`))
	f.Add([]byte(`{"request":{"method":"POST","url":"http://h/","body":"AAE=","body_encoding":"base64","body_size":9},"response":{"status":500}}`))
	f.Add([]byte(`{"request":{"method":"GET","url":"%zz"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var x vigil.Exchange
		if err := json.Unmarshal(b, &x); err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same exchange.
		out, err := json.Marshal(x)
		if err != nil {
			t.Fatalf("marshal of a decoded exchange: %v", err)
		}
		var y vigil.Exchange
		if err := json.Unmarshal(out, &y); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if x.Request.Method != y.Request.Method || string(x.Request.Body) != string(y.Request.Body) ||
			x.Request.Truncated != y.Request.Truncated || x.Status() != y.Status() {
			t.Fatalf("round trip changed the exchange:\n%s", out)
		}
	})
}

func TestActorKeys(t *testing.T) {
	tests := []struct {
		a    vigil.Actor
		key  string
		keys []string
	}{
		{vigil.Actor{}, "anonymous", []string{}},
		{vigil.Actor{Addr: "1.2.3.4"}, "addr:1.2.3.4", []string{"addr:1.2.3.4"}},
		{vigil.Actor{Principal: "jwt:7", Addr: "1.2.3.4", Fingerprint: "ab"}, "principal:jwt:7",
			[]string{"principal:jwt:7", "addr:1.2.3.4", "fingerprint:ab"}},
		{vigil.Actor{Fingerprint: "ab"}, "fingerprint:ab", []string{"fingerprint:ab"}},
	}
	for _, tt := range tests {
		if got := tt.a.Key(); got != tt.key {
			t.Errorf("%+v.Key() = %q, want %q", tt.a, got, tt.key)
		}
		if diff := cmp.Diff(tt.keys, tt.a.Keys()); diff != "" {
			t.Errorf("%+v.Keys() (-want +got):\n%s", tt.a, diff)
		}
	}
}

func TestSeverityText(t *testing.T) {
	for s := vigil.SeverityInfo; s <= vigil.SeverityCritical; s++ {
		b, _ := s.MarshalText()
		var got vigil.Severity
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("severity %v: round trip got %v, %v", s, got, err)
		}
	}
	if _, err := vigil.ParseSeverity("urgent"); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("ParseSeverity(urgent) error code = %q, want %q", vigil.ErrorCode(err), vigil.EINVALID)
	}
}
