package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/vigilsec/vigil"
)

// BenchmarkProxy compares a GET through a default httputil.ReverseProxy with
// one through Proxy (capture on, a discarding Submitter), same upstream.
func BenchmarkProxy(b *testing.B) {
	const payload = `{"id":1001,"status":"shipped","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":129.95,"currency":"EUR","customer":{"id":17,"tier":"gold"}}`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, payload)
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)

	plainTr := &http.Transport{MaxIdleConnsPerHost: 256}
	plain := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() }, Transport: plainTr}
	defer plainTr.CloseIdleConnections()
	vigilProxy, err := New(Config{Upstream: up.URL}, discard{}, nil, NewTable(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer vigilProxy.CloseIdleConnections()

	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"plain", plain}, {"vigil", vigilProxy}} {
		for _, method := range []string{"GET", "POST"} {
			b.Run(bc.name+"/"+method, func(b *testing.B) {
				front := httptest.NewServer(bc.h)
				defer front.Close()
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr}
				body := strings.Repeat("x", 1024)
				b.ReportAllocs()
				for b.Loop() {
					var rd io.Reader
					if method == "POST" {
						rd = strings.NewReader(body)
					}
					req, _ := http.NewRequest(method, front.URL+"/api/v2/orders/1001", rd)
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
	}
}

type discard struct{}

func (discard) Submit(*vigil.Exchange) bool { return true }

// BenchmarkFastProxy sends POSTs of 1 KB of JSON over 16 keep-alive
// connections through FastServer (capture on, a discarding Submitter) to a
// fasthttp upstream, against the baseline of a bare fasthttp reverse proxy
// (fasthttp.HostClient) in its place.
func BenchmarkFastProxy(b *testing.B) {
	const payload = `{"id":1001,"status":"shipped","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":129.95,"currency":"EUR","customer":{"id":17,"tier":"gold"}}`
	serve := func(h fasthttp.RequestHandler) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		s := &fasthttp.Server{Handler: h}
		go func() { _ = s.Serve(ln) }()
		b.Cleanup(func() { _ = s.Shutdown() })
		return ln.Addr().String()
	}
	up := serve(func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(payload)
	})
	upClient := newHostClient(b, up)
	bare := serve(func(ctx *fasthttp.RequestCtx) {
		if err := upClient.Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.Error(err.Error(), http.StatusBadGateway)
		}
	})
	p, err := New(Config{Upstream: "http://" + up}, discard{}, nil, NewTable(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.CloseIdleConnections()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	fs := NewFastServer(p, ServerConfig{})
	go func() { _ = fs.Serve(ln) }()
	defer func() { _ = fs.Shutdown(context.Background()) }()

	body := []byte(strings.Repeat(`{"k":"vvvvvvvv"},`, 60))
	for _, bc := range []struct{ name, addr string }{{"baseline-bare", bare}, {"vigil", ln.Addr().String()}} {
		b.Run(bc.name, func(b *testing.B) {
			client := newHostClient(b, bc.addr)
			client.MaxConns = 16
			b.SetParallelism(8) // 16 connections on 2 cores
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					req.Reset()
					req.Header.SetMethod("POST")
					req.SetRequestURI("http://" + bc.addr + "/api/v2/orders/1001?x=1")
					req.Header.SetContentType("application/json")
					req.Header.Set("Authorization", "Bearer abc.def.ghi")
					req.SetBody(body)
					if err := client.Do(req, resp); err != nil || resp.StatusCode() != http.StatusOK {
						b.Fatalf("%v, status %d", err, resp.StatusCode())
					}
				}
			})
		})
	}
}

// newHostClient is a fasthttp client that leaves no goroutine behind once
// the benchmark is done (its idle-connection cleaner ends with the
// connections; no cached resolver).
func newHostClient(b *testing.B, addr string) *fasthttp.HostClient {
	c := &fasthttp.HostClient{
		Addr:                addr,
		MaxConns:            256,
		MaxIdleConnDuration: 50 * time.Millisecond,
		Dial:                func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) },
	}
	b.Cleanup(func() {
		c.CloseIdleConnections()
		time.Sleep(200 * time.Millisecond) // the cleaner's next round sees none
	})
	return c
}

