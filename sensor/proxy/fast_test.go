package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// newFastEnv is newEnv with FastServer in front, whatever testEngine says,
// and cfg for it.
func newFastEnv(t *testing.T, upstream http.Handler, cfg ServerConfig) *env {
	t.Helper()
	e := &env{rec: newRecorder()}
	e.up = httptest.NewServer(upstream)
	t.Cleanup(e.up.Close)
	p, err := New(Config{Upstream: e.up.URL}, e.rec, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.proxy = p
	t.Cleanup(p.CloseIdleConnections)
	prev := testEngine
	testEngine = "fast"
	e.front = startFront(t, p, cfg)
	testEngine = prev
	e.client = &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(e.client.CloseIdleConnections)
	return e
}

func TestFastBodyLimit(t *testing.T) {
	hits := 0
	e := newFastEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		_, _ = io.Copy(io.Discard, r.Body)
	}), ServerConfig{MaxBodyBytes: 4096})
	for _, tc := range []struct {
		size    int
		chunked bool
		status  int
	}{
		{4096, false, http.StatusOK},
		{4097, false, http.StatusRequestEntityTooLarge},
		{4000, true, http.StatusOK},
		{9000, true, http.StatusRequestEntityTooLarge},
	} {
		before := hits
		var body io.Reader = bytes.NewReader(bytes.Repeat([]byte("a"), tc.size))
		if tc.chunked {
			body = onlyReader{body}
		}
		resp, err := e.client.Post(e.front.URL, "text/plain", body)
		if err != nil {
			t.Fatalf("%d bytes: %v", tc.size, err)
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%d bytes (chunked %v): status %d, want %d", tc.size, tc.chunked, resp.StatusCode, tc.status)
		}
		if tc.status == http.StatusRequestEntityTooLarge {
			if ej := decodeError(t, resp); ej.Error.Code != "body_too_large" || ej.Error.RequestID == "" {
				t.Errorf("%d bytes: error %+v", tc.size, ej)
			}
			if hits != before {
				t.Errorf("%d bytes: a refused body reached the upstream", tc.size)
			}
			continue
		}
		resp.Body.Close()
		if hits != before+1 {
			t.Errorf("%d bytes: upstream hits %d, want %d", tc.size, hits, before+1)
		}
	}
}

func TestFastHeadersTooLarge(t *testing.T) {
	e := newFastEnv(t, http.HandlerFunc(echo), ServerConfig{MaxHeaderBytes: 4096})
	req, _ := http.NewRequest("GET", e.front.URL, nil)
	req.Header.Set("X-Big", strings.Repeat("b", 8000))
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
	resp.Body.Close()
}

// TestFastMalformed sends requests fasthttp refuses: each gets a JSON
// 400 and the connection is closed; none reaches the upstream.
func TestFastMalformed(t *testing.T) {
	hits := 0
	e := newFastEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }), ServerConfig{})
	for _, raw := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
		"GET http://[::1 HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	} {
		c, err := net.Dial("tcp", e.front.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil {
			t.Errorf("%q: %v", raw, err)
			continue
		}
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", raw, resp.StatusCode)
		}
	}
	if hits != 0 {
		t.Errorf("%d malformed requests reached the upstream", hits)
	}
}

