package detect

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/pii"
)

// Other finds the injections libinjection does not cover, each named in the
// evidence: OS command injection, path traversal, server-side template
// injection, Log4Shell (JNDI lookups, obfuscated too), NoSQL operator
// injection and XML external entities.
//
// Every rule asks for the technique's syntax and its intent together, so
// that look-alikes in ordinary traffic stay quiet: "7*7" needs template
// delimiters, "{{name}}" needs an expression, "; cat food" needs a shell-like
// argument, "../intro.md" in a documentation field needs depth, encoding or a
// sensitive target, "$schema" is not a query operator.
type Other struct {
	headers *memo[otherVerdict] // verdicts on repeated header values
}

var _ vigil.Analyzer = (*Other)(nil)

// NewOther returns the detector of other injections.
func NewOther() *Other { return &Other{headers: newMemo[otherVerdict](512)} }

// The sub-techniques, as named in evidence.
const (
	techCmd       = "command injection"
	techTraversal = "path traversal"
	techSSTI      = "server-side template injection"
	techJNDI      = "Log4Shell JNDI lookup"
	techNoSQL     = "NoSQL operator injection"
	techXXE       = "XML external entity"
)

// Analyze implements vigil.Analyzer.
func (d *Other) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	return runScan(d.scan(x, nil), &x.Request), nil
}

func (d *Other) scan(x *vigil.Exchange, reuse leafScan) leafScan {
	return reuseScan(reuse, otherScan{d: d, x: x, sev: vigil.SeverityHigh})
}

type otherScan struct {
	d   *Other
	x   *vigil.Exchange
	ev  []vigil.Evidence
	sev vigil.Severity
}

func (s *otherScan) add(l *Leaf, key, tech, why string) {
	where := l.Loc()
	for _, e := range s.ev { // one item per location and technique
		if e.Where == where && strings.HasPrefix(e.Why, tech) {
			return
		}
	}
	if tech == techJNDI {
		s.sev = vigil.SeverityCritical
	}
	s.ev = append(s.ev, vigil.Evidence{Where: where, Value: evidenceValue(key, l.Value), Why: tech + ": " + why})
}

func (s *otherScan) leaf(l *Leaf) bool {
	v := l.Value
	switch l.Kind {
	case KindKey:
		if why := nosqlKey(l); why != "" {
			s.add(l, "", techNoSQL, why)
		}
		return len(s.ev) < maxEvidence
	case KindRaw:
		if why := xxe(v); why != "" {
			s.add(l, "", techXXE, why)
		}
		return len(s.ev) < maxEvidence
	case KindString:
	default:
		return true
	}
	if l.Source == SourcePath && (v == ".." || v == "..;") {
		s.add(l, "", techTraversal, "a \"..\" path segment")
		return len(s.ev) < maxEvidence
	}
	var vd otherVerdict
	if l.repeats() {
		var ok bool
		if vd, ok = s.d.headers.get(v); !ok {
			vd = judgeOther(l.Key, v, l.Source)
			s.d.headers.put(v, vd)
		}
	} else if l.passes(preOther) {
		vd = judgeOther(l.Key, v, l.Source)
	}
	for _, h := range vd.hits[:vd.n] {
		if len(s.ev) < maxEvidence {
			s.add(l, l.Key, h.tech, h.why)
		}
	}
	return len(s.ev) < maxEvidence
}

// otherVerdict lists the techniques seen in one value.
type otherVerdict struct {
	hits [4]struct{ tech, why string }
	n    int
}

func (v *otherVerdict) add(tech, why string) {
	if why != "" && v.n < len(v.hits) {
		v.hits[v.n].tech, v.hits[v.n].why = tech, why
		v.n++
	}
}

// judgeOther runs every sub-technique on one string value.
func judgeOther(key, v string, src Source) otherVerdict {
	var vd otherVerdict
	vd.add(techCmd, commandInjection(v))
	vd.add(techTraversal, traversal(key, v, src))
	if why := jndi(v); why != "" {
		vd.add(techJNDI, why)
	} else {
		vd.add(techSSTI, ssti(v))
	}
	vd.add(techXXE, xxe(v))
	return vd
}

