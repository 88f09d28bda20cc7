package inventory

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

// FuzzObserveHeaders: Observe's one pass over the request's header names
// (headerKinds, the values it keeps) and its media-type memo give what the
// per-header lookups give: the auth of AuthKind, the request and response
// media types of mediaType, the parameters of standardHeader.
func FuzzObserveHeaders(f *testing.F) {
	f.Add("X-Api-Key", "k", "Content-Type", "application/JSON; charset=utf-8", "Cookie", "a=1; b=2", "", "text/html")
	f.Add("x-api-key", "k", "content-type", "application/json", "Authorization", "Bearer a.b.c", "jwt:1", "")
	f.Add("X-Custom", "1", "Authorization", "", "Sec-Thing", "x", "apikey:2", "Application/Problem+JSON")
	f.Add("Api-Key", "", "Cookie", "", "If-Foo", "x", "session:3", " text/plain ")
	f.Add("X-Auth-Token", "t", "Content-Type", "", "dnt", "1", "", "x")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, n3, v3, principal, respType string) {
		h := http.Header{"Host": {"api.test"}}
		for _, kv := range [][2]string{{n1, v1}, {n2, v2}, {n3, v3}} {
			if kv[1] == "" && strings.HasPrefix(kv[0], "A") {
				h[kv[0]] = nil // a name without a value
				continue
			}
			h[kv[0]] = append(h[kv[0]], kv[1])
		}
		x := exchangeTo("api.test", "GET", "/a", 200, time.Time{})
		x.Request.Header = h
		x.Response.Header = http.Header{"Content-Type": {respType}}
		x.Actor = vigil.Actor{Principal: principal}
		inv := New(Config{})
		for i := range 3 { // the memo's miss, hit, and miss again
			if i == 2 {
				x.Response.Header = http.Header{"Content-Type": {"text/csv"}}
			}
			if _, auth := inv.ObserveAuth(x); auth != AuthKind(h, x.Actor) {
				t.Fatalf("auth %q, AuthKind %q (%q, %q)", auth, AuthKind(h, x.Actor), h, principal)
			}
		}
		p := inv.Profiles()[0]
		want := map[string]int64{}
		if mt := mediaType(header(h, "Content-Type")); mt != "" {
			want[mt] = 3
		}
		if !maps.Equal(p.RequestTypes, want) {
			t.Fatalf("RequestTypes %v, want %v (%q)", p.RequestTypes, want, h)
		}
		want = map[string]int64{}
		if mt := mediaType(respType); mt != "" {
			want[mt] = 2
		}
		want["text/csv"]++
		if !maps.Equal(p.ResponseTypes, want) {
			t.Fatalf("ResponseTypes %v, want %v (%q)", p.ResponseTypes, want, respType)
		}
		var params, wantParams []string
		for _, q := range p.Params {
			params = append(params, q.In+" "+q.Name)
		}
		for name := range h {
			if !standardHeader(name) {
				wantParams = append(wantParams, "header "+name)
			}
		}
		for _, c := range h["Cookie"] {
			for _, kv := range strings.Split(c, ";") {
				if name, _, _ := strings.Cut(strings.TrimSpace(kv), "="); name != "" {
					wantParams = append(wantParams, "cookie "+name)
				}
			}
		}
		for i, s := range wantParams {
			if in, name, _ := strings.Cut(s, " "); len(name) > maxNameLen {
				wantParams[i] = in + " " + name[:maxNameLen]
			}
		}
		slices.Sort(params)
		slices.Sort(wantParams)
		if !slices.Equal(params, slices.Compact(wantParams)) {
			t.Fatalf("params %q, want %q (%q)", params, wantParams, h)
		}
	})
}

// TestHeaderKinds checks the table against the functions it stands for:
// every name in it has the kinds standardHeader and apiKeyHeader give it.
func TestHeaderKinds(t *testing.T) {
	for name, k := range headerKinds {
		if got, want := k&(hkStandard|hkAPIKey), otherHeaderKind(name); got != want {
			t.Errorf("%q: kinds %b, want %b", name, got, want)
		}
	}
	for _, name := range []string{"X-Api-Key", "Api-Key", "X-Auth-Token"} {
		if headerKinds[name]&hkAPIKey == 0 || !apiKeyHeader(name) {
			t.Errorf("%q is not an API-key header", name)
		}
	}
}
