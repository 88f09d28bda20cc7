package identity

import (
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
)

// volatile headers change from one request of a client to the next (bodies,
// credentials, caching, navigation) or are added by proxies on the way, so
// they are left out of the fingerprint.
var volatile = map[string]bool{
	"Authorization": true, "Cookie": true, "Content-Length": true, "Content-Type": true,
	"Host": true, "Origin": true, "Referer": true, "Cache-Control": true, "Pragma": true,
	"If-None-Match": true, "If-Modified-Since": true, "If-Match": true, "If-Unmodified-Since": true,
	"If-Range": true, "Range": true, "Forwarded": true, "X-Forwarded-For": true,
	"X-Forwarded-Host": true, "X-Forwarded-Proto": true, "X-Forwarded-Port": true,
	"X-Real-Ip": true, "Via": true, "X-Request-Id": true, "Traceparent": true, "Tracestate": true,
	"X-Api-Key": true, "Api-Key": true, "X-Auth-Token": true, "X-Csrf-Token": true, "X-Xsrf-Token": true,
	"Content-Encoding": true, "Expect": true, "Upgrade-Insecure-Requests": true,
}

// uaFamilies maps a marker in the User-Agent to a client family. Order
// matters: the first match wins, so more specific markers come first.
var uaFamilies = []struct{ marker, family string }{
	{"sqlmap", "sqlmap"},
	{"Nikto", "nikto"},
	{"Nuclei", "nuclei"},
	{"ffuf", "ffuf"},
	{"gobuster", "gobuster"},
	{"zgrab", "zgrab"},
	{"curl/", "curl"},
	{"Wget/", "wget"},
	{"python-requests/", "python-requests"},
	{"python-httpx/", "python-httpx"},
	{"aiohttp/", "python-aiohttp"},
	{"Python-urllib/", "python-urllib"},
	{"Go-http-client/", "go-http-client"},
	{"okhttp/", "okhttp"},
	{"axios/", "axios"},
	{"node-fetch", "node-fetch"},
	{"undici", "node-undici"},
	{"PostmanRuntime/", "postman"},
	{"insomnia/", "insomnia"},
	{"Apache-HttpClient/", "apache-httpclient"},
	{"Java/", "java"},
	{"HeadlessChrome/", "headless-chrome"},
	{"Edg/", "edge"},
	{"OPR/", "opera"},
	{"Firefox/", "firefox"},
	{"Chrome/", "chrome"},
	{"Safari/", "safari"},
	{"bot", "bot"},
	{"Bot", "bot"},
	{"spider", "bot"},
	{"crawl", "bot"},
}

// UAFamily names the client software family from a User-Agent ("curl",
// "chrome", "python-requests", ...): "" when there is none, "other" when it is
// not in the table. Versions are left out so that an upgrade keeps the family.
func UAFamily(ua string) string {
	if ua == "" {
		return ""
	}
	// Tools put their name first; browsers (and tools posing as them) start
	// with "Mozilla/". A prefix check settles most requests cheaply.
	if !strings.HasPrefix(ua, "Mozilla/") {
		for _, f := range uaFamilies {
			if strings.HasPrefix(ua, f.marker) {
				return f.family
			}
		}
	}
	for _, f := range uaFamilies {
		if strings.Contains(ua, f.marker) {
			return f.family
		}
	}
	return "other"
}

// Fingerprint is a short hex digest (16 hex digits of 64-bit FNV-1a) of the
// client's traits: the set of request header names present (volatile
// ones left out), the User-Agent family and the Accept, Accept-Language and
// Accept-Encoding values. Header order and casing are not used yet; the TLS
// ClientHello is folded in by FingerprintTLS and Resolver.ResolveTLS. It
// allocates only the result.
func Fingerprint(h http.Header) string {
	s := scanHeaders(h, knownNames)
	return hex16(s.sum(UAFamily(s.ua)))
}

// fingerprintSum is the digest Fingerprint formats, with the User-Agent
// family already known.
func fingerprintSum(h http.Header, family string) uint64 {
	s := scanHeaders(h, knownNames)
	return s.sum(family)
}

// headerScan is what one pass over a request's header names collects for
// the fingerprint and the principal, so that the values they need cost no
// map lookup of their own: the name set's digest and the first value of
// the names with a role (h[name][0], "" for none).
type headerScan struct {
	set                          uint64
	ua, accept, language, encode string
	auth                         string   // Authorization
	cookie                       []string // every Cookie line
	// apiKey is the value of the first configured API-key header
	// (Config.APIKeyHeaders order) that has a non-empty one; apiKeyAt is
	// that header's index, maxInt8 for none.
	apiKey   string
	apiKeyAt int8
}

// Roles of a header name in a headerScan.
const (
	roleUA = 1 << iota
	roleAccept
	roleLanguage
	roleEncoding
	roleAuth
	roleCookie
	roleAPIKey // nameInfo.apiKeyAt tells which
)

