// Package spec loads the OpenAPI descriptions a team believes in, so Vigil
// can hold the inventory it builds from traffic against them.
//
// Parse reads OpenAPI 3.0, 3.1 (and 3.2) and Swagger 2.0 documents, in YAML
// or JSON, into a flat list of operations: method, full path (server base
// path included), host, parameters, authentication, and the field paths of
// the request and response bodies. A Set holds several specs and matches
// observed requests to their operations; Compare reports what changed from
// one version of a spec to the next.
//
// Parsing is safe on hostile input: the document is capped at MaxSize, a
// $ref to another document is refused (nothing is read from disk or the
// network), and schema walks are bounded in depth and work.
package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"
)

// Limits on what Parse accepts.
const (
	// MaxSize is the largest document Parse and Load accept, in bytes.
	MaxSize = 16 << 20
	// MaxOps is the most operations a spec may expand to (each operation
	// counts once per server it is served on).
	MaxOps = 100_000
	// MaxSegments is the most segments a path may have.
	MaxSegments = 256
)

// Formats a Spec can have.
const (
	FormatOpenAPI30 = "openapi 3.0.x"
	FormatOpenAPI31 = "openapi 3.1.x"
	FormatOpenAPI32 = "openapi 3.2.x"
	FormatSwagger20 = "swagger 2.0"
)

// ErrNotSpec is wrapped by the error Parse returns for a document that is
// neither OpenAPI nor Swagger.
var ErrNotSpec = errors.New("not an OpenAPI or Swagger document")

// ErrTooLarge is wrapped by the error Parse and Load return for a document
// over MaxSize.
var ErrTooLarge = errors.New("document too large")

// ErrExternalRef is wrapped by the error Parse returns for a $ref to another
// document (a file or a URL), which is never followed.
var ErrExternalRef = errors.New("external $ref refused")

// Spec is one loaded API description.
type Spec struct {
	Source  string // file name or label given to Parse
	Title   string // info.title
	Version string // info.version
	Format  string // FormatOpenAPI30, FormatOpenAPI31, FormatOpenAPI32 or FormatSwagger20
	// Hosts are the lower-case hosts (with port if given) of absolute server
	// URLs, sorted; empty when servers are relative or absent.
	Hosts []string
	// Ops are the operations, sorted by path, method and host.
	Ops []*Operation
	// Truncated is set when a body's field list was cut short by the limits
	// on schema walks (MaxFields per body, or the work budget of one Parse).
	Truncated bool

	doc *openapi3.T // the loaded document, for Validate
}

// Operation is one documented method on one path of one server.
type Operation struct {
	Method string // upper case
	// Path is the full path: server base path + spec path, with the spec's
	// parameter names kept, e.g. "/api/v2/orders/{id}".
	Path        string
	Host        string // "" = any host of the spec (relative servers)
	OperationID string
	Summary     string
	Deprecated  bool
	// Auth is set when a security requirement applies (the operation's own,
	// else the global one) and none of its alternatives is the empty {}
	// requirement.
	Auth bool
	// Params are the path, query, header and cookie parameters, path-item
	// and operation level merged (the operation's win), header names
	// canonical-cased, sorted by location then name.
	Params []Param
	// RequestTypes are the request body content types, lower case, without
	// parameters, sorted.
	RequestTypes []string
	// RequestFields are the flattened field paths of the request's JSON
	// schema (see Fields).
	RequestFields []string
	// RequestRequired are the RequestFields the schema requires: required
	// at the top level, or required inside a required object.
	RequestRequired []string
	// Responses are keyed by status: "200", "404", "4XX", "default".
	Responses map[string]Response
	Spec      *Spec
}

// Param is one parameter of an operation.
type Param struct {
	Name     string
	In       string // "path", "query", "header" or "cookie"
	Required bool
}

// Response is one documented response of an operation.
type Response struct {
	ContentTypes []string // lower case, without parameters, sorted
	Fields       []string // flattened field paths of the JSON schema (see Fields)
}

