package scan

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxIdentitiesFile caps an identities file: it names a few test accounts.
const MaxIdentitiesFile = 1 << 20

// maxIdentities caps the identities of one scan: the two-identity tests
// run for every ordered pair.
const maxIdentities = 16

// Identities is the identities file (docs/scan.md).
type Identities struct {
	// AdminRoles are the roles allowed to call admin operations; default
	// ["admin"].
	AdminRoles []string    `yaml:"admin_roles"`
	Identities []*Identity `yaml:"identities"`
}

// Identity is one test identity: a name, a role and exactly one way to
// authenticate.
type Identity struct {
	Name   string  `yaml:"name"`
	Role   string  `yaml:"role"`
	Bearer string  `yaml:"bearer,omitempty"`
	APIKey *APIKey `yaml:"api_key,omitempty"`
	Basic  *Basic  `yaml:"basic,omitempty"`
	Cookie string  `yaml:"cookie,omitempty"`
	Login  *Login  `yaml:"login,omitempty"`

	// ExpiredToken is a token of the identity that has expired (from a
	// test identity provider), sent the way the identity sends its own, for
	// the auth.expired-token test. Bearer and login identities only.
	ExpiredToken string `yaml:"expired_token,omitempty"`
	// JWTSecret (HS256) or JWTKeyFile (a PEM private key: RSA, EC or
	// Ed25519; relative to the identities file) signs an expired copy of
	// the identity's own JWT when no ExpiredToken is given.
	JWTSecret  string `yaml:"jwt_secret,omitempty"`
	JWTKeyFile string `yaml:"jwt_key_file,omitempty"`

	// Run-time state, set by the scan.
	token      string   // the token a login yielded
	markers    []string // values that identify the identity's data (email, user id)
	userID     string
	key        any    // the private key of JWTKeyFile, once loaded
	expired    string // the expired token the test sends
	expiredWhy string // why there is none, when that is not obvious
}

// APIKey sends a key in a header.
type APIKey struct {
	Header string `yaml:"header"`
	Value  string `yaml:"value"`
}

// Basic is HTTP basic authentication.
type Basic struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Login is a request whose response yields a token.
type Login struct {
	Method string `yaml:"method"` // default POST
	Path   string `yaml:"path"`   // relative to the target, e.g. /api/v2/auth/login
	// JSON is the request body, sent as JSON.
	JSON map[string]any `yaml:"json"`
	// Token is a JSON pointer to the token in the response, default
	// "/token" (then "/access_token").
	Token string `yaml:"token"`
	// Use says how the token is sent: "bearer" (default), "header:NAME"
	// or "cookie:NAME".
	Use string `yaml:"use"`
}

var identName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ParseIdentities reads an identities file, strictly: unknown keys are
// errors and every identity has a name, a role and one credential.
func ParseIdentities(data []byte) (*Identities, error) {
	if len(data) > MaxIdentitiesFile {
		return nil, fmt.Errorf("identities: over %d bytes", MaxIdentitiesFile)
	}
	var f Identities
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("identities: empty file")
		}
		return nil, fmt.Errorf("identities: %w", err)
	}
	if len(f.AdminRoles) == 0 {
		f.AdminRoles = []string{"admin"}
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// LoadIdentities reads the identities file at path.
func LoadIdentities(path string) (*Identities, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxIdentitiesFile+1))
	if err != nil {
		return nil, fmt.Errorf("identities: %s: %w", path, err)
	}
	f, err := ParseIdentities(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, id := range f.Identities {
		if id.JWTKeyFile == "" {
			continue
		}
		if !filepath.IsAbs(id.JWTKeyFile) {
			id.JWTKeyFile = filepath.Join(filepath.Dir(path), id.JWTKeyFile)
		}
		if id.key, err = loadJWTKey(id.JWTKeyFile); err != nil {
			return nil, fmt.Errorf("%s: identity %s: %w", path, id.Name, err)
		}
	}
	return f, nil
}

// Validate checks the identities.
func (f *Identities) Validate() error {
	if len(f.Identities) == 0 {
		return errors.New("identities: none given")
	}
	if len(f.Identities) > maxIdentities {
		return fmt.Errorf("identities: %d given, at most %d", len(f.Identities), maxIdentities)
	}
	seen := map[string]bool{}
	for i, id := range f.Identities {
		if id == nil {
			return fmt.Errorf("identities: entry %d is empty", i+1)
		}
		if err := id.validate(); err != nil {
			return fmt.Errorf("identities: %s", err)
		}
		if seen[id.Name] {
			return fmt.Errorf("identities: %q is named twice", id.Name)
		}
		seen[id.Name] = true
	}
	return nil
}

