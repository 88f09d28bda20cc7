package report

import (
	_ "embed"
	"html/template"
	"io"
	"slices"
	"time"

	"github.com/vigilsec/vigil/scan"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once; html/template escapes every value by
// context, and the page's Content-Security-Policy forbids scripts, so
// hostile evidence stays text.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"add1": func(i int) int { return i + 1 },
}).Parse(htmlSource))

type htmlPage struct {
	Title    string
	Tool     string
	Target   string
	Spec     string
	Started  string
	Duration string
	Requests int
	Partial  bool
	Counts   counts
	Severity []htmlSeverityCount
	Groups   []htmlGroup
	Errors   []htmlResult
	Results  []htmlResult
}

type htmlSeverityCount struct {
	Name  string
	Count int
}

type htmlGroup struct {
	Severity string
	Findings []htmlFinding
}

type htmlFinding struct {
	N             int
	Severity      string
	Test          string
	Name          string
	Category      string
	CategoryTitle string
	CategoryURL   string
	Help          string
	Operation     string
	Identity      string
	Detail        string
	Duration      string
	Evidence      []scan.Evidence
}

type htmlResult struct {
	Status    string
	Severity  string
	Test      string
	Name      string
	Category  string
	Operation string
	Identity  string
	Detail    string
}

func writeHTML(w io.Writer, r *scan.Report) error {
	return htmlTemplate.Execute(w, buildHTML(r))
}

func buildHTML(r *scan.Report) htmlPage {
	c := tally(r)
	p := htmlPage{
		Title:    "Vigil scan of " + printable(r.Target),
		Tool:     printable(r.Tool),
		Target:   printable(r.Target),
		Spec:     printable(r.Spec),
		Requests: r.Requests,
		Partial:  r.Partial,
		Counts:   c,
	}
	if !r.Started.IsZero() {
		p.Started = r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
		if r.Finished.After(r.Started) {
			p.Duration = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
		}
	}
	for _, s := range severitiesDesc {
		p.Severity = append(p.Severity, htmlSeverityCount{s.String(), c.BySeverity[s]})
	}
	n := 0
	for _, x := range sortedFindings(r) {
		sev := x.Severity.String()
		if len(p.Groups) == 0 || p.Groups[len(p.Groups)-1].Severity != sev {
			p.Groups = append(p.Groups, htmlGroup{Severity: sev})
		}
		n++
		info := category(x.Category)
		f := htmlFinding{
			N:             n,
			Severity:      sev,
			Test:          printable(x.Test),
			Name:          printable(x.Name),
			Category:      printable(string(x.Category)),
			CategoryTitle: info.Title,
			CategoryURL:   info.URL,
			Help:          info.Help,
			Operation:     printable(x.Operation),
			Identity:      printable(x.Identity),
			Detail:        printable(x.Detail),
			Duration:      x.Duration.Round(time.Millisecond).String(),
		}
		for _, e := range x.Evidence {
			f.Evidence = append(f.Evidence, scan.Evidence{
				Request:  printable(capText(e.Request)),
				Response: printable(capText(e.Response)),
			})
		}
		g := &p.Groups[len(p.Groups)-1]
		g.Findings = append(g.Findings, f)
	}
	all := slices.Clone(r.Results)
	slices.SortStableFunc(all, func(a, b scan.Result) int {
		if d := statusRank(a.Status) - statusRank(b.Status); d != 0 {
			return d
		}
		return compareResults(a, b)
	})
	for _, x := range all {
		hr := htmlResult{
			Status:    printable(string(x.Status)),
			Severity:  x.Severity.String(),
			Test:      printable(x.Test),
			Name:      printable(x.Name),
			Category:  printable(string(x.Category)),
			Operation: printable(x.Operation),
			Identity:  printable(x.Identity),
			Detail:    printable(x.Detail),
		}
		if x.Status == scan.StatusError {
			p.Errors = append(p.Errors, hr)
		}
		p.Results = append(p.Results, hr)
	}
	return p
}

// statusRank orders results in the full table: failures, errors, passes,
// skips.
func statusRank(s scan.Status) int {
	switch s {
	case scan.StatusFail:
		return 0
	case scan.StatusError:
		return 1
	case scan.StatusPass:
		return 2
	case scan.StatusSkipped:
		return 3
	}
	return 4
}
