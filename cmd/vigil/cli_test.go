package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestDocsCoverEveryFlag keeps docs/cli.md true: every command has a
// section "## vigil <path>", and every flag of the command is in it.
func TestDocsCoverEveryFlag(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(examplesDir, "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	var name string
	for line := range strings.Lines(string(doc)) {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			name = strings.TrimSpace(h)
			continue
		}
		sections[name] += line
	}
	root := newRootCmd(&streams{})
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(sections["Global flags"], "`--"+f.Name) {
			t.Errorf("global flag --%s is not in docs/cli.md's Global flags", f.Name)
		}
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub)
		}
		if !c.Runnable() || c == root {
			return
		}
		sec, ok := sections[c.CommandPath()]
		if !ok {
			t.Errorf("docs/cli.md has no section %q", "## "+c.CommandPath())
			return
		}
		c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			long := "`--" + f.Name
			short := "`-" + f.Shorthand + " "
			if !strings.Contains(sec, long) && (f.Shorthand == "" || !strings.Contains(sec, short)) {
				t.Errorf("%s --%s is not documented in docs/cli.md", c.CommandPath(), f.Name)
			}
		})
		if c.Short == "" {
			t.Errorf("%s has no short help", c.CommandPath())
		}
	}
	walk(root)
}

// TestHelp checks every command's --help succeeds and says something.
func TestHelp(t *testing.T) {
	cmds := [][]string{{}, {"proxy"}, {"analyze"}, {"serve"}, {"simulate"}, {"demo"}, {"bench"}, {"bench", "proxy"}, {"bench", "analyze"}, {"version"}}
	for _, c := range cmds {
		t.Run(strings.Join(append([]string{"vigil"}, c...), " "), func(t *testing.T) {
			code, out, errOut := vigilRun(t, "", append(c, "--help")...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, "Usage:") {
				t.Errorf("no usage in --help output:\n%s", out)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *regexp.Regexp
	}{
		{"unknown command", []string{"frobnicate"}, regexp.MustCompile(`unknown command`)},
		{"unknown flag", []string{"analyze", "--nope", "x"}, regexp.MustCompile(`unknown flag: --nope`)},
		{"analyze without files", []string{"analyze"}, regexp.MustCompile(`at least one FILE`)},
		{"analyze missing file", []string{"analyze", "--no-store", "does-not-exist.jsonl"}, regexp.MustCompile(`does-not-exist.jsonl`)},
		{"bad fail-on", []string{"analyze", "--no-store", "--fail-on", "dire", "x.jsonl"}, regexp.MustCompile(`--fail-on`)},
		{"proxy without upstream", []string{"proxy"}, regexp.MustCompile(`--upstream is required`)},
		{"proxy bad upstream", []string{"proxy", "--upstream", "ftp://x", "--listen", "127.0.0.1:0"}, regexp.MustCompile(`upstream`)},
		{"simulate without target", []string{"simulate"}, regexp.MustCompile(`--target is required`)},
		{"simulate unknown campaign", []string{"simulate", "--target", "http://127.0.0.1:1", "--campaigns", "ddos"}, regexp.MustCompile(`unknown campaign "ddos"`)},
		{"demo too short", []string{"demo", "--duration", "1s"}, regexp.MustCompile(`--duration`)},
		{"bad log level", []string{"--log-level", "loud", "version"}, regexp.MustCompile(`log`)},
		{"missing config", []string{"--config", "nope.yaml", "version"}, regexp.MustCompile(`nope.yaml`)},
		{"serve missing store", []string{"serve", "--store", "nope.db"}, regexp.MustCompile(`nope.db`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			code, _, errOut := vigilRun(t, "", tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, errOut)
			}
			if !tt.want.MatchString(errOut) {
				t.Errorf("stderr %q does not match %v", errOut, tt.want)
			}
			if strings.Contains(errOut, "panic") {
				t.Errorf("panic: %s", errOut)
			}
		})
	}
}
