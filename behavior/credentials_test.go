package behavior

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/inventory"
)

func login(email string, status int) req {
	return post("/api/v2/auth/login", `{"email":"`+email+`","password":"[REDACTED]"}`, status)
}

func TestCredentials(t *testing.T) {
	bot := vigil.Actor{Addr: "203.0.113.50"}
	tests := []struct {
		name  string
		steps []step
		want  map[string]int
	}{
		// Attacks.
		{"stuffing 40 leaked pairs", func() []step {
			var out []step
			for i := range 40 {
				st := 401
				if i == 25 {
					st = 200
				}
				out = append(out, step{bot, login(fmt.Sprintf("user%d@shop.test", 8+i*7), st)})
			}
			return out
		}(), map[string]int{DetectorCredentialStuffing: 1}},
		{"stuffing a form on /signin, 403", func() []step {
			var out []step
			for i := range 10 {
				out = append(out, step{bot, post("/account/signin", fmt.Sprintf("username=u%d&password=x", i), 403)})
			}
			return out
		}(), map[string]int{DetectorCredentialStuffing: 1}},
		{"stuffing /oauth/token with user_name", func() []step {
			var out []step
			for i := range 12 {
				out = append(out, step{bot, post("/oauth/token", fmt.Sprintf(`{"grant_type":"password","user_name":"U%d"}`, i), 400)})
			}
			return out
		}(), map[string]int{DetectorCredentialStuffing: 1}},
		{"brute force one account from one address", func() []step {
			var out []step
			for range 10 {
				out = append(out, step{bot, login("alice@shop.test", 401)})
			}
			return out
		}(), map[string]int{DetectorBruteForce: 1}},
		{"brute force one account from a botnet, any case", func() []step {
			var out []step
			for i := range 12 {
				out = append(out, step{vigil.Actor{Addr: fmt.Sprintf("203.0.113.%d", i)}, login([]string{"Alice@Shop.test", " alice@shop.test"}[i%2], 401)})
			}
			return out
		}(), map[string]int{DetectorBruteForce: 1}},

		// Not attacks.
		{"a typo twice then success", []step{{user, login("user17@shop.test", 401)}, {user, login("user17@shop.test", 401)}, {user, login("user17@shop.test", 200)}},
			map[string]int{}},
		{"a mobile retry after a timeout", []step{{user, login("user17@shop.test", 0)}, {user, login("user17@shop.test", 200)}}, map[string]int{}},
		{"an office NAT with 5 users", func() []step {
			nat := vigil.Actor{Addr: "192.0.2.1"}
			var out []step
			for i := range 5 {
				if i == 2 {
					out = append(out, step{nat, login(fmt.Sprintf("colleague%d@corp.test", i), 401)})
				}
				out = append(out, step{nat, login(fmt.Sprintf("colleague%d@corp.test", i), 200)})
			}
			return out
		}(), map[string]int{}},
		{"nine usernames failing", func() []step {
			var out []step
			for i := range 9 {
				out = append(out, step{bot, login(fmt.Sprintf("u%d@x.test", i), 401)})
			}
			return out
		}(), map[string]int{}},
		{"a NAT with 12 users, three typos", func() []step {
			nat := vigil.Actor{Addr: "192.0.2.1"}
			var out []step
			for i := range 12 {
				if i%4 == 0 {
					out = append(out, step{nat, login(fmt.Sprintf("c%d@corp.test", i), 401)})
				}
				out = append(out, step{nat, login(fmt.Sprintf("c%d@corp.test", i), 200)})
			}
			return out
		}(), map[string]int{}},
		{"nine failures for one account", func() []step {
			var out []step
			for range 9 {
				out = append(out, step{bot, login("alice@shop.test", 401)})
			}
			return out
		}(), map[string]int{}},
		{"rate limited and server errors", func() []step {
			var out []step
			for i := range 30 {
				out = append(out, step{bot, login(fmt.Sprintf("u%d@x.test", i), []int{429, 503}[i%2])})
			}
			return out
		}(), map[string]int{}},
		{"not a login: registration and a GET", func() []step {
			var out []step
			for i := range 30 {
				out = append(out, step{bot, post("/api/v2/auth/register", fmt.Sprintf(`{"email":"u%d@x.test"}`, i), 409)})
				out = append(out, step{bot, get(fmt.Sprintf("/api/v2/auth/login?email=u%d", i), 401)})
			}
			return out
		}(), map[string]int{}},
		{"redacted usernames", func() []step {
			var out []step
			for range 30 {
				out = append(out, step{bot, login("[REDACTED]", 401)})
			}
			return out
		}(), map[string]int{}},
		{"failures spread over two windows", func() []step {
			var out []step
			for i := range 10 {
				r := login(fmt.Sprintf("u%d@x.test", i), 401)
				if i == 5 {
					r.after = 11 * time.Minute
				}
				out = append(out, step{bot, r})
			}
			return out
		}(), map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCredentials(Config{})
			fs := scenario(t, c, tt.steps)
			if got := count(fs); !equalCounts(got, tt.want) {
				t.Errorf("findings %v, want %v", got, tt.want)
				for _, f := range fs {
					t.Log(f, f.Evidence)
				}
			}
			for _, f := range fs {
				if f.Category != vigil.API2BrokenAuth || f.Area != vigil.AreaChained || f.Severity != vigil.SeverityHigh {
					t.Errorf("%s: category %q area %q severity %s", f.Detector, f.Category, f.Area, f.Severity)
				}
				if strings.Contains(fmt.Sprint(f.Evidence), "shop.test") {
					t.Errorf("unmasked username in %v", f.Evidence)
				}
			}
		})
	}
}

