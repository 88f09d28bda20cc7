package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/detect"
)

// errCase is one upstream error answer.
type errCase struct {
	name    string
	status  int
	ctype   string
	body    string
	verbose bool
	// detect: detect.Verbose recognises it too (the Exchange still shows
	// the detectors what the client did not see).
	detect bool
}

var neutralCases = []errCase{
	// Stack traces.
	{"java", 500, "text/plain", "java.lang.IllegalStateException: order 7 locked\n\tat com.shop.orders.OrderService.lock(OrderService.java:212)\n\tat com.shop.api.OrderController.put(OrderController.java:88)\n", true, true},
	{"python", 500, "text/plain", "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 42, in order\n    o = Order.objects.get(pk=pk)\nDoesNotExist: Order matching query does not exist.\n", true, true},
	{"go goroutine", 500, "text/plain", "panic: runtime error: index out of range [3] with length 2\n\ngoroutine 1 [running]:\nmain.handler(...)\n\t/app/main.go:12 +0x1d\n", true, true},
	{"go panic in json", 500, "application/json", `{"error":"panic: runtime error: invalid memory address or nil pointer dereference"}`, true, false},
	{".NET", 500, "text/plain", "System.NullReferenceException: Object reference not set to an instance of an object.\n   at Shop.Api.OrdersController.Get(Int32 id) in C:\\src\\Shop.Api\\OrdersController.cs:line 12\n", true, true},
	{"node", 500, "text/html", "<pre>TypeError: Cannot read properties of undefined (reading 'id')\n    at Object.<anonymous> (/app/x.js:1:2)\n    at Module._compile (node:internal/modules/cjs/loader:1256:14)</pre>", true, true},
	// SQL errors.
	{"sqlite near", 500, "application/json", `{"error":"near \"OR\": syntax error"}`, true, true},
	{"syntax error near", 500, "application/json", `{"error":"syntax error near 'OR 1=1' at line 1"}`, true, false},
	{"postgres", 500, "application/json", `{"error":"ERROR: syntax error at or near \"'\" (SQLSTATE 42601)"}`, true, true},
	{"sqlstate", 400, "application/json", `{"error":"SQLSTATE 22P02: invalid input syntax for type integer"}`, true, true},
	{"oracle", 500, "text/plain", "ORA-00933: SQL command not properly ended", true, true},
	{"mysql", 500, "application/json", `{"message":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''1''' at line 1"}`, true, true},
	{"sqlite3", 500, "text/plain", "sqlite3.OperationalError: no such column: pasword", true, true},
	{"unterminated", 500, "application/json", `{"error":"unterminated quoted string at or near \"'abc\""}`, true, false},
	{"pq", 500, "application/json", `{"error":"pq: duplicate key value violates unique constraint \"users_email_key\""}`, true, true},
	// Debug pages and banners.
	{"werkzeug", 500, "text/html", "<html><head><title>KeyError // Werkzeug Debugger</title></head><body>...</body></html>", true, true},
	{"django", 500, "text/html", "<html><body><h1>OperationalError at /api/orders</h1><table><tr><th>Django Version:</th><td>4.2</td></tr></table><h2>Traceback</h2></body></html>", true, false},
	{"whitelabel", 500, "text/html", "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error</p></body></html>", true, true},
	{"laravel", 500, "text/html", "<html><body>Illuminate\\Database\\QueryException: could not find driver</body></html>", true, true},
	{"symfony", 500, "text/html", "<html><body><div class=\"exception-message\">Symfony\\Component\\HttpKernel\\Exception\\NotFoundHttpException</div></body></html>", true, true},
	// File paths with line numbers.
	{"path line", 500, "application/json", `{"error":"open config: failed at /srv/app/internal/store/db.go:118"}`, true, false},
	{"php path", 500, "text/html", "Warning: include(): Failed opening in /var/www/html/index.php on line 7", true, true},
	// Validation messages that name internal types or refused fields.
	{"field not allowed", 400, "application/json", `{"error":"field 'role' is not allowed"}`, true, false},
	{"joi not allowed", 400, "application/json", `{"message":"\"role\" is not allowed"}`, true, false},
	{"go unmarshal", 400, "text/plain", "json: cannot unmarshal string into Go struct field Order.quantity of type int", true, false},
	{"go unknown field", 400, "text/plain", "json: unknown field \"is_admin\"", true, false},
	{"unknown field", 422, "application/json", `{"error":"Unknown field: isAdmin"}`, true, false},
	{"expected integer at position", 400, "application/json", `{"error":"expected integer at position 14"}`, true, false},
	{"jackson", 400, "application/json", `{"message":"JSON parse error: Unrecognized field \"role\" (class com.shop.dto.UserDto), not marked as ignorable"}`, true, false},
	{"pydantic extra", 422, "application/json", `{"detail":[{"loc":["body","role"],"msg":"extra fields not permitted","type":"value_error.extra"}]}`, true, false},

	// Benign errors pass through.
	{"not found", 404, "application/json", `{"error":"not found"}`, false, false},
	{"invalid credentials", 401, "application/json", `{"error":"invalid credentials"}`, false, false},
	{"business validation", 422, "application/json", `{"error":"quantity must be positive"}`, false, false},
	{"required", 400, "application/json", `{"errors":[{"field":"email","message":"email is required"}]}`, false, false},
	{"neutral 500", 500, "application/json", `{"error":{"code":"internal","message":"internal error"}}`, false, false},
	{"html 404", 404, "text/html", "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The page /x was not found on this server.</p></body></html>", false, false},
	{"rate limited", 429, "application/json", `{"error":"too many requests, retry in 30 seconds"}`, false, false},
	{"syntax in message", 400, "application/json", `{"error":"syntax error in filter expression"}`, false, false},
	{"url in message", 403, "application/json", `{"error":"forbidden","docs":"https://docs.example.com/errors/403.html:1"}`, false, false},
	// Success is never touched, whatever it says.
	{"2xx trace", 200, "text/plain", "java.lang.IllegalStateException\n\tat com.x.Y.z(Y.java:12)\n", false, true},
	{"3xx trace", 302, "text/plain", "Traceback (most recent call last):\n  File \"/a.py\", line 3\n", false, true},
}

