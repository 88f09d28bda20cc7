package identity

import (
	"net/netip"
	"testing"
)

// FuzzTexts: the text caches give what formatting gives, hit or miss, and
// whatever else shares the slot.
func FuzzTexts(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1}, uint64(0))
	f.Add([]byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint64(1<<63))
	f.Add([]byte{}, uint64(42))
	var t texts
	f.Fuzz(func(tt *testing.T, ip []byte, v uint64) {
		a, _ := netip.AddrFromSlice(ip)
		for range 2 { // a miss, then a hit
			want := ""
			if a.IsValid() {
				want = a.String()
			}
			if got := t.addr(a); got != want {
				tt.Fatalf("addr(%v) = %q, want %q", a, got, want)
			}
			if got, want := t.sum(v), hex16(v); got != want {
				tt.Fatalf("sum(%x) = %q, want %q", v, got, want)
			}
		}
	})
}

// TestTextsShared: addresses and digests that share a slot each get their
// own text.
func TestTextsShared(t *testing.T) {
	var x texts
	for i := range 4 * textSlots {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		v := uint64(i) * 0x9e3779b97f4a7c15
		for range 2 {
			if got, want := x.addr(a), a.String(); got != want {
				t.Fatalf("addr(%v) = %q, want %q", a, got, want)
			}
			if got, want := x.sum(v), hex16(v); got != want {
				t.Fatalf("sum(%x) = %q, want %q", v, got, want)
			}
		}
	}
}

// BenchmarkResolvePeer resolves the actor of `vigil bench proxy`'s requests
// (a peer address, a Host header). Its same-run baseline is parsing the peer
// address (netip.ParseAddrPort), the least a resolver does; "resolve"
// reports its ns/op as a multiple of it (x-parse).
func BenchmarkResolvePeer(b *testing.B) {
	const peer = "127.0.0.1:40312"
	var baseNs float64
	b.Run("baseline-parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := netip.ParseAddrPort(peer); err != nil {
				b.Fatal(err)
			}
		}
		baseNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("resolve", func(b *testing.B) {
		r, err := New(Default())
		if err != nil {
			b.Fatal(err)
		}
		h := map[string][]string{"Host": {"127.0.0.1:9501"}}
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Resolve(peer, h)
		}
		if baseNs > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseNs, "x-parse")
		}
	})
}
