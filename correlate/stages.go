package correlate

import (
	"strings"

	"github.com/vigilsec/vigil"
)

// Role says what a finding may do to an incident.
type Role uint8

// The roles of findings.
const (
	// Opens: an attacker-intent finding; at medium severity or above it
	// opens an incident, below it joins one (or waits for one, see
	// Correlator).
	Opens Role = iota
	// Joins: a finding about the API's own responses (exposure,
	// misconfiguration). It never opens an incident; it joins the incident
	// the actor already has, as evidence.
	Joins
)

// rule maps detector ids to a stage and a role. An id matches a rule when it
// equals Detector, or starts with it when Detector ends in ".".
type rule struct {
	Detector string
	Stage    vigil.Stage
	Role     Role
}

// stageTable is THE mapping from detectors to stages, first match wins:
// more specific entries come first. docs/incidents.md prints it;
// TestStageTableDocumented keeps the two in step. Detectors not listed fall back to their OWASP category
// (categoryStage).
var stageTable = []rule{
	// Reconnaissance: probing, wordlists, spec hunting, version rolling;
	// walking identifiers to learn what exists.
	{"recon.", vigil.StageRecon, Opens},
	{"behavior.enumeration", vigil.StageRecon, Opens},
	{"behavior.adaptive-probing", vigil.StageRecon, Opens},
	{"behavior.automation", vigil.StageRecon, Opens},
	// Credential access: guessing passwords, codes and tokens.
	{"behavior.credential-stuffing", vigil.StageCredentialAccess, Opens},
	{"behavior.brute-force", vigil.StageCredentialAccess, Opens},
	{"behavior.cracking-succeeded", vigil.StageExploitation, Opens}, // before behavior.cracking
	{"behavior.cracking", vigil.StageCredentialAccess, Opens},
	{"detect.auth.", vigil.StageCredentialAccess, Opens},
	// Exploitation: the technique works on the API.
	{"detect.injection.", vigil.StageExploitation, Opens},
	{"detect.ssrf", vigil.StageExploitation, Opens},
	{"behavior.bola", vigil.StageExploitation, Opens},
	{"detect.authz.", vigil.StageExploitation, Opens},
	{"detect.mass-assignment", vigil.StageExploitation, Opens},
	{"behavior.flow-skip", vigil.StageExploitation, Opens},
	{"behavior.tampering", vigil.StageExploitation, Opens},
	{"behavior.flow-velocity", vigil.StageExploitation, Opens},
	{"behavior.prompt-injection", vigil.StageExploitation, Opens},
	// Exfiltration: bulk reads (oversized pages, exports).
	{"detect.resource.", vigil.StageExfiltration, Opens},
	// The API's own responses: evidence for an attacker's incident, never
	// the reason for one. Sensitive data in a response to an attacker is
	// data leaving; a verbose error tells the attacker about the stack.
	{"detect.exposure.", vigil.StageExfiltration, Joins},
	{"detect.misconfig.", vigil.StageRecon, Joins},
	// A request far from the endpoint's learned baseline: unusual, not
	// hostile by itself (peak traffic and new clients are unusual too).
	{"behavior.anomaly", vigil.StageRecon, Joins},
}

// categoryStage is the fallback for detectors stageTable does not list.
var categoryStage = map[vigil.Category]rule{
	vigil.API1BOLA:                {Stage: vigil.StageExploitation},
	vigil.API2BrokenAuth:          {Stage: vigil.StageCredentialAccess},
	vigil.API3PropertyAuth:        {Stage: vigil.StageExploitation},
	vigil.API4ResourceConsumption: {Stage: vigil.StageExploitation},
	vigil.API5BFLA:                {Stage: vigil.StageExploitation},
	vigil.API6BusinessFlows:       {Stage: vigil.StageExploitation},
	vigil.API7SSRF:                {Stage: vigil.StageExploitation},
	vigil.API8Misconfiguration:    {Stage: vigil.StageRecon, Role: Joins},
	vigil.API9InventoryManagement: {Stage: vigil.StageRecon},
	vigil.API10UnsafeConsumption:  {Stage: vigil.StageExploitation},
}

// DetectorStage is the detector of the findings a Correlator emits when an
// incident reaches a new stage. The correlator ignores findings of it.
const DetectorStage = "incident.stage"

// Classify returns the stage a finding stands for and its role. A detector
// neither in the table nor with a known category is reconnaissance: the
// least a finding of unknown meaning can say about intent.
func Classify(f *vigil.Finding) (vigil.Stage, Role) {
	for _, r := range stageTable {
		if f.Detector == r.Detector || (strings.HasSuffix(r.Detector, ".") && strings.HasPrefix(f.Detector, r.Detector)) {
			return r.Stage, r.Role
		}
	}
	if r, ok := categoryStage[f.Category]; ok {
		return r.Stage, r.Role
	}
	return vigil.StageRecon, Opens
}
