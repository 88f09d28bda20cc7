package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/identity"
)

// selfSigned makes an ECDSA P-256 certificate for shop.test and 127.0.0.1
// and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "shop.test"},
		DNSNames:     []string{"shop.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// serveTLS serves srv with ServeTLS on 127.0.0.1, as vigil proxy does, and
// returns its address; the server is closed when the test ends.
func serveTLS(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	return ln.Addr().String()
}

// helloClient is an HTTPS client with its own TLS settings.
type helloClient struct {
	name string
	tls  *tls.Config
	h2   bool
}

// transport is a transport of its own (its own connections) for c.
func (c helloClient) transport(pool *x509.CertPool) *http.Transport {
	cfg := c.tls.Clone()
	cfg.RootCAs = pool
	cfg.ServerName = "shop.test"
	return &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: c.h2, DisableCompression: true}
}

// getWith sends one GET with the same headers whatever the client.
func getWith(t *testing.T, tr *http.Transport, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The same headers for every client: only TLS tells them apart.
	req.Header.Set("User-Agent", "inventory-sync/2.1")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", "en")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var ja4Shape = regexp.MustCompile(`^t1[23]d\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)

// TestClientHelloFingerprintEndToEnd runs the proxy behind NewServer with
// ServeTLS, as vigil proxy does, and sends the same request from one
// address with differently configured TLS clients.
func TestClientHelloFingerprintEndToEnd(t *testing.T) {
	cert, pool := selfSigned(t)
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	res, err := identity.New(identity.Default())
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	p, err := New(Config{Upstream: up.URL}, rec, res, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.CloseIdleConnections()
	addr := serveTLS(t, NewServer(p, ServerConfig{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}))
	url := "https://" + addr + "/api/v2/items"

	clients := []helloClient{
		{name: "tls12-one-suite", tls: &tls.Config{MaxVersion: tls.VersionTLS12,
			CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			CurvePreferences: []tls.CurveID{tls.CurveP256}}},
		{name: "tls13-http1", tls: &tls.Config{MinVersion: tls.VersionTLS13}},
		{name: "tls13-h2", tls: &tls.Config{MinVersion: tls.VersionTLS13}, h2: true},
	}
	type seen struct {
		actor    vigil.Actor
		ja4      string
		httpOnly string // the fingerprint of the headers alone
		proto    string
	}
	one := func(t *testing.T, tr *http.Transport) seen {
		t.Helper()
		resp := getWith(t, tr, url)
		x := rec.next(t)
		if x.Client.TLS == nil {
			t.Fatal("no TLS facts")
		}
		return seen{x.Actor, x.Client.TLS.Fingerprint, identity.Fingerprint(x.Request.Header), resp.Proto}
	}
	var first []seen
	for _, c := range clients {
		// Two connections of the same client, and a second request on the
		// first one: the same fingerprint every time.
		var got []seen
		for range 2 {
			tr := c.transport(pool)
			got = append(got, one(t, tr), one(t, tr))
			tr.CloseIdleConnections()
		}
		for i, s := range got {
			if !ja4Shape.MatchString(s.ja4) {
				t.Errorf("%s #%d: client.tls.fingerprint %q does not have the JA4 shape", c.name, i, s.ja4)
			}
			if s != got[0] {
				t.Errorf("%s #%d: %+v, first request %+v: want the same", c.name, i, s, got[0])
			}
			if s.actor.Addr != "127.0.0.1" {
				t.Errorf("%s #%d: addr %q", c.name, i, s.actor.Addr)
			}
		}
		if want := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[c.h2]; got[0].proto != want {
			t.Errorf("%s: protocol %s, want %s", c.name, got[0].proto, want)
		}
		first = append(first, got[0])
	}
	for i := range first {
		for j := i + 1; j < len(first); j++ {
			a, b := first[i], first[j]
			if a.httpOnly != b.httpOnly {
				t.Errorf("%s and %s: header fingerprints %q and %q differ; the test wants the same headers",
					clients[i].name, clients[j].name, a.httpOnly, b.httpOnly)
			}
			if a.ja4 == b.ja4 || a.actor.Fingerprint == b.actor.Fingerprint {
				t.Errorf("%s and %s: same fingerprint (ja4 %q / %q, actor %q / %q)",
					clients[i].name, clients[j].name, a.ja4, b.ja4, a.actor.Fingerprint, b.actor.Fingerprint)
			}
		}
	}
	for i, s := range first {
		if want := identity.FingerprintTLS(http.Header{
			"User-Agent": {"inventory-sync/2.1"}, "Accept": {"application/json"}, "Accept-Language": {"en"},
		}, s.ja4); s.actor.Fingerprint != want {
			t.Errorf("%s: actor fingerprint %q, want FingerprintTLS %q", clients[i].name, s.actor.Fingerprint, want)
		}
	}
}

// TestClientHelloPlainHTTP: without TLS nothing changes, on the same server.
func TestClientHelloPlainHTTP(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(echo), Config{}, mustIdentity(t), nil)
	req, _ := http.NewRequest("GET", e.front.URL+"/api/v2/items", nil)
	req.Header.Set("User-Agent", "inventory-sync/2.1")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	x := e.rec.next(t)
	if x.Client.TLS != nil {
		t.Errorf("TLS facts %+v on plain HTTP", x.Client.TLS)
	}
	if want := identity.Fingerprint(x.Request.Header); x.Actor.Fingerprint != want {
		t.Errorf("fingerprint %q, want the header fingerprint %q", x.Actor.Fingerprint, want)
	}
}

func mustIdentity(t *testing.T) *identity.Resolver {
	t.Helper()
	r, err := identity.New(identity.Default())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type ctxMark struct{}

// TestCaptureClientHelloOwnServer: a service's own server with Middleware
// gets the fingerprint too, and its own hooks still run.
func TestCaptureClientHelloOwnServer(t *testing.T) {
	cert, pool := selfSigned(t)
	var getCalls atomic.Int64
	own := &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			getCalls.Add(1)
			return nil, nil
		},
	}
	rec := newRecorder()
	var marked atomic.Bool
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		marked.Store(r.Context().Value(ctxMark{}) == "own")
		_, _ = io.WriteString(w, "ok")
	})
	srv := &http.Server{
		Handler:           Middleware(MiddlewareConfig{}, rec, mustIdentity(t), nil)(app),
		TLSConfig:         own,
		ReadHeaderTimeout: 5 * time.Second,
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, ctxMark{}, "own")
		},
	}
	CaptureClientHello(srv)
	if srv.TLSConfig == own {
		t.Error("CaptureClientHello changed the caller's tls.Config instead of a copy")
	}
	addr := serveTLS(t, srv)
	tr := helloClient{tls: &tls.Config{}}.transport(pool)
	defer tr.CloseIdleConnections()
	getWith(t, tr, "https://"+addr+"/")
	x := rec.next(t)
	if x.Client.TLS == nil || !ja4Shape.MatchString(x.Client.TLS.Fingerprint) {
		t.Fatalf("TLS facts %+v: want a JA4 fingerprint", x.Client.TLS)
	}
	if want := identity.FingerprintTLS(x.Request.Header, x.Client.TLS.Fingerprint); x.Actor.Fingerprint != want {
		t.Errorf("actor fingerprint %q, want %q", x.Actor.Fingerprint, want)
	}
	if n := getCalls.Load(); n != 1 {
		t.Errorf("the service's GetConfigForClient ran %d times, want 1", n)
	}
	if !marked.Load() {
		t.Error("the service's ConnContext value is gone")
	}
}

