package identity

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// jwtVerdict is what the fast JWT reader concluded.
type jwtVerdict int

const (
	jwtUndecided jwtVerdict = iota // an unusual shape: ask golang-jwt
	jwtRejected                    // golang-jwt would reject the token, or find no usable sub
	jwtAccepted                    // sub holds the subject
)

// maxFastJWTSegment bounds a decoded header or claims segment that the fast
// reader decodes on the stack; a larger one goes to golang-jwt.
const maxFastJWTSegment = 2 << 10

// jwtSubFast reads the "sub" claim of an unverified JWT (three segments,
// already checked) the way jwt.Parser.ParseUnverified with subClaim does,
// without its allocations and reflection. It decides only what it can decide
// exactly: the token is rejected when golang-jwt would fail to parse it (bad
// base64, invalid JSON, an "alg" that is missing, not a string or not a
// registered signing method, a number JSON cannot hold), and anything
// unusual (escaped keys or values, a non-object segment, a structured sub,
// a segment over 2 KiB) is left undecided for golang-jwt. Nothing is
// verified: the subject is a claim, not a proof.
func jwtSubFast(tok string) (sub string, v jwtVerdict) {
	head, rest, _ := strings.Cut(tok, ".")
	claims, sig, _ := strings.Cut(rest, ".")
	if !validRawURL(sig) {
		return "", jwtUndecided
	}
	var buf [maxFastJWTSegment]byte
	hb, v := decodeSegment(head, buf[:])
	if v != jwtAccepted {
		return "", v
	}
	alg, v := headerAlg(hb)
	if v != jwtAccepted {
		return "", v
	}
	if jwt.GetSigningMethod(alg) == nil {
		return "", jwtRejected
	}
	cb, v := decodeSegment(claims, buf[:]) // the header is no longer needed
	if v != jwtAccepted {
		return "", v
	}
	return claimSub(cb)
}

// validRawURL says whether s is unpadded base64url without line breaks, the
// only form the fast reader decides on (golang-jwt also skips CR and LF).
func validRawURL(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// decodeSegment decodes one base64url segment into buf, as golang-jwt's
// DecodeSegment does with its defaults.
func decodeSegment(seg string, buf []byte) ([]byte, jwtVerdict) {
	if base64.RawURLEncoding.DecodedLen(len(seg)) > len(buf) {
		return nil, jwtUndecided
	}
	n, err := base64.RawURLEncoding.Decode(buf, []byte(seg))
	if err != nil {
		return nil, jwtRejected
	}
	return buf[:n], jwtAccepted
}

// headerAlg returns the header's last top-level "alg" when it is a plain
// string. golang-jwt decodes the header into a map[string]any, so every
// number in it must fit a float64.
func headerAlg(b []byte) (string, jwtVerdict) {
	if !json.Valid(b) {
		return "", jwtRejected
	}
	s := jsonScan{b: b}
	if !s.objectStart() {
		return "", jwtUndecided
	}
	alg, isString := "", false
	for {
		key, ok := s.member()
		if !ok {
			return "", jwtUndecided
		}
		if key == nil {
			break
		}
		if string(key) == "alg" {
			str, plain := s.plainString()
			if !plain && s.peek() == '"' {
				return "", jwtUndecided // escaped, or invalid UTF-8
			}
			alg, isString = str, plain
			if plain {
				continue
			}
		}
		if !s.skipValue(true) {
			return "", jwtRejected // a number a float64 cannot hold
		}
	}
	if !isString {
		return "", jwtRejected
	}
	return alg, jwtAccepted
}

// claimSub returns the claims' "sub" as subClaim decodes it: the last
// top-level key that equals "sub" ignoring case; a string or a number.
func claimSub(b []byte) (string, jwtVerdict) {
	if !json.Valid(b) {
		return "", jwtRejected
	}
	s := jsonScan{b: b}
	if !s.objectStart() {
		return "", jwtUndecided
	}
	sub, found := "", false
	for {
		key, ok := s.member()
		if !ok {
			return "", jwtUndecided
		}
		if key == nil {
			break
		}
		if len(key) != 3 || !strings.EqualFold(string(key), "sub") {
			s.skipValue(false)
			continue
		}
		switch c := s.peek(); {
		case c == '"':
			str, plain := s.plainString()
			if !plain {
				return "", jwtUndecided // escaped, or invalid UTF-8
			}
			sub, found = str, str != ""
		case c == '-' || '0' <= c && c <= '9':
			lit := s.number()
			f, err := strconv.ParseFloat(string(lit), 64)
			if err != nil {
				return "", jwtRejected // json.Unmarshal fails on it
			}
			sub, found = strconv.FormatFloat(f, 'f', -1, 64), true
		case c == 't' || c == 'f' || c == 'n':
			s.skipValue(false)
			sub, found = "", false
		default:
			return "", jwtUndecided // an object or array
		}
	}
	if !found {
		return "", jwtRejected
	}
	return sub, jwtAccepted
}

// jsonScan walks JSON already checked by json.Valid.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScan) objectStart() bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	return true
}

// member reads the next member's key and its colon: nil at the object's end,
// ok=false for a key with an escape or a byte outside printable ASCII (it
// might fold to "sub", or decode to "alg").
func (s *jsonScan) member() (key []byte, ok bool) {
	if s.peek() == ',' {
		s.i++
	}
	if s.peek() == '}' {
		s.i++
		return nil, true
	}
	start := s.i + 1
	end := start
	for ; s.b[end] != '"'; end++ {
		if c := s.b[end]; c == '\\' || c < 0x20 || c >= 0x7f {
			return nil, false
		}
	}
	s.i = end + 1
	s.peek()
	s.i++ // ':'
	return s.b[start:end], true
}

// plainString reads a string without escapes and in valid UTF-8 (JSON
// would replace invalid bytes); plain=false (nothing read) for another value
// or any other string.
func (s *jsonScan) plainString() (str string, plain bool) {
	if s.peek() != '"' {
		return "", false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			return "", false
		case '"':
			if !utf8.Valid(s.b[s.i+1 : j]) {
				return "", false
			}
			str = string(s.b[s.i+1 : j])
			s.i = j + 1
			return str, true
		}
	}
	return "", false
}

func (s *jsonScan) number() []byte {
	start := s.i
	for s.i < len(s.b) && strings.IndexByte("+-.0123456789eE", s.b[s.i]) >= 0 {
		s.i++
	}
	return s.b[start:s.i]
}

// skipValue skips one value. With checkNumbers it returns false when a
// number in it does not fit a float64.
func (s *jsonScan) skipValue(checkNumbers bool) bool {
	depth := 0
	for {
		switch c := s.peek(); {
		case c == '"':
			j := s.i + 1
			for s.b[j] != '"' {
				if s.b[j] == '\\' {
					j++
				}
				j++
			}
			s.i = j + 1
		case c == '-' || '0' <= c && c <= '9':
			lit := s.number()
			if checkNumbers {
				if _, err := strconv.ParseFloat(string(lit), 64); err != nil {
					return false
				}
			}
		case c == '{' || c == '[':
			depth++
			s.i++
			continue
		case c == '}' || c == ']':
			depth--
			s.i++
		case c == ',' || c == ':':
			s.i++
			continue
		default: // true, false, null
			for s.i < len(s.b) && 'a' <= s.b[s.i] && s.b[s.i] <= 'z' {
				s.i++
			}
		}
		if depth <= 0 {
			return true
		}
	}
}
