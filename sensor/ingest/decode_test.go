package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigilsec/vigil"
)

// cmpExchange compares exchanges exactly, times included (instant and zone
// offset), nil and empty slices told apart.
var cmpExchange = cmp.Options{
	cmpopts.IgnoreUnexported(vigil.Exchange{}), // the pipeline's memo
	cmp.Comparer(func(a, b time.Time) bool {
		return a.Equal(b) && a.Format(time.RFC3339Nano) == b.Format(time.RFC3339Nano)
	}),
	cmp.Comparer(func(a, b *url.URL) bool {
		if a == nil || b == nil {
			return a == b
		}
		ac, bc := *a, *b
		ac.User, bc.User = nil, nil
		return ac == bc && (a.User == nil) == (b.User == nil) && (a.User == nil || *a.User == *b.User)
	}),
}

// benchLine is a typical record of about 0.7 KB, written by the canonical
// encoder (as the proxy would write it).
func benchLine(t testing.TB) string {
	u, _ := url.Parse("https://shop.test/api/v2/orders/1001?expand=items")
	x := vigil.Exchange{
		ID: "proxy-1#17", Time: time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC), Sensor: vigil.SensorProxy,
		Client: vigil.Client{Addr: "203.0.113.7:51234"},
		Request: vigil.Request{
			Method: "GET", URL: u, Proto: "HTTP/1.1",
			Header: http.Header{
				"Accept": {"application/json"}, "Accept-Encoding": {"gzip, deflate, br"}, "Accept-Language": {"en-US,en;q=0.9"},
				"Authorization":   {"Bearer " + jwtToken},
				"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
				"X-Forwarded-For": {"198.51.100.23"},
			},
			Body: []byte{}, BodySize: 0,
		},
		Response: &vigil.Response{
			Status: 200, Proto: "HTTP/1.1",
			Header:   http.Header{"Content-Type": {"application/json"}, "Content-Length": {"98"}},
			Body:     []byte(`{"id":1001,"user_id":17,"status":"paid","total":"59.90","items":[{"product_id":3,"quantity":2}]}`),
			BodySize: 98,
		},
		Duration: 1500 * time.Microsecond,
	}
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeCases are lines the fast decoder must decode itself ("fast") or
// leave to the canonical decoder; either way the result must be canonical.
var decodeCases = []struct {
	name string
	line string
	fast bool
}{
	{"minimal", `{"request":{"method":"GET","url":"http://h/"}}`, true},
	{"relative url with host", `{"request":{"method":"GET","url":"/a?b=1","headers":{"host":"shop.test"}}}`, true},
	{"relative url with scheme", `{"request":{"method":"GET","url":"https:/a","headers":{"Host":"h"}}}`, true},
	{"header array and string", `{"request":{"method":"GET","url":"/","headers":{"x-a":["1","2"],"x-b":"3","x-c":[]}}}`, true},
	{"escapes", `{"request":{"method":"POST","url":"http://h/\u00e9?q=\u003cscript\u003e","body":"a\"b\\c\/d\b\f\n\r\t\u2028é"}}`, true},
	{"base64", `{"request":{"method":"PUT","url":"http://h/","body":"/wD+","body_encoding":"base64","body_size":9}}`, true},
	{"response", `{"request":{"method":"GET","url":"http://h/"},"response":{"status":204,"proto":"HTTP/2.0","truncated":true,"body_size":-1}}`, true},
	{"all fields", `{"id":"x","time":"2026-11-28T10:00:00.5+02:00","sensor":"proxy","client":{"addr":"1.2.3.4:5","tls":{"version":"1.3","cipher_suite":"TLS_AES_128_GCM_SHA256","server_name":"h","alpn":"h2","fingerprint":"t13d"}},"request":{"method":"GET","url":"http://h/","proto":"HTTP/1.1","truncated":false},"duration_ms":1.25e1}`, true},
	{"whitespace", " {\t\"request\" :\n{ \"method\" : \"GET\" , \"url\" : \"http://h/\" } } ", true},
	{"empty tls", `{"client":{"tls":{}},"request":{"method":"GET","url":"http://h/"}}`, true},
	{"empty headers", `{"request":{"method":"GET","url":"http://h/","headers":{}}}`, true},
	{"key escape", `{"request":{"\u006dethod":"GET","url":"http://h/"}}`, true},
	{"canonical writer", "", true}, // filled with benchLine
	{"many header values", `{"request":{"method":"GET","url":"http://h/","headers":{"a":["1","2","3","4","5","6","7"],"b":"8","c":["9","10","11","12","13","14","15","16","17","18","19","20","21","22","23","24","25"],"d":["26"]}}}`, true},
	{"mixed-case common header", `{"request":{"method":"GET","url":"/","headers":{"hOsT":"h","CONTENT-TYPE":"a/b"}}}`, true},
	{"backslashes before quotes", `{"request":{"method":"GET","url":"http://h/","body":"a\\","proto":"\\\"x\\"}}`, true},
	{"long strings", `{"request":{"method":"GET","url":"http://h/0123456789abcdef0123456789abcdef","body":"0123456789abcdef0123456789abcdef\"0123456789abcdef\\"}}`, true},
	{"non-ascii", `{"request":{"method":"GET","url":"http://h/","body":"héllo wörld, ünïcödé ✓ 0123456789"}}`, true},
	// Left to the canonical decoder.
	{"upper-case key", `{"Request":{"method":"GET","url":"http://h/"}}`, false},
	{"unknown key", `{"tags":{},"request":{"method":"GET","url":"http://h/"}}`, false},
	{"actor", `{"actor":{"principal":"jwt:7","addr":"203.0.113.9","fingerprint":"fp1"},"request":{"method":"GET","url":"http://h/"}}`, true},
	{"empty actor", `{"actor":{},"request":{"method":"GET","url":"http://h/"}}`, true},
	{"actor with unknown key", `{"actor":{"role":"x"},"request":{"method":"GET","url":"http://h/"}}`, false},
	{"duplicate key", `{"request":{"method":"GET","url":"http://h/"},"request":{"method":"PUT"}}`, false},
	{"header names collide", `{"request":{"method":"GET","url":"/","headers":{"host":"a","Host":"b"}}}`, false},
	{"null", `{"response":null,"request":{"method":"GET","url":"http://h/"}}`, false},
	{"surrogate pair", `{"request":{"method":"GET","url":"http://h/","body":"\ud83d\ude00"}}`, false},
	{"invalid utf-8", "{\"request\":{\"method\":\"GET\",\"url\":\"http://h/\",\"body\":\"\xff\"}}", false},
	{"invalid utf-8 in a long string", "{\"request\":{\"method\":\"GET\",\"url\":\"http://h/\",\"body\":\"0123456789\xc3(0123456789\"}}", false},
	{"control character in a long string", "{\"request\":{\"method\":\"GET\",\"url\":\"http://h/\",\"body\":\"0123456789\x01abcdefgh\"}}", false},
	{"backslash before control character", "{\"request\":{\"method\":\"GET\",\"url\":\"http://h/\",\"body\":\"ab\\\x01\"}}", false},
	{"unterminated escape", `{"request":{"method":"GET","url":"http://h/","body":"ab\`, false},
	{"float status", `{"request":{"method":"GET","url":"http://h/"},"response":{"status":200.0}}`, false},
	// Errors: the fast decoder declines, the canonical one words the error.
	{"no method", `{"request":{"url":"/x"}}`, false},
	{"bad status", `{"request":{"method":"GET","url":"/"},"response":{"status":42}}`, false},
	{"bad base64", `{"request":{"method":"GET","url":"/","body":"!!","body_encoding":"base64"}}`, false},
	{"bad url", `{"request":{"method":"GET","url":"%zz"}}`, false},
	{"negative duration", `{"request":{"method":"GET","url":"/"},"duration_ms":-1}`, false},
	{"trailing garbage", `{"request":{"method":"GET","url":"/"}} x`, false},
	{"trailing comma", `{"request":{"method":"GET","url":"/",}}`, false},
	{"leading zero", `{"request":{"method":"GET","url":"/"},"response":{"status":0200}}`, false},
	{"cut", `{"request":{"method":"GET","url":"/"`, false},
}

func TestDecodeFastMatchesCanonical(t *testing.T) {
	for _, tt := range decodeCases {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.line
			if line == "" {
				line = benchLine(t)
			}
			x, ok := decodeFast([]byte(line))
			if ok != tt.fast {
				t.Errorf("fast decoder ok = %v, want %v", ok, tt.fast)
			}
			checkDifferential(t, []byte(line))
			if ok && x.Request.URL == nil {
				t.Error("no URL")
			}
		})
	}
}

// checkDifferential fails when the fast decoder accepts a line and gives
// anything but what the canonical decoder gives.
func checkDifferential(t *testing.T, b []byte) {
	t.Helper()
	fast, ok := decodeFast(b)
	canon, err := decodeCanonical(b)
	if !ok {
		return // the canonical decoder is used
	}
	if err != nil {
		t.Fatalf("fast decoder accepted %q, canonical rejects it: %v", b, err)
	}
	if diff := cmp.Diff(canon, fast, cmpExchange); diff != "" {
		t.Fatalf("fast decoder differs on %q (-canonical +fast):\n%s", b, diff)
	}
}

func FuzzDecodeDifferential(f *testing.F) {
	for _, tt := range decodeCases {
		f.Add([]byte(tt.line))
	}
	f.Add([]byte(benchLine(f)))
	addTestdataLines(f, "*.jsonl")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDifferential(t, b)
	})
}

func addTestdataLines(f *testing.F, glob string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", glob))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			f.Add(line)
		}
	}
}

// jsonlSource reads b as JSON lines with tiny buffers and caps so that the
// fragment and over-long paths are exercised.
func jsonlSource(b []byte) *Source {
	return &Source{
		name: "f", file: "f", format: FormatJSONL, capture: 8,
		jsonl: &jsonlReader{br: bufio.NewReaderSize(bytes.NewReader(b), 16), max: 200},
	}
}

func FuzzJSONL(f *testing.F) {
	for _, tt := range decodeCases {
		f.Add([]byte(tt.line + "\n" + tt.line))
	}
	for _, p := range []string{"good.jsonl", "bad_lines.jsonl", "crlf.jsonl", "empty_lines.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := jsonlSource(b)
		checkRecordOrder(t, s, bytes.Count(b, []byte("\n"))+1, 8)
	})
}

func FuzzHAR(f *testing.F) {
	f.Add([]byte(`{"log":{"version":"1.2","creator":{"name":"x"},"pages":[{"id":"p"}],"entries":[` +
		`{"startedDateTime":"2026-11-28T11:00:00.500+01:00","time":9,"request":{"method":"POST","url":"https://h/a?b=1","httpVersion":"h2",` +
		`"headers":[{"name":":authority","value":"h"},{"name":"content-type","value":"application/json"}],"bodySize":7,"postData":{"text":"{\"a\":1}"}},` +
		`"response":{"status":200,"httpVersion":"HTTP/2","headers":[],"content":{"size":4,"encoding":"base64","text":"/wD+AQ=="}}},` +
		`{"request":{"method":"GET","url":"/x","headers":[{"name":"Host","value":"h"}]},"response":{"status":0}}]}}`))
	f.Add([]byte(`{"log":{"entries":[{"request":{"method":"GET","url":"http://h/"},"response":{"status":200}},{"request":{"meth`))
	f.Add([]byte(`{"log":{"entries":[{"request":{"method":7}},{"request":{"method":"GET","url":"/c","headers":[{"name":"Host","value":"h"}]}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := NewSource(bytes.NewReader(b), Options{Name: "f", CaptureBytes: 8, MaxRecordBytes: 1 << 16})
		if err != nil {
			return
		}
		checkRecordOrder(t, s, len(b)+2, 8)
	})
}

// checkRecordOrder reads s to the end: record numbers (of exchanges and of
// record errors) must increase, and the source must end within limit calls.
func checkRecordOrder(t *testing.T, s *Source, limit int, capture int) {
	t.Helper()
	last := -1
	for range limit + 1 {
		x, err := s.Next()
		if err == io.EOF {
			return
		}
		var rec int
		switch e := err.(type) {
		case nil:
			i := strings.LastIndexByte(x.ID, '#')
			n, perr := strconv.Atoi(x.ID[i+1:])
			if i < 0 || perr != nil {
				t.Fatalf("bad id %q", x.ID)
			}
			rec = n
			if len(x.Request.Body) > capture || (x.Response != nil && len(x.Response.Body) > capture) {
				t.Fatalf("body over the capture cap")
			}
		case *RecordError:
			rec = e.Record
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if rec <= last {
			t.Fatalf("record %d after %d", rec, last)
		}
		last = rec
	}
	t.Fatalf("no io.EOF after %d calls", limit+1)
}

// TestDocExamples keeps docs/traffic-format.md true: every ```json block is
// valid JSON and every line of a ```jsonl block decodes.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/traffic-format.md")
	if err != nil {
		t.Fatal(err)
	}
	var lang string
	var block []string
	n := 0
	for line := range strings.SplitSeq(string(doc), "\n") {
		switch {
		case lang == "" && strings.HasPrefix(line, "```"):
			lang, block = strings.TrimPrefix(line, "```"), nil
			if lang == "" {
				lang = "text"
			}
		case lang != "" && strings.TrimSpace(line) == "```":
			switch lang {
			case "json":
				n++
				if text := strings.Join(block, "\n"); !json.Valid([]byte(text)) {
					t.Errorf("invalid JSON block in the doc:\n%s", text)
				}
			case "jsonl":
				for _, l := range block {
					n++
					x, err := decodeLine([]byte(l))
					if err != nil {
						t.Errorf("doc example does not decode: %v\n%s", err, l)
						continue
					}
					if x.Request.URL.Host == "" {
						t.Errorf("doc example has no host: %s", l)
					}
					checkDifferential(t, []byte(l))
				}
			}
			lang = ""
		case lang != "":
			block = append(block, line)
		}
	}
	if n < 3 {
		t.Errorf("found %d examples in the doc, want at least 3", n)
	}
}

func BenchmarkJSONL(b *testing.B) {
	line := []byte(benchLine(b))
	b.Run("canonical", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeCanonical(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeFast(line); !ok {
				b.Fatal("fast decoder declined")
			}
		}
	})
	b.Run("source", func(b *testing.B) {
		// Read, split and decode through a Source, as vigil analyze does.
		const n = 10_000
		data := bytes.Repeat(append(line, '\n'), n)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			s, err := NewSource(bytes.NewReader(data), Options{})
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; ; i++ {
				if _, err := s.Next(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "exchanges/s")
	})
}

func BenchmarkHAR(b *testing.B) {
	const n = 5_000
	var buf bytes.Buffer
	writeHAR(&buf, n)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := NewSource(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := s.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

func TestCommonHeadersCanonical(t *testing.T) {
	for _, name := range commonHeaderNames {
		for _, spelling := range []string{name, strings.ToLower(name), strings.ToUpper(name), "x" + name[1:]} {
			want := textproto.CanonicalMIMEHeaderKey(spelling)
			got, ok := commonHeader([]byte(spelling))
			if spelling[0] == 'x' && !strings.EqualFold(spelling, name) {
				if ok && got != want {
					t.Errorf("commonHeader(%q) = %q, want %q or none", spelling, got, want)
				}
				continue
			}
			if !ok || got != want {
				t.Errorf("commonHeader(%q) = %q, %v; want %q", spelling, got, ok, want)
			}
		}
	}
	for _, s := range []string{"", "Accept_", "Content\rType", "content-typ", "X-Api-Kez", "Hos\x00"} {
		if got, ok := commonHeader([]byte(s)); ok {
			t.Errorf("commonHeader(%q) = %q, want none", s, got)
		}
	}
}

// TestFastAcceptsWhatVigilWrites: every exchange of the fixtures, written by
// the canonical encoder, takes the fast path and decodes to the same value.
func TestFastAcceptsWhatVigilWrites(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.*")
	n := 0
	for _, p := range paths {
		s, err := Open(p, Options{})
		if err != nil {
			continue // not traffic
		}
		for {
			x, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			b, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := decodeFast(b); !ok {
				t.Errorf("%s: the fast decoder declines %s", x.ID, b)
			}
			checkDifferential(t, b)
			n++
		}
		s.Close()
	}
	if n < 15 {
		t.Errorf("checked %d exchanges, want at least 15", n)
	}
}
