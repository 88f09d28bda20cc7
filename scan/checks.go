package scan

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/vigilsec/vigil/internal/pii"
)

// kindApplies says whether a kind can test op at all.
func kindApplies(t *Template, op *Operation) bool {
	switch t.Kind {
	case KindBOLA:
		return op.Auth && op.Collection() != "" && !op.Admin()
	case KindBFLA:
		return op.Admin()
	case KindAuth:
		return op.Auth
	case KindMassAssign:
		return op.Body != nil && (op.Method == "POST" || op.Method == "PUT" || op.Method == "PATCH") && !isLogin(op)
	case KindInject:
		return len(injectable(op, false)) > 0
	case KindVerbose:
		return op.Body != nil
	case KindSSRF:
		return len(urlParams(op)) > 0
	case KindExposure:
		return op.Method == "GET" && op.Response != nil
	case KindHeaders:
		return op.Method == "GET"
	}
	return true
}

// bola: identity B asks for an object that identity A owns (found in A's
// listings or creations, not in B's). It fails when B gets 2xx and the
// body is A's object (the same JSON A got) or holds A's markers (email).
// Only identities of the same role are paired: staff may read others'
// objects by design.
func (r *runner) bola(ctx context.Context, t *Template, op *Operation) verdict {
	if op.Method != "GET" {
		return r.bolaWrite(ctx, t, op)
	}
	coll := op.Collection()
	users := r.users()
	tested := 0
	var last verdict
	for _, a := range users {
		for _, b := range users {
			if a == b || !strings.EqualFold(a.Role, b.Role) {
				continue
			}
			theirs := r.pool.allIDs(b.Name, coll)
			var id string
			for _, x := range r.pool.allIDs(a.Name, coll) {
				if !slices.Contains(theirs, x) {
					id = x
					break
				}
			}
			if id == "" {
				continue
			}
			req := r.gen.build(op, a.Name)
			params := op.PathParams()
			req.path[params[len(params)-1]] = id
			ra, err := r.send(ctx, req.request(), a)
			if err != nil {
				return errorf("%s as %s: %s", op, a.Name, netError(err))
			}
			if !is2xx(ra.Status) {
				continue // not readable by its owner: nothing to compare
			}
			rb, err := r.send(ctx, req.request(), b)
			if err != nil {
				return errorf("%s as %s: %s", op, b.Name, netError(err))
			}
			tested++
			who := b.Name + "→" + a.Name
			if is2xx(rb.Status) && (sameJSON(ra.Body, rb.Body) || containsAny(rb.Body, a.markers)) {
				return fail("%s read %s's object %s (%d): the body is %s's data", b.Name, a.Name, id, rb.Status, a.Name).with(who, ra, rb)
			}
			last = pass("%s was refused %s's object %s (%d)", b.Name, a.Name, id, rb.Status).with(who, rb)
		}
	}
	if tested == 0 {
		return skipf("no object owned by one identity and not another was found for %s (need two identities of one role)", coll)
	}
	return last
}

