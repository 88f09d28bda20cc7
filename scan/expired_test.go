package scan

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vigilsec/vigil/simulate/shop"
)

// pemKey writes a private key as PKCS#8 PEM to a file in dir.
func pemKey(t *testing.T, dir, name string, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sign(t *testing.T, m jwt.SigningMethod, key any, exp time.Time) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, jwt.MapClaims{"sub": "7", "email": "ann@x.test", "iat": exp.Add(-time.Hour).Unix(), "exp": exp.Unix()})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMintExpired: the copy keeps the header and claims, verifies with the
// key, and is refused for its age only; a wrong key or a non-JWT is an
// error, not a token.
func TestMintExpired(t *testing.T) {
	dir := t.TempDir()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	later := now.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		method  jwt.SigningMethod
		signer  any    // signs the identity's token
		keyFile string // the jwt_key_file given; "" uses signer as a secret
		secret  []byte
		err     string
	}{
		{"HS256", jwt.SigningMethodHS256, []byte("s3cret"), "", []byte("s3cret"), ""},
		{"HS256 wrong secret", jwt.SigningMethodHS256, []byte("s3cret"), "", []byte("other"), "does not verify"},
		{"RS256", jwt.SigningMethodRS256, rsaKey, pemKey(t, dir, "rsa.pem", rsaKey), nil, ""},
		{"ES256", jwt.SigningMethodES256, ecKey, pemKey(t, dir, "ec.pem", ecKey), nil, ""},
		{"EdDSA", jwt.SigningMethodEdDSA, edKey, pemKey(t, dir, "ed.pem", edKey), nil, ""},
		{"RS256 with another key", jwt.SigningMethodRS256, rsaKey, pemKey(t, dir, "ec2.pem", ecKey), nil, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := sign(t, tc.method, tc.signer, later)
			var key any = tc.secret
			if tc.keyFile != "" {
				k, err := loadJWTKey(tc.keyFile)
				if err != nil {
					t.Fatal(err)
				}
				key = k
			}
			got, err := mintExpired(tok, key, now)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var c jwt.MapClaims
			parsed, err := jwt.NewParser().ParseWithClaims(got, &c, func(*jwt.Token) (any, error) {
				switch k := tc.signer.(type) {
				case *rsa.PrivateKey:
					return &k.PublicKey, nil
				case *ecdsa.PrivateKey:
					return &k.PublicKey, nil
				case ed25519.PrivateKey:
					return k.Public(), nil
				}
				return tc.signer, nil
			})
			if !errors.Is(err, jwt.ErrTokenExpired) {
				t.Fatalf("verification error %v, want only %v", err, jwt.ErrTokenExpired)
			}
			exp, _ := c.GetExpirationTime()
			if exp == nil || exp.After(now.Add(-time.Hour)) {
				t.Errorf("exp %v, want well before %v", exp, now)
			}
			if c["sub"] != "7" || c["email"] != "ann@x.test" || parsed.Header["kid"] != "k1" || parsed.Header["alg"] != tc.method.Alg() {
				t.Errorf("claims %v header %v: want the original's", c, parsed.Header)
			}
			if iat, _ := c.GetIssuedAt(); iat == nil || !iat.Before(exp.Time) {
				t.Errorf("iat %v not before exp %v", iat, exp)
			}
		})
	}
	if _, err := mintExpired("opaque-token", []byte("x"), now); err == nil {
		t.Error("an opaque token was minted")
	}
	if _, err := loadJWTKey(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("a missing key file loaded")
	}
	bad := filepath.Join(dir, "bad.pem")
	_ = os.WriteFile(bad, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), 0o600)
	if _, err := loadJWTKey(bad); err == nil || !strings.Contains(err.Error(), "not a PEM private key") {
		t.Errorf("bad key file: %v", err)
	}
}

// TestLoadIdentitiesKeyFile: a jwt_key_file is read relative to the
// identities file, and a bad one stops the load.
func TestLoadIdentitiesKeyFile(t *testing.T) {
	dir := t.TempDir()
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pemKey(t, dir, "ann.pem", edKey)
	write := func(key string) string {
		p := filepath.Join(dir, "ids.yaml")
		if err := os.WriteFile(p, []byte("identities:\n  - {name: ann, role: user, bearer: T, jwt_key_file: "+key+"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f, err := LoadIdentities(write("ann.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Identities[0].key.(ed25519.PrivateKey); !ok {
		t.Errorf("key %T, want the Ed25519 private key", f.Identities[0].key)
	}
	if _, err := LoadIdentities(write("missing.pem")); err == nil || !strings.Contains(err.Error(), "identity ann") {
		t.Errorf("missing key file: %v", err)
	}
}

const expiryAPI = `openapi: 3.0.3
info: {title: expiry, version: "1"}
security: [{bearer: []}]
components: {securitySchemes: {bearer: {type: http, scheme: bearer}}}
paths:
  /me:
    get:
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {type: object, properties: {id: {type: string}}}}}
  /health:
    get:
      security: []
      responses: {"200": {description: ok}}
`

// expiryServer checks HS256 tokens; lax accepts expired ones.
func expiryServer(secret []byte, lax bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return
		}
		opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired()}
		if lax {
			opts = append(opts, jwt.WithoutClaimsValidation())
		}
		var c jwt.RegisteredClaims
		raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if _, err := jwt.NewParser(opts...).ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return secret, nil }); err != nil {
			w.WriteHeader(401)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"id": c.Subject})
	})
}

