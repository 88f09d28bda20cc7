// Package storetest is the contract every vigil.Store passes. A store's
// tests call Run with a function that opens a new, empty store.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigilsec/vigil"
)

// SamplesPerEndpoint is the sample cap the store under test must be opened
// with.
const SamplesPerEndpoint = 3

// Secrets that must never come back from a store.
const (
	bearerHeader = "Bearer abc.def.ghi"
	bearerToken  = "abc.def.ghi"
	card         = "4242 4242 4242 4242"
	cardDigits   = "4242424242424242"
	password     = "hunter2-s3cret"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// Run runs the contract against stores made by open. Each subtest opens its
// own empty store, configured with SamplesPerEndpoint, and closes it.
func Run(t *testing.T, open func(t *testing.T) vigil.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s vigil.Store)
	}{
		{"FindingsRoundTrip", findingsRoundTrip},
		{"FindingsFilter", findingsFilter},
		{"FindingsReplaceByID", findingsReplaceByID},
		{"FindingsRedacted", findingsRedacted},
		{"Endpoints", endpoints},
		{"Samples", samples},
		{"SampleCap", sampleCap},
		{"SamplesRedacted", samplesRedacted},
		{"Incidents", incidents},
		{"Actions", actions},
		{"DeleteActionNotFound", deleteActionNotFound},
		{"Empty", empty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func finding(id, detector string, sev vigil.Severity, at time.Time, actor vigil.Actor) vigil.Finding {
	return vigil.Finding{
		ID: id, Detector: detector, Category: vigil.API1BOLA, Area: vigil.AreaChained, Severity: sev,
		Confidence: 0.8, Time: at, ExchangeID: "x-" + id, Actor: actor,
		Endpoint: vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/orders/{id}"},
		Title:    "title " + id,
		Evidence: []vigil.Evidence{{Where: "path.id", Value: "42", Why: "another user's order"}},
	}
}

func ids(fs []vigil.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func findingsRoundTrip(t *testing.T, s vigil.Store) {
	want := []vigil.Finding{
		finding("a", "detect.one", vigil.SeverityHigh, t0, vigil.Actor{Principal: "jwt:7", Addr: "203.0.113.9", Fingerprint: "fp1"}),
		finding("b", "detect.two", vigil.SeverityLow, t0.Add(time.Second), vigil.Actor{Addr: "198.51.100.4"}),
	}
	want[1].Evidence = nil
	must(t, s.WriteFindings(ctx(t), want))
	got, err := s.Findings(ctx(t), vigil.FindingFilter{})
	must(t, err)
	slices.Reverse(want) // newest first
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Findings (-want +got):\n%s", diff)
	}
}

func findingsFilter(t *testing.T, s vigil.Store) {
	alice := vigil.Actor{Principal: "jwt:alice", Addr: "203.0.113.1", Fingerprint: "fpA"}
	bob := vigil.Actor{Principal: "jwt:bob", Addr: "203.0.113.1"} // shares alice's address
	var batch []vigil.Finding
	for i := range 10 {
		a, det, sev := alice, "detect.sqli", vigil.SeverityHigh
		if i%2 == 1 {
			a, det, sev = bob, "detect.bola", vigil.SeverityMedium
		}
		if i == 9 {
			sev = vigil.SeverityCritical
		}
		batch = append(batch, finding(fmt.Sprintf("f%d", i), det, sev, t0.Add(time.Duration(i)*time.Minute), a))
	}
	// Written out of time order, in two batches.
	must(t, s.WriteFindings(ctx(t), batch[5:]))
	must(t, s.WriteFindings(ctx(t), batch[:5]))
	tests := []struct {
		name string
		f    vigil.FindingFilter
		want []string
	}{
		{"all newest first", vigil.FindingFilter{}, []string{"f9", "f8", "f7", "f6", "f5", "f4", "f3", "f2", "f1", "f0"}},
		{"limit", vigil.FindingFilter{Limit: 3}, []string{"f9", "f8", "f7"}},
		{"since", vigil.FindingFilter{Since: t0.Add(7 * time.Minute)}, []string{"f9", "f8", "f7"}},
		{"detector", vigil.FindingFilter{Detector: "detect.bola"}, []string{"f9", "f7", "f5", "f3", "f1"}},
		{"principal key", vigil.FindingFilter{ActorKey: "principal:jwt:alice"}, []string{"f8", "f6", "f4", "f2", "f0"}},
		{"fingerprint key", vigil.FindingFilter{ActorKey: "fingerprint:fpA", Limit: 2}, []string{"f8", "f6"}},
		{"shared address key", vigil.FindingFilter{ActorKey: "addr:203.0.113.1", Since: t0.Add(6 * time.Minute)}, []string{"f9", "f8", "f7", "f6"}},
		{"unknown key", vigil.FindingFilter{ActorKey: "addr:192.0.2.1"}, []string{}},
		{"min severity", vigil.FindingFilter{MinSeverity: vigil.SeverityHigh}, []string{"f9", "f8", "f6", "f4", "f2", "f0"}},
		{"critical only", vigil.FindingFilter{MinSeverity: vigil.SeverityCritical}, []string{"f9"}},
		{"combined", vigil.FindingFilter{ActorKey: "principal:jwt:bob", Detector: "detect.bola", MinSeverity: vigil.SeverityMedium, Since: t0.Add(4 * time.Minute), Limit: 2}, []string{"f9", "f7"}},
		{"no match", vigil.FindingFilter{Detector: "detect.none"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Findings(ctx(t), tt.f)
			must(t, err)
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("Findings(%+v) ids (-want +got):\n%s", tt.f, diff)
			}
		})
	}
}

func findingsReplaceByID(t *testing.T, s vigil.Store) {
	f := finding("same", "detect.one", vigil.SeverityLow, t0, vigil.Actor{Addr: "203.0.113.5"})
	must(t, s.WriteFindings(ctx(t), []vigil.Finding{f}))
	f.Title, f.Actor = "second write", vigil.Actor{Addr: "203.0.113.6"}
	must(t, s.WriteFindings(ctx(t), []vigil.Finding{f}))
	got, err := s.Findings(ctx(t), vigil.FindingFilter{})
	must(t, err)
	if len(got) != 1 || got[0].Title != "second write" {
		t.Fatalf("after two writes of one id: %+v", got)
	}
	if old, _ := s.Findings(ctx(t), vigil.FindingFilter{ActorKey: "addr:203.0.113.5"}); len(old) != 0 {
		t.Errorf("the replaced finding's old actor key still finds it: %v", ids(old))
	}
	// A finding without an id gets one.
	must(t, s.WriteFindings(ctx(t), []vigil.Finding{finding("", "detect.one", vigil.SeverityLow, t0, vigil.Actor{})}))
	got, err = s.Findings(ctx(t), vigil.FindingFilter{})
	must(t, err)
	if len(got) != 2 || got[0].ID == "" || got[1].ID == "" {
		t.Errorf("a finding without an id: %+v", got)
	}
}

// leaked lists the secrets that appear in v's JSON form.
func leaked(t *testing.T, v any) []string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range []string{bearerToken, card, cardDigits, password} {
		if strings.Contains(string(b), s) {
			out = append(out, s)
		}
	}
	return out
}

