package scan

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/vigilsec/vigil"
)

// Limits of the observed-traffic tests.
const (
	// MaxObserved caps the object reads kept from traffic.
	MaxObserved = 10_000
	// maxObservedPerOp is how many observed objects one test replays.
	maxObservedPerOp = 3
	maxObservedBody  = 64 << 10
)

// Observed is one object read that recorded traffic showed: a GET of an
// operation with a path id that answered 2xx. The bola and bfla tests with
// variant "observed" replay it as each test identity.
type Observed struct {
	Op     string // the operation, "GET /api/v2/orders/{id}"
	Path   string // the concrete path and query, "/api/v2/orders/1001"
	Caller string // who read it: the JWT subject, or "" when unknown
	Body   []byte // the recorded response body (capped)
}

// ObservedFrom picks, from recorded exchanges, the GETs of the API's
// operations that answered 2xx with a JSON body: reads of objects by path
// id, and reads of admin operations.
func ObservedFrom(api *API, xs []*vigil.Exchange) []Observed {
	o := NewObserver(api)
	for _, x := range xs {
		o.Add(x)
	}
	return o.Observed()
}

// Observer collects Observed reads from a stream of exchanges, keeping at
// most MaxObserved.
type Observer struct {
	api  *API
	seen map[string]bool
	out  []Observed
}

// NewObserver returns an Observer for the operations of api.
func NewObserver(api *API) *Observer { return &Observer{api: api, seen: map[string]bool{}} }

// Observed returns what was collected.
func (o *Observer) Observed() []Observed { return o.out }

// Add looks at one exchange.
func (o *Observer) Add(x *vigil.Exchange) {
	if len(o.out) >= MaxObserved || x == nil || x.Request.URL == nil || x.Response == nil ||
		!is2xx(x.Response.Status) || x.Request.Method != "GET" {
		return
	}
	op := o.api.match(x.Request.Method, x.Request.URL.Path)
	if op == nil || !op.Auth || (op.Collection() == "" && !op.Admin()) {
		return
	}
	body := x.Response.Body
	if len(body) == 0 || len(body) > maxObservedBody || !json.Valid(body) || x.Response.Truncated {
		return
	}
	p := x.Request.URL.EscapedPath()
	if x.Request.URL.RawQuery != "" {
		p += "?" + x.Request.URL.RawQuery
	}
	if o.seen[p] {
		return
	}
	o.seen[p] = true
	o.out = append(o.out, Observed{Op: op.String(), Path: p, Caller: jwtSubject(x.Request.Header.Get("Authorization")), Body: bytes.Clone(body)})
}

// match finds the operation of a concrete path, path parameters matching
// any one segment, literal segments winning.
func (a *API) match(method, path string) *Operation {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *Operation
	bestLit := -1
	for _, op := range a.Ops {
		if op.Method != method {
			continue
		}
		tsegs := strings.Split(strings.Trim(op.Path, "/"), "/")
		if len(tsegs) != len(segs) {
			continue
		}
		lit, ok := 0, true
		for i, t := range tsegs {
			switch {
			case strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}"):
			case t == segs[i]:
				lit++
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok && lit > bestLit {
			best, bestLit = op, lit
		}
	}
	return best
}

// jwtSubject returns the sub claim of a bearer JWT, unverified: it only
// tells recorded callers apart.
func jwtSubject(auth string) string {
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return ""
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub any `json:"sub"`
	}
	if json.Unmarshal(b, &c) != nil || c.Sub == nil {
		return ""
	}
	return fmt.Sprint(c.Sub)
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}`)

// observedBOLA replays object reads recorded for other users as each test
// identity. It fails when an identity gets 2xx and the body is the recorded
// one, or holds an email of the recorded body that is not the identity's.
// Reads the identity made itself (its own id, its email in the body, its
// JWT subject) are left out.
func (r *runner) observedBOLA(ctx context.Context, t *Template, op *Operation) verdict {
	obs := r.observedFor(op)
	tested := 0
	var last verdict
	for _, b := range r.users() {
		mine := r.pool.allIDs(b.Name, op.Collection())
		n := 0
		for _, o := range obs {
			if n >= maxObservedPerOp {
				break
			}
			if containsAny(o.Body, b.markers) || (b.userID != "" && o.Caller == b.userID) || endsWithAny(o.Path, mine) {
				continue
			}
			n++
			resp, err := r.sendRaw(ctx, "GET", o.Path, credentials(b), nil)
			if err != nil {
				return errorf("%s", netError(err))
			}
			tested++
			others := otherEmails(o.Body, b.markers)
			if is2xx(resp.Status) && (sameJSON(o.Body, resp.Body) || containsAny(resp.Body, others)) {
				return fail("%s read %s, an object the recorded traffic showed for another user (%d)", b.Name, o.Path, resp.Status).with(b.Name, resp)
			}
			last = pass("%s was refused %s, another user's object in the recorded traffic (%d)", b.Name, o.Path, resp.Status).with(b.Name, resp)
		}
	}
	if tested == 0 {
		return skipf("no recorded read of another user's object to replay")
	}
	return last
}

// observedBFLA replays recorded admin reads as each identity without an
// admin role: a 2xx fails.
func (r *runner) observedBFLA(ctx context.Context, t *Template, op *Operation) verdict {
	obs := r.observedFor(op)
	var last *Response
	for _, u := range r.users() {
		for i, o := range obs {
			if i >= maxObservedPerOp {
				break
			}
			resp, err := r.sendRaw(ctx, "GET", o.Path, credentials(u), nil)
			if err != nil {
				return errorf("%s", netError(err))
			}
			if is2xx(resp.Status) {
				return fail("%s (role %s) replayed the recorded admin request %s: %d", u.Name, u.Role, o.Path, resp.Status).with(u.Name, resp)
			}
			last = resp
		}
	}
	if last == nil {
		return skipf("needs an identity without an admin role")
	}
	return pass("recorded admin requests refused to every non-admin identity (%d)", last.Status).with("", last)
}

func (r *runner) observedFor(op *Operation) []Observed {
	var out []Observed
	for _, o := range r.cfg.Observed {
		if o.Op == op.String() {
			out = append(out, o)
		}
	}
	return out
}

func credentials(id *Identity) map[string]string {
	h := map[string]string{}
	id.apply(h)
	return h
}

func endsWithAny(p string, ids []string) bool {
	p, _, _ = strings.Cut(p, "?")
	for _, id := range ids {
		if strings.HasSuffix(p, "/"+id) {
			return true
		}
	}
	return false
}

// otherEmails returns the emails in body that are not among mine.
func otherEmails(body []byte, mine []string) []string {
	var out []string
	for _, m := range emailRE.FindAll(body, 20) {
		s := string(m)
		if !containsAny([]byte(s), mine) {
			out = append(out, s)
		}
	}
	return out
}
