package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// peers records the distinct client connections a handler sees.
type peers struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (p *peers) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		if p.seen == nil {
			p.seen = make(map[string]bool)
		}
		p.seen[r.RemoteAddr] = true
		p.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (p *peers) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

func TestFastTransportKeepsOneConnection(t *testing.T) {
	stdOnly(t, "FastServer does not pass trailers on")
	var conns peers
	up := conns.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, hasUA := r.Header["User-Agent"]
		w.Header().Set("X-Echo-Has-User-Agent", fmt.Sprint(hasUA))
		switch r.URL.Path {
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			_, _ = io.WriteString(w, "part one,")
			http.NewResponseController(w).Flush()
			_, _ = io.WriteString(w, "part two")
			w.Header().Set("X-Sum", "17")
		default:
			echo(w, r)
		}
	}))
	e := newEnv(t, up, Config{}, nil, nil)
	tests := []struct {
		method, path, body string
		status             int
		wantBody           string
	}{
		{"GET", "/a?q=1", "", 200, ""},
		{"POST", "/b", `{"n":1}`, 200, `{"n":1}`},
		{"HEAD", "/c", "", 200, ""},
		{"GET", "/nocontent", "", 204, ""},
		{"PUT", "/d", strings.Repeat("x", maxBufferedBody), 200, strings.Repeat("x", maxBufferedBody)},
		{"GET", "/chunked", "", 200, "part one,part two"},
		{"DELETE", "/e", "", 200, ""},
		{"POST", "/empty", "", 200, ""},
	}
	for round := range 3 {
		for _, tt := range tests {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, e.front.URL+tt.path, body)
			req.Header["User-Agent"] = []string{""} // the client sends none
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || string(got) != tt.wantBody {
				t.Errorf("round %d %s %s: %d %.40q, want %d %.40q", round, tt.method, tt.path, resp.StatusCode, got, tt.status, tt.wantBody)
			}
			if h := resp.Header.Get("X-Echo-Has-User-Agent"); h != "false" {
				t.Errorf("%s %s: upstream saw a User-Agent the client did not send", tt.method, tt.path)
			}
			if tt.path == "/chunked" && resp.Trailer.Get("X-Sum") != "17" {
				t.Errorf("trailer X-Sum = %q, want 17", resp.Trailer.Get("X-Sum"))
			}
			x := e.rec.next(t)
			if x.Response == nil || x.Response.Status != tt.status || string(x.Request.Body) != tt.body {
				t.Errorf("%s %s: exchange %+v", tt.method, tt.path, x.Response)
			}
		}
	}
	if n := conns.count(); n != 1 {
		t.Errorf("upstream accepted %d connections for sequential requests, want 1 (keep-alive)", n)
	}
	e.proxy.fast.mu.Lock()
	idle := len(e.proxy.fast.idle)
	e.proxy.fast.mu.Unlock()
	if idle != 1 {
		t.Errorf("fast path holds %d idle connections, want 1: the requests did not take it", idle)
	}
}

