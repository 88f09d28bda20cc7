package scan

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil"
)

// Template limits: templates are small, hand-written files.
const (
	MaxTemplateFile = 256 << 10
	maxTemplates    = 500
	maxPayloads     = 100
	maxMatchers     = 50
	maxAttempts     = 200
	maxDelay        = 10 // seconds, for time-based payloads
)

//go:embed templates/*.yaml
var builtinFS embed.FS

// Kinds: the checks implemented in Go that templates parameterise.
const (
	KindBOLA       = "bola"
	KindBFLA       = "bfla"
	KindAuth       = "auth"
	KindMassAssign = "mass-assign"
	KindInject     = "inject"
	KindSSRF       = "ssrf"
	KindExposure   = "exposure"
	KindRateLimit  = "ratelimit"
	KindHeaders    = "headers"
	KindVerbose    = "verbose"
	KindMethod     = "method"
	// KindReplay replays attacks that Vigil's detectors reported (findings
	// of a store) with the safe payloads of other templates (replay.go).
	KindReplay = "replay"
)

var kinds = []string{KindBOLA, KindBFLA, KindAuth, KindMassAssign, KindInject, KindSSRF, KindExposure,
	KindRateLimit, KindHeaders, KindVerbose, KindMethod, KindReplay}

// Template is one test: a kind, the operations it applies to and the data
// of its kind. See docs/scan-templates.md.
type Template struct {
	ID          string         `yaml:"id"`
	Name        string         `yaml:"name"`
	Kind        string         `yaml:"kind"`
	Category    vigil.Category `yaml:"category"`
	SeverityRaw string         `yaml:"severity"`
	Description string         `yaml:"description"`
	// Limit, when 1, reports only the first failing operation: for flaws
	// of the whole server (stack traces, headers).
	Limit  int      `yaml:"limit"`
	Select Selector `yaml:"select"`

	// Variant picks the auth check (none, alg-none, bad-signature,
	// expired), or, for bola and bfla, "observed": replay reads from
	// recorded traffic.
	Variant string `yaml:"variant"`
	// Payloads are the values (inject) or raw bodies (verbose) sent.
	Payloads []Payload `yaml:"payloads"`
	// Matchers apply to every payload that has none of its own.
	Matchers []Matcher `yaml:"matchers"`
	// Headers are the response headers required (kind headers).
	Headers []HeaderRule `yaml:"headers"`
	// CORSOrigin, when set, is sent as Origin (kind headers): the test
	// fails when the response allows it.
	CORSOrigin string `yaml:"cors_origin"`
	// Attempts is how many requests a rate-limit test sends.
	Attempts int `yaml:"attempts"`
	// Fields are extra property names to try (kind mass-assign).
	Fields []string `yaml:"fields"`
	// Replay says which detected attacks a replay template confirms, and
	// with which templates (kind replay).
	Replay *ReplaySpec `yaml:"replay"`

	Severity vigil.Severity `yaml:"-"`
	Source   string         `yaml:"-"` // "builtin" or the file

	// focus, set on a copy of a template run by a replay, narrows the
	// check to the parameter or property the detected attack used.
	focus *place
}

// Selector picks the operations a template applies to. Every field set
// must hold.
type Selector struct {
	Methods []string `yaml:"methods"` // upper case
	// Paths are globs over the path template: "*" is one segment, "**"
	// any number; "/api/*/orders/{id}".
	Paths        []string `yaml:"paths"`
	ExcludePaths []string `yaml:"exclude_paths"`
	PathParams   *bool    `yaml:"path_params"` // has a path parameter
	Auth         *bool    `yaml:"auth"`        // the spec demands credentials
	Admin        *bool    `yaml:"admin"`       // tagged admin or under /admin
	Body         *bool    `yaml:"body"`        // has a JSON request body
	Login        *bool    `yaml:"login"`       // a login operation
	// Params is a regular expression: some parameter or body property
	// name must match it.
	Params string   `yaml:"params"`
	In     []string `yaml:"in"` // where Params must be: path, query, body
	Tags   []string `yaml:"tags"`

	params *regexp.Regexp
}

