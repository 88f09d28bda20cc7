package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/vigilsec/vigil"
)

// Config configures a Proxy. Zero values take the defaults.
type Config struct {
	// Upstream is the base URL requests are forwarded to,
	// "http(s)://host[:port][/base]". Required.
	Upstream string
	// CaptureBytes is how much of each body is kept in the Exchange
	// (default 64 KiB; negative keeps none but still counts the size).
	CaptureBytes int64
	// UpstreamTimeout is how long to wait for the upstream's response
	// headers (default 30 s); past it the client gets 504. Bodies may then
	// stream for as long as they take.
	UpstreamTimeout time.Duration
	// DialTimeout bounds connecting to the upstream (default 5 s).
	DialTimeout time.Duration
	// MaxIdleConnsPerHost is the keep-alive pool to the upstream (default
	// 256; Go's default of 2 forces new connections under load).
	MaxIdleConnsPerHost int
	// PreserveHost sends the client's Host header upstream instead of the
	// upstream's host.
	PreserveHost bool
	// AppendForwardedFor keeps the client's X-Forwarded-For and appends the
	// peer to it (set it when Vigil runs behind a trusted load balancer);
	// by default X-Forwarded-For is only the peer Vigil saw.
	AppendForwardedFor bool
	// MaxTarpit caps the delay a tarpit action adds to one request
	// (default 10 s). The delay grows with each request of the actor under
	// the action: Delay, 2×Delay, 3×Delay… up to MaxTarpit.
	MaxTarpit time.Duration
	// MaxTarpitted caps the requests held in tarpits at once (default
	// DefaultMaxTarpitted); beyond it a tarpitted request is answered 429
	// at once.
	MaxTarpitted int
	// MaxBuckets caps the rate limiter's buckets (default DefaultMaxBuckets).
	MaxBuckets int
	// NeutralErrors replaces verbose upstream error bodies (status >= 400:
	// stack traces, database errors, debug pages, file paths with line
	// numbers, validation messages naming internal types or refused fields)
	// with {"error":"<status text>","request_id":"<id>"}, so that an
	// attacker does not learn from them; the Exchange keeps the original.
	// Only error bodies of at most 64 KiB are held back to be looked at
	// (see neutral.go); everything else streams as before.
	NeutralErrors bool
	// DecoyShape, when set, tells the learned shape of the endpoint a
	// request goes to, which decoy answers copy (see DecoyShape); without
	// it, or when it reports false, decoys are generic objects. It is called
	// only for decoyed requests.
	DecoyShape func(r *http.Request) (DecoyShape, bool)
	// Inline, when set, checks each request synchronously before it is
	// forwarded, within a deadline (see Inline). Nil: requests are only
	// analysed after the response, and an attacker is stopped from the
	// next request on.
	Inline *Inline
}

// Proxy is the inline reverse proxy; it is an http.Handler. Build it with New.
type Proxy struct {
	core      *core
	upstream  *url.URL
	cfg       Config
	rp        *httputil.ReverseProxy
	transport *http.Transport
	fast      *fastTransport // nil for an https upstream
	logger    *slog.Logger
}

// New returns a proxy to cfg.Upstream. sub receives an Exchange per request
// (nil: none are submitted); res tells who sent a request (nil: the peer
// address only); table holds the actions to enforce (nil: none).
func New(cfg Config, sub Submitter, res Resolver, table *Table, logger *slog.Logger) (*Proxy, error) {
	u, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "proxy upstream %q: not a URL", cfg.Upstream)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "proxy upstream %q: want http(s)://host[:port]", cfg.Upstream)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, vigil.Errorf(vigil.EINVALID, "proxy upstream %q: no user info, query or fragment allowed", cfg.Upstream)
	}
	if cfg.UpstreamTimeout <= 0 {
		cfg.UpstreamTimeout = 30 * time.Second
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.MaxIdleConnsPerHost <= 0 {
		cfg.MaxIdleConnsPerHost = 256
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "proxy")
	in, err := newInline(cfg.Inline)
	if err != nil {
		return nil, err
	}

	p := &Proxy{
		core:     newCore(vigil.SensorProxy, cfg.CaptureBytes, cfg.MaxTarpit, cfg.MaxBuckets, sub, res, table),
		upstream: u,
		cfg:      cfg,
		logger:   logger,
	}
	p.core.inline = in
	p.core.tarpits = newTarpits(cfg.MaxTarpitted)
	p.core.decoyShape = cfg.DecoyShape
	p.transport = &http.Transport{
		Proxy: nil, // never an environment proxy between Vigil and its upstream
		DialContext: (&net.Dialer{
			Timeout:   cfg.DialTimeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true, // for https upstreams; plain http stays HTTP/1.1
		MaxIdleConns:          4 * cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ResponseHeaderTimeout: cfg.UpstreamTimeout,
		ExpectContinueTimeout: time.Second,
		// Pass bodies through as they are: no transparent gzip.
		DisableCompression: true,
	}
	var rt http.RoundTripper = p.transport
	if u.Scheme == "http" {
		addr := u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), "80")
		}
		p.fast = &fastTransport{
			host:          u.Host,
			addr:          addr,
			dialer:        &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second},
			headerTimeout: cfg.UpstreamTimeout,
			idleTimeout:   p.transport.IdleConnTimeout,
			maxIdle:       cfg.MaxIdleConnsPerHost,
			fallback:      p.transport,
		}
		rt = p.fast
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:      p.rewrite,
		Transport:    rt,
		BufferPool:   &bufferPool{},
		ErrorHandler: p.handleError,
		// ReverseProxy flushes text/event-stream and unknown-length
		// responses at once (FlushInterval -1) whatever this is; other
		// responses are flushed when the body ends.
		FlushInterval: 0,
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	if cfg.NeutralErrors {
		p.rp.ModifyResponse = p.neutralize
	}
	return p, nil
}

