package proxy

import (
	"bytes"
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// maxNeutralHold is the most of an error response body Config.NeutralErrors
// holds back to look at; a longer body streams through unchanged.
const maxNeutralHold = 64 << 10

// neutralized is what the client did not get: the upstream's own error
// response, kept for the Exchange.
type neutralized struct {
	header http.Header
	body   []byte
}

// neutralize is the proxy's ModifyResponse when Config.NeutralErrors is on.
// It holds an error response's body (status >= 400, at most maxNeutralHold
// bytes, never an event stream) and, when the body tells too much (see
// verboseError), replaces it with {"error":"<status text>","request_id":"<id>"}.
// A body that is longer than the hold, broken, or encoded other than gzip
// passes through unchanged: the held part, then the rest. It never fails the
// response.
func (p *Proxy) neutralize(res *http.Response) error {
	if res.StatusCode < 400 || res.Body == nil || res.Body == http.NoBody || res.ContentLength == 0 || res.ContentLength > maxNeutralHold {
		return nil
	}
	req := res.Request
	if req == nil || req.Method == http.MethodHead {
		return nil
	}
	cw, ok := req.Context().Value(requestIDKey{}).(*captureWriter)
	if !ok {
		return nil
	}
	if len(res.Trailer) > 0 {
		return nil // trailers come after the body; keep the response as it is
	}
	gz, ok := neutralGzip(res.Header)
	if !ok {
		return nil // a stream, or an encoding Vigil cannot read
	}

	held, complete, err := holdBody(res.Body, res.ContentLength)
	if !complete {
		// Longer than the hold, or the read failed: send what was held and
		// then the rest (or the same failure) as if nothing had happened.
		res.Body = &heldBody{held: held, rest: res.Body, err: err}
		return nil
	}
	_ = res.Body.Close() // read to its end: the connection is reusable

	body, ok := p.neutralFor(cw, res.StatusCode, res.Header, held, gz)
	if !ok {
		res.Body = io.NopCloser(bytes.NewReader(held))
		return nil
	}
	res.ContentLength = int64(len(body))
	res.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// neutralFor decides on an error response's whole body held (gzip-encoded
// when gz): when it tells too much (verboseError) it records the original in
// cw.neutral, rewrites h for the neutral body and returns that body; ok is
// false when the response goes out as it is.
func (p *Proxy) neutralFor(cw *captureWriter, status int, h http.Header, held []byte, gz bool) (body []byte, ok bool) {
	plain := held
	if gz {
		var ok bool
		if plain, ok = gunzipBounded(held, maxNeutralHold); !ok {
			return nil, false
		}
	}
	if !verboseError(plain) {
		return nil, false
	}
	orig := h.Clone()
	if gz {
		// The Exchange keeps the decoded text, so that the detectors can
		// read it; its header must not claim an encoding.
		orig.Del("Content-Encoding")
		orig.Del("Content-Length")
	}
	cw.neutral = &neutralized{header: orig, body: plain}
	p.core.stats.neutralized.Add(1)

	body = neutralBody(status, cw.id)
	h.Del("Content-Encoding")
	h.Del("Etag")
	h.Del("Content-Md5")
	h.Del("Digest")
	h.Del("Content-Range")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(HeaderRequestID, cw.id)
	return body, true
}

// neutralGzip tells whether an error response's body may be looked at for
// Config.NeutralErrors, and whether it is gzip-encoded: not an event stream
// (holding it would stall it), no trailers (they come after the body), and
// an encoding Vigil can read.
func neutralGzip(h http.Header) (gz, ok bool) {
	if ct, _, _ := mime.ParseMediaType(h.Get("Content-Type")); ct == "text/event-stream" {
		return false, false
	}
	if _, trailers := h["Trailer"]; trailers {
		return false, false
	}
	switch ce := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); ce {
	case "", "identity":
		return false, true
	case "gzip", "x-gzip":
		return true, true
	}
	return false, false
}

// neutralBody is {"error":"<status text>","request_id":"<id>"} and a newline.
func neutralBody(status int, id string) []byte {
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	b := make([]byte, 0, 48+len(text)+len(id))
	b = append(b, `{"error":`...)
	b = strconv.AppendQuote(b, text) // status texts and ids are plain ASCII: valid JSON
	b = append(b, `,"request_id":`...)
	b = strconv.AppendQuote(b, id)
	return append(b, "}\n"...)
}

// holdBody reads r to its end if that comes within maxNeutralHold bytes
// (complete), else returns what it read (at most maxNeutralHold+1 bytes) and
// the read error, if any.
func holdBody(r io.Reader, contentLength int64) (held []byte, complete bool, err error) {
	const limit = maxNeutralHold + 1 // one more byte tells a longer body
	size := 4 << 10
	if contentLength > 0 {
		size = int(contentLength) + 1 // + 1: room to see EOF without growing
	}
	buf := make([]byte, 0, min(size, limit))
	for {
		if len(buf) == min(cap(buf), limit) {
			if len(buf) == limit {
				return buf, false, nil
			}
			buf = slices.Grow(buf, min(cap(buf), limit-len(buf)))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, len(buf) <= maxNeutralHold, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
}

// gunzipBounded decodes b when its decoded form is at most limit bytes.
func gunzipBounded(b []byte, limit int) ([]byte, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	if err != nil || len(out) > limit {
		return nil, false
	}
	return out, true
}

// heldBody sends the held bytes, then the rest of the body (or the error
// reading it had met).
type heldBody struct {
	held []byte
	rest io.ReadCloser
	err  error
}

func (b *heldBody) Read(p []byte) (int, error) {
	if len(b.held) > 0 {
		n := copy(p, b.held)
		b.held = b.held[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *heldBody) Close() error { return b.rest.Close() }

// tell is one kind of text that teaches an attacker about the service: a
// cheap anchor searched first, then a pattern that confirms it (nil: the
// anchor is enough).
type tell struct {
	anchor []byte // empty: re runs over the whole body
	re     *regexp.Regexp
}

func tl(anchor string, re *regexp.Regexp) tell { return tell{[]byte(anchor), re} }

// tells is what makes an error body verbose. The stack-trace, SQL and
// debug-page entries are those of detect.Verbose (detect/verbose.go), copied
// rather than imported so that the proxy and the middleware do not pull in
// the detectors' dependencies (OpenAPI, JSON Schema, libinjection); the test
// TestNeutralAgreesWithDetect checks that they stay in step. The rest are the
// proxy's own: more database drivers, file paths with line numbers, and
// validation messages that name internal types, struct fields or the
// properties a schema refuses.
var tells = []tell{
	// Stack traces (from detect.Verbose).
	tl("goroutine ", regexp.MustCompile(`goroutine \d+ \[[a-z ]+\]:`)),
	tl("panic: ", regexp.MustCompile(`panic: .*\n+(goroutine \d+|\S+\.go:\d+)`)),
	tl(".go:", regexp.MustCompile(`\n\s*/\S+\.go:\d+( \+0x[0-9a-f]+)?`)),
	tl(".java:", regexp.MustCompile(`\bat [\w$.<>]+\([\w$]+\.java:\d+\)`)),
	tl("Exception in thread", nil),
	tl("Traceback (most recent call last)", nil),
	tl(", line ", regexp.MustCompile(`File "[^"]+\.py", line \d+`)),
	tl(":line ", regexp.MustCompile(`\bat [\w.<>`+"`"+`]+\(.*\) in .+:line \d+`)),
	tl("Server Error in '/' Application", nil),
	tl("Exception: ", regexp.MustCompile(`System\.[\w.]+Exception: `)),
	tl(".js:", regexp.MustCompile(`\bat .*\(?(/|[A-Za-z]:\\|node:)[^()\s]+\.[cm]?js:\d+:\d+\)?`)),
	tl("at Object.<anonymous>", nil),
	tl("Fatal error", regexp.MustCompile(`Fatal error(</b>)?: .+ on line (<b>)?\d+`)),
	tl("Stack trace:", regexp.MustCompile(`Stack trace:\s*\n?#0 `)),
	tl(".rb:", regexp.MustCompile(`\S+\.rb:\d+:in `+"`")),
	// Stack traces and panics (the proxy's own).
	tl("panic: ", regexp.MustCompile(`\bpanic: (runtime error|assignment to entry in nil map|interface conversion|send on closed channel)`)),
	tl("http: panic serving", nil),
	tl("Caused by: ", regexp.MustCompile(`Caused by: [\w$]+(\.[\w$]+)+`)),
	tl("Exception", regexp.MustCompile(`\b(java|javax|jakarta|org|com)\.[\w$]+(\.[\w$]+)*(Exception|Error)\b`)),
	tl("Error: ", regexp.MustCompile(`\b(TypeError|ReferenceError|SyntaxError|RangeError): .*\n\s+at `)),
	// Database errors (from detect.Verbose).
	tl("SQL logic error", nil),
	tl("syntax error", regexp.MustCompile(`near \\?"[^"\\]*\\?": syntax error`)),
	tl("unrecognized token", regexp.MustCompile(`unrecognized token: \\?"`)),
	tl("SQLITE_ERROR", nil),
	tl("You have an error in your SQL syntax", nil),
	tl("mysql_fetch", nil),
	tl("syntax error at or near", nil),
	tl("pg_query()", nil),
	tl("ORA-", regexp.MustCompile(`\bORA-\d{5}\b`)),
	tl("SQLSTATE[", nil),
	tl("Unclosed quotation mark after the character string", nil),
	// Database errors (the proxy's own).
	tl("syntax error", regexp.MustCompile(`(?i)syntax error,? (at or )?near\b`)),
	tl("SQLSTATE", regexp.MustCompile(`SQLSTATE[\s=:]*[0-9A-Z]{5}\b`)),
	tl("sqlite3", regexp.MustCompile(`\bsqlite3[.:]`)),
	tl("no such ", regexp.MustCompile(`\bno such (table|column): \w`)),
	tl("unterminated quoted string", nil),
	tl("pq: ", regexp.MustCompile(`(^|[^\w.])pq: \S`)),
	tl("does not exist", regexp.MustCompile(`\b(relation|column|table) "[^"]+" does not exist`)),
	tl("violates ", regexp.MustCompile(`violates (unique|foreign key|not-null|check) constraint`)),
	tl("Incorrect syntax near", nil),
	tl("ERROR 1064", nil),
	tl("SQLException", nil),
	tl("SQLGrammarException", nil),
	tl("org.hibernate.", nil),
	tl("SequelizeDatabaseError", nil),
	tl("MongoServerError", nil),
	tl("psycopg2.", nil),
	tl("OperationalError", regexp.MustCompile(`\b(sqlite3|psycopg2|MySQLdb|pymysql|django\.db|sqlalchemy\.exc)\.\w*Error\b`)),
	// Framework debug pages and banners.
	tl("Werkzeug Debugger", nil),
	tl("DEBUG = True", nil),
	tl("Django Version:", nil),
	tl("Whitelabel Error Page", nil),
	tl("Action Controller: Exception caught", nil),
	tl("Whoops! There was an error", nil),
	tl("Illuminate\\", regexp.MustCompile(`Illuminate\\{1,2}[A-Z]\w+`)),
	tl("Symfony", regexp.MustCompile(`Symfony\\{1,2}Component|Symfony Exception|symfony/error-handler`)),
	// File system paths with line numbers.
	tl("", regexp.MustCompile(`(/|[A-Za-z]:\\)([\w.@-]+[/\\])+[\w.@-]+\.\w{1,6}(", line \d+| on line \d+|:line \d+)`)),
	tl("", regexp.MustCompile(`(^|[\s"'(=])(/|[A-Za-z]:\\)([\w.@-]+[/\\])+[\w.@-]+\.(go|py|rb|php|java|kt|scala|js|mjs|cjs|ts|cs|vb|c|cc|cpp|h|rs|ex|exs|erl|pl|lua|swift):\d+`)),
	// Validation messages that name internal types, struct fields, or the
	// properties a schema refuses (feedback for mass-assignment probing).
	tl("json: ", regexp.MustCompile(`json: (cannot unmarshal|unknown field|invalid use of ,string)`)),
	tl("Go struct field", nil),
	tl("Go value of type", nil),
	tl("nknown ", regexp.MustCompile(`[Uu]nknown (fields?|propert(y|ies))\b`)),
	tl("nrecognized ", regexp.MustCompile(`[Uu]nrecognized (fields?|propert(y|ies))\b`)),
	tl("not marked as ignorable", nil),
	tl("Cannot deserialize", nil),
	tl("Cannot construct instance of", nil),
	tl("JSON parse error", nil),
	tl(" is not allowed", regexp.MustCompile(`\\?["'\x60]\w[\w.\[\]]*\\?["'\x60] is not allowed`)),
	tl("unpermitted parameter", nil),
	tl("xtra fields not permitted", nil),
	tl("xtra inputs are not permitted", nil),
	tl("extra_forbidden", nil),
	tl("was unexpected", regexp.MustCompile(`["']\w+["'] was unexpected`)),
	tl("dditional propert", regexp.MustCompile(`[Aa]dditional propert(y|ies) .{0,80}(not allowed|unexpected|not permitted)`)),
	tl("_error.", regexp.MustCompile(`"type":\s*"(value_error|type_error)\.`)),
	tl("expected ", regexp.MustCompile(`\bexpected [\w ]{1,40} at (position \d+|line \d+ column \d+)`)),
	tl("invalid type: ", regexp.MustCompile(`invalid type: \w+.*, expected `)),
}

// verboseError tells whether an error body tells an attacker too much.
// Plain business messages pass, even when they name a public parameter
// ("quantity must be positive", "email is required", "invalid credentials").
func verboseError(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	for _, t := range tells {
		if len(t.anchor) == 0 {
			// Patterns without a usable anchor: one pass over the body.
			if t.re.Match(b) {
				return true
			}
			continue
		}
		i := bytes.Index(b, t.anchor)
		if i < 0 {
			continue
		}
		if t.re == nil {
			return true
		}
		// The pattern is looked for around the first few occurrences of
		// the anchor, which bounds the work on a body full of them.
		for k := 0; k < 8; k++ {
			lo, hi := max(0, i-512), min(len(b), i+len(t.anchor)+1024)
			if t.re.Match(b[lo:hi]) {
				return true
			}
			next := bytes.Index(b[i+1:], t.anchor)
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
	return false
}
