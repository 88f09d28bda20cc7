// Package config is Vigil's typed configuration: Default() values, a strict
// YAML reader (unknown keys are errors) and Validate(). Command-line flags live
// in cmd/vigil and override what a file sets.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/behavior"
)

// MaxFileSize caps a config file: a config is a few KiB; anything near this
// is a mistake (or an attack on the parser).
const MaxFileSize = 1 << 20

// Config is everything a Vigil process can be told in a file.
type Config struct {
	Proxy     Proxy     `yaml:"proxy"`
	Identity  Identity  `yaml:"identity"`
	Pipeline  Pipeline  `yaml:"pipeline"`
	Inventory Inventory `yaml:"inventory"`
	Behavior  Behavior  `yaml:"behavior"`
	Detect    Detect    `yaml:"detect"`
	Respond   Respond   `yaml:"respond"`
	Store     Store     `yaml:"store"`
	Web       Web       `yaml:"web"`
	Log       Log       `yaml:"log"`
}

// Proxy configures `vigil proxy`.
type Proxy struct {
	Listen            string        `yaml:"listen"`
	Upstream          string        `yaml:"upstream"`
	CaptureBytes      int64         `yaml:"capture_bytes"`
	UpstreamTimeout   time.Duration `yaml:"upstream_timeout"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	// MaxBodyBytes caps a request body the fast engine takes; a longer one
	// is answered 413 (the std engine streams bodies of any length).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Engine is the HTTP server of the proxy's plain-HTTP listener: "fast"
	// (fasthttp) or "std" (net/http). A TLS listener is always std.
	Engine  string `yaml:"engine"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// NeutralErrors replaces verbose error bodies (stack traces, SQL errors,
	// internal validation messages) with a neutral one carrying the request
	// id; the original stays in the capture as evidence.
	NeutralErrors bool `yaml:"neutral_errors"`
	// Inline checks each request before it is forwarded (docs/proxy.md).
	Inline Inline `yaml:"inline"`
	// MaxTarpit caps the delay a tarpit adds to one request (it grows with
	// each request of the actor); MaxTarpitted caps the requests held in
	// tarpits at once, beyond which they are answered 429 at once.
	MaxTarpit    time.Duration `yaml:"max_tarpit"`
	MaxTarpitted int           `yaml:"max_tarpitted"`
}

// The proxy's HTTP engines (proxy.engine).
const (
	EngineFast = "fast" // fasthttp: the default for plain HTTP
	EngineStd  = "std"  // net/http: HTTP/2 and TLS, bodies of any length
)

// Inline configures the proxy's synchronous check of each request by the
// request-side detectors, bounded by a deadline.
type Inline struct {
	Enabled  bool          `yaml:"enabled"`
	Deadline time.Duration `yaml:"deadline"`
	// FailClosed lists path prefixes or templates ("/admin",
	// "/users/{id}/payment") where an overrun answers 503 instead of
	// forwarding.
	FailClosed []string `yaml:"fail_closed"`
}

// Identity configures how actors are recognised.
type Identity struct {
	ClientIPHeader string   `yaml:"client_ip_header"`
	TrustedProxies []string `yaml:"trusted_proxies"` // CIDRs or addresses
	APIKeyHeaders  []string `yaml:"api_key_headers"`
	SessionCookies []string `yaml:"session_cookies"`
}

// Pipeline configures analysis workers.
type Pipeline struct {
	Workers   int  `yaml:"workers"`    // 0: one per CPU
	QueueSize int  `yaml:"queue_size"` // per worker
	Detect    bool `yaml:"detect"`     // run the built-in detectors (default true)
}

// Inventory configures the API inventory learned from traffic.
type Inventory struct {
	// FirstParty lists the team's own hosts; other hosts are third party.
	// The proxy's upstream and the specs' server hosts are added to it.
	FirstParty []string `yaml:"first_party"`
	// Specs are OpenAPI 3.x or Swagger 2.0 files the inventory is held
	// against (shadow, zombie, orphan, drift).
	Specs        []string `yaml:"specs"`
	MaxEndpoints int      `yaml:"max_endpoints"`
	Recon        Recon    `yaml:"recon"`
}

// Recon configures the reconnaissance detector.
type Recon struct {
	Window     time.Duration `yaml:"window"`
	ProbeBurst int           `yaml:"probe_burst"`
	MaxActors  int           `yaml:"max_actors"`
}