func (s *otherScan) findings() []vigil.Finding {
	if s.ev == nil {
		return nil
	}
	title := "Injection attempt: " + strings.SplitN(s.ev[0].Why, ":", 2)[0]
	return []vigil.Finding{finding("detect.injection.other", s.x, injectionCategory, s.sev, 0.8, title, s.ev)}
}

// --- command injection ---

// strongCmds rarely follow a shell separator in ordinary text.
var strongCmds = map[string]bool{
	"whoami": true, "uname": true, "ifconfig": true, "ipconfig": true, "systeminfo": true, "nslookup": true,
	"wget": true, "curl": true, "nc": true, "ncat": true, "netcat": true, "bash": true, "sh": true, "zsh": true,
	"powershell": true, "cmd": true, "cmd.exe": true, "python": true, "python3": true, "perl": true, "ruby": true,
	"php": true, "socat": true, "telnet": true, "printenv": true, "busybox": true, "tftp": true, "xterm": true,
	"/bin/sh": true, "/bin/bash": true,
}

// weakCmds are also English words: they need a shell-like argument.
var weakCmds = map[string]bool{
	"cat": true, "ls": true, "id": true, "echo": true, "sleep": true, "ping": true, "rm": true, "type": true,
	"dir": true, "env": true, "more": true, "head": true, "tail": true, "find": true, "touch": true,
	"chmod": true, "base64": true, "net": true, "hostname": true, "pwd": true, "dig": true, "kill": true,
}

// reconCmds are the commands an attacker runs first to learn where a
// command injection landed; in Markdown's quoted code they still count.
var reconCmds = map[string]bool{
	"id": true, "whoami": true, "uname": true, "ifconfig": true, "ipconfig": true, "systeminfo": true,
	"printenv": true, "nc": true, "ncat": true, "netcat": true, "socat": true, "telnet": true, "tftp": true,
	"busybox": true, "xterm": true, "/bin/sh": true, "/bin/bash": true,
}

