package detect

import (
	"context"
	"strconv"
	"sync"

	"github.com/vigilsec/vigil"
)

// BulkConfig tunes the bulk response detector. The zero value is usable.
type BulkConfig struct {
	// Learn is how many successful responses of an endpoint set its size
	// baseline before any is judged. 0 means 50.
	Learn int
	// Factor is how many times the largest response seen so far a response
	// must be to be reported. 0 means 10.
	Factor int64
	// MinBytes is the smallest baseline: a response is never reported below
	// Factor × MinBytes. 0 means 4096.
	MinBytes int64
	// MaxEndpoints caps the endpoints tracked. 0 means 20000.
	MaxEndpoints int
}

// Bulk finds unusually large successful responses for their endpoint: a
// bulk export through a page-size or filter trick, or an endpoint that
// suddenly returns whole tables. Per endpoint (method, host, path template)
// it learns the largest of its first Learn 2xx responses (by the size sent,
// BodySize, not the captured part); after that, a response larger than Factor
// times the largest seen so far is reported (medium), and any other raises
// the baseline, so slow growth is accepted. State: at most MaxEndpoints
// entries of two numbers, under a lock.
type Bulk struct {
	cfg BulkConfig
	mu  sync.Mutex
	eps map[string]*sizeStats
}

type sizeStats struct {
	n   int
	max int64
}

var _ vigil.Analyzer = (*Bulk)(nil)

const bulkID = "detect.exposure.bulk"

// NewBulk returns the bulk response detector.
func NewBulk(cfg BulkConfig) *Bulk {
	if cfg.Learn <= 0 {
		cfg.Learn = 50
	}
	if cfg.Factor <= 1 {
		cfg.Factor = 10
	}
	if cfg.MinBytes <= 0 {
		cfg.MinBytes = 4096
	}
	if cfg.MaxEndpoints <= 0 {
		cfg.MaxEndpoints = 20000
	}
	return &Bulk{cfg: cfg, eps: map[string]*sizeStats{}}
}

// Analyze implements vigil.Analyzer.
func (d *Bulk) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	r := x.Response
	if r == nil || r.Status < 200 || r.Status >= 300 {
		return nil, nil
	}
	size := r.BodySize
	if size < 0 {
		size = int64(len(r.Body))
	}
	var kb [128]byte
	key, _ := endpointKeyIn(kb[:0], x)

	d.mu.Lock()
	e := boundedEntryIn(d.eps, key, d.cfg.MaxEndpoints)
	if e == nil {
		d.mu.Unlock()
		return nil, nil
	}
	largest := e.max
	base, learned := max(largest, d.cfg.MinBytes), e.n >= d.cfg.Learn
	report := learned && size/d.cfg.Factor > base
	if !report {
		e.n = min(e.n+1, d.cfg.Learn)
		e.max = max(e.max, size)
	}
	d.mu.Unlock()
	if !report {
		return nil, nil
	}
	ev := []vigil.Evidence{{Where: "response.body", Value: strconv.FormatInt(size, 10) + " bytes",
		Why: "response of " + strconv.FormatInt(size, 10) + " bytes is over " + strconv.FormatInt(size/base, 10) +
			"× the largest of this endpoint so far (" + strconv.FormatInt(largest, 10) + " bytes)"}}
	return []vigil.Finding{finding(bulkID, x, vigil.API3PropertyAuth, vigil.SeverityMedium, 0.7, "Unusually large response for the endpoint", ev)}, nil
}
