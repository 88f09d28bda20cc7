package behavior

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/identity"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/internal/sketch"
	"github.com/vigilsec/vigil/inventory"
)

// DetectorAutomation is the id of Automation's findings.
const DetectorAutomation = "behavior.automation"

// Automation finds scripted clients posing as people: one actor
// (vigil.Actor.Key) whose requests, taken together, no person with a
// browser or the shop's app produces. Create it with NewAutomation.
//
// # Signals
//
// Each signal is a strength between 0 and 1; the score is their noisy-or,
// 1 − Π(1 − s). Within one window per actor:
//
//   - spoofed browser (up to 0.55): the User-Agent claims a browser (Chrome,
//     Edge, Opera, Firefox, Safari) but the request lacks what that browser
//     always sends: Accept-Language; in a secure context (HTTPS, TLS, a
//     forwarded https, or localhost) the Sec-Fetch-Site/Mode/Dest set
//     (Chrome ≥ 76, Firefox ≥ 90, Safari ≥ 17) and, for Chromium ≥ 90,
//     Sec-Ch-Ua. The strength is the share of such requests once at least
//     minAutoRequests browser-claiming requests were seen and the share is
//     at least 80%.
//   - rotation (0.35 to 0.5): one principal sending at least 3 distinct
//     User-Agents (0.5 from 5), or coming from at least 4 addresses (0.3).
//     A person has a phone and a laptop; a browser updates.
//   - machine timing (up to 0.45): at least 12 gaps between requests with a
//     median between 50 ms and 2 minutes and a coefficient of variation
//     (standard deviation / mean) below 0.35, strongest below 0.1, over
//     requests to at least 3 distinct endpoints (a page polling one endpoint
//     every 30 s is not a bot). People's gaps vary by more than their mean.
//   - tool client (0.2, alone never enough): HTTP libraries and command-line
//     tools (python-requests, curl, Go-http-client, axios, …) or no
//     User-Agent, on at least half the requests; 0.3 for HeadlessChrome. okhttp
//     is not a tool: mobile apps use it.
//   - diversity (0.35, 0.5 from 60): more than 30 distinct endpoints (method
//     and template) in one minute.
//   - volume (0.25): more than 240 requests in one minute.
//
// behavior.automation fires (vigil.AreaAutomation, vigil.API6BusinessFlows)
// when the score reaches 0.5 (medium) or 0.8 (high), at most once per actor
// per window, with one evidence item per signal present.
//
// # Shared addresses
//
// An actor without a principal (keyed by address) that sends 3 or more
// User-Agents is taken to be a shared address (an office, a carrier NAT):
// only the spoofed-browser and tool signals, shares of its requests, count
// for it; diversity, volume, timing and rotation are the sum of several
// people.
//
// # Declared machine clients
//
// An actor whose principal is an API key ("apikey:…") says it is a machine:
// its timing, volume and tool User-Agent are not held against it, so a
// partner integration polling a catalogue at a steady rate raises nothing.
// Spoofing and rotation still count: an API key posing as browsers is not a
// declared integration.
//
// # Memory
//
// Every actor seen is tracked (the signals need history): about 370 bytes
// each, 470 for an actor reaching many endpoints (TestBytesPerActorTimeline), at most MaxActors actors (least recently seen
// evicted). Header order is not used: Vigil's exchanges keep headers in a
// map.
type Automation struct {
	cfg    Config
	window int64
	seed   maphash.Seed
	table  *actortable.Table[autoActor]
	counts counters
}

var _ vigil.Analyzer = (*Automation)(nil)

// Limits and thresholds of Automation.
const (
	autoGaps         = 16 // inter-arrival gaps kept per actor
	autoMinGaps      = 12
	autoMaxAddrs     = 4
	autoMaxUAs       = 5
	minAutoRequests  = 5
	autoSpoofShare   = 0.8
	autoDiversity    = 30 // distinct endpoints in one minute
	autoVolume       = 240
	autoMedium       = 0.5
	autoHigh         = 0.8
	autoMinuteNanos  = int64(time.Minute)
	autoSketchPrec   = 7 // 2^7 registers: exact to 32 distinct endpoints, ±9% beyond
	autoMaxGapMillis = 1<<32 - 1
)

