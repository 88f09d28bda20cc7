package redact

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"strings"

	"github.com/vigilsec/vigil"
)

// Exchange returns a redacted deep copy of x (nil for nil); x is not changed.
// Headers, the URL (query values, user info, path), request and response
// bodies are redacted; the actor, which holds no secrets, is kept.
func (r *Redactor) Exchange(x *vigil.Exchange) *vigil.Exchange {
	if x == nil {
		return nil
	}
	y := *x
	if x.Client.TLS != nil {
		t := *x.Client.TLS
		y.Client.TLS = &t
	}
	y.Request.URL = r.URL(x.Request.URL)
	y.Request.Header = r.Header(x.Request.Header)
	y.Request.Body = r.Body(x.Request.Header.Get("Content-Type"), x.Request.Body)
	if x.Response != nil {
		resp := *x.Response
		resp.Header = r.Header(x.Response.Header)
		resp.Body = r.Body(x.Response.Header.Get("Content-Type"), x.Response.Body)
		y.Response = &resp
	}
	return &y
}

// URL returns a redacted copy of u: sensitive query parameters and the
// user-info password are masked, and the text rules run over the path,
// the other query values and the fragment.
func (r *Redactor) URL(u *url.URL) *url.URL {
	if u == nil {
		return nil
	}
	v := *u
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			v.User = url.UserPassword(u.User.Username(), Mask)
		} else {
			v.User = url.User(u.User.Username())
		}
	}
	if p := r.String(u.Path); p != u.Path {
		// A RawPath that does not match Path is ignored by url.URL, so this
		// keeps "*" readable when it can and falls back to escaping.
		v.Path, v.RawPath = p, p
		if u.RawPath != "" {
			v.RawPath = r.String(u.RawPath)
		}
	}
	v.RawQuery = string(r.form([]byte(u.RawQuery)))
	v.Fragment = r.String(u.Fragment)
	v.RawFragment = ""
	return &v
}

