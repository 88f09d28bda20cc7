package detect

import (
	"bytes"
	"context"
	"iter"
	"math/bits"
	"slices"
	"strings"
	"unsafe"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/pii"
)

// Sensitive finds sensitive data classes in response bodies, by JSON key and
// by value: card numbers (Luhn-valid, a known issuer prefix, and a card-ish
// key or card-like grouping, also inside free text, where an ungrouped one
// needs a card word before it), passwords and password hashes (also a hex
// digest under a name pairing "pwd" or "pass" with a hash: "pass_md5"),
// private keys (PEM, private JWKs), cloud credentials, API secrets,
// provider tokens with a well-known prefix and passwords in connection URLs.
// An ungrouped card number counts under a generic key ("number", "to") of
// an object naming a payment instrument or a movement of money
// ("paymentMethods", "refund"). Text bodies, also INI and TOML files whose
// section header makes them start like a JSON array, get the same classes
// as lines of a CSV export (a card column) or of a .env file (NAME=value);
// names of a secret's file or path ("DB_PASSWORD_FILE") are not secrets.
// Masked values ("**** 1111"), numbers failing Luhn, public keys,
// publishable keys and neutral hashes (an ETag under "hash") stay quiet.
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
	if looksJSONBytes(body) && !iniSection(body) {
		if maySensitive(body) {
			ev, sev = sensitiveJSON(body)
		}
	} else if why, value, s := sensitiveText(body); why != "" {
		ev, sev = []vigil.Evidence{{Where: "response.body", Value: value, Why: why}}, s
	} else if looksXML(body) && !htmlDocument(body) {
		ev, sev = sensitiveXML(body)
	} else if yamlType(headerValue(r.Header, "Content-Type")) {
		if why, value, s := yamlSecret(body); why != "" {
			ev, sev = []vigil.Evidence{{Where: "response.body", Value: value, Why: why}}, s
		}
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
	// Some leaves are judged by a sibling that may come after them: a
	// JWK's "d" and a Twilio auth token are secrets only next to a "kty"
	// key or an account SID in the same object; a provider token under "access_token" or
	// "refresh_token" is not one next to "token_type", in an OAuth token
	// response handing the client its own token. Such leaves wait.
	var pending []pendingLeaf
	var saw pairs
	// Borrowed leaves: sensitiveLeaf and Loc keep none of the leaf's
	// strings, only values built from them (masks, locations).
	for l := range jsonLeaves(body, true) {
		if l.Kind != KindString && l.Kind != KindNumber {
			continue
		}
		if l.Key == "kty" {
			saw.kty = appendBounded(saw.kty, parentHash(l))
		}
		if twilioSID(l.Value) {
			saw.sid = appendBounded(saw.sid, parentHash(l))
		}
		if len(l.Key) <= 16 && cardSibling(l.Key, l.Value) {
			saw.card = appendBounded(saw.card, parentHash(l))
		}
		saw.tokenType = saw.tokenType || l.Key == "token_type"
		why, value, s := pairedSecret(l.Key, l.Value)
		if why == "" {
			key := l.Key
			if key == "value" {
				// A property's value kept under a generic key
				// ({"DB_PASSWORD": {"value": "…"}}, Spring Boot's
				// /actuator/env) is named by the object's own key; in an
				// array of {"name": …, "value": …} it is not.
				if p := l.objectKey(); p != "" {
					key = p
				}
			}
			why, value, s = sensitiveLeaf(key, l.Parent(), l.Value, l.Kind)
		}
		if why == "" && len(l.Value) >= 13 && genericNumberKey(l.Key) {
			// A card's number under a generic key ("number") is one when
			// its object describes a card: it waits for the sibling.
			if n, ok := pii.CardNumber(l.Value); ok {
				why, value, s = whyCard, "****"+n[len(n)-4:], vigil.SeverityHigh
			}
		}
		if why == "" {
			continue
		}
		e := vigil.Evidence{Where: l.Loc(), Value: value, Why: why}
		if w := waitsFor(l.Key, why); w != nil {
			if len(pending) < maxEvidence {
				pending = append(pending, pendingLeaf{e, s, w, parentHash(l)})
			}
			continue
		}
		ev = append(ev, e)
		sev = max(sev, s)
		if len(ev) == maxEvidence {
			break
		}
	}
	for _, p := range pending {
		if len(ev) < maxEvidence && p.keep(saw, p.parent) {
			ev = append(ev, p.ev)
			sev = max(sev, p.sev)
		}
	}
	return ev, sev
}

// pairs is what sensitiveJSON saw of the siblings that decide a pending
// leaf: the objects (parentHash) holding a "kty" key or a Twilio account
// SID, at most maxEvidence of each, and whether the document has a
// "token_type".
type pairs struct {
	kty, sid, card []uint64
	tokenType      bool
}

// genericNumberKey says whether a key names a number without saying of
// what: "number", "num", "no", "value".
func genericNumberKey(k string) bool {
	var b [64]byte
	switch string(pii.NormKeyIn(&b, k)) {
	case "number", "num", "no", "nr", "value":
		return true
	}
	return false
}

