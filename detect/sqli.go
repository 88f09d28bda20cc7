package detect

import (
	"context"
	"strings"

	"github.com/corazawaf/libinjection-go"
	"github.com/vigilsec/vigil"
)

// Injection has no category of its own in the OWASP API Security Top 10
// (2023). We file it under API8:2023 (Security Misconfiguration), the
// industry convention: an API that passes unsanitised input to an
// interpreter is misconfigured, and API10 (Unsafe Consumption) is about what
// an API receives from third parties, not from its clients.
const injectionCategory = vigil.API8Misconfiguration

// SQLi finds SQL injection in any request value with libinjection's SQL
// tokenizer and fingerprints.
type SQLi struct {
	headers *memo[sqliVerdict] // verdicts on repeated header values
}

type sqliVerdict struct {
	ok bool
	fp string
}

var _ vigil.Analyzer = (*SQLi)(nil)

// NewSQLi returns the SQL injection detector.
func NewSQLi() *SQLi { return &SQLi{headers: newMemo[sqliVerdict](512)} }

// Analyze implements vigil.Analyzer.
func (d *SQLi) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	return runScan(d.scan(x, nil), &x.Request), nil
}

func (d *SQLi) scan(x *vigil.Exchange, reuse leafScan) leafScan {
	return reuseScan(reuse, sqliScan{d: d, x: x})
}

type sqliScan struct {
	d  *SQLi
	x  *vigil.Exchange
	ev []vigil.Evidence
}

func (s *sqliScan) leaf(l *Leaf) bool {
	if l.Kind != KindString && l.Kind != KindKey || len(l.Value) < 2 || !l.passes(preSQL) {
		return true
	}
	why := ""
	if ok, fp := s.d.isSQLi(l); ok && !bareWords(fp) && !nameEndingInKeyword(l.Value) {
		why = "SQL injection: libinjection fingerprint " + fp
	} else if w := sqlShape(l.Value); w != "" {
		why = "SQL injection: " + w
	} else {
		return true
	}
	s.ev = append(s.ev, vigil.Evidence{Where: l.Loc(), Value: evidenceValue(l.Key, l.Value), Why: why})
	return len(s.ev) < maxEvidence
}

// bareWords says whether a libinjection fingerprint holds only words,
// functions, and/or and parentheses, with no quote, number, keyword or
// comment: boolean search syntax ("(red or blue) and shirt", n&n), code in
// a developer question ("if (a >= 0 && !b.frozen)", f(n&n)), or prose that
// starts with a word T-SQL knows ("Use the SUM() function…", Tnf()). There
// is nothing to inject in those.
func bareWords(fp string) bool {
	return strings.Trim(strings.TrimPrefix(fp, "T"), "nf&()") == ""
}

// nameEndingInKeyword says whether v is words alone (letters and spaces)
// whose last is SELECT or UNION: a name such as "Hotel Union Select", which
// libinjection reads as UNION SELECT. A SELECT with nothing after it has no
// column to return, so there is nothing injected.
func nameEndingInKeyword(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i] | 0x20; (c < 'a' || c > 'z') && v[i] != ' ' {
			return false
		}
	}
	t := asciiLower(strings.TrimRight(v, " "))
	return strings.HasSuffix(t, " select") || strings.HasSuffix(t, " union")
}

