package behavior

import (
	"bytes"
	"hash/maphash"
	"strings"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory"
)

// Limits of what the scanners read from one exchange.
const (
	maxScanBody    = 64 << 10 // request body bytes scanned for code-like keys
	maxScanValues  = 1024     // JSON scalars or form pairs looked at
	maxJSONDepth   = 8
	maxInvalidBody = 4096 // 2xx response bodies longer than this are not read
	maxPathBytes   = 2048 // longer paths are cut before templating
	redacted       = "[REDACTED]"
)

// normKey lower-cases k and drops '_', '-' and '.' into buf, for comparing
// key names without allocating. It returns "" for keys longer than buf.
func normKey[T string | []byte](buf *[32]byte, k T) []byte {
	n := 0
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_' || c == '-' || c == '.':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if n == len(buf) {
			return nil
		}
		buf[n] = c
		n++
	}
	return buf[:n]
}

// isCodeKey reports whether a request key names a secret-like code whose
// values an attacker would guess: coupon, voucher and promo codes, gift
// cards, PINs, OTPs, verification and reset tokens, card security codes.
// Names compare case-insensitively, ignoring '_', '-' and '.'.
func isCodeKey(k []byte) bool {
	var buf [32]byte
	switch string(normKey(&buf, k)) {
	case "code", "coupon", "couponcode", "voucher", "vouchercode", "promo", "promocode", "promotioncode",
		"discountcode", "giftcard", "giftcardcode", "giftcardnumber", "giftcode", "redeemcode", "redemptioncode",
		"claimcode", "pin", "pincode", "otp", "otpcode", "totp", "mfacode", "twofactorcode", "2facode",
		"token", "resettoken", "passwordresettoken", "verificationcode", "verifycode", "confirmationcode",
		"smscode", "activationcode", "accesscode", "passcode", "cvv", "cvc", "securitycode":
		return true
	}
	return false
}

// validityKey reports whether a response key says whether what was sent was
// accepted: {"valid": false}, {"success": false}, ...
func validityKey(k []byte) bool {
	var buf [32]byte
	switch string(normKey(&buf, k)) {
	case "valid", "isvalid", "success", "ok", "applied", "redeemable":
		return true
	}
	return false
}

// bodySaysInvalid reports whether a short 2xx response body says the input
// was not accepted: a key named valid, is_valid, success, ok, applied or
// redeemable set to false, at any depth.
func bodySaysInvalid(b []byte) bool {
	if len(b) == 0 || len(b) > maxInvalidBody {
		return false
	}
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("false"))
		if i < 0 {
			return false
		}
		i += off
		off = i + 5
		// Walk back over `"key" :` to the key.
		j := i - 1
		for j >= 0 && isSpace(b[j]) {
			j--
		}
		if j < 0 || b[j] != ':' {
			continue
		}
		j--
		for j >= 0 && isSpace(b[j]) {
			j--
		}
		if j < 0 || b[j] != '"' {
			continue
		}
		end := j
		start := bytes.LastIndexByte(b[:end], '"')
		if start < 0 {
			continue
		}
		if validityKey(b[start+1 : end]) {
			return true
		}
	}
}

// cutPath cuts a path to maxPathBytes before templating.
func cutPath(p string) string {
	if len(p) > maxPathBytes {
		return p[:maxPathBytes]
	}
	return p
}

// endpointOf is the endpoint of x as findings name it: host, method and
// the template of the cut path.
func endpointOf(x *vigil.Exchange) vigil.Endpoint {
	return vigil.Endpoint{Host: x.Request.Host(), Method: x.Request.Method, Template: inventory.TemplateFor(x, cutPath(x.Request.Path()))}
}

// endpointHash hashes host, method and template, the key of an endpoint's
// state in the detectors that keep per-endpoint state.
func endpointHash(seed maphash.Seed, host, method, tmpl string) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(host)
	h.WriteByte(' ')
	h.WriteString(method)
	h.WriteByte(' ')
	h.WriteString(tmpl)
	return h.Sum64()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonScanner walks JSON and calls fn for every scalar with the name of the
// object key it is under (array elements inherit their array's key). It is
// tolerant: on malformed input it stops, keeping what it found.
type jsonScanner struct {
	jsonCursor
	budget int
}

// scanJSON walks b with a jsonScanner. fn is passed down rather than kept in
// the scanner so that it does not escape: callers' closures stay on the
// stack.
func scanJSON(b []byte, fn func(key, val []byte, str bool)) {
	s := jsonScanner{jsonCursor: jsonCursor{b: b}, budget: maxScanValues}
	s.ws()
	s.value(nil, 0, fn)
}

