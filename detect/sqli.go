package detect

import (
	"context"
	"strings"

	"github.com/corazawaf/libinjection-go"
	"github.com/vigilsec/vigil"
)

// Injection has no category of its own in the OWASP API Security Top 10
// (2023). We file it under API8:2023 (Security Misconfiguration), the
// industry convention: an API that passes unsanitised input to an
// interpreter is misconfigured, and API10 (Unsafe Consumption) is about what
// an API receives from third parties, not from its clients.
const injectionCategory = vigil.API8Misconfiguration

// SQLi finds SQL injection in any request value with libinjection's SQL
// tokenizer and fingerprints.
type SQLi struct {
	headers *memo[sqliVerdict] // verdicts on repeated header values
}

type sqliVerdict struct {
	ok bool
	fp string
}

var _ vigil.Analyzer = (*SQLi)(nil)

// NewSQLi returns the SQL injection detector.
func NewSQLi() *SQLi { return &SQLi{headers: newMemo[sqliVerdict](512)} }

// Analyze implements vigil.Analyzer.
func (d *SQLi) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	return runScan(d.scan(x, nil), &x.Request), nil
}

func (d *SQLi) scan(x *vigil.Exchange, reuse leafScan) leafScan {
	return reuseScan(reuse, sqliScan{d: d, x: x})
}

type sqliScan struct {
	d  *SQLi
	x  *vigil.Exchange
	ev []vigil.Evidence
}

func (s *sqliScan) leaf(l *Leaf) bool {
	if l.Kind != KindString && l.Kind != KindKey || len(l.Value) < 2 || !l.passes(preSQL) {
		return true
	}
	ok, fp := s.d.isSQLi(l)
	if !ok || strings.Trim(fp, "n&()") == "" {
		// Bare words joined by and/or in parentheses ("(red or blue) and
		// shirt") are boolean search syntax: with no quote, number,
		// keyword or comment there is nothing to inject.
		return true
	}
	s.ev = append(s.ev, vigil.Evidence{
		Where: l.Loc(),
		Value: evidenceValue(l.Key, l.Value),
		Why:   "SQL injection: libinjection fingerprint " + fp,
	})
	return len(s.ev) < maxEvidence
}

func (s *sqliScan) findings() []vigil.Finding {
	if s.ev == nil {
		return nil
	}
	sev := vigil.SeverityHigh
	if s.x.Status() >= 500 {
		// A server error after an injection often means the payload reached
		// the database.
		sev = vigil.SeverityCritical
	}
	return []vigil.Finding{finding("detect.injection.sqli", s.x, injectionCategory, sev, 0.9, "SQL injection attempt", s.ev)}
}

func (d *SQLi) isSQLi(l *Leaf) (bool, string) {
	if l.Source != SourceHeader {
		return libinjection.IsSQLi(l.Value)
	}
	if v, ok := d.headers.get(l.Value); ok {
		return v.ok, v.fp
	}
	ok, fp := libinjection.IsSQLi(l.Value)
	d.headers.put(l.Value, sqliVerdict{ok, fp})
	return ok, fp
}
