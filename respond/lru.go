package respond

// lru is a map bounded to max entries: putting a new key into a full map
// forgets the least recently used one. Not safe for concurrent use.
type lru[V any] struct {
	max  int
	m    map[string]*lruNode[V]
	head *lruNode[V] // most recently used
	tail *lruNode[V] // least recently used
}

type lruNode[V any] struct {
	key        string
	val        V
	prev, next *lruNode[V]
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, m: make(map[string]*lruNode[V])}
}

func (l *lru[V]) len() int { return len(l.m) }

// get returns the value for key and marks it used.
func (l *lru[V]) get(key string) (*V, bool) {
	n, ok := l.m[key]
	if !ok {
		return nil, false
	}
	l.front(n)
	return &n.val, true
}

// put sets key's value and marks it used; it reports whether another key was
// forgotten to make room.
func (l *lru[V]) put(key string, v V) (evicted bool) {
	if n, ok := l.m[key]; ok {
		n.val = v
		l.front(n)
		return false
	}
	var n *lruNode[V]
	if len(l.m) >= l.max && l.tail != nil {
		// Reuse the forgotten node.
		n = l.tail
		l.unlink(n)
		delete(l.m, n.key)
		evicted = true
		*n = lruNode[V]{}
	} else {
		n = new(lruNode[V])
	}
	n.key, n.val = key, v
	l.m[key] = n
	l.pushFront(n)
	return evicted
}

func (l *lru[V]) del(key string) {
	if n, ok := l.m[key]; ok {
		l.unlink(n)
		delete(l.m, key)
	}
}

// oldest returns the least recently used entry.
func (l *lru[V]) oldest() (string, *V, bool) {
	if l.tail == nil {
		return "", nil, false
	}
	return l.tail.key, &l.tail.val, true
}

func (l *lru[V]) front(n *lruNode[V]) {
	if l.head == n {
		return
	}
	l.unlink(n)
	l.pushFront(n)
}

func (l *lru[V]) pushFront(n *lruNode[V]) {
	n.prev, n.next = nil, l.head
	if l.head != nil {
		l.head.prev = n
	}
	l.head = n
	if l.tail == nil {
		l.tail = n
	}
}

func (l *lru[V]) unlink(n *lruNode[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
