package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
)

// Caps on action fields. The proxy caps a tarpit's delay again (its own
// MaxTarpit); this cap only refuses nonsense.
const (
	maxActionFor   = 366 * 24 * time.Hour // an action lasts at most a year: renew, don't forget
	maxTarpitDelay = time.Minute
	maxRate        = 1e6
	maxReasonBytes = 512
	maxKeyBytes    = 512
	maxIDBytes     = 128
	maxQueryBytes  = 2 << 10 // the whole query string
)

// query reads a request's query string strictly: a known parameter at most
// once, each value at most maxParamBytes of valid UTF-8 without control
// characters, and no unknown parameter (a typo must not silently widen a
// filter).
func query(r *http.Request, known ...string) (url.Values, error) {
	if len(r.URL.RawQuery) > maxQueryBytes {
		return nil, vigil.Errorf(vigil.EINVALID, "query string longer than %d bytes", maxQueryBytes)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "malformed query string")
	}
	for name, vals := range q {
		if !slices.Contains(known, name) {
			if len(known) == 0 {
				return nil, vigil.Errorf(vigil.EINVALID, "unknown parameter %q: this route takes none", clip(name))
			}
			return nil, vigil.Errorf(vigil.EINVALID, "unknown parameter %q (want %s)", clip(name), strings.Join(known, ", "))
		}
		if len(vals) > 1 {
			return nil, vigil.Errorf(vigil.EINVALID, "parameter %q given %d times", name, len(vals))
		}
		if err := checkText(name, vals[0], maxParamBytes); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// checkText refuses a value that is too long, not UTF-8, or holds control
// characters.
func checkText(name, v string, maxBytes int) error {
	switch {
	case len(v) > maxBytes:
		return vigil.Errorf(vigil.EINVALID, "%s longer than %d bytes", name, maxBytes)
	case !utf8.ValidString(v):
		return vigil.Errorf(vigil.EINVALID, "%s is not valid UTF-8", name)
	case strings.ContainsFunc(v, unicode.IsControl):
		return vigil.Errorf(vigil.EINVALID, "%s holds control characters", name)
	}
	return nil
}

// clip shortens an attacker-chosen string before it goes into an error
// message.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	for i := 40; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

// parseSince reads a "since" value: an RFC 3339 time, or a duration back
// from now ("24h", "90m").
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, vigil.Errorf(vigil.EINVALID, "since: a duration must be positive, got %q", clip(v))
		}
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, vigil.Errorf(vigil.EINVALID,
		"since: want an RFC 3339 time (2025-01-02T15:04:05Z) or a duration (24h), got %q", clip(v))
}

// parseLimit reads a positive count of at most hi; "" gives def.
func parseLimit(name, v string, def, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > hi {
		return 0, vigil.Errorf(vigil.EINVALID, "%s: want a whole number from 1 to %d, got %q", name, hi, clip(v))
	}
	return n, nil
}

// validDetector reports whether d looks like a dotted detector id.
func validDetector(d string) bool {
	if d == "" || d[0] == '.' || d[len(d)-1] == '.' {
		return false
	}
	for _, c := range d {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-", c)) {
			return false
		}
	}
	return true
}

// parseKey checks an actor key ("addr:203.0.113.9", "principal:jwt:alice",
// "fingerprint:…") and returns it in canonical form: an address key holds
// the address as the proxy writes it, so an action on "addr:::ffff:1.2.3.4"
// or "addr:2001:DB8::1" still matches.
func parseKey(k string) (string, error) {
	kind, v, ok := strings.Cut(k, ":")
	if !ok || v == "" {
		return "", vigil.Errorf(vigil.EINVALID,
			"actor key %q: want principal:…, addr:… or fingerprint:…", clip(k))
	}
	switch vigil.KeyKind(kind) {
	case vigil.KeyAddr:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return "", vigil.Errorf(vigil.EINVALID, "actor key %q: not an IP address", clip(k))
		}
		return string(vigil.KeyAddr) + ":" + a.Unmap().String(), nil
	case vigil.KeyPrincipal, vigil.KeyFingerprint:
		if strings.ContainsFunc(v, unicode.IsSpace) {
			return "", vigil.Errorf(vigil.EINVALID, "actor key %q: holds white space", clip(k))
		}
		return k, nil
	}
	return "", vigil.Errorf(vigil.EINVALID,
		"actor key %q: unknown kind %q (want principal, addr or fingerprint)", clip(k), clip(kind))
}

// severities lists every severity, for the summary's zero counts.
var severities = []vigil.Severity{vigil.SeverityInfo, vigil.SeverityLow, vigil.SeverityMedium, vigil.SeverityHigh, vigil.SeverityCritical}

