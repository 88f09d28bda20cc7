package report

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The JUnit shape Jenkins, GitLab and GitHub reporters read, decoded
// strictly enough to catch a misplaced element or a missing attribute.
type xSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    string   `xml:"tests,attr"`
	Failures string   `xml:"failures,attr"`
	Errors   string   `xml:"errors,attr"`
	Skipped  string   `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []xSuite `xml:"testsuite"`
}

type xSuite struct {
	Name       string      `xml:"name,attr"`
	Tests      string      `xml:"tests,attr"`
	Failures   string      `xml:"failures,attr"`
	Errors     string      `xml:"errors,attr"`
	Skipped    string      `xml:"skipped,attr"`
	Time       string      `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr"`
	Properties []xProperty `xml:"properties>property"`
	Cases      []xCase     `xml:"testcase"`
}

type xProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xCase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	Time      string    `xml:"time,attr"`
	Failure   []xResult `xml:"failure"`
	Error     []xResult `xml:"error"`
	Skipped   []xResult `xml:"skipped"`
}

type xResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func decodeJUnit(t *testing.T, b []byte) xSuites {
	t.Helper()
	if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("no XML declaration: %.60s", b)
	}
	var s xSuites
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("JUnit is not well-formed XML: %v", err)
	}
	return s
}

// checkJUnitShape asserts what the Jenkins junit-10 XSD requires and what
// readers rely on: counts that add up, numeric times, at most one outcome
// element per test case, names present.
func checkJUnitShape(t *testing.T, s xSuites) {
	t.Helper()
	atoi := func(what, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Errorf("%s = %q, want a count", what, v)
		}
		return n
	}
	num := func(what, v string) {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			t.Errorf("%s = %q, want a decimal", what, v)
		}
	}
	var tests, failures, errs, skipped int
	for _, su := range s.Suites {
		if su.Name == "" {
			t.Error("testsuite without a name")
		}
		num("testsuite time", su.Time)
		var f, e, sk int
		for _, c := range su.Cases {
			if c.Name == "" || c.Classname == "" {
				t.Errorf("testcase %+v: name and classname are required", c)
			}
			num("testcase time", c.Time)
			if n := len(c.Failure) + len(c.Error) + len(c.Skipped); n > 1 {
				t.Errorf("testcase %s has %d outcome elements", c.Name, n)
			}
			f += len(c.Failure)
			e += len(c.Error)
			sk += len(c.Skipped)
		}
		if atoi("tests", su.Tests) != len(su.Cases) || atoi("failures", su.Failures) != f ||
			atoi("errors", su.Errors) != e || atoi("skipped", su.Skipped) != sk {
			t.Errorf("suite %s counts tests=%s failures=%s errors=%s skipped=%s, cases say %d/%d/%d/%d",
				su.Name, su.Tests, su.Failures, su.Errors, su.Skipped, len(su.Cases), f, e, sk)
		}
		tests += len(su.Cases)
		failures += f
		errs += e
		skipped += sk
	}
	if atoi("tests", s.Tests) != tests || atoi("failures", s.Failures) != failures ||
		atoi("errors", s.Errors) != errs || atoi("skipped", s.Skipped) != skipped {
		t.Errorf("testsuites counts %s/%s/%s/%s, suites add up to %d/%d/%d/%d",
			s.Tests, s.Failures, s.Errors, s.Skipped, tests, failures, errs, skipped)
	}
	num("testsuites time", s.Time)
}

func TestJUnitShape(t *testing.T) {
	for name, r := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			checkJUnitShape(t, decodeJUnit(t, render(t, "junit", r)))
		})
	}
}

