package detect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilsec/vigil"
)

// BFLAConfig bounds and tunes the BFLA detector. The zero value is usable.
type BFLAConfig struct {
	// LearnRequests is a cohort's learning period: the first LearnRequests
	// successful (2xx) requests of a role cohort teach which operations it
	// calls, and the cohort is judged only after them. 0 means 300.
	LearnRequests int
	// MaxCohorts caps the role cohorts tracked; requests of further cohorts
	// are neither learned nor judged. 0 means 64.
	MaxCohorts int
	// MaxOps caps the operations (method, host, path template) learned per
	// cohort; once full, a cohort learns no more. 0 means 4096.
	MaxOps int
	// MaxPrincipals caps the principals whose denied attempts are counted;
	// the table is cleared when full. 0 means 65536.
	MaxPrincipals int
}

func (c *BFLAConfig) defaults() {
	if c.LearnRequests <= 0 {
		c.LearnRequests = 300
	}
	if c.MaxCohorts <= 0 {
		c.MaxCohorts = 64
	}
	if c.MaxOps <= 0 {
		c.MaxOps = 4096
	}
	if c.MaxPrincipals <= 0 {
		c.MaxPrincipals = 65536
	}
}

// BFLA finds broken function level authorization: a principal calling a
// privileged function that its role cohort never calls.
//
// A role cohort is the set of roles a request claims: the role, roles,
// groups, scope or scp claim of its bearer JWT (read unverified; forged
// claims are the JWT detector's business), "unknown" for other credentials
// (API keys, sessions, opaque or redacted tokens, JWTs without a role claim)
// and "anonymous" without credentials.
//
// Each cohort learns, from its first LearnRequests successful requests, which
// operations (method, host, path template) it calls. After that, a 2xx on a
// privileged operation the cohort never called is reported (high):
//   - an admin-like path (a segment admin, internal, manage, management,
//     staff, superuser, backoffice, …) when the cohort never called any
//     admin-like path while learning;
//   - a state-changing method (POST, PUT, PATCH, DELETE) on a resource the
//     cohort only reads (it learned a GET of the template or its parent),
//     when the cohorts that perform it are all admin cohorts.
//
// A 403 on an admin-like path from such a cohort is a denied attempt
// (medium), more confident with each denial of the same principal.
//
// State is bounded: at most MaxCohorts cohorts of at most MaxOps operations
// each, and MaxPrincipals denial counters. It is shared by all actors and
// guarded by a lock, so the detector is safe for concurrent use.
type BFLA struct {
	cfg    BFLAConfig
	tokens *memo[string] // bearer token → cohort

	mu      sync.RWMutex
	cohorts map[string]*cohort
	// doers counts, per state-changing operation, the cohorts that learned it.
	doers map[string]int

	dmu    sync.Mutex
	denied map[string]int // principal → denied admin attempts
}

// cohort is what one role cohort learned.
type cohort struct {
	seen int                 // successful requests learned
	ops  map[string]struct{} // "METHOD host template"
	// admins are the principals (up to minAdminPrincipals) seen calling
	// admin-like paths while learning.
	admins []string
}

// minAdminPrincipals is how many principals of a cohort must call admin-like
// paths while it learns for the cohort to count as one that calls admin
// functions: one compromised account in the learning period does not make
// its whole cohort an admin cohort.
const minAdminPrincipals = 2

// isAdmin says whether the cohort calls admin functions. Anonymous clients
// never do: without credentials there is no function level to grant.
func (c *cohort) isAdmin(name string) bool {
	return name != "anonymous" && len(c.admins) >= minAdminPrincipals
}

var _ vigil.Analyzer = (*BFLA)(nil)

const bflaID = "detect.authz.bfla"

// NewBFLA returns the BFLA detector.
func NewBFLA(cfg BFLAConfig) *BFLA {
	cfg.defaults()
	return &BFLA{cfg: cfg, tokens: newMemoN[string](maxMemoJWT, tokenMemoSlots), cohorts: map[string]*cohort{}, doers: map[string]int{}, denied: map[string]int{}}
}

