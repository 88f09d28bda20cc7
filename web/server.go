// Package web serves Vigil's REST API and dashboard over a vigil.Store.
//
// Every route except /healthz, the login page and the static assets needs the
// access token: "Authorization: Bearer TOKEN" for API clients, or a session
// cookie the dashboard obtains with /?token=TOKEN or the login form. See
// docs/api.md for the routes, parameters and error format.
package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vigilsec/vigil"
)

// Config configures a Server.
type Config struct {
	// Token is the access token every protected route requires. Required.
	Token string
	// Logger receives internal errors and security events. Nil discards them.
	Logger *slog.Logger
	// Metrics, when set, is served at GET /metrics behind the token.
	Metrics http.Handler
	// Now is the clock (action creation, "active" actions). Nil is time.Now.
	Now func() time.Time
}

// Server is the REST API and dashboard. It is an http.Handler and is safe for
// concurrent use.
type Server struct {
	store   vigil.Store
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	token   [sha256.Size]byte // SHA-256 of the token: compared in constant time
	session string            // the session cookie's value: an HMAC of the token
}

// Caps on input, so a hostile client costs little.
const (
	maxBodyBytes   = 8 << 10 // POST bodies: an action is a few hundred bytes
	maxTokenBytes  = 1 << 10 // a token longer than this is wrong
	maxParamBytes  = 256     // one query parameter value
	defaultLimit   = 100     // findings per page when no limit is given
	maxLimit       = 1000    // findings per page at most
	summaryScanCap = 10000   // findings the summary counts at most (it says when it stopped)
	samplesDefault = 5
	samplesMax     = 50
)

// New returns a Server over store. cfg.Token must be non-empty.
func New(store vigil.Store, cfg Config) (*Server, error) {
	if store == nil {
		return nil, vigil.Errorf(vigil.EINVALID, "web: no store")
	}
	if cfg.Token == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "web: an access token is required")
	}
	if len(cfg.Token) > maxTokenBytes {
		return nil, vigil.Errorf(vigil.EINVALID, "web: the access token is longer than %d bytes", maxTokenBytes)
	}
	s := &Server{
		store: store,
		log:   cfg.Logger,
		now:   cfg.Now,
		mux:   http.NewServeMux(),
		token: sha256.Sum256([]byte(cfg.Token)),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	mac := hmac.New(sha256.New, []byte(cfg.Token))
	mac.Write([]byte("vigil dashboard session v1"))
	s.session = hex.EncodeToString(mac.Sum(nil))
	s.routes(cfg.Metrics)
	return s, nil
}

// access says who may call a route.
type access int

const (
	public access = iota // anyone; the handler checks what it needs (the dashboard shows a login form)
	api                  // the token: bearer header, or cookie (+ same-origin for unsafe methods); 401 JSON otherwise
)

// handlerFunc is a route's handler: it writes a response or returns an error,
// which the wrapper writes (see writeError).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type route struct {
	method, path string
	access       access
	h            handlerFunc
}

func (s *Server) routes(metrics http.Handler) {
	rs := []route{
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/static/{file}", public, s.static},
		{"POST", "/login", public, s.login},
		{"POST", "/logout", public, s.logout},
		{"GET", "/{$}", public, s.dashboard}, // the login form without the token

		{"GET", "/api/v1/summary", api, s.summary},
		{"GET", "/api/v1/findings", api, s.findings},
		{"GET", "/api/v1/endpoints", api, s.endpoints},
		{"GET", "/api/v1/endpoints/samples", api, s.samples},
		{"GET", "/api/v1/incidents", api, s.incidents},
		{"GET", "/api/v1/actions", api, s.actions},
		{"POST", "/api/v1/actions", api, s.createAction},
		{"DELETE", "/api/v1/actions/{id}", api, s.deleteAction},
	}
	if metrics != nil {
		rs = append(rs, route{"GET", "/metrics", api, func(w http.ResponseWriter, r *http.Request) error {
			metrics.ServeHTTP(w, r)
			return nil
		}})
	}
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range rs {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt.access, rt.h))
		if _, ok := allowed[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if rt.method == http.MethodGet { // GET patterns answer HEAD too
			allowed[rt.path] = append(allowed[rt.path], http.MethodHead)
		}
	}
	// A known path with another method: 405 in the same error format. The
	// method-less pattern is less specific, so it only gets the other methods.
	for _, p := range paths {
		methods := allowed[p]
		acc := api
		if !strings.HasPrefix(p, "/api/") && p != "/metrics" {
			acc = public
		}
		s.mux.Handle(p, s.wrap(acc, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			return errMethod
		}))
	}
	// Unknown API paths answer only with the token, so they reveal nothing.
	s.mux.Handle("/api/", s.wrap(api, func(w http.ResponseWriter, r *http.Request) error {
		return vigil.Errorf(vigil.ENOTFOUND, "no such route")
	}))
	s.mux.Handle("/", s.wrap(public, func(w http.ResponseWriter, r *http.Request) error {
		return vigil.Errorf(vigil.ENOTFOUND, "not found")
	}))
}

// Two errors of the web layer's own, outside the root package's codes: 405
// Method Not Allowed, and 403 for a cookie-authenticated write that fails the
// CSRF check (the session is fine; the request's origin is not).
const (
	codeMethod    = "method_not_allowed"
	codeForbidden = "forbidden"
)

var errMethod = vigil.Errorf(codeMethod, "method not allowed")

// ServeHTTP sets the security headers and routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

// wrap applies the route's access rule and writes the handler's error.
func (s *Server) wrap(acc access, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Nothing here may be kept by a cache: the data is live and private.
		w.Header().Set("Cache-Control", "no-store")
		if acc != public {
			if err := s.authorize(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	vigil.EINVALID:      http.StatusBadRequest,
	vigil.EUNAUTHORIZED: http.StatusUnauthorized,
	vigil.ENOTFOUND:     http.StatusNotFound,
	vigil.ECONFLICT:     http.StatusConflict,
	vigil.EUNAVAILABLE:  http.StatusServiceUnavailable,
	vigil.EINTERNAL:     http.StatusInternalServerError,
	codeMethod:          http.StatusMethodNotAllowed,
	codeForbidden:       http.StatusForbidden,
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError writes err as {"error":{"code","message"}}. Internal errors (any
// error that is not a *vigil.Error, and unknown codes) are logged with their
// detail and shown only as "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := vigil.ErrorCode(err), vigil.ErrorMessage(err)
	status, ok := statusOf[code]
	if !ok || code == vigil.EINTERNAL {
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		code, msg, status = vigil.EINTERNAL, "internal error", http.StatusInternalServerError
	}
	if code == vigil.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
	}
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	s.writeJSON(w, r, status, b)
}

// writeJSON writes v as JSON. encoding/json escapes <, > and & in strings, so
// the body is safe even if a browser were to sniff it.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// A value JSON cannot encode (e.g. a NaN from the store): no detail out.
		s.log.LogAttrs(r.Context(), slog.LevelError, "encode response",
			slog.String("path", r.URL.Path), slog.Any("err", err))
		status, body = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
