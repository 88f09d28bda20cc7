// Package proxybench measures the proxy's throughput and latency against
// references, in one run and against one local upstream: the upstream
// directly, a plain httputil.ReverseProxy, a bare fasthttp reverse proxy,
// nginx (one worker, keep-alive to the upstream) and `vigil proxy` run as a
// subprocess. Load comes from wrk.
// Everything listens on 127.0.0.1; every subprocess is killed before Run
// returns, also when ctx ends.
//
// The upstream and the plain ReverseProxy and fasthttp proxies run inside the
// harness process:
// while nginx or vigil is measured the harness only serves the upstream,
// which costs every target the same. On a 2-core machine wrk, the proxy and
// the upstream share the cores, so figures compare targets within one run;
// they are not absolute capacities.
package proxybench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vigilsec/vigil"
)

// Targets, in the order they are measured.
const (
	TargetDirect       = "direct"
	TargetReverseProxy = "reverseproxy"
	// TargetFastHTTP is a bare fasthttp reverse proxy (fasthttp.Server and
	// HostClient, nothing else) in this process: what a Go proxy costs
	// before it does anything, the floor under vigil proxy's fast engine.
	TargetFastHTTP = "fasthttp"
	TargetNginx    = "nginx"
	// TargetNginxFwd is nginx sending the upstream the same headers as
	// vigil proxy does by default (X-Forwarded-For, -Host, -Proto and
	// X-Request-Id): the same work for the upstream, whose parsing of four
	// more headers costs a Go net/http upstream measurably. TargetNginx
	// forwards the request as it came.
	TargetNginxFwd = "nginx-fwd"
	TargetVigil    = "vigil"
	// TargetCoraza is Coraza v3 with the OWASP Core Rule Set around an
	// httputil.ReverseProxy (Options.Coraza).
	TargetCoraza = "coraza-crs"
)

// VigilProcsTarget names the vigil target run with GOMAXPROCS=n.
func VigilProcsTarget(n int) string { return TargetVigil + "-procs" + strconv.Itoa(n) }

// Scenarios.
const (
	ScenarioGet  = "get"  // GET, ~200 B JSON answer
	ScenarioPost = "post" // POST of 1 KB JSON, echoed back
)

// Placeholders in Options.VigilCommand.
const (
	PlaceholderListen   = "{listen}"   // replaced by 127.0.0.1:PORT, a free port
	PlaceholderUpstream = "{upstream}" // replaced by the upstream's URL
	// PlaceholderMetrics is replaced by 127.0.0.1:PORT, a free port: give
	// it to --metrics-listen and the report has the share of exchanges the
	// proxy shed (not analysed) under the load.
	PlaceholderMetrics = "{metrics}"
)

const installHint = "install them with: apt-get install -y wrk nginx-light"

// Options configure a run. Zero values take the defaults.
type Options struct {
	Duration time.Duration // per target, scenario and round; default 10 s, rounded up to whole seconds
	// Rounds measures every target this many times (0: 1; at most 100), in
	// alternating order; the report gives medians, and the ratios are the
	// medians of each round's ratios, which a machine whose speed drifts
	// skews less than one long load per target.
	Rounds      int
	Connections int      // wrk -c; default 64
	Threads     int      // wrk -t; default 2
	Scenarios   []string // default get and post
	// VigilCommand starts `vigil proxy`: the program and its arguments, in
	// which PlaceholderListen and PlaceholderUpstream are replaced, e.g.
	//	[/usr/local/bin/vigil proxy --listen {listen} --upstream {upstream}]
	// Empty skips the vigil target.
	VigilCommand []string
	// VigilProcs adds, for each n > 0, a target "vigil-procsN": the same
	// command run with GOMAXPROCS=n in its environment. nginx runs one
	// worker, so VigilProcs {1} compares like with like; the plain vigil
	// target takes the Go default (every core).
	VigilProcs []int
	// Vigils are more vigil targets, each named and started like
	// VigilCommand: e.g. all detectors on, the inline check on, --crs.
	Vigils []Vigil
	// Coraza adds TargetCoraza: Coraza v3 and the Core Rule Set as their
	// README sets them up (@coraza.conf-recommended, @crs-setup.conf.example,
	// @owasp_crs, SecRuleEngine On) around an httputil.ReverseProxy like the
	// reverseproxy target's, served in this process.
	Coraza bool
	// LatencyPass adds, per target and scenario, a load of one connection
	// and one thread for Duration, whose p99 minus direct's is the added
	// latency (Result.AddedP99MS). The main load saturates the machine, so
	// its percentiles are mostly queueing.
	LatencyPass bool
	// SkipNginx leaves nginx and nginx-fwd out (they are otherwise
	// required).
	SkipNginx bool
	WrkPath   string // default "wrk" from PATH
	NginxPath string // default "nginx" from PATH or /usr/sbin/nginx
	Logger    *slog.Logger
}

