package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/vigilsec/vigil"
)

// InventoryDoc is one endpoint's profile in the learned inventory, as JSON
// (package inventory owns its shape; the store keeps it as is).
type InventoryDoc struct {
	Endpoint vigil.Endpoint
	Data     json.RawMessage
}

// maxInventoryDoc bounds one stored profile.
const maxInventoryDoc = 4 << 20

// SaveInventory replaces the stored inventory with docs, in one
// transaction: a reader sees the old inventory or the new one, never a mix.
// Endpoint names are redacted like the endpoints table's; documents must be
// valid JSON and at most 4 MiB each, or nothing is written.
func (s *Store) SaveInventory(ctx context.Context, docs []InventoryDoc) error {
	for _, d := range docs {
		if len(d.Data) > maxInventoryDoc || !json.Valid(d.Data) {
			return vigil.Errorf(vigil.EINVALID, "save inventory: profile of %s is not valid JSON of at most %d bytes", d.Endpoint, maxInventoryDoc)
		}
	}
	return s.inTx(ctx, "save inventory", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inventory`); err != nil {
			return err
		}
		put, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO inventory (host, method, template, data) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer put.Close()
		for _, d := range docs {
			e := s.redactEndpoint(d.Endpoint)
			if _, err := put.ExecContext(ctx, e.Host, e.Method, e.Template, []byte(d.Data)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Inventory returns the stored inventory, sorted by host, template and
// method.
func (s *Store) Inventory(ctx context.Context) ([]InventoryDoc, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT host, method, template, data FROM inventory ORDER BY host, template, method`)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	defer rows.Close()
	out := []InventoryDoc{}
	for rows.Next() {
		var d InventoryDoc
		var data []byte
		if err := rows.Scan(&d.Endpoint.Host, &d.Endpoint.Method, &d.Endpoint.Template, &data); err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
		d.Data = data
		out = append(out, d)
	}
	return out, rows.Err()
}
