package ingest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/vigilsec/vigil"
)

// The parts of a HAR 1.2 entry Vigil reads. Everything else (pages, timings,
// cache, cookies lists, queryString, postData.params, Chrome's and Firefox's
// "_" extensions) is ignored: headers, the URL and the body carry it already.
type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
}

type harRequest struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Headers     []harHeader `json:"headers"`
	PostData    *struct {
		Text     string `json:"text"`
		Encoding string `json:"encoding"` // not in HAR 1.2, written by some tools
	} `json:"postData"`
	BodySize *int64 `json:"bodySize"`
}

type harResponse struct {
	Status      int         `json:"status"`
	HTTPVersion string      `json:"httpVersion"`
	Headers     []harHeader `json:"headers"`
	Content     struct {
		Size     *int64 `json:"size"`
		Text     string `json:"text"`
		Encoding string `json:"encoding"`
	} `json:"content"`
}

type harHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// harReader streams log.entries one entry at a time with encoding/json's
// token API: memory holds one entry, never the document.
type harReader struct {
	lim   *budgetReader
	dec   *json.Decoder
	index int
	done  bool
}

// budgetReader fails reads once more than budget bytes have been read since
// the last reset: it bounds the memory one HAR entry can take.
type budgetReader struct {
	r      io.Reader
	budget int64
	left   int64
}

var errEntryTooLarge = errors.New("HAR entry too large")

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errEntryTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *budgetReader) reset() { b.left = b.budget }

func newHARReader(br *bufio.Reader, limit int64) (*harReader, error) {
	lim := &budgetReader{r: br, budget: limit}
	lim.reset()
	h := &harReader{lim: lim, dec: json.NewDecoder(lim)}
	if err := h.seekEntries(); err != nil {
		return nil, fmt.Errorf("not a usable HAR file: %w", err)
	}
	return h, nil
}

// seekEntries moves the decoder into the log.entries array, skipping any
// other keys (pages, creator, comments) token by token.
func (h *harReader) seekEntries() error {
	if err := h.enterObject(); err != nil {
		return err
	}
	if err := h.seekKey("log"); err != nil {
		return err
	}
	if err := h.enterObject(); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	if err := h.seekKey("entries"); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	t, err := h.dec.Token()
	if err != nil {
		return fmt.Errorf("log.entries: %w", err)
	}
	if t != json.Delim('[') {
		return fmt.Errorf("log.entries is not an array")
	}
	return nil
}

func (h *harReader) enterObject() error {
	t, err := h.dec.Token()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return fmt.Errorf("want an object, got %v", t)
	}
	return nil
}

func (h *harReader) seekKey(name string) error {
	for {
		h.lim.reset()
		t, err := h.dec.Token()
		if err != nil {
			return err
		}
		if t == json.Delim('}') {
			return fmt.Errorf("no %q", name)
		}
		if t == name {
			return nil
		}
		if err := h.skipValue(); err != nil {
			return err
		}
	}
}

// skipValue skips one value token by token, so a huge "pages" array costs no
// memory.
func (h *harReader) skipValue() error {
	depth := 0
	for {
		h.lim.reset()
		t, err := h.dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func (h *harReader) next() (*vigil.Exchange, int, error) {
	for !h.done {
		h.lim.reset()
		i := h.index
		if !h.dec.More() {
			h.done = true
			// Expect the closing ']'; anything else (such as the end of a
			// file cut between two entries) is reported once.
			if t, err := h.dec.Token(); err != nil || t != json.Delim(']') {
				h.dec = nil
				return nil, i, fmt.Errorf("HAR ends inside log.entries (truncated file?)")
			}
			h.dec = nil
			break
		}
		h.index++
		var e harEntry
		if err := h.dec.Decode(&e); err != nil {
			if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
				// The decoder is past the entry; carry on with the next one.
				return nil, i, err
			}
			// A syntax error, a cut file or an oversized entry: the stream
			// cannot be resynchronised.
			h.done = true
			h.dec = nil
			switch {
			case errors.Is(err, errEntryTooLarge):
				err = fmt.Errorf("entry larger than %d bytes; the rest of the file is skipped", h.lim.budget)
			case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
				err = fmt.Errorf("HAR ends inside an entry (truncated file?): %w", io.ErrUnexpectedEOF)
			}
			return nil, i, err
		}
		x, err := e.exchange()
		if err != nil {
			return nil, i, err
		}
		return x, i, nil
	}
	return nil, h.index, io.EOF
}

var harTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700", // offset without a colon
	"2006-01-02T15:04:05.999999999",      // no zone: UTC
}

