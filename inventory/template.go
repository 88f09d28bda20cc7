// Package inventory learns an API's endpoints from its traffic. This first
// version turns request paths into templates and bounds how many endpoints a
// tracker keeps.
package inventory

import (
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory/schema"
)

// IDSegment replaces a path segment that looks like an identifier.
const IDSegment = "{id}"

// TemplateOf is Template of the exchange's request path, read from the
// exchange when the pipeline has recorded it there (vigil.Exchange's
// SetPathTemplate), and made otherwise.
func TemplateOf(x *vigil.Exchange) string { return TemplateFor(x, x.Request.Path()) }

// TemplateFor is Template(path), read from x when the pipeline has recorded
// the template of that very path there (a path cut short, for one, is
// templated anew).
func TemplateFor(x *vigil.Exchange, path string) string {
	if t, ok := x.PathTemplate(path); ok {
		return t
	}
	return Template(path)
}

// Template returns the path with every segment that looks like an identifier
// replaced by "{id}": "/api/v2/orders/8812/items/3" gives
// "/api/v2/orders/{id}/items/{id}". An empty path gives "/".
//
// A segment is an identifier when it is
//   - a decimal number ("8812");
//   - a UUID, with or without dashes;
//   - a hex string of 8 or more characters with a digit in it (ids, md5,
//     sha1 and sha256 digests: "5f3c9a1e", not "deadbeef" or "facade");
//   - an e-mail address ("user7@shop.test");
//   - an ISO 8601 date, possibly with a time ("2026-03-01", "2026-03-01T10:00:00Z");
//   - a token of 16 or more base64 or base64url characters with letters and
//     digits that change class often ("eyJhbGciOiJIUzI1NiJ9", "k3J9xQ2mZ8pL4wR7");
//   - a business code: one to five letters, an optional '-' or '_', and four
//     or more digits ("GC-1434", "INV2024001"; not "h264").
//
// Words stay: "me", "v2", "api", "orders", "3d-printers", "oauth2", camelCase
// names, and slugs whose words are each letters or digits
// ("black-friday-2026" is a slug, kept: it names a page, not a record).
//
// Template allocates nothing when no segment changes and once otherwise.
// Template(Template(p)) == Template(p), and the result never has more
// segments than p.
func Template(path string) string {
	if path == "" || path == "/" {
		return "/"
	}
	// Find the first segment to replace; most paths have few.
	start, first := 0, -1
	for start <= len(path) {
		end := strings.IndexByte(path[start:], '/')
		if end < 0 {
			end = len(path)
		} else {
			end += start
		}
		if isID(path[start:end]) {
			first = start
			break
		}
		start = end + 1
	}
	if first < 0 {
		return path
	}
	var b strings.Builder
	b.Grow(len(path) + len(IDSegment))
	b.WriteString(path[:first])
	for start := first; start <= len(path); {
		end := strings.IndexByte(path[start:], '/')
		if end < 0 {
			end = len(path)
		} else {
			end += start
		}
		if seg := path[start:end]; isID(seg) {
			b.WriteString(IDSegment)
		} else {
			b.WriteString(seg)
		}
		if end < len(path) {
			b.WriteByte('/')
		}
		start = end + 1
	}
	return b.String()
}

// isID reports whether one path segment looks like an identifier.
func isID(s string) bool {
	if s == "" {
		return false
	}
	// A UUID's dashless form is a hex id.
	return isDecimal(s) || schema.IsUUID(s) || isHexID(s) || isEmail(s) || isDate(s) || isToken(s) || isCode(s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func isDecimal(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexID(s string) bool {
	if len(s) < 8 {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
		digit = digit || isDigit(s[i])
	}
	return digit
}

// isEmail is a cheap shape check: local@domain.tld without spaces.
func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	domain := s[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 || strings.IndexByte(domain, '@') >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// isDate matches YYYY-MM-DD, alone or followed by 'T' and a time.
func isDate(s string) bool {
	if len(s) < 10 || (len(s) > 10 && s[10] != 'T' && s[10] != 't') {
		return false
	}
	for i := 0; i < 10; i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if !isDigit(s[i]) {
			return false
		}
	}
	month := (s[5]-'0')*10 + s[6] - '0'
	day := (s[8]-'0')*10 + s[9] - '0'
	return month >= 1 && month <= 12 && day >= 1 && day <= 31
}

// Character classes for isToken.
const (
	classSep = iota
	classUpper
	classLower
	classDigit
)

// isToken matches long base64/base64url-ish tokens: 16 or more characters of
// the base64 alphabets (plus '.', '~'), with a letter and a digit, and a
// class change (upper, lower, digit) at least every fourth character.
// Separators ('-', '_', '.', '~', '+', '=') reset the class, so slugs of
// words and numbers ("black-friday-2026") and camelCase names without digits
// stay.
func isToken(s string) bool {
	if len(s) < 16 {
		return false
	}
	var letter, digit bool
	changes, alnum, prev := 0, 0, classSep
	for i := 0; i < len(s); i++ {
		c := s[i]
		class := classSep
		switch {
		case 'A' <= c && c <= 'Z':
			class, letter = classUpper, true
		case 'a' <= c && c <= 'z':
			class, letter = classLower, true
		case isDigit(c):
			class, digit = classDigit, true
		case c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '=':
		default:
			return false
		}
		if class != classSep {
			alnum++
			if prev != classSep && prev != class {
				changes++
			}
		}
		prev = class
	}
	return letter && digit && changes*4 >= alnum
}
