package recon

import (
	"strconv"
	"strings"
)

// wordRule is one entry of the built-in list of sensitive and recon paths.
type wordRule struct {
	root     bool     // matches as the first segment only; otherwise at any depth
	deep     bool     // the next segment makes a distinct entry (/actuator/env, /actuator/beans)
	monitor  bool     // a monitoring endpoint: counts only when it is not known, or failed
	sub      string   // the next segment it needs ("api" needs "internal")
	monitors []string // next segments that make it a monitoring endpoint
}

// wordRules is the built-in wordlist, by lower-case segment. Generic words
// (admin, console, debug, internal) match as the first segment only, so
// /api/v2/admin/users stays an ordinary endpoint; files that should never be
// served (dotfiles, phpinfo.php) match at any depth.
var wordRules = map[string]wordRule{
	// at any depth
	".env": {}, ".git": {deep: true}, ".svn": {}, ".hg": {}, ".bzr": {}, ".ds_store": {}, ".aws": {deep: true},
	".ssh": {deep: true}, ".htaccess": {}, ".htpasswd": {}, ".npmrc": {}, ".dockerenv": {}, ".bash_history": {},
	".docker": {}, ".kube": {}, "id_rsa": {}, "wp-config.php": {}, "phpinfo.php": {}, "info.php": {},
	"server-status": {}, "web.config": {}, "docker-compose.yml": {},
	"actuator": {deep: true, monitors: []string{"health", "info", "prometheus"}},
	// first segment only
	"admin": {root: true}, "administrator": {root: true}, "console": {root: true}, "graphql": {root: true},
	"graphiql": {root: true}, "internal": {root: true, deep: true}, "server-info": {root: true},
	"debug": {root: true, deep: true}, "metrics": {root: true, monitor: true}, "jolokia": {root: true},
	"heapdump": {root: true}, "env": {root: true}, "trace": {root: true}, "h2-console": {root: true},
	"phpmyadmin": {root: true}, "wp-admin": {root: true}, "wp-login.php": {root: true},
	"wp-content": {root: true}, "xmlrpc.php": {root: true}, "cgi-bin": {root: true},
	"config.json": {root: true}, "config.yml": {root: true}, "config.yaml": {root: true},
	"config.php": {root: true}, "settings.json": {root: true}, "backup": {root: true, deep: true},
	"backup.zip": {root: true}, "backup.tar.gz": {root: true}, "backup.sql": {root: true},
	"dump.sql": {root: true}, "db.sql": {root: true}, "database.sql": {root: true}, "site.zip": {root: true},
	"www.zip": {root: true}, "manager": {root: true}, "elmah.axd": {root: true}, "trace.axd": {root: true},
	"_profiler": {root: true}, "telescope": {root: true},
	"api": {root: true, sub: "internal"},
}

// wordMatch is a path's match in the wordlist.
type wordMatch struct {
	ok      bool
	monitor bool
	name    string // the rule's segment, as written in the path
	next    string // the segment after it, for deep rules
}

// maxWord is the longest segment worth looking up.
const maxWord = 32

// matchWordlist finds the first wordlist entry in p. It allocates nothing.
func matchWordlist(p string) wordMatch {
	var (
		pend     wordRule
		pendName string
		pending  bool
	)
	for i := 0; p != ""; {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == "" {
			continue
		}
		if pending {
			if m := resolve(&pend, pendName, seg); m.ok {
				return m
			}
			pending = false
		}
		r, ok := lookupRule(seg)
		root := i == 0
		i++
		switch {
		case !ok || r.root && !root:
		case r.sub != "" || r.deep || r.monitors != nil:
			pend, pendName, pending = r, seg, true
		default:
			return wordMatch{ok: true, monitor: r.monitor, name: seg}
		}
	}
	if pending && pend.sub == "" {
		return wordMatch{ok: true, monitor: pend.monitor, name: pendName} // nothing after it
	}
	return wordMatch{}
}

// resolve completes a match of a rule that looks at the next segment.
func resolve(r *wordRule, name, next string) wordMatch {
	if r.sub != "" {
		if !strings.EqualFold(next, r.sub) {
			return wordMatch{}
		}
		return wordMatch{ok: true, name: name, next: next}
	}
	m := wordMatch{ok: true, monitor: r.monitor, name: name}
	for _, s := range r.monitors {
		if strings.EqualFold(next, s) {
			m.monitor = true
		}
	}
	if r.deep {
		m.next = next
	}
	return m
}

// lookupRule finds a segment's rule, case-insensitively, without
// allocating.
func lookupRule(seg string) (wordRule, bool) {
	if len(seg) > maxWord {
		return wordRule{}, false
	}
	var buf [maxWord]byte
	b := lower(buf[:0], seg)
	r, ok := wordRules[string(b)]
	return r, ok
}

