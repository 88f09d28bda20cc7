package redact

import "bytes"

// String applies the text rules to s: values of sensitive keys in key=value
// and "key": "value" pairs (also in truncated JSON), "Authorization: …" and
// "Cookie: …" lines, bearer tokens, JWTs and Luhn-valid card numbers.
func (r *Redactor) String(s string) string {
	out, changed := r.text([]byte(s))
	if !changed {
		return s
	}
	return string(out)
}

// Bytes applies the text rules to b and returns b itself when nothing
// changed, otherwise a new slice.
func (r *Redactor) Bytes(b []byte) []byte {
	out, _ := r.text(b)
	return out
}

// text runs every text pass; it returns src itself when nothing changed.
// The passes run in an order that makes the whole idempotent: the masks
// they write contain no digits, no ':' or '=', and no token characters
// after a space.
func (r *Redactor) text(src []byte) ([]byte, bool) {
	// One cheap scan decides which passes can match at all.
	var kv, bearer, jwt bool
	digits := 0
	for _, c := range src {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == ':' || c == '=':
			kv = true
		case c == 'b' || c == 'B':
			bearer = true
		case c == 'J':
			jwt = true
		}
	}
	b, changed := src, false
	var c bool
	if kv {
		b, c = r.keyValues(b)
		changed = changed || c
	}
	if bearer {
		b, c = bearers(b)
		changed = changed || c
	}
	if jwt {
		b, c = jwts(b)
		changed = changed || c
	}
	if digits >= 13 {
		b, c = cards(b)
		changed = changed || c
	}
	return b, changed
}

// editor builds an output lazily: nothing is allocated until the first edit.
type editor struct {
	src  []byte
	out  []byte
	last int // src[last:] is not copied yet
	used bool
}

func (e *editor) replace(from, to int, with string) {
	if !e.used {
		e.out = make([]byte, 0, len(e.src)+16)
		e.used = true
	}
	e.out = append(e.out, e.src[e.last:from]...)
	e.out = append(e.out, with...)
	e.last = to
}

func (e *editor) done() ([]byte, bool) {
	if !e.used {
		return e.src, false
	}
	return append(e.out, e.src[e.last:]...), true
}

func isKeyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// lineKeys are keys whose unquoted value runs to the end of the line
// ("Authorization: Bearer x", "Cookie: a=1; b=2").
func lineKey(key []byte) bool {
	var buf [maxKey]byte
	n, _ := normalizeInto(&buf, key)
	switch string(buf[:n]) {
	case "authorization", "proxyauthorization", "cookie", "setcookie":
		return true
	}
	return false
}

const maxKey = 128

// keyValues masks the value after every sensitive key followed by ':' or '='.
func (r *Redactor) keyValues(src []byte) ([]byte, bool) {
	e := editor{src: src}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != ':' && c != '=' {
			continue
		}
		// The key: key characters just before, optionally quoted, optionally
		// followed by spaces.
		j := i
		for j > 0 && (src[j-1] == ' ' || src[j-1] == '\t') && i-j < 8 {
			j--
		}
		var quote byte
		if j > 0 && (src[j-1] == '"' || src[j-1] == '\'') {
			quote = src[j-1]
			j--
		}
		end := j
		for j > 0 && isKeyChar(src[j-1]) && end-j <= maxKey {
			j--
		}
		if j == end || end-j > maxKey {
			continue
		}
		if quote != 0 && (j == 0 || src[j-1] != quote) {
			continue
		}
		if j < e.last { // inside a value already masked
			continue
		}
		key := src[j:end]
		if !r.sensitiveBytes(key) {
			continue
		}
		// The value.
		k := i + 1
		for k < len(src) && (src[k] == ' ' || src[k] == '\t') && k-i < 8 {
			k++
		}
		if k >= len(src) {
			continue
		}
		if q := src[k]; q == '"' || q == '\'' {
			start := k + 1
			stop := start
			for stop < len(src) && src[stop] != q {
				if src[stop] == '\\' {
					stop++
				}
				stop++
			}
			if stop > len(src) {
				stop = len(src)
			}
			if string(src[start:stop]) == Mask || start == stop {
				i = stop
				continue
			}
			e.replace(start, stop, Mask)
			i = stop
			continue
		}
		if bytes.HasPrefix(src[k:], []byte(Mask)) {
			i = k + len(Mask) - 1
			continue
		}
		stop := k
		if lineKey(key) {
			for stop < len(src) && src[stop] != '\n' && src[stop] != '\r' && src[stop] != '"' && src[stop] != '\'' {
				stop++
			}
		} else {
			for stop < len(src) && !isValueEnd(src[stop]) {
				stop++
			}
		}
		if stop == k || src[k] == '{' || src[k] == '[' {
			continue
		}
		e.replace(k, stop, Mask)
		i = stop - 1
	}
	return e.done()
}

func isValueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '&', ';', ',', '"', '\'', '}', ']', ')', '<', '>':
		return true
	}
	return false
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

