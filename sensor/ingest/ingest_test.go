package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil"
)

// summary is what the table tests compare of each exchange.
type summary struct {
	ID, Sensor, Method, URL, Proto, Time string
	Duration                             time.Duration
	Addr                                 string
	ReqHeaders                           []string
	ReqBody                              string // hex of the first 16 bytes, then the length
	ReqSize                              int64
	ReqTrunc                             bool
	Status                               int
	RespBody                             string
	RespSize                             int64
	RespTrunc                            bool
}

func bodySummary(b []byte) string {
	return hex.EncodeToString(b[:min(len(b), 16)]) + fmt.Sprintf("/%d", len(b))
}

func hexOf(s string) string { return bodySummary([]byte(s)) }

func summarize(x *vigil.Exchange) summary {
	s := summary{
		ID: x.ID, Sensor: x.Sensor, Method: x.Request.Method, URL: x.Request.URL.String(),
		Proto: x.Request.Proto, Time: x.Time.UTC().Format(time.RFC3339Nano), Duration: x.Duration,
		Addr: x.Client.Addr, ReqBody: bodySummary(x.Request.Body), ReqSize: x.Request.BodySize,
		ReqTrunc: x.Request.Truncated, Status: x.Status(),
	}
	for name := range x.Request.Header {
		s.ReqHeaders = append(s.ReqHeaders, name)
	}
	slices.Sort(s.ReqHeaders)
	if r := x.Response; r != nil {
		s.RespBody, s.RespSize, s.RespTrunc = bodySummary(r.Body), r.BodySize, r.Truncated
	}
	return s
}

// readAll drains a source and returns what it read and the record numbers of
// the record errors. Any other error fails the test.
func readAll(t testing.TB, s *Source) (xs []*vigil.Exchange, errRecords []int) {
	t.Helper()
	for range 1_000_000 {
		x, err := s.Next()
		if err == io.EOF {
			return xs, errRecords
		}
		if re, ok := errors.AsType[*RecordError](err); ok {
			errRecords = append(errRecords, re.Record)
			continue
		}
		if err != nil {
			t.Fatalf("Next: unexpected error %v", err)
		}
		xs = append(xs, x)
	}
	t.Fatal("Next never returned io.EOF")
	return nil, nil
}

var jwtToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxNyIsImVtYWlsIjoidXNlcjE3QHNob3AudGVzdCIsInJvbGUiOiJjdXN0b21lciJ9.c2lnbmF0dXJl"

// The three exchanges of testdata/good.jsonl, with their line numbers.
func goodJSONL(lines ...int) []summary {
	all := []summary{
		{
			Sensor: "jsonl", Method: "GET", URL: "https://shop.test/api/v2/orders/1001", Proto: "HTTP/1.1",
			Time: "2026-11-28T10:00:00Z", Duration: 1500 * time.Microsecond, Addr: "203.0.113.7:5123",
			ReqHeaders: []string{"Accept", "Authorization"}, ReqBody: "/0",
			Status: 200, RespBody: hexOf(`{"id":1001,"total":"59.90"}`), RespSize: 27,
		},
		{
			Sensor: "jsonl", Method: "POST", URL: "http://shop.test/api/v2/coupons/validate",
			Time:       "2026-11-28T10:00:01Z",
			ReqHeaders: []string{"Content-Type", "Host", "X-Forwarded-For"}, ReqBody: hexOf(`{"code":"SAVE0001"}`), ReqSize: 19,
			Status: 404, RespBody: hexOf(`{"error":"unknown coupon"}`), RespSize: 26,
		},
		{
			Sensor: "jsonl", Method: "PUT", URL: "http://10.0.0.1:8080/upload", Time: "2026-11-28T09:00:02.5Z",
			ReqBody: "ff00fe01/4", ReqSize: 4096, ReqTrunc: true,
		},
	}
	var out []summary
	for i, line := range lines {
		s := all[i]
		s.ID = fmt.Sprintf("f#%d", line)
		out = append(out, s)
	}
	return out
}

