package schema

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

var validCases = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `01`, `-`, `1.`, `1.5e`, `1.5e+3`, `1E-2`, `.5`, `+1`, `true`, `tru`,
	`false`, `null`, `nul`, `{"a":1}`, `{"a":1,}`, `{"a" : [1, 2 ,3 ] }`, `[1,]`, `[,1]`, `{,}`, `{"a"}`,
	`{"a":}`, `{1:2}`, `"\u00e9"`, `"\u00g9"`, `"\x"`, `"\/\b\f\n\r\t\"\\"`, "\"a\tb\"", "\"\xff\xfe\"",
	` {"a":[{"b":[]}]} `, `{"a":1}}`, `[1]]`, `[[1]`, `{"a":1 "b":2}`, `[1 2]`, "\ufeff{}", `"abc`, `1 2`,
	`[` + strings.Repeat(`[`, maxNesting-1) + strings.Repeat(`]`, maxNesting),
	`[` + strings.Repeat(`[`, maxNesting) + strings.Repeat(`]`, maxNesting+1),
	strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300),
	strings.Repeat(`{"a":[`, 150) + `1` + strings.Repeat(`]}`, 150),
}

// TestValidJSON: validJSON says what json.Valid says.
func TestValidJSON(t *testing.T) {
	for _, c := range append(validCases, string(shopDoc)) {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid: %v", c, got, want)
		}
	}
}

// FuzzValidJSON holds validJSON to json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, c := range append(validCases, string(shopDoc)) {
		if len(c) < 4096 { // the deep nesting cases stay in TestValidJSON
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid: %v", b, got, want)
		}
	})
}

// BenchmarkValidJSON times validJSON against its same-run baseline,
// json.Valid of the same document; validJSON reports its ns/op as a
// multiple of it (x-json-valid).
func BenchmarkValidJSON(b *testing.B) {
	var baseNs float64
	b.Run("json-valid", func(b *testing.B) {
		b.SetBytes(int64(len(shopDoc)))
		b.ReportAllocs()
		for b.Loop() {
			json.Valid(shopDoc)
		}
		baseNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("validJSON", func(b *testing.B) {
		b.SetBytes(int64(len(shopDoc)))
		b.ReportAllocs()
		for b.Loop() {
			validJSON(shopDoc)
		}
		if baseNs > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseNs, "x-json-valid")
		}
	})
}

// TestValidJSONMutations holds validJSON to json.Valid on random edits of
// the table's documents (bytes of JSON's grammar replaced, dropped or
// inserted), a deterministic complement of FuzzValidJSON.
func TestValidJSONMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := []byte(`{}[]",:0123-+.eE tfnrulase\u"`)
	seeds := append(validCases, string(shopDoc))
	for n := 0; n < 100000; n++ {
		b := []byte(seeds[r.IntN(len(seeds))])
		for k := r.IntN(4); k >= 0; k-- {
			if len(b) == 0 {
				b = append(b, alpha[r.IntN(len(alpha))])
				continue
			}
			i := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[i] = alpha[r.IntN(len(alpha))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			case 2:
				b = append(b[:i], append([]byte{alpha[r.IntN(len(alpha))]}, b[i:]...)...)
			}
		}
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, want %v", b, got, want)
		}
	}
}
