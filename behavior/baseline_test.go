package behavior

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

// learnOrders teaches a baseline 250 ordinary order searches and cart
// additions.
func learnOrders(t *testing.T, b *Baseline) time.Time {
	t.Helper()
	at := t0
	for i := range 250 {
		at = at.Add(500 * time.Millisecond)
		limit := []int{10, 20, 50}[i%3]
		status := []string{"shipped", "pending", "delivered"}[i%3]
		for _, r := range []req{
			get(fmt.Sprintf("/api/v2/orders?limit=%d&status=%s&q=%s", limit, status, []string{"oak+chair", "O%27Reilly", "lamp"}[i%3]), 200),
			post("/api/v2/cart/items", fmt.Sprintf(`{"product_id":%d,"quantity":%d}`, 1+i%200, 1+i%3), 201),
		} {
			if fs, _ := b.Analyze(context.Background(), exchange(user, at, r)); len(fs) != 0 {
				t.Fatalf("finding while learning: %v", fs)
			}
		}
	}
	return at
}

func TestBaseline(t *testing.T) {
	tests := []struct {
		name    string
		r       req
		score   float64 // Score's result
		finding bool
	}{
		{"ordinary search", get("/api/v2/orders?limit=20&status=shipped&q=oak+chair", 200), 0, false},
		{"ordinary cart addition", post("/api/v2/cart/items", `{"product_id":17,"quantity":2}`, 201), 0, false},
		{"SQL in a numeric parameter", get("/api/v2/orders?limit=20%27%20OR%201%3D1--&status=shipped", 500), 0.8, true},
		{"quantity sent as an array", post("/api/v2/cart/items", `{"product_id":17,"quantity":[1]}`, 400), 1, true},
		{"product id as an object", post("/api/v2/cart/items", `{"product_id":{"$gt":0},"quantity":1}`, 200), 1, true},
		{"a status never seen", get("/api/v2/orders?limit=20&status=cancelled", 200), 0.5, false},
		{"a very long search", get("/api/v2/orders?limit=20&q="+strings.Repeat("a", 3000), 200), 0.6, false},
		{"a new parameter", get("/api/v2/orders?limit=20&debug=1", 200), 0.4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBaseline(Config{})
			at := learnOrders(t, b)
			x := exchange(attacker, at.Add(time.Second), tc.r)
			score, ev := b.Score(x)
			if score != tc.score {
				t.Errorf("Score = %v %v, want %v", score, ev, tc.score)
			}
			fs, _ := b.Analyze(context.Background(), x)
			if (len(fs) > 0) != tc.finding {
				t.Errorf("findings %v, want finding %v", fs, tc.finding)
			}
			for _, f := range fs {
				if f.Detector != DetectorAnomaly || f.Severity != vigil.SeverityLow || f.Evidence[0].Where != "behavior.anomaly_score" {
					t.Errorf("finding %s %v", f, f.Evidence)
				}
				t.Logf("%s %v", f.Title, f.Evidence)
			}
		})
	}
}

func TestBaselineLearningAndBounds(t *testing.T) {
	b := NewBaseline(Config{})
	// Before the learning period ends nothing is scored.
	for i := range BaselineLearn - 1 {
		b.Analyze(context.Background(), exchange(user, t0.Add(time.Duration(i)*time.Second), get("/x?id=1", 200)))
	}
	x := exchange(attacker, t0.Add(time.Hour), get("/x?id=1'", 200))
	if s, _ := b.Score(x); s != 0 {
		t.Errorf("scored %v during learning", s)
	}
	// Attack payloads answered 2xx after learning are not learned.
	b.Analyze(context.Background(), exchange(user, t0.Add(time.Hour), get("/x?id=2", 200)))
	for i := range 50 {
		b.Analyze(context.Background(), exchange(attacker, t0.Add(time.Hour+time.Duration(i)*time.Second), get("/x?id=1'", 200)))
	}
	if s, _ := b.Score(x); s < baseFire {
		t.Errorf("the baseline learned the attack: score %v", s)
	}
	// Bounded endpoints and parameters.
	var q strings.Builder
	for i := range 100 {
		fmt.Fprintf(&q, "p%d=%d&", i, i)
	}
	for i := range 3000 {
		b.Analyze(context.Background(), exchange(user, t0, get(fmt.Sprintf("/e%d/x?%s", i, q.String()), 200)))
	}
	n := 0
	for i := range b.shards {
		for _, e := range b.shards[i].eps {
			n++
			if len(e.params) > BaselineMaxParams {
				t.Errorf("%d params", len(e.params))
			}
		}
	}
	if n > BaselineMaxEndpoints || int64(n) != b.Stats().Actors {
		t.Errorf("%d endpoints (stats %d), limit %d", n, b.Stats().Actors, BaselineMaxEndpoints)
	}
}
