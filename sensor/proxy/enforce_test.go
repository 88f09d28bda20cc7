package proxy

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

func TestTableLookup(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Second)
	alice := vigil.Actor{Principal: "jwt:alice", Addr: "203.0.113.9", Fingerprint: "f00d"}
	tests := []struct {
		name    string
		actions []vigil.Action
		actor   vigil.Actor
		want    string // the ID found, "" for none
	}{
		{"empty", nil, alice, ""},
		{"by principal", []vigil.Action{{ID: "a", Kind: vigil.ActionBlock, Key: "principal:jwt:alice", Until: later}}, alice, "a"},
		{"by addr", []vigil.Action{{ID: "a", Kind: vigil.ActionTarpit, Key: "addr:203.0.113.9", Until: later}}, alice, "a"},
		{"by fingerprint", []vigil.Action{{ID: "a", Kind: vigil.ActionMonitor, Key: "fingerprint:f00d", Until: later}}, alice, "a"},
		{"look-alike principal", []vigil.Action{{ID: "a", Kind: vigil.ActionBlock, Key: "principal:jwt:alice2", Until: later}}, alice, ""},
		{"look-alike kind", []vigil.Action{{ID: "a", Kind: vigil.ActionBlock, Key: "addr:jwt:alice", Until: later}}, alice, ""},
		{"expired", []vigil.Action{{ID: "a", Kind: vigil.ActionBlock, Key: "addr:203.0.113.9", Until: earlier}}, alice, ""},
		{"expires exactly now", []vigil.Action{{ID: "a", Kind: vigil.ActionBlock, Key: "addr:203.0.113.9", Until: now}}, alice, ""},
		{"strongest wins across keys", []vigil.Action{
			{ID: "t", Kind: vigil.ActionTarpit, Key: "principal:jwt:alice", Until: later},
			{ID: "b", Kind: vigil.ActionBlock, Key: "fingerprint:f00d", Until: later},
			{ID: "r", Kind: vigil.ActionRateLimit, Key: "addr:203.0.113.9", Until: later},
		}, alice, "b"},
		{"expired strong one leaves the weaker", []vigil.Action{
			{ID: "b", Kind: vigil.ActionBlock, Key: "addr:203.0.113.9", Until: earlier},
			{ID: "r", Kind: vigil.ActionRateLimit, Key: "addr:203.0.113.9", Until: later},
		}, alice, "r"},
		{"unknown kind ignored", []vigil.Action{{ID: "a", Kind: "explode", Key: "addr:203.0.113.9", Until: later}}, alice, ""},
		{"anonymous actor", []vigil.Action{{ID: "a", Kind: vigil.ActionBlock, Key: "addr:", Until: later}}, vigil.Actor{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := NewTable()
			tab.Publish(tt.actions)
			got, ok := tab.Lookup(tt.actor, now)
			if ok != (tt.want != "") || got.ID != tt.want {
				t.Errorf("Lookup = %q, %v; want %q", got.ID, ok, tt.want)
			}
		})
	}
	t.Run("nil table", func(t *testing.T) {
		var tab *Table
		if _, ok := tab.Lookup(alice, now); ok {
			t.Error("nil table found an action")
		}
	})
	t.Run("publish replaces", func(t *testing.T) {
		tab := NewTable()
		tab.Publish([]vigil.Action{{ID: "a", Kind: vigil.ActionBlock, Key: "addr:203.0.113.9", Until: later}})
		tab.Publish(nil)
		if _, ok := tab.Lookup(alice, now); ok || tab.Len() != 0 {
			t.Error("old snapshot still in force")
		}
	})
	t.Run("no allocation", func(t *testing.T) {
		tab := NewTable()
		tab.Publish([]vigil.Action{{ID: "a", Kind: vigil.ActionBlock, Key: "addr:203.0.113.9", Until: later}})
		if n := testing.AllocsPerRun(100, func() { tab.Lookup(alice, now) }); n != 0 {
			t.Errorf("Lookup allocates %v times", n)
		}
	})
}

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		key  string
		rate float64
		at   time.Duration
		want bool
	}
	tests := []struct {
		name  string
		max   int
		steps []step
		evict uint64
	}{
		{"burst then refill", 10, []step{
			{"k", 2, 0, true}, {"k", 2, 0, true}, {"k", 2, 0, false},
			{"k", 2, 400 * time.Millisecond, false}, {"k", 2, 500 * time.Millisecond, true},
		}, 0},
		{"keys independent", 10, []step{{"a", 1, 0, true}, {"a", 1, 0, false}, {"b", 1, 0, true}}, 0},
		{"fractional rate", 10, []step{{"k", 0.5, 0, true}, {"k", 0.5, time.Second, false}, {"k", 0.5, 2 * time.Second, true}}, 0},
		{"zero rate denies", 10, []step{{"k", 0, 0, false}}, 0},
		{"full map evicts a live bucket", 2, []step{
			{"a", 1, 0, true}, {"b", 1, 0, true}, {"c", 1, 0, true}, {"d", 1, 0, true},
		}, 2},
		{"full map sweeps refilled buckets", 2, []step{
			{"a", 1, 0, true}, {"b", 1, 0, true}, {"c", 1, 2 * time.Second, true},
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(tt.max)
			for i, s := range tt.steps {
				if got, _ := l.allow(s.key, s.rate, t0.Add(s.at)); got != s.want {
					t.Errorf("step %d (%s at %v): allow = %v, want %v", i, s.key, s.at, got, s.want)
				}
			}
			if len(l.buckets) > tt.max {
				t.Errorf("%d buckets, cap %d", len(l.buckets), tt.max)
			}
			if got := l.evictions(); got != tt.evict {
				t.Errorf("evictions = %d, want %d", got, tt.evict)
			}
		})
	}
}

