// Package proxy is Vigil's inline sensor: a reverse proxy (Proxy) and a
// middleware for Go services (Guard, Middleware) that see every API call,
// enforce the actions in force against its sender, and hand an Exchange to
// the analysis pipeline after the response has been written.
//
// The hot path does only cheap, bounded work: a request id, the actor's
// identity, one lookup in an immutable enforcement snapshot (Table), and a
// capped copy of each body taken while it streams (at most
// Config.CaptureBytes per body; BodySize and Truncated tell the rest). Bodies
// are never buffered whole: requests and responses of any size stream through
// with memory bounded by the capture cap plus the copy buffers. Submitting the
// Exchange never blocks; when the pipeline is full it sheds and Stats counts
// it.
//
// Optionally (Config.Inline) the proxy also checks each request before
// forwarding it, with request-side detectors on a reused worker goroutine
// and within a deadline: a finding the response policy blocks on answers 403
// in line; an overrun forwards (fail-open, counted) or, on fail-closed
// routes, answers 503. Deception: a tarpit delays an actor progressively
// (bounded: at most Config.MaxTarpitted requests wait at once), and a decoy
// action answers in the upstream's place with a plausible fake object.
//
// The proxy is an httputil.ReverseProxy. For a plain-http upstream its
// RoundTripper makes HTTP/1.1 round trips on the handler's goroutine over a
// keep-alive pool (no reader and writer goroutine per connection, as
// http.Transport has), for requests without upgrade or Expect and with a
// body of known length up to 32 KiB, which it reads whole before sending.
// Everything else (WebSocket, streaming and large uploads, https upstreams)
// goes through an http.Transport. Both follow http.Transport's keep-alive
// and retry rules.
//
// Responses that Vigil generates itself (enforcement, upstream failure) carry
// X-Vigil-Request-Id and a JSON body
//
//	{"error":{"code":"...","message":"...","request_id":"..."}}
//
// and enforcement responses also carry X-Vigil-Action. For those exchanges
// Exchange.Response is nil: the upstream never answered.
package proxy
