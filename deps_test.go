package vigil_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the import graph pointing one way: cmd → jobs →
// engines → the root package, which imports nothing of ours.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go command")
	}
	const mod = "github.com/vigilsec/vigil"
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	under := func(p, dir string) bool { return p == mod+"/"+dir || strings.HasPrefix(p, mod+"/"+dir+"/") }
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			if p.ImportPath == mod && strings.Contains(strings.Split(imp, "/")[0], ".") {
				t.Errorf("the root package imports %s: it must use the standard library only", imp)
			}
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			switch {
			case p.ImportPath == mod:
				t.Errorf("the root package imports %s: it must import nothing of ours", imp)
			case under(imp, "cmd") && !under(p.ImportPath, "cmd"):
				t.Errorf("%s imports %s: nothing imports cmd", p.ImportPath, imp)
			case under(imp, "web") && !under(p.ImportPath, "cmd") && !under(p.ImportPath, "web"):
				t.Errorf("%s imports %s: engines do not import web", p.ImportPath, imp)
			case under(p.ImportPath, "detect") && under(imp, "store"):
				t.Errorf("%s imports %s: detectors do not import the store", p.ImportPath, imp)
			}
		}
	}
}