// errorUpstream answers /<i>?chunked=1 with neutralCases[i], in chunks when
// asked, with headers that a neutral answer must keep or drop.
func errorUpstream(cases []errCase) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil || i >= len(cases) {
			http.NotFound(w, r)
			return
		}
		c := cases[i]
		h := w.Header()
		h.Set("Content-Type", c.ctype)
		h.Set("ETag", `"v1"`)
		h.Set("X-Upstream", "kept")
		if r.URL.Query().Get("chunked") == "" {
			h.Set("Content-Length", strconv.Itoa(len(c.body)))
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, c.body)
			return
		}
		w.WriteHeader(c.status)
		rc := http.NewResponseController(w)
		for b := c.body; b != ""; {
			n := min(len(b), 7)
			_, _ = io.WriteString(w, b[:n])
			_ = rc.Flush()
			b = b[n:]
		}
	})
}

func get(t *testing.T, e *env, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := e.client.Get(e.front.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestNeutralErrors(t *testing.T) {
	e := newEnv(t, errorUpstream(neutralCases), Config{NeutralErrors: true}, nil, nil)
	verbose := detect.NewVerbose()
	wantNeutralized := uint64(0)
	for i, c := range neutralCases {
		for _, chunked := range []bool{false, true} {
			name := c.name
			path := "/" + strconv.Itoa(i)
			if chunked {
				name += "/chunked"
				path += "?chunked=1"
			}
			t.Run(name, func(t *testing.T) {
				resp, body := get(t, e, path)
				x := e.rec.next(t)
				if resp.StatusCode != c.status {
					t.Errorf("status %d, want %d", resp.StatusCode, c.status)
				}
				if resp.Header.Get("X-Upstream") != "kept" {
					t.Errorf("upstream header lost: %v", resp.Header)
				}
				if c.verbose {
					wantNeutralized++
					id := resp.Header.Get(HeaderRequestID)
					want := fmt.Sprintf(`{"error":%q,"request_id":%q}`+"\n", http.StatusText(c.status), id)
					if id == "" || id != x.ID {
						t.Errorf("%s %q, exchange id %q", HeaderRequestID, id, x.ID)
					}
					if string(body) != want {
						t.Errorf("client got\n%s\nwant\n%s", body, want)
					}
					if ct, cl := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"); ct != "application/json" || cl != strconv.Itoa(len(want)) {
						t.Errorf("Content-Type %q, Content-Length %q", ct, cl)
					}
					if resp.Header.Get("Etag") != "" {
						t.Error("ETag of the replaced body kept")
					}
				} else {
					if string(body) != c.body {
						t.Errorf("client got %q, want the upstream's body", body)
					}
					if resp.Header.Get("Etag") != `"v1"` || resp.Header.Get("Content-Type") != c.ctype || resp.Header.Get(HeaderRequestID) != "" {
						t.Errorf("headers changed: %v", resp.Header)
					}
				}
				// The Exchange keeps what the upstream said.
				if x.Response == nil {
					t.Fatal("no response in the exchange")
				}
				got := []any{x.Response.Status, string(x.Response.Body), x.Response.BodySize, x.Response.Truncated, x.Response.Header.Get("Content-Type")}
				want := []any{c.status, c.body, int64(len(c.body)), false, c.ctype}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("exchange (-want +got)\n%s", d)
				}
				if c.detect {
					f, _ := verbose.Analyze(context.Background(), x)
					if len(f) == 0 {
						t.Error("detect.Verbose no longer sees the error in the exchange")
					}
				}
			})
		}
	}
	if got := e.proxy.Stats().Neutralized; got != wantNeutralized {
		t.Errorf("Stats.Neutralized = %d, want %d", got, wantNeutralized)
	}
}

