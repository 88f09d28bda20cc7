package correlate

import "container/list"

// lru is a map with a recency order and a cap, for the bounded state of a
// Correlator. It is not safe for concurrent use.
type lru[V any] struct {
	max int
	l   *list.List // of *entry[V], most recent at the front
	m   map[string]*list.Element
}

type entry[V any] struct {
	key string
	val V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, l: list.New(), m: make(map[string]*list.Element)}
}

func (c *lru[V]) len() int { return c.l.Len() }

// get returns the value and marks it recently used.
func (c *lru[V]) get(k string) (V, bool) {
	if e, ok := c.m[k]; ok {
		c.l.MoveToFront(e)
		return e.Value.(*entry[V]).val, true
	}
	var zero V
	return zero, false
}

// put stores v under k as the most recent entry and returns the value it
// evicted at the cap, if any.
func (c *lru[V]) put(k string, v V) (evicted V, ok bool) {
	if e, found := c.m[k]; found {
		e.Value.(*entry[V]).val = v
		c.l.MoveToFront(e)
		return evicted, false
	}
	if c.l.Len() >= c.max {
		if b := c.l.Back(); b != nil {
			old := b.Value.(*entry[V])
			c.l.Remove(b)
			delete(c.m, old.key)
			evicted, ok = old.val, true
		}
	}
	c.m[k] = c.l.PushFront(&entry[V]{key: k, val: v})
	return evicted, ok
}

func (c *lru[V]) del(k string) (V, bool) {
	if e, ok := c.m[k]; ok {
		c.l.Remove(e)
		delete(c.m, k)
		return e.Value.(*entry[V]).val, true
	}
	var zero V
	return zero, false
}

// oldest returns the least recently used value.
func (c *lru[V]) oldest() (V, bool) {
	if b := c.l.Back(); b != nil {
		return b.Value.(*entry[V]).val, true
	}
	var zero V
	return zero, false
}

// values returns the values, most recently used first.
func (c *lru[V]) values() []V {
	out := make([]V, 0, c.l.Len())
	for e := c.l.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*entry[V]).val)
	}
	return out
}
