package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/scan"
)

// The JUnit XML that Jenkins (junit plugin), GitLab and GitHub test
// reporters read: testsuites > testsuite (one per OWASP category) >
// testcase (one per result) with a failure, error or skipped child. The
// element and attribute set follows the Jenkins junit-10 XSD: testsuite
// carries name, tests, failures, errors, skipped, time and timestamp, and
// its children come in the order properties, testcase, system-out.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	ID         int             `xml:"id,attr"`
	Package    string          `xml:"package,attr,omitempty"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// partialSuite names the extra suite a partial report gets: one errored
// test case, so that CI shows the run did not finish.
const partialSuite = "vigil scan"

func writeJUnit(w io.Writer, r *scan.Report) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(buildJUnit(r)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func buildJUnit(r *scan.Report) junitSuites {
	// Group by category, categories in OWASP order; inside a suite, results
	// in the report's order sorted by test and operation.
	byCat := map[vigil.Category][]scan.Result{}
	var cats []vigil.Category
	for _, x := range r.Results {
		if _, ok := byCat[x.Category]; !ok {
			cats = append(cats, x.Category)
		}
		byCat[x.Category] = append(byCat[x.Category], x)
	}
	slices.SortFunc(cats, compareCategory)
	stamp := ""
	if !r.Started.IsZero() {
		stamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	props := []junitProperty{
		{"target", xmlText(r.Target)},
		{"spec", xmlText(r.Spec)},
		{"tool", xmlText(r.Tool)},
		{"requests", fmt.Sprint(r.Requests)},
		{"partial", fmt.Sprint(r.Partial)},
	}
	out := junitSuites{Name: xmlText("vigil scan " + r.Target)}
	for i, c := range cats {
		rs := byCat[c]
		slices.SortStableFunc(rs, func(a, b scan.Result) int {
			return strings.Compare(a.Test+"\x00"+a.Operation, b.Test+"\x00"+b.Operation)
		})
		s := junitSuite{
			Name: xmlText(categoryLabel(c)), ID: i, Package: xmlText(string(c)),
			Timestamp: stamp, Properties: props,
		}
		var d time.Duration
		for _, x := range rs {
			s.Cases = append(s.Cases, junitCaseOf(x))
			d += x.Duration
			s.Tests++
			switch x.Status {
			case scan.StatusFail:
				s.Failures++
			case scan.StatusError:
				s.Errors++
			case scan.StatusSkipped:
				s.Skipped++
			}
		}
		s.Time = seconds(d)
		out.Suites = append(out.Suites, s)
	}
	if r.Partial {
		out.Suites = append(out.Suites, junitSuite{
			Name: partialSuite, ID: len(out.Suites), Tests: 1, Errors: 1, Time: "0.000",
			Timestamp: stamp, Properties: props,
			Cases: []junitCase{{
				Name: "the scan ran to completion", Classname: "vigil.scan", Time: "0.000",
				Error: &junitProblem{
					Message: "the scan was stopped before it finished: the results are partial",
					Type:    "partial",
				},
			}},
		})
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
	}
	if !r.Started.IsZero() && r.Finished.After(r.Started) {
		out.Time = seconds(r.Finished.Sub(r.Started))
	} else {
		out.Time = "0.000"
	}
	return out
}

func junitCaseOf(x scan.Result) junitCase {
	name := x.Operation
	if x.Identity != "" {
		name += " as " + x.Identity
	}
	c := junitCase{
		Name:      xmlText(oneLine(name)),
		Classname: xmlText(oneLine(x.Test)),
		Time:      seconds(x.Duration),
	}
	msg := x.Name
	if x.Detail != "" {
		msg += ": " + x.Detail
	}
	msg = xmlText(oneLine(msg))
	switch x.Status {
	case scan.StatusFail:
		c.Failure = &junitProblem{Message: msg, Type: x.Severity.String(), Text: junitBody(x)}
	case scan.StatusError:
		c.Error = &junitProblem{Message: msg, Type: "error", Text: junitBody(x)}
	case scan.StatusSkipped:
		c.Skipped = &junitSkipped{Message: xmlText(oneLine(x.Detail))}
	}
	return c
}

// junitBody is the text of a failure or error: what was found, then the
// evidence as raw HTTP.
func junitBody(x scan.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s [%s] %s\n", strings.ToUpper(x.Severity.String()), x.Test, x.Category, x.Operation)
	if x.Identity != "" {
		fmt.Fprintf(&b, "identity: %s\n", x.Identity)
	}
	if x.Detail != "" {
		fmt.Fprintf(&b, "%s\n", x.Detail)
	}
	for i, e := range x.Evidence {
		fmt.Fprintf(&b, "\n--- request %d ---\n%s\n", i+1, capText(e.Request))
		if e.Response != "" {
			fmt.Fprintf(&b, "--- response %d ---\n%s\n", i+1, capText(e.Response))
		}
	}
	return xmlText(b.String())
}

// xmlText drops what XML 1.0 cannot carry (most control characters) by
// making it visible, and normalises CRLF to LF. encoding/xml would replace
// those characters with U+FFFD; an escape keeps the evidence readable.
func xmlText(s string) string {
	return printable(s)
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