// TestNeutralAgreesWithDetect: whatever error body detect.Verbose calls
// verbose, the proxy neutralizes.
func TestNeutralAgreesWithDetect(t *testing.T) {
	v := detect.NewVerbose()
	for _, c := range neutralCases {
		x := &vigil.Exchange{Request: vigil.Request{Method: "GET"}, Response: &vigil.Response{Status: 500, Body: []byte(c.body)}}
		f, _ := v.Analyze(context.Background(), x)
		if len(f) > 0 != c.detect {
			t.Errorf("%s: detect finds %d, table says %v", c.name, len(f), c.detect)
		}
		if len(f) > 0 && !verboseError([]byte(c.body)) {
			t.Errorf("%s: detect.Verbose flags it, verboseError does not", c.name)
		}
	}
}

func TestNeutralErrorsOffIsPassthrough(t *testing.T) {
	cases := neutralCases
	up := httptest.NewServer(errorUpstream(cases))
	defer up.Close()
	e := newEnv(t, errorUpstream(cases), Config{}, nil, nil)
	for i, c := range cases {
		if !c.verbose {
			continue
		}
		path := "/" + strconv.Itoa(i)
		resp, body := get(t, e, path)
		direct, err := http.Get(up.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		dbody, _ := io.ReadAll(direct.Body)
		direct.Body.Close()
		for _, h := range []http.Header{resp.Header, direct.Header} {
			h.Del("Date")
		}
		if !bytes.Equal(body, dbody) || resp.StatusCode != direct.StatusCode || !cmp.Equal(resp.Header, direct.Header) {
			t.Errorf("%s: through the proxy %d %v %q, direct %d %v %q", c.name, resp.StatusCode, resp.Header, body, direct.StatusCode, direct.Header, dbody)
		}
		e.rec.next(t)
	}
	if n := e.proxy.Stats().Neutralized; n != 0 {
		t.Errorf("Stats.Neutralized = %d with the option off", n)
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = io.WriteString(zw, s)
	_ = zw.Close()
	return b.Bytes()
}

func TestNeutralErrorsEncoded(t *testing.T) {
	const trace = "java.lang.IllegalStateException\n\tat com.x.Y.z(Y.java:12)\n"
	big := strings.Repeat("x", 80<<10) // decodes past the hold
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		switch r.URL.Path {
		case "/gzip":
			body = gz(trace)
			w.Header().Set("Content-Encoding", "gzip")
		case "/gzip-benign":
			body = gz(`{"error":"not found"}`)
			w.Header().Set("Content-Encoding", "gzip")
		case "/gzip-big":
			body = gz(trace + big)
			w.Header().Set("Content-Encoding", "gzip")
		case "/gzip-broken":
			body = []byte(trace) // says gzip, is not
			w.Header().Set("Content-Encoding", "gzip")
		case "/br":
			body = []byte(trace) // cannot be checked: left alone
			w.Header().Set("Content-Encoding", "br")
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(500)
		_, _ = w.Write(body)
	})
	e := newEnv(t, up, Config{NeutralErrors: true}, nil, nil)

	resp, body := get(t, e, "/gzip")
	x := e.rec.next(t)
	if !strings.HasPrefix(string(body), `{"error":"Internal Server Error","request_id":"`+x.ID+`"}`) || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip trace: client got %q, Content-Encoding %q", body, resp.Header.Get("Content-Encoding"))
	}
	if string(x.Response.Body) != trace || x.Response.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip trace: exchange body %q, Content-Encoding %q; want the decoded trace", x.Response.Body, x.Response.Header.Get("Content-Encoding"))
	}

	for _, tc := range []struct {
		path string
		want []byte
	}{
		{"/gzip-benign", gz(`{"error":"not found"}`)},
		{"/gzip-big", gz(trace + big)},
		{"/gzip-broken", []byte(trace)},
		{"/br", []byte(trace)},
	} {
		resp, body := get(t, e, tc.path)
		x := e.rec.next(t)
		if !bytes.Equal(body, tc.want) || resp.Header.Get("Content-Encoding") == "" || !bytes.Equal(x.Response.Body, tc.want) {
			t.Errorf("%s: changed: client got %d bytes (Content-Encoding %q), exchange %d", tc.path, len(body), resp.Header.Get("Content-Encoding"), len(x.Response.Body))
		}
	}
	if n := e.proxy.Stats().Neutralized; n != 1 {
		t.Errorf("Stats.Neutralized = %d, want 1", n)
	}
}