// Body redacts a body of the given content type and returns a new slice
// (nil for nil). JSON keeps its layout and stays valid; a body that is not
// valid JSON (e.g. truncated) gets the text rules, which also mask
// "password": "…" pairs.
func (r *Redactor) Body(contentType string, b []byte) []byte {
	if b == nil {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	isJSON := looksJSON(mt, b)
	valid := isJSON && json.Valid(b) // checked once: both cases below need it
	switch {
	case mt == "application/x-www-form-urlencoded" && !valid:
		// A form body. JSON sent with a form content type (a mislabelled
		// client, or an attacker slipping past content-type based rules)
		// gets the JSON rules below: whoever reads it later decodes it as
		// JSON, "\u0020" escapes and all.
		return clone(r.form(b))
	case isJSON:
		if !valid {
			// Truncated or broken: the text rules. Masking a broken value
			// can make the body valid, so the JSON rules follow then, which
			// keeps redaction idempotent.
			b = r.Bytes(b)
			if !json.Valid(b) {
				return clone(b)
			}
		}
		out, i := r.json(make([]byte, 0, len(b)+16), b, 0, false)
		return append(out, b[i:]...) // trailing white space
	}
	return clone(r.Bytes(b))
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func looksJSON(mt string, b []byte) bool {
	if strings.HasSuffix(mt, "json") {
		return true
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// form redacts an application/x-www-form-urlencoded body or a raw query:
// values of sensitive names are masked, the others get the text rules.
func (r *Redactor) form(b []byte) []byte {
	e := editor{src: b}
	for start := 0; start < len(b); {
		end := bytes.IndexByte(b[start:], '&')
		if end < 0 {
			end = len(b)
		} else {
			end += start
		}
		pair := b[start:end]
		if eq := bytes.IndexByte(pair, '='); eq >= 0 {
			// Sensitivity is decided on the name as written out, so that a
			// second pass decides the same.
			rawName := string(pair[:eq])
			if red := r.String(rawName); red != rawName {
				e.replace(start, start+eq, red)
				rawName = red
			}
			name, err := url.QueryUnescape(rawName)
			if err != nil {
				name = rawName
			}
			vs := start + eq + 1
			raw := string(b[vs:end])
			switch {
			case raw == "" || raw == Mask:
			case r.SensitiveField(name):
				e.replace(vs, end, Mask)
			default:
				// The decoded value, then the raw text: "%00" escapes can
				// hide a card number from one view but not the other.
				out := raw
				if val, err := url.QueryUnescape(raw); err == nil {
					if red := r.String(val); red != val {
						out = strings.ReplaceAll(url.QueryEscape(red), "%2A", "*")
					}
				}
				if out = r.String(out); out != raw {
					e.replace(vs, end, out)
				}
			}
		} else if red := r.String(string(pair)); red != string(pair) {
			e.replace(start, end, red)
		}
		start = end + 1
	}
	out, _ := e.done()
	return out
}

// json appends the redacted form of the valid JSON value at src[i:] to dst
// and returns the index after it. Under a sensitive key every string and
// number is masked; elsewhere strings get the text rules and integers that
// are Luhn-valid card numbers become masked strings. Layout is kept.
func (r *Redactor) json(dst, src []byte, i int, secret bool) ([]byte, int) {
	start := i
	for i < len(src) && isSpace(src[i]) {
		i++
	}
	dst = append(dst, src[start:i]...)
	if i >= len(src) {
		return dst, i
	}
	switch c := src[i]; {
	case c == '{':
		dst = append(dst, '{')
		i++
		for {
			ws := i
			for i < len(src) && isSpace(src[i]) {
				i++
			}
			dst = append(dst, src[ws:i]...)
			if src[i] == '}' {
				return append(dst, '}'), i + 1
			}
			if src[i] == ',' {
				dst = append(dst, ',')
				i++
				continue
			}
			// A key.
			kend := stringEnd(src, i)
			k0 := len(dst)
			dst = r.jsonString(dst, src[i:kend])
			key := dst[k0:] // as written out, so that a second pass decides the same
			i = kend
			ws = i
			for src[i] != ':' {
				i++
			}
			dst = append(dst, src[ws:i+1]...)
			i++
			dst, i = r.json(dst, src, i, secret || r.sensitiveKey(key))
		}
	case c == '[':
		dst = append(dst, '[')
		i++
		for {
			ws := i
			for i < len(src) && isSpace(src[i]) {
				i++
			}
			dst = append(dst, src[ws:i]...)
			switch src[i] {
			case ']':
				return append(dst, ']'), i + 1
			case ',':
				dst = append(dst, ',')
				i++
				continue
			}
			dst, i = r.json(dst, src, i, secret)
		}
	case c == '"':
		end := stringEnd(src, i)
		if secret && end-i > 2 {
			return append(dst, `"`+Mask+`"`...), end
		}
		return r.jsonString(dst, src[i:end]), end
	case c == '-' || isDigit(c):
		end := i
		for end < len(src) && strings.IndexByte("+-0123456789.eE", src[end]) >= 0 {
			end++
		}
		num := src[i:end]
		if secret {
			return append(dst, `"`+Mask+`"`...), end
		}
		if red, changed := cards(num); changed {
			dst = append(dst, '"')
			dst = append(dst, red...)
			return append(dst, '"'), end
		}
		return append(dst, num...), end
	default: // true, false, null
		end := i
		for end < len(src) && 'a' <= src[end] && src[end] <= 'z' {
			end++
		}
		return append(dst, src[i:end]...), end
	}
}

// jsonString appends the JSON string literal s with the text rules applied.
func (r *Redactor) jsonString(dst, s []byte) []byte {
	if bytes.IndexByte(s, '\\') < 0 {
		if red, changed := r.text(s[1 : len(s)-1]); changed {
			dst = append(dst, '"')
			dst = append(dst, red...)
			return append(dst, '"')
		}
		return append(dst, s...)
	}
	u := unquote(s)
	if red := r.String(u); red != u {
		q, _ := json.Marshal(red)
		return append(dst, q...)
	}
	return append(dst, s...)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// stringEnd returns the index after the JSON string starting at src[i].
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}

// sensitiveKey reports whether the JSON string literal key names a secret.
func (r *Redactor) sensitiveKey(key []byte) bool {
	if len(key) >= 2 && bytes.IndexByte(key, '\\') < 0 {
		return r.sensitiveBytes(key[1 : len(key)-1])
	}
	return r.SensitiveField(unquote(key))
}

// unquote decodes a JSON string literal.
func unquote(s []byte) string {
	if len(s) >= 2 && bytes.IndexByte(s, '\\') < 0 {
		return string(s[1 : len(s)-1])
	}
	var v string
	_ = json.Unmarshal(s, &v)
	return v
}

// Finding returns f with its title and evidence redacted. Evidence at a
// sensitive place ("header.Authorization", "body.user.password",
// "query.token", "cookie.sid") is masked whole; other values get the text
// rules.
func (r *Redactor) Finding(f vigil.Finding) vigil.Finding {
	f.Title = r.String(f.Title)
	f.Endpoint.Template = r.String(f.Endpoint.Template)
	if f.Evidence != nil {
		ev := make([]vigil.Evidence, len(f.Evidence))
		for i, e := range f.Evidence {
			e.Value = r.evidence(e.Where, e.Value)
			e.Why = r.String(e.Why)
			ev[i] = e
		}
		f.Evidence = ev
	}
	return f
}

func (r *Redactor) evidence(where, v string) string {
	if v == "" {
		return v
	}
	kind, rest, _ := strings.Cut(where, ".")
	switch strings.ToLower(kind) {
	case "header", "headers":
		return r.HeaderValue(rest, v)
	case "cookie", "cookies":
		return Mask
	}
	for _, seg := range strings.FieldsFunc(rest, func(c rune) bool { return c == '.' || c == '[' || c == ']' || c == '/' }) {
		if r.SensitiveField(seg) {
			return Mask
		}
	}
	return r.String(v)
}

// Incident returns inc with its title redacted.
func (r *Redactor) Incident(inc vigil.Incident) vigil.Incident {
	inc.Title = r.String(inc.Title)
	return inc
}

// Action returns a with its reason redacted.
func (r *Redactor) Action(a vigil.Action) vigil.Action {
	a.Reason = r.String(a.Reason)
	return a
}
