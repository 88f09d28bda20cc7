package schema

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// checkInvariants holds for every tree: paths unique and sorted, node count
// and fan-out within the limits, persisted form round trips.
func checkInvariants(t *testing.T, n *Node) {
	t.Helper()
	fs := n.Fields()
	for i := 1; i < len(fs); i++ {
		if fs[i-1].Path >= fs[i].Path {
			t.Fatalf("paths not unique and sorted: %q, %q", fs[i-1].Path, fs[i].Path)
		}
	}
	for _, f := range fs {
		if !slices.IsSorted(f.Types) || len(f.Enum) > MaxEnum {
			t.Fatalf("bad field %+v", f)
		}
	}
	if n.Nodes() > MaxNodes {
		t.Fatalf("%d nodes", n.Nodes())
	}
	if got, want := n.Classes(), n.treeClasses(); got != want {
		t.Fatalf("Classes() = %v, the tree's union is %v", got, want)
	}
	b, err := n.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m Node
	if err := m.UnmarshalJSON(b); err != nil {
		t.Fatalf("own persisted form rejected: %v", err)
	}
	if b2, _ := m.MarshalJSON(); !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	_ = n.OpenAPI()
}

func FuzzObserveJSON(f *testing.F) {
	for _, name := range []string{"orders", "users", "products", "login"} {
		for _, d := range fixture(f, name) {
			f.Add(d)
		}
	}
	for _, s := range []string{`{}`, `[]`, `null`, `"x"`, `1e5`, `{"a":{"a":{"a":[[[1]]]}}}`, `{"a":1,"a":"x"}`,
		`{"\ud800":"\u00e9","a\"b":"c\\d"}`, "{\"\xff\":\"\xfe\"}", `[{"a.b":1},{"a":{"b":2}}]`,
		strings.Repeat("[", 40) + strings.Repeat("]", 40), `{"card":4111111111111111,"phone":4155552671}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := New()
		before, _ := n.MarshalJSON()
		err := n.ObserveJSON(data)
		if err != nil {
			if after, _ := n.MarshalJSON(); !bytes.Equal(before, after) {
				t.Fatal("failed observation changed the node")
			}
			if json.Valid(data) && len(data) <= MaxDocumentSize {
				t.Fatalf("valid document rejected: %v", err)
			}
			return
		}
		_ = n.ObserveJSON(data) // twice: existing nodes path
		checkInvariants(t, n)
		// Merging equals observing.
		m := New()
		m.Merge(n)
		a, _ := n.MarshalJSON()
		b, _ := m.MarshalJSON()
		if !bytes.Equal(a, b) {
			t.Fatalf("merge into empty differs:\n%s\n%s", a, b)
		}
		_ = ClassifyText(data)
	})
}

func FuzzUnmarshal(f *testing.F) {
	n := New()
	for _, name := range []string{"orders", "users", "login"} {
		for _, d := range fixture(f, name) {
			_ = n.ObserveJSON(d)
		}
	}
	b, _ := n.MarshalJSON()
	f.Add(b)
	for _, s := range []string{`{"version":1,"count":0}`, `{"version":1,"count":1,"root":{"types":["object"],"properties":{"a":{"seen":1,"enum":["x","y"],"strings":30}}}}`,
		`{"version":1,"count":1,"root":{"items":{"items":{"items":{}}}}}`, `{"version":1,"count":1,"root":{"formats":[],"filled":1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n Node
		if err := n.UnmarshalJSON(data); err != nil {
			return
		}
		checkInvariants(t, &n)
		_ = n.ObserveJSON([]byte(`{"a":[1,"x"],"b":null}`))
		checkInvariants(t, &n)
	})
}
