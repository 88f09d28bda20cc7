package detect

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"

	"github.com/golang-jwt/jwt/v5"
)

// Bounds of key files: a JWKS file or PEM bundle is small, and a key file is
// configuration, not traffic, but a mistaken path (a log file) must fail
// clearly instead of filling memory.
const (
	maxKeyFile    = 1 << 20
	maxKeys       = 256
	maxRSAKeyBits = 8192
)

// The verdicts of JWTKeys.Keyfunc when no key can check a token.
var (
	// errJWTUnknownKey: the token names a kid no configured key has.
	errJWTUnknownKey = errors.New("no configured key has the token's kid")
	// errJWTAlgorithm: no configured key is of the kind the token's alg
	// needs, e.g. HS256 while the API signs with RSA (algorithm confusion).
	errJWTAlgorithm = errors.New("no configured key fits the token's algorithm")
)

// JWTKeys are an API's token verification keys, read from PEM and JWKS files.
type JWTKeys struct {
	keys []jwtKey
}

// jwtKey is one verification key: *rsa.PublicKey, *ecdsa.PublicKey,
// ed25519.PublicKey or []byte (an HMAC secret from a JWKS "oct" key).
type jwtKey struct {
	kid string
	key any
}

// LoadJWTKeys reads verification keys from files. A file holding JSON is a
// JWKS ({"keys": [...]}) or a single JWK; anything else is PEM: PUBLIC KEY,
// RSA PUBLIC KEY and CERTIFICATE blocks (private keys are refused: Vigil only
// verifies).
func LoadJWTKeys(paths ...string) (*JWTKeys, error) {
	ks := &JWTKeys{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("JWT keys: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("JWT keys %s: %w", p, err)
		}
		if len(b) > maxKeyFile {
			return nil, fmt.Errorf("JWT keys %s: larger than %d bytes", p, maxKeyFile)
		}
		keys, err := parseJWTKeys(b)
		if err != nil {
			return nil, fmt.Errorf("JWT keys %s: %w", p, err)
		}
		ks.keys = append(ks.keys, keys...)
		if len(ks.keys) > maxKeys {
			return nil, fmt.Errorf("JWT keys: more than %d keys", maxKeys)
		}
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("JWT keys: the files hold no key")
	}
	return ks, nil
}

// Len is the number of keys.
func (k *JWTKeys) Len() int { return len(k.keys) }

// Keyfunc is a jwt.Keyfunc: the keys that fit the token's algorithm and,
// when it names one, its kid.
func (k *JWTKeys) Keyfunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	var set jwt.VerificationKeySet
	fits, kidKnown := false, false
	for _, c := range k.keys {
		if !keyFits(t.Method, c.key) {
			continue
		}
		fits = true
		if kid != "" && c.kid != "" && c.kid != kid {
			continue
		}
		kidKnown = true
		set.Keys = append(set.Keys, c.key)
	}
	switch {
	case !fits:
		return nil, errJWTAlgorithm
	case !kidKnown:
		return nil, errJWTUnknownKey
	}
	return set, nil
}

// keyFits says whether a key is of the kind the signing method verifies with.
func keyFits(m jwt.SigningMethod, key any) bool {
	switch m.(type) {
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		_, ok := key.(*rsa.PublicKey)
		return ok
	case *jwt.SigningMethodECDSA:
		_, ok := key.(*ecdsa.PublicKey)
		return ok
	case *jwt.SigningMethodEd25519:
		_, ok := key.(ed25519.PublicKey)
		return ok
	case *jwt.SigningMethodHMAC:
		_, ok := key.([]byte)
		return ok
	}
	return false
}

// parseJWTKeys reads the keys of one file's content.
func parseJWTKeys(b []byte) ([]jwtKey, error) {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return parseJWKS(t)
	}
	var out []jwtKey
	for len(out) <= maxKeys {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		var (
			key any
			err error
		)
		switch blk.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(blk.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(blk.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(blk.Bytes); err == nil {
				key = c.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %q: want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE (never a private key)", blk.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", blk.Type, err)
		}
		if err := checkKey(key); err != nil {
			return nil, err
		}
		out = append(out, jwtKey{key: key})
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM block and not a JWKS")
	}
	return out, nil
}

// jwk is one JSON Web Key (RFC 7517), public parts only.
type jwk struct {
	Kty string   `json:"kty"`
	Kid string   `json:"kid"`
	Use string   `json:"use"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	Crv string   `json:"crv"`
	X   string   `json:"x"`
	Y   string   `json:"y"`
	K   string   `json:"k"`
	D   string   `json:"d"`
	X5c []string `json:"x5c"`
}

// parseJWKS reads a JWKS document or a single JWK.
func parseJWKS(b []byte) ([]jwtKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
		jwk
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	raws := doc.Keys
	if raws == nil {
		raws = []json.RawMessage{b}
	}
	if len(raws) > maxKeys {
		return nil, fmt.Errorf("JWKS: more than %d keys", maxKeys)
	}
	var out []jwtKey
	for i, r := range raws {
		var k jwk
		if err := json.Unmarshal(r, &k); err != nil {
			return nil, fmt.Errorf("JWKS key %d: %w", i, err)
		}
		if k.Use == "enc" {
			continue // an encryption key verifies no signature
		}
		key, err := k.public()
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d (kid %q): %w", i, shorten(k.Kid), err)
		}
		out = append(out, jwtKey{kid: k.Kid, key: key})
	}
	if len(out) == 0 {
		return nil, errors.New("JWKS holds no signature key")
	}
	return out, nil
}

// public builds the key a JWK describes.
func (k *jwk) public() (any, error) {
	b64 := base64.RawURLEncoding
	dec := func(s string) ([]byte, error) {
		return b64.DecodeString(trimPad(s))
	}
	switch k.Kty {
	case "RSA":
		if k.D != "" {
			return nil, errors.New("a private RSA key: give the public key only")
		}
		n, err1 := dec(k.N)
		e, err2 := dec(k.E)
		if err := errors.Join(err1, err2); err != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA n or e")
		}
		key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		return key, checkKey(key)
	case "EC":
		if k.D != "" {
			return nil, errors.New("a private EC key: give the public key only")
		}
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("EC curve %q: want P-256, P-384 or P-521", shorten(k.Crv))
		}
		x, err1 := dec(k.X)
		y, err2 := dec(k.Y)
		size := (curve.Params().BitSize + 7) / 8
		if errors.Join(err1, err2) != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC x or y")
		}
		return ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
	case "OKP":
		x, err := dec(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("want an Ed25519 OKP key with a 32-byte x")
		}
		return ed25519.PublicKey(x), nil
	case "oct":
		s, err := dec(k.K)
		if err != nil || len(s) == 0 {
			return nil, errors.New("bad oct k")
		}
		return s, nil
	case "":
		if len(k.X5c) > 0 {
			der, err := base64.StdEncoding.DecodeString(k.X5c[0])
			if err != nil {
				return nil, errors.New("bad x5c")
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, err
			}
			return c.PublicKey, checkKey(c.PublicKey)
		}
	}
	return nil, fmt.Errorf("key type %q: want RSA, EC, OKP or oct", shorten(k.Kty))
}

func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}

// checkKey refuses keys Vigil cannot or should not verify with.
func checkKey(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 512 || k.N.BitLen() > maxRSAKeyBits || k.E < 3 || k.E%2 == 0 {
			return fmt.Errorf("RSA key of %d bits with exponent %d is not usable", k.N.BitLen(), k.E)
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return fmt.Errorf("unsupported key type %T", key)
	}
	return nil
}
