package behavior

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

func TestTampering(t *testing.T) {
	baseline := repeat(25, func(i int) req {
		return post("/api/v2/cart/items", fmt.Sprintf(`{"product_id":%d,"quantity":1}`, i+1), 201)
	})
	tests := []struct {
		name  string
		setup []req // by other actors
		reqs  []req
		want  int
	}{
		{"negative quantity", nil, []req{post("/api/v2/cart/items", `{"product_id":3,"quantity":-5}`, 400)}, 1},
		{"negative amount in a form", nil, []req{post("/checkout/pay", "amount=-10.5&card=x", 200)}, 1},
		{"negative price as a string", nil, []req{post("/api/orders", `{"items":[{"sku":"a","unit_price":"-1e2"}]}`, 201)}, 1},
		{"negative quantity in the query", nil, []req{get("/basket/add?sku=1&qty=-3", 200)}, 1},
		{"two tamperings, one finding", nil, []req{
			post("/api/v2/cart/items", `{"quantity":-5}`, 400), post("/api/v2/cart/items", `{"quantity":-1}`, 400)}, 1},
		{"client price where nobody sends one", baseline, []req{post("/api/v2/cart/items", `{"product_id":3,"quantity":2,"price":0.01}`, 201)}, 1},

		{"ordinary cart add", baseline, []req{post("/api/v2/cart/items", `{"product_id":3,"quantity":2}`, 201)}, 0},
		{"zero and minus zero", nil, []req{post("/api/v2/cart/items", `{"quantity":0,"discount":-0.0}`, 201)}, 0},
		{"negative id is not an amount", nil, []req{post("/api/v2/cart/items", `{"product_id":-3,"quantity":1}`, 400)}, 0},
		{"negative amount off commerce paths", nil, []req{post("/api/v2/ledger/entries", `{"amount":-50}`, 201)}, 0},
		{"a price before any baseline", nil, []req{post("/api/v2/cart/items", `{"product_id":3,"price":9.99}`, 201)}, 0},
		{"a price where clients send prices", repeat(25, func(i int) req {
			return post("/api/v2/orders", fmt.Sprintf(`{"sku":%d,"quantity":1,"price":9.99}`, i), 201)
		}), []req{post("/api/v2/orders", `{"sku":1,"quantity":1,"price":1.00}`, 201)}, 0},
		{"not a number", nil, []req{post("/api/v2/cart/items", `{"quantity":"-x"}`, 400)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewTampering(Config{})
			for i, r := range tt.setup {
				if fs := play(t, d, vigil.Actor{Principal: fmt.Sprintf("jwt:%d", 100+i)}, []req{r}); len(fs) != 0 {
					t.Fatalf("setup: %v", fs)
				}
			}
			fs := play(t, d, attacker, tt.reqs)
			if len(fs) != tt.want {
				t.Errorf("%d findings, want %d", len(fs), tt.want)
			}
			for _, f := range fs {
				t.Log(f, f.Evidence)
				if f.Detector != DetectorTampering || f.Severity != vigil.SeverityMedium || f.Category != vigil.API6BusinessFlows {
					t.Errorf("finding %v", f)
				}
			}
		})
	}
	// A window later the same actor fires again.
	d := NewTampering(Config{})
	fs := play(t, d, attacker, []req{post("/cart", `{"quantity":-1}`, 400), after(post("/cart", `{"quantity":-1}`, 400), 11*time.Minute)})
	if len(fs) != 2 || d.Stats().Findings[DetectorTampering] != 2 {
		t.Errorf("%d findings, stats %+v", len(fs), d.Stats())
	}
}

func TestNegative(t *testing.T) {
	for v, want := range map[string]bool{
		"-1": true, " -0.5 ": true, "-1e3": true, "-0": false, "-0.000": false, "-0e5": false, "1": false,
		"-": false, "--1": false, "-x": false, "": false, "-0.01": true,
	} {
		if got := negative([]byte(v)); got != want {
			t.Errorf("negative(%q) = %v", v, got)
		}
	}
}
