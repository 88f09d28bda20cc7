package detect

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/pii"
	"github.com/vigilsec/vigil/inventory"
)

// maxEvidence bounds the evidence items of one finding.
const maxEvidence = 5

// maxEvidenceValue bounds an evidence value, in runes.
const maxEvidenceValue = 80

// finding fills the fields every detector's finding shares.
func finding(id string, x *vigil.Exchange, cat vigil.Category, sev vigil.Severity, conf float64, title string, ev []vigil.Evidence) vigil.Finding {
	return vigil.Finding{
		Detector:   id,
		Category:   cat,
		Area:       vigil.AreaChained,
		Severity:   sev,
		Confidence: conf,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint: vigil.Endpoint{
			Host:     x.Request.Host(),
			Method:   x.Request.Method,
			Template: inventory.TemplateOf(x),
		},
		Title:    title,
		Evidence: ev,
	}
}

// shorten returns s cut to maxEvidenceValue runes, control characters
// replaced, as a fresh string (never an alias of a request buffer).
func shorten(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxEvidenceValue-1 && utf8.RuneCountInString(s) > maxEvidenceValue {
			b.WriteRune('…')
			break
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// mask hides a secret: its kind stays visible, its value does not. At most
// the last 4 characters of a long value are kept, as card receipts do.
func mask(s string) string {
	n := utf8.RuneCountInString(s)
	if n < 12 {
		return "[masked " + strconv.Itoa(n) + " chars]"
	}
	r := []rune(s)
	return "[masked " + strconv.Itoa(n) + " chars …" + string(r[n-4:]) + "]"
}

// evidenceValue is what a finding may show of a request value: masked when
// the name says it is a secret, otherwise shortened with embedded tokens and
// card-like digit runs hidden.
func evidenceValue(key, v string) string {
	if secretName(key) || passwordName(key) {
		return mask(v)
	}
	return shorten(scrub(v))
}

// scrub hides JWT-shaped tokens and long digit runs inside a free-text value.
func scrub(s string) string {
	if strings.Contains(s, "eyJ") {
		i := strings.Index(s, "eyJ")
		end := i
		for end < len(s) && (isB64URL(s[end]) || s[end] == '.') {
			end++
		}
		if end-i > 20 {
			s = s[:i] + "[jwt]" + s[end:]
		}
	}
	digits, start := 0, -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if digits == 0 {
				start = i
			}
			digits++
			continue
		}
		if digits >= 13 {
			return s[:start] + "[digits]" + scrub(s[i:])
		}
		digits = 0
	}
	return s
}

func isB64URL(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func passwordName(k string) bool {
	n := pii.NormKey(k)
	return strings.Contains(n, "password") || strings.Contains(n, "passwd") || n == "pwd" || n == "pass" || strings.HasSuffix(n, "pwd")
}

func secretName(k string) bool {
	n := pii.NormKey(k)
	for _, s := range [...]string{"secret", "apikey", "privatekey", "signingkey", "partnerkey", "accesskey", "token"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// endpointKey is an exchange's endpoint as per-endpoint state keys it,
// "METHOD host template" (vigil.Endpoint's String), and its path template.
func endpointKey(x *vigil.Exchange) (key, tmpl string) {
	rq := &x.Request
	tmpl = inventory.TemplateOf(x)
	return vigil.Endpoint{Host: rq.Host(), Method: rq.Method, Template: tmpl}.String(), tmpl
}

// endpointKeyIn is endpointKey's key made in b's room (b is grown when
// short): per-endpoint maps are read with m[string(key)], which allocates
// nothing, and only a new entry copies the key.
func endpointKeyIn(b []byte, x *vigil.Exchange) (key []byte, tmpl string) {
	rq := &x.Request
	tmpl = inventory.TemplateOf(x)
	b = append(b[:0], rq.Method...)
	b = append(b, ' ')
	b = append(b, rq.Host()...)
	return append(b, tmpl...), tmpl
}

// boundedEntryIn returns m's entry for key (in bytes, see endpointKeyIn),
// adding a zero one while m holds fewer than limit entries; nil when key is
// new and m is full. The caller holds the lock guarding m.
func boundedEntryIn[T any](m map[string]*T, key []byte, limit int) *T {
	e := m[string(key)]
	if e == nil && len(m) < limit {
		e = new(T)
		m[string(key)] = e
	}
	return e
}

// headerValue is h.Get(key) for a key written in canonical form, without
// canonicalising it again on every call: Get looks up
// h[textproto.CanonicalMIMEHeaderKey(key)], which for such a key is h[key].
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