// Load reads and parses the spec at path; the path is its Source.
func Load(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("spec: %s: read: %w", path, err)
	}
	return Parse(path, data)
}

// Parse reads one OpenAPI 3.x or Swagger 2.0 document, YAML or JSON (the
// content decides, not the source's name). Swagger 2.0 is converted to
// OpenAPI 3 first. A document that loads is accepted even when it would
// not validate; see Validate. Errors name the source.
func Parse(source string, data []byte) (s *Spec, err error) {
	defer func() {
		// The last line of defence: the loaders are third-party code fed
		// with hostile input.
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("spec: %s: cannot load: internal error: %v", source, r)
		}
	}()
	if len(data) > MaxSize {
		return nil, fmt.Errorf("spec: %s: %w: over %d MiB", source, ErrTooLarge, MaxSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := checkText(data); err != nil {
		return nil, fmt.Errorf("spec: %s: %w", source, err)
	}
	format, err := sniff(data)
	if err != nil {
		return nil, fmt.Errorf("spec: %s: %w", source, err)
	}
	doc, err := load(format, data)
	if err != nil {
		return nil, fmt.Errorf("spec: %s: %w", source, err)
	}
	s, err = build(source, format, doc)
	if err != nil {
		return nil, fmt.Errorf("spec: %s: %w", source, err)
	}
	return s, nil
}

// checkText refuses what cannot be a YAML or JSON document: nothing, or
// bytes that are not UTF-8 text.
func checkText(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%w: empty document", ErrNotSpec)
	}
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return fmt.Errorf("%w: binary data, not UTF-8 text", ErrNotSpec)
	}
	return nil
}

// sniff reads the document's version field and returns its format.
func sniff(data []byte) (string, error) {
	openapi, swagger, err := versionFields(data)
	if err != nil {
		return "", err
	}
	switch {
	case openapi != "":
		switch {
		case strings.HasPrefix(openapi, "3.0"):
			return FormatOpenAPI30, nil
		case strings.HasPrefix(openapi, "3.1"):
			return FormatOpenAPI31, nil
		case strings.HasPrefix(openapi, "3.2"):
			return FormatOpenAPI32, nil
		}
		return "", fmt.Errorf("%w: unsupported openapi version %q", ErrNotSpec, shorten(openapi))
	case swagger != "":
		if swagger == "2.0" || swagger == "2" {
			return FormatSwagger20, nil
		}
		return "", fmt.Errorf("%w: unsupported swagger version %q", ErrNotSpec, shorten(swagger))
	}
	return "", fmt.Errorf("%w: no \"openapi\" or \"swagger\" field at the top level", ErrNotSpec)
}

// versionFields returns the top-level "openapi" and "swagger" values as
// written. It reads the YAML node tree, which expands no alias, and falls
// back to JSON for what YAML refuses (a duplicate key, say).
func versionFields(data []byte) (openapi, swagger string, err error) {
	var root yaml.Node
	if yerr := yaml.Unmarshal(data, &root); yerr != nil {
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil {
			return "", "", fmt.Errorf("%w: %s", ErrNotSpec, shorten(yerr.Error()))
		}
		var o, s any
		if raw, ok := m["openapi"]; ok {
			_ = json.Unmarshal(raw, &o)
		}
		if raw, ok := m["swagger"]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return scalar(o), scalar(s), nil
	}
	top := &root
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind != yaml.MappingNode {
		return "", "", fmt.Errorf("%w: the top level is not an object", ErrNotSpec)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			continue
		}
		switch k.Value {
		case "openapi":
			openapi = v.Value
		case "swagger":
			swagger = v.Value
		}
	}
	return openapi, swagger, nil
}

