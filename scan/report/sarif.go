package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/scan"
)

// The SARIF 2.1.0 subset Vigil writes. The structs are written here rather
// than taken from a SARIF library: the subset is small, and the library
// would bring a JSON-schema validator into the product's build. The tests
// validate the output against the official OASIS schema.

const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	vigilURI     = "https://github.com/vigilsec/vigil"
	// fingerprintKey names Vigil's partial fingerprint: the same finding on
	// the same operation keeps the same value from run to run, so code
	// scanning dashboards track it instead of opening a new alert.
	fingerprintKey = "vigilFinding/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  sarifRunProps     `json:"properties"`
}

type sarifRunProps struct {
	Target   string `json:"target"`
	Spec     string `json:"spec,omitempty"`
	Requests int    `json:"requests"`
	Partial  bool   `json:"partial"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name,omitempty"`
	ShortDescription     sarifText        `json:"shortDescription"`
	FullDescription      sarifText        `json:"fullDescription"`
	Help                 sarifMultiformat `json:"help"`
	HelpURI              string           `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleConfig  `json:"defaultConfiguration"`
	Properties           sarifRuleProps   `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags     []string `json:"tags"`
	Category string   `json:"category,omitempty"`
	Severity string   `json:"severity"`
	// SecuritySeverity is the CVSS-like score code-scanning dashboards
	// sort by.
	SecuritySeverity string `json:"security-severity,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifMultiformat struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	StartTimeUTC        string              `json:"startTimeUtc,omitempty"`
	EndTimeUTC          string              `json:"endTimeUtc,omitempty"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level          string        `json:"level"`
	Message        sarifText     `json:"message"`
	AssociatedRule *sarifRuleRef `json:"associatedRule,omitempty"`
}

type sarifRuleRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Kind                string            `json:"kind"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifResultProps struct {
	Severity   string          `json:"severity"`
	Category   string          `json:"category,omitempty"`
	Operation  string          `json:"operation"`
	Identity   string          `json:"identity,omitempty"`
	Detail     string          `json:"detail,omitempty"`
	DurationMS int64           `json:"durationMs"`
	Evidence   []scan.Evidence `json:"evidence,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// sarifLevel maps a severity to a SARIF level: critical and high are
// errors, medium a warning, low and info notes.
func sarifLevel(s vigil.Severity) string {
	switch {
	case s >= vigil.SeverityHigh:
		return "error"
	case s == vigil.SeverityMedium:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is the score code-scanning dashboards read (over 9.0
// critical, 7.0 high, 4.0 medium, above 0 low); info has none.
func securitySeverity(s vigil.Severity) string {
	switch s {
	case vigil.SeverityCritical:
		return "9.5"
	case vigil.SeverityHigh:
		return "8.0"
	case vigil.SeverityMedium:
		return "5.5"
	case vigil.SeverityLow:
		return "3.0"
	}
	return ""
}

func writeSARIF(w io.Writer, r *scan.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(buildSARIF(r))
}

func buildSARIF(r *scan.Report) sarifLog {
	rules, index := sarifRules(r)
	inv := sarifInvocation{
		ExecutionSuccessful: !r.Partial,
		StartTimeUTC:        sarifTime(r.Started),
		EndTimeUTC:          sarifTime(r.Finished),
	}
	if r.Partial {
		inv.Notifications = append(inv.Notifications, sarifNotification{
			Level:   "warning",
			Message: sarifText{"The scan was stopped before it finished: the results are partial."},
		})
	}
	for _, x := range r.Results {
		if x.Status != scan.StatusError {
			continue
		}
		msg := fmt.Sprintf("Test %s on %s could not run to a verdict", x.Test, x.Operation)
		if x.Detail != "" {
			msg += ": " + x.Detail
		}
		inv.Notifications = append(inv.Notifications, sarifNotification{
			Level:          "error",
			Message:        sarifText{msg + "."},
			AssociatedRule: &sarifRuleRef{ID: x.Test, Index: index[x.Test]},
		})
	}
	results := []sarifResult{}
	artifact := specArtifact(r.Spec)
	for _, x := range sortedFindings(r) {
		loc := sarifLocation{LogicalLocations: []sarifLogicalLocation{{
			Name: x.Operation, FullyQualifiedName: x.Operation, Kind: "function",
		}}}
		if artifact != "" {
			loc.PhysicalLocation = &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: artifact}}
		}
		evidence := make([]scan.Evidence, len(x.Evidence))
		for i, e := range x.Evidence {
			evidence[i] = scan.Evidence{Request: capText(e.Request), Response: capText(e.Response)}
		}
		results = append(results, sarifResult{
			RuleID:              x.Test,
			RuleIndex:           index[x.Test],
			Kind:                "fail",
			Level:               sarifLevel(x.Severity),
			Message:             sarifText{resultMessage(x)},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{fingerprintKey: fingerprint(x)},
			Properties: sarifResultProps{
				Severity:   x.Severity.String(),
				Category:   string(x.Category),
				Operation:  x.Operation,
				Identity:   x.Identity,
				Detail:     x.Detail,
				DurationMS: x.Duration.Milliseconds(),
				Evidence:   evidence,
			},
		})
	}
	return sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           "vigil",
				Version:        toolVersion(r.Tool),
				InformationURI: vigilURI,
				Rules:          rules,
			}},
			Invocations: []sarifInvocation{inv},
			Results:     results,
			Properties:  sarifRunProps{Target: r.Target, Spec: r.Spec, Requests: r.Requests, Partial: r.Partial},
		}},
	}
}

