package detect

import (
	"bytes"
	"encoding/xml"
	"io"
	"iter"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/vigilsec/vigil"
)

// Caps on what one request may make the walker do. Requests are hostile: the
// walk must cost at most a small multiple of the captured body.
const (
	// maxLeaves bounds the leaves of one request; what comes after is not
	// looked at (a request with more than this many values is itself odd).
	maxLeaves = 2000
	// maxDepth bounds JSON nesting; deeper documents stop the walk there.
	maxDepth = 32
	// maxParts and maxPartBytes bound a multipart body.
	maxParts     = 64
	maxPartBytes = 64 << 10
	// maxRawBody bounds the raw text body (XML, plain text) handed over as one
	// leaf.
	maxRawBody = 16 << 10
	// maxHeaders bounds the headers looked at.
	maxHeaders = 32
)

// Source says in which part of a request a leaf was found.
type Source uint8

// The sources of leaves.
const (
	SourceQuery     Source = iota + 1 // URL query parameter
	SourcePath                        // URL path segment
	SourceForm                        // application/x-www-form-urlencoded body
	SourceMultipart                   // multipart/form-data field or file name
	SourceJSON                        // JSON body
	SourceHeader                      // selected request header
	SourceBody                        // raw text body (XML, plain text), whole
	SourceCookie                      // a Cookie header's cookie, by name
	SourceXML                         // an XML body's element text or attribute, by name
)

var sourceNames = [...]string{"", "query", "path", "form", "multipart", "body", "header", "body", "cookie", "xml"}

func (s Source) String() string {
	if int(s) >= len(sourceNames) {
		return "source(" + strconv.Itoa(int(s)) + ")"
	}
	return sourceNames[s]
}

// Kind is the type of a leaf's value.
type Kind uint8

// The kinds of leaves.
const (
	KindString Kind = iota // a string (query, form, header values are strings)
	KindNumber             // a JSON number, as written
	KindBool               // a JSON true or false
	KindNull               // a JSON null
	KindKey                // a JSON object key or a parameter name, as a value
	KindRaw                // a whole raw text body (SourceBody)
)

// Leaf is one decoded value of a request, with where it was found.
//
// The walker reuses one Leaf for the whole walk: a Leaf and its Loc are valid
// only until the loop body returns. Value is an ordinary string and may be
// kept.
type Leaf struct {
	Source Source
	Kind   Kind
	// Key is the innermost name: the parameter, form field or header name,
	// or the JSON object key ("" for an array element or a path segment).
	Key   string
	Value string
	// Decoded says Value is the previous leaf's value percent-decoded once
	// more (double encoding is a common evasion).
	Decoded bool

	prefix string  // "query.filter" for JSON found inside a query value
	frames []frame // the JSON path, shared with the walker
	index  int     // path segment index

	pre     prefilter // the prefilters Value passes, once preDone
	preDone bool
}

// prefilter is a set of the request detectors' cheap pre-tests: each is
// "the value holds one of these bytes". Leaf.passes answers them all from
// one pass over the value, made at most once per leaf, instead of one scan
// of the value per detector.
type prefilter uint8

// The pre-tests, and the bytes each asks for one of.
const (
	// preSQL: a value made only of letters, digits and "_.@-" (ids, names,
	// emails, dates) cannot hold a SQL injection, and most API values are
	// of that shape.
	preSQL prefilter = 1 << iota
	// preXSS: without one of "<>\"'`=:&" a value can open no tag,
	// attribute or script URL (a character reference, "&colon;", can
	// spell the URL's colon).
	preXSS
	// preOther: without one of ";|&`$\n./\\%{(<X" judgeOther finds
	// nothing: each of its sub-techniques first asks for one of them
	// (command injection ";|&`$\n", traversal "./\\%", JNDI and SSTI
	// "${%(", XXE "<!" or "XInclude"), or for the lead byte of an overlong
	// or replaced character (0xC0, 0xC1, 0xE0, 0xEF: traversal's
	// overlongBytes).
	preOther
)

