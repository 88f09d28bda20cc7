package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/correlate"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/identity"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/recon"
	"github.com/vigilsec/vigil/inventory/schema"
	"github.com/vigilsec/vigil/inventory/spec"
	"github.com/vigilsec/vigil/pipeline"
	"github.com/vigilsec/vigil/respond"
	"github.com/vigilsec/vigil/sensor/proxy"
	"github.com/vigilsec/vigil/store/sqlite"
)

func newProxyCmd(a *app) *cobra.Command {
	var (
		listen, upstream, store, clientIPHeader, tlsCert, tlsKey, metricsListen, capture string
		trusted                                                                          []string
		enforce, neutralErrors                                                           bool
		inline                                                                           bool
		inlineDeadline                                                                   time.Duration
		inlineFailClosed                                                                 []string
		captureBytes                                                                     int64
		upstreamTimeout                                                                  time.Duration
		detectors                                                                        bool
		crs                                                                              crsFlags
		engine                                                                           string
	)
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "proxy --upstream URL",
		Short: "Run the inline reverse proxy in front of an API",
		Long: `Run Vigil as a reverse proxy in front of an API. Every request is forwarded
unchanged while at most --capture-bytes of each body is copied for analysis;
analysis never delays forwarding (when it falls behind, it is shed and counted).
Actions in the store (block, rate-limit, tarpit, decoy) are enforced before
forwarding; with --inline each request is also checked before it is forwarded,
within --inline-deadline. Findings, endpoints and redacted samples go to the
SQLite store. The response policy and the specs are reloaded when their files
change and on SIGHUP.`,
		Example: `  # Protect an API on port 9000, listening on loopback port 8080
  vigil proxy --upstream http://127.0.0.1:9000

  # Behind a load balancer at 10.0.0.5 that sets X-Forwarded-For
  vigil proxy --listen 0.0.0.0:8080 --upstream http://127.0.0.1:9000 \
    --client-ip-header X-Forwarded-For --trusted-proxy 10.0.0.5

  # Stop injections in line, before they reach the API; 503 on /admin when the check overruns
  vigil proxy --upstream http://127.0.0.1:9000 --enforce --inline --inline-fail-closed /admin

  # Terminate TLS
  vigil proxy --upstream http://127.0.0.1:9000 --tls-cert cert.pem --tls-key key.pem`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			set(fs, "listen", &a.cfg.Proxy.Listen, listen)
			set(fs, "upstream", &a.cfg.Proxy.Upstream, upstream)
			set(fs, "store", &a.cfg.Store.Path, store)
			set(fs, "capture-bytes", &a.cfg.Proxy.CaptureBytes, captureBytes)
			set(fs, "upstream-timeout", &a.cfg.Proxy.UpstreamTimeout, upstreamTimeout)
			set(fs, "client-ip-header", &a.cfg.Identity.ClientIPHeader, clientIPHeader)
			set(fs, "trusted-proxy", &a.cfg.Identity.TrustedProxies, trusted)
			set(fs, "tls-cert", &a.cfg.Proxy.TLSCert, tlsCert)
			set(fs, "tls-key", &a.cfg.Proxy.TLSKey, tlsKey)
			set(fs, "engine", &a.cfg.Proxy.Engine, engine)
			set(fs, "detectors", &a.cfg.Pipeline.Detect, detectors)
			crs.apply(fs, &a.cfg)
			if enforce {
				a.cfg.Respond.Mode = "enforce"
			}
			set(fs, "neutral-errors", &a.cfg.Proxy.NeutralErrors, neutralErrors)
			set(fs, "inline", &a.cfg.Proxy.Inline.Enabled, inline)
			set(fs, "inline-deadline", &a.cfg.Proxy.Inline.Deadline, inlineDeadline)
			set(fs, "inline-fail-closed", &a.cfg.Proxy.Inline.FailClosed, inlineFailClosed)
			if a.cfg.Proxy.Upstream == "" {
				return usagef("--upstream is required (or proxy.upstream in --config)")
			}
			if err := a.validate(); err != nil {
				return err
			}
			return a.runProxy(cmd.Context(), proxyRun{metricsListen: metricsListen, capture: capture})
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", d.Proxy.Listen, "address to listen on")
	f.StringVar(&upstream, "upstream", "", "URL of the API to protect (required)")
	f.StringVar(&store, "store", d.Store.Path, "SQLite file for findings, endpoints and samples")
	f.Int64Var(&captureBytes, "capture-bytes", d.Proxy.CaptureBytes, "bytes of each body copied for analysis")
	f.DurationVar(&upstreamTimeout, "upstream-timeout", d.Proxy.UpstreamTimeout, "wait this long for the upstream's response headers, then answer 504")
	f.StringVar(&clientIPHeader, "client-ip-header", "", "header with the client address (e.g. X-Forwarded-For), believed from --trusted-proxy peers only")
	f.StringSliceVar(&trusted, "trusted-proxy", nil, "address or CIDR of a proxy allowed to set --client-ip-header (repeatable)")
	f.StringVar(&tlsCert, "tls-cert", "", "PEM certificate: serve HTTPS (with --tls-key)")
	f.StringVar(&tlsKey, "tls-key", "", "PEM private key for --tls-cert")
	f.StringVar(&engine, "engine", d.Proxy.Engine, "HTTP server for plain HTTP: fast (fasthttp, request bodies up to proxy.max_body_bytes) or std (net/http, request bodies of any length streamed); HTTPS always uses std")
	f.BoolVar(&detectors, "detectors", d.Pipeline.Detect, "run the built-in detectors; --detectors=false records inventory and samples only")
	crs.add(f)
	f.BoolVar(&enforce, "enforce", false, "enforce the response policy (block, rate-limit, tarpit, decoy); without it actions are only recorded, unless respond.mode says enforce")
	f.BoolVar(&neutralErrors, "neutral-errors", false, "replace verbose error bodies (stack traces, SQL errors, internal validation messages) with a neutral JSON error and request id; the original stays in the capture")
	f.BoolVar(&inline, "inline", false, "check each request before forwarding with the request-side detectors (injection, SSRF, JWT); with --enforce a finding the policy blocks on is answered 403 in line")
	f.DurationVar(&inlineDeadline, "inline-deadline", d.Proxy.Inline.Deadline, "time the inline check may take; past it the request is forwarded and the overrun counted")
	f.StringSliceVar(&inlineFailClosed, "inline-fail-closed", nil, "path prefix or template (/admin, /users/{id}/payment) answered 503 when the inline check overruns (repeatable)")
	f.StringVar(&capture, "capture", "", "record every analyzed exchange, redacted, as JSON lines in this file (replay with vigil analyze)")
	f.StringVar(&metricsListen, "metrics-listen", "", "serve Prometheus metrics and /healthz on this address (e.g. 127.0.0.1:9090); off when empty")
	return cmd
}

