package detect

import (
	"bytes"
	"context"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/pii"
)

// Sensitive finds sensitive data classes in response bodies, by JSON key and
// by value: card numbers (Luhn-valid, a known issuer prefix, and a card-ish
// key or card-like grouping), passwords and password hashes, private keys,
// cloud credentials and API secrets. Masked values ("**** 1111"), numbers
// failing Luhn and neutral hashes (an ETag under "hash") stay quiet.
type Sensitive struct{}

var _ vigil.Analyzer = (*Sensitive)(nil)

// NewSensitive returns the sensitive data exposure detector.
func NewSensitive() *Sensitive { return &Sensitive{} }

// Analyze implements vigil.Analyzer.
func (d *Sensitive) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	r := x.Response
	if r == nil || len(r.Body) == 0 {
		return nil, nil
	}
	var ev []vigil.Evidence
	sev := vigil.SeverityInfo
	body := r.Body[:min(len(r.Body), maxScanBody)]
	if looksJSONBytes(body) {
		if maySensitive(body) {
			ev, sev = sensitiveJSON(body)
		}
	} else if why, value, s := sensitiveText(body); why != "" {
		ev, sev = []vigil.Evidence{{Where: "response.body", Value: value, Why: why}}, s
	}
	if ev == nil {
		return nil, nil
	}
	f := finding("detect.exposure.sensitive", x, vigil.API3PropertyAuth, sev, 0.85, "Sensitive data exposed: "+ev[0].Why, ev)
	return []vigil.Finding{f}, nil
}

// sensitiveJSON judges every leaf of a JSON body: the evidence, at most
// maxEvidence items, and the highest severity (info when none).
func sensitiveJSON(body []byte) ([]vigil.Evidence, vigil.Severity) {
	var ev []vigil.Evidence
	sev := vigil.SeverityInfo
	// Borrowed leaves: sensitiveLeaf and Loc keep none of the leaf's
	// strings, only values built from them (masks, locations).
	for l := range jsonLeaves(body, true) {
		if l.Kind != KindString && l.Kind != KindNumber {
			continue
		}
		if why, value, s := sensitiveLeaf(l.Key, l.Parent(), l.Value, l.Kind); why != "" {
			ev = append(ev, vigil.Evidence{Where: l.Loc(), Value: value, Why: why})
			sev = max(sev, s)
			if len(ev) == maxEvidence {
				break
			}
		}
	}
	return ev, sev
}

// sensitiveLeaf judges one JSON leaf; value is what evidence may show.
func sensitiveLeaf(key, parent, v string, kind Kind) (why, value string, sev vigil.Severity) {
	if len(v) < 6 {
		return "", "", 0
	}
	if kind == KindNumber || digitsLike(v) {
		if n, ok := pii.CardNumber(v); ok && (cardName(key) || cardName(parent) && !idName(key) || grouped(v)) && !idName(key) {
			return "card number", "****" + n[len(n)-4:], vigil.SeverityHigh
		}
		if kind == KindNumber {
			return "", "", 0
		}
	}
	// A masked value is never reported. The test is made only for a value
	// that would be: it costs more than the others, and few values are
	// reported.
	if why, value, sev = sensitiveValue(key, v); why != "" && masked(v) {
		return "", "", 0
	}
	return why, value, sev
}

// sensitiveValue judges a string leaf by its value and key, masked or not.
func sensitiveValue(key, v string) (why, value string, sev vigil.Severity) {
	switch {
	case strings.Contains(v, "-----BEGIN") && strings.Contains(v, "PRIVATE KEY"):
		return "private key", "-----BEGIN … PRIVATE KEY-----", vigil.SeverityCritical
	case pii.CryptHash(v):
		return "password hash", v[:min(len(v), 4)] + "…" + mask(v), vigil.SeverityHigh
	case awsKeyID(v):
		return "cloud access key id", v[:4] + "…" + mask(v), vigil.SeverityHigh
	}
	n := pii.NormKey(key)
	switch {
	case strings.Contains(n, "secretaccesskey") || n == "awssecretkey":
		return "cloud secret access key", mask(v), vigil.SeverityCritical
	case passwordName(key) && !metaName(n):
		return "password or password hash", mask(v), vigil.SeverityHigh
	case secretKeyName(n) && !metaName(n) && len(v) >= 8 && !strings.Contains(v, " "):
		return "secret or API key", mask(v), vigil.SeverityHigh
	}
	return "", "", 0
}

