package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/config"
)

func newIncidentsCmd(a *app) *cobra.Command {
	var (
		store        string
		jsonOut, all bool
		d            = config.Default()
	)
	cmd := &cobra.Command{
		Use:   "incidents [ID]",
		Short: "List the incidents: one actor's findings tied together, with stages",
		Long: `An incident ties the findings of one actor — a principal, an address, or a
cluster of addresses one client rotates through — together over time, with the
attack stages it reached (recon, credential-access, exploitation,
exfiltration), a score, the attack areas, a timeline and the actions taken. The
proxy, vigil analyze and vigil demo build them (docs/incidents.md).

Without an ID it lists the incidents, most recently active first; with an ID it
prints that incident and its timeline. Incidents merged into another are left
out unless --all is given.`,
		Example: `  vigil incidents --store demo/vigil.db
  vigil incidents --json
  vigil incidents i3f0c2a9d41b7e655`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set(cmd.Flags(), "store", &a.cfg.Store.Path, store)
			if err := a.validate(); err != nil {
				return err
			}
			st, err := a.openExistingStore(cmd.Context(), "")
			if err != nil {
				return err
			}
			defer st.Close()
			incs, err := st.Incidents(cmd.Context())
			if err != nil {
				return err
			}
			if len(args) == 1 {
				for _, inc := range incs {
					if inc.ID == args[0] {
						if jsonOut {
							return writeJSON(a.out, inc)
						}
						return writeIncident(a.out, inc)
					}
				}
				return usagef("no incident with id %s in %s (see vigil incidents)", args[0], a.cfg.Store.Path)
			}
			if !all {
				incs = liveIncidents(incs)
			}
			if jsonOut {
				return writeJSON(a.out, incs)
			}
			return writeIncidents(a.out, incs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&store, "store", d.Store.Path, "the store holding the incidents")
	f.BoolVar(&jsonOut, "json", false, "print JSON")
	f.BoolVar(&all, "all", false, "include the incidents merged into another")
	return cmd
}

// liveIncidents leaves out the incidents merged into another.
func liveIncidents(incs []vigil.Incident) []vigil.Incident {
	out := incs[:0:0]
	for _, inc := range incs {
		if inc.MergedInto == "" {
			out = append(out, inc)
		}
	}
	return out
}

func stageNames(ss []vigil.Stage) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.String()
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, "→")
}

func areaNames(as []vigil.Area) string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = string(a)
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

// writeIncidents prints one line per incident.
func writeIncidents(w io.Writer, incs []vigil.Incident) error {
	if len(incs) == 0 {
		_, err := fmt.Fprintln(w, "no incidents")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSCORE\tSEVERITY\tSTAGES\tAREAS\tACTOR\tACTORS\tFINDINGS\tACTIONS\tFIRST SEEN\tLAST SEEN\tSTATE")
	for _, inc := range incs {
		state := "open"
		switch {
		case inc.MergedInto != "":
			state = "merged into " + inc.MergedInto
		case inc.Closed:
			state = "closed"
		}
		fmt.Fprintf(tw, "%s\t%g\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", inc.ID, inc.Score, inc.Severity, stageNames(inc.Stages),
			areaNames(inc.Areas), inc.ActorKey, len(inc.Actors), inc.Findings, len(inc.ActionIDs),
			inc.FirstSeen.UTC().Format(time.RFC3339), inc.LastSeen.UTC().Format(time.RFC3339), state)
	}
	return tw.Flush()
}

// writeIncident prints one incident with its actors and timeline.
func writeIncident(w io.Writer, inc vigil.Incident) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Incident %s: %s\n", inc.ID, inc.Title)
	fmt.Fprintf(&b, "  score %g, severity %s, stages %s, areas %s\n", inc.Score, inc.Severity, stageNames(inc.Stages), areaNames(inc.Areas))
	fmt.Fprintf(&b, "  %s to %s, %d findings", inc.FirstSeen.UTC().Format(time.RFC3339), inc.LastSeen.UTC().Format(time.RFC3339), inc.Findings)
	if len(inc.ActionIDs) > 0 {
		fmt.Fprintf(&b, ", actions %s", strings.Join(inc.ActionIDs, " "))
	}
	b.WriteString("\n  actors:\n")
	for _, a := range inc.Actors {
		fmt.Fprintf(&b, "    %s\n", strings.Join(a.Keys(), " "))
	}
	b.WriteString("  timeline:\n")
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for i, e := range inc.Timeline {
		if inc.TimelineDropped > 0 && i == len(inc.Timeline)/2 {
			fmt.Fprintf(tw, "    ...\t%d more\t\t\t\t\n", inc.TimelineDropped)
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("15:04:05.000"), e.Stage, e.Severity, e.Detector, e.Endpoint, e.Actor)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
