package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/bench/analyzebench"
	"github.com/vigilsec/vigil/bench/proxybench"
	"github.com/vigilsec/vigil/detect"
)

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Vigil's performance against baselines in the same run",
		Long: `Benchmarks that report ratios against a baseline measured in the same run, since
machines are noisy. Figures and how they were obtained: docs/performance.md.`,
	}
	cmd.AddCommand(newBenchProxyCmd(a), newBenchAnalyzeCmd(a))
	return cmd
}

func newBenchProxyCmd(a *app) *cobra.Command {
	var (
		duration    time.Duration
		rounds      int
		connections int
		threads     int
		scenarios   []string
		skipNginx   bool
		skipCoraza  bool
		withCRS     bool
		latency     bool
		jsonOut     bool
	)
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Requests/s and latency: direct, httputil.ReverseProxy, nginx, Coraza+CRS and vigil proxy",
		Long: `Load the same local upstream with wrk, in one run: directly, through a plain
httputil.ReverseProxy, through a bare fasthttp reverse proxy ("fasthttp": what
a Go proxy costs before it does anything), through nginx (one worker,
keep-alive upstream) twice: "nginx" forwards requests as they came,
"nginx-fwd" adds the headers vigil proxy adds by default (X-Forwarded-For,
-Host, -Proto, X-Request-Id), the same work for the upstream; through vigil proxy four ways, each with a temporary store: "vigil" (capture on, no
detectors: the cost of the sensor itself), "vigil-detect" (every detector on),
"vigil-inline" (every detector, plus the inline check of each request in
enforce mode) and "vigil-detect-std" (every detector, behind the net/http
engine instead of the default fasthttp one), and through Coraza v3 with the
OWASP Core Rule Set around an httputil.ReverseProxy ("coraza-crs"). --crs adds
"vigil-crs": every detector and the CRS engine in the pipeline.

Every target is loaded once per round (--rounds), each round in the opposite
order to the one before; the figures are the medians over the rounds, and each
ratio is the median of the ratios taken within a round, so that a machine
whose speed drifts (a shared VM) skews them less. Prints requests/s, p50 and
p99 latency, CPU per request of the proxy's process, each target's ratio to
direct, to nginx (with the range over the rounds), to nginx-fwd and to
Coraza+CRS, and (with
--latency, the default, in the first round) the p99 of a second load of one
connection and what it adds over direct's. Needs wrk and nginx from Debian's
packages:
apt-get install -y wrk nginx-light. Everything runs on 127.0.0.1 and stops by
itself.`,
		Example: `  vigil bench proxy
  vigil bench proxy --duration 5s --crs
  vigil bench proxy --duration 20s --connections 128 --scenarios get`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if rounds < 1 {
				return vigil.Errorf(vigil.EINVALID, "--rounds %d: want 1 to 100", rounds)
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "vigil-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			vigilCmd := func(name string, args ...string) []string {
				return append([]string{self, "proxy", "--listen", "{listen}", "--upstream", "{upstream}",
					"--store", filepath.Join(dir, name+".db"), "--log-level", "warn",
					"--metrics-listen", proxybench.PlaceholderMetrics}, args...)
			}
			vigils := []proxybench.Vigil{
				{Name: "vigil-detect", Command: vigilCmd("detect")},
				{Name: "vigil-inline", Command: vigilCmd("inline", "--inline", "--enforce")},
				{Name: "vigil-detect-std", Command: vigilCmd("detect-std", "--engine", "std")},
			}
			if withCRS {
				vigils = append(vigils, proxybench.Vigil{Name: "vigil-crs", Command: vigilCmd("crs", "--crs")})
			}
			rep, err := proxybench.Run(cmd.Context(), proxybench.Options{
				Duration: duration, Rounds: rounds, Connections: connections, Threads: threads, Scenarios: scenarios,
				SkipNginx: skipNginx, Coraza: !skipCoraza, LatencyPass: latency, Logger: a.logger.With("component", "bench"),
				VigilCommand: vigilCmd("bench", "--detectors=false"),
				Vigils:       vigils,
			})
			if err != nil {
				return err
			}
			if jsonOut {
				return rep.WriteJSON(a.out)
			}
			return rep.WriteText(a.out)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&duration, "duration", 5*time.Second, "load time per target, scenario and round")
	f.IntVar(&rounds, "rounds", 3, "times every target is loaded, in alternating order; the report gives medians")
	f.IntVar(&connections, "connections", 64, "concurrent connections (wrk -c)")
	f.IntVar(&threads, "threads", 2, "wrk threads (wrk -t)")
	f.StringSliceVar(&scenarios, "scenarios", []string{"get", "post"}, "get (200 B JSON) and/or post (1 KB JSON echo)")
	f.BoolVar(&skipNginx, "skip-nginx", false, "leave nginx and nginx-fwd out")
	f.BoolVar(&skipCoraza, "skip-coraza", false, "leave Coraza with the Core Rule Set out")
	f.BoolVar(&latency, "latency", true, "also load each target with one connection: its p99 minus direct's is the added latency")
	f.BoolVar(&withCRS, "crs", false, "add vigil-crs: vigil proxy with every detector and the CRS engine (--crs)")
	f.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	return cmd
}

