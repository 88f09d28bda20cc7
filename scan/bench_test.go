package scan

import (
	"encoding/json"
	"testing"

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