// proxyRun holds what runProxy needs beyond the configuration.
type proxyRun struct {
	metricsListen string
	// capture, when set, is a file to record every analyzed exchange in.
	capture string
	// ready, when set, is called with the proxy's address once it listens.
	ready func(addr string)
	// extra components to run in the same group (the demo's shop and simulator).
	group func(ctx context.Context, g *errgroup.Group, s *engine) error
	// hup, when set, replaces SIGHUP as the reload signal (tests);
	// reloadEvery replaces reloadInterval.
	hup         <-chan os.Signal
	reloadEvery time.Duration
}

// engine is the running analysis side shared by proxy, analyze and demo.
type engine struct {
	store      *sqlite.Store
	responder  *respond.Responder    // turns findings into actions; nil without a store
	correlator *correlate.Correlator // ties findings into incidents; nil without a store
	inv        *inventory.Inventory
	specs      *spec.Set  // the configured specs at start; empty when none
	live       *liveSpecs // the specs in force, swapped on reload
	reload     reloadStats
	pipe       *pipeline.Pipeline
	resolver   *identity.Resolver
	table      *proxy.Table
}

// engineOpts say how to build an engine.
type engineOpts struct {
	mode pipeline.Mode
	// workers is the number of analysis workers when pipeline.workers
	// leaves it open (0: one per CPU).
	workers int
	store   bool             // open the configured store
	extra   []vigil.Analyzer // run after the detectors (the capture writer)
	sinks   []vigil.Sink     // beyond the store
}

