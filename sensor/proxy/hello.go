package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/identity"
)

// helloKey is the context key of a TLS connection's *connHello.
type helloKey struct{}

// connHello carries the JA4 fingerprint of one connection's ClientHello from
// the handshake to its requests. It lives in the connection's context, so it
// goes away with the connection: there is no table to bound or sweep.
type connHello struct {
	ja4 atomic.Pointer[string]
}

// CaptureClientHello makes srv fingerprint the TLS ClientHello of every
// connection (identity.JA4) and hand it to the requests of that connection:
// a Proxy or Guard behind srv then folds it into Actor.Fingerprint (when its
// Resolver has ResolveTLS, as identity.Resolver does) and records it in
// Exchange.Client.TLS.Fingerprint. NewServer calls it; call it yourself
// before ServeTLS or ListenAndServeTLS on a server of your own. Plain HTTP
// connections are left alone.
//
// It chains srv.ConnContext and srv.TLSConfig.GetConfigForClient when they
// are set, and works on a copy of srv.TLSConfig (nil: a new one with TLS 1.2
// or later). A listener wrapped with tls.NewListener and a Config of its own
// is not seen: the hook lives in srv.TLSConfig, which only ServeTLS and
// ListenAndServeTLS use.
func CaptureClientHello(srv *http.Server) {
	prevCtx := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prevCtx != nil {
			ctx = prevCtx(ctx, c)
		}
		if _, ok := c.(*tls.Conn); ok {
			ctx = context.WithValue(ctx, helloKey{}, &connHello{})
		}
		return ctx
	}
	cfg := srv.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		cfg = cfg.Clone()
	}
	prevGet := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		// net/http runs the handshake with the connection's context,
		// which the ClientHelloInfo hands back.
		if ctx := hello.Context(); ctx != nil {
			if ch, ok := ctx.Value(helloKey{}).(*connHello); ok {
				ja4 := identity.JA4(hello)
				ch.ja4.Store(&ja4)
			}
		}
		if prevGet != nil {
			return prevGet(hello)
		}
		return nil, nil
	}
	srv.TLSConfig = cfg
}

// ClientHelloFingerprint returns the JA4 fingerprint of the ClientHello of
// the connection a request came on (pass r.Context()), or "" when the
// connection is not TLS or its server does not capture it (see
// CaptureClientHello).
func ClientHelloFingerprint(ctx context.Context) string {
	ch, ok := ctx.Value(helloKey{}).(*connHello)
	if !ok {
		return ""
	}
	if p := ch.ja4.Load(); p != nil {
		return *p
	}
	return ""
}

// TLSResolver is the optional ability of a Resolver to fold the ClientHello
// fingerprint of a TLS connection into the actor (identity.Resolver has it).
// A Resolver without it resolves TLS requests with Resolve.
type TLSResolver interface {
	ResolveTLS(peer string, h http.Header, ja4 string) vigil.Actor
}
