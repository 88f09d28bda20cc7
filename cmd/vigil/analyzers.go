package main

import (
	"github.com/spf13/pflag"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/spec"
)

// analyzers builds the detectors the configuration turns on, in the order
// the pipeline runs them: the technique detectors (and the Core Rule Set
// engine when detect.crs.enabled), recon and mass assignment (which need the
// specs), then the behavioural ones.
func (a *app) analyzers(specs *spec.Set) ([]vigil.Analyzer, error) {
	if !a.cfg.Pipeline.Detect {
		return nil, nil
	}
	as, err := a.techniqueDetectors()
	if err != nil {
		return nil, err
	}
	as = append(as, a.newRecon(specs), inventory.NewMassAssignment(specs))
	bc := a.cfg.Behavior.DetectorConfig() // behavior.flows included
	if err := bc.Validate(); err != nil {
		return nil, usageError{err}
	}
	return append(as, behavior.All(bc)...), nil
}

// techniqueDetectors builds package detect's detectors from the detect
// section of the configuration: the built-in ones and, when enabled, CRS.
func (a *app) techniqueDetectors() ([]vigil.Analyzer, error) {
	dc, err := detectConfig(a.cfg.Detect)
	if err != nil {
		return nil, err
	}
	as, err := detect.New(detect.BuiltinWith(dc))
	if err != nil {
		return nil, err
	}
	if c := a.cfg.Detect.CRS; c.Enabled {
		crs, err := detect.NewCRS(detect.CRSConfig{Paranoia: c.Paranoia})
		if err != nil {
			return nil, err
		}
		a.logger.Info("Core Rule Set engine on", "paranoia", crs.Paranoia())
		as = append(as, crs)
	}
	return as, nil
}

// detectConfig turns the detect section into package detect's settings,
// loading the JWT verification keys.
func detectConfig(c config.Detect) (detect.Config, error) {
	dc := detect.Config{
		JWT:     detect.JWTConfig{TrustedKeyHosts: c.JWT.TrustedKeyHosts},
		BFLA:    detect.BFLAConfig{LearnRequests: c.BFLA.LearnRequests},
		Headers: c.Headers.Enabled,
	}
	if len(c.JWT.Keys) > 0 {
		keys, err := detect.LoadJWTKeys(c.JWT.Keys...)
		if err != nil {
			return dc, usageError{err}
		}
		dc.JWT.Keyfunc = keys.Keyfunc
	}
	return dc, nil
}

// crsFlags are --crs and --crs-paranoia, shared by proxy, analyze and demo.
type crsFlags struct {
	enabled  bool
	paranoia int
}

func (c *crsFlags) add(f *pflag.FlagSet) {
	d := config.Default().Detect.CRS
	f.BoolVar(&c.enabled, "crs", d.Enabled, "also run Coraza with the OWASP Core Rule Set (slower; more false positives at higher paranoia levels)")
	f.IntVar(&c.paranoia, "crs-paranoia", d.Paranoia, "CRS paranoia level, 1 to 4 (with --crs)")
}

// apply copies the flags given on the command line into the configuration.
func (c *crsFlags) apply(f *pflag.FlagSet, cfg *config.Config) {
	set(f, "crs", &cfg.Detect.CRS.Enabled, c.enabled)
	set(f, "crs-paranoia", &cfg.Detect.CRS.Paranoia, c.paranoia)
}
