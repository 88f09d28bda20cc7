package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

// echo answers with the request body and tells what it saw in headers.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Echo-Method", r.Method)
	h.Set("X-Echo-Request-Id", r.Header.Get("X-Request-Id"))
	h.Set("X-Echo-Forwarded-For", r.Header.Get("X-Forwarded-For"))
	h.Set("X-Echo-Forwarded-Proto", r.Header.Get("X-Forwarded-Proto"))
	h.Set("X-Echo-Forwarded-Host", r.Header.Get("X-Forwarded-Host"))
	h.Set("X-Echo-Connection-Token", r.Header.Get("X-Hop"))
	h.Set("X-Echo-Content-Length", fmt.Sprint(r.ContentLength))
	h.Set("X-Echo-Path", r.URL.RequestURI())
	_, _ = w.Write(body)
}

func TestProxyMethods(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(echo), Config{}, nil, nil)
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		t.Run(method, func(t *testing.T) {
			body := `{"method":"` + method + `","n":1}`
			if method == "HEAD" {
				body = ""
			}
			req, _ := http.NewRequest(method, e.front.URL+"/api/v2/items?x=1", strings.NewReader(body))
			req.Header.Set("Connection", "X-Hop")
			req.Header.Set("X-Hop", "must not pass")
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantBody := body
			if method == "HEAD" {
				wantBody = ""
			}
			type view struct {
				Status                          int
				Method, Path, Body, XFF, XFP    string
				Hop                             string
				RequestIDSent                   bool
				XBody, XRespBody                string
				XReqSize, XRespSize             int64
				XStatus                         int
				XSensor, XURL                   string
				XTruncReq, XTruncResp, XHasResp bool
			}
			x := e.rec.next(t)
			gotV := view{
				Status: resp.StatusCode, Method: resp.Header.Get("X-Echo-Method"), Path: resp.Header.Get("X-Echo-Path"),
				Body: string(got), XFF: resp.Header.Get("X-Echo-Forwarded-For"), XFP: resp.Header.Get("X-Echo-Forwarded-Proto"),
				Hop:           resp.Header.Get("X-Echo-Connection-Token"),
				RequestIDSent: resp.Header.Get("X-Echo-Request-Id") == x.ID,
				XBody:         string(x.Request.Body), XReqSize: x.Request.BodySize, XTruncReq: x.Request.Truncated,
				XSensor: x.Sensor, XURL: x.Request.URL.String(), XHasResp: x.Response != nil,
			}
			if x.Response != nil {
				gotV.XStatus, gotV.XRespBody, gotV.XRespSize, gotV.XTruncResp = x.Response.Status, string(x.Response.Body), x.Response.BodySize, x.Response.Truncated
			}
			want := view{
				Status: 200, Method: method, Path: "/api/v2/items?x=1", Body: wantBody, XFF: "127.0.0.1", XFP: "http",
				RequestIDSent: true, XBody: body, XReqSize: int64(len(body)),
				XSensor: vigil.SensorProxy, XURL: e.front.URL + "/api/v2/items?x=1", XHasResp: true,
				XStatus: 200, XRespBody: wantBody, XRespSize: int64(len(wantBody)),
			}
			if diff := cmp.Diff(want, gotV); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestProxyClientRequestIDKept(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(echo), Config{}, nil, nil)
	req, _ := http.NewRequest("GET", e.front.URL, nil)
	req.Header.Set("X-Request-Id", "client-chosen")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Echo-Request-Id"); got != "client-chosen" {
		t.Errorf("upstream saw X-Request-Id %q, want the client's", got)
	}
	if x := e.rec.next(t); x.ID == "client-chosen" || x.ID == "" {
		t.Errorf("Exchange.ID = %q, want Vigil's own id", x.ID)
	}
}

// onlyReader hides a reader's length so that the client sends chunks.
type onlyReader struct{ io.Reader }

