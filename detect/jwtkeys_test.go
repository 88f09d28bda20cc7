package detect

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/vigilsec/vigil"
)

// testKeys are the keys of the JWT key tests, made once.
type testKeys struct {
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
}

var (
	testKeysOnce sync.Once
	theKeys      testKeys
)

func mkKeys(t testing.TB) testKeys {
	t.Helper()
	testKeysOnce.Do(func() {
		var err error
		if theKeys.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if theKeys.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if theKeys.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, theKeys.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
	return theKeys
}

func pemOf(t testing.TB, typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkixPEM(t testing.TB, pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PUBLIC KEY", der)
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwksOf(t testing.TB, k testKeys) string {
	pad := func(b []byte, n int) []byte { return append(make([]byte, n-len(b)), b...) }
	ecb, _ := k.ec.PublicKey.Bytes() // 0x04 || x || y
	doc := map[string]any{"keys": []any{
		map[string]any{"kty": "RSA", "kid": "rsa-1", "use": "sig", "n": b64u(k.rsa.N.Bytes()), "e": b64u(big.NewInt(int64(k.rsa.E)).Bytes())},
		map[string]any{"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": b64u(pad(ecb[1:33], 32)), "y": b64u(pad(ecb[33:], 32))},
		map[string]any{"kty": "OKP", "kid": "ed-1", "crv": "Ed25519", "x": b64u(k.ed.Public().(ed25519.PublicKey))},
		map[string]any{"kty": "oct", "kid": "hs-1", "k": b64u([]byte("shared-secret-of-32-bytes-length"))},
		map[string]any{"kty": "RSA", "kid": "enc-1", "use": "enc", "n": b64u(k.rsa2.N.Bytes()), "e": "AQAB"},
	}}
	b, _ := json.Marshal(doc)
	return string(b)
}

func selfSigned(t testing.TB, k *ecdsa.PrivateKey) string {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "auth.shop.test"}, NotBefore: t0, NotAfter: t0.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "CERTIFICATE", der)
}

func TestLoadJWTKeys(t *testing.T) {
	k := mkKeys(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, content string
		want          int    // keys
		err           string // substring
	}{
		{"rsa.pem", pkixPEM(t, &k.rsa.PublicKey), 1, ""},
		{"pkcs1.pem", pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)), 1, ""},
		{"bundle.pem", pkixPEM(t, &k.rsa.PublicKey) + selfSigned(t, k.ec) + pkixPEM(t, k.ed.Public()), 3, ""},
		{"jwks.json", jwksOf(t, k), 4, ""},
		{"jwk.json", `{"kty":"OKP","crv":"Ed25519","x":"` + b64u(k.ed.Public().(ed25519.PublicKey)) + `"}`, 1, ""},
		{"private.pem", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa)), 0, "never a private key"},
		{"private.jwk", `{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}`, 0, "private RSA key"},
		{"empty", "", 0, "no PEM block"},
		{"garbage", "hello", 0, "no PEM block"},
		{"bad json", `{"keys":[`, 0, "JWKS"},
		{"bad curve", `{"kty":"EC","crv":"P-192","x":"AA","y":"AA"}`, 0, "P-192"},
		{"tiny rsa", `{"kty":"RSA","n":"AQAB","e":"AQAB"}`, 0, "not usable"},
		{"only enc", `{"keys":[{"kty":"oct","use":"enc","k":"AQAB"}]}`, 0, "no signature key"},
		{"too large", strings.Repeat("x", maxKeyFile+1), 0, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := LoadJWTKeys(write(strings.ReplaceAll(tc.name, " ", "_"), tc.content))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || ks.Len() != tc.want {
				t.Fatalf("LoadJWTKeys = %v keys, %v; want %d", ks, err, tc.want)
			}
		})
	}
	if _, err := LoadJWTKeys(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file loads")
	}
}

