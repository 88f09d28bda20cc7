package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/store/sqlite"
)

// The tests run against the real SQLite store in a temporary file, seeded
// from testdata/seed.json, at a fixed clock.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const testToken = "test-token-0123456789abcdef"

type seedFile struct {
	Findings  []vigil.Finding       `json:"findings"`
	Endpoints []vigil.EndpointStats `json:"endpoints"`
	Samples   []struct {
		Endpoint vigil.Endpoint `json:"endpoint"`
		Actor    vigil.Actor    `json:"actor"`
		Exchange vigil.Exchange `json:"exchange"`
	} `json:"samples"`
	Incidents []vigil.Incident `json:"incidents"`
	Actions   []vigil.Action   `json:"actions"`
}

// newStore opens an SQLite store in t.TempDir() holding testdata/seed.json.
func newStore(t testing.TB) vigil.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := os.ReadFile("testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	var sd seedFile
	if err := json.Unmarshal(b, &sd); err != nil {
		t.Fatalf("testdata/seed.json: %v", err)
	}
	if err := st.WriteFindings(ctx, sd.Findings); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertEndpoints(ctx, sd.Endpoints); err != nil {
		t.Fatal(err)
	}
	var samples []vigil.Sample
	for _, s := range sd.Samples {
		x := s.Exchange
		x.Actor = s.Actor
		samples = append(samples, vigil.Sample{Endpoint: s.Endpoint, Exchange: &x})
	}
	if err := st.AddSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}
	for _, inc := range sd.Incidents {
		if err := st.PutIncident(ctx, inc); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range sd.Actions {
		if err := st.PutAction(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// newServer returns a Server over st (a seeded store when st is nil).
func newServer(t testing.TB, st vigil.Store) *Server {
	t.Helper()
	if st == nil {
		st = newStore(t)
	}
	s, err := New(st, Config{
		Token:   testToken,
		Logger:  slog.New(slog.DiscardHandler),
		Now:     func() time.Time { return testNow },
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "vigil_up 1\n") }),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// req describes one test request.
type req struct {
	method, target string
	header         map[string]string
	body           string
	auth           string // "bearer" (default), "cookie", "none"
}

// do runs rq against h and returns the response.
func do(t testing.TB, h http.Handler, rq req) *http.Response {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodGet
	}
	r := httptest.NewRequest(rq.method, rq.target, strings.NewReader(rq.body))
	switch rq.auth {
	case "", "bearer":
		r.Header.Set("Authorization", "Bearer "+testToken)
	case "cookie":
		r.AddCookie(&http.Cookie{Name: cookieName, Value: sessionOf(t, h)})
	case "none":
	default:
		t.Fatalf("bad auth %q", rq.auth)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

// sessionOf obtains a session cookie the way a browser does: /?token=.
func sessionOf(t testing.TB, h http.Handler) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/?token="+testToken, nil))
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c.Value
		}
	}
	t.Fatalf("/?token= set no session cookie (status %d)", w.Code)
	return ""
}

func readBody(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decode reads a JSON response body into v.
func decode(t testing.TB, res *http.Response, v any) {
	t.Helper()
	body := readBody(t, res)
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type = %q, want JSON; body %s", ct, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// errorCode returns the error code of an error response, checking its shape.
func errorCode(t testing.TB, res *http.Response) (code, msg string) {
	t.Helper()
	var b struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	decode(t, res, &b)
	if b.Error == nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("error body lacks error.code or error.message")
	}
	return b.Error.Code, b.Error.Message
}

// errorCodeOf is vigil.ErrorCode, short.
func errorCodeOf(err error) string { return vigil.ErrorCode(err) }
