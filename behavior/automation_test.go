package behavior

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

// client is how a synthetic client looks on the wire.
type client struct {
	ua      string
	headers map[string]string
}

const (
	chromeUA  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	safariUA  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
	androidUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
	iphoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

var (
	chrome = client{ua: chromeUA, headers: map[string]string{
		"Accept": "application/json", "Accept-Language": "en-US,en;q=0.9", "Sec-Ch-Ua": `"Chromium";v="126"`,
		"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty",
	}}
	// spoofedChrome is a script with a Chrome User-Agent and the three
	// headers a tutorial copies.
	spoofedChrome = client{ua: chromeUA, headers: map[string]string{
		"Accept": "application/json", "Accept-Language": "en-US,en;q=0.9", "Accept-Encoding": "gzip",
	}}
	shopApp = client{ua: "ShopApp/3.3.7 (Android 14; moto g84) okhttp/4.12.0", headers: map[string]string{
		"Accept": "application/json", "X-App-Version": "3.3.7",
	}}
	pyRequests = client{ua: "python-requests/2.32.3", headers: map[string]string{"Accept": "*/*"}}
	headless   = client{ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
		headers: map[string]string{"Accept": "*/*", "Accept-Language": "en-US"}}
	partnerFeed = client{ua: "PartnerCatalogSync/2.3.1 (+catalog-feed; ops@partner.test)", headers: map[string]string{"Accept": "application/json"}}
)

func (c client) with(ua string) client {
	c.ua = ua
	return c
}

// shot is one request of a client at an offset from t0.
type shot struct {
	c     client
	actor vigil.Actor
	at    time.Duration
	r     req
	http  bool // plain HTTP to a public host instead of HTTPS
}

func runShots(t testing.TB, an vigil.Analyzer, shots []shot) []vigil.Finding {
	t.Helper()
	var out []vigil.Finding
	for _, s := range shots {
		x := exchange(s.actor, t0.Add(s.at), s.r)
		if s.http {
			x.Request.URL.Scheme = "http"
		}
		if s.c.ua != "" {
			x.Request.Header.Set("User-Agent", s.c.ua)
		}
		for k, v := range s.c.headers {
			x.Request.Header.Set(k, v)
		}
		fs, err := an.Analyze(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fs...)
	}
	return out
}

var shopPages = []req{
	get("/api/v2/products?limit=20", 200), get("/api/v2/products/17", 200), get("/api/v2/products/search?q=chair", 200),
	post("/api/v2/cart/items", `{"product_id":17,"quantity":1}`, 201), get("/api/v2/cart", 200), get("/api/v2/orders", 200),
	get("/api/v2/orders/1004", 200), get("/api/v2/users/me", 200), get("/api/v2/addresses", 200), post("/api/v2/checkout/quote", `{}`, 200),
}

// session is n requests of one client cycling through pages with gaps from
// gap(i).
func session(c client, a vigil.Actor, n int, pages []req, gap func(i int) time.Duration) []shot {
	out := make([]shot, n)
	at := time.Duration(0)
	for i := range out {
		at += gap(i)
		out[i] = shot{c: c, actor: a, at: at, r: pages[i%len(pages)]}
	}
	return out
}

// human gaps: bursts of quick clicks, then reading, drawn from a fixed
// seed (exponential with a mean of 8 s, or 0.3 to 1.5 s inside a burst).
func humanGaps(seed uint64) func(int) time.Duration {
	rng := rand.New(rand.NewPCG(seed, 99))
	return func(int) time.Duration {
		if rng.IntN(3) == 0 {
			return time.Duration(300+rng.IntN(1200)) * time.Millisecond
		}
		return time.Duration(rng.ExpFloat64() * float64(8*time.Second))
	}
}

func every(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }

// jittered gaps: d ± 5%.
func jittered(d time.Duration) func(int) time.Duration {
	rng := rand.New(rand.NewPCG(1, 2))
	return func(int) time.Duration { return time.Duration(float64(d) * (0.95 + 0.1*rng.Float64())) }
}

func TestAutomation(t *testing.T) {
	bot := vigil.Actor{Principal: "jwt:666", Addr: "203.0.113.66"}
	person := vigil.Actor{Principal: "jwt:17", Addr: "198.51.100.17"}
	partner := vigil.Actor{Principal: "apikey:728283677825", Addr: "192.0.2.10"}
	rotating := func(n int, uas ...string) []shot {
		var out []shot
		for i := range n {
			a := bot
			a.Addr = fmt.Sprintf("203.0.113.%d", 1+i%6)
			c := chrome.with(uas[i%len(uas)])
			out = append(out, shot{c: c, actor: a, at: time.Duration(i) * 7 * time.Second, r: shopPages[i%len(shopPages)]})
		}
		return out
	}
	tests := []struct {
		name  string
		shots []shot
		want  vigil.Severity // -1: no finding
	}{
		{"spoofed Chrome over HTTPS", session(spoofedChrome, bot, 8, shopPages, humanGaps(1)), vigil.SeverityMedium},
		{"spoofed Chrome without Accept-Language over HTTP", func() []shot {
			c := spoofedChrome
			c.headers = map[string]string{"Accept": "*/*"}
			s := session(c, bot, 8, shopPages, humanGaps(2))
			for i := range s {
				s[i].http = true
			}
			return s
		}(), vigil.SeverityMedium},
		{"python-requests with machine timing", session(pyRequests, bot, 30, shopPages, jittered(2*time.Second)), vigil.SeverityMedium},
		{"rotating User-Agents and addresses", rotating(20, chromeUA, safariUA, firefoxUA, androidUA, iphoneUA), vigil.SeverityMedium},
		{"spoofed, rotating and regular", func() []shot {
			s := rotating(30, chromeUA, safariUA, firefoxUA, androidUA, iphoneUA)
			for i := range s {
				s[i].c = spoofedChrome.with(s[i].c.ua)
				s[i].at = time.Duration(i) * 1500 * time.Millisecond
			}
			return s
		}(), vigil.SeverityHigh},
		{"headless browser walking 40 endpoints a minute", func() []shot {
			var pages []req
			for i := range 45 {
				pages = append(pages, get(fmt.Sprintf("/api/v2/%s", []string{"admin", "debug", "internal", "backup", "config"}[i%5]+fmt.Sprint("-", i)), 404))
			}
			rng := rand.New(rand.NewPCG(3, 3))
			return session(headless, vigil.Actor{Addr: "203.0.113.8"}, 45, pages, func(int) time.Duration {
				return time.Duration(200+rng.IntN(2300)) * time.Millisecond
			})
		}(), vigil.SeverityMedium},

		{"busy honest user", session(chrome, person, 120, shopPages, humanGaps(4)), -1},
		{"honest Safari and Firefox users", append(session(chrome.with(safariUA), person, 40, shopPages, humanGaps(5)),
			session(chrome.with(firefoxUA), vigil.Actor{Principal: "jwt:18"}, 40, shopPages, humanGaps(6))...), -1},
		{"mobile app retrying after 503s", func() []shot {
			var s []shot
			at := time.Duration(0)
			gap := humanGaps(7)
			for i := range 40 {
				at += gap(i)
				r := shopPages[i%len(shopPages)]
				if i%4 == 0 {
					failed := r
					failed.status = 503
					s = append(s, shot{c: shopApp, actor: person, at: at, r: failed})
					at += 300 * time.Millisecond
				}
				s = append(s, shot{c: shopApp, actor: person, at: at, r: r})
			}
			return s
		}(), -1},
		{"partner feed with an API key, steady and busy", session(partnerFeed, partner, 600, shopPages[:3], jittered(200*time.Millisecond)), -1},
		{"curl a few times by hand", session(client{ua: "curl/8.5.0", headers: map[string]string{"Accept": "*/*"}}, vigil.Actor{Addr: "198.51.100.40"}, 8, shopPages, humanGaps(8)), -1},
		{"page polling one endpoint every 30 s", session(chrome, person, 60, []req{get("/api/v2/notifications", 200)}, every(30*time.Second)), -1},
		{"Chrome over plain HTTP sends no fetch metadata", func() []shot {
			c := spoofedChrome
			s := session(c, person, 20, shopPages, humanGaps(9))
			for i := range s {
				s[i].http = true
			}
			return s
		}(), -1},
		{"an office NAT: twelve anonymous shoppers on one address", func() []shot {
			var s []shot
			nat := vigil.Actor{Addr: "198.51.100.200"}
			uas := []string{chromeUA, safariUA, firefoxUA, androidUA, iphoneUA}
			for p := range 12 {
				var pages []req
				for i := range 40 {
					pages = append(pages, get(fmt.Sprintf("/api/v2/%s/%d", []string{"products", "categories", "reviews", "stores", "faq", "blog", "help", "pages"}[(i+p)%8], i), 200))
				}
				for i, sh := range session(chrome.with(uas[p%len(uas)]+fmt.Sprint(" v", p)), nat, 30, pages, humanGaps(uint64(20+p))) {
					sh.at = sh.at/8 + time.Duration(i)*time.Millisecond
					s = append(s, sh)
				}
			}
			slices.SortFunc(s, func(a, b shot) int { return int(a.at - b.at) })
			return s
		}(), -1},
		{"a phone and a laptop", func() []shot {
			s := session(chrome, person, 30, shopPages, humanGaps(10))
			for i := range s {
				if i%2 == 1 {
					s[i].c = chrome.with(androidUA)
					s[i].actor.Addr = "198.51.100.99"
				}
			}
			return s
		}(), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAutomation(Config{})
			fs := runShots(t, a, tc.shots)
			if tc.want < 0 {
				for _, f := range fs {
					t.Errorf("unexpected %s %v", f, f.Evidence)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("%d findings, want 1: %v", len(fs), fs)
			}
			f := fs[0]
			if f.Severity != tc.want || f.Detector != DetectorAutomation || f.Area != vigil.AreaAutomation {
				t.Errorf("got %s (area %s), want severity %s", f, f.Area, tc.want)
			}
			t.Logf("%s: %v", f.Title, f.Evidence)
		})
	}
}

func TestClaimOf(t *testing.T) {
	tests := []struct {
		ua   string
		want browserClaim
	}{
		{chromeUA, browserClaim{browser: true, chromium: true, fetch: true, hints: true}},
		{"Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.77 Safari/537.36", browserClaim{browser: true, chromium: true}},
		{safariUA, browserClaim{browser: true, fetch: true}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.1 Safari/605.1.15", browserClaim{browser: true}},
		{firefoxUA, browserClaim{browser: true, fetch: true}},
		{"python-requests/2.32.3", browserClaim{tool: true}},
		{"", browserClaim{tool: true}},
		{headless.ua, browserClaim{tool: true, headless: true}},
		{shopApp.ua, browserClaim{}},
		{partnerFeed.ua, browserClaim{}},
		{"Mozilla/5.0 Chrome/99999999999999999999", browserClaim{browser: true, chromium: true, fetch: true, hints: true}},
	}
	for _, tc := range tests {
		if got := claimOf(tc.ua); got != tc.want {
			t.Errorf("claimOf(%q) = %+v, want %+v", tc.ua, got, tc.want)
		}
	}
}

func TestAutomationOncePerWindow(t *testing.T) {
	a := NewAutomation(Config{Window: time.Minute})
	bot := vigil.Actor{Addr: "203.0.113.66"}
	fs := runShots(t, a, session(spoofedChrome, bot, 30, shopPages, every(time.Second)))
	if len(fs) != 1 || a.Stats().Suppressed == 0 {
		t.Errorf("%d findings in the first window (want 1), %d suppressed", len(fs), a.Stats().Suppressed)
	}
	later := session(spoofedChrome, bot, 30, shopPages, every(time.Second))
	for i := range later {
		later[i].at += 2 * time.Minute
	}
	if fs := runShots(t, a, later); len(fs) != 1 {
		t.Errorf("%d findings in a later window, want 1", len(fs))
	}
}
