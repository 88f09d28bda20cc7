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
	add := func(where, value, why string, s vigil.Severity) {
		if len(ev) < maxEvidence {
			ev = append(ev, vigil.Evidence{Where: where, Value: value, Why: why})
		}
		sev = max(sev, s)
	}
	body := r.Body[:min(len(r.Body), maxScanBody)]
	if looksJSONBytes(body) {
		for l := range JSONLeaves(body) {
			if l.Kind != KindString && l.Kind != KindNumber {
				continue
			}
			if why, value, s := sensitiveLeaf(l.Key, l.Parent(), l.Value, l.Kind); why != "" {
				add(l.Loc(), value, why, s)
				if len(ev) == maxEvidence {
					break
				}
			}
		}
	} else if why, value, s := sensitiveText(body); why != "" {
		add("response.body", value, why, s)
	}
	if ev == nil {
		return nil, nil
	}
	f := finding("detect.exposure.sensitive", x, vigil.API3PropertyAuth, sev, 0.85, "Sensitive data exposed: "+ev[0].Why, ev)
	return []vigil.Finding{f}, nil
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
	if masked(v) {
		return "", "", 0
	}
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
	if strings.ContainsAny(v, "*•x") && strings.Trim(v, "*•xX -0123456789") == "" {
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
