package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fastTransport is the RoundTripper the proxy uses for a plain-http
// upstream. It makes HTTP/1.1 round trips on the caller's goroutine over a
// pool of keep-alive connections: it writes the request, reads the response
// headers and hands back a body that reads straight from the connection.
// http.Transport does the same with a reader and a writer goroutine per
// connection and channels between them and the caller; on a loaded machine
// those hand-offs cost as much as the proxying itself.
//
// It takes only the requests that need nothing more: no upgrade, no
// Expect, a body of known length up to maxBufferedBody (which it reads
// whole before sending, so that the request can be replayed on a fresh
// connection and the upstream may answer before reading it). Everything
// else (WebSocket, streaming or large uploads, https) goes to fallback.
//
// Keep-alive rules are http.Transport's: a connection is reused only after
// its response body was read to the end and neither side asked to close; a
// connection idle for peekAfter or longer is checked for a close by the
// upstream before reuse (http.Transport watches every idle connection with
// a goroutine); an idempotent request whose reused connection fails before
// any response byte arrives is retried once on a new connection.
type fastTransport struct {
	host          string // the upstream URL's host, as requests carry it
	addr          string // host:port to dial
	dialer        *net.Dialer
	headerTimeout time.Duration
	idleTimeout   time.Duration
	maxIdle       int
	fallback      *http.Transport

	mu    sync.Mutex
	idle  []*upConn   // LIFO: the most recently used on top
	sweep *time.Timer // armed while connections are idle
}

const (
	// maxBufferedBody is the largest request body the fast path takes.
	maxBufferedBody = 32 << 10
	// upReadBuffer is the read buffer of an upstream connection.
	// FastServer's native round trip parses the response headers in it,
	// so it bounds their size there (net/http's parser reads any size).
	upReadBuffer = 32 << 10
	// maxResponseHeaderBytes bounds the upstream's response headers.
	maxResponseHeaderBytes = 1 << 20
	// max1xx bounds informational responses before the final one.
	max1xx = 10
	// peekAfter is how long a connection must have been idle before it is
	// checked for a close (one system call, about a tenth of a proxied
	// request's cost on a small VM). An upstream closes a connection it
	// answered on less than this ago only when it shuts down, when new
	// connections fail as well; idempotent requests are retried anyway.
	peekAfter = time.Millisecond
)

// upConn is one connection to the upstream.
type upConn struct {
	t    *fastTransport
	cc   *countConn
	peek *peeker
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when it went idle

	// mu orders the cancel callback against the round trip's own
	// deadline changes.
	mu       sync.Mutex
	canceled bool
	// rdl is the read deadline last set on cc (zero: none): whatever sets
	// or clears cc's deadline records it here, so that FastServer's round
	// trips can keep a deadline up to deadlineSlack(timeout) earlier than
	// the timeout asks (never later) rather than move it, a timer change,
	// for every request.
	rdl time.Time
}

// deadlineSlack is how much earlier than now+timeout a read deadline left
// from an earlier round trip may be and still be kept.
func deadlineSlack(timeout time.Duration) time.Duration {
	return min(timeout/100, 100*time.Millisecond)
}

// readDeadline sets cc's read deadline and keeps the record (rdl) of it:
// every change of the deadline goes through here or cancel.
func (c *upConn) readDeadline(d time.Time) {
	_ = c.cc.SetReadDeadline(d)
	c.rdl = d
}

// readWithin returns the read deadline in force for a wait of timeout from
// now: the one already set when it is at most deadlineSlack(timeout)
// earlier than now+timeout (moving it is a timer change), else that, set.
func (c *upConn) readWithin(timeout time.Duration) time.Time {
	want := time.Now().Add(timeout)
	if d := want.Sub(c.rdl); c.rdl.IsZero() || d < 0 || d > deadlineSlack(timeout) {
		c.readDeadline(want)
	}
	return c.rdl
}

// countConn counts what is read and written, and can cap reads (for
// response headers).
type countConn struct {
	net.Conn
	n       int64 // read
	written int64
	limit   int64 // < 0: none
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written += int64(n)
	return n, err
}