// prefilters maps each byte to the pre-tests it passes.
var prefilters = func() (t [256]prefilter) {
	for i := range t {
		c := byte(i)
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '@' || c == '-') {
			t[i] |= preSQL
		}
		if strings.IndexByte("<>\"'`=:&", c) >= 0 {
			t[i] |= preXSS
		}
		if strings.IndexByte(";|&`$\n./\\%{(<X", c) >= 0 || c == 0xc0 || c == 0xc1 || c == 0xe0 || c == 0xef {
			t[i] |= preOther
		}
	}
	return t
}()

// prefiltersOf is the set of pre-tests v passes.
func prefiltersOf(v string) prefilter {
	var p0, p1, p2, p3 prefilter // four at a time, independent of each other
	i := 0
	for ; i+4 <= len(v); i += 4 {
		p0 |= prefilters[v[i]]
		p1 |= prefilters[v[i+1]]
		p2 |= prefilters[v[i+2]]
		p3 |= prefilters[v[i+3]]
	}
	for ; i < len(v); i++ {
		p0 |= prefilters[v[i]]
	}
	return p0 | p1 | p2 | p3
}

// repeats says whether the leaf comes from a header or a cookie, which a
// client sends again with each of its requests: the detectors cache their
// verdicts on those values (the headers field of SQLi, XSS and Other).
func (l *Leaf) repeats() bool { return l.Source == SourceHeader || l.Source == SourceCookie }

// passes reports whether Value passes the pre-test p.
func (l *Leaf) passes(p prefilter) bool {
	if !l.preDone {
		l.pre, l.preDone = prefiltersOf(l.Value), true
	}
	return l.pre&p != 0
}

type frame struct {
	key   string
	index int
	array bool
}

// Loc is the leaf's location: "query.q", "path.2", "form.name",
// "multipart.file.filename", "body.user.name", "body.items.3.sku",
// "header.User-Agent".
func (l *Leaf) Loc() string {
	switch {
	case l.Source == SourcePath:
		return "path." + strconv.Itoa(l.index)
	case l.Source == SourceBody:
		return "body"
	case l.Source == SourceJSON || l.prefix != "":
		var b strings.Builder
		if l.prefix != "" {
			b.WriteString(l.prefix)
		} else {
			b.WriteString("body")
		}
		for _, f := range l.frames {
			b.WriteByte('.')
			if f.array {
				b.WriteString(strconv.Itoa(f.index))
			} else {
				b.WriteString(f.key)
			}
		}
		return b.String()
	default:
		return l.Source.String() + "." + l.Key
	}
}

// objectKey is the key of the object holding the leaf when that object is
// the value of a key, "" when it is an element of an array (or the
// document).
func (l *Leaf) objectKey() string {
	if n := len(l.frames); n >= 2 && !l.frames[n-2].array {
		return l.frames[n-2].key
	}
	return ""
}

// Parent is the name of the object holding the leaf's key: for
// {"user":{"$ne":1}} the key leaf "$ne" has parent "user". Array levels are
// skipped. It is "" at the top level and outside JSON.
func (l *Leaf) Parent() string {
	for i := len(l.frames) - 2; i >= 0; i-- {
		if !l.frames[i].array {
			return l.frames[i].key
		}
	}
	return ""
}

// Leaves yields every decoded leaf of a request: query parameters, path
// segments, form and multipart fields (an uploaded SVG, XML or HTML file
// whole), every JSON value and object key at any depth (a truncated body as
// far as it is valid), a raw XML or text body as one leaf and an XML body's
// element texts and attribute values, cookies whose names are no
// credential's, and selected headers. Values carrying percent escapes are
// yielded again decoded once more, twice at most. Credential headers
// (Authorization, API keys, tokens) and credential cookies are never
// yielded. The walk stops at maxLeaves leaves.
func Leaves(r *vigil.Request) iter.Seq[*Leaf] {
	return func(yield func(*Leaf) bool) {
		w := walker{yield: yield}
		w.request(r)
	}
}

// JSONLeaves yields the leaves of a JSON document (e.g. a response body),
// with locations under "body", under the same caps as Leaves.
func JSONLeaves(data []byte) iter.Seq[*Leaf] {
	return jsonLeaves(data, false)
}

