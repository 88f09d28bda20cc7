package ingest

import (
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
)

// decodeFast is a hand-written decoder for the traffic format, about five
// times faster than encoding/json. It accepts a strict subset of what the
// canonical decoder (vigil.Exchange.UnmarshalJSON) accepts, the subset Vigil
// and sane converters write: exact-case known keys, no duplicate keys, no
// nulls, valid UTF-8, no surrogate escapes. On anything else it answers
// ok=false and the caller uses the canonical decoder, which also words every
// error. Within the subset it must give exactly the canonical result;
// FuzzDecodeDifferential checks that.
func decodeFast(b []byte) (x *vigil.Exchange, ok bool) {
	d := fastDecoder{b: b}
	if len(b) <= maxSharedLine {
		// One copy of the line backs every unescaped string: one allocation
		// instead of one per string. Longer lines (large bodies) copy each
		// string so that a kept header does not pin the whole line.
		d.s = string(b)
	}
	var w fastExchange
	if !d.exchange(&w) {
		return nil, false
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, false
	}
	return w.build()
}

type fastBody struct {
	headers   http.Header
	body      []byte
	encoding  string
	size      int64
	hasSize   bool
	truncated bool
}

type fastExchange struct {
	id, sensor string
	time       time.Time
	addr       string
	tls        *vigil.TLS
	actor      vigil.Actor
	method     string
	url        string
	proto      string
	req        fastBody
	hasResp    bool
	resp       fastResponse
	durationMS float64
}

type fastResponse struct {
	status int
	proto  string
	body   fastBody
}

// build mirrors vigil's fromWire and decodeBody.
func (w *fastExchange) build() (*vigil.Exchange, bool) {
	if w.method == "" || w.url == "" || w.durationMS < 0 {
		return nil, false
	}
	u, err := url.Parse(w.url)
	if err != nil {
		return nil, false
	}
	// One allocation holds the exchange and its response.
	xr := new(struct {
		x vigil.Exchange
		r vigil.Response
	})
	x := &xr.x
	*x = vigil.Exchange{
		ID:       w.id,
		Time:     w.time,
		Sensor:   w.sensor,
		Client:   vigil.Client{Addr: w.addr, TLS: w.tls},
		Actor:    w.actor,
		Duration: time.Duration(w.durationMS * float64(time.Millisecond)),
		Request:  vigil.Request{Method: w.method, URL: u, Proto: w.proto},
	}
	req := &x.Request
	var ok bool
	if req.Header, req.Body, req.BodySize, req.Truncated, ok = w.req.build(); !ok {
		return nil, false
	}
	if u.Host == "" {
		if host := req.Header.Get("Host"); host != "" {
			u.Host = host
			if u.Scheme == "" {
				u.Scheme = "http"
			}
		}
	}
	if w.hasResp {
		wr := &w.resp
		if wr.status < 100 || wr.status > 999 {
			return nil, false
		}
		r := &xr.r
		*r = vigil.Response{Status: wr.status, Proto: wr.proto}
		if r.Header, r.Body, r.BodySize, r.Truncated, ok = wr.body.build(); !ok {
			return nil, false
		}
		x.Response = r
	}
	return x, true
}

func (w *fastBody) build() (h http.Header, body []byte, size int64, truncated bool, ok bool) {
	switch w.encoding {
	case "":
		body = w.body
		if body == nil {
			body = []byte{} // as []byte("") in the canonical decoder
		}
	case "base64":
		body = make([]byte, base64.StdEncoding.DecodedLen(len(w.body)))
		n, err := base64.StdEncoding.Decode(body, w.body)
		if err != nil {
			return nil, nil, 0, false, false
		}
		body = body[:n]
	default:
		return nil, nil, 0, false, false
	}
	size = int64(len(body))
	if w.hasSize {
		if w.size < -1 {
			return nil, nil, 0, false, false
		}
		size = w.size
	}
	truncated = w.truncated || (size >= 0 && size > int64(len(body)))
	h = w.headers
	if h == nil {
		h = http.Header{}
	}
	return h, body, size, truncated, true
}

// maxSharedLine is the longest line whose strings share one copy of it.
const maxSharedLine = 4 << 10

