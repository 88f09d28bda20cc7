package detect

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/vigilsec/vigil"
)

// TestJWTTwoSegments covers unsigned tokens sent as header.payload, the
// signature segment dropped with its dot, and the opaque one-dot tokens
// that must stay unread.
func TestJWTTwoSegments(t *testing.T) {
	claims := jwt.MapClaims{"sub": "42", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	auth := func(v string) func(*vigil.Exchange) { return hdr("Authorization", v) }
	twoSeg := func(h map[string]any, c jwt.MapClaims) string {
		return strings.TrimSuffix(tok(t, h, c, ""), ".")
	}
	noneTwo := twoSeg(map[string]any{"alg": "none", "typ": "JWT"}, jwt.MapClaims{"sub": "1", "role": "owner"})
	runCases(t, NewJWT(JWTConfig{}), jwtID, []detCase{
		{"alg none two segments", ex("GET", "https://a.test/v1/me", auth("Bearer "+noneTwo)), "alg \"none\" and the API answered 200"},
		{"alg none two segments upper scheme", ex("DELETE", "https://a.test/v1/me/sessions", auth("BEARER "+noneTwo), resp(204, "")), "alg \"none\" and the API answered 204"},
		{"alg NONE mixed case two segments", ex("GET", "https://a.test/v1/me", auth("bearer "+twoSeg(map[string]any{"alg": "nOnE"}, claims))), "alg \"none\""},
		{"rs256 signature stripped", ex("GET", "https://a.test/v1/accounts", auth("Bearer "+twoSeg(map[string]any{"alg": "RS256", "kid": "k1"}, claims))), "empty signature and the API answered 200"},
		{"two segments refused", ex("GET", "https://a.test/v1/me", auth("Bearer "+noneTwo), resp(401, "{}")), "alg \"none\""},
		{"two segments in access_token", ex("GET", "https://a.test/v1/feed?access_token="+noneTwo), "alg \"none\""},

		{"benign signed upper scheme", ex("GET", "https://a.test/v1/me", auth("BEARER "+tok(t, map[string]any{"alg": "ES256"}, claims, fakeSig))), ""},
		{"benign opaque dotted token", ex("GET", "https://a.test/v1/me", auth("Bearer 7f3c9a1e.b2d4e6f8a0c2e4f6")), ""},
		{"benign api key with prefix", ex("GET", "https://a.test/v1/me", auth("Bearer pk_live.Zm9vYmFyYmF6cXV4")), ""},
		{"benign base64 json without alg", ex("GET", "https://a.test/v1/me", auth("Bearer "+twoSeg(map[string]any{"v": 2}, jwt.MapClaims{"sid": "abc"}))), ""},
		{"benign four segments", ex("GET", "https://a.test/v1/me", auth("Bearer a.b.c.d")), ""},
	})
}
