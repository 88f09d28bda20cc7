package behavior

import (
	"bytes"
	"context"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
)

// DetectorPromptInjection is the id of PromptInjection's findings.
const DetectorPromptInjection = "behavior.prompt-injection"

// PromptInjection finds prompt-injection attempts against LLM-backed
// endpoints and answers that leak the model's system prompt. It keeps no
// state. Create it with NewPromptInjection.
//
// An endpoint is LLM-like when a path segment is chat, chats, completion(s),
// message(s), prompt(s), assistant(s), conversation(s), ask, llm, ai,
// copilot, agent or generate, or when the JSON body has a "messages" or
// "prompt" key. The text read is the string values under message,
// messages, content, prompt, input, query, question, text and instruction
// (any depth, at most 8 KiB), and base64 runs inside it decoded once.
//
// A request fires behavior.prompt-injection (medium) for one strong pattern
// or two weak ones:
//
//   - strong: "ignore/disregard/forget (all) previous instructions",
//     asking to reveal, print, repeat or translate the system prompt,
//     initial or hidden instructions or configuration, role-play
//     jailbreaks (developer mode, DAN, "act as an unrestricted AI"), chat
//     markup smuggled into the text (</user><system>, <|im_start|>,
//     [INST], <<SYS>>, "### System:"), an injection found in base64;
//   - weak: "system prompt"; verbatim / word for word / quote exactly /
//     "everything above"; hidden or secret instructions or configuration;
//     "what were you told", "before this conversation", "start your answer
//     with".
//
// A 2xx answer of an LLM-like endpoint fires it as high when it leaks
// instructions: "my instructions are", "never reveal / do not disclose
// these instructions", "internal notes:", a system-prompt self-description
// ("You are ShopBot, the support assistant") together with another leak
// sign, or a secret-looking assignment ("the discount code is STAFF50").
//
// Words like "ignore" or "instructions" in ordinary sentences ("please
// ignore my last message", "the assembly instructions are missing") match
// nothing. Findings are vigil.AreaAutomation, vigil.API10UnsafeConsumption:
// the endpoint forwards untrusted text to a third-party model API and trusts
// what comes back.
type PromptInjection struct {
	findings [2]atomic.Int64 // attempts, leaks
}

var _ vigil.Analyzer = (*PromptInjection)(nil)

// Limits of PromptInjection.
const (
	maxPromptText  = 8 << 10
	maxPromptShown = 80
	minBase64Run   = 24
)

// NewPromptInjection returns a prompt-injection detector.
func NewPromptInjection(Config) *PromptInjection { return &PromptInjection{} }

// Stats returns the findings raised, attempts and leaks together; the
// detector tracks no actors.
func (p *PromptInjection) Stats() Stats {
	return Stats{Findings: map[string]int64{DetectorPromptInjection: p.findings[0].Load() + p.findings[1].Load()}}
}

// promptRule is one pattern with its weight: 2 strong, 1 weak.
type promptRule struct {
	name   string
	re     *regexp.Regexp
	weight int
}

var injectionRules = []promptRule{
	{"ignore previous instructions", regexp.MustCompile(`(ignore|disregard|forget|override|bypass)\s+(all\s+|any\s+|the\s+|your\s+|of\s+)*(previous|prior|above|earlier|preceding|original|initial|system)\s+(instructions|prompts?|rules|directions|guidelines|directives)`), 2},
	{"reveal the system prompt", regexp.MustCompile(`(reveal|print|show|output|repeat|display|dump|leak|tell\s+me|give\s+me|share|translate|summari[sz]e|quote|echo|recite|write\s+out|list)\s+(\S+\s+){0,5}?(system\s+prompt|initial\s+instructions|original\s+instructions|hidden\s+(instructions|prompt|configuration|rules)|internal\s+(notes|instructions|rules)|instructions\s+(you\s+were\s+given|above)|rules\s+you\s+follow|text\s+(above\s+this\s+(message|conversation|line)|between\s+system))`), 2},
	{"role-play jailbreak", regexp.MustCompile(`developer\s+mode|jailbr(ea|o)k|\bdan\s+mode|do\s+anything\s+now|(act|pretend|role-?play)\s+(as|to\s+be)\s+(an?\s+)?(unrestricted|unfiltered|uncensored|evil|jailbroken)|you\s+are\s+now\s+(an?\s+)?(unrestricted|unfiltered|free|dan\b)|without\s+(any\s+)?(restrictions|filters|guidelines)`), 2},
	{"chat markup smuggling", regexp.MustCompile(`</?(system|user|assistant|instructions?)>|<\|im_(start|end)\|>|\[/?inst\]|<</?sys>>|(^|\n)\s*#{2,}\s*(system|instruction)|(^|\n)\s*system\s*:`), 2},
	{"system prompt", regexp.MustCompile(`system\s+prompt`), 1},
	{"verbatim", regexp.MustCompile(`verbatim|word\s+for\s+word|quote\s+it\s+exactly|everything\s+above`), 1},
	{"hidden instructions", regexp.MustCompile(`(hidden|secret|confidential)\s+(configuration|instructions|prompt|rules|guidelines)`), 1},
	{"prior context", regexp.MustCompile(`what\s+(were|have)\s+you\s+(been\s+)?told|before\s+this\s+conversation|start\s+your\s+(answer|reply|response)\s+with`), 1},
}

