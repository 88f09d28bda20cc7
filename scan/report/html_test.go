package report

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// htmlFacts walks a page with a real HTML tokenizer and collects what a
// hostile report could abuse: elements that run or load things, attributes
// that fetch, event handlers, and the text of the page.
type htmlFacts struct {
	elements map[string]int
	hrefs    []string
	loads    []string // src, srcset, action, formaction, style url(...)
	handlers []string // on* attributes
	classes  []string
	text     strings.Builder
}

func scanHTML(t *testing.T, b []byte) *htmlFacts {
	t.Helper()
	f := &htmlFacts{elements: map[string]int{}}
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return f
		case html.TextToken:
			f.text.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			f.elements[tok.Data]++
			for _, a := range tok.Attr {
				switch {
				case a.Key == "href":
					f.hrefs = append(f.hrefs, a.Val)
				case a.Key == "src" || a.Key == "srcset" || a.Key == "action" || a.Key == "formaction":
					f.loads = append(f.loads, a.Val)
				case strings.HasPrefix(a.Key, "on"):
					f.handlers = append(f.handlers, a.Key)
				case a.Key == "class":
					f.classes = append(f.classes, a.Val)
				case a.Key == "style" && strings.Contains(a.Val, "url("):
					f.loads = append(f.loads, a.Val)
				}
			}
		}
	}
}

func TestHTMLSelfContainedAndSafe(t *testing.T) {
	for name, r := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			out := render(t, "html", r)
			f := scanHTML(t, out)
			for _, el := range []string{"script", "iframe", "object", "embed", "img", "link", "form", "base", "svg", "math"} {
				if f.elements[el] > 0 {
					t.Errorf("%d <%s> elements", f.elements[el], el)
				}
			}
			if len(f.loads) > 0 || len(f.handlers) > 0 {
				t.Errorf("loads %v, handlers %v", f.loads, f.handlers)
			}
			for _, h := range f.hrefs {
				if !strings.HasPrefix(h, "https://owasp.org/") {
					t.Errorf("link to %q: only the OWASP pages are linked", h)
				}
			}
			if f.elements["style"] != 1 || f.elements["meta"] < 2 {
				t.Errorf("want one inline style and the meta tags, got %v", f.elements)
			}
			if !bytes.Contains(out, []byte(`content="default-src 'none'; style-src 'unsafe-inline'`)) {
				t.Error("no Content-Security-Policy forbidding scripts")
			}
			for _, c := range out {
				if c < 0x20 && c != '\n' && c != '\t' {
					t.Fatalf("raw control character %#x in the page", c)
				}
			}
			if strings.Contains(strings.ToLower(string(out)), "<script") {
				t.Error("raw <script in the page")
			}
		})
	}
}

func TestHTMLHostileEvidenceIsText(t *testing.T) {
	out := render(t, "html", hostileReport())
	text := scanHTML(t, out).text.String()
	// What the target sent is shown to the reader as text, control
	// characters made visible.
	for _, want := range []string{
		"<script>alert(1)</script>",
		`"><img src=x onerror=alert(1)>`,
		`\x1b[2J`, `\x00byte`, `\xff\xfe`, `\u202eevil`, "]]><!--",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	// The finding's class attribute comes from the severity table, never
	// from the report.
	for _, c := range scanHTML(t, out).classes {
		if strings.ContainsAny(c, "<>\"'") {
			t.Errorf("class %q", c)
		}
	}
}

func TestHTMLContent(t *testing.T) {
	full := render(t, "html", loadReport(t, "full.json"))
	text := scanHTML(t, full).text.String()
	// Severity sections, most severe first, each finding with operation,
	// category, detail and evidence.
	order := []string{"critical", "SQL injection in a query parameter", "high", "A user reads another user's object",
		"medium", "Login is rate limited", "low", "Errors leak internals", "info", "Server version disclosed",
		"Tests that could not run", "connection refused", "All test results"}
	pos := 0
	for _, s := range order {
		i := strings.Index(text[pos:], s)
		if i < 0 {
			t.Fatalf("page text lacks %q after position %d", s, pos)
		}
		pos += i + len(s)
	}
	for _, want := range []string{
		"5 findings.", "GET /api/v2/orders/{id}", "bob→alice", "API1:2023 Broken Object Level Authorization",
		`{"id":1001,"email":"user1@shop.test","total":42.5}`, "214 requests", "ran 7.5s", "Fix:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if strings.Contains(text, "Partial report") {
		t.Error("complete report shows the partial banner")
	}
	golden(t, "full.html.golden", full)

	partial := scanHTML(t, render(t, "html", partialReport(t))).text.String()
	if !strings.Contains(partial, "Partial report.") {
		t.Error("partial report has no banner")
	}
	empty := scanHTML(t, render(t, "html", fixtures(t)["empty"])).text.String()
	if !strings.Contains(empty, "No findings.") || strings.Contains(empty, "All test results") {
		t.Errorf("empty report text:\n%s", empty)
	}
}
