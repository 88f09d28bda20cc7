// Package vigil is Vigil's model of API traffic: the Exchange a sensor sees, the
// Actor who sent it, the Endpoint it reached, the Findings analyzers raise, the
// Incidents they are tied into and the Actions taken against actors. It also
// declares the seams between the engines. It imports only the standard library
// and nothing else of Vigil's; every other package imports it.
package vigil

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sensor names say where an Exchange was seen.
const (
	SensorProxy      = "proxy"
	SensorMiddleware = "middleware"
	SensorHAR        = "har"
	SensorJSONL      = "jsonl"
)

// Exchange is one API call as seen on the wire: the request, the response (nil
// when there was none, e.g. the upstream was down) and who sent it.
//
// Bodies are captured up to a configured size; Truncated says that more was
// sent than kept and BodySize says how much was sent in all (-1 when unknown).
// Its JSON form is the public traffic format documented in
// docs/traffic-format.md.
type Exchange struct {
	ID       string
	Time     time.Time // when the request started
	Sensor   string
	Client   Client
	Request  Request
	Response *Response
	Duration time.Duration // request start to response end

	// Actor is resolved from Client and the request by the sensor; it is not
	// part of the traffic format.
	Actor Actor

	// tmpl memoises the template of the request's path (SetPathTemplate).
	tmpl pathTemplate
}

// pathTemplate is a path and its template.
type pathTemplate struct {
	path, tmpl string
}

// SetPathTemplate records tmpl as the template of path, the request's path,
// as package inventory makes it (inventory.Template), so that each analyzer
// reads it (PathTemplate) instead of making it again. The pipeline sets it
// once per exchange, before any analyzer runs; like any change to x, it must
// not be made while others may read x.
func (x *Exchange) SetPathTemplate(path, tmpl string) {
	x.tmpl = pathTemplate{path: path, tmpl: tmpl}
}

// PathTemplate returns the template recorded by SetPathTemplate when it was
// recorded for path; ok is false otherwise (none was, or the request's path
// changed since).
func (x *Exchange) PathTemplate(path string) (tmpl string, ok bool) {
	if x.tmpl.tmpl == "" || x.tmpl.path != path {
		return "", false
	}
	return x.tmpl.tmpl, true
}

// Client is the peer that sent the request, as the sensor saw it.
type Client struct {
	Addr string // "ip:port" or "ip"; for imported traffic possibly empty
	TLS  *TLS   // nil for plain HTTP
}

// TLS holds facts about a TLS connection the sensor terminated.
type TLS struct {
	Version     string `json:"version,omitempty"`      // "1.3"
	CipherSuite string `json:"cipher_suite,omitempty"` // IANA name
	ServerName  string `json:"server_name,omitempty"`  // SNI
	ALPN        string `json:"alpn,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"` // JA4-style ClientHello fingerprint
}

// Request is the request half of an Exchange.
type Request struct {
	Method    string
	URL       *url.URL // absolute when the host is known
	Proto     string   // "HTTP/1.1"
	Header    http.Header
	Body      []byte // at most the capture size
	BodySize  int64  // bytes sent in all; -1 when unknown
	Truncated bool   // Body holds less than BodySize
}

// Response is the response half of an Exchange.
type Response struct {
	Status    int
	Proto     string
	Header    http.Header
	Body      []byte
	BodySize  int64
	Truncated bool
}

// Host is the request's host without a port, lower-cased: what
// strings.ToLower(r.URL.Hostname()) returns. Analyzers ask for it many times
// per exchange, so the common case (a lower-case ASCII name or IPv4
// address, with or without a port) is cut out of URL.Host without
// allocating.
func (r *Request) Host() string {
	if r.URL == nil {
		return ""
	}
	h := r.URL.Host
	colon := -1
	for i := 0; i < len(h); i++ {
		if c := h[i]; hostByteSlow[c] {
			return strings.ToLower(r.URL.Hostname())
		} else if c == ':' {
			colon = i
		}
	}
	if colon < 0 {
		return h
	}
	// URL.Hostname drops the part after the last colon only when it is a
	// port: digits, or nothing.
	for i := colon + 1; i < len(h); i++ {
		if h[i] < '0' || h[i] > '9' {
			return h
		}
	}
	return h[:colon]
}

// hostByteSlow marks the bytes Request.Host leaves to URL.Hostname and
// strings.ToLower: upper case, an IPv6 literal's bracket, non-ASCII.
var hostByteSlow = func() (t [256]bool) {
	for c := range t {
		t[c] = 'A' <= c && c <= 'Z' || c == '[' || c >= 0x80
	}
	return t
}()

// Path is the request's URL path ("/" when empty).
func (r *Request) Path() string {
	if r.URL == nil || r.URL.Path == "" {
		return "/"
	}
	return r.URL.Path
}

// Status is the response status, or 0 when there was no response.
func (x *Exchange) Status() int {
	if x.Response == nil {
		return 0
	}
	return x.Response.Status
}
