package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/scan"
	"github.com/vigilsec/vigil/scan/report"
	"github.com/vigilsec/vigil/sensor/ingest"
	"github.com/vigilsec/vigil/store/sqlite"
)

// exitInterrupted is vigil scan's exit code when Ctrl-C stopped the run
// (the partial report was written): 128 + SIGINT, as shells do.
const exitInterrupted = 130

func newScanCmd(a *app) *cobra.Command {
	var (
		specPath, target, identitiesPath, templatesDir    string
		format, output, failOn, callbackAddr, callbackURL string
		harPath, storePath                                string
		bearers, only                                     []string
		safe                                              bool
		rate                                              float64
		concurrency, maxRequests                          int
		timeout                                           time.Duration
	)
	cmd := &cobra.Command{
		Use:   "scan --spec FILE --target URL",
		Short: "Test a running API for security flaws, from its OpenAPI spec and a few test identities",
		Long: `Build valid requests for every operation of an OpenAPI 3.0/3.1 or Swagger 2.0
spec, send them to the target as test identities (a customer, another customer,
an admin…), then run the security tests: BOLA, BFLA, broken authentication, mass
assignment, injection, SSRF (through a callback listener on 127.0.0.1), excessive
data exposure, missing rate limits, security headers and CORS, verbose errors
and HTTP method tampering. The tests are YAML templates built into the binary;
add your own with --templates. With --har or --from-store, object reads recorded
in real traffic are replayed as each identity (BOLA and BFLA without hand-written
cases). With --from-store, the attacks Vigil detected are also replayed against
the target with the scan's own safe payloads, aimed at the operation and
parameter each attack used, to confirm whether they would work (replay.* tests).

Requests go to the target's host only (redirects are not followed), at most
--rate per second and --max-requests in all. --safe skips every test that sends
POST, PUT, PATCH or DELETE. Progress goes to stderr, the summary by severity to
stdout; --format writes a JSON, SARIF, JUnit or HTML report to --output.
Ctrl-C stops the run and still writes the (partial) report, then exits 130.

Only scan APIs you are allowed to test. See docs/scan.md.`,
		Example: `  vigil scan --spec openapi.yaml --target http://127.0.0.1:8080 --identities identities.yaml
  vigil scan --spec openapi.yaml --target https://staging.example.test \
      --bearer alice:customer:TOKEN_A --bearer bob:customer:TOKEN_B --safe
  vigil scan --spec openapi.yaml --target http://127.0.0.1:8080 --identities ids.yaml \
      --format sarif --output vigil.sarif --fail-on high`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if specPath == "" || target == "" {
				return usagef("--spec and --target are required")
			}
			if concurrency < 1 || concurrency > scan.MaxConcurrency {
				return usagef("--concurrency must be between 1 and %d, got %d", scan.MaxConcurrency, concurrency)
			}
			if rate <= 0 || maxRequests < 1 || timeout <= 0 {
				return usagef("--rate, --max-requests and --timeout must be positive")
			}
			if format != "" && !slices.Contains(report.Formats(), format) {
				return usagef("--format %q: want one of %s", format, strings.Join(report.Formats(), ", "))
			}
			var threshold *vigil.Severity
			if failOn != "" {
				s, err := vigil.ParseSeverity(failOn)
				if err != nil {
					return usagef("--fail-on: %v", err)
				}
				threshold = &s
			}
			api, err := scan.LoadAPI(specPath)
			if err != nil {
				return usageError{err}
			}
			cfg := scan.Config{Target: target, API: api, Safe: safe, Rate: rate, Concurrency: concurrency,
				Timeout: timeout, MaxRequests: maxRequests, CallbackAddr: callbackAddr, CallbackURL: callbackURL,
				Logger: a.logger, Tool: "vigil " + scanVersion()}
			if identitiesPath != "" {
				ids, err := scan.LoadIdentities(identitiesPath)
				if err != nil {
					return usageError{err}
				}
				cfg.Identities, cfg.AdminRoles = ids.Identities, ids.AdminRoles
			}
			for _, b := range bearers {
				id, err := scan.ParseBearerFlag(b)
				if err != nil {
					return usageError{err}
				}
				cfg.Identities = append(cfg.Identities, id)
			}
			ts, err := scan.BuiltinTemplates()
			if err != nil {
				return err
			}
			if templatesDir != "" {
				user, err := scan.LoadTemplates(templatesDir)
				if err != nil {
					return usageError{err}
				}
				ts = append(ts, user...)
			}
			cfg.Known = ts
			if ts, err = selectTemplates(ts, only); err != nil {
				return err
			}
			cfg.Templates = ts
			if storePath == "" && !slices.ContainsFunc(ts, func(t *scan.Template) bool { return t.Kind != scan.KindReplay }) {
				return usagef("--only %s: the replay tests replay the findings of a store: give --from-store", strings.Join(only, ","))
			}
			var st *sqlite.Store
			if storePath != "" {
				if st, err = openScanStore(cmd.Context(), storePath); err != nil {
					return err
				}
				defer st.Close()
			}
			if harPath != "" || st != nil {
				if cfg.Observed, err = observedTraffic(cmd.Context(), api, harPath, st); err != nil {
					return err
				}
				a.logger.Info("recorded traffic read", "object_reads", len(cfg.Observed))
			}
			if st != nil {
				if cfg.Findings, err = scan.DetectedFrom(cmd.Context(), st, ts); err != nil {
					return fmt.Errorf("--from-store: %w", err)
				}
				a.logger.Info("detected attacks read", "findings", len(cfg.Findings))
			}
			var progress *report.Progress
			cfg.OnStart = func(total int) { progress = report.NewProgress(a.err, total) }
			cfg.OnResult = func(r scan.Result) {
				if progress != nil {
					progress.Step(r)
				}
			}
			rep, err := scan.Run(cmd.Context(), cfg)
			if progress != nil {
				progress.Done()
			}
			if err != nil {
				return usageError{err}
			}
			if format != "" {
				if err := writeReport(a.out, output, format, rep); err != nil {
					return err
				}
			}
			summary := a.out
			if format != "" && output == "" {
				summary = a.err // stdout carries the report
			}
			if err := report.Summary(summary, rep); err != nil {
				return err
			}
			if rep.Partial && cmd.Context().Err() != nil {
				return &exitError{code: exitInterrupted, msg: "stopped: the report is partial"}
			}
			if threshold != nil {
				n := 0
				for _, f := range rep.Findings() {
					if f.Severity >= *threshold {
						n++
					}
				}
				if n > 0 {
					return &exitError{code: exitFindings, msg: fmt.Sprintf("%d findings at or above %s", n, *threshold)}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&specPath, "spec", "", "OpenAPI 3.0/3.1 or Swagger 2.0 file of the API (required)")
	f.StringVar(&target, "target", "", "base URL of the API (http:// or https://); the scope is its host (required)")
	f.StringVar(&identitiesPath, "identities", "", "YAML file of test identities (see docs/scan.md)")
	f.StringArrayVar(&bearers, "bearer", nil, "a test identity NAME:ROLE:TOKEN sent as a bearer token; repeatable")
	f.BoolVar(&safe, "safe", false, "skip every test that sends POST, PUT, PATCH or DELETE")
	f.Float64Var(&rate, "rate", scan.DefaultRate, "most requests per second")
	f.IntVar(&concurrency, "concurrency", scan.DefaultConcurrency, "most tests running at once")
	f.IntVar(&maxRequests, "max-requests", scan.DefaultMaxRequests, "hard cap on requests; the report is partial when reached")
	f.DurationVar(&timeout, "timeout", scan.DefaultTimeout, "per-request timeout")
	f.StringVar(&templatesDir, "templates", "", "directory of extra test templates (*.yaml, see docs/scan-templates.md)")
	f.StringSliceVar(&only, "only", nil, "run only the tests whose id starts with one of these prefixes (bola, inject.sql-error…)")
	f.StringVar(&format, "format", "", "write a report: "+strings.Join(report.Formats(), ", "))
	f.StringVar(&output, "output", "", "file for the --format report (default standard output)")
	f.StringVar(&failOn, "fail-on", "", "exit with code 1 when a finding reaches this severity (info, low, medium, high, critical)")
	f.StringVar(&harPath, "har", "", "recorded traffic (HAR or Vigil JSON lines): its object reads are replayed as each identity")
	f.StringVar(&storePath, "from-store", "", "Vigil store (SQLite file): its sample exchanges are replayed as each identity, and its detected attacks as safe variants")
	f.StringVar(&callbackAddr, "callback-addr", "127.0.0.1:0", "listen address of the SSRF callback listener")
	f.StringVar(&callbackURL, "callback-url", "", "URL the target is told to call for SSRF tests, when it cannot reach the listener directly (a tunnel)")
	return cmd
}

// selectTemplates keeps the templates whose id starts with a prefix in
// only (all when empty) and refuses duplicate ids.
func selectTemplates(ts []*scan.Template, only []string) ([]*scan.Template, error) {
	seen := map[string]string{}
	var out []*scan.Template
	for _, t := range ts {
		if src, dup := seen[t.ID]; dup {
			return nil, usagef("template id %q is defined twice (%s and %s)", t.ID, src, t.Source)
		}
		seen[t.ID] = t.Source
		if len(only) == 0 || slices.ContainsFunc(only, func(p string) bool { return strings.HasPrefix(t.ID, p) }) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, usagef("--only %s: no test matches", strings.Join(only, ","))
	}
	return out, nil
}

// writeReport writes the report to path, or to w when path is empty. A file
// is written whole or not at all.
func writeReport(w io.Writer, path, format string, rep *scan.Report) error {
	var buf bytes.Buffer
	if err := report.Write(&buf, format, rep); err != nil {
		return err
	}
	if path == "" {
		_, err := w.Write(buf.Bytes())
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// scanVersion is the version named in reports (as vigil version prints it).
func scanVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// maxTrafficRecords caps the exchanges read from --har: the replay tests
// keep at most scan.MaxObserved reads anyway.
const maxTrafficRecords = 1_000_000

// openScanStore opens the --from-store store, which must exist.
func openScanStore(ctx context.Context, storePath string) (*sqlite.Store, error) {
	if _, err := os.Stat(storePath); err != nil {
		return nil, usageError{fmt.Errorf("--from-store: %w", err)}
	}
	st, err := sqlite.Open(ctx, storePath)
	if err != nil {
		return nil, usageError{fmt.Errorf("--from-store: %w", err)}
	}
	return st, nil
}

// observedTraffic reads the object reads of recorded traffic: a HAR or
// JSON-lines file, and the samples of a store (st may be nil).
func observedTraffic(ctx context.Context, api *scan.API, harPath string, st *sqlite.Store) ([]scan.Observed, error) {
	obs := scan.NewObserver(api)
	if harPath != "" {
		src, err := ingest.Open(harPath, ingest.Options{})
		if err != nil {
			return nil, usageError{fmt.Errorf("--har: %w", err)}
		}
		defer src.Close()
		for n := 0; n < maxTrafficRecords; n++ {
			x, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var re *ingest.RecordError
			if errors.As(err, &re) {
				continue // one broken record: carry on
			}
			if err != nil {
				return nil, fmt.Errorf("--har: %w", err)
			}
			obs.Add(x)
		}
	}
	if st != nil {
		eps, err := st.Endpoints(ctx)
		if err != nil {
			return nil, fmt.Errorf("--from-store: %w", err)
		}
		for _, e := range eps {
			if e.Method != "GET" {
				continue
			}
			xs, err := st.Samples(ctx, e.Endpoint, sqlite.DefaultSamplesPerEndpoint)
			if err != nil {
				return nil, fmt.Errorf("--from-store: %w", err)
			}
			for i := range xs {
				obs.Add(&xs[i])
			}
		}
	}
	return obs.Observed(), nil
}
