package detect

import (
	"bytes"
	"context"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/pii"
	"golang.org/x/net/idna"
)

// SSRF finds request values that would make the server fetch an internal
// resource: URL- or host-valued parameters (by name, or by a value with a
// scheme) and host-override headers (X-Forwarded-Host, ...) pointing at
// loopback, private, CGNAT, link-local or cloud metadata addresses, in any
// spelling (decimal, octal, hex, short, IPv4-mapped IPv6, Unicode digits,
// userinfo tricks, wildcard DNS names such as 10.0.0.1.nip.io), and URLs
// with non-HTTP schemes (file:, gopher:, dict:, ldap:, ...). It never
// resolves names: analysis has no network, so a public name that resolves
// to an internal address is not caught here.
type SSRF struct{}

var _ vigil.Analyzer = (*SSRF)(nil)

// NewSSRF returns the server-side request forgery detector.
func NewSSRF() *SSRF { return &SSRF{} }

// Analyze implements vigil.Analyzer.
func (d *SSRF) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	return runScan(d.scan(x, nil), &x.Request), nil
}

func (d *SSRF) scan(x *vigil.Exchange, reuse leafScan) leafScan {
	return reuseScan(reuse, ssrfScan{x: x, sev: vigil.SeverityHigh, conf: 0.75})
}

type ssrfScan struct {
	x    *vigil.Exchange
	ev   []vigil.Evidence
	sev  vigil.Severity
	conf float64
}

func (s *ssrfScan) leaf(l *Leaf) bool {
	if l.Source == SourcePath || l.Source == SourceBody {
		return true // paths and raw bodies are not parameters
	}
	if l.Kind != KindString && l.Kind != KindNumber {
		return true
	}
	if l.Source == SourceHeader {
		return s.header(l)
	}
	named, strong := urlName(l.Key)
	why, meta := ssrfValue(l.Value, named, strong)
	if why == "" {
		return true
	}
	return s.add(l, why, meta, named)
}

// hostOverrides are the headers some reverse proxies and frameworks route
// by instead of Host. Pointed at an internal host by the client, they ask
// the server side to fetch from there: routing-based SSRF. The other headers
// carry proxy plumbing (X-Forwarded-For: 127.0.0.1 is an address spoof, not
// a fetch) and are not judged.
// Names are in http.Header's canonical form, as the walker yields them.
var hostOverrides = map[string]bool{
	"X-Forwarded-Host": true, "X-Host": true, "X-Original-Host": true, "X-Forwarded-Server": true, "X-Http-Host-Override": true,
}

// header judges a host-override header. A proxy in front of an internal
// service forwards an internal host in good faith (a dev server on
// localhost, a balancer addressed by its private IP), so loopback and
// private targets count only when the request itself went to a host that
// is not internal; a cloud metadata target counts always.
func (s *ssrfScan) header(l *Leaf) bool {
	if !hostOverrides[l.Key] {
		return true
	}
	why, meta := ssrfValue(l.Value, true, true)
	if why == "" {
		return true
	}
	if !meta {
		if own, _ := internalHost(s.x.Request.Host(), true); own != "" {
			return true
		}
	}
	return s.add(l, why+" in a host-override header", meta, true)
}

// add records one internal target; false when the evidence is full.
func (s *ssrfScan) add(l *Leaf, why string, meta, named bool) bool {
	if meta {
		s.sev = vigil.SeverityCritical
	}
	if named {
		s.conf = 0.9
	}
	s.ev = append(s.ev, vigil.Evidence{Where: l.Loc(), Value: evidenceValue(l.Key, l.Value), Why: why})
	return len(s.ev) < maxEvidence
}

func (s *ssrfScan) findings() []vigil.Finding {
	if s.ev == nil {
		return nil
	}
	return []vigil.Finding{finding("detect.ssrf", s.x, vigil.API7SSRF, s.sev, s.conf, "Server-side request forgery attempt", s.ev)}
}

var urlNames = map[string]bool{
	"url": true, "uri": true, "link": true, "src": true, "href": true, "callback": true, "webhook": true,
	"redirect": true, "target": true, "dest": true, "destination": true, "image": true, "feed": true,
	"host": true, "hostname": true, "endpoint": true, "proxy": true, "server": true, "domain": true,
	"site": true, "fetch": true, "load": true, "source": true, "remote": true, "next": true, "returnto": true,
	"continue": true, "forward": true, "avatar": true, "icon": true, "logo": true, "origin": true,
}

// urlName says whether a parameter name says it holds a URL or a host;
// strong when the name leaves no doubt ("image_url", "host"), so that even a
// bare number there may be an address.
func urlName(key string) (named, strong bool) {
	var nb [64]byte
	n := pii.NormKeyIn(&nb, key)
	if len(n) == 0 {
		return false, false
	}
	// The strong suffixes, by their last byte.
	var strongs []string
	switch n[len(n)-1] {
	case 'l':
		strongs = []string{"url"}
	case 'i':
		strongs = []string{"uri"}
	case 't':
		strongs = []string{"host", "endpoint"}
	case 'e':
		strongs = []string{"hostname"}
	case 'k':
		strongs = []string{"webhook", "callback"}
	}
	for _, s := range strongs {
		if bytes.HasSuffix(n, []byte(s)) {
			return true, true
		}
	}
	return urlNames[string(n)] || bytes.HasSuffix(n, []byte("redirect")), false
}