// TestExpiredToken runs auth.expired-token against an API that accepts
// expired tokens (fail) and one that refuses them (pass), with a minted
// and with a given expired token.
func TestExpiredToken(t *testing.T) {
	secret := []byte("expiry-secret")
	api, err := ParseAPI("expiry.yaml", []byte(expiryAPI))
	if err != nil {
		t.Fatal(err)
	}
	ts := builtinWhere(t, func(x *Template) bool { return x.ID == "auth.expired-token" })
	valid := sign(t, jwt.SigningMethodHS256, secret, time.Now().Add(time.Hour))
	old := sign(t, jwt.SigningMethodHS256, secret, time.Now().Add(-time.Hour))
	for _, tc := range []struct {
		name string
		id   Identity
		lax  bool
		want string // status: detail substring
	}{
		{"minted, accepted", Identity{JWTSecret: string(secret)}, true, "fail: accepted with an expired token of ann"},
		{"minted, refused", Identity{JWTSecret: string(secret)}, false, "pass: refused with an expired token of ann: 401"},
		{"given, accepted", Identity{ExpiredToken: old}, true, "fail: accepted"},
		{"given, refused", Identity{ExpiredToken: old}, false, "pass: refused"},
		{"given but not expired", Identity{ExpiredToken: valid}, true, "skipped: the expired_token of ann is not expired"},
		{"wrong secret", Identity{JWTSecret: "guess"}, true, "skipped: cannot make an expired token for ann"},
		{"nothing to send", Identity{}, true, "skipped: needs an identity with an expired_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(expiryServer(secret, tc.lax))
			defer srv.Close()
			id := tc.id
			id.Name, id.Role, id.Bearer = "ann", "user", valid
			rep, err := Run(t.Context(), Config{Target: srv.URL, API: api, Templates: ts, Identities: []*Identity{&id}, Rate: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != 1 || rep.Results[0].Operation != "GET /me" {
				t.Fatalf("results %+v, want one on GET /me", rep.Results)
			}
			r := rep.Results[0]
			if got := string(r.Status) + ": " + r.Detail; !strings.HasPrefix(got, strings.SplitN(tc.want, ": ", 2)[0]) || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, ev := range r.Evidence {
				if strings.Contains(ev.Request, string(secret)) || strings.Contains(ev.Request, id.expired) && id.expired != "" {
					t.Errorf("evidence holds the secret or the expired token: %s", ev.Request)
				}
			}
		})
	}
}

// TestExpiredTokenShop: the demo shop refuses expired tokens. The key is
// the shop's JWT secret, which its debug endpoint leaks.
func TestExpiredTokenShop(t *testing.T) {
	s := startShop(t, shop.Options{})
	resp, err := http.Get(s.URL() + "/internal/debug")
	if err != nil {
		t.Fatal(err)
	}
	var dbg struct {
		Secret string `json:"jwt_secret"`
	}
	err = json.NewDecoder(resp.Body).Decode(&dbg)
	resp.Body.Close()
	if err != nil || dbg.Secret == "" {
		t.Fatalf("no JWT secret from the debug endpoint: %v", err)
	}
	cfg := shopConfig(t, s.URL())
	for _, id := range cfg.Identities {
		id.JWTSecret = dbg.Secret
	}
	var ts []*Template
	for _, x := range cfg.Templates {
		if x.ID == "auth.expired-token" {
			ts = append(ts, x)
		}
	}
	cfg.Templates = ts
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	passes := 0
	for _, r := range rep.Results {
		switch r.Status {
		case StatusPass:
			passes++
		case StatusFail, StatusError:
			t.Errorf("%s %s: %s", r.Status, r.Operation, r.Detail)
		}
	}
	if passes < 5 {
		t.Errorf("%d operations refused the expired token, want most secured reads", passes)
	}
	t.Logf("%d results, %d passes", len(rep.Results), passes)
}
