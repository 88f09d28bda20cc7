package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/store/sqlite"
)

// app is what every command shares: the streams, the loaded configuration
// and the logger.
type app struct {
	*streams
	cfgPath   string
	logLevel  string
	logFormat string

	cfg    config.Config
	logger *slog.Logger
}

func newRootCmd(s *streams) *cobra.Command {
	a := &app{streams: s}
	root := &cobra.Command{
		Use:   "vigil",
		Short: "API security: discover, detect and respond, test and simulate",
		Long: `Vigil watches API traffic — inline as a reverse proxy or offline from recorded files —
builds the API inventory, detects attacks on it and acts on them.

Start with the demo, which runs a vulnerable shop API, Vigil in front of it and an
attack simulator, and ends with a scorecard:

  vigil demo

Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage or input error,
3 the run failed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.load(cmd)
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nRun '%s --help' for usage.", err, cmd.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.cfgPath, "config", "", "YAML configuration file (see docs/config.md); flags override it")
	pf.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn or error (default from config: info)")
	pf.StringVar(&a.logFormat, "log-format", "", "log format: text or json (default from config: text)")

	root.AddCommand(
		newProxyCmd(a),
		newAnalyzeCmd(a),
		newInventoryCmd(a),
		newActionsCmd(a),
		newIncidentsCmd(a),
		newDiscoverCmd(a),
		newScanCmd(a),
		newServeCmd(a),
		newSimulateCmd(a),
		newDemoCmd(a),
		newBenchCmd(a),
		newVersionCmd(a),
	)
	return root
}

// load reads the configuration file (or the defaults) and sets up logging.
// Commands then apply the flags the user set on top of a.cfg.
func (a *app) load(cmd *cobra.Command) error {
	a.cfg = config.Default()
	if a.cfgPath != "" {
		cfg, err := config.Load(a.cfgPath)
		if err != nil {
			return err
		}
		a.cfg = cfg
	}
	set(cmd.Flags(), "log-level", &a.cfg.Log.Level, a.logLevel)
	set(cmd.Flags(), "log-format", &a.cfg.Log.Format, a.logFormat)
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.cfg.Log.Level)); err != nil {
		return usagef("--log-level: want debug, info, warn or error, got %q", a.cfg.Log.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.cfg.Log.Format {
	case "json":
		a.logger = slog.New(slog.NewJSONHandler(a.err, opts))
	case "text":
		a.logger = slog.New(slog.NewTextHandler(a.err, opts))
	default:
		return usagef("--log-format: want text or json, got %q", a.cfg.Log.Format)
	}
	return nil
}

// validate re-checks the configuration once a command's flags are applied.
func (a *app) validate() error {
	if err := a.cfg.Validate(); err != nil {
		return usageError{err}
	}
	return nil
}

// openExistingStore opens the store a command reads (a.cfg.Store.Path). A
// missing store is a usage error, not a new empty store; hint, when set, says
// how to get one.
func (a *app) openExistingStore(ctx context.Context, hint string) (*sqlite.Store, error) {
	if _, err := os.Stat(a.cfg.Store.Path); err != nil {
		if hint != "" {
			return nil, usagef("store %s: %v (%s)", a.cfg.Store.Path, err, hint)
		}
		return nil, usagef("store %s: %v", a.cfg.Store.Path, err)
	}
	st, err := sqlite.Open(ctx, a.cfg.Store.Path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", a.cfg.Store.Path, err)
	}
	return st, nil
}

// set copies a flag's value over the configuration when the user gave it.
func set[T any](fs *pflag.FlagSet, name string, dst *T, v T) {
	if fs.Changed(name) {
		*dst = v
	}
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}
