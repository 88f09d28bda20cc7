package inventory

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

func TestCap(t *testing.T) {
	ep := func(host, method, tmpl string) vigil.Endpoint {
		return vigil.Endpoint{Host: host, Method: method, Template: tmpl}
	}
	type step struct {
		in         vigil.Endpoint
		want       vigil.Endpoint
		wantFolded bool
	}
	tests := []struct {
		name                     string
		hosts, perHost, endpoint int
		steps                    []step
		wantFolded               int64
	}{
		{
			name: "per host", hosts: 10, perHost: 2, endpoint: 100,
			steps: []step{
				{ep("a", "GET", "/1"), ep("a", "GET", "/1"), false},
				{ep("a", "GET", "/2"), ep("a", "GET", "/2"), false},
				{ep("a", "GET", "/3"), ep("a", "GET", Other), true},
				{ep("a", "GET", "/1"), ep("a", "GET", "/1"), false}, // known stays
				{ep("a", "BREW", "/4"), ep("a", Other, Other), true},
				{ep("b", "GET", "/1"), ep("b", "GET", "/1"), false},
			},
			wantFolded: 2,
		},
		{
			name: "hosts", hosts: 1, perHost: 10, endpoint: 100,
			steps: []step{
				{ep("a", "GET", "/1"), ep("a", "GET", "/1"), false},
				{ep("b", "GET", "/1"), ep(Other, "GET", Other), true},
				{ep("a", "POST", "/1"), ep("a", "POST", "/1"), false},
			},
			wantFolded: 1,
		},
		{
			name: "total", hosts: 10, perHost: 10, endpoint: 2,
			steps: []step{
				{ep("a", "GET", "/1"), ep("a", "GET", "/1"), false},
				{ep("b", "GET", "/1"), ep("b", "GET", "/1"), false},
				{ep("a", "GET", "/2"), ep("a", "GET", Other), true},
				{ep("c", "GET", "/1"), ep(Other, "GET", Other), true},
			},
			wantFolded: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCap(tc.hosts, tc.perHost, tc.endpoint)
			for i, s := range tc.steps {
				got, folded := c.Admit(s.in)
				if diff := cmp.Diff(s.want, got); diff != "" || folded != s.wantFolded {
					t.Errorf("step %d: Admit(%v) folded=%v, want %v; diff (-want +got):\n%s", i, s.in, folded, s.wantFolded, diff)
				}
			}
			if got := c.Folded(); got != tc.wantFolded {
				t.Errorf("Folded() = %d, want %d", got, tc.wantFolded)
			}
		})
	}
}

// TestCapFlood: a flood of random hosts and paths leaves the Cap bounded.
func TestCapFlood(t *testing.T) {
	c := NewCap(4, 100, 300)
	distinct := map[vigil.Endpoint]bool{}
	for i := range 100_000 {
		e, _ := c.Admit(vigil.Endpoint{Host: "h" + strconv.Itoa(i%50), Method: "M" + strconv.Itoa(i%7), Template: "/" + strconv.Itoa(i)})
		distinct[e] = true
	}
	if c.Len() > 300 {
		t.Errorf("Len() = %d, want <= 300", c.Len())
	}
	// 300 admitted at most, plus per known or folded host one {other} per method kind.
	if len(distinct) > 300+5*2 {
		t.Errorf("%d distinct endpoints out, want <= 310", len(distinct))
	}
	if got, want := c.Folded(), int64(100_000-c.Len()); got != want {
		t.Errorf("Folded() = %d, want %d", got, want)
	}
}
