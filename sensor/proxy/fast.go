package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// FastServer serves a Proxy over plain HTTP/1.x with fasthttp instead of
// net/http. On a small machine net/http's server costs about three times
// the CPU per proxied request of fasthttp's (a goroutine hand-off, a
// context, a header map and a bufio pair per request and connection), and
// the proxy could not keep up with nginx; fasthttp reuses its per-request
// state and answers on the connection's own goroutine.
//
// Everything the proxy does stays the same code: the request is handed to
// the Proxy's core as an *http.Request (enforcement, the inline check,
// tarpits, decoys, capture, submission), forwarded by the Proxy's own
// transport, and the upstream's response is copied into fasthttp's. What
// differs:
//
//   - Request bodies are read whole before the request is handled, up to
//     ServerConfig.MaxBodyBytes (default DefaultMaxBodyBytes); a longer one
//     is answered 413, as nginx's client_max_body_size does.
//   - Response bodies up to maxHeldResponse with a declared length are read
//     whole and sent with their length; others stream as they come (chunked
//     when the length is unknown, flushed chunk by chunk, so event streams
//     keep flowing).
//   - Upgrade requests (WebSocket) and CONNECT are handed over with their
//     connection to a net/http server running the same Proxy, which serves
//     that connection from then on.
//   - Informational (1xx) responses other than 101 and trailers are not
//     passed on.
//   - TLS is not served here: use NewServer for HTTPS (it also captures the
//     ClientHello fingerprint and speaks HTTP/2).
type FastServer struct {
	p       *Proxy
	cfg     ServerConfig
	srv     *fasthttp.Server
	std     *http.Server
	handoff *connQueue
	logger  *slog.Logger
	once    sync.Once
	// native: forwardNative takes the requests (a plain-http upstream);
	// else forward.
	native bool
	// peers holds the client address text of recent connections, slot
	// ConnID%peerSlots the latest connection to use it: formatting it
	// anew costs each request three allocations.
	peers [peerSlots]atomic.Pointer[peer]
}

// peerSlots is the size of FastServer's cache of client addresses: more
// than the connections a small machine keeps busy at once (a slot shared by
// two live connections is merely formatted anew).
const peerSlots = 1024

// peer is the client address of the connection with ConnID conn.
type peer struct {
	conn uint64
	addr string
}

// DefaultMaxBodyBytes is FastServer's default limit of a request body.
const DefaultMaxBodyBytes = 16 << 20

// maxHeldResponse is the longest response body FastServer reads whole
// before answering; a longer one streams.
const maxHeldResponse = 256 << 10

// NewFastServer returns a fasthttp server for p with hardened defaults:
// ServerConfig's timeouts and limits, no Server header of its own, and
// bodies passed on as they are. (fasthttp writes the Date header itself:
// the upstream's is replaced by the proxy's.)
func NewFastServer(p *Proxy, cfg ServerConfig) *FastServer {
	cfg = cfg.withDefaults()
	s := &FastServer{
		p:       p,
		cfg:     cfg,
		handoff: newConnQueue(),
		logger:  cfg.Logger.With("component", "proxy-server"),
	}
	s.std = NewServer(p, cfg)
	s.native = p.fast != nil
	s.srv = &fasthttp.Server{
		Handler:      s.handle,
		ErrorHandler: s.handleError,
		// A request, body included, must arrive within the header timeout
		// plus a minute; keep-alive connections wait IdleTimeout for the
		// next one.
		ReadTimeout:                  cfg.ReadHeaderTimeout + time.Minute,
		IdleTimeout:                  cfg.IdleTimeout,
		WriteTimeout:                 cfg.WriteTimeout,
		ReadBufferSize:               cfg.MaxHeaderBytes,
		MaxRequestBodySize:           int(min(cfg.MaxBodyBytes, math.MaxInt)),
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		KeepHijackedConns:            true,
		SecureErrorLogMessage:        true,
		Logger:                       fastLogger{s.logger},
	}
	return s
}

// Serve accepts connections on ln until Shutdown.
func (s *FastServer) Serve(ln net.Listener) error {
	s.handoff.addr = ln.Addr()
	go func() {
		_ = s.std.Serve(s.handoff) // ends with ErrServerClosed or the queue's close
	}()
	err := s.srv.Serve(ln)
	if err == nil {
		return http.ErrServerClosed
	}
	return err
}

