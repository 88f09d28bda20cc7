package inventory

import (
	"bytes"
	"hash/maphash"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory/schema"
)

// Bounds of one endpoint's profile.
const (
	maxSchemas      = 8  // response statuses with an inferred body schema
	sampleFirst     = 32 // bodies inferred per endpoint before sampling
	sampleEvery     = 16 // then one body in this many
	maxParams       = 64 // query, header and cookie parameters per endpoint
	maxStatuses     = 32 // distinct response statuses per endpoint
	maxContentTypes = 16 // distinct content types per direction
	maxAuthKinds    = 8
	maxNameLen      = 64 // longer parameter names are cut
)

// Config configures an Inventory. Zero values take the defaults.
type Config struct {
	Learner LearnerConfig
	// MaxHosts, MaxPerHost, MaxEndpoints bound the endpoints (see Cap).
	MaxHosts, MaxPerHost, MaxEndpoints int
	// FirstParty lists the hosts ("api.shop.test", "127.0.0.1:8080"; ports
	// are ignored, as in endpoint names) that are the team's own; any other
	// host seen is third party. Empty (and no Party): a profile's party is
	// "" and Classify infers it: hosts serving documented operations are
	// first party, the others third party.
	FirstParty []string
	// Party, when set, tells a host's party instead of FirstParty: it returns
	// PartyFirst or PartyThird ("" to fall back on FirstParty).
	Party func(host string) string
}

// Parties of an endpoint's host.
const (
	PartyFirst = "first"
	PartyThird = "third"
)

// Inventory is the API inventory learned from traffic: every endpoint seen,
// with what its traffic shows. It is safe for concurrent use: the
// pipeline's workers feed it at once.
//
// Memory is bounded: the Learner's tree (LearnerConfig.MaxNodes), the
// endpoints (Config.MaxEndpoints; beyond, observations fold into "{other}"
// endpoints and are counted), and each profile (at most 64 parameters, 32
// statuses, 16 content types per direction; see Profile).
type Inventory struct {
	cfg     Config
	learner *Learner
	first   map[string]bool

	seed   maphash.Seed
	shards [shardCount]shard

	capMu sync.Mutex
	cap   *Cap

	gen    atomic.Uint64 // learner generation the endpoints are keyed for
	rekeys atomic.Int64
}

const shardCount = 16

type shard struct {
	mu  sync.Mutex
	eps map[vigil.Endpoint]*Profile
	// last and lastP are the endpoint observed last in this shard and its
	// entry in eps: successive exchanges often share their endpoint. rekey,
	// which moves profiles, forgets them.
	last  vigil.Endpoint
	lastP *Profile
	_     [64]byte // shards' locks on separate cache lines
}

// New returns an empty Inventory.
func New(cfg Config) *Inventory {
	inv := &Inventory{
		cfg:     cfg,
		learner: NewLearner(cfg.Learner),
		first:   map[string]bool{},
		seed:    maphash.MakeSeed(),
		cap:     NewCap(cfg.MaxHosts, cfg.MaxPerHost, cfg.MaxEndpoints),
	}
	for _, h := range cfg.FirstParty {
		inv.first[normalizeHost(h)] = true
	}
	for i := range inv.shards {
		inv.shards[i].eps = map[vigil.Endpoint]*Profile{}
	}
	return inv
}

// Learner returns the inventory's templater.
func (inv *Inventory) Learner() *Learner { return inv.learner }

// Endpoint returns the endpoint x belongs to, learning from its path, without
// recording x.
func (inv *Inventory) Endpoint(x *vigil.Exchange) vigil.Endpoint {
	host := x.Request.Host()
	return vigil.Endpoint{Host: host, Method: x.Request.Method, Template: inv.learner.Observe(host, x.Request.Path())}
}

// Observe records x and returns its endpoint.
func (inv *Inventory) Observe(x *vigil.Exchange) vigil.Endpoint {
	ep, _ := inv.ObserveAuth(x)
	return ep
}

