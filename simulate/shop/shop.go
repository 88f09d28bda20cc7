// Package shop is Vigil's vulnerable demo shop: a realistic e-commerce JSON
// API with planted vulnerabilities, served on loopback together with the
// services it talks to (a partner payment service, a stand-in LLM and a fake
// cloud metadata service).
//
// Every planted vulnerability is listed in the ground truth (GroundTruth,
// from vulns.json) with its endpoint, OWASP API 2023 category, attack area
// and the request that triggers it. The documented API is in Spec
// (openapi.yaml, OpenAPI 3.1); the shadow and zombie endpoints are not.
//
// With Options.Hardened the same shop runs with every planted vulnerability
// fixed (hardened.go): the negative control for scanners and detectors.
//
// The shop is for tests and demos on one machine: everything listens on
// 127.0.0.1 and its import-from-URL feature fetches loopback URLs only.
// See docs/shop.md.
package shop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/graceful"
)

// Options configures Start. The zero value is usable.
type Options struct {
	// Seed draws the demo data (product prices, the weak coupon, gift-card
	// codes, the JWT secret). The same seed gives the same shop.
	Seed int64
	// Logger; nil discards.
	Logger *slog.Logger
	// Addr is the shop's listen address (default "127.0.0.1:0"). It must be
	// a loopback address; the other services always take a random port.
	Addr string
	// PartnerVia, when set, is a loopback URL the shop sends its payment
	// calls to instead of the partner service itself: an egress proxy (vigil
	// proxy in the demo) forwarding to PartnerURL. The calls then carry
	// PartnerHost as their Host, so the proxy sees a third-party host.
	PartnerVia string
	// PartnerHost names the partner in the Host header of calls sent
	// through PartnerVia; default "payments.partner.test".
	PartnerHost string
	// Hardened serves the shop's hardened twin: the same routes, spec and
	// response shapes with every planted vulnerability of the ground truth
	// fixed (ownership and role checks, no mass assignment, no secrets in
	// answers, parameterised search, no internal imports, the /api/v1 and
	// /internal routes gone, login and gift-card rate limits, payment
	// before confirmation, neutral errors, a support bot that keeps its
	// instructions). An active scan of it should find nothing. See
	// docs/shop.md.
	Hardened bool
}

// Server limits. The shop serves a simulator's peak load on a small machine,
// so every input is capped.
const (
	maxBody           = 1 << 20 // request body bytes
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
)

// Shop is a running demo shop and its companion services.
type Shop struct {
	logger  *slog.Logger
	app     *app
	servers []*http.Server
	urls    [4]string // shop, partner, llm, metadata
	dir     string
	wg      sync.WaitGroup
	once    sync.Once
	err     error
}

// Start seeds the shop and starts it with its partner payment service,
// stand-in LLM and fake metadata service, each on its own 127.0.0.1 port.
// They run until Close (ctx bounds only the start-up).
func Start(ctx context.Context, o Options) (*Shop, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if host, _, err := net.SplitHostPort(o.Addr); err != nil || !isLoopbackHost(host) {
		return nil, fmt.Errorf("shop: listen address %q: want a loopback host:port", o.Addr)
	}
	s := &Shop{logger: o.Logger.With("component", "shop")}
	lns := make([]net.Listener, 4)
	for i, addr := range []string{o.Addr, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"} {
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
		if err != nil {
			for _, l := range lns[:i] {
				l.Close()
			}
			return nil, fmt.Errorf("shop: listen %s: %w", addr, err)
		}
		lns[i] = ln
		s.urls[i] = "http://" + ln.Addr().String()
	}
	closeAll := func() {
		for _, l := range lns {
			l.Close()
		}
	}
	dir, err := os.MkdirTemp("", "vigil-shop-")
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("shop: %w", err)
	}
	s.dir = dir
	if o.PartnerVia != "" {
		u, err := url.Parse(o.PartnerVia)
		if err != nil || u.Scheme != "http" || !isLoopbackHost(u.Hostname()) {
			closeAll()
			return nil, fmt.Errorf("shop: partner via %q: want an http:// loopback URL", o.PartnerVia)
		}
		if o.PartnerHost == "" {
			o.PartnerHost = "payments.partner.test"
		}
	}
	cfg := config{
		seed:        o.Seed,
		partnerURL:  s.urls[1],
		partnerVia:  strings.TrimSuffix(o.PartnerVia, "/"),
		partnerHost: o.PartnerHost,
		llmURL:      s.urls[2],
		metadataURL: s.urls[3],
		dbPath:      dir + "/shop.db",
		hardened:    o.Hardened,
	}
	a, err := newApp(ctx, cfg, s.logger)
	if err != nil {
		closeAll()
		os.RemoveAll(dir)
		return nil, err
	}
	s.app = a
	handlers := []http.Handler{a.handler(), newPartner(a.partnerKey), newLLM(), newMetadata()}
	for i, h := range handlers {
		srv := &http.Server{
			Handler:           http.MaxBytesHandler(h, maxBody),
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		}
		graceful.CloseUnused(srv)
		s.servers = append(s.servers, srv)
		ln := lns[i]
		s.wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.logger.Error("serve", "addr", ln.Addr().String(), "err", err)
			}
		})
	}
	s.logger.Info("demo shop started", "hardened", o.Hardened, "url", s.urls[0], "partner", s.urls[1], "llm", s.urls[2], "metadata", s.urls[3])
	return s, nil
}

// URL is the shop's base URL, e.g. "http://127.0.0.1:41234".
func (s *Shop) URL() string { return s.urls[0] }

// PartnerURL is the partner payment service's base URL.
func (s *Shop) PartnerURL() string { return s.urls[1] }

// LLMURL is the stand-in LLM's base URL.
func (s *Shop) LLMURL() string { return s.urls[2] }

// MetadataURL is the fake cloud metadata service's base URL; its credentials
// listing is MetadataURL()+"/latest/meta-data/iam/security-credentials/".
func (s *Shop) MetadataURL() string { return s.urls[3] }

// Close stops the shop and its services and deletes its database. It waits
// at most a few seconds for requests in flight; connections that never sent
// a byte (a client's spare, pre-dialled ones) are closed at once.
func (s *Shop) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var errs []error
		for _, srv := range s.servers {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, err, srv.Close())
			}
		}
		s.wg.Wait()
		errs = append(errs, s.app.close())
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
		s.err = errors.Join(errs...)
	})
	return s.err
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
