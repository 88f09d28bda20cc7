// Package discover hunts for undocumented endpoints of a running API by
// asking for them: the active, testing side of shadow-API hunting (the
// inventory finds them passively, in traffic).
//
// Run sends GET requests for a bounded list of guesses — a built-in
// wordlist, paths derived from the API's spec (older and newer versions of
// documented paths, sibling resources, version roots) and the caller's own
// words — to one host, and classifies what answers: shadow (undocumented),
// zombie (an older version of a documented path, or a deprecated operation,
// still answering) or documented. A soft-404 guard keeps catch-all servers
// (single-page apps, gateways that answer 401 to everything) from turning
// every guess into a finding.
//
// Run is polite and scoped: GET only, a request rate, a concurrency limit,
// a per-request timeout and a hard cap on requests; requests go to the
// target's host only and redirects are recorded, never followed.
// See docs/discover.md.
package discover

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/time/rate"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/inventory/spec"
)

// Defaults and limits of Config.
const (
	DefaultConcurrency = 4
	MaxConcurrency     = 32
	DefaultRate        = 20 // requests per second
	DefaultTimeout     = 5 * time.Second
	DefaultMaxRequests = 2000
	// MaxBody is how much of a response body is read (for its length and
	// fingerprint); the rest is not downloaded.
	MaxBody = 1 << 20
	// maxWordlist caps Config.Wordlist.
	maxWordlist = 10_000
)

// Classes of a Result.
const (
	ClassShadow     = "shadow"     // answering, not in the spec
	ClassZombie     = "zombie"     // an older version of a documented path, or a deprecated operation, still answering
	ClassDocumented = "documented" // answering as a documented operation (reported with Verbose)
	ClassNotFound   = "not-found"  // not there (reported with Verbose)
)

// Config configures Run.
type Config struct {
	// Target is the base URL: http or https. Discovery is scoped to its
	// host; a path in it is a base under which the wordlists are tried.
	Target string
	// Spec holds the documented operations, optional: guesses are derived
	// from them, and answers that match them are not shadow.
	Spec *spec.Set
	// Wordlist holds extra paths ("/v1/legacy", "/search?q=x"); the
	// built-in list is always used.
	Wordlist []string
	// Concurrency is the most requests in flight: default 4, at most 32.
	Concurrency int
	// Rate is the most requests per second, default 20.
	Rate float64
	// Timeout bounds each request, default 5s.
	Timeout time.Duration
	// MaxRequests caps the requests sent, soft-404 probes included:
	// default 2000.
	MaxRequests int
	// Headers are sent with every request (Authorization for an
	// authenticated crawl). A User-Agent here replaces Vigil's.
	Headers http.Header
	// Client sends the requests; nil uses a client of Run's own. Run never
	// follows redirects, whatever the client's CheckRedirect says.
	Client *http.Client
	// Verbose also reports guesses that answered as documented operations
	// and guesses that were not found.
	Verbose bool
}

// Result is one guess that answered (or, with Verbose, any guess).
type Result struct {
	Method      string `json:"method"`
	Path        string `json:"path"` // as sent, query included
	Status      int    `json:"status"`
	Length      int64  `json:"length"` // body bytes (Content-Length when the body was not read to the end)
	ContentType string `json:"content_type,omitempty"`
	Location    string `json:"location,omitempty"` // a redirect's target, not followed
	// Class is ClassShadow, ClassZombie, ClassDocumented or ClassNotFound.
	Class string `json:"class"`
	// Twin is, for a version twin (a zombie, or a shadow newer version),
	// the documented path template it mirrors: "/api/v2/users/{id}".
	Twin   string `json:"twin,omitempty"`
	Reason string `json:"reason"`
}

// Report is the outcome of Run.
type Report struct {
	Target   string        `json:"target"`
	Planned  int           `json:"planned"`   // requests planned, soft-404 probes included
	Sent     int           `json:"sent"`      // requests sent
	NotFound int           `json:"not_found"` // guesses not there (404/405/410/501, or answering like a random path)
	Found    []Result      `json:"found"`     // sorted by path
	Duration time.Duration `json:"duration"`
	Errors   int           `json:"errors"` // requests without a usable answer (network errors, timeouts, 429, 502-504)
	// CatchAll describes what random paths answered when that was not a
	// plain 404 ("200 text/html"): the soft-404 guard discarded guesses
	// answering the same.
	CatchAll string `json:"catch_all,omitempty"`
	Stopped  bool   `json:"stopped"` // the context ended the run: the report is partial
}

// Run sends the guesses to cfg.Target and reports what answered. It returns
// an error for a bad Config, or when the target cannot be reached at all.
// When ctx ends first, Run returns the partial report with Stopped set and
// a nil error. progress, if not nil, is called after every request from
// Run's goroutine.
func Run(ctx context.Context, cfg Config, progress func(done, total int)) (*Report, error) {
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	start := time.Now()
	rep := &Report{Target: r.base.String()}
	r.rep = rep
	r.progress = progress
	err = r.run(ctx)
	if ctx.Err() != nil {
		rep.Stopped = true
		err = nil
	}
	rep.Duration = time.Since(start)
	sortResults(rep.Found)
	return rep, err
}

// runner is one Run.
type runner struct {
	cfg      Config
	base     *url.URL // scheme and host; Path is the base path without a trailing slash
	client   *http.Client
	own      *http.Transport // the transport Run made, closed at the end
	limit    *rate.Limiter
	idx      specIndex
	rep      *Report
	progress func(done, total int)
	done     int
}

