package schema

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLimitWideObject(t *testing.T) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range 10000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%05d":%d`, i, i)
	}
	b.WriteByte('}')
	n := New()
	if err := n.ObserveJSON(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if got := len(n.Fields()); got != MaxProperties {
		t.Errorf("%d fields, want %d", got, MaxProperties)
	}
	if got := n.Truncated(); got != 10000-MaxProperties {
		t.Errorf("Truncated = %d, want %d", got, 10000-MaxProperties)
	}
}

func TestLimitDeepNesting(t *testing.T) {
	doc := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	n := New()
	if err := n.ObserveJSON([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	fs := n.Fields()
	deepest := fs[len(fs)-1].Path
	if got := strings.Count(deepest, ".") + 1; got != MaxDepth-1 {
		t.Errorf("deepest path has %d levels, want %d", got, MaxDepth-1)
	}
	if n.Truncated() != 1 || n.Nodes() != MaxDepth {
		t.Errorf("Truncated = %d, Nodes = %d", n.Truncated(), n.Nodes())
	}
	// Arrays too, and the document must still be fully valid JSON.
	arr := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	if err := n.ObserveJSON([]byte(arr)); err != nil {
		t.Fatal(err)
	}
	if n.Nodes() > 2*MaxDepth {
		t.Errorf("Nodes = %d", n.Nodes())
	}
}

func TestLimitHugeArray(t *testing.T) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range 1_000_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == 999_999 {
			b.WriteString(`"late@shop.test"`) // past the sample: not seen
		} else {
			b.WriteByte('7')
		}
	}
	b.WriteByte(']')
	n := New()
	// 1,000,000 elements need 2 MB, over the document limit: rejected
	// quickly.
	start := time.Now()
	if err := n.ObserveJSON(b.Bytes()); err == nil {
		t.Error("a 2 MB document was accepted")
	}
	// The largest array the size limit allows.
	doc := make([]byte, 0, MaxDocumentSize)
	doc = append(doc, '[')
	for len(doc) < MaxDocumentSize-32 {
		doc = append(doc, "7,"...)
	}
	doc = append(doc, `"late@shop.test"]`...)
	start = time.Now()
	if err := n.ObserveJSON(doc); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("observing took %v", d)
	}
	elems := int64(bytes.Count(doc, []byte(","))) + 1
	if got := n.Truncated(); got != elems-MaxArrayItems {
		t.Errorf("Truncated = %d, want %d", got, elems-MaxArrayItems)
	}
	if n.Classes() != 0 {
		t.Error("an element past the sample was classified")
	}
	t.Logf("array of %d elements observed in %v", elems, time.Since(start))
}

func TestLimitKeyFlood(t *testing.T) {
	n := New()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 10000 {
		doc := fmt.Sprintf(`{"k%x":{"n%x":[{"m%x":1}]},"fixed":%d}`, r.Uint64(), r.Uint64(), r.Uint64(), i)
		if err := n.ObserveJSON([]byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	if n.Nodes() > MaxNodes {
		t.Errorf("Nodes = %d > %d", n.Nodes(), MaxNodes)
	}
	if n.Truncated() == 0 {
		t.Error("Truncated = 0")
	}
	if len(n.root.props) > MaxProperties {
		t.Errorf("%d root properties", len(n.root.props))
	}
	if _, ok := fieldMap(n.Fields())["fixed"]; !ok {
		t.Error("the steady field was lost")
	}
	// A flood spread over many objects hits the node cap rather than the
	// property cap.
	m := New()
	for i := range 10000 {
		doc := fmt.Sprintf(`{"o%d":{"a%x":1,"b%x":2}}`, i%200, r.Uint64(), r.Uint64())
		_ = m.ObserveJSON([]byte(doc))
	}
	if m.Nodes() != MaxNodes || m.Truncated() == 0 {
		t.Errorf("Nodes = %d, Truncated = %d", m.Nodes(), m.Truncated())
	}
	if b, _ := m.MarshalJSON(); len(b) > MaxPersistedSize {
		t.Errorf("persisted form of %d bytes", len(b))
	}
}

func TestLimitLongKey(t *testing.T) {
	n := New()
	doc := fmt.Sprintf(`{%q:1,"ok":2}`, strings.Repeat("k", MaxKeyLen+1))
	if err := n.ObserveJSON([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	if got := paths(n.Fields()); len(got) != 1 || got[0] != "ok" || n.Truncated() != 1 {
		t.Errorf("paths %q, truncated %d", got, n.Truncated())
	}
}

func TestLimitDocumentSize(t *testing.T) {
	doc := []byte(`"` + strings.Repeat("a", MaxDocumentSize-1) + `"`)
	n := New()
	if err := n.ObserveJSON(doc); err == nil {
		t.Error("document over the limit accepted")
	}
	if err := n.ObserveJSON(doc[1:]); err == nil {
		t.Error("invalid document accepted")
	}
	if err := n.ObserveJSON(append([]byte(`"`), doc[2:]...)); err != nil {
		t.Errorf("document at the limit: %v", err)
	}
}

// hostileTree builds a full tree of the worst content: every key MaxKeyLen
// bytes, every node with a full enum of MaxEnumValueLen-byte values.
func hostileTree(tb testing.TB) *Node {
	n := New()
	r := rand.New(rand.NewPCG(3, 4))
	key := func() string {
		b := make([]byte, MaxKeyLen)
		for i := range b {
			b[i] = 'a' + byte(r.IntN(26))
		}
		return string(b)
	}
	for doc := 0; n.Nodes() < MaxNodes; doc++ {
		if doc > 100 {
			tb.Fatalf("tree stuck at %d nodes", n.Nodes())
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "{%q:{", key())
		for j := range MaxProperties / 2 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:[", key())
			for e := range MaxEnum {
				if e > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"%d%s"`, e, strings.Repeat("v", MaxEnumValueLen-1))
			}
			b.WriteByte(']')
		}
		b.WriteString("}}")
		if err := n.ObserveJSON(b.Bytes()); err != nil {
			tb.Fatal(err)
		}
	}
	return n
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestNodeMemory measures the memory of a full hostile tree and of a typical
// one, and holds the hostile one to the documented bound (3 MiB).
func TestNodeMemory(t *testing.T) {
	before := heapAlloc()
	n := hostileTree(t)
	hostile := heapAlloc() - before
	if n.Nodes() != MaxNodes {
		t.Fatalf("Nodes = %d", n.Nodes())
	}
	t.Logf("hostile tree: %d nodes, %d bytes, %d bytes/node", n.Nodes(), hostile, hostile/uint64(n.Nodes()))
	if hostile > 3<<20 {
		t.Errorf("hostile tree takes %d bytes, over 3 MiB", hostile)
	}
	runtime.KeepAlive(n)

	before = heapAlloc()
	m := New()
	for _, f := range []string{"orders", "users", "products", "login"} {
		observeAll(t, m, fixture(t, f))
	}
	typical := heapAlloc() - before
	t.Logf("typical tree: %d nodes, %d bytes, %d bytes/node", m.Nodes(), typical, typical/uint64(m.Nodes()))
	runtime.KeepAlive(m)
}