// bolaWrite: identity B changes (PUT, PATCH: its string properties set to
// a marker) or deletes an object of identity A, then A reads it back. It
// fails when B got 2xx and A's object now holds the marker, or is gone.
func (r *runner) bolaWrite(ctx context.Context, t *Template, op *Operation) verdict {
	var read *Operation
	for _, o := range r.cfg.API.Ops {
		if o.Method == "GET" && o.Path == op.Path {
			read = o
		}
	}
	if read == nil {
		return skipf("no GET of the same path to read the object back")
	}
	coll := op.Collection()
	params := op.PathParams()
	for _, a := range r.users() {
		for _, b := range r.users() {
			if a == b || !strings.EqualFold(a.Role, b.Role) {
				continue
			}
			theirs := r.pool.allIDs(b.Name, coll)
			// PUT and PATCH take A's first object, DELETE its last, so that
			// the two tests do not meet on one object.
			var id string
			for _, x := range r.pool.allIDs(a.Name, coll) {
				if !slices.Contains(theirs, x) && (id == "" || op.Method == "DELETE") {
					id = x
				}
			}
			if id == "" {
				continue
			}
			get := r.gen.build(read, a.Name)
			get.path[params[len(params)-1]] = id
			before, err := r.send(ctx, get.request(), a)
			if err != nil {
				return errorf("%s", netError(err))
			}
			if !is2xx(before.Status) {
				continue
			}
			w := r.gen.build(op, b.Name)
			w.path[params[len(params)-1]] = id
			marker := "vigil-bola-" + newToken()[:8]
			if op.Method != "DELETE" {
				m, ok := w.body.(map[string]any)
				set := 0
				for _, pl := range injectable(op, false) {
					if ok && pl.in == "body" {
						m[pl.name] = marker
						set++
					}
				}
				if set == 0 {
					return skipf("no string property to mark the change with")
				}
			}
			resp, err := r.send(ctx, w.request(), b)
			if err != nil {
				return errorf("%s", netError(err))
			}
			after, err := r.send(ctx, get.request(), a)
			if err != nil {
				return errorf("%s", netError(err))
			}
			who := b.Name + "→" + a.Name
			switch {
			case !is2xx(resp.Status):
				return pass("%s was refused %s on %s's object %s (%d)", b.Name, op.Method, a.Name, id, resp.Status).with(who, resp)
			case op.Method == "DELETE" && (after.Status == 404 || after.Status == 410):
				return fail("%s deleted %s's object %s: %s now gets %d", b.Name, a.Name, id, a.Name, after.Status).with(who, resp, after)
			case op.Method != "DELETE" && bytes.Contains(after.Body, []byte(marker)):
				return fail("%s changed %s's object %s: %s now reads %q in it", b.Name, a.Name, id, a.Name, marker).with(who, resp, after)
			}
			return pass("%s's %s answered %d but %s's object %s did not change", b.Name, op.Method, resp.Status, a.Name, id).with(who, resp, after)
		}
	}
	return skipf("no object owned by one identity and not another was found for %s", coll)
}

func containsAny(body []byte, markers []string) bool {
	for _, m := range markers {
		if m != "" && bytes.Contains(body, []byte(m)) {
			return true
		}
	}
	return false
}

// bfla: every identity without an admin role calls an admin operation; a
// 2xx fails.
func (r *runner) bfla(ctx context.Context, t *Template, op *Operation) verdict {
	users := r.users()
	if len(users) == 0 {
		return skipf("needs an identity without an admin role")
	}
	var last *Response
	for _, u := range users {
		resp, err := r.send(ctx, r.gen.build(op, u.Name).request(), u)
		if err != nil {
			return errorf("%s as %s: %s", op, u.Name, netError(err))
		}
		if is2xx(resp.Status) {
			return fail("%s (role %s) called the admin operation: %d", u.Name, u.Role, resp.Status).with(u.Name, resp)
		}
		last = resp
	}
	return pass("refused to every non-admin identity (%d)", last.Status).with(users[len(users)-1].Name, last)
}

// auth: the request without credentials, with an unsigned (alg none) copy
// of the identity's JWT, or with its signature changed. A 2xx fails.
func (r *runner) auth(ctx context.Context, t *Template, op *Operation) verdict {
	id := r.exemplarID(op)
	req := r.gen.build(op, name(id)).request()
	h := map[string]string{}
	for k, v := range req.Header {
		h[k] = v
	}
	var what string
	var control *Response
	switch t.Variant {
	case "none":
		what = "no credentials"
	case "expired":
		var why string
		if id, why = r.expiredID(op); id == nil {
			return skipf("%s", why)
		}
		req = r.gen.build(op, id.Name).request()
		h = map[string]string{}
		for k, v := range req.Header {
			h[k] = v
		}
		// The identity's own request must work, else a refusal of the
		// expired token says nothing.
		ok, err := r.send(ctx, req, id)
		if err != nil {
			return errorf("%s", netError(err))
		}
		if !is2xx(ok.Status) {
			return skipf("%s's own request answers %d: nothing to compare the expired token with", id.Name, ok.Status)
		}
		control = ok
		id.applyToken(h, id.expired)
		what = "an expired token of " + id.Name
	case "alg-none", "bad-signature":
		tok := ""
		if id != nil {
			tok = id.bearerToken()
		}
		if strings.Count(tok, ".") != 2 {
			return skipf("needs an identity with a JWT bearer token")
		}
		forged, ok := forgeJWT(tok, t.Variant)
		if !ok {
			return skipf("the identity's token is not a JWT")
		}
		h["Authorization"] = "Bearer " + forged
		what = map[string]string{"alg-none": "an unsigned (alg: none) token", "bad-signature": "a token with a forged signature"}[t.Variant]
	}
	resp, err := r.sendRaw(ctx, req.Method, req.Path, h, req.Body)
	if err != nil {
		return errorf("%s", netError(err))
	}
	if is2xx(resp.Status) {
		return fail("accepted with %s: %d", what, resp.Status).with(name(id), control, resp)
	}
	return pass("refused with %s: %d", what, resp.Status).with(name(id), resp)
}