// Behavior configures the behavioural detectors (package behavior).
type Behavior struct {
	Window    time.Duration `yaml:"window"`     // per-actor window
	Threshold int           `yaml:"threshold"`  // distinct values that make cracking
	MaxActors int           `yaml:"max_actors"` // actor states kept; least recently seen go first
	// Flows are the business flows watched for skipped steps and unusual
	// velocity (docs/behavior.md, "Declaring flows"). Absent (nil): the
	// built-in checkout flow (behavior.DefaultFlows); an empty list: none.
	Flows []Flow `yaml:"flows"`
}

// Flow is a business flow declared in behavior.flows: steps in order.
type Flow struct {
	Name  string     `yaml:"name"`
	Steps []FlowStep `yaml:"steps"`
}

// FlowStep is one request of a flow: a method ("" or absent: any) and a
// path suffix or a list of alternative suffixes, matched at a segment
// boundary against the end of the request path ("{id}" matches any one
// segment). NeedsSuccess makes a 2xx of this step required, earlier and
// within behavior.window, before any later step may succeed.
type FlowStep struct {
	Name         string `yaml:"name"`
	Method       string `yaml:"method"`
	Path         Paths  `yaml:"path"`
	NeedsSuccess bool   `yaml:"needs_success"`
}

// Paths is one path suffix or a list of alternatives: YAML accepts both
// `path: /checkout/pay` and `path: [/checkout/pay, /checkout/payment]`.
type Paths []string

// UnmarshalYAML reads a single string or a list of strings.
func (p *Paths) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*p = nil
			return nil
		}
		*p = Paths{n.Value}
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*p = l
		return nil
	}
	return fmt.Errorf("line %d: path: want a path suffix or a list of them", n.Line)
}

// MaxPathAlternatives caps the alternatives of one flow step: each is
// compared with every request path, and a real step has a handful.
const MaxPathAlternatives = 16

// DetectorConfig is the behavior section as package behavior takes it.
// Flows stay nil when the file declares none, so behavior's defaults apply;
// alternatives are joined with "|".
func (b Behavior) DetectorConfig() behavior.Config {
	bc := behavior.Config{Window: b.Window, Threshold: b.Threshold, MaxActors: b.MaxActors}
	if b.Flows == nil {
		return bc
	}
	bc.Flows = make([]behavior.Flow, 0, len(b.Flows))
	for _, f := range b.Flows {
		bf := behavior.Flow{Name: f.Name, Steps: make([]behavior.Step, 0, len(f.Steps))}
		for _, s := range f.Steps {
			bf.Steps = append(bf.Steps, behavior.Step{
				Name: s.Name, Method: strings.ToUpper(s.Method), PathSuffix: strings.Join(s.Path, "|"), NeedsSuccess: s.NeedsSuccess,
			})
		}
		bc.Flows = append(bc.Flows, bf)
	}
	return bc
}

// Detect configures the technique detectors (package detect, docs/detect.md).
type Detect struct {
	CRS     CRS     `yaml:"crs"`
	JWT     JWT     `yaml:"jwt"`
	BFLA    BFLA    `yaml:"bfla"`
	Headers Headers `yaml:"headers"`
}

// Headers turns on the missing security headers detector (off by default).
type Headers struct {
	Enabled bool `yaml:"enabled"`
}

// CRS configures the optional OWASP Core Rule Set engine.
type CRS struct {
	Enabled  bool `yaml:"enabled"`  // run it beside the built-in detectors (--crs)
	Paranoia int  `yaml:"paranoia"` // 1 to 4 (--crs-paranoia)
}

// JWT configures the JWT detector.
type JWT struct {
	// Keys are PEM (public keys, certificates) or JWKS files holding the
	// API's token verification keys; with them, accepted tokens whose
	// signature does not verify are reported as forged.
	Keys []string `yaml:"keys"`
	// TrustedKeyHosts are the hosts a token's jku or x5u header may name.
	TrustedKeyHosts []string `yaml:"trusted_key_hosts"`
}

// BFLA configures the function level authorization detector.
type BFLA struct {
	LearnRequests int `yaml:"learn_requests"` // successful requests a role cohort learns from
}

// Respond configures the response policy (package respond).
type Respond struct {
	Policy string `yaml:"policy"` // policy file; empty: the built-in default
	Mode   string `yaml:"mode"`   // monitor or enforce; empty: the policy file's
}

// Store configures the embedded store.
type Store struct {
	Path               string `yaml:"path"`
	SamplesPerEndpoint int    `yaml:"samples_per_endpoint"`
}