// Analyze implements vigil.Analyzer.
func (d *BFLA) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	st := x.Status()
	ok2xx := st >= 200 && st < 300
	if !ok2xx && st != 403 {
		return nil, nil
	}
	path := x.Request.Path()
	adminSeg := adminSegment(path)
	if st == 403 && adminSeg == "" {
		return nil, nil
	}
	name := d.cohortOf(&x.Request)
	method, host := x.Request.Method, x.Request.Host()
	var kb [128]byte
	op, tmpl := endpointKeyIn(kb[:0], x)

	d.mu.RLock()
	c := d.cohorts[name]
	learning := c == nil || c.seen < d.cfg.LearnRequests
	d.mu.RUnlock()
	if learning {
		if ok2xx {
			p := ""
			if adminSeg != "" {
				p = principalOf(x)
			}
			d.learn(name, op, p, stateChanging(method))
		}
		return nil, nil
	}

	d.mu.RLock()
	_, known := c.ops[string(op)]
	cohortAdmin := c.isAdmin(name)
	var why string
	switch {
	case known:
	case adminSeg != "" && !cohortAdmin:
		why = "admin-like path segment \"" + adminSeg + "\"; cohort " + strconv.Quote(name) + " is no admin cohort: fewer than " +
			strconv.Itoa(minAdminPrincipals) + " of its principals called admin-like paths in its " + strconv.Itoa(c.seen) + " learned requests"
	case ok2xx && stateChanging(method) && readsResource(c, host, tmpl):
		if admins := d.adminDoers(string(op)); admins != "" {
			why = method + " changes a resource cohort " + strconv.Quote(name) + " only reads; only admin cohorts (" + admins + ") perform it"
		}
	}
	d.mu.RUnlock()
	if why == "" {
		return nil, nil
	}
	ev := []vigil.Evidence{
		{Where: "cohort", Value: shorten(name), Why: "role cohort of the caller (" + roleSource(&x.Request) + ")"},
		{Where: "endpoint", Value: shorten(method + " " + tmpl), Why: why},
	}
	if ok2xx {
		f := finding(bflaID, x, vigil.API5BFLA, vigil.SeverityHigh, 0.8, "Privileged function called by a role that never calls it", ev)
		return []vigil.Finding{f}, nil
	}
	n := d.deny(principalOf(x))
	conf := min(0.5+0.1*float64(n-1), 0.8)
	ev = append(ev, vigil.Evidence{Where: "response.status", Value: "403", Why: "denied admin attempt number " + strconv.Itoa(n) + " of this principal"})
	f := finding(bflaID, x, vigil.API5BFLA, vigil.SeverityMedium, conf, "Denied attempt at a privileged function", ev)
	return []vigil.Finding{f}, nil
}

// learn records a successful call of op by a cohort in its learning period;
// admin is the caller when op is on an admin-like path, otherwise "".
func (d *BFLA) learn(name string, op []byte, admin string, changes bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.cohorts[name]
	if c == nil {
		if len(d.cohorts) >= d.cfg.MaxCohorts {
			return
		}
		c = &cohort{ops: map[string]struct{}{}}
		d.cohorts[name] = c
	}
	if c.seen >= d.cfg.LearnRequests {
		return // another worker finished the learning period meanwhile
	}
	c.seen++
	if admin != "" && len(c.admins) < minAdminPrincipals && !slices.Contains(c.admins, admin) {
		c.admins = append(c.admins, admin)
	}
	if _, ok := c.ops[string(op)]; !ok && len(c.ops) < d.cfg.MaxOps {
		op := string(op)
		c.ops[op] = struct{}{}
		if changes {
			d.doers[op]++
		}
	}
}