func TestCredentialsBruteForceActor(t *testing.T) {
	c := NewCredentials(Config{})
	var fs []vigil.Finding
	for i := range 10 {
		a := vigil.Actor{Addr: fmt.Sprintf("203.0.113.%d", i)}
		got, _ := c.Analyze(context.Background(), exchange(a, t0.Add(time.Duration(i)*time.Second), login("alice@shop.test", 401)))
		fs = append(fs, got...)
	}
	if len(fs) != 1 || fs[0].Actor.Addr != "203.0.113.9" || fs[0].Detector != DetectorBruteForce {
		t.Fatalf("findings %v", fs)
	}
	if ev := fmt.Sprint(fs[0].Evidence); !strings.Contains(ev, "body.username al") || !strings.Contains(ev, "behavior.failed_logins 10") {
		t.Errorf("evidence %s", ev)
	}
	if st := c.Stats(); st.Findings[DetectorBruteForce] != 1 || st.Findings[DetectorCredentialStuffing] != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestIsLogin(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/v2/auth/login": true, "/login/": true, "/SignIn": true, "/sign-in": true, "/auth": true, "/oauth/token": true,
		"/token": true, "/api/sessions": true, "/loginx": false, "/login/help": false, "/api/v2/auth/register": false, "/": false,
	} {
		if got := IsLogin("POST", path); got != want {
			t.Errorf("%s: %v", path, got)
		}
	}
	if IsLogin("GET", "/login") {
		t.Error("GET /login is a login")
	}
}

func checkCredentialsBounds(t testing.TB, c *Credentials, maxActors int) {
	t.Helper()
	n := c.actors.Each(func(a *actortable.Node[stuffActor]) {
		if len(a.State.names) > maxUsernames || cap(a.State.names) > maxUsernames || a.State.nex > maxLoginExamples {
			t.Errorf("%d usernames (cap %d)", len(a.State.names), cap(a.State.names))
		}
	})
	m := c.targets.Each(func(a *actortable.Node[bruteTarget]) {
		if len(a.State.fails) > BruteForceFailures || cap(a.State.fails) > BruteForceFailures {
			t.Errorf("%d failures (cap %d)", len(a.State.fails), cap(a.State.fails))
		}
	})
	if n > maxActors || m > maxActors || int64(n) != c.Stats().Actors || int64(m) != c.TargetStats().Actors {
		t.Errorf("%d actors, %d usernames, limit %d", n, m, maxActors)
	}
}

func TestCredentialsBoundedState(t *testing.T) {
	c := NewCredentials(Config{MaxActors: 100})
	for i := range 20_000 {
		a := vigil.Actor{Addr: fmt.Sprintf("203.0.%d.%d", i%300/250, i%250)}
		c.Analyze(context.Background(), exchange(a, t0.Add(time.Duration(i)*time.Millisecond), login(fmt.Sprintf("u%d@x.test", i%5000), 401)))
	}
	checkCredentialsBounds(t, c, 100)
}

