// Package graceful makes http.Server.Shutdown quick with clients that open
// connections ahead of need.
//
// Shutdown closes idle connections at once and waits for active ones; a
// connection that has not sent a byte yet (http.StateNew) counts as active
// for its first five seconds. Browsers preconnect, and HTTP clients' pools
// dial spares under load (Go's own transport does), so such connections are
// common, and a Shutdown with a deadline of a few seconds then fails with
// "context deadline exceeded" while no request was in flight.
package graceful

import (
	"net"
	"net/http"
	"sync"
)

// CloseUnused makes srv's Shutdown close, as soon as it starts, every
// connection that has not sent a byte of a request, and any accepted after;
// requests in flight still get Shutdown's grace. It keeps the ConnState hook
// srv already has. Call it before srv serves.
func CloseUnused(srv *http.Server) {
	u := &unused{conns: map[net.Conn]struct{}{}, next: srv.ConnState}
	srv.ConnState = u.track
	srv.RegisterOnShutdown(u.close)
}

// unused tracks a server's connections in http.StateNew.
type unused struct {
	next func(net.Conn, http.ConnState) // the hook CloseUnused found

	mu      sync.Mutex
	closing bool
	conns   map[net.Conn]struct{}
}

func (u *unused) track(c net.Conn, st http.ConnState) {
	if u.next != nil {
		u.next(c, st)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case st == http.StateNew && u.closing:
		c.Close()
	case st == http.StateNew:
		u.conns[c] = struct{}{}
	default:
		delete(u.conns, c)
	}
}

// close runs when Shutdown begins (after the listeners are closed).
func (u *unused) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closing = true
	for c := range u.conns {
		c.Close()
	}
	clear(u.conns)
}