// expiredID picks the identity whose expired token tests op: the one that
// sends op's valid request when it has one, else another that has one (an
// admin for admin operations). It says why there is none.
func (r *runner) expiredID(op *Operation) (*Identity, string) {
	if id := r.exemplarID(op); id != nil && id.expired != "" {
		return id, ""
	}
	why := ""
	for _, id := range r.cfg.Identities {
		if op.Admin() && !id.IsAdmin(r.cfg.AdminRoles) {
			continue
		}
		if id.expired != "" {
			return id, ""
		}
		if why == "" {
			why = id.expiredWhy
		}
	}
	if why == "" {
		why = "needs an identity with an expired_token, or a jwt_secret or jwt_key_file to make one (docs/scan.md)"
		if op.Admin() {
			why = "needs an admin identity with an expired_token, or a jwt_secret or jwt_key_file to make one (docs/scan.md)"
		}
	}
	return nil, why
}

// forgeJWT returns tok unsigned (alg none) or with a changed signature.
func forgeJWT(tok, variant string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	var h map[string]any
	if json.Unmarshal(hdr, &h) != nil || h["alg"] == nil {
		return "", false
	}
	if variant == "alg-none" {
		h["alg"] = "none"
		nh, _ := json.Marshal(h)
		return base64.RawURLEncoding.EncodeToString(nh) + "." + parts[1] + ".", true
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return "", false
	}
	for i := range sig {
		sig[i] ^= 0x5a
	}
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig), true
}

var privileged = regexp.MustCompile(`(?i)admin|root|super|owner|staff`)

// massAssign: a property the request schema does not allow (one only the
// response has, or a readOnly one) is sent with a distinctive value. The
// test fails when the API answers 2xx and the value is read back (in the
// response, or from the object's GET) while a request without it gave
// another value.
func (r *runner) massAssign(ctx context.Context, t *Template, op *Operation) verdict {
	if op.Response == nil {
		return verdict{}
	}
	id := r.exemplarID(op)
	candidates := map[string]*openapi3.Schema{}
	for k, ref := range op.Response.Properties {
		if ref == nil || ref.Value == nil {
			continue
		}
		_, inReq := op.Body.Properties[k]
		if !inReq || ref.Value.ReadOnly {
			candidates[k] = ref.Value
		}
	}
	for k, ref := range op.Body.Properties {
		if ref != nil && ref.Value != nil && ref.Value.ReadOnly {
			candidates[k] = ref.Value
		}
	}
	if t.focus != nil {
		// A replay: only the property the attack set.
		for k := range candidates {
			if t.focus.in != "body" || k != t.focus.name {
				delete(candidates, k)
			}
		}
		if len(candidates) == 0 {
			return skipf("%s %s: the response does not document it as a property the request may not set, so the scan cannot tell whether it is stored", t.focus.in, t.focus.name)
		}
	}
	if len(candidates) == 0 {
		return skipf("the response documents no property the request may not set")
	}
	baseReq := r.gen.build(op, name(id))
	base, err := r.send(ctx, baseReq.request(), id)
	if err != nil {
		return errorf("%s", netError(err))
	}
	if !is2xx(base.Status) {
		return skipf("no valid request to start from: %d", base.Status)
	}
	baseVals := r.readBack(ctx, op, id, base)
	tried := 0
	for _, k := range slices.Sorted(maps.Keys(candidates)) {
		s := candidates[k]
		if _, ok := baseVals[k]; !ok {
			continue // cannot be read back
		}
		v := distinctive(s, baseVals[k])
		if v == nil {
			continue
		}
		b := r.gen.build(op, name(id))
		m, ok := b.body.(map[string]any)
		if !ok {
			return skipf("the request body is not a JSON object")
		}
		m[k] = v
		resp, err := r.send(ctx, b.request(), id)
		if err != nil {
			return errorf("%s", netError(err))
		}
		tried++
		if !is2xx(resp.Status) {
			continue
		}
		got := r.readBack(ctx, op, id, resp)
		if equalJSON(got[k], v) && !equalJSON(baseVals[k], v) {
			r.restore(ctx, op, id, k, baseVals[k])
			return fail("%s set %q to %v (was %v): the API stored a property the client must not set", name(id), k, v, baseVals[k]).with(name(id), base, resp)
		}
	}
	if tried == 0 {
		return skipf("no property the request may not set could be read back")
	}
	return pass("%d properties the client must not set were sent; none was stored", tried).with(name(id), base)
}