// cardSibling says whether a leaf marks its object as describing a payment
// card: an expiry, a brand, network or security code field, or a type,
// object, kind or funding field whose value says card.
func cardSibling(key, v string) bool {
	var b [64]byte
	switch string(pii.NormKeyIn(&b, key)) {
	case "expmonth", "expyear", "expiry", "expirymonth", "expiryyear", "expirationmonth", "expirationyear", "cardbrand", "brand", "network", "cvc", "cvv", "cardholder", "cardholdername":
		return true
	case "type", "object", "kind", "funding", "instrumenttype":
		switch strings.ToLower(v) {
		case "card", "credit", "debit", "creditcard", "debitcard", "credit_card", "debit_card", "prepaid":
			return true
		}
	}
	return false
}

// appendBounded appends h to hs while hs holds fewer than maxEvidence.
func appendBounded(hs []uint64, h uint64) []uint64 {
	if len(hs) < maxEvidence {
		hs = append(hs, h)
	}
	return hs
}

type pendingLeaf struct {
	ev     vigil.Evidence
	sev    vigil.Severity
	keep   func(p pairs, parent uint64) bool
	parent uint64 // parentHash of the leaf: the object it sits in
}

const (
	whyJWK    = "private key (JWK private member)"
	whyTwilio = "API auth token (next to its account SID)"
	whyCard   = "card number (in an object describing a card)"
	whyToken  = "provider API token"
)

// waitsFor returns what decides a leaf reported for why under key once the
// whole document is seen, nil when the leaf is decided.
func waitsFor(key, why string) func(pairs, uint64) bool {
	switch {
	case why == whyJWK:
		return func(p pairs, parent uint64) bool { return slices.Contains(p.kty, parent) }
	case why == whyTwilio:
		return func(p pairs, parent uint64) bool { return slices.Contains(p.sid, parent) }
	case why == whyCard:
		return func(p pairs, parent uint64) bool { return slices.Contains(p.card, parent) }
	case strings.HasPrefix(why, whyToken) && issuedTokenName(key):
		return func(p pairs, _ uint64) bool { return !p.tokenType }
	}
	return nil
}

// formKeyBefore returns the name of the form pair whose value starts at
// s[i:] ("access_token" for "…&access_token=" before i), "" when s[i-1]
// is no '='.
func formKeyBefore(s string, i int) string {
	if i == 0 || s[i-1] != '=' {
		return ""
	}
	j := i - 1
	for j > 0 && j > i-64 && (isAlnum(s[j-1]) || s[j-1] == '_' || s[j-1] == '-' || s[j-1] == '.') {
		j--
	}
	return s[j : i-1]
}

// issuedTokenName: the names under which an OAuth token response (RFC
// 6749, section 5.1) hands out tokens. Such a token is not reported where
// the response also has a "token_type" (sensitiveJSON, sensitiveText,
// envSecret).
func issuedTokenName(key string) bool {
	n := pii.NormKey(key)
	return n == "accesstoken" || n == "refreshtoken"
}

// pairedSecret judges a leaf that is a secret only next to another: the
// private member "d" of an RSA, EC or OKP JWK (base64url, the private
// exponent or scalar), a Twilio auth token (32 hex digits).
func pairedSecret(key, v string) (why, value string, sev vigil.Severity) {
	switch {
	case key == "d" && len(v) >= 32 && base64URL(v):
		return whyJWK, mask(v), vigil.SeverityCritical
	case len(v) == 32 && hexLower(v) && pii.NormKey(key) == "authtoken":
		return whyTwilio, mask(v), vigil.SeverityHigh
	}
	return "", "", 0
}

// twilioSID reports a Twilio account SID: "AC" and 32 hex digits.
func twilioSID(v string) bool { return len(v) == 34 && v[:2] == "AC" && hexLower(v[2:]) }