func TestProxyEnforcement(t *testing.T) {
	until := time.Now().Add(time.Hour)
	tests := []struct {
		name       string
		action     vigil.Action
		user       string // X-User, the principal
		requests   int
		wantStatus []int
		wantAction string
		wantHits   int64
		minElapsed time.Duration
		stat       func(Stats) uint64
	}{
		{"block by addr", vigil.Action{Kind: vigil.ActionBlock, Key: "addr:127.0.0.1", Until: until}, "", 2,
			[]int{403, 403}, "block", 0, 0, func(s Stats) uint64 { return s.Blocked }},
		{"block by principal", vigil.Action{Kind: vigil.ActionBlock, Key: "principal:jwt:mallory", Until: until}, "mallory", 1,
			[]int{403}, "block", 0, 0, func(s Stats) uint64 { return s.Blocked }},
		{"block of another principal", vigil.Action{Kind: vigil.ActionBlock, Key: "principal:jwt:mallory", Until: until}, "alice", 1,
			[]int{200}, "", 1, 0, func(s Stats) uint64 { return s.Blocked + 1 }},
		{"expired block", vigil.Action{Kind: vigil.ActionBlock, Key: "addr:127.0.0.1", Until: time.Now().Add(-time.Second)}, "", 1,
			[]int{200}, "", 1, 0, func(s Stats) uint64 { return s.Blocked + 1 }},
		{"monitor", vigil.Action{Kind: vigil.ActionMonitor, Key: "addr:127.0.0.1", Until: until}, "", 2,
			[]int{200, 200}, "", 2, 0, func(s Stats) uint64 { return s.Blocked + s.RateLimited + s.Tarpitted + 2 }},
		{"rate-limit", vigil.Action{Kind: vigil.ActionRateLimit, Key: "addr:127.0.0.1", Until: until, Rate: 1}, "", 3,
			[]int{200, 429, 429}, "rate-limit", 1, 0, func(s Stats) uint64 { return s.RateLimited + 1 }},
		{"tarpit", vigil.Action{Kind: vigil.ActionTarpit, Key: "addr:127.0.0.1", Until: until, Delay: 150 * time.Millisecond}, "", 1,
			[]int{200}, "tarpit", 1, 150 * time.Millisecond, func(s Stats) uint64 { return s.Tarpitted }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := NewTable()
			tab.Publish([]vigil.Action{tt.action})
			e := newEnv(t, http.HandlerFunc(echo), Config{}, headerResolver{}, tab)
			var statuses []int
			var action string
			start := time.Now()
			for range tt.requests {
				req, _ := http.NewRequest("GET", e.front.URL, nil)
				if tt.user != "" {
					req.Header.Set("X-User", tt.user)
				}
				resp, err := e.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				statuses = append(statuses, resp.StatusCode)
				action = resp.Header.Get(HeaderAction)
				switch resp.StatusCode {
				case 403, 429:
					ej := decodeError(t, resp)
					wantCode := map[int]string{403: CodeBlocked, 429: CodeRateLimited}[resp.StatusCode]
					if ej.Error.Code != wantCode {
						t.Errorf("code %q, want %q", ej.Error.Code, wantCode)
					}
					if resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "1" {
						t.Errorf("Retry-After = %q, want 1", resp.Header.Get("Retry-After"))
					}
				default:
					resp.Body.Close()
				}
				e.rec.next(t) // every request is submitted, refused or not
			}
			if el := time.Since(start); el < tt.minElapsed {
				t.Errorf("took %v, want at least %v", el, tt.minElapsed)
			}
			if diff := cmp.Diff(tt.wantStatus, statuses); diff != "" {
				t.Errorf("statuses (-want +got)\n%s", diff)
			}
			if action != tt.wantAction {
				t.Errorf("%s = %q, want %q", HeaderAction, action, tt.wantAction)
			}
			if got := e.hits.Load(); got != tt.wantHits {
				t.Errorf("upstream hits = %d, want %d", got, tt.wantHits)
			}
			if got := tt.stat(e.proxy.Stats()); got == 0 {
				t.Errorf("counter not incremented: %+v", e.proxy.Stats())
			}
		})
	}
}

func TestProxyTarpitAbortedByClient(t *testing.T) {
	tab := NewTable()
	tab.Publish([]vigil.Action{{Kind: vigil.ActionTarpit, Key: "addr:127.0.0.1", Until: time.Now().Add(time.Hour), Delay: time.Hour}})
	e := newEnv(t, http.HandlerFunc(echo), Config{MaxTarpit: 5 * time.Second}, nil, tab)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.front.URL, nil)
	start := time.Now()
	_, err := e.client.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	x := e.rec.next(t) // the handler returned: it did not sit out the delay
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("tarpit held the request %v after the client left", el)
	}
	if x.Response != nil || e.hits.Load() != 0 {
		t.Errorf("forwarded after the client left: response %v, hits %d", x.Response, e.hits.Load())
	}
	if s := e.proxy.Stats(); s.ClientCancels != 1 || s.Tarpitted != 1 {
		t.Errorf("stats %+v, want 1 client cancel and 1 tarpitted", s)
	}
}
