package lru

import (
	"slices"
	"testing"
)

func TestCache(t *testing.T) {
	c := New[int](3)
	c.Put("a", 1)
	c.Put("b", 2)
	c.Put("c", 3)
	if v, ok := c.Get("a"); !ok || *v != 1 { // a is now the most recent
		t.Fatalf("a: %v %v", v, ok)
	}
	*must(t, c, "c") = 30                          // the pointer writes through
	if old, ok := c.Put("d", 4); !ok || old != 2 { // evicts b
		t.Errorf("evicted %d %v, want 2 true", old, ok)
	}
	if _, ok := c.Get("b"); ok {
		t.Error("b should be gone")
	}
	if got := c.Values(); !slices.Equal(got, []int{4, 30, 1}) {
		t.Errorf("values %v, want [4 30 1] (most recent first)", got)
	}
	if _, ok := c.Put("d", 40); ok {
		t.Error("updating a key evicted something")
	}
	for _, k := range []string{"a", "c", "d"} {
		must(t, c, k)
	}
	if k, v, _ := c.Oldest(); k != "a" || *v != 1 {
		t.Errorf("oldest %s=%d, want a=1", k, *v)
	}
	if v, ok := c.Delete("a"); !ok || v != 1 {
		t.Errorf("delete a: %d %v", v, ok)
	}
	if _, ok := c.Delete("a"); ok {
		t.Error("a deleted twice")
	}
	c.Delete("c")
	c.Delete("d")
	if c.Len() != 0 || c.head != nil || c.tail != nil || len(c.Values()) != 0 {
		t.Error("not empty")
	}
	if _, _, ok := c.Oldest(); ok {
		t.Error("oldest of an empty cache")
	}
	if _, ok := c.Put("e", 5); ok {
		t.Error("eviction in an empty cache")
	}
}

func TestCacheBounded(t *testing.T) {
	c := New[int](100)
	for i := range 10_000 {
		c.Put(string(rune('a'+i%26))+string(rune(i)), i)
		if c.Len() > 100 {
			t.Fatalf("%d entries, cap 100", c.Len())
		}
	}
	if k, v, _ := c.Oldest(); *v != 9_900 {
		t.Errorf("oldest %q=%d, want the 9,900th put", k, *v)
	}
}

func must(t *testing.T, c *Cache[int], k string) *int {
	t.Helper()
	v, ok := c.Get(k)
	if !ok {
		t.Fatalf("%s missing", k)
	}
	return v
}