func hexLower(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func base64URL(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isB64URL(v[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// sensitiveLeaf judges one JSON leaf; value is what evidence may show.
func sensitiveLeaf(key, parent, v string, kind Kind) (why, value string, sev vigil.Severity) {
	if len(v) < 6 {
		return "", "", 0
	}
	if kind == KindNumber || digitsLike(v) {
		if n, ok := pii.CardNumber(v); ok && !idName(key) && (cardName(key) || grouped(v) || cardName(parent) ||
			paymentName(pii.NormKey(parent)) && !otherNumberName(pii.NormKey(key))) {
			return "card number", "****" + n[len(n)-4:], vigil.SeverityHigh
		}
		if kind == KindNumber {
			return "", "", 0
		}
	}
	if len(v) >= 13 && cardRun(v) && !idName(key) { // cardRun first: it is the cheap one
		if n, ok := pii.CardInText(v); ok {
			return "card number", "****" + n[len(n)-4:], vigil.SeverityHigh
		}
	}
	// A masked value is never reported. The test is made only for a value
	// that would be: it costs more than the others, and few values are
	// reported.
	if why, value, sev = sensitiveValue(key, v); why != "" && masked(v) {
		return "", "", 0
	}
	if why == "" && kind == KindString && len(v) >= 32 && strings.IndexByte(v, '\n') >= 0 && !idName(key) {
		// A file carried in a field (a fetched credentials file, a
		// configuration): read as a text body is.
		return sensitiveText(unsafe.Slice(unsafe.StringData(v), len(v)))
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
	if p, tok := providerToken(v); p != "" {
		return whyToken + " (" + p + ")", p + "…" + mask(tok), vigil.SeverityHigh
	}
	if why, value, sev = embeddedSecret(v); why != "" {
		return why, value, sev
	}
	n := pii.NormKey(key)
	switch {
	case strings.Contains(n, "secretaccesskey") || n == "awssecretkey":
		return "cloud secret access key", mask(v), vigil.SeverityCritical
	case passwordName(key) && !metaName(n):
		return "password or password hash", mask(v), vigil.SeverityHigh
	case hexDigest(v) && passwordHashName(n):
		return "password hash", mask(v), vigil.SeverityHigh
	case secretKeyName(n) && !metaName(n) && !digestName(n) && len(v) >= 8 && !strings.Contains(v, " ") && !intentClientSecret(v) && !testModeKey(v):
		return "secret or API key", mask(v), vigil.SeverityHigh
	}
	return "", "", 0
}

// testModeKey says whether v is a Stripe test-mode secret or restricted
// key (sk_test_…, rk_test_…): it reaches the account's test data only,
// made for development and shown in sandbox settings, so it is no leak.
// (providerTokens lists the live ones.)
func testModeKey(v string) bool {
	return strings.HasPrefix(v, "sk_test_") || strings.HasPrefix(v, "rk_test_")
}

// sensitiveXML judges the element texts and attribute values of an XML
// body (a SOAP or XML API's response) as leaves named by their element or
// attribute (xmlValues): <Password>…</Password>,
// <ns2:CardNumber>…</ns2:CardNumber>.
func sensitiveXML(b []byte) ([]vigil.Evidence, vigil.Severity) {
	var ev []vigil.Evidence
	sev := vigil.SeverityInfo
	n := 0
	for key, v := range xmlValues(b) {
		if n++; n > maxLeaves {
			break
		}
		if why, value, s := sensitiveLeaf(key, "", v, KindString); why != "" {
			ev = append(ev, vigil.Evidence{Where: "response.body." + key, Value: value, Why: why})
			sev = max(sev, s)
			if len(ev) == maxEvidence {
				break
			}
		}
	}
	return ev, sev
}

// yamlType says whether a Content-Type is YAML's.
func yamlType(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "application/yaml") || strings.HasPrefix(ct, "application/x-yaml") ||
		strings.HasPrefix(ct, "text/yaml") || strings.HasPrefix(ct, "text/x-yaml")
}

// yamlSecret judges a YAML body's "key: value" lines (a configuration
// export) as leaves named by their key, as envSecret does NAME=value lines.
// Block scalars and flow collections are not read.
func yamlSecret(b []byte) (why, value string, sev vigil.Severity) {
	b = b[:min(len(b), maxTextScan)]
	for line := range strings.Lines(string(b)) {
		line = strings.TrimPrefix(strings.TrimSpace(line), "- ")
		key, v, ok := strings.Cut(line, ": ")
		if !ok || !envName(key) {
			continue
		}
		v = strings.TrimSpace(v)
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i]) // a comment
		}
		v = strings.Trim(v, `"'`)
		if v == "" || strings.IndexByte("|>{[&*$", v[0]) >= 0 || strings.Contains(v, "://") {
			continue // a block or flow value, an anchor or alias, a ${VAR} or a reference (vault://…)
		}
		if why, value, sev = sensitiveLeaf(key, "", v, KindString); why != "" {
			return why, value, sev
		}
	}
	return "", "", 0
}

// htmlDocument says whether b starts, after white space, as an HTML document
// does: its element names are markup, not field names.
func htmlDocument(b []byte) bool {
	b = bytes.TrimLeft(b[:min(len(b), 64)], " \t\r\n\ufeff")
	return len(b) >= 5 && (bytes.EqualFold(b[:5], []byte("<html")) || len(b) >= 9 && bytes.EqualFold(b[:9], []byte("<!doctype")))
}

// maxTextScan bounds the part of a text body that the scans for tokens,
// connection URLs, .env lines and card numbers read.
const maxTextScan = 16 << 10

// sensitiveText looks for the unmistakable classes in a non-JSON body:
// private keys and AWS key ids anywhere in it; then, in its first
// maxTextScan bytes, provider tokens, embedded secrets (Azure keys, URL
// passwords), a CSV export's card column, .env lines, and card numbers in
// the text.
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
	// A binary body (an image, a PDF) holds a NUL byte early: it is no
	// export or configuration file, and is not read as text.
	if bytes.IndexByte(b[:min(len(b), 512)], 0) >= 0 {
		return "", "", 0
	}
	// The scans below read the first maxTextScan bytes: an export or a
	// configuration file shows its secrets early, and a long page costs
	// them in proportion.
	b = b[:min(len(b), maxTextScan)]
	// Borrowed, not copied (as jsonWalker.text borrows): every evidence
	// value below is built anew (mask, concatenation), none is a piece of s.
	s := unsafe.String(unsafe.SliceData(b), len(b))
	// A form-encoded OAuth token response hands the client its own token
	// ("access_token=…&token_type=bearer"), which is not reported; the
	// response is looked for once such a token is found, not in every page.
	issued := func() bool { return strings.Contains(s, "token_type=") }
	handedOut := func(at int) bool { return issuedTokenName(formKeyBefore(s, at)) && issued() }
	if p, tok := textProviderToken(s, handedOut); p != "" {
		return whyToken + " (" + p + ")", p + "…" + mask(tok), vigil.SeverityHigh
	}
	if why, value, sev = embeddedSecret(s); why != "" {
		return why, value, sev
	}
	// Both card scans need a run of 13 digits, which cardRun finds (or
	// rules out) looking at one byte in 13 of a page without one.
	hasRun := cardRun(b)
	if hasRun {
		if n := csvCard(s); n != "" {
			return "card number", "****" + n[len(n)-4:], vigil.SeverityHigh
		}
	}
	if why, value, sev = envSecret(s, issued); why != "" {
		return why, value, sev
	}
	if why, value, sev = csvSecret(s); why != "" {
		return why, value, sev
	}
	if h := cryptHashInText(s); h != "" {
		return "password hash", h[:4] + "…" + mask(h), vigil.SeverityHigh
	}
	if hasRun {
		if n, ok := pii.CardInText(s); ok {
			return "card number", "****" + n[len(n)-4:], vigil.SeverityHigh
		}
	}
	return "", "", 0
}

