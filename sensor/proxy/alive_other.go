//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package proxy

import "net"

// peeker cannot peek on this platform: a closed idle connection shows up
// when it is used, and an idempotent request is then retried.
type peeker struct{}

func newPeeker(net.Conn) *peeker { return &peeker{} }

func (*peeker) alive() bool { return true }

// closedByPeer cannot tell on this platform: a client that left is noticed
// when its answer is written.
func closedByPeer(net.Conn) bool { return false }