// resolver builds the actor resolver from the identity configuration.
func (a *app) resolver() (*identity.Resolver, error) {
	prefixes, err := a.cfg.Identity.Prefixes()
	if err != nil {
		return nil, usageError{err}
	}
	res, err := identity.New(identity.Config{
		ClientIPHeader: a.cfg.Identity.ClientIPHeader,
		TrustedProxies: prefixes,
		APIKeyHeaders:  a.cfg.Identity.APIKeyHeaders,
		SessionCookies: a.cfg.Identity.SessionCookies,
	})
	if err != nil {
		return nil, usageError{err}
	}
	return res, nil
}

// openEngine opens the store and builds the resolver and pipeline.
func (a *app) openEngine(ctx context.Context, o engineOpts) (*engine, error) {
	withStore, sinks := o.store, o.sinks
	res, err := a.resolver()
	if err != nil {
		return nil, err
	}
	specs, err := a.loadSpecs()
	if err != nil {
		return nil, err
	}
	analyzers, err := a.analyzers(specs)
	if err != nil {
		return nil, err
	}
	live := newLiveSpecs(specs)
	analyzers = a.bindSpecs(analyzers, live)
	analyzers = append(analyzers, o.extra...)
	eng := &engine{resolver: res, table: proxy.NewTable(), inv: a.newInventory(specs), specs: specs, live: live}
	var rec pipeline.Recorder
	if withStore {
		eng.store, err = sqlite.Open(ctx, a.cfg.Store.Path, sqlite.WithSamplesPerEndpoint(a.cfg.Store.SamplesPerEndpoint))
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", a.cfg.Store.Path, err)
		}
		resp, err := a.newResponder(ctx, eng.store, eng.table)
		if err != nil {
			eng.store.Close()
			return nil, err
		}
		eng.responder = resp
		sinks = append([]vigil.Sink{eng.store, resp}, sinks...)
		// The correlator comes last: it ties the findings into incidents and
		// hands its incident.stage findings to every sink before it (the
		// store, the responder, a findings file).
		eng.correlator = correlate.New(correlate.Config{}, eng.store, correlate.WithSinks(sinks...))
		sinks = append(sinks, eng.correlator)
		rec = eng.store
		if err := loadInventory(ctx, eng.store, eng.inv, a.logger); err != nil {
			eng.store.Close()
			return nil, fmt.Errorf("load the inventory from %s: %w", a.cfg.Store.Path, err)
		}
	}
	workers := a.cfg.Pipeline.Workers
	if workers == 0 {
		workers = o.workers
	}
	eng.pipe = pipeline.New(pipeline.Config{
		Workers:   workers,
		QueueSize: a.cfg.Pipeline.QueueSize,
		Mode:      o.mode,
		Inventory: eng.inv,
	}, analyzers, sinks, rec, a.logger.With("component", "pipeline"))
	return eng, nil
}

// Close hands the correlator's incidents and the responder's pending actions
// to the store and closes it.
func (e *engine) Close() error {
	if e.store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The correlator first: its last incident.stage findings may still call
	// for actions, which the responder's flush then stores.
	if e.correlator != nil {
		if err := e.correlator.Flush(ctx); err != nil {
			e.store.Close()
			return fmt.Errorf("correlate: %w", err)
		}
	}
	if e.responder != nil {
		if err := e.responder.Flush(ctx); err != nil {
			e.store.Close()
			return fmt.Errorf("respond: %w", err)
		}
	}
	return e.store.Close()
}

// newResponder loads the response policy (respond.policy, else the built-in
// default), applies respond.mode, and remembers the actions in force. The
// actions it decides are stored and put in the proxy's table at once.
func (a *app) newResponder(ctx context.Context, st *sqlite.Store, table *proxy.Table) (*respond.Responder, error) {
	pol, err := a.loadPolicy()
	if err != nil {
		return nil, usageError{err}
	}
	r := respond.NewResponder(pol, liveRecorder{st, table})
	now := time.Now()
	acts, err := st.Actions(ctx, now)
	if err != nil {
		return nil, err
	}
	r.Remember(acts, now)
	return r, nil
}

