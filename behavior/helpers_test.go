package behavior

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// req is one request of a synthetic actor; after is the time since the
// previous one (1 s when zero).
type req struct {
	method string
	target string // path and optional query
	body   string // JSON when it starts with '{', else a form
	status int
	resp   string
	after  time.Duration
}

func get(target string, status int) req { return req{method: "GET", target: target, status: status} }

func post(target, body string, status int) req {
	return req{method: "POST", target: target, body: body, status: status}
}

func exchange(a vigil.Actor, at time.Time, r req) *vigil.Exchange {
	u, err := url.Parse("https://shop.test" + r.target)
	if err != nil {
		panic(err)
	}
	x := &vigil.Exchange{
		ID:      fmt.Sprintf("x-%d", at.UnixNano()),
		Time:    at,
		Request: vigil.Request{Method: r.method, URL: u, Header: http.Header{}},
		Actor:   a,
	}
	if x.Request.Method == "" {
		x.Request.Method = "GET"
	}
	if r.body != "" {
		x.Request.Body = []byte(r.body)
		x.Request.BodySize = int64(len(r.body))
		if strings.HasPrefix(r.body, "{") {
			x.Request.Header.Set("Content-Type", "application/json")
		} else {
			x.Request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if r.status != 0 {
		x.Response = &vigil.Response{Status: r.status, Body: []byte(r.resp)}
	}
	return x
}

// play runs reqs for one actor from start and returns the findings and
// the time of the last request.
func playFrom(t testing.TB, an vigil.Analyzer, a vigil.Actor, start time.Time, reqs []req) ([]vigil.Finding, time.Time) {
	t.Helper()
	var out []vigil.Finding
	at := start
	for _, r := range reqs {
		if r.after == 0 {
			r.after = time.Second
		}
		at = at.Add(r.after)
		fs, err := an.Analyze(context.Background(), exchange(a, at, r))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fs...)
	}
	return out, at
}

func play(t testing.TB, an vigil.Analyzer, a vigil.Actor, reqs []req) []vigil.Finding {
	t.Helper()
	fs, _ := playFrom(t, an, a, t0, reqs)
	return fs
}

func count(fs []vigil.Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.Detector]++
	}
	return m
}

func repeat(n int, f func(i int) req) []req {
	out := make([]req, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func concat(parts ...[]req) []req {
	var out []req
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

var (
	user     = vigil.Actor{Principal: "jwt:17", Addr: "198.51.100.17"}
	attacker = vigil.Actor{Principal: "jwt:10003", Addr: "203.0.113.9"}
)
