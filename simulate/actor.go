package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// errStop ends a script: its next request was planned at or after the end of
// the run (a deterministic cut), or the run's context ended.
var errStop = errors.New("simulate: run over")

func isStop(err error) bool { return errors.Is(err, errStop) }

// header is one extra request header, sent in order.
type header struct{ name, value string }

// identity is how one simulated client looks on the wire.
type identity struct {
	addr    string   // sent as X-Forwarded-For
	ua      string   // User-Agent
	headers []header // the rest of its client fingerprint
	mobile  bool     // retries once on a transport error or a 5xx
}

// actor is one simulated client: an identity, a login and a timeline of
// planned request times. An actor is used by one goroutine at a time.
type actor struct {
	id       string
	campaign string
	identity
	apiKey    string
	token     string
	principal string
	rng       *rand.Rand
	at        time.Duration // planned offset of the next request from the start of the run
}

// response is what a script sees of an answer. status is 0 on a transport
// error.
type response struct {
	status  int
	body    []byte
	blocked bool
}

// ok reports a 2xx answer.
func (r *response) ok() bool { return r.status >= 200 && r.status < 300 }

// text returns the body as a string.
func (r *response) text() string { return string(r.body) }

// login sets the actor's bearer token and principal.
func (a *actor) login(token string) {
	a.token = token
	a.principal = ""
	if sub := jwtSubject(token); sub != "" {
		a.principal = "jwt:" + sub
	}
}

// logout forgets the token.
func (a *actor) logout() { a.token, a.principal = "", "" }

// wait advances the actor's timeline by d.
func (a *actor) wait(d time.Duration) { a.at += d }

// jitter returns d scaled by a factor in [0.5, 1.5).
func (a *actor) jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + a.rng.Float64()))
}

// request is one planned request of a script.
type request struct {
	step     string
	method   string
	target   string // path with an optional ?query, relative to the target
	template string
	body     any    // marshalled as JSON when non-nil
	rawBody  string // sent as is (with a JSON content type) when body is nil
}

// do waits for the actor's planned time, sends the request, records a truth
// line per attempt and returns the answer. Its error is only errStop.
func (r *runner) do(ctx context.Context, a *actor, q request) (*response, error) {
	if a.at >= r.end {
		return nil, errStop
	}
	if err := sleepUntil(ctx, r.start.Add(a.at)); err != nil {
		r.unsent.Add(1)
		return nil, errStop
	}
	attempts := 1
	if a.mobile {
		attempts = 2
	}
	var resp *response
	for i := range attempts {
		if i > 0 {
			if err := sleepUntil(ctx, time.Now().Add(300*time.Millisecond)); err != nil {
				return resp, errStop
			}
		}
		var err error
		resp, err = r.send(ctx, a, q)
		if err != nil {
			return nil, err
		}
		if resp.status != 0 && resp.status < 500 {
			break
		}
	}
	return resp, nil
}

func (r *runner) send(ctx context.Context, a *actor, q request) (*response, error) {
	if err := r.lim.wait(ctx); err != nil {
		r.unsent.Add(1)
		return nil, errStop
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		r.unsent.Add(1)
		return nil, errStop
	}
	defer func() { <-r.sem }()

	var body io.Reader
	switch {
	case q.body != nil:
		b, err := json.Marshal(q.body)
		if err != nil {
			return nil, fmt.Errorf("step %s: marshal body: %w", q.step, err)
		}
		body = bytes.NewReader(b)
	case q.rawBody != "":
		body = strings.NewReader(q.rawBody)
	}
	req, err := http.NewRequestWithContext(ctx, q.method, r.base+q.target, body)
	if err != nil {
		return nil, fmt.Errorf("step %s: build request: %w", q.step, err)
	}
	req.Header.Set("User-Agent", a.ua)
	for _, h := range a.headers {
		req.Header.Set(h.name, h.value)
	}
	req.Header.Set("X-Forwarded-For", a.addr)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.apiKey != "" {
		req.Header.Set("X-Api-Key", a.apiKey)
	}

	sent := time.Now()
	hresp, err := r.client.Do(req)
	out := &response{}
	errText := ""
	if err != nil {
		if ctx.Err() != nil {
			r.unsent.Add(1)
			return nil, errStop
		}
		errText = shortError(err)
	} else {
		out.status = hresp.StatusCode
		out.blocked = hresp.Header.Get("X-Vigil-Action") != ""
		out.body = readBody(hresp)
	}
	latency := time.Since(sent)

	i := campaignIndex(a.campaign)
	r.requests[i].Add(1)
	switch {
	case out.status == 0:
		r.errs[i].Add(1)
	case out.status >= 500:
		r.server5xx[i].Add(1)
	}
	if out.blocked {
		r.blocked[i].Add(1)
	}
	path, query, _ := strings.Cut(q.target, "?")
	if err := r.truth.write(TruthLine{
		Time:      sent,
		Campaign:  a.campaign,
		Actor:     a.id,
		Addr:      a.addr,
		Principal: a.principal,
		UserAgent: a.ua,
		Step:      q.step,
		Method:    q.method,
		Path:      path,
		Query:     query,
		Template:  q.template,
		Status:    out.status,
		Blocked:   out.blocked,
		LatencyMS: math.Round(float64(latency.Microseconds())) / 1000,
		Error:     errText,
	}); err != nil {
		r.logger.Error("write truth; the rest of the run is not recorded", "err", err)
	}
	return out, nil
}

// readBody reads at most maxBodyRead bytes of the body and closes it. It
// undoes gzip, the only encoding the simulated clients accept besides
// identity.
func readBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	var rd io.Reader = resp.Body
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil
		}
		defer zr.Close()
		rd = zr
	}
	b, _ := io.ReadAll(io.LimitReader(rd, maxBodyRead))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyRead)) // let the connection be reused
	return b
}

func shortError(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// jwtSubject reads the sub claim of a JWT without verifying it, as Vigil's
// identity resolver does. "" when there is none.
func jwtSubject(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) < 2 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Sub any `json:"sub"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	switch v := claims.Sub.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprintf("%.0f", v)
	}
	return ""
}

// apiKeyPrincipal is the principal Vigil's identity resolver derives from an
// API key.
func apiKeyPrincipal(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "apikey:" + hex.EncodeToString(sum[:])[:12]
}

// unsignedJWT builds a token with alg "none": header.payload. and no
// signature, the forgery the chained campaign tries.
func unsignedJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
}