// readBack returns the top-level values of the object after a write: the
// response's, else its GET twin's.
func (r *runner) readBack(ctx context.Context, op *Operation, id *Identity, resp *Response) map[string]any {
	if m := topLevel(resp.Body); len(m) > 0 {
		return m
	}
	for _, o := range r.cfg.API.Ops {
		if o.Method == "GET" && o.Path == op.Path {
			if g, err := r.send(ctx, r.gen.build(o, name(id)).request(), id); err == nil && is2xx(g.Status) {
				return topLevel(g.Body)
			}
		}
	}
	return nil
}

// restore sets a property back after a successful mass assignment, so the
// identity keeps its role for the rest of the run (PATCH and PUT only).
func (r *runner) restore(ctx context.Context, op *Operation, id *Identity, k string, v any) {
	if op.Method != "PATCH" && op.Method != "PUT" {
		return
	}
	b := r.gen.build(op, name(id))
	if m, ok := b.body.(map[string]any); ok {
		m[k] = v
		_, _ = r.send(ctx, b.request(), id)
	}
}

// distinctive picks a value for a property that the API would not have
// chosen itself: a privileged enum value, an unlikely number, a marked
// string.
func distinctive(s *openapi3.Schema, current any) any {
	if len(s.Enum) > 0 {
		var pick any
		for _, e := range s.Enum {
			if !equalJSON(e, current) {
				if pick == nil {
					pick = e
				}
				if str, ok := e.(string); ok && privileged.MatchString(str) {
					return e
				}
			}
		}
		return pick
	}
	switch {
	case s.Type.Is("integer"):
		return int64(987654321)
	case s.Type.Is("number"):
		if f, ok := current.(float64); ok && math.Abs(f-0.01) < 1e-9 {
			return 0.02
		}
		return 0.01
	case s.Type.Is("boolean"):
		if b, ok := current.(bool); ok {
			return !b
		}
		return true
	case s.Type.Is("string"):
		switch s.Format {
		case "date-time":
			return "2001-02-03T04:05:06Z"
		case "email":
			return "vigil.assigned@example.test"
		}
		return "vigil-assigned"
	}
	return nil
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	if string(x) == string(y) {
		return true
	}
	// 0.01 and 0.010 are one number.
	fa, ok1 := a.(float64)
	fb, ok2 := toFloat(b)
	return ok1 && ok2 && math.Abs(fa-fb) < 1e-9
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	}
	return 0, false
}

// place is where a payload goes: a parameter or a top-level body property.
type place struct {
	in, name string
}

// injectable lists the string-valued places of op (any type with all).
func injectable(op *Operation, all bool) []place {
	var out []place
	isStr := func(s *openapi3.Schema) bool {
		return s == nil || all || s.Type.IsEmpty() || s.Type.Is("string")
	}
	for _, p := range op.Params {
		if (p.In == "query" || p.In == "path") && isStr(p.Schema) {
			out = append(out, place{p.In, p.Name})
		}
	}
	if op.Body != nil {
		for _, k := range sortedProps(op.Body) {
			ref := op.Body.Properties[k]
			if ref != nil && ref.Value != nil && !ref.Value.ReadOnly && isStr(ref.Value) && ref.Value.Format != "binary" {
				out = append(out, place{"body", k})
			}
		}
	}
	return out
}

// unreflect returns resp with every copy of the payload taken out of its
// body (as sent, JSON-escaped, URL-encoded and HTML-escaped), so that an
// API echoing the input does not match the payload's own text.
func unreflect(resp *Response, payload string) *Response {
	if payload == "" {
		return resp
	}
	body := resp.Body
	forms := []string{payload}
	var x any
	if json.Unmarshal([]byte(payload), &x) == nil {
		if compact, err := json.Marshal(x); err == nil {
			forms = append(forms, string(compact)) // a JSON payload echoed re-encoded
		}
	}
	var all []string
	for _, f := range forms {
		esc, _ := json.Marshal(f)
		all = append(all, f, string(esc[1:len(esc)-1]), url.QueryEscape(f), url.PathEscape(f), html.EscapeString(f))
	}
	for _, v := range all {
		if v != "" {
			body = bytes.ReplaceAll(body, []byte(v), nil)
		}
	}
	c := *resp
	c.Body = body
	return &c
}

