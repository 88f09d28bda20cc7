package proxy

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func TestTarpitProgressive(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	act := vigil.Action{ID: "a1", Kind: vigil.ActionTarpit, Key: "addr:192.0.2.1", Until: now.Add(time.Hour), Delay: time.Second}
	tests := []struct {
		name string
		acts []vigil.Action
		want []time.Duration
	}{
		{"grows to the cap", []vigil.Action{act, act, act, act, act},
			[]time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3500 * time.Millisecond, 3500 * time.Millisecond}},
		{"a new action starts again", []vigil.Action{act, act, {ID: "a2", Key: act.Key, Until: act.Until, Delay: time.Second}},
			[]time.Duration{time.Second, 2 * time.Second, time.Second}},
		{"keys count apart", []vigil.Action{act, {ID: "a1", Key: "addr:192.0.2.2", Until: act.Until, Delay: time.Second}},
			[]time.Duration{time.Second, time.Second}},
		{"no delay", []vigil.Action{{ID: "a1", Key: act.Key, Until: act.Until}}, []time.Duration{0}},
		{"delay above the cap", []vigil.Action{{ID: "a1", Key: act.Key, Until: act.Until, Delay: time.Hour}}, []time.Duration{3500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newTarpits(0)
			for i, a := range tt.acts {
				if got := tp.delay(a, now, 3500*time.Millisecond); got != tt.want[i] {
					t.Errorf("request %d: delay %v, want %v", i+1, got, tt.want[i])
				}
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		tp := newTarpits(0)
		for i := range maxTarpitKeys + 10 {
			a := act
			a.ID = "a" + strings.Repeat("x", i%7) + string(rune('0'+i%10)) + time.Duration(i).String()
			tp.delay(a, now, time.Second)
		}
		if len(tp.counts) > maxTarpitKeys || tp.evicted == 0 {
			t.Errorf("%d counts (cap %d), %d evicted", len(tp.counts), maxTarpitKeys, tp.evicted)
		}
	})
}

func TestTarpitHoldsAtMostN(t *testing.T) {
	tab := NewTable()
	tab.Publish([]vigil.Action{{ID: "t", Kind: vigil.ActionTarpit, Key: "addr:127.0.0.1", Until: time.Now().Add(time.Hour), Delay: time.Hour}})
	e := newEnv(t, http.HandlerFunc(echo), Config{MaxTarpit: 30 * time.Second, MaxTarpitted: 1}, nil, tab)

	// The first request takes the only slot and waits.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.front.URL, nil)
		resp, err := e.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		first <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); e.proxy.Stats().Tarpitted == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("first request never tarpitted")
		}
	}
	// The second finds no slot: 429 at once.
	resp, err := e.client.Get(e.front.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if ej := decodeError(t, resp); ej.Error.Code != CodeRateLimited {
		t.Errorf("code %q", ej.Error.Code)
	}
	e.rec.next(t)
	cancel()
	<-first
	e.rec.next(t)
	if s := e.proxy.Stats(); s.TarpitRejected != 1 || s.Tarpitted != 1 || e.hits.Load() != 0 {
		t.Errorf("stats %+v, hits %d; want 1 rejected, 1 tarpitted, no hits", s, e.hits.Load())
	}
}

func TestDecoy(t *testing.T) {
	tab := NewTable()
	tab.Publish([]vigil.Action{{ID: "d", Kind: vigil.ActionDecoy, Key: "principal:jwt:mallory", Until: time.Now().Add(time.Hour)}})
	e := newEnv(t, http.HandlerFunc(echo), Config{}, headerResolver{}, tab)
	get := func(method, path, user string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, e.front.URL+path, nil)
		req.Header.Set("X-User", user)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.rec.next(t)
		return resp, b
	}
	tests := []struct {
		name, method, path, user string
		wantStatus               int
		check                    func(t *testing.T, v map[string]any)
	}{
		{"object by numeric id", "GET", "/api/users/1042", "mallory", 200, func(t *testing.T, v map[string]any) {
			if v["id"] != float64(1042) || v["email"] == nil || v["name"] == nil {
				t.Errorf("object %v: want id 1042 with name and email", v)
			}
		}},
		{"object by uuid", "GET", "/api/orders/7f3a9c1e-2b4d-4e8f-9a0b-1c2d3e4f5a6b", "mallory", 200, func(t *testing.T, v map[string]any) {
			if v["id"] != "7f3a9c1e-2b4d-4e8f-9a0b-1c2d3e4f5a6b" {
				t.Errorf("object %v: want the uuid as id", v)
			}
		}},
		{"collection", "GET", "/api/users", "mallory", 200, func(t *testing.T, v map[string]any) {
			items, _ := v["items"].([]any)
			if len(items) != 3 {
				t.Errorf("collection %v: want 3 items", v)
			}
		}},
		{"create", "POST", "/api/users", "mallory", 201, func(t *testing.T, v map[string]any) {
			if v["id"] == nil {
				t.Errorf("created %v: want an id", v)
			}
		}},
		// Someone else is forwarded as usual.
		{"another principal", "GET", "/api/users/1042", "alice", 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := e.hits.Load()
			resp, body := get(tt.method, tt.path, tt.user)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.check == nil {
				if e.hits.Load() != hits+1 {
					t.Error("not forwarded")
				}
				return
			}
			if e.hits.Load() != hits {
				t.Error("a decoyed request reached the upstream")
			}
			for k := range resp.Header {
				if strings.HasPrefix(k, "X-Vigil") {
					t.Errorf("decoy carries %s: it gives the decoy away", k)
				}
			}
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("decoy is not a JSON object: %v: %s", err, body)
			}
			tt.check(t, v)
			if _, again := get(tt.method, tt.path, tt.user); string(again) != string(body) {
				t.Errorf("the same path gave two answers:\n%s\n%s", body, again)
			}
		})
	}
	if s := e.proxy.Stats(); s.Decoys != 8 {
		t.Errorf("Decoys = %d, want 8 (4 decoyed cases, twice each)", s.Decoys)
	}
}

