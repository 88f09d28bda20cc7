package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/store/sqlite"
)

// inventorySaveInterval is how often a running proxy saves the inventory.
const inventorySaveInterval = 10 * time.Second

// newInventory builds the engine's inventory: first-party hosts from the
// configuration and the proxy's upstream.
func (a *app) newInventory() *inventory.Inventory {
	first := append([]string(nil), a.cfg.Inventory.FirstParty...)
	if u, err := url.Parse(a.cfg.Proxy.Upstream); err == nil && u.Host != "" {
		first = append(first, u.Host)
	}
	return inventory.New(inventory.Config{FirstParty: first, MaxEndpoints: a.cfg.Inventory.MaxEndpoints})
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
