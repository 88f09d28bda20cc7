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
	if l.Kind != KindString || len(l.Value) < 3 || !l.passes(preXSS) {
		return true
	}
	why := ""
	switch {
	case s.d.isXSS(l):
		why = "cross-site scripting: libinjection found script-capable markup"
	case scriptURL(l.Value):
		why = "cross-site scripting: script URL"
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
	if l.Source != SourceHeader {
		return libinjection.IsXSS(l.Value)
	}
	if v, ok := d.headers.get(l.Value); ok {
		return v
	}
	v := libinjection.IsXSS(l.Value)
	d.headers.put(l.Value, v)
	return v
}

// scriptURL says whether v, trimmed, is a javascript:, vbscript: or
// data:text/html URL, allowing the whitespace and control characters
// browsers ignore inside the scheme.
func scriptURL(v string) bool {
	var b [16]byte
	n := 0
	for i := 0; i < len(v) && n < len(b); i++ {
		c := v[i]
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