// Shutdown stops accepting, lets requests in flight end (until ctx is done)
// and closes the connections, the handed-over ones included.
func (s *FastServer) Shutdown(ctx context.Context) error {
	err := s.srv.ShutdownWithContext(ctx)
	s.once.Do(s.handoff.close)
	if serr := s.std.Shutdown(ctx); err == nil {
		err = serr
	}
	return err
}

func (s *FastServer) handle(ctx *fasthttp.RequestCtx) {
	rh := &ctx.Request.Header
	if rh.IsConnect() || len(rh.Peek("Upgrade")) > 0 {
		s.handOver(ctx)
		return
	}
	fr, err := s.request(ctx)
	if err != nil {
		s.handleError(ctx, err)
		return
	}
	fwd := s.forward
	if s.native {
		fwd = s.forwardNative
	}
	s.p.core.serve(&fr.w, &fr.req, fwd)
}

// fastRequest is what FastServer allocates for a request, in one piece: the
// net/http request handed to the core, its URL, its body's reader, the
// response writer and the backing of the header map's values. The
// Exchange keeps the request's header map and URL, and so this, alive.
type fastRequest struct {
	req  http.Request
	url  url.URL
	body bodyReader
	w    fastWriter
	vs   [16]string
}

// bodyReader is a request body fasthttp has read whole.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// request is the client's request as net/http's server would have made it,
// except that its URL also has the scheme and host (as the Exchange's has).
func (s *FastServer) request(ctx *fasthttp.RequestCtx) (*fastRequest, error) {
	fr := &fastRequest{w: fastWriter{ctx: ctx}}
	rh := &ctx.Request.Header
	// The request target and the host get strings of their own, not
	// slices of the header values' arena: the inventory keeps the path's
	// segments and the host as keys, and a slice would keep every header
	// of the request (cookies, tokens) in memory with them.
	uri := string(rh.RequestURI())
	if !parseOriginForm(uri, &fr.url) {
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			return nil, errBadRequestURI
		}
		fr.url = *u
	}
	host := string(rh.Host())
	fr.url.Scheme, fr.url.Host = "http", host
	vals := valueArena{backing: fr.vs[:0]}
	for k, v := range rh.All() {
		if string(k) != "Host" {
			vals.size(v)
		}
	}
	h := make(http.Header, rh.Len())
	for k, v := range rh.All() {
		if string(k) == "Host" {
			continue // net/http keeps it in Request.Host only
		}
		key := headerKey(k)
		if !validHeaderName(key) {
			return nil, errBadHeader // net/http's server refuses it too
		}
		vals.add(h, key, v)
	}
	// fasthttp has read the whole body (dechunked when it was chunked).
	delete(h, "Transfer-Encoding")
	r := &fr.req
	*r = http.Request{
		Method:     method(rh.Method()),
		URL:        &fr.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       host,
		RemoteAddr: s.remoteAddr(ctx),
		Body:       http.NoBody,
	}
	if !rh.IsHTTP11() {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	if body := ctx.Request.Body(); len(body) > 0 {
		if !s.native && (s.p.fast == nil || len(body) > maxBufferedBody) {
			// The fallback transport may still read the body after the
			// response arrived, and so after fasthttp reused its buffer.
			body = bytes.Clone(body)
		}
		fr.body.Reset(body)
		r.Body = &fr.body
		r.ContentLength = int64(len(body))
		if cl := h["Content-Length"]; len(cl) != 1 || !isDecimal(cl[0], len(body)) {
			h["Content-Length"] = []string{strconv.Itoa(len(body))} // it was chunked
		}
	}
	return fr, nil
}

// remoteAddr is ctx.RemoteAddr().String(), formatted once per connection:
// fasthttp gives all the requests of a connection the same ConnID, unique
// in the process, whichever pooled RequestCtx serves it. (Vigil never calls
// SetRemoteAddr, which would change the address within a connection.)
func (s *FastServer) remoteAddr(ctx *fasthttp.RequestCtx) string {
	id := ctx.ConnID()
	slot := &s.peers[id%peerSlots]
	if p := slot.Load(); p != nil && p.conn == id {
		return p.addr
	}
	addr := ctx.RemoteAddr().String()
	if id != 0 && !ctx.Request.Header.ConnectionClose() {
		slot.Store(&peer{conn: id, addr: addr})
	}
	return addr
}

