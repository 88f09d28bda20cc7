package schema

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"net/url"
	"strings"

	"github.com/vigilsec/vigil/internal/pii"
)

// MaxTextScan bounds how much of a value or text body the classifier reads:
// ClassifyValue and ClassifyText look at the first 64 KiB only.
const MaxTextScan = 64 << 10

// ClassifyValue returns the sensitive data classes of one value. key is the
// JSON key or parameter name the value was found under ("" if none); value
// is a string, or the text of a number. Booleans and nulls carry no class
// and are not passed here.
//
// By value alone: e-mail addresses (also inside free text), JWTs, known API
// key prefixes (sk_live_, AKIA…, ghp_, xox…, AIza…), password hashes
// ($2b$…, $argon2…, pbkdf2_sha…), PEM private keys, mod-97 valid IBANs of a
// registered country and length, US SSNs written ###-##-#### with valid
// ranges, E.164 phone numbers ("+" and 10 to 15 digits), private,
// loopback and link-local IP addresses (also as a URL's host), and card
// numbers written in groups ("4111 1111 1111 1111").
//
// With a key hint: card numbers without grouping under a card-like key,
// national phone formats under a phone-like key, plausible identifiers under
// "ssn", "national_id", "tax_id" and similar keys, and non-trivial values
// under password-, secret- and API-key-named keys. Keys that describe a
// value rather than hold it ("password_reset_required", "api_key_id",
// "card_last4", "secret_question") give no hint; keys naming an identifier
// ("order_id", "sku", "tracking") veto card numbers.
//
// Masked values ("**** 1111", "411111******1111", "[REDACTED]") carry no
// class. Only the first MaxTextScan bytes are read.
func ClassifyValue(key, value string) Class {
	return classify(keyHints(key, ""), value, true)
}

// ClassifyText returns the sensitive data classes found in a non-JSON body
// (text, HTML, form or query encoding, logs, .env files): the by-value
// classes of ClassifyValue found in its words, key=value pairs (form
// encoding, percent-decoded) and "key": "value" pairs judged as
// ClassifyValue would, and grouped card numbers. Only the first
// MaxTextScan bytes are read.
func ClassifyText(b []byte) Class {
	if len(b) > MaxTextScan {
		b = b[:MaxTextScan]
	}
	return textClasses(string(b), true)
}

// hint is what a key says about its value, computed once per key.
type hint uint16

const (
	hPhone hint = 1 << iota
	hCard
	hNoCard // the key names an identifier: a card-shaped value is not a card
	hNational
	hAPIKey
	hSecret
	hPassword
	hNoIP // version-like key: "10.1.2.3" is a version
)