// sarifRules makes one rule per test id, sorted by id, with the highest
// severity any result of that test had as its default level.
func sarifRules(r *scan.Report) ([]sarifRule, map[string]int) {
	type testInfo struct {
		name     string
		category vigil.Category
		severity vigil.Severity
	}
	tests := map[string]*testInfo{}
	for _, x := range r.Results {
		t, ok := tests[x.Test]
		if !ok {
			tests[x.Test] = &testInfo{name: x.Name, category: x.Category, severity: x.Severity}
			continue
		}
		t.severity = max(t.severity, x.Severity)
		if t.name == "" {
			t.name = x.Name
		}
	}
	ids := slices.Sorted(maps.Keys(tests))
	rules := make([]sarifRule, 0, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		t := tests[id]
		info := category(t.category)
		name := t.name
		if name == "" {
			name = id
		}
		tags := []string{"security", "api"}
		if t.category != "" {
			tags = append(tags, "OWASP-"+string(t.category))
		}
		label := categoryLabel(t.category)
		md := fmt.Sprintf("**%s**\n\n%s", label, info.Help)
		if info.URL != "" {
			md += fmt.Sprintf("\n\n[OWASP: %s](%s)", info.Title, info.URL)
		}
		rules = append(rules, sarifRule{
			ID:                   id,
			Name:                 id,
			ShortDescription:     sarifText{name},
			FullDescription:      sarifText{fmt.Sprintf("%s (%s).", strings.TrimSuffix(name, "."), label)},
			Help:                 sarifMultiformat{Text: label + ": " + info.Help, Markdown: md},
			HelpURI:              info.URL,
			DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(t.severity)},
			Properties: sarifRuleProps{
				Tags:             tags,
				Category:         string(t.category),
				Severity:         t.severity.String(),
				SecuritySeverity: securitySeverity(t.severity),
			},
		})
		index[id] = i
	}
	return rules, index
}

// resultMessage is the one-paragraph message of a finding.
func resultMessage(x scan.Result) string {
	msg := fmt.Sprintf("%s: %s", x.Operation, testName(x))
	if x.Identity != "" {
		msg += fmt.Sprintf(" (as %s)", x.Identity)
	}
	if x.Detail != "" {
		msg += ". " + strings.TrimSuffix(x.Detail, ".")
	}
	return msg + "."
}

// fingerprint identifies a finding across runs: its test, operation and
// identity, hashed.
func fingerprint(x scan.Result) string {
	sum := sha256.Sum256([]byte(x.Test + "\x00" + x.Operation + "\x00" + x.Identity))
	return hex.EncodeToString(sum[:16])
}

// specArtifact is the spec as a SARIF artifact URI when Report.Spec names
// a file or URL (a .yaml, .yml or .json), and "" when it is a title.
func specArtifact(spec string) string {
	switch strings.ToLower(path.Ext(spec)) {
	case ".yaml", ".yml", ".json":
	default:
		return ""
	}
	if strings.Contains(spec, "://") {
		if u, err := url.Parse(spec); err == nil && u.Scheme != "" {
			return u.String()
		}
		return ""
	}
	return (&url.URL{Path: strings.TrimPrefix(spec, "./")}).String()
}

func sarifTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
