package identity

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"slices"

	"github.com/vigilsec/vigil"
)

// TLS extension numbers JA4 treats specially.
const (
	extServerName = 0x0000
	extALPN       = 0x0010
)

// maxHelloItems bounds the entries of one ClientHello list that JA4 reads.
// Go rejects ClientHello messages over 64 KiB, so a list can hold at most
// about 32k two-byte entries; real clients send under 100. Past the cap the
// entries are left out (the count saturates at 99 well before), which keeps
// a hostile hello from costing more than a few microseconds to hash.
const maxHelloItems = 1024

// JA4 returns the JA4 fingerprint of a TLS ClientHello as Go's crypto/tls
// exposes it to Config.GetConfigForClient, e.g.
// "t13d1516h2_8daaf6152771_e5627efa2ab1", or "" for a nil hello. It is a
// pure function of the hello and safe for concurrent use.
//
// The three parts follow JA4 (FoxIO's public specification):
//
//   - a: "t" (TLS over TCP), the version ("13", "12", "11", "10", "s3" or
//     "00" for unknown: the highest of SupportedVersions), "d" when the
//     server_name extension is present or "i" when it is not, the number of
//     cipher suites and of extensions as two digits (at most 99), and the
//     first and last characters of the first ALPN value ("00" when there is
//     none; the first and last hex digits of its bytes when either end is not
//     an ASCII letter or digit);
//   - b: the first 12 hex digits of the SHA-256 of the cipher suites as
//     4-digit lower-case hex, sorted and comma separated;
//   - c: the same of the extensions, sorted, without server_name (0000) and
//     ALPN (0010), then "_" and the signature algorithms in the order sent
//     (no "_" when there are none).
//
// GREASE values (RFC 8701) are left out of every list and count. An empty
// list hashes to "000000000000".
//
// Where it differs from JA4, because of what Go exposes:
//
//   - The protocol is always "t": Vigil terminates neither QUIC nor DTLS.
//   - Without a supported_versions extension Go derives SupportedVersions
//     from the legacy version field but lists only versions it implements
//     (TLS 1.0 to 1.3), so an SSL 3.0 hello gives "00", not "s3" (Go refuses
//     the handshake anyway).
//   - When Extensions is empty (a hand-made ClientHelloInfo), SNI is taken
//     from ServerName instead.
//   - A list is read up to maxHelloItems entries (JA4 sets no limit; no real
//     client comes near it).
//   - With Encrypted Client Hello configured, Go hands over the inner hello;
//     Vigil configures no ECH keys, so it is always the outer one.
func JA4(hello *tls.ClientHelloInfo) string {
	if hello == nil {
		return ""
	}
	var buf [36]byte
	b := append(buf[:0], 't')
	b = append(b, ja4Version(hello.SupportedVersions)...)
	sni := hello.ServerName != ""
	nExt := 0
	for i, e := range hello.Extensions {
		if i == maxHelloItems {
			break
		}
		if isGREASE(e) {
			continue
		}
		nExt++
		if e == extServerName {
			sni = true
		}
	}
	if sni {
		b = append(b, 'd')
	} else {
		b = append(b, 'i')
	}
	nCiph := 0
	for i, c := range hello.CipherSuites {
		if i == maxHelloItems {
			break
		}
		if !isGREASE(c) {
			nCiph++
		}
	}
	b = appendCount(b, nCiph)
	b = appendCount(b, nExt)
	b = appendALPN(b, hello.SupportedProtos)
	b = append(b, '_')
	b = appendHash(b, cipherList(hello.CipherSuites))
	b = append(b, '_')
	b = appendHash(b, extensionList(hello.Extensions, hello.SignatureSchemes))
	return string(b)
}

// isGREASE reports whether v is one of the reserved GREASE values
// 0x0a0a, 0x1a1a, ..., 0xfafa (RFC 8701).
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// ja4Version names the highest version in vs, GREASE left out.
func ja4Version(vs []uint16) string {
	var top uint16
	for i, v := range vs {
		if i == maxHelloItems {
			break
		}
		if !isGREASE(v) && v > top {
			top = v
		}
	}
	switch top {
	case tls.VersionTLS13:
		return "13"
	case tls.VersionTLS12:
		return "12"
	case tls.VersionTLS11:
		return "11"
	case tls.VersionTLS10:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0200:
		return "s2"
	case 0x0100:
		return "s1"
	}
	return "00"
}

