package detect

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilsec/vigil"
)

// UnauthConfig bounds and tunes the unauthenticated access detector. The zero
// value is usable.
type UnauthConfig struct {
	// MinAuthed is how many successful authenticated calls an endpoint needs
	// before it can count as requiring credentials. 0 means 20.
	MinAuthed int
	// Reopen is how many distinct addresses may succeed anonymously on a
	// protected endpoint before Vigil concludes it was made public and stops
	// reporting it. 0 means 20.
	Reopen int
	// MaxEndpoints caps the endpoints tracked. 0 means 20000.
	MaxEndpoints int
}

// Unauth finds successful calls without credentials to endpoints that
// normally require them (broken authentication: a missing check on one
// route, a bypass through a header or a path variant).
//
// Per endpoint (method, host, path template) it learns from traffic whether
// credentials are required: an endpoint is protected once it has answered
// MinAuthed authenticated calls with 2xx, has refused at least one call
// without credentials (401 or 403) and has never answered one with 2xx.
// After that, a 2xx to a call without credentials is reported (high). If
// Reopen distinct addresses succeed anonymously, the endpoint is taken to be
// public now and is no longer reported. State is at most MaxEndpoints
// entries of a few counters, under a lock.
type Unauth struct {
	cfg UnauthConfig
	mu  sync.Mutex
	eps map[string]*authStats
}

// authStats is what one endpoint taught about credentials.
type authStats struct {
	authed2xx, anonDenied, anon2xx int
	protected, reopened            bool
	anonAddrs                      map[string]struct{} // after protection, up to Reopen
}

var _ vigil.Analyzer = (*Unauth)(nil)

const unauthID = "detect.auth.unauthenticated"

// NewUnauth returns the unauthenticated access detector.
func NewUnauth(cfg UnauthConfig) *Unauth {
	if cfg.MinAuthed <= 0 {
		cfg.MinAuthed = 20
	}
	if cfg.Reopen <= 0 {
		cfg.Reopen = 20
	}
	if cfg.MaxEndpoints <= 0 {
		cfg.MaxEndpoints = 20000
	}
	return &Unauth{cfg: cfg, eps: map[string]*authStats{}}
}

// Analyze implements vigil.Analyzer.
func (d *Unauth) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	st := x.Status()
	ok2xx := st >= 200 && st < 300
	denied := st == 401 || st == 403
	if !ok2xx && !denied {
		return nil, nil
	}
	rq := &x.Request
	if rq.Method == "OPTIONS" {
		return nil, nil // CORS preflights carry no credentials by design
	}
	var kb [128]byte
	key, tmpl := endpointKeyIn(kb[:0], x)
	authed := hasCredentials(rq)

	d.mu.Lock()
	e := boundedEntryIn(d.eps, key, d.cfg.MaxEndpoints)
	if e == nil {
		d.mu.Unlock()
		return nil, nil
	}
	var report bool
	var authedN int
	switch {
	case authed && ok2xx:
		e.authed2xx = min(e.authed2xx+1, 1<<30)
	case !authed && denied:
		e.anonDenied = min(e.anonDenied+1, 1<<30)
	case !authed && ok2xx && e.protected && !e.reopened:
		if e.anonAddrs == nil {
			e.anonAddrs = map[string]struct{}{}
		}
		e.anonAddrs[addrOf(x)] = struct{}{}
		if len(e.anonAddrs) >= d.cfg.Reopen {
			e.reopened, e.anonAddrs = true, nil
		} else {
			report, authedN = true, e.authed2xx
		}
	case !authed && ok2xx:
		e.anon2xx++
	}
	if !e.protected && e.authed2xx >= d.cfg.MinAuthed && e.anonDenied > 0 && e.anon2xx == 0 {
		e.protected = true
	}
	d.mu.Unlock()
	if !report {
		return nil, nil
	}
	ev := []vigil.Evidence{
		{Where: "request.credentials", Value: "none", Why: "no Authorization header, API key or session cookie"},
		{Where: "endpoint", Value: shorten(rq.Method + " " + tmpl),
			Why: "the endpoint answered " + strconv.Itoa(authedN) + " authenticated calls with 2xx and refused calls without credentials, yet answered this one " + strconv.Itoa(st)},
	}
	return []vigil.Finding{finding(unauthID, x, vigil.API2BrokenAuth, vigil.SeverityHigh, 0.75, "Protected endpoint answered a call without credentials", ev)}, nil
}

// addrOf is the client address of an exchange: the resolved actor's, else
// the peer's.
func addrOf(x *vigil.Exchange) string {
	if x.Actor.Addr != "" {
		return x.Actor.Addr
	}
	return hostOnly(x.Client.Addr)
}

// hostOnly strips a port from "ip:port" or "[v6]:port"; anything else (a
// bare address, an empty or non-numeric port) is returned as it is.
func hostOnly(a string) string {
	i := len(a) - 1
	for i >= 0 && a[i] >= '0' && a[i] <= '9' {
		i--
	}
	if i < 0 || a[i] != ':' || i == len(a)-1 {
		return a
	}
	h := a[:i]
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	if strings.IndexByte(h, ':') >= 0 {
		return a // a bare IPv6 address
	}
	return h
}
