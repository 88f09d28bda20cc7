// Package simulate drives labelled attack campaigns and a realistic benign
// load against the demo shop (package simulate/shop), directly or through
// Vigil's proxy, and scores what Vigil detected against that labelled truth.
//
// Run sends the traffic and writes one truth line per request; Evaluate reads
// the truth back, compares it with the findings in a store and returns a
// Scorecard. See docs/simulate.md.
package simulate

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
)

// Campaign names. An attack campaign's name is also the vigil.Area it
// exercises.
const (
	CampaignBenign        = "benign"
	CampaignBusinessLogic = string(vigil.AreaBusinessLogic)
	CampaignChained       = string(vigil.AreaChained)
	CampaignShadow        = string(vigil.AreaShadow)
	CampaignAutomation    = string(vigil.AreaAutomation)
)

// AttackCampaigns lists the attack campaigns in report order.
var AttackCampaigns = []string{CampaignBusinessLogic, CampaignChained, CampaignShadow, CampaignAutomation}

// allCampaigns indexes the per-campaign counters: benign first.
var allCampaigns = []string{CampaignBenign, CampaignBusinessLogic, CampaignChained, CampaignShadow, CampaignAutomation}

func campaignIndex(name string) int { return slices.Index(allCampaigns, name) }

// Defaults and limits of Config.
const (
	DefaultRate        = 20.0
	DefaultDuration    = 60 * time.Second
	DefaultUsers       = 200
	DefaultConcurrency = 32

	maxRate     = 2000.0         // base benign req/s; the surge multiplies it
	maxDuration = 24 * time.Hour // a run is bounded
	maxUsers    = 500            // the shop seeds user1..user500
	maxConc     = 256

	requestTimeout = 5 * time.Second
	maxBodyRead    = 256 << 10 // response bytes a simulated client reads (and parses)
	progressEvery  = 2 * time.Second
)

// Config configures Run. Zero fields take the defaults above.
type Config struct {
	// Target is the base URL requests go to: the shop, or Vigil's proxy in
	// front of it. It must be a loopback address.
	Target string
	// Campaigns selects the attack campaigns by name; nil means all four.
	// The benign load always runs.
	Campaigns []string
	// Rate is the base benign load in requests per second (default 20). The
	// peak-season surge multiplies it by 10 in the middle of the run.
	Rate float64
	// Duration bounds the run (default 60 s).
	Duration time.Duration
	// Seed makes the run reproducible: the same seed sends the same labelled
	// requests (timing aside) against a target that answers the same.
	Seed int64
	// Users is the number of benign customers, user1..userN (default 200, at
	// most 500).
	Users int
	// SSRFTarget is the URL the chained campaign makes the shop fetch: the fake
	// metadata service's credentials URL. Empty means the target's own
	// /internal/debug. It must be a loopback address.
	SSRFTarget string
	// Truth receives the labelled truth, one JSON line per request sent. May
	// be nil (nothing is written).
	Truth io.Writer
	// Progress receives a progress line every 2 s; nil for none.
	Progress io.Writer
	// ProgressTTY rewrites one line with \r instead of printing lines.
	ProgressTTY bool
	// Concurrency bounds the requests in flight (default 32).
	Concurrency int
	// Logger; nil discards.
	Logger *slog.Logger
}

// CampaignSummary counts one campaign's requests.
type CampaignSummary struct {
	Requests     int64 `json:"requests"`
	Errors       int64 `json:"errors"`        // transport errors and timeouts (no response)
	ServerErrors int64 `json:"server_errors"` // 5xx responses
	Blocked      int64 `json:"blocked"`       // responses carrying X-Vigil-Action
}