func TestProxyChunked(t *testing.T) {
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo-Content-Length", fmt.Sprint(r.ContentLength))
		for _, part := range bytes.SplitAfter(body, []byte(",")) {
			_, _ = w.Write(part)
			http.NewResponseController(w).Flush() // no Content-Length: chunked
		}
	})
	e := newEnv(t, up, Config{}, nil, nil)
	const body = "one,two,three,four"
	resp, err := e.client.Post(e.front.URL, "text/plain", onlyReader{strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	x := e.rec.next(t)
	type view struct {
		UpstreamCL, Body, XReq, XResp string
		TE                            []string
		XReqSize, XRespSize           int64
	}
	gotV := view{resp.Header.Get("X-Echo-Content-Length"), string(got), string(x.Request.Body), string(x.Response.Body), resp.TransferEncoding, x.Request.BodySize, x.Response.BodySize}
	wantV := view{"-1", body, body, body, []string{"chunked"}, int64(len(body)), int64(len(body))}
	if testEngine == "fast" {
		// FastServer reads a request body whole and sends it with its length.
		wantV.UpstreamCL = fmt.Sprint(len(body))
	}
	if diff := cmp.Diff(wantV, gotV); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestProxyCaptureCap(t *testing.T) {
	tests := []struct {
		name      string
		capture   int64
		size      int
		wantKept  int
		truncated bool
	}{
		{"under cap", 1000, 999, 999, false},
		{"at cap", 1000, 1000, 1000, false},
		{"over cap", 1000, 5000, 1000, true},
		{"no capture", -1, 300, 0, true},
		{"default cap", 0, 100 << 10, DefaultCaptureBytes, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, http.HandlerFunc(echo), Config{CaptureBytes: tt.capture}, nil, nil)
			body := strings.Repeat("x", tt.size)
			resp, err := e.client.Post(e.front.URL, "text/plain", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(got) != tt.size {
				t.Fatalf("client got %d bytes, want %d (read error: %v)", len(got), tt.size, rerr)
			}
			x := e.rec.next(t)
			type half struct {
				Kept      int
				Size      int64
				Truncated bool
			}
			gotH := []half{{len(x.Request.Body), x.Request.BodySize, x.Request.Truncated}, {len(x.Response.Body), x.Response.BodySize, x.Response.Truncated}}
			w := half{tt.wantKept, int64(tt.size), tt.truncated}
			if diff := cmp.Diff([]half{w, w}, gotH); diff != "" {
				t.Errorf("request, response (-want +got)\n%s", diff)
			}
		})
	}
}

// pattern is an endless reader of letters.
type pattern struct{ i int }

func (p *pattern) Read(b []byte) (int, error) {
	for k := range b {
		b[k] = 'a' + byte(p.i%26)
		p.i++
	}
	return len(b), nil
}

func TestProxyStreams100MBWithFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB")
	}
	const size = 100 << 20
	reqSize := int64(size)
	if testEngine == "fast" {
		// FastServer takes request bodies up to ServerConfig.MaxBodyBytes
		// (TestFastBodyLimit); responses stream as with net/http.
		reqSize = 1 << 20
	}
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Received", fmt.Sprint(n))
		w.Header().Set("Content-Length", fmt.Sprint(size))
		_, _ = io.Copy(w, io.LimitReader(&pattern{}, size))
	})
	e := newEnv(t, up, Config{}, nil, nil)

	growth := sampleHeapGrowth()
	req, _ := http.NewRequest("POST", e.front.URL, io.LimitReader(&pattern{}, reqSize))
	req.ContentLength = reqSize
	resp, err := e.client.Do(req)
	var got int64
	if err == nil {
		got, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	grew := growth()
	if err != nil {
		t.Fatal(err)
	}
	if got != size || resp.Header.Get("X-Received") != fmt.Sprint(reqSize) {
		t.Fatalf("sent %d, upstream got %s, client got %d", reqSize, resp.Header.Get("X-Received"), got)
	}
	t.Logf("heap in use grew by %d KiB at most while moving %d MiB up and 100 MiB down", grew>>10, reqSize>>20)
	if grew > 16<<20 {
		t.Errorf("heap grew by %d MiB, want < 16 MiB: a body is buffered", grew>>20)
	}
	x := e.rec.next(t)
	if x.Request.BodySize != reqSize || x.Response.BodySize != size || len(x.Request.Body) != DefaultCaptureBytes || !x.Response.Truncated {
		t.Errorf("exchange sizes: request %d (%d kept), response %d (%d kept)", x.Request.BodySize, len(x.Request.Body), x.Response.BodySize, len(x.Response.Body))
	}
}

func TestProxyWebSocket(t *testing.T) {
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	})
	e := newEnv(t, up, Config{}, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.front.URL, "http")+"/ws", &websocket.DialOptions{HTTPClient: e.client})
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"hello", "through", "vigil"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != msg {
			t.Errorf("echo = %q, want %q", got, msg)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	x := e.rec.next(t)
	if x.Status() != http.StatusSwitchingProtocols || x.Response.Header.Get("Upgrade") != "websocket" {
		t.Errorf("exchange status %d, Upgrade %q; want 101 websocket", x.Status(), x.Response.Header.Get("Upgrade"))
	}
}