// textProviderToken finds a provider token that starts a word of s. Every
// prefix ends with '_' or '-' among its bytes 3 to 10 (mayBeProviderToken),
// so only the words around those bytes are tried, not every byte of a page.
// A token starting at s[at:] for which skip(at) holds is passed over.
func textProviderToken(s string, skip func(at int) bool) (prefix, tok string) {
	for _, sep := range [...]byte{'_', '-'} { // one fast IndexByte scan each
		for i := 0; i < len(s); {
			j := strings.IndexByte(s[i:], sep)
			if j < 0 {
				break
			}
			p := i + j
			for start := max(0, p-10); start <= p-3; start++ {
				if (start == 0 || !isAlnum(s[start-1])) && tokenLead(s[start]) {
					if prefix, tok = providerToken(s[start:]); prefix != "" && !skip(start) {
						return prefix, tok
					}
				}
			}
			i = p + 1
		}
	}
	return "", ""
}

// providerTokens are the prefixes of API tokens whose format names the
// provider, with the least length of what follows: GitHub, GitLab, Slack,
// npm, Shopify, Stripe secret and restricted live keys, Square access
// tokens and application secrets, OpenAI and Anthropic API keys.
// Publishable keys (pk_live_, pk_test_) are meant for browsers and are not
// listed.
var providerTokens = [...]struct {
	prefix string
	min    int
}{
	{"ghp_", 30}, {"gho_", 30}, {"ghu_", 30}, {"ghs_", 30}, {"ghr_", 30}, {"github_pat_", 40},
	{"glpat-", 20},
	{"xoxb-", 20}, {"xoxp-", 20}, {"xoxa-", 20}, {"xoxr-", 20}, {"xoxe-", 20},
	{"npm_", 30},
	{"shpat_", 32}, {"shpss_", 32}, {"shpca_", 32}, {"shppa_", 32},
	{"sk_live_", 16}, {"rk_live_", 16},
	{"sq0atp-", 20}, {"sq0csp-", 40},
	{"sk-proj-", 40}, {"sk-ant-", 40},
}

// tokenLead reports the first bytes of the providerTokens prefixes.
func tokenLead(c byte) bool { return len(tokensByLead[c]) > 0 }

// intentClientSecret says whether v is a payment or setup intent's client
// secret ("pi_…_secret_…", "seti_…_secret_…"): the payment provider makes it
// for the paying customer's browser, and an API that hands it over in
// "client_secret" or "clientSecret" exposes nothing.
func intentClientSecret(v string) bool {
	id, secret, ok := strings.Cut(v, "_secret_")
	if !ok || secret == "" || strings.IndexByte(secret, '_') >= 0 {
		return false
	}
	rest, ok := strings.CutPrefix(id, "pi_")
	if !ok {
		rest, ok = strings.CutPrefix(id, "seti_")
	}
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isAlnum(rest[i]) {
			return false
		}
	}
	return true
}

// tokensByLead lists, by first byte, the providerTokens whose prefix starts
// with it: a value is tried against those alone.
var tokensByLead = func() (t [256][]int) {
	for i, p := range providerTokens {
		t[p.prefix[0]] = append(t[p.prefix[0]], i)
	}
	return t
}()

