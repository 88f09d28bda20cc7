package detect_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// writeOrCheckCorpus is the last step of a corpus generator: with update it
// writes traffic.jsonl and labels.jsonl into dir; without, it checks that the
// files there are what the generator produced, so that a checked-in corpus
// cannot drift from its generator. rerun is the command that rewrites them.
func writeOrCheckCorpus(t *testing.T, dir string, update bool, rerun string, traffic, labels []byte) {
	t.Helper()
	files := []struct {
		name string
		want []byte
	}{{"traffic.jsonl", traffic}, {"labels.jsonl", labels}}
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f.name), f.want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatalf("%v (run %s)", err, rerun)
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("%s differs from what its generator produces; run %s", filepath.Join(dir, f.name), rerun)
		}
	}
}
