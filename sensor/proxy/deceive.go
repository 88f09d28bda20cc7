package proxy

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil"
)

// DefaultMaxTarpitted caps the requests held in tarpits at once. Each holds
// a goroutine and a connection for its delay; beyond the cap a tarpitted
// request is answered 429 at once, so that an attacker cannot turn the
// tarpit against the proxy.
const DefaultMaxTarpitted = 256

// DecoyShape is the learned shape of an endpoint's answers (from the API
// inventory), which decoys copy: the top-level fields of its objects, and
// whether it answers with a list of them.
type DecoyShape struct {
	List   bool
	Fields []DecoyField
}

// DecoyField is one top-level field of an endpoint's answers.
type DecoyField struct {
	Name string
	// Type is the JSON type: "integer", "number", "boolean", "string",
	// "array", "object" or "null".
	Type string
	// Format refines strings: "email", "uuid", "date-time", "date", "uri",
	// "ipv4", "ipv6".
	Format string
	// Enum is a small set of values seen; a decoy picks one.
	Enum []string
}

// maxDecoyFields caps the fields a decoy object takes from a shape.
const maxDecoyFields = 64

// maxTarpitKeys caps the per-action request counts of progressive tarpits.
const maxTarpitKeys = 10_000

// tarpits delays tarpitted actors progressively: the n-th request under a
// tarpit action waits n times the action's Delay, up to the cap, for as long
// as the action lasts. At most cap(slots) requests wait at once.
type tarpits struct {
	slots chan struct{}

	mu      sync.Mutex
	counts  map[string]*tarpitCount // by action key and ID
	evicted uint64
}

type tarpitCount struct {
	n     int64
	until time.Time
}

func newTarpits(held int) *tarpits {
	if held <= 0 {
		held = DefaultMaxTarpitted
	}
	return &tarpits{slots: make(chan struct{}, held), counts: make(map[string]*tarpitCount)}
}

// delay counts a request under act and returns how long it waits: its
// number under the action times act.Delay, at most maxDelay.
func (t *tarpits) delay(act vigil.Action, now time.Time, maxDelay time.Duration) time.Duration {
	if act.Delay <= 0 {
		return 0
	}
	k := act.Key + "\x00" + act.ID
	t.mu.Lock()
	c, ok := t.counts[k]
	if !ok {
		if len(t.counts) >= maxTarpitKeys {
			t.makeRoom(now)
		}
		c = &tarpitCount{until: act.Until}
		t.counts[k] = c
	}
	c.n++
	n := c.n
	t.mu.Unlock()
	if n > int64(maxDelay/act.Delay) {
		return maxDelay
	}
	return min(time.Duration(n)*act.Delay, maxDelay)
}

// makeRoom forgets the counts of actions that ended, else an arbitrary one
// (counted). t.mu is held.
func (t *tarpits) makeRoom(now time.Time) {
	for k, c := range t.counts {
		if !now.Before(c.until) {
			delete(t.counts, k)
		}
	}
	for k := range t.counts {
		if len(t.counts) < maxTarpitKeys {
			break
		}
		delete(t.counts, k)
		t.evicted++
	}
}

// tarpit holds the request for its progressive delay and reports whether it
// may go on. When every slot is taken it answers 429 instead.
func (c *core) tarpit(w *captureWriter, r *http.Request, act vigil.Action, id string, now time.Time) bool {
	d := c.tarpits.delay(act, now, c.maxTarpit)
	w.Header().Set(HeaderAction, string(vigil.ActionTarpit))
	if d <= 0 {
		c.stats.tarpitted.Add(1)
		return true
	}
	select {
	case c.tarpits.slots <- struct{}{}:
	default:
		c.stats.tarpitRejected.Add(1)
		w.Header().Set("Retry-After", strconv.FormatInt(max(1, int64(d/time.Second)), 10))
		writeError(w, http.StatusTooManyRequests, CodeRateLimited, "too many requests", id)
		return false
	}
	defer func() { <-c.tarpits.slots }()
	c.stats.tarpitted.Add(1)
	t := time.NewTimer(d)
	defer t.Stop()
	if fw, ok := w.rw.(*fastWriter); ok {
		return fw.wait(t.C) // FastServer: no context ends when the client leaves
	}
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false // finish counts the cancel
	}
}

// decoy answers in the upstream's place with a plausible fake JSON object
// (see decoyBody). It carries none of Vigil's headers: an enumerator must
// not learn that it is being fed decoys. The Exchange has no Response, as
// for every answer Vigil makes itself, so that nothing downstream learns
// from the fake data; Stats.Decoys counts them.
func (c *core) decoy(w *captureWriter, r *http.Request) {
	c.stats.decoys.Add(1)
	w.generated = true
	var shape *DecoyShape
	if c.decoyShape != nil {
		if sh, ok := c.decoyShape(r); ok && len(sh.Fields) > 0 {
			shape = &sh
		}
	}
	body := decoyBody(c.decoySeed, r.Method, r.URL.Path, shape)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client may be gone; nothing to do
	}
}

// maxDecoyPath caps the path a decoy is made from.
const maxDecoyPath = 2048

