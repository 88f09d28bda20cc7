package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
)

// BenchmarkProxy compares a GET through a default httputil.ReverseProxy with
// one through Proxy (capture on, a discarding Submitter), same upstream.
func BenchmarkProxy(b *testing.B) {
	const payload = `{"id":1001,"status":"shipped","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":129.95,"currency":"EUR","customer":{"id":17,"tier":"gold"}}`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, payload)
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)

	plainTr := &http.Transport{MaxIdleConnsPerHost: 256}
	plain := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() }, Transport: plainTr}
	defer plainTr.CloseIdleConnections()
	vigilProxy, err := New(Config{Upstream: up.URL}, discard{}, nil, NewTable(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer vigilProxy.CloseIdleConnections()

	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"plain", plain}, {"vigil", vigilProxy}} {
		for _, method := range []string{"GET", "POST"} {
			b.Run(bc.name+"/"+method, func(b *testing.B) {
				front := httptest.NewServer(bc.h)
				defer front.Close()
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr}
				body := strings.Repeat("x", 1024)
				b.ReportAllocs()
				for b.Loop() {
					var rd io.Reader
					if method == "POST" {
						rd = strings.NewReader(body)
					}
					req, _ := http.NewRequest(method, front.URL+"/api/v2/orders/1001", rd)
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
	}
}

type discard struct{}

func (discard) Submit(*vigil.Exchange) bool { return true }
