// Package lru is a map bounded to a number of entries: putting a new key
// into a full map forgets the least recently used one. It holds the bounded
// state keyed by strings of the responder (actor keys, threshold counters)
// and of the correlator (open incidents, waiting findings). The per-actor
// state of the stateful detectors, sharded by actor hash, is
// internal/actortable.
package lru

// Cache is a bounded map with a recency order. The zero value is not usable;
// make one with New. Not safe for concurrent use.
type Cache[V any] struct {
	max  int
	m    map[string]*node[V]
	head *node[V] // most recently used
	tail *node[V] // least recently used
}

type node[V any] struct {
	key        string
	val        V
	prev, next *node[V]
}

// New returns a Cache of at most limit entries (at least one).
func New[V any](limit int) *Cache[V] {
	return &Cache[V]{max: max(limit, 1), m: make(map[string]*node[V])}
}

// Len is the number of entries.
func (c *Cache[V]) Len() int { return len(c.m) }

// Get returns a pointer to key's value, valid until the entry is evicted or
// deleted, and marks the entry used.
func (c *Cache[V]) Get(key string) (*V, bool) {
	n, ok := c.m[key]
	if !ok {
		return nil, false
	}
	c.front(n)
	return &n.val, true
}

// Put sets key's value and marks it used. When a new key finds the cache
// full, the least recently used entry is forgotten and its value returned
// with ok true.
func (c *Cache[V]) Put(key string, v V) (evicted V, ok bool) {
	if n, found := c.m[key]; found {
		n.val = v
		c.front(n)
		return evicted, false
	}
	var n *node[V]
	if len(c.m) >= c.max && c.tail != nil {
		// Reuse the forgotten node.
		n = c.tail
		c.unlink(n)
		delete(c.m, n.key)
		evicted, ok = n.val, true
		*n = node[V]{}
	} else {
		n = new(node[V])
	}
	n.key, n.val = key, v
	c.m[key] = n
	c.pushFront(n)
	return evicted, ok
}

// Delete forgets key and returns its value.
func (c *Cache[V]) Delete(key string) (V, bool) {
	n, ok := c.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.unlink(n)
	delete(c.m, key)
	return n.val, true
}

// Oldest returns the least recently used entry, without marking it used.
func (c *Cache[V]) Oldest() (string, *V, bool) {
	if c.tail == nil {
		return "", nil, false
	}
	return c.tail.key, &c.tail.val, true
}

// Values returns the values, most recently used first.
func (c *Cache[V]) Values() []V {
	out := make([]V, 0, len(c.m))
	for n := c.head; n != nil; n = n.next {
		out = append(out, n.val)
	}
	return out
}

func (c *Cache[V]) front(n *node[V]) {
	if c.head == n {
		return
	}
	c.unlink(n)
	c.pushFront(n)
}

func (c *Cache[V]) pushFront(n *node[V]) {
	n.prev, n.next = nil, c.head
	if c.head != nil {
		c.head.prev = n
	}
	c.head = n
	if c.tail == nil {
		c.tail = n
	}
}

func (c *Cache[V]) unlink(n *node[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		c.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		c.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