// TestClientHelloFingerprintWithoutTLSResolver: a Resolver without
// ResolveTLS keeps its own fingerprint; the exchange still records the JA4.
func TestClientHelloFingerprintWithoutTLSResolver(t *testing.T) {
	cert, pool := selfSigned(t)
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	rec := newRecorder()
	p, err := New(Config{Upstream: up.URL}, rec, headerResolver{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.CloseIdleConnections()
	addr := serveTLS(t, NewServer(p, ServerConfig{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}))
	tr := helloClient{tls: &tls.Config{}}.transport(pool)
	defer tr.CloseIdleConnections()
	getWith(t, tr, "https://"+addr+"/")
	x := rec.next(t)
	if x.Actor.Fingerprint != "" {
		t.Errorf("actor fingerprint %q, want the resolver's (none)", x.Actor.Fingerprint)
	}
	if x.Client.TLS == nil || !ja4Shape.MatchString(x.Client.TLS.Fingerprint) {
		t.Errorf("TLS facts %+v: want a JA4 fingerprint", x.Client.TLS)
	}
}

// BenchmarkTLSHandshake is the cost of the capture on a whole TLS 1.3
// handshake over an in-memory pipe: the same handshake without the hook is
// the baseline.
func BenchmarkTLSHandshake(b *testing.B) {
	cert, pool := selfSigned(b)
	plain := &tls.Config{Certificates: []tls.Certificate{cert}}
	srv := &http.Server{TLSConfig: plain}
	CaptureClientHello(srv)
	client := &tls.Config{RootCAs: pool, ServerName: "shop.test"}
	ctx := context.WithValue(context.Background(), helloKey{}, &connHello{})
	run := func(b *testing.B, cfg *tls.Config) float64 {
		b.ReportAllocs()
		for b.Loop() {
			c, s := net.Pipe()
			done := make(chan error, 1)
			go func() { done <- tls.Client(c, client).Handshake() }()
			if err := tls.Server(s, cfg).HandshakeContext(ctx); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			c.Close()
			s.Close()
		}
		return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	}
	var base float64
	b.Run("baseline", func(b *testing.B) { base = run(b, plain) })
	b.Run("capture", func(b *testing.B) {
		if hooked := run(b, srv.TLSConfig); base > 0 {
			b.ReportMetric(hooked/base, "x-baseline")
		}
	})
}
