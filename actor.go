package vigil

// Actor is who sent an Exchange. Detection state and enforcement are keyed on
// one of its keys.
type Actor struct {
	// Principal is the authenticated identity with its kind as a prefix:
	// "jwt:<sub>", "apikey:<digest>", "basic:<user>", "session:<digest>".
	// Empty for anonymous traffic. Secrets never appear here: API keys and
	// session ids are replaced by a short digest.
	Principal string `json:"principal,omitempty"`
	// Addr is the client IP address (no port), after trusted-proxy handling.
	Addr string `json:"addr,omitempty"`
	// Fingerprint identifies the client software (header names and order,
	// User-Agent family, TLS ClientHello when known).
	Fingerprint string `json:"fingerprint,omitempty"`
}

// KeyKind names which of an actor's identities a key is built from.
type KeyKind string

// The key kinds an action can target.
const (
	KeyPrincipal   KeyKind = "principal"
	KeyAddr        KeyKind = "addr"
	KeyFingerprint KeyKind = "fingerprint"
)

// KeyOf returns the actor's key of the given kind ("addr:203.0.113.9"), or ""
// when the actor has no such identity.
func (a Actor) KeyOf(kind KeyKind) string {
	var v string
	switch kind {
	case KeyPrincipal:
		v = a.Principal
	case KeyAddr:
		v = a.Addr
	case KeyFingerprint:
		v = a.Fingerprint
	}
	if v == "" {
		return ""
	}
	return string(kind) + ":" + v
}

// Key is the actor's primary key: its principal when it has one, otherwise its
// address, otherwise its fingerprint. The pipeline shards on it.
func (a Actor) Key() string {
	for _, k := range [...]KeyKind{KeyPrincipal, KeyAddr, KeyFingerprint} {
		if key := a.KeyOf(k); key != "" {
			return key
		}
	}
	return "anonymous"
}

// Keys returns every key the actor has, principal first. Enforcement checks
// each of them.
func (a Actor) Keys() []string {
	keys := make([]string, 0, 3)
	for _, k := range [...]KeyKind{KeyPrincipal, KeyAddr, KeyFingerprint} {
		if key := a.KeyOf(k); key != "" {
			keys = append(keys, key)
		}
	}
	return keys
}
