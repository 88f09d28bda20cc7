package identity

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// u16s reads a comma-separated list of 4-digit hex values ("1301,c02b").
func u16s(t testing.TB, s string) []uint16 {
	t.Helper()
	if s == "" {
		return nil
	}
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(f, 16, 16)
		if err != nil {
			t.Fatalf("bad hex %q: %v", f, err)
		}
		out = append(out, uint16(v))
	}
	return out
}

func sigs(t testing.TB, s string) []tls.SignatureScheme {
	var out []tls.SignatureScheme
	for _, v := range u16s(t, s) {
		out = append(out, tls.SignatureScheme(v))
	}
	return out
}

// The lists of JA4's specification example (its "ja4_ro" raw output, in the
// order sent), and of a Chrome 143 hello published with its JA4.
const (
	specCiphers   = "1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035"
	specExts      = "001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015"
	specSigs      = "0403,0804,0401,0503,0805,0501,0806,0601"
	chrome143Exts = "002d,0033,0010,fe0d,0017,44cd,0000,000b,000a,002b,ff01,0023,0012,0005,000d,001b"
	// A Go 1.2-only client: no supported_versions, no ALPN, no SNI.
	oldCiphers = "c02f,c030,c013,c014,009c,009d,002f,0035"
	oldExts    = "000a,000b,000d,ff01,0017,0012"
)

// spec is the hello of JA4's specification example, with GREASE values
// where Chrome puts them.
func spec(t testing.TB) *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{
		CipherSuites:      append([]uint16{0x2a2a}, u16s(t, specCiphers)...),
		ServerName:        "shop.test",
		SupportedVersions: []uint16{0x6a6a, tls.VersionTLS13, tls.VersionTLS12},
		SupportedProtos:   []string{"h2", "http/1.1"},
		Extensions:        append(append([]uint16{0xbaba}, u16s(t, specExts)...), 0x1a1a),
		SignatureSchemes:  sigs(t, specSigs),
		SupportedCurves:   []tls.CurveID{0x8a8a, tls.X25519, tls.CurveP256},
	}
}

func TestJA4(t *testing.T) {
	edit := func(f func(*tls.ClientHelloInfo)) *tls.ClientHelloInfo {
		h := spec(t)
		f(h)
		return h
	}
	tests := []struct {
		name  string
		hello *tls.ClientHelloInfo
		want  string
	}{
		{"nil", nil, ""},
		// The specification's worked example and its variant without
		// signature algorithms.
		{"spec example", spec(t), "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		{"spec without signature algorithms", edit(func(h *tls.ClientHelloInfo) { h.SignatureSchemes = nil }),
			"t13d1516h2_8daaf6152771_6d807ffa2a79"},
		{"chrome 143", edit(func(h *tls.ClientHelloInfo) {
			h.Extensions = append([]uint16{0x3a3a}, u16s(t, chrome143Exts)...)
		}), "t13d1516h2_8daaf6152771_d8a2da3f94cd"},
		{"no SNI extension", edit(func(h *tls.ClientHelloInfo) {
			h.ServerName = ""
			h.Extensions = slices.DeleteFunc(h.Extensions, func(e uint16) bool { return e == extServerName })
		}), "t13i1515h2_8daaf6152771_e5627efa2ab1"},
		{"SNI from ServerName without Extensions", &tls.ClientHelloInfo{ServerName: "a.test", SupportedVersions: []uint16{tls.VersionTLS12}},
			"t12d0000" + "00_000000000000_000000000000"},
		{"http/1.1 first", edit(func(h *tls.ClientHelloInfo) { h.SupportedProtos = []string{"http/1.1", "h2"} }),
			"t13d1516h1_8daaf6152771_e5627efa2ab1"},
		{"one-character ALPN", edit(func(h *tls.ClientHelloInfo) { h.SupportedProtos = []string{"x"} }),
			"t13d1516xx_8daaf6152771_e5627efa2ab1"},
		{"non-alphanumeric ALPN", edit(func(h *tls.ClientHelloInfo) { h.SupportedProtos = []string{"\xabh2/"} }),
			"t13d1516af_8daaf6152771_e5627efa2ab1"},
		{"TLS 1.2 client", &tls.ClientHelloInfo{
			CipherSuites:      u16s(t, oldCiphers),
			SupportedVersions: []uint16{tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10},
			Extensions:        u16s(t, oldExts),
			SignatureSchemes:  sigs(t, specSigs),
		}, "t12i080600_" + hex12("002f,0035,009c,009d,c013,c014,c02f,c030") + "_" +
			hex12("000a,000b,000d,0012,0017,ff01_"+specSigs)},
		{"unknown version", &tls.ClientHelloInfo{SupportedVersions: []uint16{0x7f1c}}, "t00i000000_000000000000_000000000000"},
		{"SSL 3.0", &tls.ClientHelloInfo{SupportedVersions: []uint16{0x0300}}, "t" + "s3i000000_000000000000_000000000000"},
		{"counts cap at 99", &tls.ClientHelloInfo{CipherSuites: seq(150), Extensions: seq(120)},
			"t00i999900_" + hex12(hexSeq(150)) + "_" + hex12(strings.Replace(hexSeq(120), "0010,", "", 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JA4(tt.hello); got != tt.want {
				t.Errorf("JA4 = %q, want %q", got, tt.want)
			}
		})
	}
}

// seq is 1..n, which holds no GREASE value and no SNI (but ALPN, 0x0010,
// from n = 16).
func seq(n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = uint16(i + 1)
	}
	return out
}