// Vigil is a named vigil target.
type Vigil struct {
	Name    string
	Command []string // as Options.VigilCommand
}

// Result is one target under one scenario.
type Result struct {
	Scenario       string  `json:"scenario"`
	Target         string  `json:"target"`
	RequestsPerSec float64 `json:"requests_per_sec"`
	Requests       int64   `json:"requests"`
	P50MS          float64 `json:"p50_ms"`
	P99MS          float64 `json:"p99_ms"`
	Errors         int64   `json:"errors"`             // non-2xx/3xx answers and socket errors
	VsDirect       float64 `json:"vs_direct"`          // requests/s over direct's in this run
	VsNginx        float64 `json:"vs_nginx,omitempty"` // requests/s over nginx's in this run
	// VsNginxFwd is requests/s over nginx-fwd's (TargetNginxFwd) in this
	// run.
	VsNginxFwd float64 `json:"vs_nginx_fwd,omitempty"`
	// VsCoraza is requests/s over Coraza+CRS's in this run (with
	// Options.Coraza).
	VsCoraza float64 `json:"vs_coraza,omitempty"`
	// VsNginxMin and VsNginxMax are the lowest and highest of the
	// per-round ratios to nginx (Options.Rounds > 1).
	VsNginxMin float64 `json:"vs_nginx_min,omitempty"`
	VsNginxMax float64 `json:"vs_nginx_max,omitempty"`
	// LatencyP50MS and LatencyP99MS come from a second, unsaturated load
	// of one connection (Options.LatencyPass): the latency of a request
	// that does not queue behind others.
	LatencyP50MS float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99MS float64 `json:"latency_p99_ms,omitempty"`
	// AddedP50MS and AddedP99MS are LatencyP50MS and LatencyP99MS minus
	// direct's in this run: the latency the target adds to a request on
	// loopback. On a shared machine the p99 carries the other jobs'
	// scheduling noise; the p50 is steadier.
	AddedP50MS float64 `json:"added_p50_ms,omitempty"`
	AddedP99MS float64 `json:"added_p99_ms,omitempty"`
	// CPUPerRequestUS is the CPU time (user and system) the target's
	// processes spent per request of the saturated load, in microseconds:
	// steadier than requests/s on a shared machine. Only for targets that
	// run as their own processes (nginx, vigil).
	CPUPerRequestUS float64 `json:"cpu_per_request_us,omitempty"`
	// ShedPct is the percentage of the saturated load's exchanges the
	// proxy did not analyse because analysis was behind (vigil targets
	// whose command has PlaceholderMetrics); -1 when unknown.
	ShedPct float64 `json:"shed_pct"`
}

// Report is a run's results.
type Report struct {
	Started     time.Time `json:"started"`
	DurationS   int       `json:"duration_s"`
	Rounds      int       `json:"rounds"`
	Connections int       `json:"connections"`
	Threads     int       `json:"threads"`
	GOMAXPROCS  int       `json:"gomaxprocs"`
	Results     []Result  `json:"results"`
}