// jsonLeaves is JSONLeaves; with borrow, the keys and values that need no
// unescaping are not copied out of data but point into it, which saves an
// allocation and a copy per leaf. A borrowed leaf is valid only while data
// is not changed: the caller must keep none of its strings (nor their
// substrings) beyond the loop body, only values made from them. The merged
// request detectors (shared) walk requests so too.
func jsonLeaves(data []byte, borrow bool) iter.Seq[*Leaf] {
	return func(yield func(*Leaf) bool) {
		w := walker{yield: yield, borrow: borrow}
		if looksJSONBytes(data) {
			w.json(data, "")
		}
	}
}

type walker struct {
	yield  func(*Leaf) bool
	leaf   Leaf
	n      int
	done   bool
	borrow bool // see jsonLeaves
	frames []frame
	buf    []byte
}

// reset readies a walker for another walk, keeping its yield function and
// the room of its buffers.
func (w *walker) reset() {
	*w = walker{yield: w.yield, borrow: w.borrow, frames: w.frames[:0], buf: w.buf[:0]}
}

func (w *walker) request(r *vigil.Request) {
	if r.URL != nil {
		w.path(r.URL.EscapedPath())
		w.query(SourceQuery, "", r.URL.RawQuery)
	}
	w.body(r)
	w.headers(r.Header)
}

// emit yields one leaf and, when its value carries percent escapes, the value
// decoded once more, and once again when that still carries some (a payload
// encoded twice over where no decoding is due, as in a JSON field). It
// returns false once the walk must stop.
func (w *walker) emit(src Source, kind Kind, key, value, prefix string) bool {
	if w.done {
		return false
	}
	if w.n >= maxLeaves {
		w.done = true
		return false
	}
	w.n++
	w.leaf = Leaf{Source: src, Kind: kind, Key: key, Value: value, prefix: prefix, frames: w.frames}
	if !w.yield(&w.leaf) {
		w.done = true
		return false
	}
	if kind == KindString || kind == KindKey {
		for range 2 {
			d, ok := decodeAgain(src, value)
			if !ok || w.n >= maxLeaves {
				break
			}
			w.n++
			w.leaf = Leaf{Source: src, Kind: kind, Key: key, Value: d, Decoded: true, prefix: prefix, frames: w.frames}
			if !w.yield(&w.leaf) {
				w.done = true
				return false
			}
			value = d
		}
	}
	return true
}

func (w *walker) path(escaped string) {
	i := 0
	for seg := range strings.SplitSeq(escaped, "/") {
		if seg == "" {
			continue
		}
		v := seg
		if strings.IndexByte(seg, '%') >= 0 {
			if d, ok := percentDecode(seg); ok {
				v = d
			}
		}
		if w.done || w.n >= maxLeaves {
			w.done = true
			return
		}
		w.n++
		w.leaf = Leaf{Source: SourcePath, Kind: KindString, Value: v, index: i}
		if !w.yield(&w.leaf) {
			w.done = true
			return
		}
		if d, ok := percentDecode(v); ok { // double-encoded segment
			w.n++
			w.leaf = Leaf{Source: SourcePath, Kind: KindString, Value: d, Decoded: true, index: i}
			if !w.yield(&w.leaf) {
				w.done = true
				return
			}
		}
		i++
	}
}

// query walks "a=1&b=2" (a query string or a form body). A value that looks
// like JSON is walked as JSON too. keyPrefix is put before each name.
func (w *walker) query(src Source, keyPrefix, raw string) {
	for raw != "" && !w.done {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k = keyPrefix + formUnescape(k)
		v = formUnescape(v)
		if strings.IndexByte(k, '[') >= 0 || strings.IndexByte(k, '$') >= 0 {
			// user[$ne]=x: the name itself carries the operator.
			if !w.emit(src, KindKey, k, k, "") {
				return
			}
		}
		if !w.emit(src, KindString, k, v, "") {
			return
		}
		if looksJSON(v) {
			w.json([]byte(v), src.String()+"."+k)
		}
	}
}