// sensitiveText looks for the unmistakable classes in a non-JSON body.
func sensitiveText(b []byte) (why, value string, sev vigil.Severity) {
	if bytes.Contains(b, []byte("-----BEGIN")) && bytes.Contains(b, []byte("PRIVATE KEY-----")) {
		return "private key", "-----BEGIN … PRIVATE KEY-----", vigil.SeverityCritical
	}
	for _, p := range [...]string{"AKIA", "ASIA"} {
		if i := bytes.Index(b, []byte(p)); i >= 0 && i+20 <= len(b) && awsKeyID(string(b[i:i+20])) &&
			(i+20 == len(b) || !isUpperAlnum(b[i+20])) {
			return "cloud access key id", p + "…" + mask(string(b[i:i+20])), vigil.SeverityHigh
		}
	}
	return "", "", 0
}

// secretKeyName: names under which a value is a secret. Bearer tokens handed
// out by a login are the API working as designed and are not reported.
func secretKeyName(n string) bool {
	if strings.Contains(n, "question") || strings.Contains(n, "santa") {
		return false
	}
	for _, s := range [...]string{"secret", "apikey", "privatekey", "signingkey", "partnerkey", "jwtkey", "encryptionkey", "masterkey"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// metaName: names about a secret rather than holding it.
func metaName(n string) bool {
	for _, s := range [...]string{"id", "prefix", "last4", "hint", "name", "at", "count", "enabled", "policy", "set", "expires", "required", "length", "strength", "changed", "updated", "reset", "url"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return strings.HasPrefix(n, "has") || strings.HasPrefix(n, "is")
}

func cardName(k string) bool { return pii.CardName(pii.NormKey(k)) }

func idName(k string) bool { return pii.IDName(pii.NormKey(k)) }

func digitsLike(v string) bool {
	return len(v) <= 23 && strings.Trim(v, "0123456789 -") == ""
}

func grouped(v string) bool { return strings.Count(v, " ") == 3 || strings.Count(v, "-") == 3 }

func masked(v string) bool {
	if strings.ContainsAny(v, "*•x") && pii.MaskChars(v) {
		return true
	}
	l := strings.ToLower(v)
	return strings.Contains(l, "redacted") || strings.Contains(l, "hidden") || strings.Contains(l, "masked") || l == "null" || l == "none"
}

func awsKeyID(v string) bool {
	if len(v) != 20 || !(strings.HasPrefix(v, "AKIA") || strings.HasPrefix(v, "ASIA")) {
		return false
	}
	for i := 4; i < 20; i++ {
		if !isUpperAlnum(v[i]) {
			return false
		}
	}
	return true
}

func isUpperAlnum(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// maySensitive is false when no leaf of the JSON document b can be
// reported by sensitiveLeaf, which it tells from a quick look at b instead
// of a walk of the document. Without a backslash, every key and value is a
// run of b's bytes as they are, so each way to a report leaves a trace in
// b:
//   - a card number: a number, or a string of at most 23 bytes, made of
//     digits, spaces and '-' with 13 digits or more;
//   - a private key, password hash or cloud key id: "-----BEGIN", '$',
//     "pbkdf2_sha", "AKIA" or "ASIA" anywhere;
//   - a secret's name: a key that, normalised by pii.NormKey (lower-case
//     letters and digits only), holds "secret", "pass", "pwd" or "key"
//     (every name secretKeyName, passwordName and the cloud key names
//     accept does). A key is a string followed by ':'.
//
// A document with a backslash may hide any of these behind escapes: it is
// always walked.
func maySensitive(b []byte) bool {
	if bytes.IndexByte(b, '\\') >= 0 || bytes.IndexByte(b, '$') >= 0 || bytes.Contains(b, []byte("-----BEGIN")) ||
		bytes.Contains(b, []byte("pbkdf2_sha")) || bytes.Contains(b, []byte("AKIA")) || bytes.Contains(b, []byte("ASIA")) {
		return true
	}
	if len(b) < 512 {
		return mayBeCardOrSecretByPass(b)
	}
	return mayBeCardOrSecretBySearch(b)
}

// mayBeCardOrSecretBySearch is the card-number and secret-name part of
// maySensitive on a body without a backslash, jumping from quote to quote
// with bytes.IndexByte: the faster way through long strings.
func mayBeCardOrSecretBySearch(b []byte) bool {
	for len(b) > 0 {
		q := bytes.IndexByte(b, '"')
		if q < 0 {
			return cardRun(b) // numbers after the last string
		}
		if cardRun(b[:q]) { // numbers between strings
			return true
		}
		b = b[q+1:]
		e := bytes.IndexByte(b, '"')
		if e < 0 {
			return cardRun(b) || mayBeSecretName(b) // an unterminated string
		}
		str := b[:e]
		b = b[e+1:]
		if len(str) >= 13 && len(str) <= 23 && cardRun(str) {
			return true
		}
		if keyFollows(b) && mayBeSecretName(str) {
			return true
		}
	}
	return false
}

// mayBeCardOrSecretByPass is mayBeCardOrSecretBySearch in one pass over
// the bytes, which costs less on a short body than a search per quote.
func mayBeCardOrSecretByPass(b []byte) bool {
	digits := 0 // outside strings, digits in the current run of digits, spaces and '-'
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '"' {
			switch {
			case c >= '0' && c <= '9':
				if digits++; digits >= 13 {
					return true
				}
			case c == ' ' || c == '-':
			default:
				digits = 0
			}
			continue
		}
		start := i + 1
		e := start
		for e < len(b) && b[e] != '"' {
			e++
		}
		if e == len(b) {
			return cardRun(b[start:]) || mayBeSecretName(b[start:]) // an unterminated string
		}
		str := b[start:e]
		if len(str) >= 13 && len(str) <= 23 && cardRun(str) {
			return true
		}
		if keyFollows(b[e+1:]) && mayBeSecretName(str) {
			return true
		}
		digits = 0
		i = e
	}
	return false
}

// keyFollows reports whether rest, what follows a JSON string, starts with
// ':' after white space: the string was an object key.
func keyFollows(rest []byte) bool {
	i := 0
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\n' || rest[i] == '\r') {
		i++
	}
	return i < len(rest) && rest[i] == ':'
}

// cardRun reports whether b holds a run of digits, spaces and '-' with 13
// digits or more.
func cardRun(b []byte) bool {
	digits := 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits++; digits >= 13 {
				return true
			}
		case c == ' ' || c == '-':
		default:
			if len(b)-i-1 < 13 {
				return false // too few bytes left for a new run
			}
			digits = 0
		}
	}
	return false
}

