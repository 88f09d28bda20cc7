// Package pii holds the shape tests for sensitive values that the exposure
// detector (package detect) and the inventory's data classes (package
// inventory/schema) share: card numbers, password hashes, key names.
package pii

import (
	"strings"

	"github.com/vigilsec/vigil/redact"
)

// NormKey lower-cases a name and drops everything but letters and digits,
// reading at most 64 bytes of the result: "Password_Hash", "passwordHash"
// and "password-hash" are all "passwordhash".
func NormKey(k string) string {
	if normal(k) {
		return k // the common case, without an allocation
	}
	var b [64]byte
	return string(NormKeyIn(&b, k))
}

// NormKeyIn is NormKey made in b, without an allocation: the result is b's
// prefix, so it is valid only until b changes. Map lookups written
// m[string(NormKeyIn(&b, k))] allocate nothing either.
func NormKeyIn(b *[64]byte, k string) []byte {
	n := 0
	for i := 0; i < len(k) && n < len(b); i++ {
		c := k[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b[n] = c + 'a' - 'A'
			n++
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b[n] = c
			n++
		}
	}
	return b[:n]
}

// CardName reports whether a key, normalized by NormKey, names a payment
// card number ("card_number", "pan", "creditCard"; not a gift card).
func CardName(n string) bool {
	return strings.Contains(n, "card") && !strings.Contains(n, "gift") || n == "pan" || n == "cc" || n == "ccnumber" ||
		strings.Contains(n, "creditcard")
}

// IDName reports whether a key, normalized by NormKey, names an identifier
// whose digits may pass for a card number (order, tracking, phone, barcode
// numbers), which outweighs a card-like parent or shape.
func IDName(n string) bool {
	for _, s := range [...]string{"id", "ref", "order", "tracking", "phone", "isbn", "ean", "upc", "gtin", "imei", "serial", "barcode", "sku", "timestamp", "ts"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// CardNumber returns the digits of v when they form a card number: 13 to 19
// digits (spaces and dashes allowed between), a known issuer prefix and a
// valid Luhn check digit.
func CardNumber(v string) (string, bool) {
	var b [19]byte
	n := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			if n == len(b) {
				return "", false
			}
			b[n] = c
			n++
		case c == ' ' || c == '-':
		default:
			return "", false
		}
	}
	if n < 13 {
		return "", false
	}
	d := string(b[:n])
	return d, issuer(d) && redact.Luhn(d)
}

// issuer reports a known card issuer prefix: Visa, Mastercard, Amex,
// Discover, JCB, Diners, UnionPay, Maestro, Mir. d holds at least 4 digits.
func issuer(d string) bool {
	if len(d) < 4 {
		return false
	}
	switch {
	case d[0] == '4': // Visa
		return true
	case d[:2] >= "51" && d[:2] <= "55", d[:4] >= "2221" && d[:4] <= "2720": // Mastercard
		return true
	case d[:2] == "34" || d[:2] == "37": // Amex
		return true
	case d[:2] == "35": // JCB
		return true
	case d[:3] >= "300" && d[:3] <= "305" || d[:4] == "3095" || d[:2] == "36" || d[:2] == "38" || d[:2] == "39": // Diners
		return true
	case d[0] == '6', d[:2] == "50", d[:2] >= "56" && d[:2] <= "58": // Discover (6011, 65), UnionPay (62), Maestro (50, 56-69)
		return true
	case d[:4] >= "2200" && d[:4] <= "2204": // Mir
		return true
	}
	return false
}

// CryptHash recognises modular crypt formats: bcrypt, argon2, scrypt,
// sha-crypt, and pbkdf2 (Django's and the $pbkdf2 form).
func CryptHash(v string) bool {
	if len(v) < 20 || (v[0] != '$' && v[0] != 'p') {
		return false
	}
	switch {
	case len(v) == 60 && (strings.HasPrefix(v, "$2a$") || strings.HasPrefix(v, "$2b$") || strings.HasPrefix(v, "$2y$") || strings.HasPrefix(v, "$2x$")):
		return true
	case strings.HasPrefix(v, "$argon2") || strings.HasPrefix(v, "$scrypt$") || strings.HasPrefix(v, "$7$"):
		return true
	case strings.HasPrefix(v, "$5$") || strings.HasPrefix(v, "$6$") || strings.HasPrefix(v, "$1$"):
		return true
	case strings.HasPrefix(v, "$pbkdf2") || strings.HasPrefix(v, "pbkdf2_sha") && strings.Count(v, "$") == 3:
		return true
	}
	return false
}

// normal reports whether k is its own NormKey: at most 64 bytes, all
// lower-case letters and digits.
func normal(k string) bool {
	if len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// MaskChars reports whether v holds nothing but the characters that mask
// a value: '*', '•', 'x', 'X', spaces, '-' and digits. It is
// strings.Trim(v, "*•xX -0123456789") == "" in one pass over the bytes,
// without the rune-by-rune search of a cut set with a non-ASCII rune.
func MaskChars(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '*' || c == 'x' || c == 'X' || c == ' ' || c == '-' || c >= '0' && c <= '9':
		case c == 0xe2 && i+2 < len(v) && v[i+1] == 0x80 && v[i+2] == 0xa2: // "•"
			i += 2
		default:
			return false
		}
	}
	return true
}