// ObserveAuth is Observe that also returns the authentication x's request
// carries, AuthKind(x.Request.Header, x.Actor), which recording x works out
// anyway.
func (inv *Inventory) ObserveAuth(x *vigil.Exchange) (vigil.Endpoint, string) {
	if g := inv.learner.Generation(); g != inv.gen.Load() {
		inv.rekey(g)
	}
	ep := inv.Endpoint(x)
	sh := inv.shard(ep)
	sh.mu.Lock()
	p := sh.lastP
	if p == nil || ep != sh.last {
		if p = sh.eps[ep]; p == nil {
			sh.mu.Unlock()
			ep = inv.admit(ep)
			sh = inv.shard(ep)
			sh.mu.Lock()
			if p = sh.eps[ep]; p == nil {
				p = newProfile(ep, inv.party(ep.Host))
				sh.eps[ep] = p
			}
		}
		sh.last, sh.lastP = ep, p
	}
	auth := p.observe(x)
	sh.mu.Unlock()
	return ep, auth
}

// shard is the shard of ep, chosen by its template alone: hashing one
// string rather than three, and an API's endpoints differ by their
// templates far more than by their hosts and methods.
func (inv *Inventory) shard(ep vigil.Endpoint) *shard {
	return &inv.shards[maphash.String(inv.seed, ep.Template)%shardCount]
}

// admit passes a new endpoint through the cap.
func (inv *Inventory) admit(ep vigil.Endpoint) vigil.Endpoint {
	inv.capMu.Lock()
	defer inv.capMu.Unlock()
	ep, _ = inv.cap.Admit(ep)
	return ep
}

// Folded counts the observations folded into "{other}" endpoints.
func (inv *Inventory) Folded() int64 {
	inv.capMu.Lock()
	defer inv.capMu.Unlock()
	return inv.cap.Folded()
}

// party tells a host's party.
func (inv *Inventory) party(host string) string {
	if inv.cfg.Party != nil {
		if p := inv.cfg.Party(host); p != "" {
			return p
		}
	}
	if len(inv.first) == 0 {
		return "" // unknown: Classify infers it from the specs
	}
	if inv.first[normalizeHost(host)] {
		return PartyFirst
	}
	return PartyThird
}

// rekey moves the profiles whose template the Learner now makes differently
// (a position became a parameter) to their new endpoint, merging them.
func (inv *Inventory) rekey(gen uint64) {
	for i := range inv.shards {
		inv.shards[i].mu.Lock()
	}
	defer func() {
		for i := range inv.shards {
			inv.shards[i].mu.Unlock()
		}
	}()
	if inv.gen.Load() == gen {
		return // another worker did it
	}
	for i := range inv.shards {
		inv.shards[i].last, inv.shards[i].lastP = vigil.Endpoint{}, nil
	}
	type move struct {
		from *shard
		ep   vigil.Endpoint
		p    *Profile
	}
	var moves []move
	for i := range inv.shards {
		sh := &inv.shards[i]
		for ep, p := range sh.eps {
			if ep.Template == Other {
				continue
			}
			t := inv.learner.Retemplate(ep.Host, ep.Template)
			if t == ep.Template {
				continue
			}
			moves = append(moves, move{sh, ep, p})
			p.Endpoint.Template = t
		}
	}
	for _, m := range moves {
		delete(m.from.eps, m.ep)
	}
	for _, m := range moves {
		to := inv.shard(m.p.Endpoint)
		if q := to.eps[m.p.Endpoint]; q != nil {
			q.merge(m.p)
		} else {
			to.eps[m.p.Endpoint] = m.p
		}
	}
	inv.rekeys.Add(int64(len(moves)))
	inv.gen.Store(gen)
}

// Profiles returns a copy of every endpoint's profile, sorted by host,
// template and method.
func (inv *Inventory) Profiles() []*Profile {
	if g := inv.learner.Generation(); g != inv.gen.Load() {
		inv.rekey(g)
	}
	var out []*Profile
	for i := range inv.shards {
		sh := &inv.shards[i]
		sh.mu.Lock()
		for _, p := range sh.eps {
			out = append(out, p.clone())
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b *Profile) int {
		return strings.Compare(a.Host+" "+a.Template+" "+a.Method, b.Host+" "+b.Template+" "+b.Method)
	})
	return out
}

