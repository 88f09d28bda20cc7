package simulate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"
)

// TruthLine is one request the simulator sent, labelled with who sent it and
// why. The truth file holds one JSON object per line.
type TruthLine struct {
	Seq       int64     `json:"seq"`  // 1, 2, ... in file order
	Time      time.Time `json:"time"` // when the request was sent
	Campaign  string    `json:"campaign"`
	Actor     string    `json:"actor"`           // simulated actor id
	Addr      string    `json:"addr"`            // the X-Forwarded-For sent
	Principal string    `json:"principal"`       // "jwt:<sub>", "apikey:<digest>" or ""
	UserAgent string    `json:"user_agent"`      //
	Step      string    `json:"step"`            // the script step
	Method    string    `json:"method"`          //
	Path      string    `json:"path"`            // without the query
	Query     string    `json:"query,omitempty"` // raw query, if any
	Template  string    `json:"template"`        // the endpoint the step aims at
	Status    int       `json:"status"`          // 0 when no response came back
	Blocked   bool      `json:"blocked"`         // the response carried X-Vigil-Action
	LatencyMS float64   `json:"latency_ms"`      //
	Error     string    `json:"error,omitempty"` // transport error, when status is 0
}

// truthWriter serialises truth lines from many actors; seq follows file
// order. A nil writer discards.
type truthWriter struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	seq int64
	err error
}

func newTruthWriter(w io.Writer) *truthWriter {
	t := &truthWriter{}
	if w != nil {
		t.bw = bufio.NewWriterSize(w, 64<<10)
	}
	return t
}

// write appends one line. It returns an error only on the first failure;
// later lines are dropped silently and flush reports the failure again.
func (t *truthWriter) write(l TruthLine) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	if t.bw == nil || t.err != nil {
		return nil
	}
	l.Seq = t.seq
	b, err := json.Marshal(l)
	if err != nil {
		t.err = fmt.Errorf("marshal truth line %d: %w", l.Seq, err)
		return t.err
	}
	b = append(b, '\n')
	if _, err := t.bw.Write(b); err != nil {
		t.err = err
	}
	return t.err
}

func (t *truthWriter) flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bw == nil {
		return t.err
	}
	if t.err != nil {
		return t.err
	}
	t.err = t.bw.Flush()
	return t.err
}

// MaxTruthLine caps one truth line. The simulator writes lines of a few
// hundred bytes; a longer line is not a truth file.
const MaxTruthLine = 64 << 10

// LineError is a malformed line of a truth file.
type LineError struct {
	Line int // from 1
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("truth line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// TruthReader reads a truth file line by line, holding one line at a time.
type TruthReader struct {
	sc   *bufio.Scanner
	line int
	err  error
}

// NewTruthReader reads truth lines from r.
func NewTruthReader(r io.Reader) *TruthReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxTruthLine)
	return &TruthReader{sc: sc}
}

// Next returns the next line, skipping blank ones; io.EOF at the end. A
// malformed line yields a *LineError; reading stops there.
func (t *TruthReader) Next() (TruthLine, error) {
	if t.err != nil {
		return TruthLine{}, t.err
	}
	for t.sc.Scan() {
		t.line++
		b := bytes.TrimSpace(t.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		l, err := parseTruthLine(b)
		if err != nil {
			t.err = &LineError{Line: t.line, Err: err}
			return TruthLine{}, t.err
		}
		return l, nil
	}
	switch err := t.sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		t.err = &LineError{Line: t.line + 1, Err: fmt.Errorf("longer than %d bytes", MaxTruthLine)}
	case err != nil:
		t.err = fmt.Errorf("read truth: %w", err)
	default:
		t.err = io.EOF
	}
	return TruthLine{}, t.err
}

func parseTruthLine(b []byte) (TruthLine, error) {
	var l TruthLine
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&l); err != nil {
		return TruthLine{}, fmt.Errorf("not a truth record: %w", err)
	}
	if dec.More() {
		return TruthLine{}, errors.New("more than one JSON value on the line")
	}
	switch {
	case !slices.Contains(allCampaigns, l.Campaign):
		return TruthLine{}, fmt.Errorf("unknown campaign %q", l.Campaign)
	case l.Actor == "":
		return TruthLine{}, errors.New("missing actor")
	case l.Method == "":
		return TruthLine{}, errors.New("missing method")
	case l.Time.IsZero():
		return TruthLine{}, errors.New("missing time")
	case l.Seq < 0:
		return TruthLine{}, fmt.Errorf("negative seq %d", l.Seq)
	}
	return l, nil
}

// ReadTruthFile reads a whole truth file; a gzip-compressed one (by its
// magic bytes) is decompressed. For fixtures and tools: it holds every line.
func ReadTruthFile(path string) ([]TruthLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	lines, err := readAllTruth(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lines, nil
}

// readAllTruth reads every line of a truth stream.
func readAllTruth(r io.Reader) ([]TruthLine, error) {
	var lines []TruthLine
	tr := NewTruthReader(r)
	for {
		l, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
		lines = append(lines, l)
	}
}