// keyHints computes the hints of key, found in an object under parent.
func keyHints(key, parent string) hint {
	if key == "" && parent == "" {
		return 0
	}
	n := pii.NormKey(key)
	var h hint
	meta := metaName(n)
	if pii.IDName(n) {
		h |= hNoCard
	} else if pii.CardName(n) || pii.CardName(pii.NormKey(parent)) {
		h |= hCard
	}
	if !meta && (containsAny(n, "phone", "mobile", "msisdn", "telephone", "whatsapp") || hasWord(key, "tel") || hasWord(key, "fax") || hasWord(key, "cell")) {
		h |= hPhone
	}
	if nationalName(key, n) && !nationalMeta(n) {
		h |= hNational
	}
	if !meta && containsAny(n, "apikey", "apitoken", "accesskey", "authkey", "partnerkey", "clientkey", "licensekey") && !strings.Contains(n, "secretaccesskey") {
		h |= hAPIKey
	}
	if !meta && secretName(n) {
		h |= hSecret
	}
	if !meta && passwordName(n) {
		h |= hPassword
	}
	if containsAny(n, "version", "build", "release") {
		h |= hNoIP
	}
	return h
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func hasSuffixAny(s string, sufs ...string) bool {
	for _, suf := range sufs {
		if strings.HasSuffix(s, suf) {
			return true
		}
	}
	return false
}

// hasWord reports whether key has w (lower case) as a whole word; words are
// split at non-alphanumerics and at lower-to-upper case changes.
func hasWord(key, w string) bool {
	start := -1
	for i := 0; i <= len(key); i++ {
		boundary := i == len(key) || !isAlnum(key[i]) ||
			(i > 0 && isUpper(key[i]) && isLower(key[i-1]))
		if boundary {
			if start >= 0 && strings.EqualFold(key[start:i], w) {
				return true
			}
			start = -1
		}
		if i < len(key) && isAlnum(key[i]) && start < 0 {
			start = i
		}
	}
	return false
}

func isAlnum(c byte) bool { return isDigit(c) || isUpper(c) || isLower(c) }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// metaName: names about a secret rather than holding it (as in the response
// exposure detector, plus a few form-description words).
func metaName(n string) bool {
	return hasSuffixAny(n, "id", "prefix", "last4", "hint", "name", "at", "count", "enabled", "policy", "set",
		"expires", "required", "length", "strength", "changed", "updated", "reset", "url", "type", "label",
		"placeholder", "field", "mode", "rules", "verified", "status", "format", "question", "answer") ||
		strings.HasPrefix(n, "has") || strings.HasPrefix(n, "is") || strings.Contains(n, "passwordless")
}

func secretName(n string) bool {
	if containsAny(n, "question", "santa") {
		return false
	}
	return containsAny(n, "secret", "privatekey", "signingkey", "jwtkey", "encryptionkey", "masterkey", "hmackey")
}

func passwordName(n string) bool {
	return strings.Contains(n, "password") || strings.Contains(n, "passwd") || strings.Contains(n, "passphrase") ||
		n == "pwd" || n == "pass" || strings.HasSuffix(n, "pwd")
}

func nationalName(key, n string) bool {
	return hasWord(key, "ssn") || hasWord(key, "tin") || hasWord(key, "nin") || hasWord(key, "nino") ||
		hasWord(key, "cpf") || containsAny(n, "socialsecurity", "nationalid", "nationalidentifier",
		"nationalinsurance", "taxid", "taxpayerid", "taxnumber", "passportnumber", "passportno", "aadhaar",
		"personalnumber", "personnummer", "idnumber")
}

func nationalMeta(n string) bool {
	return hasSuffixAny(n, "last4", "hint", "verified", "required", "enabled", "type", "country", "status",
		"provided", "present", "set", "policy", "at", "count", "label", "field") ||
		strings.HasPrefix(n, "has") || strings.HasPrefix(n, "is")
}

// classify judges one value; text enables the free-text scan.
func classify(h hint, v string, text bool) Class {
	if len(v) > MaxTextScan {
		v = v[:MaxTextScan]
	}
	v = strings.TrimSpace(v)
	if v == "" || masked(v) {
		return 0
	}
	var c Class
	if h != 0 {
		c |= keyed(h, v)
	}
	c |= shapes(h, v)
	if text && strings.ContainsAny(v, " \t\n\r") {
		c |= textClasses(v, false)
	}
	return c
}

// keyed applies the rules that need a key hint.
func keyed(h hint, v string) Class {
	var c Class
	if h&hPassword != 0 && plausiblePassword(v) {
		c |= Password
	}
	if h&hSecret != 0 && nonTrivial(v, 8) {
		c |= Secret
	}
	if h&hAPIKey != 0 && nonTrivial(v, 16) {
		c |= APIKey
	}
	if h&hNational != 0 && plausibleNationalID(v) {
		c |= NationalID
	}
	if h&hPhone != 0 && phoneShape(v) {
		c |= Phone
	}
	if h&hCard != 0 && h&hNoCard == 0 {
		if _, ok := pii.CardNumber(v); ok {
			c |= Card
		}
	}
	return c
}

// shapes applies the rules that need no key.
func shapes(h hint, v string) Class {
	var c Class
	switch {
	case strings.Contains(v, "-----BEGIN") && strings.Contains(v, "PRIVATE KEY"):
		return Secret
	case pii.CryptHash(v):
		return Password
	}
	if strings.IndexByte(v, ' ') >= 0 {
		// Only grouped card numbers and IBANs contain spaces.
		if h&hNoCard == 0 && grouped(v) {
			if _, ok := pii.CardNumber(v); ok {
				c |= Card
			}
		}
		if isIBAN(v) {
			c |= IBAN
		}
		return c
	}
	switch {
	case strings.IndexByte(v, '@') > 0:
		if isEmail(v) {
			c |= Email
		}
	case strings.HasPrefix(v, "eyJ"):
		if isJWT(v) {
			c |= JWT
		}
	case v[0] == '+':
		if isE164(v) && h&hNoCard == 0 {
			c |= Phone
		}
	case isDigit(v[0]):
		if h&hNoCard == 0 && grouped(v) {
			if _, ok := pii.CardNumber(v); ok {
				c |= Card
			}
		}
		if h&hNational == 0 && h&hNoCard == 0 && isSSN(v) {
			c |= NationalID
		}
	}
	if keyPrefix(v) {
		c |= APIKey
	}
	if len(v) >= 15 && isUpper(v[0]) && isIBAN(v) {
		c |= IBAN
	}
	if h&hNoIP == 0 && privateIP(v) {
		c |= PrivateIP
	}
	return c
}

// masked reports a value hidden by the API: stars, bullets or x over digits,
// or a word saying so.
func masked(v string) bool {
	var seen uint8 // the maskBytes classes of v's bytes
	i := 0
	// Eight bytes a step, without a branch per byte: all of them are in
	// the set when maskIn survives their AND.
	for ; i+8 <= len(v); i += 8 {
		k0, k1, k2, k3 := maskBytes[v[i]], maskBytes[v[i+1]], maskBytes[v[i+2]], maskBytes[v[i+3]]
		k4, k5, k6, k7 := maskBytes[v[i+4]], maskBytes[v[i+5]], maskBytes[v[i+6]], maskBytes[v[i+7]]
		if k0&k1&k2&k3&k4&k5&k6&k7 == 0 {
			seen, i = 0, len(v)+1
			break
		}
		seen |= k0 | k1 | k2 | k3 | k4 | k5 | k6 | k7
	}
	for ; i < len(v); i++ {
		k := maskBytes[v[i]]
		if k == 0 {
			seen = 0
			break
		}
		seen |= k
	}
	// pii.MaskChars checks again what the loop did, and that each of
	// "•"'s bytes is in one: needed only when one of them was seen (long
	// runs of "x" are common in tests and fixtures).
	if seen&maskMark != 0 && (seen&maskBullet == 0 || pii.MaskChars(v)) {
		return true
	}
	if len(v) > 16 || len(v) < 3 {
		return false
	}
	for _, w := range [...]string{"null", "none", "nil", "n/a", "true", "false", "undefined"} {
		if strings.EqualFold(v, w) {
			return true
		}
	}
	var b [16]byte
	l := b[:len(v)]
	for i := range len(v) {
		c := v[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	return bytes.Contains(l, []byte("redacted")) || bytes.Contains(l, []byte("hidden")) || bytes.Contains(l, []byte("masked"))
}

// Classes of bytes in maskBytes: 0 for a byte no masked value has.
const (
	maskIn     = 1 << iota // every byte of the set
	maskMark               // '*', 'x', 'X', and 0xe2, which starts "•"
	maskBullet             // 0xe2, 0x80, 0xa2: the bytes of "•"
)

// maskBytes classifies the bytes of masked values: digits, ' ', '-', and
// the marks.
var maskBytes = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = maskIn
	}
	t[' '], t['-'] = maskIn, maskIn
	t['*'], t['x'], t['X'] = maskIn|maskMark, maskIn|maskMark, maskIn|maskMark
	t[0xe2] = maskIn | maskMark | maskBullet
	t[0x80], t[0xa2] = maskIn|maskBullet, maskIn|maskBullet
	return t
}()

// placeholder reports a value that stands for a secret without being one.
func placeholder(v string) bool {
	l := strings.ToLower(v)
	return containsAny(l, "your", "example", "changeme", "xxxx", "placeholder", "<", "{{", "${", "dummy", "replace") ||
		strings.Trim(v, v[:1]) == ""
}

func plausiblePassword(v string) bool {
	return len(v) >= 4 && len(v) <= 1024 && !placeholder(v) && !strings.ContainsAny(v, "\n")
}

// nonTrivial reports a secret-like value: at least min bytes, one word, not
// a placeholder, not a URL.
func nonTrivial(v string, min int) bool {
	return len(v) >= min && !strings.ContainsAny(v, " \t\n") && !placeholder(v) && !strings.Contains(v, "://")
}

func plausibleNationalID(v string) bool {
	if len(v) < 5 || len(v) > 24 {
		return false
	}
	digits := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isDigit(c):
			digits++
		case isAlnum(c) || c == '-' || c == ' ' || c == '.' || c == '/':
		default:
			return false
		}
	}
	if digits < 4 || strings.Trim(v, v[:1]) == "" {
		return false
	}
	if digits == 9 && (len(v) == 9 || len(v) == 11 && v[3] == '-' && v[6] == '-') {
		return ssnDigits(strings.ReplaceAll(v, "-", "")) // SSN-shaped: SSA ranges apply
	}
	return true
}