// Load adds stored profiles (from an earlier run) to the inventory.
func (inv *Inventory) Load(ps []*Profile) {
	for _, p := range ps {
		if p == nil {
			continue
		}
		ep := inv.admit(p.Endpoint)
		sh := inv.shard(ep)
		sh.mu.Lock()
		if q := sh.eps[ep]; q != nil {
			q.merge(p)
		} else {
			c := p.clone()
			c.Endpoint = ep
			sh.eps[ep] = c
		}
		sh.mu.Unlock()
	}
}

// Profile is what traffic shows of one endpoint.
type Profile struct {
	vigil.Endpoint
	Party     string    `json:"party,omitempty"` // PartyFirst, PartyThird, or "" when no first-party host is known
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int64     `json:"count"`
	// Statuses counts responses by status (0: no response).
	Statuses map[int]int64 `json:"statuses,omitempty"`
	// RequestTypes and ResponseTypes count media types ("application/json").
	RequestTypes  map[string]int64 `json:"request_types,omitempty"`
	ResponseTypes map[string]int64 `json:"response_types,omitempty"`
	// Auth counts the authentication each request carried: "none",
	// "bearer", "jwt", "basic", "apikey", "cookie".
	Auth map[string]int64 `json:"auth,omitempty"`
	// Unauthenticated2xx counts successful answers to requests without
	// credentials.
	Unauthenticated2xx int64 `json:"unauthenticated_2xx,omitempty"`
	// Params are the query, header and cookie parameters seen, in the order
	// first seen.
	Params []*Param `json:"params,omitempty"`
	// RequestSchema and ResponseSchemas (by status, "200") are inferred
	// from JSON bodies: every one of the first 32, then one in 16.
	RequestSchema   *schema.Node            `json:"request_schema,omitempty"`
	ResponseSchemas map[string]*schema.Node `json:"response_schemas,omitempty"`
	// RequestClasses and ResponseClasses are the sensitive data classes
	// seen in sampled requests (body and query values) and responses.
	RequestClasses  schema.Class `json:"request_classes,omitempty"`
	ResponseClasses schema.Class `json:"response_classes,omitempty"`
	// Dropped counts parameters, statuses and types beyond the bounds.
	Dropped int64 `json:"dropped,omitempty"`

	pidx map[paramKey]*Param // index of Params; rebuilt when nil

	// reqType and respType remember the media type of the last request
	// and response Content-Type: an endpoint's exchanges nearly always
	// repeat theirs.
	reqType, respType typeMemo
}

// typeMemo is mediaType of the last Content-Type value it was given.
type typeMemo struct{ raw, mt string }

// of is mediaType(ct): a comparison when ct is the last value, else
// mediaType, remembered (copied, so that no request's buffer is kept).
func (m *typeMemo) of(ct string) string {
	if ct == m.raw {
		return m.mt
	}
	mt := mediaType(ct)
	m.raw, m.mt = strings.Clone(ct), strings.Clone(mt)
	return m.mt
}

type paramKey struct{ in, name string }

// Param returns the parameter named name in in ("query", "header",
// "cookie"), or nil.
func (p *Profile) Param(in, name string) *Param {
	return p.index()[paramKey{in, name}]
}

func (p *Profile) index() map[paramKey]*Param {
	if p.pidx == nil {
		p.pidx = make(map[paramKey]*Param, len(p.Params))
		for _, q := range p.Params {
			p.pidx[paramKey{q.In, q.Name}] = q
		}
	}
	return p.pidx
}

// Param is one parameter seen on an endpoint.
type Param struct {
	Name  string `json:"name"`
	In    string `json:"in"` // "query", "header", "cookie"
	Count int64  `json:"count"`
}

