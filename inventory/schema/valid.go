package schema

import "encoding/binary"

// maxNesting is encoding/json's nesting limit: json.Valid rejects a document
// with more than this many open arrays and objects.
const maxNesting = 10000

// validJSON is json.Valid, in one pass without the scanner's per-byte state
// function calls: strings are crossed with a table, and only the open
// containers are remembered (a bit each). Like json.Valid it accepts any
// byte of 0x20 and over in a string, valid UTF-8 or not (FuzzValidJSON holds
// it to json.Valid).
func validJSON(s []byte) bool {
	var small [4]uint64 // open containers, 1 = object; deeper in big
	var big []uint64
	depth := 0
	push := func(obj bool) bool {
		if depth >= maxNesting {
			return false
		}
		w, b := depth/64, uint(depth%64)
		var word *uint64
		if w < len(small) {
			word = &small[w]
		} else {
			for len(big) <= w-len(small) {
				big = append(big, 0)
			}
			word = &big[w-len(small)]
		}
		if obj {
			*word |= 1 << b
		} else {
			*word &^= 1 << b
		}
		depth++
		return true
	}
	inObject := func() bool {
		w, b := (depth-1)/64, uint((depth-1)%64)
		if w < len(small) {
			return small[w]&(1<<b) != 0
		}
		return big[w-len(small)]&(1<<b) != 0
	}
	i := skipWS(s, 0)
	for {
		// A value at i.
		if i >= len(s) {
			return false
		}
		switch c := s[i]; {
		case c == '{':
			if !push(true) {
				return false
			}
			i = skipWS(s, i+1)
			if i < len(s) && s[i] == '}' {
				i++
				depth--
				break
			}
			// A key, then the member's value.
			if i = validString(s, i); i < 0 {
				return false
			}
			if i = skipWS(s, i); i >= len(s) || s[i] != ':' {
				return false
			}
			i = skipWS(s, i+1)
			continue
		case c == '[':
			if !push(false) {
				return false
			}
			i = skipWS(s, i+1)
			if i < len(s) && s[i] == ']' {
				i++
				depth--
				break
			}
			continue
		case c == '"':
			if i = validString(s, i); i < 0 {
				return false
			}
		case c == '-' || isDigit(c):
			if i = validNumber(s, i); i < 0 {
				return false
			}
		case c == 't':
			if !hasLit(s, i, "true") {
				return false
			}
			i += 4
		case c == 'f':
			if !hasLit(s, i, "false") {
				return false
			}
			i += 5
		case c == 'n':
			if !hasLit(s, i, "null") {
				return false
			}
			i += 4
		default:
			return false
		}
		// After a value: close containers, or go on to the next element.
		for {
			i = skipWS(s, i)
			if depth == 0 {
				return i == len(s)
			}
			if i >= len(s) {
				return false
			}
			obj := inObject()
			c := s[i]
			if c == ',' {
				i = skipWS(s, i+1)
				if obj {
					if i = validString(s, i); i < 0 {
						return false
					}
					if i = skipWS(s, i); i >= len(s) || s[i] != ':' {
						return false
					}
					i = skipWS(s, i+1)
				}
				break
			}
			if (obj && c == '}') || (!obj && c == ']') {
				i++
				depth--
				continue
			}
			return false
		}
	}
}

func skipWS(s []byte, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func hasLit(s []byte, i int, lit string) bool {
	return len(s)-i >= len(lit) && string(s[i:i+len(lit)]) == lit
}

// strPlain marks the bytes a JSON string holds as they are: not a quote, a
// backslash or a control character.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// specialIn reports whether one of the eight bytes of w is not strPlain: a
// control character (below 0x20), a quote or a backslash. Each test is the
// exact "has a zero byte" (or "has a byte below n") bit trick: no false
// positives or negatives for the word as a whole.
func specialIn(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (w - 0x20*ones) &^ w
	q := w ^ '"'*ones
	quote := (q - ones) &^ q
	bs := w ^ '\\'*ones
	backslash := (bs - ones) &^ bs
	return (below|quote|backslash)&highs != 0
}

// validString checks the string at s[i] and returns the index after its
// closing quote, -1 when it is not a valid string.
func validString(s []byte, i int) int {
	if i >= len(s) || s[i] != '"' {
		return -1
	}
	i++
	for {
		// Eight bytes at a time while none is special (a long value
		// costs a load and a few operations per word), then byte by byte
		// from the word that has one.
		for i+8 <= len(s) && !specialIn(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		for i < len(s) && strPlain[s[i]] {
			i++
		}
		if i >= len(s) {
			return -1
		}
		switch s[i] {
		case '"':
			return i + 1
		case '\\':
			i++
			if i >= len(s) {
				return -1
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(s)-i < 5 {
					return -1
				}
				for _, h := range s[i+1 : i+5] {
					if !isDigit(h) && (h|0x20 < 'a' || h|0x20 > 'f') {
						return -1
					}
				}
				i += 5
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
}

// validNumber checks the number at s[i] and returns the index after it, -1
// when it is not a valid number.
func validNumber(s []byte, i int) int {
	if s[i] == '-' {
		i++
	}
	switch {
	case i >= len(s):
		return -1
	case s[i] == '0':
		i++
	case isDigit(s[i]):
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return -1
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return -1
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i
}
