package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilsec/vigil"
)

// fakeSource is a FindingSource over a slice; it records the filter.
type fakeSource struct {
	findings []vigil.Finding
	err      error
	got      vigil.FindingFilter
}

func (f *fakeSource) Findings(_ context.Context, flt vigil.FindingFilter) ([]vigil.Finding, error) {
	f.got = flt
	return f.findings, f.err
}

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// tl builds a truth line.
func tl(sec float64, campaign, actor, addr, principal string, blocked bool) TruthLine {
	return TruthLine{Time: at(sec), Campaign: campaign, Actor: actor, Addr: addr, Principal: principal,
		Step: "s", Method: "GET", Path: "/x", Template: "/x", Status: 200, Blocked: blocked}
}

func truthOf(t *testing.T, lines ...TruthLine) io.Reader {
	t.Helper()
	var b bytes.Buffer
	tw := newTruthWriter(&b)
	for _, l := range lines {
		if err := tw.write(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.flush(); err != nil {
		t.Fatal(err)
	}
	return &b
}

func finding(sec float64, detector string, area vigil.Area, addr, principal string) vigil.Finding {
	return vigil.Finding{Detector: detector, Area: area, Time: at(sec), Actor: vigil.Actor{Addr: addr, Principal: principal}}
}

// baseTruth: two benign users (user7 among them), a business-logic attacker
// blocked on its third request, and a chained attacker who takes over jwt:7
// at t=20.
func baseTruth() []TruthLine {
	return []TruthLine{
		tl(0, "benign", "web-user1", "100.64.0.1", "jwt:1", false),
		tl(1, "benign", "web-user7", "100.64.0.7", "jwt:7", false),
		tl(10, "business-logic", "bl-enum", "100.64.1.1", "jwt:900", false),
		tl(11, "business-logic", "bl-enum", "100.64.1.1", "jwt:900", false),
		tl(12, "business-logic", "bl-enum", "100.64.1.1", "jwt:900", true),
		tl(13, "business-logic", "bl-enum", "100.64.1.1", "jwt:900", true),
		tl(15, "chained", "chain-recon", "100.64.2.1", "", false),
		tl(20, "chained", "chain-exploit", "100.64.2.2", "jwt:7", false),
		tl(30, "benign", "web-user7", "100.64.0.7", "jwt:7", true),
	}
}

func TestEvaluate(t *testing.T) {
	ms := func(v float64) *float64 { return &v }
	n := func(v int64) *int64 { return &v }
	type want struct {
		headline  string
		campaigns map[string]CampaignScore // compared fields only
		benign    BenignScore
		totals    FindingTotals
	}
	tests := []struct {
		name     string
		findings []vigil.Finding
		want     want
	}{
		{
			name: "no findings",
			want: want{
				headline: "0 of 4 areas detected",
				campaigns: map[string]CampaignScore{
					"business-logic": {Simulated: true, Requests: 4, RequestsUntilBlocked: n(2), BlockedRequests: 2},
					"chained":        {Simulated: true, Requests: 2},
				},
				benign: BenignScore{Requests: 3, Actors: 2, RequestsBlocked: 1, ActorsBlocked: 1},
			},
		},
		{
			name: "finding on a campaign address",
			findings: []vigil.Finding{
				finding(14.5, "behavior.bola", vigil.AreaBusinessLogic, "100.64.1.1", ""),
				finding(16, "behavior.bola", vigil.AreaBusinessLogic, "100.64.1.1", "jwt:900"),
				finding(17, "detect.probe", vigil.AreaShadow, "100.64.2.1", ""),
			},
			want: want{
				headline: "2 of 4 areas detected",
				campaigns: map[string]CampaignScore{
					"business-logic": {Simulated: true, Requests: 4, Detected: true, Findings: 2, FindingsInArea: 2, Detectors: []string{"behavior.bola"},
						TimeToDetectMS: ms(4500), RequestsUntilBlocked: n(2), BlockedRequests: 2},
					"chained": {Simulated: true, Requests: 2, Detected: true, Findings: 1, Detectors: []string{"detect.probe"}, TimeToDetectMS: ms(2000)},
				},
				benign: BenignScore{Requests: 3, Actors: 2, RequestsBlocked: 1, ActorsBlocked: 1},
				totals: FindingTotals{Read: 3, Attributed: 3},
			},
		},
		{
			name: "finding on a benign actor is a false positive",
			findings: []vigil.Finding{
				finding(2, "detect.injection.sqli", vigil.AreaChained, "100.64.0.1", "jwt:1"),
				finding(3, "detect.injection.sqli", vigil.AreaChained, "", "jwt:1"),
				finding(4, "detect.other", vigil.AreaChained, "203.0.113.5", ""),
			},
			want: want{
				headline: "0 of 4 areas detected",
				campaigns: map[string]CampaignScore{
					"business-logic": {Simulated: true, Requests: 4, RequestsUntilBlocked: n(2), BlockedRequests: 2},
					"chained":        {Simulated: true, Requests: 2},
				},
				benign: BenignScore{Requests: 3, Actors: 2, ActorsFlagged: 1, FalsePositives: 2, Detectors: []string{"detect.injection.sqli"}, RequestsBlocked: 1, ActorsBlocked: 1},
				totals: FindingTotals{Read: 3, Benign: 2, Unattributed: 1},
			},
		},
		{
			name: "stolen account: attacker's after the takeover, benign before",
			findings: []vigil.Finding{
				finding(5, "behavior.x", vigil.AreaChained, "", "jwt:7"),            // before the takeover: benign
				finding(25, "behavior.ato", vigil.AreaChained, "", "jwt:7"),         // after: chained
				finding(26, "behavior.x", vigil.AreaChained, "100.64.0.7", "jwt:7"), // the real user's address: benign
			},
			want: want{
				headline: "1 of 4 areas detected",
				campaigns: map[string]CampaignScore{
					"business-logic": {Simulated: true, Requests: 4, RequestsUntilBlocked: n(2), BlockedRequests: 2},
					"chained":        {Simulated: true, Requests: 2, Detected: true, Findings: 1, FindingsInArea: 1, Detectors: []string{"behavior.ato"}, TimeToDetectMS: ms(10000)},
				},
				benign: BenignScore{Requests: 3, Actors: 2, ActorsFlagged: 1, FalsePositives: 2, Detectors: []string{"behavior.x"}, RequestsBlocked: 1, ActorsBlocked: 1},
				totals: FindingTotals{Read: 3, Attributed: 1, Benign: 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{findings: tt.findings}
			sc, err := Evaluate(t.Context(), truthOf(t, baseTruth()...), src)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if sc.Headline != tt.want.headline {
				t.Errorf("headline %q, want %q", sc.Headline, tt.want.headline)
			}
			if len(sc.Campaigns) != 4 {
				t.Fatalf("%d campaigns, want 4", len(sc.Campaigns))
			}
			for _, c := range sc.Campaigns {
				w := tt.want.campaigns[c.Campaign]
				w.Campaign, w.Area = c.Campaign, vigil.Area(c.Campaign)
				got := c
				got.FirstRequest, got.FirstDetection, got.Actors, got.Identities = time.Time{}, time.Time{}, 0, 0
				if got.Detectors == nil || len(got.Detectors) == 0 {
					got.Detectors = nil
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("campaign %s (-want +got):\n%s", c.Campaign, diff)
				}
			}
			gb := sc.Benign
			if len(gb.Detectors) == 0 {
				gb.Detectors = nil
			}
			if diff := cmp.Diff(tt.want.benign, gb); diff != "" {
				t.Errorf("benign (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.totals, sc.Findings); diff != "" {
				t.Errorf("finding totals (-want +got):\n%s", diff)
			}
			if !src.got.Since.Equal(at(-1)) || src.got.Limit != MaxFindings {
				t.Errorf("filter %+v, want Since %v and Limit %d", src.got, at(-1), MaxFindings)
			}
		})
	}
}

func TestEvaluateTextAndJSON(t *testing.T) {
	sc, err := Evaluate(t.Context(), truthOf(t, baseTruth()...), &fakeSource{})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := sc.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0 of 4 areas detected", "business-logic", "not blocked", "not simulated", "Benign load: 3 requests from 2 actors"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"headline", "areas_detected", "areas", "campaigns", "benign", "findings", "truth"} {
		if _, ok := m[key]; !ok {
			t.Errorf("JSON lacks %q: %s", key, b)
		}
	}
	if !strings.Contains(string(b), `"requests_until_blocked":null`) || !strings.Contains(string(b), `"time_to_detect_ms":null`) {
		t.Errorf("JSON should say null for never blocked / never detected: %s", b)
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name  string
		truth string
		src   *fakeSource
		want  string
	}{
		{"bad json", "{\"seq\":1\n", &fakeSource{}, "truth line 1"},
		{"unknown campaign", `{"seq":1,"time":"2026-01-01T00:00:00Z","campaign":"ddos","actor":"a","method":"GET"}`, &fakeSource{}, `truth line 1: unknown campaign "ddos"`},
		{"source fails", "", &fakeSource{err: errors.New("db locked")}, "read findings: db locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Evaluate(t.Context(), strings.NewReader(tt.truth), tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTruthReader(t *testing.T) {
	good := `{"seq":1,"time":"2026-11-28T12:00:00Z","campaign":"benign","actor":"web-user1","addr":"100.64.0.1","principal":"","user_agent":"x","step":"login","method":"POST","path":"/api/v2/auth/login","template":"/api/v2/auth/login","status":200,"blocked":false,"latency_ms":1.5}`
	tests := []struct {
		name    string
		in      string
		lines   int
		wantErr string
	}{
		{"one", good + "\n", 1, ""},
		{"blank lines and CRLF", "\n" + good + "\r\n\n" + good, 2, ""},
		{"empty", "", 0, ""},
		{"garbage on line 3", good + "\n\nnot json\n", 1, "truth line 3"},
		{"two values", good + good, 0, "truth line 1: more than one JSON value"},
		{"missing actor", `{"time":"2026-11-28T12:00:00Z","campaign":"benign","method":"GET"}`, 0, "truth line 1: missing actor"},
		{"missing time", `{"campaign":"benign","actor":"a","method":"GET"}`, 0, "missing time"},
		{"too long", good + "\n" + strings.Repeat("x", MaxTruthLine+10), 1, "truth line 2: longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTruthReader(strings.NewReader(tt.in))
			n := 0
			var err error
			for {
				_, err = tr.Next()
				if err != nil {
					break
				}
				n++
			}
			if n != tt.lines {
				t.Errorf("read %d lines, want %d", n, tt.lines)
			}
			switch {
			case tt.wantErr == "" && !errors.Is(err, io.EOF):
				t.Errorf("error %v, want io.EOF", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
			if tt.wantErr != "" {
				if _, ok := errors.AsType[*LineError](err); !ok {
					t.Errorf("error %T, want *LineError", err)
				}
			}
		})
	}
}

func FuzzTruthReader(f *testing.F) {
	if b, err := os.ReadFile("testdata/truth.jsonl"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"seq":1,"time":"2026-11-28T12:00:00Z","campaign":"benign","actor":"a","method":"GET"}` + "\n"))
	f.Add([]byte("{\"seq\":1\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":-1,"time":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := NewTruthReader(bytes.NewReader(data))
		for range 10000 {
			l, err := tr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					if _, ok := errors.AsType[*LineError](err); !ok {
						t.Fatalf("error %T %v, want *LineError or io.EOF", err, err)
					}
					if !strings.HasPrefix(err.Error(), "truth line ") {
						t.Fatalf("error without a line number: %v", err)
					}
				}
				if _, err2 := tr.Next(); !errors.Is(err2, err) && err2 != err {
					t.Fatalf("Next after error = %v, want the same error %v", err2, err)
				}
				break
			}
			if l.Actor == "" || l.Method == "" || l.Time.IsZero() {
				t.Fatalf("accepted an incomplete line: %+v", l)
			}
		}
		// Evaluate must not panic on anything the reader yields.
		_, _ = Evaluate(context.Background(), bytes.NewReader(data), &fakeSource{})
	})
}

// incidentSource is a FindingSource and an IncidentSource.
type incidentSource struct {
	fakeSource
	incidents []vigil.Incident
}

func (s *incidentSource) Incidents(context.Context) ([]vigil.Incident, error) {
	return s.incidents, nil
}

func TestEvaluateIncidents(t *testing.T) {
	step := func(l TruthLine, s string) TruthLine { l.Step = s; return l }
	truth := []TruthLine{
		tl(0, "benign", "web-user1", "100.64.0.1", "jwt:1", false),
		step(tl(10, "business-logic", "bl-enum", "100.64.1.1", "jwt:900", false), "enumerate.orders"),
		step(tl(11, "business-logic", "bl-enum", "100.64.1.1", "jwt:900", false), "enumerate.orders"),
		step(tl(12, "business-logic", "bl-enum", "100.64.1.1", "jwt:900", true), "enumerate.orders"),
		step(tl(13, "business-logic", "bl-enum", "100.64.1.1", "jwt:900", true), "cart.add"),
		step(tl(15, "chained", "chain-recon", "100.64.2.1", "", false), "recon"),
		step(tl(20, "chained", "chain-exploit", "100.64.2.2", "jwt:7", false), "ssrf"),
		step(tl(21, "chained", "chain-exploit", "100.64.2.2", "jwt:7", true), "register"),
	}
	inc := func(id string, sec float64, stages []vigil.Stage, areas []vigil.Area, actors ...vigil.Actor) vigil.Incident {
		return vigil.Incident{ID: id, Actors: actors, Stages: stages, Areas: areas, Score: float64(10 * len(stages)), FirstSeen: at(sec), LastSeen: at(sec + 1)}
	}
	bl := inc("i1", 10.5, []vigil.Stage{vigil.StageExploitation}, []vigil.Area{vigil.AreaBusinessLogic}, vigil.Actor{Addr: "100.64.1.1", Principal: "jwt:900"})
	recon := inc("i2", 15.5, []vigil.Stage{vigil.StageRecon}, []vigil.Area{vigil.AreaShadow}, vigil.Actor{Addr: "100.64.2.1"})
	exploit := inc("i3", 20.5, []vigil.Stage{vigil.StageExploitation}, []vigil.Area{vigil.AreaChained}, vigil.Actor{Addr: "100.64.2.2", Principal: "jwt:7"})
	merged := inc("i4", 20.6, nil, nil, vigil.Actor{Addr: "100.64.2.2"})
	merged.MergedInto = "i3"
	ms := func(v float64) *float64 { return &v }
	tests := []struct {
		name      string
		incidents []vigil.Incident
		bl, ch    CampaignIncidents
		benign    int
		totals    IncidentTotals
	}{
		{
			name:      "each attacker in one incident",
			incidents: []vigil.Incident{bl, recon, exploit, merged},
			bl: CampaignIncidents{Incidents: 1, Attackers: 1, InOne: 1, Areas: []vigil.Area{vigil.AreaBusinessLogic},
				Stages: []vigil.Stage{vigil.StageExploitation}, MaxScore: 10, FirstIncident: at(10.5), TimeToIncidentMS: ms(500)},
			ch: CampaignIncidents{Incidents: 2, Attackers: 2, InOne: 2, Areas: []vigil.Area{vigil.AreaChained, vigil.AreaShadow},
				Stages: []vigil.Stage{vigil.StageRecon, vigil.StageExploitation}, MaxScore: 10, FirstIncident: at(15.5), TimeToIncidentMS: ms(500)},
			totals: IncidentTotals{Read: 3, Merged: 1, Attack: 3},
		},
		{
			name: "split attacker, shared and benign incidents",
			incidents: []vigil.Incident{bl, inc("i5", 12, nil, nil, vigil.Actor{Addr: "100.64.1.1"}, vigil.Actor{Addr: "100.64.0.1"}),
				inc("i6", 30, nil, nil, vigil.Actor{Addr: "100.64.0.1", Principal: "jwt:1"}), inc("i7", 30, nil, nil, vigil.Actor{Addr: "192.0.2.1"})},
			bl: CampaignIncidents{Incidents: 2, Shared: 1, Attackers: 1, InMany: 1, Areas: []vigil.Area{vigil.AreaBusinessLogic},
				Stages: []vigil.Stage{vigil.StageExploitation}, MaxScore: 10, FirstIncident: at(10.5), TimeToIncidentMS: ms(500)},
			ch:     CampaignIncidents{Areas: []vigil.Area{}, Stages: []vigil.Stage{}},
			benign: 2,
			totals: IncidentTotals{Read: 4, Attack: 2, Benign: 2, Unattributed: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Evaluate(t.Context(), truthOf(t, truth...), &incidentSource{incidents: tt.incidents})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.totals, sc.Incidents); diff != "" {
				t.Errorf("totals (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&tt.bl, sc.Campaigns[0].Incidents); diff != "" {
				t.Errorf("business-logic (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&tt.ch, sc.Campaigns[1].Incidents); diff != "" {
				t.Errorf("chained (-want +got):\n%s", diff)
			}
			if sc.Benign.Incidents != tt.benign {
				t.Errorf("benign incidents %d, want %d", sc.Benign.Incidents, tt.benign)
			}
			var text bytes.Buffer
			if err := sc.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "ATTACKERS IN ONE") || !strings.Contains(text.String(), "incidents on benign actors") {
				t.Errorf("text lacks the incident table:\n%s", text.String())
			}
		})
	}
}

func TestEvaluateStoppedBeforeExploitation(t *testing.T) {
	step := func(sec float64, actor, s string, blocked bool) TruthLine {
		l := tl(sec, "business-logic", actor, "100.64.1."+actor[len(actor)-1:], "", blocked)
		l.Step = s
		return l
	}
	tests := []struct {
		name      string
		truth     []TruthLine
		attackers int
		stopped   int
		all       bool
		requests  int64
		blocked   int64
	}{
		{"blocked mid-exploitation", []TruthLine{step(1, "a1", "coupon.crack", false), step(2, "a1", "enumerate.orders", false), step(3, "a1", "enumerate.orders", true)}, 1, 1, true, 2, 1},
		{"blocked after the exploitation ended", []TruthLine{step(1, "a1", "enumerate.orders", false), step(2, "a1", "cart.add", true)}, 1, 0, false, 1, 0},
		{"blocked before exploiting", []TruthLine{step(1, "a1", "coupon.crack", true), step(2, "a1", "coupon.use", true)}, 1, 1, true, 1, 1},
		{"blocked before reaching exploitation at all", []TruthLine{step(1, "a1", "probe", false), step(2, "a1", "probe", true)}, 1, 1, true, 0, 0},
		{"recon only, never blocked", []TruthLine{step(1, "a1", "probe", false)}, 1, 0, false, 0, 0},
		{"setup steps only", []TruthLine{step(1, "a1", "register", true)}, 0, 0, false, 0, 0},
		{"never blocked", []TruthLine{step(1, "a1", "enumerate.orders", false)}, 1, 0, false, 1, 0},
		{"one of two stopped", []TruthLine{step(1, "a1", "enumerate.orders", true), step(2, "a2", "enumerate.orders", false)}, 2, 1, false, 2, 1},
		{"one of two stopped before exploiting", []TruthLine{step(1, "a1", "coupon.crack", true), step(2, "a2", "coupon.crack", false)}, 2, 1, false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Evaluate(t.Context(), truthOf(t, tt.truth...), &fakeSource{})
			if err != nil {
				t.Fatal(err)
			}
			c := sc.Campaigns[0]
			if c.Attackers != tt.attackers || c.Stopped != tt.stopped || c.StoppedBeforeExploitation != tt.all || c.ExploitRequests != tt.requests || c.ExploitBlocked != tt.blocked {
				t.Errorf("attackers %d stopped %d all %v requests %d blocked %d; want %d %d %v %d %d",
					c.Attackers, c.Stopped, c.StoppedBeforeExploitation, c.ExploitRequests, c.ExploitBlocked,
					tt.attackers, tt.stopped, tt.all, tt.requests, tt.blocked)
			}
			// The blocking table shows when anything was blocked; a run
			// that blocked nothing (monitor mode) says so instead.
			var text bytes.Buffer
			if err := sc.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			anyBlocked := slices.ContainsFunc(tt.truth, func(l TruthLine) bool { return l.Blocked })
			if got := strings.Contains(text.String(), "STOPPED BEFORE EXPLOITATION"); got != anyBlocked {
				t.Errorf("blocking table shown %v, want %v:\n%s", got, anyBlocked, text.String())
			}
			if got := strings.Contains(text.String(), "no request was blocked"); got == anyBlocked {
				t.Errorf("monitor-mode line shown %v, want %v", got, !anyBlocked)
			}
		})
	}
}