// commandInjection looks for a shell separator (; | & && || newline, $( or a
// backtick) followed by a command.
func commandInjection(v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		// A whole value in brace expansion: "{cat,/etc/passwd}" is the
		// command cat /etc/passwd to a shell that takes it as a word.
		if why := braceCommand(strings.ToLower(v)); why != "" {
			return why
		}
	}
	if strings.HasPrefix(v, "$'") {
		// A whole value in Bash's ANSI-C quoting: $'\x69\x64' is id to a
		// shell that takes the value as a word.
		if w := ansiCWord(strings.ToLower(v[2:])); strongCmds[w] || weakCmds[w] {
			return "a command (" + w + ") spelt in $'…' escapes"
		}
	}
	if !strings.ContainsAny(v, ";|&`$\n") {
		return ""
	}
	s := strings.ToLower(v)
	if strings.Contains(s, "${ifs}") || strings.Contains(s, "$ifs$") || ifsWord(s) {
		return "shell ${IFS} used as a space"
	}
	if strings.IndexByte(s, '`') >= 0 {
		var why string
		if s, why = unquoteMarkdown(s); why != "" {
			return why
		}
	}
	if strings.Contains(s, "<code") || strings.Contains(s, "<pre") {
		var why string
		if s, why = unquoteHTMLCode(s); why != "" {
			return why
		}
	}
	wordy := strings.Count(s, " ") > 6 // prose around backticks
	for i := 0; i < len(s); i++ {
		sub := false
		switch s[i] {
		case ';', '|', '&', '\n':
		case '`':
			if wordy {
				continue // prose quoting code, as Markdown does: "run `ls -la` first"
			}
			sub = true
		case '$':
			if i+1 >= len(s) || s[i+1] != '(' {
				continue
			}
			i++
			sub = true
		default:
			continue
		}
		j := i + 1
		for j < len(s) && j < i+8 && (s[j] == ' ' || s[j] == '\t' || s[j] == '|' || s[j] == '&' || s[j] == '(') {
			j++ // bounded: a run of separators must not make the scan quadratic
		}
		k := j
		for k < len(s) && k < j+32 && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9' || s[k] == '/' || s[k] == '.' || s[k] == '_' || s[k] == '-') {
			k++
		}
		if strings.HasPrefix(s[j:], "$'") {
			// Bash's ANSI-C quoting spells the command in escapes:
			// $'\x69\x64' is id.
			if w := ansiCWord(s[j+2:]); strongCmds[w] || weakCmds[w] {
				return "shell separator then " + w + ", spelt in $'…' escapes"
			}
		}
		if k < len(s) && j < len(s) && (s[j] == '{' || s[k] == '?' || s[k] == '*') {
			if why := hiddenCommand(s[j:min(len(s), j+64)]); why != "" {
				return why
			}
		}
		word := s[j:k]
		if k < len(s) && (s[k] == '\'' || s[k] == '"' || s[k] == '\\') {
			// "w'h'o'am'i", "c\at": the shell drops the quotes and
			// backslashes inside a word, a word filter does not.
			if w, rest := unsplitWord(s[j:]); w != word && (strongCmds[w] || weakCmds[w] && shellArg(rest)) {
				return "shell separator then " + w + ", split by quotes or backslashes"
			}
		}
		if w := word[strings.LastIndexByte(word, '/')+1:]; strings.HasPrefix(word, "/") && w != "" {
			if strongCmds[word] || strongCmds[w] || weakCmds[w] {
				return "shell separator then " + word
			}
		}
		if strongCmds[word] && (k == len(s) || !isWordByte(s[k])) {
			return "shell separator then " + word
		}
		if weakCmds[word] {
			if sub && k < len(s) && (s[k] == ')' || s[k] == '`' || s[k] == ' ') {
				return "command substitution of " + word
			}
			if shellArg(s[k:]) && !(s[i] == '\n' && k < len(s) && strings.IndexByte(";|&", s[k]) >= 0) {
				// (A line of prose may start "Cat; dog toys": after a
				// newline, a weak command needs a real argument.)
				return "shell separator then " + word + " with an argument"
			}
		}
	}
	return ""
}

// braceCommand judges a brace expansion at the start of t (lower case),
// "{cat,/etc/passwd}": the shell runs its first word with the rest as
// arguments. A weak command needs an argument-like second word ("{id,name}"
// is a list of fields).
func braceCommand(t string) string {
	inner, _, _ := strings.Cut(t[1:], "}")
	word, rest, ok := strings.Cut(inner, ",")
	if !ok {
		return ""
	}
	if strongCmds[word] || weakCmds[word] && rest != "" && strings.IndexByte("/-.$~", rest[0]) >= 0 {
		return "brace expansion runs " + word
	}
	return ""
}

// ifsWord says whether s (lower case) uses $IFS without braces as a space
// between a command and its argument: "$ifs" right after a word's letter
// or '?' and before '/' or '-' ("c?t$IFS/etc/passwd").
func ifsWord(s string) bool {
	for i := strings.Index(s, "$ifs"); i >= 0; {
		j := i + len("$ifs")
		if i > 0 && (s[i-1] >= 'a' && s[i-1] <= 'z' || s[i-1] == '?' || s[i-1] == '*') && j < len(s) && (s[j] == '/' || s[j] == '-') {
			return true
		}
		k := strings.Index(s[j:], "$ifs")
		if k < 0 {
			break
		}
		i = j + k
	}
	return false
}

