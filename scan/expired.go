package scan

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxKeyFile caps a jwt_key_file: one PEM private key.
const maxKeyFile = 64 << 10

// expiredAge is how long before the scan a minted token expired: far past
// any clock-skew leeway a server allows (usually a minute or two).
const expiredAge = 2 * time.Hour

// loadJWTKey reads a PEM private key: RSA (PKCS#1 or #8), EC or Ed25519.
func loadJWTKey(path string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("jwt_key_file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("jwt_key_file %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("jwt_key_file %s: over %d bytes", path, maxKeyFile)
	}
	if k, err := jwt.ParseRSAPrivateKeyFromPEM(data); err == nil {
		return k, nil
	}
	if k, err := jwt.ParseECPrivateKeyFromPEM(data); err == nil {
		return k, nil
	}
	if k, err := jwt.ParseEdPrivateKeyFromPEM(data); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("jwt_key_file %s: not a PEM private key (RSA, EC or Ed25519)", path)
}

// prepareExpired sets each identity's expired token: the one it was given
// (checked to be expired when it is a JWT), or a copy of its own JWT
// signed with its key and expired; or the reason there is none.
func (r *runner) prepareExpired(now time.Time) {
	for _, id := range r.cfg.Identities {
		switch {
		case id.ExpiredToken != "":
			var c jwt.MapClaims
			if _, _, err := jwt.NewParser().ParseUnverified(id.ExpiredToken, &c); err == nil {
				exp, err := c.GetExpirationTime()
				switch {
				case err != nil || exp == nil:
					id.expiredWhy = fmt.Sprintf("the expired_token of %s has no exp claim: it never expires", id.Name)
					continue
				case !exp.Before(now):
					id.expiredWhy = fmt.Sprintf("the expired_token of %s is not expired (exp %s)", id.Name, exp.UTC().Format(time.RFC3339))
					continue
				}
			}
			id.expired = id.ExpiredToken // a JWT that has expired, or an opaque token
		case id.JWTSecret != "" || id.key != nil || id.JWTKeyFile != "":
			key := any(nil)
			switch {
			case id.JWTSecret != "":
				key = []byte(id.JWTSecret)
			case id.key != nil:
				key = id.key
			default:
				k, err := loadJWTKey(id.JWTKeyFile)
				if err != nil {
					id.expiredWhy = fmt.Sprintf("%s: %v", id.Name, err)
					continue
				}
				id.key, key = k, k
			}
			tok, err := mintExpired(id.rawToken(), key, now)
			if err != nil {
				id.expiredWhy = fmt.Sprintf("cannot make an expired token for %s: %v", id.Name, err)
				continue
			}
			id.expired = tok
		}
	}
}

// mintExpired returns a copy of the JWT tok (same header and claims) whose
// exp lies expiredAge before now, iat and nbf moved back by as much, signed
// with key: an HS secret ([]byte) or a private key. tok must verify with
// key first, so that the copy's refusal can only be for its age.
func mintExpired(tok string, key any, now time.Time) (string, error) {
	if tok == "" {
		return "", errors.New("the identity has no token to copy")
	}
	var claims jwt.MapClaims
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &claims)
	if err != nil {
		return "", errors.New("the identity's token is not a JWT")
	}
	alg, _ := parsed.Header["alg"].(string)
	method := jwt.GetSigningMethod(alg)
	if method == nil || alg == "none" {
		return "", fmt.Errorf("the identity's token has alg %q", alg)
	}
	verify := key
	switch k := key.(type) {
	case *rsa.PrivateKey:
		verify = &k.PublicKey
	case *ecdsa.PrivateKey:
		verify = &k.PublicKey
	case ed25519.PrivateKey:
		verify = k.Public().(ed25519.PublicKey)
	case crypto.Signer:
		verify = k.Public()
	}
	_, err = jwt.NewParser(jwt.WithoutClaimsValidation(), jwt.WithValidMethods([]string{alg})).Parse(tok,
		func(*jwt.Token) (any, error) { return verify, nil })
	if err != nil {
		return "", fmt.Errorf("the identity's token does not verify with its jwt_secret or jwt_key_file (%v): a copy would be refused for its signature, not its age", err)
	}
	newExp := now.Add(-expiredAge).Unix()
	shift := int64(0)
	if old, err := claims.GetExpirationTime(); err == nil && old != nil {
		shift = newExp - old.Unix()
	}
	claims["exp"] = newExp
	for _, k := range []string{"iat", "nbf"} {
		if v, ok := claims[k].(float64); ok {
			if shift == 0 {
				claims[k] = newExp - 3600
			} else {
				claims[k] = int64(v) + shift
			}
		}
	}
	out := jwt.NewWithClaims(method, claims)
	for k, v := range parsed.Header {
		if k != "alg" {
			out.Header[k] = v
		}
	}
	signed, err := out.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign with %s: %v", alg, err)
	}
	return signed, nil
}
