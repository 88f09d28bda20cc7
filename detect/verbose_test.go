package detect

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"testing"
)

// TestAnchorsAt: the one-pass search finds each anchor where bytes.Index
// does.
func TestAnchorsAt(t *testing.T) {
	for _, b := range anchorSeeds {
		checkAnchorsAt(t, []byte(b))
	}
}

var anchorSeeds = []string{
	"",
	`{"id":42,"name":"Trail running shoes"}`,
	"panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d",
	"ORA-ORA-00933 SQL logic error, SQLITE_ERRORSQLITE_ERROR",
	"..go:.go: at Object.<anonymous> Fatal errorFatal error",
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx goroutine",
}

// TestAnchorsAtMixed: bodies made of anchors, their pieces and their key
// bytes side by side, where the ways of anchorsAt may go wrong.
func TestAnchorsAtMixed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var pieces []string
	for _, l := range leaks {
		a := l.anchor
		pieces = append(pieces, a, a[:len(a)/2], a[len(a)/2:], a[1:], a[:len(a)-1])
	}
	pieces = append(pieces, " ", ".", "_", "-", "[", "x", "\n", `"`, "  ", "e ", " e")
	for range 20000 {
		var b []byte
		for n := r.IntN(12); n > 0; n-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		checkAnchorsAt(t, b)
		if t.Failed() {
			return
		}
	}
}

func FuzzAnchorsAt(f *testing.F) {
	for _, b := range anchorSeeds {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkAnchorsAt(t, b) })
}

func checkAnchorsAt(t *testing.T, b []byte) {
	t.Helper()
	byKey := func(hits int) func([]byte, *[len(leakAnchors)]int) {
		return func(b []byte, first *[len(leakAnchors)]int) {
			if !anchorsByKey(b, first, hits) {
				anchorsByPass(b, first)
			}
		}
	}
	for _, find := range []func([]byte, *[len(leakAnchors)]int){anchorsAt, anchorsByPass, byKey(1 << 30), byKey(2)} {
		var got [len(leakAnchors)]int
		find(b, &got)
		for k := range leaks {
			if want := bytes.Index(b, []byte(leaks[k].anchor)); got[k] != want {
				t.Errorf("anchor %q in %q: at %d, want %d", leaks[k].anchor, b, got[k], want)
			}
		}
	}
}

// TestHeaderKeysCanonical: the keys the detectors look up with headerValue
// are written in canonical form, so that headerValue is Header.Get.
func TestHeaderKeysCanonical(t *testing.T) {
	for _, k := range []string{"Content-Type", "Authorization", "X-Api-Key", "Api-Key", "X-Auth-Token", "Origin",
		"Access-Control-Allow-Credentials", "Access-Control-Allow-Origin", "X-Content-Type-Options", "Strict-Transport-Security"} {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("%q is not canonical (%q)", k, c)
		}
		h := http.Header{}
		h.Set(k, "v")
		if got := headerValue(h, k); got != h.Get(k) {
			t.Errorf("headerValue(%q) = %q, want %q", k, got, h.Get(k))
		}
	}
}

// FuzzMaySensitive: a JSON body maySensitive lets go without a walk is one
// whose walk reports nothing.
func FuzzMaySensitive(f *testing.F) {
	for _, s := range []string{
		`{"id":42,"name":"Trail running shoes","price":129.95,"tags":["a","b"],"updated":"2026-01-01T12:00:00Z"}`,
		`{"card":"4111 1111 1111 1111"}`, `{"n":4111111111111111}`, `{"pan":"4111-1111-1111-1111"}`,
		`{"password":"hunter2hunter2"}`, `{"Pass_Word":"hunter2hunter2"}`, `{"p-w-d":"hunter2hunter2"}`,
		`{"api_key":"sk_live_abcdef0123456789"}`, `{"SECRET":"abcdefgh12345678"}`, `{"h":"$2b$10$abcdefghijklmnopqrstuuq0d5qYQ3Q0b5oM8Z0m1ZbQe7vJ2w8yz"}`,
		`{"k":"AKIAIOSFODNN7EXAMPLE"}`, `{"pem":"-----BEGIN RSA PRIVATE KEY-----"}`, `{"p\u0061ss":"hunter2hunter2"}`,
		`{"v":"pbkdf2_sha256$260000$salt$hash"}`, `[{"x":{"y":["4111111111111111"]}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !bytes.ContainsAny(b, `\$`) {
			if pass, search := mayBeCardOrSecretByPass(b), mayBeCardOrSecretBySearch(b); pass != search {
				t.Errorf("%q: by pass %v, by search %v", b, pass, search)
			}
		}
		if maySensitive(b) {
			return
		}
		if ev, _ := sensitiveJSON(b); ev != nil {
			t.Errorf("maySensitive(%q) = false, but the walk reports %+v", b, ev)
		}
	})
}