// autoActor is what Automation keeps of one actor.
type autoActor struct {
	period      int64 // start of the current window
	prev        int64 // previous request time, 0 before the first
	minute      int64 // start of the current minute
	fired       int64
	endpoints   sketch.HLL // distinct endpoints this minute
	perMinute   sketch.Window
	gaps        [autoGaps]uint32 // ms, a ring
	addrs       [autoMaxAddrs]uint32
	uas         [autoMaxUAs]uint32
	reqs        uint32
	claims      uint32 // requests claiming a browser
	spoofed     uint32 // of them, lacking the browser's headers
	tools       uint32
	headless    uint32
	spoofWhy    uint8 // bit set of what the spoofed requests lacked
	ngaps, gi   uint8
	naddr, nua  uint8
	maxDiverse  uint16
	hasFired    bool
	apiKey      bool
	principal   bool
	diverseSeen bool // at least 3 endpoints this window (for timing)
	firstEps    [3]uint32
	lastUA      uint32
	claim       browserClaim
	hasClaim    bool
}

// What a spoofed browser request lacked (autoActor.spoofWhy).
const (
	lacksLanguage = 1 << iota
	lacksFetch
	lacksHints
)

// NewAutomation returns an automation detector; zero fields of cfg take the
// defaults.
func NewAutomation(cfg Config) *Automation {
	cfg = cfg.withDefaults()
	a := &Automation{cfg: cfg, window: int64(cfg.Window)}
	a.table = actortable.New[autoActor](cfg.MaxActors, &a.counts.Counts)
	a.seed = a.table.Seed()
	return a
}

// Config returns the configuration in force, defaults filled in.
func (a *Automation) Config() Config { return a.cfg }

// Stats returns the detector's counters.
func (a *Automation) Stats() Stats { return a.counts.stats(DetectorAutomation) }

// browserClaim is what a User-Agent claims.
type browserClaim struct {
	browser, chromium bool
	fetch             bool // the claimed version sends Sec-Fetch-*
	hints             bool // ... and Sec-Ch-Ua
	tool, headless    bool
}

var toolFamilies = map[string]bool{
	"curl": true, "wget": true, "python-requests": true, "python-httpx": true, "python-aiohttp": true,
	"python-urllib": true, "go-http-client": true, "axios": true, "node-fetch": true, "node-undici": true,
	"postman": true, "insomnia": true, "apache-httpclient": true, "java": true, "headless-chrome": true,
	"sqlmap": true, "nikto": true, "nuclei": true, "ffuf": true, "gobuster": true, "zgrab": true, "": true,
}

// claimOf reads a User-Agent.
func claimOf(ua string) browserClaim {
	fam := identity.UAFamily(ua)
	var c browserClaim
	switch fam {
	case "chrome", "edge", "opera":
		v := uaVersion(ua, "Chrome/")
		c = browserClaim{browser: true, chromium: true, fetch: v >= 76, hints: v >= 90}
	case "firefox":
		c = browserClaim{browser: true, fetch: uaVersion(ua, "Firefox/") >= 90}
	case "safari":
		c = browserClaim{browser: true, fetch: uaVersion(ua, "Version/") >= 17}
	default:
		c.tool, c.headless = toolFamilies[fam], fam == "headless-chrome"
	}
	return c
}

// uaVersion is the major version after marker in ua, 0 when absent.
func uaVersion(ua, marker string) int {
	i := strings.Index(ua, marker)
	if i < 0 {
		return 0
	}
	v := 0
	for _, c := range []byte(ua[i+len(marker):]) {
		if c < '0' || c > '9' || v > 1e6 {
			break
		}
		v = v*10 + int(c-'0')
	}
	return v
}