func TestProxySSE(t *testing.T) {
	release := make(chan struct{})
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Length", "1000") // would make the proxy buffer if it did not flush event streams
		w.Header().Del("Content-Length")
		_, _ = io.WriteString(w, "data: first\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "data: second\n\n")
	})
	e := newEnv(t, up, Config{}, nil, nil)
	resp, err := e.client.Get(e.front.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := readWithin(br, 2*time.Second)
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event before the upstream finished: %q, %v", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: second") {
		t.Errorf("rest of stream = %q", rest)
	}
	if x := e.rec.next(t); string(x.Response.Body) != "data: first\n\ndata: second\n\n" {
		t.Errorf("captured %q", x.Response.Body)
	}
}

func readWithin(br *bufio.Reader, d time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := br.ReadString('\n')
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(d):
		return "", errors.New("timed out")
	}
}

type errorJSON struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

func decodeError(t *testing.T, resp *http.Response) errorJSON {
	t.Helper()
	defer resp.Body.Close()
	var ej errorJSON
	if err := json.NewDecoder(resp.Body).Decode(&ej); err != nil {
		t.Fatalf("error body: %v", err)
	}
	if ej.Error.RequestID == "" || ej.Error.RequestID != resp.Header.Get(HeaderRequestID) {
		t.Errorf("request_id %q, header %q: want equal and set", ej.Error.RequestID, resp.Header.Get(HeaderRequestID))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return ej
}

func TestProxyUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	e := newEnv(t, http.HandlerFunc(echo), Config{Upstream: down}, nil, nil)
	resp, err := e.client.Get(e.front.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	ej := decodeError(t, resp)
	if resp.StatusCode != http.StatusBadGateway || ej.Error.Code != CodeUpstreamUnavailable {
		t.Errorf("got %d %q, want 502 %q", resp.StatusCode, ej.Error.Code, CodeUpstreamUnavailable)
	}
	if x := e.rec.next(t); x.Response != nil {
		t.Errorf("exchange response = %+v, want nil (the upstream never answered)", x.Response)
	}
	if s := e.proxy.Stats(); s.UpstreamErrors != 1 || s.UpstreamTimeouts != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestProxyUpstreamSlow(t *testing.T) {
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	e := newEnv(t, up, Config{UpstreamTimeout: 200 * time.Millisecond}, nil, nil)
	start := time.Now()
	resp, err := e.client.Get(e.front.URL)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	ej := decodeError(t, resp)
	if resp.StatusCode != http.StatusGatewayTimeout || ej.Error.Code != CodeUpstreamTimeout {
		t.Errorf("got %d %q, want 504 %q", resp.StatusCode, ej.Error.Code, CodeUpstreamTimeout)
	}
	if el < 200*time.Millisecond || el > 2*time.Second {
		t.Errorf("answered after %v, want just after 200ms", el)
	}
	e.rec.next(t)
	if s := e.proxy.Stats(); s.UpstreamTimeouts != 1 {
		t.Errorf("timeouts = %d, want 1", s.UpstreamTimeouts)
	}
}

func TestServerHugeHeaders(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(echo), Config{}, nil, nil)
	conn, err := net.Dial("tcp", e.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var wg sync.WaitGroup
	wg.Go(func() {
		bw := bufio.NewWriter(conn)
		_, _ = bw.WriteString("GET / HTTP/1.1\r\nHost: x\r\n")
		line := "X-Pad: " + strings.Repeat("a", 1000) + "\r\n"
		for range (1 << 20) / len(line) {
			if _, err := bw.WriteString(line); err != nil {
				return // the server stopped reading: expected
			}
		}
		_, _ = bw.WriteString("\r\n")
		_ = bw.Flush()
	})
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	conn.Close()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
	if n := e.hits.Load(); n != 0 {
		t.Errorf("upstream saw %d requests, want 0", n)
	}
}

func TestProxyTLSFacts(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	rec := newRecorder()
	p, err := New(Config{Upstream: up.URL}, rec, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.CloseIdleConnections()
	front := httptest.NewUnstartedServer(nil)
	front.Config = NewServer(p, ServerConfig{})
	front.StartTLS()
	defer front.Close()
	tr := front.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com"
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(front.URL + "/secure")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	x := rec.next(t)
	if x.Client.TLS == nil {
		t.Fatal("no TLS facts")
	}
	want := vigil.TLS{Version: "1.3", CipherSuite: tls.CipherSuiteName(resp.TLS.CipherSuite), ServerName: "example.com", ALPN: resp.TLS.NegotiatedProtocol}
	if diff := cmp.Diff(want, *x.Client.TLS); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if x.Request.URL.Scheme != "https" || resp.Header.Get("X-Echo-Forwarded-Proto") != "https" {
		t.Errorf("scheme %q, X-Forwarded-Proto %q", x.Request.URL.Scheme, resp.Header.Get("X-Echo-Forwarded-Proto"))
	}
}

func TestProxyShedCounted(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(echo), Config{}, nil, nil)
	e.rec.refuse = true
	for range 5 {
		resp, err := e.client.Get(e.front.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: shedding must not affect traffic", resp.StatusCode)
		}
	}
	s := e.proxy.Stats()
	if diff := cmp.Diff(Stats{Requests: 5, Shed: 5}, s); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestProxyForwardedFor(t *testing.T) {
	tests := []struct {
		name   string
		append bool
		want   string
	}{
		{"replaced by default", false, "127.0.0.1"},
		{"appended when trusted", true, "203.0.113.9, 127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, http.HandlerFunc(echo), Config{AppendForwardedFor: tt.append}, nil, nil)
			req, _ := http.NewRequest("GET", e.front.URL, nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Echo-Forwarded-For"); got != tt.want {
				t.Errorf("X-Forwarded-For = %q, want %q", got, tt.want)
			}
			if got, want := resp.Header.Get("X-Echo-Forwarded-Host"), e.front.Listener.Addr().String(); got != want {
				t.Errorf("X-Forwarded-Host = %q, want %q", got, want)
			}
		})
	}
}

func TestNewRejectsBadUpstream(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:80", "ftp://x", "http://", "http://u:p@x", "http://x/?q=1", "%zz"} {
		t.Run(u, func(t *testing.T) {
			_, err := New(Config{Upstream: u}, nil, nil, nil, nil)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("New(%q) error = %v, want EINVALID", u, err)
			}
		})
	}
}

