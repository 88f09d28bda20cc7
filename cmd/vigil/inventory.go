package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v4"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/identity"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/spec"
)

// inventoryFlags are shared by vigil inventory and its subcommands.
type inventoryFlags struct {
	from       []string
	specs      []string
	store      string
	firstParty []string
	jsonOut    bool
	all        bool
}

func (f *inventoryFlags) register(cmd *cobra.Command, d config.Config, withSpec, withJSON bool) {
	fs := cmd.Flags()
	fs.StringSliceVar(&f.from, "from", nil, `build the inventory from traffic files (HAR or Vigil JSON lines, gzip accepted, "-" for standard input) instead of the store; repeatable`)
	if withSpec {
		fs.StringSliceVar(&f.specs, "spec", nil, "OpenAPI 3.x or Swagger 2.0 file to hold the inventory against (default: inventory.specs); repeatable")
	}
	fs.StringVar(&f.store, "store", d.Store.Path, "store to read the inventory from (without --from)")
	fs.StringSliceVar(&f.firstParty, "first-party", nil, "a host that is the team's own (default: inventory.first_party and the specs' hosts; with neither, every host); repeatable")
	if withJSON {
		fs.BoolVar(&f.jsonOut, "json", false, "print JSON instead of a table")
	}
}

func newInventoryCmd(a *app) *cobra.Command {
	var f inventoryFlags
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Show the API inventory learned from traffic, held against the OpenAPI spec",
		Long: `Show every endpoint Vigil has seen: method, host, path template, requests,
statuses, authentication, party, and — with --spec — its class against the
spec: documented, drift (parameters, fields, statuses, media types, missing
auth or sensitive data the spec does not declare), shadow (answering, not in
the spec), zombie (deprecated, or an older version of a documented endpoint,
still answering), orphan (documented, never seen) or third-party.

The inventory comes from the store that vigil proxy, analyze and demo keep up
to date, or, with --from, from traffic files read on the spot (nothing is
written). Endpoints that only ever answered 404/405 (typos, a scanner's
guesses) are left out unless --all; the recon detector reports who probed
them. See docs/inventory.md.`,
		Example: `  vigil inventory --from traffic.har --spec openapi.yaml
  vigil inventory --store vigil.db --spec openapi.yaml --json
  vigil inventory export --openapi --from traffic.jsonl.gz -o observed.yaml
  vigil inventory diff --spec openapi.yaml --from traffic.har
  vigil inventory diff --spec v2.yaml --against v1.yaml
  vigil inventory flows --from traffic.jsonl.gz --spec openapi.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := a.classify(cmd.Context(), cmd, &f)
			if err != nil {
				return err
			}
			if !f.all {
				entries = slices.DeleteFunc(entries, func(e inventory.Entry) bool { return e.Class == inventory.Unanswered })
			}
			if f.jsonOut {
				return writeJSON(a.out, entries)
			}
			return writeEntries(a.out, entries, len(f.specs) > 0)
		},
	}
	f.register(cmd, d, true, true)
	cmd.Flags().BoolVar(&f.all, "all", false, "also list endpoints that only answered 404/405")
	cmd.AddCommand(newInventoryExportCmd(a), newInventoryDiffCmd(a), newInventoryFlowsCmd(a))
	return cmd
}

func newInventoryExportCmd(a *app) *cobra.Command {
	var (
		f          inventoryFlags
		openapi    bool
		out, title string
		thirdParty bool
	)
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "export --openapi",
		Short: "Write what traffic shows as an OpenAPI 3.1 document",
		Long: `Write the inventory as an OpenAPI 3.1 document: every endpoint seen answering,
with its path parameters, the query, header and cookie parameters seen,
request and response bodies inferred from sampled traffic, the statuses seen
and the authentication used. What was observed (requests, first and last
seen, party, sensitive data classes) is in x-vigil-* extensions. The document
is validated before it is written. YAML unless the output file ends in .json.`,
		Example: `  vigil inventory export --openapi --from traffic.har -o observed.yaml
  vigil inventory export --openapi --store vigil.db -o observed.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !openapi {
				return usagef("say which format: --openapi (the only one so far)")
			}
			ps, err := a.inventoryProfiles(cmd.Context(), cmd, &f, nil)
			if err != nil {
				return err
			}
			doc, err := inventory.Export(ps, inventory.ExportOptions{Title: title, ThirdParty: thirdParty})
			if err != nil {
				return err
			}
			var b []byte
			if strings.HasSuffix(out, ".json") {
				b, err = doc.MarshalJSON()
			} else {
				var v any
				if v, err = doc.MarshalYAML(); err == nil {
					b, err = yaml.Marshal(v)
				}
			}
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if out == "" || out == "-" {
				_, err = a.out.Write(b)
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return usageError{err}
			}
			fmt.Fprintf(a.err, "wrote %d operations to %s\n", countOps(doc.Paths.Map()), out)
			return nil
		},
	}
	f.register(cmd, d, false, false)
	fs := cmd.Flags()
	fs.BoolVar(&openapi, "openapi", false, "write OpenAPI 3.1 (required)")
	fs.StringVarP(&out, "output", "o", "", `file to write ("-" or empty: standard output); .json writes JSON, else YAML`)
	fs.StringVar(&title, "title", "", "info.title of the document")
	fs.BoolVar(&thirdParty, "third-party", false, "include third-party hosts' endpoints")
	return cmd
}

