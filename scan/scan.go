package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"golang.org/x/time/rate"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/redact"
)

// Defaults and limits of Config.
const (
	DefaultConcurrency = 4
	MaxConcurrency     = 32
	DefaultRate        = 20 // requests per second
	DefaultTimeout     = 10 * time.Second
	DefaultMaxRequests = 20_000
	// MaxBody is how much of a response body is read.
	MaxBody = 1 << 20
	// maxEvidenceBody is how much of a body goes into evidence.
	maxEvidenceBody = 2048
)

// ErrBudget is returned for requests past Config.MaxRequests.
var ErrBudget = errors.New("request budget spent (--max-requests)")

// Config configures Run.
type Config struct {
	// Target is the base URL (http or https). Requests go to its host only.
	Target string
	API    *API
	// Identities are the test identities; AdminRoles the roles allowed to
	// call admin operations (default ["admin"]).
	Identities []*Identity
	AdminRoles []string
	// Templates are the tests to run (BuiltinTemplates plus the user's).
	Templates []*Template
	// Safe skips every test that sends a state-changing request (POST,
	// PUT, PATCH, DELETE), and the setup requests that create objects.
	Safe bool
	// Concurrency is the most tests running at once (each sends its
	// requests one by one): default 4, at most 32.
	Concurrency int
	// Rate is the most requests per second, default 20.
	Rate float64
	// Timeout bounds each request, default 10s.
	Timeout time.Duration
	// MaxRequests caps the requests sent, default 20000.
	MaxRequests int
	// CallbackAddr is where the SSRF callback listener listens, default
	// "127.0.0.1:0"; CallbackURL, when set, is the URL the target is told
	// to call instead of the listener's own (a tunnel to it).
	CallbackAddr string
	CallbackURL  string
	// Client sends the requests; nil uses Run's own. Redirects are never
	// followed.
	Client *http.Client
	Logger *slog.Logger
	// Observed are object reads from recorded traffic (ObservedFrom), for
	// the templates of variant "observed".
	Observed []Observed
	// Known are all the templates loaded, run or not: the templates a
	// replay uses are looked up in Templates, then Known, then the built-in
	// ones.
	Known []*Template
	// Findings are attacks Vigil's detectors reported (DetectedFrom a
	// store), for the templates of kind replay: each is replayed against
	// Target with those templates' safe payloads, never its own.
	Findings []vigil.Finding
	// Tool names the scanner in the report ("vigil 1.2.3").
	Tool string
	// OnStart is called once with the number of tests planned; OnResult
	// after each test, one call at a time.
	OnStart  func(total int)
	OnResult func(Result)
}

// Run scans cfg.Target. It returns an error for a bad Config or when the
// target cannot be reached; when ctx ends first it returns the partial
// report (Partial set) and no error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return r.run(ctx)
}

// runner is one Run.
type runner struct {
	cfg      Config
	base     *url.URL
	client   *http.Client
	own      *http.Transport
	limit    *rate.Limiter
	sent     atomic.Int64
	red      *redact.Redactor
	gen      *generator
	pool     *pool
	logger   *slog.Logger
	callback *callback

	mu      sync.Mutex
	results []Result
	failed  map[string]int       // template id → findings
	smoke   map[string]*Response // operation → its smoke response

	replays    []*replayTarget
	replayUses map[string][]*Template // replay template id → the templates it uses
}

func newRunner(cfg Config) (*runner, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.Target))
	if err != nil {
		return nil, fmt.Errorf("scan: target: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("scan: target %q: want an http:// or https:// URL with a host", cfg.Target)
	}
	if u.User != nil {
		return nil, fmt.Errorf("scan: target %q: credentials in the URL; use an identity", cfg.Target)
	}
	if cfg.API == nil || len(cfg.API.Ops) == 0 {
		return nil, errors.New("scan: no operations: give a spec")
	}
	if len(cfg.Identities) > maxIdentities {
		return nil, fmt.Errorf("scan: %d identities, at most %d", len(cfg.Identities), maxIdentities)
	}
	seen := map[string]bool{}
	for _, id := range cfg.Identities {
		if err := id.validate(); err != nil {
			return nil, fmt.Errorf("scan: identity %s", err)
		}
		if seen[id.Name] {
			return nil, fmt.Errorf("scan: identity %q given twice", id.Name)
		}
		seen[id.Name] = true
	}
	if len(cfg.AdminRoles) == 0 {
		cfg.AdminRoles = []string{"admin"}
	}
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tool == "" {
		cfg.Tool = "vigil"
	}
	r := &runner{cfg: cfg, base: &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: strings.TrimRight(u.Path, "/")},
		limit: rate.NewLimiter(rate.Limit(cfg.Rate), 1), red: redact.New(), pool: newPool(), logger: cfg.Logger.With("component", "scan"),
		failed: map[string]int{}, smoke: map[string]*Response{}}
	r.gen = &generator{api: cfg.API, pool: r.pool}
	if r.replayUses, err = resolveReplays(cfg.Templates, cfg.Known); err != nil {
		return nil, err
	}
	r.planReplays()
	if cfg.Client != nil {
		c := *cfg.Client
		r.client = &c
	} else {
		r.own = &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: cfg.Concurrency,
			IdleConnTimeout: 30 * time.Second, TLSHandshakeTimeout: cfg.Timeout, ResponseHeaderTimeout: cfg.Timeout}
		r.client = &http.Client{Transport: r.own}
	}
	r.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r.client.Timeout = cfg.Timeout
	return r, nil
}

