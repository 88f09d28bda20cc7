package detect

import (
	"bytes"
	"context"
	"math/bits"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
)

// maxScanBody bounds how much of a response body is searched.
const maxScanBody = 64 << 10

// Verbose finds responses that tell an attacker too much: stack traces (Go,
// Java, Python, .NET, Node.js, PHP, Ruby), database error text (SQLite,
// MySQL, PostgreSQL, Oracle, SQL Server), framework debug pages, and CORS
// that lets any origin read responses with the user's credentials.
type Verbose struct{}

var _ vigil.Analyzer = (*Verbose)(nil)

// NewVerbose returns the verbose-error and CORS detector.
func NewVerbose() *Verbose { return &Verbose{} }

// leak is one kind of tell-tale text: a cheap anchor searched first, then a
// pattern that confirms it. Anchors begin, where they can, with a pair of
// bytes rare in ordinary text (not " a", "in"): every place such a pair
// starts costs a comparison.
type leak struct {
	anchor string
	re     *regexp.Regexp // nil: the anchor is enough
	why    string
}

var leaks = [...]leak{
	{"goroutine ", regexp.MustCompile(`goroutine \d+ \[[a-z ]+\]:`), "Go stack trace"},
	{"panic: ", regexp.MustCompile(`panic: .*(\n|\\n)+(goroutine \d+|\S+\.go:\d+)`), "Go panic"},
	{".go:", regexp.MustCompile(`(\n|\\n)(\s|\\t)*/\S+\.go:\d+( \+0x[0-9a-f]+)?`), "Go stack trace"},
	{".java:", regexp.MustCompile(`(\b|\\t)at [\w$.<>/]+\([\w$]+\.java:\d+\)`), "Java stack trace"},
	{"<b>Type</b> Exception Report", nil, "Tomcat error page"},
	{"Exception in thread", nil, "Java stack trace"},
	{"Traceback (most recent call last)", nil, "Python traceback"},
	{", line ", regexp.MustCompile(`File \\?"[^"]+\.py\\?", line \d+`), "Python traceback"},
	{":line ", regexp.MustCompile(`\bat [\w.<>` + "`" + `]+\(.*\) in .+:line \d+`), ".NET stack trace"},
	{"Server Error in '/' Application", nil, "ASP.NET error page"},
	{"Exception: ", regexp.MustCompile(`System\.[\w.]+Exception: `), ".NET exception"},
	{".js:", regexp.MustCompile(`\bat .*\(?(/|[A-Za-z]:\\|node:)[^()\s]+\.[cm]?js:\d+:\d+\)?`), "Node.js stack trace"},
	{"at Object.<anonymous>", nil, "Node.js stack trace"},
	// Frames in Node's own modules name no .js file: "(node:net:1607:16)".
	{" (node:", regexp.MustCompile(`\bat [^\n()]{1,200} \(node:[\w/.-]+:\d+:\d+\)`), "Node.js stack trace"},
	// Frames of ES modules (.mjs, .cjs, file:// URLs) and of TypeScript run
	// as is or mapped back by source maps (.ts), whose files ".js:" misses.
	{".ts:", nodeFrame, "Node.js stack trace"},
	{".mjs:", nodeFrame, "Node.js stack trace"},
	{".cjs:", nodeFrame, "Node.js stack trace"},
	// PHP's fatal errors: "… on line 12", or PHP 8's uncaught errors,
	// "… in /srv/app/Pdf.php:18".
	{"Fatal error", regexp.MustCompile(`Fatal error(</b>)?: .+ (on line (<b>)?\d+|in (/|[A-Za-z]:\\)\S+\.php:\d+)`), "PHP fatal error"},
	// Warnings, notices and the like name the script and line as fatal
	// errors do; display_errors prints them before the API's own output.
	// Or Laravel's and Symfony's debug JSON: the exception, then the server
	// path and line of the script that threw it or of its frames. (One
	// leak for both: they share the anchor, which is then compared once.)
	{".php", regexp.MustCompile(`\b(Warning|Notice|Deprecated|Parse error|Catchable fatal error)(</b>)?: +[^\n]{1,400}? in (<b>)?[^\s<]+\.php(</b>)? on line (<b>)?\d+` +
		`|"(exception|trace)"\s*:[\s\S]{0,600}?"file"\s*:\s*"(/|[A-Za-z]:\\\\)[^"\n]{1,400}\.php"\s*,\s*"line"\s*:\s*\d+`), "PHP error"},
	{"Stack trace:", regexp.MustCompile(`Stack trace:(\s|\\n)*#0 `), "PHP stack trace"},
	// Symfony's exception page.
	{"trace-file-path", nil, "Symfony debug page"},
	{"exception-message", regexp.MustCompile(`class="[^"]*\bexception-message\b[^"]*">\s*([A-Z]\w*\\)+\w*(Exception|Error)`), "Symfony debug page"},
	// Ruby 3.4 quotes the method with ' where older versions used `.
	{".rb:", regexp.MustCompile(`\S+\.rb:\d+:in [` + "`" + `']`), "Ruby backtrace"},
	// Ruby's NameError and NoMethodError message, named by its class as
	// Rails logs it ("NoMethodError (undefined method ...)", a namespaced
	// wrapper such as ActionView::Template::Error) or after it as Ruby does.
	{"undefined ", regexp.MustCompile(`(NameError|NoMethodError|[A-Z]\w*(::[A-Z]\w*)+):? \(?undefined (local variable or )?method [` + "`" + `'][^'` + "`" + `\n]{1,100}' for |undefined (local variable or )?method [` + "`" + `'][^'` + "`" + `\n]{1,100}' for [^\n]{1,200}\((NameError|NoMethodError)\)`), "Ruby exception"},
	// Rust's panic message, old ("panicked at 'msg', src/x.rs:1:2") and
	// new ("panicked at src/x.rs:1:2:").
	{"' panicked at ", regexp.MustCompile(`thread '[^'\n]{0,100}' panicked at ('[^\n]{0,400}', )?[^\s'"]+\.rs:\d+`), "Rust panic"},
	{"SQL logic error", nil, "SQLite error"},
	// Python's sqlite3 module, and SQLite's own "no such table" wording.
	{"OperationalError: ", regexp.MustCompile(`\b(sqlite3|django\.db\.utils|sqlalchemy\.exc|pymysql\.err|MySQLdb|psycopg2(\.errors)?)\.OperationalError: `), "SQLite or Python database error"},
	{"no such ", regexp.MustCompile(`\bno such (table|column): [\w.]+`), "SQLite error"},
	// The sqlite3 gem's exceptions, as Rails and Sequel pass them on
	// (SQLite3::BusyException: database is locked).
	{"Exception: ", regexp.MustCompile(`\bSQLite3::[A-Z]\w*Exception: `), "SQLite error"},
	{"syntax error", regexp.MustCompile(`near \\?"[^"\\]*\\?": syntax error`), "SQLite error"},
	{"unrecognized token", regexp.MustCompile(`unrecognized token: \\?"`), "SQLite error"},
	// SQLite's result codes, primary and extended (SQLITE_CONSTRAINT_UNIQUE),
	// as its drivers prefix them to the message.
	{"SQLITE_", regexp.MustCompile(`\bSQLITE_(ERROR|INTERNAL|PERM|ABORT|BUSY|LOCKED|NOMEM|READONLY|INTERRUPT|IOERR|CORRUPT|FULL|CANTOPEN|PROTOCOL|SCHEMA|TOOBIG|CONSTRAINT|MISMATCH|MISUSE|RANGE|NOTADB)(_[A-Z]+)*\b`), "SQLite error"},
	// SQLite's constraint messages name the table and column.
	{"constraint failed", regexp.MustCompile(`\b(UNIQUE|NOT NULL|CHECK) constraint failed: \w+\.\w+|FOREIGN KEY constraint failed`), "SQLite error"},
	{"You have an error in your SQL syntax", nil, "MySQL error"},
	{"mysql_fetch", nil, "MySQL error"},
	// The server's error number and SQLSTATE, as Go's driver and the mysql
	// client print them: "Error 1146 (42S02): ".
	{"): ", regexp.MustCompile(`\b(Error|ERROR) \d{4,5} \([0-9A-Z]{5}\): `), "MySQL error"},
	// The server's wording for a missing table (always qualified by its
	// database) and for an unknown column.
	{" doesn't exist", regexp.MustCompile(`\bTable '[\w$]+\.[\w$]+' doesn't exist`), "MySQL error"},
	{"Unknown column '", regexp.MustCompile(`Unknown column '[^'\n]{1,128}' in '(field list|where clause|order clause|on clause|group statement|having clause)'`), "MySQL error"},
	// Node's mysql drivers: the server's ER_ code beside the error's
	// errno, sqlMessage or sqlState, in either order.
	{"ER_", regexp.MustCompile(`\bER_[A-Z][A-Z0-9_]*\\?"[^{}]{0,300}?\\?"(errno|sqlMessage|sqlState)\\?"|\\?"(errno|sqlMessage|sqlState)\\?"[^{}]{0,300}?\bER_[A-Z][A-Z0-9_]*\\?"`), "MySQL error"},
	{"syntax error at or near", nil, "PostgreSQL error"},
	{"pg_query()", nil, "PostgreSQL error"},
	// PostgreSQL's own wording, as drivers pass it on: "at or near" after
	// an error prefix, its type-input and missing-relation errors, pgx's
	// SQLSTATE suffix, lib/pq's "pq: " prefix and the JDBC driver's class.
	{"or near ", regexp.MustCompile(`(ERROR|FATAL|pq|SequelizeDatabaseError|QueryFailedError):\s+[^\n]{0,200} at or near \\?"`), "PostgreSQL error"},
	{"syntax for ", regexp.MustCompile(`invalid input syntax for `), "PostgreSQL error"},
	// Its constraint violations, which name the constraint.
	{"violates ", regexp.MustCompile(`\bviolates (unique|foreign key|not-null|check|exclusion) constraint \\?"`), "PostgreSQL error"},
	// Names come quoted ("x"), or bare when qualified (accounts.nickname)
	// or given with argument types (lower(integer)). Node's ORMs put their
	// error's name before the server's message (Sequelize, TypeORM).
	{"does not exist", regexp.MustCompile(`\brelation \\?"[^"\\]+\\?" does not exist|\bcolumn [a-z_]\w*\.[a-z_]\w* does not exist|(ERROR|FATAL|pq|SequelizeDatabaseError|QueryFailedError):\s+(column|function|schema|type|operator|database|role) (\\?"[^"\\]+\\?"|\w+\.\w+(\.\w+)?|[\w.]+\([^()\n]{0,200}\))( of relation \\?"[^"\\]+\\?")? does not exist`), "PostgreSQL error"},
	// The Ruby pg gem's error classes, before the server's message.
	// " ERROR:", not ": ERROR:": every JSON key is followed by `": `,
	// which made the anchor's first pair the commonest in a body.
	{" ERROR:", regexp.MustCompile(`\bPG::[A-Z]\w+: ERROR:`), "PostgreSQL error"},
	// PostgreSQL's pointer to where a statement went wrong: the statement's
	// line, then a caret under the offending token.
	{"LINE ", regexp.MustCompile(`LINE \d+: [^\n]{0,400}?(\n|\\n) *\^`), "PostgreSQL error"},
	{"SQLSTATE ", regexp.MustCompile(`\(SQLSTATE [0-9A-Z]{5}\)`), "PostgreSQL error"},
	{"pq: ", regexp.MustCompile(`\bpq: [a-z]`), "PostgreSQL error"},
	{".PSQLException", nil, "PostgreSQL error"},
	// Npgsql's (.NET) exception class, and Sequelize's error name with
	// a server message of PostgreSQL's wording ("operator does not exist").
	{".PostgresException", regexp.MustCompile(`\bNpgsql\.PostgresException\b`), "PostgreSQL error"},
	{"DatabaseError: ", regexp.MustCompile(`\bSequelizeDatabaseError: [a-z]`), "database error (Sequelize)"},
	// Go's database/sql package, whose errors say "sql: ".
	{"sql: ", regexp.MustCompile(`\bsql: (Scan error on column index|converting argument|expected \d+ arguments, got|no rows in result set|Transaction has already been committed|database is closed|unknown driver)`), "Go database/sql error"},
	// IBM Db2: the JDBC driver's and the CLI driver's prefixes.
	{"DB2 SQL Error: ", regexp.MustCompile(`DB2 SQL Error: SQLCODE=-?\d+`), "Db2 SQL error"},
	{"[IBM][CLI Driver]", nil, "Db2 SQL error"},
	// Db2's own message: its number, the text, then SQLSTATE=.
	{" SQLSTATE=", regexp.MustCompile(`\bSQL\d{4,5}[NWC]\b[^\n]{0,400} SQLSTATE=[0-9A-Z]{5}`), "Db2 SQL error"},
	{"ORA-", regexp.MustCompile(`\bORA-\d{5}\b`), "Oracle error"},
	{"SQLSTATE[", nil, "PDO database error"},
	{"Unclosed quotation mark after the character string", nil, "SQL Server error"},
	// The ODBC and OLE DB drivers' prefix before the server's message.
	{"[SQL Server]", nil, "SQL Server error"},
	{"Conversion failed when converting ", nil, "SQL Server error"},
	{"Incorrect syntax near", regexp.MustCompile(`Incorrect syntax near (the keyword )?'`), "SQL Server error"},
	{".SqlException", regexp.MustCompile(`\b(System|Microsoft)\.Data\.SqlClient\.SqlException`), "SQL Server error"},
	// The header sqlcmd, SSMS and the ODBC driver's tools put on a server
	// message: "Msg 208, Level 16, State 1, Line 1".
	{", Level ", regexp.MustCompile(`\bMsg \d+, Level \d+, State \d+`), "SQL Server error"},
	// A .NET exception's name, qualified or not, with its HRESULT and no
	// colon after it: "SqlException (0x80131904)".
	{"Exception (0x", regexp.MustCompile(`\b[A-Z]\w*(\.\w+)*Exception \(0x[0-9A-Fa-f]{8}\)`), ".NET exception"},
	{"Werkzeug Debugger", nil, "Flask/Werkzeug debug page"},
	{"DEBUG = True", nil, "Django debug page"},
	{"Whitelabel Error Page", nil, "Spring Boot error page"},
	{"Action Controller: Exception caught", nil, "Rails debug page"},
	{"Whoops! There was an error", nil, "Laravel debug page"},
	// An exception's qualified name and message, as servlet containers
	// print it atop their frames and JSON errors put it in a field: Java's
	// dotted packages, PHP's namespaces (Symfony\Component\...). Last, so
	// that a database driver's exception is reported as a database error.
	{"Exception: ", regexp.MustCompile(`\b(java|javax|jakarta|org|com|io|net|kotlin|scala)\.([\w$]+\.)+[\w$]*Exception: `), "Java exception"},
	{"Exception: ", regexp.MustCompile(`([A-Z]\w*\\{1,2}){2,}\w*Exception: `), "PHP exception"},
	{"ExceptionInterface: ", regexp.MustCompile(`([A-Z]\w*\\{1,2}){2,}\w*ExceptionInterface: `), "PHP exception"},
}