// jsonCursor is the position in a JSON document that the package's two
// small scanners (jsonScanner here, lister for BOLA's list answers) share,
// with the tokens both read.
type jsonCursor struct {
	b []byte
	i int
}

func (s *jsonCursor) ws() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// colon consumes a ':' and the space around it.
func (s *jsonCursor) colon() bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return false
	}
	s.i++
	s.ws()
	return true
}

func (s *jsonScanner) value(key []byte, depth int, fn func(key, val []byte, str bool)) bool {
	if depth > maxJSONDepth || s.budget <= 0 || s.i >= len(s.b) {
		return false
	}
	s.budget--
	switch s.b[s.i] {
	case '{':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return true
		}
		for {
			s.ws()
			k, ok := s.str()
			if !ok {
				return false
			}
			if !s.colon() {
				return false
			}
			if !s.value(k, depth+1, fn) {
				return false
			}
			if more, ok := s.next('}'); !more {
				return ok
			}
		}
	case '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return true
		}
		for {
			s.ws()
			if !s.value(key, depth+1, fn) {
				return false
			}
			if more, ok := s.next(']'); !more {
				return ok
			}
		}
	case '"':
		v, ok := s.str()
		if ok {
			fn(key, v, true)
		}
		return ok
	default:
		v := s.scalar()
		if len(v) == 0 {
			return false
		}
		fn(key, v, false)
		return true
	}
}

// scalar moves past a bare JSON literal (a number, true, false or null)
// and returns it, empty when there is none.
func (s *jsonCursor) scalar() []byte {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == ',' || c == '}' || c == ']' || isSpace(c) {
			break
		}
		s.i++
	}
	return s.b[start:s.i]
}

// next consumes what follows an object member or array element: ','
// (more follows) or the closing byte end (the object or array is done).
// ok is false for anything else.
func (s *jsonCursor) next(end byte) (more, ok bool) {
	s.ws()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return true, true
	case end:
		s.i++
		return false, true
	}
	return false, false
}

// str reads a string and returns its raw contents (escapes kept).
func (s *jsonCursor) str() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	// Jump from quote to quote (IndexByte is vectorised); a backslash
	// before the quote escapes the byte after it.
	for j := start; j < len(s.b); {
		q := bytes.IndexByte(s.b[j:], '"')
		if q < 0 {
			return nil, false
		}
		if e := bytes.IndexByte(s.b[j:j+q], '\\'); e >= 0 {
			j += e + 2
			continue
		}
		s.i = j + q + 1
		return s.b[start : j+q], true
	}
	return nil, false
}

// scanPairs walks "k=v&k=v" pairs (a query or a form body) and calls fn for
// each, raw (not unescaped).
func scanPairs(q []byte, fn func(key, val []byte)) {
	for n := 0; len(q) > 0 && n < maxScanValues; n++ {
		var pair []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, nil
		}
		k, v, _ := bytes.Cut(pair, []byte("="))
		fn(k, v)
	}
}

// bodyKind says how to read a request body: 'j' JSON, 'f' form, 0 neither.
func bodyKind(r *vigil.Request) byte {
	if len(r.Body) == 0 {
		return 0
	}
	ct := first(r.Header, "Content-Type")
	switch {
	case strings.Contains(ct, "json"):
		return 'j'
	case strings.Contains(ct, "x-www-form-urlencoded"):
		return 'f'
	}
	for _, c := range r.Body {
		if !isSpace(c) {
			if c == '{' {
				return 'j'
			}
			return 0
		}
	}
	return 0
}

// mask keeps the first two characters of a value and replaces the rest with
// '*', cut to maxShownBytes; control characters become '?'.
func mask(s string) string {
	var b strings.Builder
	b.Grow(min(len(s), maxShownBytes))
	kept := 0
	for _, r := range s {
		if b.Len() >= maxShownBytes {
			break
		}
		switch {
		case kept < 2:
			if r < ' ' || r == 0x7f || r == utf8.RuneError {
				r = '?'
			}
			b.WriteRune(r)
			kept++
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}

// cutKey makes a request key fit for evidence: at most 32 bytes, printable.
func cutKey(k []byte) string {
	if len(k) > 32 {
		k = k[:32]
	}
	out := []byte(string(k))
	for i, c := range out {
		if c < ' ' || c >= 0x7f {
			out[i] = '?'
		}
	}
	return string(out)
}