// Result returns the result of target under scenario.
func (r *Report) Result(scenario, target string) (Result, bool) {
	for _, res := range r.Results {
		if res.Scenario == scenario && res.Target == target {
			return res, true
		}
	}
	return Result{}, false
}

// WriteText writes the report as a table.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\ttarget\treq/s\tp50\tp99\tvs direct\tvs nginx\tvs nginx-fwd\tvs coraza\t1-conn p50\tp99\tadded p50\tp99\tcpu/req\tshed\terrors\t\n")
	ratio := func(v float64) string {
		if v > 0 {
			return fmt.Sprintf("%.2fx", v)
		}
		return "-"
	}
	for _, res := range r.Results {
		lat := "-\t-\t-\t-"
		if res.LatencyP99MS > 0 {
			lat = fmt.Sprintf("%.3fms\t%.3fms\t%+.3fms\t%+.3fms", res.LatencyP50MS, res.LatencyP99MS, res.AddedP50MS, res.AddedP99MS)
		}
		cpu, shed := "-", "-"
		if res.CPUPerRequestUS > 0 {
			cpu = fmt.Sprintf("%.1fus", res.CPUPerRequestUS)
		}
		if res.ShedPct >= 0 {
			shed = fmt.Sprintf("%.2f%%", res.ShedPct)
		}
		vsNginx := ratio(res.VsNginx)
		if res.VsNginxMax > 0 {
			vsNginx += fmt.Sprintf(" (%.2f-%.2f)", res.VsNginxMin, res.VsNginxMax)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2fms\t%.2fms\t%.2fx\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n",
			res.Scenario, res.Target, res.RequestsPerSec, res.P50MS, res.P99MS, res.VsDirect,
			vsNginx, ratio(res.VsNginxFwd), ratio(res.VsCoraza), lat, cpu, shed, res.Errors)
	}
	rounds := ""
	if r.Rounds > 1 {
		rounds = fmt.Sprintf(" in each of %d rounds (medians; vs nginx: median and range of the rounds' ratios)", r.Rounds)
	}
	fmt.Fprintf(tw, "\n%ds per target%s, %d connections, %d wrk threads, GOMAXPROCS %d\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n",
		r.DurationS, rounds, r.Connections, r.Threads, r.GOMAXPROCS)
	return tw.Flush()
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Run measures every target under every scenario.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	logger := opts.Logger.With("component", "proxybench")
	dir, err := os.MkdirTemp("", "vigil-proxybench-")
	if err != nil {
		return nil, fmt.Errorf("proxybench temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	// nginx workers drop root; let them into the dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("proxybench temp dir: %w", err)
	}
	postScript := filepath.Join(dir, "post.lua")
	if err := os.WriteFile(postScript, []byte(postLua), 0o644); err != nil {
		return nil, fmt.Errorf("write wrk script: %w", err)
	}

	// Upstream and plain ReverseProxy, in this process.
	up, err := serve(Upstream())
	if err != nil {
		return nil, err
	}
	defer up.close()
	upURL := "http://" + up.addr
	u, _ := url.Parse(upURL)
	rpTransport := http.DefaultTransport.(*http.Transport).Clone()
	// The default keeps 2 idle connections per host: under 64 connections
	// it would open and close sockets until the ports run out, measuring
	// the kernel. This is the only change from the default.
	rpTransport.MaxIdleConnsPerHost = opts.Connections
	defer rpTransport.CloseIdleConnections()
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = rpTransport
	// wrk ends with requests in flight; their cancellations are not news.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	rpSrv, err := serve(rp)
	if err != nil {
		return nil, err
	}
	defer rpSrv.close()

	// A target: where it listens; for a subprocess its process group, and
	// for vigil its metrics address when its command asks for one.
	type target struct {
		name, addr string
		pgid       int
		metrics    string
	}
	fh, err := serveFastHTTP(up.addr, opts.Connections)
	if err != nil {
		return nil, err
	}
	defer fh.close()

	targets := []target{{name: TargetDirect, addr: up.addr}, {name: TargetReverseProxy, addr: rpSrv.addr},
		{name: TargetFastHTTP, addr: fh.addr}}
	if !opts.SkipNginx {
		for _, name := range []string{TargetNginx, TargetNginxFwd} {
			addr, d, err := startNginx(ctx, opts.NginxPath, filepath.Join(dir, name), up.addr, name == TargetNginxFwd)
			if err != nil {
				return nil, err
			}
			defer d.stop()
			targets = append(targets, target{name: name, addr: addr, pgid: d.cmd.Process.Pid})
		}
	}
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	addVigil := func(name string, argv []string, procs int) error {
		addr, metrics, d, err := startVigil(ctx, argv, upURL, procs)
		if err != nil {
			return err
		}
		t := target{name: name, addr: addr, pgid: d.cmd.Process.Pid}
		if slices.Contains(argv, PlaceholderMetrics) {
			t.metrics = "http://" + metrics + "/metrics"
		}
		stops = append(stops, d.stop)
		targets = append(targets, t)
		return nil
	}
	if len(opts.VigilCommand) > 0 {
		if err := addVigil(TargetVigil, opts.VigilCommand, 0); err != nil {
			return nil, err
		}
		for _, n := range opts.VigilProcs {
			if err := addVigil(VigilProcsTarget(n), opts.VigilCommand, n); err != nil {
				return nil, err
			}
		}
	}
	for _, v := range opts.Vigils {
		if err := addVigil(v.Name, v.Command, 0); err != nil {
			return nil, fmt.Errorf("%s: %w", v.Name, err)
		}
	}
	if opts.Coraza {
		h, closeIdle, err := corazaProxy(u, opts.Connections)
		if err != nil {
			return nil, err
		}
		defer closeIdle()
		srv, err := serve(h)
		if err != nil {
			return nil, err
		}
		defer srv.close()
		targets = append(targets, target{name: TargetCoraza, addr: srv.addr})
	}

	rep := &Report{
		Started:     time.Now().UTC(),
		DurationS:   int(opts.Duration / time.Second),
		Rounds:      opts.Rounds,
		Connections: opts.Connections,
		Threads:     opts.Threads,
		GOMAXPROCS:  runtimeGOMAXPROCS(),
	}
	measure := func(sc, path, script string, tg target, latency bool) (Result, error) {
		logger.Info("measuring", "scenario", sc, "target", tg.name, "duration", opts.Duration)
		var ticks int64
		if tg.pgid > 0 {
			ticks = cpuTicks(tg.pgid)
		}
		shed0, ok0 := scrapeCounter(ctx, tg.metrics, "vigil_proxy_shed_total")
		req0, _ := scrapeCounter(ctx, tg.metrics, "vigil_proxy_requests_total")
		res, err := runWrk(ctx, opts, "http://"+tg.addr+path, script)
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: %w", sc, tg.name, err)
		}
		r := Result{
			Scenario: sc, Target: tg.name,
			RequestsPerSec: res.RequestsPerSec, Requests: res.Requests,
			P50MS: ms(res.P50), P99MS: ms(res.P99), Errors: res.Non2xx + res.SocketErrors,
			ShedPct: -1,
		}
		if tg.pgid > 0 && res.Requests > 0 {
			used := time.Duration(cpuTicks(tg.pgid)-ticks) * clockTick
			r.CPUPerRequestUS = round(float64(used/time.Nanosecond) / 1e3 / float64(res.Requests))
		}
		shed1, ok1 := scrapeCounter(ctx, tg.metrics, "vigil_proxy_shed_total")
		req1, _ := scrapeCounter(ctx, tg.metrics, "vigil_proxy_requests_total")
		if ok0 && ok1 && req1 > req0 {
			r.ShedPct = round(100 * (shed1 - shed0) / (req1 - req0))
		}
		if latency {
			one := opts
			one.Connections, one.Threads = 1, 1
			lat, err := runWrk(ctx, one, "http://"+tg.addr+path, script)
			if err != nil {
				return Result{}, fmt.Errorf("%s %s, one connection: %w", sc, tg.name, err)
			}
			r.LatencyP50MS, r.LatencyP99MS = ms(lat.P50), ms(lat.P99)
			r.Errors += lat.Non2xx + lat.SocketErrors
		}
		return r, nil
	}
	for _, sc := range opts.Scenarios {
		path, script := "/api/v2/products/42", ""
		if sc == ScenarioPost {
			path, script = "/api/v2/cart/items", postScript
		}
		// Each round measures every target, in the opposite order to the
		// round before, so that a drift of the machine's speed does not
		// always favour the same targets; the ratios are taken within a
		// round, between loads seconds apart.
		rounds := make([][]Result, opts.Rounds)
		for i := range rounds {
			order := slices.Clone(targets)
			if i%2 == 1 {
				slices.Reverse(order)
			}
			for _, tg := range order {
				r, err := measure(sc, path, script, tg, opts.LatencyPass && i == 0)
				if err != nil {
					return nil, err
				}
				rounds[i] = append(rounds[i], r)
			}
			ratios(rounds[i])
		}
		for _, tg := range targets {
			rep.Results = append(rep.Results, aggregate(rounds, tg.name))
		}
	}
	return rep, nil
}