func newProfile(ep vigil.Endpoint, party string) *Profile {
	return &Profile{Endpoint: ep, Party: party, Statuses: map[int]int64{}}
}

// observe records one exchange and returns the authentication its request
// carries (AuthKind); the shard's lock is held.
func (p *Profile) observe(x *vigil.Exchange) string {
	p.Count++
	if !x.Time.IsZero() {
		if p.FirstSeen.IsZero() || x.Time.Before(p.FirstSeen) {
			p.FirstSeen = x.Time
		}
		if x.Time.After(p.LastSeen) {
			p.LastSeen = x.Time
		}
	}
	status := x.Status()
	p.Statuses = countKey(p.Statuses, status, maxStatuses, &p.Dropped)
	// The header names are looked at once, for the parameters, the
	// headers read below and an API-key header (AuthKind's last test,
	// which decides when the request says nothing else of its
	// authentication).
	rh := p.params(x)
	if ct := p.reqType.of(rh.contentType); ct != "" {
		p.RequestTypes = countKey(p.RequestTypes, ct, maxContentTypes, &p.Dropped)
	}
	if x.Response != nil {
		if ct := p.respType.of(header(x.Response.Header, "Content-Type")); ct != "" {
			p.ResponseTypes = countKey(p.ResponseTypes, ct, maxContentTypes, &p.Dropped)
		}
	}
	auth, known := authFrom(rh.authorization, x.Actor)
	if !known && rh.apiKey {
		auth = "apikey"
	}
	p.Auth = countKey(p.Auth, auth, maxAuthKinds, &p.Dropped)
	if auth == "none" && status >= 200 && status < 300 {
		p.Unauthenticated2xx++
	}
	if p.Count <= sampleFirst || p.Count%sampleEvery == 0 {
		p.bodies(x)
	}
	return auth
}

// bodies infers the request and response schemas and data classes of a
// sampled exchange.
func (p *Profile) bodies(x *vigil.Exchange) {
	req := &x.Request
	if u := req.URL; u != nil {
		for q := u.RawQuery; q != ""; {
			var kv string
			kv, q, _ = strings.Cut(q, "&")
			name, value, _ := strings.Cut(kv, "=")
			if value != "" {
				if v, err := url.QueryUnescape(value); err == nil {
					value = v
				}
				p.RequestClasses |= schema.ClassifyValue(name, value)
			}
		}
	}
	if len(req.Body) > 0 {
		if jsonType(p.reqType.of(header(req.Header, "Content-Type")), req.Body) {
			if p.RequestSchema == nil {
				p.RequestSchema = schema.New()
			}
			if p.RequestSchema.ObserveJSON(req.Body) == nil {
				p.RequestClasses |= p.RequestSchema.Classes()
			}
		} else {
			p.RequestClasses |= schema.ClassifyText(req.Body)
		}
	}
	r := x.Response
	if r == nil || len(r.Body) == 0 {
		return
	}
	if !jsonType(p.respType.of(header(r.Header, "Content-Type")), r.Body) {
		p.ResponseClasses |= schema.ClassifyText(r.Body)
		return
	}
	n := p.responseSchema(strconv.Itoa(r.Status))
	if n != nil && n.ObserveJSON(r.Body) == nil {
		p.ResponseClasses |= n.Classes()
	}
}

// responseSchema returns the response schema of a status, creating it within
// maxSchemas; nil, counted in Dropped, when a new one would exceed it.
func (p *Profile) responseSchema(status string) *schema.Node {
	n := p.ResponseSchemas[status]
	if n == nil {
		if len(p.ResponseSchemas) >= maxSchemas {
			p.Dropped++
			return nil
		}
		if p.ResponseSchemas == nil {
			p.ResponseSchemas = map[string]*schema.Node{}
		}
		n = schema.New()
		p.ResponseSchemas[status] = n
	}
	return n
}

// isJSON says whether a body is JSON: by media type, or by its first byte
// when the type is missing.
func isJSON(contentType string, body []byte) bool {
	return jsonType(mediaType(contentType), body)
}