// adminDoers names the cohorts that learned op when all of them are admin
// cohorts, or returns "": an operation that anonymous clients or other
// non-admin cohorts perform is no privileged function. The caller holds mu.
func (d *BFLA) adminDoers(op string) string {
	if d.doers[op] == 0 {
		return ""
	}
	var names []string
	for n, c := range d.cohorts {
		if _, ok := c.ops[op]; !ok {
			continue
		}
		if !c.isAdmin(n) {
			return ""
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// deny counts one denied attempt of a principal and returns its count.
func (d *BFLA) deny(p string) int {
	d.dmu.Lock()
	defer d.dmu.Unlock()
	if _, ok := d.denied[p]; !ok && len(d.denied) >= d.cfg.MaxPrincipals {
		clear(d.denied)
	}
	d.denied[p]++
	return d.denied[p]
}

// readsResource says whether the cohort learned a read of the template or of
// its parent collection (DELETE /products/{id} after GET /products).
func readsResource(c *cohort, host, tmpl string) bool {
	if _, ok := c.ops["GET "+host+tmpl]; ok {
		return true
	}
	if i := strings.LastIndexByte(tmpl, '/'); i > 0 {
		if _, ok := c.ops["GET "+host+tmpl[:i]]; ok {
			return true
		}
	}
	return false
}

func stateChanging(m string) bool {
	return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE"
}

// adminWords are path segments that name an administrative function area.
var adminWords = map[string]bool{
	"admin": true, "admins": true, "administrator": true, "administration": true, "internal": true,
	"manage": true, "management": true, "staff": true, "superuser": true, "backoffice": true,
	"back-office": true, "sysadmin": true, "wp-admin": true,
}

// adminSegment returns the path's first admin-like segment, or "". A segment
// right after a plural collection name is an object id, not a function area
// (/users/admin is the user named admin).
func adminSegment(path string) string {
	prev := ""
	for seg := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		s := strings.ToLower(seg)
		if adminWords[s] || strings.HasPrefix(s, "admin-") || strings.HasPrefix(s, "admin_") {
			if !(len(prev) > 3 && strings.HasSuffix(prev, "s") && !adminWords[prev]) {
				return s
			}
		}
		prev = s
	}
	return ""
}

// principalOf names the caller for the denial count.
func principalOf(x *vigil.Exchange) string {
	if x.Actor.Principal != "" {
		return x.Actor.Principal
	}
	if tok, _ := bearer(&x.Request); tok != "" {
		if sub := jwtSub(tok); sub != "" {
			return "jwt:" + sub
		}
	}
	if k := x.Actor.Key(); k != "anonymous" {
		return k
	}
	return "addr:" + x.Client.Addr
}

// roleSource says where the cohort was read from, for the evidence.
func roleSource(r *vigil.Request) string {
	if tok, _ := bearer(r); tok != "" {
		return "bearer token claims"
	}
	if hasCredentials(r) {
		return "credentials without role claims"
	}
	return "no credentials"
}

// cohortOf returns the request's role cohort.
func (d *BFLA) cohortOf(r *vigil.Request) string {
	tok, _ := bearer(r)
	if tok == "" {
		if hasCredentials(r) {
			return "unknown"
		}
		return "anonymous"
	}
	if name, ok := d.tokens.get(tok); ok {
		return name
	}
	name := "unknown"
	if len(tok) <= maxJWT {
		if c := jwtClaims(tok); c != nil {
			name = roleCohort(c)
		}
	}
	d.tokens.put(tok, name)
	return name
}

// hasCredentials says whether a request carries credentials other than a
// bearer token.
func hasCredentials(r *vigil.Request) bool {
	if r.Header == nil {
		return false
	}
	if headerValue(r.Header, "Authorization") != "" || headerValue(r.Header, "X-Api-Key") != "" || headerValue(r.Header, "Api-Key") != "" || headerValue(r.Header, "X-Auth-Token") != "" {
		return true
	}
	for _, c := range r.Header.Values("Cookie") {
		lc := strings.ToLower(c)
		if strings.Contains(lc, "session") || strings.Contains(lc, "sid=") || strings.Contains(lc, "token") {
			return true
		}
	}
	return false
}

// roleClaims are the claims a role cohort is read from.
type roleClaims struct {
	Sub    any `json:"sub"`
	Role   any `json:"role"`
	Roles  any `json:"roles"`
	Groups any `json:"groups"`
	Scope  any `json:"scope"`
	Scp    any `json:"scp"`
}

// jwtClaims decodes the claims segment of an unverified JWT, or nil.
func jwtClaims(tok string) *roleClaims {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var c roleClaims
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	return &c
}

// jwtSub returns the sub claim of an unverified JWT, or "".
func jwtSub(tok string) string {
	if len(tok) > maxJWT {
		return ""
	}
	if c := jwtClaims(tok); c != nil {
		if s, ok := c.Sub.(string); ok {
			return shorten(s)
		}
	}
	return ""
}

// Bounds of a cohort name: a token's claims are the client's to choose.
const (
	maxCohortRoles   = 4
	maxCohortRoleLen = 32
)

// roleCohort names the cohort of a token's claims: its roles, lower-cased,
// sorted and joined with "+"; "unknown" when it claims none.
func roleCohort(c *roleClaims) string {
	for _, v := range [...]any{c.Role, c.Roles, c.Groups, c.Scope, c.Scp} {
		var roles []string
		switch v := v.(type) {
		case string:
			roles = strings.Fields(v)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					roles = append(roles, s)
				}
			}
		}
		roles = slices.DeleteFunc(roles, func(r string) bool { return strings.TrimSpace(r) == "" })
		if len(roles) == 0 {
			continue
		}
		for i, r := range roles {
			r = strings.ToLower(strings.TrimSpace(r))
			if len(r) > maxCohortRoleLen {
				r = r[:maxCohortRoleLen]
			}
			roles[i] = r
		}
		slices.Sort(roles)
		roles = slices.Compact(roles)
		if len(roles) > maxCohortRoles {
			roles = append(roles[:maxCohortRoles], "…")
		}
		return strings.Join(roles, "+")
	}
	return "unknown"
}