var leakRules = []promptRule{
	{"instructions disclosed", regexp.MustCompile(`my\s+(instructions|system\s+prompt|rules)\s+(are|is|say)\b`), 2},
	{"secrecy clause", regexp.MustCompile(`(never|do\s+not|don't|must\s+not)\s+(reveal|disclose|share|repeat)\s+(these|this|the|your|my)\s+(instructions|prompt|rules|system\s+prompt|code|notes)`), 2},
	{"internal notes", regexp.MustCompile(`internal\s+(notes?|instructions)\s*:`), 2},
	{"role definition", regexp.MustCompile(`(^|[.:!]\s*)you\s+are\s+[a-z0-9 ,-]{0,40}(assistant|bot|agent|model|gpt)\b`), 1},
	{"secret value", regexp.MustCompile(`(discount|staff|promo|coupon|admin|secret|api)\s*(code|key|password|token)\s+(is|:|=)\s*[a-z0-9_-]{4,}`), 1},
}

// llmSegments are path segments of LLM-backed endpoints.
var llmSegments = map[string]bool{
	"chat": true, "chats": true, "completion": true, "completions": true, "message": true, "messages": true,
	"prompt": true, "prompts": true, "assistant": true, "assistants": true, "conversation": true,
	"conversations": true, "ask": true, "llm": true, "ai": true, "copilot": true, "agent": true, "generate": true,
}

// promptKeys are keys whose string values are read as prompt text.
func promptKey(k []byte) bool {
	var buf [32]byte
	switch string(normKey(&buf, k)) {
	case "message", "messages", "content", "prompt", "input", "query", "question", "text", "instruction", "instructions":
		return true
	}
	return false
}

// IsLLMEndpoint reports whether a request looks like a call to an
// LLM-backed endpoint (see PromptInjection).
func IsLLMEndpoint(r *vigil.Request) bool {
	p := cutPath(r.Path())
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if len(seg) >= 2 && len(seg) <= 13 && llmSegments[strings.ToLower(seg)] {
			return true
		}
	}
	if bodyKind(r) != 'j' {
		return false
	}
	b := r.Body
	if len(b) > maxScanBody {
		b = b[:maxScanBody]
	}
	if !bytes.Contains(b, []byte(`essages"`)) && !bytes.Contains(b, []byte(`rompt"`)) {
		return false // the common case, decided without walking the body
	}
	found := false
	topFields(b, func(k, _ []byte, _ uint8) {
		var buf [32]byte
		if n := string(normKey(&buf, k)); n == "messages" || n == "prompt" {
			found = true
		}
	})
	return found
}

// promptText gathers the prompt text of a request body or query, lower
// case, JSON escapes undone, at most maxPromptText bytes.
func promptText(r *vigil.Request) string {
	var sb strings.Builder
	add := func(v []byte) {
		if sb.Len() >= maxPromptText {
			return
		}
		v = unescapeJSON(v)
		v = v[:min(len(v), maxPromptText-sb.Len())]
		sb.Write(bytes.ToLower(v))
		sb.WriteByte('\n')
	}
	body := r.Body
	if len(body) > maxScanBody {
		body = body[:maxScanBody]
	}
	switch bodyKind(r) {
	case 'j':
		scanJSON(body, func(k, v []byte, str bool) {
			if str && promptKey(k) {
				add(v)
			}
		})
	case 'f':
		scanPairs(body, func(k, v []byte) {
			if promptKey(k) {
				add(v)
			}
		})
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		for k, vs := range r.URL.Query() {
			if promptKey([]byte(k)) {
				for _, v := range vs {
					add([]byte(v))
				}
			}
		}
	}
	return sb.String()
}

