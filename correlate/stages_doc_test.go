package correlate

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestStageTableDocumented holds docs/incidents.md's stage table to
// stageTable: the same detectors, in the same order (first match wins), with
// the same stage and role.
func TestStageTableDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/incidents.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| detector | stage | opens an incident |\n| --- | --- | --- |\n")
	if !ok {
		t.Fatal("docs/incidents.md has no stage table")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	row := regexp.MustCompile("^\\| `([^`]+)`[^|]* \\| ([a-z-]+) \\| (yes|\\*\\*no\\*\\*)")
	var doc []string
	for line := range strings.Lines(table) {
		m := row.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("stage table row %q does not parse", line)
		}
		doc = append(doc, fmt.Sprintf("%s %s %t", strings.TrimSuffix(m[1], "*"), m[2], m[3] == "yes"))
	}
	var code []string
	for _, r := range stageTable {
		code = append(code, fmt.Sprintf("%s %s %t", r.Detector, r.Stage, r.Role == Opens))
	}
	if strings.Join(doc, "\n") != strings.Join(code, "\n") {
		t.Errorf("docs/incidents.md stage table:\n%s\nstageTable:\n%s", strings.Join(doc, "\n"), strings.Join(code, "\n"))
	}
}
