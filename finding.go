package vigil

import (
	"fmt"
	"strings"
	"time"
)

// Severity orders findings. The zero value is SeverityInfo.
type Severity int

// Severities, from least to most severe.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return 0, Errorf(EINVALID, "unknown severity %q (want one of %s)", name, strings.Join(severityNames[:], ", "))
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Area is one of the four attack areas Vigil covers.
type Area string

// The attack areas.
const (
	AreaBusinessLogic Area = "business-logic" // legitimate-looking abuse of the API's logic
	AreaChained       Area = "chained"        // OWASP API Top 10 techniques, alone or chained
	AreaShadow        Area = "shadow"         // undocumented, zombie and third-party APIs and their recon
	AreaAutomation    Area = "automation"     // scripted, adaptive and AI-driven attackers
)

// Areas lists the attack areas in report order.
var Areas = []Area{AreaBusinessLogic, AreaChained, AreaShadow, AreaAutomation}

// Category is an OWASP API Security Top 10 (2023) category, "API1:2023" to
// "API10:2023", or "" when none applies.
type Category string

// The OWASP API Security Top 10, 2023 edition.
const (
	API1BOLA                Category = "API1:2023"  // Broken Object Level Authorization
	API2BrokenAuth          Category = "API2:2023"  // Broken Authentication
	API3PropertyAuth        Category = "API3:2023"  // Broken Object Property Level Authorization
	API4ResourceConsumption Category = "API4:2023"  // Unrestricted Resource Consumption
	API5BFLA                Category = "API5:2023"  // Broken Function Level Authorization
	API6BusinessFlows       Category = "API6:2023"  // Unrestricted Access to Sensitive Business Flows
	API7SSRF                Category = "API7:2023"  // Server Side Request Forgery
	API8Misconfiguration    Category = "API8:2023"  // Security Misconfiguration
	API9InventoryManagement Category = "API9:2023"  // Improper Inventory Management
	API10UnsafeConsumption  Category = "API10:2023" // Unsafe Consumption of APIs
)

// Finding is one analyzer's verdict on one exchange or on one actor's
// behaviour. Evidence is redacted before a finding leaves its analyzer.
type Finding struct {
	ID         string     `json:"id"`
	Detector   string     `json:"detector"` // dotted id, e.g. "detect.injection.sqli"
	Category   Category   `json:"category,omitempty"`
	Area       Area       `json:"area"`
	Severity   Severity   `json:"severity"`
	Confidence float64    `json:"confidence"` // 0..1
	Time       time.Time  `json:"time"`
	ExchangeID string     `json:"exchange_id,omitempty"` // the exchange that raised it
	Actor      Actor      `json:"actor"`
	Endpoint   Endpoint   `json:"endpoint"`
	Title      string     `json:"title"`
	Evidence   []Evidence `json:"evidence,omitempty"`
}

// Evidence says where in the exchange a finding was seen and why.
type Evidence struct {
	Where string `json:"where"`           // "query.id", "body.user.role", "header.Authorization"
	Value string `json:"value,omitempty"` // redacted and shortened
	Why   string `json:"why"`
}

// String is a one-line summary for logs and consoles.
func (f Finding) String() string {
	return fmt.Sprintf("%s %s %s %s actor=%s", f.Severity, f.Detector, f.Endpoint, f.Title, f.Actor.Key())
}

// FormatDuration writes a duration the way findings' evidence and actions'
// reasons say it: "10m" and "1h" rather than time.Duration's "10m0s" and
// "1h0m0s"; other durations as time.Duration writes them ("1m30s", "2s").
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
