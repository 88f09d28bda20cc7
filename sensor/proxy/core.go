package proxy

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"hash/maphash"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil"
)

// Submitter takes an Exchange for analysis without blocking; it returns false
// when it had to drop it (the pipeline in Shed mode).
type Submitter interface {
	Submit(*vigil.Exchange) bool
}

// Resolver tells who sent a request (identity.Resolver).
type Resolver interface {
	Resolve(peer string, h http.Header) vigil.Actor
}

// Defaults.
const (
	DefaultCaptureBytes = 64 << 10
	// DefaultMaxTarpit caps the delay of a tarpit action, so that a
	// mistaken action cannot hold connections (and their goroutines)
	// for long.
	DefaultMaxTarpit = 10 * time.Second
)

// Headers Vigil sets.
const (
	HeaderRequestID = "X-Vigil-Request-Id"
	HeaderAction    = "X-Vigil-Action"
)

// Error codes in the JSON error body.
const (
	CodeBlocked             = "blocked"
	CodeRateLimited         = "rate_limited"
	CodeUpstreamUnavailable = "upstream_unavailable"
	CodeUpstreamTimeout     = "upstream_timeout"
	// CodeInlineUnavailable: the inline check overran its deadline on a
	// fail-closed route (503).
	CodeInlineUnavailable = "inline_check_unavailable"
)

// Stats are the sensor's counters since it was made.
type Stats struct {
	Requests         uint64 // requests received
	Submitted        uint64 // exchanges the Submitter took
	Shed             uint64 // exchanges the Submitter dropped
	UpstreamErrors   uint64 // 502: the upstream could not be reached or failed
	UpstreamTimeouts uint64 // 504: the upstream did not answer in time
	Blocked          uint64 // 403 by a block action
	RateLimited      uint64 // 429 by a rate-limit action
	Tarpitted        uint64 // requests delayed by a tarpit action
	TarpitRejected   uint64 // 429: tarpitted while the tarpits were full (Config.MaxTarpitted)
	Decoys           uint64 // requests answered with a decoy instead of being forwarded
	ClientCancels    uint64 // the client went away before the response ended
	BucketEvictions  uint64 // rate-limit buckets evicted because the map was full
	Neutralized      uint64 // verbose error bodies replaced by a neutral one (Config.NeutralErrors)

	// The inline check (Config.Inline).
	InlineChecks       uint64 // requests checked in line
	InlineBlocked      uint64 // 403: a finding the policy blocks on, before forwarding
	InlineOverruns     uint64 // checks that overran the deadline (or found no room to run)
	InlineFailedClosed uint64 // 503: an overrun or failed check on a fail-closed route
	InlineErrors       uint64 // checks whose analyzer failed or panicked
}

type counters struct {
	requests, submitted, shed, upstreamErrors, upstreamTimeouts atomic.Uint64
	blocked, rateLimited, tarpitted, clientCancels              atomic.Uint64
	neutralized, tarpitRejected, decoys                         atomic.Uint64
	inline                                                      inlineCounters
}

// idGen makes request ids: a random per-instance prefix and a counter.
type idGen struct {
	prefix string
	n      atomic.Uint64
}

func newIDGen() *idGen {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return &idGen{prefix: hex.EncodeToString(b[:])}
}

func (g *idGen) next() string {
	var buf [40]byte
	b := append(append(buf[:0], g.prefix...), '-')
	b = strconv.AppendUint(b, g.n.Add(1), 36)
	return string(b)
}

// requestState is a ResponseWriter that carries the per-request state serve
// would otherwise allocate (FastServer's, which allocates a request's state
// in one piece).
type requestState interface {
	state() (*captureWriter, *bodyTee)
}

// forwardFunc serves a request that passed enforcement.
type forwardFunc func(w *captureWriter, r *http.Request, id string)

// core is what Proxy and Guard share: capture, enforcement, submission.
type core struct {
	sensor      string
	capture     int
	cloneHeader bool
	maxTarpit   time.Duration
	sub         Submitter
	res         Resolver
	table       *Table
	limiter     *limiter
	tarpits     *tarpits
	decoySeed   maphash.Seed
	decoyShape  func(*http.Request) (DecoyShape, bool)
	inline      *inline // nil: no inline check
	ids         *idGen
	stats       counters
}