func newInventoryDiffCmd(a *app) *cobra.Command {
	var (
		f       inventoryFlags
		against string
	)
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "diff --spec FILE",
		Short: "Print where traffic and the spec differ, or what changed between two specs",
		Long: `Without --against: hold the inventory against --spec and print only the
endpoints that differ from it: shadow, zombie, drift, orphan and third-party.

With --against OLD: compare the spec OLD with --spec (the new one): removed
operations, added ones, new deprecations and breaking changes (a required
parameter or field added, a parameter, status or media type removed, auth
newly required). Then, if traffic is at hand (--from, or a store that
exists), removed operations still answering in traffic are reported: clients
still call what the new spec drops.`,
		Example: `  vigil inventory diff --spec openapi.yaml --from traffic.har
  vigil inventory diff --spec openapi.yaml --json
  vigil inventory diff --spec v2.yaml --against v1.yaml --from traffic.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(f.specs) == 0 && len(a.cfg.Inventory.Specs) == 0 {
				return usagef("diff needs --spec FILE (or inventory.specs in --config)")
			}
			if against != "" {
				return a.specDiff(cmd, &f, against)
			}
			entries, err := a.classify(cmd.Context(), cmd, &f)
			if err != nil {
				return err
			}
			entries = slices.DeleteFunc(entries, func(e inventory.Entry) bool {
				return e.Class == inventory.Documented || e.Class == inventory.Unanswered
			})
			if f.jsonOut {
				return writeJSON(a.out, entries)
			}
			if len(entries) == 0 {
				fmt.Fprintln(a.out, "traffic and spec agree")
				return nil
			}
			return writeEntries(a.out, entries, true)
		},
	}
	f.register(cmd, d, true, true)
	cmd.Flags().StringVar(&against, "against", "", "an older spec to compare --spec with")
	return cmd
}

// classify loads the inventory and the specs and classifies.
func (a *app) classify(ctx context.Context, cmd *cobra.Command, f *inventoryFlags) ([]inventory.Entry, error) {
	set, err := a.specSet(cmd, f)
	if err != nil {
		return nil, err
	}
	ps, err := a.inventoryProfiles(ctx, cmd, f, set)
	if err != nil {
		return nil, err
	}
	return inventory.Classify(ps, set), nil
}

// specSet loads --spec (or inventory.specs).
func (a *app) specSet(cmd *cobra.Command, f *inventoryFlags) (*spec.Set, error) {
	set(cmd.Flags(), "spec", &a.cfg.Inventory.Specs, f.specs)
	f.specs = a.cfg.Inventory.Specs
	return a.loadSpecs()
}

// inventoryProfiles builds the inventory from --from files or reads the
// store's.
func (a *app) inventoryProfiles(ctx context.Context, cmd *cobra.Command, f *inventoryFlags, specs *spec.Set) ([]*inventory.Profile, error) {
	fs := cmd.Flags()
	set(fs, "store", &a.cfg.Store.Path, f.store)
	set(fs, "first-party", &a.cfg.Inventory.FirstParty, f.firstParty)
	if err := a.validate(); err != nil {
		return nil, err
	}
	if specs == nil {
		specs = spec.NewSet()
	}
	inv := a.newInventory(specs)
	if len(f.from) == 0 {
		st, err := a.openExistingStore(ctx, "read traffic with --from, or run vigil proxy, analyze or demo first")
		if err != nil {
			return nil, err
		}
		defer st.Close()
		if err := loadInventory(ctx, st, inv, a.logger); err != nil {
			return nil, err
		}
		return inv.Profiles(), nil
	}
	res, err := a.resolver()
	if err != nil {
		return nil, err
	}
	for _, file := range f.from {
		if err := a.readInventory(file, inv, res); err != nil {
			return nil, err
		}
	}
	return inv.Profiles(), nil
}

// readInventory feeds one traffic file to inv; malformed records are counted
// and skipped, as vigil analyze does.
func (a *app) readInventory(file string, inv *inventory.Inventory, res *identity.Resolver) error {
	st := readStats{reasons: map[string]int{}}
	err := a.eachExchange(file, res, &st, func(x *vigil.Exchange) error {
		inv.Observe(x)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.err, "%s: read %d exchanges, skipped %d\n", file, st.read, st.skipped)
	return nil
}

// specDiff compares two specs, then checks removed operations against
// traffic when there is some.
func (a *app) specDiff(cmd *cobra.Command, f *inventoryFlags, against string) error {
	set(cmd.Flags(), "spec", &a.cfg.Inventory.Specs, f.specs)
	if len(a.cfg.Inventory.Specs) != 1 {
		return usagef("--against compares one --spec with one older spec, got %d --spec", len(a.cfg.Inventory.Specs))
	}
	newSpec, err := spec.Load(a.cfg.Inventory.Specs[0])
	if err != nil {
		return usageError{fmt.Errorf("spec %s: %w", a.cfg.Inventory.Specs[0], err)}
	}
	oldSpec, err := spec.Load(against)
	if err != nil {
		return usageError{fmt.Errorf("spec %s: %w", against, err)}
	}
	changes := spec.Compare(oldSpec, newSpec)
	type stillServed struct {
		Method, Path string
		Count        int64
	}
	var served []stillServed
	haveTraffic := len(f.from) > 0
	if !haveTraffic {
		if _, err := os.Stat(f.store); err == nil && cmd.Flags().Changed("store") {
			haveTraffic = true
		}
	}
	if haveTraffic {
		ps, err := a.inventoryProfiles(cmd.Context(), cmd, f, spec.NewSet(oldSpec, newSpec))
		if err != nil {
			return err
		}
		oldSet, newSet := spec.NewSet(oldSpec), spec.NewSet(newSpec)
		for _, p := range ps {
			if p.Count == 0 || newSet.Match(p.Host, p.Method, p.Template) != nil {
				continue
			}
			if op := oldSet.Match(p.Host, p.Method, p.Template); op != nil {
				served = append(served, stillServed{op.Method, op.Path, p.Count})
			}
		}
	}
	if f.jsonOut {
		return writeJSON(a.out, map[string]any{"changes": changes, "removed_but_served": served})
	}
	if len(changes) == 0 {
		fmt.Fprintln(a.out, "no changes between the specs")
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	if len(changes) > 0 {
		fmt.Fprintln(tw, "CHANGE\tMETHOD\tPATH\tDETAIL")
		for _, c := range changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Kind, c.Method, c.Path, c.Detail)
		}
	}
	if len(served) > 0 {
		fmt.Fprintln(tw, "\nREMOVED BUT STILL SERVED\tMETHOD\tPATH\tREQUESTS")
		for _, s := range served {
			fmt.Fprintf(tw, "\t%s\t%s\t%d\n", s.Method, s.Path, s.Count)
		}
	}
	return tw.Flush()
}

// writeEntries prints the classification as a table.
func writeEntries(w io.Writer, es []inventory.Entry, withSpec bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tMETHOD\tHOST\tTEMPLATE\tREQUESTS\tPARTY\tNOTES")
	counts := map[inventory.Class]int{}
	for _, e := range es {
		counts[e.Class]++
		note := strings.Join(e.Reasons, "; ")
		if e.SpecOp != "" && e.Class != inventory.Documented && e.Class != inventory.Orphan {
			note = "spec: " + e.SpecOp + "; " + note
		}
		if len(note) > 160 {
			note = note[:157] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Class, e.Method, orDash(e.Host), e.Template, strconv.FormatInt(e.Count, 10), orDash(e.Party), note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, c := range []inventory.Class{inventory.Documented, inventory.Drift, inventory.Shadow, inventory.Zombie, inventory.Orphan, inventory.ThirdParty, inventory.Unanswered} {
		if counts[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[c], c))
		}
	}
	summary := strings.Join(parts, ", ")
	if !withSpec {
		summary += " (no spec given: every first-party endpoint counts as shadow; pass --spec)"
	}
	_, err := fmt.Fprintf(w, "\n%d endpoints: %s\n", len(es), summary)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func countOps(paths map[string]*openapi3.PathItem) int {
	n := 0
	for _, p := range paths {
		n += len(p.Operations())
	}
	return n
}
