package schema

import (
	"net/netip"
	"strings"
)

// String formats, as bits of a candidate set; the order is the order of
// preference when several remain.
const (
	fmtEmail uint8 = 1 << iota
	fmtUUID
	fmtDateTime
	fmtDate
	fmtURI
	fmtIPv4
	fmtIPv6
)

var formatNames = [...]string{"email", "uuid", "date-time", "date", "uri", "ipv4", "ipv6"}

// maxFormatLen bounds the strings checked for a format.
const maxFormatLen = 2048

// formatsOf returns the formats s has (at most one today; a set keeps merging
// simple).
func formatsOf(s string) uint8 {
	if len(s) > maxFormatLen {
		return 0
	}
	switch {
	case strings.IndexByte(s, '@') > 0:
		if isEmail(s) {
			return fmtEmail
		}
	case len(s) == 36 && IsUUID(s):
		return fmtUUID
	case len(s) == 10 && isDate(s):
		return fmtDate
	case len(s) > 10 && isDateTime(s):
		return fmtDateTime
	case isURI(s):
		return fmtURI
	case (isHex(s[0]) || s[0] == ':') && mayParseAddr(s):
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			if a.Is4() {
				return fmtIPv4
			}
			return fmtIPv6
		}
	}
	return 0
}

// formatName returns the preferred format of a candidate set, "" for none.
func formatName(m uint8) string {
	for i, n := range formatNames {
		if m&(1<<i) != 0 {
			return n
		}
	}
	return ""
}

func formatBit(name string) (uint8, bool) {
	for i, n := range formatNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// IsUUID matches 8-4-4-4-12 hex digits, either case: the "uuid" format, and
// a UUID path segment for the inventory's templates.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// digits2 parses two decimal digits.
func digits2(s string) (int, bool) {
	if len(s) < 2 || !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// isDate matches an RFC 3339 full-date, YYYY-MM-DD.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	_, ok1 := digits2(s[0:])
	_, ok2 := digits2(s[2:])
	m, ok3 := digits2(s[5:])
	d, ok4 := digits2(s[8:])
	return ok1 && ok2 && ok3 && ok4 && m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// isDateTime matches an RFC 3339 date-time: full-date "T" HH:MM:SS, an
// optional fraction and "Z" or a ±HH:MM offset.
func isDateTime(s string) bool {
	if len(s) < 20 || !isDate(s[:10]) || (s[10] != 'T' && s[10] != 't') {
		return false
	}
	t := s[11:]
	if len(t) < 9 || t[2] != ':' || t[5] != ':' {
		return false
	}
	h, ok1 := digits2(t)
	m, ok2 := digits2(t[3:])
	sec, ok3 := digits2(t[6:])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 {
		return false
	}
	t = t[8:]
	if t[0] == '.' {
		i := 1
		for i < len(t) && isDigit(t[i]) {
			i++
		}
		if i == 1 {
			return false
		}
		t = t[i:]
	}
	switch {
	case t == "Z" || t == "z":
		return true
	case len(t) == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':':
		oh, ok1 := digits2(t[1:])
		om, ok2 := digits2(t[4:])
		return ok1 && ok2 && oh <= 23 && om <= 59
	}
	return false
}

// isURI matches an absolute URI with an authority ("https://…"), or a
// mailto: or urn: URI, without spaces or control characters.
func isURI(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 1 || i > 32 || !(isUpper(s[0]) || isLower(s[0])) {
		return false
	}
	for j := 1; j < i; j++ {
		if c := s[j]; !(isAlnum(c) || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	rest := s[i+1:]
	scheme := strings.ToLower(s[:i])
	switch {
	case strings.HasPrefix(rest, "//") && len(rest) > 2:
	case (scheme == "mailto" || scheme == "urn") && rest != "":
	default:
		return false
	}
	for j := 0; j < len(s); j++ {
		if s[j] <= ' ' || s[j] == 0x7f {
			return false
		}
	}
	return true
}