func hexSeq(n int) string {
	var b []byte
	for i, v := range seq(n) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, v)
	}
	return string(b)
}

// TestJA4Invariants checks what must and must not change the fingerprint.
func TestJA4Invariants(t *testing.T) {
	base := JA4(spec(t))
	tests := []struct {
		name string
		edit func(*tls.ClientHelloInfo)
		same bool
	}{
		{"GREASE removed", func(h *tls.ClientHelloInfo) {
			h.CipherSuites = h.CipherSuites[1:]
			h.Extensions = h.Extensions[1 : len(h.Extensions)-1]
			h.SupportedVersions = h.SupportedVersions[1:]
		}, true},
		{"other GREASE values", func(h *tls.ClientHelloInfo) {
			h.CipherSuites[0] = 0xdada
			h.Extensions = append(h.Extensions, 0xfafa, 0x0a0a)
			h.SignatureSchemes = append(h.SignatureSchemes, 0x9a9a)
		}, true},
		{"ciphers reordered", func(h *tls.ClientHelloInfo) { slices.Reverse(h.CipherSuites) }, true},
		{"extensions reordered", func(h *tls.ClientHelloInfo) { slices.Reverse(h.Extensions) }, true},
		{"other server name", func(h *tls.ClientHelloInfo) { h.ServerName = "api.other.test" }, true},
		{"curves are not part of JA4", func(h *tls.ClientHelloInfo) { h.SupportedCurves = []tls.CurveID{tls.CurveP384} }, true},
		{"signature algorithms reordered", func(h *tls.ClientHelloInfo) { slices.Reverse(h.SignatureSchemes) }, false},
		{"one cipher fewer", func(h *tls.ClientHelloInfo) { h.CipherSuites = h.CipherSuites[:len(h.CipherSuites)-1] }, false},
		{"one cipher swapped", func(h *tls.ClientHelloInfo) { h.CipherSuites[3] = 0xc009 }, false},
		{"extension added", func(h *tls.ClientHelloInfo) { h.Extensions = append(h.Extensions, 0x001c) }, false},
		{"no ALPN", func(h *tls.ClientHelloInfo) { h.SupportedProtos = nil }, false},
		{"TLS 1.2 at most", func(h *tls.ClientHelloInfo) { h.SupportedVersions = []uint16{tls.VersionTLS12} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := spec(t)
			tt.edit(h)
			got := JA4(h)
			if (got == base) != tt.same {
				t.Errorf("JA4 = %q, base %q: same = %v, want %v", got, base, got == base, tt.same)
			}
		})
	}
}