// secureContext reports whether browsers would send fetch metadata and
// client hints to this request: HTTPS, or localhost.
func secureContext(x *vigil.Exchange) bool {
	r := &x.Request
	if x.Client.TLS != nil || (r.URL != nil && strings.EqualFold(r.URL.Scheme, "https")) ||
		strings.EqualFold(first(r.Header, "X-Forwarded-Proto"), "https") {
		return true
	}
	h := r.Host()
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasSuffix(h, ".localhost")
}

// first is the first value of a canonical header name.
func first(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// lacks says what a browser-claiming request lacks (lacks* bits).
func lacks(x *vigil.Exchange, c browserClaim) uint8 {
	h := x.Request.Header
	var why uint8
	if first(h, "Accept-Language") == "" {
		why |= lacksLanguage
	}
	if secureContext(x) {
		if c.fetch && first(h, "Sec-Fetch-Mode") == "" && first(h, "Sec-Fetch-Site") == "" && first(h, "Sec-Fetch-Dest") == "" {
			why |= lacksFetch
		}
		if c.hints && first(h, "Sec-Ch-Ua") == "" {
			why |= lacksHints
		}
	}
	return why
}

// Analyze implements vigil.Analyzer. It never returns an error.
func (a *Automation) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil {
		return nil, nil
	}
	r := &x.Request
	ua := first(r.Header, "User-Agent")
	tmpl := inventory.TemplateFor(x, cutPath(r.Path()))
	epHash := maphash.String(a.seed, r.Method) ^ maphash.String(a.seed, tmpl)
	uaHash := uint32(maphash.String(a.seed, ua) >> 32)
	addrHash := uint32(maphash.String(a.seed, x.Actor.Addr) >> 32)
	at := exchangeTime(x)

	h := actortable.ActorHash(a.seed, &x.Actor)
	sh, n := a.table.Acquire(h, at, a.window, true)
	defer sh.Unlock()
	s := &n.State
	now := n.Last
	if s.reqs == 0 || now-s.period >= a.window || now < s.period {
		s.reset(now)
	}
	s.apiKey = strings.HasPrefix(x.Actor.Principal, "apikey:")
	s.principal = x.Actor.Principal != ""
	if !s.hasClaim || s.lastUA != uaHash {
		s.claim, s.lastUA, s.hasClaim = claimOf(ua), uaHash, true // a User-Agent is read once per change
	}
	claim := s.claim
	var why uint8
	if claim.browser {
		why = lacks(x, claim)
	}
	s.reqs++
	if claim.browser {
		s.claims++
		if why != 0 {
			s.spoofed++
			s.spoofWhy |= why
		}
	}
	if claim.tool {
		s.tools++
	}
	if claim.headless {
		s.headless++
	}
	s.note(uaHash, addrHash, x.Actor.Principal != "")
	// Timing: the gap since the previous request, kept in ms.
	if s.prev != 0 && at >= s.prev {
		gap := min((at-s.prev)/int64(time.Millisecond), autoMaxGapMillis)
		s.gaps[s.gi] = uint32(gap)
		s.gi = (s.gi + 1) % autoGaps
		s.ngaps = min(s.ngaps+1, autoGaps)
	}
	if at > s.prev {
		s.prev = at
	}
	// Diversity and volume per minute.
	if now-s.minute >= autoMinuteNanos || now < s.minute {
		s.endpoints.Reset()
		s.minute = now
	}
	s.endpoints.Add(epHash)
	s.maxDiverse = uint16(min(max(uint64(s.maxDiverse), s.endpoints.Count()), math.MaxUint16))
	s.perMinute.Add(at, 1)
	if !s.diverseSeen {
		s.seeEndpoint(uint32(epHash >> 32))
	}

	if score, _ := a.score(s, now, false); score < autoMedium {
		return nil, nil
	}
	if !a.counts.fire(&s.hasFired, &s.fired, now, a.window, 0) {
		return nil, nil
	}
	score, ev := a.score(s, now, true)
	sev, conf := vigil.SeverityMedium, 0.7
	if score >= autoHigh {
		sev, conf = vigil.SeverityHigh, 0.85
	}
	ev = append([]vigil.Evidence{{Where: "behavior.automation_score", Value: strconv.FormatFloat(score, 'f', 2, 64),
		Why: fmt.Sprintf("%d requests within %s", s.reqs, vigil.FormatDuration(a.cfg.Window))}}, ev...)
	title := "Automated client: " + signalNames(ev)
	return []vigil.Finding{{
		Detector:   DetectorAutomation,
		Category:   vigil.API6BusinessFlows,
		Area:       vigil.AreaAutomation,
		Severity:   sev,
		Confidence: conf,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   vigil.Endpoint{Host: r.Host(), Method: r.Method, Template: tmpl},
		Title:      title,
		Evidence:   ev,
	}}, nil
}

