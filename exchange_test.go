package vigil

import (
	"net/url"
	"strings"
	"testing"
)

// hostRef is what Request.Host must return.
func hostRef(u *url.URL) string { return strings.ToLower(u.Hostname()) }

func TestRequestHost(t *testing.T) {
	tests := []struct{ host, want string }{
		{"shop.example", "shop.example"},
		{"shop.example:8080", "shop.example"},
		{"Shop.Example:8080", "shop.example"},
		{"127.0.0.1:9000", "127.0.0.1"},
		{"127.0.0.1:", "127.0.0.1"},
		{"[::1]:8080", "::1"},
		{"[FD00:EC2::254]", "fd00:ec2::254"},
		{"host:port", "host:port"},
		{"a:b:80", "a:b"},
		{"ÉCOLE.example", "école.example"},
		{"", ""},
		{":", ""},
	}
	for _, tc := range tests {
		u := &url.URL{Host: tc.host}
		r := Request{URL: u}
		if got := r.Host(); got != tc.want || got != hostRef(u) {
			t.Errorf("Host of %q = %q, want %q (URL.Hostname lower-cased: %q)", tc.host, got, tc.want, hostRef(u))
		}
	}
	if got := (&Request{}).Host(); got != "" {
		t.Errorf("Host without a URL = %q", got)
	}
}

// FuzzRequestHost checks the fast path against URL.Hostname lower-cased on
// any host text.
func FuzzRequestHost(f *testing.F) {
	for _, s := range []string{"a.b:1", "A.b", "[::1]:80", "x:y", "1.2.3.4:", "\xff:1", "::", "a:1:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		u := &url.URL{Host: host}
		if got, want := (&Request{URL: u}).Host(), hostRef(u); got != want {
			t.Fatalf("Host of %q = %q, want %q", host, got, want)
		}
	})
}

func BenchmarkRequestHost(b *testing.B) {
	r := Request{URL: &url.URL{Host: "127.0.0.1:9000"}}
	b.Run("baseline-hostname-lower", func(b *testing.B) {
		for b.Loop() {
			_ = hostRef(r.URL)
		}
	})
	b.Run("host", func(b *testing.B) {
		for b.Loop() {
			_ = r.Host()
		}
	})
}
