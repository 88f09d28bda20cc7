package inventory

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// ExportOptions shape the reconstructed spec.
type ExportOptions struct {
	Title string // info.title; default "API observed by Vigil"
	// ThirdParty includes third-party hosts' endpoints.
	ThirdParty bool
	// Now stamps info.version; default time.Now.
	Now time.Time
}

// Security scheme names in the exported spec.
var authSchemes = map[string]*openapi3.SecurityScheme{
	"jwt":    {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
	"bearer": {Type: "http", Scheme: "bearer"},
	"basic":  {Type: "http", Scheme: "basic"},
	"apikey": {Type: "apiKey", In: "header", Name: "X-Api-Key"},
	"cookie": {Type: "apiKey", In: "cookie", Name: "session"},
}

// Export writes what traffic shows as an OpenAPI 3.1 document, validated
// with kin-openapi. Endpoints that never answered other than 404/405, and
// those folded into "{other}", are left out. Each operation carries what
// was observed in x-vigil-* extensions: request count, first and last seen,
// party and sensitive data classes.
func Export(ps []*Profile, o ExportOptions) (*openapi3.T, error) {
	if o.Title == "" {
		o.Title = "API observed by Vigil"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	doc := &openapi3.T{
		OpenAPI: "3.1.0",
		Info: &openapi3.Info{
			Title:       o.Title,
			Version:     "observed-" + o.Now.UTC().Format("2006-01-02"),
			Description: "Reconstructed from live traffic by Vigil: every operation is one seen answering.",
		},
		Paths:      openapi3.NewPaths(),
		Components: &openapi3.Components{SecuritySchemes: openapi3.SecuritySchemes{}},
	}
	hosts := map[string]bool{}
	var keep []*Profile
	for _, p := range ps {
		if !answered(p) || p.Template == Other || p.Method == Other || p.Host == Other {
			continue
		}
		if p.Party == PartyThird && !o.ThirdParty {
			continue
		}
		keep = append(keep, p)
		hosts[p.Host] = true
	}
	hostList := make([]string, 0, len(hosts))
	for h := range hosts {
		hostList = append(hostList, h)
	}
	slices.Sort(hostList)
	if len(hostList) == 1 {
		doc.Servers = openapi3.Servers{{URL: serverURL(hostList[0])}}
	}
	for _, p := range keep {
		path, names := specPath(p.Template)
		if len(hostList) > 1 {
			// Several hosts: the path key carries no host, so a path
			// served by two hosts keeps the first; the others are
			// distinguished by path-level servers when they differ.
			if item := doc.Paths.Value(path); item != nil && item.GetOperation(p.Method) != nil {
				continue
			}
		}
		item := doc.Paths.Value(path)
		if item == nil {
			item = &openapi3.PathItem{}
			if len(hostList) > 1 {
				item.Servers = openapi3.Servers{{URL: serverURL(p.Host)}}
			}
			doc.Paths.Set(path, item)
		}
		item.SetOperation(p.Method, operation(p, path, names, doc.Components.SecuritySchemes))
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("exported spec does not validate: %w", err)
	}
	return doc, nil
}

// serverURL guesses a server URL for a host: plain HTTP for loopback and
// private addresses, HTTPS otherwise.
func serverURL(host string) string {
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsPrivate()) || host == "localhost" {
		return "http://" + host
	}
	return "https://" + host
}

// specPath names a template's parameters: "{id}" after "orders" becomes
// "{orderId}"; a repeat gets a number.
func specPath(template string) (string, []string) {
	segs := strings.Split(template, "/")
	var names []string
	used := map[string]int{}
	for i, s := range segs {
		if !isParamSegment(s) {
			continue
		}
		name := "id"
		if i > 0 && segs[i-1] != "" && !isParamSegment(segs[i-1]) {
			name = paramName(segs[i-1]) + "Id"
		}
		used[name]++
		if n := used[name]; n > 1 {
			name += strconv.Itoa(n)
		}
		names = append(names, name)
		segs[i] = "{" + name + "}"
	}
	return strings.Join(segs, "/"), names
}

// paramName makes an identifier from a collection segment: "orders" →
// "order", "gift-cards" → "giftCard".
func paramName(seg string) string {
	var b strings.Builder
	upper := false
	for _, r := range seg {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if upper && b.Len() > 0 {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			upper = false
		default:
			upper = true
		}
	}
	s := b.String()
	switch {
	case s == "":
		return "item"
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") && len(s) > 1:
		return s[:len(s)-1]
	}
	return s
}

func operation(p *Profile, path string, names []string, schemes openapi3.SecuritySchemes) *openapi3.Operation {
	op := &openapi3.Operation{
		OperationID: operationID(p.Method, path),
		Summary:     fmt.Sprintf("Observed %d times", p.Count),
		Responses:   openapi3.NewResponses(),
		Extensions: map[string]any{
			"x-vigil-count":      p.Count,
			"x-vigil-first-seen": p.FirstSeen.UTC().Format(time.RFC3339),
			"x-vigil-last-seen":  p.LastSeen.UTC().Format(time.RFC3339),
			"x-vigil-party":      p.Party,
		},
	}
	if c := p.RequestClasses | p.ResponseClasses; c != 0 {
		op.Extensions["x-vigil-data-classes"] = c.Names()
	}
	for _, n := range names {
		op.AddParameter(openapi3.NewPathParameter(n).WithSchema(openapi3.NewStringSchema()))
	}
	for _, q := range p.Params {
		var param *openapi3.Parameter
		switch q.In {
		case "query":
			param = openapi3.NewQueryParameter(q.Name)
		case "header":
			param = openapi3.NewHeaderParameter(q.Name)
		case "cookie":
			param = openapi3.NewCookieParameter(q.Name)
		default:
			continue
		}
		param.Required = q.Count == p.Count && p.Count > 1
		op.AddParameter(param.WithSchema(openapi3.NewStringSchema()))
	}
	if p.RequestSchema != nil && p.RequestSchema.Count() > 0 {
		op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
			WithContent(content(p.RequestTypes, p.RequestSchema.OpenAPI()))}
	}
	statuses := make([]int, 0, len(p.Statuses))
	for s := range p.Statuses {
		if s >= 100 && s <= 599 {
			statuses = append(statuses, s)
		}
	}
	slices.Sort(statuses)
	for _, s := range statuses {
		r := openapi3.NewResponse().WithDescription(fmt.Sprintf("Observed %d times", p.Statuses[s]))
		if n := p.ResponseSchemas[strconv.Itoa(s)]; n != nil && n.Count() > 0 {
			r.WithContent(content(p.ResponseTypes, n.OpenAPI()))
		}
		op.AddResponse(s, r)
	}
	if len(statuses) == 0 {
		op.AddResponse(0, openapi3.NewResponse().WithDescription("no response observed"))
	}
	op.Security = security(p, schemes)
	return op
}