type summaryBody struct {
	Generated     time.Time      `json:"generated"`
	Since         *time.Time     `json:"since,omitempty"`
	Findings      int            `json:"findings"`
	BySeverity    map[string]int `json:"by_severity"`
	ByArea        map[string]int `json:"by_area"`
	ByDetector    map[string]int `json:"by_detector"`
	Truncated     bool           `json:"truncated"` // counted the newest summaryScanCap findings only
	Endpoints     int            `json:"endpoints"`
	Incidents     int            `json:"incidents"`
	ActiveActions int            `json:"active_actions"`
}

// summary counts findings by severity, area and detector, and counts the
// endpoints, incidents and actions in force.
func (s *Server) summary(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "since")
	if err != nil {
		return err
	}
	now := s.now()
	b := summaryBody{
		Generated:  now.UTC(),
		BySeverity: map[string]int{},
		ByArea:     map[string]int{},
		ByDetector: map[string]int{},
	}
	var f vigil.FindingFilter
	if v := q.Get("since"); v != "" {
		if f.Since, err = parseSince(v, now); err != nil {
			return err
		}
		b.Since = &f.Since
	}
	f.Limit = summaryScanCap
	ctx := r.Context()
	fs, err := s.store.Findings(ctx, f)
	if err != nil {
		return err
	}
	for _, sv := range severities {
		b.BySeverity[sv.String()] = 0
	}
	for _, a := range vigil.Areas {
		b.ByArea[string(a)] = 0
	}
	for _, fd := range fs {
		b.BySeverity[fd.Severity.String()]++
		b.ByArea[string(fd.Area)]++
		b.ByDetector[fd.Detector]++
	}
	b.Findings, b.Truncated = len(fs), len(fs) >= summaryScanCap
	eps, err := s.store.Endpoints(ctx)
	if err != nil {
		return err
	}
	incs, err := s.store.Incidents(ctx)
	if err != nil {
		return err
	}
	acts, err := s.store.Actions(ctx, now)
	if err != nil {
		return err
	}
	b.Endpoints, b.Incidents, b.ActiveActions = len(eps), len(incs), len(acts)
	s.writeJSON(w, r, http.StatusOK, b)
	return nil
}

type findingsBody struct {
	Findings []vigil.Finding `json:"findings"`
	Count    int             `json:"count"`
	Limit    int             `json:"limit"`
}

// findings lists findings, newest first, filtered by the query.
func (s *Server) findings(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "since", "detector", "actor", "min_severity", "limit")
	if err != nil {
		return err
	}
	var f vigil.FindingFilter
	if v := q.Get("since"); v != "" {
		if f.Since, err = parseSince(v, s.now()); err != nil {
			return err
		}
	}
	if v := q.Get("detector"); v != "" {
		if !validDetector(v) {
			return vigil.Errorf(vigil.EINVALID, "detector: %q is not a dotted detector id (detect.injection.sqli)", clip(v))
		}
		f.Detector = v
	}
	if v := q.Get("actor"); v != "" {
		if f.ActorKey, err = parseKey(v); err != nil {
			return err
		}
	}
	if v := q.Get("min_severity"); v != "" {
		if f.MinSeverity, err = vigil.ParseSeverity(v); err != nil {
			return vigil.Errorf(vigil.EINVALID, "min_severity: %s", vigil.ErrorMessage(err))
		}
	}
	if f.Limit, err = parseLimit("limit", q.Get("limit"), defaultLimit, maxLimit); err != nil {
		return err
	}
	fs, err := s.store.Findings(r.Context(), f)
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []vigil.Finding{}
	}
	if len(fs) > f.Limit { // a store may ignore the limit; the page size is ours
		fs = fs[:f.Limit]
	}
	s.writeJSON(w, r, http.StatusOK, findingsBody{Findings: fs, Count: len(fs), Limit: f.Limit})
	return nil
}

// endpoints lists the endpoint inventory.
func (s *Server) endpoints(w http.ResponseWriter, r *http.Request) error {
	if _, err := query(r); err != nil {
		return err
	}
	eps, err := s.store.Endpoints(r.Context())
	if err != nil {
		return err
	}
	if eps == nil {
		eps = []vigil.EndpointStats{}
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Endpoints []vigil.EndpointStats `json:"endpoints"`
	}{eps})
	return nil
}

// sample is one stored exchange with its actor, which the traffic format
// leaves out.
type sample struct {
	Actor    vigil.Actor    `json:"actor"`
	Exchange vigil.Exchange `json:"exchange"`
}

