package redact_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/redact"
)

// A typical 1 KB JSON exchange with a few secrets.
func BenchmarkExchange(b *testing.B) {
	r := redact.New()
	x := sampleExchange(b)
	body := `{"user":"bob","password":"hunter2","items":[` + strings.Repeat(`{"sku":"A-1001","qty":2,"name":"Blue mug","price":12.5},`, 16) + `{"sku":"x"}],"card":"4242 4242 4242 4242"}`
	x.Request.Body = []byte(body)
	x.Request.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36")
	b.SetBytes(int64(len(body) + len(x.Response.Body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Exchange(x)
	}
}

func BenchmarkString(b *testing.B) {
	r := redact.New()
	s := "GET /api/v2/orders/1234/items?page=2&sort=asc from 203.0.113.9 took 12ms: ok, nothing to see here"
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		r.String(s)
	}
}

// Hostile inputs stay linear: 64 KiB of each.
func BenchmarkHostile(b *testing.B) {
	r := redact.New()
	for name, s := range map[string]string{
		"eyJ":    strings.Repeat("eyJ", 64<<10/3),
		"digits": strings.Repeat("1 ", 32<<10),
		"colons": strings.Repeat("password:", 64<<10/9),
		"bearer": strings.Repeat("bearer ", 64<<10/7),
		"quotes": `{"password":"` + strings.Repeat(`\"`, 32<<10),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				r.String(s)
			}
		})
	}
}

func BenchmarkHeader(b *testing.B) {
	r := redact.New()
	h := http.Header{"Authorization": {"Bearer abc.def.ghi"}, "Cookie": {"a=1; b=2"}, "Accept": {"*/*"}, "User-Agent": {"curl/8"}}
	b.ReportAllocs()
	for b.Loop() {
		r.Header(h)
	}
}
