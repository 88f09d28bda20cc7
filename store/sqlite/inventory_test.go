package sqlite

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil"
)

func TestInventoryDocs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	a := vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/api/v2/orders/{id}"}
	b := vigil.Endpoint{Host: "shop.test", Method: "POST", Template: "/api/v2/auth/login"}
	if err := s.SaveInventory(t.Context(), []InventoryDoc{{a, json.RawMessage(`{"count":3}`)}, {b, json.RawMessage(`{"count":1}`)}}); err != nil {
		t.Fatal(err)
	}
	// A bad document writes nothing: the stored inventory stays whole.
	err = s.SaveInventory(t.Context(), []InventoryDoc{{a, json.RawMessage(`{"count":4}`)}, {b, json.RawMessage(`{broken`)}})
	if vigil.ErrorCode(err) != vigil.EINVALID {
		t.Fatalf("bad document: %v, want EINVALID", err)
	}
	// Replacing drops what is no longer there.
	if err := s.SaveInventory(t.Context(), []InventoryDoc{{a, json.RawMessage(`{"count":5}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	docs, err := s.Inventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Endpoint != a || string(docs[0].Data) != `{"count":5}` {
		t.Errorf("after reopening: %+v", docs)
	}
}