// isDecimal tells whether s is n in decimal, without allocating.
func isDecimal(s string, n int) bool {
	v, err := strconv.Atoi(s)
	return err == nil && v == n
}

// parseOriginForm fills u from an origin-form request target ("/path?query")
// whose path needs no escaping, as url.ParseRequestURI would, without
// allocating; it reports false for anything else (absolute form, escapes,
// characters that make the URL keep a RawPath), which ParseRequestURI then
// handles.
func parseOriginForm(raw string, u *url.URL) bool {
	if len(raw) == 0 || raw[0] != '/' {
		return false
	}
	q := strings.IndexByte(raw, '?')
	path := raw
	if q >= 0 {
		path = raw[:q]
		for i := q + 1; i < len(raw); i++ {
			if c := raw[i]; c < ' ' || c == 0x7f || c == '#' {
				return false
			}
		}
	}
	for i := 0; i < len(path); i++ {
		if !plainPathChar[path[i]] {
			return false
		}
	}
	*u = url.URL{Path: raw}
	if q >= 0 {
		u.Path, u.RawQuery = raw[:q], raw[q+1:]
		u.ForceQuery = q == len(raw)-1
	}
	return true
}

// plainPathChar tells the bytes a URL path holds as they are: those
// url.URL.EscapedPath leaves unescaped (RFC 3986 unreserved, and the
// reserved ones a path may carry).
var plainPathChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.~$&+,/:;=@", byte(c)) >= 0
	}
	return t
}()

// valueArena makes the values of a header map from fasthttp's bytes with
// two allocations, however many there are: one string holding them all and
// one slice the map's value slices share. Sized by size calls, then filled
// by add calls for the same values in the same order.
type valueArena struct {
	n, bytes int
	all      strings.Builder
	vs       []string
	backing  []string // used for vs when the values fit (len 0, any capacity)
}

func (a *valueArena) size(v []byte) { a.n++; a.bytes += len(v) }

func (a *valueArena) add(h http.Header, key string, v []byte) {
	if a.vs == nil {
		if a.n <= cap(a.backing) {
			a.vs = a.backing[:0:a.n]
		} else {
			a.vs = make([]string, 0, a.n)
		}
		a.all.Grow(a.bytes)
	}
	start := a.all.Len()
	a.all.Write(v)
	// The builder's string shares its buffer: the earlier slices of it stay
	// valid as it grows within the capacity sized above.
	s := a.all.String()[start:]
	if len(a.vs) == cap(a.vs) { // more values than sized: cannot happen
		h[key] = append(h[key], strings.Clone(s))
		return
	}
	a.vs = append(a.vs, s)
	i := len(a.vs) - 1
	if old, ok := h[key]; ok {
		h[key] = append(old, s) // copies: the shared slice stays intact
		return
	}
	h[key] = a.vs[i : i+1 : i+1]
}

var (
	errBadRequestURI = errors.New("malformed request URI")
	errBadHeader     = errors.New("malformed header field name")
)

// headerKey returns a request or response header name as a string, without
// allocating for the common ones.
func headerKey(k []byte) string {
	switch string(k) {
	case "Accept":
		return "Accept"
	case "Accept-Encoding":
		return "Accept-Encoding"
	case "Accept-Language":
		return "Accept-Language"
	case "Access-Control-Allow-Origin":
		return "Access-Control-Allow-Origin"
	case "Authorization":
		return "Authorization"
	case "Cache-Control":
		return "Cache-Control"
	case "Connection":
		return "Connection"
	case "Content-Encoding":
		return "Content-Encoding"
	case "Content-Length":
		return "Content-Length"
	case "Content-Type":
		return "Content-Type"
	case "Cookie":
		return "Cookie"
	case "Date":
		return "Date"
	case "Etag":
		return "Etag"
	case "Expires":
		return "Expires"
	case "Last-Modified":
		return "Last-Modified"
	case "Location":
		return "Location"
	case "Origin":
		return "Origin"
	case "Pragma":
		return "Pragma"
	case "Referer":
		return "Referer"
	case "Server":
		return "Server"
	case "Set-Cookie":
		return "Set-Cookie"
	case "Strict-Transport-Security":
		return "Strict-Transport-Security"
	case "User-Agent":
		return "User-Agent"
	case "Vary":
		return "Vary"
	case "X-Api-Key":
		return "X-Api-Key"
	case "X-Content-Type-Options":
		return "X-Content-Type-Options"
	case "X-Forwarded-For":
		return "X-Forwarded-For"
	case "X-Frame-Options":
		return "X-Frame-Options"
	case "X-Real-Ip":
		return "X-Real-Ip"
	case "X-Request-Id":
		return "X-Request-Id"
	}
	return string(k)
}