func TestProxyClientGoneWhileUpstreamThinks(t *testing.T) {
	stdOnly(t, "FastServer does not notice a client leaving mid-request; the upstream request runs to its end")
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	e := newEnv(t, up, Config{}, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.front.URL, nil)
	if _, err := e.client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	if x := e.rec.next(t); x.Response != nil {
		t.Errorf("response %+v, want none", x.Response)
	}
	s := e.proxy.Stats()
	if diff := cmp.Diff(Stats{Requests: 1, Submitted: 1, ClientCancels: 1}, s); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// sampleHeapGrowth starts sampling the heap in use every 10 ms; the function
// it returns stops the sampling and reports the peak growth since the start.
func sampleHeapGrowth() func() int64 {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var (
		peak uint64
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	return func() int64 {
		close(stop)
		wg.Wait()
		return int64(peak) - int64(base.HeapInuse)
	}
}

// TestProxyDropsHopAndForwardingHeaders: the hop-by-hop request headers and
// a client's own forwarding headers do not reach the upstream (the proxy
// writes X-Forwarded-Host and -Proto itself); an end-to-end header does.
func TestProxyDropsHopAndForwardingHeaders(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names := make([]string, 0, len(r.Header))
		for k := range r.Header {
			names = append(names, k)
		}
		w.Header().Set("X-Saw", strings.Join(names, ","))
		w.Header().Set("X-Saw-Forwarded-Host", r.Header.Get("X-Forwarded-Host"))
		w.Header().Set("X-Saw-Forwarded-Proto", r.Header.Get("X-Forwarded-Proto"))
	}), Config{}, nil, nil)
	req, _ := http.NewRequest("GET", e.front.URL+"/a", nil)
	for k, v := range map[string]string{
		"Keep-Alive": "timeout=5", "Proxy-Connection": "keep-alive", "Proxy-Authorization": "Basic c2VjcmV0",
		"Forwarded": "for=10.0.0.1", "X-Forwarded-Host": "evil.test", "X-Forwarded-Proto": "https", "X-Keep": "1",
	} {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	saw := strings.Split(resp.Header.Get("X-Saw"), ",")
	for _, k := range []string{"Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Forwarded"} {
		if slices.Contains(saw, k) {
			t.Errorf("%s reached the upstream (it saw %v)", k, saw)
		}
	}
	if !slices.Contains(saw, "X-Keep") {
		t.Errorf("X-Keep did not reach the upstream (it saw %v)", saw)
	}
	front := strings.TrimPrefix(e.front.URL, "http://")
	if got := resp.Header.Get("X-Saw-Forwarded-Host"); got != front {
		t.Errorf("upstream saw X-Forwarded-Host %q, want the proxy's %q", got, front)
	}
	if got := resp.Header.Get("X-Saw-Forwarded-Proto"); got != "http" {
		t.Errorf("upstream saw X-Forwarded-Proto %q, want http", got)
	}
}