// TestNeutralErrorsLargeStreams: an error body longer than the hold streams
// through unchanged, with flat memory, whether its length is known or not.
func TestNeutralErrorsLargeStreams(t *testing.T) {
	const size = 5 << 20
	const head = "Traceback (most recent call last):\n  File \"/a.py\", line 3\n"
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/known" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		w.WriteHeader(500)
		_, _ = io.WriteString(w, head)
		_, _ = io.Copy(w, io.LimitReader(&pattern{}, size-int64(len(head))))
	})
	e := newEnv(t, up, Config{NeutralErrors: true, CaptureBytes: 1000}, nil, nil)
	for _, path := range []string{"/known", "/chunked"} {
		t.Run(path, func(t *testing.T) {
			growth := sampleHeapGrowth()
			resp, err := e.client.Get(e.front.URL + path)
			if err != nil {
				growth()
				t.Fatal(err)
			}
			var got bytes.Buffer
			_, _ = io.CopyN(&got, resp.Body, 1000)
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			grew := growth()
			if err != nil || int64(got.Len())+n != size || !strings.HasPrefix(got.String(), head+"abcdefghij") {
				t.Fatalf("client got %d bytes starting %.80q (err %v), want the upstream's %d", int64(got.Len())+n, got.String(), err, size)
			}
			if grew > 8<<20 {
				t.Errorf("heap grew by %d MiB while streaming 5 MiB: the body is buffered", grew>>20)
			}
			x := e.rec.next(t)
			if x.Response.BodySize != size || string(x.Response.Body) != got.String()[:1000] {
				t.Errorf("exchange: size %d, body %.40q", x.Response.BodySize, x.Response.Body)
			}
		})
	}
	if n := e.proxy.Stats().Neutralized; n != 0 {
		t.Errorf("Stats.Neutralized = %d, want 0", n)
	}
}

