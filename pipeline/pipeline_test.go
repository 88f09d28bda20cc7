package pipeline

import (
	"bytes"
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// exchange builds a GET exchange by actor principal to rawURL.
func exchange(id int, principal, rawURL string, status int) *vigil.Exchange {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	return &vigil.Exchange{
		ID:       "x#" + strconv.Itoa(id),
		Time:     t0.Add(time.Duration(id) * time.Millisecond),
		Request:  vigil.Request{Method: "GET", URL: u},
		Response: &vigil.Response{Status: status},
		Actor:    vigil.Actor{Principal: principal},
	}
}

// analyzerFunc adapts a function to vigil.Analyzer.
type analyzerFunc func(ctx context.Context, x *vigil.Exchange) ([]vigil.Finding, error)

func (f analyzerFunc) Analyze(ctx context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	return f(ctx, x)
}

// oneFinding raises one finding per exchange, leaving the fields the
// pipeline fills empty.
var oneFinding = analyzerFunc(func(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	return []vigil.Finding{{Detector: "test.one", Title: "seen " + x.ID}}, nil
})

// sink collects findings; fail(n) says whether the nth call (from 0) fails.
type sink struct {
	mu    sync.Mutex
	calls int
	got   []vigil.Finding
	fail  func(n int) bool
}

func (s *sink) WriteFindings(_ context.Context, fs []vigil.Finding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.calls
	s.calls++
	if s.fail != nil && s.fail(n) {
		return errors.New("sink down")
	}
	s.got = append(s.got, fs...)
	return nil
}

func (s *sink) findings() []vigil.Finding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// recorder merges what it is given the way a store does.
type recorder struct {
	mu      sync.Mutex
	stats   map[vigil.Endpoint]vigil.EndpointStats
	samples map[vigil.Endpoint]int
	maxCall int // most samples of one endpoint in one call
}

func newRecorder() *recorder {
	return &recorder{stats: map[vigil.Endpoint]vigil.EndpointStats{}, samples: map[vigil.Endpoint]int{}}
}

func (r *recorder) UpsertEndpoints(_ context.Context, stats []vigil.EndpointStats) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range stats {
		m, ok := r.stats[s.Endpoint]
		if !ok {
			m = vigil.EndpointStats{Endpoint: s.Endpoint, FirstSeen: s.FirstSeen, Statuses: map[int]int64{}, Auth: map[string]int64{}}
		}
		m.Count += s.Count
		if s.FirstSeen.Before(m.FirstSeen) {
			m.FirstSeen = s.FirstSeen
		}
		if s.LastSeen.After(m.LastSeen) {
			m.LastSeen = s.LastSeen
		}
		for k, v := range s.Statuses {
			m.Statuses[k] += v
		}
		for k, v := range s.Auth {
			m.Auth[k] += v
		}
		r.stats[s.Endpoint] = m
	}
	return nil
}

func (r *recorder) AddSamples(_ context.Context, samples []vigil.Sample) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	perCall := map[vigil.Endpoint]int{}
	for _, s := range samples {
		r.samples[s.Endpoint]++
		perCall[s.Endpoint]++
		r.maxCall = max(r.maxCall, perCall[s.Endpoint])
	}
	return nil
}

// run starts p.Run and returns a function that closes p and returns Run's
// error.
func run(t *testing.T, ctx context.Context, p *Pipeline) (closeAndWait func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error {
		p.Close()
		return <-done
	}
}

// feeders are the two ways to feed a Block-mode pipeline: each returns an
// add function and a done function to call before Close.
var feeders = []struct {
	name string
	open func(p *Pipeline) (add func(context.Context, *vigil.Exchange) error, done func(context.Context) error)
}{
	{"SubmitWait", func(p *Pipeline) (func(context.Context, *vigil.Exchange) error, func(context.Context) error) {
		return p.SubmitWait, func(context.Context) error { return nil }
	}},
	{"Batcher", func(p *Pipeline) (func(context.Context, *vigil.Exchange) error, func(context.Context) error) {
		b := p.NewBatcher(0)
		return b.Add, b.Close
	}},
}