func TestFastTransportLargeAndUnusualRequestsFallBack(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(echo), Config{}, nil, nil)
	tests := []struct {
		name   string
		size   int
		header map[string]string
	}{
		{"just over the buffered limit", maxBufferedBody + 1, nil},
		{"100 KB", 100 << 10, nil},
		{"expect continue", 10, map[string]string{"Expect": "100-continue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("y"), tt.size)
			req, _ := http.NewRequest("POST", e.front.URL+"/up", bytes.NewReader(body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(got, body) {
				t.Errorf("status %d, echoed %d bytes, want 200 and %d", resp.StatusCode, len(got), len(body))
			}
			x := e.rec.next(t)
			if x.Request.BodySize != int64(tt.size) {
				t.Errorf("exchange request size %d, want %d", x.Request.BodySize, tt.size)
			}
		})
	}
}

// rawUpstream serves HTTP/1.1 by hand: handle gets each connection's index
// and its reader and writer, and returns false to close the connection.
type rawUpstream struct {
	ln    net.Listener
	wg    sync.WaitGroup
	conns atomic.Int64
}

func newRawUpstream(t *testing.T, handle func(conn int, req *http.Request, w *bufio.Writer) bool) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{ln: ln}
	var (
		mu   sync.Mutex
		open []net.Conn
	)
	u.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			idx := int(u.conns.Add(1))
			u.wg.Go(func() {
				defer c.Close()
				br, bw := bufio.NewReader(c), bufio.NewWriter(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					keep := handle(idx, req, bw)
					if bw.Flush() != nil || !keep {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		u.wg.Wait()
	})
	return u
}

func (u *rawUpstream) url() string { return "http://" + u.ln.Addr().String() }

func TestFastTransportStaleConnection(t *testing.T) {
	tests := []struct {
		method     string
		wantStatus int
		wantConns  int64
	}{
		// GET is idempotent: retried once on a new connection.
		{"GET", 200, 2},
		// POST is not: the upstream may have acted on it.
		{"POST", 502, 1},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			// Connection 1 answers its first request, then closes on the
			// second without answering (as an upstream going down would);
			// later connections answer everything.
			var served atomic.Int64
			up := newRawUpstream(t, func(conn int, req *http.Request, w *bufio.Writer) bool {
				if conn == 1 && served.Add(1) == 2 {
					return false
				}
				fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				return true
			})
			e := newEnv(t, http.NotFoundHandler(), Config{Upstream: up.url()}, nil, nil)
			for i, method := range []string{"GET", tt.method} {
				req, _ := http.NewRequest(method, e.front.URL+"/x", strings.NewReader("body"))
				resp, err := e.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				want := 200
				if i == 1 {
					want = tt.wantStatus
				}
				if resp.StatusCode != want {
					t.Errorf("request %d (%s): status %d, want %d", i, method, resp.StatusCode, want)
				}
			}
			if n := up.conns.Load(); n != tt.wantConns {
				t.Errorf("upstream saw %d connections, want %d", n, tt.wantConns)
			}
		})
	}
}

func TestFastTransportUpstreamClosedIdle(t *testing.T) {
	// The upstream closes keep-alive connections idle for 50 ms: the
	// proxy must notice before reusing one, also for a POST, which it
	// would not retry.
	var conns peers
	up := httptest.NewUnstartedServer(conns.wrap(http.HandlerFunc(echo)))
	up.Config.IdleTimeout = 50 * time.Millisecond
	up.Start()
	defer up.Close()
	e := newEnv(t, http.NotFoundHandler(), Config{Upstream: up.URL}, nil, nil)
	for i := range 3 {
		req, _ := http.NewRequest("POST", e.front.URL+"/p", strings.NewReader(`{"i":1}`))
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != `{"i":1}` {
			t.Errorf("request %d: %d %q", i, resp.StatusCode, got)
		}
		time.Sleep(150 * time.Millisecond)
	}
	if s := e.proxy.Stats(); s.UpstreamErrors != 0 {
		t.Errorf("upstream errors %d, want 0", s.UpstreamErrors)
	}
	if n := conns.count(); n != 3 {
		t.Errorf("upstream accepted %d connections, want 3 (each idle one closed)", n)
	}
}