func TestIsIdentifier(t *testing.T) {
	for s, want := range map[string]bool{
		"1042": true, "7f3a9c1e-2b4d-4e8f-9a0b-1c2d3e4f5a6b": true, "usr_8h2k9x1q": true,
		"users": false, "v1": false, "orders-2024": true, "": false, "a.json": false,
		"profile": false, strings.Repeat("9", 65): false,
	} {
		if got := isIdentifier(s); got != want {
			t.Errorf("isIdentifier(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzDecoyBody(f *testing.F) {
	seed := maphash.MakeSeed()
	f.Add("GET", "/api/users/1042")
	f.Add("POST", "/users")
	f.Add("GET", "//\x00/%ff/"+strings.Repeat("a/", 100))
	shape := &DecoyShape{Fields: []DecoyField{{Name: "id", Type: "integer"}, {Name: "ref", Type: "string", Format: "uuid"},
		{Name: "day", Type: "string", Format: "date"}, {Name: "note", Type: "string"}}}
	f.Fuzz(func(t *testing.T, method, path string) {
		for _, sh := range []*DecoyShape{nil, shape} {
			b := decoyBody(seed, method, path, sh)
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("not a JSON object: %v: %q", err, b)
			}
			if len(b) > 4*maxDecoyPath+4096 {
				t.Fatalf("decoy of %d bytes", len(b))
			}
		}
	})
}

func TestDecoyShaped(t *testing.T) {
	seed := maphash.MakeSeed()
	user := DecoyShape{Fields: []DecoyField{
		{Name: "id", Type: "integer"}, {Name: "username", Type: "string"}, {Name: "email", Type: "string", Format: "email"},
		{Name: "tier", Type: "string", Enum: []string{"gold", "silver"}}, {Name: "balance", Type: "number"},
		{Name: "verified", Type: "boolean"}, {Name: "uuid", Type: "string", Format: "uuid"},
		{Name: "created_at", Type: "string", Format: "date-time"}, {Name: "tags", Type: "array"},
	}}
	tests := []struct {
		name  string
		path  string
		shape DecoyShape
		check func(t *testing.T, v any)
	}{
		{"object with the learned fields", "/api/users/1042", user, func(t *testing.T, v any) {
			o, _ := v.(map[string]any)
			if len(o) != len(user.Fields) {
				t.Fatalf("fields %v, want the %d learned ones", o, len(user.Fields))
			}
			if o["id"] != float64(1042) {
				t.Errorf("id %v, want the requested 1042", o["id"])
			}
			if tier := o["tier"]; tier != "gold" && tier != "silver" {
				t.Errorf("tier %v, want one of the enum", tier)
			}
			if _, ok := o["verified"].(bool); !ok {
				t.Errorf("verified %v, want a boolean", o["verified"])
			}
			if s, _ := o["email"].(string); !strings.HasSuffix(s, "@example.com") {
				t.Errorf("email %v", o["email"])
			}
			if s, _ := o["uuid"].(string); len(s) != 36 || s[14] != '4' {
				t.Errorf("uuid %q", s)
			}
			if _, err := time.Parse(time.RFC3339, o["created_at"].(string)); err != nil {
				t.Errorf("created_at: %v", err)
			}
		}},
		{"list endpoint", "/api/users", DecoyShape{List: true, Fields: user.Fields}, func(t *testing.T, v any) {
			items, _ := v.([]any)
			if len(items) != 3 {
				t.Fatalf("list %v, want 3 objects", v)
			}
			a, b := items[0].(map[string]any), items[1].(map[string]any)
			if a["id"] == b["id"] {
				t.Errorf("two items with id %v", a["id"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := decoyBody(seed, "GET", tt.path, &tt.shape)
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			tt.check(t, v)
		})
	}
	t.Run("proxy asks for the shape", func(t *testing.T) {
		tab := NewTable()
		tab.Publish([]vigil.Action{{ID: "d", Kind: vigil.ActionDecoy, Key: "addr:127.0.0.1", Until: time.Now().Add(time.Hour)}})
		e := newEnv(t, http.HandlerFunc(echo), Config{DecoyShape: func(r *http.Request) (DecoyShape, bool) {
			return user, r.URL.Path == "/api/users/7"
		}}, nil, tab)
		for path, want := range map[string]int{"/api/users/7": len(user.Fields), "/api/orders/7": 6} {
			resp, err := e.client.Get(e.front.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			var o map[string]any
			err = json.NewDecoder(resp.Body).Decode(&o)
			resp.Body.Close()
			e.rec.next(t)
			if err != nil || len(o) != want {
				t.Errorf("%s: %v, %d fields, want %d", path, err, len(o), want)
			}
		}
	})
}