// isSSN matches ###-##-#### with valid SSA ranges.
func isSSN(v string) bool {
	if len(v) != 11 || v[3] != '-' || v[6] != '-' {
		return false
	}
	return ssnDigits(v[:3] + v[4:6] + v[7:])
}

func ssnDigits(d string) bool {
	if len(d) != 9 {
		return false
	}
	for i := 0; i < 9; i++ {
		if !isDigit(d[i]) {
			return false
		}
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	switch {
	case area == "000" || area == "666" || area >= "900", group == "00", serial == "0000":
		return false
	case d == "078051120" || d == "219099999" || d == "123456789":
		return false // advertised and sample numbers
	}
	return true
}

// phoneShape matches a phone number under a phone-like key: an optional "+",
// 7 to 15 digits with spaces, dashes, dots or parentheses, not a date.
func phoneShape(v string) bool {
	if len(v) > 24 {
		return false
	}
	digits := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isDigit(c):
			digits++
		case c == '+' && i == 0, c == ' ', c == '-', c == '.', c == '(', c == ')':
		default:
			return false
		}
	}
	if digits < 7 || digits > 15 || isDate(v) {
		return false
	}
	d := strings.Trim(v, "+ -.()")
	return strings.Trim(d, d[:1]+" -.()") != ""
}