// bearers masks the token after "Bearer ": "Bearer abc.def" → "Bearer [REDACTED]".
// To spare prose ("the bearer of bad news") the token must be 8 characters
// or more and hold a non-letter, or be 24 characters or more.
func bearers(src []byte) ([]byte, bool) {
	e := editor{src: src}
	for i := 0; i+7 < len(src); i++ {
		if src[i]|0x20 != 'b' || !equalFold(src[i:i+6], "bearer") {
			continue
		}
		k := i + 6
		sp := k
		for k < len(src) && (src[k] == ' ' || src[k] == '\t') && k-sp < 8 {
			k++
		}
		if k == sp {
			continue
		}
		stop := k
		other := false
		for stop < len(src) && isTokenChar(src[stop]) {
			if c := src[stop] | 0x20; c < 'a' || c > 'z' {
				other = true
			}
			stop++
		}
		n := stop - k
		if n >= 24 || (n >= 8 && other) {
			e.replace(k, stop, Mask)
			i = stop - 1
		}
	}
	return e.done()
}

func equalFold(b []byte, lower string) bool {
	for i := 0; i < len(lower); i++ {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

func isB64URL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// jwts masks JSON Web Tokens: three base64url segments, the first starting
// with "eyJ" (the encoding of `{"`).
func jwts(src []byte) ([]byte, bool) {
	e := editor{src: src}
	for i := 0; i+3 <= len(src); {
		x := bytes.Index(src[i:], []byte("eyJ"))
		if x < 0 {
			break
		}
		start := i + x
		end, ok := jwtEnd(src, start)
		if !ok {
			// Any "eyJ" up to end starts inside the same first segment and
			// fails the same way: skip them, which keeps this linear.
			i = max(end, start+3)
			continue
		}
		e.replace(start, end, Mask)
		i = end
	}
	return e.done()
}

// jwtEnd returns the end of a JWT starting at start, or false and the end
// of the first segment.
func jwtEnd(src []byte, start int) (int, bool) {
	k := start
	seg := func(min int) bool {
		s := k
		for k < len(src) && isB64URL(src[k]) {
			k++
		}
		return k-s >= min
	}
	if !seg(8) || k >= len(src) || src[k] != '.' {
		return k, false
	}
	first := k
	k++
	if !seg(2) || k >= len(src) || src[k] != '.' {
		return first, false
	}
	k++
	seg(0)
	return k, true
}

// cards masks Luhn-valid card numbers of 13 to 19 digits, written together
// or in groups separated by one space or dash ("4242 4242 4242 4242"). A
// card keeps its last four digits ("************4242") unless more digits of
// the same run follow it, where it is masked whole so that the kept digits
// cannot join them into a new number.
func cards(src []byte) ([]byte, bool) {
	e := editor{src: src}
	var groups [][2]int // digit groups of the current run: [start, end)
	for i := 0; i < len(src); {
		if !isDigit(src[i]) {
			i++
			continue
		}
		// Collect a run: digit groups joined by single separators.
		groups = groups[:0]
		k := i
		for {
			s := k
			for k < len(src) && isDigit(src[k]) {
				k++
			}
			groups = append(groups, [2]int{s, k})
			if k+1 < len(src) && (src[k] == ' ' || src[k] == '-') && isDigit(src[k+1]) {
				k++
				continue
			}
			break
		}
		maskRun(&e, src, groups)
		i = k
	}
	return e.done()
}

// maskRun masks the card numbers in one run: the leftmost-longest windows of
// whole groups holding 13 to 19 Luhn-valid digits.
func maskRun(e *editor, src []byte, groups [][2]int) {
	total := 0
	for _, g := range groups {
		total += g[1] - g[0]
	}
	if total < 13 {
		return
	}
	for a := 0; a < len(groups); a++ {
		// The longest window from a with at most 19 digits, then shorter ones.
		n, b := 0, a
		for b < len(groups) && n+groups[b][1]-groups[b][0] <= 19 {
			n += groups[b][1] - groups[b][0]
			b++
		}
		for b--; b >= a && n >= 13; b-- {
			if luhnGroups(src, groups[a:b+1]) {
				keep := b == len(groups)-1
				e.replace(groups[a][0], groups[b][1], cardMask(src, groups[a:b+1], n, keep))
				a = b
				break
			}
			n -= groups[b][1] - groups[b][0]
		}
	}
}

func cardMask(src []byte, groups [][2]int, n int, keep bool) string {
	var buf [19]byte
	for i := range buf[:n] {
		buf[i] = '*'
	}
	if keep {
		// The last four digits, which may span groups.
		j := n
		for gi := len(groups) - 1; gi >= 0 && j > n-4; gi-- {
			for p := groups[gi][1] - 1; p >= groups[gi][0] && j > n-4; p-- {
				j--
				buf[j] = src[p]
			}
		}
	}
	return string(buf[:n])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// luhnGroups checks the Luhn sum of the digits in groups.
func luhnGroups(src []byte, groups [][2]int) bool {
	sum, double := 0, false
	for gi := len(groups) - 1; gi >= 0; gi-- {
		for p := groups[gi][1] - 1; p >= groups[gi][0]; p-- {
			d := int(src[p] - '0')
			if double {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
			double = !double
		}
	}
	return sum%10 == 0
}

// Luhn reports whether the digits of s (spaces and dashes ignored) pass the
// Luhn check and number 13 to 19.
func Luhn(s string) bool {
	sum, n, double := 0, 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if !isDigit(c) {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
		double = !double
	}
	return n >= 13 && n <= 19 && sum%10 == 0
}