func TestFastTransportConnectionClose(t *testing.T) {
	up := newRawUpstream(t, func(conn int, req *http.Request, w *bufio.Writer) bool {
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		return false
	})
	e := newEnv(t, http.NotFoundHandler(), Config{Upstream: up.url()}, nil, nil)
	for i := range 3 {
		resp, err := e.client.Get(e.front.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != "ok" {
			t.Errorf("request %d: %d %q", i, resp.StatusCode, got)
		}
	}
	if n := up.conns.Load(); n != 3 {
		t.Errorf("upstream saw %d connections, want 3 (none reused after Connection: close)", n)
	}
}

func TestFastTransportInformational(t *testing.T) {
	stdOnly(t, "FastServer passes no informational (1xx) response on")
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		_, _ = io.WriteString(w, "final")
	})
	e := newEnv(t, up, Config{}, nil, nil)
	var hints []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, fmt.Sprintf("%d %s", code, h.Get("Link")))
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, "GET", e.front.URL+"/page", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "final" {
		t.Errorf("final response %d %q", resp.StatusCode, got)
	}
	if diff := cmp.Diff([]string{"103 </style.css>; rel=preload"}, hints); diff != "" {
		t.Errorf("informational responses (-want +got)\n%s", diff)
	}
	if x := e.rec.next(t); x.Status() != 200 {
		t.Errorf("exchange status %d, want the final 200", x.Status())
	}
}

func TestFastTransportBadUpstreamAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer func(w *bufio.Writer)
	}{
		{"huge headers", func(w *bufio.Writer) {
			w.WriteString("HTTP/1.1 200 OK\r\n")
			for range 40000 {
				w.WriteString("X-Filler: " + strings.Repeat("z", 40) + "\r\n")
			}
			w.WriteString("Content-Length: 0\r\n\r\n")
		}},
		{"not HTTP", func(w *bufio.Writer) { w.WriteString("SSH-2.0-OpenSSH_9.6\r\n\r\n") }},
		{"endless informational", func(w *bufio.Writer) {
			for range 20 {
				w.WriteString("HTTP/1.1 103 Early Hints\r\nLink: <x>\r\n\r\n")
			}
			w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		}},
		{"closed before answering", func(w *bufio.Writer) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newRawUpstream(t, func(_ int, _ *http.Request, w *bufio.Writer) bool {
				tt.answer(w)
				return false
			})
			e := newEnv(t, http.NotFoundHandler(), Config{Upstream: up.url()}, nil, nil)
			resp, err := e.client.Get(e.front.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			ej := decodeError(t, resp)
			if resp.StatusCode != http.StatusBadGateway || ej.Error.Code != CodeUpstreamUnavailable {
				t.Errorf("got %d %q, want 502 %q", resp.StatusCode, ej.Error.Code, CodeUpstreamUnavailable)
			}
		})
	}
}

func TestFastTransportClientGoneMidBody(t *testing.T) {
	stdOnly(t, "FastServer does not notice a client leaving mid-request")
	upstreamSawCancel := make(chan struct{})
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first part\n")
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
			close(upstreamSawCancel)
		case <-time.After(5 * time.Second):
		}
	})
	e := newEnv(t, up, Config{}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.front.URL+"/stream", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "first part\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-upstreamSawCancel:
	case <-time.After(3 * time.Second):
		t.Fatal("the upstream's request went on after the client left: the proxy kept the connection")
	}
	e.rec.next(t)
}