type fastDecoder struct {
	b    []byte
	s    string // a copy of b, or "" when strings are copied one by one
	i    int
	vals []string // backing array for header values
	tmp  []string // one header's values while they are read
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c.
func (d *fastDecoder) consume(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object walks an object, calling field for each key (already decoded) with
// the decoder positioned at the value. Duplicate keys are refused: each key
// must map to a distinct bit from index.
func (d *fastDecoder) object(index func(key []byte) int, field func(k int) bool) bool {
	if !d.consume('{') {
		return false
	}
	if d.consume('}') {
		return true
	}
	var seen uint32
	for {
		d.ws()
		key, ok := d.rawString()
		if !ok {
			return false
		}
		k := index(key)
		if k < 0 || seen&(1<<k) != 0 {
			return false
		}
		seen |= 1 << k
		if !d.consume(':') {
			return false
		}
		d.ws()
		if !field(k) {
			return false
		}
		if d.consume(',') {
			continue
		}
		return d.consume('}')
	}
}

func lookup(keys []string, key []byte) int {
	for i, k := range keys {
		if k == string(key) {
			return i
		}
	}
	return -1
}

var (
	exchangeKeys = []string{"id", "time", "sensor", "client", "request", "response", "duration_ms", "actor"}
	actorKeys    = []string{"principal", "addr", "fingerprint"}
	clientKeys   = []string{"addr", "tls"}
	tlsKeys      = []string{"version", "cipher_suite", "server_name", "alpn", "fingerprint"}
	requestKeys  = []string{"headers", "body", "body_encoding", "body_size", "truncated", "method", "url", "proto"}
	responseKeys = []string{"headers", "body", "body_encoding", "body_size", "truncated", "status", "proto"}
)

func (d *fastDecoder) exchange(w *fastExchange) bool {
	return d.object(func(k []byte) int { return lookup(exchangeKeys, k) }, func(k int) bool {
		var ok bool
		switch k {
		case 0:
			w.id, ok = d.string()
		case 1:
			ok = d.time(&w.time)
		case 2:
			w.sensor, ok = d.string()
		case 3:
			ok = d.client(w)
		case 4:
			ok = d.object(func(k []byte) int { return lookup(requestKeys, k) }, func(k int) bool {
				switch k {
				case 5:
					w.method, ok = d.string()
				case 6:
					w.url, ok = d.string()
				case 7:
					w.proto, ok = d.string()
				default:
					ok = d.bodyField(k, &w.req)
				}
				return ok
			})
		case 5:
			r := &w.resp
			w.hasResp = true
			ok = d.object(func(k []byte) int { return lookup(responseKeys, k) }, func(k int) bool {
				switch k {
				case 5:
					var n int64
					n, ok = d.int()
					r.status = int(n)
				case 6:
					r.proto, ok = d.string()
				default:
					ok = d.bodyField(k, &r.body)
				}
				return ok
			})
		case 6:
			w.durationMS, ok = d.float()
		case 7:
			ok = d.object(func(k []byte) int { return lookup(actorKeys, k) }, func(k int) bool {
				var ok bool
				switch k {
				case 0:
					w.actor.Principal, ok = d.string()
				case 1:
					w.actor.Addr, ok = d.string()
				case 2:
					w.actor.Fingerprint, ok = d.string()
				}
				return ok
			})
		}
		return ok
	})
}

func (d *fastDecoder) client(w *fastExchange) bool {
	return d.object(func(k []byte) int { return lookup(clientKeys, k) }, func(k int) bool {
		var ok bool
		switch k {
		case 0:
			w.addr, ok = d.string()
		case 1:
			t := &vigil.TLS{}
			w.tls = t
			ok = d.object(func(k []byte) int { return lookup(tlsKeys, k) }, func(k int) bool {
				var ok bool
				switch k {
				case 0:
					t.Version, ok = d.string()
				case 1:
					t.CipherSuite, ok = d.string()
				case 2:
					t.ServerName, ok = d.string()
				case 3:
					t.ALPN, ok = d.string()
				case 4:
					t.Fingerprint, ok = d.string()
				}
				return ok
			})
		}
		return ok
	})
}

// bodyField decodes the keys shared by request and response (indexes 0-4 of
// requestKeys and responseKeys).
func (d *fastDecoder) bodyField(k int, b *fastBody) bool {
	var ok bool
	switch k {
	case 0:
		b.headers, ok = d.headers()
	case 1:
		var raw []byte
		var escaped bool
		if raw, escaped, ok = d.rawStringValue(); ok {
			if escaped {
				b.body = raw // already a fresh buffer
			} else {
				b.body = append(make([]byte, 0, len(raw)), raw...)
			}
		}
	case 2:
		b.encoding, ok = d.string()
	case 3:
		b.size, ok = d.int()
		b.hasSize = ok
	case 4:
		b.truncated, ok = d.bool()
	}
	return ok
}

// headers decodes {"name": "value" | ["v1", ...]} with canonical names. Two
// keys with one canonical name are refused: the canonical decoder merges them
// in map order.
func (d *fastDecoder) headers() (http.Header, bool) {
	if !d.consume('{') {
		return nil, false
	}
	h := http.Header{}
	if d.consume('}') {
		return h, true
	}
	for {
		d.ws()
		name, ok := d.headerName()
		if !ok || !d.consume(':') {
			return nil, false
		}
		d.ws()
		if d.i >= len(d.b) {
			return nil, false
		}
		var vs []string
		switch d.b[d.i] {
		case '"':
			v, ok := d.string()
			if !ok {
				return nil, false
			}
			d.tmp = append(d.tmp[:0], v)
			vs = d.values(d.tmp)
		case '[':
			d.i++
			d.tmp = d.tmp[:0]
			if !d.consume(']') {
				for {
					d.ws()
					v, ok := d.string()
					if !ok {
						return nil, false
					}
					d.tmp = append(d.tmp, v)
					if d.consume(',') {
						continue
					}
					if !d.consume(']') {
						return nil, false
					}
					break
				}
			}
			vs = d.values(d.tmp)
		default:
			return nil, false
		}
		n := len(h)
		if h[name] = vs; len(h) == n {
			return nil, false // a second key with this canonical name
		}
		if d.consume(',') {
			continue
		}
		if !d.consume('}') {
			return nil, false
		}
		return h, true
	}
}

func (d *fastDecoder) string() (string, bool) {
	start := d.i + 1
	raw, escaped, ok := d.rawStringValue()
	if !ok {
		return "", false
	}
	if !escaped && d.s != "" {
		return d.s[start : start+len(raw)], true
	}
	return string(raw), true
}

// headerName decodes a header name to its canonical form, without
// allocating for the common names.
func (d *fastDecoder) headerName() (string, bool) {
	raw, _, ok := d.rawStringValue()
	if !ok {
		return "", false
	}
	if name, ok := commonHeader(raw); ok {
		return name, true
	}
	return textproto.CanonicalMIMEHeaderKey(string(raw)), true
}

// values returns a copy of vs carved from a shared backing array (capacity
// clipped, so an append by a user copies instead of clobbering); nil for
// none, as the canonical decoder gives for [].
func (d *fastDecoder) values(vs []string) []string {
	if len(vs) == 0 {
		return nil
	}
	if cap(d.vals)-len(d.vals) < len(vs) {
		// Eight values fit the headers of most exchanges; more come in
		// larger blocks.
		size := 8
		if d.vals != nil {
			size = 16
		}
		d.vals = make([]string, 0, max(size, len(vs)))
	}
	n := len(d.vals)
	d.vals = append(d.vals, vs...)
	return d.vals[n:len(d.vals):len(d.vals)]
}

// commonHeaderNames are canonical names of common headers, which headerName
// gives without allocating.
var commonHeaderNames = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control", "Connection",
	"Content-Encoding", "Content-Length", "Content-Type", "Cookie", "Date", "Etag", "Host", "Location",
	"Origin", "Referer", "Server", "Set-Cookie", "User-Agent", "Vary", "X-Api-Key", "X-Forwarded-For",
	"X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-Ip", "X-Request-Id", "Transfer-Encoding",
	"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile",
	"Sec-Ch-Ua-Platform", "Upgrade-Insecure-Requests", "If-None-Match", "Last-Modified", "Pragma",
	"Access-Control-Allow-Origin", "Strict-Transport-Security", "X-Content-Type-Options",
}

// commonByLen indexes commonHeaderNames by length.
var commonByLen = func() [32][]string {
	var t [32][]string
	for _, n := range commonHeaderNames {
		t[len(n)] = append(t[len(n)], n)
	}
	return t
}()

// commonHeader returns the canonical common name that raw spells in any
// letter case. The names are letters and hyphens only, so that is exactly
// what textproto.CanonicalMIMEHeaderKey would return.
func commonHeader(raw []byte) (string, bool) {
	if len(raw) >= len(commonByLen) {
		return "", false
	}
next:
	for _, name := range commonByLen[len(raw)] {
		for i := 0; i < len(raw); i++ {
			c, n := raw[i], name[i]
			if c != n && (n == '-' || c|0x20 != n|0x20) {
				continue next
			}
		}
		return name, true
	}
	return "", false
}

// rawString reads a string (for keys) and returns its decoded bytes, which
// may alias the input.
func (d *fastDecoder) rawString() ([]byte, bool) {
	raw, _, ok := d.rawStringValue()
	return raw, ok
}

// rawStringValue reads a JSON string at d.i. Without escapes it returns a
// slice of the input (escaped=false); with escapes a fresh buffer. Invalid
// UTF-8, control characters and \u escapes of surrogates are refused.
//
// One pass finds the closing quote and checks the body, eight bytes at a
// time while none is a quote, a backslash or a control character.
func (d *fastDecoder) rawStringValue() (raw []byte, escaped bool, ok bool) {
	b := d.b
	if d.i >= len(b) || b[d.i] != '"' {
		return nil, false, false
	}
	start := d.i + 1
	i := start
	high := false // a byte >= 0x80 was seen (in or just after the string)
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ '"'*ones
			bs := x ^ '\\'*ones
			// The lowest flagged byte of each test is exact (borrows only
			// flag bytes above it), so the lowest of all is the first
			// special byte.
			special := ((q-ones)&^q | (bs-ones)&^bs | (x-0x20*ones)&^x) & highs
			high = high || x&highs != 0
			if special != 0 {
				i += bits.TrailingZeros64(special) / 8
				break
			}
			i += 8
		}
		if i >= len(b) {
			return nil, false, false
		}
		switch c := b[i]; {
		case c == '"':
			raw = b[start:i]
			if high && !utf8.Valid(raw) {
				return nil, false, false
			}
			d.i = i + 1
			if !escaped {
				return raw, false, true
			}
			out, ok := unescape(raw)
			return out, true, ok
		case c == '\\':
			escaped = true
			i += 2 // the escaped byte is checked by unescape
		case c < 0x20:
			return nil, false, false
		default:
			high = high || c >= 0x80
			i++
		}
	}
}