// unquoteMarkdown blanks what Markdown quotes as code in s (lower case), so
// that a forum post or a comment showing a command ("Use `git log | head`",
// a fenced block) is not read as one: the markers of fenced blocks (a run
// of three or more backticks and the language name after it), and code
// spans — backticks around text, opened after a space or at the start and
// closed before a space, punctuation or the end — in a value that has prose
// outside them (a word of three letters or more). A span whose command is
// one of reconCmds still counts, as command substitution: why says so.
func unquoteMarkdown(s string) (out, why string) {
	b := []byte(s)
	changed := false
	for i := 0; i < len(b); i++ {
		if b[i] != '`' {
			continue
		}
		n := 1
		for i+n < len(b) && b[i+n] == '`' {
			n++
		}
		if n >= 3 { // a fence and its info string: "```python"
			j := i + n
			for j < len(b) && b[j] != '\n' && b[j] != ' ' && b[j] != '`' {
				j++
			}
			blank(b[i:j])
			changed = true
		}
		i += n - 1
	}
	if !changed && !prose(s) {
		return s, ""
	}
	if changed && !prose(string(b)) {
		return string(b), ""
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '`' || i > 0 && b[i-1] != ' ' && b[i-1] != '\t' && b[i-1] != '\n' && b[i-1] != '(' {
			continue
		}
		end := bytes.IndexByte(b[i+1:], '`')
		if end <= 0 {
			break
		}
		end += i + 1
		if end+1 < len(b) && isWordByte(b[end+1]) {
			continue // "x `y`z": not a span Markdown would close there
		}
		word := strings.Fields(string(b[i+1 : end]))
		if len(word) > 0 && reconCmds[word[0]] {
			return s, "command substitution of " + word[0]
		}
		blank(b[i : end+1])
		i = end
	}
	return string(b), ""
}

// unquoteHTMLCode is unquoteMarkdown for rich text written in HTML: it
// blanks the text of <code> and <pre> elements (s in lower case) when the
// value has prose outside them, so that an article or a comment showing a
// command ("<p>Use <code>git log | head</code></p>") is not read as one. An
// element whose command is one of reconCmds still counts: why says so.
func unquoteHTMLCode(s string) (out, why string) {
	var b []byte
	for _, tag := range [...]string{"code", "pre"} {
		open, closing := "<"+tag, "</"+tag+">"
		for from := 0; from < len(s); {
			i := strings.Index(s[from:], open)
			if i < 0 {
				break
			}
			at := from + i + len(open)
			if at >= len(s) || s[at] != '>' && s[at] != ' ' {
				from = at // "<codex>", "<prefix>": another element
				continue
			}
			gt := strings.IndexByte(s[at:], '>')
			if gt < 0 {
				break
			}
			start := at + gt + 1
			n := strings.Index(s[start:], closing)
			if n < 0 {
				break
			}
			inner := strings.TrimLeft(s[start:start+n], " \t\n")
			w := inner[:len(inner)-len(strings.TrimLeft(inner, "abcdefghijklmnopqrstuvwxyz0123456789/._-"))]
			if reconCmds[w] {
				return s, "reconnaissance command " + w + " in an HTML code element"
			}
			if b == nil {
				b = []byte(s)
			}
			blank(b[start : start+n])
			from = start + n + len(closing)
		}
	}
	if b == nil || !prose(stripTags(string(b))) {
		return s, ""
	}
	return string(b), ""
}

// stripTags blanks HTML tags ("<p class=x>") in s, for prose: tag and
// attribute names are no words of the text.
func stripTags(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		if b[i] != '<' {
			continue
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		blank(b[i : i+j+1])
		i += j
	}
	return string(b)
}

// prose says whether s has, outside backtick-quoted text, a word of three
// letters or more.
func prose(s string) bool {
	quoted, run := false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '`':
			quoted, run = !quoted, 0
		case !quoted && c >= 'a' && c <= 'z':
			if run++; run >= 3 {
				return true
			}
		default:
			run = 0
		}
	}
	return false
}

// blank overwrites b with spaces.
func blank(b []byte) {
	for i := range b {
		b[i] = ' '
	}
}

// unsplitWord reads the word at the start of s as the shell does, without
// the quotes and backslashes inside it ("w'h'o'am'i" is whoami), up to 32
// bytes; rest is what follows it.
func unsplitWord(s string) (word, rest string) {
	var b [32]byte
	n, i := 0, 0
	for ; i < len(s) && n < len(b); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '.' || c == '_' || c == '-':
			b[n] = c
			n++
		case (c == '\'' || c == '"' || c == '\\') && n > 0 && i+1 < len(s) && (isWordByte(s[i+1]) || s[i+1] == '\'' || s[i+1] == '"'):
		default:
			return string(b[:n]), s[i:]
		}
	}
	return string(b[:n]), s[i:]
}