func (w *walker) body(r *vigil.Request) {
	if len(r.Body) == 0 {
		return
	}
	ct := ""
	if r.Header != nil {
		ct = headerValue(r.Header, "Content-Type")
	}
	switch {
	case hasPrefixFold(ct, "application/x-www-form-urlencoded"):
		w.query(SourceForm, "", string(r.Body))
	case hasPrefixFold(ct, "multipart/form-data"):
		w.multipart(ct, r.Body)
	case looksJSONBytes(r.Body):
		w.json(r.Body, "")
	default:
		if !utf8.Valid(r.Body[:min(len(r.Body), 512)]) {
			return
		}
		b := r.Body[:min(len(r.Body), maxRawBody)]
		if w.emit(SourceBody, KindRaw, "", string(b), "") && looksXML(b) {
			w.xml(b)
		}
	}
}

// looksXML says whether a body starts, after white space, with '<'.
func looksXML(b []byte) bool { return firstByte(b) == '<' }

// xml walks an XML body's element texts and attribute values (xmlValues)
// as values named by the element or attribute: a SOAP or XML API's
// parameters, where an injection hides behind "&apos;". The body stays a
// value of its own too (XXE is judged on the whole).
func (w *walker) xml(b []byte) {
	for name, v := range xmlValues(b) {
		if !w.emit(SourceXML, KindString, name, v, "") {
			return
		}
	}
}

// xmlValues yields an XML document's attribute values and element texts
// (trimmed; white space between elements makes none), each with the local
// name of its attribute or element, character and entity references
// decoded. Nothing is fetched or expanded beyond the predefined and HTML
// entities; the walk ends at the first syntax error.
func xmlValues(b []byte) iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		d := xml.NewDecoder(bytes.NewReader(b))
		d.Strict = false
		d.Entity = xml.HTMLEntity
		name := ""
		for {
			tok, err := d.RawToken()
			if err != nil {
				return
			}
			switch t := tok.(type) {
			case xml.StartElement:
				name = t.Name.Local
				for _, a := range t.Attr {
					if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" && !yield(a.Name.Local, a.Value) {
						return
					}
				}
			case xml.CharData:
				if v := bytes.TrimSpace(t); len(v) > 0 && !yield(name, string(v)) {
					return
				}
			case xml.EndElement:
				// Text after a child's end belongs to its parent, whose
				// name is not kept: it is yielded unnamed, not as the
				// child's.
				name = ""
			}
		}
	}
}

func (w *walker) multipart(ct string, body []byte) {
	_, params, err := mime.ParseMediaType(ct)
	if err != nil || params["boundary"] == "" {
		return
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for range maxParts {
		if w.done {
			return
		}
		p, err := mr.NextRawPart()
		if err != nil {
			return // io.EOF, or the body was truncated or malformed
		}
		name, filename := partNames(p.Header.Get("Content-Disposition"))
		if filename != "" {
			// The raw file name: multipart.Part.FileName strips "../".
			if !w.emit(SourceMultipart, KindString, name+".filename", filename, "") {
				return
			}
		}
		w.buf = w.buf[:0]
		b := bytes.NewBuffer(w.buf)
		_, err = io.Copy(b, io.LimitReader(p, maxPartBytes))
		w.buf = b.Bytes()
		if err != nil && len(w.buf) == 0 {
			return
		}
		pct := p.Header.Get("Content-Type")
		if filename == "" && utf8.Valid(w.buf) {
			if !w.emit(SourceMultipart, KindString, name, string(w.buf), "") {
				return
			}
		}
		if looksJSONBytes(w.buf) && (filename == "" || strings.Contains(strings.ToLower(pct), "json")) {
			w.json(bytes.Clone(w.buf), "multipart."+name)
		}
		if filename != "" && looksXML(w.buf) && utf8.Valid(w.buf) {
			// An uploaded SVG, XML or HTML file is parsed or rendered by
			// the API: XXE and script hide in it. Judged whole, as a body.
			if !w.emit(SourceMultipart, KindRaw, name, string(w.buf[:min(len(w.buf), maxRawBody)]), "") {
				return
			}
		}
		// Other file contents are not walked: they are often binary and a
		// file is not a parameter.
	}
}

func partNames(cd string) (name, filename string) {
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		return "", ""
	}
	return params["name"], params["filename"]
}