// method returns the method as a string, without allocating for the
// standard ones.
func method(m []byte) string {
	switch string(m) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodHead:
		return http.MethodHead
	case http.MethodOptions:
		return http.MethodOptions
	}
	return string(m)
}

// forward sends r upstream and copies the response into fasthttp's.
func (s *FastServer) forward(w *captureWriter, r *http.Request, id string) {
	w.id = id
	p := s.p
	out := p.outbound(r, id)
	if p.cfg.NeutralErrors {
		// neutralize finds the captureWriter (and the id) there.
		out = out.WithContext(context.WithValue(context.Background(), requestIDKey{}, w))
	}
	var rt http.RoundTripper = p.transport
	if p.fast != nil {
		rt = p.fast
	}
	res, err := rt.RoundTrip(out)
	if err != nil {
		p.upstreamFailed(w, nil, id, err)
		return
	}
	res.Request = out
	if p.cfg.NeutralErrors {
		_ = p.neutralize(res) // never fails
	}
	removeHopHeaders(res.Header)

	fw := w.rw.(*fastWriter)
	resp := &fw.ctx.Response
	rh := &resp.Header
	rh.SetStatusCode(res.StatusCode)
	for k, vs := range res.Header {
		if k == "Content-Length" {
			continue // set by the body below
		}
		for _, v := range vs {
			rh.Add(k, v)
		}
	}
	fw.addHeaders(rh) // ReverseProxy adds the upstream's headers to them likewise
	for k, vs := range fw.h {
		if _, ok := res.Header[k]; !ok {
			res.Header[k] = vs
		}
	}
	fw.wrote = true
	w.status, w.header = res.StatusCode, res.Header

	noBody := r.Method == http.MethodHead || res.Body == nil || res.Body == http.NoBody ||
		res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusNotModified
	if noBody {
		if res.Body != nil {
			_ = res.Body.Close()
		}
		if res.ContentLength >= 0 && res.StatusCode != http.StatusNoContent {
			rh.SetContentLength(int(min(res.ContentLength, math.MaxInt)))
		}
		if r.Method == http.MethodHead {
			resp.SkipBody = true
		}
		return
	}
	if res.ContentLength >= 0 && res.ContentLength <= maxHeldResponse {
		buf := resp.BodyWriter()
		n, err := io.Copy(buf, io.LimitReader(res.Body, res.ContentLength))
		_ = res.Body.Close()
		if err != nil || n != res.ContentLength {
			// The upstream broke off: so does the client's response, after
			// what did arrive, as when it streams.
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			s.logger.Debug("upstream body ended early", "request_id", id, "err", err)
			cutShort(w, resp, int(res.ContentLength), err)
			return
		}
		w.captureBody(resp.Body())
		return
	}
	sb := &streamBody{rc: res.Body, w: w}
	w.stream = sb
	resp.SetBodyStream(sb, int(min(res.ContentLength, math.MaxInt)))
}

