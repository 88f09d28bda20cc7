// Command standin runs the proxy as `vigil proxy --detectors=false` builds
// it (identity resolver, pipeline in Shed mode without analyzers, the
// enforcement table) but without the SQLite store, for profiling the proxy
// under proxybench when the vigil binary is not at hand:
//
//	standin --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000 \
//	  [--cpuprofile cpu.out] [--gomaxprocs 1] [--nop-submit] [--engine std|bare]
//
// --engine bare serves proxybench's bare fasthttp proxy (FastHTTPProxy)
// instead of vigil's, for its CPU per request: what a Go proxy costs before
// it does anything.
//
// The profile is written when the process gets SIGTERM or SIGINT, which is
// how proxybench stops it.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/bench/proxybench"
	"github.com/vigilsec/vigil/identity"
	"github.com/vigilsec/vigil/pipeline"
	"github.com/vigilsec/vigil/sensor/proxy"
)

type nop struct{}

// bareServer is a fasthttp.Server with vigil's servers' Shutdown.
type bareServer struct{ *fasthttp.Server }

func (s bareServer) Shutdown(ctx context.Context) error { return s.ShutdownWithContext(ctx) }

func (nop) Submit(*vigil.Exchange) bool { return true }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	upstream := flag.String("upstream", "", "upstream URL")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	procs := flag.Int("gomaxprocs", 0, "GOMAXPROCS (0: leave)")
	nopSubmit := flag.Bool("nop-submit", false, "discard exchanges instead of running the pipeline")
	engine := flag.String("engine", "fast", "HTTP server: fast (fasthttp, vigil proxy's default), std (net/http) or bare (a bare fasthttp proxy, no vigil)")
	flag.Parse()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	res, err := identity.New(identity.Default())
	if err != nil {
		return err
	}
	var sub proxy.Submitter = nop{}
	if !*nopSubmit {
		pipe := pipeline.New(pipeline.Config{Mode: pipeline.Shed}, nil, nil, nil, nil)
		go func() { _ = pipe.Run(ctx) }()
		defer pipe.Close()
		sub = pipe
	}
	p, err := proxy.New(proxy.Config{Upstream: *upstream}, sub, res, proxy.NewTable(), nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var srv interface {
		Serve(net.Listener) error
		Shutdown(context.Context) error
	}
	switch *engine {
	case "fast":
		srv = proxy.NewFastServer(p, proxy.ServerConfig{})
	case "std":
		srv = proxy.NewServer(p, proxy.ServerConfig{})
	case "bare":
		u, err := url.Parse(*upstream)
		if err != nil {
			return err
		}
		fs, hc := proxybench.FastHTTPProxy(u.Host, 1024)
		defer hc.CloseIdleConnections()
		srv = bareServer{fs}
	default:
		return fmt.Errorf("-engine %q: want fast, std or bare", *engine)
	}
	go func() { _ = srv.Serve(ln) }()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