// mayBeSecretName reports whether pii.NormKey of the key k may hold "secret",
// "pass", "pwd" or "key".
func mayBeSecretName(k []byte) bool {
	const (
		key    = uint64('k')<<16 | uint64('e')<<8 | uint64('y')
		pwd    = uint64('p')<<16 | uint64('w')<<8 | uint64('d')
		pass   = uint64('p')<<24 | uint64('a')<<16 | uint64('s')<<8 | uint64('s')
		secret = uint64('s')<<40 | uint64('e')<<32 | uint64('c')<<24 | uint64('r')<<16 | uint64('e')<<8 | uint64('t')
	)
	var last uint64 // the last normalised bytes, the newest lowest
	for _, c := range k {
		t := sensitiveBytes[c]
		if t&sbAlnum == 0 {
			continue // dropped by NormKey
		}
		last = last<<8 | uint64(c|0x20) // lower-cased; digits keep their value
		if t&sbLast != 0 && (last&0xffffff == key || last&0xffffff == pwd || last&0xffffffff == pass || last&0xffffffffffff == secret) {
			return true
		}
	}
	return false
}

// The classes of bytes mayBeSecretName tells apart.
const (
	sbAlnum = 1 << iota // kept by pii.NormKey
	sbLast              // the last letter of "key", "pwd", "pass" or "secret", in either case
)

var sensitiveBytes = func() (t [256]uint8) {
	for i := range t {
		switch c := byte(i); {
		case c >= '0' && c <= '9':
			t[i] = sbAlnum
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			t[i] = sbAlnum
			if l := c | 0x20; l == 'y' || l == 'd' || l == 's' || l == 't' {
				t[i] |= sbLast
			}
		}
	}
	return t
}()