// jsonType is isJSON with the media type already worked out.
func jsonType(mt string, body []byte) bool {
	if mt == "" {
		b := bytes.TrimSpace(body)
		return len(b) > 0 && (b[0] == '{' || b[0] == '[')
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json"
}

// requestHeaders is what params' pass over the request's header names
// finds besides the parameters: the first Content-Type and Authorization
// values (header), and whether a name is an API-key header (apiKeyHeader).
type requestHeaders struct {
	contentType, authorization string
	apiKey                     bool
}

// params records the query, header and cookie parameter names of x.
func (p *Profile) params(x *vigil.Exchange) (rh requestHeaders) {
	if u := x.Request.URL; u != nil {
		for q := u.RawQuery; q != ""; {
			var kv string
			kv, q, _ = strings.Cut(q, "&")
			name, _, _ := strings.Cut(kv, "=")
			if name != "" {
				p.param("query", name)
			}
		}
	}
	var cookies []string
	for name, vals := range x.Request.Header {
		k, ok := headerKinds[name]
		if !ok {
			k = otherHeaderKind(name)
		}
		if k&hkStandard == 0 {
			p.param("header", name)
		}
		if k&(hkAPIKey|hkRead) == 0 {
			continue
		}
		rh.apiKey = rh.apiKey || k&hkAPIKey != 0
		switch {
		case len(vals) == 0:
		case name == "Content-Type":
			rh.contentType = vals[0]
		case name == "Authorization":
			rh.authorization = vals[0]
		case name == "Cookie":
			cookies = vals
		}
	}
	for _, c := range cookies {
		for c != "" {
			var kv string
			kv, c, _ = strings.Cut(c, ";")
			name, _, _ := strings.Cut(strings.TrimSpace(kv), "=")
			if name != "" {
				p.param("cookie", name)
			}
		}
	}
	return rh
}

func (p *Profile) param(in, name string) {
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	idx := p.index()
	if q := idx[paramKey{in, name}]; q != nil {
		q.Count++
		return
	}
	p.addParam(&Param{Name: name, In: in, Count: 1})
}

// addParam adds a new parameter, within the bound.
func (p *Profile) addParam(q *Param) {
	if len(p.Params) >= maxParams {
		p.Dropped += q.Count
		return
	}
	q.Name = strings.Clone(q.Name) // never pin a request's buffer
	p.Params = append(p.Params, q)
	p.index()[paramKey{q.In, q.Name}] = q
}

// merge adds q's observations to p.
func (p *Profile) merge(q *Profile) {
	if !q.FirstSeen.IsZero() && (p.FirstSeen.IsZero() || q.FirstSeen.Before(p.FirstSeen)) {
		p.FirstSeen = q.FirstSeen
	}
	if q.LastSeen.After(p.LastSeen) {
		p.LastSeen = q.LastSeen
	}
	p.Count += q.Count
	p.Unauthenticated2xx += q.Unauthenticated2xx
	p.Dropped += q.Dropped
	for k, v := range q.Statuses {
		p.Statuses = addKey(p.Statuses, k, v, maxStatuses, &p.Dropped)
	}
	for k, v := range q.RequestTypes {
		p.RequestTypes = addKey(p.RequestTypes, k, v, maxContentTypes, &p.Dropped)
	}
	for k, v := range q.ResponseTypes {
		p.ResponseTypes = addKey(p.ResponseTypes, k, v, maxContentTypes, &p.Dropped)
	}
	for k, v := range q.Auth {
		p.Auth = addKey(p.Auth, k, v, maxAuthKinds, &p.Dropped)
	}
	p.RequestClasses |= q.RequestClasses
	p.ResponseClasses |= q.ResponseClasses
	if q.RequestSchema != nil {
		if p.RequestSchema == nil {
			p.RequestSchema = schema.New()
		}
		p.RequestSchema.Merge(q.RequestSchema)
	}
	for k, n := range q.ResponseSchemas {
		if m := p.responseSchema(k); m != nil {
			m.Merge(n)
		}
	}
	for _, v := range q.Params {
		if r := p.Param(v.In, v.Name); r != nil {
			r.Count += v.Count
		} else {
			c := *v
			p.addParam(&c)
		}
	}
}

// clone returns a deep copy of p.
func (p *Profile) clone() *Profile {
	c := *p
	c.Statuses = maps.Clone(p.Statuses)
	c.RequestTypes = maps.Clone(p.RequestTypes)
	c.ResponseTypes = maps.Clone(p.ResponseTypes)
	c.Auth = maps.Clone(p.Auth)
	if p.RequestSchema != nil {
		c.RequestSchema = schema.New()
		c.RequestSchema.Merge(p.RequestSchema)
	}
	if p.ResponseSchemas != nil {
		c.ResponseSchemas = make(map[string]*schema.Node, len(p.ResponseSchemas))
		for k, n := range p.ResponseSchemas {
			m := schema.New()
			m.Merge(n)
			c.ResponseSchemas[k] = m
		}
	}
	c.Params, c.pidx = nil, nil
	for _, v := range p.Params {
		q := *v
		c.Params = append(c.Params, &q)
	}
	return &c
}

// countKey adds one to m[k], creating m; a new key beyond max is counted in
// dropped instead.
func countKey[K comparable](m map[K]int64, k K, max int, dropped *int64) map[K]int64 {
	return addKey(m, k, 1, max, dropped)
}

func addKey[K comparable](m map[K]int64, k K, n int64, max int, dropped *int64) map[K]int64 {
	// Below the bound any key is counted: the lookup that tells a new key
	// is only needed at it (m[k] += n is one map operation, the test was
	// another on every exchange).
	if len(m) >= max {
		if _, ok := m[k]; !ok {
			*dropped += n
			return m
		}
	}
	if m == nil {
		m = map[K]int64{}
	}
	m[k] += n
	return m
}

// mediaType is the lower-case media type of a Content-Type value, without
// parameters; "" when absent or unparsable.
func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.ToLower(strings.TrimSpace(ct))
	if len(ct) > maxNameLen || !strings.Contains(ct, "/") {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && len(mt) <= maxNameLen {
			return mt
		}
		return ""
	}
	return ct
}