// heapGrowth is the live heap growth while build runs, its result kept.
func heapGrowth(build func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}

// TestCredentialsMemory measures bytes per tracked actor and username.
func TestCredentialsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const n = 10_000
	xs := make([]*vigil.Exchange, maxUsernames)
	for i := range xs {
		xs[i] = exchange(vigil.Actor{}, t0, login(fmt.Sprintf("u%d@x.test", i), 401))
	}
	actors := make([]vigil.Actor, n)
	for i := range actors {
		actors[i] = vigil.Actor{Principal: fmt.Sprintf("jwt:%d", i)}
	}
	// Each actor tries the same 20 usernames: 20 username entries in all.
	perActor := heapGrowth(func() any {
		c := NewCredentials(Config{MaxActors: n})
		for i := range n {
			for _, x := range xs {
				x.Actor = actors[i]
				c.Analyze(context.Background(), x)
			}
		}
		return c
	}) / n
	t.Logf("credentials: %.0f bytes per actor with %d usernames", perActor, maxUsernames)
	runtime.KeepAlive(actors)
	runtime.KeepAlive(xs)
	if perActor > 800 {
		t.Errorf("bytes per actor %.0f", perActor)
	}
}

// TestCredentialsMemoryUsernames measures bytes per tracked username.
func TestCredentialsMemoryUsernames(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const n = 10_000
	ys := make([]*vigil.Exchange, n)
	for i := range ys {
		ys[i] = exchange(vigil.Actor{Addr: "203.0.113.1"}, t0, login(fmt.Sprintf("u%d@x.test", i), 401))
	}
	// One actor, n usernames failing 10 times each.
	perName := heapGrowth(func() any {
		c := NewCredentials(Config{MaxActors: n})
		for range BruteForceFailures {
			for _, y := range ys {
				c.Analyze(context.Background(), y)
			}
		}
		return c
	}) / n
	t.Logf("credentials: %.0f bytes per username with %d failures", perName, BruteForceFailures)
	runtime.KeepAlive(ys)
	if perName > 400 {
		t.Errorf("bytes per username %.0f", perName)
	}
}

func FuzzAnalyzeCredentials(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte("\x0c\x01{\"email\":\"a\"}\x00\x0c\x01{\"email\":\"b\"}\x00\x0d\x02{\"user\":{\"login\":\"c\"}}\x00\x1c\x03username=d&password=x\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewCredentials(Config{MaxActors: 3, Window: time.Minute})
		fuzzPlayAuth(t, c, data, vigil.API2BrokenAuth)
		checkCredentialsBounds(t, c, 3)
	})
}

// benignAuthMix is benignMix with logins and a collection list: the
// traffic BOLA and Credentials see from shoppers.
func benignAuthMix(n int) []*vigil.Exchange {
	xs := benignMix(n)
	for i := 0; i < len(xs); i += 12 {
		xs[i] = exchange(xs[i].Actor, xs[i].Time, login(fmt.Sprintf("user%d@shop.test", i%256), 200))
	}
	return xs
}

func BenchmarkAnalyzeAuth(b *testing.B) {
	xs := benignAuthMix(1200)
	plain := func(xs []*vigil.Exchange) []*vigil.Exchange { // no login, no {id}
		var out []*vigil.Exchange
		for _, x := range xs {
			p := x.Request.Path()
			if !IsLogin(x.Request.Method, p) && inventory.Template(p) == p {
				out = append(out, x)
			}
		}
		return out
	}(xs)
	for _, tc := range []struct {
		name string
		xs   []*vigil.Exchange
		an   func() vigil.Analyzer
	}{
		{"baseline-template", xs, func() vigil.Analyzer { return templateOnly{} }},
		{"bola", xs, func() vigil.Analyzer { return NewBOLA(Config{}) }},
		{"bola-no-id", plain, func() vigil.Analyzer { return NewBOLA(Config{}) }},
		{"credentials", xs, func() vigil.Analyzer { return NewCredentials(Config{}) }},
		{"credentials-no-login", plain, func() vigil.Analyzer { return NewCredentials(Config{}) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			an := tc.an()
			ctx := context.Background()
			for _, x := range tc.xs {
				an.Analyze(ctx, x)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				an.Analyze(ctx, tc.xs[i%len(tc.xs)])
			}
		})
	}
}
