package proxy

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

func TestMiddlewareCaptures(t *testing.T) {
	rec := newRecorder()
	g := NewGuard(MiddlewareConfig{CaptureBytes: 8}, rec, nil, nil)
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Header.Set("X-Changed-By-Handler", "yes") // must not show in the exchange
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("got " + string(body)))
		w.Header().Set("X-After-Write", "ignored") // not sent, not captured
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+"/orders", "text/plain", strings.NewReader("0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Client().CloseIdleConnections()
	x := rec.next(t)
	type view struct {
		Sensor, ReqBody, RespBody         string
		ReqSize, RespSize                 int64
		ReqTrunc, RespTrunc               bool
		Status                            int
		HandlerHeader, AfterWrite, CT, ID string
	}
	got := view{x.Sensor, string(x.Request.Body), string(x.Response.Body), x.Request.BodySize, x.Response.BodySize,
		x.Request.Truncated, x.Response.Truncated, x.Response.Status,
		x.Request.Header.Get("X-Changed-By-Handler"), x.Response.Header.Get("X-After-Write"), x.Response.Header.Get("Content-Type"), ""}
	want := view{vigil.SensorMiddleware, "01234567", "got 0123", 10, 14, true, true, 201, "", "", "text/plain", ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if x.ID == "" || x.Actor.Addr != "127.0.0.1" {
		t.Errorf("id %q, actor %+v", x.ID, x.Actor)
	}
	if s := g.Stats(); s.Requests != 1 || s.Submitted != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestMiddlewareKeepsFlusherAndHijacker(t *testing.T) {
	rec := newRecorder()
	h := Middleware(MiddlewareConfig{}, rec, nil, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			http.Error(w, "no flusher", 500)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no hijacker", 500)
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = brw.Flush()
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hijacked" {
		t.Errorf("body %q", body)
	}
	rec.next(t)
}

func TestMiddlewareStreamsFlushes(t *testing.T) {
	release := make(chan struct{})
	h := Middleware(MiddlewareConfig{}, newRecorder(), nil, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "data: 1\n\n")
		w.(http.Flusher).Flush()
		<-release
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := readWithin(bufio.NewReader(resp.Body), 2*time.Second)
	close(release)
	if line != "data: 1\n" {
		t.Errorf("first line %q, %v: want it before the handler ends", line, err)
	}
}

func TestMiddlewareEnforcement(t *testing.T) {
	// synctest's clock starts at 2000-01-01 00:00 UTC.
	until := time.Date(2000, 1, 1, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		action     vigil.Action
		wantStatus int
		wantDelay  time.Duration
	}{
		{"block", vigil.Action{Kind: vigil.ActionBlock, Key: "addr:192.0.2.1", Until: until}, 403, 0},
		{"tarpit", vigil.Action{Kind: vigil.ActionTarpit, Key: "addr:192.0.2.1", Until: until, Delay: 3 * time.Second}, 200, 3 * time.Second},
		{"tarpit capped", vigil.Action{Kind: vigil.ActionTarpit, Key: "addr:192.0.2.1", Until: until, Delay: time.Hour}, 200, DefaultMaxTarpit},
		{"other addr", vigil.Action{Kind: vigil.ActionBlock, Key: "addr:192.0.2.10", Until: until}, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tab := NewTable()
				tab.Publish([]vigil.Action{tt.action})
				called := false
				h := Middleware(MiddlewareConfig{}, nil, nil, tab)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					called = true
				}))
				req := httptest.NewRequest("GET", "/", nil) // RemoteAddr 192.0.2.1:1234
				rw := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rw, req)
				if rw.Code != tt.wantStatus || time.Since(start) != tt.wantDelay || called != (tt.wantStatus == 200) {
					t.Errorf("status %d after %v (handler called %v), want %d after %v", rw.Code, time.Since(start), called, tt.wantStatus, tt.wantDelay)
				}
				if got, want := rw.Header().Get(HeaderAction), map[int]string{403: "block"}[tt.wantStatus]; tt.action.Kind != vigil.ActionTarpit && got != want {
					t.Errorf("%s = %q, want %q", HeaderAction, got, want)
				}
			})
		})
	}
}