func TestSource(t *testing.T) {
	png := "89504e470d0a1a0a0000000d49484452/19"
	tests := []struct {
		name       string
		file       string
		opts       Options
		format     string
		want       []summary
		errRecords []int
	}{
		{
			name: "chrome har", file: "chrome.har", format: FormatHAR,
			want: []summary{
				{
					ID: "f#0", Sensor: "har", Method: "POST", URL: "https://shop.test/api/v2/auth/login", Proto: "HTTP/2.0",
					Time: "2026-11-28T10:00:00.125Z", Duration: 12500 * time.Microsecond,
					ReqHeaders: []string{"Accept", "Content-Type", "User-Agent", "X-Forwarded-For"},
					ReqBody:    hexOf(`{"email":"user7@shop.test","password":"Passw0rd!7"}`), ReqSize: 51,
					Status: 200, RespBody: hexOf(`{"token":"` + jwtToken[:29] + `"}`), RespSize: 41, // declared 40, holds 41
				},
				{
					ID: "f#1", Sensor: "har", Method: "GET", URL: "https://shop.test/static/logo.png", Proto: "HTTP/2.0",
					Time: "2026-11-28T10:00:00.3Z", Duration: 3250 * time.Microsecond,
					ReqHeaders: []string{"Accept", "User-Agent"}, ReqBody: "/0",
					Status: 200, RespBody: png, RespSize: 19,
				},
				{
					ID: "f#2", Sensor: "har", Method: "GET", URL: "https://tracker.example/collect?id=42",
					Time: "2026-11-28T10:00:00.4Z", ReqHeaders: []string{"Accept"}, ReqBody: "/0",
				},
				{
					ID: "f#3", Sensor: "har", Method: "GET", URL: "https://shop.test/api/v2/orders/1001", Proto: "HTTP/2.0",
					Time: "2026-11-28T10:00:01Z", Duration: 20 * time.Millisecond,
					ReqHeaders: []string{"Accept", "Authorization"}, ReqBody: "/0",
					Status: 200, RespBody: hexOf(`{"id":1001,"items":[{"sku":0},`)[:32] + "/65536", RespSize: 100000, RespTrunc: true,
				},
			},
		},
		{
			name: "firefox har", file: "firefox.har", format: FormatHAR,
			want: []summary{
				{
					ID: "f#0", Sensor: "har", Method: "GET", URL: "https://shop.test/api/v2/products?limit=2", Proto: "HTTP/2.0",
					Time: "2026-11-28T10:00:00.5Z", Duration: 9 * time.Millisecond,
					ReqHeaders: []string{"Accept", "Accept-Encoding", "Accept-Language", "Cookie", "Host", "User-Agent"},
					ReqBody:    "/0", Status: 200, RespBody: hexOf(`[{"id":1,"name":"Mug"},{"id":2}]   `), RespSize: 35,
				},
				{
					ID: "f#1", Sensor: "har", Method: "PATCH", URL: "https://shop.test/api/v2/users/me", Proto: "HTTP/2.0",
					Time: "2026-11-28T10:00:01Z", ReqHeaders: []string{"Authorization", "Content-Type", "Host"},
					ReqBody: hexOf(`{"role":"admin","n":1}`), ReqSize: 22,
				},
			},
		},
		{
			name: "mitmproxy har", file: "mitmproxy.har", format: FormatHAR,
			want: []summary{
				{
					ID: "f#0", Sensor: "har", Method: "POST", URL: "http://shop.test:8080/api/v2/imports", Proto: "HTTP/1.1",
					Time: "2026-11-28T09:30:00.123456Z", Duration: 41700 * time.Microsecond,
					ReqHeaders: []string{"Accept", "Accept-Encoding", "Connection", "Content-Length", "Content-Type", "Host", "User-Agent", "X-Api-Key"},
					ReqBody:    hexOf(`{"url":"http://169.254.169.254/latest/meta-data/"}  `), ReqSize: 52,
					Status: 201, RespBody: hexOf(`{"status":"ok"}`), RespSize: 15,
				},
				{
					ID: "f#1", Sensor: "har", Method: "GET", URL: "http://shop.test:8080/pixel.gif", Proto: "HTTP/1.1",
					Time: "2026-11-28T09:30:01Z", Duration: 5 * time.Millisecond,
					ReqHeaders: []string{"Accept", "Host", "User-Agent"}, ReqBody: "/0",
					Status: 200, RespBody: "47494638396101000100800000ffffff/23", RespSize: 23,
				},
				{
					ID: "f#2", Sensor: "har", Method: "GET", URL: "http://shop.test:8080/api/v2/admin/stats", Proto: "HTTP/1.1",
					Time: "2026-11-28T09:30:02Z", ReqHeaders: []string{"Host", "User-Agent"}, ReqBody: "/0",
				},
			},
		},
		{name: "jsonl", file: "good.jsonl", format: FormatJSONL, want: goodJSONL(1, 2, 3)},
		{name: "jsonl crlf", file: "crlf.jsonl", format: FormatJSONL, want: goodJSONL(1, 2, 3)},
		{name: "jsonl bom", file: "bom.jsonl", format: FormatJSONL, want: goodJSONL(1, 2, 3)},
		{name: "jsonl empty lines, no final newline", file: "empty_lines.jsonl", format: FormatJSONL, want: goodJSONL(2, 5, 7)},
		{
			name: "jsonl bad lines", file: "bad_lines.jsonl", format: FormatJSONL,
			want: goodJSONL(1, 3, 6), errRecords: []int{2, 4, 5, 7},
		},
		{
			name: "jsonl small capture", file: "good.jsonl", format: FormatJSONL, opts: Options{CaptureBytes: 4},
			want: func() []summary {
				w := goodJSONL(1, 2, 3)
				w[0].RespBody, w[0].RespTrunc = hexOf(`{"id`), true
				w[1].ReqBody, w[1].ReqTrunc = hexOf(`{"co`), true
				w[1].RespBody, w[1].RespTrunc = hexOf(`{"er`), true
				return w
			}(),
		},
		{
			name: "jsonl line cap", file: "good.jsonl", format: FormatJSONL, opts: Options{MaxRecordBytes: 300},
			want: goodJSONL(1, 2, 3)[2:], errRecords: []int{1, 2},
		},
	}
	for _, tt := range tests {
		for _, gz := range []bool{false, true} {
			name := tt.name
			if gz {
				name += " gzip"
			}
			t.Run(name, func(t *testing.T) {
				path := filepath.Join("testdata", tt.file)
				if gz {
					path = gzipFile(t, path)
				}
				opts := tt.opts
				opts.Name = "f"
				s, err := Open(path, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if s.Format() != tt.format {
					t.Errorf("Format() = %q, want %q", s.Format(), tt.format)
				}
				xs, errRecords := readAll(t, s)
				var got []summary
				for _, x := range xs {
					got = append(got, summarize(x))
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("exchanges (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.errRecords, errRecords); diff != "" {
					t.Errorf("record errors (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func gzipFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	out := filepath.Join(t.TempDir(), filepath.Base(path)+".gz")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, path string
		code, want string
	}{
		{"missing file", "testdata/nope.jsonl", vigil.ENOTFOUND, "nope.jsonl"},
		{"not traffic", "testdata/not_traffic.txt", vigil.EINVALID, `testdata/not_traffic.txt: neither a HAR file nor Vigil JSON lines (it starts with "GET /api/v2/orde")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.path, Options{})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if got := vigil.ErrorCode(err); got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestNewSourceSniff(t *testing.T) {
	line := `{"request":{"method":"GET","url":"http://h/"}}`
	tests := []struct {
		name, in, format string
		wantErr          string
		n                int // exchanges read
		errRecords       []int
	}{
		{name: "empty", in: "", format: FormatJSONL},
		{name: "only spaces", in: " \n\t\n", format: FormatJSONL},
		{name: "one line no newline", in: line, format: FormatJSONL, n: 1},
		{name: "har log not first", in: `{"comment":"x","log":{"version":"1.2","entries":[]}}`, format: FormatHAR},
		{name: "pretty har log not first", in: "{\n \"comment\": \"x\",\n \"log\": {\"entries\": [{\"request\":{\"method\":\"GET\",\"url\":\"http://h/\"},\"response\":{\"status\":204}}]}\n}", format: FormatHAR, n: 1},
		{name: "har without entries", in: `{"log":{"version":"1.2"}}`, wantErr: `not a usable HAR file: log: no "entries"`},
		{name: "har entries not array", in: `{"log":{"entries":{}}}`, wantErr: "log.entries is not an array"},
		{name: "json array", in: `[{"log":{}}]`, wantErr: "neither a HAR file nor Vigil JSON lines"},
		{name: "binary", in: "\x00\x01\x02", wantErr: "neither a HAR file nor Vigil JSON lines"},
		{name: "broken gzip", in: "\x1f\x8b\x00", wantErr: "broken gzip header"},
		{
			name: "har cut after an entry", format: FormatHAR, n: 1, errRecords: []int{1},
			in: `{"log":{"entries":[{"request":{"method":"GET","url":"http://h/"},"response":{"status":200}},`,
		},
		{
			name: "har cut inside an entry", format: FormatHAR, n: 1, errRecords: []int{1},
			in: `{"log":{"entries":[{"request":{"method":"GET","url":"http://h/"},"response":{"status":200}},{"request":{"meth`,
		},
		{
			name: "har type error then more", format: FormatHAR, n: 2, errRecords: []int{1, 2},
			in: `{"log":{"entries":[{"request":{"method":"GET","url":"http://h/a"}},{"request":{"method":7}},` +
				`{"request":{"method":"GET","url":"http://h/b"},"response":{"status":42}},{"request":{"method":"GET","url":"/c","headers":[{"name":"Host","value":"h"}]}}]}}`,
		},
		{
			name: "har syntax error ends the file", format: FormatHAR, n: 1, errRecords: []int{1},
			in: `{"log":{"entries":[{"request":{"method":"GET","url":"http://h/a"}},{"request":}, {"request":{"method":"GET","url":"http://h/b"}}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSource(strings.NewReader(tt.in), Options{Name: "f"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if vigil.ErrorCode(err) != vigil.EINVALID {
					t.Errorf("code = %q, want %q", vigil.ErrorCode(err), vigil.EINVALID)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Format() != tt.format {
				t.Errorf("Format() = %q, want %q", s.Format(), tt.format)
			}
			xs, errRecords := readAll(t, s)
			if len(xs) != tt.n {
				t.Errorf("read %d exchanges, want %d", len(xs), tt.n)
			}
			if diff := cmp.Diff(tt.errRecords, errRecords); diff != "" {
				t.Errorf("record errors (-want +got):\n%s", diff)
			}
			// After io.EOF, Next keeps returning io.EOF.
			if _, err := s.Next(); err != io.EOF {
				t.Errorf("Next after the end = %v, want io.EOF", err)
			}
		})
	}
}

func TestRecordErrorText(t *testing.T) {
	s, err := Open("testdata/bad_lines.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Next()
	_, err = s.Next()
	want := "testdata/bad_lines.jsonl#2: request.url is missing"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestHugeLine(t *testing.T) {
	// A line over the default cap (32 MiB) is skipped while draining; the
	// lines around it are read.
	good := `{"request":{"method":"GET","url":"http://h/"}}` + "\n"
	huge := `{"request":{"method":"GET","url":"http://h/","body":"` + strings.Repeat("a", DefaultMaxRecordBytes) + `"}}` + "\n"
	r := io.MultiReader(strings.NewReader(good), strings.NewReader(huge), strings.NewReader(good))
	s, err := NewSource(r, Options{Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	xs, errRecords := readAll(t, s)
	var ids []string
	for _, x := range xs {
		ids = append(ids, x.ID)
	}
	if diff := cmp.Diff([]string{"f#1", "f#3"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2}, errRecords); diff != "" {
		t.Errorf("record errors (-want +got):\n%s", diff)
	}
}

func TestStdin(t *testing.T) {
	b, err := os.ReadFile("testdata/good.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		pw.Write(b)
		pw.Close()
	}()
	old := os.Stdin
	os.Stdin = pr
	defer func() { os.Stdin = old; pr.Close() }()

	s, err := Open("-", Options{})
	if err != nil {
		t.Fatal(err)
	}
	xs, errRecords := readAll(t, s)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	var ids []string
	for _, x := range xs {
		ids = append(ids, x.ID)
	}
	if diff := cmp.Diff([]string{"stdin#1", "stdin#2", "stdin#3"}, ids); diff != "" || errRecords != nil {
		t.Errorf("ids (-want +got):\n%s\nerrors at %v", diff, errRecords)
	}
}

func TestCapBody(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		size      int64
		limit     int64
		wantBody  string
		wantSize  int64
		wantTrunc bool
	}{
		{"under", "abc", 3, 4, "abc", 3, false},
		{"at", "abcd", 4, 4, "abcd", 4, false},
		{"over", "abcdef", 6, 4, "abcd", 6, true},
		{"over, size unknown", "abcdef", -1, 4, "abcd", -1, true},
		{"over, size understated", "abcdef", 2, 4, "abcd", 6, true},
		{"no capture", "abc", 3, 0, "", 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, size, trunc := []byte(tt.body), tt.size, false
			capBody(&body, &size, &trunc, tt.limit)
			if string(body) != tt.wantBody || size != tt.wantSize || trunc != tt.wantTrunc || body == nil {
				t.Errorf("got %q %d %v, want %q %d %v", body, size, trunc, tt.wantBody, tt.wantSize, tt.wantTrunc)
			}
		})
	}
}

// heapAfterGC returns the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestStreamingMemory feeds large generated inputs through an io.Pipe and
// checks that the live heap does not grow with the input.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	line := []byte(benchLine(t))
	tests := []struct {
		name    string
		n       int
		write   func(w io.Writer, n int)
		minRead int
	}{
		{
			name: "jsonl 200k lines", n: 200_000,
			write: func(w io.Writer, n int) {
				for range n {
					w.Write(line)
					w.Write([]byte{'\n'})
				}
			},
		},
		{
			name: "har 50k entries", n: 50_000,
			write: func(w io.Writer, n int) { writeHAR(w, n) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			go func() {
				tt.write(pw, tt.n)
				pw.Close()
			}()
			defer pr.Close()
			s, err := NewSource(pr, Options{Name: "big"})
			if err != nil {
				t.Fatal(err)
			}
			var base, peak uint64
			for i := 0; ; i++ {
				x, err := s.Next()
				if err == io.EOF {
					if i != tt.n {
						t.Errorf("read %d, want %d", i, tt.n)
					}
					break
				}
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				_ = x
				switch {
				case i == tt.n/10:
					base = heapAfterGC()
				case i > tt.n/10 && i%(tt.n/5) == 0:
					peak = max(peak, heapAfterGC())
				}
			}
			if peak > base+4<<20 {
				t.Errorf("live heap grew from %d to %d bytes while streaming", base, peak)
			}
			t.Logf("live heap %d KiB after 10%%, at most %d KiB later", base>>10, peak>>10)
		})
	}
}

// writeHAR writes a HAR with n entries, each with a base64 response body.
func writeHAR(w io.Writer, n int) {
	io.WriteString(w, `{"log":{"version":"1.2","creator":{"name":"gen","version":"1"},"pages":[],"entries":[`)
	for i := range n {
		if i > 0 {
			io.WriteString(w, ",")
		}
		fmt.Fprintf(w, `{"startedDateTime":"2026-11-28T10:00:00.%03dZ","time":1.5,"request":{"method":"GET",`+
			`"url":"https://shop.test/api/v2/orders/%d","httpVersion":"HTTP/1.1","headers":[{"name":"Accept","value":"application/json"},`+
			`{"name":"User-Agent","value":"curl/8.5.0"}],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},`+
			`"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[{"name":"Content-Type","value":"application/json"}],`+
			`"cookies":[],"content":{"size":45,"mimeType":"application/json","encoding":"base64","text":"eyJpZCI6MTAwMSwidG90YWwiOiI1OS45MCIsIml0ZW1zIjpbMSwyLDNdfQ=="},`+
			`"redirectURL":"","headersSize":-1,"bodySize":45},"cache":{},"timings":{"send":0,"wait":1,"receive":0.5}}`, i%1000, 1000+i)
	}
	io.WriteString(w, "]}}")
}

func TestTruncatedGzip(t *testing.T) {
	b, err := os.ReadFile("testdata/good.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	cut := buf.Bytes()[:buf.Len()-30] // loses the end of the stream
	s, err := NewSource(bytes.NewReader(cut), Options{Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	xs, errRecords := readAll(t, s)
	if len(xs) == 0 || len(xs) > 2 {
		t.Errorf("read %d exchanges before the cut, want 1 or 2", len(xs))
	}
	if diff := cmp.Diff([]int{len(xs) + 1}, errRecords); diff != "" {
		t.Errorf("record errors (-want +got):\n%s", diff)
	}
}

func TestHAREntryCap(t *testing.T) {
	entry := func(body string) string {
		return `{"request":{"method":"GET","url":"http://h/"},"response":{"status":200,"content":{"text":"` + body + `"}}}`
	}
	in := `{"log":{"entries":[` + entry("small") + "," + entry(strings.Repeat("x", 100_000)) + "," + entry("after") + `]}}`
	s, err := NewSource(strings.NewReader(in), Options{Name: "f", MaxRecordBytes: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.Next()
	if err != nil || x.ID != "f#0" {
		t.Fatalf("first entry: %v, %v", x, err)
	}
	_, err = s.Next()
	re, ok := errors.AsType[*RecordError](err)
	if !ok || re.Record != 1 || !strings.Contains(err.Error(), "entry larger than 10000 bytes") {
		t.Fatalf("second entry: error %v, want a RecordError for entry 1 naming the cap", err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("after an oversized entry: %v, want io.EOF", err)
	}
}

func TestOpenDirectory(t *testing.T) {
	_, err := Open(t.TempDir(), Options{})
	if err == nil || vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("Open(dir) = %v, want an EINVALID error", err)
	}
}

func TestReadAll(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	line := `{"time":"2026-01-02T03:04:05Z","request":{"method":"GET","url":"http://h/a"},"response":{"status":200}}`
	if err := os.WriteFile(good, []byte(line+"\n"+line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	xs, err := ReadAll(good, Options{})
	if err != nil || len(xs) != 2 || xs[1].Request.Method != "GET" || xs[0].ID == xs[1].ID {
		t.Fatalf("ReadAll: %d exchanges, %v", len(xs), err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(line+"\n{not json\n"+line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var re *RecordError
	if xs, err := ReadAll(bad, Options{}); !errors.As(err, &re) || re.Record != 2 || xs != nil {
		t.Errorf("a bad record: %d exchanges, %v; want a RecordError for record 2", len(xs), err)
	}
	if _, err := ReadAll(filepath.Join(dir, "missing.jsonl"), Options{}); err == nil {
		t.Error("a missing file read without error")
	}
}