// skipHeaders carry credentials or are plumbing; they are never yielded.
var skipHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Content-Type": true,
	"Content-Length": true, "Accept": true, "Accept-Encoding": true, "Accept-Language": true,
	"Connection": true, "Host": true, "Origin": true,
}

// wantHeader says whether a header's value is walked: User-Agent, Referer
// and the X-* headers that carry no credential.
func wantHeader(name string) bool {
	switch name {
	case "User-Agent", "Referer", "X-Forwarded-Host", "X-Api-Version", "X-Forwarded-For", "X-Real-Ip":
		return true
	}
	if skipHeaders[name] || !strings.HasPrefix(name, "X-") {
		return false
	}
	var buf [64]byte
	return !credentialName(lowerPrefix(&buf, name))
}

// credentialWords in a header or cookie name mark a credential.
var credentialWords = [...][]byte{[]byte("key"), []byte("token"), []byte("secret"), []byte("auth"), []byte("signature"),
	[]byte("session"), []byte("cookie"), []byte("password"), []byte("csrf"), []byte("xsrf")}

// credentialName says whether a lower-case name holds a credentialWord.
func credentialName(l []byte) bool {
	for _, s := range credentialWords {
		if bytes.Contains(l, s) {
			return true
		}
	}
	return false
}

// lowerPrefix is name in lower case (ASCII), up to len(buf) bytes of it.
func lowerPrefix(buf *[64]byte, name string) []byte {
	l := buf[:0]
	for i := 0; i < len(name) && i < len(buf); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		l = append(l, c)
	}
	return l
}

func (w *walker) headers(h http.Header) {
	if len(h) == 0 {
		return
	}
	var arr [maxHeaders]string
	names := arr[:0]
	for k := range h {
		if len(names) < maxHeaders && wantHeader(k) {
			names = append(names, k)
		}
	}
	slices.Sort(names) // a deterministic order for evidence
	for _, k := range names {
		for _, v := range h[k] {
			if !w.emit(SourceHeader, KindString, k, v, "") {
				return
			}
			if _, q, ok := strings.Cut(v, "?"); ok && k == "Referer" {
				// The page the request came from carries parameters too.
				q, _, _ = strings.Cut(q, "#")
				w.query(SourceHeader, "Referer.", q)
			}
		}
	}
	for _, v := range h["Cookie"] {
		w.cookies(v)
	}
}

// cookies walks the cookies of one Cookie header, name=value pairs split by
// ';': a cookie is a parameter the client sends back, and scanners (sqlmap
// from --level 2) and attackers inject through them. Values are decoded as
// form values are (most frameworks write cookies URL-encoded, some with
// '+' for a space). Cookies named like credentials or session ids are
// skipped: their values are secrets, which evidence must not carry, and
// opaque, so that no injection syntax hides in them unseen by the others.
func (w *walker) cookies(header string) {
	for n := 0; header != "" && !w.done && n < maxHeaders; n++ {
		var pair string
		pair, header, _ = strings.Cut(header, ";")
		name, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || name == "" || v == "" || secretCookie(name) {
			continue
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1] // RFC 6265 allows a quoted value
		}
		v = formUnescape(v)
		if !w.emit(SourceCookie, KindString, name, v, "") {
			return
		}
		if looksJSON(v) {
			w.json([]byte(v), SourceCookie.String()+"."+name)
		}
	}
}

// secretCookie says whether a cookie's name marks a credential or a
// session id: the words of credentialWords, "sid" and the "…sessid" of
// PHPSESSID and JSESSIONID.
func secretCookie(name string) bool {
	var buf [64]byte
	l := lowerPrefix(&buf, name)
	return string(l) == "sid" || bytes.HasSuffix(l, []byte(".sid")) || bytes.Contains(l, []byte("sessid")) || credentialName(l)
}

