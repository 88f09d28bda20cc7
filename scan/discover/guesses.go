package discover

import (
	_ "embed"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/vigilsec/vigil/inventory/spec"
)

//go:embed words.txt
var wordsTxt string

// word is one entry of the built-in wordlist.
type word struct {
	path     string
	category string
}

// builtin is the parsed built-in wordlist.
var builtin = parseWords(wordsTxt)

func parseWords(text string) []word {
	var out []word
	category := ""
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '[' && line[len(line)-1] == ']':
			category = line[1 : len(line)-1]
		default:
			out = append(out, word{line, category})
		}
	}
	return out
}

// apiWords are tried under every API root (/api, /api/v1, and the version
// roots of the spec): what an API grows and forgets to document.
var apiWords = []string{
	"account", "accounts", "me", "profile", "user", "users", "admin", "internal", "debug", "export",
	"import", "config", "settings", "status", "health", "metrics", "ping", "info", "version", "docs",
	"swagger.json", "openapi.json", "graphql", "login", "token", "auth", "search", "upload", "files",
	"backup", "test", "dev", "legacy", "keys", "logs",
}

// siblingPatterns are tried next to every documented resource X under each
// version root: "export/X" gives /api/v1/export/users.
var siblingPatterns = []string{"export/%s", "%s/export", "admin/%s", "internal/%s"}

// genericRoots get apiWords even without a spec.
var genericRoots = []string{"/api", "/api/v1", "/api/v2"}

// guess is one path to ask for.
type guess struct {
	path     string          // as sent: base path included, query kept
	category string          // the wordlist category, for the reason
	twin     *spec.Operation // the documented operation this is a version twin of
	older    bool            // the twin's version is older than the documented one
	filled   bool            // path parameters were filled in
}

// specIndex matches paths against the spec for the target's host, falling
// back to the spec's own hosts (the spec names the production host; the
// target is a test instance).
type specIndex struct {
	set   *spec.Set
	host  string
	hosts []string
}

func newSpecIndex(set *spec.Set, host string) specIndex {
	if set == nil {
		return specIndex{}
	}
	return specIndex{set: set, host: host, hosts: set.Hosts()}
}

// match returns the documented GET operation a path (or template) answers
// to, or nil.
func (s specIndex) match(p string) *spec.Operation {
	if s.set == nil {
		return nil
	}
	p, _, _ = strings.Cut(p, "?")
	if op := s.set.Match(s.host, "GET", p); op != nil {
		return op
	}
	for _, h := range s.hosts {
		if op := s.set.Match(h, "GET", p); op != nil {
			return op
		}
	}
	return nil
}

// planner collects guesses, deduplicated, in priority order.
type planner struct {
	idx     specIndex
	verbose bool
	seen    map[string]bool
	out     []guess
}

func (p *planner) add(g guess) {
	if g.path == "" || p.seen[g.path] {
		return
	}
	if op := p.idx.match(g.path); op != nil && !op.Deprecated && !p.verbose {
		return // documented: asking tells nothing new
	}
	p.seen[g.path] = true
	p.out = append(p.out, g)
}

// plan lists the guesses, most telling first: the caller's words, version
// twins and deprecated operations of the spec, the built-in list, then the
// words and sibling resources under each API root. base is the target's
// base path, under which the wordlists are tried; spec paths are host paths.
func plan(base string, idx specIndex, words []string, verbose bool) []guess {
	p := &planner{idx: idx, verbose: verbose, seen: map[string]bool{}}
	for _, w := range words {
		if w, ok := cleanWord(w); ok {
			p.add(guess{path: joinPath(base, w), category: "wordlist"})
		}
	}
	var ops []*spec.Operation
	if idx.set != nil {
		ops = idx.set.Ops()
	}
	roots := map[string]*versionRoot{}
	var rootOrder []string
	for _, op := range ops {
		segs := splitPath(op.Path)
		i, n, v := findVersion(segs)
		if i < 0 {
			continue
		}
		prefix := "/" + strings.Join(segs[:i], "/")
		vr := roots[prefix]
		if vr == nil {
			vr = &versionRoot{prefix: strings.TrimSuffix(prefix, "/"), v: v, versions: map[int]bool{}}
			roots[prefix] = vr
			rootOrder = append(rootOrder, prefix)
		}
		vr.versions[n] = true
		if i+1 < len(segs) && !strings.Contains(segs[i+1], "{") && !slices.Contains(vr.resources, segs[i+1]) {
			vr.resources = append(vr.resources, segs[i+1])
		}
		if op.Method != "GET" {
			continue
		}
		for _, k := range otherVersions(n) {
			t := slices.Clone(segs)
			t[i] = v + strconv.Itoa(k)
			tmpl := "/" + strings.Join(t, "/")
			if idx.match(tmpl) != nil {
				continue
			}
			p.add(guess{path: fill(tmpl), twin: op, older: k < n, filled: strings.Contains(tmpl, "{")})
		}
	}
	for _, op := range ops {
		if op.Method == "GET" && op.Deprecated {
			p.add(guess{path: fill(op.Path), filled: strings.Contains(op.Path, "{")})
		}
	}
	for _, w := range builtin {
		p.add(guess{path: joinPath(base, w.path), category: w.category})
	}
	for _, prefix := range rootOrder {
		vr := roots[prefix]
		var vs []int
		for n := range vr.versions {
			vs = append(vs, n)
			vs = append(vs, otherVersions(n)...)
		}
		slices.Sort(vs)
		vs = slices.Compact(vs)
		if vr.prefix != "" {
			p.add(guess{path: vr.prefix, category: "base path"})
		}
		for _, n := range vs {
			r := vr.prefix + "/" + vr.v + strconv.Itoa(n)
			p.add(guess{path: r, category: "base path"})
			for _, w := range apiWords {
				p.add(guess{path: r + "/" + w})
			}
			for _, res := range vr.resources {
				for _, pat := range siblingPatterns {
					p.add(guess{path: r + "/" + strings.ReplaceAll(pat, "%s", res)})
				}
			}
		}
	}
	for _, r := range genericRoots {
		for _, w := range apiWords {
			p.add(guess{path: joinPath(base, r+"/"+w)})
		}
	}
	return p.out
}