// scalar formats a decoded JSON version value ("" for none).
func scalar(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// shorten cuts a message taken from the input to a readable length.
func shorten(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// newLoader returns a kin-openapi loader that follows only refs inside the
// document: IsExternalRefsAllowed is off, and ReadFromURIFunc refuses every
// read, so no file or URL is ever opened whatever the loader decides.
func newLoader() *openapi3.Loader {
	l := openapi3.NewLoader()
	l.IsExternalRefsAllowed = false
	l.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		return nil, &openapi3.DisallowedExternalRefError{Ref: u.String()}
	}
	return l
}

// load decodes the document and resolves its refs, converting Swagger 2.0.
func load(format string, data []byte) (*openapi3.T, error) {
	var doc *openapi3.T
	var err error
	if format == FormatSwagger20 {
		var doc2 openapi2.T
		if err := openapi2.UnmarshalFromData(data, &doc2); err != nil {
			return nil, fmt.Errorf("cannot load swagger 2.0: %s", shorten(err.Error()))
		}
		doc, err = openapi2conv.ToV3WithLoader(&doc2, newLoader(), nil)
	} else {
		doc, err = newLoader().LoadFromData(data)
	}
	if err != nil {
		var ext *openapi3.DisallowedExternalRefError
		if errors.As(err, &ext) {
			return nil, fmt.Errorf("%w: %q (only refs inside the document are followed)", ErrExternalRef, shorten(ext.Ref))
		}
		return nil, fmt.Errorf("cannot load: %s", shorten(err.Error()))
	}
	if doc == nil {
		return nil, errors.New("cannot load: no document")
	}
	return doc, nil
}

// Doc returns the loaded document (OpenAPI 3; a Swagger 2.0 one converted,
// refs resolved), for the packages that read more of it than Spec holds:
// package scan builds its test plan from it. It must not be changed.
func (s *Spec) Doc() *openapi3.T { return s.doc }

// Validate checks the document against the OpenAPI specification with
// kin-openapi's validator. Parse accepts documents that fail it; Validate
// says what is wrong with them.
func (s *Spec) Validate() error {
	if s == nil || s.doc == nil {
		return errors.New("spec: nothing loaded")
	}
	if err := validate(s.doc); err != nil {
		return fmt.Errorf("spec: %s: invalid: %w", s.Source, err)
	}
	return nil
}

// validate runs kin-openapi's validator, turning a panic into an error.
func validate(doc *openapi3.T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return doc.Validate(context.Background())
}

// build turns the loaded document into a Spec.
func build(source, format string, doc *openapi3.T) (*Spec, error) {
	s := &Spec{Source: source, Format: format, doc: doc}
	if doc.Info != nil {
		s.Title, s.Version = doc.Info.Title, doc.Info.Version
	}
	w := &walker{budget: maxWork}
	docServers := resolveServers(doc.Servers)
	hosts := map[string]bool{}
	addHosts := func(srv []server) {
		for _, v := range srv {
			if v.host != "" {
				hosts[v.host] = true
			}
		}
	}
	addHosts(docServers)
	for specPath, item := range doc.Paths.Map() {
		if item == nil {
			continue
		}
		if strings.Count(specPath, "/") > MaxSegments {
			return nil, fmt.Errorf("path %q has more than %d segments", shorten(specPath), MaxSegments)
		}
		itemServers := docServers
		if len(item.Servers) > 0 {
			itemServers = resolveServers(item.Servers)
			addHosts(itemServers)
		}
		for method, op := range item.Operations() {
			if op == nil {
				continue
			}
			srv := itemServers
			if op.Servers != nil && len(*op.Servers) > 0 {
				srv = resolveServers(*op.Servers)
				addHosts(srv)
			}
			if len(s.Ops)+len(srv) > MaxOps {
				return nil, fmt.Errorf("more than %d operations (paths × methods × servers)", MaxOps)
			}
			tmpl := newOperation(s, doc, item, strings.ToUpper(method), op, w)
			for _, v := range srv {
				o := *tmpl
				o.Host = v.host
				o.Path = joinPath(v.base, specPath)
				s.Ops = append(s.Ops, &o)
			}
		}
	}
	s.Truncated = w.truncated
	for h := range hosts {
		s.Hosts = append(s.Hosts, h)
	}
	slices.Sort(s.Hosts)
	slices.SortFunc(s.Ops, compareOps)
	return s, nil
}

// compareOps orders operations by path, method and host.
func compareOps(a, b *Operation) int {
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	if c := strings.Compare(a.Method, b.Method); c != 0 {
		return c
	}
	return strings.Compare(a.Host, b.Host)
}

// newOperation builds the server-independent part of an operation.
func newOperation(s *Spec, doc *openapi3.T, item *openapi3.PathItem, method string, op *openapi3.Operation, w *walker) *Operation {
	o := &Operation{
		Method:      method,
		OperationID: op.OperationID,
		Summary:     op.Summary,
		Deprecated:  op.Deprecated,
		Params:      params(item.Parameters, op.Parameters),
		Responses:   map[string]Response{},
		Spec:        s,
	}
	security := doc.Security
	if op.Security != nil {
		security = *op.Security
	}
	o.Auth = needsAuth(security)
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		content := op.RequestBody.Value.Content
		o.RequestTypes = contentTypes(content)
		o.RequestFields, o.RequestRequired = w.contentFields(content)
	}
	for status, ref := range op.Responses.Map() {
		if ref == nil || ref.Value == nil {
			continue
		}
		fields, _ := w.contentFields(ref.Value.Content)
		o.Responses[statusKey(status)] = Response{
			ContentTypes: contentTypes(ref.Value.Content),
			Fields:       fields,
		}
	}
	return o
}