func newCore(sensor string, capture int64, maxTarpit time.Duration, maxBuckets int, sub Submitter, res Resolver, table *Table) *core {
	switch {
	case capture == 0:
		capture = DefaultCaptureBytes
	case capture < 0:
		capture = 0
	case capture > math.MaxInt32:
		capture = math.MaxInt32
	}
	if maxTarpit <= 0 {
		maxTarpit = DefaultMaxTarpit
	}
	if maxBuckets <= 0 {
		maxBuckets = DefaultMaxBuckets
	}
	return &core{
		sensor:      sensor,
		capture:     int(capture),
		cloneHeader: sensor == vigil.SensorMiddleware,
		maxTarpit:   maxTarpit,
		sub:         sub,
		res:         res,
		table:       table,
		limiter:     newLimiter(maxBuckets),
		tarpits:     newTarpits(DefaultMaxTarpitted),
		decoySeed:   maphash.MakeSeed(),
		ids:         newIDGen(),
	}
}

func (c *core) snapshot() Stats {
	s := &c.stats
	return Stats{
		Requests:         s.requests.Load(),
		Submitted:        s.submitted.Load(),
		Shed:             s.shed.Load(),
		UpstreamErrors:   s.upstreamErrors.Load(),
		UpstreamTimeouts: s.upstreamTimeouts.Load(),
		Blocked:          s.blocked.Load(),
		RateLimited:      s.rateLimited.Load(),
		Tarpitted:        s.tarpitted.Load(),
		TarpitRejected:   s.tarpitRejected.Load(),
		Decoys:           s.decoys.Load(),
		ClientCancels:    s.clientCancels.Load(),
		BucketEvictions:  c.limiter.evictions(),
		Neutralized:      s.neutralized.Load(),

		InlineChecks:       s.inline.checks.Load(),
		InlineBlocked:      s.inline.stopped.Load(),
		InlineOverruns:     s.inline.overruns.Load(),
		InlineFailedClosed: s.inline.failedClosed.Load(),
		InlineErrors:       s.inline.errors.Load(),
	}
}

