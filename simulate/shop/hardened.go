package shop

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The hardened twin (Options.Hardened): the same routes, spec and response
// shapes with every planted vulnerability fixed. The fixes are small
// branches on app.hardened in the handlers; this file holds what they
// share: the failure rate limiter, the import URL check, the chat reply
// filter and the neutral error recovery. The security headers are sent in
// both modes.

// Rate limits of the hardened shop: failures per key in a fixed window.
// Once a key is over its limit every attempt (a correct password included)
// answers 429 with Retry-After until the window ends.
const (
	limitWindow          = time.Minute
	maxLoginFailsAccount = 5  // wrong passwords per account (by email)
	maxLoginFailsAddress = 50 // wrong passwords per client address (password spraying)
	maxGiftCardMisses    = 20 // unknown gift-card codes per client address (of 10,000)
	maxLimiterKeys       = 10000
)

// limiter counts failures per key in fixed windows. Its table is a fifo of
// at most maxLimiterKeys keys: under a flood of new keys the oldest are
// forgotten, which bounds memory at the cost of a reset for them.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	keys   *fifo[string, *bucket]
	now    func() time.Time
}

type bucket struct {
	start time.Time
	fails int
}

func newLimiter(maxFails int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: maxFails, window: window, keys: newFIFO[string, *bucket](maxLimiterKeys), now: now}
}

// blocked reports whether key is over its limit and, if so, how long until
// its window ends.
func (l *limiter) blocked(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.keys.get(key)
	if !ok {
		return 0, false
	}
	left := b.start.Add(l.window).Sub(l.now())
	if left <= 0 || b.fails < l.max {
		return 0, false
	}
	return left, true
}

// fail records one failure of key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.keys.get(key)
	if !ok || now.Sub(b.start) >= l.window {
		l.keys.put(key, &bucket{start: now, fails: 1})
		return
	}
	b.fails++
}

// reset forgets key's failures (a successful login).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.keys.get(key); ok {
		b.fails = 0
	}
}

// limits are the hardened shop's limiters.
type limits struct {
	loginAccount, loginAddress, giftCards *limiter
}

func newLimits(now func() time.Time) *limits {
	return &limits{
		loginAccount: newLimiter(maxLoginFailsAccount, limitWindow, now),
		loginAddress: newLimiter(maxLoginFailsAddress, limitWindow, now),
		giftCards:    newLimiter(maxGiftCardMisses, limitWindow, now),
	}
}

// tooMany answers 429 with Retry-After (whole seconds, at least 1).
func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second))))
	fail(w, http.StatusTooManyRequests, "too many attempts; retry later")
}

// clientAddr is the address a request came from (the shop trusts no
// forwarding header).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// importRefused says why the hardened shop will not fetch u's host, or ""
// when it would. It refuses loopback, private, link-local (cloud metadata
// at 169.254.169.254), unspecified, multicast and CGNAT addresses and names
// that are not public DNS names. Because the demo shop fetches loopback
// only (see newFetcher), the hardened twin in practice imports nothing.
func importRefused(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		ip = ip.Unmap()
		switch {
		case ip.IsLoopback(), ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(),
			ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
			return "internal address"
		case netip.MustParsePrefix("100.64.0.0/10").Contains(ip), netip.MustParsePrefix("0.0.0.0/8").Contains(ip):
			return "internal address"
		}
		return ""
	}
	switch {
	case h == "localhost", strings.HasSuffix(h, ".localhost"), strings.HasSuffix(h, ".internal"),
		strings.HasSuffix(h, ".local"), h == "metadata", strings.HasPrefix(h, "metadata."), !strings.Contains(h, "."):
		return "internal host name"
	}
	// A public-looking name may still resolve to an internal address; the
	// fetcher's dialer checks the address it connects to (newFetcher), so a
	// name is refused there if not here.
	return ""
}

// leaksPrompt reports whether a support-bot reply repeats its instructions.
func leaksPrompt(reply string) bool {
	l := strings.ToLower(reply)
	for _, marker := range []string{"staff50", "you are shopbot", "internal notes", "my instructions are", "never reveal these instructions", "system prompt"} {
		if strings.Contains(l, marker) {
			return true
		}
	}
	return false
}

// refusal is what the hardened support bot says instead of its
// instructions.
const refusal = "Sorry, I can only help with orders, deliveries, returns and gift cards."

// recoverNeutral is the hardened twin's recovery: a malformed body is a
// plain 400, any other panic a 500 that says nothing of the code.
func recoverNeutral(logger *slog.Logger, next http.Handler) http.Handler {
	return recovering(next, func(w http.ResponseWriter, r *http.Request, v any) {
		if _, ok := v.(malformedJSON); ok {
			fail(w, http.StatusBadRequest, "request body is not valid JSON")
			return
		}
		logger.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		fail(w, http.StatusInternalServerError, "internal error")
	})
}

// securityHeaders sets the headers every API answer carries, in both
// modes: no MIME sniffing, no caching of (authenticated) JSON, no framing
// and nothing loaded by a browser that opens an answer. No CORS header is
// ever sent: browsers on other origins cannot read the API.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