// Web configures `vigil serve`.
type Web struct {
	Listen    string `yaml:"listen"`
	TokenFile string `yaml:"token_file"` // empty: a token is generated and printed
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Default returns the configuration used when nothing else is said: loopback
// addresses, 64 KiB body capture, a vigil.db store in the working directory.
func Default() Config {
	return Config{
		Proxy: Proxy{
			Listen:            "127.0.0.1:8080",
			CaptureBytes:      64 << 10,
			UpstreamTimeout:   30 * time.Second,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			MaxBodyBytes:      16 << 20,
			Engine:            EngineFast,
			Inline:            Inline{Deadline: 2 * time.Millisecond},
			MaxTarpit:         10 * time.Second,
			MaxTarpitted:      256,
		},
		Identity: Identity{
			APIKeyHeaders:  []string{"X-Api-Key", "Api-Key", "X-Auth-Token"},
			SessionCookies: []string{"session", "sessionid", "sid", "JSESSIONID", "PHPSESSID", "connect.sid"},
		},
		Pipeline: Pipeline{QueueSize: 1024, Detect: true},
		Inventory: Inventory{
			MaxEndpoints: 50_000,
			Recon:        Recon{Window: 10 * time.Minute, ProbeBurst: 15, MaxActors: 100_000},
		},
		Behavior: Behavior{Window: 10 * time.Minute, Threshold: 20, MaxActors: 100_000},
		Detect:   Detect{CRS: CRS{Paranoia: 1}, BFLA: BFLA{LearnRequests: 300}},
		Store:    Store{Path: "vigil.db", SamplesPerEndpoint: 20},
		Web:      Web{Listen: "127.0.0.1:8081"},
		Log:      Log{Level: "info", Format: "text"},
	}
}

// Load reads a YAML file over Default() and validates the result.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, vigil.Errorf(vigil.EINVALID, "config: %v", err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse reads YAML over Default(): keys it does not know are errors, and so is
// a second document. The result is validated.
func Parse(r io.Reader) (Config, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return Config{}, err
	}
	if len(b) > MaxFileSize {
		return Config{}, vigil.Errorf(vigil.EINVALID, "config is larger than %d bytes", MaxFileSize)
	}
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, vigil.Errorf(vigil.EINVALID, "%s", friendly(err))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, vigil.Errorf(vigil.EINVALID, "only one YAML document is allowed")
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var (
	reUnknownKey = regexp.MustCompile(`field (\S+) not found in type config\.(\w+)`)
	reNotType    = regexp.MustCompile("cannot unmarshal !!(\\w+) `?([^`]*)`? ?into (\\S+)")
)

// sections are the top-level keys of a config file, from Config's yaml tags,
// so that the list in the unknown-key message cannot fall behind.
var sections = func() string {
	t := reflect.TypeFor[Config]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
	}
	return strings.Join(names, ", ")
}()

// friendly rewrites the YAML decoder's messages, which speak of Go types, in
// the file's own terms.
func friendly(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.Replace(msg, "unmarshal errors:\n", "", 1)
	msg = reUnknownKey.ReplaceAllStringFunc(msg, func(m string) string {
		sub := reUnknownKey.FindStringSubmatch(m)
		if sub[2] == "Config" {
			return fmt.Sprintf("unknown key %q (sections are %s)", sub[1], sections)
		}
		section := strings.ToLower(sub[2])
		switch sub[2] {
		case "Flow":
			section = "behavior.flows"
		case "FlowStep":
			section = "behavior.flows[].steps"
		}
		return fmt.Sprintf("unknown key %q in section %s", sub[1], section)
	})
	msg = reNotType.ReplaceAllStringFunc(msg, func(m string) string {
		sub := reNotType.FindStringSubmatch(m)
		switch want := sub[3]; {
		case want == "time.Duration":
			return fmt.Sprintf("%q is not a duration (write e.g. 500ms, 30s, 5m)", sub[2])
		case strings.HasPrefix(want, "config."):
			return fmt.Sprintf("want a mapping of keys here, got a %s", sub[1])
		case strings.HasPrefix(want, "[]config."):
			return fmt.Sprintf("want a list here, got a %s", sub[1])
		default:
			return fmt.Sprintf("want a value of type %s here, got %s %q", strings.TrimPrefix(want, "[]"), sub[1], sub[2])
		}
	})
	return strings.TrimSpace(msg)
}

