package discover

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"mime"
	"net/url"
	"slices"
	"strings"
)

// notFound says whether a status means "nothing here".
func notFound(status int) bool {
	switch status {
	case 404, 405, 410, 501:
		return true
	}
	return false
}

// unusable says whether a status tells nothing about the path: the server
// is throttling or a gateway failed. Such answers count as errors.
func unusable(status int) bool {
	switch status {
	case 429, 502, 503, 504:
		return true
	}
	return false
}

// fingerprint is what a random path answered.
type fingerprint struct {
	status  int
	media   string
	length  int64
	hash    uint64
	locMask string
}

func fingerprintOf(o outcome) fingerprint {
	return fingerprint{status: o.status, media: mediaType(o.ctype), length: o.length, hash: o.hash, locMask: o.locMask}
}

// baseline is what "not here" looks like on the target: the answers to
// random paths at the root and under the busiest prefixes.
type baseline struct {
	root     []fingerprint
	byPrefix map[string][]fingerprint
	// dynamic is set when two random paths got the same status and media
	// type but different bodies (a page with a nonce in it): answers are
	// then compared by length, within a tolerance.
	dynamic bool
}

func (b *baseline) add(prefix string, o outcome) {
	if prefix == "" {
		b.root = append(b.root, fingerprintOf(o))
	} else {
		b.byPrefix[prefix] = append(b.byPrefix[prefix], fingerprintOf(o))
	}
}

func (b *baseline) finish() {
	for i, f := range b.root {
		for _, g := range b.root[i+1:] {
			if f.status == g.status && f.media == g.media && f.hash != g.hash && !notFound(f.status) {
				b.dynamic = true
			}
		}
	}
}

// describe says what random paths answered when it was not "not found".
func (b *baseline) describe() string {
	var parts []string
	for _, f := range b.root {
		if !notFound(f.status) {
			parts = append(parts, fmt.Sprintf("/: %d %s", f.status, f.media))
		}
	}
	var prefixes []string
	for p, fs := range b.byPrefix {
		for _, f := range fs {
			if !notFound(f.status) {
				prefixes = append(prefixes, fmt.Sprintf("%s/: %d %s", p, f.status, f.media))
			}
		}
	}
	slices.Sort(prefixes)
	parts = slices.Compact(append(parts, prefixes...))
	return strings.TrimSpace(strings.Join(parts, "; "))
}

// like says whether an answer to p looks like the answer to a random path
// at the root or under one of p's prefixes.
func (b *baseline) like(p string, o outcome) bool {
	got := fingerprintOf(o)
	fps := slices.Clone(b.root)
	for _, a := range ancestors(p) {
		fps = append(fps, b.byPrefix[a]...)
	}
	// A prefix itself (/api) answering like the random paths under it.
	self, _, _ := strings.Cut(p, "?")
	fps = append(fps, b.byPrefix[strings.TrimRight(self, "/")]...)
	for _, f := range fps {
		if notFound(f.status) || f.status != got.status {
			continue
		}
		switch {
		case f.hash == got.hash:
			return true
		case got.status >= 300 && got.status < 400 && f.locMask == got.locMask:
			return true // everything redirects to the same place (a login page)
		case (got.status == 401 || got.status == 403 || got.status == 407) && f.media == got.media:
			return true // a gateway that wants credentials before it routes
		case b.dynamic && f.media == got.media && near(f.length, got.length):
			return true
		}
	}
	return false
}

// distinct404 says whether a 404 differs from the target's 404 for random
// paths, when that is one fixed page (at the root and under p's prefixes).
func (b *baseline) distinct404(p string, o outcome) bool {
	fps := slices.Clone(b.root)
	for _, a := range ancestors(p) {
		fps = append(fps, b.byPrefix[a]...)
	}
	if len(b.root) < 2 {
		return false
	}
	for _, f := range fps {
		if f.status != 404 || f.hash != fps[0].hash {
			return false // no fixed 404 page to compare with
		}
	}
	return o.hash != fps[0].hash
}

// near compares body lengths with a tolerance of 64 bytes or 5%.
func near(a, b int64) bool {
	d := max(a-b, b-a)
	return d <= max(64, max(a, b)/20)
}

// classify turns one answer into a result; ok is false for an answer that
// tells nothing (429, 502-504).
func (r *runner) classify(g guess, o outcome, base *baseline) (res Result, ok bool) {
	res = Result{Method: "GET", Path: g.path, Status: o.status, Length: o.length, ContentType: o.ctype, Location: o.location, Twin: ""}
	switch {
	case o.status == 404 && g.filled && g.twin != nil && g.older && base.distinct404(g.path, o):
		// The route answers, the record does not: the server's 404 for
		// unknown paths is a fixed page and this one is not it.
		res.Class, res.Twin = ClassZombie, g.twin.Path
		res.Reason = fmt.Sprintf("answers 404 unlike a random path (the route seems to exist, the record does not); older version of documented %s %s", g.twin.Method, g.twin.Path)
		return res, true
	case notFound(o.status):
		res.Class, res.Reason = ClassNotFound, fmt.Sprintf("answers %d", o.status)
		return res, true
	case unusable(o.status):
		return res, false
	case base.like(g.path, o):
		res.Class, res.Reason = ClassNotFound, fmt.Sprintf("answers %d like a random path (catch-all)", o.status)
		return res, true
	}
	what := r.answer(g.path, o)
	if op := r.idx.match(g.path); op != nil {
		if op.Deprecated {
			res.Class = ClassZombie
			res.Reason = fmt.Sprintf("%s; deprecated in the spec (%s %s), still answering", what, op.Method, op.Path)
		} else {
			res.Class = ClassDocumented
			res.Reason = fmt.Sprintf("%s; documented: %s %s", what, op.Method, op.Path)
		}
		return res, true
	}
	switch {
	case g.twin != nil && g.older:
		res.Class, res.Twin = ClassZombie, g.twin.Path
		res.Reason = fmt.Sprintf("%s; older version of documented %s %s, still answering", what, g.twin.Method, g.twin.Path)
	case g.twin != nil:
		res.Class, res.Twin = ClassShadow, g.twin.Path
		res.Reason = fmt.Sprintf("%s; newer version of documented %s %s, undocumented", what, g.twin.Method, g.twin.Path)
	default:
		res.Class, res.Reason = ClassShadow, what
		if g.category != "" && g.category != "wordlist" {
			res.Reason += "; " + g.category
		}
	}
	return res, true
}