// isE164 matches "+" and 10 to 15 digits, the first not 0.
func isE164(v string) bool {
	if len(v) < 11 || len(v) > 16 || v[0] != '+' || v[1] == '0' {
		return false
	}
	for i := 1; i < len(v); i++ {
		if !isDigit(v[i]) {
			return false
		}
	}
	return true
}

// grouped: digits written in card groups (4-4-4-4, 4-6-5 …).
func grouped(v string) bool {
	s, d := strings.Count(v, " "), strings.Count(v, "-")
	return (s == 3 || s == 2 || s == 4) && d == 0 || (d == 3 || d == 2 || d == 4) && s == 0
}

// keyPrefix recognises vendor API keys by their prefix and shape.
func keyPrefix(v string) bool {
	if len(v) < 20 || len(v) > 256 {
		return false
	}
	switch {
	case v[0] == 'A' && (strings.HasPrefix(v, "AKIA") || strings.HasPrefix(v, "ASIA")):
		return len(v) == 20 && strings.Trim(v[4:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
	case strings.HasPrefix(v, "AIza"):
		return len(v) == 39 && randomTail(v[4:])
	case strings.HasPrefix(v, "SG."):
		i := strings.IndexByte(v[3:], '.')
		return i >= 16 && len(v) >= 60 && randomTail(v[3:3+i]) && randomTail(v[4+i:])
	}
	for _, p := range [...]string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
		"github_pat_", "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-", "glpat-", "shpat_", "shpss_", "npm_", "sk-proj-"} {
		if strings.HasPrefix(v, p) {
			return len(v)-len(p) >= 16 && randomTail(v[len(p):])
		}
	}
	if strings.HasPrefix(v, "sk-") {
		return len(v) >= 40 && randomTail(v[3:])
	}
	return false
}

// randomTail: token characters with both letters and digits.
func randomTail(s string) bool {
	letter, digit := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			digit = true
		case isUpper(c) || isLower(c):
			letter = true
		case c == '_' || c == '-':
		default:
			return false
		}
	}
	return letter && digit
}