// ServeHTTP forwards r to the upstream, enforcing and capturing.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.core.serve(w, r, p.forward)
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() Stats { return p.core.snapshot() }

// CloseIdleConnections closes the idle keep-alive connections to the
// upstream (call it on shutdown).
func (p *Proxy) CloseIdleConnections() {
	if p.fast != nil {
		p.fast.CloseIdleConnections()
	}
	p.transport.CloseIdleConnections()
}

type requestIDKey struct{}

func (p *Proxy) forward(w *captureWriter, r *http.Request, id string) {
	// The context carries the captureWriter (with the id) to rewrite,
	// handleError and neutralize; a pointer in an interface costs no
	// allocation, as a string would.
	w.id = id
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, w))
	if r.Body != nil && r.Body != http.NoBody {
		// The upstream may answer before the Transport has read the
		// request body to its end (it may not even have seen EOF of a body
		// the upstream read whole). Without full duplex, net/http's server
		// then discards and closes the rest of the request body as the
		// response headers go out, the Transport's write fails, and it
		// closes the upstream connection mid-response: the client gets a
		// truncated body. HTTP/2 is always full duplex and says so with an
		// error we can ignore.
		_ = http.NewResponseController(w).EnableFullDuplex()
	}
	p.rp.ServeHTTP(w, r)
}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.upstream)
	if p.cfg.PreserveHost {
		pr.Out.Host = pr.In.Host
	}
	if p.cfg.AppendForwardedFor {
		if prior := pr.In.Header["X-Forwarded-For"]; len(prior) > 0 {
			pr.Out.Header["X-Forwarded-For"] = prior
		}
	}
	pr.SetXForwarded()
	if _, ok := pr.In.Header["X-Request-Id"]; !ok {
		if cw, ok := pr.In.Context().Value(requestIDKey{}).(*captureWriter); ok {
			pr.Out.Header["X-Request-Id"] = []string{cw.id}
		}
	}
}

// handleError answers when the upstream could not: 502, or 504 for a
// timeout. A client that went away gets nothing and is only counted.
func (p *Proxy) handleError(w http.ResponseWriter, r *http.Request, err error) {
	var id string
	if cw, ok := r.Context().Value(requestIDKey{}).(*captureWriter); ok {
		id = cw.id
	}
	cw, ok := w.(*captureWriter)
	if !ok { // cannot happen: ServeHTTP always wraps
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	p.upstreamFailed(cw, r.Context(), id, err)
}

// upstreamFailed answers the client of a request the upstream did not
// answer; ctx is the client's request context (nil: none).
func (p *Proxy) upstreamFailed(cw *captureWriter, ctx context.Context, id string, err error) {
	if ctx != nil && ctx.Err() != nil {
		// Whatever failed, nobody is left to answer; finish counts it.
		p.logger.Debug("client went away", "request_id", id, "err", err)
		return
	}
	if cw.hijacked || cw.status != 0 {
		// Too late for an error response (a failed upgrade): the
		// connection is dropped.
		p.logger.Debug("upstream failed after the response started", "request_id", id, "err", err)
		return
	}
	if isTimeout(err) {
		p.core.stats.upstreamTimeouts.Add(1)
		p.logger.Debug("upstream timeout", "request_id", id, "err", err)
		writeError(cw, http.StatusGatewayTimeout, CodeUpstreamTimeout,
			fmt.Sprintf("upstream did not answer within %s", p.cfg.UpstreamTimeout), id)
		return
	}
	p.core.stats.upstreamErrors.Add(1)
	p.logger.Debug("upstream unavailable", "request_id", id, "err", err)
	writeError(cw, http.StatusBadGateway, CodeUpstreamUnavailable, "upstream unavailable", id)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// bufferPool recycles ReverseProxy's 32 KiB copy buffers instead of
// allocating one per request.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) != 32<<10 {
		return
	}
	buf = buf[:cap(buf)]
	b.p.Put(&buf)
}