// mayBeProviderToken is the cheap test before the prefixes are tried: a
// first byte of one, and the '_' or '-' every prefix ends with among bytes
// 3 to 10 ("npm_", "github_pat_"), which words and ids seldom have.
func mayBeProviderToken[T string | []byte](v T) bool {
	if len(v) < 20 || !tokenLead(v[0]) {
		return false
	}
	for i := 3; i <= 10; i++ {
		if v[i] == '_' || v[i] == '-' {
			return true
		}
	}
	return false
}

// providerToken reports a provider token at the start of v: its prefix and
// the token. What follows the prefix must be long enough and hold 10
// different characters at least, as random tokens do, so a placeholder
// ("ghp_xxxx…", "sk_live_0000…") or a mask ("sk_live_****") stays quiet.
func providerToken(v string) (prefix, tok string) {
	if !mayBeProviderToken(v) {
		return "", ""
	}
	for _, ti := range tokensByLead[v[0]] {
		t := providerTokens[ti]
		if !strings.HasPrefix(v, t.prefix) {
			continue
		}
		end := len(t.prefix)
		var seen [2]uint64
		for end < len(v) && isB64URL(v[end]) {
			seen[v[end]>>6] |= 1 << (v[end] & 63)
			end++
		}
		if end-len(t.prefix) >= t.min && bits.OnesCount64(seen[0])+bits.OnesCount64(seen[1]) >= 10 {
			return t.prefix, v[:end]
		}
		return "", ""
	}
	return "", ""
}

// embeddedSecret finds the credentials that sit inside a longer value: an
// Azure storage or Service Bus connection string's key (AccountKey=,
// SharedAccessKey=), an Azure account SAS (ss= and srt=: access to a whole
// storage account; a service SAS for one blob, an upload URL, is the API
// working as designed), and the password of a connection URL
// (postgres://user:password@host).
func embeddedSecret(v string) (why, value string, sev vigil.Severity) {
	if embeddedKeyTraceString(v) {
		if why, value, sev = azureSecret(v); why != "" {
			return why, value, sev
		}
	}
	if strings.IndexByte(v, '@') < 0 {
		return "", "", 0 // no user information, so no password in a URL
	}
	for rest := v; ; {
		i := strings.Index(rest, "://")
		if i < 0 {
			return "", "", 0
		}
		if scheme, user, pass, host := urlPassword(rest[:i], rest[i+3:]); pass != "" {
			return "password in connection URL", shorten(scheme + "://" + user + ":" + mask(pass) + "@" + host), vigil.SeverityHigh
		}
		rest = rest[i+3:]
	}
}

// azureSecret is embeddedSecret's Azure part: a connection string's
// AccountKey= or SharedAccessKey=, an account SAS's sig=.
func azureSecret(v string) (why, value string, sev vigil.Severity) {
	for _, k := range [...]string{"AccountKey=", "SharedAccessKey="} {
		if i := strings.Index(v, k); i >= 0 {
			key := v[i+len(k):]
			key = key[:base64Run(key)]
			if len(key) >= 20 && !masked(key) {
				return "cloud storage account key", k + mask(key), vigil.SeverityCritical
			}
		}
	}
	if strings.Contains(v, "srt=") && strings.Contains(v, "ss=") {
		if i := strings.Index(v, "sig="); i > 0 && (v[i-1] == '?' || v[i-1] == '&') {
			sig := v[i+4:]
			if end := strings.IndexAny(sig, "&#\"' "); end >= 0 {
				sig = sig[:end]
			}
			if len(sig) >= 16 && !masked(sig) {
				return "cloud account SAS token", "sig=" + mask(sig), vigil.SeverityHigh
			}
		}
	}
	return "", "", 0
}

// urlPassword reads the user and password of a URL's authority, given what
// comes before "://" (ending with the scheme) and after it. Masks and
// placeholders (${DB_PASS}, <password>) are no password.
func urlPassword(before, after string) (scheme, user, pass, host string) {
	s := len(before)
	for s > 0 && (isAlnum(before[s-1]) || before[s-1] == '+' || before[s-1] == '.' || before[s-1] == '-') {
		s--
	}
	scheme = before[s:]
	if scheme == "" {
		return "", "", "", ""
	}
	end := strings.IndexAny(after, "/?#\"' \t\r\n<>")
	if end < 0 {
		end = len(after)
	}
	auth := after[:end]
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return "", "", "", ""
	}
	user, pass, ok := strings.Cut(auth[:at], ":")
	if !ok || pass == "" || masked(pass) || strings.ContainsAny(pass, "${}<>") || passwordName(pass) {
		return "", "", "", ""
	}
	return scheme, user, pass, auth[at+1:]
}

// base64Run is the length of v's leading run of base64 characters.
func base64Run(v string) int {
	i := 0
	for i < len(v) && (isAlnum(v[i]) || v[i] == '+' || v[i] == '/' || v[i] == '=' || v[i] == '-' || v[i] == '_') {
		i++
	}
	return i
}

// csvCard returns the first card number in a CSV (or ';'- or tab-separated)
// body under a column whose header names a card, "" when none: an export of
// card numbers.
func csvCard(s string) string {
	for _, v := range csvCells(s, true, func(name string) bool { return cardName(name) && !idName(name) }) {
		if n, ok := pii.CardNumber(v); ok {
			return n
		}
	}
	return ""
}

