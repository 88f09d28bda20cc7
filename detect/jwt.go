package detect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/corazawaf/libinjection-go"
	"github.com/golang-jwt/jwt/v5"
	"github.com/vigilsec/vigil"
)

// maxJWT bounds the size of a token looked at; bigger ones are skipped.
const maxJWT = 8 << 10

// tokenMemoSlots and maxMemoJWT size the caches of parsed tokens (JWT, BFLA):
// a session sends the same token with every request, and a few thousand
// sessions are live at once. At most 2,048 tokens of 2 KiB, 4 MiB per cache;
// a larger token is parsed on each request.
const (
	tokenMemoSlots = 2048
	maxMemoJWT     = 2 << 10
)

// jwtLeeway forgives clock skew between the API and the sensor.
const jwtLeeway = 60 * time.Second

// JWTConfig configures the JWT detector. The zero value is usable.
type JWTConfig struct {
	// TrustedKeyHosts lists the hosts a token's jku or x5u header may point
	// to. Any other host is reported; with none listed, every jku or x5u is.
	TrustedKeyHosts []string
	// Keyfunc, when set, supplies the API's verification keys (the extension
	// point for signature checks): a token whose signature does not verify
	// but was answered 2xx is reported as forged. When nil, signatures are
	// not checked, since Vigil does not know the API's keys by default.
	Keyfunc jwt.Keyfunc
}

// JWT finds abuse of bearer JSON Web Tokens, reading them unverified: unsigned
// tokens (alg none, empty signature), expired or not-yet-valid tokens the API
// still accepted, header injection (kid with path traversal, SQL or shell
// syntax; jku/x5u pointing to an untrusted host; an embedded jwk) and, when
// keys are configured, forged signatures the API accepted.
type JWT struct {
	cfg    JWTConfig
	parser *jwt.Parser
	// parsed remembers recent tokens: a client sends the same token with
	// every request of its session. Entries are read-only once stored.
	parsed *memo[*parsedJWT]
}

// parsedJWT is what the detector reads from a token; nil header means the
// bearer token is not a JWT.
type parsedJWT struct {
	header   map[string]any
	claims   *jwt.RegisteredClaims
	emptySig bool
	// sig is the signature check's verdict when keys are configured: nil
	// (verified or not checked), jwt.ErrTokenSignatureInvalid,
	// errJWTUnknownKey or errJWTAlgorithm.
	sig error
}

var _ vigil.Analyzer = (*JWT)(nil)

// NewJWT returns the JWT detector.
func NewJWT(cfg JWTConfig) *JWT {
	return &JWT{cfg: cfg, parser: jwt.NewParser(), parsed: newMemoN[*parsedJWT](maxMemoJWT, tokenMemoSlots)}
}

const jwtID = "detect.auth.jwt"

// Analyze implements vigil.Analyzer.
func (d *JWT) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	raw, where := bearer(&x.Request)
	if raw == "" || len(raw) > maxJWT {
		return nil, nil
	}
	dots := strings.Count(raw, ".")
	switch dots {
	case 2:
	case 1:
		// header.payload with the signature segment dropped, dot and all:
		// an unsigned token that lenient libraries split and accept. It
		// is read as one with an empty signature (parsed with the dot
		// added, remembered under the token as sent).
	default:
		return nil, nil
	}
	p, ok := d.parsed.get(raw)
	if !ok {
		if dots == 1 {
			p = d.parse(raw + ".")
		} else {
			p = d.parse(raw)
		}
		d.parsed.put(raw, p)
	}
	if p.header == nil {
		return nil, nil // not a JWT: an opaque bearer token
	}
	header, claims := p.header, p.claims
	alg, _ := header["alg"].(string)
	if dots == 1 && alg == "" {
		return nil, nil // two base64 JSON segments, but no JWS header
	}
	ok2xx := x.Status() >= 200 && x.Status() < 300
	var out []vigil.Finding
	report := func(sev vigil.Severity, conf float64, title, value, why string) {
		ev := []vigil.Evidence{{Where: where, Value: shorten(value), Why: why}}
		out = append(out, finding(jwtID, x, vigil.API2BrokenAuth, sev, conf, title, ev))
	}
	switch {
	case strings.EqualFold(alg, "none"):
		sev, why := vigil.SeverityMedium, "token declares alg \"none\""
		if ok2xx {
			sev, why = vigil.SeverityCritical, why+" and the API answered "+fmt.Sprint(x.Status())
		}
		report(sev, 0.95, "Unsigned JWT (alg none)", "alg="+alg, why)
	case p.emptySig:
		sev, why := vigil.SeverityMedium, "token has an empty signature"
		if ok2xx {
			sev, why = vigil.SeverityCritical, why+" and the API answered "+fmt.Sprint(x.Status())
		}
		report(sev, 0.9, "Unsigned JWT (empty signature)", "alg="+alg, why)
	case p.sig != nil && ok2xx:
		kid, _ := header["kid"].(string)
		switch {
		case errors.Is(p.sig, jwt.ErrTokenSignatureInvalid):
			report(vigil.SeverityCritical, 0.95, "Forged JWT accepted", "alg="+alg,
				"signature does not verify with the configured keys, yet the API answered "+fmt.Sprint(x.Status()))
		case errors.Is(p.sig, errJWTAlgorithm):
			report(vigil.SeverityCritical, 0.9, "JWT algorithm confusion accepted", "alg="+alg,
				"no configured key is of the kind alg "+alg+" needs (e.g. HS256 against an RSA public key), yet the API answered "+fmt.Sprint(x.Status()))
		case errors.Is(p.sig, errJWTUnknownKey):
			report(vigil.SeverityMedium, 0.6, "JWT with an unknown key id accepted", "kid="+kid,
				"no configured key has this kid (a forged kid, or a key missing from the configuration), yet the API answered "+fmt.Sprint(x.Status()))
		}
	}
	if ok2xx && !x.Time.IsZero() {
		if exp, err := claims.GetExpirationTime(); err == nil && exp != nil && x.Time.After(exp.Add(jwtLeeway)) {
			report(vigil.SeverityHigh, 0.9, "Expired JWT accepted", "exp="+exp.UTC().Format(time.RFC3339),
				"token expired "+x.Time.Sub(exp.Time).Round(time.Second).String()+" before the request, yet the API answered "+fmt.Sprint(x.Status()))
		}
		if nbf, err := claims.GetNotBefore(); err == nil && nbf != nil && nbf.After(x.Time.Add(jwtLeeway)) {
			report(vigil.SeverityHigh, 0.85, "Not-yet-valid JWT accepted", "nbf="+nbf.UTC().Format(time.RFC3339),
				"token is not valid before "+nbf.UTC().Format(time.RFC3339)+", yet the API answered "+fmt.Sprint(x.Status()))
		}
	}
	if kid, ok := header["kid"].(string); ok {
		if why := kidInjection(kid); why != "" {
			report(vigil.SeverityHigh, 0.85, "JWT kid header injection", "kid="+kid, why)
		}
	}
	for _, h := range [...]string{"jku", "x5u"} {
		u, ok := header[h].(string)
		if !ok {
			continue
		}
		if why, sev := d.keyURL(u); why != "" {
			report(sev, 0.8, "JWT "+h+" header points to an untrusted key", h+"="+u, h+" "+why)
		}
	}
	if _, ok := header["jwk"]; ok {
		report(vigil.SeverityHigh, 0.85, "JWT embeds its own key", "jwk=…", "token header embeds a jwk: an API that trusts it accepts any self-signed token")
	}
	return out, nil
}