// Summary is what a run did.
type Summary struct {
	Requests     int64                      `json:"requests"`
	Errors       int64                      `json:"errors"`
	ServerErrors int64                      `json:"server_errors"`
	Blocked      int64                      `json:"blocked"`
	Campaigns    map[string]CampaignSummary `json:"campaigns"`
	// Achieved lists the attack goals reached, sorted: "business-logic:
	// giftcard-found", "chained:ssrf-credentials", ... (see docs/simulate.md).
	Achieved []string `json:"achieved"`
	// Unsent counts planned requests dropped because the run fell more than
	// its grace period behind schedule (the machine or target was too slow).
	Unsent   int64         `json:"unsent"`
	Duration time.Duration `json:"duration_ns"`
}

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Users == 0 {
		cfg.Users = DefaultUsers
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Campaigns) == 0 {
		cfg.Campaigns = AttackCampaigns
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c *Config) validate() error {
	if _, err := loopbackURL("target", c.Target); err != nil {
		return err
	}
	if c.SSRFTarget != "" {
		if _, err := loopbackURL("SSRF target", c.SSRFTarget); err != nil {
			return err
		}
	}
	switch {
	case !(c.Rate > 0 && c.Rate <= maxRate):
		return vigil.Errorf(vigil.EINVALID, "rate %v out of range (0, %v] requests/s", c.Rate, maxRate)
	case c.Duration < 0 || c.Duration > maxDuration:
		return vigil.Errorf(vigil.EINVALID, "duration %v out of range (0, %v]", c.Duration, maxDuration)
	case c.Users < 1 || c.Users > maxUsers:
		return vigil.Errorf(vigil.EINVALID, "users %d out of range [1, %d]", c.Users, maxUsers)
	case c.Concurrency < 1 || c.Concurrency > maxConc:
		return vigil.Errorf(vigil.EINVALID, "concurrency %d out of range [1, %d]", c.Concurrency, maxConc)
	}
	seen := map[string]bool{}
	for _, name := range c.Campaigns {
		if !slices.Contains(AttackCampaigns, name) {
			return vigil.Errorf(vigil.EINVALID, "unknown campaign %q (want some of %s)", name, strings.Join(AttackCampaigns, ", "))
		}
		if seen[name] {
			return vigil.Errorf(vigil.EINVALID, "campaign %q given twice", name)
		}
		seen[name] = true
	}
	return nil
}

// loopbackURL parses an http(s) URL whose host is a loopback address. The
// simulator sends attack traffic: it refuses to aim it anywhere else.
func loopbackURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "%s %q is not a URL", what, raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, vigil.Errorf(vigil.EINVALID, "%s %q: want an http or https URL", what, raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, vigil.Errorf(vigil.EINVALID, "%s %q: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed", what, raw)
	}
	return u, nil
}

// runner is one run's shared state. Actors (one goroutine each, owned by
// Run) send through it.
type runner struct {
	cfg      Config
	base     string // target without a trailing slash
	ssrf     string
	client   *http.Client
	sem      chan struct{}
	lim      *pacer
	truth    *truthWriter
	logger   *slog.Logger
	start    time.Time
	end      time.Duration // planned requests at or after end are not sent
	deadline time.Time     // wall-clock hard stop: end plus a grace period

	requests, errs, server5xx, blocked [5]atomic.Int64
	unsent                             atomic.Int64

	mu       sync.Mutex
	achieved map[string]bool // "campaign:goal"; a handful of fixed names
}

// achieve records that a campaign reached one of its goals.
func (r *runner) achieve(a *actor, goal string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.achieved == nil {
		r.achieved = map[string]bool{}
	}
	r.achieved[a.campaign+":"+goal] = true
}

// Run sends the benign load and the selected campaigns to cfg.Target until
// cfg.Duration has passed or ctx ends, writes the labelled truth to
// cfg.Truth, and returns what it sent. It returns an error for an invalid
// config or when the truth cannot be written; target failures are counted,
// not returned.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	r := newRunner(cfg)
	defer r.client.CloseIdleConnections()

	plan := newPlan(cfg, r.base)
	grace := 2*time.Second + cfg.Duration/20
	r.start = time.Now()
	r.deadline = r.start.Add(cfg.Duration + grace)
	runCtx, cancel := context.WithDeadline(ctx, r.deadline)
	defer cancel()

	r.logger.Info("simulation started", "target", cfg.Target, "campaigns", cfg.Campaigns,
		"rate", cfg.Rate, "duration", cfg.Duration, "seed", cfg.Seed, "users", cfg.Users)

	var wg sync.WaitGroup
	progressDone := make(chan struct{})
	if cfg.Progress != nil {
		wg.Go(func() { r.progress(runCtx, progressDone) })
	}
	var actors sync.WaitGroup
	for _, script := range plan.scripts {
		actors.Go(func() {
			if err := script(runCtx, r); err != nil && !isStop(err) {
				r.logger.Warn("script failed", "err", err)
			}
		})
	}
	actors.Wait()
	close(progressDone)
	wg.Wait()

	s := r.summary(time.Since(r.start))
	if err := r.truth.flush(); err != nil {
		return s, fmt.Errorf("write truth: %w", err)
	}
	r.logger.Info("simulation finished", "requests", s.Requests, "errors", s.Errors, "blocked", s.Blocked, "unsent", s.Unsent)
	if ctx.Err() != nil {
		return s, fmt.Errorf("simulate: %w", ctx.Err())
	}
	return s, nil
}

