package behavior

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory"
)

// benignMix is a benign shopper's traffic: browsing, a cart, a paid
// checkout, orders, a gift-card balance.
func benignMix(n int) []*vigil.Exchange {
	reqs := []req{
		get("/api/v2/products?limit=20&offset=40", 200),
		get("/api/v2/products/17", 200),
		get("/api/v2/products/search?q=chair", 200),
		post("/api/v2/cart/items", `{"product_id":17,"quantity":1}`, 201),
		get("/api/v2/cart", 200),
		post("/api/v2/coupons/validate", `{"code":"WELCOME10"}`, 200),
		quote, paid, confirm,
		get("/api/v2/orders", 200),
		get("/api/v2/orders/1004", 200),
		get("/api/v2/giftcards/GC-0042/balance", 200),
	}
	xs := make([]*vigil.Exchange, n)
	for i := range xs {
		a := vigil.Actor{Principal: fmt.Sprintf("jwt:%d", i%256), Addr: "10.0.0.1"}
		xs[i] = exchange(a, t0.Add(time.Duration(i)*time.Millisecond), reqs[i%len(reqs)])
		for k, v := range chrome.headers {
			xs[i].Request.Header.Set(k, v)
		}
		xs[i].Request.Header.Set("User-Agent", chrome.ua)
		if xs[i].Response != nil && len(xs[i].Response.Body) == 0 {
			xs[i].Response.Body = []byte(`{"id":17,"name":"Oak chair","in_stock":false,"price":120.5}`)
		}
	}
	return xs
}

func BenchmarkAnalyze(b *testing.B) {
	xs := benignMix(1200) // 12 exchanges × 100, 256 actors
	for _, tc := range []struct {
		name string
		an   func() vigil.Analyzer
	}{
		// The baseline, timed in the same run: templating the path, the
		// least every detector here does with an exchange.
		{"baseline-template", func() vigil.Analyzer { return templateOnly{} }},
		{"cracking", func() vigil.Analyzer { return NewCracking(Config{}) }},
		{"flows", func() vigil.Analyzer { return NewFlows(Config{}) }},
		{"tampering", func() vigil.Analyzer { return NewTampering(Config{}) }},
		{"bola", func() vigil.Analyzer { return NewBOLA(Config{}) }},
		{"credentials", func() vigil.Analyzer { return NewCredentials(Config{}) }},
		{"automation", func() vigil.Analyzer { return NewAutomation(Config{}) }},
		{"adaptive-probing", func() vigil.Analyzer { return NewAdaptiveProbing(Config{}) }},
		{"prompt-injection", func() vigil.Analyzer { return NewPromptInjection(Config{}) }},
		{"baseline", func() vigil.Analyzer { return NewBaseline(Config{}) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			an := tc.an()
			ctx := context.Background()
			for i, x := range xs { // warm: actors and endpoints exist
				x.Time = t0.Add(time.Duration(i) * time.Millisecond)
				an.Analyze(ctx, x)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				x := xs[i%len(xs)]
				x.Time = t0.Add(time.Duration(len(xs)+i) * time.Millisecond)
				an.Analyze(ctx, x)
			}
		})
	}
}

// templateOnly is the benchmarks' baseline analyzer: it templates the path
// and raises nothing.
type templateOnly struct{}

var templateSink string

func (templateOnly) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	templateSink = inventory.Template(x.Request.Path())
	return nil, nil
}