// liveRecorder stores an action, then puts it in force in the proxy's table
// without waiting for the next store poll (syncActions), so a decision
// stops the actor's next request.
type liveRecorder struct {
	store *sqlite.Store
	table *proxy.Table
}

func (r liveRecorder) PutAction(ctx context.Context, act vigil.Action) error {
	if err := r.store.PutAction(ctx, act); err != nil {
		return err
	}
	r.table.Add(act)
	return nil
}

// loadPolicy reads respond.policy (else the built-in default) and applies
// respond.mode; the result is valid.
func (a *app) loadPolicy() (*respond.Policy, error) {
	pol := respond.DefaultPolicy()
	if path := a.cfg.Respond.Policy; path != "" {
		p, err := respond.LoadPolicy(path)
		if err != nil {
			return nil, fmt.Errorf("respond.policy: %w", err)
		}
		pol = p
	}
	if a.cfg.Respond.Mode != "" {
		pol.Mode = a.cfg.Respond.Mode
	}
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	return pol, nil
}

// runProxy serves the proxy until ctx ends, then shuts down gracefully: the
// server stops taking requests, in-flight ones finish, analysis drains.
func (a *app) runProxy(ctx context.Context, pr proxyRun) error {
	var extra []vigil.Analyzer
	var capture *captureWriter
	if pr.capture != "" {
		c, err := newCaptureWriter(pr.capture)
		if err != nil {
			return err
		}
		capture, extra = c, []vigil.Analyzer{c}
	}
	eng, err := a.openEngine(ctx, engineOpts{mode: pipeline.Shed, store: true, extra: extra})
	if err != nil {
		if capture != nil {
			capture.Close()
		}
		return err
	}
	defer eng.Close()
	if capture != nil {
		defer func() {
			n, err := capture.Close()
			if err != nil {
				a.logger.Error("traffic capture incomplete", "file", pr.capture, "exchanges", n, "err", err)
				return
			}
			a.logger.Info("traffic captured", "file", pr.capture, "exchanges", n)
		}()
	}

	log := a.logger.With("component", "proxy")
	inl, err := a.inlineCheck(eng)
	if err != nil {
		return err
	}
	p, err := proxy.New(proxy.Config{
		Upstream:        a.cfg.Proxy.Upstream,
		CaptureBytes:    a.cfg.Proxy.CaptureBytes,
		UpstreamTimeout: a.cfg.Proxy.UpstreamTimeout,
		NeutralErrors:   a.cfg.Proxy.NeutralErrors,
		MaxTarpit:       a.cfg.Proxy.MaxTarpit,
		MaxTarpitted:    a.cfg.Proxy.MaxTarpitted,
		DecoyShape:      (&decoyShapes{inv: eng.inv}).lookup,
		Inline:          inl,
	}, eng.pipe, eng.resolver, eng.table, log)
	if err != nil {
		return usageError{err}
	}
	srv := a.proxyServer(p, log)
	ln, err := net.Listen("tcp", a.cfg.Proxy.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Proxy.Listen, err)
	}
	scheme := "http"
	if a.cfg.Proxy.TLSCert != "" {
		scheme = "https"
	}
	log.Info("proxy listening", "addr", scheme+"://"+ln.Addr().String(), "upstream", a.cfg.Proxy.Upstream, "store", a.cfg.Store.Path)
	if pr.ready != nil {
		pr.ready(ln.Addr().String())
	}

	pipeCtx, stopPipe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPipe()
	g, gctx := errgroup.WithContext(ctx)
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- eng.pipe.Run(pipeCtx) }()

	g.Go(func() error {
		var err error
		if scheme == "https" {
			err = srv.(*http.Server).ServeTLS(ln, a.cfg.Proxy.TLSCert, a.cfg.Proxy.TLSKey)
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("proxy server: %w", err)
	})
	g.Go(func() error {
		<-gctx.Done()
		shCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shCtx)
	})
	g.Go(func() error { return syncActions(gctx, eng, log) })
	g.Go(func() error { return keepInventory(gctx, eng, log) })
	hup := pr.hup
	if hup == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGHUP)
		defer signal.Stop(ch)
		hup = ch
	}
	rl := newReloader(a, eng, log, &eng.reload)
	g.Go(func() error { return rl.run(gctx, hup, pr.reloadEvery) })
	if pr.metricsListen != "" {
		g.Go(func() error { return serveMetrics(gctx, pr.metricsListen, eng, p, log) })
	}
	if pr.group != nil {
		if err := pr.group(gctx, g, eng); err != nil {
			return err
		}
	}
	err = g.Wait()
	eng.pipe.Close()
	if perr := <-pipeDone; perr != nil && !errors.Is(perr, context.Canceled) {
		log.Error("analysis pipeline", "err", perr)
	}
	if serr := saveInventory(context.WithoutCancel(ctx), eng.store, eng.inv); serr != nil {
		log.Error("save inventory", "err", serr)
	}
	st := eng.pipe.Stats()
	ps := p.Stats()
	log.Info("proxy stopped", "requests", ps.Requests, "analyzed", st.Analyzed, "shed", st.Shed, "findings", st.Findings)
	return err
}