// Payload is one value sent by an inject or verbose test.
type Payload struct {
	// Value replaces a parameter or body property (inject), or is the
	// whole raw body (verbose).
	Value string `yaml:"value"`
	// JSON sends Value as raw JSON inside the body (inject: a NoSQL
	// operator object) instead of as a string.
	JSON bool `yaml:"json"`
	// Confirm is a value that must NOT match: a benign twin (for SQL, the
	// quote doubled), sent only when the payload matched.
	Confirm  string    `yaml:"confirm"`
	Matchers []Matcher `yaml:"matchers"`
	// False makes the payload a boolean pair: Value is the true condition,
	// False the false one; Confirm and ConfirmFalse are a second pair with
	// other constants. The test fails when the false answer looks like the
	// valid request's, the true answer does not, and the second pair agrees.
	False        string `yaml:"false"`
	ConfirmFalse string `yaml:"confirm_false"`
	// Reflected makes the payload a reflection probe (cross-site
	// scripting): the matchers see the body with the payload in it, where
	// every other payload is taken out of the body first.
	Reflected bool `yaml:"reflected"`
	// Delay makes the payload time-based: "{{delay}}" in Value is replaced
	// by Delay seconds. The test fails when the answer takes Delay longer
	// than the valid request's, the same payload with 0 does not, and a
	// second try with Delay is slow again.
	Delay int `yaml:"delay"`
}

// Matcher matches a response when every condition it sets holds.
type Matcher struct {
	Status []int  `yaml:"status"`
	Body   string `yaml:"body"`   // regular expression over the body
	Header string `yaml:"header"` // header name, with Value
	Value  string `yaml:"value"`  // regular expression over that header

	body, value *regexp.Regexp
}

// HeaderRule requires a response header, with a value matching Value when
// it is set.
type HeaderRule struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
	// HTTPSOnly applies the rule only to https targets (HSTS).
	HTTPSOnly bool `yaml:"https_only"`

	value *regexp.Regexp
}

// BuiltinTemplates returns the templates embedded in the binary.
func BuiltinTemplates() ([]*Template, error) {
	return loadFS(builtinFS, "templates", "builtin")
}

// LoadTemplates reads every *.yaml and *.yml file in dir.
func LoadTemplates(dir string) ([]*Template, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("templates: %s is not a directory", dir)
	}
	return loadFS(os.DirFS(dir), ".", dir)
}

