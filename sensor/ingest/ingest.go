// Package ingest reads recorded API traffic: HAR 1.2 files (browser DevTools
// and mitmproxy exports) and Vigil's JSON-lines traffic format (one
// vigil.Exchange per line, see docs/traffic-format.md).
//
// A Source streams: memory stays at the size of one record however large the
// file is. The format is chosen by content, not by file name, and gzip is
// recognised by its magic bytes. A malformed record is reported as a
// *RecordError and the next call to Next carries on with the next record.
package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/vigilsec/vigil"
)

// Formats a Source can read.
const (
	FormatHAR   = "har"
	FormatJSONL = "jsonl"
)

// Caps on input, each with its reason.
const (
	// DefaultCaptureBytes is the body capture cap, the proxy's default: more is
	// rarely needed to judge an API call and it bounds memory per exchange.
	DefaultCaptureBytes = 64 << 10
	// DefaultMaxRecordBytes bounds one JSON line or one HAR entry as read from
	// the file. A longer JSON line is skipped as a RecordError; a longer HAR
	// entry ends the file (a HAR entry cannot be skipped without parsing it).
	// HAR entries carry whole base64 bodies, so a HAR gets four times as much.
	DefaultMaxRecordBytes = 32 << 20

	readBufferSize = 64 << 10
	sniffLimit     = 64 << 10
)

// Options configure a Source.
type Options struct {
	// CaptureBytes caps each body kept; 0 means DefaultCaptureBytes, a
	// negative value keeps no body at all. Bodies cut short get Truncated set.
	CaptureBytes int64
	// Name prefixes exchange ids ("<Name>#<record>"); default the path
	// ("stdin" for "-").
	Name string
	// MaxRecordBytes caps one JSON line (0 = DefaultMaxRecordBytes) or one HAR
	// entry (0 = 4 × DefaultMaxRecordBytes).
	MaxRecordBytes int64
}

// RecordError reports one record that could not be read. Record is the JSON
// line number counted from 1, or the HAR entry index counted from 0; it is the
// number in the id the record would have had.
type RecordError struct {
	File   string
	Record int
	Err    error
}

func (e *RecordError) Error() string {
	return e.File + "#" + strconv.Itoa(e.Record) + ": " + e.Err.Error()
}

func (e *RecordError) Unwrap() error { return e.Err }

// Source reads exchanges from one file or stream. It is not safe for
// concurrent use.
type Source struct {
	name    string // id prefix
	file    string // for errors
	format  string
	capture int64
	closers []io.Closer

	jsonl *jsonlReader
	har   *harReader
}

// Open opens a traffic file; "-" reads standard input. The format (HAR or
// JSON lines) is chosen from the content and gzip is undone when the file
// starts with gzip's magic bytes. A file that is neither format is an error
// naming the file.
func Open(path string, opts Options) (*Source, error) {
	file := path
	var (
		r      io.Reader
		closer io.Closer
	)
	if path == "-" {
		file = "stdin"
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			code := vigil.EINVALID
			if errors.Is(err, fs.ErrNotExist) {
				code = vigil.ENOTFOUND
			}
			return nil, vigil.Errorf(code, "%v", err)
		}
		r, closer = f, f
	}
	if opts.Name == "" {
		opts.Name = file
	}
	s, err := newSource(r, file, opts)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	if closer != nil {
		s.closers = append(s.closers, closer)
	}
	return s, nil
}

// NewSource reads exchanges from r, sniffing the format like Open. Close does
// not close r.
func NewSource(r io.Reader, opts Options) (*Source, error) {
	file := opts.Name
	if file == "" {
		file = "input"
		opts.Name = file
	}
	return newSource(r, file, opts)
}

func newSource(r io.Reader, file string, opts Options) (*Source, error) {
	s := &Source{name: opts.Name, file: file, capture: opts.CaptureBytes}
	if s.capture == 0 {
		s.capture = DefaultCaptureBytes
	}
	if s.capture < 0 {
		s.capture = 0
	}
	br := bufio.NewReaderSize(r, readBufferSize)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "%s: broken gzip header: %v", file, err)
		}
		s.closers = append(s.closers, gz)
		br = bufio.NewReaderSize(gz, readBufferSize)
	}
	format, err := sniff(br)
	if err != nil {
		s.Close()
		return nil, vigil.Errorf(vigil.EINVALID, "%s: %v", file, err)
	}
	s.format = format
	switch format {
	case FormatHAR:
		limit := opts.MaxRecordBytes
		if limit <= 0 {
			limit = 4 * DefaultMaxRecordBytes
		}
		h, err := newHARReader(br, limit)
		if err != nil {
			s.Close()
			return nil, vigil.Errorf(vigil.EINVALID, "%s: %v", file, err)
		}
		s.har = h
	default:
		limit := opts.MaxRecordBytes
		if limit <= 0 {
			limit = DefaultMaxRecordBytes
		}
		s.jsonl = &jsonlReader{br: br, max: int(min(limit, 1<<30))}
	}
	return s, nil
}