// badSchemes reach services an HTTP fetcher should never touch.
var badSchemes = map[string]bool{
	"file": true, "gopher": true, "dict": true, "ldap": true, "ldaps": true, "jar": true, "netdoc": true,
	"tftp": true, "expect": true, "phar": true, "sftp": true, "smb": true, "telnet": true, "ftp": true,
}

// ssrfValue judges one value; named and strong are urlName's verdicts on its
// parameter name. meta is true for a cloud metadata target.
func ssrfValue(v string, named, strong bool) (why string, meta bool) {
	v = strings.TrimSpace(v)
	if len(v) < 3 || len(v) > 4096 {
		return "", false
	}
	scheme, rest, ok := splitScheme(v)
	var authority string
	switch {
	case ok && badSchemes[scheme]:
		if scheme == "ftp" && !named {
			break // a public FTP link in free text
		}
		return scheme + ": URL scheme", false
	case ok && (scheme == "http" || scheme == "https" || scheme == "ws" || scheme == "wss"):
		if !strings.HasPrefix(rest, "//") && !strings.HasPrefix(rest, `\\`) {
			return "", false
		}
		authority = rest[2:]
	case ok:
		return "", false
	case strings.HasPrefix(v, "//"):
		authority = v[2:]
	case named:
		authority = v // host, host:port or host/path
	default:
		return "", false
	}
	host, odd := hostOf(authority)
	if !asciiOnly(host) {
		// Fetchers map a Unicode host as IDNA does: ①②⑦.⓪.⓪.① and
		// fullwidth digits become 127.0.0.1, ⓛⓞⓒⓐⓛⓗⓞⓢⓣ localhost.
		mapped, err := idnaMap.ToASCII(host)
		if err != nil {
			return "", false
		}
		host, _ = hostOf(mapped) // a fullwidth colon may have become a port
		odd = joinOdd(odd, "Unicode spelling of the host")
	}
	if host == "" {
		return "", false
	}
	reason, meta := internalHost(host, strong || ok)
	if reason == "" {
		return "", false
	}
	if odd != "" {
		reason += " (" + odd + ")"
	}
	return reason, meta
}

// idnaMap maps a host the way URL parsers do before they resolve it
// (UTS #46 mapping, without rejecting the result as a DNS name).
var idnaMap = idna.New(idna.MapForLookup(), idna.StrictDomainName(false))

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func joinOdd(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// splitScheme splits "scheme:rest"; ok is false when v does not start with
// a URL scheme.
func splitScheme(v string) (scheme, rest string, ok bool) {
	i := strings.IndexByte(v[:min(len(v), 11)], ':') // a scheme ends by byte 10
	if i < 2 || i > 10 {
		return "", "", false
	}
	for j := 0; j < i; j++ {
		c := v[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", "", false
		}
	}
	if i+1 < len(v) && isDigit(v[i+1]) {
		return "", "", false // host:port
	}
	return strings.ToLower(v[:i]), v[i+1:], true
}

// hostOf extracts the host from an authority (and whatever follows it),
// dropping userinfo and port. odd names a trick seen on the way.
func hostOf(a string) (host, odd string) {
	if i := strings.IndexAny(a, "/?#\\"); i >= 0 {
		a = a[:i]
	}
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		a = a[i+1:]
		odd = "userinfo before the host"
	}
	if strings.HasPrefix(a, "[") {
		if i := strings.IndexByte(a, ']'); i > 0 {
			return strings.ToLower(a[1:i]), odd
		}
		return "", odd
	}
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		if strings.Count(a, ":") > 1 {
			return strings.ToLower(a), odd // a bare IPv6 address
		}
		a = a[:i]
	}
	return strings.TrimSuffix(strings.ToLower(a), "."), odd
}

var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, OpenStack
	netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
	netip.MustParseAddr("192.0.0.192"):     true, // Oracle Cloud
}