// nodeFrame is a Node.js frame naming a module or TypeScript file, with or
// without the function before it in parentheses.
var nodeFrame = regexp.MustCompile(`\bat ([^\n()\\]{1,200} \()?(file://|/|[A-Za-z]:\\{1,2})[^()\s"]*\.(mjs|cjs|ts):\d+:\d+`)

// Analyze implements vigil.Analyzer.
func (d *Verbose) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	r := x.Response
	if r == nil {
		return nil, nil
	}
	var out []vigil.Finding
	if ev := verboseBody(r.Body[:min(len(r.Body), maxScanBody)]); ev != nil {
		sev := vigil.SeverityMedium
		if strings.Contains(ev.Why, "SQL") || strings.Contains(ev.Why, "Oracle") || strings.Contains(ev.Why, "database") {
			sev = vigil.SeverityHigh // database errors guide injection
		}
		out = append(out, finding("detect.misconfig.verbose", x, vigil.API8Misconfiguration, sev, 0.9, "Verbose error: "+ev.Why, []vigil.Evidence{*ev}))
	}
	if ev, sev := cors(x); ev != nil {
		out = append(out, finding("detect.misconfig.verbose", x, vigil.API8Misconfiguration, sev, 0.7, "Permissive CORS with credentials", []vigil.Evidence{*ev}))
	}
	return out, nil
}

