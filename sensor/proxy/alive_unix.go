//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package proxy

import (
	"errors"
	"net"
	"syscall"
)

// peeker checks an idle connection for a close by the peer: a non-blocking
// peek sees the close (or data the upstream should not have sent) without
// consuming anything. It is made once per connection so that the check
// does not allocate.
type peeker struct {
	rc   syscall.RawConn
	buf  [1]byte
	err  error
	fn   func(fd uintptr) bool
	none bool // not a socket: cannot peek
}

func newPeeker(c net.Conn) *peeker {
	p := &peeker{}
	sc, ok := c.(syscall.Conn)
	if !ok {
		p.none = true
		return p
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		p.none = true
		return p
	}
	p.rc = rc
	p.fn = func(fd uintptr) bool {
		_, _, p.err = syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait
	}
	return p
}

// alive reports whether the connection is open and quiet. It is called by
// one goroutine at a time (the connection is idle).
func (p *peeker) alive() bool {
	if p.none {
		return true
	}
	if err := p.rc.Read(p.fn); err != nil {
		return false
	}
	return errors.Is(p.err, syscall.EAGAIN) || errors.Is(p.err, syscall.EWOULDBLOCK)
}

// closedByPeer reports whether the peer of c has closed or reset the
// connection, without consuming anything: what it may have sent already
// (a pipelined request) stays to be read.
func closedByPeer(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var (
		buf  [1]byte
		n    int
		rerr error
	)
	if err := rc.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait
	}); err != nil {
		return true
	}
	switch {
	case rerr == nil:
		return n == 0 // end of stream
	case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EWOULDBLOCK), errors.Is(rerr, syscall.EINTR):
		return false
	}
	return true
}
