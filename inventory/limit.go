package inventory

import "github.com/vigilsec/vigil"

// Other stands for the endpoints (and hosts) a Cap folds together.
const Other = "{other}"

// Default bounds of a Cap.
const (
	DefaultMaxHosts     = 256
	DefaultMaxPerHost   = 10_000
	DefaultMaxEndpoints = 50_000
)

// standardMethods are kept when an endpoint is folded; any other method
// folds to Other as well, so that random methods cannot grow a host.
var standardMethods = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

// Cap bounds the distinct endpoints a tracker keeps, so that a flood of
// random paths or Host headers cannot grow it without limit. It admits
// endpoints until a host holds maxPerHost of them, until maxHosts hosts are
// known, or until maxEndpoints in all are known; beyond that an endpoint is
// folded into {host, method, "{other}"} (host "{other}" for a new host, method
// "{other}" for a non-standard one) and counted.
//
// A Cap remembers what it admitted; its memory is bounded by maxEndpoints. It
// is not safe for concurrent use.
type Cap struct {
	maxHosts, maxPerHost, maxEndpoints int

	hosts  map[string]int // admitted endpoints per host
	known  map[vigil.Endpoint]struct{}
	folded int64
}

// NewCap returns a Cap; a bound <= 0 takes its default.
func NewCap(maxHosts, maxPerHost, maxEndpoints int) *Cap {
	if maxHosts <= 0 {
		maxHosts = DefaultMaxHosts
	}
	if maxPerHost <= 0 {
		maxPerHost = DefaultMaxPerHost
	}
	if maxEndpoints <= 0 {
		maxEndpoints = DefaultMaxEndpoints
	}
	return &Cap{
		maxHosts: maxHosts, maxPerHost: maxPerHost, maxEndpoints: maxEndpoints,
		hosts: make(map[string]int), known: make(map[vigil.Endpoint]struct{}),
	}
}

// Admit returns e when it is known or fits, and otherwise e folded, with
// folded true. A folded endpoint is counted each time.
func (c *Cap) Admit(e vigil.Endpoint) (_ vigil.Endpoint, folded bool) {
	if _, ok := c.known[e]; ok {
		return e, false
	}
	n, hostKnown := c.hosts[e.Host]
	switch {
	case !hostKnown && len(c.hosts) >= c.maxHosts, len(c.known) >= c.maxEndpoints:
		if !hostKnown {
			e.Host = Other
		}
	case n < c.maxPerHost:
		c.hosts[e.Host] = n + 1
		c.known[e] = struct{}{}
		return e, false
	}
	c.folded++
	return Fold(e), true
}

// Fold returns e folded: the template becomes "{other}", and so does a
// method that is not a standard one.
func Fold(e vigil.Endpoint) vigil.Endpoint {
	e.Template = Other
	for _, m := range standardMethods {
		if e.Method == m {
			return e
		}
	}
	e.Method = Other
	return e
}

// Folded is how many times an endpoint was folded.
func (c *Cap) Folded() int64 { return c.folded }

// Len is the number of endpoints admitted.
func (c *Cap) Len() int { return len(c.known) }
