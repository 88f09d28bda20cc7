package scan

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// notes is a small API with one switch per flaw: the per-category tests
// scan it with the flaw planted and fixed. Tokens are "tok-<user>" or a
// JWT whose payload names the user (alg none and bad signatures are
// accepted only with the "jwt" flaw).
type notes struct {
	flaws   map[string]bool
	mu      sync.Mutex
	role    map[string]string
	calls   int
	notes   map[int]string // text of the notes still there
	lookups int
}

var noteOwners = map[int]string{1: "alice", 2: "alice", 3: "bob"}

func (n *notes) user(r *http.Request) string {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if u, ok := strings.CutPrefix(tok, "tok-"); ok && (u == "alice" || u == "bob" || u == "root") {
		return u
	}
	parts := strings.Split(tok, ".")
	if len(parts) == 3 {
		hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
		body, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct{ Sub string }
		_ = json.Unmarshal(body, &c)
		good := parts[2] == "sig" && strings.Contains(string(hdr), "HS256")
		if good || n.flaws["jwt"] {
			return c.Sub
		}
	}
	if n.flaws["noauth"] {
		return "alice"
	}
	return ""
}

func (n *notes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !n.flaws["headers"] {
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}
	if o := r.Header.Get("Origin"); o != "" && n.flaws["cors"] {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	out := func(status int, v any) { w.WriteHeader(status); _ = json.NewEncoder(w).Encode(v) }
	n.mu.Lock()
	n.calls++
	n.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	if key == "POST /login" {
		if n.flaws["verbose"] {
			var v any
			if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
				out(500, map[string]string{"error": "panic: " + err.Error(), "trace": "goroutine 7 [running]:\nmain.login()\n\t/src/main.go:42"})
				return
			}
		}
		out(401, map[string]string{"error": "bad password"})
		return
	}
	switch {
	case key == "POST /render":
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		t := m["template"]
		if n.flaws["ssti"] {
			t = strings.ReplaceAll(t, "{{1337*7331}}", "9801547")
		}
		out(200, map[string]string{"html": "<p>" + t + "</p>"})
		return
	case key == "GET /files":
		name := r.URL.Query().Get("name")
		if n.flaws["traversal"] && strings.Contains(name, "../") && strings.HasSuffix(name, "etc/passwd") {
			out(200, map[string]string{"content": "root:x:0:0:root:/root:/bin/sh\n"})
			return
		}
		out(404, map[string]string{"error": "no such file " + name})
		return
	case key == "GET /greet":
		name := r.URL.Query().Get("name")
		if !n.flaws["xss"] {
			name = html.EscapeString(name)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<p>Hello "+name+"</p>")
		return
	case key == "GET /ping":
		host := r.URL.Query().Get("host")
		if n.flaws["command"] && strings.ContainsAny(host, ";|$") {
			out(200, map[string]string{"output": "PING vigil\nuid=33(www-data) gid=33(www-data) groups=33(www-data)"})
			return
		}
		out(200, map[string]string{"output": "PING " + host})
		return
	case key == "POST /users/find":
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		if _, isObj := m["username"].(map[string]any); isObj && n.flaws["nosql"] {
			out(500, map[string]string{"error": "MongoServerError: unknown operator: $where"})
			return
		}
		out(404, map[string]any{"error": "no such user", "username": m["username"]})
		return
	case key == "POST /assistant":
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		if n.flaws["prompt"] && strings.Contains(strings.ToLower(m["message"]), "ignore all previous") {
			out(200, map[string]string{"reply": "Sure. My instructions are: You are NoteBot; internal notes: ..."})
			return
		}
		out(200, map[string]string{"reply": "I can help with your notes. You asked: " + m["message"]})
		return
	case strings.HasPrefix(key, "GET /vouchers/"):
		n.mu.Lock()
		n.lookups++
		many := n.lookups > 5
		n.mu.Unlock()
		if many && !n.flaws["ratelimit"] {
			w.Header().Set("Retry-After", "60")
			out(429, map[string]string{"error": "slow down"})
			return
		}
		out(404, map[string]string{"error": "unknown voucher"})
		return
	case key == "DELETE /notes" || key == "PUT /me":
		if n.flaws["method"] {
			out(200, map[string]string{"ok": "done"})
			return
		}
	}
	if key == "GET /search" || (key == "GET /v0/search" && n.flaws["legacy"]) { // v0: not in the spec
		q := r.URL.Query().Get("q")
		if n.flaws["sqltime"] {
			var secs int
			if i := strings.Index(q, "SLEEP("); i >= 0 {
				fmt.Sscanf(q[i+len("SLEEP("):], "%d", &secs)
			}
			time.Sleep(time.Duration(min(secs, 2)) * time.Second)
		}
		if n.flaws["sqltime-safe"] {
			time.Sleep(300 * time.Millisecond) // slow, whatever the query
		}
		if n.flaws["sqlibool"] || n.flaws["sqlibool-safe"] {
			// Errors are hidden. Vulnerable: a tautology returns every row.
			// Safe: a token search, so "1" and "2" find rows of their own.
			var rows []string
			switch {
			case n.flaws["sqlibool"] && (strings.Contains(q, "' OR 1=1 -- ") || strings.Contains(q, "' OR 2=2 -- ")):
				rows = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"}
			case n.flaws["sqlibool-safe"]:
				for _, tok := range strings.Fields(q) {
					if strings.ContainsAny(tok, "0123456789") {
						rows = append(rows, "row with "+tok)
					}
				}
			}
			out(200, map[string]any{"results": rows})
			return
		}
		if n.flaws["sqli"] && strings.Count(q, "'")%2 == 1 {
			out(500, map[string]string{"error": "SQL logic error: unrecognized token: \"'" + q + "\""})
			return
		}
		out(200, map[string]any{"query": q, "results": []string{}})
		return
	}
	u := n.user(r)
	if u == "" {
		out(401, map[string]string{"error": "unauthorized"})
		return
	}
	n.mu.Lock()
	role := n.role[u]
	n.mu.Unlock()
	switch {
	case key == "GET /me":
		m := map[string]any{"id": len(u), "email": u + "@notes.test", "role": role}
		if n.flaws["exposure"] {
			m["password_hash"] = "$2a$10$abcdefghijklmnopqrstuuJ9mXK6W4FQK8qkq2M0f9Zb6mXo7p0uK"
		}
		out(200, m)
	case key == "PATCH /me":
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		if v, ok := m["role"].(string); ok && n.flaws["mass"] {
			n.mu.Lock()
			n.role[u] = v
			role = v
			n.mu.Unlock()
		}
		out(200, map[string]any{"id": len(u), "email": u + "@notes.test", "role": role})
	case key == "GET /notes":
		var list []map[string]any
		for id, o := range noteOwners {
			if o == u {
				list = append(list, map[string]any{"id": id, "owner": o, "text": "note"})
			}
		}
		out(200, map[string]any{"notes": list})
	case strings.HasPrefix(key, "GET /notes/"), strings.HasPrefix(key, "PATCH /notes/"), strings.HasPrefix(key, "DELETE /notes/"):
		var id int
		fmt.Sscanf(r.URL.Path, "/notes/%d", &id)
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.notes == nil {
			n.notes = map[int]string{}
			for k, o := range noteOwners {
				n.notes[k] = "secret of " + o
			}
		}
		o, ok := noteOwners[id]
		text, alive := n.notes[id]
		if !ok || !alive || (o != u && !(r.Method == "GET" && n.flaws["bola"]) && !(r.Method != "GET" && n.flaws["bolawrite"])) {
			out(404, map[string]string{"error": "no such note"})
			return
		}
		switch r.Method {
		case "PATCH":
			var m map[string]string
			_ = json.NewDecoder(r.Body).Decode(&m)
			n.notes[id] = m["text"]
			out(200, map[string]any{"id": id, "owner": o, "text": m["text"]})
		case "DELETE":
			delete(n.notes, id)
			w.WriteHeader(204)
		default:
			out(200, map[string]any{"id": id, "owner": o, "text": text})
		}
	case key == "POST /fetch":
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		if n.flaws["ssrf"] && strings.HasPrefix(m["url"], "http://127.0.0.1:") {
			if resp, err := http.Get(m["url"]); err == nil {
				resp.Body.Close()
			}
		}
		out(200, map[string]string{"status": "queued"})
	case key == "GET /admin/stats":
		if role != "admin" && !n.flaws["bfla"] {
			out(403, map[string]string{"error": "admins only"})
			return
		}
		out(200, map[string]int{"notes": 3})
	default:
		out(404, map[string]string{"error": "not found"})
	}
}

func notesConfig(t *testing.T, url string, only string) Config {
	t.Helper()
	data, err := os.ReadFile("testdata/notes-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api, err := ParseAPI("notes-api.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	ts := builtinWhere(t, func(x *Template) bool { return strings.HasPrefix(x.ID, only) })
	if len(ts) == 0 {
		t.Fatalf("no template %s", only)
	}
	jwt := func(sub string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(`{"sub":"`+sub+`"}`)) + ".sig"
	}
	return Config{Target: url, API: api, Templates: ts, Rate: 1000, Concurrency: 2, Timeout: 5 * time.Second,
		Identities: []*Identity{
			{Name: "alice", Role: "user", Bearer: jwt("alice")},
			{Name: "bob", Role: "user", Bearer: "tok-bob"},
			{Name: "root", Role: "admin", Bearer: "tok-root"},
		}}
}

// TestCategories runs each category's test against the notes API with its
// flaw planted (one finding on the flawed operation) and fixed (none).
func TestCategories(t *testing.T) {
	for _, tc := range []struct {
		flaw, test string
		ops        string // the operations that must fail, comma-separated, sorted
	}{
		{"bola", "bola.read-other-object", "GET /notes/{id}"},
		{"bolawrite", "bola.write-other-object", "DELETE /notes/{id},PATCH /notes/{id}"},
		{"bfla", "bfla.admin-operation", "GET /admin/stats"},
		{"noauth", "auth.no-credentials", "DELETE /notes/{id},GET /me,GET /notes,GET /notes/{id},PATCH /me,PATCH /notes/{id},POST /fetch"},
		{"jwt", "auth.jwt-alg-none", "DELETE /notes/{id},GET /me,GET /notes,GET /notes/{id},PATCH /me,PATCH /notes/{id},POST /fetch"},
		{"jwt", "auth.jwt-bad-signature", "DELETE /notes/{id},GET /me,GET /notes,GET /notes/{id},PATCH /me,PATCH /notes/{id},POST /fetch"},
		{"mass", "mass-assign.unwritable-property", "PATCH /me"},
		{"sqli", "inject.sql-error", "GET /search"},
		{"ssrf", "ssrf.callback", "POST /fetch"},
		{"exposure", "exposure.undocumented-sensitive", "GET /me"},
		{"headers", "headers.security", "GET /admin/stats"},
		{"cors", "headers.cors", "GET /admin/stats"},
		{"verbose", "verbose.malformed-body", "POST /login"},
		{"sqlibool", "inject.sql-boolean", "GET /search"},
		{"sqltime", "inject.sql-time", "GET /search"},
		{"ssti", "inject.template", "POST /render"},
		{"traversal", "inject.path-traversal", "GET /files"},
		{"command", "inject.command", "GET /ping"},
		{"nosql", "inject.nosql", "POST /users/find"},
		{"prompt", "inject.prompt", "POST /assistant"},
		{"xss", "inject.xss-reflected", "GET /greet"},
		{"ratelimit", "ratelimit.code-enumeration", "GET /vouchers/{code}"},
		{"method", "method.undocumented", "GET /me,GET /notes"},
	} {
		for _, planted := range []bool{true, false} {
			name := tc.test + map[bool]string{true: "/vulnerable", false: "/safe"}[planted]
			t.Run(name, func(t *testing.T) {
				flaws := map[string]bool{tc.flaw: planted}
				if tc.flaw == "sqlibool" && !planted {
					flaws["sqlibool-safe"] = true // a token search that looks alike
				}
				if tc.flaw == "sqltime" && !planted {
					flaws["sqltime-safe"] = true // a slow search
				}
				api := &notes{flaws: flaws, role: map[string]string{"alice": "user", "bob": "user", "root": "admin"}}
				srv := httptest.NewServer(api)
				defer srv.Close()
				cfg := notesConfig(t, srv.URL, tc.test)
				for _, x := range cfg.Templates {
					for i := range x.Payloads {
						if x.Payloads[i].Delay > 0 {
							x.Payloads[i].Delay = 1 // a one-second sleep keeps the test short
						}
					}
				}
				rep, err := Run(t.Context(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range rep.Results {
					if r.Status == StatusError {
						t.Errorf("%s on %s: error %s", r.Test, r.Operation, r.Detail)
					}
					if r.Status == StatusFail {
						got = append(got, r.Operation)
					}
				}
				slices.Sort(got)
				switch {
				case planted && (tc.test == "headers.security" || tc.test == "headers.cors"):
					if len(got) != 1 { // limit 1: the first failing operation only
						t.Errorf("flaw %s planted: findings on %v, want one", tc.flaw, got)
					}
				case planted && strings.Join(got, ",") != tc.ops:
					t.Errorf("flaw %s planted: findings on %v, want %s", tc.flaw, got, tc.ops)
				case !planted && len(got) > 0:
					t.Errorf("flaw %s fixed: false positives on %v", tc.flaw, got)
				}
			})
		}
	}
}

// TestBudget: a spent --max-requests stops the run with a partial report.
func TestBudget(t *testing.T) {
	srv := httptest.NewServer(&notes{flaws: map[string]bool{}, role: map[string]string{"alice": "user", "bob": "user", "root": "admin"}})
	defer srv.Close()
	cfg := notesConfig(t, srv.URL, "")
	cfg.MaxRequests = 40
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Partial || rep.Requests > 40 {
		t.Errorf("partial %v, %d requests; want a partial report of at most 40", rep.Partial, rep.Requests)
	}
}

// TestScope: requests stay on the target's host whatever the spec says.
func TestScope(t *testing.T) {
	var other atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other.Add(1) }))
	defer elsewhere.Close()
	srv := httptest.NewServer(&notes{flaws: map[string]bool{}, role: map[string]string{"alice": "user", "bob": "user", "root": "admin"}})
	defer srv.Close()
	spec := strings.Replace(string(mustRead(t, "testdata/notes-api.yaml")), "info: {title: notes, version: \"1\"}",
		"info: {title: notes, version: \"1\"}\nservers: [{url: '"+elsewhere.URL+"'}]", 1)
	api, err := ParseAPI("notes", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	cfg := notesConfig(t, srv.URL, "bola")
	cfg.API = api
	if _, err := Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if n := other.Load(); n != 0 {
		t.Errorf("%d requests went to the spec's server instead of the target", n)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
