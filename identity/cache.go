package identity

import (
	"hash/maphash"
	"sync"
)

// Bounds of the caches, each with its reason.
const (
	// cacheShards spreads the cache over locks so that concurrent Resolve
	// calls (the proxy's handlers, the analyze reader) rarely wait.
	cacheShards = 16
	// principalGeneration is how many entries one shard's current
	// generation takes before it becomes the previous one: a shard holds at
	// most twice as many, so the principal cache holds at most
	// 2 × 16 × 256 = 8192 entries.
	principalGeneration = 256
	// maxPrincipalKey is the longest Authorization value cached. Real bearer
	// tokens are well under it; longer values are resolved every time, which
	// bounds the cache's keys to 8192 × 2 KiB = 16 MiB in the worst case
	// (about 3 MiB with typical 300-byte tokens).
	maxPrincipalKey = 2 << 10
	// uaGeneration and maxUAKey bound the User-Agent family cache the same
	// way: 2 × 16 × 64 = 2048 entries of at most 512 bytes, 1 MiB at worst.
	// Clients use few distinct User-Agents; a longer one is looked up every
	// time.
	uaGeneration = 64
	maxUAKey     = 512
	// secretGeneration and maxSecretKey bound the caches of API-key and
	// session principals: 2 × 16 × 64 = 2048 entries each of at most 256
	// bytes, 512 KiB at worst. Keys and session ids are short; a longer
	// one is hashed every time.
	secretGeneration = 64
	maxSecretKey     = 256
)

// stringCache remembers the result of a pure function of a string for
// recently seen strings: the principal of an Authorization value, so that a
// client's token is parsed (and hashed) once, not on every request; the
// family of a User-Agent. A hit gives exactly what computing again would.
//
// Each shard keeps two generations (maps): lookups try the current one, then
// the previous one, promoting a hit; when the current one is full it becomes
// the previous one and the old previous one is dropped. That approximates
// LRU with no per-entry bookkeeping and bounded memory.
type stringCache struct {
	seed       maphash.Seed
	generation int // entries per generation and shard
	maxKey     int // longest key kept
	shards     [cacheShards]cacheShard
}

type cacheShard struct {
	mu        sync.Mutex
	cur, prev map[uint64]cacheEntry
	_         [40]byte // keep shards on separate cache lines
}

// cacheEntry keeps the value itself: two values with one hash never share
// an entry.
type cacheEntry struct {
	key, value string
}

func newStringCache(generation, maxKey int) *stringCache {
	c := &stringCache{seed: maphash.MakeSeed(), generation: generation, maxKey: maxKey}
	for i := range c.shards {
		c.shards[i].cur = make(map[uint64]cacheEntry, generation)
	}
	return c
}

// get returns the cached value of key.
func (c *stringCache) get(key string) (value string, ok bool) {
	h := maphash.String(c.seed, key)
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.cur[h]; ok && e.key == key {
		return e.value, true
	}
	if e, ok := s.prev[h]; ok && e.key == key {
		s.put(h, e, c.generation)
		return e.value, true
	}
	return "", false
}

// add caches key's value. Keys longer than c.maxKey are not kept.
func (c *stringCache) add(key, value string) {
	if len(key) > c.maxKey {
		return
	}
	h := maphash.String(c.seed, key)
	s := &c.shards[h%cacheShards]
	// The key is copied: it usually points into a larger buffer (a decoded
	// line, a request's header block) that the cache must not keep alive.
	e := cacheEntry{key: string([]byte(key)), value: value}
	s.mu.Lock()
	s.put(h, e, c.generation)
	s.mu.Unlock()
}

// put stores e in the current generation, rotating when it is full. The
// caller holds s.mu.
func (s *cacheShard) put(h uint64, e cacheEntry, generation int) {
	if _, ok := s.cur[h]; !ok && len(s.cur) >= generation {
		s.prev, s.cur = s.cur, make(map[uint64]cacheEntry, generation)
	}
	s.cur[h] = e
}

// len is the number of entries, for tests.
func (c *stringCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.cur) + len(s.prev)
		s.mu.Unlock()
	}
	return n
}