// TestJWTSignature checks the JWT detector with configured keys: forged
// signatures, algorithm confusion and unknown key ids, when accepted.
func TestJWTSignature(t *testing.T) {
	k := mkKeys(t)
	dir := t.TempDir()
	jwks := filepath.Join(dir, "jwks.json")
	pemFile := filepath.Join(dir, "rsa.pem")
	os.WriteFile(jwks, []byte(jwksOf(t, k)), 0o600)
	os.WriteFile(pemFile, []byte(pkixPEM(t, &k.rsa.PublicKey)), 0o600)
	ks, err := LoadJWTKeys(jwks)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{"sub": "7", "exp": t0.Add(time.Hour).Unix()}
	sign := func(m jwt.SigningMethod, kid string, key any) string {
		tk := jwt.NewWithClaims(m, claims)
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	bearer := func(s string) func(*vigil.Exchange) { return hdr("Authorization", "Bearer "+s) }
	pemBytes, _ := os.ReadFile(pemFile)
	secret := []byte("shared-secret-of-32-bytes-length")
	d := NewJWT(JWTConfig{Keyfunc: ks.Keyfunc})
	runCases(t, d, jwtID, []detCase{
		{"benign RS256", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodRS256, "rsa-1", k.rsa))), ""},
		{"benign RS256 without kid", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodRS256, "", k.rsa))), ""},
		{"benign PS256", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodPS256, "rsa-1", k.rsa))), ""},
		{"benign ES256", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodES256, "ec-1", k.ec))), ""},
		{"benign EdDSA", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodEdDSA, "ed-1", k.ed))), ""},
		{"benign HS256 with the oct key", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodHS256, "hs-1", secret))), ""},
		{"forged RS256", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodRS256, "rsa-1", k.rsa2))), "does not verify"},
		{"forged RS256 rejected", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodRS256, "rsa-1", k.rsa2)), resp(401, "{}")), ""},
		{"forged HS256", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodHS256, "hs-1", []byte("guessed")))), "does not verify"},
		{"unknown kid", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodRS256, "rsa-9", k.rsa))), "no configured key has this kid"},
		{"encryption key is not a signing key", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodRS256, "enc-1", k.rsa2))), "no configured key has this kid"},
	})
	// Algorithm confusion: HS256 keyed with the API's RSA public key, against
	// a deployment that only has RSA keys.
	rsaOnly, err := LoadJWTKeys(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, NewJWT(JWTConfig{Keyfunc: rsaOnly.Keyfunc}), jwtID, []detCase{
		{"HS256 with the public key as secret", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodHS256, "", pemBytes))), "no configured key is of the kind"},
		{"benign RS256 against a PEM key", ex("GET", "https://a.test/acct", bearer(sign(jwt.SigningMethodRS256, "any-kid", k.rsa))), ""},
	})
	t.Run("verdict is cached per token", func(t *testing.T) {
		forged := sign(jwt.SigningMethodRS256, "rsa-1", k.rsa2)
		for range 3 {
			fs, _ := d.Analyze(context.Background(), ex("GET", "https://a.test/acct", bearer(forged)))
			if len(fs) != 1 {
				t.Fatalf("%d findings, want 1", len(fs))
			}
		}
		if p, ok := d.parsed.get(forged); !ok || !errors.Is(p.sig, jwt.ErrTokenSignatureInvalid) {
			t.Errorf("memo holds %+v (found %v), want the token's signature verdict", p, ok)
		}
	})
}

// FuzzJWTKeys feeds key files to the PEM and JWKS reader: no panic, and a
// key it returns is one the JWT library can use.
func FuzzJWTKeys(f *testing.F) {
	k := mkKeys(f)
	f.Add([]byte(jwksOf(f, k)))
	f.Add([]byte(pkixPEM(f, &k.rsa.PublicKey)))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"` + strings.Repeat("A", 2000) + `","e":"AQAB"}]}`))
	f.Add([]byte(`{"kty":"","x5c":["MIIB"]}`))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseJWTKeys(b)
		if err != nil {
			return
		}
		if len(keys) == 0 || len(keys) > maxKeys {
			t.Fatalf("%d keys without an error", len(keys))
		}
		for _, key := range keys {
			if !keyFits(jwt.SigningMethodRS256, key.key) && !keyFits(jwt.SigningMethodES256, key.key) &&
				!keyFits(jwt.SigningMethodEdDSA, key.key) && !keyFits(jwt.SigningMethodHS256, key.key) &&
				!keyFits(jwt.SigningMethodES384, key.key) {
				t.Fatalf("unusable key %T", key.key)
			}
		}
	})
}
