package detect

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
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
// pattern that confirms it.
type leak struct {
	anchor string
	re     *regexp.Regexp // nil: the anchor is enough
	why    string
}

var leaks = []leak{
	{"goroutine ", regexp.MustCompile(`goroutine \d+ \[[a-z ]+\]:`), "Go stack trace"},
	{"panic: ", regexp.MustCompile(`panic: .*\n+(goroutine \d+|\S+\.go:\d+)`), "Go panic"},
	{".go:", regexp.MustCompile(`\n\s*/\S+\.go:\d+( \+0x[0-9a-f]+)?`), "Go stack trace"},
	{".java:", regexp.MustCompile(`\bat [\w$.<>]+\([\w$]+\.java:\d+\)`), "Java stack trace"},
	{"Exception in thread", nil, "Java stack trace"},
	{"Traceback (most recent call last)", nil, "Python traceback"},
	{", line ", regexp.MustCompile(`File "[^"]+\.py", line \d+`), "Python traceback"},
	{":line ", regexp.MustCompile(`\bat [\w.<>` + "`" + `]+\(.*\) in .+:line \d+`), ".NET stack trace"},
	{"Server Error in '/' Application", nil, "ASP.NET error page"},
	{"Exception: ", regexp.MustCompile(`System\.[\w.]+Exception: `), ".NET exception"},
	{".js:", regexp.MustCompile(`\bat .*\(?(/|[A-Za-z]:\\|node:)[^()\s]+\.[cm]?js:\d+:\d+\)?`), "Node.js stack trace"},
	{"at Object.<anonymous>", nil, "Node.js stack trace"},
	{"Fatal error", regexp.MustCompile(`Fatal error(</b>)?: .+ on line (<b>)?\d+`), "PHP fatal error"},
	{"Stack trace:", regexp.MustCompile(`Stack trace:\s*\n?#0 `), "PHP stack trace"},
	{".rb:", regexp.MustCompile(`\S+\.rb:\d+:in ` + "`"), "Ruby backtrace"},
	{"SQL logic error", nil, "SQLite error"},
	{"syntax error", regexp.MustCompile(`near \\?"[^"\\]*\\?": syntax error`), "SQLite error"},
	{"unrecognized token", regexp.MustCompile(`unrecognized token: \\?"`), "SQLite error"},
	{"SQLITE_ERROR", nil, "SQLite error"},
	{"You have an error in your SQL syntax", nil, "MySQL error"},
	{"mysql_fetch", nil, "MySQL error"},
	{"syntax error at or near", nil, "PostgreSQL error"},
	{"pg_query()", nil, "PostgreSQL error"},
	{"ORA-", regexp.MustCompile(`\bORA-\d{5}\b`), "Oracle error"},
	{"SQLSTATE[", nil, "PDO database error"},
	{"Unclosed quotation mark after the character string", nil, "SQL Server error"},
	{"Werkzeug Debugger", nil, "Flask/Werkzeug debug page"},
	{"DEBUG = True", nil, "Django debug page"},
	{"Whitelabel Error Page", nil, "Spring Boot error page"},
	{"Action Controller: Exception caught", nil, "Rails debug page"},
	{"Whoops! There was an error", nil, "Laravel debug page"},
}

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
	for _, l := range leaks {
		i := bytes.Index(b, []byte(l.anchor))
		if i < 0 {
			continue
		}
		at := i
		if l.re != nil {
			loc := l.re.FindIndex(b[max(0, i-512):min(len(b), i+1024)])
			if loc == nil {
				continue
			}
			at = max(0, i-512) + loc[0]
		}
		line := b[at:]
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		return &vigil.Evidence{Where: "response.body", Value: shorten(scrub(string(line))), Why: l.why}
	}
	return nil
}

// cors reports an Access-Control-Allow-Origin that lets a foreign origin read
// credentialed responses: a reflected foreign Origin or "null" with
// Access-Control-Allow-Credentials: true, or "*" with credentials (browsers
// refuse that pair, but it shows the policy is wrong).
func cors(x *vigil.Exchange) (*vigil.Evidence, vigil.Severity) {
	h := x.Response.Header
	if h == nil || !strings.EqualFold(strings.TrimSpace(h.Get("Access-Control-Allow-Credentials")), "true") {
		return nil, 0
	}
	acao := strings.TrimSpace(h.Get("Access-Control-Allow-Origin"))
	origin := ""
	if x.Request.Header != nil {
		origin = strings.TrimSpace(x.Request.Header.Get("Origin"))
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
