package detect

import (
	"context"
	"strings"

	"github.com/corazawaf/libinjection-go"
	"github.com/vigilsec/vigil"
)

// XSS finds cross-site scripting payloads in request values with
// libinjection's HTML5 tokenizer, plus script URLs (javascript:, vbscript:,
// data:text/html) that libinjection leaves to the caller. Harmless markup such
// as "<b>great</b>" in a comment is not flagged: libinjection only reports
// script-capable tags, event-handler attributes and script URLs in attributes.
type XSS struct {
	headers *memo[bool] // verdicts on repeated header values
}

var _ vigil.Analyzer = (*XSS)(nil)

// NewXSS returns the cross-site scripting detector.
func NewXSS() *XSS { return &XSS{headers: newMemo[bool](512)} }

// Analyze implements vigil.Analyzer.
func (d *XSS) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	return runScan(d.scan(x, nil), &x.Request), nil
}

func (d *XSS) scan(x *vigil.Exchange, reuse leafScan) leafScan {
	return reuseScan(reuse, xssScan{d: d, x: x})
}

type xssScan struct {
	d  *XSS
	x  *vigil.Exchange
	ev []vigil.Evidence
}

func (s *xssScan) leaf(l *Leaf) bool {
	if l.Kind == KindRaw && l.Source == SourceMultipart {
		if why := activeUpload(l.Value); why != "" {
			s.ev = append(s.ev, vigil.Evidence{Where: l.Loc(), Value: evidenceValue(l.Key, l.Value), Why: "cross-site scripting: an uploaded file " + why})
		}
		return len(s.ev) < maxEvidence
	}
	if l.Kind != KindString || len(l.Value) < 3 || !l.passes(preXSS) {
		return true
	}
	why := ""
	switch {
	case s.d.isXSS(l) && !onlyStyling(l.Value):
		why = "cross-site scripting: libinjection found script-capable markup"
	case scriptURL(l.Value):
		why = "cross-site scripting: script URL"
	case attrScriptURL(l.Value):
		why = "cross-site scripting: markup whose attribute holds a script URL"
	case filterBypass(l.Value):
		why = "cross-site scripting: a script tag split by another, which a one-pass tag filter joins"
	default:
		return true
	}
	s.ev = append(s.ev, vigil.Evidence{Where: l.Loc(), Value: evidenceValue(l.Key, l.Value), Why: why})
	return len(s.ev) < maxEvidence
}

func (s *xssScan) findings() []vigil.Finding {
	if s.ev == nil {
		return nil
	}
	return []vigil.Finding{finding("detect.injection.xss", s.x, injectionCategory, vigil.SeverityHigh, 0.85, "Cross-site scripting attempt", s.ev)}
}

func (d *XSS) isXSS(l *Leaf) bool {
	if !l.repeats() {
		return libinjection.IsXSS(l.Value)
	}
	if v, ok := d.headers.get(l.Value); ok {
		return v
	}
	v := libinjection.IsXSS(l.Value)
	d.headers.put(l.Value, v)
	return v
}

// attrScriptURL says whether markup in v has an attribute whose value is a
// script URL (`<a href="java&#x09;script:…">`): what libinjection, which
// does not decode character references, misses once the scheme is spelt
// with one. One look per '=', each bounded (scriptURL reads 16 bytes).
func attrScriptURL(v string) bool {
	if strings.IndexByte(v, '<') < 0 {
		return false
	}
	for i := 0; ; {
		j := strings.IndexByte(v[i:], '=')
		if j < 0 {
			return false
		}
		i += j + 1
		rest := strings.TrimLeft(v[i:], " \t\"'")
		if scriptURL(rest) {
			return true
		}
	}
}