// ansiCWord decodes the start of a bash $'…' string (after "$'") up to its
// closing quote or a space: \xHH and \NNN escapes and plain bytes, at most
// 32 bytes.
func ansiCWord(s string) string {
	var b [32]byte
	n := 0
	for i := 0; i < len(s) && n < len(b); {
		c := s[i]
		switch {
		case c == '\'' || c == ' ':
			return string(b[:n])
		case c == '\\' && i+3 < len(s) && s[i+1] == 'x':
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return ""
			}
			b[n], n, i = byte(v), n+1, i+4
		case c == '\\' && i+3 < len(s) && isDigit(s[i+1]):
			v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
			if err != nil {
				return ""
			}
			b[n], n, i = byte(v), n+1, i+4
		default:
			b[n], n, i = c, n+1, i+1
		}
	}
	return string(b[:n])
}

// hiddenCommand judges what follows a shell separator when it is written
// to hide a command from word filters: brace expansion ("{cat,/etc/passwd}"
// runs cat) and globbing ("/???/c?t /e??/p?ss??" runs /bin/cat).
func hiddenCommand(t string) string {
	if strings.HasPrefix(t, "{") {
		return braceCommand(t)
	}
	tok, _, _ := strings.Cut(t, " ")
	if strings.Count(tok, "?")+strings.Count(tok, "*") >= 2 && strings.ContainsAny(tok, "/") && strings.Trim(tok, "/?*.abcdefghijklmnopqrstuvwxyz0123456789_-") == "" {
		return "shell wildcards spell a command (" + tok + ")"
	}
	return ""
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// shellArg says whether rest (what follows a command word) starts like a
// shell argument: an option, a path, a variable, a quote, a number, a
// redirection or another separator; or the value ends there.
func shellArg(rest string) bool {
	if rest == "" {
		return true
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return strings.IndexByte(";|&`<>)", rest[0]) >= 0
	}
	rest = strings.TrimLeft(rest, " \t")
	if rest == "" {
		return true
	}
	c := rest[0]
	if len(rest) > 2 && c >= 'a' && c <= 'z' && rest[1] == ':' && (rest[2] == '\\' || rest[2] == '/') {
		return true // a Windows path: "type c:\windows\win.ini"
	}
	if c == '&' && len(rest) > 2 && rest[1] == ' ' && rest[2] >= 'a' && rest[2] <= 'z' {
		return false // "cat & dog both fed": an ampersand between words
	}
	return strings.IndexByte("-/.$~'\"<>|&;`\\%", c) >= 0 || c >= '0' && c <= '9'
}

// --- path traversal ---

var encodedTraversal = [...]string{
	"%2e%2e", "..%2f", "..%5c", "%2e%2e%2f", "%252e", "%252f", "%255c", "%c0%ae", "%c0%af", "%c1%9c",
	"%c1%1c", "%e0%80%af", "%e0%80%ae", "%u002e", "%u2215", "%u2216", "%uff0e", "..\xc0\xaf", "..\xc1\x9c", "\xc0\xae\xc0\xae",
	"\xe0\x80\xae\xe0\x80\xae",
}

var sensitiveFiles = [...]string{
	"/etc/passwd", "/etc/shadow", "/etc/group", "/proc/self/", "/proc/version", "win.ini", "boot.ini",
	"/windows/system32", "web-inf/web.xml", "/.ssh/id_", "/.aws/credentials", "/etc/hosts", "/var/log/",
	"/.git/config", "/.env",
}

// fileNames are parameter names that usually hold a file or template name.
var fileNames = [...]string{"file", "path", "name", "doc", "page", "template", "include", "dir", "folder", "download", "img", "image", "lang", "view", "load", "read"}

func traversal(key, v string, src Source) string {
	if len(v) < 3 || !strings.ContainsAny(v, "./\\%") && !overlongBytes(v) {
		return ""
	}
	s := asciiLower(v)
	for _, e := range encodedTraversal {
		if strings.Contains(s, e) {
			return "encoded dot or slash (" + strings.ToValidUTF8(e, "?") + ")"
		}
	}
	s = strings.ReplaceAll(s, "\\", "/")
	if strings.Contains(s, "\ufffd") {
		// An overlong slash ("\xc0\xaf") that a JSON or form decoder
		// replaced: the server it aims at may still read a slash there.
		s = strings.ReplaceAll(s, "\ufffd", "/")
	}
	if strings.Contains(s, "\x00") || strings.Contains(s, "%00") {
		// A NUL between the dots and the slash ("..%00/") is dropped by
		// the file APIs it aims at, and must not hide the climb.
		s = strings.ReplaceAll(strings.ReplaceAll(s, "%00", ""), "\x00", "")
	}
	depth := strings.Count(s, "../") + strings.Count(s, "..;/")
	if strings.HasSuffix(s, "/..") {
		depth++
	}
	token := !strings.ContainsAny(s, " \t\n")
	target := ""
	for _, f := range sensitiveFiles {
		if strings.Contains(s, f) {
			target = f
			break
		}
	}
	switch {
	case depth >= 3:
		return "climbs " + itoa(depth) + " directories"
	case depth >= 1 && target != "":
		return "climbs to " + target
	case target != "" && token && (strings.HasPrefix(s, "/") || len(s) > 2 && s[1] == ':' && s[2] == '/'):
		return "absolute path to " + target
	case depth >= 1 && token && (src == SourceMultipart || src == SourcePath):
		return "\"../\" in a file name or path segment"
	case depth >= 2 && token && fileKey(key):
		return "climbs " + itoa(depth) + " directories in a file parameter"
	}
	return ""
}

// overlongBytes says whether v holds a lead byte of an overlong UTF-8
// form (0xC0, 0xC1, 0xE0 0x80: "\xc0\xae" is an overlong '.'), or the
// U+FFFD a decoder put in its place: a path segment of overlong dots
// holds no '.' of its own.
func overlongBytes(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == 0xc0 || c == 0xc1:
			return true
		case c == 0xe0 && i+1 < len(v) && v[i+1] == 0x80:
			return true
		case c == 0xef && i+2 < len(v) && v[i+1] == 0xbf && v[i+2] == 0xbd:
			return true
		}
	}
	return false
}

