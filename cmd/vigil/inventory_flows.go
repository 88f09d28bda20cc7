package main

import (
	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/behavior/flowsuggest"
	"github.com/vigilsec/vigil/config"
)

func newInventoryFlowsCmd(a *app) *cobra.Command {
	var f inventoryFlags
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "flows",
		Short: "Suggest business flows (behavior.flows) from the endpoints traffic showed",
		Long: `Print a behavior.flows block to paste into the config file, recognised in the
inventory by path words and methods: sign-up (register → verify), login
(login → one-time code), one-time codes (send → verify), password reset
(request → confirm), checkout (cart → quote → pay → confirm), coupon
(cart → apply) and gift card (cart or balance → redeem). Only endpoints that
traffic showed answering are used; with --spec, only documented ones. A
comment above each flow says why it was suggested and what the step marked
needs_success catches; flows half seen are listed as comments at the end.

Review the suggestion before use: declaring flows replaces the built-in
checkout flow. See docs/behavior.md.`,
		Example: `  vigil inventory flows --from traffic.jsonl.gz
  vigil inventory flows --store vigil.db --spec openapi.yaml >> vigil.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := a.specSet(cmd, &f)
			if err != nil {
				return err
			}
			ps, err := a.inventoryProfiles(cmd.Context(), cmd, &f, specs)
			if err != nil {
				return err
			}
			return flowsuggest.Write(a.out, flowsuggest.Suggest(ps, flowsuggest.Options{Specs: specs}))
		},
	}
	f.register(cmd, d, true, false)
	return cmd
}
