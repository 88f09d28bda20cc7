// Package scan runs active API security tests built from an OpenAPI spec
// and a few test identities against one target (vigil scan), and confirms
// attacks Vigil detected by replaying them as safe variants (replay.go).
// This file holds the result model that the engine fills and package
// scan/report writes (console, JSON, SARIF, JUnit, HTML).
package scan

import (
	"time"

	"github.com/vigilsec/vigil"
)

// Status is the outcome of one test case.
type Status string

// Outcomes. A failed test is a finding: the API is vulnerable.
const (
	StatusPass    Status = "pass"    // the API resisted the test
	StatusFail    Status = "fail"    // the API is vulnerable: a finding
	StatusError   Status = "error"   // the test could not run to a verdict (network error, setup failed)
	StatusSkipped Status = "skipped" // not applicable, out of scope, or skipped by --safe
)

// Result is one test case run against one operation.
type Result struct {
	// Test is the template id, e.g. "bola.read-other-object".
	Test string `json:"test"`
	// Name says what the test checks, for people.
	Name string `json:"name"`
	// Category is the OWASP API Security 2023 category, e.g. "API1:2023".
	Category vigil.Category `json:"category"`
	// Operation is the tested operation: "GET /api/v2/orders/{id}".
	Operation string         `json:"operation"`
	Status    Status         `json:"status"`
	Severity  vigil.Severity `json:"severity"`
	// Identity names the test identity (or identities, "bob→alice") used.
	Identity string `json:"identity,omitempty"`
	// Detail says why the verdict was reached (the pass/fail rule applied).
	Detail   string        `json:"detail,omitempty"`
	Evidence []Evidence    `json:"evidence,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Evidence is one request and its response, redacted (package redact) and
// capped, as raw HTTP/1.1 text.
type Evidence struct {
	Request  string `json:"request"`
	Response string `json:"response,omitempty"`
}

// Report is a whole scan run.
type Report struct {
	Tool     string    `json:"tool"` // "vigil <version>"
	Target   string    `json:"target"`
	Spec     string    `json:"spec,omitempty"` // the spec's path or title
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Partial is true when the run was stopped early (Ctrl-C, deadline);
	// Results then holds what finished.
	Partial  bool     `json:"partial,omitempty"`
	Requests int      `json:"requests"` // HTTP requests sent
	Results  []Result `json:"results"`
}

// Findings returns the failed results (the vulnerabilities found).
func (r *Report) Findings() []Result {
	var out []Result
	for _, x := range r.Results {
		if x.Status == StatusFail {
			out = append(out, x)
		}
	}
	return out
}
