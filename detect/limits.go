package detect

import (
	"context"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/pii"
)

// LimitsConfig sets what the resource limits detector calls abuse.
type LimitsConfig struct {
	MaxPageSize int64 // a page size above it is reported; 0 = 1000
	MaxBodySize int64 // a JSON request body above it is reported; 0 = 10 MiB
}

// Limits finds requests that ask for unbounded work: page sizes far above
// any sane default (limit, per_page, page_size, size, top, ...) and oversized
// JSON request bodies.
type Limits struct{ cfg LimitsConfig }

var _ vigil.Analyzer = (*Limits)(nil)

// NewLimits returns the resource limits detector.
func NewLimits(cfg LimitsConfig) *Limits {
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = 1000
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 10 << 20
	}
	return &Limits{cfg: cfg}
}

// pageNames hold a page size in a query string; bodyPageNames in a JSON body,
// where "size" and "count" mean too many other things.
var (
	pageNames     = map[string]bool{"limit": true, "perpage": true, "pagesize": true, "size": true, "count": true, "top": true, "first": true, "last": true, "take": true, "maxresults": true, "rows": true, "max": true, "pagelimit": true, "batchsize": true}
	bodyPageNames = map[string]bool{"limit": true, "perpage": true, "pagesize": true, "top": true, "first": true, "last": true, "take": true, "maxresults": true, "pagelimit": true, "batchsize": true}
)

// Analyze implements vigil.Analyzer.
func (d *Limits) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	rq := &x.Request
	s := d.scan(x, nil)
	if rq.URL != nil && rq.URL.RawQuery != "" || len(rq.Body) > 0 {
		return runScan(s, rq), nil
	}
	return s.findings(), nil // no parameters: only the body size is judged
}

func (d *Limits) scan(x *vigil.Exchange, reuse leafScan) leafScan {
	return reuseScan(reuse, limitsScan{d: d, x: x})
}

type limitsScan struct {
	d   *Limits
	x   *vigil.Exchange
	out []vigil.Finding
}

func (s *limitsScan) leaf(l *Leaf) bool {
	if l.Kind != KindString && l.Kind != KindNumber {
		return true
	}
	var nb [64]byte
	switch {
	case l.Source == SourceQuery || l.Source == SourceForm:
		if !pageNames[string(pii.NormKeyIn(&nb, l.Key))] {
			return true
		}
	case l.Source == SourceJSON && l.prefix == "":
		if !bodyPageNames[string(pii.NormKeyIn(&nb, l.Key))] {
			return true
		}
	default:
		return true
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(l.Value), 64)
	max := s.d.cfg.MaxPageSize
	if err != nil || v <= float64(max) {
		return true
	}
	sev := vigil.SeverityLow
	if v > 10*float64(max) {
		sev = vigil.SeverityMedium
	}
	ev := []vigil.Evidence{{Where: l.Loc(), Value: shorten(l.Value),
		Why: "page size " + shorten(l.Value) + " is above " + strconv.FormatInt(max, 10)}}
	s.out = append(s.out, finding("detect.resource.limits", s.x, vigil.API4ResourceConsumption, sev, 0.8, "Excessive page size", ev))
	return false // one page-size finding is enough
}

func (s *limitsScan) findings() []vigil.Finding {
	rq := &s.x.Request
	if rq.BodySize > s.d.cfg.MaxBodySize && jsonRequest(rq) {
		n := strconv.FormatInt(rq.BodySize, 10)
		ev := []vigil.Evidence{{Where: "body", Value: n + " bytes",
			Why: "JSON body of " + n + " bytes is above " + strconv.FormatInt(s.d.cfg.MaxBodySize, 10)}}
		s.out = append(s.out, finding("detect.resource.limits", s.x, vigil.API4ResourceConsumption, vigil.SeverityMedium, 0.8, "Oversized request body", ev))
	}
	return s.out
}

func jsonRequest(r *vigil.Request) bool {
	ct := ""
	if r.Header != nil {
		ct = strings.ToLower(headerValue(r.Header, "Content-Type"))
	}
	return strings.Contains(ct, "json") || ct == "" && looksJSONBytes(r.Body)
}