// set puts a value at a place; raw JSON when asJSON.
func (b *built) set(p place, v string, asJSON bool) bool {
	switch p.in {
	case "query":
		b.query.Set(p.name, v)
	case "path":
		b.path[p.name] = v
	case "body":
		m, ok := b.body.(map[string]any)
		if !ok {
			return false
		}
		if asJSON {
			var x any
			if json.Unmarshal([]byte(v), &x) != nil {
				return false
			}
			m[p.name] = x
		} else {
			m[p.name] = v
		}
	}
	return true
}

// inject: each payload at each place (or, for verbose, as the whole raw
// body). It fails when the response matches the payload's matchers while
// the valid request's response does not, and, when the payload has a
// confirmation twin, the twin's response does not match either.
func (r *runner) inject(ctx context.Context, t *Template, op *Operation) verdict {
	id := r.exemplarID(op)
	base := r.gen.build(op, name(id))
	baseResp, err := r.send(ctx, base.request(), id)
	if err != nil {
		return errorf("%s", netError(err))
	}
	var places []place
	if t.Kind == KindInject {
		for _, p := range injectable(op, false) {
			if t.focus != nil {
				if p == *t.focus {
					places = append(places, p)
				}
			} else if t.Select.params == nil || t.Select.params.MatchString(p.name) {
				places = append(places, p)
			}
		}
		if len(places) == 0 && t.focus != nil {
			return skipf("%s %s is not a string parameter or property of the operation", t.focus.in, t.focus.name)
		}
		if len(places) == 0 {
			return verdict{}
		}
	}
	sent := 0
	for _, p := range t.Payloads {
		if p.Delay > 0 || p.False != "" {
			// Time-based (Delay) or boolean (False) payloads: injection tests only.
			if t.Kind != KindInject {
				continue
			}
			probe := r.booleanPair
			if p.Delay > 0 {
				probe = r.timed
			}
			v, n := probe(ctx, id, base, baseResp, places, p)
			sent += n
			if v.status != "" {
				return v
			}
			continue
		}
		ms := p.Matchers
		if len(ms) == 0 {
			ms = t.Matchers
		}
		if anyMatch(ms, baseResp) {
			continue // the valid request matches already: no signal
		}
		if t.Kind == KindVerbose {
			req := base.request()
			req.Body = []byte(p.Value)
			req.Header["Content-Type"] = "application/json"
			resp, err := r.send(ctx, req, id)
			if err != nil {
				return errorf("%s", netError(err))
			}
			sent++
			if anyMatch(ms, resp) {
				return fail("a malformed body answered %d with internals (stack trace, error details)", resp.Status).with(name(id), resp)
			}
			continue
		}
		for _, pl := range places {
			b := base.clone()
			if !b.set(pl, p.Value, p.JSON) {
				continue
			}
			resp, err := r.send(ctx, b.request(), id)
			if err != nil {
				return errorf("%s", netError(err))
			}
			sent++
			seen := unreflect(resp, p.Value)
			if p.Reflected {
				seen = resp // the reflection is the finding
			}
			if !anyMatch(ms, seen) {
				continue
			}
			ev := []*Response{resp}
			if p.Confirm != "" {
				c := base.clone()
				c.set(pl, p.Confirm, p.JSON)
				cr, err := r.send(ctx, c.request(), id)
				if err != nil {
					return errorf("%s", netError(err))
				}
				if anyMatch(ms, unreflect(cr, p.Confirm)) {
					continue // the benign twin matches too: not confirmed
				}
				ev = append(ev, cr)
			}
			detail := fmt.Sprintf("%s %s=%q answered %d matching the template", pl.in, pl.name, p.Value, resp.Status)
			if p.Confirm != "" {
				detail += fmt.Sprintf("; the benign twin %q did not", p.Confirm)
			}
			return verdict{status: StatusFail, detail: detail}.with(name(id), ev...)
		}
	}
	if sent == 0 {
		return skipf("the valid request's response already matches the template's matchers")
	}
	return pass("%d requests, no response matched", sent).with(name(id), baseResp)
}

var urlName = regexp.MustCompile(`(?i)(^|_|-)(url|uri|href|link|callback|webhook|endpoint|feed|image|avatar|redirect|target|dest|source)(_|-|$)|url$|uri$`)

