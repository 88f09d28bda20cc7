package main

import (
	"context"
	"fmt"
	"golang.org/x/term"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/simulate"
	"github.com/vigilsec/vigil/store/sqlite"
)

// campaignNames are the simulator's campaigns, one per attack area.
var campaignNames = []string{"business-logic", "chained", "shadow", "automation"}

type simFlags struct {
	target, truth, store, ssrfTarget string
	campaigns                        []string
	rate                             float64
	duration                         time.Duration
	seed                             int64
	users                            int
	evaluate, jsonOut                bool
}

func newSimulateCmd(a *app) *cobra.Command {
	var sf simFlags
	cmd := &cobra.Command{
		Use:   "simulate --target URL | --evaluate",
		Short: "Run attack campaigns and benign load against a target, or score a run",
		Long: `Run realistic attack campaigns hidden in benign load against a target (the demo
shop, usually behind vigil proxy), and write the labelled truth — which request
belongs to which campaign — as JSON lines. The run is seeded and reproducible
and stops by itself after --duration. Campaigns (one per attack area):
business-logic, chained, shadow, automation. See docs/simulate.md.

With --evaluate, compare a truth file with what Vigil recorded in a store and
print the scorecard: per campaign and attack area, detected or not, time to first
detection, requests until blocked, and false positives on benign traffic.`,
		Example: `  vigil simulate --target http://127.0.0.1:8080 --duration 60s --seed 7 --truth truth.jsonl
  vigil simulate --evaluate --truth truth.jsonl --store vigil.db
  vigil simulate --evaluate --truth truth.jsonl --store vigil.db --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if sf.evaluate {
				return a.evaluate(cmd.Context(), sf)
			}
			if sf.target == "" {
				return usagef("--target is required (or --evaluate)")
			}
			if err := checkCampaigns(sf.campaigns); err != nil {
				return err
			}
			if sf.duration <= 0 || sf.duration > 24*time.Hour {
				return usagef("--duration must be between 1s and 24h, got %v", sf.duration)
			}
			if sf.rate <= 0 || sf.rate > 10000 {
				return usagef("--rate must be between 0 and 10000 requests/s, got %v", sf.rate)
			}
			out, closeFn, err := a.createOutput(sf.truth)
			if err != nil {
				return err
			}
			defer closeFn()
			sum, err := simulate.Run(cmd.Context(), simulate.Config{
				Target: sf.target, Campaigns: sf.campaigns, Rate: sf.rate, Duration: sf.duration,
				Seed: sf.seed, Users: sf.users, SSRFTarget: sf.ssrfTarget,
				Truth: out, Progress: a.err, ProgressTTY: isTerminal(a.err),
				Logger: a.logger.With("component", "simulate"),
			})
			if err != nil {
				return err
			}
			if sf.jsonOut {
				if err := writeJSON(a.out, sum); err != nil {
					return err
				}
			} else {
				writeSummary(a.err, sum)
			}
			if sf.truth != "-" {
				fmt.Fprintf(a.err, "truth written to %s\n", sf.truth)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&sf.target, "target", "", "base URL to attack (loopback only in tests; e.g. the proxy in front of the demo shop)")
	f.StringSliceVar(&sf.campaigns, "campaigns", campaignNames, "campaigns to run: "+strings.Join(campaignNames, ", "))
	f.Float64Var(&sf.rate, "rate", 20, "benign requests per second before the peak surge")
	f.DurationVar(&sf.duration, "duration", 60*time.Second, "how long to run")
	f.Int64Var(&sf.seed, "seed", 1, "random seed: the same seed gives the same labelled truth")
	f.IntVar(&sf.users, "users", 200, "benign users")
	f.StringVar(&sf.ssrfTarget, "ssrf-target", "", "URL the SSRF step asks the target to fetch (default: the target's own /internal/debug)")
	f.StringVar(&sf.truth, "truth", "truth.jsonl", `labelled truth file (JSON lines; "-" for standard output)`)
	f.BoolVar(&sf.evaluate, "evaluate", false, "score a truth file against a store instead of running")
	f.StringVar(&sf.store, "store", "vigil.db", "with --evaluate: the store Vigil recorded into")
	f.BoolVar(&sf.jsonOut, "json", false, "print the run summary, or with --evaluate the scorecard, as JSON")
	return cmd
}

func checkCampaigns(cs []string) error {
	for _, c := range cs {
		ok := false
		for _, n := range campaignNames {
			ok = ok || c == n
		}
		if !ok {
			return usagef("--campaigns: unknown campaign %q (want %s)", c, strings.Join(campaignNames, ", "))
		}
	}
	return nil
}

// evaluate prints the scorecard of a truth file against a store.
func (a *app) evaluate(ctx context.Context, sf simFlags) error {
	f, err := os.Open(sf.truth)
	if err != nil {
		return usagef("--truth: %v", err)
	}
	defer f.Close()
	if _, err := os.Stat(sf.store); err != nil {
		return usagef("--store: %v", err)
	}
	st, err := sqlite.Open(ctx, sf.store)
	if err != nil {
		return fmt.Errorf("open store %s: %w", sf.store, err)
	}
	defer st.Close()
	card, err := simulate.Evaluate(ctx, f, st)
	if err != nil {
		return err
	}
	if sf.jsonOut {
		return writeJSON(a.out, card)
	}
	return card.WriteText(a.out)
}

// writeSummary prints a run's counts: one line for the run, one per campaign,
// and the attack goals reached.
func writeSummary(w io.Writer, s simulate.Summary) {
	fmt.Fprintf(w, "sent %d requests in %s: %d transport errors, %d 5xx, %d blocked by Vigil, %d unsent (behind schedule)\n",
		s.Requests, s.Duration.Round(time.Second), s.Errors, s.ServerErrors, s.Blocked, s.Unsent)
	for _, name := range slices.Sorted(maps.Keys(s.Campaigns)) {
		c := s.Campaigns[name]
		fmt.Fprintf(w, "  %-15s %6d requests  %4d errors  %4d 5xx  %4d blocked\n", name, c.Requests, c.Errors, c.ServerErrors, c.Blocked)
	}
	if len(s.Achieved) > 0 {
		fmt.Fprintf(w, "attack goals reached: %s\n", strings.Join(s.Achieved, ", "))
	} else {
		fmt.Fprintln(w, "attack goals reached: none")
	}
}

// isTerminal reports whether w is a character device (a terminal), where a
// progress line can be rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
