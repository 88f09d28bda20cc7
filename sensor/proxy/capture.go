package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// bodyTee wraps a request body and keeps a copy of at most limit bytes of
// what is read through it, counting every byte.
//
// It is locked because http.Transport may still read a request body from its
// write loop after RoundTrip has returned (the upstream can answer before it
// has read the whole request); seal hands the capture over and stops further
// appends, after which reads are only counted.
type bodyTee struct {
	rc     io.ReadCloser
	limit  int
	length int64 // the declared length, -1 when unknown

	mu     sync.Mutex
	buf    []byte
	n      int64
	eof    bool
	sealed bool

	// After prefetch: buf[off:pre] is read but not yet handed on, and
	// preErr is the error that ended the prefetch early, if any.
	pre, off int
	preErr   error
}

// init sets up a zero bodyTee.
func (t *bodyTee) init(rc io.ReadCloser, limit int, contentLength int64) {
	t.rc, t.limit, t.length = rc, limit, contentLength
	if contentLength > 0 && limit > 0 {
		// Size the capture once when the length is known.
		t.buf = make([]byte, 0, min(contentLength, int64(limit)))
	}
}

func (t *bodyTee) Read(p []byte) (int, error) {
	if t.pre > 0 || t.preErr != nil {
		if n, err, ok := t.replay(p); ok {
			return n, err
		}
	}
	n, err := t.rc.Read(p)
	if n > 0 || err == io.EOF {
		t.mu.Lock()
		t.n += int64(n)
		if room := t.limit - len(t.buf); room > 0 && !t.sealed && n > 0 {
			t.buf = append(t.buf, p[:min(n, room)]...)
		}
		if err == io.EOF {
			t.eof = true
		}
		t.mu.Unlock()
	}
	return n, err
}

func (t *bodyTee) Close() error { return t.rc.Close() }

// prefetch reads the body up to the capture limit before it is forwarded,
// for the inline check, and returns what it read; Read hands it on first.
// It never reads more than the limit, so memory stays bounded by it.
func (t *bodyTee) prefetch() []byte {
	for t.limit > 0 && len(t.buf) < t.limit && !t.eof && (t.length < 0 || t.n < t.length) {
		if len(t.buf) == cap(t.buf) {
			nb := make([]byte, len(t.buf), min(t.limit, max(2*cap(t.buf), 4096)))
			copy(nb, t.buf)
			t.buf = nb
		}
		n, err := t.rc.Read(t.buf[len(t.buf):cap(t.buf)])
		t.buf = t.buf[:len(t.buf)+n]
		t.n += int64(n)
		if err == io.EOF {
			t.eof = true
			break
		}
		if err != nil {
			t.preErr = err
			break
		}
	}
	t.pre = len(t.buf)
	return t.buf[:t.pre:t.pre]
}

// replay hands on the prefetched bytes; ok is false once they are all
// handed on and the body must be read further.
func (t *bodyTee) replay(p []byte) (n int, err error, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.off < t.pre {
		n = copy(p, t.buf[t.off:t.pre])
		t.off += n
		return n, nil, true
	}
	if t.preErr != nil {
		return 0, t.preErr, true
	}
	if t.eof {
		return 0, io.EOF, true
	}
	return 0, nil, false
}

// seal returns the captured bytes, the bytes read so far and whether the
// body was read to its end, and stops capturing.
func (t *bodyTee) seal() (buf []byte, n int64, eof bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sealed = true
	return t.buf, t.n, t.eof
}

// captureWriter wraps the client's ResponseWriter: it records the status and
// headers of the final response and keeps a copy of at most limit bytes of
// the body while passing everything through. It keeps http.Flusher and
// http.Hijacker working, and Unwrap lets http.ResponseController reach the
// rest (deadlines, full duplex).
//
// It is used from the handler's goroutine only.
type captureWriter struct {
	rw    http.ResponseWriter
	limit int
	// cloneHeader makes WriteHeader snapshot the header map; the middleware
	// needs it because code outside it may touch the map after the handler
	// returned, while the pipeline reads the Exchange.
	cloneHeader bool

	status    int
	header    http.Header
	buf       []byte
	n         int64
	hijacked  bool
	generated bool // Vigil wrote the response itself

	id      string       // the request id (set by the proxy only)
	neutral *neutralized // the upstream's response when a neutral one went out instead
	stream  *streamBody  // the response body streams after the handler returned (FastServer)
}

var (
	_ http.Flusher  = (*captureWriter)(nil)
	_ http.Hijacker = (*captureWriter)(nil)
)

func (w *captureWriter) Header() http.Header { return w.rw.Header() }

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 && !w.hijacked && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		w.recordHeader(code)
	}
	w.rw.WriteHeader(code)
}

// recordHeader notes the final status and headers.
func (w *captureWriter) recordHeader(code int) {
	w.status = code
	h := w.rw.Header()
	if w.cloneHeader {
		h = h.Clone()
	}
	w.header = h
	if w.limit > 0 {
		if cl, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && cl > 0 {
			w.buf = make([]byte, 0, min(cl, int64(w.limit)))
		}
	}
}

func (w *captureWriter) Write(p []byte) (int, error) {
	if w.status == 0 && !w.hijacked {
		// The wrapped writer sends 200 implicitly (and still sniffs the
		// content type); only record it.
		w.recordHeader(http.StatusOK)
	}
	n, err := w.rw.Write(p)
	w.n += int64(n)
	if room := w.limit - len(w.buf); room > 0 && n > 0 {
		w.buf = append(w.buf, p[:min(n, room)]...)
	}
	return n, err
}

// FlushError flushes buffered data to the client.
func (w *captureWriter) FlushError() error {
	switch f := w.rw.(type) {
	case interface{ FlushError() error }:
		return f.FlushError()
	case http.Flusher:
		f.Flush()
		return nil
	}
	return http.NewResponseController(w.rw).Flush()
}

// Flush implements http.Flusher.
func (w *captureWriter) Flush() { _ = w.FlushError() }

// Hijack implements http.Hijacker (WebSocket and other upgrades).
func (w *captureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
		if w.status == 0 {
			// An upgrade writes its 101 on the raw connection, with the
			// headers a reverse proxy puts in the map after hijacking: keep
			// the map itself (nothing else writes it once hijacked).
			w.status = http.StatusSwitchingProtocols
			w.header = w.rw.Header()
		}
	}
	return conn, brw, err
}

// captureBody records a response body the proxy holds whole: its size, and
// a copy of at most limit bytes (the body's buffer is reused after).
func (w *captureWriter) captureBody(body []byte) {
	w.n = int64(len(body))
	if w.limit > 0 {
		w.buf = bytes.Clone(body[:min(len(body), w.limit)])
	}
}

// clientLeft tells whether FastServer saw the client close its connection.
func (w *captureWriter) clientLeft() bool {
	fw, ok := w.rw.(*fastWriter)
	return ok && fw.gone
}

// Unwrap lets http.ResponseController find the wrapped writer.
func (w *captureWriter) Unwrap() http.ResponseWriter { return w.rw }
