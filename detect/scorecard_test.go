package detect

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
)

// Acceptance bars of the scorecard.
const (
	minRecall     = 0.95
	maxBenignRate = 0.005
)

func loadCorpus(t testing.TB) ([]vigil.Exchange, map[string][]string) {
	t.Helper()
	dir := filepath.Join("testdata", "corpus")
	xs := readJSONL[vigil.Exchange](t, filepath.Join(dir, "traffic.jsonl"))
	ls := readJSONL[label](t, filepath.Join(dir, "labels.jsonl"))
	want := make(map[string][]string, len(ls))
	for _, l := range ls {
		want[l.ID] = l.Detectors
	}
	if len(xs) != len(want) {
		t.Fatalf("corpus has %d exchanges and %d labels", len(xs), len(want))
	}
	return xs, want
}

func readJSONL[T any](t testing.TB, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open corpus: %v (regenerate with go test -run TestCorpusGenerate -update)", err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for n := 1; sc.Scan(); n++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type score struct{ tp, fp, fn, attacks int }

// TestScorecard runs every builtin detector on the labelled corpus and
// checks per-detector recall and the false-positive rate on benign traffic.
func TestScorecard(t *testing.T) {
	xs, want := loadCorpus(t)
	fs := BuiltinWith(Config{Headers: true}) // the optional headers detector is scored too
	as, err := New(fs)
	if err != nil {
		t.Fatal(err)
	}
	scores := make(map[string]*score, len(fs))
	for _, f := range fs {
		scores[f.ID] = &score{}
	}
	benign, benignHit := 0, 0
	ctx := context.Background()
	for i := range xs {
		x := &xs[i]
		fired := map[string]bool{}
		for _, a := range as {
			got, err := a.Analyze(ctx, x)
			if err != nil {
				t.Fatalf("%T on %s: %v", a, x.ID, err)
			}
			for _, f := range got {
				if _, ok := scores[f.Detector]; !ok {
					t.Errorf("finding from unknown detector %q", f.Detector)
				}
				checkFinding(t, f.Detector, x, f)
				fired[f.Detector] = true
			}
		}
		exp := want[x.ID]
		if len(exp) == 0 {
			benign++
			if len(fired) > 0 {
				benignHit++
				t.Logf("false positive on benign %s %s %s: %v", x.ID, x.Request.Method, x.Request.URL, keys(fired))
			}
		}
		for _, f := range fs {
			s := scores[f.ID]
			w, g := slices.Contains(exp, f.ID), fired[f.ID]
			if w {
				s.attacks++
			}
			switch {
			case w && g:
				s.tp++
			case w && !g:
				s.fn++
				t.Logf("missed %s on %s %s %s", f.ID, x.ID, x.Request.Method, x.Request.URL)
			case !w && g:
				s.fp++
				t.Logf("false positive %s on %s %s %s", f.ID, x.ID, x.Request.Method, x.Request.URL)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-28s %7s %5s %5s %5s %9s %7s\n", "detector", "attacks", "TP", "FP", "FN", "precision", "recall")
	for _, f := range fs {
		s := scores[f.ID]
		p, r := ratio(s.tp, s.tp+s.fp), ratio(s.tp, s.tp+s.fn)
		fmt.Fprintf(&b, "%-28s %7d %5d %5d %5d %9.3f %7.3f\n", f.ID, s.attacks, s.tp, s.fp, s.fn, p, r)
		if s.attacks < 40 {
			t.Errorf("%s: only %d attack exchanges in the corpus, want >= 40", f.ID, s.attacks)
		}
		if r < minRecall {
			t.Errorf("%s: recall %.3f < %.2f", f.ID, r, minRecall)
		}
	}
	rate := ratio(benignHit, benign)
	fmt.Fprintf(&b, "benign exchanges: %d, with any finding: %d, false-positive rate %.4f\n", benign, benignHit, rate)
	t.Log(b.String())
	if testing.Verbose() {
		fmt.Print(b.String())
	}
	if benign < 1000 {
		t.Errorf("only %d benign exchanges, want >= 1000", benign)
	}
	if rate > maxBenignRate {
		t.Errorf("false-positive rate on benign traffic %.4f > %.3f", rate, maxBenignRate)
	}
}

// checkFinding checks the fields every finding must fill, and that evidence
// never carries a raw secret.
func checkFinding(t *testing.T, id string, x *vigil.Exchange, f vigil.Finding) {
	t.Helper()
	switch {
	case f.Detector != id:
		t.Errorf("%s: finding from detector %q", id, f.Detector)
	case f.ExchangeID != x.ID || !f.Time.Equal(x.Time) || f.Title == "" || f.Category == "" || f.Area == "":
		t.Errorf("%s on %s: incomplete finding %+v", id, x.ID, f)
	case f.Confidence <= 0 || f.Confidence > 1:
		t.Errorf("%s: confidence %v", id, f.Confidence)
	case f.Endpoint.Host != x.Request.Host() || f.Endpoint.Method != x.Request.Method || f.Endpoint.Template == "":
		t.Errorf("%s: endpoint %+v", id, f.Endpoint)
	case len(f.Evidence) == 0 || len(f.Evidence) > maxEvidence:
		t.Errorf("%s: %d evidence items", id, len(f.Evidence))
	}
	for _, e := range f.Evidence {
		if e.Where == "" || e.Why == "" || len([]rune(e.Value)) > maxEvidenceValue {
			t.Errorf("%s: evidence %+v", id, e)
		}
		if strings.Contains(e.Value, "eyJ") || strings.Contains(e.Value, "PRIVATE KEY\n") || strings.Contains(e.Value, "Passw0rd") {
			t.Errorf("%s: evidence leaks a secret: %q", id, e.Value)
		}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