func (id *Identity) validate() error {
	if !identName.MatchString(id.Name) {
		return fmt.Errorf("name %q: want 1-64 letters, digits, '.', '_' or '-'", id.Name)
	}
	if strings.TrimSpace(id.Role) == "" {
		return fmt.Errorf("%s: role is required (e.g. customer, admin)", id.Name)
	}
	n := 0
	for _, set := range []bool{id.Bearer != "", id.APIKey != nil, id.Basic != nil, id.Cookie != "", id.Login != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s: give exactly one of bearer, api_key, basic, cookie, login (got %d)", id.Name, n)
	}
	if (id.ExpiredToken != "" || id.JWTSecret != "" || id.JWTKeyFile != "") && id.Bearer == "" && id.Login == nil {
		return fmt.Errorf("%s: expired_token, jwt_secret and jwt_key_file need a bearer or login identity", id.Name)
	}
	if id.JWTSecret != "" && id.JWTKeyFile != "" {
		return fmt.Errorf("%s: give one of jwt_secret and jwt_key_file", id.Name)
	}
	switch {
	case id.APIKey != nil && (id.APIKey.Header == "" || id.APIKey.Value == ""):
		return fmt.Errorf("%s: api_key needs header and value", id.Name)
	case id.Basic != nil && id.Basic.Username == "":
		return fmt.Errorf("%s: basic needs a username", id.Name)
	case id.Login != nil:
		l := id.Login
		if !strings.HasPrefix(l.Path, "/") {
			return fmt.Errorf("%s: login.path %q: want a path starting with /", id.Name, l.Path)
		}
		if l.Method == "" {
			l.Method = "POST"
		}
		l.Method = strings.ToUpper(l.Method)
		if l.Token != "" && !strings.HasPrefix(l.Token, "/") {
			return fmt.Errorf("%s: login.token %q: want a JSON pointer such as /token", id.Name, l.Token)
		}
		switch u := l.Use; {
		case u == "", u == "bearer":
		case strings.HasPrefix(u, "header:") && len(u) > len("header:"):
		case strings.HasPrefix(u, "cookie:") && len(u) > len("cookie:"):
		default:
			return fmt.Errorf("%s: login.use %q: want bearer, header:NAME or cookie:NAME", id.Name, u)
		}
	}
	return nil
}

// IsAdmin reports whether the identity's role is one of roles.
func (id *Identity) IsAdmin(roles []string) bool {
	for _, r := range roles {
		if strings.EqualFold(r, id.Role) {
			return true
		}
	}
	return false
}

// apply sets the identity's credentials on h.
func (id *Identity) apply(h map[string]string) {
	if id == nil {
		return
	}
	switch {
	case id.Bearer != "":
		h["Authorization"] = "Bearer " + id.Bearer
	case id.APIKey != nil:
		h[id.APIKey.Header] = id.APIKey.Value
	case id.Basic != nil:
		h["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(id.Basic.Username+":"+id.Basic.Password))
	case id.Cookie != "":
		h["Cookie"] = id.Cookie
	case id.Login != nil && id.token != "":
		id.applyToken(h, id.token)
	}
}

// applyToken sets tok on h the way the identity sends its own token: a
// bearer token, or the header or cookie of its login.
func (id *Identity) applyToken(h map[string]string, tok string) {
	if id.Login != nil {
		switch u := id.Login.Use; {
		case strings.HasPrefix(u, "header:"):
			h[strings.TrimPrefix(u, "header:")] = tok
			return
		case strings.HasPrefix(u, "cookie:"):
			h["Cookie"] = strings.TrimPrefix(u, "cookie:") + "=" + tok
			return
		}
	}
	h["Authorization"] = "Bearer " + tok
}

// rawToken returns the identity's token however it is sent: its bearer
// token or the token its login yielded.
func (id *Identity) rawToken() string {
	if id.Bearer != "" {
		return id.Bearer
	}
	return id.token
}

// bearerToken returns the identity's bearer token, if it sends one.
func (id *Identity) bearerToken() string {
	if id.Bearer != "" {
		return id.Bearer
	}
	if id.Login != nil && (id.Login.Use == "" || id.Login.Use == "bearer") {
		return id.token
	}
	return ""
}

// jsonPointer resolves an RFC 6901 pointer in v.
func jsonPointer(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return v, true
}

// loginBody returns the login request body.
func (l *Login) body() []byte {
	if l.JSON == nil {
		return nil
	}
	b, _ := json.Marshal(l.JSON)
	return b
}

// ParseBearerFlag reads "NAME:ROLE:TOKEN".
func ParseBearerFlag(s string) (*Identity, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[2] == "" {
		return nil, fmt.Errorf("--bearer %q: want NAME:ROLE:TOKEN", redactTail(s))
	}
	id := &Identity{Name: parts[0], Role: parts[1], Bearer: parts[2]}
	if err := id.validate(); err != nil {
		return nil, fmt.Errorf("--bearer: %s", err)
	}
	return id, nil
}

func redactTail(s string) string {
	if i := strings.LastIndex(s, ":"); i >= 0 {
		return s[:i+1] + "…"
	}
	return "…"
}
