package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/store/sqlite"
	"github.com/vigilsec/vigil/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) vigil.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vigil.db"), sqlite.WithSamplesPerEndpoint(storetest.SamplesPerEndpoint))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