func findingsRedacted(t *testing.T, s vigil.Store) {
	f := finding("secret", "detect.leak", vigil.SeverityHigh, t0, vigil.Actor{Addr: "203.0.113.9"})
	f.Title = "card " + card + " seen"
	f.Evidence = []vigil.Evidence{
		{Where: "header.Authorization", Value: bearerHeader, Why: "token"},
		{Where: "body.text", Value: "Authorization: " + bearerHeader, Why: "echoed"},
		{Where: "body.card", Value: card, Why: "card number"},
		{Where: "body.user.password", Value: password, Why: "password"},
	}
	orig := f.Evidence[0].Value
	must(t, s.WriteFindings(ctx(t), []vigil.Finding{f}))
	if f.Evidence[0].Value != orig {
		t.Error("WriteFindings changed the caller's finding")
	}
	got, err := s.Findings(ctx(t), vigil.FindingFilter{})
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("got %d findings", len(got))
	}
	if l := leaked(t, got[0]); len(l) > 0 {
		t.Errorf("secrets %q came back from the store: %+v", l, got[0])
	}
	if !strings.Contains(got[0].Title, "4242") || got[0].Evidence[0].Why != "token" {
		t.Errorf("redaction lost more than the secrets: %+v", got[0])
	}
}

func endpoints(t *testing.T, s vigil.Store) {
	e1 := vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/orders/{id}"}
	e2 := vigil.Endpoint{Host: "shop.test", Method: "POST", Template: "/cart"}
	must(t, s.UpsertEndpoints(ctx(t), []vigil.EndpointStats{
		{Endpoint: e1, FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(2 * time.Minute), Count: 3,
			Statuses: map[int]int64{200: 2, 404: 1}, Auth: map[string]int64{"bearer": 3}},
		{Endpoint: e2, FirstSeen: t0, LastSeen: t0, Count: 1, Statuses: map[int]int64{201: 1}},
	}))
	must(t, s.UpsertEndpoints(ctx(t), []vigil.EndpointStats{
		{Endpoint: e1, FirstSeen: t0, LastSeen: t0.Add(90 * time.Second), Count: 2,
			Statuses: map[int]int64{200: 1, 500: 1}, Auth: map[string]int64{"none": 2}},
	}))
	got, err := s.Endpoints(ctx(t))
	must(t, err)
	want := []vigil.EndpointStats{
		{Endpoint: e1, FirstSeen: t0, LastSeen: t0.Add(2 * time.Minute), Count: 5,
			Statuses: map[int]int64{200: 3, 404: 1, 500: 1}, Auth: map[string]int64{"bearer": 3, "none": 2}},
		{Endpoint: e2, FirstSeen: t0, LastSeen: t0, Count: 1, Statuses: map[int]int64{201: 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Endpoints (-want +got):\n%s", diff)
	}
}

func exchange(t *testing.T, id string, at time.Time) *vigil.Exchange {
	u, err := url.Parse("https://shop.test/orders/7?page=2")
	if err != nil {
		t.Fatal(err)
	}
	return &vigil.Exchange{
		ID: id, Time: at, Sensor: vigil.SensorProxy,
		Client: vigil.Client{Addr: "203.0.113.9:40000", TLS: &vigil.TLS{Version: "1.3", ServerName: "shop.test"}},
		Request: vigil.Request{Method: "GET", URL: u, Proto: "HTTP/1.1",
			Header: http.Header{"Accept": {"application/json"}}, Body: []byte{}, BodySize: 0},
		Response: &vigil.Response{Status: 200, Proto: "HTTP/1.1", Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"id":7,"total":12.5}`), BodySize: 21},
		Duration: 1500 * time.Microsecond,
		Actor:    vigil.Actor{Principal: "jwt:7", Addr: "203.0.113.9"},
	}
}

var orders = vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/orders/{id}"}

func samples(t *testing.T, s vigil.Store) {
	x1, x2 := exchange(t, "x1", t0), exchange(t, "x2", t0.Add(time.Second))
	other := vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/users/{id}"}
	must(t, s.AddSamples(ctx(t), []vigil.Sample{{Endpoint: orders, Exchange: x1}, {Endpoint: orders, Exchange: x2},
		{Endpoint: other, Exchange: exchange(t, "u1", t0)}}))
	got, err := s.Samples(ctx(t), orders, 0)
	must(t, err)
	want := []vigil.Exchange{*x2, *x1}
	// The pipeline's memo of the path template (unexported) is no part of
	// what a store keeps.
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(vigil.Exchange{})); diff != "" {
		t.Errorf("Samples (-want +got):\n%s", diff)
	}
	got, err = s.Samples(ctx(t), orders, 1)
	must(t, err)
	if len(got) != 1 || got[0].ID != "x2" {
		t.Errorf("Samples limit 1: %d samples, want x2", len(got))
	}
	got, err = s.Samples(ctx(t), vigil.Endpoint{Host: "shop.test", Method: "DELETE", Template: "/orders/{id}"}, 0)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("Samples of an endpoint with none: %d", len(got))
	}
}

func sampleCap(t *testing.T, s vigil.Store) {
	// One batch over the cap, then one more sample.
	var batch []vigil.Sample
	for i := range SamplesPerEndpoint + 2 {
		batch = append(batch, vigil.Sample{Endpoint: orders, Exchange: exchange(t, fmt.Sprintf("x%d", i), t0.Add(time.Duration(i)*time.Second))})
	}
	must(t, s.AddSamples(ctx(t), batch))
	must(t, s.AddSamples(ctx(t), []vigil.Sample{{Endpoint: orders, Exchange: exchange(t, "last", t0.Add(time.Hour))}}))
	got, err := s.Samples(ctx(t), orders, 0)
	must(t, err)
	var gotIDs []string
	for _, x := range got {
		gotIDs = append(gotIDs, x.ID)
	}
	want := []string{"last", fmt.Sprintf("x%d", SamplesPerEndpoint+1), fmt.Sprintf("x%d", SamplesPerEndpoint)}
	if diff := cmp.Diff(want, gotIDs); diff != "" {
		t.Errorf("after %d samples with a cap of %d (-want +got):\n%s", SamplesPerEndpoint+3, SamplesPerEndpoint, diff)
	}
}

func samplesRedacted(t *testing.T, s vigil.Store) {
	x := exchange(t, "secret", t0)
	x.Request.Method = "POST"
	x.Request.Header = http.Header{"Authorization": {bearerHeader}, "Cookie": {"sid=" + password}, "Content-Type": {"application/json"}}
	x.Request.Body = []byte(`{"user":"bob","password":"` + password + `","card":"` + card + `"}`)
	x.Response.Body = []byte(`{"note":"Authorization: ` + bearerHeader + `","pan":` + cardDigits + `}`)
	ep := vigil.Endpoint{Host: "shop.test", Method: "POST", Template: "/login"}
	before, _ := json.Marshal(x)
	must(t, s.AddSamples(ctx(t), []vigil.Sample{{Endpoint: ep, Exchange: x}}))
	if after, _ := json.Marshal(x); string(after) != string(before) {
		t.Error("AddSamples changed the caller's exchange")
	}
	got, err := s.Samples(ctx(t), ep, 0)
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("got %d samples", len(got))
	}
	if l := leaked(t, got[0]); len(l) > 0 {
		t.Errorf("secrets %q came back from the store: %s", l, mustJSON(got[0]))
	}
	if got[0].Request.Header.Get("Authorization") == "" || !strings.Contains(string(got[0].Request.Body), `"user":"bob"`) {
		t.Errorf("redaction lost more than the secrets: %s", mustJSON(got[0]))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func incidents(t *testing.T, s vigil.Store) {
	a := vigil.Incident{ID: "i1", ActorKey: "addr:203.0.113.9", Actors: []vigil.Actor{{Addr: "203.0.113.9"}},
		Title: "recon then BOLA", Stage: vigil.StageExploitation, Areas: []vigil.Area{vigil.AreaChained}, Score: 7.5,
		Severity: vigil.SeverityHigh, FirstSeen: t0, LastSeen: t0.Add(time.Minute), FindingIDs: []string{"f1", "f2"},
		Stages: []vigil.Stage{vigil.StageRecon, vigil.StageExploitation}, Detectors: []string{"behavior.bola", "recon.wordlist"},
		Findings: 7, TimelineDropped: 5, Closed: true,
		Timeline: []vigil.TimelineEntry{
			{Time: t0.In(time.FixedZone("x", 3600)), Detector: "recon.wordlist", Stage: vigil.StageRecon, Severity: vigil.SeverityMedium,
				Endpoint: vigil.Endpoint{Host: "shop", Method: "GET", Template: "/.env"}, FindingID: "f1", Actor: "addr:203.0.113.9"},
			{Time: t0.Add(time.Minute), Detector: "behavior.bola", Stage: vigil.StageExploitation, Severity: vigil.SeverityHigh, FindingID: "f2"},
		}}
	b := vigil.Incident{ID: "i2", ActorKey: "principal:jwt:7", Title: "card " + card, FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	must(t, s.PutIncident(ctx(t), a))
	must(t, s.PutIncident(ctx(t), b))
	a.Stage, a.ActionIDs = vigil.StageExfiltration, []string{"act1"}
	must(t, s.PutIncident(ctx(t), a)) // replaces
	got, err := s.Incidents(ctx(t))
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("got %d incidents, want 2", len(got))
	}
	if diff := cmp.Diff(a, got[1], cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
		t.Errorf("incident i1 (-want +got):\n%s", diff)
	}
	b.MergedInto = "i1"
	must(t, s.PutIncident(ctx(t), b))
	if got, err := s.Incidents(ctx(t)); err != nil || len(got) != 2 || got[0].MergedInto != "i1" {
		t.Errorf("a merged incident is kept with merged_into: %v %+v", err, got)
	}
	if got[0].ID != "i2" || strings.Contains(got[0].Title, card) {
		t.Errorf("incident i2 first and redacted: %+v", got[0])
	}
	if err := s.PutIncident(ctx(t), vigil.Incident{}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("PutIncident without id: %v, want %s", err, vigil.EINVALID)
	}
}

func actions(t *testing.T, s vigil.Store) {
	acts := []vigil.Action{
		{ID: "expired", Kind: vigil.ActionBlock, Key: "addr:203.0.113.1", Created: t0, Until: t0.Add(time.Minute), Reason: "r"},
		{ID: "active", Kind: vigil.ActionRateLimit, Key: "principal:jwt:7", Created: t0, Until: t0.Add(time.Hour), Reason: "scraping", Rate: 2},
		{ID: "future", Kind: vigil.ActionTarpit, Key: "fingerprint:fp", Created: t0.Add(2 * time.Hour), Until: t0.Add(3 * time.Hour), Reason: "r", Delay: time.Second},
		{ID: "secret", Kind: vigil.ActionMonitor, Key: "addr:203.0.113.2", Created: t0, Until: t0.Add(30 * time.Minute), Reason: "sent " + bearerHeader},
	}
	for _, a := range acts {
		must(t, s.PutAction(ctx(t), a))
	}
	actIDs := func(as []vigil.Action) []string {
		out := []string{}
		for _, a := range as {
			out = append(out, a.ID)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		at   time.Time
		want []string
	}{
		{time.Time{}, []string{"active", "expired", "future", "secret"}},
		{t0.Add(10 * time.Second), []string{"active", "expired", "secret"}},
		{t0.Add(time.Minute), []string{"active", "secret"}}, // Until is exclusive, as in Action.Active
		{t0.Add(2*time.Hour + time.Second), []string{"future"}},
		{t0.Add(5 * time.Hour), []string{}},
	}
	for _, tt := range tests {
		got, err := s.Actions(ctx(t), tt.at)
		must(t, err)
		if diff := cmp.Diff(tt.want, actIDs(got)); diff != "" {
			t.Errorf("Actions(%v) (-want +got):\n%s", tt.at, diff)
		}
		for _, a := range got {
			if !tt.at.IsZero() && !a.Active(tt.at) {
				t.Errorf("Actions(%v) returned %s, which is not Active then", tt.at, a.ID)
			}
		}
	}
	all, err := s.Actions(ctx(t), time.Time{})
	must(t, err)
	for _, a := range all {
		switch a.ID {
		case "active":
			if diff := cmp.Diff(acts[1], a); diff != "" {
				t.Errorf("action round trip (-want +got):\n%s", diff)
			}
		case "secret":
			if l := leaked(t, a); len(l) > 0 {
				t.Errorf("action reason kept %q: %q", l, a.Reason)
			}
		}
	}
	must(t, s.DeleteAction(ctx(t), "active"))
	got, err := s.Actions(ctx(t), t0.Add(10*time.Second))
	must(t, err)
	if diff := cmp.Diff([]string{"expired", "secret"}, actIDs(got)); diff != "" {
		t.Errorf("after DeleteAction (-want +got):\n%s", diff)
	}
	if err := s.PutAction(ctx(t), vigil.Action{Key: "addr:1"}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("PutAction without id: %v, want %s", err, vigil.EINVALID)
	}
}

func deleteActionNotFound(t *testing.T, s vigil.Store) {
	err := s.DeleteAction(ctx(t), "nope")
	if vigil.ErrorCode(err) != vigil.ENOTFOUND {
		t.Errorf("DeleteAction(nope) = %v, want code %s", err, vigil.ENOTFOUND)
	}
	must(t, s.PutAction(ctx(t), vigil.Action{ID: "a", Kind: vigil.ActionBlock, Key: "addr:1", Until: t0}))
	must(t, s.DeleteAction(ctx(t), "a"))
	if err := s.DeleteAction(ctx(t), "a"); vigil.ErrorCode(err) != vigil.ENOTFOUND {
		t.Errorf("second DeleteAction(a) = %v, want code %s", err, vigil.ENOTFOUND)
	}
}

// empty: reads of an empty store return empty lists, and empty writes are
// no-ops.
func empty(t *testing.T, s vigil.Store) {
	must(t, s.WriteFindings(ctx(t), nil))
	must(t, s.UpsertEndpoints(ctx(t), nil))
	must(t, s.AddSamples(ctx(t), nil))
	fs, err := s.Findings(ctx(t), vigil.FindingFilter{})
	must(t, err)
	eps, err := s.Endpoints(ctx(t))
	must(t, err)
	incs, err := s.Incidents(ctx(t))
	must(t, err)
	acts, err := s.Actions(ctx(t), time.Time{})
	must(t, err)
	if len(fs)+len(eps)+len(incs)+len(acts) != 0 {
		t.Errorf("an empty store returned %d findings, %d endpoints, %d incidents, %d actions", len(fs), len(eps), len(incs), len(acts))
	}
}