// appendCount appends n as two digits, 99 at most.
func appendCount(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendALPN appends the first and last characters of the first ALPN value.
func appendALPN(b []byte, protos []string) []byte {
	if len(protos) == 0 || protos[0] == "" {
		return append(b, '0', '0')
	}
	p := protos[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(b, first, last)
	}
	const digits = "0123456789abcdef"
	return append(b, digits[first>>4], digits[last&0x0f])
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// cipherList is the sorted, comma-separated hex list of the cipher suites.
func cipherList(cs []uint16) []byte {
	vals := keep(cs, nil)
	slices.Sort(vals)
	return appendHexList(nil, vals)
}

// extensionList is the sorted hex list of the extensions without SNI and
// ALPN, then "_" and the signature algorithms in order.
func extensionList(exts []uint16, sigs []tls.SignatureScheme) []byte {
	vals := keep(exts, func(e uint16) bool { return e != extServerName && e != extALPN })
	slices.Sort(vals)
	out := appendHexList(make([]byte, 0, 5*(len(vals)+min(len(sigs), maxHelloItems))), vals)
	first := true
	for i, s := range sigs {
		if i == maxHelloItems {
			break
		}
		if isGREASE(uint16(s)) {
			continue
		}
		if first {
			out = append(out, '_')
			first = false
		} else {
			out = append(out, ',')
		}
		out = appendHex4(out, uint16(s))
	}
	return out
}

// keep copies the first maxHelloItems values of vs that are not GREASE and
// that ok accepts (nil accepts all).
func keep(vs []uint16, ok func(uint16) bool) []uint16 {
	vs = vs[:min(len(vs), maxHelloItems)]
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if !isGREASE(v) && (ok == nil || ok(v)) {
			out = append(out, v)
		}
	}
	return out
}

func appendHexList(b []byte, vs []uint16) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, v)
	}
	return b
}

func appendHex4(b []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
}

// appendHash appends the first 12 hex digits of the SHA-256 of s, or twelve
// zeros when s is empty.
func appendHash(b, s []byte) []byte {
	if len(s) == 0 {
		return append(b, "000000000000"...)
	}
	sum := sha256.Sum256(s)
	return hex.AppendEncode(b, sum[:6])
}

// FingerprintTLS is Fingerprint for a request that came over a TLS
// connection whose ClientHello had the JA4 fingerprint ja4: a digest of the
// same shape (16 hex digits) that covers both, so that two clients with the
// same headers but different TLS stacks differ. An empty ja4 gives
// Fingerprint(h).
func FingerprintTLS(h http.Header, ja4 string) string {
	return hex16(withTLS(fingerprintSum(h, UAFamily(first(h, "User-Agent"))), ja4))
}

// ResolveTLS is Resolve for a request that came over a TLS connection whose
// ClientHello had the JA4 fingerprint ja4 (see JA4): the actor's Fingerprint
// then covers the ClientHello too (see FingerprintTLS). An empty ja4 gives
// the same actor as Resolve.
func (r *Resolver) ResolveTLS(peer string, h http.Header, ja4 string) vigil.Actor {
	return r.resolve(peer, h, ja4)
}

// withTLS folds ja4 into an HTTP fingerprint's digest: a 64-bit digest of
// the fingerprint's 16 hex digits and ja4, or httpSum itself when ja4 is
// empty. It runs on every request of a TLS connection, so it reads eight
// bytes at a time (each word through mix) rather than FNV's one, and the
// caller formats the result once.
func withTLS(httpSum uint64, ja4 string) uint64 {
	if ja4 == "" {
		return httpSum
	}
	var buf [16]byte
	httpFP := appendHex16(buf[:0], httpSum)
	return absorb(absorb(fnvOffset, string(httpFP)), ja4) // the conversion stays on the stack
}

// absorb mixes s and its length into h.
func absorb(h uint64, s string) uint64 {
	h = mix(h ^ uint64(len(s)))
	for ; len(s) >= 8; s = s[8:] {
		h = mix(h ^ (uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56))
	}
	if s != "" {
		var w uint64
		for i := 0; i < len(s); i++ {
			w |= uint64(s[i]) << (8 * i)
		}
		h = mix(h ^ w)
	}
	return h
}