// AuthKind names the authentication a request carries: "jwt" or "bearer"
// (Authorization: Bearer, a JWT or not), "basic", "apikey" (an API-key
// header or a principal of that kind), "cookie" (a session principal or a
// Cookie header), or "none".
func AuthKind(h http.Header, a vigil.Actor) string {
	if kind, ok := authKnown(h, a); ok {
		return kind
	}
	for name := range h {
		if apiKeyHeader(name) {
			return "apikey"
		}
	}
	return "none"
}

// authKnown is AuthKind without its last test, the look at every header
// name for an API-key header: ok is false when that test decides ("apikey"
// if a name is one, else "none", which kind then is).
func authKnown(h http.Header, a vigil.Actor) (kind string, ok bool) {
	return authFrom(header(h, "Authorization"), a)
}

// authFrom is authKnown with the Authorization value already read.
func authFrom(auth string, a vigil.Actor) (kind string, ok bool) {
	if auth != "" {
		scheme, cred, _ := strings.Cut(auth, " ")
		switch lowerScheme(scheme) {
		case "bearer":
			if strings.Count(cred, ".") == 2 && strings.HasPrefix(strings.TrimSpace(cred), "eyJ") {
				return "jwt", true
			}
			if strings.HasPrefix(a.Principal, "jwt:") {
				return "jwt", true
			}
			return "bearer", true
		case "basic":
			return "basic", true
		}
		return "other", true
	}
	kind, _, _ = strings.Cut(a.Principal, ":")
	switch kind {
	case "apikey":
		return "apikey", true
	case "session":
		return "cookie", true
	case "jwt":
		return "jwt", true
	case "basic":
		return "basic", true
	}
	return "none", false
}