var errHeaderTooLarge = errors.New("upstream response headers too large")

func (c *countConn) Read(p []byte) (int, error) {
	if c.limit >= 0 {
		if c.n >= c.limit {
			return 0, errHeaderTooLarge
		}
		if room := c.limit - c.n; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := c.Conn.Read(p)
	c.n += int64(n)
	return n, err
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, maxBufferedBody+1); return &b }}

// eligible tells whether the fast path can take req.
func (t *fastTransport) eligible(req *http.Request) bool {
	if req.URL.Scheme != "http" || req.URL.Host != t.host || req.Method == http.MethodConnect {
		return false
	}
	if len(req.Trailer) > 0 || len(req.TransferEncoding) > 0 {
		return false
	}
	h := req.Header
	if _, ok := h["Upgrade"]; ok {
		return false
	}
	if _, ok := h["Expect"]; ok {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody {
		return req.ContentLength > 0 && req.ContentLength <= maxBufferedBody
	}
	return true
}

// RoundTrip implements http.RoundTripper.
func (t *fastTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.eligible(req) {
		return t.fallback.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		bp := bodyPool.Get().(*[]byte)
		defer bodyPool.Put(bp)
		n, err := readBody(req.Body, *bp, int(req.ContentLength))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = (*bp)[:n]
	}
	for attempt := 0; ; attempt++ {
		c, reused, err := t.getConn(req.Context())
		if err != nil {
			return nil, err
		}
		res, err := c.roundTrip(req, body)
		if err == nil {
			return res, nil
		}
		c.close()
		if attempt > 0 || !reused || req.Context().Err() != nil || c.cc.n > 0 || !replayable(req, err) {
			return nil, err
		}
		// The upstream closed the reused connection under us before
		// answering anything: once more on a new one.
	}
}

// readBody reads a body of declared length n into buf (len(buf) > n) to its
// end, so that the body's own EOF is seen.
func readBody(r io.Reader, buf []byte, n int) (int, error) {
	got := 0
	for empty := 0; ; {
		m, err := r.Read(buf[got:])
		got += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return got, err
		}
		if m == 0 {
			if empty++; empty > 100 {
				return got, io.ErrNoProgress
			}
		}
		if got > n {
			return got, fmt.Errorf("request body longer than its Content-Length %d", n)
		}
	}
	if got != n {
		return got, io.ErrUnexpectedEOF
	}
	return got, nil
}

// replayable tells whether a request that failed on a reused connection
// before any response byte arrived may be sent again: always when none of
// it went out, else when it is idempotent (http.Transport's rules).
func replayable(req *http.Request, err error) bool {
	var we upstreamWriteError
	if errors.As(err, &we) && we.nothingWritten {
		return true
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, ok := req.Header["Idempotency-Key"]
	if !ok {
		_, ok = req.Header["X-Idempotency-Key"]
	}
	return ok
}

type upstreamWriteError struct {
	err            error
	nothingWritten bool
}

func (e upstreamWriteError) Error() string { return "write to upstream: " + e.err.Error() }
func (e upstreamWriteError) Unwrap() error { return e.err }

// getConn returns an idle connection that still looks open, or a new one.
func (t *fastTransport) getConn(ctx context.Context) (*upConn, bool, error) {
	now := time.Now()
	for {
		t.mu.Lock()
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		var stale []*upConn
		if now.Sub(c.used) > t.idleTimeout {
			// Everything below is older still.
			stale = append(stale, t.idle...)
			clear(t.idle)
			t.idle = t.idle[:0]
		}
		t.mu.Unlock()
		for _, s := range stale {
			s.close()
		}
		if now.Sub(c.used) > t.idleTimeout || (now.Sub(c.used) >= peekAfter && !c.peek.alive()) {
			c.close()
			continue
		}
		return c, true, nil
	}
	nc, err := t.dialer.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, false, err
	}
	cc := &countConn{Conn: nc, limit: -1}
	return &upConn{t: t, cc: cc, peek: newPeeker(nc), br: bufio.NewReaderSize(cc, upReadBuffer), bw: bufio.NewWriterSize(cc, 4<<10)}, false, nil
}