func TestJUnitContent(t *testing.T) {
	r := loadReport(t, "full.json")
	out := render(t, "junit", r)
	s := decodeJUnit(t, out)
	type row struct{ Suite, Case, Class, Outcome, Type string }
	var got []row
	for _, su := range s.Suites {
		for _, c := range su.Cases {
			outcome, typ := "pass", ""
			switch {
			case len(c.Failure) > 0:
				outcome, typ = "failure", c.Failure[0].Type
			case len(c.Error) > 0:
				outcome, typ = "error", c.Error[0].Type
			case len(c.Skipped) > 0:
				outcome = "skipped"
			}
			got = append(got, row{su.Name, c.Name, c.Classname, outcome, typ})
		}
	}
	want := []row{
		{"API1:2023 Broken Object Level Authorization", "GET /api/v2/addresses/{id} as bob→alice", "bola.read-other-object", "pass", ""},
		{"API1:2023 Broken Object Level Authorization", "GET /api/v2/orders/{id} as bob→alice", "bola.read-other-object", "failure", "high"},
		{"API2:2023 Broken Authentication", "POST /api/v2/auth/login as anonymous", "ratelimit.login", "failure", "medium"},
		{"API5:2023 Broken Function Level Authorization", "DELETE /api/v2/admin/users/{id}", "bfla.admin-route", "skipped", ""},
		{"API7:2023 Server Side Request Forgery", "POST /api/v2/imports", "ssrf.metadata", "error", "error"},
		{"API8:2023 Security Misconfiguration", "POST /api/v2/cart/items as alice", "errors.verbose", "failure", "low"},
		{"API8:2023 Security Misconfiguration", "GET /api/v2/products", "headers.security", "pass", ""},
		{"API8:2023 Security Misconfiguration", "GET /api/v2/products/search as alice", "sqli.error-based", "failure", "critical"},
		{"Other", "GET /api/v2/products", "info.version-header", "failure", "info"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suites and cases (-want +got):\n%s", diff)
	}
	// The failure body carries the evidence.
	bola := s.Suites[0].Cases[1].Failure[0]
	if !strings.Contains(bola.Text, "user1@shop.test") || !strings.Contains(bola.Text, "--- request 1 ---") {
		t.Errorf("bola failure text = %q", bola.Text)
	}
	if s.Time != "7.500" || s.Suites[0].Timestamp != "2026-11-29T09:00:00" {
		t.Errorf("time = %s, timestamp = %s", s.Time, s.Suites[0].Timestamp)
	}
	golden(t, "full.junit.golden", out)
}

func TestJUnitPartial(t *testing.T) {
	s := decodeJUnit(t, render(t, "junit", partialReport(t)))
	last := s.Suites[len(s.Suites)-1]
	if last.Name != partialSuite || len(last.Cases) != 1 || len(last.Cases[0].Error) != 1 ||
		last.Cases[0].Error[0].Type != "partial" {
		t.Errorf("partial report: last suite = %+v, want the %q suite with one error", last, partialSuite)
	}
	found := false
	for _, p := range s.Suites[0].Properties {
		if p.Name == "partial" && p.Value == "true" {
			found = true
		}
	}
	if !found {
		t.Errorf("partial property missing: %+v", s.Suites[0].Properties)
	}
	empty := decodeJUnit(t, render(t, "junit", fixtures(t)["empty"]))
	if len(empty.Suites) != 0 || empty.Tests != "0" {
		t.Errorf("empty report: %+v", empty)
	}
}

func TestJUnitHostile(t *testing.T) {
	out := render(t, "junit", hostileReport())
	for _, c := range out {
		if c < 0x20 && c != '\n' && c != '\t' {
			t.Fatalf("raw control character %#x in the XML", c)
		}
	}
	s := decodeJUnit(t, out)
	f := s.Suites[0].Cases[0].Failure
	if len(f) != 1 || !strings.Contains(f[0].Text, "<script>alert(1)</script>") ||
		!strings.Contains(f[0].Text, `\x1b[2J`) || !strings.Contains(f[0].Text, `\u202e`) {
		t.Errorf("hostile text not kept as visible text: %+v", f)
	}
	if strings.ContainsRune(f[0].Message, '\n') {
		t.Errorf("message attribute spans lines: %q", f[0].Message)
	}
}
