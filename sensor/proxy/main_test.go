package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigilsec/vigil"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// fasthttp updates its Date header line once a second, for good,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		// and a stopped server's worker-pool cleaner sleeps out its
		// 10 s round before it sees the stop.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"))
}

// recorder is a Submitter that keeps what it is given; refuse makes it shed.
type recorder struct {
	ch     chan *vigil.Exchange
	refuse bool
}

func newRecorder() *recorder { return &recorder{ch: make(chan *vigil.Exchange, 1024)} }

func (r *recorder) Submit(x *vigil.Exchange) bool {
	if r.refuse {
		return false
	}
	select {
	case r.ch <- x:
		return true
	default:
		return false
	}
}

func (r *recorder) next(t *testing.T) *vigil.Exchange {
	t.Helper()
	select {
	case x := <-r.ch:
		return x
	case <-time.After(5 * time.Second):
		t.Fatal("no exchange submitted")
		return nil
	}
}

// headerResolver makes the principal from X-User, like a JWT subject.
type headerResolver struct{}

func (headerResolver) Resolve(peer string, h http.Header) vigil.Actor {
	a := vigil.Actor{Addr: "127.0.0.1"}
	if u := h.Get("X-User"); u != "" {
		a.Principal = "jwt:" + u
	}
	return a
}

// testEngine is the server newEnv puts in front of the proxy: "fast"
// (FastServer, the default of vigil proxy) or "std" (NewServer), from
// VIGIL_PROXY_ENGINE. scripts/test runs the package with each.
var testEngine = func() string {
	if e := os.Getenv("VIGIL_PROXY_ENGINE"); e != "" {
		return e
	}
	return "fast"
}()

// stdOnly skips a test of what only the net/http engine does; why says
// what FastServer does instead (docs/proxy.md lists the differences).
func stdOnly(t *testing.T, why string) {
	t.Helper()
	if testEngine == "fast" {
		t.Skip("net/http engine only: " + why)
	}
}

// front is the proxy's listener in a test.
type front struct {
	URL      string
	Listener net.Listener
	Close    func()
}

// startFront serves p on 127.0.0.1 with the engine testEngine names.
func startFront(t *testing.T, p *Proxy, cfg ServerConfig) *front {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srv interface {
		Serve(net.Listener) error
		Shutdown(context.Context) error
	}
	switch testEngine {
	case "fast":
		srv = NewFastServer(p, cfg)
	case "std":
		srv = NewServer(p, cfg)
	default:
		t.Fatalf("VIGIL_PROXY_ENGINE=%q: want fast or std", testEngine)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	f := &front{URL: "http://" + ln.Addr().String(), Listener: ln}
	var closed bool
	f.Close = func() {
		if closed {
			return
		}
		closed = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(f.Close)
	return f
}

type env struct {
	proxy  *Proxy
	front  *front
	up     *httptest.Server
	rec    *recorder
	client *http.Client
	hits   *atomic.Int64 // requests the upstream saw
}

// newEnv runs upstream on 127.0.0.1, a Proxy to it behind the testEngine
// server, and a client. cfg.Upstream is filled in unless set.
func newEnv(t *testing.T, upstream http.Handler, cfg Config, res Resolver, table *Table) *env {
	t.Helper()
	e := &env{rec: newRecorder(), hits: new(atomic.Int64)}
	e.up = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		upstream.ServeHTTP(w, r)
	}))
	t.Cleanup(e.up.Close)
	if cfg.Upstream == "" {
		cfg.Upstream = e.up.URL
	}
	p, err := New(cfg, e.rec, res, table, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.proxy = p
	t.Cleanup(p.CloseIdleConnections)
	e.front = startFront(t, p, ServerConfig{})
	tr := &http.Transport{DisableCompression: true}
	e.client = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return e
}
