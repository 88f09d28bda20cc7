// Package identity resolves who sent a request: the client address after
// trusted-proxy handling, the principal named by its credentials and a
// fingerprint of the client software. Over TLS the fingerprint also covers the
// ClientHello (JA4 computes it in the handshake, ResolveTLS folds it in).
//
// Resolve runs on the proxy's hot path for every request, so it parses no
// more than it needs and never verifies anything: a JWT is read unverified,
// which makes its subject a claim, not a proof. Secrets never reach the Actor;
// API keys, session ids and opaque tokens are replaced by a short digest.
//
// Principal precedence, first match wins:
//
//  1. Authorization: Bearer <JWT with a usable "sub"> -> "jwt:<sub>"
//  2. Authorization: Basic <user:password>            -> "basic:<user>"
//  3. Authorization: Bearer <anything else>           -> "bearer:<digest>"
//     (opaque tokens, JWTs without "sub", tokens over 8 KiB); any other
//     Authorization scheme                             -> "apikey:<digest>"
//  4. the first configured API key header             -> "apikey:<digest>"
//  5. the first configured session cookie             -> "session:<digest>"
//
// A <digest> is the first 12 hex digits of the SHA-256 of the secret. A JWT
// subject or Basic user that is long (over 128 bytes) or not printable ASCII
// is replaced by "sha256-<digest>" of it, so principals stay short and safe
// to log.
//
// The principal of an Authorization value is cached (a bounded, sharded
// cache of at most 8192 values of up to 2 KiB each), so a token is parsed
// once, not on every request; so is the family of a User-Agent (at most 2048
// of up to 512 bytes), and the principal of an API key or a session id (at
// most 2048 each of up to 256 bytes). The caches change nothing but speed.
package identity

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vigilsec/vigil"
)

// Caps, each with its reason.
const (
	// maxJWTBytes bounds the token handed to the JWT parser: real tokens are
	// well under 2 KiB and parsing costs time in proportion.
	maxJWTBytes = 8 << 10
	// maxNameBytes bounds a subject or user name kept verbatim.
	maxNameBytes = 128
	// maxHops bounds the X-Forwarded-For walk: a hostile client can send
	// thousands of entries.
	maxHops = 32
)

// Config says which headers to trust and which carry credentials.
type Config struct {
	// ClientIPHeader names the header a trusted proxy puts the client address
	// in, e.g. "X-Forwarded-For" or "X-Real-IP"; "" uses the peer address.
	ClientIPHeader string
	// TrustedProxies are the peers allowed to set ClientIPHeader.
	TrustedProxies []netip.Prefix
	// APIKeyHeaders carry API keys; the first present wins.
	APIKeyHeaders []string
	// SessionCookies name session cookies; the first in this order wins.
	SessionCookies []string
}

// Default returns the default configuration: the peer address is the client
// and the usual API key headers and session cookies are recognised.
func Default() Config {
	return Config{
		APIKeyHeaders:  []string{"X-Api-Key", "Api-Key", "X-Auth-Token"},
		SessionCookies: []string{"session", "sessionid", "sid", "JSESSIONID", "PHPSESSID", "connect.sid"},
	}
}

// Resolver resolves actors. It is safe for concurrent use.
type Resolver struct {
	clientHeader   string // canonical; "" = peer only
	trusted        []netip.Prefix
	apiKeyHeaders  []string // canonical
	sessionCookies []string
	parser         *jwt.Parser
	principals     *stringCache // Authorization value -> principal
	uaFamilies     *stringCache // User-Agent -> UAFamily
	apiKeys        *stringCache // API key -> principal
	sessions       *stringCache // session id -> principal
	texts          texts        // addresses and fingerprints as text
	// names are the header names resolve's one pass over a request's
	// header knows (withAPIKeys); nil when there are too many API-key
	// headers, and then each is looked up.
	names map[string]nameInfo
}

// New checks cfg and returns a Resolver.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{
		clientHeader:   textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(cfg.ClientIPHeader)),
		sessionCookies: cfg.SessionCookies,
		parser:         jwt.NewParser(),
		principals:     newStringCache(principalGeneration, maxPrincipalKey),
		uaFamilies:     newStringCache(uaGeneration, maxUAKey),
		apiKeys:        newStringCache(secretGeneration, maxSecretKey),
		sessions:       newStringCache(secretGeneration, maxSecretKey),
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, vigil.Errorf(vigil.EINVALID, "identity: invalid trusted proxy prefix %v", p)
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	if r.clientHeader != "" && !validHeaderName(r.clientHeader) {
		return nil, vigil.Errorf(vigil.EINVALID, "identity: client IP header %q is not a header name", cfg.ClientIPHeader)
	}
	for _, h := range cfg.APIKeyHeaders {
		if !validHeaderName(h) {
			return nil, vigil.Errorf(vigil.EINVALID, "identity: API key header %q is not a header name", h)
		}
		r.apiKeyHeaders = append(r.apiKeyHeaders, textproto.CanonicalMIMEHeaderKey(h))
	}
	r.names = withAPIKeys(r.apiKeyHeaders)
	for _, c := range cfg.SessionCookies {
		if c == "" || strings.ContainsAny(c, "=; \t") {
			return nil, vigil.Errorf(vigil.EINVALID, "identity: session cookie name %q is invalid", c)
		}
	}
	return r, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// Resolve returns who sent a request seen from peer ("ip:port", "ip", or ""
