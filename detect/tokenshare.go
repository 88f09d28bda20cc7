package detect

import (
	"context"
	"hash/maphash"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil"
)

// TokenShareConfig tunes the shared token detector. The zero value is usable.
type TokenShareConfig struct {
	// Window is how long a token's uses are remembered. 0 means 10 minutes.
	Window time.Duration
	// Networks is how many distinct client networks (IPv4 /24, IPv6 /48)
	// one token may come from in a window; from the next one on, each new
	// network is reported. 0 means 4.
	Networks int
	// MaxTokens caps the tokens remembered. 0 means 100000.
	MaxTokens int
}

// TokenShare finds one credential (bearer token or API key) used from many
// client networks at once: a stolen or leaked token replayed by others, or a
// token shared between scripts. Networks, not addresses, are counted (an
// IPv4 /24, an IPv6 /48), so a phone moving between cells and Wi-Fi stays
// below the bar; distinct client fingerprints raise the severity.
//
// Tokens are kept as a keyed 64-bit hash, never in clear. State is two
// generations of at most MaxTokens/2 entries each (the older generation is
// dropped when the newer one fills), of at most Networks+8 networks and 4
// fingerprints per token, under a lock. Tokens shorter than 16 characters
// (placeholders such as a redacted "[REDACTED]") are ignored.
type TokenShare struct {
	cfg  TokenShareConfig
	seed maphash.Seed

	mu        sync.Mutex
	cur, prev map[uint64]*tokenUses
}

// tokenUses is one token's recent uses.
type tokenUses struct {
	first time.Time
	nets  []netip.Prefix
	fps   []string
}

// maxTokenFingerprints bounds the fingerprints remembered per token, and
// maxExtraNetworks the networks remembered beyond the reporting bar (so a
// network already reported is not reported again).
const (
	maxTokenFingerprints = 4
	maxExtraNetworks     = 8
)

var _ vigil.Analyzer = (*TokenShare)(nil)

const tokenShareID = "detect.auth.tokenshare"

// NewTokenShare returns the shared token detector.
func NewTokenShare(cfg TokenShareConfig) *TokenShare {
	if cfg.Window <= 0 {
		cfg.Window = 10 * time.Minute
	}
	if cfg.Networks <= 0 {
		cfg.Networks = 4
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 100000
	}
	return &TokenShare{cfg: cfg, seed: maphash.MakeSeed(), cur: map[uint64]*tokenUses{}, prev: map[uint64]*tokenUses{}}
}

// Analyze implements vigil.Analyzer.
func (d *TokenShare) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	tok, where := credential(&x.Request)
	if len(tok) < 16 || x.Status() < 200 || x.Status() >= 300 {
		return nil, nil // only accepted tokens: a rejected one shares nothing
	}
	a, err := netip.ParseAddr(addrOf(x))
	if err != nil {
		return nil, nil
	}
	bits := 24
	if !a.Is4() && !a.Is4In6() {
		bits = 48
	}
	nw, _ := a.Unmap().Prefix(min(bits, a.Unmap().BitLen()))
	h := maphash.String(d.seed, tok)

	d.mu.Lock()
	u := d.lookup(h, x.Time)
	if x.Actor.Fingerprint != "" && len(u.fps) < maxTokenFingerprints && !slices.Contains(u.fps, x.Actor.Fingerprint) {
		u.fps = append(u.fps, x.Actor.Fingerprint)
	}
	if slices.Contains(u.nets, nw) {
		d.mu.Unlock()
		return nil, nil
	}
	n := len(u.nets) + 1
	if len(u.nets) < d.cfg.Networks+maxExtraNetworks {
		u.nets = append(u.nets, nw)
	}
	fps := len(u.fps)
	since := x.Time.Sub(u.first)
	d.mu.Unlock()
	if n <= d.cfg.Networks {
		return nil, nil
	}
	sev, conf := vigil.SeverityMedium, 0.6
	why := "the token was accepted from " + strconv.Itoa(n) + " client networks within " + since.Round(time.Second).String()
	if fps >= 3 {
		sev, conf = vigil.SeverityHigh, 0.75
		why += " and " + strconv.Itoa(fps) + " client fingerprints"
	}
	ev := []vigil.Evidence{
		{Where: where, Value: "[token]", Why: why},
		{Where: "client.addr", Value: nw.String(), Why: "a network this token was not used from before"},
	}
	return []vigil.Finding{finding(tokenShareID, x, vigil.API2BrokenAuth, sev, conf, "One token used from many networks", ev)}, nil
}

// lookup returns the token's uses, starting afresh when its window is over.
// The caller holds mu.
func (d *TokenShare) lookup(h uint64, t time.Time) *tokenUses {
	u := d.cur[h]
	if u == nil {
		if u = d.prev[h]; u != nil {
			delete(d.prev, h)
		} else {
			u = &tokenUses{first: t}
		}
		if len(d.cur) >= d.cfg.MaxTokens/2 {
			d.prev, d.cur = d.cur, make(map[uint64]*tokenUses, len(d.cur))
		}
		d.cur[h] = u
	}
	if t.Sub(u.first) > d.cfg.Window || t.Before(u.first) && u.first.Sub(t) > d.cfg.Window {
		*u = tokenUses{first: t}
	}
	return u
}

// credential is the request's bearer token or API key, and where it is.
func credential(r *vigil.Request) (string, string) {
	if tok, where := bearer(r); tok != "" {
		return tok, where
	}
	if r.Header == nil {
		return "", ""
	}
	for _, h := range [...]string{"X-Api-Key", "Api-Key", "X-Auth-Token"} {
		if v := strings.TrimSpace(headerValue(r.Header, h)); v != "" {
			return v, "header." + h
		}
	}
	return "", ""
}