func verboseBody(b []byte) *vigil.Evidence {
	if len(b) < 16 {
		return nil
	}
	var first [len(leakAnchors)]int
	anchorsAt(b, &first)
	for k := range leaks {
		l := &leaks[k]
		i := first[k]
		if i < 0 {
			continue
		}
		at := i
		if l.re != nil {
			if at = confirm(b, l, i); at < 0 {
				continue
			}
		}
		line := b[at:]
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		return &vigil.Evidence{Where: "response.body", Value: shorten(scrub(string(line))), Why: l.why}
	}
	return nil
}

// confirm runs l's pattern around its anchor at b[i:], and once more around
// a later occurrence when that fails (a word of the page's own text may come
// before the leak): at most confirmTries windows of 512 bytes before the
// anchor and 1 KiB after, each starting at least 768 bytes past the one
// before. It returns where the pattern matched, or -1.
func confirm(b []byte, l *leak, i int) int {
	for try := 0; try < confirmTries; try++ {
		lo, hi := max(0, i-512), min(len(b), i+1024)
		if loc := l.re.FindIndex(b[lo:hi]); loc != nil {
			return lo + loc[0]
		}
		from := max(i+1, hi-256)
		if from >= len(b) {
			return -1
		}
		j := bytes.Index(b[from:], []byte(l.anchor))
		if j < 0 {
			return -1
		}
		i = from + j
	}
	return -1
}

