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
// Responses that Vigil generates itself (enforcement, upstream failure) carry
// X-Vigil-Request-Id and a JSON body
//
//	{"error":{"code":"...","message":"...","request_id":"..."}}
//
// and enforcement responses also carry X-Vigil-Action. For those exchanges
// Exchange.Response is nil: the upstream never answered.
package proxy