var metadataNames = map[string]bool{
	"metadata.google.internal": true, "metadata": true, "metadata.azure.com": true, "instance-data": true,
	"instance-data.ec2.internal": true, "metadata.packet.net": true,
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// internalHost says whether a host names an internal target. urlish says the
// value was clearly a URL or a URL parameter, so a bare number may be an
// address.
func internalHost(h string, urlish bool) (why string, meta bool) {
	if metadataNames[h] {
		return "cloud metadata host " + h, true
	}
	switch {
	case h == "localhost" || strings.HasSuffix(h, ".localhost") || h == "localhost.localdomain":
		return "loopback name " + h, false
	case strings.HasSuffix(h, ".internal") || strings.HasSuffix(h, ".svc.cluster.local") ||
		strings.HasPrefix(h, "kubernetes.default"):
		return "internal name " + h, false
	}
	for _, d := range loopbackDomains {
		if h == d || len(h) > len(d) && h[len(h)-len(d)-1] == '.' && strings.HasSuffix(h, d) {
			return "loopback name " + h + " (public DNS answers 127.0.0.1)", false
		}
	}
	for _, w := range [...]string{".nip.io", ".sslip.io", ".xip.io", ".traefik.me"} {
		if base, ok := strings.CutSuffix(h, w); ok {
			if a, ok := wildcardAddr(base); ok {
				if why, meta := classifyAddr(a); why != "" {
					return why + " via wildcard DNS " + w[1:], meta
				}
			}
		}
	}
	if h == "0" && urlish {
		return "unspecified address 0.0.0.0 (reaches loopback)", false
	}
	a, form := parseHostAddr(h, urlish)
	if !a.IsValid() {
		return "", false
	}
	why, meta = classifyAddr(a)
	if why != "" && form != "" {
		why += " written in " + form
	}
	return why, meta
}

// loopbackDomains are public names whose every subdomain resolves to
// 127.0.0.1, made for local development and handy to slip past a filter
// that only looks for loopback addresses.
var loopbackDomains = [...]string{"localtest.me", "lvh.me", "vcap.me", "localho.st", "local.gd"}

// wildcardAddr reads the address a wildcard DNS service answers for a name
// (what precedes ".nip.io"): the last four dot- or dash-separated numbers
// (app.10.0.0.1, spoofed.example.com.127.0.0.1, app-10-0-0-1), eight hex
// digits (7f000001), or sslip.io's IPv6 with dashes for colons (--1).
func wildcardAddr(base string) (netip.Addr, bool) {
	label := base[strings.LastIndexByte(base, '.')+1:]
	if strings.Contains(label, "--") {
		if a, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err == nil {
			return a, true
		} // else perhaps "app--10-0-0-1": the dashed IPv4 below
	}
	f := strings.FieldsFunc(base, func(r rune) bool { return r == '.' || r == '-' })
	if len(f) >= 4 {
		if a, err := netip.ParseAddr(strings.Join(f[len(f)-4:], ".")); err == nil {
			return a, true
		}
	}
	if i := strings.LastIndexByte(label, '-'); len(label)-i-1 == 8 {
		if v, err := strconv.ParseUint(label[i+1:], 16, 32); err == nil {
			return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
		}
	}
	return netip.Addr{}, false
}

func classifyAddr(a netip.Addr) (string, bool) {
	a = a.Unmap()
	switch {
	case metadataAddrs[a]:
		return "cloud metadata address " + a.String(), true
	case a.IsLoopback():
		return "loopback address " + a.String(), false
	case a.IsUnspecified():
		return "unspecified address " + a.String(), false
	case a.IsPrivate():
		return "private address " + a.String(), false
	case a.IsLinkLocalUnicast():
		return "link-local address " + a.String(), false
	case a.Is4() && cgnat.Contains(a):
		return "carrier-grade NAT address " + a.String(), false
	}
	return "", false
}

// parseHostAddr reads an IP literal in any form inet_aton and IPv6 accept.
// form names a non-canonical IPv4 form ("decimal", "octal", "hex", "short").
func parseHostAddr(h string, urlish bool) (netip.Addr, string) {
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Is4In6() {
			return a, "IPv4-mapped IPv6"
		}
		return a, ""
	}
	if h == "" || !(isDigit(h[0])) {
		return netip.Addr{}, ""
	}
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, ""
	}
	vals := make([]uint64, len(parts))
	form := ""
	for i, p := range parts {
		base := 10
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			base, p, form = 16, p[2:], "hex"
		case len(p) > 1 && p[0] == '0':
			base, form = 8, "octal"
		}
		n, err := strconv.ParseUint(p, base, 32)
		if err != nil || p == "" {
			return netip.Addr{}, ""
		}
		vals[i] = n
	}
	var ip uint64
	switch len(parts) {
	case 1:
		if !urlish || vals[0] < 1<<24 {
			return netip.Addr{}, "" // a small number is a number
		}
		ip = vals[0]
		if form == "" {
			form = "decimal"
		}
	case 2:
		if vals[0] > 255 || vals[1] > 1<<24-1 {
			return netip.Addr{}, ""
		}
		ip = vals[0]<<24 | vals[1]
	case 3:
		if vals[0] > 255 || vals[1] > 255 || vals[2] > 1<<16-1 {
			return netip.Addr{}, ""
		}
		ip = vals[0]<<24 | vals[1]<<16 | vals[2]
	case 4:
		for _, v := range vals {
			if v > 255 {
				return netip.Addr{}, ""
			}
		}
		ip = vals[0]<<24 | vals[1]<<16 | vals[2]<<8 | vals[3]
	}
	if len(parts) < 4 && len(parts) > 1 {
		if !urlish {
			return netip.Addr{}, ""
		}
		if form == "" {
			form = "short form"
		}
	}
	if ip > 1<<32-1 {
		return netip.Addr{}, ""
	}
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), form
}