func newRunner(cfg Config) *runner {
	tr := &http.Transport{
		Proxy:               nil, // never route attack traffic through an environment proxy
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		MaxConnsPerHost:     cfg.Concurrency,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true, // clients set Accept-Encoding themselves; see readBody
	}
	base := strings.TrimRight(cfg.Target, "/")
	ssrf := cfg.SSRFTarget
	if ssrf == "" {
		ssrf = base + "/internal/debug"
	}
	// The ceiling of the global pacer: the surge peak plus the partner and
	// the attackers, with head-room. The plan itself sets the real rate.
	ceiling := cfg.Rate*surgePeak*1.5 + partnerRate(cfg.Rate) + 8*crackRate(cfg.Rate)
	return &runner{
		cfg:    cfg,
		base:   base,
		ssrf:   ssrf,
		client: &http.Client{Transport: tr, Timeout: requestTimeout, CheckRedirect: noRedirect},
		sem:    make(chan struct{}, cfg.Concurrency),
		lim:    newPacer(ceiling, 50*time.Millisecond),
		truth:  newTruthWriter(cfg.Truth),
		logger: cfg.Logger.With("component", "simulate"),
		end:    cfg.Duration,
	}
}

// noRedirect hands redirects back to the script: an attacker reads a 3xx.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (r *runner) summary(d time.Duration) Summary {
	s := Summary{Campaigns: map[string]CampaignSummary{}, Duration: d, Unsent: r.unsent.Load(), Achieved: []string{}}
	r.mu.Lock()
	for g := range r.achieved {
		s.Achieved = append(s.Achieved, g)
	}
	r.mu.Unlock()
	slices.Sort(s.Achieved)
	for i, name := range allCampaigns {
		c := CampaignSummary{
			Requests:     r.requests[i].Load(),
			Errors:       r.errs[i].Load(),
			ServerErrors: r.server5xx[i].Load(),
			Blocked:      r.blocked[i].Load(),
		}
		if name != CampaignBenign && !slices.Contains(r.cfg.Campaigns, name) {
			continue
		}
		s.Campaigns[name] = c
		s.Requests += c.Requests
		s.Errors += c.Errors
		s.ServerErrors += c.ServerErrors
		s.Blocked += c.Blocked
	}
	return s
}

func (r *runner) progress(ctx context.Context, done <-chan struct{}) {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	line := func() string {
		s := r.summary(time.Since(r.start))
		var b strings.Builder
		fmt.Fprintf(&b, "simulate %5.1fs/%s requests=%d", s.Duration.Seconds(), r.cfg.Duration, s.Requests)
		for _, name := range allCampaigns {
			if c, ok := s.Campaigns[name]; ok {
				fmt.Fprintf(&b, " %s=%d", name, c.Requests)
			}
		}
		fmt.Fprintf(&b, " errors=%d 5xx=%d blocked=%d", s.Errors, s.ServerErrors, s.Blocked)
		return b.String()
	}
	write := func(final bool) {
		if r.cfg.ProgressTTY {
			end := ""
			if final {
				end = "\n"
			}
			fmt.Fprintf(r.cfg.Progress, "\r\033[K%s%s", line(), end)
			return
		}
		fmt.Fprintln(r.cfg.Progress, line())
	}
	for {
		select {
		case <-t.C:
			write(false)
		case <-done:
			write(true)
			return
		case <-ctx.Done():
			<-done // the actors stop on the same ctx; print the final line once they have
			write(true)
			return
		}
	}
}

// pacer is the global rate limiter: a GCRA that lets up to burst of sending
// time go early and then spaces requests interval apart.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	burst    time.Duration
	tat      time.Time // theoretical arrival time of the next request
}

func newPacer(perSecond float64, burst time.Duration) *pacer {
	return &pacer{interval: time.Duration(float64(time.Second) / perSecond), burst: burst}
}

func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	if p.tat.Before(now) {
		p.tat = now
	}
	at := p.tat.Add(-p.burst)
	p.tat = p.tat.Add(p.interval)
	p.mu.Unlock()
	return sleepUntil(ctx, at)
}

func sleepUntil(ctx context.Context, at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