// outbound is the request sent upstream for in: what ReverseProxy's
// Rewrite with SetURL and SetXForwarded makes (see rewrite), hop-by-hop
// headers removed.
func (p *Proxy) outbound(in *http.Request, id string) *http.Request {
	h := make(http.Header, len(in.Header)+4)
	conn := in.Header["Connection"]
	for k, vs := range in.Header {
		if isNotForwarded(k) || hasToken(conn, k) {
			continue
		}
		h[k] = vs
	}
	if te := in.Header["Te"]; hasToken(te, "trailers") {
		h["Te"] = []string{"trailers"}
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // send none rather than Go's
	}
	ip, _, err := net.SplitHostPort(in.RemoteAddr)
	if err != nil {
		ip = in.RemoteAddr
	}
	if prior := in.Header["X-Forwarded-For"]; p.cfg.AppendForwardedFor && len(prior) > 0 {
		ip = strings.Join(prior, ", ") + ", " + ip
	}
	h["X-Forwarded-For"] = []string{ip}
	h["X-Forwarded-Host"] = []string{in.Host}
	h["X-Forwarded-Proto"] = []string{"http"}
	if _, ok := in.Header["X-Request-Id"]; !ok {
		h["X-Request-Id"] = []string{id}
	}
	u := *in.URL
	u.Scheme, u.Host = p.upstream.Scheme, p.upstream.Host
	u.Path, u.RawPath = joinURLPath(p.upstream, in.URL)
	out := &http.Request{
		Method:        in.Method,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          in.Body,
		ContentLength: in.ContentLength,
	}
	if p.cfg.PreserveHost {
		out.Host = in.Host
	}
	return out
}

// hopHeaderNames are the hop-by-hop headers (RFC 9110 section 7.6.1) a
// proxy does not pass on, in either direction.
var hopHeaderNames = [...]string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// removeHopHeaders deletes the hop-by-hop headers of a response and those
// its Connection header names.
func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = textprotoTrim(f); f != "" {
				delete(h, http.CanonicalHeaderKey(f))
			}
		}
	}
	for _, k := range hopHeaderNames {
		delete(h, k)
	}
}

// hasToken tells whether the comma-separated header values vs hold token,
// ignoring case (the Connection and TE headers).
func hasToken(vs []string, token string) bool {
	for _, v := range vs {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textprotoTrim(f), token) {
				return true
			}
		}
	}
	return false
}

func textprotoTrim(s string) string { return strings.Trim(s, " \t") }

// joinURLPath joins the upstream's base path and the request's, as
// httputil's SetURL does.
func joinURLPath(base, in *url.URL) (path, rawpath string) {
	if base.Path == "" {
		return in.Path, in.RawPath
	}
	if base.RawPath == "" && in.RawPath == "" {
		return singleJoiningSlash(base.Path, in.Path), ""
	}
	apath, bpath := base.EscapedPath(), in.EscapedPath()
	aslash, bslash := strings.HasSuffix(apath, "/"), strings.HasPrefix(bpath, "/")
	switch {
	case aslash && bslash:
		return base.Path + in.Path[1:], apath + bpath[1:]
	case !aslash && !bslash:
		return base.Path + "/" + in.Path, apath + "/" + bpath
	}
	return base.Path + in.Path, apath + bpath
}

func singleJoiningSlash(a, b string) string {
	aslash, bslash := strings.HasSuffix(a, "/"), strings.HasPrefix(b, "/")
	switch {
	case aslash && bslash:
		return a + b[1:]
	case !aslash && !bslash:
		return a + "/" + b
	}
	return a + b
}

// streamBody is a response body that streams to the client after the
// handler returned: it captures as it goes, and its Close (fasthttp calls
// it once the body is written, or the write failed) submits the Exchange.
type streamBody struct {
	rc io.ReadCloser
	w  *captureWriter

	mu      sync.Mutex
	closed  bool
	pending func() // the Exchange's submission, set when the handler returns
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	w := b.w
	w.n += int64(n)
	if room := w.limit - len(w.buf); room > 0 && n > 0 {
		w.buf = append(w.buf, p[:min(n, room)]...)
	}
	return n, err
}

func (b *streamBody) Close() error {
	err := b.rc.Close()
	b.mu.Lock()
	b.closed = true
	done := b.pending
	b.pending = nil
	b.mu.Unlock()
	if done != nil {
		done()
	}
	return err
}

// onClose runs done when the body is closed, or now when it already is.
func (b *streamBody) onClose(done func()) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		done()
		return
	}
	b.pending = done
	b.mu.Unlock()
}

// clientPoll is how often a tarpitted request checks that its client is
// still there.
const clientPoll = 100 * time.Millisecond

// wait waits for until, or until the client closes its connection: fasthttp
// does not watch the connection while a request is handled, so nothing else
// would end the wait. It reports whether until came first.
func (w *fastWriter) wait(until <-chan time.Time) bool {
	tick := time.NewTicker(clientPoll)
	defer tick.Stop()
	for {
		select {
		case <-until:
			return true
		case <-tick.C:
			if closedByPeer(w.ctx.Conn()) {
				w.gone = true
				return false
			}
		}
	}
}