func TestWriteRequest(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		url     string
		host    string
		header  http.Header
		body    string
		close   bool
		want    string
		wantErr bool
	}{
		{
			name: "get", method: "GET", url: "http://up:9000/a/b%20c?x=1&y=2",
			header: http.Header{"Accept": {"application/json"}, "User-Agent": {""}},
			want:   "GET /a/b%20c?x=1&y=2 HTTP/1.1\r\nHost: up:9000\r\nAccept: application/json\r\n\r\n",
		},
		{
			name: "post keeps the client's host and agent", method: "POST", url: "http://up:9000/p", host: "shop.example",
			header: http.Header{"User-Agent": {"curl/8"}, "Content-Length": {"999"}, "Content-Type": {"text/plain"}},
			body:   "hello",
			want:   "POST /p HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		},
		{
			name: "empty put says so", method: "PUT", url: "http://up/x", header: http.Header{"User-Agent": {""}},
			want: "PUT /x HTTP/1.1\r\nHost: up\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "no agent header gets Go's", method: "GET", url: "http://up/", header: http.Header{}, close: true,
			want: "GET / HTTP/1.1\r\nHost: up\r\nUser-Agent: Go-http-client/1.1\r\nConnection: close\r\n\r\n",
		},
		{
			name: "line breaks in a value cannot start a header", method: "GET", url: "http://up/",
			header: http.Header{"User-Agent": {""}, "X-Note": {" a\r\nX-Evil: 1 "}},
			want:   "GET / HTTP/1.1\r\nHost: up\r\nX-Note: a X-Evil: 1\r\n\r\n",
		},
		{name: "bad header name", method: "GET", url: "http://up/", header: http.Header{"Bad Name": {"v"}}, wantErr: true},
		{name: "bad host", method: "GET", url: "http://up/", host: "a\r\nb", header: http.Header{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse(tt.url)
			req := &http.Request{Method: tt.method, URL: u, Host: tt.host, Header: tt.header, Close: tt.close}
			var buf bytes.Buffer
			c := &upConn{bw: bufio.NewWriter(&buf)}
			err := c.writeRequest(req, []byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Errorf("wrote %q, want an error", buf.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("wrote\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// FuzzWriteRequest checks that whatever the header and path, what
// writeRequest writes parses back as the same request, with no header
// smuggled in.
func FuzzWriteRequest(f *testing.F) {
	f.Add("/a?b=c", "X-Custom", "value", "body")
	f.Add("/", "X-Note", "a\r\nX-Evil: 1", "")
	f.Add("/%2F?x=%00", "Content-Length", "5", "abc")
	f.Add("/p", "Transfer-Encoding", "chunked", "0\r\n\r\n")
	f.Add("/p", "Host", "evil.example", "")
	f.Fuzz(func(t *testing.T, path, key, value, body string) {
		if len(body) > maxBufferedBody {
			return
		}
		u, err := url.Parse("http://up:80" + path)
		if err != nil || u.Host != "up:80" {
			return
		}
		key = textproto.CanonicalMIMEHeaderKey(key)
		req := &http.Request{Method: "POST", URL: u, Header: http.Header{"User-Agent": {""}, key: {value}}}
		var buf bytes.Buffer
		c := &upConn{bw: bufio.NewWriter(&buf)}
		if err := c.writeRequest(req, []byte(body)); err != nil {
			return
		}
		got, err := http.ReadRequest(bufio.NewReader(&buf))
		if err != nil {
			// A value with other control bytes is refused by the
			// parser; that is the upstream's answer (400), not a smuggle.
			if !validHeaderValue(value) {
				return
			}
			t.Fatalf("wrote an unparsable request %q: %v", buf.String(), err)
		}
		gotBody, err := io.ReadAll(got.Body)
		if err != nil || string(gotBody) != body {
			t.Fatalf("body %q (%v), want %q", gotBody, err, body)
		}
		if got.Host != "up:80" {
			t.Fatalf("host %q, want up:80", got.Host)
		}
		for k := range got.Header {
			if k != key && k != "Content-Length" {
				t.Fatalf("header %q appeared in %q", k, buf.String())
			}
		}
		if rest, _ := io.ReadAll(&buf); len(rest) > 0 {
			t.Fatalf("%d bytes after the request: %q", len(rest), rest)
		}
	})
}

func TestFastTransportClosesStaleIdle(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(echo), Config{}, nil, nil)
	e.proxy.fast.mu.Lock()
	e.proxy.fast.idleTimeout = 50 * time.Millisecond
	e.proxy.fast.mu.Unlock()
	idle := func() int {
		e.proxy.fast.mu.Lock()
		defer e.proxy.fast.mu.Unlock()
		return len(e.proxy.fast.idle)
	}
	// Two requests at once leave two idle connections.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			resp, err := e.client.Get(e.front.URL + "/slow")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if n := idle(); n < 1 {
		t.Fatalf("%d idle connections after the requests, want at least 1", n)
	}
	deadline := time.Now().Add(3 * time.Second)
	for idle() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := idle(); n != 0 {
		t.Errorf("%d connections still idle well past the idle timeout", n)
	}
}
