package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// authenticate runs the login of every login identity and learns each
// identity's markers (its user id and email) from a "me" operation.
func (r *runner) authenticate(ctx context.Context) error {
	for _, id := range r.cfg.Identities {
		if id.Login == nil {
			if id.Basic != nil {
				id.markers = appendMarker(id.markers, id.Basic.Username)
			}
			continue
		}
		l := id.Login
		h := map[string]string{}
		if l.JSON != nil {
			h["Content-Type"] = "application/json"
		}
		resp, err := r.sendRaw(ctx, l.Method, l.Path, h, l.body())
		if err != nil {
			return fmt.Errorf("scan: login of %s: %s", id.Name, netError(err))
		}
		if !is2xx(resp.Status) {
			return fmt.Errorf("scan: login of %s: %s %s answered %d", id.Name, l.Method, l.Path, resp.Status)
		}
		var v any
		_ = json.Unmarshal(resp.Body, &v)
		ptrs := []string{l.Token}
		if l.Token == "" {
			ptrs = []string{"/token", "/access_token", "/data/token"}
		}
		for _, p := range ptrs {
			if t, ok := jsonPointer(v, p); ok {
				if s, ok := t.(string); ok && s != "" {
					id.token = s
					break
				}
			}
		}
		if id.token == "" {
			return fmt.Errorf("scan: login of %s: no token at %s in the response", id.Name, strings.Join(ptrs, " or "))
		}
		for k, val := range l.JSON {
			if s, ok := val.(string); ok && strings.Contains(s, "@") && !strings.Contains(strings.ToLower(k), "pass") {
				id.markers = appendMarker(id.markers, s)
			}
		}
	}
	me := r.meOp()
	for _, id := range r.cfg.Identities {
		if me == nil {
			break
		}
		resp, err := r.send(ctx, &Request{Method: "GET", Path: me.Path}, id)
		if err != nil {
			return fmt.Errorf("scan: %s as %s: %s", me, id.Name, netError(err))
		}
		if !is2xx(resp.Status) {
			r.logger.Warn("identity rejected", "identity", id.Name, "op", me.String(), "status", resp.Status)
			continue
		}
		m := topLevel(resp.Body)
		if s := scalar(m["id"]); s != "" {
			id.userID = s
			r.pool.mu.Lock()
			addCapped(r.pool.ids, id.Name+"\x00"+strings.TrimSuffix(me.Path, "/me"), s)
			r.pool.mu.Unlock()
		}
		if s, _ := m["email"].(string); s != "" {
			id.markers = appendMarker(id.markers, s)
		}
	}
	return nil
}

func appendMarker(ms []string, s string) []string {
	if len(s) < 5 || slices.Contains(ms, s) {
		return ms
	}
	return append(ms, s)
}

var meLike = regexp.MustCompile(`(?i)/(me|self|account|profile|whoami|current-?user)$`)

// meOp is the operation that answers the caller's own account.
func (r *runner) meOp() *Operation {
	for _, op := range r.cfg.API.Ops {
		if op.Method == "GET" && op.Auth && len(op.PathParams()) == 0 && meLike.MatchString(op.Path) {
			return op
		}
	}
	return nil
}

// admin returns the first identity with an admin role, nil when none.
func (r *runner) admin() *Identity {
	for _, id := range r.cfg.Identities {
		if id.IsAdmin(r.cfg.AdminRoles) {
			return id
		}
	}
	return nil
}

// users returns the identities without an admin role.
func (r *runner) users() []*Identity {
	var out []*Identity
	for _, id := range r.cfg.Identities {
		if !id.IsAdmin(r.cfg.AdminRoles) {
			out = append(out, id)
		}
	}
	return out
}

// exemplarID is the identity a valid request of op is sent as: an admin
// for admin operations, else the first other identity.
func (r *runner) exemplarID(op *Operation) *Identity {
	if op.Admin() {
		if a := r.admin(); a != nil {
			return a
		}
	}
	if us := r.users(); len(us) > 0 {
		return us[0]
	}
	if len(r.cfg.Identities) > 0 {
		return r.cfg.Identities[0]
	}
	return nil
}

func name(id *Identity) string {
	if id == nil {
		return ""
	}
	return id.Name
}