// samples lists the stored exchanges of one endpoint, given by method and
// path template, and host when several hosts serve the same operation.
func (s *Server) samples(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "method", "path", "host", "limit")
	if err != nil {
		return err
	}
	e := vigil.Endpoint{Method: strings.ToUpper(q.Get("method")), Template: q.Get("path"), Host: q.Get("host")}
	switch {
	case e.Method == "":
		return vigil.Errorf(vigil.EINVALID, "method: required (GET, POST, …)")
	case !validMethod(e.Method):
		return vigil.Errorf(vigil.EINVALID, "method: %q is not an HTTP method", clip(e.Method))
	case e.Template == "":
		return vigil.Errorf(vigil.EINVALID, "path: required (a path template such as /orders/{id})")
	case e.Template[0] != '/':
		return vigil.Errorf(vigil.EINVALID, "path: must start with /")
	}
	limit, err := parseLimit("limit", q.Get("limit"), samplesDefault, samplesMax)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if !q.Has("host") {
		eps, err := s.store.Endpoints(ctx)
		if err != nil {
			return err
		}
		var hosts []string
		for _, st := range eps {
			if st.Method == e.Method && st.Template == e.Template {
				hosts = append(hosts, st.Host)
			}
		}
		switch len(hosts) {
		case 0:
			return vigil.Errorf(vigil.ENOTFOUND, "no endpoint %s %s", e.Method, clip(e.Template))
		case 1:
			e.Host = hosts[0]
		default:
			return vigil.Errorf(vigil.EINVALID, "%d hosts serve %s %s: add host=", len(hosts), e.Method, clip(e.Template))
		}
	}
	xs, err := s.store.Samples(ctx, e, limit)
	if err != nil {
		return err
	}
	out := make([]sample, 0, min(len(xs), limit))
	for _, x := range xs[:min(len(xs), limit)] {
		out = append(out, sample{Actor: x.Actor, Exchange: x})
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Endpoint vigil.Endpoint `json:"endpoint"`
		Samples  []sample       `json:"samples"`
	}{e, out})
	return nil
}

// validMethod reports whether m is an HTTP method token.
func validMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for _, c := range m {
		if !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// incidents lists incidents, most recently active first.
func (s *Server) incidents(w http.ResponseWriter, r *http.Request) error {
	if _, err := query(r); err != nil {
		return err
	}
	incs, err := s.store.Incidents(r.Context())
	if err != nil {
		return err
	}
	if incs == nil {
		incs = []vigil.Incident{}
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Incidents []vigil.Incident `json:"incidents"`
	}{incs})
	return nil
}

// actionView is an action as the API shows it: with whether it is in force.
type actionView struct {
	vigil.Action
	Active bool `json:"active"`
}

// actions lists every stored action, or with active=true only those in force.
func (s *Server) actions(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "active")
	if err != nil {
		return err
	}
	now := s.now()
	var at time.Time
	switch v := q.Get("active"); v {
	case "", "false", "0":
	case "true", "1":
		at = now
	default:
		return vigil.Errorf(vigil.EINVALID, "active: want true or false, got %q", clip(v))
	}
	acts, err := s.store.Actions(r.Context(), at)
	if err != nil {
		return err
	}
	out := make([]actionView, 0, len(acts))
	for _, a := range acts {
		out = append(out, actionView{a, a.Active(now) && !a.Created.After(now)})
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Actions []actionView `json:"actions"`
	}{out})
	return nil
}

// actionRequest is the body of POST /api/v1/actions.
type actionRequest struct {
	Kind     string          `json:"kind"`
	Key      string          `json:"key"`
	Duration string          `json:"duration"` // "1h"; or Until
	Until    *time.Time      `json:"until"`
	Reason   string          `json:"reason"`
	Source   string          `json:"source"`
	Rate     *float64        `json:"rate"`  // requests per second, rate-limit only
	Delay    json.RawMessage `json:"delay"` // "2s" or nanoseconds, tarpit only
}

// createAction stores a new action against an actor key.
func (s *Server) createAction(w http.ResponseWriter, r *http.Request) error {
	if _, err := query(r); err != nil {
		return err
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		return vigil.Errorf(vigil.EINVALID, "Content-Type must be application/json")
	}
	var req actionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	a, err := s.newAction(req)
	if err != nil {
		return err
	}
	if err := s.store.PutAction(r.Context(), a); err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "action created", "id", a.ID, "kind", a.Kind, "key", a.Key, "until", a.Until)
	w.Header().Set("Location", "/api/v1/actions/"+url.PathEscape(a.ID))
	s.writeJSON(w, r, http.StatusCreated, actionView{a, true})
	return nil
}