// csvSecret judges the cells of a CSV body's columns whose header names a
// password or a secret, as leaves named by the header: a user export with a
// password column.
func csvSecret(s string) (why, value string, sev vigil.Severity) {
	secretColumn := func(name string) bool {
		n := pii.NormKey(name)
		return (passwordName(name) || secretKeyName(n)) && !metaName(n) && !digestName(n)
	}
	for name, v := range csvCells(s, false, secretColumn) {
		if v == "" || masked(v) {
			continue
		}
		if why, value, sev = sensitiveLeaf(name, "", v, KindString); why != "" {
			return why, value, sev
		}
	}
	return "", "", 0
}

// csvCells yields the cells of a CSV (or ';'- or tab-separated) body under
// the columns whose header name col accepts, row by row, each with its
// header name. Quoted separators are not parsed: a misread row only hides a
// cell. A header of one column (no separator) counts only when single is
// true: a text whose first line is one word is no CSV of secrets.
func csvCells(s string, single bool, col func(name string) bool) iter.Seq2[string, string] {
	return func(yield func(name, cell string) bool) {
		header, rows, ok := strings.Cut(s, "\n")
		if !ok || len(header) > 4096 { // no CSV header: a minified page, a log line
			return
		}
		sep := ""
		for _, c := range [...]string{",", ";", "\t"} {
			if strings.Contains(header, c) {
				sep = c
				break
			}
		}
		if sep == "" && !single {
			return
		}
		if sep == "" {
			sep = ","
		}
		names := strings.Split(strings.TrimSpace(header), sep)
		var cols []int
		for i, name := range names {
			names[i] = strings.Trim(name, `" `)
			if col(names[i]) {
				cols = append(cols, i)
			}
		}
		if cols == nil {
			return
		}
		for row := range strings.Lines(rows) {
			fields := strings.Split(strings.TrimSpace(row), sep)
			for _, i := range cols {
				if i < len(fields) && !yield(names[i], strings.Trim(fields[i], `" `)) {
					return
				}
			}
		}
	}
}

// cryptHashInText finds a password hash in a modular crypt format that
// pii.CryptHash knows (bcrypt's $2a$/$2b$/$2y$, argon2, scrypt, sha-crypt)
// standing as a word of s: a user export, a CSV, a dump. "" when none.
func cryptHashInText(s string) string {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			break
		}
		i += j
		if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '$') || i+3 >= len(s) {
			i++
			continue
		}
		end := i
		for end < len(s) && end-i < 256 && !strings.ContainsRune(" \t\r\n,;\"'<>|", rune(s[end])) {
			end++
		}
		if h := s[i:end]; pii.CryptHash(h) {
			return h
		}
		i = end
	}
	return ""
}

// envSecret judges a body read as a .env or properties file: each
// NAME=value line is a leaf named NAME, as is each define('NAME', 'value')
// of a PHP configuration file (wp-config.php). In an OAuth token response
// (issued) the tokens handed out are not reported.
func envSecret(s string, issued func() bool) (why, value string, sev vigil.Severity) {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export "))
		if strings.HasPrefix(line, "define(") {
			line = phpDefine(line)
		}
		name, v, ok := strings.Cut(line, "=")
		if name = strings.TrimSpace(name); !ok || !envName(name) {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if why, value, sev = sensitiveLeaf(name, "", v, KindString); why != "" &&
			!(strings.HasPrefix(why, whyToken) && issuedTokenName(name) && issued()) {
			return why, value, sev
		}
	}
	return "", "", 0
}

// phpDefine turns define('NAME', 'value'); into NAME=value, and any other
// line into "".
func phpDefine(line string) string {
	args, ok := strings.CutPrefix(line, "define(")
	if !ok {
		return ""
	}
	args = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(args), ";")), ")")
	name, v, ok := strings.Cut(args, ",")
	if !ok {
		return ""
	}
	return strings.Trim(strings.TrimSpace(name), `"'`) + "=" + strings.TrimSpace(v)
}