// confirmTries bounds the windows confirm reads for one leak: a page full of
// an anchor's words costs two pattern runs per leak, not one per word.
// BenchmarkVerboseDecoys holds the worst page, 12 KB of such words: about
// 3.7x one bytes.Index per anchor over it (x-baseline); a page without the
// words reads no second window.
const confirmTries = 2

// leakAnchors holds the anchors of leaks, in order. anchorOrder lists the
// leaks by the first byte of their anchor; those starting with byte c are
// anchorOrder[anchorFrom[c]:anchorFrom[c+1]]. anchorPairs is the set of
// the anchors' first two bytes, one bit per pair.
var (
	leakAnchors [len(leaks)]string
	anchorOrder [len(leaks)]uint8
	anchorPairs [1 << 16 / 64]uint64
	anchorFrom  = func() (from [257]uint8) {
		n := 0
		for c := range 256 {
			from[c] = uint8(n)
			for k := range leaks {
				if a := leaks[k].anchor; a[0] == byte(c) {
					leakAnchors[k] = a
					anchorOrder[n] = uint8(k)
					n++
					p := uint16(a[0])<<8 | uint16(a[1])
					anchorPairs[p>>6] |= 1 << (p & 63)
				}
			}
		}
		from[256] = uint8(n)
		return from
	}()
)