// Format is FormatHAR or FormatJSONL.
func (s *Source) Format() string { return s.format }

// Next returns the next exchange, io.EOF at the end, or a *RecordError for a
// record that could not be read; call Next again to carry on. ID, Sensor and
// the capture cap are set. Actor is what the record carries (Vigil's own
// captures carry the actor their sensor resolved; HAR files never do) and
// is otherwise left for the caller to resolve.
func (s *Source) Next() (*vigil.Exchange, error) {
	var (
		x      *vigil.Exchange
		record int
		err    error
	)
	if s.har != nil {
		x, record, err = s.har.next()
	} else {
		x, record, err = s.jsonl.next()
	}
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, &RecordError{File: s.file, Record: record, Err: err}
	}
	x.ID = s.name + "#" + strconv.Itoa(record)
	x.Sensor = vigil.SensorJSONL
	if s.har != nil {
		x.Sensor = vigil.SensorHAR
	}
	capBody(&x.Request.Body, &x.Request.BodySize, &x.Request.Truncated, s.capture)
	if r := x.Response; r != nil {
		capBody(&r.Body, &r.BodySize, &r.Truncated, s.capture)
	}
	return x, nil
}

// Close releases the file (not standard input or a reader given to
// NewSource).
func (s *Source) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

// capBody keeps at most limit bytes of a body, the way the proxy captures:
// Truncated is set and BodySize keeps the full size. The kept prefix is copied
// so that a large decoded body can be collected.
func capBody(body *[]byte, size *int64, truncated *bool, limit int64) {
	n := int64(len(*body))
	if n <= limit {
		return
	}
	*body = bytes.Clone((*body)[:limit])
	if *body == nil {
		*body = []byte{}
	}
	*truncated = true
	if *size >= 0 && *size < n {
		*size = n
	}
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// sniff decides the format from the first bytes and discards a UTF-8 BOM. It
// peeks only as far as it needs, so a slow stream on stdin is not held up.
//
// A HAR is a JSON object whose first key is "log", or whose first line is not
// a complete JSON object (a pretty-printed document) and that mentions "log",
// or whose single line has a top-level "log" object. Anything else starting
// with '{' is JSON lines (at once when the first key is one of an exchange's);
// an empty input is JSON lines with no records.
func sniff(br *bufio.Reader) (string, error) {
	for n := 512; ; n *= 2 {
		n = min(n, sniffLimit)
		b, err := br.Peek(n)
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read: %w", err)
		}
		final := err != nil || n == sniffLimit
		if bytes.HasPrefix(b, utf8BOM) {
			b = b[len(utf8BOM):]
		}
		format, ok, ferr := classify(b, final)
		if ferr != nil {
			return "", ferr
		}
		if ok {
			if p, _ := br.Peek(3); bytes.Equal(p, utf8BOM) {
				br.Discard(3)
			}
			return format, nil
		}
		if final {
			return FormatJSONL, nil
		}
	}
}

func classify(b []byte, final bool) (format string, ok bool, err error) {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 {
		return FormatJSONL, final, nil
	}
	if t[0] != '{' {
		return "", false, fmt.Errorf("neither a HAR file nor Vigil JSON lines (it starts with %q)", prefix(t, 16))
	}
	rest := bytes.TrimLeft(t[1:], " \t\r\n")
	if len(rest) == 0 {
		return "", false, nil
	}
	if rest[0] == '"' {
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			if !final {
				return "", false, nil
			}
		} else {
			switch string(rest[1 : 1+end]) {
			case "log":
				return FormatHAR, true, nil
			case "id", "time", "sensor", "client", "request", "response", "duration_ms":
				return FormatJSONL, true, nil
			}
		}
	}
	nl := bytes.IndexByte(t, '\n')
	if nl < 0 && !final {
		return "", false, nil
	}
	line := t
	if nl >= 0 {
		line = t[:nl]
	}
	if validObject(line) {
		if hasLogObject(line) {
			return FormatHAR, true, nil
		}
		return FormatJSONL, true, nil
	}
	if bytes.Contains(t, []byte(`"log"`)) {
		return FormatHAR, true, nil
	}
	return FormatJSONL, true, nil
}

func prefix(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// ReadAll reads a whole traffic file with Open and returns its exchanges.
// A record that cannot be read is an error: ReadAll is for fixtures and
// tools that want every exchange of a known-good file in memory, not for
// hostile or unbounded input (use Next, which skips bad records and holds
// one exchange at a time).
func ReadAll(path string, opts Options) ([]*vigil.Exchange, error) {
	src, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var xs []*vigil.Exchange
	for {
		x, err := src.Next()
		if errors.Is(err, io.EOF) {
			return xs, nil
		}
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
}
