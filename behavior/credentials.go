package behavior

import (
	"context"
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/actortable"
	"github.com/vigilsec/vigil/inventory"
)

// Detector ids of Credentials.
const (
	DetectorCredentialStuffing = "behavior.credential-stuffing"
	DetectorBruteForce         = "behavior.brute-force"
)

// Thresholds of Credentials.
const (
	// StuffingUsernames is how many distinct usernames one actor must try
	// within the window, at least 80% (FailureRatio) of them failing, for
	// behavior.credential-stuffing.
	StuffingUsernames = 10
	// BruteForceFailures is how many failed logins one username must get
	// within the window, from any actors, for behavior.brute-force.
	BruteForceFailures = 10

	maxUsernames     = 2 * StuffingUsernames // remembered per actor
	maxLoginExamples = 3
	maxUsernameBytes = 256
)

// Credentials finds failed-login attacks on login endpoints: one actor
// trying many usernames (behavior.credential-stuffing, high) and one
// username failing many times from anywhere (behavior.brute-force, high).
// Both are vigil.API2BrokenAuth in vigil.AreaChained. Create it with
// NewCredentials.
//
// # What is a login
//
// A POST to a path ending (at a segment boundary, any case, trailing slash
// ignored) in /login, /signin, /sign-in, /auth, /token, /oauth/token or
// /sessions. The username is the first value of a key email, username,
// user, login (any case, '_', '-' and '.' ignored: user_name, e-mail) in a
// JSON body (any depth) or a form body, compared case-insensitively with
// surrounding spaces trimmed; a value redacted to "[REDACTED]" or a login
// without one is ignored. The answer is a failure when 400, 401, 403 or
// 422, a success when 2xx; anything else (429, 5xx, no answer) counts for
// nothing.
//
// # Rules
//
//   - credential stuffing: per actor (vigil.Actor.Key: the address for
//     anonymous logins), the distinct usernames tried within the window,
//     each failed or succeeded (a username that ever succeeded counts as a
//     success). It fires when at least StuffingUsernames (10) are remembered
//     and at least 80% only failed.
//   - brute force: per username, across actors, the failures within the
//     window. It fires when at least BruteForceFailures (10) are remembered;
//     the finding's actor is the one whose failure made it.
//
// Each fires at most once per actor (stuffing) or username (brute force)
// per window.
//
// # Memory
//
// A failure creates state; a success never does. An actor costs about 510
// bytes with 20 usernames remembered (16 bytes each, 3 masked examples); a
// username about 190 bytes (10 failure times, 8 bytes each). Both tables are
// bounded by Config.MaxActors, least recently seen evicted
// (TestCredentialsMemory and TestCredentialsMemoryUsernames measure them).
// Stats counts the actor table; TargetStats the username table.
type Credentials struct {
	cfg     Config
	window  int64
	actors  *actortable.Table[stuffActor]
	targets *actortable.Table[bruteTarget]
	counts  counters
	tcounts counters
}

var _ vigil.Analyzer = (*Credentials)(nil)

type stuffActor struct {
	names    []valEntry // low bit: succeeded
	ex       [maxLoginExamples]string
	nex      int
	fired    int64
	hasFired bool
}

type bruteTarget struct {
	fails    []int64 // failure times, oldest first
	fired    int64
	hasFired bool
}

// NewCredentials returns a failed-login detector; zero fields of cfg take
// the defaults.
func NewCredentials(cfg Config) *Credentials {
	cfg = cfg.withDefaults()
	c := &Credentials{cfg: cfg, window: int64(cfg.Window)}
	c.actors = actortable.New[stuffActor](cfg.MaxActors, &c.counts.Counts)
	c.targets = actortable.New[bruteTarget](cfg.MaxActors, &c.tcounts.Counts)
	return c
}

// Config returns the configuration in force, defaults filled in.
func (c *Credentials) Config() Config { return c.cfg }

// Stats returns the detector's counters; Actors and evictions are those of
// the actor table (see TargetStats).
func (c *Credentials) Stats() Stats {
	s := c.counts.stats(DetectorCredentialStuffing, DetectorBruteForce)
	s.Findings[DetectorBruteForce] = c.tcounts.findings[0].Load()
	s.Suppressed += c.tcounts.suppressed.Load()
	return s
}