// putConn makes c idle, or closes it when the pool is full.
func (t *fastTransport) putConn(c *upConn) {
	c.used = time.Now()
	t.mu.Lock()
	if len(t.idle) < t.maxIdle {
		t.idle = append(t.idle, c)
		if t.sweep == nil {
			t.sweep = time.AfterFunc(t.idleTimeout, t.closeStale)
		}
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	c.close()
}

// closeStale closes the connections idle for longer than idleTimeout, as
// http.Transport does, so that a quiet proxy does not hold sockets the
// upstream has long closed. It re-arms itself while any stay idle.
func (t *fastTransport) closeStale() {
	cutoff := time.Now().Add(-t.idleTimeout)
	t.mu.Lock()
	n := 0
	for n < len(t.idle) && t.idle[n].used.Before(cutoff) {
		n++
	}
	stale := append([]*upConn(nil), t.idle[:n]...)
	rest := copy(t.idle, t.idle[n:])
	clear(t.idle[rest:])
	t.idle = t.idle[:rest]
	t.sweep = nil
	if len(t.idle) > 0 {
		// The oldest left decides when the next one goes stale.
		t.sweep = time.AfterFunc(t.idle[0].used.Sub(cutoff)+time.Millisecond, t.closeStale)
	}
	t.mu.Unlock()
	for _, c := range stale {
		c.close()
	}
}

// CloseIdleConnections closes the idle connections of both paths.
func (t *fastTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	if t.sweep != nil {
		t.sweep.Stop()
		t.sweep = nil
	}
	t.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
	t.fallback.CloseIdleConnections()
}

func (c *upConn) close() { _ = c.cc.Close() }

// aLongTimeAgo is a deadline in the past: it wakes blocked I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// cancel aborts c's I/O; it runs when the request's context ends.
func (c *upConn) cancel() {
	c.mu.Lock()
	c.canceled = true
	_ = c.cc.SetDeadline(aLongTimeAgo)
	c.rdl = aLongTimeAgo
	c.mu.Unlock()
}

// setReadDeadline sets the read deadline unless the request was canceled.
func (c *upConn) setReadDeadline(d time.Time) {
	c.mu.Lock()
	if !c.canceled {
		c.readDeadline(d)
	}
	c.mu.Unlock()
}

// roundTrip writes req with body and reads the response headers.
func (c *upConn) roundTrip(req *http.Request, body []byte) (*http.Response, error) {
	ctx := req.Context()
	c.cc.n, c.cc.written = 0, 0 // the retry rules look at this round trip
	c.mu.Lock()
	c.canceled = false
	c.mu.Unlock()
	stop := context.AfterFunc(ctx, c.cancel)
	if err := c.writeRequest(req, body); err != nil {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, upstreamWriteError{err: err, nothingWritten: c.cc.written == 0}
	}
	if c.t.headerTimeout > 0 {
		c.setReadDeadline(time.Now().Add(c.t.headerTimeout))
	}
	c.cc.n, c.cc.limit = 0, maxResponseHeaderBytes+int64(c.br.Size())
	res, err := c.readResponse(req)
	c.cc.limit = -1
	if err != nil {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if c.t.headerTimeout > 0 {
		c.setReadDeadline(time.Time{})
	}
	keep := !res.Close && !req.Close
	if res.Body == http.NoBody || res.Body == nil {
		c.release(stop, keep)
		return res, nil
	}
	res.Body = &upBody{rc: res.Body, c: c, stop: stop, keep: keep}
	return res, nil
}

// readResponse reads the final response, passing informational ones to
// the request's trace (ReverseProxy forwards them to the client).
func (c *upConn) readResponse(req *http.Request) (*http.Response, error) {
	for i := 0; ; i++ {
		res, err := http.ReadResponse(c.br, req)
		if err != nil {
			return nil, err
		}
		code := res.StatusCode
		if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
			return res, nil
		}
		if i >= max1xx {
			return nil, errors.New("upstream sent too many informational responses")
		}
		if trace := httptrace.ContextClientTrace(req.Context()); trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(code, textproto.MIMEHeader(res.Header)); err != nil {
				return nil, err
			}
		}
	}
}