// urlParams lists the places that take a URL.
func urlParams(op *Operation) []place {
	var out []place
	for _, p := range injectable(op, false) {
		var s *openapi3.Schema
		if p.in == "body" {
			s = op.Body.Properties[p.name].Value
		} else {
			for _, x := range op.Params {
				if x.Name == p.name && x.In == p.in {
					s = x.Schema
				}
			}
		}
		if urlName.MatchString(p.name) || (s != nil && (s.Format == "uri" || s.Format == "url" || s.Format == "iri")) {
			out = append(out, p)
		}
	}
	return out
}

// ssrf: each URL place is pointed at the callback listener with a token of
// this test. It fails when the listener receives a request carrying it.
func (r *runner) ssrf(ctx context.Context, t *Template, op *Operation) verdict {
	if r.callback == nil {
		return skipf("no callback listener")
	}
	id := r.exemplarID(op)
	pls := urlParams(op)
	if t.focus != nil {
		// A replay: the parameter the attack pointed elsewhere, whatever
		// its name.
		if !slices.Contains(injectable(op, false), *t.focus) {
			return skipf("%s %s is not a string parameter or property of the operation", t.focus.in, t.focus.name)
		}
		pls = []place{*t.focus}
	}
	for _, pl := range pls {
		tok := newToken()
		b := r.gen.build(op, name(id))
		if !b.set(pl, r.callback.url(tok), false) {
			continue
		}
		resp, err := r.send(ctx, b.request(), id)
		if err != nil {
			return errorf("%s", netError(err))
		}
		if hit, ok := r.callback.wait(ctx, tok, 2*time.Second); ok {
			return fail("%s %s pointed at the callback listener: the target called it (%s)", pl.in, pl.name, hit).with(name(id), resp)
		}
		if len(pls) == 1 {
			return pass("the callback listener was not called within 2s (%d)", resp.Status).with(name(id), resp)
		}
	}
	return pass("the callback listener was not called")
}

// exposure: the fields of a 2xx response that the spec does not document,
// when one of them is sensitive (a secret by name, a card number, a
// password hash).
func (r *runner) exposure(ctx context.Context, t *Template, op *Operation) verdict {
	if op.Response.AdditionalProperties.Has != nil && *op.Response.AdditionalProperties.Has ||
		op.Response.AdditionalProperties.Schema != nil {
		return skipf("the response schema allows any property")
	}
	id := r.exemplarID(op)
	if !op.Auth {
		id = nil
	}
	resp, err := r.send(ctx, r.gen.build(op, name(id)).request(), id)
	if err != nil {
		return errorf("%s", netError(err))
	}
	if !is2xx(resp.Status) {
		return skipf("no 2xx answer to read (%d)", resp.Status)
	}
	var leaked []string
	for f, v := range flatten(resp.Body) {
		if op.ResponseFields[f] {
			continue
		}
		_, card := pii.CardNumber(v)
		if r.red.SensitiveField(lastSegment(f)) || card || pii.CryptHash(v) {
			leaked = append(leaked, f)
		}
	}
	if len(leaked) > 0 {
		slices.Sort(leaked)
		return fail("undocumented sensitive fields in the response: %s", strings.Join(leaked, ", ")).with(name(id), resp)
	}
	return pass("no undocumented sensitive field").with(name(id), resp)
}

