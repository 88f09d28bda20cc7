package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/identity"
	"github.com/vigilsec/vigil/inventory"
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
		captureBytes                                                                     int64
		upstreamTimeout                                                                  time.Duration
		detectors                                                                        bool
	)
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "proxy --upstream URL",
		Short: "Run the inline reverse proxy in front of an API",
		Long: `Run Vigil as a reverse proxy in front of an API. Every request is forwarded
unchanged while at most --capture-bytes of each body is copied for analysis;
analysis never delays forwarding (when it falls behind, it is shed and counted).
Actions in the store (block, rate-limit, tarpit) are enforced before forwarding.
Findings, endpoints and redacted samples go to the SQLite store.`,
		Example: `  # Protect an API on port 9000, listening on loopback port 8080
  vigil proxy --upstream http://127.0.0.1:9000

  # Behind a load balancer at 10.0.0.5 that sets X-Forwarded-For
  vigil proxy --listen 0.0.0.0:8080 --upstream http://127.0.0.1:9000 \
    --client-ip-header X-Forwarded-For --trusted-proxy 10.0.0.5

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
			set(fs, "detectors", &a.cfg.Pipeline.Detect, detectors)
			if enforce {
				a.cfg.Respond.Mode = "enforce"
			}
			set(fs, "neutral-errors", &a.cfg.Proxy.NeutralErrors, neutralErrors)
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
	f.BoolVar(&detectors, "detectors", d.Pipeline.Detect, "run the built-in detectors; --detectors=false records inventory and samples only")
	f.BoolVar(&enforce, "enforce", false, "enforce the response policy (block, rate-limit, tarpit); without it actions are only recorded, unless respond.mode says enforce")
	f.BoolVar(&neutralErrors, "neutral-errors", false, "replace verbose error bodies (stack traces, SQL errors, internal validation messages) with a neutral JSON error and request id; the original stays in the capture")
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
}

// engine is the running analysis side shared by proxy, analyze and demo.
type engine struct {
	store     *sqlite.Store
	responder *respond.Responder // turns findings into actions; nil without a store
	inv       *inventory.Inventory
	specs     *spec.Set // the configured specs; empty when none
	pipe      *pipeline.Pipeline
	resolver  *identity.Resolver
	table     *proxy.Table
}

// engineOpts say how to build an engine.
type engineOpts struct {
	mode  pipeline.Mode
	store bool             // open the configured store
	extra []vigil.Analyzer // run after the detectors (the capture writer)
	sinks []vigil.Sink     // beyond the store
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
	analyzers = append(analyzers, o.extra...)
	eng := &engine{resolver: res, table: proxy.NewTable(), inv: a.newInventory(specs), specs: specs}
	var rec pipeline.Recorder
	if withStore {
		eng.store, err = sqlite.Open(ctx, a.cfg.Store.Path, sqlite.WithSamplesPerEndpoint(a.cfg.Store.SamplesPerEndpoint))
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", a.cfg.Store.Path, err)
		}
		resp, err := a.newResponder(ctx, eng.store)
		if err != nil {
			eng.store.Close()
			return nil, err
		}
		eng.responder = resp
		sinks = append([]vigil.Sink{eng.store, resp}, sinks...)
		rec = eng.store
		if err := loadInventory(ctx, eng.store, eng.inv, a.logger); err != nil {
			eng.store.Close()
			return nil, fmt.Errorf("load the inventory from %s: %w", a.cfg.Store.Path, err)
		}
	}
	eng.pipe = pipeline.New(pipeline.Config{
		Workers:   a.cfg.Pipeline.Workers,
		QueueSize: a.cfg.Pipeline.QueueSize,
		Mode:      o.mode,
		Inventory: eng.inv,
	}, analyzers, sinks, rec, a.logger.With("component", "pipeline"))
	return eng, nil
}

// Close hands the responder's pending actions to the store and closes it.
func (e *engine) Close() error {
	if e.store == nil {
		return nil
	}
	if e.responder != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.responder.Flush(ctx); err != nil {
			e.store.Close()
			return fmt.Errorf("respond: %w", err)
		}
	}
	return e.store.Close()
}

// newResponder loads the response policy (respond.policy, else the built-in
// default), applies respond.mode, and remembers the actions in force.
func (a *app) newResponder(ctx context.Context, st *sqlite.Store) (*respond.Responder, error) {
	pol := respond.DefaultPolicy()
	if path := a.cfg.Respond.Policy; path != "" {
		p, err := respond.LoadPolicy(path)
		if err != nil {
			return nil, usageError{fmt.Errorf("respond.policy: %w", err)}
		}
		pol = p
	}
	if a.cfg.Respond.Mode != "" {
		pol.Mode = a.cfg.Respond.Mode
	}
	if err := pol.Validate(); err != nil {
		return nil, usageError{err}
	}
	r := respond.NewResponder(pol, st)
	now := time.Now()
	acts, err := st.Actions(ctx, now)
	if err != nil {
		return nil, err
	}
	r.Remember(acts, now)
	return r, nil
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
	p, err := proxy.New(proxy.Config{
		Upstream:        a.cfg.Proxy.Upstream,
		CaptureBytes:    a.cfg.Proxy.CaptureBytes,
		UpstreamTimeout: a.cfg.Proxy.UpstreamTimeout,
		NeutralErrors:   a.cfg.Proxy.NeutralErrors,
	}, eng.pipe, eng.resolver, eng.table, log)
	if err != nil {
		return usageError{err}
	}
	srv := proxy.NewServer(p, proxy.ServerConfig{
		ReadHeaderTimeout: a.cfg.Proxy.ReadHeaderTimeout,
		IdleTimeout:       a.cfg.Proxy.IdleTimeout,
		MaxHeaderBytes:    a.cfg.Proxy.MaxHeaderBytes,
		Logger:            log,
	})
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
			err = srv.ServeTLS(ln, a.cfg.Proxy.TLSCert, a.cfg.Proxy.TLSKey)
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