// parse reads a token unverified.
func (d *JWT) parse(raw string) *parsedJWT {
	claims := &jwt.RegisteredClaims{}
	tok, parts, err := d.parser.ParseUnverified(raw, claims)
	if tok == nil || tok.Header == nil || (err != nil && !errors.Is(err, jwt.ErrTokenUnverifiable)) {
		return &parsedJWT{}
	}
	p := &parsedJWT{header: tok.Header, claims: claims, emptySig: parts[2] == ""}
	if d.cfg.Keyfunc != nil && !p.emptySig {
		p.sig = d.verify(raw)
	}
	return p
}

// verify checks a token's signature with the configured keys and returns
// why it fails, or nil.
func (d *JWT) verify(raw string) error {
	_, err := jwt.NewParser(jwt.WithoutClaimsValidation()).Parse(raw, d.cfg.Keyfunc)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errJWTAlgorithm):
		return errJWTAlgorithm
	case errors.Is(err, errJWTUnknownKey):
		return errJWTUnknownKey
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return jwt.ErrTokenSignatureInvalid
	}
	return nil // malformed in a way the unverified reading already judged
}

// bearer finds the token of "Authorization: Bearer <t>" or, failing that, of
// an access_token query parameter.
func bearer(r *vigil.Request) (token, where string) {
	if r.Header != nil {
		if a := headerValue(r.Header, "Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			return strings.TrimSpace(a[7:]), "header.Authorization"
		}
	}
	if r.URL != nil && strings.Contains(r.URL.RawQuery, "access_token=") {
		if t := r.URL.Query().Get("access_token"); t != "" {
			return t, "query.access_token"
		}
	}
	return "", ""
}

// kidInjection judges a kid header, which some APIs use as a file name or a
// database key to look the verification key up.
func kidInjection(kid string) string {
	s := strings.ReplaceAll(strings.ToLower(kid), `\`, "/")
	switch {
	case strings.Contains(s, "../") || strings.HasPrefix(s, "/dev/") || strings.HasPrefix(s, "/proc/") || strings.HasPrefix(s, "/etc/"):
		return "kid holds a file path (path traversal to a known key file)"
	case strings.ContainsAny(s, "|;`") || strings.Contains(s, "$(") || strings.Contains(s, "&&") || commandInjection(s) != "":
		return "kid holds shell syntax"
	}
	if ok, fp := libinjection.IsSQLi(kid); ok || strings.ContainsAny(kid, "'\"") {
		return "kid holds SQL syntax " + fp
	}
	return ""
}

// keyURL judges a jku or x5u URL.
func (d *JWT) keyURL(u string) (string, vigil.Severity) {
	scheme, rest, ok := splitScheme(strings.TrimSpace(u))
	if !ok || !strings.HasPrefix(rest, "//") {
		return "is not an absolute URL", vigil.SeverityMedium
	}
	host, _ := hostOf(rest[2:])
	if why, _ := internalHost(host, true); why != "" {
		return "points to an " + why, vigil.SeverityHigh
	}
	for _, t := range d.cfg.TrustedKeyHosts {
		if strings.EqualFold(t, host) {
			if scheme != "https" {
				return "fetches keys over " + scheme, vigil.SeverityMedium
			}
			return "", 0
		}
	}
	return "points to host " + host + ", which is not a trusted key host", vigil.SeverityMedium
}