// TestNeutralErrorsHoldLimit: a chunked error body exactly at the hold is
// looked at; one byte more and it streams unchanged.
func TestNeutralErrorsHoldLimit(t *testing.T) {
	const trace = "ORA-00933: SQL command not properly ended\n"
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.WriteHeader(500)
		_, _ = io.WriteString(w, trace)
		_ = http.NewResponseController(w).Flush() // no Content-Length
		_, _ = io.WriteString(w, strings.Repeat(" ", n-len(trace)))
	})
	e := newEnv(t, up, Config{NeutralErrors: true}, nil, nil)
	for _, tc := range []struct {
		n       int
		replace bool
	}{{maxNeutralHold, true}, {maxNeutralHold + 1, false}} {
		resp, body := get(t, e, "/?n="+strconv.Itoa(tc.n))
		e.rec.next(t)
		replaced := resp.Header.Get(HeaderRequestID) != ""
		if replaced != tc.replace || (!replaced && len(body) != tc.n) {
			t.Errorf("%d bytes: replaced %v (want %v), client got %d bytes", tc.n, replaced, tc.replace, len(body))
		}
	}
}

// TestNeutralErrorsUpstreamFailsMidBody: a read error while holding reaches
// the client as it would without the option: a cut response.
func TestNeutralErrorsUpstreamFailsMidBody(t *testing.T) {
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(500)
		_, _ = io.WriteString(w, "Traceback (most recent call last):\n")
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // cut the connection
	})
	e := newEnv(t, up, Config{NeutralErrors: true}, nil, nil)
	resp, err := e.client.Get(e.front.URL)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("the client got a whole response from a cut upstream body")
	}
	e.rec.next(t)
	if n := e.proxy.Stats().Neutralized; n != 0 {
		t.Errorf("Stats.Neutralized = %d, want 0", n)
	}
}

// TestNeutralErrorsSSEAndWebSocket: an event stream with an error status is
// not held; WebSocket upgrades pass.
func TestNeutralErrorsSSEAndWebSocket(t *testing.T) {
	release := make(chan struct{})
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			typ, msg, err := c.Read(r.Context())
			if err == nil {
				_ = c.Write(r.Context(), typ, msg)
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(503)
		_, _ = io.WriteString(w, "data: Traceback (most recent call last)\n\n")
		_ = http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	e := newEnv(t, up, Config{NeutralErrors: true}, nil, nil)

	resp, err := e.client.Get(e.front.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufioLine(resp.Body)
		line <- l
	}()
	select {
	case l := <-line:
		if l != "data: Traceback (most recent call last)" {
			t.Errorf("first event line %q", l)
		}
	case <-time.After(3 * time.Second):
		t.Error("the first event was held back")
	}
	close(release)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	e.rec.next(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.front.URL, "http")+"/ws", &websocket.DialOptions{HTTPClient: e.client})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != "hi" {
		t.Errorf("websocket echo %q, %v", got, err)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	e.rec.next(t)
}

// bufioLine reads one line without buffering past it more than needed.
func bufioLine(r io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := r.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return string(b), nil
			}
			b = append(b, one[0])
		}
		if err != nil {
			return string(b), err
		}
	}
}

// TestNeutralizeSuccessAllocs: on a response that is not an error, the hook
// costs no allocation.
func TestNeutralizeSuccessAllocs(t *testing.T) {
	p, err := New(Config{Upstream: "http://127.0.0.1:1", NeutralErrors: true}, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	res := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader("{}")), ContentLength: 2, Request: req}
	if n := testing.AllocsPerRun(100, func() { _ = p.neutralize(res) }); n != 0 {
		t.Errorf("neutralize allocates %v times on a 200", n)
	}
}

// BenchmarkProxyNeutralErrors is BenchmarkProxy's GET with the option off
// and on: a 2xx costs the same.
func BenchmarkProxyNeutralErrors(b *testing.B) {
	const payload = `{"id":1001,"status":"shipped","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":129.95,"currency":"EUR","customer":{"id":17,"tier":"gold"}}`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, payload)
	}))
	defer up.Close()
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("neutral=%v", on), func(b *testing.B) {
			p, err := New(Config{Upstream: up.URL, NeutralErrors: on}, discard{}, nil, NewTable(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.CloseIdleConnections()
			front := httptest.NewServer(p)
			defer front.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(front.URL + "/api/v2/orders/1001")
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