// filterBypass says whether v holds "<scr<script>ipt>": a script tag that
// appears once a filter removes "<script>" and "</script>" one time, which
// libinjection's tokenizer reads as an unknown tag.
func filterBypass(v string) bool {
	if len(v) < 16 || !strings.Contains(v, "<") {
		return false
	}
	s := asciiLower(v)
	if !strings.Contains(s, "<script") {
		return false
	}
	return scriptOpenings(strings.ReplaceAll(strings.ReplaceAll(s, "<script>", ""), "</script>", "")) > 0
}

// scriptOpenings counts the script start tags in s (lower case): "<script"
// then '>', '/' or white space, not "<scripting>".
func scriptOpenings(s string) int {
	n := 0
	for i := strings.Index(s, "<script"); i >= 0; {
		if end := i + len("<script"); end < len(s) && strings.IndexByte("> /\t\n\r", s[end]) >= 0 {
			n++
		}
		j := strings.Index(s[i+1:], "<script")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return n
}

// activeUpload says whether an uploaded markup file (SVG, XML, HTML: what
// the walker yields of a file part that starts with '<') carries script a
// browser runs when it opens the file from the API's origin: a script
// element, an event-handler attribute or a script URL in an attribute
// (attrScriptURL, character references decoded).
func activeUpload(v string) string { return activeMarkup(v, asciiLower(v)) }

// activeMarkup is activeUpload on v and s, v lower-cased.
func activeMarkup(v, s string) string {
	if strings.Contains(s, "<script") || strings.Contains(s, ":script") && namespacedScript(s) {
		return "has a script element"
	}
	if h := eventHandler(s); h != "" {
		return "has an event-handler attribute (" + h + ")"
	}
	if attrScriptURL(v) {
		return "links a script URL"
	}
	return ""
}

// eventHandler returns the first event-handler attribute of markup in s
// (lower case): "on" and letters, then '=', inside a tag, after a space,
// a tab, a line break, '/' or a quote ("<svg/onload=", "<img src=x
// onerror ="); "" when none.
func eventHandler(s string) string {
	for i := strings.Index(s, "on"); i >= 0; {
		if i > 0 && strings.IndexByte(" /\t\n\r\"'", s[i-1]) >= 0 && strings.LastIndexByte(s[:i], '<') > strings.LastIndexByte(s[:i], '>') {
			j := i + 2
			for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
				j++
			}
			name := j
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
				j++
			}
			if name > i+3 && j < len(s) && s[j] == '=' {
				return s[i:name]
			}
		}
		k := strings.Index(s[i+2:], "on")
		if k < 0 {
			break
		}
		i += 2 + k
	}
	return ""
}

// onlyStyling says whether all libinjection objects to in v is styling:
// style attributes and elements, meta, link and doctype tags, comments,
// which templates,
// e-mails and documents to render are full of and which run no script in
// today's browsers. v without them passes libinjection, and v has no
// active content (activeContent: a CSS expression() counts).
func onlyStyling(v string) bool {
	if strings.IndexByte(v, '<') < 0 {
		return false
	}
	s := stripStyling(v)
	return s != v && !libinjection.IsXSS(s) && !activeContent(v)
}

// stripStyling removes from markup its <style> elements, its <meta>,
// <link> and <!doctype> tags, its comments (Outlook's <!--[if mso]> among
// them) and its style="…" attributes.
func stripStyling(v string) string {
	lower := asciiLower(v)
	var b strings.Builder
	for i := 0; i < len(v); {
		switch {
		case strings.HasPrefix(lower[i:], "<style"):
			end := strings.Index(lower[i:], "</style>")
			if end < 0 {
				return b.String()
			}
			i += end + len("</style>")
			continue
		case strings.HasPrefix(lower[i:], "<!--"):
			end := strings.Index(lower[i:], "-->")
			if end < 0 {
				return b.String()
			}
			i += end + len("-->")
			continue
		case strings.HasPrefix(lower[i:], "<meta") || strings.HasPrefix(lower[i:], "<link") || strings.HasPrefix(lower[i:], "<!doctype"):
			end := strings.IndexByte(v[i:], '>')
			if end < 0 {
				return b.String()
			}
			i += end + 1
			continue
		case strings.HasPrefix(lower[i:], " style="):
			j := i + len(" style=")
			if j < len(v) && (v[j] == '"' || v[j] == '\'') {
				if end := strings.IndexByte(v[j+1:], v[j]); end >= 0 {
					i = j + 1 + end + 1
					continue
				}
			}
		}
		b.WriteByte(v[i])
		i++
	}
	return b.String()
}