// decodeJSON reads one JSON object of at most maxBodyBytes into v, refusing
// unknown fields and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return vigil.Errorf(vigil.EINVALID, "body longer than %d bytes", maxBodyBytes)
		case errors.Is(err, io.EOF):
			return vigil.Errorf(vigil.EINVALID, "empty body: want a JSON object")
		case errors.As(err, &ute):
			return vigil.Errorf(vigil.EINVALID, "field %q: wrong type", clip(ute.Field))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return vigil.Errorf(vigil.EINVALID, "unknown field %s", clip(strings.TrimPrefix(err.Error(), "json: unknown field ")))
		}
		return vigil.Errorf(vigil.EINVALID, "malformed JSON body")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return vigil.Errorf(vigil.EINVALID, "trailing data after the JSON object")
	}
	return nil
}

// newAction validates req and builds the action it asks for.
func (s *Server) newAction(req actionRequest) (vigil.Action, error) {
	now := s.now().UTC()
	kind, err := vigil.ParseActionKind(req.Kind)
	if err != nil {
		return vigil.Action{}, err
	}
	a := vigil.Action{Kind: kind, Created: now, Reason: req.Reason, Source: req.Source}
	if req.Key == "" {
		return a, vigil.Errorf(vigil.EINVALID, "key: required (principal:…, addr:… or fingerprint:…)")
	}
	if err := checkText("key", req.Key, maxKeyBytes); err != nil {
		return a, err
	}
	if a.Key, err = parseKey(req.Key); err != nil {
		return a, err
	}
	switch {
	case req.Duration != "" && req.Until != nil:
		return a, vigil.Errorf(vigil.EINVALID, "give duration or until, not both")
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil {
			return a, vigil.Errorf(vigil.EINVALID, "duration: %q is not a duration (30m, 24h)", clip(req.Duration))
		}
		a.Until = now.Add(d)
	case req.Until != nil:
		a.Until = req.Until.UTC()
	default:
		return a, vigil.Errorf(vigil.EINVALID, "duration or until: required")
	}
	switch d := a.Until.Sub(now); {
	case d <= 0:
		return a, vigil.Errorf(vigil.EINVALID, "the action must end in the future")
	case d > maxActionFor:
		return a, vigil.Errorf(vigil.EINVALID, "the action may last at most %s", maxActionFor)
	}
	if a.Reason == "" {
		a.Reason = "set by hand through the API"
	}
	if err := checkText("reason", a.Reason, maxReasonBytes); err != nil {
		return a, err
	}
	if err := checkText("source", a.Source, maxIDBytes); err != nil {
		return a, err
	}
	if req.Rate != nil {
		if kind != vigil.ActionRateLimit {
			return a, vigil.Errorf(vigil.EINVALID, "rate: only for rate-limit actions")
		}
		a.Rate = *req.Rate
	}
	if kind == vigil.ActionRateLimit && !(a.Rate > 0 && a.Rate <= maxRate && !math.IsInf(a.Rate, 0)) {
		return a, vigil.Errorf(vigil.EINVALID, "rate: a rate-limit action needs a rate in (0, %g] requests per second", float64(maxRate))
	}
	if len(req.Delay) > 0 && string(req.Delay) != "null" {
		if kind != vigil.ActionTarpit {
			return a, vigil.Errorf(vigil.EINVALID, "delay: only for tarpit actions")
		}
		if a.Delay, err = parseDelay(req.Delay); err != nil {
			return a, err
		}
	}
	if kind == vigil.ActionTarpit && !(a.Delay > 0 && a.Delay <= maxTarpitDelay) {
		return a, vigil.Errorf(vigil.EINVALID, "delay: a tarpit action needs a delay in (0, %s]", maxTarpitDelay)
	}
	a.ID = newActionID()
	return a, nil
}

// parseDelay reads a delay given as a duration string ("2s") or as a number
// of nanoseconds (the form the API answers with).
func parseDelay(raw json.RawMessage) (time.Duration, error) {
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		d, err := time.ParseDuration(str)
		if err != nil {
			return 0, vigil.Errorf(vigil.EINVALID, "delay: %q is not a duration (500ms, 2s)", clip(str))
		}
		return d, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, vigil.Errorf(vigil.EINVALID, "delay: want a duration string (2s) or nanoseconds")
	}
	return time.Duration(n), nil
}

// newActionID returns a random action id, "a-" and 16 hex digits.
func newActionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "a-" + hex.EncodeToString(b[:])
}

// deleteAction lifts an action.
func (s *Server) deleteAction(w http.ResponseWriter, r *http.Request) error {
	if _, err := query(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := checkText("id", id, maxIDBytes); err != nil || id == "" {
		return vigil.Errorf(vigil.EINVALID, "id: not an action id")
	}
	if err := s.store.DeleteAction(r.Context(), id); err != nil {
		if vigil.ErrorCode(err) == vigil.ENOTFOUND {
			return vigil.Errorf(vigil.ENOTFOUND, "no action with id %q", clip(id))
		}
		return err
	}
	s.log.InfoContext(r.Context(), "action lifted", "id", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