// lowerScheme is strings.ToLower(scheme) for the schemes AuthKind tells
// apart, without allocating for "Bearer" or "Basic": an ASCII scheme is
// compared case-insensitively; any other is lower-cased as before.
func lowerScheme(scheme string) string {
	for i := 0; i < len(scheme); i++ {
		if scheme[i] >= utf8.RuneSelf {
			return strings.ToLower(scheme)
		}
	}
	switch {
	case len(scheme) == len("bearer") && strings.EqualFold(scheme, "bearer"):
		return "bearer"
	case len(scheme) == len("basic") && strings.EqualFold(scheme, "basic"):
		return "basic"
	}
	return "" // neither: AuthKind says "other"
}

// apiKeyHeader reports whether a header name, lower-cased, is "x-api-key",
// "api-key" or "x-auth-token"; without lower-casing an ASCII name (which
// would allocate for each name with a capital).
func apiKeyHeader(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			n := strings.ToLower(name)
			return n == "x-api-key" || n == "api-key" || n == "x-auth-token"
		}
	}
	switch len(name) {
	case len("x-api-key"):
		return strings.EqualFold(name, "x-api-key")
	case len("api-key"):
		return strings.EqualFold(name, "api-key")
	case len("x-auth-token"):
		return strings.EqualFold(name, "x-auth-token")
	}
	return false
}

// header is h.Get(key) for a canonical key, without canonicalizing it again:
// Get looks up h[textproto.CanonicalMIMEHeaderKey(key)], which for a
// canonical key is h[key].
func header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// standardHeader reports headers every client sends, which are not an API's
// parameters.
func standardHeader(name string) bool {
	if standardHeaders[name] {
		return true
	}
	c := http.CanonicalHeaderKey(name) // allocates only for a non-canonical name
	return standardHeaders[c] || strings.HasPrefix(c, "Sec-") || strings.HasPrefix(c, "If-")
}

// Kinds of header names in headerKinds.
const (
	hkStandard = 1 << iota // standardHeader
	hkAPIKey               // apiKeyHeader
	hkRead                 // Content-Type, Authorization, Cookie: params returns them
)

// headerKinds holds the kinds of the standard headers and of the API-key
// headers in canonical form, so that params pays one lookup for these
// names; otherHeaderKind works out any other.
var headerKinds = func() map[string]uint8 {
	m := map[string]uint8{}
	for name := range standardHeaders {
		m[name] = hkStandard
	}
	for _, name := range []string{"X-Api-Key", "Api-Key", "X-Auth-Token"} { // apiKeyHeader's, canonical
		m[name] |= hkAPIKey
	}
	for _, name := range []string{"Content-Type", "Authorization", "Cookie"} {
		m[name] |= hkRead
	}
	return m
}()

// otherHeaderKind is the kind of a name not in headerKinds.
func otherHeaderKind(name string) uint8 {
	var k uint8
	if apiKeyHeader(name) {
		k |= hkAPIKey
	}
	if standardHeader(name) {
		k |= hkStandard
	}
	return k
}

var standardHeaders = func() map[string]bool {
	m := map[string]bool{}
	for _, h := range strings.Fields(`Accept Accept-Encoding Accept-Language Accept-Charset User-Agent Host
		Connection Content-Type Content-Length Content-Encoding Authorization Cookie Origin Referer Cache-Control
		Pragma Dnt Te Priority Upgrade-Insecure-Requests Keep-Alive X-Forwarded-For X-Forwarded-Proto
		X-Forwarded-Host X-Real-Ip Forwarded Via Transfer-Encoding Expect Range Upgrade X-Requested-With
		Sec-Ch-Ua Sec-Ch-Ua-Mobile Sec-Ch-Ua-Platform Sec-Fetch-Dest Sec-Fetch-Mode Sec-Fetch-Site
		Sec-Fetch-User If-None-Match If-Modified-Since`) {
		m[h] = true
	}
	return m
}()

// normalizeHost lower-cases a host and drops its port: endpoints are named
// by host name (vigil.Request.Host).
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		return strings.Trim(host, "[]")
	}
	return strings.Trim(h, "[]")
}