// BenchmarkWriteUpstream measures FastServer's writing of a request to the
// upstream connection, against the baseline of fasthttp writing the same
// request itself.
func BenchmarkWriteUpstream(b *testing.B) {
	p, err := New(Config{Upstream: "http://127.0.0.1:9"}, discard{}, nil, NewTable(), nil)
	if err != nil {
		b.Fatal(err)
	}
	s := NewFastServer(p, ServerConfig{})
	ctx := benchRequest([]byte(strings.Repeat(`{"k":"vvvvvvvv"},`, 60)))
	fr, err := s.request(ctx)
	if err != nil {
		b.Fatal(err)
	}
	cc := &countConn{Conn: discardConn{}, limit: -1}
	c := &upConn{cc: cc, bw: bufio.NewWriterSize(cc, 4<<10)}
	b.Run("baseline-fasthttp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := ctx.Request.Write(c.bw); err != nil {
				b.Fatal(err)
			}
			_ = c.bw.Flush()
		}
	})
	b.Run("vigil", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.writeUpstream(c, ctx, &fr.req, "r-1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// discardConn is a connection that takes every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkRemoveFastHopHeaders measures removeFastHopHeaders on a
// response without hop-by-hop headers, the usual case, against the
// same-run baseline of visiting its headers once.
func BenchmarkRemoveFastHopHeaders(b *testing.B) {
	var h fasthttp.ResponseHeader
	raw := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 186\r\nDate: Sun, 29 Nov 2026 11:00:00 GMT\r\nServer: up\r\nCache-Control: no-store\r\nX-Request-Id: r-1\r\n\r\n"
	if err := h.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-visit", func(b *testing.B) {
		n := 0
		for b.Loop() {
			for k := range h.All() {
				n += len(k)
			}
		}
		if n == 0 {
			b.Fatal("no headers")
		}
	})
	b.Run("remove", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			removeFastHopHeaders(&h)
		}
	})
}

// BenchmarkFastCore measures what FastServer and the core do per request
// around the round trip: the conversion to net/http values, the capture,
// the Exchange and its submission (to a discarding Submitter), with a
// stub forward that does forwardNative's bookkeeping; against the baseline
// of copying the request's and the response's header bytes once.
func BenchmarkFastCore(b *testing.B) {
	p, err := New(Config{Upstream: "http://127.0.0.1:9"}, discard{}, nil, NewTable(), nil)
	if err != nil {
		b.Fatal(err)
	}
	s := NewFastServer(p, ServerConfig{})
	body := []byte(strings.Repeat(`{"k":"vvvvvvvv"},`, 60))
	ctx := benchRequest(body)
	rh := &ctx.Request.Header
	rh.SetContentLength(len(body))
	resp := benchResponse()
	respBody := []byte(strings.Repeat("r", 186))
	fwd := func(w *captureWriter, r *http.Request, id string) {
		w.id = id
		_, _ = io.Copy(io.Discard, r.Body)
		fw := w.rw.(*fastWriter)
		fw.wrote = true
		w.status = http.StatusOK
		w.header = responseHeader(resp, fw.rvs[:0])
		w.captureBody(respBody)
	}
	benchHeaderCopy(b, rh, resp)
	b.Run("vigil", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fr, err := s.request(ctx)
			if err != nil {
				b.Fatal(err)
			}
			p.core.serve(&fr.w, &fr.req, fwd)
		}
	})
}

// benchRequest is the request the fast engine's benchmarks convert, write
// and serve: a POST with a few usual headers and body, from 127.0.0.1.
func benchRequest(body []byte) *fasthttp.RequestCtx {
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	rh := &ctx.Request.Header
	rh.SetMethod("POST")
	rh.SetRequestURI("/api/v1/orders?page=2")
	rh.SetHost("127.0.0.1:8080")
	rh.Set("User-Agent", "wrk")
	rh.Set("Accept", "application/json")
	rh.Set("Authorization", "Bearer abc.def.ghi")
	rh.SetContentType("application/json")
	ctx.Request.SetBody(body)
	return ctx
}

// benchResponse is the upstream's answer in those benchmarks: the headers
// of 186 bytes of JSON.
func benchResponse() *fasthttp.ResponseHeader {
	resp := new(fasthttp.ResponseHeader)
	resp.SetContentType("application/json")
	resp.SetContentLength(186)
	resp.Set("Date", "Sun, 29 Nov 2026 11:00:00 GMT")
	resp.Set("X-Request-Id", "r-1")
	return resp
}

// benchHeaderCopy is the baseline of the conversion benchmarks: copying
// the request's and the response's header bytes once.
func benchHeaderCopy(b *testing.B, rh *fasthttp.RequestHeader, resp *fasthttp.ResponseHeader) {
	b.Run("baseline-copy", func(b *testing.B) {
		b.ReportAllocs()
		var dst []byte
		for b.Loop() {
			dst = rh.AppendBytes(dst[:0])
			dst = resp.AppendBytes(dst)
		}
	})
}
