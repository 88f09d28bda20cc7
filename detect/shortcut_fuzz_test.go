package detect

import (
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/pii"
)

// urlNameRef is urlName as it was written first, one suffix test after
// another: the reference for FuzzURLName.
func urlNameRef(key string) (named, strong bool) {
	n := pii.NormKey(key)
	for _, s := range [...]string{"url", "uri", "host", "hostname", "endpoint", "webhook", "callback"} {
		if strings.HasSuffix(n, s) {
			return true, true
		}
	}
	return urlNames[n] || strings.HasSuffix(n, "redirect"), false
}

// FuzzURLName: urlName, which tests only the suffixes that end in the
// name's last byte, says what urlNameRef says.
func FuzzURLName(f *testing.F) {
	for _, k := range []string{"", "url", "image_url", "Host", "hostName", "x", "redirect_to", "returnTo", "Web-Hook", "note", "product_id", "__", "callBack", "endpoint"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		n1, s1 := urlName(k)
		n2, s2 := urlNameRef(k)
		if n1 != n2 || s1 != s2 {
			t.Errorf("urlName(%q) = %v, %v; want %v, %v", k, n1, s1, n2, s2)
		}
	})
}

// cardRunRef is cardRun one byte at a time, without its skips: the
// reference for FuzzCardRun.
func cardRunRef(b []byte) bool {
	digits := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits++; digits >= 13 {
				return true
			}
		case c == ' ' || c == '-':
		default:
			digits = 0
		}
	}
	return false
}

// FuzzCardRun: cardRun, which looks first at the last byte a run starting
// here would need and skips past it when it cannot be one, says what
// cardRunRef says.
func FuzzCardRun(f *testing.F) {
	for _, s := range []string{"", "4111 1111 1111 1111", "x4111111111111", "4111111111111x", "2026-01-01T12:00:00Z", "Trail running shoes", "12345678901x2345678901234",
		"1-2-3-4-5-6-7-8-9-0-1-2-3", "xxxxxxxxxxxxxxxxxxxx1234567890123", "x 1234 5678 9012 3 y", "123456789012"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := cardRun(b), cardRunRef(b); got != want {
			t.Errorf("cardRun(%q) = %v, want %v", b, got, want)
		}
	})
}
