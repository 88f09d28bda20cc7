package schema

import (
	"net/netip"
	"testing"
)

// FuzzMayParseAddr: when mayParseAddr says no, neither parser accepts the
// string, so the shortcut in privateIP and formatsOf changes nothing.
func FuzzMayParseAddr(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.1:80", "[fe80::1%eth0]:80", "fe80::1%eth0", "::ffff:10.0.0.1",
		"[::1]", "2026-01-01T12:00:00Z", "EUR", "1.2.3.4.5", "abc", "[::1]:8080", "1:2:3:4:5:6:7:8", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if mayParseAddr(s) {
			return
		}
		if a, err := netip.ParseAddr(s); err == nil {
			t.Fatalf("mayParseAddr(%q) = false, but ParseAddr gives %v", s, a)
		}
		if ap, err := netip.ParseAddrPort(s); err == nil {
			t.Fatalf("mayParseAddr(%q) = false, but ParseAddrPort gives %v", s, ap)
		}
	})
}
