package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/store/sqlite"
)

func newActionsCmd(a *app) *cobra.Command {
	var store string
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "actions",
		Short: "List, add and lift the actions enforced against actors",
		Long: `Actions are decisions against one actor key — block, rate-limit, tarpit, or
monitor (recorded, not enforced) — until a time. The response policy adds them
from findings; a running vigil proxy enforces those in its store within a
second, including the ones added or removed here. See docs/respond.md.`,
		Args: noArgs,
	}
	cmd.PersistentFlags().StringVar(&store, "store", d.Store.Path, "the store holding the actions")
	open := func(cmd *cobra.Command) (*sqlite.Store, error) {
		set(cmd.Flags(), "store", &a.cfg.Store.Path, store)
		if err := a.validate(); err != nil {
			return nil, err
		}
		return a.openExistingStore(cmd.Context(), "")
	}

	var all, jsonOut bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the actions in force (all of them with --all)",
		Example: `  vigil actions list
  vigil actions list --all --json --store demo/vigil.db`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			at := time.Now()
			if all {
				at = time.Time{}
			}
			acts, err := st.Actions(cmd.Context(), at)
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(a.out, acts)
			}
			return writeActions(a, acts)
		},
	}
	list.Flags().BoolVar(&all, "all", false, "include expired actions")
	list.Flags().BoolVar(&jsonOut, "json", false, "print JSON")

	var (
		key, kind, reason string
		ttl               time.Duration
		rate              float64
		delay             time.Duration
	)
	add := &cobra.Command{
		Use:   "add --key KEY --kind KIND",
		Short: "Add an action by hand",
		Example: `  vigil actions add --key addr:203.0.113.9 --kind block --ttl 1h --reason "credential stuffing, ticket 4711"
  vigil actions add --key principal:jwt:42 --kind rate-limit --rate 0.5 --ttl 30m`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := vigil.ParseActionKind(kind)
			if err != nil {
				return usageError{err}
			}
			if err := checkActorKey(key); err != nil {
				return err
			}
			if ttl <= 0 || ttl > 365*24*time.Hour {
				return usagef("--ttl must be between 1s and 8760h, got %v", ttl)
			}
			if k == vigil.ActionRateLimit && rate <= 0 {
				return usagef("--rate must be positive for rate-limit")
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			now := time.Now().UTC()
			act := vigil.Action{ID: newActionID(), Kind: k, Key: key, Created: now, Until: now.Add(ttl),
				Reason: reason, Source: "cli", Rate: rate, Delay: delay}
			if act.Reason == "" {
				act.Reason = "added by hand"
			}
			if err := st.PutAction(cmd.Context(), act); err != nil {
				return err
			}
			fmt.Fprintln(a.out, act.ID)
			return nil
		},
	}
	af := add.Flags()
	af.StringVar(&key, "key", "", `actor key: "principal:<principal>", "addr:<ip>" or "fingerprint:<fp>" (required)`)
	af.StringVar(&kind, "kind", "", "block, rate-limit, tarpit, decoy or monitor (required)")
	af.DurationVar(&ttl, "ttl", time.Hour, "how long the action lasts")
	af.StringVar(&reason, "reason", "", "why, for the record")
	af.Float64Var(&rate, "rate", 1, "requests per second allowed (rate-limit)")
	af.DurationVar(&delay, "delay", 2*time.Second, "added latency (tarpit)")

	remove := &cobra.Command{
		Use:     "remove ID...",
		Short:   "Lift actions by id",
		Example: `  vigil actions remove a3f9c2e1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("remove needs at least one action id (see vigil actions list)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			return removeActions(cmd.Context(), st, args, a)
		},
	}
	cmd.AddCommand(list, add, remove)
	return cmd
}

func removeActions(ctx context.Context, st *sqlite.Store, ids []string, a *app) error {
	var missing []string
	for _, id := range ids {
		if err := st.DeleteAction(ctx, id); err != nil {
			if vigil.ErrorCode(err) == vigil.ENOTFOUND {
				missing = append(missing, id)
				continue
			}
			return err
		}
		fmt.Fprintf(a.out, "removed %s\n", id)
	}
	if len(missing) > 0 {
		return usagef("no action with id %s", strings.Join(missing, ", "))
	}
	return nil
}

// checkActorKey accepts "principal:…", "addr:…" and "fingerprint:…".
func checkActorKey(key string) error {
	kind, v, ok := strings.Cut(key, ":")
	if ok && v != "" {
		switch vigil.KeyKind(kind) {
		case vigil.KeyPrincipal, vigil.KeyAddr, vigil.KeyFingerprint:
			return nil
		}
	}
	return usagef(`--key must be "principal:<principal>", "addr:<ip>" or "fingerprint:<fp>", got %q`, key)
}

func newActionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "a" + hex.EncodeToString(b[:])
}

func writeActions(a *app, acts []vigil.Action) error {
	if len(acts) == 0 {
		fmt.Fprintln(a.out, "no actions")
		return nil
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tKEY\tUNTIL\tREASON")
	for _, act := range acts {
		reason := act.Reason
		if len(reason) > 80 {
			reason = reason[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", act.ID, act.Kind, act.Key, act.Until.Local().Format(time.DateTime), reason)
	}
	return tw.Flush()
}
