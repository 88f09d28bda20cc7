package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/recon"
	"github.com/vigilsec/vigil/inventory/spec"
	"github.com/vigilsec/vigil/store/sqlite"
)

// inventorySaveInterval is how often a running proxy saves the inventory.
const inventorySaveInterval = 10 * time.Second

// newInventory builds the engine's inventory: first-party hosts from the
// configuration, the proxy's upstream and the specs' servers.
func (a *app) newInventory(specs *spec.Set) *inventory.Inventory {
	first := append([]string(nil), a.cfg.Inventory.FirstParty...)
	if u, err := url.Parse(a.cfg.Proxy.Upstream); err == nil && u.Host != "" {
		first = append(first, u.Host)
	}
	first = append(first, specs.Hosts()...)
	return inventory.New(inventory.Config{FirstParty: first, MaxEndpoints: a.cfg.Inventory.MaxEndpoints})
}

// loadSpecs reads inventory.specs; a spec that cannot be read is a usage
// error naming the file.
func (a *app) loadSpecs() (*spec.Set, error) {
	var specs []*spec.Spec
	for _, path := range a.cfg.Inventory.Specs {
		s, err := spec.Load(path)
		if err != nil {
			return nil, usageError{fmt.Errorf("spec %s: %w", path, err)}
		}
		specs = append(specs, s)
	}
	return spec.NewSet(specs...), nil
}

// newRecon builds the reconnaissance detector; with specs, a documented
// endpoint is never counted as probing.
func (a *app) newRecon(specs *spec.Set) *recon.Detector {
	cfg := recon.Config{
		Window:     a.cfg.Inventory.Recon.Window,
		ProbeBurst: a.cfg.Inventory.Recon.ProbeBurst,
		MaxActors:  a.cfg.Inventory.Recon.MaxActors,
	}
	if len(specs.Ops()) > 0 {
		cfg.Known = func(host, method, path string) bool { return specs.MatchAlias(host, method, path) != nil }
	}
	return recon.New(cfg)
}

// loadInventory adds the stored inventory to inv. A profile that does not
// decode is skipped and logged: it will be rebuilt from traffic.
func loadInventory(ctx context.Context, st *sqlite.Store, inv *inventory.Inventory, log *slog.Logger) error {
	docs, err := st.Inventory(ctx)
	if err != nil {
		return err
	}
	ps := make([]*inventory.Profile, 0, len(docs))
	for _, d := range docs {
		p := new(inventory.Profile)
		if err := json.Unmarshal(d.Data, p); err != nil {
			log.Warn("stored inventory profile skipped", "endpoint", d.Endpoint.String(), "err", err)
			continue
		}
		p.Endpoint = d.Endpoint
		ps = append(ps, p)
	}
	inv.Load(ps)
	return nil
}

// saveInventory replaces the stored inventory with inv's profiles.
func saveInventory(ctx context.Context, st *sqlite.Store, inv *inventory.Inventory) error {
	ps := inv.Profiles()
	docs := make([]sqlite.InventoryDoc, 0, len(ps))
	for _, p := range ps {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("inventory profile %s: %w", p.Endpoint, err)
		}
		docs = append(docs, sqlite.InventoryDoc{Endpoint: p.Endpoint, Data: b})
	}
	return st.SaveInventory(ctx, docs)
}

// keepInventory saves the inventory every interval until ctx ends.
func keepInventory(ctx context.Context, eng *engine, log *slog.Logger) error {
	t := time.NewTicker(inventorySaveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := saveInventory(ctx, eng.store, eng.inv); err != nil && ctx.Err() == nil {
				log.Warn("save inventory", "err", err)
			}
		}
	}
}