func TestIsGREASE(t *testing.T) {
	var got []uint16
	for v := 0; v <= 0xffff; v++ {
		if isGREASE(uint16(v)) {
			got = append(got, uint16(v))
		}
	}
	want := []uint16{0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a,
		0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GREASE values (-want +got):\n%s", diff)
	}
}

// helloOf runs a TLS handshake over an in-memory pipe and returns the
// ClientHelloInfo the server saw for a client with cfg.
func helloOf(t testing.TB, cfg *tls.Config) *tls.ClientHelloInfo {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	errStop := errors.New("stop after the hello")
	var got *tls.ClientHelloInfo
	srv := tls.Server(s, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		got = h
		return nil, errStop
	}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		cfg = cfg.Clone()
		cfg.InsecureSkipVerify = true
		_ = tls.Client(c, cfg).Handshake() // fails: the server stops
	}()
	if err := srv.Handshake(); !errors.Is(err, errStop) {
		t.Fatalf("server handshake: %v, want the stop error", err)
	}
	s.Close()
	c.Close()
	<-done
	return got
}

// TestJA4GoClients fingerprints real hellos of Go clients configured
// differently: each setting that reaches the hello changes the fingerprint,
// and a repeated handshake does not.
func TestJA4GoClients(t *testing.T) {
	shape := regexp.MustCompile(`^t1[23][di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)
	clients := []struct {
		name    string
		cfg     *tls.Config
		aPrefix string
	}{
		{"default", &tls.Config{ServerName: "shop.test"}, "t13d"},
		{"h2", &tls.Config{ServerName: "shop.test", NextProtos: []string{"h2", "http/1.1"}}, "t13d"},
		{"no SNI", &tls.Config{}, "t13i"},
		{"TLS 1.2 only", &tls.Config{ServerName: "shop.test", MaxVersion: tls.VersionTLS12}, "t12d"},
		{"TLS 1.2 two ciphers", &tls.Config{ServerName: "shop.test", MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}, "t12d02"},
	}
	seen := map[string]string{}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			got := JA4(helloOf(t, c.cfg))
			if !shape.MatchString(got) || !strings.HasPrefix(got, c.aPrefix) {
				t.Errorf("JA4 = %q, want the JA4 shape starting %q", got, c.aPrefix)
			}
			if again := JA4(helloOf(t, c.cfg)); again != got {
				t.Errorf("second handshake: JA4 = %q, first %q", again, got)
			}
			if other, ok := seen[got]; ok {
				t.Errorf("JA4 %q same as client %q", got, other)
			}
			seen[got] = c.name
		})
	}
}

func TestFingerprintTLS(t *testing.T) {
	h := http.Header{"User-Agent": {"curl/8.5.0"}, "Accept": {"*/*"}}
	r := mustResolver(t, Default())
	plain := r.Resolve("203.0.113.9:4000", h)
	ja4a, ja4b := "t13d1516h2_8daaf6152771_e5627efa2ab1", "t12i080600_4b22cbed5bed_a9f7e7d3d3e4"
	a := r.ResolveTLS("203.0.113.9:4000", h, ja4a)
	b := r.ResolveTLS("203.0.113.9:4000", h, ja4b)
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, fp := range []string{a.Fingerprint, b.Fingerprint} {
		if !hex16.MatchString(fp) {
			t.Errorf("Fingerprint %q is not 16 hex digits", fp)
		}
	}
	if a.Fingerprint == b.Fingerprint || a.Fingerprint == plain.Fingerprint {
		t.Errorf("fingerprints plain %q, tls a %q, tls b %q: want all different", plain.Fingerprint, a.Fingerprint, b.Fingerprint)
	}
	if a.Principal != plain.Principal || a.Addr != plain.Addr {
		t.Errorf("ResolveTLS changed more than the fingerprint: %+v vs %+v", a, plain)
	}
	if got := r.ResolveTLS("203.0.113.9:4000", h, ""); got != plain {
		t.Errorf("ResolveTLS without ja4 = %+v, want Resolve's %+v", got, plain)
	}
	if got := FingerprintTLS(h, ja4a); got != a.Fingerprint {
		t.Errorf("FingerprintTLS = %q, ResolveTLS %q", got, a.Fingerprint)
	}
	if got := FingerprintTLS(h, ""); got != Fingerprint(h) {
		t.Errorf("FingerprintTLS without ja4 = %q, want Fingerprint %q", got, Fingerprint(h))
	}
}

// FuzzJA4 builds hellos from arbitrary bytes: JA4 never panics, always has
// its shape, and ignores GREASE and the order of ciphers and extensions.
func FuzzJA4(f *testing.F) {
	enc := func(vs []uint16) []byte {
		var b []byte
		for _, v := range vs {
			b = append(b, byte(v>>8), byte(v))
		}
		return b
	}
	h := spec(f)
	f.Add(enc(h.CipherSuites), enc(h.Extensions), enc([]uint16{0x0403, 0x0804}), enc(h.SupportedVersions), "h2", "shop.test")
	f.Add(enc(u16s(f, oldCiphers)), enc(u16s(f, oldExts)), []byte{}, enc([]uint16{0x0303}), "", "")
	f.Add(enc(seq(150)), enc(seq(120)), enc(seq(3)), []byte{0x7f}, "\xff", "x")
	f.Add([]byte{}, []byte{}, []byte{}, []byte{}, "http/1.1", "")
	shape := regexp.MustCompile(`^t(1[0-3]|s[1-3]|00)[di]\d{4}[0-9a-zA-Z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)
	dec := func(b []byte) []uint16 {
		out := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			out = append(out, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return out
	}
	f.Fuzz(func(t *testing.T, ciphers, exts, sigBytes, versions []byte, alpn, sni string) {
		var ss []tls.SignatureScheme
		for _, v := range dec(sigBytes) {
			ss = append(ss, tls.SignatureScheme(v))
		}
		h := &tls.ClientHelloInfo{
			CipherSuites:      dec(ciphers),
			Extensions:        slices.Compact(slices.Sorted(slices.Values(dec(exts)))), // Go rejects duplicates
			SignatureSchemes:  ss,
			SupportedVersions: dec(versions),
			SupportedProtos:   []string{alpn},
			ServerName:        sni,
		}
		got := JA4(h)
		if !shape.MatchString(got) {
			t.Fatalf("JA4 = %q: not the JA4 shape", got)
		}
		if len(h.CipherSuites) >= maxHelloItems || len(h.Extensions) >= maxHelloItems {
			return // past the cap, which entries are read depends on order
		}
		h2 := *h
		h2.CipherSuites = slices.Clone(h.CipherSuites)
		slices.Reverse(h2.CipherSuites)
		h2.Extensions = append([]uint16{0x5a5a}, h.Extensions...)
		slices.Reverse(h2.Extensions)
		h2.CipherSuites = append(h2.CipherSuites, 0xeaea)
		if again := JA4(&h2); again != got {
			t.Fatalf("reordered and GREASEd: JA4 = %q, want %q", again, got)
		}
	})
}

func BenchmarkJA4(b *testing.B) {
	h := spec(b)
	hdr := http.Header{
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
		"Accept":          {"application/json"},
		"Accept-Language": {"en-US,en;q=0.9"},
		"Accept-Encoding": {"gzip, deflate, br"},
	}
	var base float64
	// The baseline: the HTTP fingerprint every request already pays for.
	b.Run("baseline-http-fingerprint", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Fingerprint(hdr)
		}
		base = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	// JA4 runs once per TLS handshake, not per request.
	b.Run("ja4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			JA4(h)
		}
		if base > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-baseline")
		}
	})
	// What ResolveTLS adds to Resolve on every request of a TLS connection.
	r := mustResolver(b, Default())
	ja4 := JA4(h)
	var plain float64
	b.Run("baseline-resolve", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Resolve("203.0.113.9:4000", hdr)
		}
		plain = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("resolve-tls", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.ResolveTLS("203.0.113.9:4000", hdr, ja4)
		}
		if plain > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/plain, "x-baseline")
		}
	})
}
