package web

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzFindingsQuery feeds query strings to /api/v1/findings: the answer is
// 200 with findings or 400 with the error format, never anything else.
func FuzzFindingsQuery(f *testing.F) {
	for _, seed := range []string{
		"", "since=24h", "since=2025-06-01T09:30:00Z", "detector=detect.authz.bola", "actor=addr:203.0.113.9",
		"actor=addr:::ffff:203.0.113.9", "min_severity=high", "limit=2", "since=-1h", "limit=0", "limit=99999999999999999999",
		"detector=a&detector=b", "actor=principal:%FF", "detector=%zz", "x=1", "since=1e400h", "actor=addr:fe80::1%25eth0",
	} {
		f.Add(seed)
	}
	s := newServer(f, nil)
	f.Fuzz(func(t *testing.T, q string) {
		// The raw query as a server would receive it, whatever its bytes.
		r := httptest.NewRequest("GET", "/api/v1/findings", nil)
		r.URL.RawQuery = q
		r.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		res := w.Result()
		body := readBody(t, res)
		switch res.StatusCode {
		case 200:
			var b findingsBody
			if err := json.Unmarshal([]byte(body), &b); err != nil || b.Count != len(b.Findings) || b.Count > b.Limit {
				t.Fatalf("200 with body %s (%v)", body, err)
			}
		case 400:
			var b errorBody
			if err := json.Unmarshal([]byte(body), &b); err != nil || b.Error.Code != "invalid" || b.Error.Message == "" {
				t.Fatalf("400 with body %s (%v)", body, err)
			}
		default:
			t.Fatalf("query %q: status %d: %s", q, res.StatusCode, body)
		}
	})
}

// FuzzActionRequest feeds bodies to newAction: it accepts (a valid,
// in-force action) or refuses with EINVALID; it never panics.
func FuzzActionRequest(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"block","key":"addr:192.0.2.7","duration":"2h"}`,
		`{"kind":"rate-limit","key":"principal:jwt:bob","until":"2025-06-02T00:00:00Z","rate":2.5}`,
		`{"kind":"tarpit","key":"fingerprint:x","duration":"1m","delay":"1s"}`,
		`{"kind":"tarpit","key":"fingerprint:x","duration":"1m","delay":1e30}`,
		`{"kind":"rate-limit","key":"addr:::1","duration":"1m","rate":1e400}`,
		`{"kind":"block","key":"addr:192.0.2.7","duration":"9223372036s"}`,
		`{"kind":"block"}`, `[]`, `null`, `{"key":7}`, ``,
	} {
		f.Add(seed)
	}
	s := newServer(f, nil)
	f.Fuzz(func(t *testing.T, body string) {
		var rq actionRequest
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&rq) != nil {
			return
		}
		a, err := s.newAction(rq)
		if err != nil {
			if code := errorCodeOf(err); code != "invalid" {
				t.Fatalf("newAction(%s): error code %q: %v", body, code, err)
			}
			return
		}
		if a.ID == "" || !a.Active(testNow) || a.Until.Sub(testNow) > maxActionFor || a.Key == "" {
			t.Fatalf("newAction(%s) accepted a bad action %+v", body, a)
		}
		if k, err := parseKey(a.Key); err != nil || k != a.Key {
			t.Fatalf("accepted key %q is not canonical (%q, %v)", a.Key, k, err)
		}
	})
}

// FuzzParseKey checks that a key parseKey accepts is canonical: parsing it
// again gives it back.
func FuzzParseKey(f *testing.F) {
	for _, seed := range []string{"addr:203.0.113.9", "addr:::ffff:1.2.3.4", "addr:2001:DB8::1", "addr:fe80::1%eth0",
		"principal:jwt:alice", "fingerprint:t13d", "user:bob", "addr:", ":", "", "principal:a b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, k string) {
		c, err := parseKey(k)
		if err != nil {
			return
		}
		c2, err := parseKey(c)
		if err != nil || c2 != c {
			t.Fatalf("parseKey(%q) = %q, but parseKey(%q) = %q, %v", k, c, c, c2, err)
		}
	})
}