// isJWT matches header.payload.signature in base64url where the header
// decodes to a JSON object naming "alg" or "typ".
func isJWT(v string) bool {
	if len(v) < 20 || len(v) > 16<<10 || !strings.HasPrefix(v, "eyJ") {
		return false
	}
	i := strings.IndexByte(v, '.')
	if i < 10 || i > 2048 {
		return false
	}
	j := strings.IndexByte(v[i+1:], '.')
	if j < 2 || !strings.HasPrefix(v[i+1:], "eyJ") {
		return false
	}
	j += i + 1
	if strings.IndexByte(v[j+1:], '.') >= 0 {
		return false
	}
	for k := 0; k < len(v); k++ {
		if c := v[k]; !(isAlnum(c) || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	head, err := base64.RawURLEncoding.DecodeString(v[:i])
	if err != nil {
		return false
	}
	h := string(head)
	return strings.HasPrefix(h, "{") && (strings.Contains(h, `"alg"`) || strings.Contains(h, `"typ"`))
}

// isEmail matches local@domain.tld: an atom-ish local part, letter-digit-dash
// labels, a letters-only top-level domain that is not a file extension
// ("icon@2x.png").
func isEmail(v string) bool {
	if len(v) > 254 {
		return false
	}
	at := strings.IndexByte(v, '@')
	if at < 1 || at > 64 {
		return false
	}
	local, domain := v[:at], v[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; !(isAlnum(c) || strings.IndexByte("._%+-'", c) >= 0) {
			return false
		}
	}
	dot := strings.LastIndexByte(domain, '.')
	if dot < 1 {
		return false
	}
	tld := domain[dot+1:]
	if len(tld) < 2 || len(tld) > 24 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isUpper(tld[i]) && !isLower(tld[i]) {
			return false
		}
	}
	switch strings.ToLower(tld) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "css", "map", "pdf", "txt":
		return false
	}
	prev := byte('.')
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		switch {
		case isAlnum(c):
		case c == '-' && prev != '.':
		case c == '.' && prev != '.' && prev != '-':
		default:
			return false
		}
		prev = c
	}
	return true
}

var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// isIBAN matches an upper-case IBAN, compact or in groups of four, of a
// registered country's length, with a valid mod-97 check.
func isIBAN(v string) bool {
	if len(v) < 15 || len(v) > 42 {
		return false
	}
	var b [34]byte
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if n%4 != 0 || n == 0 {
				return false
			}
			continue
		}
		if n == len(b) || !(isDigit(c) || isUpper(c)) {
			return false
		}
		b[n] = c
		n++
	}
	s := b[:n]
	if want, ok := ibanLengths[string(s[:2])]; !ok || want != n || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	rem := 0
	for i := range n {
		c := s[(i+4)%n]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A'+10)) % 97
		}
	}
	return rem == 1
}