// anchorsAt sets first[k] to the index of the first occurrence of leak k's
// anchor in b, or -1: what bytes.Index would say for each, at a fraction of
// the cost of one bytes.Index per anchor. Most bodies hold few of the
// anchors' key bytes and are searched for those (anchorsByKey); a body
// dense in them (English text, indented JSON) is read in one pass.
func anchorsAt(b []byte, first *[len(leakAnchors)]int) {
	if len(b) < 64 || !anchorsByKey(b, first, len(b)/64+16) {
		anchorsByPass(b, first)
	}
}

// anchorsByPass is anchorsAt in one pass over b: most positions are passed
// over on their first two bytes alone (every anchor is at least two bytes
// long).
func anchorsByPass(b []byte, first *[len(leakAnchors)]int) {
	for k := range first {
		first[k] = -1
	}
	for i := 0; i+1 < len(b); i++ {
		p := uint16(b[i])<<8 | uint16(b[i+1])
		if anchorPairs[p>>6]&(1<<(p&63)) == 0 {
			continue
		}
		c := b[i]
		for n := anchorFrom[c]; n < anchorFrom[int(c)+1]; n++ {
			k := anchorOrder[n]
			a := leakAnchors[k]
			if first[k] < 0 && len(b)-i >= len(a) && string(b[i:i+len(a)]) == a {
				first[k] = i
			}
		}
	}
}

