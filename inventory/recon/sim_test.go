package recon

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/sensor/ingest"
	"github.com/vigilsec/vigil/simulate"
)

const (
	simTraffic = "../../testdata/sim/seed7-30s.traffic.jsonl.gz"
	simTruth   = "../../testdata/sim/seed7-30s.truth.jsonl.gz"
	shopSpec   = "../../simulate/shop/openapi.yaml"
)

// specKnown reads the documented operations of an OpenAPI file the simple
// way (path keys at two spaces, methods at four) and matches request paths
// through inventory.Template, a documented {param} matching any segment.
func specKnown(t testing.TB, file string) func(host, method, path string) bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pathRe := regexp.MustCompile(`^  (/\S*):\s*$`)
	methodRe := regexp.MustCompile(`^    (get|put|post|delete|patch|head|options):`)
	ops := map[string][][]string{} // method → documented templates, split
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := pathRe.FindStringSubmatch(sc.Text()); m != nil {
			cur = m[1]
		} else if m := methodRe.FindStringSubmatch(sc.Text()); m != nil && cur != "" {
			method := strings.ToUpper(m[1])
			ops[method] = append(ops[method], strings.Split(cur, "/"))
		} else if line := sc.Text(); line != "" && line[0] != ' ' {
			cur = ""
		}
	}
	if len(ops) == 0 {
		t.Fatalf("%s: no operations", file)
	}
	return func(_, method, path string) bool {
		segs := strings.Split(inventory.Template(path), "/")
	next:
		for _, doc := range ops[method] {
			if len(doc) != len(segs) {
				continue
			}
			for i := range doc {
				if doc[i] != segs[i] && !strings.HasPrefix(doc[i], "{") {
					continue next
				}
			}
			return true
		}
		return false
	}
}

// truthActors maps each simulated actor's address to its campaign and
// reports the addresses of actors that ran a "probe" step.
func truthActors(t testing.TB, r io.Reader) (campaign map[string]string, probers map[string]bool) {
	t.Helper()
	campaign, probers = map[string]string{}, map[string]bool{}
	tr := simulate.NewTruthReader(r)
	for {
		l, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return campaign, probers
		}
		if err != nil {
			t.Fatal(err)
		}
		campaign[l.Addr] = l.Campaign
		if l.Step == "probe" {
			probers[l.Addr] = true
		}
	}
}

// simResult is the findings of a run, split by who got them.
type simResult struct {
	prober, benign, other map[string]int
}

func judgeRun(t *testing.T, d *Detector, next func() (*vigil.Exchange, error), campaign map[string]string, probers map[string]bool) simResult {
	t.Helper()
	res := simResult{prober: map[string]int{}, benign: map[string]int{}, other: map[string]int{}}
	n := 0
	for {
		x, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		fs, err := d.Analyze(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if campaign[f.Actor.Addr] != simulate.CampaignBenign {
				t.Logf("%s: %s", campaign[f.Actor.Addr], f)
			}
			switch addr := f.Actor.Addr; {
			case probers[addr]:
				res.prober[f.Detector]++
			case campaign[addr] == simulate.CampaignBenign:
				res.benign[f.Detector]++
				t.Errorf("benign actor %s: %s %v", addr, f, f.Evidence)
			default:
				res.other[f.Detector+" ("+campaign[addr]+")"]++
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d exchanges", n)
	}
	return res
}

func (r simResult) check(t *testing.T, want ...string) {
	t.Helper()
	t.Logf("shadow recon actor: %v", sorted(r.prober))
	t.Logf("benign actors:      %v", sorted(r.benign))
	t.Logf("other attackers:    %v", sorted(r.other))
	for _, id := range want {
		if r.prober[id] == 0 {
			t.Errorf("the shadow recon actor got no %s", id)
		}
	}
}

func sorted(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+strconv.Itoa(v))
	}
	sort.Strings(out)
	return out
}

func TestSimulatorTraffic(t *testing.T) {
	tf, err := os.Open(simTruth)
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	zr, err := gzip.NewReader(tf)
	if err != nil {
		t.Fatal(err)
	}
	campaign, probers := truthActors(t, zr)
	if len(probers) != 1 {
		t.Fatalf("%d shadow recon actors in the truth", len(probers))
	}
	for _, tc := range []struct {
		name  string
		known func(host, method, path string) bool
		want  []string
	}{
		{"with Known from the spec", specKnown(t, shopSpec),
			[]string{DetectorWordlist, DetectorSpecHunting, DetectorVersionRolling, DetectorProbe}},
		{"status only", nil, []string{DetectorWordlist, DetectorSpecHunting, DetectorVersionRolling}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := ingest.Open(simTraffic, ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			d := New(Config{Known: tc.known})
			judgeRun(t, d, src.Next, campaign, probers).check(t, tc.want...)
			t.Logf("stats: %+v", d.Stats())
		})
	}
}