// release ends a round trip whose response has been read: the connection
// goes back to the pool when keep is set and the request was not canceled.
func (c *upConn) release(stop func() bool, keep bool) {
	if !stop() || !keep || c.br.Buffered() > 0 {
		// The cancel ran (the deadline is spent), a side asked to close,
		// or the upstream sent more than the response.
		c.close()
		return
	}
	c.t.putConn(c)
}

// headerReplacer makes header values safe to write, as Header.Write does.
var headerReplacer = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// skipHeader are the headers writeRequest writes itself.
var skipHeader = map[string]bool{"Host": true, "User-Agent": true, "Content-Length": true, "Transfer-Encoding": true, "Trailer": true}

// writeRequest writes what Request.Write would for req with body on a
// keep-alive connection.
func (c *upConn) writeRequest(req *http.Request, body []byte) error {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !validHeaderValue(host) {
		return fmt.Errorf("invalid Host %q", host)
	}
	uri := req.URL.RequestURI()
	if !validRequestURI(uri) {
		return fmt.Errorf("invalid request URI %q", uri)
	}
	w := c.bw
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	// Go's own default when the header is absent; an empty value (what
	// ReverseProxy sets when the client sent none) sends none.
	ua := "Go-http-client/1.1"
	if v, ok := req.Header["User-Agent"]; ok {
		ua = ""
		if len(v) > 0 {
			ua = v[0]
		}
	}
	if ua != "" {
		writeField(w, "User-Agent", ua)
	}
	for k, vs := range req.Header {
		if skipHeader[k] {
			continue
		}
		if !validHeaderName(k) {
			return fmt.Errorf("invalid header field name %q", k)
		}
		for _, v := range vs {
			writeField(w, k, v)
		}
	}
	if req.Close {
		if _, ok := req.Header["Connection"]; !ok {
			w.WriteString("Connection: close\r\n")
		}
	}
	return c.writeBody(req.Method, body)
}

// writeBody ends a request's head with its Content-Length and writes body:
// in the same write as the head when it fits the buffer.
func (c *upConn) writeBody(method string, body []byte) error {
	w := c.bw
	switch {
	case len(body) > 0:
		w.WriteString("Content-Length: ")
		// Formatted in w's buffer: a buffer of its own would escape.
		w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(len(body)), 10))
		w.WriteString("\r\n")
	case method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch:
		w.WriteString("Content-Length: 0\r\n")
	}
	w.WriteString("\r\n")
	if len(body) <= w.Available() {
		w.Write(body)
		return w.Flush()
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := c.cc.Write(body)
	return err
}

func writeField(w *bufio.Writer, k, v string) {
	if strings.ContainsAny(v, "\r\n") {
		v = headerReplacer.Replace(v)
	}
	w.WriteString(k)
	w.WriteString(": ")
	w.WriteString(textproto.TrimString(v))
	w.WriteString("\r\n")
}

// validHeaderName is RFC 9110's token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

// tokenChar tells the bytes of RFC 9110's token.
var tokenChar = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c)
	}
	return t
}()

// validRequestURI rejects what would break the request line: spaces and
// control characters.
func validRequestURI(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return s != ""
}

// validHeaderValue rejects control characters other than tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return s != ""
}

// upBody is a response body read from an upConn. The connection goes back to
// the pool once the body has been read to its end.
type upBody struct {
	rc   io.ReadCloser
	c    *upConn
	stop func() bool
	keep bool
	done bool // the connection has been released
}

func (b *upBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.done = true
		b.c.release(b.stop, b.keep)
	}
	return n, err
}

func (b *upBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	// Not read to its end: the connection cannot carry another request.
	b.stop()
	b.c.close()
	return nil
}