func (c *core) resolve(r *http.Request) vigil.Actor {
	if c.res != nil {
		if r.TLS != nil {
			if tr, ok := c.res.(TLSResolver); ok {
				if ja4 := ClientHelloFingerprint(r.Context()); ja4 != "" {
					return tr.ResolveTLS(r.RemoteAddr, r.Header, ja4)
				}
			}
		}
		return c.res.Resolve(r.RemoteAddr, r.Header)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return vigil.Actor{Addr: host}
}

// serve runs one request: enforcement, then fwd with capture, then the
// Exchange goes to the Submitter.
func (c *core) serve(w http.ResponseWriter, r *http.Request, fwd forwardFunc) {
	start := time.Now()
	c.stats.requests.Add(1)
	id := c.ids.next()
	actor := c.resolve(r)
	reqHeader := r.Header
	if c.cloneHeader {
		// The wrapped handler may change the request's headers.
		reqHeader = reqHeader.Clone()
	}
	var cw *captureWriter
	var tee, teeSlot *bodyTee
	if rs, ok := w.(requestState); ok {
		cw, teeSlot = rs.state()
	} else {
		cw = new(captureWriter)
	}
	*cw = captureWriter{rw: w, limit: c.capture, cloneHeader: c.cloneHeader}
	if r.Body != nil && r.Body != http.NoBody {
		if tee = teeSlot; tee == nil {
			tee = new(bodyTee)
		}
		tee.init(r.Body, c.capture, r.ContentLength)
		r.Body = tee
	}
	// Deferred so that the Exchange is submitted also when the response
	// is aborted (httputil.ReverseProxy panics with http.ErrAbortHandler
	// when the copy fails midway); the panic goes on after it.
	defer c.finishOrDefer(r, cw, tee, reqHeader, id, actor, start)

	if act, ok := c.table.Lookup(actor, start); ok && !c.enforce(cw, r, act, id, start) {
		return
	}
	if c.inline != nil && !c.runInline(cw, r, tee, reqHeader, id, actor, start) {
		return
	}
	fwd(cw, r, id)
}

// enforce applies act and reports whether the request may go on.
func (c *core) enforce(w *captureWriter, r *http.Request, act vigil.Action, id string, now time.Time) bool {
	switch act.Kind {
	case vigil.ActionBlock:
		c.stats.blocked.Add(1)
		w.Header().Set(HeaderAction, string(vigil.ActionBlock))
		writeError(w, http.StatusForbidden, CodeBlocked, "request blocked by policy", id)
		return false
	case vigil.ActionRateLimit:
		ok, wait := c.limiter.allow(act.Key, act.Rate, now)
		if ok {
			return true
		}
		c.stats.rateLimited.Add(1)
		secs := int64(math.Ceil(wait.Seconds()))
		if until := act.Until.Sub(now); wait > until {
			secs = int64(math.Ceil(until.Seconds()))
		}
		h := w.Header()
		h.Set("Retry-After", strconv.FormatInt(max(1, secs), 10))
		h.Set(HeaderAction, string(vigil.ActionRateLimit))
		writeError(w, http.StatusTooManyRequests, CodeRateLimited, "rate limit exceeded", id)
		return false
	case vigil.ActionTarpit:
		return c.tarpit(w, r, act, id, now)
	case vigil.ActionDecoy:
		c.decoy(w, r)
		return false
	}
	return true
}

// exchange starts the Exchange of a request: who sent what, without bodies
// or a response. The URL is absolute (scheme and Host filled in).
func (c *core) exchange(r *http.Request, reqHeader http.Header, id string, actor vigil.Actor, start time.Time) *vigil.Exchange {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := r.URL
	if u.Host != r.Host || u.Scheme != scheme || c.cloneHeader {
		// The middleware's handler may change r.URL afterwards; the
		// proxy's requests are its own (FastServer's has both already).
		cu := *r.URL
		cu.Host, cu.Scheme = r.Host, scheme
		u = &cu
	}
	return &vigil.Exchange{
		ID:      id,
		Time:    start,
		Sensor:  c.sensor,
		Client:  vigil.Client{Addr: r.RemoteAddr, TLS: tlsFacts(r)},
		Request: vigil.Request{Method: r.Method, URL: u, Proto: r.Proto, Header: reqHeader},
		Actor:   actor,
	}
}

// finishOrDefer finishes the request now, or once its response body has
// streamed to the client when it streams after the handler returned
// (FastServer).
func (c *core) finishOrDefer(r *http.Request, cw *captureWriter, tee *bodyTee, reqHeader http.Header, id string, actor vigil.Actor, start time.Time) {
	if s := cw.stream; s != nil {
		s.onClose(func() { c.finish(r, cw, tee, reqHeader, id, actor, start) })
		return
	}
	c.finish(r, cw, tee, reqHeader, id, actor, start)
}

// finish builds the Exchange and submits it.
func (c *core) finish(r *http.Request, cw *captureWriter, tee *bodyTee, reqHeader http.Header, id string, actor vigil.Actor, start time.Time) {
	end := time.Now()
	if !cw.hijacked && (r.Context().Err() != nil || cw.clientLeft()) {
		c.stats.clientCancels.Add(1)
	}
	if c.sub == nil {
		return
	}
	x := c.exchange(r, reqHeader, id, actor, start)
	x.Duration = end.Sub(start)
	if tee != nil {
		buf, n, eof := tee.seal()
		size := n
		if !eof {
			// Not read to its end (the upstream answered early, or the
			// request was refused): the declared length, if any.
			size = max(n, r.ContentLength)
			if r.ContentLength < 0 {
				size = -1
			}
		}
		x.Request.Body, x.Request.BodySize = buf, size
		x.Request.Truncated = size != int64(len(buf))
	}
	if cw.status != 0 && !cw.generated {
		x.Response = &vigil.Response{
			Status:    cw.status,
			Proto:     r.Proto,
			Header:    cw.header,
			Body:      cw.buf,
			BodySize:  cw.n,
			Truncated: cw.n > int64(len(cw.buf)),
		}
		if nb := cw.neutral; nb != nil {
			// The client got a neutral error; the evidence is what the
			// upstream said.
			kept := nb.body[:min(len(nb.body), c.capture)]
			x.Response.Header = nb.header
			x.Response.Body = kept
			x.Response.BodySize = int64(len(nb.body))
			x.Response.Truncated = len(kept) < len(nb.body)
		}
	}
	if c.sub.Submit(x) {
		c.stats.submitted.Add(1)
	} else {
		c.stats.shed.Add(1)
	}
}

// tlsFacts describes the terminated TLS connection of r, nil for plain
// HTTP. The ClientHello fingerprint is there when the server captures it
// (CaptureClientHello).
func tlsFacts(r *http.Request) *vigil.TLS {
	cs := r.TLS
	if cs == nil {
		return nil
	}
	return &vigil.TLS{
		Version:     strings.TrimPrefix(tls.VersionName(cs.Version), "TLS "),
		CipherSuite: tls.CipherSuiteName(cs.CipherSuite),
		ServerName:  cs.ServerName,
		ALPN:        cs.NegotiatedProtocol,
		Fingerprint: ClientHelloFingerprint(r.Context()),
	}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// writeError writes a response Vigil generates itself.
func writeError(w *captureWriter, status int, code, msg, id string) {
	w.generated = true
	body, err := json.Marshal(errorBody{Error: errorDetail{Code: code, Message: msg, RequestID: id}})
	if err != nil { // cannot happen: plain strings
		body = []byte(`{"error":{"code":"internal"}}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set(HeaderRequestID, id)
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do
}
