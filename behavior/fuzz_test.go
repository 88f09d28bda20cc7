package behavior

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
)

var (
	fuzzMethods  = []string{"GET", "POST", "PUT", "post", ""}
	fuzzStatuses = []int{0, 200, 201, 204, 301, 400, 401, 402, 403, 404, 409, 410, 422, 429, 500, -7, 99999}
	fuzzPaths    = []string{"/api/v2/giftcards/GC-%d/balance", "/api/v2/coupons/validate", "/api/v2/checkout/quote",
		"/api/v2/checkout/pay", "/api/v2/checkout/confirm", "/api/v2/cart/items", "/orders/%d/pay", "/x/%d"}
)

// fuzzRecords calls fn on each record of data: an op byte, an arg byte and
// a NUL-terminated string s.
func fuzzRecords(data []byte, fn func(op, arg byte, s string)) {
	for len(data) >= 2 {
		op, arg := data[0], data[1]
		s, rest, _ := strings.Cut(string(data[2:]), "\x00")
		data = []byte(rest)
		fn(op, arg, s)
	}
}

// fuzzReq is the request a record makes on path: op picks the method, arg
// the status, and s is the body and the answer.
func fuzzReq(op, arg byte, path, s string) req {
	return req{method: fuzzMethods[int(op>>5)%len(fuzzMethods)], target: path, body: s, status: fuzzStatuses[int(arg)%len(fuzzStatuses)], resp: s}
}

// fuzzPath makes s the path (and query) of x when it starts with '/'.
func fuzzPath(x *vigil.Exchange, s string) {
	if strings.HasPrefix(s, "/") {
		x.Request.URL.Path, x.Request.URL.RawQuery, _ = strings.Cut(s, "?")
	}
}

// fuzzPlay turns data into exchanges for a few actors: each record of
// fuzzRecords has its string used as the body (or, when it starts with '/',
// as the path).
func fuzzPlay(t *testing.T, an vigil.Analyzer, data []byte, check func()) {
	at := t0
	fuzzRecords(data, func(op, arg byte, s string) {
		at = at.Add(time.Duration(int8(arg)) * 5 * time.Second) // may go backwards
		r := fuzzReq(op, arg, strings.ReplaceAll(fuzzPaths[int(op>>2)%len(fuzzPaths)], "%d", fmt.Sprint(int(arg)*37)), s)
		if strings.HasPrefix(s, "/") {
			r.body = ""
		}
		x := exchange(vigil.Actor{Addr: fmt.Sprint(op % 4)}, at, r)
		fuzzPath(x, s)
		fs, err := an.Analyze(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if len(f.Evidence) > MaxExamples+3 || f.Category != vigil.API6BusinessFlows {
				t.Fatalf("finding %v with %d evidence items", f, len(f.Evidence))
			}
		}
	})
	check()
}

func fuzzSeeds(f *testing.F) {
	f.Add([]byte("\x04\x08\x00\x04\x09\x00\x04\x0a\x00"))
	f.Add([]byte("\x24\x09{\"code\":\"SAVE1\"}\x00\x24\x09{\"code\":\"SAVE2\"}\x00\x24\x01{\"valid\":false}\x00"))
	f.Add([]byte("\x28\x01{}\x00\x30\x01{\"quote_id\":1}\x00\x30\x02{}\x00\x2c\x07{}\x00"))
	f.Add([]byte("\x34\x01{\"quantity\":-5,\"price\":0.01}\x00\x14\x02amount=-1&qty=-2\x00"))
	f.Add([]byte("\x00\x08/a/GC-1/b?otp=1&otp=2&code=\x00\x00\x08/a/GC-2/b?token=%00\x00"))
	f.Add([]byte(strings.Repeat("\x04\x09{\"pin\":[1,2,{\"otp\":\"x\"}]}\x00", 50)))
}

func FuzzAnalyzeCracking(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewCracking(Config{MaxActors: 3, Threshold: 3, Window: time.Minute})
		fuzzPlay(t, c, data, func() { checkCrackingBounds(t, c, 3) })
	})
}

func FuzzAnalyzeFlows(f *testing.F) {
	fuzzSeeds(f)
	flows := append(DefaultFlows(), PasswordResetFlow(), Flow{Name: "order", Steps: []Step{
		{Name: "pay", Method: "POST", PathSuffix: "/orders/{id}/pay", NeedsSuccess: true},
		{Name: "x", PathSuffix: "/x/{id}"},
	}})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewFlows(Config{MaxActors: 3, Window: time.Minute, Flows: flows})
		fuzzPlay(t, d, data, func() {
			n := d.table.Each(func(a *actortable.Node[flowActor]) {
				if len(a.State.steps) != d.nsteps || len(a.State.flows) != len(d.flows) {
					t.Errorf("flow state %d steps %d flows", len(a.State.steps), len(a.State.flows))
				}
			})
			if n > 3 || int64(n) != d.Stats().Actors {
				t.Errorf("%d actors", n)
			}
		})
	})
}

func FuzzAnalyzeTampering(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tp := NewTampering(Config{MaxActors: 3, Window: time.Minute})
		fuzzPlay(t, tp, data, func() {
			if n := tp.table.Each(func(*actortable.Node[tamperActor]) {}); n > 3 {
				t.Errorf("%d actors", n)
			}
			tp.mu.Lock()
			defer tp.mu.Unlock()
			if len(tp.stats) > maxPriceEndpoints {
				t.Errorf("%d endpoints", len(tp.stats))
			}
		})
	})
}

// FuzzJSONCursorStr: jsonCursor.str, which jumps from quote to quote,
// reads the strings the byte-by-byte loop it replaced read.
func FuzzJSONCursorStr(f *testing.F) {
	for _, s := range []string{`"a"`, `"a\"b"`, `"a\\"`, `"\`, `"ab\\\"c"x`, `"`, `x"`, `"no end`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &jsonCursor{b: b}
		got, gotOK := c.str()
		want, wantOK, wantI := []byte(nil), false, 0
		if len(b) > 0 && b[0] == '"' {
			for j := 1; j < len(b); j++ {
				if b[j] == '\\' {
					j++
				} else if b[j] == '"' {
					want, wantOK, wantI = b[1:j], true, j+1
					break
				}
			}
		}
		if gotOK != wantOK || string(got) != string(want) || (wantOK && c.i != wantI) {
			t.Errorf("str(%q) = %q, %v (at %d), want %q, %v (at %d)", b, got, gotOK, c.i, want, wantOK, wantI)
		}
	})
}
