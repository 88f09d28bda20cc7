package proxy

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigilsec/vigil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

type env struct {
	proxy  *Proxy
	front  *httptest.Server
	up     *httptest.Server
	rec    *recorder
	client *http.Client
	hits   *atomic.Int64 // requests the upstream saw
}

// newEnv runs upstream on 127.0.0.1, a Proxy to it behind NewServer, and a
// client. cfg.Upstream is filled in unless set.
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
	e.front = httptest.NewUnstartedServer(nil)
	e.front.Config = NewServer(p, ServerConfig{})
	e.front.Start()
	t.Cleanup(e.front.Close)
	tr := &http.Transport{DisableCompression: true}
	e.client = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return e
}
