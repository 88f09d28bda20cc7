package identity

import (
	"net/netip"
	"sync/atomic"
)

// textSlots is the number of entries of each text cache: a client sends
// request after request from one address with one fingerprint, so a few
// hundred slots cover the clients of the moment. Memory: 2 × 256 entries of
// at most a 46-byte address or a 16-byte fingerprint.
const textSlots = 256

// texts remembers the text of recently resolved addresses and fingerprint
// digests, so that an actor's Addr and Fingerprint strings are made once per
// client instead of once per request. Each slot holds one immutable entry,
// replaced on a miss; a hit gives exactly the string formatting would.
type texts struct {
	addrs [textSlots]atomic.Pointer[addrText]
	sums  [textSlots]atomic.Pointer[sumText]
}

type addrText struct {
	a netip.Addr
	s string
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
