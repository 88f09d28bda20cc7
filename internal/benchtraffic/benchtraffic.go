// Package benchtraffic is the traffic of `vigil bench proxy` as exchanges,
// for the benchmarks that measure what the analysis behind the proxy costs
// per exchange (cmd/vigil's BenchmarkProxyAnalysis, and BenchmarkTraffic in
// detect and behavior): one client address, GET / answered by the 200-byte
// JSON document bench/proxybench's upstream serves, and POST / with a 1 KB
// JSON document (a 1000-byte "note") echoed back.
package benchtraffic

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/bench/proxybench"
)

// GETBody and POSTBody are what the bench's upstream answers to GET and
// what wrk POSTs (and gets back).
var (
	GETBody  = proxybench.GetBody
	POSTBody = []byte(proxybench.PostBody)
)

// Exchange is one exchange of the bench's traffic as the proxy builds it
// (method GET or POST): wrk's request headers (Host; Content-Type and
// Content-Length for POST), the upstream's answer headers, and the actor
// the default resolver makes of the client.
func Exchange(method string) vigil.Exchange {
	u, _ := url.Parse("http://127.0.0.1:9501/")
	req := http.Header{"Host": {"127.0.0.1:9501"}}
	var reqBody []byte
	respBody := GETBody
	if method == http.MethodPost {
		reqBody, respBody = POSTBody, POSTBody
		req.Set("Content-Type", "application/json")
		req.Set("Content-Length", strconv.Itoa(len(reqBody)))
	}
	resp := http.Header{}
	resp.Set("Content-Type", "application/json")
	resp.Set("Content-Length", strconv.Itoa(len(respBody)))
	resp.Set("Date", "Sun, 29 Nov 2026 10:00:00 GMT")
	return vigil.Exchange{
		Sensor:   vigil.SensorProxy,
		Client:   vigil.Client{Addr: "127.0.0.1:40312"},
		Actor:    vigil.Actor{Addr: "127.0.0.1"},
		Request:  vigil.Request{Method: method, URL: u, Proto: "HTTP/1.1", Header: req, Body: reqBody, BodySize: int64(len(reqBody))},
		Response: &vigil.Response{Status: 200, Proto: "HTTP/1.1", Header: resp, Body: respBody, BodySize: int64(len(respBody))},
		Duration: 300 * time.Microsecond,
	}
}

// Loop runs the analyzers as on one exchange of method per iteration of b,
// each a fresh copy of Exchange's 50 µs after the last, its path template
// set as the pipeline sets it; it reports allocations.
func Loop(b *testing.B, method string, as []vigil.Analyzer) {
	ctx := context.Background()
	tmpl := Exchange(method)
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		x := tmpl
		u := *tmpl.Request.URL
		x.Request.URL = &u
		resp := *tmpl.Response
		x.Response = &resp
		x.Time = t0.Add(time.Duration(i) * 50 * time.Microsecond)
		x.SetPathTemplate("/", "/")
		i++
		for _, a := range as {
			if _, err := a.Analyze(ctx, &x); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Baseline is a benchmark's same-run baseline per method: json.Valid of the
// method's response body. Time it with Run before the measured
// sub-benchmarks, which then call Report.
type Baseline map[string]float64

// Run times json.Valid on the response body of method's exchange (GETBody
// or POSTBody) and keeps it as method's baseline.
func (bl Baseline) Run(b *testing.B, method string) {
	body := GETBody
	if method == http.MethodPost {
		body = POSTBody
	}
	b.ReportAllocs()
	for b.Loop() {
		if !json.Valid(body) {
			b.Fatal("invalid JSON")
		}
	}
	bl[method] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// Report reports b's ns/op as a multiple of method's baseline (x-baseline),
// when the baseline ran in this run.
func (bl Baseline) Report(b *testing.B, method string) {
	if base := bl[method]; base > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-baseline")
	}
}

// Case is one sub-benchmark of Suite. Set one of Analyzers and Op.
type Case struct {
	Name string
	// Analyzers makes (for each method, afresh) the analyzers that run on
	// each op's fresh exchange, as Loop runs them.
	Analyzers func(b *testing.B) []vigil.Analyzer
	// Op returns the work of one op on x, the method's exchange.
	Op func(x *vigil.Exchange) func()
}

// Suite runs, for GET and then POST, the method's same-run baseline
// (Baseline.Run, sub-benchmark "METHOD/baseline") and then each case
// ("METHOD/NAME"), each reported as a multiple of the baseline
// (x-baseline). When filtering with -bench, select the baseline too: without
// it no ratio is reported.
func Suite(b *testing.B, cases []Case) {
	bl := Baseline{}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		b.Run(method+"/baseline", func(b *testing.B) { bl.Run(b, method) })
		for _, c := range cases {
			b.Run(method+"/"+c.Name, func(b *testing.B) {
				if c.Analyzers != nil {
					Loop(b, method, c.Analyzers(b))
				} else {
					x := Exchange(method)
					op := c.Op(&x)
					b.ReportAllocs()
					for b.Loop() {
						op()
					}
				}
				bl.Report(b, method)
			})
		}
	}
}