// Validate checks the values and says which key is wrong.
func (c Config) Validate() error {
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	checkAddr := func(key, addr string) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(key, "want host:port, got %q", addr)
		}
	}
	p := c.Proxy
	checkAddr("proxy.listen", p.Listen)
	if p.Upstream != "" {
		if u, err := url.Parse(p.Upstream); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("proxy.upstream", "want an http:// or https:// URL, got %q", p.Upstream)
		}
	}
	if p.CaptureBytes < 0 || p.CaptureBytes > 64<<20 {
		bad("proxy.capture_bytes", "must be between 0 and 67108864 (64 MiB), got %d", p.CaptureBytes)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"proxy.upstream_timeout", p.UpstreamTimeout},
		{"proxy.read_header_timeout", p.ReadHeaderTimeout},
		{"proxy.idle_timeout", p.IdleTimeout},
	} {
		if d.v <= 0 {
			bad(d.key, "must be a positive duration such as 30s, got %v", d.v)
		}
	}
	if p.MaxHeaderBytes < 4<<10 || p.MaxHeaderBytes > 1<<20 {
		bad("proxy.max_header_bytes", "must be between 4096 and 1048576, got %d", p.MaxHeaderBytes)
	}
	if p.MaxBodyBytes < 1<<10 || p.MaxBodyBytes > 1<<32 {
		bad("proxy.max_body_bytes", "must be between 1024 and 4294967296, got %d", p.MaxBodyBytes)
	}
	if p.Engine != EngineFast && p.Engine != EngineStd {
		bad("proxy.engine", "want %q or %q, got %q", EngineFast, EngineStd, p.Engine)
	}
	if (p.TLSCert == "") != (p.TLSKey == "") {
		bad("proxy.tls_cert", "tls_cert and tls_key go together")
	}
	if d := p.Inline.Deadline; d <= 0 || d > time.Second {
		bad("proxy.inline.deadline", "must be a positive duration up to 1s, such as 2ms, got %v", d)
	}
	for i, r := range p.Inline.FailClosed {
		if !strings.HasPrefix(r, "/") || strings.ContainsAny(r, "?# ") || len(r) > 1024 {
			bad(fmt.Sprintf("proxy.inline.fail_closed[%d]", i), "want a path such as /admin or /users/{id}/payment, got %q", r)
		}
	}
	if d := p.MaxTarpit; d <= 0 || d > time.Minute {
		bad("proxy.max_tarpit", "must be a positive duration up to 1m, got %v", d)
	}
	if n := p.MaxTarpitted; n < 1 || n > 100_000 {
		bad("proxy.max_tarpitted", "must be between 1 and 100000, got %d", n)
	}
	if _, err := c.Identity.Prefixes(); err != nil {
		bad("identity.trusted_proxies", "%v", err)
	}
	if c.Pipeline.Workers < 0 || c.Pipeline.Workers > 1024 {
		bad("pipeline.workers", "must be between 0 (one per CPU) and 1024, got %d", c.Pipeline.Workers)
	}
	if c.Pipeline.QueueSize < 1 || c.Pipeline.QueueSize > 1<<20 {
		bad("pipeline.queue_size", "must be between 1 and 1048576, got %d", c.Pipeline.QueueSize)
	}
	if n := c.Inventory.MaxEndpoints; n < 100 || n > 1_000_000 {
		bad("inventory.max_endpoints", "must be between 100 and 1000000, got %d", n)
	}
	for i, h := range c.Inventory.FirstParty {
		if h == "" || strings.ContainsAny(h, "/ ") {
			bad(fmt.Sprintf("inventory.first_party[%d]", i), "must be a host or host:port, got %q", h)
		}
	}
	for i, sp := range c.Inventory.Specs {
		if sp == "" {
			bad(fmt.Sprintf("inventory.specs[%d]", i), "must be a file path")
		}
	}
	if r := c.Inventory.Recon; r.Window < time.Minute || r.Window > 24*time.Hour {
		bad("inventory.recon.window", "must be between 1m and 24h, got %v", r.Window)
	}
	if n := c.Inventory.Recon.ProbeBurst; n < 3 || n > 10_000 {
		bad("inventory.recon.probe_burst", "must be between 3 and 10000, got %d", n)
	}
	if n := c.Inventory.Recon.MaxActors; n < 100 || n > 10_000_000 {
		bad("inventory.recon.max_actors", "must be between 100 and 10000000, got %d", n)
	}
	if b := c.Behavior; b.Window < time.Minute || b.Window > 24*time.Hour {
		bad("behavior.window", "must be between 1m and 24h, got %v", b.Window)
	}
	if n := c.Behavior.Threshold; n < 3 || n > 100_000 {
		bad("behavior.threshold", "must be between 3 and 100000, got %d", n)
	}
	if n := c.Behavior.MaxActors; n < 100 || n > 10_000_000 {
		bad("behavior.max_actors", "must be between 100 and 10000000, got %d", n)
	}
	if msgs := c.Behavior.checkFlows(); len(msgs) > 0 {
		errs = append(errs, msgs...)
	} else if err := c.Behavior.DetectorConfig().Validate(); err != nil {
		bad("behavior.flows", "%s", vigil.ErrorMessage(err))
	}
	if n := c.Detect.CRS.Paranoia; n < 1 || n > 4 {
		bad("detect.crs.paranoia", "must be between 1 and 4, got %d", n)
	}
	for i, k := range c.Detect.JWT.Keys {
		if k == "" {
			bad(fmt.Sprintf("detect.jwt.keys[%d]", i), "must not be empty")
		}
	}
	if n := c.Detect.BFLA.LearnRequests; n < 10 || n > 10_000_000 {
		bad("detect.bfla.learn_requests", "must be between 10 and 10000000, got %d", n)
	}
	switch c.Respond.Mode {
	case "", "monitor", "enforce":
	default:
		bad("respond.mode", "want monitor or enforce, got %q", c.Respond.Mode)
	}
	if c.Store.Path == "" {
		bad("store.path", "must not be empty")
	}
	if c.Store.SamplesPerEndpoint < 0 || c.Store.SamplesPerEndpoint > 10000 {
		bad("store.samples_per_endpoint", "must be between 0 and 10000, got %d", c.Store.SamplesPerEndpoint)
	}
	checkAddr("web.listen", c.Web.Listen)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "want text or json, got %q", c.Log.Format)
	}
	if len(errs) > 0 {
		return vigil.Errorf(vigil.EINVALID, "invalid config:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

var reMethod = regexp.MustCompile(`^[A-Za-z]{1,16}$`)

// checkFlows says which key of behavior.flows is wrong, one message a key.
func (b Behavior) checkFlows() []string {
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	if len(b.Flows) > behavior.MaxFlows {
		bad("behavior.flows", "at most %d flows, got %d", behavior.MaxFlows, len(b.Flows))
	}
	names := map[string]int{}
	for i, f := range b.Flows {
		key := fmt.Sprintf("behavior.flows[%d]", i)
		if strings.TrimSpace(f.Name) == "" {
			bad(key+".name", "a flow needs a name")
		} else if j, dup := names[f.Name]; dup {
			bad(key+".name", "flow %q is already declared at behavior.flows[%d]", f.Name, j)
		} else {
			names[f.Name] = i
		}
		if n := len(f.Steps); n < 2 || n > behavior.MaxSteps {
			bad(key+".steps", "a flow has 2 to %d steps, got %d", behavior.MaxSteps, n)
		}
		for j, s := range f.Steps {
			sk := fmt.Sprintf("%s.steps[%d]", key, j)
			if strings.TrimSpace(s.Name) == "" {
				bad(sk+".name", "a step needs a name")
			}
			if s.Method != "" && !reMethod.MatchString(s.Method) {
				bad(sk+".method", "want an HTTP method such as POST (or no method: any), got %q", s.Method)
			}
			switch n := len(s.Path); {
			case n == 0:
				bad(sk+".path", "want a path suffix such as /checkout/pay, or a list of them")
			case n > MaxPathAlternatives:
				bad(sk+".path", "at most %d alternatives, got %d", MaxPathAlternatives, n)
			}
			for _, p := range s.Path {
				if !FlowPathOK(p) {
					bad(sk+".path", "want a suffix such as /checkout/pay or /orders/{id}/pay (alternatives as a list), got %q", p)
					break
				}
			}
		}
	}
	return errs
}

// FlowPathOK reports whether p can be a step path of behavior.flows: a
// suffix starting with "/", not "/" alone, at most 1024 bytes, without a
// query, fragment, "|" (alternatives are a list) or blank.
func FlowPathOK(p string) bool {
	return strings.HasPrefix(p, "/") && strings.Trim(p, "/") != "" && !strings.ContainsAny(p, "?#| \t") && len(p) <= 1024
}

// Prefixes parses TrustedProxies; a bare address is a /32 or /128.
func (i Identity) Prefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(i.TrustedProxies))
	for _, s := range i.TrustedProxies {
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR", s)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