// TargetStats returns the counters of the username table (Findings empty).
func (c *Credentials) TargetStats() Stats { return c.tcounts.stats() }

var loginSuffixes = [...][]string{{"login"}, {"signin"}, {"sign-in"}, {"auth"}, {"token"}, {"oauth", "token"}, {"sessions"}}

// IsLogin reports whether method and path are a login as Credentials sees
// one: a POST to a path ending in /login, /signin, /sign-in, /auth, /token,
// /oauth/token or /sessions.
func IsLogin(method, path string) bool {
	if method != "POST" && !strings.EqualFold(method, "POST") {
		return false
	}
	for _, s := range loginSuffixes {
		if matchSuffix(path, s) {
			return true
		}
	}
	return false
}

func isUserKey(k []byte) bool {
	var buf [32]byte
	switch string(normKey(&buf, k)) {
	case "email", "username", "user", "login", "emailaddress", "userid", "loginid":
		return true
	}
	return false
}

// username returns the login's username as given, "" when none.
func username(r *vigil.Request) []byte {
	body := r.Body
	if len(body) > maxScanBody {
		body = body[:maxScanBody]
	}
	var name []byte
	take := func(k, v []byte) {
		if name == nil && len(v) > 0 && string(v) != redacted && isUserKey(k) {
			name = v
		}
	}
	switch bodyKind(r) {
	case 'j':
		scanJSON(body, func(k, v []byte, _ bool) { take(k, v) })
	case 'f':
		scanPairs(body, take)
	}
	if len(name) > maxUsernameBytes {
		name = name[:maxUsernameBytes]
	}
	return name
}

// Analyze implements vigil.Analyzer. It never returns an error.
func (c *Credentials) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil || !IsLogin(x.Request.Method, x.Request.Path()) {
		return nil, nil
	}
	st := x.Status()
	fail := st == 400 || st == 401 || st == 403 || st == 422
	if !fail && !is2xx(st) {
		return nil, nil
	}
	name := username(&x.Request)
	if name == nil {
		return nil, nil
	}
	// The username, case-folded and trimmed, hashed.
	var h maphash.Hash
	h.SetSeed(c.actors.Seed())
	trimmed := strings.TrimSpace(string(name))
	for i := 0; i < len(trimmed); i++ {
		b := trimmed[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		h.WriteByte(b)
	}
	uh := h.Sum64()
	at := exchangeTime(x)
	var out []vigil.Finding
	if f, ok := c.stuffing(x, uh, trimmed, fail, at); ok {
		out = append(out, f)
	}
	if fail {
		if f, ok := c.brute(x, uh, trimmed, at); ok {
			out = append(out, f)
		}
	}
	return out, nil
}

