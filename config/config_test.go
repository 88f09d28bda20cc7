package config_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior"
	"github.com/vigilsec/vigil/config"
)

var update = flag.Bool("update", false, "rewrite the golden .err files")

func TestDefaultIsValid(t *testing.T) {
	if err := config.Default().Validate(); err != nil {
		t.Fatalf("Default() is not valid: %v", err)
	}
}

func TestParseOverridesDefaults(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`
proxy:
  upstream: http://127.0.0.1:9000
  upstream_timeout: 5s
  inline:
    enabled: true
    deadline: 3ms
    fail_closed: [/admin, "/users/{id}/payment"]
identity:
  client_ip_header: X-Forwarded-For
  trusted_proxies: [127.0.0.1, 10.0.0.0/8]
detect:
  crs: {enabled: true, paranoia: 2}
  jwt: {keys: [keys/jwks.json]}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Proxy.Upstream = "http://127.0.0.1:9000"
	want.Proxy.UpstreamTimeout = 5 * time.Second
	want.Proxy.Inline = config.Inline{Enabled: true, Deadline: 3 * time.Millisecond, FailClosed: []string{"/admin", "/users/{id}/payment"}}
	want.Identity.ClientIPHeader = "X-Forwarded-For"
	want.Identity.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8"}
	want.Detect.CRS = config.CRS{Enabled: true, Paranoia: 2}
	want.Detect.JWT.Keys = []string{"keys/jwks.json"}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	p, err := cfg.Identity.Prefixes()
	if err != nil || len(p) != 2 || p[0].String() != "127.0.0.1/32" || p[1].String() != "10.0.0.0/8" {
		t.Errorf("Prefixes() = %v, %v", p, err)
	}
}

// TestBadFiles pins the error text for each testdata/*.bad.yaml in a golden
// .err file beside it; run with -update to rewrite them.
func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/*.bad.yaml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := config.Load(f)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if code := vigil.ErrorCode(err); code != vigil.EINVALID {
				t.Errorf("error code = %q, want %q", code, vigil.EINVALID)
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			if *update {
				os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644)
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("%v (run go test ./config -update)", rerr)
			}
			if diff := cmp.Diff(strings.TrimSpace(string(want)), err.Error()); diff != "" {
				t.Errorf("error text (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("error = %v, want an EINVALID error naming the file", err)
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := config.Parse(strings.NewReader("# " + strings.Repeat("x", config.MaxFileSize)))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("error = %v, want a size error", err)
	}
}

// TestDocExample keeps the example in docs/config.md true.
func TestDocExample(t *testing.T) {
	b, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1)
	if len(m) == 0 {
		t.Fatal("docs/config.md has no yaml example")
	}
	for _, block := range m {
		if _, err := config.Parse(strings.NewReader(string(block[1]))); err != nil {
			t.Errorf("docs/config.md example does not parse: %v\n%s", err, block[1])
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte("proxy: {listen: '127.0.0.1:1'}"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := config.Parse(strings.NewReader(string(b)))
		if err != nil {
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("error %v has code %q, want %q", err, vigil.ErrorCode(err), vigil.EINVALID)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse returned a config that does not validate: %v", err)
		}
	})
}

// TestFlows reads behavior.flows: absent keeps behavior's defaults (nil), an
// empty list watches none, a path is one suffix or a list of alternatives.
func TestFlows(t *testing.T) {
	signup := []behavior.Flow{{Name: "signup", Steps: []behavior.Step{
		{Name: "register", Method: "POST", PathSuffix: "/signup|/users", NeedsSuccess: true},
		{Name: "verify", PathSuffix: "/account/verify"},
	}}}
	for _, tc := range []struct {
		name string
		yaml string
		want []behavior.Flow // DetectorConfig().Flows
	}{
		{"absent", "behavior: {window: 5m}", nil},
		{"null", "behavior: {flows: null}", nil},
		{"empty list", "behavior: {flows: []}", []behavior.Flow{}},
		{"path list and scalar", `
behavior:
  flows:
    - name: signup
      steps:
        - {name: register, method: post, path: [/signup, /users], needs_success: true}
        - {name: verify, path: /account/verify}
`, signup},
		{"path list in block style", `
behavior:
  flows:
    - name: signup
      steps:
        - name: register
          method: POST
          path:
            - /signup
            - /users
          needs_success: true
        - name: verify
          path: /account/verify
`, signup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Behavior.DetectorConfig().Flows
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
			if (got == nil) != (tc.want == nil) {
				t.Errorf("flows nil = %v, want %v (nil means behavior's defaults)", got == nil, tc.want == nil)
			}
			if err := cfg.Behavior.DetectorConfig().Validate(); err != nil {
				t.Errorf("behavior.Config.Validate: %v", err)
			}
		})
	}
}

// TestFlowsInvalid checks that each bad flow names its key; the golden
// testdata/bad-flows*.bad.yaml files pin the whole text.
func TestFlowsInvalid(t *testing.T) {
	steps := func(s string) string {
		return "behavior:\n  flows:\n    - name: f\n      steps:\n" + s
	}
	ok := "        - {name: b, path: /b}\n"
	for _, tc := range []struct {
		name, yaml, key string
	}{
		{"no name", "behavior: {flows: [{steps: [{name: a, path: /a}, {name: b, path: /b}]}]}", "behavior.flows[0].name: "},
		{"one step", steps("        - {name: a, path: /a}\n"), "behavior.flows[0].steps: "},
		{"no path", steps("        - {name: a}\n" + ok), "behavior.flows[0].steps[0].path: "},
		{"relative path", steps("        - {name: a, path: a/b}\n" + ok), "behavior.flows[0].steps[0].path: "},
		{"pipe in path", steps(ok + "        - {name: a, path: /a|/c}\n"), "behavior.flows[0].steps[1].path: "},
		{"root path", steps("        - {name: a, path: [/a, /]}\n" + ok), "behavior.flows[0].steps[0].path: "},
		{"bad method", steps("        - {name: a, method: GET/POST, path: /a}\n" + ok), "behavior.flows[0].steps[0].method: "},
		{"no step name", steps("        - {path: /a}\n" + ok), "behavior.flows[0].steps[0].name: "},
		{"too many alternatives", steps("        - {name: a, path: [" + strings.Repeat("/a, ", config.MaxPathAlternatives) + "/a]}\n" + ok), "behavior.flows[0].steps[0].path: "},
		{"path mapping", steps("        - {name: a, path: {x: /a}}\n" + ok), "path: want a path suffix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tc.yaml))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error = %v, want an EINVALID error naming %q", err, tc.key)
			}
		})
	}
}

// TestFlowsTooMany checks the cap on the number of flows.
func TestFlowsTooMany(t *testing.T) {
	var b strings.Builder
	b.WriteString("behavior:\n  flows:\n")
	for i := range behavior.MaxFlows + 1 {
		fmt.Fprintf(&b, "    - {name: f%d, steps: [{name: a, path: /a}, {name: b, path: /b}]}\n", i)
	}
	_, err := config.Parse(strings.NewReader(b.String()))
	if err == nil || !strings.Contains(err.Error(), "behavior.flows: at most") {
		t.Errorf("error = %v, want behavior.flows: at most …", err)
	}
}