// httpServer is what serves the proxy's listener: net/http's server or
// proxy.FastServer.
type httpServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// proxyServer is the HTTP server, with the proxy section's limits, that
// serves p: the proxy's listener and the demo's egress one. A plain-HTTP
// listener gets the engine proxy.engine names; TLS is always net/http's.
func (a *app) proxyServer(p *proxy.Proxy, log *slog.Logger) httpServer {
	cfg := proxy.ServerConfig{
		ReadHeaderTimeout: a.cfg.Proxy.ReadHeaderTimeout,
		IdleTimeout:       a.cfg.Proxy.IdleTimeout,
		MaxHeaderBytes:    a.cfg.Proxy.MaxHeaderBytes,
		MaxBodyBytes:      a.cfg.Proxy.MaxBodyBytes,
		Logger:            log,
	}
	if a.cfg.Proxy.TLSCert == "" && a.cfg.Proxy.Engine == config.EngineFast {
		return proxy.NewFastServer(p, cfg)
	}
	return proxy.NewServer(p, cfg)
}

// inlineDetectors are the technique detectors that judge a request alone,
// before it has a response: the ones the inline check runs, with the
// prompt-injection detector. Others need the response
// (exposure, verbose errors) or the actor's history (behaviour, recon).
var inlineDetectors = []string{"detect.injection.", "detect.ssrf", "detect.auth.jwt"}

// inlineCheck builds the proxy's inline check from proxy.inline, or nil when
// it is off. What stops a request is the response policy in force (it
// follows reloads): a block on the first finding, in enforce mode.
func (a *app) inlineCheck(eng *engine) (*proxy.Inline, error) {
	c := a.cfg.Proxy.Inline
	if !c.Enabled {
		return nil, nil
	}
	dc, err := detectConfig(a.cfg.Detect)
	if err != nil {
		return nil, err
	}
	var fs []detect.Factory
	for _, f := range detect.BuiltinWith(dc) {
		for _, p := range inlineDetectors {
			if f.ID == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(f.ID, p)) {
				fs = append(fs, f)
				break
			}
		}
	}
	as, err := detect.New(fs)
	if err != nil {
		return nil, err
	}
	// Prompt injection is judged on the request alone too: stopped in line,
	// the model never sees it, and nothing leaks for the attacker to learn
	// from.
	as = append(as, behavior.NewPromptInjection(behavior.Config{}))
	in := &proxy.Inline{Analyzers: as, Deadline: c.Deadline, FailClosed: c.FailClosed}
	if eng.responder != nil {
		in.Stops = eng.responder.Stops
	}
	return in, nil
}