func (c *Credentials) stuffing(x *vigil.Exchange, uh uint64, name string, fail bool, at int64) (vigil.Finding, bool) {
	sh, a := c.actors.Acquire(actortable.ActorHash(c.actors.Seed(), &x.Actor), at, c.window, fail)
	defer sh.Unlock()
	if a == nil {
		return vigil.Finding{}, false
	}
	now := a.Last
	cut := actortable.SatSub(now, c.window)
	i := 0
	for i < len(a.State.names) && a.State.names[i].at < cut {
		i++
	}
	if i > 0 {
		a.State.names = append(a.State.names[:0], a.State.names[i:]...)
	}
	if !fail && len(a.State.names) == 0 {
		return vigil.Finding{}, false
	}
	key := uh &^ hitBit
	if !fail {
		key |= hitBit
	}
	isNew := true
	for j := range a.State.names {
		if a.State.names[j].key&^hitBit == key&^hitBit {
			key |= a.State.names[j].key & hitBit
			copy(a.State.names[j:], a.State.names[j+1:])
			a.State.names = a.State.names[:len(a.State.names)-1]
			isNew = false
			break
		}
	}
	if len(a.State.names) >= maxUsernames {
		a.State.names = append(a.State.names[:0], a.State.names[1:]...)
	}
	if a.State.names == nil {
		a.State.names = make([]valEntry, 0, maxUsernames)
	}
	a.State.names = append(a.State.names, valEntry{key: key, at: now})
	if isNew && fail {
		if a.State.nex == maxLoginExamples {
			copy(a.State.ex[:], a.State.ex[1:])
			a.State.nex--
		}
		a.State.ex[a.State.nex] = mask(name)
		a.State.nex++
	}
	n, fails := len(a.State.names), 0
	for _, v := range a.State.names {
		if v.key&hitBit == 0 {
			fails++
		}
	}
	if n < StuffingUsernames || float64(fails) < FailureRatio*float64(n) {
		return vigil.Finding{}, false
	}
	if !c.counts.fire(&a.State.hasFired, &a.State.fired, now, c.window, 0) {
		return vigil.Finding{}, false
	}
	ratio := strconv.Itoa(fails*100/n) + "%"
	ev := []vigil.Evidence{
		{Where: "endpoint", Value: x.Request.Method + " " + c.template(x), Why: "login endpoint"},
		{Where: "behavior.distinct_usernames", Value: strconv.Itoa(n), Why: "distinct usernames tried within " + vigil.FormatDuration(c.cfg.Window)},
		{Where: "behavior.failure_ratio", Value: ratio, Why: strconv.Itoa(fails) + " of " + strconv.Itoa(n) + " usernames only failed"},
	}
	for _, e := range a.State.ex[:a.State.nex] {
		ev = append(ev, vigil.Evidence{Where: "body.username", Value: e, Why: "username tried (masked), failed"})
	}
	return c.finding(x, DetectorCredentialStuffing, 0.85,
		"Credential stuffing: "+strconv.Itoa(n)+" distinct usernames tried, "+ratio+" failed", ev), true
}

func (c *Credentials) brute(x *vigil.Exchange, uh uint64, name string, at int64) (vigil.Finding, bool) {
	sh, t := c.targets.Acquire(uh, at, c.window, true)
	defer sh.Unlock()
	now := t.Last
	cut := actortable.SatSub(now, c.window)
	i := 0
	for i < len(t.State.fails) && t.State.fails[i] < cut {
		i++
	}
	if i > 0 {
		t.State.fails = append(t.State.fails[:0], t.State.fails[i:]...)
	}
	if len(t.State.fails) >= BruteForceFailures {
		t.State.fails = append(t.State.fails[:0], t.State.fails[1:]...)
	}
	if t.State.fails == nil {
		t.State.fails = make([]int64, 0, BruteForceFailures)
	}
	t.State.fails = append(t.State.fails, now)
	n := len(t.State.fails)
	if n < BruteForceFailures {
		return vigil.Finding{}, false
	}
	if !c.tcounts.fire(&t.State.hasFired, &t.State.fired, now, c.window, 0) {
		return vigil.Finding{}, false
	}
	ev := []vigil.Evidence{
		{Where: "endpoint", Value: x.Request.Method + " " + c.template(x), Why: "login endpoint"},
		{Where: "body.username", Value: mask(name), Why: "targeted account (masked)"},
		{Where: "behavior.failed_logins", Value: strconv.Itoa(n), Why: "failed logins for this username within " + vigil.FormatDuration(c.cfg.Window) + ", from any actor"},
	}
	return c.finding(x, DetectorBruteForce, 0.85,
		"Brute force: "+strconv.Itoa(n)+" failed logins for one account", ev), true
}

func (c *Credentials) template(x *vigil.Exchange) string {
	return inventory.TemplateFor(x, cutPath(x.Request.Path()))
}

func (c *Credentials) finding(x *vigil.Exchange, id string, conf float64, title string, ev []vigil.Evidence) vigil.Finding {
	return vigil.Finding{
		Detector:   id,
		Category:   vigil.API2BrokenAuth,
		Area:       vigil.AreaChained,
		Severity:   vigil.SeverityHigh,
		Confidence: conf,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   endpointOf(x),
		Title:      title,
		Evidence:   ev,
	}
}
