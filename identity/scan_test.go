package identity

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
)

// refFingerprintSum is fingerprintSum as it was before the header scan: the
// name set summed over nameHash, then one lookup per Accept header.
func refFingerprintSum(h http.Header, family string) uint64 {
	var set uint64
	for name := range h {
		set += nameHash(name)
	}
	f := newFNV()
	for i := 0; i < 8; i++ {
		f.writeByte(byte(set >> (8 * i)))
	}
	f.writeByte('|')
	f.writeString(family)
	for _, name := range [...]string{"Accept", "Accept-Language", "Accept-Encoding"} {
		f.writeByte('|')
		f.writeString(first(h, name))
	}
	return f.sum
}

// refPrincipal is principal without the caches of the principals of
// Authorization values, API keys and session ids.
func refPrincipal(r *Resolver, h http.Header) string {
	if auth := first(h, "Authorization"); auth != "" {
		if p := r.fromAuthorization(auth); p != "" {
			return p
		}
	}
	for _, name := range r.apiKeyHeaders {
		if v := first(h, name); v != "" {
			return "apikey:" + digest(v)
		}
	}
	if len(r.sessionCookies) > 0 {
		if v := r.sessionCookie(h["Cookie"]); v != "" {
			return "session:" + digest(v)
		}
	}
	return ""
}

// refResolve is Resolve through the lookups the header scan replaces, and
// without the caches.
func refResolve(r *Resolver, peer string, h http.Header) vigil.Actor {
	a := vigil.Actor{Principal: refPrincipal(r, h), Fingerprint: hex16(refFingerprintSum(h, UAFamily(first(h, "User-Agent"))))}
	if peer == "" {
		a.Addr = r.addr("", h)
	} else if p, ok := parseAddr(peer); ok {
		a.Addr = p.String()
		if r.clientHeader != "" && r.isTrusted(p) {
			if c := r.fromHeader(h, r.clientHeader); c.IsValid() {
				a.Addr = c.String()
			}
		}
	}
	return a
}

// FuzzScanHeaders: Resolve's one pass over the header names (and its peer
// cache) gives the actor the per-header lookups give, whatever the names,
// their values, the configured API-key headers and the peer.
func FuzzScanHeaders(f *testing.F) {
	f.Add("X-Api-Key", "Authorization", "k1", "Cookie", "session=abc; sid=2", "Accept", "*/*", "127.0.0.1:40312")
	f.Add("Authorization", "Authorization", "Bearer x.y.z", "X-Custom", "1", "User-Agent", "curl/8", "[::1]:80")
	f.Add("Accept", "Api-Key", "", "Api-Key", "v", "Accept-Language", "en", "10.0.0.1:99999")
	f.Add("X-Auth-Token", "X-Auth-Token", "t", "Cookie", "", "Accept-Encoding", "gzip", "1.2.3.4")
	f.Add("x-api-key", "x-api-key", "k", "X-Forwarded-For", "198.51.100.7", "Host", "h", "10.0.0.3:0080")
	f.Add("X-Real-Ip", "X-Forwarded-For", "[1.2.3.4], 10.0.0.9", "X-Forwarded-For", "1.2.3.4:5", "X-Real-Ip", "[::1]", "[1.2.3.4]:80")
	f.Add("X-Key", "X-Key", strings.Repeat("k", maxSecretKey+1), "Cookie", "sid=\"q\"; session="+strings.Repeat("s", maxSecretKey), "", "", "")
	f.Fuzz(func(t *testing.T, apiKey, n1, v1, n2, v2, n3, v3, peer string) {
		cfg := Default()
		if validHeaderName(apiKey) {
			cfg.APIKeyHeaders = []string{"X-Auth-Token", apiKey, "X-Api-Key"}
		}
		cfg.ClientIPHeader = "X-Forwarded-For"
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		r, err := New(cfg)
		if err != nil {
			t.Skip()
		}
		h := http.Header{}
		for _, kv := range [][2]string{{n1, v1}, {n2, v2}, {n3, v3}} {
			if kv[1] == "" && strings.HasPrefix(kv[0], "X") {
				h[kv[0]] = nil // a name without a value
				continue
			}
			h[kv[0]] = append(h[kv[0]], kv[1])
		}
		for _, p := range []string{peer, peer, peer + "1", "10.0.0.1:1", "", "10.0.0.1:1"} { // miss, hit, another port
			want := refResolve(r, p, h)
			if got := r.Resolve(p, h); got != want {
				t.Fatalf("Resolve(%q, %q) = %+v, want %+v", p, h, got, want)
			}
		}
		if got, want := Fingerprint(h), hex16(refFingerprintSum(h, UAFamily(first(h, "User-Agent")))); got != want {
			t.Fatalf("Fingerprint(%q) = %s, want %s", h, got, want)
		}
	})
}

// TestPeerHost: the peer cache is keyed by the ip text only for the peers
// whose address does not depend on the port.
func TestPeerHost(t *testing.T) {
	var x texts
	for _, peer := range []string{
		"127.0.0.1:40312", "127.0.0.1:0", "127.0.0.1:65535", "127.0.0.1:65536", "127.0.0.1:00080", "127.0.0.1:080000",
		"127.0.0.1:", ":80", "127.0.0.1", "[::1]:443", "[::1]", "::1", "[::ffff:10.1.2.3]:8", "[fe80::1%eth0]:9",
		"[1.2.3.4]:80", "::1:80", "1.2.3.4:+80", "1.2.3.4:8_0", "", "[", "[]:1", "a:1", "300.1.1.1:1",
	} {
		for range 2 {
			want, wantOK := parseAddr(peer)
			a, s, ok := x.peer(peer)
			if ok != wantOK || a != want || (ok && s != want.String()) {
				t.Errorf("peer(%q) = %v %q %v, want %v %v", peer, a, s, ok, want, wantOK)
			}
		}
	}
}

// TestResolveManyAPIKeys: beyond withAPIKeys' bound, the API-key headers
// are looked up one by one, with the same precedence.
func TestResolveManyAPIKeys(t *testing.T) {
	cfg := Default()
	cfg.APIKeyHeaders = nil
	for i := range maxInt8 + 2 {
		cfg.APIKeyHeaders = append(cfg.APIKeyHeaders, "X-Key-"+strings.Repeat("k", i+1))
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.names != nil {
		t.Fatal("names built for too many API-key headers")
	}
	h := http.Header{"X-Key-" + strings.Repeat("k", maxInt8+2): {"last"}, "X-Key-kk": {"second"}}
	if got, want := r.Resolve("1.2.3.4:5", h), refResolve(r, "1.2.3.4:5", h); got != want {
		t.Fatalf("Resolve = %+v, want %+v", got, want)
	}
}
