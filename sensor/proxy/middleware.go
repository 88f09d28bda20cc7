package proxy

import (
	"net/http"
	"time"

	"github.com/vigilsec/vigil"
)

// MiddlewareConfig configures a Guard. Zero values take the defaults.
type MiddlewareConfig struct {
	// CaptureBytes is how much of each body is kept (default 64 KiB;
	// negative keeps none).
	CaptureBytes int64
	// MaxTarpit caps a tarpit action's delay (default 10 s).
	MaxTarpit time.Duration
	// MaxBuckets caps the rate limiter's buckets (default DefaultMaxBuckets).
	MaxBuckets int
}

// Guard gives a Go service the proxy's sensor without a proxy: capture,
// enforcement and submission around its own handler. Exchanges carry
// Sensor "middleware".
type Guard struct {
	core *core
}

// NewGuard returns a Guard; the arguments are as for New.
func NewGuard(cfg MiddlewareConfig, sub Submitter, res Resolver, table *Table) *Guard {
	return &Guard{core: newCore(vigil.SensorMiddleware, cfg.CaptureBytes, cfg.MaxTarpit, cfg.MaxBuckets, sub, res, table)}
}

// Wrap returns next behind the guard. The ResponseWriter next gets still
// implements http.Flusher and http.Hijacker when the server's does.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.core.serve(w, r, func(cw *captureWriter, r *http.Request, _ string) {
			next.ServeHTTP(cw, r)
		})
	})
}

// Stats returns the guard's counters.
func (g *Guard) Stats() Stats { return g.core.snapshot() }

// Middleware is NewGuard(...).Wrap, for code that needs no counters.
func Middleware(cfg MiddlewareConfig, sub Submitter, res Resolver, table *Table) func(http.Handler) http.Handler {
	return NewGuard(cfg, sub, res, table).Wrap
}