// syncActions publishes the store's active actions to the proxy's table every
// second, so actions added by the API or the CLI take effect.
func syncActions(ctx context.Context, eng *engine, log interface{ Warn(string, ...any) }) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		acts, err := eng.store.Actions(ctx, time.Now())
		if err == nil {
			eng.table.Publish(acts)
		} else if ctx.Err() == nil {
			log.Warn("load actions", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// liveSpecs is the spec set in force behind one pointer: a reload swaps the
// whole set, and the detectors that use specs read it per exchange.
type liveSpecs struct {
	cur atomic.Pointer[spec.Set]
	ma  atomic.Pointer[inventory.MassAssignment]
}

func newLiveSpecs(s *spec.Set) *liveSpecs {
	l := &liveSpecs{}
	l.swap(s)
	return l
}

// Load returns the spec set in force.
func (l *liveSpecs) Load() *spec.Set { return l.cur.Load() }

func (l *liveSpecs) swap(s *spec.Set) {
	l.ma.Store(inventory.NewMassAssignment(s))
	l.cur.Store(s)
}

// liveMassAssignment runs the mass-assignment detector of the specs in
// force (it is stateless, so a reload builds a new one).
type liveMassAssignment struct{ l *liveSpecs }

func (m liveMassAssignment) Analyze(ctx context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	return m.l.ma.Load().Analyze(ctx, x)
}

// bindSpecs makes the detectors a.analyzers built for the specs at start
// read the live set instead: mass assignment through liveMassAssignment,
// and recon (rebuilt here, before it has seen traffic) with a Known that
// asks the set in force. Without configured specs there is nothing to
// reload, and recon keeps judging by response status alone.
func (a *app) bindSpecs(as []vigil.Analyzer, l *liveSpecs) []vigil.Analyzer {
	if len(a.cfg.Inventory.Specs) == 0 {
		return as
	}
	out := make([]vigil.Analyzer, len(as))
	for i, an := range as {
		switch an.(type) {
		case *inventory.MassAssignment:
			an = liveMassAssignment{l}
		case *recon.Detector:
			an = recon.New(recon.Config{
				Window:     a.cfg.Inventory.Recon.Window,
				ProbeBurst: a.cfg.Inventory.Recon.ProbeBurst,
				MaxActors:  a.cfg.Inventory.Recon.MaxActors,
				Known: func(host, method, path string) bool {
					return l.Load().MatchAlias(host, method, path) != nil
				},
			})
		}
		out[i] = an
	}
	return out
}

// reloadInterval is how often the proxy looks at the policy and spec files
// for a change (modification time and size).
const reloadInterval = 2 * time.Second

// reloader reloads the response policy and the specs when their files
// change or on SIGHUP. Each reload is atomic (one pointer swap) and affects
// only requests analysed after it; connections and requests in flight are
// not touched. A file that does not load keeps the one in force and logs
// why.
type reloader struct {
	a     *app
	eng   *engine
	log   *slog.Logger
	seen  map[string]fileStamp
	stats *reloadStats
}

// reloadStats count reloads, for metrics and tests.
type reloadStats struct {
	reloads, failures atomic.Uint64
}

type fileStamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), ok: true}
}

func newReloader(a *app, eng *engine, log *slog.Logger, st *reloadStats) *reloader {
	rl := &reloader{a: a, eng: eng, log: log, seen: make(map[string]fileStamp), stats: st}
	for _, p := range rl.files() {
		rl.seen[p] = stamp(p)
	}
	return rl
}

// files are the files watched: the policy, then the specs.
func (rl *reloader) files() []string {
	var fs []string
	if p := rl.a.cfg.Respond.Policy; p != "" {
		fs = append(fs, p)
	}
	return append(fs, rl.a.cfg.Inventory.Specs...)
}

// run reloads on every value from hup and when a file changes, polled every
// interval, until ctx ends.
func (rl *reloader) run(ctx context.Context, hup <-chan os.Signal, interval time.Duration) error {
	if interval <= 0 {
		interval = reloadInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			rl.log.Info("SIGHUP: reloading the response policy and the specs")
			rl.check(true)
		case <-t.C:
			rl.check(false)
		}
	}
}

// check reloads what changed since the last look, or everything when
// force is set.
func (rl *reloader) check(force bool) {
	var policy, specs bool
	for i, p := range rl.files() {
		st := stamp(p)
		if st != rl.seen[p] || force {
			rl.seen[p] = st
			if i == 0 && rl.a.cfg.Respond.Policy != "" {
				policy = true
			} else {
				specs = true
			}
		}
	}
	if policy || (force && rl.eng.responder != nil) {
		rl.reloadPolicy()
	}
	if specs {
		rl.reloadSpecs()
	}
}