func parseHARTime(s string) (time.Time, error) {
	var err error
	for _, layout := range harTimeLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("startedDateTime %q: not an ISO 8601 time", s)
}

func (e *harEntry) exchange() (*vigil.Exchange, error) {
	if e.Request.Method == "" {
		return nil, errors.New("request.method is missing")
	}
	if e.Request.URL == "" {
		return nil, errors.New("request.url is missing")
	}
	u, err := url.Parse(e.Request.URL)
	if err != nil {
		return nil, fmt.Errorf("request.url: %w", err)
	}
	x := &vigil.Exchange{}
	if e.StartedDateTime != "" {
		if x.Time, err = parseHARTime(e.StartedDateTime); err != nil {
			return nil, err
		}
	}
	if e.Time > 0 {
		x.Duration = time.Duration(e.Time * float64(time.Millisecond))
	}
	req := &x.Request
	req.Method = e.Request.Method
	req.URL = u
	req.Proto = harProto(e.Request.HTTPVersion)
	req.Header = harHeaders(e.Request.Headers)
	req.Body = []byte{}
	if pd := e.Request.PostData; pd != nil {
		if req.Body, err = harBody(pd.Text, pd.Encoding); err != nil {
			return nil, fmt.Errorf("request.postData: %w", err)
		}
	}
	req.BodySize = bodySize(e.Request.BodySize, len(req.Body))
	req.Truncated = req.BodySize > int64(len(req.Body))
	if u.Host == "" {
		if host := req.Header.Get("Host"); host != "" {
			u.Host = host
			if u.Scheme == "" {
				u.Scheme = "http"
			}
		}
	}
	if e.Response.Status == 0 {
		return x, nil // no response (blocked, failed, aborted)
	}
	if e.Response.Status < 100 || e.Response.Status > 999 {
		return nil, fmt.Errorf("response.status %d is not an HTTP status", e.Response.Status)
	}
	r := &vigil.Response{
		Status: e.Response.Status,
		Proto:  harProto(e.Response.HTTPVersion),
		Header: harHeaders(e.Response.Headers),
	}
	c := &e.Response.Content
	if r.Body, err = harBody(c.Text, c.Encoding); err != nil {
		return nil, fmt.Errorf("response.content: %w", err)
	}
	r.BodySize = bodySize(c.Size, len(r.Body))
	r.Truncated = r.BodySize > int64(len(r.Body))
	x.Response = r
	return x, nil
}

// bodySize is the declared size when it is known and at least what is held.
// HAR writes -1 for unknown and 0 for cached responses.
func bodySize(declared *int64, held int) int64 {
	if declared != nil && *declared > int64(held) {
		return *declared
	}
	return int64(held)
}

func harBody(text, encoding string) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "":
		return []byte(text), nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			// Some tools write unpadded or URL-safe base64.
			if b2, err2 := base64.RawStdEncoding.DecodeString(strings.TrimRight(text, "=")); err2 == nil {
				return b2, nil
			}
			return nil, fmt.Errorf("invalid base64: %w", err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("encoding %q: want base64 or none", encoding)
	}
}

// harHeaders builds canonical headers, dropping HTTP/2 pseudo-headers
// (":authority", ":path", ...) that Chrome lists among the headers.
func harHeaders(hs []harHeader) http.Header {
	h := make(http.Header, len(hs))
	for _, nv := range hs {
		if nv.Name == "" || nv.Name[0] == ':' {
			continue
		}
		name := textproto.CanonicalMIMEHeaderKey(nv.Name)
		h[name] = append(h[name], nv.Value)
	}
	return h
}

// harProto normalises the httpVersion spellings of the exporters ("http/2.0",
// "HTTP/2", "h2", "h3") to Go's ("HTTP/2.0").
func harProto(v string) string {
	switch strings.ToLower(v) {
	case "":
		return ""
	case "h2", "http/2", "http/2.0":
		return "HTTP/2.0"
	case "h3", "http/3", "http/3.0":
		return "HTTP/3.0"
	case "http/1.1":
		return "HTTP/1.1"
	case "http/1.0":
		return "HTTP/1.0"
	}
	return v
}

// validObject says whether b is exactly one JSON object.
func validObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// hasLogObject says whether the JSON object b has a top-level "log" object.
func hasLogObject(b []byte) bool {
	if !bytes.Contains(b, []byte(`"log"`)) {
		return false
	}
	var top struct {
		Log json.RawMessage `json:"log"`
	}
	if json.Unmarshal(b, &top) != nil {
		return false
	}
	return len(top.Log) > 0 && top.Log[0] == '{'
}
