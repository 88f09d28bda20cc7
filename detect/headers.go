package detect

import (
	"context"
	"strings"
	"sync"

	"github.com/vigilsec/vigil"
)

// Headers finds sensitive endpoints served without the security headers that
// keep their data out of caches and content sniffing. A sensitive endpoint is
// one answering an authenticated request with a JSON body (data about the
// caller). Checked: Cache-Control with no-store, private or no-cache;
// X-Content-Type-Options: nosniff; and, for https URLs, Strict-Transport-
// Security.
//
// The finding is about the API, not the caller (the default response policy
// has no rule for detect.misconfig.*), so it is off by default
// (Config.Headers, detect.headers.enabled). Each endpoint (method, host, path
// template) is reported once per set of missing headers; at most 20,000 are
// remembered, under a lock, and once that many are, no more are reported.
type Headers struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

var _ vigil.Analyzer = (*Headers)(nil)

const headersID = "detect.misconfig.headers"

// maxHeaderEndpoints bounds the endpoints the headers detector remembers.
const maxHeaderEndpoints = 20000

// NewHeaders returns the security headers detector.
func NewHeaders() *Headers { return &Headers{seen: map[string]struct{}{}} }

// Analyze implements vigil.Analyzer.
func (d *Headers) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	r := x.Response
	if r == nil || r.Status < 200 || r.Status >= 300 || len(r.Body) == 0 || !hasCredentials(&x.Request) {
		return nil, nil
	}
	if !strings.Contains(strings.ToLower(headerValue(r.Header, "Content-Type")), "json") {
		return nil, nil
	}
	var missing []string
	cc := strings.ToLower(strings.Join(r.Header.Values("Cache-Control"), ","))
	if !strings.Contains(cc, "no-store") && !strings.Contains(cc, "private") && !strings.Contains(cc, "no-cache") {
		missing = append(missing, "Cache-Control")
	}
	if !strings.EqualFold(strings.TrimSpace(headerValue(r.Header, "X-Content-Type-Options")), "nosniff") {
		missing = append(missing, "X-Content-Type-Options")
	}
	if u := x.Request.URL; u != nil && u.Scheme == "https" && headerValue(r.Header, "Strict-Transport-Security") == "" {
		missing = append(missing, "Strict-Transport-Security")
	}
	if missing == nil {
		return nil, nil
	}
	key, _ := endpointKey(x)
	key += " " + strings.Join(missing, ",")
	d.mu.Lock()
	_, done := d.seen[key]
	full := len(d.seen) >= maxHeaderEndpoints
	if !done && !full {
		d.seen[key] = struct{}{}
	}
	d.mu.Unlock()
	if done || full {
		return nil, nil // reported already, or no room to remember it
	}
	var ev []vigil.Evidence
	for _, h := range missing {
		ev = append(ev, vigil.Evidence{Where: "response.header." + h, Value: "missing", Why: missingHeaderWhy[h]})
	}
	return []vigil.Finding{finding(headersID, x, vigil.API8Misconfiguration, vigil.SeverityLow, 0.6, "Sensitive endpoint without security headers", ev)}, nil
}

// missingHeaderWhy says what each header the detector checks guards against.
var missingHeaderWhy = map[string]string{
	"Cache-Control":             "without Cache-Control: no-store, browsers and shared caches may keep the caller's data",
	"X-Content-Type-Options":    "without X-Content-Type-Options: nosniff, a browser may sniff the JSON as HTML",
	"Strict-Transport-Security": "without Strict-Transport-Security, a client may be downgraded to plain HTTP",
}
