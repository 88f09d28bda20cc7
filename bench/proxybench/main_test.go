package proxybench

import (
	"context"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/sensor/proxy"
)

// helperEnv makes the test binary act as `vigil proxy`: argv[1] is the
// listen address and argv[2] the upstream, as the smoke test's
// VigilCommand gives them.
const helperEnv = "PROXYBENCH_HELPER_VIGIL"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		runHelperProxy(os.Args[1], os.Args[2])
		return
	}
	// fasthttp's background goroutines (the server's date and worker
	// cleaner, the fasthttp target's idle-connection cleaner) end by
	// themselves, seconds after their last use.
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"))
}

type nopSubmitter struct{}

func (nopSubmitter) Submit(*vigil.Exchange) bool { return true }

func runHelperProxy(listen, upstream string) {
	p, err := proxy.New(proxy.Config{Upstream: upstream}, nopSubmitter{}, nil, proxy.NewTable(), nil)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(proxy.NewServer(p, proxy.ServerConfig{}).Serve(ln)) // until the harness kills it
}

// requireToolsEnv makes the smoke test fail, instead of skip, when wrk or
// nginx is missing (set it where the tools are meant to be installed).
const requireToolsEnv = "VIGIL_REQUIRE_BENCH_TOOLS"

// TestRunSmoke runs every target for a second under both scenarios, twice
// (saturated, then one connection). It
// checks that each was measured, answered without errors and that the
// ratios are the figures' quotients; it asserts no speed, so that a loaded
// machine cannot make it fail.
func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs wrk for 24 s")
	}
	opts := Options{
		Duration:     time.Second,
		Connections:  8,
		Threads:      1,
		VigilCommand: []string{os.Args[0], PlaceholderListen, PlaceholderUpstream},
		VigilProcs:   []int{1},
		Coraza:       true,
		LatencyPass:  true,
	}
	if _, err := opts.withDefaults(); err != nil {
		if os.Getenv(requireToolsEnv) != "" {
			t.Fatalf("%s is set but the tools are missing: %v", requireToolsEnv, err)
		}
		t.Skipf("proxy benchmark tools missing (%v); apt-get install -y wrk nginx-light, or set %s to make this fail", err, requireToolsEnv)
	}
	t.Setenv(helperEnv, "1") // inherited by the vigil subprocess only
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []string{ScenarioGet, ScenarioPost} {
		direct, ok := rep.Result(sc, TargetDirect)
		if !ok {
			t.Fatalf("%s: no direct result", sc)
		}
		nginx, _ := rep.Result(sc, TargetNginx)
		nginxFwd, _ := rep.Result(sc, TargetNginxFwd)
		coraza, _ := rep.Result(sc, TargetCoraza)
		for _, tg := range []string{TargetDirect, TargetReverseProxy, TargetFastHTTP, TargetNginx, TargetNginxFwd, TargetVigil, VigilProcsTarget(1), TargetCoraza} {
			r, ok := rep.Result(sc, tg)
			// wrk may cut a request or two at the end of a run on a
			// starved machine; a broken target fails them all.
			if !ok || r.RequestsPerSec <= 0 || r.Requests <= 0 || r.P50MS <= 0 || r.P99MS < r.P50MS || r.Errors*100 > r.Requests {
				t.Errorf("%s %s: %+v", sc, tg, r)
				continue
			}
			if want := round(r.RequestsPerSec / direct.RequestsPerSec); r.VsDirect != want {
				t.Errorf("%s %s: vs direct %v, want %v", sc, tg, r.VsDirect, want)
			}
			if want := round(r.RequestsPerSec / nginx.RequestsPerSec); r.VsNginx != want {
				t.Errorf("%s %s: vs nginx %v, want %v", sc, tg, r.VsNginx, want)
			}
			if want := round(r.RequestsPerSec / nginxFwd.RequestsPerSec); r.VsNginxFwd != want {
				t.Errorf("%s %s: vs nginx-fwd %v, want %v", sc, tg, r.VsNginxFwd, want)
			}
			if want := round(r.RequestsPerSec / coraza.RequestsPerSec); r.VsCoraza != want {
				t.Errorf("%s %s: vs coraza %v, want %v", sc, tg, r.VsCoraza, want)
			}
			if want := round(r.LatencyP99MS - direct.LatencyP99MS); r.LatencyP99MS <= 0 || r.AddedP99MS != want {
				t.Errorf("%s %s: one-connection p99 %v, added %v, want %v", sc, tg, r.LatencyP99MS, r.AddedP99MS, want)
			}
			if want := round(r.LatencyP50MS - direct.LatencyP50MS); r.LatencyP50MS <= 0 || r.AddedP50MS != want {
				t.Errorf("%s %s: one-connection p50 %v, added %v, want %v", sc, tg, r.LatencyP50MS, r.AddedP50MS, want)
			}
		}
	}
	var text, js stringsBuilder
	if err := rep.WriteText(&text); err != nil || len(text.b) == 0 {
		t.Errorf("WriteText: %v", err)
	}
	if err := rep.WriteJSON(&js); err != nil || len(js.b) == 0 {
		t.Errorf("WriteJSON: %v", err)
	}
	t.Logf("\n%s", text.b)
}