// json walks a JSON document. prefix is "" for the body.
func (w *walker) json(data []byte, prefix string) {
	saved := w.frames
	w.frames = w.frames[len(w.frames):] // nested documents start a fresh path
	j := jsonWalker{w: w, data: data, prefix: prefix}
	j.skipSpace()
	j.value("", 0)
	if len(saved) == 0 {
		// Keep the room the walk grew (saved may have had none), for the
		// next walk of a pooled walker.
		w.frames = w.frames[:0]
	} else {
		w.frames = saved
	}
}

type jsonWalker struct {
	w      *walker
	data   []byte
	pos    int
	prefix string
}

func (j *jsonWalker) skipSpace() {
	for j.pos < len(j.data) {
		switch j.data[j.pos] {
		case ' ', '\t', '\n', '\r':
			j.pos++
		default:
			return
		}
	}
}

// value walks one value; it returns false when the walk stops (the document
// is invalid or truncated there, a cap was hit, or the consumer stopped).
func (j *jsonWalker) value(key string, depth int) bool {
	if j.pos >= len(j.data) || depth > maxDepth {
		return false
	}
	w := j.w
	switch c := j.data[j.pos]; {
	case c == '{':
		j.pos++
		w.frames = append(w.frames, frame{})
		top := len(w.frames) - 1
		defer func() { w.frames = w.frames[:top] }()
		j.skipSpace()
		if j.pos < len(j.data) && j.data[j.pos] == '}' {
			j.pos++
			return true
		}
		for {
			j.skipSpace()
			k, ok := j.str()
			if !ok {
				return false
			}
			w.frames[top] = frame{key: k}
			if !w.emit(SourceJSON, KindKey, k, k, j.prefix) {
				return false
			}
			j.skipSpace()
			if j.pos >= len(j.data) || j.data[j.pos] != ':' {
				return false
			}
			j.pos++
			j.skipSpace()
			if !j.value(k, depth+1) {
				return false
			}
			j.skipSpace()
			if j.pos >= len(j.data) {
				return false
			}
			switch j.data[j.pos] {
			case ',':
				j.pos++
			case '}':
				j.pos++
				return true
			default:
				return false
			}
		}
	case c == '[':
		j.pos++
		w.frames = append(w.frames, frame{array: true})
		top := len(w.frames) - 1
		defer func() { w.frames = w.frames[:top] }()
		j.skipSpace()
		if j.pos < len(j.data) && j.data[j.pos] == ']' {
			j.pos++
			return true
		}
		for i := 0; ; i++ {
			w.frames[top] = frame{array: true, index: i}
			j.skipSpace()
			if !j.value(key, depth+1) {
				return false
			}
			j.skipSpace()
			if j.pos >= len(j.data) {
				return false
			}
			switch j.data[j.pos] {
			case ',':
				j.pos++
			case ']':
				j.pos++
				return true
			default:
				return false
			}
		}
	case c == '"':
		s, ok := j.str()
		if !ok {
			return false
		}
		if !w.emit(SourceJSON, KindString, key, s, j.prefix) {
			return false
		}
		if depth < maxDepth && looksJSON(s) {
			// JSON inside a JSON string (e.g. a "filter" field) is walked too.
			sub := jsonWalker{w: w, data: []byte(s), prefix: j.locPrefix()}
			saved := w.frames
			w.frames = w.frames[len(w.frames):]
			sub.value(key, depth+1)
			w.frames = saved
			return !w.done
		}
		return true
	case c == '-' || (c >= '0' && c <= '9'):
		start := j.pos
		for j.pos < len(j.data) && strings.IndexByte("+-0123456789.eE", j.data[j.pos]) >= 0 {
			j.pos++
		}
		if j.pos == len(j.data) && depth > 0 {
			return false // possibly cut short by truncation
		}
		return w.emit(SourceJSON, KindNumber, key, j.text(start, j.pos), j.prefix)
	default:
		for _, lit := range [...]struct {
			s    string
			kind Kind
		}{{"true", KindBool}, {"false", KindBool}, {"null", KindNull}} {
			if bytes.HasPrefix(j.data[j.pos:], []byte(lit.s)) {
				j.pos += len(lit.s)
				return w.emit(SourceJSON, lit.kind, key, lit.s, j.prefix)
			}
		}
		return false
	}
}

