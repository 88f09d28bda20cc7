package spec

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// server is where a spec's paths are served: a host ("" for any, when the
// server URL is relative) and a base path ("" for the root).
type server struct {
	host, base string
}

// resolveServers turns server objects into distinct (host, base path)
// pairs, in order. No servers means the root of any host.
func resolveServers(list openapi3.Servers) []server {
	var out []server
	seen := map[server]bool{}
	for _, s := range list {
		if s == nil {
			continue
		}
		v := splitServerURL(substitute(s.URL, s.Variables))
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		out = append(out, server{})
	}
	return out
}

// substitute replaces the {name} server variables in a URL with their
// defaults (else the first enum value). Unknown variables stay.
func substitute(raw string, vars openapi3.ServerVariables) string {
	if !strings.Contains(raw, "{") {
		return raw
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(raw, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(raw[open:], '}')
		if end < 0 {
			break
		}
		end += open
		b.WriteString(raw[:open])
		name := raw[open+1 : end]
		if v, ok := vars[name]; ok && v != nil && (v.Default != "" || len(v.Enum) > 0) {
			if v.Default != "" {
				b.WriteString(v.Default)
			} else {
				b.WriteString(v.Enum[0])
			}
		} else {
			b.WriteString(raw[open : end+1])
		}
		raw = raw[end+1:]
	}
	b.WriteString(raw)
	return b.String()
}

// splitServerURL splits a server URL into a lower-case host (with port if
// given; "" for a relative URL or a host with an unresolved variable) and a
// base path without a trailing slash.
func splitServerURL(u string) server {
	u = strings.TrimSpace(u)
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	var host string
	rest, isAbs := "", false
	if i := strings.Index(u, "://"); i > 0 && !strings.ContainsAny(u[:i], "/{}") {
		rest, isAbs = u[i+3:], true
	} else if strings.HasPrefix(u, "//") {
		rest, isAbs = u[2:], true
	}
	path := u
	if isAbs {
		host, path = rest, ""
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			host, path = rest[:i], rest[i:]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		host = strings.ToLower(host)
		if strings.ContainsAny(host, "{}") {
			host = ""
		}
	}
	return server{host: host, base: basePath(path)}
}

// basePath cleans a server path: a leading slash, no trailing one, "" for
// the root. "./api" and "api" are read as "/api".
func basePath(p string) string {
	p = strings.TrimPrefix(p, ".")
	p = strings.TrimRight(p, "/")
	if p == "" {
		return ""
	}
	if p[0] != '/' {
		p = "/" + p
	}
	return p
}

// joinPath joins a base path and a spec path without a double slash, and
// trims a trailing slash (except for "/" itself).
func joinPath(base, p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	full := strings.TrimRight(base, "/") + p
	if t := strings.TrimRight(full, "/"); t != "" {
		return t
	}
	return "/"
}