// for imported traffic that has no peer) with headers h.
//
// Addr is the peer's IP, unless the peer is a trusted proxy and the client IP
// header is set: then the header's rightmost address that is not a trusted
// proxy. With no peer, the client IP header is used if configured, otherwise
// X-Forwarded-For and then X-Real-IP, by the same rule. An unparsable peer
// gives no address and trusts no header.
//
// h must have canonical keys, as net/http and package ingest give them; it is
// only read.
func (r *Resolver) Resolve(peer string, h http.Header) vigil.Actor {
	return r.resolve(peer, h, "")
}

// resolve is Resolve with the ClientHello's JA4 folded into the
// fingerprint ("" for none), formatted once. One pass over the header
// names collects what the principal and the fingerprint need (scanHeaders),
// instead of a map lookup for each header they read.
func (r *Resolver) resolve(peer string, h http.Header, ja4 string) vigil.Actor {
	s := r.scan(h)
	return vigil.Actor{
		Principal:   r.scannedPrincipal(&s),
		Addr:        r.addr(peer, h),
		Fingerprint: r.texts.sum(withTLS(s.sum(r.uaFamily(s.ua)), ja4)),
	}
}

// scan is scanHeaders through r.names; with more API-key headers than
// r.names can hold, through knownNames, the API key then looked up by name.
func (r *Resolver) scan(h http.Header) headerScan {
	if r.names != nil {
		return scanHeaders(h, r.names)
	}
	s := scanHeaders(h, knownNames)
	for _, name := range r.apiKeyHeaders {
		if v := first(h, name); v != "" {
			s.apiKey = v
			break
		}
	}
	return s
}

// uaFamily is UAFamily through the cache.
func (r *Resolver) uaFamily(ua string) string {
	if ua == "" {
		return "" // UAFamily(""), without the cache's lock
	}
	if f, ok := r.uaFamilies.get(ua); ok {
		return f
	}
	f := UAFamily(ua)
	r.uaFamilies.add(ua, f)
	return f
}

func (r *Resolver) addr(peer string, h http.Header) string {
	if peer == "" {
		if r.clientHeader != "" {
			return r.texts.addr(r.fromHeader(h, r.clientHeader))
		}
		if a := r.fromHeader(h, "X-Forwarded-For"); a.IsValid() {
			return r.texts.addr(a)
		}
		return r.texts.addr(r.fromHeader(h, "X-Real-Ip"))
	}
	p, text, ok := r.texts.peer(peer) // parseAddr(peer), r.texts.addr(p)
	if !ok {
		return ""
	}
	if r.clientHeader != "" && r.isTrusted(p) {
		if a := r.fromHeader(h, r.clientHeader); a.IsValid() {
			return r.texts.addr(a)
		}
	}
	return text
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// fromHeader walks the comma-separated addresses of every line of the header
// from the right: trusted proxies are skipped, the first untrusted address is
// the client. An invalid entry stops the walk at the last valid address
// (a client cannot forge past a proxy that appended it). It allocates nothing.
func (r *Resolver) fromHeader(h http.Header, name string) netip.Addr {
	vals := h[name]
	var last netip.Addr
	hops := 0
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		for {
			var part string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				part, v = v[j+1:], v[:j]
			} else {
				part, v = v, ""
			}
			if hops++; hops > maxHops {
				return last
			}
			a, ok := parseAddr(strings.TrimSpace(part))
			if !ok {
				return last
			}
			last = a
			if !r.isTrusted(a) {
				return a
			}
			if v == "" {
				break
			}
		}
	}
	return last
}