// versionRoot is the part of documented paths up to a version segment.
type versionRoot struct {
	prefix    string // before the version: "/api", or "" for /v2/...
	v         string // "v" or "V", as the spec writes it
	versions  map[int]bool
	resources []string // first segments after the version: users, orders
}

// otherVersions are the versions tried next to a documented vN: v0 and the
// four before it, and the next one.
func otherVersions(n int) []int {
	var out []int
	if n > 0 {
		out = append(out, 0)
	}
	for k := max(1, n-4); k < n; k++ {
		out = append(out, k)
	}
	return append(out, n+1)
}

// findVersion finds a version segment ("v2", "V3") among the first three
// segments: its index, number and letter; -1 when there is none.
func findVersion(segs []string) (int, int, string) {
	for i, s := range segs[:min(3, len(segs))] {
		if len(s) < 2 || len(s) > 5 || s[0] != 'v' && s[0] != 'V' {
			continue
		}
		n, err := strconv.Atoi(s[1:])
		if err == nil && n >= 0 && s[1] != '+' && s[1] != '-' {
			return i, n, s[:1]
		}
	}
	return -1, 0, ""
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// fill replaces every path parameter with a plausible value: "1", or a
// UUID for a parameter named like one. (The spec package keeps no examples
// or enums of path parameters.)
func fill(tmpl string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(tmpl[open:], '}')
		if end < 0 {
			break
		}
		name := strings.ToLower(tmpl[open+1 : open+end])
		b.WriteString(tmpl[:open])
		if strings.Contains(name, "uuid") || strings.Contains(name, "guid") {
			b.WriteString("00000000-0000-0000-0000-000000000001")
		} else {
			b.WriteString("1")
		}
		tmpl = tmpl[open+end+1:]
	}
	b.WriteString(tmpl)
	return b.String()
}

// cleanWord checks one caller's wordlist entry: a path, with a leading
// slash added; never a URL (the scope is the target's host).
func cleanWord(w string) (string, bool) {
	w = strings.TrimSpace(w)
	if w == "" || strings.HasPrefix(w, "#") || strings.Contains(w, "://") || strings.HasPrefix(w, "//") || len(w) > 2048 {
		return "", false
	}
	if strings.ContainsFunc(w, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", false
	}
	if w[0] != '/' {
		w = "/" + w
	}
	return w, true
}

// joinPath puts a path under the target's base path.
func joinPath(base, p string) string {
	if base == "" {
		return p
	}
	return base + p
}

// maxPrefixProbes caps the soft-404 probes under prefixes.
const maxPrefixProbes = 16

// baselineProbes lists the random paths asked for before the guesses: two
// at the root, then one under each prefix (/api, /api/v1) that holds at
// least three guesses, busiest first, so that a prefix answering everything
// (a gateway that wants a token before it routes) is recognised.
func baselineProbes(base string, guesses []guess, maxRequests int) []probe {
	probes := []probe{
		{path: "/" + randomWord()},
		{path: joinPath(base, "/"+randomWord()+"/"+randomWord()+".json")},
	}
	count := map[string]int{}
	for _, g := range guesses {
		for _, a := range ancestors(g.path) {
			count[a]++
		}
	}
	var prefixes []string
	for a, n := range count {
		if n >= 3 {
			prefixes = append(prefixes, a)
		}
	}
	slices.SortFunc(prefixes, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(a, b)
	})
	limit := min(maxPrefixProbes, max(0, (maxRequests-len(probes))/10))
	for _, a := range prefixes[:min(limit, len(prefixes))] {
		probes = append(probes, probe{path: a + "/" + randomWord(), prefix: a})
	}
	if len(probes) > maxRequests {
		probes = probes[:max(maxRequests, 1)]
	}
	return probes
}

// ancestors are the directories of p one and two segments deep: "/api" and
// "/api/v1" for "/api/v1/users/1".
func ancestors(p string) []string {
	p, _, _ = strings.Cut(p, "?")
	segs := splitPath(p)
	var out []string
	for d := 1; d <= 2 && d < len(segs); d++ {
		out = append(out, "/"+strings.Join(segs[:d], "/"))
	}
	return out
}

// randomWord is a path segment no API serves.
func randomWord() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := []byte("vigil-")
	for range 10 {
		b = append(b, letters[rand.IntN(len(letters))])
	}
	return string(b)
}

// parentDir is the directory of a request path, query dropped.
func parentDir(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return path.Dir(p)
}
