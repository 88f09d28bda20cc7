package main

import (
	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/spec"
)

// analyzers builds the detectors the configuration turns on, in the order
// the pipeline runs them: the stateless technique detectors, recon and mass
// assignment (which need the specs), then the behavioural ones.
func (a *app) analyzers(specs *spec.Set) ([]vigil.Analyzer, error) {
	if !a.cfg.Pipeline.Detect {
		return nil, nil
	}
	as, err := detect.New(detect.Builtin())
	if err != nil {
		return nil, err
	}
	as = append(as, a.newRecon(specs), inventory.NewMassAssignment(specs))
	bc := behavior.Config{Window: a.cfg.Behavior.Window, Threshold: a.cfg.Behavior.Threshold, MaxActors: a.cfg.Behavior.MaxActors}
	if err := bc.Validate(); err != nil {
		return nil, usageError{err}
	}
	return append(as, behavior.All(bc)...), nil
}