func (r *runner) close() {
	if r.own != nil {
		r.own.CloseIdleConnections()
	}
	if r.callback != nil {
		r.callback.close()
	}
}

// Response is an answer, its body capped at MaxBody.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Evidence Evidence
	// Took is the time from sending the request to the end of the body.
	Took time.Duration
}

// send sends req as identity id (nil = anonymous).
func (r *runner) send(ctx context.Context, req *Request, id *Identity) (*Response, error) {
	h := map[string]string{}
	id.apply(h)
	for k, v := range req.Header {
		h[k] = v
	}
	return r.sendRaw(ctx, req.Method, req.Path, h, req.Body)
}

// sendRaw sends one request to the target's host: path is relative to the
// target's base path.
func (r *runner) sendRaw(ctx context.Context, method, path string, h map[string]string, body []byte) (*Response, error) {
	if r.sent.Add(1) > int64(r.cfg.MaxRequests) {
		r.sent.Add(-1)
		return nil, ErrBudget
	}
	if err := r.limit.Wait(ctx); err != nil {
		r.sent.Add(-1)
		return nil, err
	}
	target := r.base.Scheme + "://" + r.base.Host + r.base.Path + path
	u, err := url.Parse(target)
	if err != nil || !strings.EqualFold(u.Host, r.base.Host) {
		return nil, fmt.Errorf("request %s: out of scope or malformed", path)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "vigil-scan")
	req.Header.Set("Accept", "application/json")
	for k, v := range h {
		if strings.EqualFold(k, "Host") {
			continue
		}
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, err
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b, Took: time.Since(start)}
	out.Evidence = r.evidence(req, body, out)
	return out, nil
}

// evidence renders a request and its response as redacted HTTP/1.1 text.
func (r *runner) evidence(req *http.Request, body []byte, resp *Response) Evidence {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s HTTP/1.1\r\nHost: %s\r\n", req.Method, r.red.URL(req.URL).RequestURI(), req.URL.Host)
	writeHeaders(&sb, r.red.Header(req.Header))
	sb.WriteString("\r\n")
	sb.Write(capBody(r.red.Body(req.Header.Get("Content-Type"), body)))
	ev := Evidence{Request: sb.String()}
	sb.Reset()
	fmt.Fprintf(&sb, "HTTP/1.1 %d %s\r\n", resp.Status, http.StatusText(resp.Status))
	writeHeaders(&sb, r.red.Header(resp.Header))
	sb.WriteString("\r\n")
	sb.Write(capBody(r.red.Body(resp.Header.Get("Content-Type"), resp.Body)))
	ev.Response = sb.String()
	return ev
}

func writeHeaders(sb *strings.Builder, h http.Header) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			fmt.Fprintf(sb, "%s: %s\r\n", k, v)
		}
	}
}

func capBody(b []byte) []byte {
	if len(b) > maxEvidenceBody {
		return append(b[:maxEvidenceBody:maxEvidenceBody], []byte("\n[… truncated]")...)
	}
	return b
}

// task is one template run against one operation, or one replay of
// detected attacks.
type task struct {
	t  *Template
	op *Operation
	rp *replayTarget
}

// name is the operation the task's result names.
func (t task) name() string {
	if t.rp != nil {
		return t.rp.opName
	}
	return t.op.String()
}