// content declares a body schema under the JSON media type seen (or
// application/json).
func content(types map[string]int64, s *openapi3.Schema) openapi3.Content {
	mt := "application/json"
	var best int64
	for t, n := range types {
		if (strings.HasSuffix(t, "/json") || strings.HasSuffix(t, "+json")) && n > best {
			mt, best = t, n
		}
	}
	return openapi3.Content{mt: openapi3.NewMediaType().WithSchema(s)}
}

// security lists the authentication seen; an operation also answered 2xx
// without credentials gets the empty alternative.
func security(p *Profile, schemes openapi3.SecuritySchemes) *openapi3.SecurityRequirements {
	var kinds []string
	for k, n := range p.Auth {
		if n > 0 && authSchemes[k] != nil {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return nil
	}
	slices.Sort(kinds)
	reqs := openapi3.NewSecurityRequirements()
	for _, k := range kinds {
		name := k + "Auth"
		if schemes[name] == nil {
			s := *authSchemes[k]
			schemes[name] = &openapi3.SecuritySchemeRef{Value: &s}
		}
		reqs.With(openapi3.NewSecurityRequirement().Authenticate(name))
	}
	if p.Unauthenticated2xx > 0 {
		reqs.With(openapi3.NewSecurityRequirement())
	}
	return reqs
}

// operationID makes "getOrdersOrderId" from GET /orders/{orderId}.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.Trim(seg, "{}")
		up := true
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				up = true
				continue
			}
			if up {
				r = unicode.ToUpper(r)
				up = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