// unescapeJSON undoes the escapes of a raw JSON string's contents; on a
// malformed string it returns the input.
func unescapeJSON(v []byte) []byte {
	if !bytes.ContainsRune(v, '\\') {
		return v
	}
	if s, err := strconv.Unquote(`"` + string(v) + `"`); err == nil {
		return []byte(s)
	}
	return v
}

// match scores text against rules: the total weight and the names and
// excerpts of what matched.
func match(text string, rules []promptRule) (int, []vigil.Evidence) {
	score := 0
	var ev []vigil.Evidence
	for _, r := range rules {
		if loc := r.re.FindStringIndex(text); loc != nil {
			score += r.weight
			ev = append(ev, vigil.Evidence{Where: "behavior.prompt", Value: excerpt(text[loc[0]:loc[1]]), Why: r.name})
		}
	}
	return score, ev
}

// decodedRuns decodes the base64 runs of at least minBase64Run characters
// in text, lower-cased, keeping the printable ones.
func decodedRuns(raw string) string {
	var out strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 && end-start >= minBase64Run {
			run := strings.TrimRight(raw[start:end], "=")
			if b, err := base64.RawStdEncoding.DecodeString(run[:len(run)/4*4]); err == nil && utf8.Valid(b) {
				out.Write(bytes.ToLower(b))
				out.WriteByte('\n')
			}
		}
		start = -1
	}
	for i := 0; i < len(raw) && out.Len() < maxPromptText; i++ {
		c := raw[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '+' || c == '/' || c == '=' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(raw))
	return out.String()
}

// excerpt makes matched text fit for evidence.
func excerpt(s string) string {
	if len(s) > maxPromptShown {
		s = s[:maxPromptShown]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// Analyze implements vigil.Analyzer. It never returns an error.
func (p *PromptInjection) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	if x == nil || !IsLLMEndpoint(&x.Request) {
		return nil, nil
	}
	var out []vigil.Finding
	text := promptText(&x.Request)
	if text != "" {
		score, ev := match(text, injectionRules)
		if dec := decodedRuns(rawPromptText(&x.Request)); dec != "" {
			if s, dev := match(dec, injectionRules); s > 0 {
				score += 2
				for i := range dev {
					dev[i].Why += " (base64-encoded)"
				}
				ev = append(ev, dev...)
			}
		}
		if score >= 2 {
			p.findings[0].Add(1)
			out = append(out, p.finding(x, vigil.SeverityMedium, 0.75, "Prompt injection attempt: "+names(ev), ev))
		}
	}
	if st := x.Status(); st >= 200 && st < 300 && len(x.Response.Body) > 0 {
		b := x.Response.Body
		if len(b) > maxPromptText {
			b = b[:maxPromptText]
		}
		resp := strings.ToLower(string(unescapeJSON(b)))
		if score, ev := match(resp, leakRules); score >= 2 {
			for i := range ev {
				ev[i].Where = "response.body"
			}
			p.findings[1].Add(1)
			out = append(out, p.finding(x, vigil.SeverityHigh, 0.85, "System prompt leaked: "+names(ev), ev))
		}
	}
	return out, nil
}

// rawPromptText is the prompt text with its case kept, for base64.
func rawPromptText(r *vigil.Request) string {
	var sb strings.Builder
	body := r.Body
	if len(body) > maxScanBody {
		body = body[:maxScanBody]
	}
	if bodyKind(r) == 'j' {
		scanJSON(body, func(k, v []byte, str bool) {
			if str && promptKey(k) && sb.Len() < maxPromptText {
				sb.Write(v[:min(len(v), maxPromptText-sb.Len())])
				sb.WriteByte(' ')
			}
		})
	}
	return sb.String()
}

func names(ev []vigil.Evidence) string {
	var out []string
	for _, e := range ev {
		out = append(out, e.Why)
	}
	return strings.Join(out, ", ")
}

func (p *PromptInjection) finding(x *vigil.Exchange, sev vigil.Severity, conf float64, title string, ev []vigil.Evidence) vigil.Finding {
	return vigil.Finding{
		Detector:   DetectorPromptInjection,
		Category:   vigil.API10UnsafeConsumption,
		Area:       vigil.AreaAutomation,
		Severity:   sev,
		Confidence: conf,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Endpoint:   endpointOf(x),
		Title:      title,
		Evidence:   ev,
	}
}
