package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigilsec/vigil"
)

// cookieName is the dashboard's session cookie. Its value is an HMAC of the
// token, so the cookie never holds the token itself; it is HttpOnly and
// SameSite=Strict, and Secure when the request came over TLS.
const cookieName = "vigil_session"

var errUnauthorized = vigil.Errorf(vigil.EUNAUTHORIZED, "missing or wrong access token")

// csrfHeader is the header the dashboard adds to its writes. A cross-site
// page can make a browser send the session cookie, but it cannot add a
// custom header without a CORS preflight, which Vigil never grants.
const csrfHeader = "X-Vigil-CSRF"

// authorize returns nil when r carries the token: an "Authorization: Bearer"
// header, or else the session cookie. A request with an Authorization header
// is judged on that header alone. A cookie-authenticated request with an
// unsafe method must also pass the CSRF check (see csrfOK).
func (s *Server) authorize(r *http.Request) error {
	if vals := r.Header.Values("Authorization"); len(vals) > 0 {
		if len(vals) == 1 && s.tokenOK(bearer(vals[0])) {
			return nil
		}
		return errUnauthorized
	}
	if !s.hasSession(r) {
		return errUnauthorized
	}
	if !safeMethod(r.Method) && !csrfOK(r) {
		return vigil.Errorf(codeForbidden,
			"cross-site request refused: send the Authorization header, or use the dashboard")
	}
	return nil
}

// csrfOK reports whether a cookie-authenticated write may proceed: it must
// carry the X-Vigil-CSRF header (value "1"), and must not be marked by the
// browser as coming from another origin (Sec-Fetch-Site, else Origin).
func csrfOK(r *http.Request) bool {
	if r.Header.Get(csrfHeader) != "1" {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default: // same-site, cross-site, none
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true // a non-browser client that copied the cookie: the header suffices
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// bearer returns the credentials of a "Bearer" Authorization header, "" for
// any other scheme.
func bearer(h string) string {
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

// tokenOK compares t with the token in constant time. Both are hashed first,
// so neither the token's length nor its content leaks through timing.
func (s *Server) tokenOK(t string) bool {
	if t == "" || len(t) > maxTokenBytes {
		return false
	}
	h := sha256.Sum256([]byte(t))
	return subtle.ConstantTimeCompare(h[:], s.token[:]) == 1
}

// hasSession reports whether one of r's session cookies is valid. Several
// cookies of the name may come (one set by a sibling domain): any valid one
// counts, and at most a few are looked at.
func (s *Server) hasSession(r *http.Request) bool {
	for i, c := range r.CookiesNamed(cookieName) {
		if i == 4 {
			break
		}
		if subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.session)) == 1 {
			return true
		}
	}
	return false
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    s.session,
		Path:     "/",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

//go:embed ui
var ui embed.FS

var loginTmpl = template.Must(template.ParseFS(ui, "ui/login.html"))

// loginPage answers with the login form and an optional message.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := loginTmpl.Execute(w, struct{ Message string }{msg}); err != nil {
		s.log.WarnContext(r.Context(), "render login page", "err", err)
	}
}

// login handles the login form: the right token sets the session cookie and
// goes to the dashboard; a wrong one shows the form again with 401.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	// A cross-site form must not sign a browser in (login CSRF).
	if err := http.NewCrossOriginProtection().Check(r); err != nil {
		return vigil.Errorf(codeForbidden, "cross-origin login refused")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return vigil.Errorf(vigil.EINVALID, "bad login form")
	}
	if !s.tokenOK(r.PostForm.Get("token")) {
		s.log.DebugContext(r.Context(), "dashboard login refused", "remote", r.RemoteAddr)
		s.loginPage(w, r, http.StatusUnauthorized, "Wrong token.")
		return nil
	}
	s.setSession(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// logout clears the session cookie. Like login, a cross-site form may not
// use it.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := http.NewCrossOriginProtection().Check(r); err != nil {
		return vigil.Errorf(codeForbidden, "cross-origin logout refused")
	}
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// dashboard serves the dashboard page. With ?token=TOKEN it sets the session
// cookie and redirects to "/", so the token leaves the address bar (and the
// history) at once. Without a session it shows the login form.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	if q := r.URL.Query(); q.Has("token") {
		if !s.tokenOK(q.Get("token")) {
			s.loginPage(w, r, http.StatusUnauthorized, "Wrong token.")
			return nil
		}
		s.setSession(w, r)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	if s.authorize(r) != nil {
		s.loginPage(w, r, http.StatusUnauthorized, "")
		return nil
	}
	return s.serveFile(w, "index.html")
}

// staticTypes lists the files under ui/ served at /static/, with their type.
var staticTypes = map[string]string{
	"app.js":  "text/javascript; charset=utf-8",
	"app.css": "text/css; charset=utf-8",
}

// static serves the dashboard's script and style sheet. They hold no data,
// so they need no token (the login form uses the style sheet).
func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	if _, ok := staticTypes[name]; !ok {
		return vigil.Errorf(vigil.ENOTFOUND, "not found")
	}
	return s.serveFile(w, name)
}

func (s *Server) serveFile(w http.ResponseWriter, name string) error {
	b, err := ui.ReadFile("ui/" + name)
	if err != nil {
		return err // embedded: only a build mistake gets here
	}
	ct, ok := staticTypes[name]
	if !ok {
		ct = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
	return nil
}