func (j *jsonWalker) locPrefix() string {
	l := Leaf{Source: SourceJSON, prefix: j.prefix, frames: j.w.frames}
	return l.Loc()
}

// str reads a JSON string at pos, unescaping it.
func (j *jsonWalker) str() (string, bool) {
	if j.pos >= len(j.data) || j.data[j.pos] != '"' {
		return "", false
	}
	j.pos++
	start := j.pos
	// Fast path: no escapes before the closing quote.
	rest := j.data[start:]
	q := bytes.IndexByte(rest, '"')
	if q < 0 {
		q = len(rest)
	}
	if bytes.IndexByte(rest[:q], '\\') >= 0 {
		return j.strSlow(start)
	}
	if q == len(rest) {
		return "", false // unterminated
	}
	j.pos = start + q + 1
	return j.text(start, start+q), true
}

// text is data[start:end] as a string: a copy, or borrowed (see jsonLeaves).
func (j *jsonWalker) text(start, end int) string {
	if j.w.borrow && end > start {
		return unsafe.String(&j.data[start], end-start)
	}
	return string(j.data[start:end])
}

func (j *jsonWalker) strSlow(start int) (string, bool) {
	buf := j.w.buf[:0]
	d := j.data
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			j.pos = i + 1
			j.w.buf = buf
			return string(buf), true
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(d) {
			return "", false
		}
		e := d[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d, i)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(d, i+2); ok && i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", false
		}
	}
	j.w.buf = buf
	return "", false
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		v, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// percentDecode decodes %XX escapes (and %uXXXX, an IIS-ism attackers use),
// leniently: an invalid escape is kept as is. ok is false when s has no
// valid escape.
func percentDecode(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, false
	}
	var b []byte
	changed := false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			if h, ok1 := unhex(s[i+1]); ok1 {
				if l, ok2 := unhex(s[i+2]); ok2 {
					if b == nil {
						b = make([]byte, 0, len(s))
						b = append(b, s[:i]...)
					}
					b = append(b, h<<4|l)
					i += 2
					changed = true
					continue
				}
			}
			if (s[i+1] == 'u' || s[i+1] == 'U') && i+5 < len(s) {
				if r, ok := hex4([]byte(s[i+2:i+6]), 0); ok {
					if b == nil {
						b = make([]byte, 0, len(s))
						b = append(b, s[:i]...)
					}
					b = utf8.AppendRune(b, r)
					i += 5
					changed = true
					continue
				}
			}
		}
		if b != nil {
			b = append(b, c)
		}
	}
	if !changed {
		return s, false
	}
	return string(b), true
}

// decodeAgain decodes a value once more; in a query or form, where '+' is
// a space, a double-encoded space arrives as '+'.
func decodeAgain(src Source, v string) (string, bool) {
	if strings.IndexByte(v, '%') < 0 {
		return v, false
	}
	if (src == SourceQuery || src == SourceForm) && strings.IndexByte(v, '+') >= 0 {
		v = strings.ReplaceAll(v, "+", " ")
	}
	return percentDecode(v)
}

// formUnescape decodes a query or form component: '+' is a space, escapes
// are decoded leniently.
func formUnescape(s string) string {
	if strings.IndexByte(s, '+') >= 0 {
		s = strings.ReplaceAll(s, "+", " ")
	}
	if d, ok := percentDecode(s); ok {
		return d
	}
	return s
}

func looksJSON(s string) bool {
	if len(s) < 2 {
		return false
	}
	return (s[0] == '{' && s[len(s)-1] == '}') || (s[0] == '[' && s[len(s)-1] == ']')
}

func looksJSONBytes(b []byte) bool {
	c := firstByte(b)
	return c == '{' || c == '['
}

// firstByte is b's first byte after JSON white space, or 0.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

func hasPrefixFold(s, prefix string) bool {
	s = strings.TrimLeft(s, " \t")
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