func fileKey(key string) bool {
	n := pii.NormKey(key)
	for _, f := range fileNames {
		if strings.Contains(n, f) {
			return true
		}
	}
	return false
}

// --- server-side template injection ---

// sstiOpeners open a template expression; call marks the ones that are a
// call themselves (Smarty's {system(…)} and {php}), which need no keyword
// inside.
var sstiOpeners = [...]struct {
	open, close string
	call        bool
}{
	{"{{", "}}", false}, {"{%", "%}", false}, {"${", "}", false}, {"<%=", "%>", false}, {"<%", "%>", false}, {"#{", "}", false},
	{"*{", "}", false}, {"@(", ")", false}, {"[[", "]]", false}, {"#set(", ")", false},
	{"{system(", ")", true}, {"{php}", "{/php}", true},
}

var sstiKeywords = [...]string{
	"__class__", "__globals__", "__mro__", "__subclasses__", "__builtins__", "__init__", "config", "self.",
	"self}", "self }", "lipsum", "cycler", "joiner", "request.application", "popen", "getruntime", "runtime",
	"t(java", "new java", "getclass", "forname", "_self.env", "registerundefinedfiltercallback",
	"constructor", "process.mainmodule", "require(", "system(", "exec(", "eval(", "import os", "freemarker",
	"class.module", "file.read", "io.popen", "`", "|filter(", "|map(", "|reduce(", "|sort(", "getruntime()",
	".exec(", "shell_exec", "passthru", "|attr(", "file.open", "io.read", "kernel.", "process.start(",
	"system.diagnostics",
}