// rateLimit sends Attempts requests: wrong passwords to a login, or
// varied codes to a lookup. It passes when the API answers 429 (or 503, or
// sets Retry-After) or, for a login, locks the account; it fails when
// every attempt was answered and the right password still works.
func (r *runner) rateLimit(ctx context.Context, t *Template, op *Operation) verdict {
	var who *Identity
	if isLogin(op) {
		for _, id := range r.cfg.Identities {
			if id.Login != nil && id.Login.Path == op.Path && id.Login.Method == op.Method {
				who = id
				break
			}
		}
	}
	id := r.exemplarID(op)
	base := r.gen.build(op, name(id))
	var varied *place
	if who == nil && t.Select.params != nil {
		for _, p := range injectable(op, true) {
			if t.Select.params.MatchString(p.name) {
				varied = &p
				break
			}
		}
	}
	var last *Response
	for i := range t.Attempts {
		var req *Request
		var as *Identity
		switch {
		case who != nil:
			body := map[string]any{}
			for k, v := range who.Login.JSON {
				body[k] = v
				if strings.Contains(strings.ToLower(k), "pass") {
					body[k] = "vigil-wrong-" + strconv.Itoa(i)
				}
			}
			raw, _ := json.Marshal(body)
			req = &Request{Method: op.Method, Path: who.Login.Path, Header: map[string]string{"Content-Type": "application/json"}, Body: raw}
		case varied != nil:
			b := base.clone()
			cur := b.path[varied.name]
			if varied.in == "query" {
				cur = b.query.Get(varied.name)
			}
			b.set(*varied, vary(cur, i), false)
			req, as = b.request(), id
		default:
			req, as = base.request(), id
		}
		resp, err := r.send(ctx, req, as)
		if err != nil {
			return errorf("%s", netError(err))
		}
		last = resp
		if resp.Status == 429 || resp.Status == 503 || resp.Header.Get("Retry-After") != "" {
			return pass("limited after %d requests (%d)", i+1, resp.Status).with(name(as), resp)
		}
	}
	if who != nil {
		resp, err := r.sendRaw(ctx, who.Login.Method, who.Login.Path, map[string]string{"Content-Type": "application/json"}, who.Login.body())
		if err != nil {
			return errorf("%s", netError(err))
		}
		if !is2xx(resp.Status) {
			return pass("the account was locked after %d wrong passwords (%d)", t.Attempts, resp.Status).with(who.Name, last, resp)
		}
		return fail("%d wrong passwords for %s were all answered (%d), never limited, and the right password still works", t.Attempts, who.Name, last.Status).with(who.Name, last, resp)
	}
	return fail("%d requests in a row were all answered (last %d): no rate limit", t.Attempts, last.Status).with(name(id), last)
}

// vary changes the trailing digits of v to i ("GC-0000" → "GC-0007").
func vary(v string, i int) string {
	j := len(v)
	for j > 0 && v[j-1] >= '0' && v[j-1] <= '9' {
		j--
	}
	w := len(v) - j
	if w == 0 {
		return v + strconv.Itoa(i)
	}
	s := strconv.Itoa(i)
	for len(s) < w {
		s = "0" + s
	}
	return v[:j] + s[len(s)-w:]
}

// headers checks the response headers of a valid request; with
// cors_origin it sends that Origin and fails when the response allows it.
func (r *runner) headers(ctx context.Context, t *Template, op *Operation) verdict {
	id := r.exemplarID(op)
	if !op.Auth {
		id = nil
	}
	req := r.gen.build(op, name(id)).request()
	if t.CORSOrigin != "" {
		req.Header["Origin"] = t.CORSOrigin
	}
	resp, err := r.send(ctx, req, id)
	if err != nil {
		return errorf("%s", netError(err))
	}
	var missing []string
	for _, h := range t.Headers {
		if h.HTTPSOnly && r.base.Scheme != "https" {
			continue
		}
		v := resp.Header.Get(h.Name)
		if v == "" || (h.value != nil && !h.value.MatchString(v)) {
			missing = append(missing, h.Name)
		}
	}
	if len(missing) > 0 {
		return fail("missing or weak response headers: %s", strings.Join(missing, ", ")).with(name(id), resp)
	}
	if t.CORSOrigin != "" {
		acao := resp.Header.Get("Access-Control-Allow-Origin")
		creds := strings.EqualFold(resp.Header.Get("Access-Control-Allow-Credentials"), "true")
		if acao == t.CORSOrigin || (acao == "*" && creds) || (acao == "null" && creds) {
			return fail("the response allows the foreign origin %s (Access-Control-Allow-Origin: %s, credentials %v)", t.CORSOrigin, acao, creds).with(name(id), resp)
		}
		return pass("the foreign origin is not allowed").with(name(id), resp)
	}
	return pass("required headers present").with(name(id), resp)
}

// method sends the methods a path does not document; a 2xx fails.
func (r *runner) method(ctx context.Context, t *Template, op *Operation) verdict {
	documented := map[string]bool{}
	for _, o := range r.cfg.API.Ops {
		if o.Path == op.Path {
			documented[o.Method] = true
		}
	}
	id := r.exemplarID(op)
	base := r.gen.build(op, name(id)).request()
	tried := 0
	var last *Response
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if documented[m] {
			continue
		}
		body := base.Body
		if m == "GET" || m == "DELETE" {
			body = nil
		}
		h := map[string]string{}
		id.apply(h)
		if body != nil {
			h["Content-Type"] = "application/json"
		}
		resp, err := r.sendRaw(ctx, m, base.Path, h, body)
		if err != nil {
			return errorf("%s", netError(err))
		}
		tried++
		last = resp
		if is2xx(resp.Status) {
			return fail("the undocumented method %s answered %d", m, resp.Status).with(name(id), resp)
		}
	}
	if tried == 0 {
		return verdict{}
	}
	return pass("%d undocumented methods refused (last %d)", tried, last.Status).with(name(id), last)
}