// anchorsByKey is anchorsAt by one vectorised search (bytes.IndexByte) per
// key byte: every anchor holds one of a few bytes (anchorKeys: a space, '.',
// '_', '-' or '['), most bodies hold few of them, and at each one found the
// byte next to it (anchorNear) leaves only the anchors that could be there
// to compare. Occurrences are searched in order, so each anchor's first one
// is found first.
//
// It gives up, returning false with first undone, after more than hits key
// bytes: the search then costs more than a pass.
func anchorsByKey(b []byte, first *[len(leakAnchors)]int, hits int) bool {
	for k := range first {
		first[k] = -1
	}
	for ki, c := range anchorKeys {
		left := anchorKeyed[ki]
		near := &anchorNear[ki]
		for i := 0; left != 0 && i < len(b); i++ {
			j := bytes.IndexByte(b[i:], c)
			if j < 0 {
				break
			}
			i += j
			if hits--; hits < 0 {
				return false
			}
			var m uint64
			if i > 0 {
				m = near[0][b[i-1]]
			}
			if i+1 < len(b) {
				m |= near[1][b[i+1]]
			}
			for m &= left; m != 0; m &= m - 1 {
				bit := bits.TrailingZeros64(m)
				k := keyedLeak[ki][bit]
				a := leakAnchors[k]
				if s := i - int(anchorKeyAt[k]); s >= 0 && len(b)-s >= len(a) && string(b[s:s+len(a)]) == a {
					first[k] = s
					left &^= 1 << bit
				}
			}
		}
	}
	return true
}

// Leaks are numbered in uint8s (anchorOrder, keyedLeak): a 256th does not
// compile (the array length turns negative).
var _ [255 - len(leaks)]struct{}

// anchorKeys are the key bytes, one of which each anchor holds; anchor k's
// is at anchorKeyAt[k]. The sets below are per key byte, one bit per anchor
// keyed on it: bit j of a set of key byte i stands for leak keyedLeak[i][j],
// so each key byte takes up to 64 anchors (a 65th panics at start-up, and
// any test fails). anchorKeyed[i] is the set of the anchors keyed on
// anchorKeys[i]; anchorNear[i][0][c] is the set of those whose key byte
// follows c, anchorNear[i][1][c] of those (keyed on their first byte) whose
// key byte c follows.
var (
	anchorKeys  = [...]byte{' ', '.', '_', '-', '['}
	anchorKeyAt [len(leaks)]uint8
	anchorKeyed [len(anchorKeys)]uint64
	keyedLeak   [len(anchorKeys)][64]uint8
	anchorNear  = func() (near [len(anchorKeys)][2][256]uint64) {
		for k := range leaks {
			a := leaks[k].anchor
			ki, d := -1, -1
			for i, c := range anchorKeys {
				if d = strings.IndexByte(a, c); d >= 0 {
					ki = i
					break
				}
			}
			if ki < 0 || len(a) < 2 {
				panic("detect: leak anchor " + strconv.Quote(a) + " holds no key byte")
			}
			anchorKeyAt[k] = uint8(d)
			bit := bits.OnesCount64(anchorKeyed[ki])
			if bit == 64 {
				panic("detect: more than 64 leak anchors hold the key byte " + strconv.QuoteRune(rune(anchorKeys[ki])))
			}
			keyedLeak[ki][bit] = uint8(k)
			anchorKeyed[ki] |= 1 << bit
			if d > 0 {
				near[ki][0][a[d-1]] |= 1 << bit
			} else {
				near[ki][1][a[d+1]] |= 1 << bit
			}
		}
		return near
	}()
)

