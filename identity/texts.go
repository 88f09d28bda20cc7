package identity

import (
	"hash/maphash"
	"net/netip"
	"strings"
	"sync/atomic"
)

// textSlots is the number of entries of each text cache: a client sends
// request after request from one address with one fingerprint, so a few
// hundred slots cover the clients of the moment. Memory: 3 × 256 entries of
// at most a 46-byte address, a 16-byte fingerprint, or a peer's address
// text (up to maxPeerHost bytes) and its 46-byte address.
const textSlots = 256

// maxPeerHost bounds the peer texts the cache keeps: "[" + the longest IPv6
// text + "]". A longer one (an IPv6 zone, which parseAddr drops) is parsed
// each time.
const maxPeerHost = 48

// texts remembers the text of recently resolved addresses and fingerprint
// digests, so that an actor's Addr and Fingerprint strings are made once per
// client instead of once per request. Each slot holds one immutable entry,
// replaced on a miss; a hit gives exactly the string formatting would.
type texts struct {
	addrs [textSlots]atomic.Pointer[addrText]
	sums  [textSlots]atomic.Pointer[sumText]
	peers [textSlots]atomic.Pointer[peerText]
}

type addrText struct {
	a netip.Addr
	s string
}

// peerText is a peer's address text before its port ("127.0.0.1",
// "[::1]"), what parseAddr makes of it with any valid port, and its text.
type peerText struct {
	host string
	a    netip.Addr
	s    string
}

type sumText struct {
	v uint64
	s string
}

// addr is a.String(), "" for the zero Addr.
func (t *texts) addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	b := a.As16()
	var h uint64
	for _, c := range b {
		h = h*31 + uint64(c)
	}
	slot := &t.addrs[mix(h)%textSlots]
	if e := slot.Load(); e != nil && e.a == a {
		return e.s
	}
	e := &addrText{a: a, s: a.String()}
	slot.Store(e)
	return e.s
}

// sum is hex16(v).
func (t *texts) sum(v uint64) string {
	slot := &t.sums[mix(v)%textSlots]
	if e := slot.Load(); e != nil && e.v == v {
		return e.s
	}
	e := &sumText{v: v, s: hex16(v)}
	slot.Store(e)
	return e.s
}

var peerSeed = maphash.MakeSeed()

// peer is parseAddr(peer) and addr of the result, without parsing the
// address again for each request of a client: an "ip:port" peer with a
// plain port (1 to 5 digits, at most 65535, which ParseAddrPort accepts)
// is looked up by its ip text, since its address does not depend on the
// port; any other peer is parsed.
func (t *texts) peer(peer string) (netip.Addr, string, bool) {
	host, ok := peerHost(peer)
	if !ok || len(host) > maxPeerHost {
		a, ok := parseAddr(peer)
		if !ok {
			return netip.Addr{}, "", false
		}
		return a, t.addr(a), true
	}
	slot := &t.peers[maphash.String(peerSeed, host)%textSlots]
	if e := slot.Load(); e != nil && e.host == host {
		return e.a, e.s, true
	}
	a, ok := parseAddr(peer)
	if !ok {
		return netip.Addr{}, "", false // not cached: rare, and parsed each time
	}
	e := &peerText{host: strings.Clone(host), a: a, s: t.addr(a)}
	slot.Store(e)
	return e.a, e.s, true
}

// peerHost returns the ip text of a peer that parseAddr reads as "ip:port"
// or "[ip]:port" with a plain port; ok is false for any other form.
func peerHost(s string) (string, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || (s[0] != '[' && strings.IndexByte(s[:i], ':') >= 0) {
		return "", false
	}
	port := s[i+1:]
	if len(port) == 0 || len(port) > 5 {
		return "", false
	}
	n := 0
	for j := 0; j < len(port); j++ {
		c := port[j]
		if c < '0' || c > '9' {
			return "", false
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return "", false
	}
	return s[:i], true
}