func TestBlockModeDeliversEverything(t *testing.T) {
	for _, fd := range feeders {
		t.Run(fd.name, func(t *testing.T) { testBlockModeDeliversEverything(t, fd.open) })
	}
}

func testBlockModeDeliversEverything(t *testing.T, open func(p *Pipeline) (func(context.Context, *vigil.Exchange) error, func(context.Context) error)) {
	const n = 3000
	s := &sink{}
	p := New(Config{Workers: 4, QueueSize: 8, Mode: Block}, []vigil.Analyzer{oneFinding}, []vigil.Sink{s}, nil, nil)
	wait := run(t, t.Context(), p)
	add, done := open(p)
	for i := range n {
		if err := add(t.Context(), exchange(i, "jwt:"+strconv.Itoa(i%37), "https://shop.test/api/v2/orders/"+strconv.Itoa(i), 200)); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	if err := done(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := s.findings()
	if len(got) != n {
		t.Fatalf("sink got %d findings, want %d", len(got), n)
	}
	ids := map[string]bool{}
	for _, f := range got {
		if f.ID == "" || ids[f.ID] {
			t.Fatalf("finding id %q empty or repeated", f.ID)
		}
		ids[f.ID] = true
		want := vigil.Finding{
			ID: f.ID, Detector: "test.one", Title: "seen " + f.ExchangeID, ExchangeID: f.ExchangeID,
			Actor:    vigil.Actor{Principal: f.Actor.Principal},
			Endpoint: vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/api/v2/orders/{id}"},
			Time:     f.Time,
		}
		if diff := cmp.Diff(want, f); diff != "" || f.ExchangeID == "" || f.Actor.Principal == "" || f.Time.IsZero() {
			t.Fatalf("finding not filled in (-want +got):\n%s", diff)
		}
	}
	want := Stats{Submitted: n, Analyzed: n, Findings: n}
	if diff := cmp.Diff(want, p.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

// TestFindingFieldsKept: what an analyzer sets is not overwritten.
func TestFindingFieldsKept(t *testing.T) {
	set := vigil.Finding{
		ID: "mine", Detector: "test.set", ExchangeID: "other#1", Time: t0.Add(time.Hour),
		Actor:    vigil.Actor{Addr: "203.0.113.9"},
		Endpoint: vigil.Endpoint{Host: "h", Method: "POST", Template: "/t"},
	}
	s := &sink{}
	a := analyzerFunc(func(context.Context, *vigil.Exchange) ([]vigil.Finding, error) { return []vigil.Finding{set}, nil })
	p := New(Config{Workers: 1, Mode: Block}, []vigil.Analyzer{a}, []vigil.Sink{s}, nil, nil)
	wait := run(t, t.Context(), p)
	if err := p.SubmitWait(t.Context(), exchange(1, "jwt:1", "http://shop.test/x/1", 200)); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]vigil.Finding{set}, s.findings()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestShedModeSheds(t *testing.T) {
	const queue, extra = 4, 6
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	block := analyzerFunc(func(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
		if x.ID == "x#0" {
			entered <- struct{}{}
			<-release
		}
		return nil, nil
	})
	p := New(Config{Workers: 1, QueueSize: queue, Mode: Shed}, []vigil.Analyzer{block}, nil, nil, nil)
	wait := run(t, t.Context(), p)
	if !p.Submit(exchange(0, "jwt:a", "http://shop.test/", 200)) {
		t.Fatal("first Submit refused")
	}
	<-entered // the worker is stuck in the analyzer; the queue is empty

	var accepted int
	for i := 1; i <= queue+extra; i++ {
		start := time.Now()
		if p.Submit(exchange(i, "jwt:a", "http://shop.test/", 200)) {
			accepted++
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("Submit %d took %v: it must not block", i, d)
		}
	}
	if accepted != queue {
		t.Errorf("accepted %d, want %d (the queue size)", accepted, queue)
	}
	close(release)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	want := Stats{Submitted: 1 + queue, Shed: extra, Analyzed: 1 + queue}
	if diff := cmp.Diff(want, p.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

// TestPerActorOrder: every analyzer sees each actor's exchanges in order,
// with batches of 2 and of up to maxBatch (analysed analyzer by analyzer).
func TestPerActorOrder(t *testing.T) {
	for _, fd := range feeders {
		for _, queue := range []int{2, 4 * maxBatch} {
			t.Run(fd.name+"/queue-"+strconv.Itoa(queue), func(t *testing.T) { testPerActorOrder(t, fd.open, queue) })
		}
	}
}

func testPerActorOrder(t *testing.T, open func(p *Pipeline) (func(context.Context, *vigil.Exchange) error, func(context.Context) error), queue int) {
	var mu sync.Mutex
	seen := [2]map[string][]int{{}, {}}
	recorder := func(k int) vigil.Analyzer {
		return analyzerFunc(func(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
			i, _ := strconv.Atoi(strings.TrimPrefix(x.ID, "x#"))
			mu.Lock()
			seen[k][x.Actor.Key()] = append(seen[k][x.Actor.Key()], i)
			mu.Unlock()
			return nil, nil
		})
	}
	p := New(Config{Workers: 4, QueueSize: queue, Mode: Block}, []vigil.Analyzer{recorder(0), recorder(1)}, nil, nil, nil)
	wait := run(t, t.Context(), p)
	add, done := open(p)
	const n, actors = 4000, 23
	for i := range n {
		if err := add(t.Context(), exchange(i, "jwt:"+strconv.Itoa(i%actors), "http://shop.test/", 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := done(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	for k, seen := range seen {
		if len(seen) != actors {
			t.Fatalf("analyzer %d: %d actors seen, want %d", k, len(seen), actors)
		}
		total := 0
		for actor, ids := range seen {
			total += len(ids)
			if !slices.IsSorted(ids) {
				t.Errorf("analyzer %d: actor %s analyzed out of order: %v", k, actor, ids[:min(len(ids), 20)])
			}
		}
		if total != n {
			t.Errorf("analyzer %d: analyzed %d, want %d", k, total, n)
		}
	}
}

func TestPanicAndErrorCounted(t *testing.T) {
	const n = 100
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	panicky := analyzerFunc(func(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
		if strings.HasSuffix(x.ID, "0") {
			panic("boom")
		}
		if strings.HasSuffix(x.ID, "1") {
			return nil, errors.New("broken input")
		}
		return nil, nil
	})
	s := &sink{}
	p := New(Config{Workers: 2, Mode: Block}, []vigil.Analyzer{panicky, oneFinding}, []vigil.Sink{s}, nil, logger)
	wait := run(t, t.Context(), p)
	for i := range n {
		if err := p.SubmitWait(t.Context(), exchange(i, "jwt:"+strconv.Itoa(i%5), "http://shop.test/", 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	want := Stats{Submitted: n, Analyzed: n, Findings: n, Panics: n / 10, AnalyzerErrors: n / 10}
	if diff := cmp.Diff(want, p.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if got := len(s.findings()); got != n {
		t.Errorf("the next analyzer raised %d findings, want %d", got, n)
	}
	if got := strings.Count(buf.String(), "analyzer panicked"); got != 1 {
		t.Errorf("panic logged %d times, want once:\n%s", got, buf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestSinkErrors(t *testing.T) {
	const n = 500
	tests := []struct {
		name          string
		fail          func(n int) bool
		wantDelivered int
		wantDropped   int64
		wantErrors    func(int64) bool
	}{
		{"first call fails, retry succeeds", func(n int) bool { return n == 0 }, n, 0, func(e int64) bool { return e == 1 }},
		{"always fails, nothing buffered", func(int) bool { return true }, 0, n, func(e int64) bool { return e >= 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad, good := &sink{fail: tc.fail}, &sink{}
			p := New(Config{Workers: 2, Mode: Block}, []vigil.Analyzer{oneFinding}, []vigil.Sink{bad, good}, nil, nil)
			wait := run(t, t.Context(), p)
			for i := range n {
				if err := p.SubmitWait(t.Context(), exchange(i, "jwt:"+strconv.Itoa(i%5), "http://shop.test/", 200)); err != nil {
					t.Fatal(err)
				}
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			st := p.Stats()
			if got := len(bad.findings()); got != tc.wantDelivered {
				t.Errorf("failing sink got %d findings, want %d", got, tc.wantDelivered)
			}
			if got := len(good.findings()); got != n {
				t.Errorf("healthy sink got %d findings, want %d", got, n)
			}
			if st.DroppedFindings != tc.wantDropped || !tc.wantErrors(st.SinkErrors) {
				t.Errorf("DroppedFindings %d (want %d), SinkErrors %d", st.DroppedFindings, tc.wantDropped, st.SinkErrors)
			}
		})
	}
}

func TestRecorderGetsMergedStats(t *testing.T) {
	rec := newRecorder()
	p := New(Config{Workers: 3, Mode: Block}, nil, nil, rec, nil)
	wait := run(t, t.Context(), p)
	type req struct {
		principal, url string
		status, times  int
	}
	reqs := []req{
		{"jwt:1", "https://Shop.test/api/v2/orders/1001", 200, 40},
		{"jwt:2", "https://shop.test/api/v2/orders/1002", 404, 10},
		{"", "https://shop.test/api/v2/orders/1003", 401, 5},
		{"apikey:abc", "https://shop.test:8443/api/v2/users/me", 200, 7},
	}
	id := 0
	for _, r := range reqs {
		for range r.times {
			if err := p.SubmitWait(t.Context(), exchange(id, r.principal, r.url, r.status)); err != nil {
				t.Fatal(err)
			}
			id++
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	orders := vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/api/v2/orders/{id}"}
	me := vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/api/v2/users/me"}
	want := map[vigil.Endpoint]vigil.EndpointStats{
		orders: {
			Endpoint: orders, FirstSeen: t0, LastSeen: t0.Add(54 * time.Millisecond), Count: 55,
			Statuses: map[int]int64{200: 40, 404: 10, 401: 5}, Auth: map[string]int64{"jwt": 50, "none": 5},
		},
		me: {
			Endpoint: me, FirstSeen: t0.Add(55 * time.Millisecond), LastSeen: t0.Add(61 * time.Millisecond), Count: 7,
			Statuses: map[int]int64{200: 7}, Auth: map[string]int64{"apikey": 7},
		},
	}
	if diff := cmp.Diff(want, rec.stats); diff != "" {
		t.Errorf("recorded stats (-want +got):\n%s", diff)
	}
	if rec.samples[orders] == 0 || rec.samples[me] == 0 || rec.maxCall > samplesPerFlush {
		t.Errorf("samples %v, at most %d per endpoint and call: got %d", rec.samples, samplesPerFlush, rec.maxCall)
	}
}

// TestEndpointFlood: random paths and hosts do not grow the statistics
// beyond the caps; every exchange is still counted, folded into {other}.
func TestEndpointFlood(t *testing.T) {
	rec := newRecorder()
	p := New(Config{Workers: 2, QueueSize: 64, Mode: Block}, nil, nil, rec, nil)
	wait := run(t, t.Context(), p)
	const n = 30_000
	for i := range n {
		host := "shop.test"
		if i%3 == 0 {
			host = "h" + strconv.Itoa(i) + ".test"
		}
		// "page" + letters: words, not ids, so every path is a new template.
		path := "/page" + strings.Map(func(r rune) rune { return 'a' + (r - '0') }, strconv.Itoa(i))
		if err := p.SubmitWait(t.Context(), exchange(i, "jwt:1", "http://"+host+path, 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range rec.stats {
		total += s.Count
	}
	if total != n {
		t.Errorf("recorded %d exchanges in all, want %d", total, n)
	}
	bound := inventory.DefaultMaxPerHost + inventory.DefaultMaxHosts + 2
	if len(rec.stats) > bound {
		t.Errorf("%d endpoints recorded, want <= %d", len(rec.stats), bound)
	}
	if st := p.Stats(); st.FoldedEndpoints == 0 {
		t.Errorf("FoldedEndpoints = 0, want > 0")
	}
}

func TestLifecycle(t *testing.T) {
	t.Run("submit after close", func(t *testing.T) {
		p := New(Config{Workers: 2}, nil, nil, nil, nil)
		wait := run(t, t.Context(), p)
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		p.Close() // twice is fine
		if p.Submit(exchange(1, "jwt:1", "http://h/", 200)) {
			t.Error("Submit after Close = true")
		}
		if err := p.SubmitWait(t.Context(), exchange(1, "jwt:1", "http://h/", 200)); !errors.Is(err, ErrClosed) {
			t.Errorf("SubmitWait after Close = %v, want ErrClosed", err)
		}
		if err := p.Run(t.Context()); err == nil {
			t.Error("second Run = nil, want an error")
		}
	})
	t.Run("close before run drains", func(t *testing.T) {
		s := &sink{}
		p := New(Config{Workers: 2, Mode: Shed}, []vigil.Analyzer{oneFinding}, []vigil.Sink{s}, nil, nil)
		for i := range 10 {
			if !p.Submit(exchange(i, "jwt:"+strconv.Itoa(i), "http://h/", 200)) {
				t.Fatal("Submit refused")
			}
		}
		p.Close()
		if err := p.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := len(s.findings()); got != 10 {
			t.Errorf("%d findings, want 10", got)
		}
	})
	t.Run("ctx cancel", func(t *testing.T) {
		entered := make(chan struct{}, 1)
		stuck := analyzerFunc(func(ctx context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-ctx.Done()
			return []vigil.Finding{{Detector: "test.late"}}, nil
		})
		s := &sink{}
		ctx, cancel := context.WithCancel(t.Context())
		p := New(Config{Workers: 1, QueueSize: 1, Mode: Block}, []vigil.Analyzer{stuck}, []vigil.Sink{s}, nil, nil)
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		if err := p.SubmitWait(t.Context(), exchange(0, "jwt:1", "http://h/", 200)); err != nil {
			t.Fatal(err)
		}
		<-entered
		if err := p.SubmitWait(t.Context(), exchange(1, "jwt:1", "http://h/", 200)); err != nil { // fills the queue
			t.Fatal(err)
		}
		blocked := make(chan error, 1)
		go func() { blocked <- p.SubmitWait(t.Context(), exchange(2, "jwt:1", "http://h/", 200)) }()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if err := <-blocked; !errors.Is(err, ErrClosed) {
			t.Errorf("blocked SubmitWait = %v, want ErrClosed", err)
		}
		// The finding raised while cancelling is flushed with the short deadline.
		if got := len(s.findings()); got != 1 {
			t.Errorf("%d findings flushed, want 1", got)
		}
		p.Close()
	})
}

// TestUrgentFlush: a finding the policy may act on (medium and above)
// reaches the sinks at once (within a worker's doze), without waiting for
// the flush interval; a low one waits for it.
func TestUrgentFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sink{}
		sev := analyzerFunc(func(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
			f := vigil.Finding{Detector: "test.sev", Title: "seen " + x.ID, Severity: vigil.SeverityLow}
			if x.Actor.Principal == "jwt:attacker" {
				f.Severity = vigil.SeverityHigh
			}
			return []vigil.Finding{f}, nil
		})
		p := New(Config{Workers: 2, Mode: Block}, []vigil.Analyzer{sev}, []vigil.Sink{s}, nil, nil)
		wait := run(t, t.Context(), p)
		if err := p.SubmitWait(t.Context(), exchange(1, "jwt:user", "http://h/a", 200)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := len(s.findings()); got != 0 {
			t.Fatalf("a low finding reached the sink before the flush interval (%d)", got)
		}
		if err := p.SubmitWait(t.Context(), exchange(2, "jwt:attacker", "http://h/a", 200)); err != nil {
			t.Fatal(err)
		}
		// Its worker may be dozing after the first exchange: at most a
		// doze passes, far less than the flush interval.
		time.Sleep(doze)
		synctest.Wait()
		if got := len(s.findings()); got != 2 {
			t.Errorf("%d findings at the sink a doze after a high one, want 2 (it takes the waiting low one along)", got)
		}
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPeriodicFlush checks the timers: findings reach the sinks within the
// flush interval and endpoint stats reach the recorder within two stats
// intervals, without Close.
func TestPeriodicFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, rec := &sink{}, newRecorder()
		p := New(Config{Workers: 2, Mode: Block}, []vigil.Analyzer{oneFinding}, []vigil.Sink{s}, rec, nil)
		wait := run(t, t.Context(), p)
		if err := p.SubmitWait(t.Context(), exchange(1, "jwt:1", "http://h/a", 200)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := len(s.findings()); got != 0 {
			t.Fatalf("%d findings before the flush interval, want 0", got)
		}
		time.Sleep(flushInterval)
		synctest.Wait()
		if got := len(s.findings()); got != 1 {
			t.Errorf("%d findings after the flush interval, want 1", got)
		}
		time.Sleep(2*statsInterval + flushInterval)
		synctest.Wait()
		rec.mu.Lock()
		got := len(rec.stats)
		rec.mu.Unlock()
		if got != 1 {
			t.Errorf("%d endpoints recorded after two stats intervals, want 1", got)
		}
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Shed: "shed", Block: "block", Mode(7): "mode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(m), got, want)
		}
	}
}

func BenchmarkPipeline(b *testing.B) {
	xs := make([]*vigil.Exchange, 256)
	for i := range xs {
		xs[i] = exchange(i, "jwt:"+strconv.Itoa(i), "https://shop.test/api/v2/orders/"+strconv.Itoa(1000+i), 200)
	}
	trivial := analyzerFunc(func(context.Context, *vigil.Exchange) ([]vigil.Finding, error) { return nil, nil })
	for _, tc := range []struct {
		name      string
		analyzers []vigil.Analyzer
	}{
		{"analyzers=0", nil},
		{"analyzers=1", []vigil.Analyzer{trivial}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			p := New(Config{Mode: Block}, tc.analyzers, nil, newRecorder(), nil)
			done := make(chan error, 1)
			go func() { done <- p.Run(context.Background()) }()
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if err := p.SubmitWait(ctx, xs[i%len(xs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			p.Close()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
		})
	}
}

// TestActorHash: sharding hashes exactly the actor's key, so one actor
// always lands on one worker.
func TestActorHash(t *testing.T) {
	p := New(Config{Workers: 4}, nil, nil, nil, nil)
	for _, a := range []vigil.Actor{
		{},
		{Principal: "jwt:17"},
		{Principal: "jwt:17", Addr: "1.2.3.4", Fingerprint: "f"},
		{Addr: "1.2.3.4", Fingerprint: "f"},
		{Fingerprint: "0123456789abcdef"},
		{Principal: strings.Repeat("p", 300)},
	} {
		if got, want := p.actorHash(a), maphash.String(p.seed, a.Key()); got != want {
			t.Errorf("actorHash(%+v) = %x, want the hash of %q: %x", a, got, a.Key(), want)
		}
	}
}

// TestBatcherLinger: a partial batch reaches its worker within the linger,
// without Flush (a slow stream is not held back), and the queue depth
// counts it until then.
func TestBatcherLinger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		analyzed := make(chan string, 10)
		a := analyzerFunc(func(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
			analyzed <- x.ID
			return nil, nil
		})
		p := New(Config{Workers: 2, Mode: Block}, []vigil.Analyzer{a}, nil, nil, nil)
		wait := run(t, t.Context(), p)
		b := p.NewBatcher(time.Second)
		for i := range 3 {
			if err := b.Add(t.Context(), exchange(i, "jwt:a", "http://shop.test/", 200)); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if len(analyzed) != 0 {
			t.Fatalf("%d exchanges analyzed before the linger, want 0 (batched)", len(analyzed))
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if got := len(analyzed); got != 3 {
			t.Fatalf("%d exchanges analyzed after the linger, want 3", got)
		}
		if d := p.Stats().QueueDepth; d != 0 {
			t.Errorf("QueueDepth = %d after analysis, want 0", d)
		}
		if err := b.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBatcherAfterClose: once the pipeline is closed, a full batch cannot be
// handed over; Add says so, and Stats counts nothing it did not take.
func TestBatcherAfterClose(t *testing.T) {
	p := New(Config{Workers: 1, Mode: Block}, nil, nil, nil, nil)
	wait := run(t, t.Context(), p)
	b := p.NewBatcher(time.Hour)
	defer b.Close(t.Context())
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < batchLen(p.cfg) && err == nil; i++ {
		err = b.Add(t.Context(), exchange(i, "jwt:a", "http://shop.test/", 200))
	}
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close: %v, want ErrClosed", err)
	}
	if err := b.Flush(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v, want ErrClosed", err)
	}
	if st := p.Stats(); st.Submitted != 0 || st.QueueDepth != 0 {
		t.Errorf("Stats = %+v, want nothing submitted or queued", st)
	}
	if err := b.Add(t.Context(), nil); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("Add(nil) = %v, want EINVALID", err)
	}
}

// fixedInventory names every endpoint /learned/{id} and counts its calls.
type fixedInventory struct{ n atomic.Int64 }

func (f *fixedInventory) Observe(x *vigil.Exchange) vigil.Endpoint {
	f.n.Add(1)
	return vigil.Endpoint{Host: x.Request.Host(), Method: x.Request.Method, Template: "/learned/{id}"}
}

// TestInventoryNamesEndpoints: with an inventory, every exchange goes
// through it, and findings carry its endpoint unless a detector named a
// different one itself.
func TestInventoryNamesEndpoints(t *testing.T) {
	own := vigil.Endpoint{Host: "elsewhere.test", Method: "POST", Template: "/own"}
	a := analyzerFunc(func(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
		return []vigil.Finding{
			{Detector: "test.empty"},
			{Detector: "test.static", Endpoint: vigil.Endpoint{Host: x.Request.Host(), Method: "GET", Template: inventory.Template(x.Request.Path())}},
			{Detector: "test.own", Endpoint: own},
		}, nil
	})
	s := &sink{}
	inv := &fixedInventory{}
	p := New(Config{Workers: 2, Mode: Block, Inventory: inv}, []vigil.Analyzer{a}, []vigil.Sink{s}, nil, nil)
	wait := run(t, t.Context(), p)
	for i := range 10 {
		if err := p.SubmitWait(t.Context(), exchange(i, "jwt:1", "https://shop.test/api/v2/orders/"+strconv.Itoa(i), 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if inv.n.Load() != 10 {
		t.Errorf("inventory saw %d exchanges, want 10", inv.n.Load())
	}
	learned := vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/learned/{id}"}
	for _, f := range s.findings() {
		want := learned
		if f.Detector == "test.own" {
			want = own
		}
		if f.Endpoint != want {
			t.Errorf("%s: endpoint %v, want %v", f.Detector, f.Endpoint, want)
		}
	}
}

// TestKick: a submit wakes a dozing worker once its queue holds an eighth
// of its slots, not before.
func TestKick(t *testing.T) {
	p := New(Config{Workers: 1, QueueSize: 64, Mode: Shed}, nil, nil, nil, nil)
	w := p.workers[0]
	for i := range w.kickAt - 1 {
		if !p.Submit(exchange(i, "jwt:a", "http://shop.test/", 200)) {
			t.Fatalf("Submit %d refused", i)
		}
	}
	select {
	case <-w.kick:
		t.Fatalf("kicked with %d of %d slots queued", len(w.in), cap(w.in))
	default:
	}
	p.Submit(exchange(w.kickAt, "jwt:a", "http://shop.test/", 200))
	select {
	case <-w.kick:
	default:
		t.Fatalf("not kicked with %d of %d slots queued", len(w.in), cap(w.in))
	}
	p.Close()
}
