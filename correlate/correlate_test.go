package correlate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// memStore is an IncidentWriter, ActionLister and Sink in memory.
type memStore struct {
	mu        sync.Mutex
	incidents map[string]vigil.Incident
	actions   []vigil.Action
	findings  []vigil.Finding
	failPut   int // PutIncident calls left to fail
	puts      int
}

func newMem() *memStore { return &memStore{incidents: map[string]vigil.Incident{}} }

func (m *memStore) PutIncident(_ context.Context, inc vigil.Incident) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	if m.failPut > 0 {
		m.failPut--
		return errors.New("disk full")
	}
	m.incidents[inc.ID] = inc
	return nil
}

func (m *memStore) Actions(_ context.Context, t time.Time) ([]vigil.Action, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []vigil.Action
	for _, a := range m.actions {
		if a.Active(t) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *memStore) WriteFindings(_ context.Context, fs []vigil.Finding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.findings = append(m.findings, fs...)
	return nil
}

// live returns the stored incidents that were not merged into another.
func (m *memStore) live() []vigil.Incident {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []vigil.Incident
	for _, inc := range m.incidents {
		if inc.MergedInto == "" {
			out = append(out, inc)
		}
	}
	slices.SortFunc(out, func(a, b vigil.Incident) int { return a.FirstSeen.Compare(b.FirstSeen) })
	return out
}

// fb builds findings tersely.
type fb struct {
	det       string
	sev       vigil.Severity
	addr, fp  string
	principal string
	at        time.Duration
	area      vigil.Area
}

var seq atomic.Int64

func (b fb) finding() vigil.Finding {
	n := seq.Add(1)
	area := b.area
	if area == "" {
		area = vigil.AreaChained
	}
	return vigil.Finding{
		ID: fmt.Sprintf("f%d", n), Detector: b.det, Severity: b.sev, Area: area, Time: t0.Add(b.at),
		Actor:    vigil.Actor{Principal: b.principal, Addr: b.addr, Fingerprint: b.fp},
		Endpoint: vigil.Endpoint{Host: "shop", Method: "GET", Template: "/x"},
	}
}

const (
	med  = vigil.SeverityMedium
	high = vigil.SeverityHigh
	low  = vigil.SeverityLow
)

// incidentView is what the table tests compare.
type incidentView struct {
	Addrs      []string
	Principals []string
	Stages     []vigil.Stage
	Findings   int
}

func view(inc vigil.Incident) incidentView {
	v := incidentView{Stages: inc.Stages, Findings: inc.Findings}
	for _, a := range inc.Actors {
		if a.Addr != "" && !slices.Contains(v.Addrs, a.Addr) {
			v.Addrs = append(v.Addrs, a.Addr)
		}
		if a.Principal != "" && !slices.Contains(v.Principals, a.Principal) {
			v.Principals = append(v.Principals, a.Principal)
		}
	}
	slices.Sort(v.Addrs)
	slices.Sort(v.Principals)
	return v
}

func run(t *testing.T, cfg Config, stream []fb) (*memStore, *Correlator) {
	t.Helper()
	m := newMem()
	c := New(cfg, m, WithSinks(m))
	for _, b := range stream {
		if err := c.WriteFindings(context.Background(), []vigil.Finding{b.finding()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, c
}

var (
	recon = vigil.StageRecon
	cred  = vigil.StageCredentialAccess
	expl  = vigil.StageExploitation
	exfil = vigil.StageExfiltration
)

func TestCorrelate(t *testing.T) {
	const browser = "fp-chrome"
	tests := []struct {
		name   string
		stream []fb
		want   []incidentView
	}{
		{"rotating addresses with one fingerprint make one incident", []fb{
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1", fp: "fp-bot"},
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.2", fp: "fp-bot", at: time.Second},
			{det: "detect.injection.xss", sev: high, addr: "203.0.113.77", fp: "fp-bot", at: 2 * time.Second},
			{det: "detect.ssrf", sev: high, addr: "192.0.2.9", fp: "fp-bot", at: 3 * time.Second},
		}, []incidentView{
			{Addrs: []string{"192.0.2.9", "198.51.100.1", "198.51.100.2", "203.0.113.77"}, Stages: []vigil.Stage{expl}, Findings: 4},
		}},
		{"two principals sharing a browser fingerprint are not merged", []fb{
			{det: "behavior.bola", sev: high, addr: "198.51.100.1", fp: browser, principal: "jwt:alice"},
			{det: "behavior.flow-skip", sev: high, addr: "198.51.100.2", fp: browser, principal: "jwt:bob", at: time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Principals: []string{"jwt:alice"}, Stages: []vigil.Stage{expl}, Findings: 1},
			{Addrs: []string{"198.51.100.2"}, Principals: []string{"jwt:bob"}, Stages: []vigil.Stage{expl}, Findings: 1},
		}},
		{"a benign user sharing the attacker's browser fingerprint does not join", []fb{
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1", fp: browser},
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.2", fp: browser, at: time.Second},
			{det: "recon.spec-hunting", sev: low, addr: "198.51.100.3", fp: browser, at: time.Second},
			{det: "detect.misconfig.verbose", sev: high, addr: "198.51.100.4", fp: browser, principal: "jwt:carol", at: time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Stages: []vigil.Stage{expl}, Findings: 1},
		}},
		{"a principal never joins an anonymous fingerprint cluster", []fb{
			{det: "recon.wordlist", sev: med, addr: "100.65.0.1", fp: "fp-python"},
			{det: "behavior.bola", sev: high, addr: "100.69.0.1", fp: "fp-python", principal: "jwt:10001", at: time.Second},
		}, []incidentView{
			{Addrs: []string{"100.65.0.1"}, Stages: []vigil.Stage{recon}, Findings: 1},
			{Addrs: []string{"100.69.0.1"}, Principals: []string{"jwt:10001"}, Stages: []vigil.Stage{expl}, Findings: 1},
		}},
		{"an exposure-only actor raises no incident", []fb{
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1", fp: browser},
			{det: "detect.exposure.sensitive", sev: vigil.SeverityCritical, addr: "198.51.100.1", fp: browser, at: time.Second},
			{det: "detect.misconfig.verbose", sev: high, addr: "198.51.100.1", fp: browser, at: 2 * time.Second},
		}, nil},
		{"low-severity attack findings alone raise no incident", []fb{
			{det: "recon.spec-hunting", sev: low, addr: "198.51.100.1"},
			{det: "detect.injection.sqli", sev: low, addr: "198.51.100.1", at: time.Second},
		}, nil},
		{"earlier low findings and later exposure join the attacker's incident", []fb{
			{det: "recon.spec-hunting", sev: low, addr: "198.51.100.1"},
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1", at: time.Second},
			{det: "behavior.credential-stuffing", sev: high, addr: "198.51.100.1", at: 2 * time.Second},
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1", at: 3 * time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Stages: []vigil.Stage{recon, cred, exfil}, Findings: 4},
		}},
		{"an anonymous attacker who logs in stays one incident", []fb{
			{det: "recon.wordlist", sev: med, addr: "198.51.100.1", fp: "fp-ffuf"},
			{det: "behavior.bola", sev: high, addr: "198.51.100.1", fp: "fp-ffuf", principal: "jwt:mallory", at: time.Second},
			{det: "behavior.bola", sev: high, addr: "198.51.100.9", fp: "fp-ffuf", principal: "jwt:mallory", at: 2 * time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1", "198.51.100.9"}, Principals: []string{"jwt:mallory"}, Stages: []vigil.Stage{recon, expl}, Findings: 3},
		}},
		{"an anonymous incident is merged into its principal's when they meet", []fb{
			{det: "behavior.bola", sev: high, addr: "198.51.100.9", principal: "jwt:mallory"},
			{det: "recon.wordlist", sev: med, addr: "198.51.100.1", at: time.Second},
			{det: "behavior.bola", sev: high, addr: "198.51.100.1", principal: "jwt:mallory", at: 2 * time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1", "198.51.100.9"}, Principals: []string{"jwt:mallory"}, Stages: []vigil.Stage{recon, expl}, Findings: 3},
		}},
		{"two principals behind one address (NAT) stay apart", []fb{
			{det: "behavior.bola", sev: high, addr: "198.51.100.1", principal: "jwt:alice"},
			{det: "behavior.cracking", sev: high, addr: "198.51.100.1", principal: "jwt:bob", at: time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Principals: []string{"jwt:alice"}, Stages: []vigil.Stage{expl}, Findings: 1},
			{Addrs: []string{"198.51.100.1"}, Principals: []string{"jwt:bob"}, Stages: []vigil.Stage{cred}, Findings: 1},
		}},
		{"a forged JWT's claimed subject is not a principal of the incident", []fb{
			{det: "detect.auth.jwt", sev: high, addr: "198.51.100.1", principal: "jwt:admin"},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Stages: []vigil.Stage{cred}, Findings: 1},
		}},
		{"a forged token and the stolen account from one address stay one incident", []fb{
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1", principal: "jwt:7"},
			{det: "detect.auth.jwt", sev: high, addr: "198.51.100.1", principal: "jwt:7", at: time.Second},
			{det: "detect.ssrf", sev: high, addr: "198.51.100.1", principal: "jwt:7", at: 2 * time.Second},
			{det: "detect.mass-assignment", sev: high, addr: "198.51.100.1", principal: "jwt:7", at: 3 * time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Principals: []string{"jwt:7"}, Stages: []vigil.Stage{cred, expl, exfil}, Findings: 4},
		}},
		{"the victim's own use of a taken-over account does not join the attacker's incident", []fb{
			{det: "behavior.credential-stuffing", sev: high, addr: "198.51.100.1"},
			{det: "detect.ssrf", sev: high, addr: "198.51.100.1", principal: "jwt:7", at: time.Second},
			{det: "detect.exposure.sensitive", sev: high, addr: "203.0.113.7", principal: "jwt:7", at: 2 * time.Second},
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1", principal: "jwt:7", at: 3 * time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Principals: []string{"jwt:7"}, Stages: []vigil.Stage{cred, expl, exfil}, Findings: 3},
		}},
		{"another principal's waiting findings are not folded in", []fb{
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1", principal: "jwt:bob"},
			{det: "behavior.bola", sev: high, addr: "198.51.100.1", principal: "jwt:alice", at: time.Second},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Principals: []string{"jwt:alice"}, Stages: []vigil.Stage{expl}, Findings: 1},
		}},
		{"an idle actor's next finding opens a new incident", []fb{
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1"},
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1", at: 31 * time.Minute},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Stages: []vigil.Stage{expl}, Findings: 1},
			{Addrs: []string{"198.51.100.1"}, Stages: []vigil.Stage{expl}, Findings: 1},
		}},
		{"unknown detectors go by their category", []fb{
			{det: "detect.something-new", sev: high, addr: "198.51.100.1"},
		}, []incidentView{
			{Addrs: []string{"198.51.100.1"}, Stages: []vigil.Stage{recon}, Findings: 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := run(t, Config{}, tc.stream)
			var got []incidentView
			for _, inc := range m.live() {
				got = append(got, view(inc))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("incidents (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStageFindings(t *testing.T) {
	tests := []struct {
		name   string
		stream []fb
		want   []vigil.Severity // of the incident.stage findings, in order
	}{
		{"exploitation after recon is critical", []fb{
			{det: "recon.wordlist", sev: med, addr: "198.51.100.1"},
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1", at: time.Second},
		}, []vigil.Severity{med, vigil.SeverityCritical}},
		{"exploitation after credential access is critical", []fb{
			{det: "behavior.cracking", sev: high, addr: "198.51.100.1", principal: "jwt:9"},
			{det: "behavior.cracking-succeeded", sev: vigil.SeverityCritical, addr: "198.51.100.1", principal: "jwt:9", at: time.Second},
		}, []vigil.Severity{med, vigil.SeverityCritical}},
		{"exploitation alone is not", []fb{
			{det: "behavior.bola", sev: high, addr: "198.51.100.1", principal: "jwt:9"},
			{det: "behavior.bola", sev: high, addr: "198.51.100.1", principal: "jwt:9", at: time.Second},
		}, []vigil.Severity{med}},
		{"recon then credential access is not", []fb{
			{det: "recon.spec-hunting", sev: low, addr: "198.51.100.1"},
			{det: "behavior.credential-stuffing", sev: high, addr: "198.51.100.1", at: time.Second},
		}, []vigil.Severity{med, med}},
		{"data leaving after exploitation is critical", []fb{
			{det: "behavior.bola", sev: high, addr: "198.51.100.1", principal: "jwt:9"},
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1", principal: "jwt:9", at: time.Second},
		}, []vigil.Severity{med, vigil.SeverityCritical}},
		{"every address of a critical cluster gets the verdict, earlier ones too", []fb{
			{det: "recon.probe", sev: med, addr: "198.51.100.1", fp: "fp-bot"},
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.2", fp: "fp-bot", at: time.Second},     // critical for .2 and .1
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.3", fp: "fp-bot", at: 2 * time.Second}, // critical for .3
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.3", fp: "fp-bot", at: 3 * time.Second}, // nothing new
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.3", fp: "fp-bot", at: 4 * time.Second},
		}, []vigil.Severity{med, vigil.SeverityCritical, vigil.SeverityCritical, vigil.SeverityCritical, med}},
		{"the chain counts whatever order the findings arrive in", []fb{
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1"},
			{det: "recon.wordlist", sev: med, addr: "198.51.100.1", at: -time.Second},
		}, []vigil.Severity{med, vigil.SeverityCritical}},
		{"two exploitation techniques are a chain", []fb{
			{det: "behavior.tampering", sev: med, addr: "198.51.100.1", principal: "jwt:9"},
			{det: "detect.mass-assignment", sev: high, addr: "198.51.100.1", principal: "jwt:9", at: time.Second},
		}, []vigil.Severity{med, vigil.SeverityCritical}},
		{"one account from several addresses: the account too", []fb{
			{det: "recon.wordlist", sev: med, addr: "198.51.100.1", principal: "jwt:9"},
			{det: "detect.injection.sqli", sev: high, addr: "198.51.100.2", principal: "jwt:9", at: time.Second},
		}, []vigil.Severity{med, vigil.SeverityCritical, vigil.SeverityCritical, vigil.SeverityCritical}},
		{"no incident, no stage finding", []fb{
			{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1"},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, c := run(t, Config{}, tc.stream)
			var got []vigil.Severity
			for _, f := range m.findings {
				if f.Detector != DetectorStage {
					t.Errorf("sink got a %s finding", f.Detector)
				}
				got = append(got, f.Severity)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stage finding severities (-want +got):\n%s", diff)
			}
			if n := c.Stats().StageFindings; n != int64(len(tc.want)) {
				t.Errorf("Stats.StageFindings = %d, want %d", n, len(tc.want))
			}
		})
	}
}

func TestScoreRises(t *testing.T) {
	m := newMem()
	c := New(Config{}, m)
	steps := []fb{
		{det: "recon.wordlist", sev: med, addr: "198.51.100.1", area: vigil.AreaShadow},
		{det: "behavior.credential-stuffing", sev: high, addr: "198.51.100.1", at: time.Second},
		{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1", at: 2 * time.Second},
		{det: "detect.exposure.sensitive", sev: high, addr: "198.51.100.1", at: 3 * time.Second},
	}
	last := -1.0
	for i, s := range steps {
		if err := c.WriteFindings(context.Background(), []vigil.Finding{s.finding()}); err != nil {
			t.Fatal(err)
		}
		snap := c.Snapshot()
		if len(snap) != 1 {
			t.Fatalf("step %d: %d incidents, want 1", i, len(snap))
		}
		if snap[0].Score <= last {
			t.Errorf("step %d (%s): score %v, want above %v", i, s.det, snap[0].Score, last)
		}
		last = snap[0].Score
	}
	inc := c.Snapshot()[0]
	if inc.Stage != exfil || inc.Severity != vigil.SeverityCritical || !slices.Equal(inc.Areas, []vigil.Area{vigil.AreaChained, vigil.AreaShadow}) {
		t.Errorf("got stage %s, severity %s, areas %v", inc.Stage, inc.Severity, inc.Areas)
	}
	if last > 100 {
		t.Errorf("score %v over 100", last)
	}
}

func TestBounds(t *testing.T) {
	t.Run("timeline keeps the first and last findings", func(t *testing.T) {
		var stream []fb
		for i := range 100 {
			stream = append(stream, fb{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1", at: time.Duration(i) * time.Second})
		}
		m, _ := run(t, Config{MaxTimeline: 10}, stream)
		incs := m.live()
		if len(incs) != 1 {
			t.Fatalf("%d incidents, want 1", len(incs))
		}
		inc := incs[0]
		if len(inc.Timeline) != 10 || inc.TimelineDropped != 90 || inc.Findings != 100 {
			t.Fatalf("timeline %d entries, %d dropped, %d findings; want 10, 90, 100", len(inc.Timeline), inc.TimelineDropped, inc.Findings)
		}
		if !inc.Timeline[0].Time.Equal(t0) || !inc.Timeline[9].Time.Equal(t0.Add(99*time.Second)) || !inc.Timeline[4].Time.Equal(t0.Add(4*time.Second)) {
			t.Errorf("timeline times %v .. %v, want the first five and the last five", inc.Timeline[0].Time, inc.Timeline[9].Time)
		}
		if len(inc.FindingIDs) > maxIDs {
			t.Errorf("%d finding ids, cap %d", len(inc.FindingIDs), maxIDs)
		}
	})
	t.Run("open incidents are capped, least recently active closed first", func(t *testing.T) {
		var stream []fb
		for i := range 50 {
			stream = append(stream, fb{det: "detect.injection.sqli", sev: high, addr: fmt.Sprintf("198.51.100.%d", i), at: time.Duration(i) * time.Millisecond})
		}
		m, c := run(t, Config{MaxOpen: 8}, stream)
		st := c.Stats()
		if st.Open != 8 || st.Evicted != 42 || st.Opened != 50 {
			t.Errorf("stats %+v: want 8 open, 42 evicted, 50 opened", st)
		}
		closed := 0
		for _, inc := range m.live() {
			if inc.Closed {
				closed++
			}
		}
		if len(m.live()) != 50 || closed != 42 {
			t.Errorf("stored %d incidents, %d closed; want 50, 42", len(m.live()), closed)
		}
		if len(c.keys) > 8*maxKeys {
			t.Errorf("%d keys indexed for 8 open incidents", len(c.keys))
		}
	})
	t.Run("waiting findings are capped", func(t *testing.T) {
		var stream []fb
		for i := range 300 {
			stream = append(stream, fb{det: "detect.exposure.sensitive", sev: high, addr: fmt.Sprintf("198.51.%d.%d", i/250, i%250)})
		}
		_, c := run(t, Config{MaxWaiting: 100}, stream)
		if n := c.waiting.Len(); n != 100 {
			t.Errorf("%d keys waiting, want the cap 100", n)
		}
	})
	t.Run("a rotating cluster past the key cap stays one incident", func(t *testing.T) {
		var stream []fb
		for i := range maxKeys + 50 {
			stream = append(stream, fb{det: "detect.injection.sqli", sev: high, addr: fmt.Sprintf("10.%d.%d.1", i/200, i%200), fp: "fp-bot", at: time.Duration(i) * time.Millisecond})
		}
		m, c := run(t, Config{}, stream)
		if n := len(m.live()); n != 1 {
			t.Errorf("%d incidents, want 1", n)
		}
		if len(c.keys) > maxKeys {
			t.Errorf("%d keys indexed, cap %d", len(c.keys), maxKeys)
		}
		if inc := m.live()[0]; len(inc.Actors) != maxActors || inc.Findings != maxKeys+50 {
			t.Errorf("%d actors, %d findings; want %d, %d", len(inc.Actors), inc.Findings, maxActors, maxKeys+50)
		}
	})
}

func TestDuplicateFindingsCountOnce(t *testing.T) {
	m := newMem()
	c := New(Config{}, m)
	f := fb{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1"}.finding()
	for range 3 { // the pipeline retries a batch a sink failed
		if err := c.WriteFindings(context.Background(), []vigil.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	if inc := c.Snapshot()[0]; inc.Findings != 1 {
		t.Errorf("%d findings, want 1", inc.Findings)
	}
}

func TestStoreFailureIsRetried(t *testing.T) {
	m := newMem()
	m.failPut = 1
	c := New(Config{}, m)
	err := c.WriteFindings(context.Background(), []vigil.Finding{fb{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1"}.finding()})
	if err == nil {
		t.Fatal("want the store's error")
	}
	if len(m.live()) != 0 {
		t.Fatal("stored although the store failed")
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(m.live()) != 1 || c.Stats().StoreErrors != 1 {
		t.Errorf("after the retry: %d incidents stored, %d store errors; want 1, 1", len(m.live()), c.Stats().StoreErrors)
	}
}

func TestActionsAttached(t *testing.T) {
	m := newMem()
	c := New(Config{}, m, WithSinks(m))
	m.actions = []vigil.Action{
		{ID: "a1", Kind: vigil.ActionBlock, Key: "addr:198.51.100.1", Created: t0, Until: t0.Add(time.Hour)},
		{ID: "a2", Kind: vigil.ActionBlock, Key: "addr:198.51.100.200", Created: t0, Until: t0.Add(time.Hour)},  // someone else
		{ID: "a3", Kind: vigil.ActionBlock, Key: "addr:198.51.100.1", Created: t0, Until: t0.Add(-time.Minute)}, // expired
	}
	if err := c.WriteFindings(context.Background(), []vigil.Finding{fb{det: "detect.injection.sqli", sev: high, addr: "198.51.100.1"}.finding()}); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	incs := m.live()
	if len(incs) != 1 || !slices.Equal(incs[0].ActionIDs, []string{"a1"}) {
		t.Errorf("got %+v, want one incident with action a1", incs)
	}
}

func TestConcurrent(t *testing.T) {
	m := newMem()
	c := New(Config{MaxOpen: 16}, m, WithSinks(m))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				f := fb{det: "detect.injection.sqli", sev: high, addr: fmt.Sprintf("10.0.%d.%d", g, i%20), fp: "fp", at: time.Duration(i) * time.Millisecond}.finding()
				if err := c.WriteFindings(context.Background(), []vigil.Finding{f}); err != nil {
					t.Error(err)
				}
				_ = c.Snapshot()
			}
		})
	}
	wg.Wait()
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Joined; got != 800 {
		t.Errorf("%d findings joined, want 800", got)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		det  string
		cat  vigil.Category
		want vigil.Stage
		role Role
	}{
		{"recon.probe", "", recon, Opens},
		{"behavior.credential-stuffing", "", cred, Opens},
		{"behavior.cracking", "", cred, Opens},
		{"behavior.cracking-succeeded", "", expl, Opens},
		{"detect.auth.jwt", "", cred, Opens},
		{"detect.injection.sqli", "", expl, Opens},
		{"detect.authz.bfla", "", expl, Opens},
		{"detect.mass-assignment", "", expl, Opens},
		{"detect.exposure.sensitive", "", exfil, Joins},
		{"detect.misconfig.verbose", "", recon, Joins},
		{"detect.exposure.bulk", vigil.API3PropertyAuth, exfil, Joins},
		{"detect.auth.unauthenticated", vigil.API2BrokenAuth, cred, Opens},
		{"behavior.anomaly", "", recon, Joins},
		{"detect.crs", vigil.API8Misconfiguration, recon, Joins},
		{"detect.crs", vigil.API1BOLA, expl, Opens},
		{"detect.unheard-of", "", recon, Opens},
		{"reconnaissance", "", recon, Opens}, // not under "recon.": by category, none
	}
	for _, tc := range tests {
		f := vigil.Finding{Detector: tc.det, Category: tc.cat}
		if s, r := Classify(&f); s != tc.want || r != tc.role {
			t.Errorf("Classify(%s, %q) = %s, %d; want %s, %d", tc.det, tc.cat, s, r, tc.want, tc.role)
		}
	}
}

// TestStageFindingActors checks whom the stage findings point the policy at:
// addresses without their (claimed) principal, and the account alone once it
// was used from several addresses.
func TestStageFindingActors(t *testing.T) {
	m, _ := run(t, Config{}, []fb{
		{det: "recon.wordlist", sev: med, addr: "198.51.100.1", fp: "fp", principal: "jwt:9"},
		{det: "detect.injection.sqli", sev: high, addr: "198.51.100.2", fp: "fp", principal: "jwt:9", at: time.Second},
	})
	var got []vigil.Actor
	for _, f := range m.findings {
		if f.Severity == vigil.SeverityCritical {
			got = append(got, f.Actor)
		}
	}
	want := []vigil.Actor{
		{Addr: "198.51.100.2", Fingerprint: "fp"},
		{Addr: "198.51.100.1", Fingerprint: "fp"},
		{Principal: "jwt:9"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("actors of the critical stage findings (-want +got):\n%s", diff)
	}
}