func loadFS(fsys fs.FS, dir, label string) ([]*Template, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	var out []*Template
	for _, e := range entries {
		if e.IsDir() || (!strings.HasSuffix(e.Name(), ".yaml") && !strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		f, err := fsys.Open(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, MaxTemplateFile+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", e.Name(), err)
		}
		src := filepath.Join(label, e.Name())
		ts, err := ParseTemplates(src, data)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
		if len(out) > maxTemplates {
			return nil, fmt.Errorf("templates: more than %d", maxTemplates)
		}
	}
	return out, nil
}

// ParseTemplates reads one template file: one or more YAML documents,
// each a template. Unknown keys are errors.
func ParseTemplates(source string, data []byte) ([]*Template, error) {
	if len(data) > MaxTemplateFile {
		return nil, fmt.Errorf("template %s: over %d bytes", source, MaxTemplateFile)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var out []*Template
	for {
		t := &Template{}
		err := dec.Decode(t)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", source, err)
		}
		t.Source = source
		if err := t.compile(); err != nil {
			return nil, fmt.Errorf("template %s: %w", source, err)
		}
		out = append(out, t)
		if len(out) > maxTemplates {
			return nil, fmt.Errorf("template %s: more than %d documents", source, maxTemplates)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("template %s: no template in the file", source)
	}
	return out, nil
}

var templateID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)

// compile checks t and compiles its regular expressions.
func (t *Template) compile() error {
	if !templateID.MatchString(t.ID) {
		return fmt.Errorf("id %q: want lower-case letters, digits, '.', '_' or '-'", t.ID)
	}
	if !slices.Contains(kinds, t.Kind) {
		return fmt.Errorf("%s: kind %q: want one of %s", t.ID, t.Kind, strings.Join(kinds, ", "))
	}
	if t.Name == "" {
		return fmt.Errorf("%s: name is required", t.ID)
	}
	if !validCategory(t.Category) {
		return fmt.Errorf("%s: category %q: want API1:2023 … API10:2023", t.ID, t.Category)
	}
	sev, err := vigil.ParseSeverity(t.SeverityRaw)
	if err != nil {
		return fmt.Errorf("%s: severity: %w", t.ID, err)
	}
	t.Severity = sev
	if t.Limit < 0 {
		return fmt.Errorf("%s: limit must be 0 (no limit) or more", t.ID)
	}
	if len(t.Payloads) > maxPayloads || len(t.Matchers) > maxMatchers || len(t.Headers) > maxMatchers {
		return fmt.Errorf("%s: at most %d payloads and %d matchers or headers", t.ID, maxPayloads, maxMatchers)
	}
	if t.Attempts < 0 || t.Attempts > maxAttempts {
		return fmt.Errorf("%s: attempts must be between 0 and %d", t.ID, maxAttempts)
	}
	for i := range t.Select.Methods {
		t.Select.Methods[i] = strings.ToUpper(t.Select.Methods[i])
	}
	for _, g := range append(slices.Clone(t.Select.Paths), t.Select.ExcludePaths...) {
		if !strings.HasPrefix(g, "/") {
			return fmt.Errorf("%s: path glob %q must start with /", t.ID, g)
		}
	}
	for _, in := range t.Select.In {
		if in != "path" && in != "query" && in != "body" {
			return fmt.Errorf("%s: select.in %q: want path, query or body", t.ID, in)
		}
	}
	if t.Select.Params != "" {
		if t.Select.params, err = regexp.Compile(t.Select.Params); err != nil {
			return fmt.Errorf("%s: select.params: %w", t.ID, err)
		}
	}
	for i := range t.Matchers {
		if err := t.Matchers[i].compile(); err != nil {
			return fmt.Errorf("%s: matcher %d: %w", t.ID, i+1, err)
		}
	}
	for i := range t.Payloads {
		p := &t.Payloads[i]
		if len(p.Matchers) > maxMatchers {
			return fmt.Errorf("%s: payload %d: at most %d matchers", t.ID, i+1, maxMatchers)
		}
		for j := range p.Matchers {
			if err := p.Matchers[j].compile(); err != nil {
				return fmt.Errorf("%s: payload %d matcher %d: %w", t.ID, i+1, j+1, err)
			}
		}
		if p.Delay != 0 {
			if p.Delay < 1 || p.Delay > maxDelay || !strings.Contains(p.Value, "{{delay}}") || p.JSON || p.False != "" {
				return fmt.Errorf("%s: payload %d: a time-based payload needs delay 1-%d and {{delay}} in its value", t.ID, i+1, maxDelay)
			}
			continue
		}
		if p.Reflected && (p.JSON || p.False != "") {
			return fmt.Errorf("%s: payload %d: a reflected payload is a plain string, not json or a boolean pair", t.ID, i+1)
		}
		if p.False != "" {
			if p.Confirm == "" || p.ConfirmFalse == "" || p.JSON {
				return fmt.Errorf("%s: payload %d: a boolean pair (false) needs confirm and confirm_false, and no json", t.ID, i+1)
			}
			continue
		}
		if len(p.Matchers) == 0 && len(t.Matchers) == 0 {
			return fmt.Errorf("%s: payload %d has no matchers, and the template none", t.ID, i+1)
		}
	}
	for i := range t.Headers {
		h := &t.Headers[i]
		if h.Name == "" {
			return fmt.Errorf("%s: header %d: name is required", t.ID, i+1)
		}
		if h.Value != "" {
			if h.value, err = regexp.Compile(h.Value); err != nil {
				return fmt.Errorf("%s: header %s: %w", t.ID, h.Name, err)
			}
		}
	}
	if t.Replay != nil && t.Kind != KindReplay {
		return fmt.Errorf("%s: replay is for kind replay only", t.ID)
	}
	switch t.Kind {
	case KindInject, KindVerbose:
		if len(t.Payloads) == 0 {
			return fmt.Errorf("%s: kind %s needs payloads", t.ID, t.Kind)
		}
	case KindHeaders:
		if len(t.Headers) == 0 && t.CORSOrigin == "" {
			return fmt.Errorf("%s: kind headers needs headers or cors_origin", t.ID)
		}
	case KindBOLA, KindBFLA:
		if t.Variant != "" && t.Variant != "observed" {
			return fmt.Errorf("%s: variant %q: want observed, or none", t.ID, t.Variant)
		}
	case KindAuth:
		if t.Variant != "none" && t.Variant != "alg-none" && t.Variant != "bad-signature" && t.Variant != "expired" {
			return fmt.Errorf("%s: variant %q: want none, alg-none, bad-signature or expired", t.ID, t.Variant)
		}
	case KindReplay:
		if err := t.Replay.compile(); err != nil {
			return fmt.Errorf("%s: %w", t.ID, err)
		}
	case KindRateLimit:
		if t.Attempts == 0 {
			t.Attempts = 30
		}
	}
	return nil
}

func (m *Matcher) compile() error {
	var err error
	if m.Body == "" && len(m.Status) == 0 && m.Header == "" {
		return errors.New("sets none of status, body, header")
	}
	if m.Body != "" {
		if m.body, err = regexp.Compile(m.Body); err != nil {
			return fmt.Errorf("body: %w", err)
		}
	}
	if m.Value != "" {
		if m.Header == "" {
			return errors.New("value without header")
		}
		if m.value, err = regexp.Compile(m.Value); err != nil {
			return fmt.Errorf("value: %w", err)
		}
	}
	return nil
}

// match reports whether the response matches every condition of m.
func (m *Matcher) match(resp *Response) bool {
	if len(m.Status) > 0 && !slices.Contains(m.Status, resp.Status) {
		return false
	}
	if m.body != nil && !m.body.Match(resp.Body) {
		return false
	}
	if m.Header != "" {
		v := resp.Header.Get(m.Header)
		if v == "" || (m.value != nil && !m.value.MatchString(v)) {
			return false
		}
	}
	return true
}

func anyMatch(ms []Matcher, resp *Response) bool {
	for i := range ms {
		if ms[i].match(resp) {
			return true
		}
	}
	return false
}

func validCategory(c vigil.Category) bool {
	for i := 1; i <= 10; i++ {
		if c == vigil.Category(fmt.Sprintf("API%d:2023", i)) {
			return true
		}
	}
	return false
}

// glob matches a path template against a glob: "*" one segment, "**" any.
func glob(pattern, p string) bool {
	return globSegs(strings.Split(strings.Trim(pattern, "/"), "/"), strings.Split(strings.Trim(p, "/"), "/"))
}

func globSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if globSegs(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok && pat[0] != segs[0] {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

var loginPath = regexp.MustCompile(`(?i)/(login|signin|sign-in|authenticate|token|sessions?)$`)

// isLogin reports whether op looks like a login: POST to a login path.
func isLogin(op *Operation) bool {
	return op.Method == "POST" && loginPath.MatchString(op.Path)
}

// names returns the parameter and top-level body property names of op
// found in the locations in (all when empty).
func (op *Operation) names(in []string) []string {
	want := func(where string) bool { return len(in) == 0 || slices.Contains(in, where) }
	var out []string
	for _, p := range op.Params {
		if p.In != "header" && want(p.In) {
			out = append(out, p.Name)
		}
	}
	if op.Body != nil && want("body") {
		out = append(out, sortedProps(op.Body)...)
	}
	return out
}

// applies reports whether the selector picks op.
func (s *Selector) applies(op *Operation) bool {
	if len(s.Methods) > 0 && !slices.Contains(s.Methods, op.Method) {
		return false
	}
	if len(s.Paths) > 0 && !slices.ContainsFunc(s.Paths, func(g string) bool { return glob(g, op.Path) }) {
		return false
	}
	if slices.ContainsFunc(s.ExcludePaths, func(g string) bool { return glob(g, op.Path) }) {
		return false
	}
	check := func(want *bool, got bool) bool { return want == nil || *want == got }
	if !check(s.PathParams, len(op.PathParams()) > 0) || !check(s.Auth, op.Auth) || !check(s.Admin, op.Admin()) ||
		!check(s.Body, op.Body != nil) || !check(s.Login, isLogin(op)) {
		return false
	}
	if len(s.Tags) > 0 && !slices.ContainsFunc(op.Tags, func(t string) bool { return slices.Contains(s.Tags, t) }) {
		return false
	}
	if s.params != nil && !slices.ContainsFunc(op.names(s.In), s.params.MatchString) {
		return false
	}
	return true
}