// parseAddr reads "ip", "ip:port", "[ip]:port" or "[ip]" and returns the
// address unmapped and without a zone.
func parseAddr(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	var a netip.Addr
	switch i := strings.LastIndexByte(s, ':'); {
	case s[0] == '[' && s[len(s)-1] == ']':
		s = s[1 : len(s)-1]
	case i >= 0 && (s[0] == '[' || strings.IndexByte(s[:i], ':') < 0):
		// "ip:port" or "[ip]:port"
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		return ap.Addr().Unmap().WithZone(""), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// scannedPrincipal is the principal a request's credentials name, from the
// scan of its headers (Resolver.scan): the Authorization value, else the
// first configured API-key header's, else a session cookie's.
func (r *Resolver) scannedPrincipal(s *headerScan) string {
	if s.auth != "" {
		if p := r.authorization(s.auth); p != "" {
			return p
		}
	}
	if s.apiKey != "" {
		return secretPrincipal(r.apiKeys, "apikey:", s.apiKey)
	}
	if len(r.sessionCookies) > 0 {
		if v := r.sessionCookie(s.cookie); v != "" {
			return secretPrincipal(r.sessions, "session:", v)
		}
	}
	return ""
}

// secretPrincipal is prefix + digest(secret) through c: a client sends the
// same key or session id on every request, and hashing it costs more than
// the lookup.
func secretPrincipal(c *stringCache, prefix, secret string) string {
	if len(secret) > maxSecretKey {
		return prefix + digest(secret)
	}
	if p, ok := c.get(secret); ok {
		return p
	}
	p := prefix + digest(secret)
	c.add(secret, p)
	return p
}

// authorization is fromAuthorization through the cache: a client sends the
// same token on every request, and parsing a JWT costs microseconds.
func (r *Resolver) authorization(auth string) string {
	if p, ok := r.principals.get(auth); ok {
		return p
	}
	p := r.fromAuthorization(auth)
	r.principals.add(auth, p)
	return p
}

func (r *Resolver) fromAuthorization(auth string) string {
	auth = strings.TrimSpace(auth)
	scheme, cred, _ := strings.Cut(auth, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case cred == "":
		if scheme == "" {
			return ""
		}
		return "apikey:" + digest(auth) // a bare token without a scheme
	case strings.EqualFold(scheme, "Bearer"):
		if sub, ok := r.jwtSubject(cred); ok {
			return "jwt:" + safeName(sub)
		}
		return "bearer:" + digest(cred)
	case strings.EqualFold(scheme, "Basic"):
		if user, ok := basicUser(cred); ok {
			return "basic:" + safeName(user)
		}
		return "basic:" + "sha256-" + digest(cred)
	default:
		return "apikey:" + digest(auth)
	}
}

// jwtSubject reads the "sub" claim of an UNVERIFIED JWT: the signature is
// never checked, so the subject is what the client claims, not a proof. A
// string sub or a number is accepted; a missing or empty one is not (the
// caller then keys on the token's digest, so tokens without a subject never
// share a principal). A token golang-jwt's ParseUnverified rejects gives no
// subject; jwtSubFast decides the usual tokens the same way without it.
func (r *Resolver) jwtSubject(tok string) (string, bool) {
	if len(tok) > maxJWTBytes || strings.Count(tok, ".") != 2 {
		return "", false
	}
	switch sub, v := jwtSubFast(tok); v {
	case jwtAccepted:
		return sub, true
	case jwtRejected:
		return "", false
	}
	return r.jwtSubjectSlow(tok)
}

// jwtSubjectSlow is jwtSubject through golang-jwt, for the tokens the fast
// reader leaves undecided.
func (r *Resolver) jwtSubjectSlow(tok string) (string, bool) {
	var claims subClaim
	if _, _, err := r.parser.ParseUnverified(tok, &claims); err != nil {
		return "", false
	}
	switch sub := claims.Sub.(type) {
	case string:
		return sub, sub != ""
	case float64:
		return strconv.FormatFloat(sub, 'f', -1, 64), true
	}
	return "", false
}

// subClaim decodes only "sub" (a string or a number), which is cheaper than
// a map of every claim. Nothing is validated: the token is unverified.
type subClaim struct {
	Sub any `json:"sub"`
}

func (subClaim) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (subClaim) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (subClaim) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (subClaim) GetIssuer() (string, error)                   { return "", nil }
func (subClaim) GetSubject() (string, error)                  { return "", nil }
func (subClaim) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

func basicUser(cred string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return "", false
	}
	user, _, ok := strings.Cut(string(b), ":")
	return user, ok && user != ""
}

// sessionCookie returns the value of the configured session cookie that
// comes first in the configuration.
func (r *Resolver) sessionCookie(lines []string) string {
	best, bestRank := "", len(r.sessionCookies)
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || val == "" {
				continue
			}
			for i := 0; i < bestRank; i++ {
				if r.sessionCookies[i] == name {
					best, bestRank = strings.Trim(val, `"`), i
					break
				}
			}
		}
	}
	return best
}

// digest is the first 12 hex digits of the SHA-256 of a secret.
func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// safeName keeps a subject or user name that is short printable ASCII and
// replaces any other by a digest.
func safeName(s string) string {
	if len(s) <= maxNameBytes {
		ok := true
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f {
				ok = false
				break
			}
		}
		if ok {
			return s
		}
	}
	return "sha256-" + digest(s)
}

// String describes the resolver's trust settings for logs.
func (r *Resolver) String() string {
	return fmt.Sprintf("identity(client-ip-header=%q trusted=%v)", r.clientHeader, r.trusted)
}