// crawl sends one valid request for every operation, producers before
// consumers (skipping state-changing ones with --safe), and every listing
// as every identity, so the pool learns each identity's objects.
func (r *runner) crawl(ctx context.Context) {
	for _, id := range r.cfg.Identities {
		for _, op := range r.cfg.API.Ops {
			if op.Method == "GET" && len(op.PathParams()) == 0 && (op.Auth || id == r.cfg.Identities[0]) && !op.Admin() {
				if ctx.Err() != nil {
					return
				}
				if resp, err := r.send(ctx, r.gen.build(op, id.Name).request(), id); err == nil && is2xx(resp.Status) {
					r.pool.learn(id.Name, op, resp.Body)
					if !op.Auth {
						r.pool.learn("", op, resp.Body)
					}
				}
			}
		}
	}
	for _, op := range r.order() {
		if ctx.Err() != nil {
			return
		}
		if r.cfg.Safe && op.StateChanging() {
			continue
		}
		id := r.exemplarID(op)
		if coll := op.Collection(); coll != "" && r.pool.createdID(name(id), coll) == "" &&
			(op.Method == "DELETE" || (op.Admin() && op.StateChanging())) {
			// Never delete an object the scan did not create, nor change
			// someone else's through an admin operation.
			continue
		}
		req := r.gen.build(op, name(id)).request()
		if l := r.loginOf(op); l != nil && l.JSON != nil {
			req.Body = l.body() // a login that succeeds
		}
		resp, err := r.send(ctx, req, id)
		if err != nil {
			continue
		}
		r.mu.Lock()
		r.smoke[op.String()] = resp
		r.mu.Unlock()
		if is2xx(resp.Status) {
			r.pool.learn(name(id), op, resp.Body)
		}
	}
	// The other identities create their own objects too, so that every
	// identity owns something in each collection.
	if r.cfg.Safe {
		return
	}
	us := r.users()
	for _, id := range us[min(1, len(us)):] {
		for _, op := range r.order() {
			if ctx.Err() != nil {
				return
			}
			if op.Method != "POST" || len(op.PathParams()) > 0 || op.Admin() || !op.Auth || op.Response == nil || op.Response.Properties["id"] == nil {
				continue
			}
			if resp, err := r.send(ctx, r.gen.build(op, id.Name).request(), id); err == nil && is2xx(resp.Status) {
				r.pool.learn(id.Name, op, resp.Body)
			}
		}
	}
}

// order sorts the operations producers first: reads without parameters,
// then creates ordered by what they consume, then reads of one object,
// updates, and deletes last. Login and registration come first among the
// creates since they consume nothing.
func (r *runner) order() []*Operation {
	produces := map[string][]*Operation{} // field name → operations whose response has it
	for _, op := range r.cfg.API.Ops {
		if op.Response == nil {
			continue
		}
		for k := range op.Response.Properties {
			produces[strings.ToLower(k)] = append(produces[strings.ToLower(k)], op)
		}
	}
	depth := map[*Operation]int{}
	var dep func(op *Operation, seen int) int
	dep = func(op *Operation, seen int) int {
		if d, ok := depth[op]; ok {
			return d
		}
		if seen > 8 {
			return 0
		}
		d := 0
		if op.Body != nil {
			for _, req := range op.Body.Required {
				for _, p := range produces[strings.ToLower(req)] {
					if p != op && p.Method == "POST" {
						d = max(d, dep(p, seen+1)+1)
					}
				}
			}
		}
		depth[op] = d
		return d
	}
	rank := func(op *Operation) int {
		switch {
		case op.Method == "GET" && len(op.PathParams()) == 0:
			return 0
		case op.Method == "POST" && len(op.PathParams()) == 0:
			return 1
		case op.Method == "GET":
			return 2
		case op.Method == "DELETE":
			return 4
		}
		return 3
	}
	ops := slices.Clone(r.cfg.API.Ops)
	slices.SortStableFunc(ops, func(a, b *Operation) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if rank(a) == 1 {
			return dep(a, 0) - dep(b, 0)
		}
		return 0
	})
	return ops
}

// loginOf returns the login of an identity that signs in through op.
func (r *runner) loginOf(op *Operation) *Login {
	for _, id := range r.cfg.Identities {
		if id.Login != nil && id.Login.Path == op.Path && id.Login.Method == op.Method {
			return id.Login
		}
	}
	return nil
}