// booleanPair runs a boolean payload at each place: the false condition
// must answer like the valid request, the true one differently, and the
// second pair must agree (and the true answers agree with each other).
func (r *runner) booleanPair(ctx context.Context, id *Identity, base *built, baseResp *Response, places []place, p Payload) (verdict, int) {
	sent := 0
	for _, pl := range places {
		var resps [4]*Response
		for i, v := range []string{p.False, p.Value, p.ConfirmFalse, p.Confirm} {
			b := base.clone()
			if !b.set(pl, v, false) {
				break
			}
			resp, err := r.send(ctx, b.request(), id)
			if err != nil {
				return errorf("%s", netError(err)), sent
			}
			sent++
			resps[i] = unreflect(resp, v)
			// Stop early when the pair gives no signal: most places do not.
			if i == 0 && !similar(resps[0], baseResp) {
				break
			}
			if i == 1 && similar(resps[1], resps[0]) {
				break
			}
		}
		if resps[3] == nil {
			continue
		}
		f1, t1, f2, t2 := resps[0], resps[1], resps[2], resps[3]
		if similar(f2, baseResp) && !similar(t2, f2) && similar(t1, t2) {
			detail := fmt.Sprintf("%s %s: the true condition %q answered %d (%d bytes), the false one %q %d (%d bytes, like the valid request); the second pair agreed",
				pl.in, pl.name, p.Value, t1.Status, len(t1.Body), p.False, f1.Status, len(f1.Body))
			return verdict{status: StatusFail, detail: detail}.with(name(id), baseResp, t1, f1), sent
		}
	}
	return verdict{}, sent
}

// similar reports whether two answers look alike: the same status and body
// lengths within 5% (16 bytes at least).
func similar(a, b *Response) bool {
	if a == nil || b == nil || a.Status != b.Status {
		return false
	}
	d := len(a.Body) - len(b.Body)
	if d < 0 {
		d = -d
	}
	return d <= max(16, max(len(a.Body), len(b.Body))/20)
}

// timed runs a time-based payload at each place: slow by the delay with
// it, fast with a zero delay, and slow again on a second try.
func (r *runner) timed(ctx context.Context, id *Identity, base *built, baseResp *Response, places []place, p Payload) (verdict, int) {
	delay := time.Duration(p.Delay) * time.Second
	if delay+baseResp.Took >= r.cfg.Timeout {
		return skipf("the delay %s does not fit in the per-request timeout %s", delay, r.cfg.Timeout), 0
	}
	sent := 0
	try := func(pl place, d int) (*Response, error) {
		b := base.clone()
		b.set(pl, strings.ReplaceAll(p.Value, "{{delay}}", strconv.Itoa(d)), false)
		sent++
		return r.send(ctx, b.request(), id)
	}
	slow := func(x *Response) bool { return x.Took >= baseResp.Took+delay*9/10 }
	for _, pl := range places {
		first, err := try(pl, p.Delay)
		if err != nil {
			return errorf("%s", netError(err)), sent
		}
		if !slow(first) {
			continue
		}
		zero, err := try(pl, 0)
		if err != nil {
			return errorf("%s", netError(err)), sent
		}
		if zero.Took >= baseResp.Took+delay/2 {
			continue // slow anyway: not the payload's doing
		}
		again, err := try(pl, p.Delay)
		if err != nil {
			return errorf("%s", netError(err)), sent
		}
		if slow(again) {
			detail := fmt.Sprintf("%s %s: %q took %s twice (the valid request %s), and %s with a zero delay",
				pl.in, pl.name, p.Value, first.Took.Round(time.Millisecond), baseResp.Took.Round(time.Millisecond), zero.Took.Round(time.Millisecond))
			return verdict{status: StatusFail, detail: strings.ReplaceAll(detail, "{{delay}}", strconv.Itoa(p.Delay))}.with(name(id), first, zero, again), sent
		}
	}
	return verdict{}, sent
}