// sqlShape catches shapes of SQL injection that libinjection's fingerprints
// miss (its tokenizer reads them as a string and a comment, or as words): a
// quote closed and the rest of the query commented out ("admin' #",
// "x@y.test' -- "), or followed by UNION SELECT or a condition and a comment
// (quoteThenSQL), a WAITFOR DELAY or pg_sleep timing probe, a stacked
// statement after a ';' ("desc; SELECT pg_sleep(7)--"), and a subquery that
// tests or calls something ("(SELECT CASE WHEN (1=1) …)"). Each needs SQL
// syntax beyond the words, so that prose with a dash, a semicolon or
// "(select one)" does not match.
func sqlShape(v string) string {
	if quoteThenComment(v, '\'') || quoteThenComment(v, '"') {
		return "a quote closed and the rest of the query commented out"
	}
	// Lower-cased once, and only for a value one of the shapes may hold:
	// SQL's keywords are ASCII (no copy when already lower).
	var s string
	lower := func() string {
		if s == "" {
			s = asciiLower(v)
		}
		return s
	}
	if t := strings.TrimRight(v, " \t\n"); strings.HasSuffix(t, "--") || strings.HasSuffix(t, "#") || strings.HasSuffix(t, "/*") {
		if w := unionThenComment(lower()); w != "" {
			return w
		}
	}
	if strings.IndexByte(v, '`') >= 0 {
		if w := backtickThenSQL(lower()); w != "" {
			return w
		}
	}
	if !strings.ContainsAny(v, ";('\"") {
		return ""
	}
	s = lower()
	if w := quoteThenSQL(s); w != "" {
		return w
	}
	if strings.Contains(s, "waitfor delay '") || strings.Contains(s, "waitfor time '") || strings.Contains(s, "pg_sleep(") {
		return "a timing probe (WAITFOR, pg_sleep)"
	}
	for i := strings.IndexByte(s, ';'); i >= 0; {
		rest := strings.TrimLeft(s[i+1:], " \t\n")
		kw := rest[:len(rest)-len(strings.TrimLeft(rest, "abcdefghijklmnopqrstuvwxyz"))] // "shutdown--": the letters
		if stackedSigns[kw] != nil && containsAnyOf(rest[len(kw):], stackedSigns[kw]) {
			return "a stacked " + strings.ToUpper(kw) + " statement after ';'"
		}
		j := strings.IndexByte(s[i+1:], ';')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	for i := strings.Index(s, "(select"); i >= 0; {
		if containsAnyOf(s[i+len("(select"):], subquerySigns) {
			return "a subquery that tests or calls the database"
		}
		j := strings.Index(s[i+1:], "(select")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return ""
}

// quoteThenSQL judges what follows a quote left open (an odd count of ' or
// "), in lower case: UNION SELECT, or OR/AND/|| and then a comment ending
// the value ("x' or 1=1 -- "), the breakouts libinjection's tokenizer can
// read as a string and words. A quote that ends a word ("rock'n'roll or
// jazz") is not followed by the keyword at once, so it does not count.
func quoteThenSQL(s string) string {
	for _, q := range [...]byte{'\'', '"'} {
		i := strings.IndexByte(s, q)
		if i < 0 {
			continue
		}
		if strings.Count(s, string(q))%2 == 0 {
			// An even count: a word with an apostrophe may come first
			// ("O'Brien' or 1=1 -- "), so only the plainest breakout
			// counts: a condition that compares, then a comment ending
			// the value.
			for ; i >= 0; i = nextIndex(s, i, q) {
				if comparedThenComment(strings.TrimLeft(s[i+1:], " \t\n)")) {
					return "a quote closed, a condition, and the rest of the query commented out"
				}
			}
			continue
		}
		for ; i >= 0; i = nextIndex(s, i, q) {
			rest := strings.TrimLeft(s[i+1:], " \t\n)")
			switch {
			case strings.HasPrefix(rest, "union ") || strings.HasPrefix(rest, "union/**/"):
				if strings.Contains(rest, "select") {
					return "a quote closed, then UNION SELECT"
				}
			case strings.HasPrefix(rest, "or ") || strings.HasPrefix(rest, "and ") || strings.HasPrefix(rest, "||"):
				if c := strings.LastIndex(rest, "--"); c > 0 && strings.TrimSpace(rest[c+2:]) == "" || strings.HasSuffix(strings.TrimSpace(rest), "#") {
					return "a quote closed, a condition, and the rest of the query commented out"
				}
			}
		}
	}
	return ""
}

// comparedThenComment says whether rest, what follows a quote in lower
// case, is OR, AND or || and then a comparison (=, <, >, LIKE) or UNION, and
// ends with a SQL comment ("--" then spaces, or "#").
func comparedThenComment(rest string) bool {
	if !strings.HasPrefix(rest, "or ") && !strings.HasPrefix(rest, "and ") && !strings.HasPrefix(rest, "||") {
		return false
	}
	end := strings.TrimRight(rest, " \t\n")
	switch {
	case strings.HasSuffix(end, "#"):
		end = end[:len(end)-1]
	case strings.HasSuffix(end, "--"):
		end = end[:len(end)-2]
	default:
		return false
	}
	return strings.ContainsAny(end, "=<>") || strings.Contains(end, " like ") || strings.Contains(end, "union ")
}

// unionThenComment finds, in s (lower case), UNION SELECT … FROM and the
// rest of the query commented out, quotes or none: a value the query takes as it is (a field
// list, a number: "id FROM t WHERE 1=1 UNION SELECT email,pass FROM
// users--"). The SELECT lists columns (a comma before FROM) or a comparison
// comes before UNION: prose about a union's select committee does neither.
func unionThenComment(s string) string {
	s = strings.TrimRight(s, " \t\n")
	if !strings.HasSuffix(s, "--") && !strings.HasSuffix(s, "#") && !strings.HasSuffix(s, "/*") {
		return ""
	}
	for i := strings.Index(s, "union"); i >= 0; {
		rest := strings.TrimLeft(s[i+len("union"):], " \t\n+")
		rest = strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(rest, "/**/"), "all"), " \t\n+")
		rest = strings.TrimLeft(strings.TrimPrefix(rest, "/**/"), " \t\n+")
		if strings.HasPrefix(rest, "select") {
			if from := strings.Index(rest, "from"); from > 0 && (strings.IndexByte(rest[:from], ',') >= 0 || strings.ContainsAny(s[:i], "=<>")) {
				return "UNION SELECT … FROM, the rest of the query commented out"
			}
		}
		j := strings.Index(s[i+1:], "union")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return ""
}

// backtickThenSQL finds a backtick closing a MySQL identifier and SQL after
// it: "date`, (SELECT password FROM users LIMIT 1) AS `x" in a column name.
func backtickThenSQL(s string) string {
	for i := strings.IndexByte(s, '`'); i >= 0; i = nextIndex(s, i, '`') {
		rest := strings.TrimLeft(s[i+1:], " \t\n")
		if len(rest) == 0 || rest[0] != ',' && rest[0] != ')' {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\n")
		sub := strings.HasPrefix(rest, "(select") || strings.HasPrefix(rest, "( select")
		if sub {
			// A subquery that reads a table or calls the server.
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				end = len(rest)
			}
			body := rest[:end]
			sub = strings.Contains(body, " from ") || strings.Contains(body, "@@") || strings.IndexByte(body[1:], '(') >= 0
		}
		if sub || strings.HasPrefix(rest, "union ") && strings.Contains(rest, "select") {
			return "a backtick closing an identifier, then SQL"
		}
	}
	return ""
}

// nextIndex is the index of the next q in s after i, or -1.
func nextIndex(s string, i int, q byte) int {
	j := strings.IndexByte(s[i+1:], q)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// quoteThenComment says whether s has an odd number of quotes q (one left
// open, as when a value closes the query's string) and the last is followed,
// after spaces and closing parentheses, by a SQL comment: "--" (then a space
// or the end), "#" or "/*".
func quoteThenComment(s string, q byte) bool {
	last := strings.LastIndexByte(s, q)
	if last < 0 || strings.Count(s, string(q))%2 == 0 {
		return false
	}
	rest := strings.TrimLeft(s[last+1:], " \t)")
	switch {
	case strings.HasPrefix(rest, "--"):
		return len(rest) == 2 || rest[2] == ' ' || rest[2] == '\t' || rest[2] == '\n'
	case strings.HasPrefix(rest, "#"), strings.HasPrefix(rest, "/*"):
		return true
	}
	return false
}

// stackedSigns are, per statement keyword, the SQL a stacked statement
// carries after it (one of them), which ordinary text after a ';' does not.
var stackedSigns = map[string][]string{
	"select":   {"*", "(", "@@", "information_schema", "--", "#", "/*"},
	"union":    {"select"},
	"insert":   {" into "},
	"update":   {" set "},
	"delete":   {" where ", "--"},
	"drop":     {"table ", "database ", "user ", "schema "},
	"create":   {"table ", "user ", "function ", "procedure ", "trigger "},
	"alter":    {"table ", "user ", "database "},
	"truncate": {"table "},
	"exec":     {"xp_", "sp_", "master."},
	"execute":  {"xp_", "sp_", "immediate "},
	"declare":  {"@"},
	"waitfor":  {"delay ", "time "},
	"shutdown": {"--", "#", "/*", "with nowait"},
}

// subquerySigns make a "(select" a probe: a condition, a server variable, a
// timing or fingerprinting function, a catalogue table.
var subquerySigns = []string{"case when", "@@", "sleep(", "pg_sleep(", "benchmark(", "waitfor", "version(",
	"user(", "database(", "current_user", "information_schema", "pg_catalog", "sysobjects", "from dual", "load_file("}

func containsAnyOf(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (s *sqliScan) findings() []vigil.Finding {
	if s.ev == nil {
		return nil
	}
	sev := vigil.SeverityHigh
	if s.x.Status() >= 500 {
		// A server error after an injection often means the payload reached
		// the database.
		sev = vigil.SeverityCritical
	}
	return []vigil.Finding{finding("detect.injection.sqli", s.x, injectionCategory, sev, 0.9, "SQL injection attempt", s.ev)}
}

func (d *SQLi) isSQLi(l *Leaf) (bool, string) {
	if !l.repeats() {
		return libinjection.IsSQLi(l.Value)
	}
	if v, ok := d.headers.get(l.Value); ok {
		return v.ok, v.fp
	}
	ok, fp := libinjection.IsSQLi(l.Value)
	d.headers.put(l.Value, sqliVerdict{ok, fp})
	return ok, fp
}