// needsCallback reports whether a test of the run needs the SSRF callback
// listener.
func (r *runner) needsCallback() bool {
	isSSRF := func(t *Template) bool { return t.Kind == KindSSRF }
	if slices.ContainsFunc(r.cfg.Templates, isSSRF) {
		return true
	}
	for _, tg := range r.replays {
		if tg.skip == "" && slices.ContainsFunc(r.replayUses[tg.t.ID], isSSRF) {
			return true
		}
	}
	return false
}

// run is the whole scan: authenticate, crawl, then the tests.
func (r *runner) run(ctx context.Context) (*Report, error) {
	rep := &Report{Tool: r.cfg.Tool, Target: r.base.String(), Spec: r.cfg.API.Title, Started: time.Now().UTC()}
	finish := func() *Report {
		rep.Finished = time.Now().UTC()
		rep.Requests = int(r.sent.Load())
		r.mu.Lock()
		rep.Results = slices.Clone(r.results)
		r.mu.Unlock()
		sortResults(rep.Results)
		if ctx.Err() != nil {
			rep.Partial = true
		}
		return rep
	}
	if err := r.authenticate(ctx); err != nil {
		if ctx.Err() != nil {
			return finish(), nil
		}
		return nil, err
	}
	r.prepareExpired(time.Now())
	r.crawl(ctx)
	if ctx.Err() != nil {
		return finish(), nil
	}
	if r.needsCallback() {
		cb, err := startCallback(r.cfg.CallbackAddr, r.cfg.CallbackURL)
		if err != nil {
			return nil, err
		}
		r.callback = cb
	}
	early, late, final := r.plan()
	if r.cfg.OnStart != nil {
		r.cfg.OnStart(len(early) + len(late) + len(final))
	}
	r.runTasks(ctx, early, r.cfg.Concurrency)
	r.runTasks(ctx, late, 1)
	r.runTasks(ctx, final, 1)
	rep = finish()
	if r.sent.Load() >= int64(r.cfg.MaxRequests) {
		rep.Partial = true
	}
	return rep, nil
}

// plan lists the tasks: every template against every operation it applies
// to. Late tasks (mass assignment, rate limits, method tampering, writes to
// other identities' objects) change state that other tests rely on, or
// lock accounts, so they run after the others, one at a time; tests of
// DELETE operations run last of all.
func (r *runner) plan() (early, late, final []task) {
	for _, tg := range r.replays {
		t := task{t: tg.t, op: tg.op, rp: tg}
		switch tg.stage(r.replayUses[tg.t.ID]) {
		case 2:
			final = append(final, t)
		case 1:
			late = append(late, t)
		default:
			early = append(early, t)
		}
	}
	for _, t := range r.cfg.Templates {
		if t.Kind == KindReplay {
			continue // planned from the findings above
		}
		ops := r.cfg.API.Ops
		if t.Kind == KindMethod {
			ops = onePerPath(ops)
		}
		for _, op := range ops {
			if !t.Select.applies(op) || !kindApplies(t, op) {
				continue
			}
			if t.Variant == "observed" && len(r.observedFor(op)) == 0 {
				continue // no recorded traffic for this operation
			}
			switch {
			case op.Method == "DELETE":
				final = append(final, task{t: t, op: op})
			case t.Kind == KindMassAssign || t.Kind == KindRateLimit || t.Kind == KindMethod || (t.Kind == KindBOLA && op.Method != "GET"):
				late = append(late, task{t: t, op: op})
			default:
				early = append(early, task{t: t, op: op})
			}
		}
	}
	return early, late, final
}

func onePerPath(ops []*Operation) []*Operation {
	seen := map[string]bool{}
	var out []*Operation
	for _, op := range ops {
		if !seen[op.Path] {
			seen[op.Path] = true
			out = append(out, op)
		}
	}
	return out
}

// runTasks runs tasks on n workers. A task's panic becomes an error result.
func (r *runner) runTasks(ctx context.Context, tasks []task, n int) {
	ch := make(chan task, len(tasks))
	for _, t := range tasks {
		ch <- t
	}
	close(ch)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for t := range ch {
				if ctx.Err() != nil || r.sent.Load() >= int64(r.cfg.MaxRequests) {
					return // stopped, or the request budget is spent: the report is partial
				}
				r.runOne(ctx, t)
			}
		})
	}
	wg.Wait()
}