// reset starts a new window at now, keeping the timing history and the
// finding's time.
func (s *autoActor) reset(now int64) {
	*s = autoActor{
		period: now, prev: s.prev, minute: now, fired: s.fired, hasFired: s.hasFired,
		endpoints: s.endpoints, perMinute: s.perMinute, gaps: s.gaps, ngaps: s.ngaps, gi: s.gi,
		lastUA: s.lastUA, claim: s.claim, hasClaim: s.hasClaim,
	}
	if s.endpoints.Precision() == 0 {
		s.endpoints = sketch.NewHLL(autoSketchPrec)
		s.perMinute = sketch.NewWindow(time.Minute)
	}
	s.endpoints.Reset()
}

// note records the User-Agent and, for a principal, the address.
func (s *autoActor) note(ua, addr uint32, principal bool) {
	if int(s.nua) < autoMaxUAs && !contains(s.uas[:s.nua], ua) {
		s.uas[s.nua] = ua
		s.nua++
	}
	if principal && int(s.naddr) < autoMaxAddrs && !contains(s.addrs[:s.naddr], addr) {
		s.addrs[s.naddr] = addr
		s.naddr++
	}
}

// seeEndpoint remembers up to 3 distinct endpoints of the window.
func (s *autoActor) seeEndpoint(ep uint32) {
	for i, e := range s.firstEps {
		switch {
		case e == ep:
			return
		case e == 0:
			s.firstEps[i] = ep
			s.diverseSeen = i == len(s.firstEps)-1
			return
		}
	}
}

func contains(xs []uint32, x uint32) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// gapCV returns the coefficient of variation of the recorded gaps.
func (s *autoActor) gapCV() float64 {
	n := int(s.ngaps)
	sum := 0.0
	for _, g := range s.gaps[:n] {
		sum += float64(g)
	}
	mean := sum / float64(n)
	if mean == 0 {
		return 0
	}
	v := 0.0
	for _, g := range s.gaps[:n] {
		d := float64(g) - mean
		v += d * d
	}
	return math.Sqrt(v/float64(n)) / mean
}

// gapMedian returns the median of the recorded gaps in ms.
func (s *autoActor) gapMedian() float64 {
	var buf [autoGaps]uint32
	g := buf[:s.ngaps]
	copy(g, s.gaps[:s.ngaps])
	slices.Sort(g)
	return float64(g[len(g)/2])
}