// needsAuth reports whether a list of alternative security requirements
// demands credentials: there is one, and none is the empty requirement.
func needsAuth(reqs openapi3.SecurityRequirements) bool {
	if len(reqs) == 0 {
		return false
	}
	for _, r := range reqs {
		if len(r) == 0 {
			return false
		}
	}
	return true
}

// statusKey normalises a response key: "4xx" becomes "4XX", "default" stays.
func statusKey(k string) string {
	if strings.EqualFold(k, "default") {
		return "default"
	}
	return strings.ToUpper(k)
}

// inOrder ranks parameter locations for sorting.
var inOrder = map[string]int{"path": 0, "query": 1, "header": 2, "cookie": 3}

// params merges path-item and operation parameters: an operation parameter
// replaces a path-item one of the same name and location.
func params(itemParams, opParams openapi3.Parameters) []Param {
	type key struct{ name, in string }
	merged := map[key]Param{}
	for _, list := range []openapi3.Parameters{itemParams, opParams} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil || ref.Value.Name == "" {
				continue
			}
			p := Param{Name: ref.Value.Name, In: strings.ToLower(ref.Value.In), Required: ref.Value.Required}
			if p.In == "header" {
				p.Name = textproto.CanonicalMIMEHeaderKey(p.Name)
			}
			if p.In == "path" {
				p.Required = true // path parameters always are
			}
			merged[key{p.Name, p.In}] = p
		}
	}
	if len(merged) == 0 {
		return nil
	}
	out := make([]Param, 0, len(merged))
	for _, p := range merged {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Param) int {
		ra, oka := inOrder[a.In]
		rb, okb := inOrder[b.In]
		if !oka {
			ra = len(inOrder)
		}
		if !okb {
			rb = len(inOrder)
		}
		if ra != rb {
			return ra - rb
		}
		if c := strings.Compare(a.In, b.In); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// contentTypes lists a content map's media types, lower case and without
// parameters, sorted and deduplicated.
func contentTypes(content openapi3.Content) []string {
	if len(content) == 0 {
		return nil
	}
	out := make([]string, 0, len(content))
	for mt := range content {
		out = append(out, mediaType(mt))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// mediaType lower-cases a media type and drops its parameters.
func mediaType(mt string) string {
	mt, _, _ = strings.Cut(mt, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