func ssti(v string) string {
	if len(v) < 5 || !strings.ContainsAny(v, "{%(") || !sstiOpener(v) {
		return ""
	}
	s := strings.ToLower(v)
	if strings.Contains(s, "freemarker.template.utility.execute") {
		return "FreeMarker Execute"
	}
	for _, o := range sstiOpeners {
		i := strings.Index(s, o.open)
		if i < 0 {
			continue
		}
		if o.call {
			return o.open + " … " + o.close + " runs code"
		}
		rest := s[i+len(o.open):]
		j := strings.Index(rest, o.close)
		if j < 0 || o.close == ")" {
			// Parentheses nest ("#set($p=$rt.getRuntime().exec('id'))"),
			// and directives follow one another: read on.
			j = min(len(rest), 200)
		}
		inner := rest[:min(j, 400)]
		if arithmetic(inner) {
			return o.open + " … " + o.close + " evaluates arithmetic"
		}
		for _, k := range sstiKeywords {
			if strings.Contains(inner, k) {
				return o.open + " … " + o.close + " reaches " + strings.TrimRight(k, "(.}")
			}
		}
	}
	return ""
}

func sstiOpener(v string) bool {
	for _, o := range sstiOpeners {
		if strings.Contains(v, o.open) {
			return true
		}
	}
	return strings.Contains(v, "<#")
}