// cors reports an Access-Control-Allow-Origin that lets a foreign origin read
// credentialed responses: a reflected foreign Origin or "null" with
// Access-Control-Allow-Credentials: true, or "*" with credentials (browsers
// refuse that pair, but it shows the policy is wrong). A reflected plain-http
// origin of the API's own site counts too when the API is served over https:
// whoever can tamper with that page's traffic reads the API as the user.
func cors(x *vigil.Exchange) (*vigil.Evidence, vigil.Severity) {
	h := x.Response.Header
	if h == nil || !strings.EqualFold(strings.TrimSpace(headerValue(h, "Access-Control-Allow-Credentials")), "true") {
		return nil, 0
	}
	acao := strings.TrimSpace(headerValue(h, "Access-Control-Allow-Origin"))
	origin := ""
	if x.Request.Header != nil {
		origin = strings.TrimSpace(headerValue(x.Request.Header, "Origin"))
	}
	switch {
	case acao == "*":
		return &vigil.Evidence{Where: "header.Access-Control-Allow-Origin", Value: "*",
			Why: "wildcard origin together with Access-Control-Allow-Credentials: true"}, vigil.SeverityLow
	case acao == "null":
		return &vigil.Evidence{Where: "header.Access-Control-Allow-Origin", Value: "null",
			Why: "the \"null\" origin (sandboxed iframes, file: pages) may read credentialed responses"}, vigil.SeverityMedium
	case acao != "" && acao == origin && foreignOrigin(origin, x.Request.Host()):
		return &vigil.Evidence{Where: "header.Access-Control-Allow-Origin", Value: shorten(acao),
			Why: "the request's foreign Origin is reflected with Access-Control-Allow-Credentials: true"}, vigil.SeverityMedium
	case acao != "" && acao == origin && insecureOrigin(origin, x.Request.URL):
		return &vigil.Evidence{Where: "header.Access-Control-Allow-Origin", Value: shorten(acao),
			Why: "a plain-http Origin may read this https API's credentialed responses"}, vigil.SeverityLow
	}
	return nil, 0
}

// foreignOrigin says whether an Origin belongs to another site than the API
// host: their last two DNS labels differ. (Without the public suffix list
// this over-groups hosts under co.uk-style suffixes, which errs quiet.)
func foreignOrigin(origin, apiHost string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return true
	}
	return site(strings.ToLower(u.Hostname())) != site(apiHost)
}

// insecureOrigin says whether an Origin is served over plain http while the
// API was asked over https. Loopback origins (a developer's machine) are
// not reachable by a network attacker and do not count.
func insecureOrigin(origin string, api *url.URL) bool {
	if api == nil || api.Scheme != "https" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h != "" && h != "localhost" && !strings.HasSuffix(h, ".localhost") && !strings.HasPrefix(h, "127.") && h != "::1"
}

func site(h string) string {
	i := strings.LastIndexByte(h, '.')
	if i <= 0 {
		return h
	}
	if j := strings.LastIndexByte(h[:i], '.'); j >= 0 {
		return h[j+1:]
	}
	return h
}