// envName reports a variable name: a letter or '_', then letters, digits,
// '_' and '.'.
func envName(n string) bool {
	if n == "" || isDigit(n[0]) {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; !isAlnum(c) && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// passwordHashName reports whether the normalised name n pairs a short
// password word ("pwd", "pass") with a hash word next to it, either way
// round: "pwd_sha256", "pass_md5", "pwdHash", "hashed_pwd". passwordName
// takes the long words ("password", "passwd"); "passport_sha256" has no
// hash word next to "pass".
func passwordHashName(n string) bool {
	for i := 0; i+3 <= len(n); i++ {
		for _, w := range [...]string{"pwd", "pass"} {
			if !strings.HasPrefix(n[i:], w) {
				continue
			}
			after, before := n[i+len(w):], strings.TrimRight(n[:i], "0123456789")
			for _, h := range [...]string{"hash", "hashed", "md5", "sha", "digest", "crypt", "bcrypt", "scrypt"} {
				if strings.HasPrefix(after, h) || strings.HasSuffix(before, strings.TrimRight(h, "5")) {
					return true
				}
			}
		}
	}
	return false
}

// hexDigest reports the hex form of an MD5, SHA-1, SHA-224, SHA-256,
// SHA-384 or SHA-512 digest, with the 8 different digits at least a real
// one has ("0000…" is a placeholder).
func hexDigest(v string) bool {
	switch len(v) {
	case 32, 40, 56, 64, 96, 128:
	default:
		return false
	}
	var seen uint32
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			seen |= 1 << (c - '0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			seen |= 1 << (c | 0x20 - 'a' + 10)
		default:
			return false
		}
	}
	return bits.OnesCount32(seen) >= 8
}

// secretKeyName: names under which a value is a secret. Bearer tokens handed
// out by a login are the API working as designed and are not reported.
func secretKeyName(n string) bool {
	if strings.Contains(n, "question") || strings.Contains(n, "santa") {
		return false
	}
	for _, s := range [...]string{"secret", "apikey", "apitoken", "privatekey", "signingkey", "partnerkey", "jwtkey", "encryptionkey", "masterkey"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// metaName: names about a secret rather than holding it.
func metaName(n string) bool {
	for _, s := range [...]string{"id", "prefix", "last4", "hint", "name", "at", "count", "enabled", "policy", "set", "expires", "required", "length", "strength", "changed", "updated", "reset", "url", "file", "path", "env", "ref", "var", "variable"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return strings.HasPrefix(n, "has") || strings.HasPrefix(n, "is")
}

// digestName: names of a hash or fingerprint of a secret ("api_key_sha256",
// "secret_fingerprint"), which is not the secret.
func digestName(n string) bool {
	for _, s := range [...]string{"sha1", "sha256", "sha512", "md5", "hash", "hashed", "digest", "fingerprint", "checksum", "thumbprint"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

func cardName(k string) bool { return pii.CardName(pii.NormKey(k)) }

// paymentName reports whether the normalised name n of the object holding a
// number names a payment instrument or a movement of money
// ("paymentMethods", "paidWith", "refund", "payout"): a Luhn-valid number
// with an issuer prefix there is the card paid with or paid to, whatever
// generic key holds it ("number", "to").
func paymentName(n string) bool {
	for _, s := range [...]string{"payment", "paidwith", "paywith", "paidby", "payby", "refund", "payout", "fundingsource", "instrument"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// otherNumberName reports whether the normalised key n names a number a
// payment carries besides the card's (a bank account, a loan, an invoice,
// an authorization code), which paymentName's parent does not make a card.
func otherNumberName(n string) bool {
	for _, s := range [...]string{"account", "iban", "routing", "bank", "loan", "policy", "invoice", "receipt", "confirm", "auth", "transaction", "txn", "batch", "reference", "customer", "member", "merchant", "terminal"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// iniSection reports a body opening with an INI or TOML section header
// ("[default]", "[profile prod]", "[[servers]]"): it starts like a JSON
// array but is a configuration file, read as text. A JSON array opening
// with a bare word holds true, false or null.
func iniSection(b []byte) bool {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	if i == len(b) || b[i] != '[' {
		return false
	}
	i++
	if i < len(b) && b[i] == '[' {
		i++
	}
	start := i
	for i < len(b) && i-start < 64 && (isAlnum(b[i]) || b[i] == '_' || b[i] == '-' || b[i] == '.' || b[i] == ' ') {
		i++
	}
	if i == start || i == len(b) || b[i] != ']' || !(b[start]|0x20 >= 'a' && b[start]|0x20 <= 'z') {
		return false
	}
	switch string(b[start:i]) {
	case "true", "false", "null":
		return false
	}
	return true
}

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
//   - a card number in free text: a string with such a run;
//   - a secret's name: a key that, normalised by pii.NormKey (lower-case
//     letters and digits only), holds "secret", "pass", "pwd" or "key"
//     (every name secretKeyName, passwordName and the cloud key names
//     accept does). A key is a string followed by ':';
//   - a JWK's "d" counts only beside a key "kty";
//   - a value mayBeSecretValue accepts: a provider token's prefix, a
//     Twilio account SID, a URL with '@';
//   - a connection string's key or an account SAS: "Key=" or "srt="
//     anywhere.
//
// A document with a backslash may hide any of these behind escapes: it is
// always walked.
func maySensitive(b []byte) bool {
	if bytes.IndexByte(b, '\\') >= 0 || bytes.IndexByte(b, '$') >= 0 || bytes.Contains(b, []byte("-----BEGIN")) ||
		bytes.Contains(b, []byte("pbkdf2_sha")) || bytes.Contains(b, []byte("AKIA")) || bytes.Contains(b, []byte("ASIA")) ||
		embeddedKeyTrace(b) {
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
		if len(str) >= 13 && cardRun(str) || mayBeSecretValue(str) {
			return true
		}
		if keyFollows(b) && (mayBeSecretName(str) || string(str) == "kty") {
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
		if len(str) >= 13 && cardRun(str) || mayBeSecretValue(str) {
			return true
		}
		if keyFollows(b[e+1:]) && (mayBeSecretName(str) || string(str) == "kty") {
			return true
		}
		digits = 0
		i = e
	}
	return false
}

// embeddedKeyTraceString is embeddedKeyTrace of a string. (Going from '='
// to '=' costs less on a page than strings.Contains of "Key=" and "srt=":
// 's' is frequent.)
func embeddedKeyTraceString(s string) bool {
	for i := strings.IndexByte(s, '='); i >= 0; {
		if i >= 3 && (s[i-3:i] == "Key" || s[i-3:i] == "srt") {
			return true
		}
		j := strings.IndexByte(s[i+1:], '=')
		if j < 0 {
			return false
		}
		i += j + 1
	}
	return false
}

// embeddedKeyTrace reports "Key=" or "srt=" in b, what embeddedSecret needs
// to see a connection string's key or an account SAS: embeddedKeyTraceString
// on b's bytes, borrowed (nothing keeps them).
func embeddedKeyTrace(b []byte) bool {
	return embeddedKeyTraceString(unsafe.String(unsafe.SliceData(b), len(b)))
}

// mayBeSecretValue reports whether the JSON string v may be a value that
// sensitiveValue or pairedSecret reports for itself: a provider token (its
// prefix), a Twilio account SID, or a URL with user information ('@' and
// "://").
func mayBeSecretValue(v []byte) bool {
	if len(v) < len("s://:p@") { // the shortest URL with a password
		return false
	}
	if len(v) == 34 && v[0] == 'A' && v[1] == 'C' {
		return true
	}
	if mayBeProviderToken(v) {
		for _, ti := range tokensByLead[v[0]] {
			if bytes.HasPrefix(v, []byte(providerTokens[ti].prefix)) {
				return true
			}
		}
	}
	return bytes.IndexByte(v, '@') >= 0 && bytes.Contains(v, []byte("://"))
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
func cardRun[T string | []byte](b T) bool {
	// A run holds at least cardDigits bytes, so the byte cardDigits-1 past
	// where one could start must belong to it: when it does not, the run
	// starts after it. On text without digits this looks at one byte in
	// cardDigits (a 1 KB string of letters costs 80 looks, not 1,000).
	const n = cardDigits
	for i := 0; i+n <= len(b); {
		p := i + n - 1
		if !cardRunByte(b[p]) {
			i = p + 1
			continue
		}
		s := p
		for s > i && cardRunByte(b[s-1]) {
			s-- // the run's start: no earlier than i, where the last one ended
		}
		digits := 0
		j := s
		for ; j < len(b) && cardRunByte(b[j]); j++ {
			if b[j] >= '0' && b[j] <= '9' {
				if digits++; digits >= n {
					return true
				}
			}
		}
		i = j + 1
	}
	return false
}

// cardDigits is the fewest digits of a card number.
const cardDigits = 13

// cardRunByte says whether c may be part of a card number's run: a digit,
// or a space or '-' between its groups.
func cardRunByte(c byte) bool { return c >= '0' && c <= '9' || c == ' ' || c == '-' }

// mayBeSecretName reports whether pii.NormKey of the key k may hold "secret",
// "pass", "pwd", "key" or "apitoken".
func mayBeSecretName(k []byte) bool {
	const (
		key      = uint64('k')<<16 | uint64('e')<<8 | uint64('y')
		pwd      = uint64('p')<<16 | uint64('w')<<8 | uint64('d')
		pass     = uint64('p')<<24 | uint64('a')<<16 | uint64('s')<<8 | uint64('s')
		secret   = uint64('s')<<40 | uint64('e')<<32 | uint64('c')<<24 | uint64('r')<<16 | uint64('e')<<8 | uint64('t')
		apitoken = uint64('a')<<56 | uint64('p')<<48 | uint64('i')<<40 | uint64('t')<<32 | uint64('o')<<24 | uint64('k')<<16 | uint64('e')<<8 | uint64('n')
	)
	var last uint64 // the last normalised bytes, the newest lowest
	for _, c := range k {
		t := sensitiveBytes[c]
		if t&sbAlnum == 0 {
			continue // dropped by NormKey
		}
		last = last<<8 | uint64(c|0x20) // lower-cased; digits keep their value
		if t&sbLast != 0 && (last&0xffffff == key || last&0xffffff == pwd || last&0xffffffff == pass || last&0xffffffffffff == secret || last == apitoken) {
			return true
		}
	}
	return false
}

// The classes of bytes mayBeSecretName tells apart.
const (
	sbAlnum = 1 << iota // kept by pii.NormKey
	sbLast              // the last letter of "key", "pwd", "pass", "secret" or "apitoken", in either case
)

var sensitiveBytes = func() (t [256]uint8) {
	for i := range t {
		switch c := byte(i); {
		case c >= '0' && c <= '9':
			t[i] = sbAlnum
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			t[i] = sbAlnum
			if l := c | 0x20; l == 'y' || l == 'd' || l == 's' || l == 't' || l == 'n' {
				t[i] |= sbLast
			}
		}
	}
	return t
}()