func (r *runner) runOne(ctx context.Context, t task) {
	r.mu.Lock()
	limited := t.t.Limit > 0 && r.failed[t.t.ID] >= t.t.Limit
	r.mu.Unlock()
	start := time.Now()
	if limited {
		r.record(t, skipf("not run: already found on another operation (limit %d)", t.t.Limit), start)
		return
	}
	var v verdict
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.logger.Error("test panicked", "test", t.t.ID, "op", t.name(), "panic", p, "stack", string(debug.Stack()))
				v = errorf("internal error: %v", p)
			}
		}()
		if t.rp != nil {
			v = r.replay(ctx, t.rp) // --safe applies to each template it uses
			return
		}
		if r.cfg.Safe && stateChanging(t) {
			v = skipf("state-changing test skipped by --safe")
			return
		}
		v = r.check(ctx, t.t, t.op)
	}()
	if v.status == "" {
		v = skipf("not applicable to this operation")
	}
	if ctx.Err() != nil && v.status == StatusError {
		return // stopped: the test did not finish
	}
	r.record(t, v, start)
}

// record adds a verdict to the results, unless the template's limit of
// findings was reached meanwhile.
func (r *runner) record(t task, v verdict, start time.Time) {
	res := Result{Test: t.t.ID, Name: t.t.Name, Category: t.t.Category, Operation: t.name(), Status: v.status,
		Severity: t.t.Severity, Identity: v.identity, Detail: v.detail, Evidence: v.evidence, Duration: time.Since(start)}
	r.mu.Lock()
	if res.Status == StatusFail && t.t.Limit > 0 && r.failed[t.t.ID] >= t.t.Limit {
		res.Status, res.Detail, res.Evidence = StatusSkipped, fmt.Sprintf("not reported: already found on another operation (limit %d)", t.t.Limit), nil
	}
	if res.Status == StatusFail {
		r.failed[t.t.ID]++
	}
	r.results = append(r.results, res)
	if r.cfg.OnResult != nil {
		r.cfg.OnResult(res)
	}
	r.mu.Unlock()
}

// stateChanging reports whether a task sends state-changing requests.
func stateChanging(t task) bool {
	switch t.t.Kind {
	case KindMassAssign, KindMethod:
		return true
	case KindRateLimit:
		return t.op.StateChanging() && !isLogin(t.op)
	}
	return t.op.StateChanging()
}

// verdict is a check's outcome.
type verdict struct {
	status   Status
	detail   string
	identity string
	evidence []Evidence
}

func pass(format string, args ...any) verdict {
	return verdict{status: StatusPass, detail: fmt.Sprintf(format, args...)}
}

func fail(format string, args ...any) verdict {
	return verdict{status: StatusFail, detail: fmt.Sprintf(format, args...)}
}

func skipf(format string, args ...any) verdict {
	return verdict{status: StatusSkipped, detail: fmt.Sprintf(format, args...)}
}

func errorf(format string, args ...any) verdict {
	return verdict{status: StatusError, detail: fmt.Sprintf(format, args...)}
}

func (v verdict) with(who string, resps ...*Response) verdict {
	v.identity = who
	for _, x := range resps {
		if x != nil {
			v.evidence = append(v.evidence, x.Evidence)
		}
	}
	return v
}

// check dispatches to the kind.
func (r *runner) check(ctx context.Context, t *Template, op *Operation) verdict {
	switch t.Kind {
	case KindBOLA:
		if t.Variant == "observed" {
			return r.observedBOLA(ctx, t, op)
		}
		return r.bola(ctx, t, op)
	case KindBFLA:
		if t.Variant == "observed" {
			return r.observedBFLA(ctx, t, op)
		}
		return r.bfla(ctx, t, op)
	case KindAuth:
		return r.auth(ctx, t, op)
	case KindMassAssign:
		return r.massAssign(ctx, t, op)
	case KindInject, KindVerbose:
		return r.inject(ctx, t, op)
	case KindSSRF:
		return r.ssrf(ctx, t, op)
	case KindExposure:
		return r.exposure(ctx, t, op)
	case KindRateLimit:
		return r.rateLimit(ctx, t, op)
	case KindHeaders:
		return r.headers(ctx, t, op)
	case KindMethod:
		return r.method(ctx, t, op)
	}
	return verdict{}
}

func sortResults(rs []Result) {
	rank := map[Status]int{StatusFail: 0, StatusError: 1, StatusPass: 2, StatusSkipped: 3}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if rank[a.Status] != rank[b.Status] {
			return rank[a.Status] < rank[b.Status]
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Test != b.Test {
			return a.Test < b.Test
		}
		return a.Operation < b.Operation
	})
}

// netError reports a transport failure in words.
func netError(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}
