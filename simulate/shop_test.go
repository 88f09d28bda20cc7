package simulate

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/simulate/shop"
)

func TestRunAgainstShop(t *testing.T) {
	s, err := shop.Start(t.Context(), shop.Options{Logger: slog.New(slog.DiscardHandler), Seed: 1})
	if err != nil {
		t.Fatalf("shop.Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ssrf := s.MetadataURL()
	if !strings.Contains(ssrf, "/latest/") {
		ssrf = strings.TrimRight(ssrf, "/") + "/latest/meta-data/iam/security-credentials/"
	}
	var truth bytes.Buffer
	sum, err := Run(t.Context(), Config{
		Target: s.URL(), Rate: 60, Duration: 8 * time.Second, Seed: 7, Users: 40,
		SSRFTarget: ssrf, Truth: &truth,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertCampaignsWork(t, sum, readTruth(t, truth.Bytes()), shopGoals)
}
