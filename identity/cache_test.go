package identity

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestStringCacheBounded(t *testing.T) {
	c := newStringCache(principalGeneration, maxPrincipalKey)
	const n = 50_000
	for i := range n {
		k := "Bearer token-" + strconv.Itoa(i)
		c.add(k, "p"+strconv.Itoa(i))
	}
	if got, limit := c.len(), 2*cacheShards*principalGeneration; got > limit || got < limit/2 {
		t.Errorf("cache holds %d entries after %d adds, want at most %d (and not far below)", got, n, limit)
	}
	// The most recent keys are still there, with their own values.
	for i := n - 100; i < n; i++ {
		k := "Bearer token-" + strconv.Itoa(i)
		if v, ok := c.get(k); !ok || v != "p"+strconv.Itoa(i) {
			t.Fatalf("get(%q) = %q, %v; want %q", k, v, ok, "p"+strconv.Itoa(i))
		}
	}
	if _, ok := c.get("Bearer token-0"); ok {
		t.Error("the oldest key survived 50,000 newer ones")
	}
	long := strings.Repeat("x", maxPrincipalKey+1)
	c.add(long, "p")
	if _, ok := c.get(long); ok {
		t.Error("a key over the cap was cached")
	}
}

// TestStringCachePromotes: a key used again survives rotations that drop
// keys not used since.
func TestStringCachePromotes(t *testing.T) {
	c := newStringCache(4, 64)
	c.add("hot", "h")
	for i := range 10 * cacheShards * 4 {
		c.add("cold-"+strconv.Itoa(i), "c")
		if _, ok := c.get("hot"); !ok {
			t.Fatalf("hot key lost after %d other keys", i+1)
		}
	}
}

// TestResolveCached: resolving again (from the caches) gives what the first,
// uncached resolution gave, for every kind of credential and User-Agent.
func TestResolveCached(t *testing.T) {
	auths := []string{
		"Bearer " + signed(t, jwt.MapClaims{"sub": "17"}),
		"Bearer " + unsigned(t, jwt.MapClaims{"sub": 42}),
		"Bearer " + signed(t, jwt.MapClaims{"role": "x"}),
		"Bearer eyJ.eyJ.x", "Bearer opaque", "Basic YWxpY2U6cHc=", "Basic !!", "Token abc", "abc", "  ", "",
		"Bearer " + signed(t, jwt.MapClaims{"sub": "9", "pad": strings.Repeat("p", 3000)}), // over the cache's key cap
	}
	uas := []string{"", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36", "sqlmap/1.8", strings.Repeat("u", 600)}
	r := mustResolver(t, Default())
	for _, auth := range auths {
		for _, ua := range uas {
			h := http.Header{"Authorization": {auth}, "User-Agent": {ua}, "X-Api-Key": {"k-1"}, "Accept": {"*/*"}}
			fresh := mustResolver(t, Default()).Resolve("203.0.113.9:1", h)
			for i := range 3 {
				if got := r.Resolve("203.0.113.9:1", h); got != fresh {
					t.Fatalf("resolution %d of %q/%q = %+v, uncached %+v", i+1, auth, ua, got, fresh)
				}
			}
			if fresh.Fingerprint != Fingerprint(h) || fresh.Fingerprint != referenceFingerprint(h) {
				t.Fatalf("Resolve's fingerprint %q, Fingerprint %q, reference %q", fresh.Fingerprint, Fingerprint(h), referenceFingerprint(h))
			}
		}
	}
}

// referenceFingerprint is Fingerprint as first written (one map lookup and
// one FNV pass per name), to pin that the faster one gives the same value.
func referenceFingerprint(h http.Header) string {
	var set uint64
	for name := range h {
		if volatile[name] {
			continue
		}
		n := newFNV()
		n.writeString(name)
		set += mix(n.sum)
	}
	f := newFNV()
	for i := 0; i < 8; i++ {
		f.writeByte(byte(set >> (8 * i)))
	}
	f.writeByte('|')
	f.writeString(UAFamily(first(h, "User-Agent")))
	for _, name := range [...]string{"Accept", "Accept-Language", "Accept-Encoding"} {
		f.writeByte('|')
		f.writeString(first(h, name))
	}
	s := strconv.FormatUint(f.sum, 16)
	return strings.Repeat("0", 16-len(s)) + s
}

func TestFingerprintMatchesReference(t *testing.T) {
	tests := []http.Header{
		{},
		{"User-Agent": {"curl/8.5.0"}, "Accept": {"*/*"}},
		{"User-Agent": {"Mozilla/5.0 Firefox/133.0"}, "Accept-Language": {"de"}, "Dnt": {"1"}, "Authorization": {"x"}, "X-Custom": {"y"}},
		{"Sec-Ch-Ua": {"a"}, "Sec-Fetch-Mode": {"cors"}, "Cookie": {"a=b"}, "X-Forwarded-For": {"1.2.3.4"}, "Te": {"trailers"}},
	}
	for i, h := range tests {
		if got, want := Fingerprint(h), referenceFingerprint(h); got != want {
			t.Errorf("case %d: Fingerprint = %q, reference %q", i, got, want)
		}
	}
}

func BenchmarkUAFamily(b *testing.B) {
	r := mustResolver(b, Default())
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			UAFamily(ua)
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			r.uaFamily(ua)
		}
	})
}
