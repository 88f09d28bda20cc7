package proxy

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/vigilsec/vigil/internal/graceful"
)

// ServerConfig configures the HTTP server in front of a Proxy. Zero values
// take the defaults.
type ServerConfig struct {
	Addr string
	// ReadHeaderTimeout bounds reading a request's headers (default 10 s),
	// which stops slowloris clients from holding connections.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections (default 120 s).
	IdleTimeout time.Duration
	// MaxHeaderBytes caps a request's headers (default 64 KiB); larger
	// ones get 431 Request Header Fields Too Large.
	MaxHeaderBytes int
	// WriteTimeout is off by default: it would cut Server-Sent Event
	// streams, WebSocket sessions and large downloads, whose length the
	// proxy cannot know. Idle and header timeouts still bound idle peers.
	WriteTimeout time.Duration
	// MaxBodyBytes caps a request body FastServer takes (default
	// DefaultMaxBodyBytes); a longer one is answered 413. NewServer's
	// net/http server streams bodies of any length and ignores it.
	MaxBodyBytes int64
	// TLSConfig is used by ServeTLS; nil means TLS 1.2 or later.
	TLSConfig *tls.Config
	// Logger receives the server's own errors (TLS handshakes, panics);
	// nil discards them.
	Logger *slog.Logger
}

// NewServer returns an http.Server for h with hardened defaults. For TLS
// termination call srv.ServeTLS(ln, certFile, keyFile): the TLS facts
// (version, cipher suite, SNI, ALPN and the JA4 fingerprint of the
// ClientHello, see CaptureClientHello) then land in each Exchange, and the
// ClientHello fingerprint is folded into the actor's.
func NewServer(h http.Handler, cfg ServerConfig) *http.Server {
	cfg = cfg.withDefaults()
	logger := cfg.Logger
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		TLSConfig:         cfg.TLSConfig,
		ErrorLog:          slog.NewLogLogger(logger.With("component", "proxy-server").Handler(), slog.LevelWarn),
	}
	CaptureClientHello(srv)
	graceful.CloseUnused(srv)
	return srv
}

// withDefaults fills in the zero fields, for both servers.
func (cfg ServerConfig) withDefaults() ServerConfig {
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 120 * time.Second
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 64 << 10
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}