// decoyBody makes a fake JSON answer for a request path. With the
// endpoint's learned shape, objects have its fields, with made-up values of
// their types and formats, and a list endpoint gets a list of three. Without
// one: for a path that ends in an identifier ("/users/1042",
// "/orders/7f3a…") an object with that id; for a collection ("/users") a
// page of three objects with fake ids. Values are made up from a keyed hash
// of the path, so the same path gets the same answer (an enumerator
// comparing two calls sees nothing odd) and different paths different ones;
// nothing comes from real data.
func decoyBody(seed maphash.Seed, method, path string, shape *DecoyShape) []byte {
	if len(path) > maxDecoyPath {
		path = path[:maxDecoyPath]
	}
	segs := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	h := maphash.String(seed, path)
	id := ""
	if len(segs) > 0 && isIdentifier(segs[len(segs)-1]) {
		id = segs[len(segs)-1]
	}
	var v any
	switch {
	case shape != nil && shape.List:
		items := make([]any, 3)
		for i := range items {
			items[i] = shapedObject(h+uint64(i)*0x9E3779B97F4A7C15, "", shape.Fields)
		}
		v = items
	case shape != nil:
		v = shapedObject(h, id, shape.Fields)
	case id != "":
		v = decoyObject(h, id)
	case method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch:
		v = decoyObject(h, "")
	default:
		items := make([]any, 3)
		for i := range items {
			items[i] = decoyObject(h+uint64(i)*0x9E3779B97F4A7C15, "")
		}
		v = map[string]any{"items": items, "page": 1, "per_page": 3, "total": 3, "next": nil}
	}
	b, err := json.Marshal(v)
	if err != nil { // cannot happen: plain values
		return []byte("{}")
	}
	return append(b, '\n')
}

var decoyNames = [...]string{"Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Harper", "Rowan", "Emerson", "Sasha", "Kai", "Robin"}
var decoyLast = [...]string{"Adams", "Baker", "Clarke", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kowalski", "Larsen"}

// decoyObject is one fake record; id is the requested identifier, or made
// up when empty.
func decoyObject(h uint64, id string) map[string]any {
	var idv any = id
	if id == "" {
		idv = int64(100000 + h%900000)
	} else if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		idv = n
	}
	first, last := decoyNames[h%uint64(len(decoyNames))], decoyLast[(h>>8)%uint64(len(decoyLast))]
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h>>20%(600*24)) * time.Hour)
	return map[string]any{
		"id":         idv,
		"name":       first + " " + last,
		"email":      strings.ToLower(first+"."+last) + strconv.FormatUint(h%1000, 10) + "@example.com",
		"status":     "active",
		"created_at": created.Format(time.RFC3339),
		"updated_at": created.Add(time.Duration(h>>40%2000) * time.Hour).Format(time.RFC3339),
	}
}

// shapedObject is one fake record with the learned fields; the field named
// id takes the requested identifier when there is one.
func shapedObject(h uint64, id string, fields []DecoyField) map[string]any {
	o := make(map[string]any, min(len(fields), maxDecoyFields))
	base := decoyObject(h, id)
	for i, f := range fields {
		if i == maxDecoyFields {
			break
		}
		fh := h ^ (uint64(i+1) * 0xBF58476D1CE4E5B9)
		fh ^= fh >> 31
		o[f.Name] = fakeValue(fh, f, base)
	}
	return o
}

// fakeValue makes a value of the field's type: a name-based guess for the
// usual fields (id, name, email, times), else a value of the type and format.
func fakeValue(h uint64, f DecoyField, base map[string]any) any {
	name := strings.ToLower(f.Name)
	if len(f.Enum) > 0 {
		return f.Enum[h%uint64(len(f.Enum))]
	}
	switch f.Type {
	case "integer":
		if name == "id" {
			if n, ok := base["id"].(int64); ok {
				return n
			}
		}
		if strings.HasSuffix(name, "id") || strings.HasSuffix(name, "_id") {
			return int64(1000 + h%900000)
		}
		return int64(h % 1000)
	case "number":
		return float64(h%100000) / 100
	case "boolean":
		return h&1 == 1
	case "array":
		return []any{}
	case "object":
		return map[string]any{}
	case "null":
		return nil
	}
	switch f.Format {
	case "email":
		return base["email"]
	case "uuid":
		b := h * 0x9E3779B97F4A7C15
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", h>>32, h>>16&0xffff, h&0xfff, b>>52, b&0xffffffffffff)
	case "date-time":
		return base["created_at"]
	case "date":
		s, _ := base["created_at"].(string)
		return s[:min(len(s), 10)]
	case "uri":
		return "https://example.com/r/" + strconv.FormatUint(h%1000000, 36)
	case "ipv4":
		return "192.0.2." + strconv.FormatUint(1+h%254, 10)
	case "ipv6":
		return "2001:db8::" + strconv.FormatUint(h%0xffff, 16)
	}
	switch {
	case name == "id":
		if s, ok := base["id"].(string); ok {
			return s
		}
		return strconv.FormatUint(h, 36)
	case name == "name" || strings.HasSuffix(name, "name"):
		return base["name"]
	case strings.Contains(name, "email"):
		return base["email"]
	case strings.HasSuffix(name, "_at") || strings.HasSuffix(name, "date") || strings.HasSuffix(name, "time"):
		return base["created_at"]
	case name == "status" || name == "state":
		return "active"
	}
	return decoyWords[h%uint64(len(decoyWords))] + "-" + strconv.FormatUint(h>>8%10000, 10)
}

var decoyWords = [...]string{"amber", "basalt", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "iris", "juniper", "kestrel", "lumen"}

// isIdentifier reports whether a path segment looks like an object id: a
// number, a UUID, or a long hex or base-62 token with a digit in it.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	digits, alnum := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			alnum++
		case c == '-' || c == '_':
		default:
			return false
		}
	}
	if digits == len(s) {
		return true
	}
	return digits > 0 && len(s) >= 8
}