// activeContent says whether markup runs script or loads active content:
// what activeUpload finds, an event handler however its attribute is
// separated ("<svg/onload=…"), or a frame, object, embed, base, srcdoc,
// a meta refresh, or CSS that runs code (expression(), -moz-binding,
// behavior:).
func activeContent(v string) bool {
	s := asciiLower(v)
	return activeMarkup(v, s) != "" || containsAnyOf(s, activeTells[:])
}

// activeTells are the markup and CSS that load or run active content.
var activeTells = [...]string{"<iframe", "<frame", "<object", "<embed", "<base", "<applet", "srcdoc", "http-equiv=\"refresh", "http-equiv='refresh", "http-equiv=refresh", "expression(", "-moz-binding", "behavior:", "<math", "formaction", "xlink:href"}

// namespacedScript says whether s (lower case) has a script element with a
// namespace prefix (<html:script>, <x:script> bound to XHTML's namespace),
// which a browser runs in an XML document.
func namespacedScript(s string) bool {
	for i := strings.Index(s, ":script"); i >= 0; {
		j := i
		for j > 0 && (s[j-1] >= 'a' && s[j-1] <= 'z' || s[j-1] >= '0' && s[j-1] <= '9' || s[j-1] == '_' || s[j-1] == '-') {
			j--
		}
		end := i + len(":script")
		if j > 0 && s[j-1] == '<' && j < i && (end == len(s) || strings.IndexByte("> \t\n/", s[end]) >= 0) {
			return true
		}
		k := strings.Index(s[i+1:], ":script")
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}

// charRef decodes the HTML character reference at the start of s ("&#x09;",
// "&#58;", "&Tab;", "&colon;"; the ';' of a numeric one may be left out, as
// browsers allow): the byte it stands for (0xff for one beyond ASCII) and the
// length it takes, or size 0 when s does not start with one.
func charRef(s string) (c byte, size int) {
	for _, named := range [...]struct {
		name string
		c    byte
	}{{"&tab;", '\t'}, {"&newline;", '\n'}, {"&colon;", ':'}} {
		if len(s) >= len(named.name) && strings.EqualFold(s[:len(named.name)], named.name) {
			return named.c, len(named.name)
		}
	}
	if len(s) < 3 || s[1] != '#' {
		return 0, 0
	}
	i, base := 2, 10
	if s[2] == 'x' || s[2] == 'X' {
		i, base = 3, 16
	}
	start, v := i, 0
	for ; i < len(s) && i < start+8; i++ {
		d := strings.IndexByte("0123456789abcdef", s[i]|0x20)
		if d < 0 || d >= base {
			break
		}
		v = v*base + d
	}
	if i == start {
		return 0, 0
	}
	if i < len(s) && s[i] == ';' {
		i++
	}
	if v > 0x7f {
		return 0xff, i
	}
	return byte(v), i
}

// scriptURL says whether v, trimmed, is a javascript:, vbscript: or
// data:text/html URL, allowing the whitespace and control characters
// browsers ignore inside the scheme.
func scriptURL(v string) bool {
	var b [16]byte
	n := 0
	for i := 0; i < len(v) && n < len(b); i++ {
		c := v[i]
		if c == '&' { // a character reference, as a browser decodes it in an attribute
			if d, size := charRef(v[i:]); size > 0 {
				c = d
				i += size - 1
			}
		}
		if c <= ' ' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	s := string(b[:n])
	return strings.HasPrefix(s, "javascript:") || strings.HasPrefix(s, "vbscript:") || strings.HasPrefix(s, "data:text/html")
}
