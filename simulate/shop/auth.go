package shop

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenTTL is how long a login token lasts: longer than any demo run.
const tokenTTL = 24 * time.Hour

// claims is the shop's JWT payload.
type claims struct {
	Email string `json:"email,omitempty"`
	Role  string `json:"role,omitempty"`
	jwt.RegisteredClaims
}

// principal is who a request's token says it is.
type principal struct {
	id    int64
	email string
	role  string
}

func (a *app) issue(u *user) (string, error) {
	now := time.Now()
	c := claims{Email: u.Email, Role: u.Role, RegisteredClaims: jwt.RegisteredClaims{
		Subject: strconv.FormatInt(u.ID, 10), Issuer: "vigil-demo-shop",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(tokenTTL)),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.secret)
}

var errNoToken = errors.New("no bearer token")

// verify checks the bearer token of r. The v2 API accepts HS256 only;
// legacy (the /api/v1 routes) also accepts alg "none" – a planted
// vulnerability (ground truth "jwt-alg-none").
func (a *app) verify(r *http.Request, legacy bool) (principal, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return principal{}, errNoToken
	}
	methods := []string{"HS256"}
	if legacy {
		methods = append(methods, "none")
	}
	var c claims
	_, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if t.Method == jwt.SigningMethodNone {
			return jwt.UnsafeAllowNoneSignatureType, nil
		}
		return a.secret, nil
	}, jwt.WithValidMethods(methods), jwt.WithExpirationRequired())
	if err != nil {
		return principal{}, err
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return principal{}, errors.New("token subject is not a user id")
	}
	return principal{id: id, email: c.Email, role: c.Role}, nil
}
