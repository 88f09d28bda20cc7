package schema

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/pii"
)

// refMasked is masked as it was before the maskBytes table: the byte loop,
// then pii.MaskChars over the whole value.
func refMasked(v string) bool {
	maskChar := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '*' || c == 'x' || c == 'X' || c == 0xe2:
			maskChar = true
		case isDigit(c) || c == ' ' || c == '-' || c == 0x80 || c == 0xa2:
		default:
			maskChar = false
			i = len(v)
		}
	}
	if maskChar && pii.MaskChars(v) {
		return true
	}
	if len(v) > 16 || len(v) < 3 {
		return false
	}
	for _, w := range [...]string{"null", "none", "nil", "n/a", "true", "false", "undefined"} {
		if strings.EqualFold(v, w) {
			return true
		}
	}
	var b [16]byte
	for i := range len(v) {
		c := v[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return bytes.Contains(b[:len(v)], []byte("redacted")) || bytes.Contains(b[:len(v)], []byte("hidden")) ||
		bytes.Contains(b[:len(v)], []byte("masked"))
}

// FuzzMasked: the table-driven loop, which skips pii.MaskChars unless a
// byte of "•" is present, decides as the loop and MaskChars did.
func FuzzMasked(f *testing.F) {
	for _, s := range []string{"xxxx", "****1234", "•••• 4242", "\xe2\x80", "\x80\xa2x", "x\xe2", "12-34", "N/A",
		"redacted", "xx-xx-1234", "•x•", "\xe2\x80\xa2\xe2\x80", "4111 1111 1111 1111", "", "*", "X", "xxxxxxxxxxxxxxxxA", "xxxxxxxx••", "12345678-xxxx-\xa2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := masked(v), refMasked(v); got != want {
			t.Fatalf("masked(%q) = %v, want %v", v, got, want)
		}
	})
}

// TestSpecialIn: the word test of validString agrees with strPlain on every
// byte at every position, among plain bytes or special ones, and on random
// words.
func TestSpecialIn(t *testing.T) {
	want := func(b []byte) bool {
		for _, c := range b {
			if !strPlain[c] {
				return true
			}
		}
		return false
	}
	check := func(b []byte) {
		if got := specialIn(binary.LittleEndian.Uint64(b)); got != want(b) {
			t.Fatalf("specialIn(%q) = %v", b, got)
		}
	}
	for _, fill := range []byte{'a', 0xff, 0x80, '"', 0x1f, 0, '\\', 0x21} {
		for pos := range 8 {
			for c := range 256 {
				b := bytes.Repeat([]byte{fill}, 8)
				b[pos] = byte(c)
				check(b)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], r.Uint64())
		check(b[:])
	}
}

// BenchmarkMasked: masked against the loop and pii.MaskChars it replaces
// (refMasked), on a long masked value (the bench's 1000-byte "note") and on
// short values.
func BenchmarkMasked(b *testing.B) {
	long := strings.Repeat("x", 1000)
	for _, c := range []struct {
		name string
		f    func(string) bool
	}{{"ref", refMasked}, {"masked", masked}} {
		b.Run(c.name+"/long", func(b *testing.B) {
			for b.Loop() {
				c.f(long)
			}
		})
		b.Run(c.name+"/short", func(b *testing.B) {
			for b.Loop() {
				c.f("****-4242")
				c.f("alice@example.com")
			}
		})
	}
}

// TestMaskedEveryByte puts each byte value among mask characters, in the
// eight-byte loop and in the tail, so that maskBytes cannot drift from the
// reference's character set on any byte.
func TestMaskedEveryByte(t *testing.T) {
	for b := range 256 {
		c := string([]byte{byte(b)})
		for _, v := range []string{"xxxx" + c + "xxx1234", "12345678" + c + "*", c + "•••• 4242", "x" + c} {
			if got, want := masked(v), refMasked(v); got != want {
				t.Errorf("masked(%q) = %v, want %v", v, got, want)
			}
		}
	}
}