// cutShort makes the client's response end as the upstream's did: what
// arrived of a body of size bytes, then err, which makes fasthttp drop the
// connection before the declared length.
func cutShort(w *captureWriter, resp *fasthttp.Response, size int, err error) {
	got := bytes.Clone(resp.Body())
	resp.ResetBody()
	sb := &streamBody{rc: io.NopCloser(io.MultiReader(bytes.NewReader(got), errReader{err})), w: w}
	w.stream = sb
	resp.SetBodyStream(sb, size)
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// fastWriter is the http.ResponseWriter of a request FastServer serves,
// for the responses Vigil writes itself (errors, decoys, tarpit answers).
type fastWriter struct {
	ctx   *fasthttp.RequestCtx
	h     http.Header
	wrote bool
	gone  bool // the client closed its connection (seen by wait)
	// rvs backs the values of the upstream response's header map.
	rvs [8]string
	// The core's per-request state (requestState), allocated with this.
	cw  captureWriter
	tee bodyTee
}

func (w *fastWriter) state() (*captureWriter, *bodyTee) { return &w.cw, &w.tee }

func (w *fastWriter) Header() http.Header {
	if w.h == nil {
		w.h = make(http.Header, 6)
	}
	return w.h
}

func (w *fastWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	rh := &w.ctx.Response.Header
	rh.SetStatusCode(code)
	w.addHeaders(rh)
}

// addHeaders adds the headers Vigil set (its own answers' headers, or a
// tarpit's X-Vigil-Action before forwarding) to rh; fasthttp sets
// Content-Length from the body.
func (w *fastWriter) addHeaders(rh *fasthttp.ResponseHeader) {
	for k, vs := range w.h {
		if k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			rh.Add(k, v)
		}
	}
}

func (w *fastWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	w.ctx.Response.AppendBody(p)
	return len(p), nil
}

// handOver gives the request's connection to the net/http server: it
// reads the request again (fasthttp has consumed it) and then the rest of
// the connection.
func (s *FastServer) handOver(ctx *fasthttp.RequestCtx) {
	var raw bytes.Buffer
	if _, err := ctx.Request.WriteTo(&raw); err != nil {
		s.handleError(ctx, err)
		return
	}
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		pc := &prefixConn{Conn: c, r: io.MultiReader(&raw, c)}
		if !s.handoff.push(pc) {
			_ = c.Close() // shutting down
		}
	})
}

// prefixConn reads r (what was already read, then the connection).
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// connQueue is the listener the net/http server accepts handed-over
// connections from.
type connQueue struct {
	ch   chan net.Conn
	done chan struct{}
	addr net.Addr
}

func newConnQueue() *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) close() { close(q.done) }

func (q *connQueue) Close() error { return nil } // closed by FastServer.Shutdown

func (q *connQueue) Addr() net.Addr {
	if q.addr == nil {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
	}
	return q.addr
}

// handleError answers a request fasthttp could not read, or one it read
// but Vigil cannot take, with Vigil's JSON error.
func (s *FastServer) handleError(ctx *fasthttp.RequestCtx, err error) {
	status, code, msg := http.StatusBadRequest, "bad_request", "malformed request"
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, code, msg = http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBodyBytes)
	case errors.As(err, &small):
		status, code, msg = http.StatusRequestHeaderFieldsTooLarge, "headers_too_large", "request headers too large"
	case isTimeout(err):
		status, code, msg = http.StatusRequestTimeout, "request_timeout", "request not received in time"
	}
	s.logger.Debug("refused request", "status", status, "err", err)
	id := s.p.core.ids.next()
	fw := &fastWriter{ctx: ctx}
	cw := &captureWriter{rw: fw}
	ctx.Response.Reset()
	writeError(cw, status, code, msg, id)
	ctx.SetConnectionClose()
}

// fastLogger sends fasthttp's own log lines to slog at debug level.
type fastLogger struct{ l *slog.Logger }

func (f fastLogger) Printf(format string, args ...any) {
	f.l.Debug(fmt.Sprintf(format, args...))
}