// nameInfo is what a known header name adds to the fingerprint's name set
// (nameHash) and the roles it plays in a headerScan.
type nameInfo struct {
	hash     uint64
	role     uint8
	apiKeyAt int8
}

// scanHeaders walks h's names once; names holds the known ones (knownNames,
// or a Resolver's copy with its API-key headers).
func scanHeaders(h http.Header, names map[string]nameInfo) headerScan {
	// The set of names is hashed without sorting: the per-name hashes are
	// added, which does not depend on the map's order.
	s := headerScan{apiKeyAt: maxInt8}
	for name, vals := range h {
		info, known := names[name]
		if !known {
			s.set += nameHash(name)
			continue
		}
		s.set += info.hash // 0 for a volatile name
		if info.role == 0 {
			continue
		}
		v := ""
		if len(vals) > 0 {
			v = vals[0]
		}
		switch {
		case info.role&roleUA != 0:
			s.ua = v
		case info.role&roleAccept != 0:
			s.accept = v
		case info.role&roleLanguage != 0:
			s.language = v
		case info.role&roleEncoding != 0:
			s.encode = v
		case info.role&roleAuth != 0:
			s.auth = v
		case info.role&roleCookie != 0:
			s.cookie = vals
		}
		// An API-key header may also be any of the above.
		if info.role&roleAPIKey != 0 && v != "" && info.apiKeyAt < s.apiKeyAt {
			s.apiKey, s.apiKeyAt = v, info.apiKeyAt
		}
	}
	return s
}

const maxInt8 = 127

// sum is the fingerprint's digest of a scan, with the User-Agent family.
func (s *headerScan) sum(family string) uint64 {
	f := newFNV()
	for i := 0; i < 8; i++ {
		f.writeByte(byte(s.set >> (8 * i)))
	}
	f.writeByte('|')
	f.writeString(family)
	for _, v := range [...]string{s.accept, s.language, s.encode} {
		f.writeByte('|')
		f.writeString(v)
	}
	return f.sum
}

// appendHex16 appends v as 16 lower-case hex digits, leading zeros kept.
func appendHex16(b []byte, v uint64) []byte {
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], v)
	return hex.AppendEncode(b, be[:])
}

// hex16 is v as 16 lower-case hex digits: one allocation, the result.
func hex16(v uint64) string {
	var buf [16]byte
	return string(appendHex16(buf[:0], v))
}

// nameHash is what one header name adds to the fingerprint's name set: 0
// for a volatile name.
func nameHash(name string) uint64 {
	if volatile[name] {
		return 0
	}
	n := newFNV()
	n.writeString(name)
	return mix(n.sum)
}

// knownNames holds nameHash of the volatile names and of common ones, so
// that most names cost one map lookup, and the roles of the names a
// headerScan collects (API-key headers are a Resolver's: see withAPIKeys).
var knownNames = func() map[string]nameInfo {
	common := []string{
		"Accept", "Accept-Encoding", "Accept-Language", "User-Agent", "Connection", "Dnt", "Priority",
		"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Sec-Fetch-User", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile",
		"Sec-Ch-Ua-Platform", "Te", "X-Requested-With",
	}
	m := make(map[string]nameInfo, len(volatile)+len(common))
	for name := range volatile {
		m[name] = nameInfo{}
	}
	for _, name := range common {
		m[name] = nameInfo{hash: nameHash(name)}
	}
	for name, role := range map[string]uint8{
		"User-Agent": roleUA, "Accept": roleAccept, "Accept-Language": roleLanguage,
		"Accept-Encoding": roleEncoding, "Authorization": roleAuth, "Cookie": roleCookie,
	} {
		info := m[name]
		info.role = role
		m[name] = info
	}
	return m
}()

// withAPIKeys returns knownNames with the roles of the API-key headers
// (canonical names, in order of precedence; at most maxInt8, or nil).
func withAPIKeys(headers []string) map[string]nameInfo {
	if len(headers) > maxInt8 {
		return nil // the Resolver then looks them up one by one
	}
	m := make(map[string]nameInfo, len(knownNames)+len(headers))
	for name, info := range knownNames {
		m[name] = info
	}
	for i, name := range headers {
		info, ok := m[name]
		if !ok {
			info.hash = nameHash(name)
		}
		if info.role&roleAPIKey == 0 { // the first of duplicates wins
			info.role |= roleAPIKey
			info.apiKeyAt = int8(i)
		}
		m[name] = info
	}
	return m
}

// first is h.Get for a canonical name, without re-canonicalising it.
func first(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

type fnv struct{ sum uint64 }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newFNV() fnv { return fnv{sum: fnvOffset} }

func (f *fnv) writeByte(c byte) {
	f.sum ^= uint64(c)
	f.sum *= fnvPrime
}

func (f *fnv) writeString(s string) {
	for i := 0; i < len(s); i++ {
		f.writeByte(s[i])
	}
}

// mix is a 64-bit finaliser (from SplitMix64) so that sums of similar hashes
// do not cancel out.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
