package behavior

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

// trafficExchange is one exchange of `vigil bench proxy`'s traffic, as
// cmd/vigil's BenchmarkProxyAnalysis builds it: GET / answered by 200 B of
// JSON, or POST / with 1 KB of JSON (a 1000-byte "note") echoed back.
func trafficExchange(method string) vigil.Exchange {
	getBody := []byte(`{"id":42,"name":"Trail running shoes","category":"sport","price":129.95,"currency":"EUR","stock":17,"rating":4.6,"tags":["running","trail","waterproof"],"updated":"2026-01-01T12:00:00Z"}`)
	var post bytes.Buffer
	post.WriteString(`{"product_id":42,"quantity":1,"note":"`)
	for post.Len() < 1024-2 {
		post.WriteByte('x')
	}
	post.WriteString(`"}`)
	u, _ := url.Parse("http://127.0.0.1:9501/")
	req := http.Header{"Host": {"127.0.0.1:9501"}}
	var reqBody []byte
	respBody := getBody
	if method == http.MethodPost {
		reqBody, respBody = post.Bytes(), post.Bytes()
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

// BenchmarkTraffic runs every behavioural detector (All) on the traffic of
// `vigil bench proxy`; one op is one exchange through all of them, then
// each detector alone.
//
//	go test -run '^$' -bench Traffic -benchmem ./behavior/
func BenchmarkTraffic(b *testing.B) {
	ctx := context.Background()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		tmpl := trafficExchange(method)
		run := func(b *testing.B, as []vigil.Analyzer) {
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
		b.Run(method+"/all", func(b *testing.B) { run(b, All(Config{})) })
		for i := range All(Config{}) {
			as := All(Config{})
			b.Run(method+"/"+fmt.Sprintf("%T", as[i])[len("*behavior."):], func(b *testing.B) {
				run(b, as[i:i+1])
			})
		}
	}
}
