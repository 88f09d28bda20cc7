// Package recon finds shadow-API reconnaissance: actors hunting for
// undocumented, deprecated and internal endpoints before they attack them.
// Its Detector is a vigil.Analyzer raising four kinds of finding, all in
// vigil.AreaShadow and vigil.API9InventoryManagement:
//
//   - recon.probe: a burst of distinct unknown path templates (404, 405, 410
//     or 501 answers, or paths Config.Known does not know);
//   - recon.wordlist: three or more well-known sensitive paths (/.env,
//     /.git/config, /actuator/env, /server-status, /admin, ...);
//   - recon.spec-hunting: hunting for API description files (/swagger.json,
//     /openapi.yaml, /v3/api-docs, ...);
//   - recon.version-rolling: the same endpoint tried under several API
//     versions (/api/v2/users/1, /api/v1/users/1, /api/v3/users/1), or an
//     actor leaving its usual version for an older, unknown one.
//
// Each kind raises at most one finding per actor per window; the next one
// can come once Config.Window has passed since the last. Requests to known
// endpoints that succeed count towards nothing. Time is the exchanges' own
// (vigil.Exchange.Time), never the wall clock, so recorded traffic analyzed
// faster than real time gives the same findings.
//
// # Memory
//
// State is bounded. The detector tracks at most Config.MaxActors actors in
// 64 (fewer for small limits) least-recently-seen tables; an actor beyond the
// limit evicts its shard's least recently seen one, and actors idle for two
// windows are dropped lazily. An actor that only makes ordinary requests costs
// about 120 bytes (its key hash, times, list links and a four-slot tally of
// the API versions it uses). An actor with suspicious requests also holds,
// per kind and only while it has some in the window, at most 64 remembered
// keys (hashes, 32 bytes each) and the 10 most recent example paths, each cut
// to 256 bytes: at worst about 4.5 KB per kind and 18 KB per actor (16 KB
// measured). Without Known, an actor of a versioned API also keeps up to 64
// (template, version) keys, 2 KB.
//
// # Concurrency
//
// A Detector is safe for concurrent use. Actors are spread over shards by a
// seeded hash of vigil.Actor.Key, each shard with its own mutex, so workers
// analyzing different actors rarely contend.
package recon

import (
	"context"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
)

// Defaults of Config.
const (
	DefaultWindow     = 10 * time.Minute
	DefaultProbeBurst = 15
	DefaultMaxActors  = 100_000
)

// Thresholds that are not configurable.
const (
	// MaxRemembered bounds the keys one actor remembers per kind; ProbeBurst
	// is capped at it.
	MaxRemembered = 64
	// MaxEvidence bounds the example paths a finding carries.
	MaxEvidence = 10
	// MaxPathBytes cuts the paths kept as evidence.
	MaxPathBytes = 256

	wordlistThreshold   = 3 // distinct wordlist entries
	specThreshold       = 2 // distinct description files, one of them missed
	specSureThreshold   = 3 // distinct description files, whatever they answered
	specMediumThreshold = 4 // distinct description files for a medium finding
	versionThreshold    = 3 // distinct versions of one versionless template
	mainVersionMinimum  = 2 // known successful requests that make a main version
	minProbeBurst       = 2
)

// Detector ids, the vigil.Finding.Detector of each kind.
const (
	DetectorProbe          = "recon.probe"
	DetectorWordlist       = "recon.wordlist"
	DetectorSpecHunting    = "recon.spec-hunting"
	DetectorVersionRolling = "recon.version-rolling"
)

// Config configures a Detector. Zero values take the defaults.
type Config struct {
	// Window is the sliding window per actor (default 10m); it is also the
	// quiet time after a finding before the same kind fires again for the
	// same actor.
	Window time.Duration
	// ProbeBurst is how many distinct unknown path templates (404, 405, 410
	// or 501 answers, or Known()==false) within Window make a probe burst
	// (default 15, at least 2, at most MaxRemembered).
	ProbeBurst int
	// MaxActors bounds the actors tracked at once (default 100 000); the least
	// recently seen are evicted, and counted in Stats.Evictions.
	MaxActors int
	// Known, when set, says whether an endpoint is documented or known-good
	// (for instance from the OpenAPI spec). path is the request path as sent
	// (ids not templated); HEAD is asked as GET. It is called once per
	// exchange from many goroutines, so it must be safe for concurrent use
	// and fast. Nil judges by response status only.
	Known func(host, method, path string) bool
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.ProbeBurst <= 0 {
		c.ProbeBurst = DefaultProbeBurst
	}
	c.ProbeBurst = min(max(c.ProbeBurst, minProbeBurst), MaxRemembered)
	if c.MaxActors <= 0 {
		c.MaxActors = DefaultMaxActors
	}
	return c
}

// Detector is the shadow-API reconnaissance detector. Create it with New.
type Detector struct {
	cfg    Config
	window int64 // cfg.Window in nanoseconds
	table  *actortable.Table[actor]
	counts counters
}

var _ vigil.Analyzer = (*Detector)(nil)

// New returns a detector; zero fields of cfg take the defaults.
func New(cfg Config) *Detector {
	cfg = cfg.withDefaults()
	d := &Detector{cfg: cfg, window: int64(cfg.Window)}
	d.table = actortable.New[actor](cfg.MaxActors, &d.counts.Counts)
	return d
}

// Config returns the configuration in force, defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Analyze implements vigil.Analyzer. It never returns an error: a nil or
// odd exchange gives no finding.
func (d *Detector) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil {
		return nil, nil
	}
	o := d.observe(x)
	at := x.Time.UnixNano()
	if x.Time.IsZero() {
		at = 0
	}
	sh, n := d.table.Acquire(actortable.ActorHash(d.table.Seed(), &x.Actor), at, d.window, true)
	defer sh.Unlock()
	a, now := &n.State, n.Last
	if o.benign {
		a.tallyVersion(o.ver)
		return nil, nil
	}
	a.dropStale(now - d.window)
	return d.judge(x, &o, a, now), nil
}

// judge updates an actor with one suspicious exchange and returns what
// fired.
func (d *Detector) judge(x *vigil.Exchange, o *observation, a *actor, now int64) []vigil.Finding {
	var out []vigil.Finding
	if o.unknown {
		if f, ok := d.probe(x, o, a, now); ok {
			out = append(out, f)
		}
	}
	if o.word.ok {
		if f, ok := d.wordlist(x, o, a, now); ok {
			out = append(out, f)
		}
	}
	if o.spec {
		if f, ok := d.specHunting(x, o, a, now); ok {
			out = append(out, f)
		}
	}
	if o.ver.ok() {
		if f, ok := d.versionRolling(x, o, a, now); ok {
			out = append(out, f)
		}
	}
	return out
}

// Stats are the detector's counters. Actors is a snapshot; the others only
// grow.
type Stats struct {
	Actors    int64 // actors tracked now
	Evictions int64 // actors evicted because MaxActors were tracked
	Expired   int64 // actors dropped after two idle windows
	// Findings counts the findings raised, by detector id.
	Findings map[string]int64
}

// Stats returns the detector's counters.
func (d *Detector) Stats() Stats {
	s := Stats{
		Actors:    d.counts.Actors.Load(),
		Evictions: d.counts.Evictions.Load(),
		Expired:   d.counts.Expired.Load(),
		Findings:  make(map[string]int64, numKinds),
	}
	for k := range numKinds {
		s.Findings[kinds[k].id] = d.counts.findings[k].Load()
	}
	return s
}