// lower appends s lower-cased (ASCII) to b.
func lower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// wordKey is what makes wordlist entries distinct: the rule and, for deep
// rules, the next segment.
func (m wordMatch) key() string {
	k := strings.ToLower(m.name)
	if m.next != "" {
		k += "/" + strings.ToLower(m.next)
	}
	return k
}

// specFiles are API description files and viewers, by lower-case segment;
// prefix says that anything may follow (/swagger-ui/index.html).
var specFiles = map[string]struct{ prefix bool }{
	"swagger.json": {}, "swagger.yaml": {}, "swagger.yml": {}, "openapi.json": {}, "openapi.yaml": {},
	"openapi.yml": {}, "openapi": {}, "api-docs.json": {}, "apispec.json": {}, "swagger-ui.html": {},
	"docs": {}, "redoc": {}, "api-docs": {prefix: true}, "swagger-ui": {prefix: true},
	"swagger": {prefix: true}, "swagger-resources": {prefix: true},
}

// isSpecFile says whether p asks for an API description file, at the root
// or under /api, /vN or /api/vN. It allocates nothing.
func isSpecFile(p string) bool {
	var segs [5]string
	n, total := firstSegments(p, segs[:])
	i := 0
	if i < n && strings.EqualFold(segs[i], "api") {
		i++
	}
	if i < n && parseVersion(segs[i]).ok() {
		i++
	}
	if i >= n {
		return false
	}
	rest := total - i - 1 // segments after the file's
	if strings.EqualFold(segs[i], ".well-known") {
		return i+1 < n && len(segs[i+1]) >= 7 && strings.EqualFold(segs[i+1][:7], "openapi")
	}
	if len(segs[i]) > maxWord {
		return false
	}
	var buf [maxWord]byte
	f, ok := specFiles[string(lower(buf[:0], segs[i]))]
	return ok && (rest == 0 || f.prefix)
}

// version is an API version: its kind in the top bits, then a value that
// orders versions of the same kind. The zero value is no version.
type version uint32

const (
	versionShift            = 28
	versionNumbered version = 1 << versionShift // v2, v1.1: major*1000+minor
	versionDated    version = 2 << versionShift // 2023-01-01: yyyymmdd
	versionValue            = 1<<versionShift - 1
)

func (v version) ok() bool { return v != 0 }

// olderThan says whether v is an older version of the same kind as w.
func (v version) olderThan(w version) bool {
	return v.ok() && v>>versionShift == w>>versionShift && v&versionValue < w&versionValue
}

func (v version) String() string {
	n := int(v & versionValue)
	switch v &^ versionValue {
	case versionNumbered:
		s := "v" + strconv.Itoa(n/1000)
		if n%1000 != 0 {
			s += "." + strconv.Itoa(n%1000)
		}
		return s
	case versionDated:
		return strconv.Itoa(n/10000) + "-" + pad2(n/100%100) + "-" + pad2(n%100)
	}
	return ""
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// findVersion returns the API version in the first three segments of p and
// the segment's index. A date is a version only as the first segment, or
// the second after "api", and never as the last segment. It allocates
// nothing.
func findVersion(p string) (version, int) {
	first := ""
	for i := 0; i < 3 && p != ""; {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == "" {
			continue
		}
		if v := parseVersion(seg); v.ok() {
			return v, i
		}
		if i == 0 {
			first = seg
		}
		if (i == 0 || i == 1 && strings.EqualFold(first, "api")) && strings.TrimLeft(p, "/") != "" {
			if v := parseDate(seg); v.ok() {
				return v, i
			}
		}
		i++
	}
	return 0, -1
}

// parseVersion reads "v2", "V3", "v1.1" (at most 4 digits, then 3).
func parseVersion(s string) version {
	if len(s) < 2 || s[0] != 'v' && s[0] != 'V' {
		return 0
	}
	major, rest, ok := digits(s[1:], 4)
	if !ok {
		return 0
	}
	minor := 0
	if rest != "" {
		if rest[0] != '.' {
			return 0
		}
		var tail string
		minor, tail, ok = digits(rest[1:], 3)
		if !ok || tail != "" {
			return 0
		}
	}
	return versionNumbered | version(major*1000+minor)
}

// digits reads 1 to max leading decimal digits.
func digits(s string, limit int) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && i < limit && '0' <= s[i] && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 0 || i < len(s) && '0' <= s[i] && s[i] <= '9' {
		return 0, "", false
	}
	return n, s[i:], true
}

// parseDate reads "2023-01-01".
func parseDate(s string) version {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0
	}
	y, r1, ok1 := digits(s[:4], 4)
	m, r2, ok2 := digits(s[5:7], 2)
	d, r3, ok3 := digits(s[8:], 2)
	if !ok1 || !ok2 || !ok3 || r1 != "" || r2 != "" || r3 != "" || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0
	}
	return versionDated | version(y*10000+m*100+d)
}
