package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/sensor/proxy"
	"github.com/vigilsec/vigil/simulate"
	"github.com/vigilsec/vigil/simulate/shop"
	"github.com/vigilsec/vigil/store/sqlite"
)

func newDemoCmd(a *app) *cobra.Command {
	var (
		duration time.Duration
		seed     int64
		rate     float64
		dir      string
		jsonOut  bool
		capture  bool
		enforce  bool
		crs      crsFlags
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the vulnerable demo shop, Vigil in front of it and the attack simulator",
		Long: `Run everything on loopback in one command: the vulnerable demo shop (with its
partner payment service, stand-in LLM and fake cloud metadata service), vigil
proxy in front of it, the dashboard, and the attack simulator sending four
attack campaigns hidden in benign peak traffic through the proxy. When the
simulation ends, the analysis drains and the scorecard is printed: what Vigil
detected per attack area, how fast, and what it flagged on benign traffic.

Everything is written to --dir (a new temporary folder by default): the store
(vigil.db), the labelled truth (truth.jsonl), the scorecard (scorecard.json) and, with
--capture, the traffic itself (traffic.jsonl).`,
		Example: `  vigil demo
  vigil demo --duration 60s --seed 42 --dir ./demo-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if duration < 5*time.Second || duration > 2*time.Hour {
				return usagef("--duration must be between 5s and 2h, got %v", duration)
			}
			crs.apply(cmd.Flags(), &a.cfg)
			return a.demo(cmd.Context(), demoOpts{duration: duration, seed: seed, rate: rate, dir: dir, json: jsonOut, capture: capture, enforce: enforce})
		},
	}
	f := cmd.Flags()
	f.DurationVar(&duration, "duration", 90*time.Second, "how long the simulation runs")
	f.Int64Var(&seed, "seed", 1, "simulator seed (same seed, same campaigns)")
	f.Float64Var(&rate, "rate", 20, "benign requests per second before the peak surge")
	f.StringVar(&dir, "dir", "", "folder for the store, truth and scorecard (default: a new temporary folder)")
	f.BoolVar(&jsonOut, "json", false, "print the scorecard as JSON")
	f.BoolVar(&enforce, "enforce", false, "enforce the response policy: attackers get blocked, rate-limited or tarpitted as the default policy says (the scorecard then shows requests until blocked)")
	f.BoolVar(&capture, "capture", false, "also record the traffic, redacted, in traffic.jsonl in --dir (replay it with vigil analyze)")
	crs.add(f)
	return cmd
}

type demoOpts struct {
	duration time.Duration
	seed     int64
	rate     float64
	dir      string
	json     bool
	capture  bool
	enforce  bool
}

// partnerHost is the name the demo shop's payment partner goes by.
const partnerHost = "payments.partner.test"

// serveEgress runs a second proxy on ln in front of upstream, feeding the same
// pipeline: the shop's outbound calls.
func (a *app) serveEgress(ctx context.Context, g *errgroup.Group, eng *engine, ln net.Listener, upstream string) error {
	log := a.logger.With("component", "egress")
	p, err := proxy.New(proxy.Config{
		Upstream:        upstream,
		CaptureBytes:    a.cfg.Proxy.CaptureBytes,
		UpstreamTimeout: a.cfg.Proxy.UpstreamTimeout,
	}, eng.pipe, eng.resolver, eng.table, log)
	if err != nil {
		return err
	}
	srv := a.proxyServer(p, log)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("egress proxy: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shCtx)
	})
	return nil
}

func (a *app) demo(ctx context.Context, o demoOpts) error {
	if o.dir == "" {
		d, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return err
		}
		o.dir = d
	} else if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return usagef("--dir: %v", err)
	}
	storePath := filepath.Join(o.dir, "vigil.db")
	truthPath := filepath.Join(o.dir, "truth.jsonl")
	capturePath := ""
	if o.capture {
		capturePath = filepath.Join(o.dir, "traffic.jsonl")
	}
	for _, p := range []string{storePath, storePath + "-wal", storePath + "-shm", truthPath} {
		os.Remove(p) // a rerun in the same folder starts clean
	}

	// The shop's calls to its payment partner leave through a second vigil
	// proxy listener (egress), so the inventory sees the third-party API.
	egress, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer egress.Close()
	sh, err := shop.Start(ctx, shop.Options{Seed: o.seed, Logger: a.logger.With("component", "shop"),
		PartnerVia: "http://" + egress.Addr().String(), PartnerHost: partnerHost})
	if err != nil {
		return fmt.Errorf("start the demo shop: %w", err)
	}
	defer sh.Close()

	// The simulator gives every actor its own address in X-Forwarded-For;
	// the proxy believes it from loopback only.
	a.cfg.Proxy.Listen = "127.0.0.1:0"
	a.cfg.Proxy.Upstream = sh.URL()
	a.cfg.Identity.ClientIPHeader = "X-Forwarded-For"
	a.cfg.Identity.TrustedProxies = []string{"127.0.0.1", "::1"}
	a.cfg.Store.Path = storePath
	// The shop's spec, so that the inventory is held against it and the
	// recon detector knows the documented endpoints.
	specPath := filepath.Join(o.dir, "openapi.yaml")
	if err := os.WriteFile(specPath, shop.Spec(), 0o644); err != nil {
		return err
	}
	a.cfg.Inventory.Specs = []string{specPath}
	if o.enforce {
		// Enforce, and check requests in line too: an injection is then
		// stopped before it reaches the shop, not only from the next
		// request on.
		a.cfg.Respond.Mode = "enforce"
		a.cfg.Proxy.Inline.Enabled = true
	}
	if err := a.validate(); err != nil {
		return err
	}
	token, err := a.token()
	if err != nil {
		return err
	}
	truth, err := os.Create(truthPath)
	if err != nil {
		return err
	}
	defer truth.Close()

	fmt.Fprintf(a.err, "vigil demo: everything on loopback, results in %s\n", o.dir)
	fmt.Fprintf(a.err, "  shop API        %s\n  partner payments %s\n  stand-in LLM    %s\n  cloud metadata  %s\n",
		sh.URL(), sh.PartnerURL(), sh.LLMURL(), sh.MetadataURL())

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var proxyAddr string
	var simErr error
	err = a.runProxy(runCtx, proxyRun{
		capture: capturePath,
		ready: func(addr string) {
			proxyAddr = addr
			fmt.Fprintf(a.err, "  vigil proxy     http://%s -> %s\n", addr, sh.URL())
		},
		group: func(gctx context.Context, g *errgroup.Group, eng *engine) error {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			g.Go(func() error { return a.serveWeb(gctx, ln, eng.store, token) })
			if err := a.serveEgress(gctx, g, eng, egress, sh.PartnerURL()); err != nil {
				return err
			}
			fmt.Fprintf(a.err, "  egress proxy    http://%s -> %s (as %s)\n", egress.Addr(), sh.PartnerURL(), partnerHost)
			g.Go(func() error {
				defer stop() // the run ends when the simulation does
				fmt.Fprintf(a.err, "  simulator       %s of benign load and 4 campaigns through the proxy (seed %d)\n", o.duration, o.seed)
				sum, err := simulate.Run(gctx, simulate.Config{
					Target:      "http://" + proxyAddr,
					Campaigns:   campaignNames,
					Rate:        o.rate,
					Duration:    o.duration,
					Seed:        o.seed,
					Users:       200,
					SSRFTarget:  sh.MetadataURL() + "/latest/meta-data/iam/security-credentials/",
					Truth:       truth,
					Progress:    a.err,
					ProgressTTY: isTerminal(a.err),
					Logger:      a.logger.With("component", "simulate"),
				})
				if err != nil && gctx.Err() == nil {
					simErr = fmt.Errorf("simulation: %w", err)
				}
				writeSummary(a.err, sum)
				return nil
			})
			return nil
		},
	})
	if err != nil {
		return err
	}
	if simErr != nil {
		return simErr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := a.scorecard(context.WithoutCancel(ctx), truthPath, storePath, filepath.Join(o.dir, "scorecard.json"), o.json); err != nil {
		return err
	}
	if !o.json {
		a.incidentSummary(context.WithoutCancel(ctx), storePath)
		a.inventorySummary(context.WithoutCancel(ctx), storePath, specPath)
	}
	return nil
}

// incidentSummary prints the incidents the run raised, and the command that
// shows one in full.
func (a *app) incidentSummary(ctx context.Context, storePath string) {
	st, err := sqlite.Open(ctx, storePath)
	if err != nil {
		a.logger.Warn("incident summary", "err", err)
		return
	}
	defer st.Close()
	incs, err := st.Incidents(ctx)
	if err != nil {
		a.logger.Warn("incident summary", "err", err)
		return
	}
	incs = liveIncidents(incs)
	fmt.Fprintf(a.out, "\nIncidents: %d\n", len(incs))
	if len(incs) == 0 {
		return
	}
	if err := writeIncidents(a.out, incs); err != nil {
		a.logger.Warn("incident summary", "err", err)
		return
	}
	fmt.Fprintf(a.out, "One in full, with its timeline: vigil incidents --store %s %s\n", storePath, incs[0].ID)
}

// inventorySummary prints what the inventory found against the shop's spec,
// and the command that shows it all.
func (a *app) inventorySummary(ctx context.Context, storePath, specPath string) {
	st, err := sqlite.Open(ctx, storePath)
	if err != nil {
		a.logger.Warn("inventory summary", "err", err)
		return
	}
	defer st.Close()
	specs, err := a.loadSpecs()
	if err != nil {
		a.logger.Warn("inventory summary", "err", err)
		return
	}
	inv := a.newInventory(specs)
	if err := loadInventory(ctx, st, inv, a.logger); err != nil {
		a.logger.Warn("inventory summary", "err", err)
		return
	}
	counts := map[inventory.Class][]string{}
	for _, e := range inventory.Classify(inv.Profiles(), specs) {
		counts[e.Class] = append(counts[e.Class], e.Method+" "+e.Host+e.Template)
	}
	fmt.Fprintf(a.out, "\nAPI inventory against the shop's spec: %d documented, %d drift, %d shadow, %d zombie, %d third-party, %d orphan\n",
		len(counts[inventory.Documented]), len(counts[inventory.Drift]), len(counts[inventory.Shadow]),
		len(counts[inventory.Zombie]), len(counts[inventory.ThirdParty]), len(counts[inventory.Orphan]))
	for _, c := range []inventory.Class{inventory.Shadow, inventory.Zombie, inventory.ThirdParty} {
		for _, ep := range counts[c] {
			fmt.Fprintf(a.out, "  %-12s %s\n", c, ep)
		}
	}
	fmt.Fprintf(a.out, "All of it: vigil inventory --store %s --spec %s\n", storePath, specPath)
}

// scorecard evaluates a finished run and prints the result; the JSON form is
// also written to jsonPath.
func (a *app) scorecard(ctx context.Context, truthPath, storePath, jsonPath string, asJSON bool) error {
	f, err := os.Open(truthPath)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := sqlite.Open(ctx, storePath)
	if err != nil {
		return fmt.Errorf("open store %s: %w", storePath, err)
	}
	defer st.Close()
	card, err := simulate.Evaluate(ctx, f, st)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if err := writeJSONFile(jsonPath, card); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(a.out, card)
	}
	fmt.Fprintln(a.out)
	return card.WriteText(a.out)
}
