package simulate

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// script is one goroutine's work: it drives one or more actors through their
// timelines and returns errStop when the run is over.
type script func(ctx context.Context, r *runner) error

// The peak-season surge: the benign rate ramps up to surgePeak times the
// base rate between these fractions of the run.
const (
	surgePeak      = 10.0
	surgeRampStart = 0.40
	surgeFullStart = 0.45
	surgeFullEnd   = 0.60
	surgeRampEnd   = 0.65
)

// surge is the benign rate multiplier at fraction f of the run.
func surge(f float64) float64 {
	switch {
	case f < surgeRampStart || f >= surgeRampEnd:
		return 1
	case f < surgeFullStart:
		return 1 + (surgePeak-1)*(f-surgeRampStart)/(surgeFullStart-surgeRampStart)
	case f < surgeFullEnd:
		return surgePeak
	default:
		return surgePeak - (surgePeak-1)*(f-surgeFullEnd)/(surgeRampEnd-surgeFullEnd)
	}
}

// partnerRate is the partner integration's steady catalogue-read rate.
func partnerRate(base float64) float64 { return math.Max(1, base/2) }

// crackRate is the pace of the attackers' brute-force loops.
func crackRate(base float64) float64 { return math.Max(5, base) }

// plan is the seeded cast of a run: every actor's identity is drawn here, in
// a fixed order, before anything is sent.
type plan struct {
	cfg     Config
	seed    uint64
	base    string
	master  *rand.Rand
	addrs   map[string]bool
	scripts []script
}

func newPlan(cfg Config, base string) *plan {
	p := &plan{
		cfg:    cfg,
		seed:   uint64(cfg.Seed),
		base:   base,
		master: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x76696769_6c73696d)),
		addrs:  map[string]bool{},
	}
	// Identities are drawn for every campaign, selected or not, so that
	// selecting campaigns does not change anyone's identity.
	for n := 1; n <= cfg.Users; n++ {
		p.scripts = append(p.scripts, p.customer(n))
	}
	p.scripts = append(p.scripts, p.partner())
	attacks := map[string][]script{
		CampaignBusinessLogic: p.businessLogic(),
		CampaignChained:       p.chained(),
		CampaignShadow:        p.shadow(),
		CampaignAutomation:    p.automation(),
	}
	for _, name := range AttackCampaigns {
		if slices.Contains(cfg.Campaigns, name) {
			p.scripts = append(p.scripts, attacks[name]...)
		}
	}
	return p
}

// newActor draws an actor whose private random stream depends only on the
// seed and its id.
func (p *plan) newActor(id, campaign string, ident identity) *actor {
	h := fnv.New64a()
	h.Write([]byte(id))
	return &actor{
		id:       id,
		campaign: campaign,
		identity: ident,
		rng:      rand.New(rand.NewPCG(p.seed, h.Sum64())),
	}
}

// at returns fraction f of the run as an offset.
func (p *plan) at(f float64) time.Duration { return time.Duration(f * float64(p.cfg.Duration)) }

// addr draws a fresh address from 100.64.0.0/10 (shared address space).
// Benign users and attackers draw from the same pool, so no detector can
// tell them apart by range.
func (p *plan) addr() string {
	for {
		a := fmt.Sprintf("100.%d.%d.%d", 64+p.master.IntN(64), p.master.IntN(256), 1+p.master.IntN(254))
		if !p.addrs[a] {
			p.addrs[a] = true
			return a
		}
	}
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

var (
	browserUAs = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
	}
	languages = []string{"en-US,en;q=0.9", "en-GB,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9,en;q=0.7", "es-ES,es;q=0.9", "nl-NL,nl;q=0.9,en;q=0.8"}
	devices   = []string{"Pixel 7", "Pixel 8", "SM-S911B", "SM-A546B", "moto g84", "OnePlus 11"}
)

// browser draws a web browser identity with its full header set.
func (p *plan) browser() identity {
	ua := pick(p.master, browserUAs)
	h := []header{
		{"Accept", "application/json, text/plain, */*"},
		{"Accept-Language", pick(p.master, languages)},
		{"Accept-Encoding", "gzip, deflate, br"},
	}
	if strings.Contains(ua, "Chrome/") {
		h = append(h, header{"Sec-Ch-Ua", `"Chromium";v="126", "Not.A/Brand";v="24"`}, header{"Sec-Ch-Ua-Mobile", "?0"})
	}
	h = append(h,
		header{"Origin", p.base},
		header{"Referer", p.base + "/"},
		header{"Sec-Fetch-Site", "same-origin"},
		header{"Sec-Fetch-Mode", "cors"},
		header{"Sec-Fetch-Dest", "empty"},
	)
	return identity{addr: p.addr(), ua: ua, headers: h}
}

// mobileApp draws the shop's Android app: an okhttp client that retries.
func (p *plan) mobileApp() identity {
	ver := fmt.Sprintf("3.%d.%d", 2+p.master.IntN(3), p.master.IntN(10))
	ua := fmt.Sprintf("ShopApp/%s (Android %d; %s) okhttp/4.12.0", ver, 12+p.master.IntN(3), pick(p.master, devices))
	return identity{
		addr: p.addr(),
		ua:   ua,
		headers: []header{
			{"Accept", "application/json"},
			{"Accept-Encoding", "gzip"},
			{"X-App-Version", ver},
			{"X-Device-Id", fmt.Sprintf("%016x", p.master.Uint64())},
		},
		mobile: true,
	}
}

// tool draws a scripted client identity with a sparse header set.
func (p *plan) tool(ua string, extra ...header) identity {
	h := append([]header{{"Accept", "*/*"}}, extra...)
	return identity{addr: p.addr(), ua: ua, headers: h}
}