func newRunner(cfg Config) (*runner, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.Target))
	if err != nil {
		return nil, fmt.Errorf("discover: target: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("discover: target %q: want an http:// or https:// URL", cfg.Target)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("discover: target %q: no host", cfg.Target)
	}
	if u.User != nil {
		return nil, fmt.Errorf("discover: target %q: credentials in the URL; pass them as a header", cfg.Target)
	}
	base := &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: strings.TrimRight(u.Path, "/")}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	cfg.Concurrency = min(cfg.Concurrency, MaxConcurrency)
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = DefaultMaxRequests
	}
	if len(cfg.Wordlist) > maxWordlist {
		return nil, fmt.Errorf("discover: wordlist of %d paths: at most %d", len(cfg.Wordlist), maxWordlist)
	}
	r := &runner{cfg: cfg, base: base, limit: rate.NewLimiter(rate.Limit(cfg.Rate), 1)}
	if cfg.Client != nil {
		c := *cfg.Client
		r.client = &c
	} else {
		r.own = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			MaxIdleConnsPerHost:   cfg.Concurrency,
			IdleConnTimeout:       30 * time.Second,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
		}
		r.client = &http.Client{Transport: r.own}
	}
	r.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return r, nil
}

func (r *runner) close() {
	if r.own != nil {
		r.own.CloseIdleConnections()
	}
}

// run plans the guesses, probes random paths for the soft-404 guard, then
// sends the guesses.
func (r *runner) run(ctx context.Context) error {
	r.idx = newSpecIndex(r.cfg.Spec, r.base.Host)
	guesses := plan(r.base.Path, r.idx, r.cfg.Wordlist, r.cfg.Verbose)
	probes := baselineProbes(r.base.Path, guesses, r.cfg.MaxRequests)
	if n := r.cfg.MaxRequests - len(probes); len(guesses) > n {
		guesses = guesses[:max(n, 0)]
	}
	r.rep.Planned = len(probes) + len(guesses)

	// Phase 1: random paths, to learn what "not here" looks like.
	base := &baseline{byPrefix: map[string][]fingerprint{}}
	var reached bool
	var lastErr error
	r.fetchAll(ctx, probes, func(i int, o outcome) {
		if o.err != nil {
			lastErr = o.err
			if ctx.Err() == nil {
				r.rep.Errors++
			}
			return
		}
		reached = true
		base.add(probes[i].prefix, o)
	})
	if ctx.Err() != nil {
		return nil
	}
	if !reached {
		return fmt.Errorf("discover: %s: target unreachable: %w", r.base.Host, lastErr)
	}
	base.finish()
	r.rep.CatchAll = base.describe()

	// Phase 2: the guesses.
	paths := make([]probe, len(guesses))
	for i, g := range guesses {
		paths[i] = probe{path: g.path}
	}
	var found []finding
	r.fetchAll(ctx, paths, func(i int, o outcome) {
		if o.err != nil {
			if ctx.Err() == nil {
				r.rep.Errors++
			}
			return
		}
		res, ok := r.classify(guesses[i], o, base)
		switch {
		case !ok:
			r.rep.Errors++
		case res.Class == ClassNotFound:
			r.rep.NotFound++
			if r.cfg.Verbose {
				found = append(found, finding{res, guesses[i], o.hash})
			}
		case res.Class == ClassDocumented && !r.cfg.Verbose:
		default:
			found = append(found, finding{res, guesses[i], o.hash})
		}
	})
	r.rep.Found = fold(found)
	return nil
}

// outcome is what one request got.
type outcome struct {
	status   int
	length   int64
	ctype    string
	location string
	locMask  string // location with the request path masked
	hash     uint64 // of the body, with the request path masked
	err      error
}

// probe is one request to send: a path and, for a soft-404 probe, the
// prefix it stands for.
type probe struct {
	path   string
	prefix string
}

// fetchAll sends the probes with the configured concurrency and rate, and
// calls each with every outcome from the calling goroutine, in completion
// order. It returns when all are done or ctx ends.
func (r *runner) fetchAll(ctx context.Context, probes []probe, each func(i int, o outcome)) {
	if len(probes) == 0 {
		return
	}
	type done struct {
		i    int
		o    outcome
		sent bool
	}
	jobs := make(chan int)
	results := make(chan done)
	var wg sync.WaitGroup
	for range min(r.cfg.Concurrency, len(probes)) {
		wg.Go(func() {
			for i := range jobs {
				if err := r.limit.Wait(ctx); err != nil {
					results <- done{i: i, o: outcome{err: err}}
					continue
				}
				results <- done{i: i, o: r.fetch(ctx, probes[i].path), sent: true}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range probes {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for d := range results {
		if d.sent {
			r.rep.Sent++
		}
		if d.sent || ctx.Err() == nil {
			each(d.i, d.o)
		}
		r.done++
		if r.progress != nil {
			r.progress(r.done, r.rep.Planned)
		}
	}
}

// fetch sends one GET and reads (a bounded part of) the answer.
func (r *runner) fetch(ctx context.Context, p string) outcome {
	u := *r.base
	u.Path, u.RawQuery, _ = strings.Cut(p, "?")
	if u.Scheme != r.base.Scheme || u.Host != r.base.Host {
		return outcome{err: errors.New("out of scope")} // cannot happen: the scope check of last resort
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return outcome{err: err}
	}
	for k, vs := range r.cfg.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "vigil-discover/1")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json, */*;q=0.5")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return outcome{err: err}
	}
	o := outcome{
		status:   resp.StatusCode,
		length:   int64(len(body)),
		ctype:    resp.Header.Get("Content-Type"),
		location: resp.Header.Get("Location"),
		hash:     bodyHash(body, p, u.EscapedPath()),
	}
	o.locMask = maskPath(o.location, p, u.EscapedPath())
	if resp.ContentLength > o.length {
		o.length = resp.ContentLength
	}
	return o
}