// FuzzFastServer feeds raw bytes to FastServer as one client connection:
// whatever they are, it answers HTTP (or nothing) and never panics.
func FuzzFastServer(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n",
		"\x00\xff garbage\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	p, err := New(Config{Upstream: up.URL, UpstreamTimeout: 2 * time.Second}, newRecorder(), nil, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer p.CloseIdleConnections()
	s := NewFastServer(p, ServerConfig{ReadHeaderTimeout: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }() // also serves handed-over connections
	defer func() {
		_ = s.Shutdown(context.Background())
		<-served
	}()
	f.Fuzz(func(t *testing.T, raw []byte) {
		c := &bufConn{r: bytes.NewReader(raw)}
		_ = s.srv.ServeConn(c) // ends at the input's end
		out := c.answer()
		if len(out) > 0 && !bytes.HasPrefix(out, []byte("HTTP/1.")) {
			t.Fatalf("answer does not start with a status line: %q", out[:min(len(out), 64)])
		}
	})
}

// bufConn is a client connection that sends r and keeps the answer.
type bufConn struct {
	r   *bytes.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *bufConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

// answer is what was written so far; a handed-over connection's server may
// still be writing.
func (c *bufConn) answer() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

func (c *bufConn) Close() error                     { return nil }
func (c *bufConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080} }
func (c *bufConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (c *bufConn) SetDeadline(time.Time) error      { return nil }
func (c *bufConn) SetReadDeadline(time.Time) error  { return nil }
func (c *bufConn) SetWriteDeadline(time.Time) error { return nil }

// TestFastResponseHeaders checks what FastServer passes on of a response's
// headers: all of them, as they are, hop-by-hop ones aside, and nothing it
// would add itself (a default Content-Type, its own Server).
func TestFastResponseHeaders(t *testing.T) {
	e := newFastEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = nil // no sniffed type
		h.Set("Server", "upstream/1.0")
		h.Add("Set-Cookie", "a=1; Path=/")
		h.Add("Set-Cookie", "b=2; Path=/x")
		h.Set("X-Custom", "v")
		h.Set("Connection", "X-Hop")
		h.Set("X-Hop", "secret")
		h.Set("Keep-Alive", "timeout=5")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("ok"))
	}), ServerConfig{})
	resp, err := e.client.Get(e.front.URL + "/h")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || string(body) != "ok" {
		t.Errorf("status %d, body %q", resp.StatusCode, body)
	}
	h := resp.Header
	if ct, ok := h["Content-Type"]; ok {
		t.Errorf("Content-Type %q added", ct)
	}
	if got := h.Get("Server"); got != "upstream/1.0" {
		t.Errorf("Server %q", got)
	}
	if got := h.Values("Set-Cookie"); len(got) != 2 {
		t.Errorf("Set-Cookie %q, want both", got)
	}
	if h.Get("X-Custom") != "v" || h.Get("X-Hop") != "" || h.Get("Keep-Alive") != "" {
		t.Errorf("headers %v: want X-Custom kept, X-Hop and Keep-Alive dropped", h)
	}
	x := e.rec.next(t)
	if x.Response == nil || x.Response.Status != http.StatusCreated || x.Response.Header.Get("X-Custom") != "v" || string(x.Response.Body) != "ok" {
		t.Errorf("exchange response %+v", x.Response)
	}
}

// BenchmarkFastConvert measures what FastServer adds per request to hand
// fasthttp's request and response to the core as net/http values, against
// the baseline of copying the same header bytes once.
func BenchmarkFastConvert(b *testing.B) {
	ctx := benchRequest([]byte(`{"sku":"A-1","qty":2}`))
	resp := benchResponse()
	s := &FastServer{p: &Proxy{fast: &fastTransport{}}, native: true}
	benchHeaderCopy(b, &ctx.Request.Header, resp)
	b.Run("convert", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.request(ctx); err != nil {
				b.Fatal(err)
			}
			_ = responseHeader(resp, nil)
		}
	})
}

// FuzzParseOriginForm checks the request-target shortcut against
// url.ParseRequestURI: whatever it takes, it reads the same.
func FuzzParseOriginForm(f *testing.F) {
	for _, s := range []string{"/", "/a/b?x=1&y=2", "/a?", "/a b", "/a%20b", "/a!b", "//x/y", "/é", "http://h/p", "*", "/a?#f", "/x;y=1,z/@:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var got url.URL
		if !parseOriginForm(raw, &got) {
			return
		}
		want, err := url.ParseRequestURI(raw)
		if err != nil {
			t.Fatalf("%q: taken, but ParseRequestURI refuses it: %v", raw, err)
		}
		if got != *want {
			t.Fatalf("%q: got %#v, ParseRequestURI %#v", raw, got, *want)
		}
	})
}