// arithmetic says whether s holds digits multiplied: "7*7", "7 * '7'".
func arithmetic(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '*' {
			continue
		}
		l := strings.TrimRight(s[:i], " '\"")
		r := strings.TrimLeft(s[i+1:], " '\"")
		if l != "" && r != "" && isDigit(l[len(l)-1]) && isDigit(r[0]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// --- Log4Shell ---

var jndiProtocols = [...]string{"ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nds", "nis", "http", "https"}

// jndi finds ${jndi:proto:...}, also when obfuscated with nested lookups
// such as ${${lower:j}ndi:...} or ${${::-j}${env:X:-n}di:...}.
func jndi(v string) string {
	if !strings.Contains(v, "${") {
		return ""
	}
	s := strings.ToLower(v)
	obfuscated := false
	for range 32 { // resolve innermost lookups, bounded
		end := strings.IndexByte(s, '}')
		if end < 0 {
			break
		}
		start := strings.LastIndex(s[:end], "${")
		if start < 0 {
			break
		}
		inner := s[start+2 : end]
		if strings.HasPrefix(inner, "jndi:") {
			break
		}
		var repl string
		switch {
		case strings.Contains(inner, ":-"):
			repl = inner[strings.LastIndex(inner, ":-")+2:]
		case strings.HasPrefix(inner, "lower:"), strings.HasPrefix(inner, "upper:"):
			repl = inner[6:]
		case strings.HasPrefix(inner, "date:"):
			repl = strings.Trim(inner[5:], "'")
		default:
			repl = "\x00" // an unknown lookup: keep the string from matching
		}
		obfuscated = true
		s = s[:start] + repl + s[end+1:]
	}
	i := strings.Index(s, "${jndi:")
	if i < 0 {
		return ""
	}
	rest := s[i+7:]
	for _, p := range jndiProtocols {
		if strings.HasPrefix(rest, p+":") {
			if obfuscated {
				return "obfuscated ${jndi:" + p + ":…} lookup"
			}
			return "${jndi:" + p + ":…} lookup"
		}
	}
	return ""
}

// --- NoSQL operator injection ---

var nosqlOps = map[string]bool{
	"$ne": true, "$eq": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true, "$in": true, "$nin": true,
	"$regex": true, "$where": true, "$expr": true, "$exists": true, "$or": true, "$and": true, "$nor": true,
	"$not": true, "$elemmatch": true, "$function": true, "$accumulator": true, "$mod": true, "$all": true,
	"$size": true, "$type": true, "$text": true,
}

// codeOps run code on the server: never legitimate from a client.
var codeOps = map[string]bool{"$where": true, "$function": true, "$accumulator": true, "$expr": true}

func nosqlOp(k string) bool { return len(k) > 1 && k[0] == '$' && nosqlOps[strings.ToLower(k)] }

// authFields are where an operator bypasses a login or lookup check.
var authFields = [...]string{"pass", "user", "login", "email", "token", "pin", "otp", "secret", "code", "account", "admin", "role", "apikey", "session"}

// nosqlKey judges a JSON object key or a parameter name such as
// "user[$ne]". Query-language APIs (e.g. filters[price][$gt]=10) use operators
// legitimately, so an operator is flagged only when it runs code or targets a
// credential or identity field.
func nosqlKey(l *Leaf) string {
	var op, field string
	if l.Source == SourceJSON || l.prefix != "" {
		op, field = l.Key, l.Parent()
		if field == "" && l.prefix != "" { // ?user={"$ne":1}
			field = l.prefix[strings.LastIndexByte(l.prefix, '.')+1:]
		}
	} else if l.Key != "" && l.Key[0] == '$' {
		op = l.Key // ?$where=… : the operator is the whole name
	} else {
		i := strings.Index(l.Key, "[$")
		if i < 0 {
			return ""
		}
		op = strings.TrimSuffix(l.Key[i+1:], "]")
		op, _, _ = strings.Cut(op, "]")
		field = l.Key[:i]
		if j := strings.LastIndexByte(field, '['); j >= 0 {
			field = strings.Trim(field[j:], "[]")
		}
	}
	if !nosqlOp(op) {
		return ""
	}
	op = strings.ToLower(op)
	if codeOps[op] {
		return op + " runs code on the database"
	}
	n := pii.NormKey(field)
	for _, f := range authFields {
		if strings.Contains(n, f) {
			return op + " on the " + field + " field"
		}
	}
	return ""
}

// --- XML external entities ---

func xxe(v string) string {
	if len(v) < 10 || !strings.Contains(v, "<!") && !strings.Contains(v, "XInclude") {
		return ""
	}
	s := strings.ToLower(v[:min(len(v), maxRawBody)])
	if strings.Contains(s, "<!entity") && (strings.Contains(s, " system ") || strings.Contains(s, " system\"") ||
		strings.Contains(s, " public ") || strings.Contains(s, "%")) {
		return "DOCTYPE declares an external entity"
	}
	if strings.Contains(s, "2001/xinclude") && strings.Contains(s, ":include") {
		return "XInclude of an external document"
	}
	if i := strings.Index(s, "<!doctype"); i >= 0 {
		decl := s[i:min(len(s), i+300)]
		if end := strings.IndexAny(decl, "[>"); end >= 0 {
			decl = decl[:end]
		}
		// An HTML or XHTML page names W3C's DTD ("<!DOCTYPE html PUBLIC
		// "-//W3C//DTD XHTML 1.0 …">): browsers never fetch it, and e-mail
		// templates carry it.
		html := strings.HasPrefix(decl, "<!doctype html ") || strings.HasPrefix(decl, "<!doctype html\t")
		if !html && (strings.Contains(decl, " system ") || strings.Contains(decl, " public ")) {
			return "DOCTYPE loads an external DTD"
		}
	}
	if strings.Count(s, "<!entity") >= 2 && strings.Contains(s, "&") && nestedEntity(s) {
		return "entities that expand other entities (entity expansion, \"billion laughs\")"
	}
	return ""
}

// nestedEntity says whether an entity declaration's value refers to another
// entity ("<!ENTITY b \"&a;&a;\">"): the expansion bomb's step.
func nestedEntity(s string) bool {
	for rest := s; ; {
		i := strings.Index(rest, "<!entity")
		if i < 0 {
			return false
		}
		rest = rest[i+len("<!entity"):]
		decl, _, _ := strings.Cut(rest, ">")
		if j := strings.IndexByte(decl, '&'); j >= 0 && strings.IndexByte(decl[j:], ';') > 0 {
			return true
		}
	}
}

// asciiLower lower-cases ASCII letters only and keeps every other byte, even
// invalid UTF-8 (strings.ToLower would turn an overlong "\xc0\xaf" into
// U+FFFD).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func itoa(n int) string {
	if n >= 0 && n < 10 {
		return string(rune('0' + n))
	}
	return "many"
}
