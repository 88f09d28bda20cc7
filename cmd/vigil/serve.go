package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/internal/graceful"
	"github.com/vigilsec/vigil/web"
)

func newServeCmd(a *app) *cobra.Command {
	var listen, store, tokenFile string
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the dashboard and REST API over a store",
		Long: `Serve the dashboard and the REST API (docs/api.md) over a Vigil store.

Every request needs the access token: "Authorization: Bearer TOKEN" for the API,
or open the dashboard once with ?token=TOKEN (a cookie keeps you signed in).
The token comes from --token-file, else from the VIGIL_TOKEN environment
variable, else a new one is generated and printed. The server binds to loopback
unless told otherwise.`,
		Example: `  vigil serve --store vigil.db
  VIGIL_TOKEN=$(cat token) vigil serve --listen 127.0.0.1:8081`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			set(fs, "listen", &a.cfg.Web.Listen, listen)
			set(fs, "store", &a.cfg.Store.Path, store)
			set(fs, "token-file", &a.cfg.Web.TokenFile, tokenFile)
			if err := a.validate(); err != nil {
				return err
			}
			token, err := a.token()
			if err != nil {
				return err
			}
			st, err := a.openExistingStore(cmd.Context(), "run vigil proxy, analyze or demo first, or pass --store")
			if err != nil {
				return err
			}
			defer st.Close()
			ln, err := net.Listen("tcp", a.cfg.Web.Listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", a.cfg.Web.Listen, err)
			}
			return a.serveWeb(cmd.Context(), ln, st, token)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", d.Web.Listen, "address to listen on")
	f.StringVar(&store, "store", d.Store.Path, "SQLite store to serve")
	f.StringVar(&tokenFile, "token-file", "", "file holding the access token")
	return cmd
}

// token returns the access token from the token file or VIGIL_TOKEN, or
// generates one and prints it.
func (a *app) token() (string, error) {
	if a.cfg.Web.TokenFile != "" {
		b, err := os.ReadFile(a.cfg.Web.TokenFile)
		if err != nil {
			return "", usagef("--token-file: %v", err)
		}
		t := strings.TrimSpace(string(b))
		if len(t) < 16 {
			return "", usagef("--token-file: the token must be at least 16 characters")
		}
		return t, nil
	}
	if t := strings.TrimSpace(os.Getenv("VIGIL_TOKEN")); t != "" {
		if len(t) < 16 {
			return "", usagef("VIGIL_TOKEN must be at least 16 characters")
		}
		return t, nil
	}
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b), nil
}

// serveWeb serves the dashboard and API on ln until ctx ends.
func (a *app) serveWeb(ctx context.Context, ln net.Listener, st vigil.Store, token string) error {
	h, err := web.New(st, web.Config{Token: token, Logger: a.logger.With("component", "web")})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	graceful.CloseUnused(srv) // a browser's preconnections must not hold the shutdown
	fmt.Fprintf(a.err, "dashboard: http://%s/?token=%s\n", ln.Addr(), token)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web server: %w", err)
	case <-ctx.Done():
	}
	shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
