package shop

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil"
)

//go:embed openapi.yaml
var specYAML []byte

//go:embed vulns.json
var vulnsJSON []byte

// Spec returns the shop's OpenAPI 3.1 document (YAML). It documents the
// /api/v2 API only: the shadow and zombie endpoints are left out on purpose.
func Spec() []byte { return bytes.Clone(specYAML) }

// Vuln is one planted vulnerability of the shop: an entry of the ground
// truth that tests and the coverage report read.
type Vuln struct {
	ID       string         `json:"id"`
	Title    string         `json:"title"`
	Method   string         `json:"method"`
	Path     string         `json:"path"` // template, e.g. /api/v2/orders/{id}
	Category vigil.Category `json:"category"`
	Area     vigil.Area     `json:"area"`
	Trigger  string         `json:"trigger"` // how to trigger it, for people
	InSpec   bool           `json:"in_spec"` // the endpoint is documented in openapi.yaml
	// Active is true when an active scan driven by the spec and a few test
	// identities (vigil scan) can find it; the shadow, zombie and debug
	// endpoints are for vigil discover instead.
	Active bool `json:"active"`
	// Scan says how vigil scan finds it, or why it cannot.
	Scan string `json:"scan"`
}

// GroundTruth returns the planted vulnerabilities (vulns.json), checked.
func GroundTruth() ([]Vuln, error) { return parseGroundTruth(vulnsJSON) }

// maxGroundTruth caps the ground-truth file: it lists a few dozen entries.
const maxGroundTruth = 1 << 20

func parseGroundTruth(b []byte) ([]Vuln, error) {
	if len(b) > maxGroundTruth {
		return nil, fmt.Errorf("shop ground truth: over %d bytes", maxGroundTruth)
	}
	var vs []Vuln
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&vs); err != nil {
		return nil, fmt.Errorf("shop ground truth: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("shop ground truth: more than one JSON value")
	}
	seen := map[string]bool{}
	for i, v := range vs {
		switch {
		case v.ID == "" || seen[v.ID]:
			return nil, fmt.Errorf("shop ground truth entry %d: missing or duplicate id %q", i, v.ID)
		case !slices.Contains(vigil.Areas, v.Area):
			return nil, fmt.Errorf("shop ground truth %s: unknown area %q", v.ID, v.Area)
		case !validCategory(v.Category):
			return nil, fmt.Errorf("shop ground truth %s: unknown category %q", v.ID, v.Category)
		case v.Method == "" || !strings.HasPrefix(v.Path, "/") || v.Trigger == "":
			return nil, fmt.Errorf("shop ground truth %s: method, path and trigger are required", v.ID)
		case v.Scan == "":
			return nil, fmt.Errorf("shop ground truth %s: scan (how vigil scan finds it, or why not) is required", v.ID)
		case v.Active && !v.InSpec:
			return nil, fmt.Errorf("shop ground truth %s: active but not in the spec: a spec-driven scan never calls it", v.ID)
		}
		seen[v.ID] = true
	}
	return vs, nil
}

func validCategory(c vigil.Category) bool {
	for i := 1; i <= 10; i++ {
		if c == vigil.Category(fmt.Sprintf("API%d:2023", i)) {
			return true
		}
	}
	return false
}