// TestNginxFwdForwardsLikeVigil checks that nginx-fwd sends the upstream
// the forwarding headers vigil proxy sends, and plain nginx none of them:
// the header names each proxy adds to a request, seen by a recording
// upstream, for vigil's own proxy (proxy.New, as the smoke test's helper
// runs it) and both nginx configurations.
func TestNginxFwdForwardsLikeVigil(t *testing.T) {
	nginxPath, err := lookPath("", "nginx", "/usr/sbin/nginx")
	if err != nil {
		if os.Getenv(requireToolsEnv) != "" {
			t.Fatalf("%s is set but nginx is missing: %v", requireToolsEnv, err)
		}
		t.Skipf("nginx missing (%v); apt-get install -y nginx-light, or set %s to make this fail", err, requireToolsEnv)
	}
	seen := make(chan http.Header, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- r.Header.Clone():
		default:
		}
		_, _ = w.Write([]byte("{}")) // 200: what startNginx waits for
	}))
	defer up.Close()
	upAddr := strings.TrimPrefix(up.URL, "http://")
	// added is the names of the headers the proxy at addr adds to a
	// request that carries only Host, User-Agent and Accept-Encoding.
	added := func(addr string) []string {
		t.Helper()
		for len(seen) > 0 { // nginx's readiness probe
			<-seen
		}
		resp, err := http.Get("http://" + addr + "/api/v2/products/42")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := <-seen
		var names []string
		for k := range h {
			switch k {
			case "User-Agent", "Accept-Encoding", "Connection":
			default:
				names = append(names, k)
			}
		}
		slices.Sort(names)
		return names
	}

	p, err := proxy.New(proxy.Config{Upstream: up.URL}, nopSubmitter{}, nil, proxy.NewTable(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := proxy.NewFastServer(p, proxy.ServerConfig{}) // vigil proxy's default engine
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	vigilAdds := added(ln.Addr().String())
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	<-served
	if len(vigilAdds) == 0 {
		t.Fatal("vigil proxy added no header; the comparison would prove nothing")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		forwarded bool
		want      []string
	}{
		{TargetNginx, false, nil},
		{TargetNginxFwd, true, vigilAdds},
	} {
		addr, d, err := startNginx(ctx, nginxPath, filepath.Join(dir, tc.name), upAddr, tc.forwarded)
		if err != nil {
			t.Fatal(err)
		}
		got := added(addr)
		d.stop()
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s adds %q, want %q (vigil proxy adds %q)", tc.name, got, tc.want, vigilAdds)
		}
	}
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }

func TestOptionsErrors(t *testing.T) {
	tests := map[string]Options{
		"bad scenario":       {Scenarios: []string{"delete"}},
		"threads over conns": {Connections: 1, Threads: 4},
		"missing wrk":        {WrkPath: "/nonexistent/wrk"},
		"missing nginx":      {NginxPath: "/nonexistent/nginx"},
		"absurd duration":    {Duration: 48 * time.Hour},
		"absurd rounds":      {Rounds: 1000},
		"negative rounds":    {Rounds: -1},
		"zero procs":         {VigilProcs: []int{0}},
		"unnamed vigil":      {Vigils: []Vigil{{Command: []string{"vigil"}}}},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Run(context.Background(), o)
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if code := vigil.ErrorCode(err); code != vigil.EINVALID && code != vigil.EUNAVAILABLE {
				t.Errorf("error %v has code %q", err, code)
			}
		})
	}
	t.Run("install hint", func(t *testing.T) {
		_, err := Run(context.Background(), Options{WrkPath: "/nonexistent/wrk"})
		if msg := vigil.ErrorMessage(err); !strings.Contains(msg, "apt-get install -y wrk nginx-light") {
			t.Errorf("message %q lacks the install hint", msg)
		}
	})
}

// TestAggregate checks how rounds become one result: medians of the
// figures and of the per-round ratios (not the ratio of the medians),
// sums of requests and errors, the range of the ratios to nginx, the first
// round's latencies, and an unknown shed share left out of its median.
func TestAggregate(t *testing.T) {
	res := func(target string, rps, vsNginx, cpu, shed float64, lat float64) Result {
		return Result{Target: target, RequestsPerSec: rps, Requests: int64(rps), Errors: 1, VsNginx: vsNginx,
			CPUPerRequestUS: cpu, ShedPct: shed, LatencyP99MS: lat}
	}
	rounds := [][]Result{
		{res(TargetNginx, 100, 1, 50, -1, 0.5), res(TargetVigil, 90, 0.9, 70, 0, 0.7)},
		{res(TargetVigil, 60, 0.75, 90, 2, 0), res(TargetNginx, 80, 1, 55, -1, 0)},
		{res(TargetNginx, 120, 1, 45, -1, 0), res(TargetVigil, 84, 0.7, 80, -1, 0)},
	}
	tests := []struct {
		target string
		want   Result
	}{
		{TargetVigil, Result{Target: TargetVigil, RequestsPerSec: 84, Requests: 234, Errors: 3, VsNginx: 0.75,
			VsNginxMin: 0.7, VsNginxMax: 0.9, CPUPerRequestUS: 80, ShedPct: 1, LatencyP99MS: 0.7}},
		{TargetNginx, Result{Target: TargetNginx, RequestsPerSec: 100, Requests: 300, Errors: 3, VsNginx: 1,
			VsNginxMin: 1, VsNginxMax: 1, CPUPerRequestUS: 50, ShedPct: -1, LatencyP99MS: 0.5}},
		{"absent", Result{Target: "absent"}},
	}
	for _, tc := range tests {
		if got := aggregate(rounds, tc.target); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.target, got, tc.want)
		}
	}
	// One round is passed through as it was measured.
	one := [][]Result{{res(TargetVigil, 90, 0.9, 70, 0, 0.7)}}
	if got, want := aggregate(one, TargetVigil), one[0][0]; got != want {
		t.Errorf("one round: got %+v, want %+v", got, want)
	}
}