func (rl *reloader) reloadPolicy() {
	if rl.eng.responder == nil {
		return
	}
	pol, err := rl.a.loadPolicy()
	if err != nil {
		rl.stats.failures.Add(1)
		rl.log.Error("policy not reloaded; the one in force stays", "file", rl.a.cfg.Respond.Policy, "err", vigil.ErrorMessage(err))
		return
	}
	rl.eng.responder.SetPolicy(pol)
	rl.stats.reloads.Add(1)
	rl.log.Info("response policy reloaded", "file", rl.a.cfg.Respond.Policy, "mode", pol.Mode, "rules", len(pol.Rules))
}

func (rl *reloader) reloadSpecs() {
	set, err := rl.a.loadSpecs()
	if err != nil {
		rl.stats.failures.Add(1)
		rl.log.Error("specs not reloaded; the ones in force stay", "err", vigil.ErrorMessage(err))
		return
	}
	rl.eng.live.swap(set)
	rl.stats.reloads.Add(1)
	rl.log.Info("specs reloaded", "files", len(rl.a.cfg.Inventory.Specs), "operations", len(set.Ops()))
}

// Decoy shapes: bounds and refresh.
const (
	decoyShapesEvery = 10 * time.Second
	maxDecoyShapes   = 10_000
)

// decoyShapes tell the proxy the learned shape of an endpoint's answers, so
// that decoys look like them. The snapshot is rebuilt from the inventory at
// most every decoyShapesEvery, by the decoyed request that finds it stale
// (the attacker's request pays for it; nobody else does).
type decoyShapes struct {
	inv   *inventory.Inventory
	mu    sync.Mutex // held while rebuilding
	built atomic.Int64
	m     atomic.Pointer[map[vigil.Endpoint]proxy.DecoyShape]
}

func (d *decoyShapes) lookup(r *http.Request) (proxy.DecoyShape, bool) {
	if now := time.Now().UnixNano(); now-d.built.Load() > int64(decoyShapesEvery) && d.mu.TryLock() {
		d.rebuild()
		d.built.Store(now)
		d.mu.Unlock()
	}
	mp := d.m.Load()
	if mp == nil {
		return proxy.DecoyShape{}, false
	}
	u := *r.URL
	u.Host = r.Host
	ep := d.inv.Endpoint(&vigil.Exchange{Request: vigil.Request{Method: r.Method, URL: &u}})
	sh, ok := (*mp)[ep]
	return sh, ok
}

func (d *decoyShapes) rebuild() {
	m := make(map[vigil.Endpoint]proxy.DecoyShape)
	for _, p := range d.inv.Profiles() {
		if len(m) >= maxDecoyShapes {
			break
		}
		status := "200"
		if p.Method == http.MethodPost {
			status = "201"
		}
		n := p.ResponseSchemas[status]
		if n == nil {
			n = p.ResponseSchemas["200"]
		}
		if n == nil || n.Count() == 0 {
			continue
		}
		if sh := shapeOf(n.Fields()); len(sh.Fields) > 0 {
			m[p.Endpoint] = sh
		}
	}
	d.m.Store(&m)
}

// shapeOf keeps the top-level fields of an inferred schema: those of the
// object, or of the objects in a top-level list.
func shapeOf(fs []schema.Field) proxy.DecoyShape {
	var sh proxy.DecoyShape
	prefix := ""
	for _, f := range fs {
		if f.Path == "[]" {
			sh.List, prefix = true, "[]."
			break
		}
	}
	for _, f := range fs {
		name, ok := strings.CutPrefix(f.Path, prefix)
		if !ok || name == "" || strings.ContainsAny(name, ".[") {
			continue
		}
		typ := "null"
		for _, t := range f.Types {
			if t != "null" {
				typ = t
				break
			}
		}
		sh.Fields = append(sh.Fields, proxy.DecoyField{Name: name, Type: typ, Format: f.Format, Enum: f.Enum})
	}
	return sh
}