// answer describes an answer that says the path exists.
func (r *runner) answer(p string, o outcome) string {
	switch s := o.status; {
	case s == 401 || s == 403 || s == 407:
		return fmt.Sprintf("protected (%d)", s)
	case s >= 300 && s < 400:
		if o.location == "" {
			return fmt.Sprintf("answers %d", s)
		}
		if r.offHost(p, o.location) {
			return fmt.Sprintf("answers %d, redirects to another host (not followed): %s", s, o.location)
		}
		return fmt.Sprintf("answers %d, redirects to %s (not followed)", s, o.location)
	case s >= 200 && s < 300:
		if m := mediaType(o.ctype); m != "" {
			return fmt.Sprintf("answers %d %s", s, m)
		}
		return fmt.Sprintf("answers %d", s)
	default:
		return fmt.Sprintf("answers %d", s)
	}
}

// offHost says whether a redirect leaves the target's scheme and host.
func (r *runner) offHost(p, location string) bool {
	ref, err := url.Parse(location)
	if err != nil {
		return true
	}
	from := *r.base
	from.Path, from.RawQuery, _ = strings.Cut(p, "?")
	to := from.ResolveReference(ref)
	return !strings.EqualFold(to.Host, r.base.Host) || to.Scheme != r.base.Scheme
}

func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	m, _, err := mime.ParseMediaType(ct)
	if err != nil {
		m, _, _ = strings.Cut(ct, ";")
	}
	return strings.ToLower(strings.TrimSpace(m))
}

// bodyHash hashes a body with the request path masked, so that a catch-all
// that echoes the path ("no route for GET /x") still hashes the same.
func bodyHash(body []byte, p, escaped string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(maskPath(string(body), p, escaped)))
	return h.Sum64()
}

// maskPath replaces the request path (as asked and as escaped, query
// dropped) in s, where it stands whole: "/log" is masked in "next=/log",
// not in "/login".
func maskPath(s, p, escaped string) string {
	if s == "" {
		return s
	}
	p, _, _ = strings.Cut(p, "?")
	for _, v := range []string{p, escaped, strings.ReplaceAll(p, "/", `\/`)} {
		if len(v) > 1 {
			s = replaceWhole(s, v, "{path}")
		}
	}
	return s
}

// replaceWhole replaces old in s where the next character cannot continue
// a path.
func replaceWhole(s, old, repl string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			break
		}
		end := i + len(old)
		b.WriteString(s[:i])
		if end == len(s) || !pathChar(s[end]) {
			b.WriteString(repl)
		} else {
			b.WriteString(old)
		}
		s = s[end:]
	}
	b.WriteString(s)
	return b.String()
}

func pathChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~%/", c) >= 0
}

// finding is a result with what folding needs.
type finding struct {
	res  Result
	g    guess
	hash uint64
}

// fold merges findings that are one parameterised route answering alike:
// when /api/v1/users/1 (a filled-in parameter) answers, /api/v1/users/me
// and /api/v1/users/export answering the same status and body are that
// route too, and are listed in its reason instead of as findings.
func fold(fs []finding) []Result {
	type key struct {
		dir    string
		status int
		hash   uint64
	}
	keeper := map[key]int{}
	byDir := map[string]int{} // a filled-in route per directory, for 400s
	for i, f := range fs {
		if !f.g.filled || f.res.Class == ClassNotFound || f.res.Class == ClassDocumented {
			continue
		}
		k := key{parentDir(f.res.Path), f.res.Status, f.hash}
		if j, ok := keeper[k]; !ok || f.res.Path < fs[j].res.Path {
			keeper[k] = i
		}
		if j, ok := byDir[k.dir]; !ok || f.res.Path < fs[j].res.Path {
			byDir[k.dir] = i
		}
	}
	alike := map[int][]string{}
	var out []Result
	var kept []int
	for i, f := range fs {
		if f.res.Class == ClassShadow || f.res.Class == ClassZombie {
			k := key{parentDir(f.res.Path), f.res.Status, f.hash}
			if j, ok := keeper[k]; ok && j != i {
				alike[j] = append(alike[j], f.res.Path)
				continue
			}
			// A 400 next to a filled-in parameter is that route refusing
			// a word for an id (/users/export beside /users/1).
			if j, ok := byDir[k.dir]; ok && j != i && f.res.Status == 400 && !f.g.filled {
				alike[j] = append(alike[j], f.res.Path)
				continue
			}
		}
		kept = append(kept, i)
	}
	for _, i := range kept {
		res := fs[i].res
		if names := alike[i]; len(names) > 0 {
			slices.Sort(names)
			more := ""
			if len(names) > 5 {
				more = fmt.Sprintf(" and %d more", len(names)-5)
				names = names[:5]
			}
			res.Reason += fmt.Sprintf("; %s also answer (the same parameterised route)%s", strings.Join(names, ", "), more)
		}
		out = append(out, res)
	}
	return out
}

func sortResults(rs []Result) {
	slices.SortFunc(rs, func(a, b Result) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Method, b.Method))
	})
}