// TestFastNativeEdges covers what FastServer's own round trip must get
// right beside the happy path: HEAD keeps the upstream's length, and a body
// cut short upstream is cut short for the client.
func TestFastNativeEdges(t *testing.T) {
	hits := 0
	e := newFastEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch r.URL.Path {
		case "/head":
			w.Header().Set("Content-Length", "186")
		case "/cut":
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte("only ten b"))
			_ = http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler) // closes the connection mid-body
		}
	}), ServerConfig{})

	req, _ := http.NewRequest(http.MethodHead, e.front.URL+"/head", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ContentLength != 186 {
		t.Errorf("HEAD: Content-Length %d, want the upstream's 186", resp.ContentLength)
	}

	resp, err = e.client.Get(e.front.URL + "/cut")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Errorf("a body the upstream cut short reached the client whole (status %d)", resp.StatusCode)
	}
}

// TestFastConnectionListed checks that a header the client's Connection
// header names does not reach the upstream, whatever its case and next to
// keep-alive, and that the others do.
func TestFastConnectionListed(t *testing.T) {
	e := newFastEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Saw-Hop", r.Header.Get("X-Hop"))
		w.Header().Set("X-Saw-Kept", r.Header.Get("X-Kept"))
	}), ServerConfig{})
	req, _ := http.NewRequest("GET", e.front.URL+"/c", nil)
	req.Header.Set("Connection", "keep-alive, x-HOP")
	req.Header.Set("X-Hop", "secret")
	req.Header.Set("X-Kept", "v")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Saw-Hop"); got != "" {
		t.Errorf("X-Hop reached the upstream: %q", got)
	}
	if got := resp.Header.Get("X-Saw-Kept"); got != "v" {
		t.Errorf("X-Kept = %q at the upstream, want v", got)
	}
}

// TestFastRemoteAddrPerConn checks the cache of client addresses: a pooled
// RequestCtx that serves one connection after another gives each request
// its own connection's address, also when two connections share a slot.
func TestFastRemoteAddrPerConn(t *testing.T) {
	s := &FastServer{p: &Proxy{fast: &fastTransport{}}, native: true}
	want := func(ctx *fasthttp.RequestCtx, addr net.Addr) {
		t.Helper()
		fr, err := s.request(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fr.req.RemoteAddr != addr.String() {
			t.Fatalf("conn %d: RemoteAddr %q, want %q", ctx.ConnID(), fr.req.RemoteAddr, addr)
		}
	}
	var ctx fasthttp.RequestCtx
	for _, addr := range []*net.TCPAddr{
		{IP: net.IPv4(10, 0, 0, 1), Port: 1111},
		{IP: net.ParseIP("2001:db8::1"), Port: 2222},
		{IP: net.ParseIP("fe80::1"), Port: 3333, Zone: "eth0"},
		{IP: net.IPv4(10, 0, 0, 1), Port: 4444},
	} {
		ctx.Init(&fasthttp.Request{}, addr, nil) // the next connection on the pooled ctx
		for range 3 {
			want(&ctx, addr)
		}
	}

	// Two live connections in one slot take turns.
	bySlot := map[uint64]*fasthttp.RequestCtx{}
	var a, b *fasthttp.RequestCtx
	for i := 0; a == nil; i++ {
		c := &fasthttp.RequestCtx{}
		c.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(10, 0, byte(i>>8), byte(i)), Port: 5000 + i}, nil)
		slot := c.ConnID() % peerSlots
		if prev, ok := bySlot[slot]; ok {
			a, b = prev, c
		}
		bySlot[slot] = c
	}
	for range 3 {
		want(a, a.RemoteAddr())
		want(b, b.RemoteAddr())
	}
}