// Words of eight equal bytes for the SWAR tests in rawStringValue.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func unescape(raw []byte) ([]byte, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(raw) {
				return nil, false
			}
			var r rune
			for _, h := range raw[i+1 : i+5] {
				switch {
				case '0' <= h && h <= '9':
					r = r<<4 | rune(h-'0')
				case 'a' <= h && h <= 'f':
					r = r<<4 | rune(h-'a'+10)
				case 'A' <= h && h <= 'F':
					r = r<<4 | rune(h-'A'+10)
				default:
					return nil, false
				}
			}
			if 0xd800 <= r && r < 0xe000 {
				return nil, false // surrogates: leave them to the canonical decoder
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return nil, false
		}
	}
	return out, true
}

// time decodes an unescaped RFC 3339 string the way encoding/json does: by
// handing the quoted literal to time.Time.UnmarshalJSON.
func (d *fastDecoder) time(t *time.Time) bool {
	start := d.i
	_, escaped, ok := d.rawStringValue()
	if !ok || escaped {
		return false
	}
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

func (d *fastDecoder) bool() (bool, bool) {
	switch {
	case hasLiteral(d.b[d.i:], "true"):
		d.i += 4
		return true, true
	case hasLiteral(d.b[d.i:], "false"):
		d.i += 5
		return false, true
	}
	return false, false
}

func hasLiteral(b []byte, lit string) bool {
	return len(b) >= len(lit) && string(b[:len(lit)]) == lit
}

// number scans a JSON number and says whether it is an integer literal.
func (d *fastDecoder) number() (lit []byte, integer bool, ok bool) {
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return nil, false, false
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false, false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false, false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return b[start:i], integer, true
}

func (d *fastDecoder) int() (int64, bool) {
	lit, integer, ok := d.number()
	if !ok || !integer {
		return 0, false
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	return n, err == nil
}

func (d *fastDecoder) float() (float64, bool) {
	lit, _, ok := d.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	return f, err == nil
}
