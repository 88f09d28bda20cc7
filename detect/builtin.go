// Package detect holds Vigil's stateless technique detectors, one file each.
// A detector is a vigil.Analyzer registered in Builtin with a dotted id.
package detect

import (
	"fmt"

	"github.com/vigilsec/vigil"
)

// Factory makes one detector.
type Factory struct {
	ID  string // dotted, e.g. "detect.injection.sqli"
	New func() vigil.Analyzer
}

// Builtin lists the detectors that ship with Vigil. A new detector is one file
// plus one line here.
func Builtin() []Factory {
	return []Factory{}
}

// New builds the analyzers of the given factories. A duplicate or empty id is
// an error: two detectors must never report under one name.
func New(fs []Factory) ([]vigil.Analyzer, error) {
	seen := make(map[string]bool, len(fs))
	out := make([]vigil.Analyzer, 0, len(fs))
	for _, f := range fs {
		if f.ID == "" || f.New == nil {
			return nil, fmt.Errorf("detector %q: empty id or constructor", f.ID)
		}
		if seen[f.ID] {
			return nil, fmt.Errorf("detector %q is registered twice", f.ID)
		}
		seen[f.ID] = true
		out = append(out, f.New())
	}
	return out, nil
}