func newBenchAnalyzeCmd(a *app) *cobra.Command {
	var (
		n         int
		seed      int64
		file      string
		workers   int
		detectors bool
		jsonOut   bool
		crs       bool
		paranoia  int
	)
	cmd := &cobra.Command{
		Use:   "analyze",
		Short: "Exchanges per CPU-second: read, resolve actors, run the pipeline",
		Long: `Generate a JSON-lines traffic file (or read --file) and pass over it in stages:
read only, read + actor resolution, read + resolution + pipeline. Each stage
reports exchanges per second of wall time and per CPU-second (process CPU time,
so the figure is per core whatever the machine), and peak heap. With
--detectors the pipeline runs the built-in detectors; without, it measures
Vigil's own cost. --crs adds the Core Rule Set engine (with or without
--detectors). The generated file is removed at the end.`,
		Example: `  vigil bench analyze
  vigil bench analyze -n 200000 --detectors
  vigil bench analyze --file capture.jsonl --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if n <= 0 {
				return usagef("-n must be positive, got %d", n)
			}
			if workers < 0 {
				return usagef("--workers must not be negative, got %d", workers)
			}
			o := analyzebench.Options{N: n, Seed: seed, File: file, Workers: workers,
				Logger: a.logger.With("component", "bench")}
			if detectors {
				as, err := detect.New(detect.Builtin())
				if err != nil {
					return err
				}
				o.Analyzers = as
			}
			if crs {
				d, err := detect.NewCRS(detect.CRSConfig{Paranoia: paranoia})
				if err != nil {
					return usageError{err}
				}
				o.Analyzers = append(o.Analyzers, d)
			}
			tuneGCForBatch() // measure what vigil analyze runs
			rep, err := analyzebench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			if jsonOut {
				return rep.WriteJSON(a.out)
			}
			return rep.WriteText(a.out)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&n, "n", "n", analyzebench.DefaultN, "exchanges to generate")
	f.Int64Var(&seed, "seed", analyzebench.DefaultSeed, "generator seed")
	f.StringVar(&file, "file", "", "read this traffic file (HAR or JSON lines) instead of generating one")
	f.IntVar(&workers, "workers", 0, "pipeline workers (0: GOMAXPROCS)")
	f.BoolVar(&detectors, "detectors", false, "run the built-in detectors in the pipeline")
	f.BoolVar(&crs, "crs", false, "run the Core Rule Set engine in the pipeline")
	f.IntVar(&paranoia, "crs-paranoia", 1, "CRS paranoia level, 1 to 4 (with --crs)")
	f.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	return cmd
}
