package scan

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/simulate/shop"
)

var benchSink []byte

// BenchmarkGenerate times building and encoding a valid request for every
// operation of the shop's spec. The baseline, timed in the same run,
// encodes a fixed body of the same size with encoding/json: the least a
// request builder does. Compare generate/op with baseline-encode/op.
func BenchmarkGenerate(b *testing.B) {
	api, err := ParseAPI("shop", shop.Spec())
	if err != nil {
		b.Fatal(err)
	}
	g := &generator{api: api, pool: newPool()}
	fixed := make([]map[string]any, len(api.Ops))
	for i, op := range api.Ops {
		var m map[string]any
		_ = json.Unmarshal(g.build(op, "alice").request().Body, &m)
		fixed[i] = m
	}
	b.Run("baseline-encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, m := range fixed {
				benchSink, _ = json.Marshal(m)
			}
		}
	})
	b.Run("generate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, op := range api.Ops {
				benchSink = g.build(op, "alice").request().Body
			}
		}
	})
}

// BenchmarkFlatten times flattening a response into field paths (the
// exposure test) against decoding the same body with encoding/json.
func BenchmarkFlatten(b *testing.B) {
	body := []byte(`{"id":1,"email":"user1@shop.test","name":"Dev","role":"customer","password_hash":"sha256$x$y",` +
		`"card":{"number":"4111111111111111","expiry":"12/30","cvv":"123"},"orders":[{"id":1001,"items":[{"id":1,"price":9.5}]},{"id":1002}]}`)
	b.Run("baseline-decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v any
			_ = json.Unmarshal(body, &v)
		}
	})
	b.Run("flatten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(flatten(body)) == 0 {
				b.Fatal("nothing flattened")
			}
		}
	})
}

// BenchmarkPlanReplays times grouping MaxDetected findings into replays
// against the shop's spec (matching each endpoint to an operation, mapping
// each evidence location to a parameter). The baseline, timed in the same
// run, decodes the same findings from JSON: what reading them from the
// store costs at least. Compare plan/op with baseline-decode/op.
func BenchmarkPlanReplays(b *testing.B) {
	api, err := ParseAPI("shop", shop.Spec())
	if err != nil {
		b.Fatal(err)
	}
	all, err := BuiltinTemplates()
	if err != nil {
		b.Fatal(err)
	}
	kinds := []struct{ det, method, path, where, why string }{
		{"detect.injection.sqli", "GET", "/api/v2/products/search", "query.q", "SQL injection"},
		{"detect.ssrf", "POST", "/api/v2/imports", "body.url", "loopback address"},
		{"detect.mass-assignment", "POST", "/api/v2/cart/items", "body.price", "privilege-like property not in the spec"},
		{"behavior.bola", "GET", "/api/v2/orders/{id}", "object.id", "owned by another principal"},
		{"detect.misconfig.headers", "GET", "/api/v2/cart", "response.header.Cache-Control", "without no-store"},
		{"detect.injection.sqli", "GET", "/api/v1/search", "query.term", "SQL injection"},
	}
	fs := make([]vigil.Finding, MaxDetected)
	for i := range fs {
		k := kinds[i%len(kinds)]
		fs[i] = vigil.Finding{ID: fmt.Sprintf("f%d", i), Detector: k.det, Title: "t",
			Endpoint: vigil.Endpoint{Method: k.method, Template: k.path}, Evidence: []vigil.Evidence{{Where: k.where, Why: k.why}}}
	}
	raw := make([][]byte, len(fs))
	for i := range fs {
		raw[i], _ = json.Marshal(fs[i])
	}
	b.Run("baseline-decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, x := range raw {
				var f vigil.Finding
				_ = json.Unmarshal(x, &f)
			}
		}
	})
	b.Run("plan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := &runner{cfg: Config{API: api, Templates: all, Findings: fs}}
			if r.replayUses, err = resolveReplays(all, nil); err != nil {
				b.Fatal(err)
			}
			r.planReplays()
			if len(r.replays) == 0 {
				b.Fatal("nothing planned")
			}
		}
	})
}