// score combines the actor's signals and, when explain is set, returns
// them as evidence (the cheap pass without it runs on every request).
func (a *Automation) score(s *autoActor, now int64, explain bool) (float64, []vigil.Evidence) {
	if s.reqs < minAutoRequests {
		return 0, nil
	}
	var ev []vigil.Evidence
	miss := 1.0
	add := func(strength float64, e func() vigil.Evidence) {
		miss *= 1 - strength
		if explain {
			ev = append(ev, e())
		}
	}
	if s.claims >= minAutoRequests {
		if share := float64(s.spoofed) / float64(s.claims); share >= autoSpoofShare {
			add(0.55*share, func() vigil.Evidence {
				return vigil.Evidence{Where: "behavior.spoofed_browser", Value: fmt.Sprintf("%d/%d", s.spoofed, s.claims),
					Why: "requests claiming a browser without " + lackedNames(s.spoofWhy)}
			})
		}
	}
	// An address with several User-Agents and no principal is shared (an
	// office, a carrier NAT): its diversity, volume and timing are the sum
	// of several people, and its User-Agents are theirs.
	shared := !s.principal && s.nua >= 3
	switch {
	case shared:
	case s.nua >= autoMaxUAs:
		add(0.5, func() vigil.Evidence {
			return vigil.Evidence{Where: "behavior.user_agents", Value: strconv.Itoa(int(s.nua)) + "+", Why: "distinct User-Agents for one principal"}
		})
	case s.nua >= 3:
		add(0.35, func() vigil.Evidence {
			return vigil.Evidence{Where: "behavior.user_agents", Value: strconv.Itoa(int(s.nua)), Why: "distinct User-Agents for one principal"}
		})
	}
	if s.naddr >= autoMaxAddrs {
		add(0.3, func() vigil.Evidence {
			return vigil.Evidence{Where: "behavior.addresses", Value: strconv.Itoa(int(s.naddr)) + "+", Why: "distinct addresses for one principal"}
		})
	}
	if shared {
		return 1 - miss, ev // spoofing and tools (shares of requests) still count
	}
	if s.maxDiverse > autoDiversity {
		st := 0.35
		if s.maxDiverse > 2*autoDiversity {
			st = 0.5
		}
		add(st, func() vigil.Evidence {
			return vigil.Evidence{Where: "behavior.endpoints_per_minute", Value: strconv.Itoa(int(s.maxDiverse)), Why: "distinct endpoints in one minute"}
		})
	}
	if s.apiKey {
		return 1 - miss, ev // a declared machine client: timing, volume and tools are its nature
	}
	if s.ngaps >= autoMinGaps && s.diverseSeen {
		if cv := s.gapCV(); cv < 0.35 {
			if med := s.gapMedian(); med >= 50 && med <= 120_000 {
				st := 0.45
				if cv > 0.1 {
					st = 0.45 * (0.35 - cv) / 0.25
				}
				add(st, func() vigil.Evidence {
					return vigil.Evidence{Where: "behavior.timing", Value: fmt.Sprintf("cv %.2f, median %dms", cv, int(med)),
						Why: "machine-regular gaps between the last " + strconv.Itoa(int(s.ngaps)) + " requests"}
				})
			}
		}
	}
	if s.tools*2 >= s.reqs {
		st := 0.2
		if s.headless*2 >= s.reqs {
			st = 0.3
		}
		add(st, func() vigil.Evidence {
			return vigil.Evidence{Where: "header.User-Agent", Value: strconv.Itoa(int(s.tools)) + "/" + strconv.Itoa(int(s.reqs)),
				Why: "requests from an HTTP library, command-line tool or headless browser"}
		})
	}
	if n := s.perMinute.Sum(now); n > autoVolume {
		add(0.25, func() vigil.Evidence {
			return vigil.Evidence{Where: "behavior.requests_per_minute", Value: strconv.FormatUint(n, 10), Why: "requests in the last minute"}
		})
	}
	return 1 - miss, ev
}

func lackedNames(why uint8) string {
	var parts []string
	if why&lacksLanguage != 0 {
		parts = append(parts, "Accept-Language")
	}
	if why&lacksFetch != 0 {
		parts = append(parts, "Sec-Fetch-*")
	}
	if why&lacksHints != 0 {
		parts = append(parts, "Sec-Ch-Ua")
	}
	return strings.Join(parts, ", ")
}

// signalNames names the signals in a finding's evidence for its title.
func signalNames(ev []vigil.Evidence) string {
	names := map[string]string{
		"behavior.spoofed_browser": "spoofed browser", "behavior.user_agents": "rotating User-Agents",
		"behavior.addresses": "rotating addresses", "behavior.endpoints_per_minute": "request diversity",
		"behavior.timing": "machine timing", "header.User-Agent": "tool client", "behavior.requests_per_minute": "volume",
	}
	var out []string
	for _, e := range ev {
		if n, ok := names[e.Where]; ok {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}
