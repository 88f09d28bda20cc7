// Package detect holds Vigil's technique detectors, one file each. A detector
// is a vigil.Analyzer registered in Builtin with a dotted id. Most are
// stateless; BFLA, Unauth, TokenShare and Bulk learn from traffic (per role
// cohort, endpoint or token) and Headers reports each endpoint once, under a
// lock and within bounds. CRS
// (the optional OWASP Core Rule Set engine) is built apart with NewCRS.
// docs/detect.md describes each detector.
//
// Each detector looks at one exchange. The request detectors (injection,
// SSRF, resource limits) judge the request's decoded values (Leaves) one at a
// time; New merges them into one analyzer that walks each request once and
// hands every value to each of them. The walk is about a third of a request
// detector's cost, so walking once instead of four times nearly halves the
// cost of detection (BenchmarkDetectAll, BenchmarkLeaves). Merging happens
// per call to New; the merged request detectors keep no state across
// exchanges beyond lock-free caches of verdicts on repeated values.
package detect

import (
	"fmt"

	"github.com/vigilsec/vigil"
)

// Factory makes one detector.
type Factory struct {
	ID  string // dotted, e.g. "detect.injection.sqli"
	New func() vigil.Analyzer
}

// Config configures the builtin detectors that take settings. The zero value
// is their defaults.
type Config struct {
	JWT        JWTConfig
	Limits     LimitsConfig
	BFLA       BFLAConfig
	Unauth     UnauthConfig
	TokenShare TokenShareConfig
	Bulk       BulkConfig
	// Headers turns on detect.misconfig.headers, which is off by default:
	// most APIs leave out some security header, and the finding is about
	// the API, not about an attack.
	Headers bool
}

// Builtin lists the detectors that ship with Vigil, with their defaults. A new
// detector is one file plus one line in BuiltinWith.
func Builtin() []Factory { return BuiltinWith(Config{}) }

// BuiltinWith lists the detectors that ship with Vigil, configured.
func BuiltinWith(c Config) []Factory {
	fs := []Factory{
		{"detect.injection.sqli", func() vigil.Analyzer { return NewSQLi() }},
		{"detect.injection.xss", func() vigil.Analyzer { return NewXSS() }},
		{"detect.injection.other", func() vigil.Analyzer { return NewOther() }},
		{"detect.ssrf", func() vigil.Analyzer { return NewSSRF() }},
		{"detect.auth.jwt", func() vigil.Analyzer { return NewJWT(c.JWT) }},
		{"detect.misconfig.verbose", func() vigil.Analyzer { return NewVerbose() }},
		{"detect.exposure.sensitive", func() vigil.Analyzer { return NewSensitive() }},
		{"detect.resource.limits", func() vigil.Analyzer { return NewLimits(c.Limits) }},
		{"detect.authz.bfla", func() vigil.Analyzer { return NewBFLA(c.BFLA) }},
		{"detect.auth.unauthenticated", func() vigil.Analyzer { return NewUnauth(c.Unauth) }},
		{"detect.auth.tokenshare", func() vigil.Analyzer { return NewTokenShare(c.TokenShare) }},
		{"detect.exposure.bulk", func() vigil.Analyzer { return NewBulk(c.Bulk) }},
	}
	if c.Headers {
		fs = append(fs, Factory{"detect.misconfig.headers", func() vigil.Analyzer { return NewHeaders() }})
	}
	return fs
}

// New builds the analyzers of the given factories. A duplicate or empty id is
// an error: two detectors must never report under one name.
//
// Detectors that judge request values one at a time are merged into a single
// analyzer, placed where the first of them was, that walks each request once;
// their findings keep their own detector ids. So New may return fewer
// analyzers than factories.
func New(fs []Factory) ([]vigil.Analyzer, error) {
	seen := make(map[string]bool, len(fs))
	out := make([]vigil.Analyzer, 0, len(fs))
	var group *shared
	for _, f := range fs {
		if f.ID == "" || f.New == nil {
			return nil, fmt.Errorf("detector %q: empty id or constructor", f.ID)
		}
		if seen[f.ID] {
			return nil, fmt.Errorf("detector %q is registered twice", f.ID)
		}
		seen[f.ID] = true
		a := f.New()
		if ld, ok := a.(leafDetector); ok {
			if group == nil {
				group = &shared{}
				out = append(out, group)
			}
			group.ds = append(group.ds, ld)
			continue
		}
		out = append(out, a)
	}
	if group != nil && len(group.ds) == 1 {
		for i, a := range out { // nothing to share: keep the detector itself
			if a == group {
				out[i] = group.ds[0]
			}
		}
	}
	return out, nil
}