// aggregate is target's result over the rounds: the median of each figure
// and of each round's ratios, the sums of requests and errors, and the
// one-connection latencies of the first round (the only one that has
// them). With more than one round, VsNginxMin and VsNginxMax give the
// range of the per-round ratios to nginx.
func aggregate(rounds [][]Result, target string) Result {
	var rs []Result
	for _, rd := range rounds {
		for _, r := range rd {
			if r.Target == target {
				rs = append(rs, r)
			}
		}
	}
	if len(rs) == 0 {
		return Result{Target: target}
	}
	out := rs[0]
	if len(rs) == 1 {
		return out
	}
	med := func(f func(Result) float64) float64 {
		var vs []float64
		for _, r := range rs {
			if v := f(r); v >= 0 {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			return -1
		}
		slices.Sort(vs)
		n := len(vs)
		if n%2 == 1 {
			return vs[n/2]
		}
		return round((vs[n/2-1] + vs[n/2]) / 2)
	}
	out.RequestsPerSec = med(func(r Result) float64 { return r.RequestsPerSec })
	out.P50MS = med(func(r Result) float64 { return r.P50MS })
	out.P99MS = med(func(r Result) float64 { return r.P99MS })
	out.VsDirect = med(func(r Result) float64 { return r.VsDirect })
	out.VsNginx = med(func(r Result) float64 { return r.VsNginx })
	out.VsNginxFwd = med(func(r Result) float64 { return r.VsNginxFwd })
	out.VsCoraza = med(func(r Result) float64 { return r.VsCoraza })
	out.CPUPerRequestUS = med(func(r Result) float64 { return r.CPUPerRequestUS })
	out.ShedPct = med(func(r Result) float64 { return r.ShedPct })
	out.Requests, out.Errors = 0, 0
	out.VsNginxMin, out.VsNginxMax = 0, 0
	for i, r := range rs {
		out.Requests += r.Requests
		out.Errors += r.Errors
		if i == 0 || r.VsNginx < out.VsNginxMin {
			out.VsNginxMin = r.VsNginx
		}
		out.VsNginxMax = max(out.VsNginxMax, r.VsNginx)
	}
	return out
}

// ratios fills VsDirect, VsNginx, VsNginxFwd, VsCoraza and AddedP99MS for
// one scenario's results.
func ratios(rs []Result) {
	var direct, nginx, nginxFwd, coraza, directP50, directP99 float64
	for _, r := range rs {
		switch r.Target {
		case TargetDirect:
			direct, directP50, directP99 = r.RequestsPerSec, r.LatencyP50MS, r.LatencyP99MS
		case TargetNginx:
			nginx = r.RequestsPerSec
		case TargetNginxFwd:
			nginxFwd = r.RequestsPerSec
		case TargetCoraza:
			coraza = r.RequestsPerSec
		}
	}
	for i := range rs {
		if direct > 0 {
			rs[i].VsDirect = round(rs[i].RequestsPerSec / direct)
		}
		if directP99 > 0 && rs[i].LatencyP99MS > 0 {
			rs[i].AddedP50MS = round(rs[i].LatencyP50MS - directP50)
			rs[i].AddedP99MS = round(rs[i].LatencyP99MS - directP99)
		}
		if nginx > 0 {
			rs[i].VsNginx = round(rs[i].RequestsPerSec / nginx)
		}
		if nginxFwd > 0 {
			rs[i].VsNginxFwd = round(rs[i].RequestsPerSec / nginxFwd)
		}
		if coraza > 0 {
			rs[i].VsCoraza = round(rs[i].RequestsPerSec / coraza)
		}
	}
}

func round(v float64) float64 { return math.Round(v*1000) / 1000 }

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

func (o Options) withDefaults() (Options, error) {
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	o.Duration = max(time.Second, o.Duration.Round(time.Second))
	if o.Duration > time.Hour {
		return o, vigil.Errorf(vigil.EINVALID, "bench duration %v: at most 1h per target", o.Duration)
	}
	if o.Rounds == 0 {
		o.Rounds = 1
	}
	if o.Rounds < 0 || o.Rounds > 100 {
		return o, vigil.Errorf(vigil.EINVALID, "bench rounds %d: want 1 to 100", o.Rounds)
	}
	if o.Connections <= 0 {
		o.Connections = 64
	}
	if o.Threads <= 0 {
		o.Threads = 2
	}
	if o.Connections < o.Threads {
		return o, vigil.Errorf(vigil.EINVALID, "bench connections (%d) must be at least threads (%d)", o.Connections, o.Threads)
	}
	for _, v := range o.Vigils {
		if v.Name == "" || len(v.Command) == 0 {
			return o, vigil.Errorf(vigil.EINVALID, "bench vigil target %q: want a name and a command", v.Name)
		}
	}
	for _, n := range o.VigilProcs {
		if n < 1 || n > 1024 {
			return o, vigil.Errorf(vigil.EINVALID, "bench vigil GOMAXPROCS %d: want 1 to 1024", n)
		}
	}
	if len(o.Scenarios) == 0 {
		o.Scenarios = []string{ScenarioGet, ScenarioPost}
	}
	for _, s := range o.Scenarios {
		if s != ScenarioGet && s != ScenarioPost {
			return o, vigil.Errorf(vigil.EINVALID, "bench scenario %q: want get or post", s)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if o.WrkPath, err = lookPath(o.WrkPath, "wrk"); err != nil {
		return o, err
	}
	if !o.SkipNginx {
		if o.NginxPath, err = lookPath(o.NginxPath, "nginx", "/usr/sbin/nginx"); err != nil {
			return o, err
		}
	}
	return o, nil
}

// lookPath finds a tool, or says how to install it.
func lookPath(given string, names ...string) (string, error) {
	if given != "" {
		names = []string{given}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", vigil.Errorf(vigil.EUNAVAILABLE, "%s not found: the proxy benchmark needs wrk and nginx; %s", names[0], installHint)
}

// runWrk runs one load and parses its report.
func runWrk(ctx context.Context, opts Options, target, script string) (wrkResult, error) {
	secs := int(opts.Duration / time.Second)
	ctx, cancel := context.WithTimeout(ctx, opts.Duration+30*time.Second)
	defer cancel()
	args := []string{"-t", strconv.Itoa(opts.Threads), "-c", strconv.Itoa(opts.Connections),
		"-d", strconv.Itoa(secs) + "s", "--timeout", "5s", "--latency"}
	if script != "" {
		args = append(args, "-s", script)
	}
	args = append(args, target)
	var out, errOut limitedBuffer
	cmd := command(ctx, opts.WrkPath, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("run wrk: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return res, err
	}
	if res.RequestsPerSec == 0 {
		return res, fmt.Errorf("wrk made no requests: %s", strings.TrimSpace(out.String()))
	}
	return res, nil
}

// server is an in-process HTTP server on 127.0.0.1.
type server struct {
	addr string
	stop func() // ends serve
	done chan struct{}
}

// listen serves on a new 127.0.0.1 port with serve, which returns once
// stop has been called.
func listen(serve func(net.Listener) error, stop func()) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxybench listen: %w", err)
	}
	s := &server{addr: ln.Addr().String(), stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = serve(ln) // ends with an error of its closing
	}()
	return s, nil
}

func serve(h http.Handler) (*server, error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return listen(srv.Serve, func() { _ = srv.Close() })
}

// serveFastHTTP is the fasthttp target (FastHTTPProxy).
func serveFastHTTP(upstream string, conns int) (*server, error) {
	srv, hc := FastHTTPProxy(upstream, conns)
	return listen(srv.Serve, func() {
		_ = srv.Shutdown()
		hc.CloseIdleConnections()
	})
}

// FastHTTPProxy is the bare fasthttp reverse proxy of the fasthttp target: a
// server that hands each request to a HostClient with up to conns
// connections to upstream (host:port), and does nothing else. The standin
// command serves it on its own (-engine bare), so that its CPU per request
// can be measured apart from the upstream's.
func FastHTTPProxy(upstream string, conns int) (*fasthttp.Server, *fasthttp.HostClient) {
	// A net.Dialer: fasthttp's default dialer starts an address-cache
	// cleaner that never ends.
	d := &net.Dialer{Timeout: 10 * time.Second}
	hc := &fasthttp.HostClient{Addr: upstream, MaxConns: max(conns, 1),
		Dial: func(addr string) (net.Conn, error) { return d.Dial("tcp", addr) }}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.Request.Header.Del("Connection")
			if err := hc.Do(&ctx.Request, &ctx.Response); err != nil {
				ctx.Error("bad gateway", fasthttp.StatusBadGateway)
			}
		},
		ReadTimeout: 10 * time.Second,
	}
	return srv, hc
}

func (s *server) close() {
	s.stop()
	<-s.done
}

// GetBody is the upstream's answer to the GET scenario, about 200 bytes of
// JSON. internal/benchtraffic builds the analysis benchmarks' exchanges from
// it and PostBody.
var GetBody = []byte(`{"id":42,"name":"Trail running shoes","category":"sport","price":129.95,"currency":"EUR","stock":17,"rating":4.6,"tags":["running","trail","waterproof"],"updated":"2026-01-01T12:00:00Z"}`)

// Upstream is the bench's upstream: it answers GET with GetBody and echoes
// POST bodies (up to 1 MiB).
func Upstream() http.Handler {
	getLen := strconv.Itoa(len(GetBody))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, "read body", http.StatusBadRequest)
				return
			}
			h.Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
			return
		}
		h.Set("Content-Length", getLen)
		_, _ = w.Write(GetBody)
	})
}

// PostBody is the POST scenario's 1 KB JSON document (a 1000-byte "note"),
// which the upstream echoes.
var PostBody = func() string {
	var b bytes.Buffer
	b.WriteString(`{"product_id":42,"quantity":1,"note":"`)
	for b.Len() < 1024-2 {
		b.WriteByte('x')
	}
	b.WriteString(`"}`)
	return b.String()
}()

var postLua = `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '` + PostBody + `'
`

// limitedBuffer keeps the first 64 KiB written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
