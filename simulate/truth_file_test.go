package simulate

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func TestReadTruthFile(t *testing.T) {
	dir := t.TempDir()
	const lines = `{"seq":1,"time":"2026-11-29T06:00:00Z","campaign":"benign","actor":"a","addr":"10.0.0.1","method":"GET","path":"/","template":"/","status":200}
{"seq":2,"time":"2026-11-29T06:00:01Z","campaign":"shadow","actor":"b","addr":"10.0.0.2","method":"GET","path":"/.env","template":"/.env","status":404}
`
	plain := filepath.Join(dir, "t.jsonl")
	if err := os.WriteFile(plain, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	zipped := filepath.Join(dir, "t.jsonl.gz")
	f, err := os.Create(zipped)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write([]byte(lines))
	zw.Close()
	f.Close()
	for _, p := range []string{plain, zipped} {
		got, err := ReadTruthFile(p)
		if err != nil || len(got) != 2 || got[1].Campaign != "shadow" || got[1].Addr != "10.0.0.2" {
			t.Errorf("%s: %+v, %v", p, got, err)
		}
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{not json\n"), 0o600)
	if _, err := ReadTruthFile(bad); err == nil {
		t.Error("a malformed line read without error")
	}
	if _, err := ReadTruthFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file read without error")
	}
}
