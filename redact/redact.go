// Package redact masks secrets before anything is stored or written:
// credentials in headers, sensitive query, form and JSON fields, bearer
// tokens, JWTs and card numbers. The store calls it on everything it writes,
// so it is the one chokepoint between captured traffic and the disk.
//
// Masking is idempotent (redacting a redacted value changes nothing) and never
// mutates its input. A Redactor is immutable after New and safe for
// concurrent use.
package redact

import (
	"bytes"
	"net/http"
	"strings"
)

// Mask replaces a secret value.
const Mask = "[REDACTED]"

// Redactor masks secrets. The zero value is not usable; call New.
type Redactor struct {
	fields  map[string]bool // extra sensitive field names, normalized
	headers map[string]bool // extra headers masked whole, lower case
}

// Option configures a Redactor.
type Option func(*Redactor)

// WithFields adds field names (JSON keys, form and query parameters,
// key=value pairs in text) whose values are masked. Matching ignores case and
// the characters "-", "_" and ".".
func WithFields(names ...string) Option {
	return func(r *Redactor) {
		for _, n := range names {
			if k := normalize(n); k != "" {
				r.fields[k] = true
			}
		}
	}
}

// WithHeaders adds header names whose values are masked whole (e.g. an
// identity.api_key_headers entry). Matching ignores case.
func WithHeaders(names ...string) Option {
	return func(r *Redactor) {
		for _, n := range names {
			if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
				r.headers[n] = true
			}
		}
	}
}

// New returns a Redactor with the built-in rules plus the options'.
func New(opts ...Option) *Redactor {
	r := &Redactor{fields: map[string]bool{}, headers: map[string]bool{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// sensitiveExact are normalized names that are secrets on their own.
var sensitiveExact = map[string]bool{
	"pwd": true, "pass": true, "token": true, "auth": true, "cookie": true, "setcookie": true,
	"session": true, "sessionid": true, "sid": true, "jwt": true, "otp": true, "pin": true,
	"ssn": true, "pan": true, "bearer": true, "signature": true, "sig": true, "cvn": true,
}

// sensitiveContains are normalized substrings that make a name sensitive.
var sensitiveContains = [][]byte{
	[]byte("password"), []byte("passwd"), []byte("passphrase"), []byte("secret"), []byte("apikey"), []byte("authorization"), []byte("credential"),
	[]byte("privatekey"), []byte("cardnumber"), []byte("creditcard"), []byte("ccnumber"), []byte("cardno"), []byte("securitycode"), []byte("cvv"), []byte("cvc"),
}

// sensitiveSuffixes make a name sensitive when it ends with one of them
// ("access_token", "X-Auth-Token", "csrftoken"; not "max_tokens").
var sensitiveSuffixes = [][]byte{[]byte("token"), []byte("apikey"), []byte("sessionid")}

// normalize lower-cases a field name and drops "-", "_", "." and spaces.
func normalize(name string) string {
	clean := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '-' || c == '_' || c == '.' || c == ' ' || ('A' <= c && c <= 'Z') {
			clean = false
			break
		}
	}
	if clean {
		return name
	}
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// SensitiveField reports whether values of a field (JSON key, form or query
// parameter) with this name are masked.
func (r *Redactor) SensitiveField(name string) bool {
	var buf [maxKey]byte
	n, ok := normalizeInto(&buf, name)
	return ok && r.sensitive(buf[:n])
}

func (r *Redactor) sensitiveBytes(name []byte) bool {
	var buf [maxKey]byte
	n, ok := normalizeInto(&buf, name)
	return ok && r.sensitive(buf[:n])
}

// normalizeInto writes the normalized name into buf; false when it is empty
// or longer than buf.
func normalizeInto[T string | []byte](buf *[maxKey]byte, name T) (int, bool) {
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if n == len(buf) {
			return 0, false
		}
		buf[n] = c
		n++
	}
	return n, n > 0
}

func (r *Redactor) sensitive(n []byte) bool {
	if sensitiveExact[string(n)] || r.fields[string(n)] {
		return true
	}
	for _, s := range sensitiveContains {
		if bytes.Contains(n, s) {
			return true
		}
	}
	for _, s := range sensitiveSuffixes {
		if bytes.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// Header returns a redacted copy of h (nil for nil).
func (r *Redactor) Header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, vs := range h {
		cp := make([]string, len(vs))
		for i, v := range vs {
			cp[i] = r.HeaderValue(name, v)
		}
		out[name] = cp
	}
	return out
}

// HeaderValue redacts one value of the header name: Authorization keeps its
// scheme ("Bearer [REDACTED]"), Cookie and Set-Cookie keep cookie names and
// attributes, API-key and token headers are masked whole, and other headers
// get the text rules (tokens, JWTs, card numbers, key=value secrets).
func (r *Redactor) HeaderValue(name, v string) string {
	lower := strings.ToLower(name)
	switch {
	case lower == "cookie":
		return maskCookies(v)
	case lower == "set-cookie":
		return maskSetCookie(v)
	case strings.Contains(lower, "authorization"):
		return maskAuthorization(v)
	case r.headers[lower] || r.SensitiveField(lower):
		if v == "" {
			return v
		}
		return Mask
	}
	return r.String(v)
}

// maskAuthorization keeps the scheme: "Bearer abc" → "Bearer [REDACTED]".
func maskAuthorization(v string) string {
	t := strings.TrimSpace(v)
	if t == "" {
		return v
	}
	scheme, _, ok := strings.Cut(t, " ")
	if !ok || scheme == Mask || !isToken(scheme) {
		return Mask
	}
	return scheme + " " + Mask
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// maskCookies masks every cookie value: "a=1; b=2" → "a=[REDACTED]; b=[REDACTED]".
func maskCookies(v string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		parts[i] = maskPair(p)
	}
	return strings.Join(parts, ";")
}

// maskSetCookie masks the cookie's value and keeps its attributes.
func maskSetCookie(v string) string {
	first, rest, ok := strings.Cut(v, ";")
	if !ok {
		return maskPair(v)
	}
	return maskPair(first) + ";" + rest
}

func maskPair(p string) string {
	name, val, ok := strings.Cut(p, "=")
	if !ok {
		if strings.TrimSpace(p) == "" {
			return p
		}
		return Mask // a bare value
	}
	if strings.TrimSpace(val) == "" {
		return p
	}
	return name + "=" + Mask
}