// TestFastRemoteAddrConcurrent has connections in colliding slots use the
// cache at once (run it with -race).
func TestFastRemoteAddrConcurrent(t *testing.T) {
	s := &FastServer{p: &Proxy{fast: &fastTransport{}}, native: true}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range peerSlots / 4 {
				var ctx fasthttp.RequestCtx
				addr := &net.TCPAddr{IP: net.IPv4(10, byte(g), byte(i>>8), byte(i)), Port: 1000 + i}
				ctx.Init(&fasthttp.Request{}, addr, nil)
				for range 4 {
					fr, err := s.request(&ctx)
					if err != nil || fr.req.RemoteAddr != addr.String() {
						errs <- fmt.Sprintf("conn %d: RemoteAddr %q, want %q (%v)", ctx.ConnID(), fr.req.RemoteAddr, addr, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// deadlineConn records the read deadlines set on it.
type deadlineConn struct {
	net.Conn
	mu  sync.Mutex
	set []time.Time
}

func (c *deadlineConn) SetReadDeadline(d time.Time) error {
	c.mu.Lock()
	c.set = append(c.set, d)
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(d)
}

func (c *deadlineConn) sets() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.set...)
}

// pipeUpConn is an upConn over a pipe, and the upstream's end of it.
func pipeUpConn(t *testing.T) (*upConn, *deadlineConn, net.Conn) {
	t.Helper()
	up, client := net.Pipe()
	t.Cleanup(func() { up.Close(); client.Close() })
	dc := &deadlineConn{Conn: client}
	cc := &countConn{Conn: dc, limit: -1}
	return &upConn{cc: cc, br: bufio.NewReader(cc)}, dc, up
}

// TestReadUpstreamHeaderDeadline checks the read deadline readUpstreamHeader
// leaves in effect: at most deadlineSlack before timeout from the call,
// never later; kept (no timer change) when the one in place is within that;
// set anew after the deadline was cleared (a streamed body) or spent (a
// canceled round trip).
func TestReadUpstreamHeaderDeadline(t *testing.T) {
	const timeout = 10 * time.Second // slack 100ms: the calls below take less
	c, dc, up := pipeUpConn(t)
	go func() {
		for range 5 {
			if _, err := io.WriteString(up, "HTTP/1.1 204 No Content\r\n\r\n"); err != nil {
				return
			}
		}
	}()
	var h fasthttp.ResponseHeader
	read := func(what string, wantSet bool) {
		t.Helper()
		before := len(dc.sets())
		start := time.Now()
		if err := readUpstreamHeader(c, &h, timeout); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		end := time.Now()
		sets := dc.sets()
		if set := len(sets) > before; set != wantSet && end.Sub(start) < deadlineSlack(timeout)/2 {
			t.Errorf("%s: deadline set %v, want %v", what, set, wantSet)
		}
		d := sets[len(sets)-1] // the one in effect
		if lo, hi := start.Add(timeout-deadlineSlack(timeout)), end.Add(timeout); d.Before(lo) || d.After(hi) {
			t.Errorf("%s: deadline %v from the call's start, want within [%v, %v]", what, d.Sub(start), timeout-deadlineSlack(timeout), timeout)
		}
		if !c.rdl.Equal(d) {
			t.Errorf("%s: recorded deadline %v, set %v", what, c.rdl, d)
		}
	}
	read("first", true)
	read("reused", false)
	_ = c.cc.SetReadDeadline(time.Time{}) // as forwardNative's streaming branch does
	c.rdl = time.Time{}
	read("after a cleared deadline", true)
	c.setReadDeadline(time.Now().Add(timeout)) // fastTransport.RoundTrip's
	read("after RoundTrip's deadline", false)
	c.cancel()
	c.canceled = false // as the next round trip starts
	read("after a cancel", true)
}

// TestReadUpstreamHeaderTimeout checks that a kept deadline fires on a
// reused connection within [timeout-slack, timeout] of the request, and is
// reported as a timeout.
func TestReadUpstreamHeaderTimeout(t *testing.T) {
	const timeout = 2 * time.Second // slack 20ms
	c, _, up := pipeUpConn(t)
	go func() { _, _ = io.WriteString(up, "HTTP/1.1 204 No Content\r\n\r\n") }() // then silence
	var h fasthttp.ResponseHeader
	if err := readUpstreamHeader(c, &h, timeout); err != nil {
		t.Fatal(err)
	}
	time.Sleep(deadlineSlack(timeout) / 2) // the deadline is kept, and fires that much earlier
	start := time.Now()
	err := readUpstreamHeader(c, &h, timeout)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want a timeout", err)
	}
	if took < timeout-deadlineSlack(timeout) || took > timeout+time.Second {
		t.Errorf("timed out after %v, want about %v", took, timeout)
	}
}

// TestFastStreamClearsDeadline checks that forwardNative keeps the record
// of the upstream connection's read deadline true: a streamed body clears
// the deadline, and the next request sets it again.
func TestFastStreamClearsDeadline(t *testing.T) {
	big := strings.Repeat("s", maxHeldResponse+1)
	e := newFastEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, big)
		}
	}), ServerConfig{})
	pooled := func() *upConn {
		t.Helper()
		ft := e.proxy.fast
		for range 200 {
			ft.mu.Lock()
			var c *upConn
			if len(ft.idle) == 1 {
				c = ft.idle[0]
			}
			ft.mu.Unlock()
			if c != nil {
				return c
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatal("no idle upstream connection")
		return nil
	}
	get := func(path string, size int) {
		t.Helper()
		resp, err := e.client.Get(e.front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) != size {
			t.Fatalf("%s: %d bytes, want %d", path, len(b), size)
		}
	}
	get("/small", 0)
	if c := pooled(); c.rdl.IsZero() {
		t.Fatal("held response: no deadline recorded")
	}
	get("/big", len(big))
	if c := pooled(); !c.rdl.IsZero() {
		t.Errorf("streamed response: deadline %v recorded, want none", c.rdl)
	}
	get("/small", 0)
	if c := pooled(); c.rdl.IsZero() {
		t.Error("after a streamed response: no deadline set")
	}
}

// BenchmarkReadUpstreamHeader measures reading a response's headers on a
// kept-alive upstream connection, the deadline set for every response
// (baseline, as before the deadline was kept) or kept while recent.
func BenchmarkReadUpstreamHeader(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		batch := []byte(strings.Repeat("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n", 256))
		for {
			if _, err := s.Write(batch); err != nil {
				return
			}
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	cc := &countConn{Conn: nc, limit: -1}
	c := &upConn{cc: cc, br: bufio.NewReaderSize(cc, upReadBuffer)}
	var h fasthttp.ResponseHeader
	for _, lazy := range []bool{false, true} {
		name := "baseline-set-each"
		if lazy {
			name = "kept"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if !lazy {
					c.rdl = time.Time{}
				}
				if err := readUpstreamHeader(c, &h, 30*time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestIsNotForwarded checks the switch against the headers the proxy must
// not forward, written out here, on those names and on common others.
func TestIsNotForwarded(t *testing.T) {
	notForwarded := map[string]bool{}
	for _, k := range append(hopHeaderNames[:], "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Expect") {
		notForwarded[k] = true
	}
	names := []string{"Host", "Content-Type", "Te2", "Connectio", "X-Forwarded", "Expect-Ct", "connection", "",
		"Authorization", "Cookie", "User-Agent", "Accept", "X-Real-Ip", "X-Request-Id", "Content-Length", "Origin"}
	for k := range notForwarded {
		names = append(names, k)
	}
	for _, k := range names {
		if got, want := isNotForwarded([]byte(k)), notForwarded[k]; got != want {
			t.Errorf("%q: %v, want %v", k, got, want)
		}
		if got := isNotForwarded(k); got != notForwarded[k] {
			t.Errorf("%q as a string: %v", k, got)
		}
	}
}

// TestRemoveFastHopHeaders checks that each hop-by-hop header, and what
// Connection lists, goes, whichever is the only one, and the rest stays.
func TestRemoveFastHopHeaders(t *testing.T) {
	for _, k := range hopHeaderNames {
		if k == "Transfer-Encoding" {
			continue // fasthttp frames the response itself
		}
		raw := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Keep: 1\r\n" + k + ": x\r\n\r\n"
		if k == "Connection" {
			raw = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Keep: 1\r\nX-Hop: 1\r\nConnection: x-hop\r\n\r\n"
		}
		var h fasthttp.ResponseHeader
		if err := h.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		h.ResetConnectionClose()
		removeFastHopHeaders(&h)
		if v := h.Peek(k); len(v) > 0 {
			t.Errorf("%s: kept (%q)", k, v)
		}
		if v := h.Peek("X-Hop"); len(v) > 0 {
			t.Errorf("%s: X-Hop kept", k)
		}
		if string(h.Peek("X-Keep")) != "1" {
			t.Errorf("%s: X-Keep removed", k)
		}
	}
}
