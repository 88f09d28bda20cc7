// Package report writes what a vigil scan found: a progress bar while it
// runs, a console summary by severity at the end, and report files in four
// formats for people and for CI:
//
//   - json: the scan.Report as is, indented;
//   - sarif: SARIF 2.1.0 (one run, one rule per test, one result per
//     finding), for code-scanning dashboards;
//   - junit: JUnit XML (one testsuite per OWASP category, one testcase per
//     test run), for CI test reports;
//   - html: one self-contained page a person reads.
//
// Every writer treats the report's strings as hostile: evidence holds raw
// HTTP from the target, so the HTML is escaped and carries a
// Content-Security-Policy that forbids scripts, XML drops the characters XML
// cannot hold, and the console gets no control characters from the target.
// Evidence strings longer than maxEvidence are cut in the SARIF, JUnit and
// HTML outputs (the JSON keeps the report as is). See docs/scan-output.md.
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/scan"
)

// maxEvidence caps one evidence string (a request or a response) in the
// SARIF, JUnit and HTML outputs. The engine already caps what it captures;
// this bounds a report built by other means and keeps an HTML page with a
// few hundred findings readable in a browser.
const maxEvidence = 64 << 10

var writers = map[string]func(io.Writer, *scan.Report) error{
	"json":  writeJSON,
	"sarif": writeSARIF,
	"junit": writeJUnit,
	"html":  writeHTML,
}

// Formats lists the report formats Write accepts, in the order the docs
// present them.
func Formats() []string { return []string{"json", "sarif", "junit", "html"} }

// Write writes r to w in format (one of Formats, case-insensitive). An
// unknown format is a vigil.EINVALID error naming the valid ones.
func Write(w io.Writer, format string, r *scan.Report) error {
	fn, ok := writers[strings.ToLower(strings.TrimSpace(format))]
	if !ok {
		return vigil.Errorf(vigil.EINVALID, "unknown report format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	if r == nil {
		return vigil.Errorf(vigil.EINVALID, "no scan report to write")
	}
	if err := fn(w, r); err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}

// sortedFindings returns r's failed results, most severe first, then by
// category, test and operation, so that every output lists them in the same
// order whatever order the engine finished them in.
func sortedFindings(r *scan.Report) []scan.Result {
	fs := r.Findings()
	slices.SortStableFunc(fs, compareResults)
	return fs
}

func compareResults(a, b scan.Result) int {
	return cmp.Or(
		cmp.Compare(b.Severity, a.Severity),
		compareCategory(a.Category, b.Category),
		cmp.Compare(a.Test, b.Test),
		cmp.Compare(a.Operation, b.Operation),
		cmp.Compare(a.Identity, b.Identity),
	)
}

// compareCategory orders "API2:2023" before "API10:2023" and puts results
// without a category last.
func compareCategory(a, b vigil.Category) int {
	ia, ib := categoryIndex(a), categoryIndex(b)
	if ia != ib {
		return cmp.Compare(ia, ib)
	}
	return cmp.Compare(a, b)
}

// testName is x's test name, or its test id when it has none.
func testName(x scan.Result) string {
	if x.Name != "" {
		return x.Name
	}
	return x.Test
}

// severitiesDesc lists the severities, most severe first.
var severitiesDesc = []vigil.Severity{
	vigil.SeverityCritical, vigil.SeverityHigh, vigil.SeverityMedium, vigil.SeverityLow, vigil.SeverityInfo,
}

// counts is the tally of a report's results.
type counts struct {
	Total, Pass, Fail, Error, Skipped int
	BySeverity                        map[vigil.Severity]int // findings only
}

func tally(r *scan.Report) counts {
	c := counts{BySeverity: map[vigil.Severity]int{}}
	for _, x := range r.Results {
		c.Total++
		switch x.Status {
		case scan.StatusPass:
			c.Pass++
		case scan.StatusFail:
			c.Fail++
			c.BySeverity[x.Severity]++
		case scan.StatusError:
			c.Error++
		case scan.StatusSkipped:
			c.Skipped++
		}
	}
	return c
}

// toolVersion takes the version out of Report.Tool ("vigil v1.2.3").
func toolVersion(tool string) string {
	f := strings.Fields(tool)
	if len(f) >= 2 {
		return f[len(f)-1]
	}
	return ""
}

// capText cuts s to maxEvidence bytes on a rune boundary and says so.
func capText(s string) string {
	if len(s) <= maxEvidence {
		return s
	}
	cut := maxEvidence
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("\n… [%d more bytes cut by the report]", len(s)-cut)
}

// printable makes s safe to show to a person: control characters other
// than tab and newline, bidirectional overrides and invalid UTF-8 become
// visible escapes (\x1b, \u202e), so the target cannot drive a terminal or
// reorder text in a report. A carriage return before a newline is dropped
// (HTTP line ends); any other one is escaped.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// CRLF: keep the line break only.
		case unsafeRune(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e || r == 0x200f:
		return true // bidirectional controls
	case r == 0x2028 || r == 0x2029 || r == 0xfeff:
		return true
	}
	return !unicode.IsPrint(r) && !unicode.IsSpace(r)
}

// oneLine is printable(s) on one line: line breaks become spaces, for the
// console and XML attributes.
func oneLine(s string) string {
	s = printable(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}
