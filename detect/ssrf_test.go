package detect

import (
	"testing"

	"github.com/vigilsec/vigil"
)

func TestSSRFUnicodeHost(t *testing.T) {
	j := func(v string) func(*vigil.Exchange) {
		return body("application/json", `{"callback_url":"`+v+`"}`)
	}
	runCases(t, NewSSRF(), "detect.ssrf", []detCase{
		{"circled digits", ex("POST", "https://a.test/hooks", j("http://⑩.⓪.⓪.⑤:8080/admin")), "private address 10.0.0.5 (Unicode"},
		{"circled metadata", ex("POST", "https://a.test/hooks", j("http://⑯⑨.②⑤④.⑯⑨.②⑤④/latest/")), "cloud metadata address 169.254.169.254"},
		{"fullwidth digits and dots", ex("GET", "https://a.test/fetch?u=https%3A%2F%2F%EF%BC%91%EF%BC%99%EF%BC%92%E3%80%82%EF%BC%91%EF%BC%96%EF%BC%98%E3%80%82%EF%BC%91%E3%80%82%EF%BC%91%2F"), "private address 192.168.1.1"},
		{"fullwidth colon port", ex("POST", "https://a.test/hooks", j("http://①②⑦.⓪.⓪.①：６３７９/")), "loopback"},
		{"circled letters", ex("POST", "https://a.test/hooks", j("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/")), "loopback name localhost"},
		{"bare unicode host by name", ex("GET", "https://a.test/probe?host=%E2%91%A0%E2%91%A1%E2%91%A6.%E2%93%AA.%E2%93%AA.%E2%91%A0"), "loopback"},

		{"benign IDN", ex("POST", "https://a.test/hooks", j("https://bücher.example/rss")), ""},
		{"benign circled public", ex("POST", "https://a.test/hooks", j("http://⑧.⑧.⑧.⑧/")), ""},
		{"benign unicode text", ex("POST", "https://a.test/c", body("application/json", `{"comment":"step ① then ② — see ⓐ"}`)), ""},
		{"benign japanese host", ex("POST", "https://a.test/hooks", j("https://例え.テスト/フック")), ""},
	})
}

func TestSSRFWildcardDNS(t *testing.T) {
	q := func(v string) string { return "https://a.test/preview?url=" + v }
	runCases(t, NewSSRF(), "detect.ssrf", []detCase{
		{"prefixed nip", ex("GET", q("http://tenant7.files.10.1.2.3.nip.io/")), "private address 10.1.2.3 via wildcard DNS nip.io"},
		{"prefixed public name nip", ex("GET", q("http://cdn.example.com.169.254.169.254.nip.io/")), "cloud metadata"},
		{"dashed sslip", ex("GET", q("http://app-192-168-0-10.sslip.io/")), "private address 192.168.0.10"},
		{"double dash before a dashed address", ex("GET", q("http://app--10-0-0-1.sslip.io/")), "private address 10.0.0.1"},
		{"hex nip", ex("GET", q("http://svc-7f000001.nip.io:9000/")), "loopback"},
		{"ipv6 sslip", ex("GET", q("http://--1.sslip.io/")), "loopback address ::1"},
		{"traefik.me", ex("GET", q("http://dash.172.16.5.4.traefik.me/")), "private address 172.16.5.4"},
		{"lvh.me subdomain", ex("GET", q("http://admin.lvh.me:8080/")), "loopback name"},
		{"localho.st", ex("GET", q("http://localho.st/")), "loopback name"},

		{"benign public nip", ex("GET", q("http://app.203.0.113.7.nip.io/")), ""},
		{"benign nip without address", ex("GET", q("http://docs.nip.io/")), ""},
		{"benign public hex", ex("GET", q("http://cafe-cb007107.nip.io/")), ""},
		{"benign name ending like a domain", ex("GET", q("http://notlvh.me/")), ""},
	})
}

func TestSSRFHostOverrideHeader(t *testing.T) {
	internal := func(rawURL string, opts ...func(*vigil.Exchange)) *vigil.Exchange {
		return ex("GET", rawURL, opts...)
	}
	runCases(t, NewSSRF(), "detect.ssrf", []detCase{
		{"x-forwarded-host metadata", ex("GET", "https://api.shop.test/v1/health", hdr("X-Forwarded-Host", "169.254.169.254")), "host-override header"},
		{"x-host private", ex("GET", "https://api.shop.test/v1/health", hdr("X-Host", "10.20.0.4:2375")), "private address 10.20.0.4"},
		{"x-original-host loopback", ex("GET", "https://api.shop.test/v1/health", hdr("X-Original-Host", "127.1:9200")), "loopback"},
		{"x-forwarded-host k8s", ex("GET", "https://api.shop.test/v1/", hdr("X-Forwarded-Host", "kubernetes.default.svc")), "internal name"},
		{"metadata even from an internal host", internal("http://10.0.0.8:8080/v1/", hdr("X-Forwarded-Host", "metadata.google.internal")), "cloud metadata host"},

		{"benign public forwarded host", ex("GET", "https://api.shop.test/v1/", hdr("X-Forwarded-Host", "www.shop.test")), ""},
		{"benign dev proxy", internal("http://localhost:3000/api/v1/me", hdr("X-Forwarded-Host", "localhost:3000")), ""},
		{"benign internal balancer", internal("http://10.0.0.8:8080/v1/", hdr("X-Forwarded-Host", "10.0.0.8:8080")), ""},
		{"benign forwarded for", ex("GET", "https://api.shop.test/v1/", hdr("X-Forwarded-For", "10.1.1.1, 127.0.0.1")), ""},
		{"benign real ip", ex("GET", "https://api.shop.test/v1/", hdr("X-Real-Ip", "192.168.1.20")), ""},
		{"benign other header", ex("GET", "https://api.shop.test/v1/", hdr("X-Upstream", "http://127.0.0.1:8080")), ""},
	})
}