// privateIP reports an RFC 1918, loopback, link-local or fc00::/7 address,
// alone, with a port, or as a URL's host.
func privateIP(v string) bool {
	if len(v) < 3 || len(v) > 2048 {
		return false
	}
	if i := strings.Index(v, "://"); i > 0 {
		u, err := url.Parse(v)
		if err != nil {
			return false
		}
		v = u.Hostname()
	} else if !(isHex(v[0]) || v[0] == ':' || v[0] == '[') || len(v) > 64 || strings.IndexAny(v, ".:") < 0 {
		return false
	}
	if !mayParseAddr(v) {
		return false // both parses would fail (and allocate their errors)
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			return false
		}
		a = ap.Addr()
	}
	a = a.Unmap()
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast()
}

// textClasses scans free text: its words, key=value pairs, "key": "value"
// pairs and grouped card numbers. pairs enables the pair rules (they call
// classify on values, which must not scan text again).
func textClasses(s string, pairs bool) Class {
	var c Class
	if strings.Contains(s, "-----BEGIN") && strings.Contains(s, "PRIVATE KEY") {
		c |= Secret
	}
	if _, ok := pii.CardInText(s); ok {
		c |= Card
	}
	if pairs {
		c |= quotedPairs(s)
	}
	for start := 0; start < len(s); {
		end := start
		for end < len(s) && !wordSep(s[end]) {
			end++
		}
		if end > start {
			c |= word(s[start:end], pairs)
		}
		start = end + 1
	}
	return c
}

func wordSep(c byte) bool {
	return c <= ' ' || strings.IndexByte(`,;()<>"'[]{}|\`, c) >= 0
}

// word judges one whitespace-free word of free text.
func word(w string, pairs bool) Class {
	w = strings.TrimLeft(w, ".:!?*")
	w = strings.TrimRight(w, ".:!?*")
	if len(w) < 6 {
		return 0
	}
	if i := strings.IndexByte(w, '='); i >= 0 && pairs {
		var c Class
		for _, kv := range strings.FieldsFunc(w, func(r rune) bool { return r == '&' || r == '?' }) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			if strings.ContainsAny(v, "%+") {
				if u, err := url.QueryUnescape(v); err == nil {
					v = u
				}
			}
			if strings.ContainsAny(k, "%+") {
				if u, err := url.QueryUnescape(k); err == nil {
					k = u
				}
			}
			c |= classify(keyHints(k, ""), v, false)
		}
		return c
	}
	w = strings.TrimPrefix(w, "mailto:")
	return shapes(0, w)
}

// quotedPairs finds "key": "value" and "key": number pairs in text (a
// truncated or broken JSON body).
func quotedPairs(s string) Class {
	var c Class
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], `":`)
		if j < 0 {
			break
		}
		end := i + j
		start := strings.LastIndexByte(s[max(i, end-128):end], '"')
		i = end + 2
		if start < 0 {
			continue
		}
		key := s[max(0, end-128)+start+1 : end]
		k := i
		for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
			k++
		}
		if k >= len(s) {
			break
		}
		var v string
		if s[k] == '"' {
			e := strings.IndexByte(s[k+1:min(len(s), k+1+4096)], '"')
			if e < 0 {
				continue
			}
			v = s[k+1 : k+1+e]
		} else {
			e := k
			for e < len(s) && e-k < 32 && (isDigit(s[e]) || s[e] == '-' || s[e] == '.') {
				e++
			}
			v = s[k:e]
		}
		c |= classify(keyHints(key, ""), v, false)
	}
	return c
}

// mayParseAddr is false when neither netip.ParseAddr nor netip.ParseAddrPort
// can accept s: what comes before a zone ("%eth0") holds a byte that no
// address or port has (an address or port is made of hex digits, dots and
// colons, in brackets for an IPv6 address with a port). FuzzMayParseAddr
// holds it to the parsers.
func mayParseAddr(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			return true
		case isHex(c) || c == '.' || c == ':' || c == '[' || c == ']':
		default:
			return false
		}
	}
	return true
}
