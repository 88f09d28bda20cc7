package recon

import (
	"strings"
	"unicode/utf8"

	"github.com/vigilsec/vigil"
)

// observation is what one exchange says, before any actor state.
type observation struct {
	path    string // the request path, cut to MaxPathBytes
	status  int
	known   bool // Config.Known said yes
	success bool // 2xx or 3xx
	miss    bool // 404, 405, 410 or 501
	body    bool // 2xx with a body
	benign  bool // known and successful: counts towards nothing
	unknown bool // an unknown endpoint, for recon.probe
	word    wordMatch
	spec    bool
	ver     version
	verSeg  int // index of the version segment
}

// observe classifies an exchange. It allocates nothing.
func (d *Detector) observe(x *vigil.Exchange) observation {
	o := observation{path: x.Request.Path(), status: x.Status()}
	if len(o.path) > MaxPathBytes {
		o.path = o.path[:MaxPathBytes]
	}
	o.success = o.status >= 200 && o.status < 400
	o.miss = isMiss(o.status)
	o.body = o.status >= 200 && o.status < 300 && (len(x.Response.Body) > 0 || x.Response.BodySize > 0)
	o.ver, o.verSeg = findVersion(o.path)
	method := strings.ToUpper(x.Request.Method)
	if d.cfg.Known != nil && method != "OPTIONS" {
		if method == "HEAD" {
			method = "GET"
		}
		o.known = d.cfg.Known(x.Request.Host(), method, x.Request.Path())
		if o.known && o.success {
			o.benign = true
			return o
		}
	}
	o.unknown = d.unknownEndpoint(&o, method)
	o.word = matchWordlist(o.path)
	if o.word.monitor && (d.cfg.Known == nil && o.success || o.known) {
		o.word = wordMatch{} // a monitoring endpoint doing its job
	}
	o.spec = isSpecFile(o.path)
	return o
}

// unknownEndpoint says whether the exchange reached an endpoint the API does
// not have, as its answer or Config.Known tells. Browsers' CORS preflights
// (OPTIONS) are judged by status alone, and 405 to them is ordinary; static
// files served successfully are not endpoints.
func (d *Detector) unknownEndpoint(o *observation, method string) bool {
	switch {
	case method == "OPTIONS":
		return o.miss && o.status != 405
	case d.cfg.Known == nil:
		return o.miss
	case o.known:
		return false // a known template: a 404 there is a missing record
	case o.success && isStatic(o.path):
		return false
	}
	return true
}

func isMiss(status int) bool {
	return status == 404 || status == 405 || status == 410 || status == 501
}

// staticExts are file types a browser loads from a page.
var staticExts = []string{
	".js", ".mjs", ".css", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".avif",
	".woff", ".woff2", ".ttf", ".otf", ".eot", ".html", ".htm", ".txt", ".webmanifest",
}

// isStatic says whether a path is the site root or a static file.
func isStatic(p string) bool {
	if p == "/" {
		return true
	}
	last := p[strings.LastIndexByte(p, '/')+1:]
	dot := strings.LastIndexByte(last, '.')
	if dot < 0 {
		return false
	}
	ext := last[dot:]
	for _, e := range staticExts {
		if strings.EqualFold(ext, e) {
			return true
		}
	}
	return false
}

// segments calls f with each non-empty segment of p and its index among
// them, until f returns false.
func segments(p string, f func(i int, seg string) bool) {
	i := 0
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == "" {
			continue
		}
		if !f(i, seg) {
			return
		}
		i++
	}
}

// firstSegments returns up to n leading non-empty segments of p and how
// many there are in all.
func firstSegments(p string, out []string) (int, int) {
	n, total := 0, 0
	segments(p, func(_ int, seg string) bool {
		if n < len(out) {
			out[n] = seg
			n++
		}
		total++
		return true
	})
	return n, total
}

// cutPath returns a fresh copy of p cut to MaxPathBytes on a rune boundary,
// with control characters replaced by spaces.
func cutPath(p string) string {
	if len(p) > MaxPathBytes {
		i := MaxPathBytes
		for i > 0 && !utf8.RuneStart(p[i]) {
			i--
		}
		p = p[:i]
	}
	b := []byte(p)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}
