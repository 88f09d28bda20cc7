package main

import (
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/scan/discover"
)

func newDiscoverCmd(a *app) *cobra.Command {
	var (
		target           string
		specs, headers   []string
		rate             float64
		concurrency, max int
		timeout          time.Duration
		jsonOut, verbose bool
	)
	cmd := &cobra.Command{
		Use:   "discover --target URL",
		Short: "Find undocumented endpoints of a running API by asking it (active discovery)",
		Long: `Send GET requests to a target API — a built-in wordlist of sensitive and
debug paths, and, with --spec, guesses derived from the spec (other versions of
documented paths, sibling and admin resources) — and report what answers and is
not documented: shadow endpoints, and zombies (older versions of documented
ones). Only GET is sent, only to the target's host (redirects are recorded, not
followed), at most --rate requests per second and --max-requests in all. A
soft-404 guard discards answers that look like the site's answer to a random
path. Only run it against APIs you are allowed to test. See docs/discover.md.`,
		Example: `  vigil discover --target http://127.0.0.1:8080 --spec openapi.yaml
  vigil discover --target https://api.example.test --header 'Authorization: Bearer TOKEN' --rate 5 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return usagef("--target is required")
			}
			cfg := discover.Config{Target: target, Concurrency: concurrency, Rate: rate, Timeout: timeout,
				MaxRequests: max, Verbose: verbose, Headers: http.Header{}}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok || strings.TrimSpace(k) == "" {
					return usagef("--header %q: want 'Name: value'", h)
				}
				cfg.Headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			set(cmd.Flags(), "spec", &a.cfg.Inventory.Specs, specs)
			set, err := a.loadSpecs()
			if err != nil {
				return err
			}
			if len(set.Ops()) > 0 {
				cfg.Spec = set
			}
			if concurrency < 1 || concurrency > discover.MaxConcurrency {
				return usagef("--concurrency must be between 1 and %d, got %d", discover.MaxConcurrency, concurrency)
			}
			if rate <= 0 || max < 1 || timeout <= 0 {
				return usagef("--rate, --max-requests and --timeout must be positive")
			}
			var progress func(done, total int)
			if isTerminal(a.err) && !jsonOut {
				progress = func(done, total int) { fmt.Fprintf(a.err, "\rdiscover %d/%d", done, total) }
			}
			rep, err := discover.Run(cmd.Context(), cfg, progress)
			if progress != nil {
				fmt.Fprintln(a.err)
			}
			if err != nil {
				return usageError{err}
			}
			if jsonOut {
				return writeJSON(a.out, rep)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLASS\tMETHOD\tPATH\tSTATUS\tTWIN\tREASON")
			for _, r := range rep.Found {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Class, r.Method, r.Path, r.Status, orDash(r.Twin), r.Reason)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "\n%d found; %d requests sent in %s (%d not found, %d errors)%s\n", len(rep.Found), rep.Sent,
				rep.Duration.Round(time.Millisecond), rep.NotFound, rep.Errors, map[bool]string{true: "; stopped early: partial report", false: ""}[rep.Stopped])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "base URL of the API (http:// or https://); the scope is its host (required)")
	f.StringSliceVar(&specs, "spec", nil, "OpenAPI 3.x or Swagger 2.0 file of the documented API; repeatable")
	f.Float64Var(&rate, "rate", discover.DefaultRate, "most requests per second")
	f.IntVar(&concurrency, "concurrency", discover.DefaultConcurrency, "most requests in flight")
	f.IntVar(&max, "max-requests", discover.DefaultMaxRequests, "hard cap on requests, soft-404 probes included")
	f.DurationVar(&timeout, "timeout", discover.DefaultTimeout, "per-request timeout")
	f.StringSliceVar(&headers, "header", nil, "'Name: value' sent with every request (an authenticated crawl); repeatable")
	f.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	f.BoolVar(&verbose, "verbose", false, "also list guesses that answered as documented operations")
	return cmd
}
