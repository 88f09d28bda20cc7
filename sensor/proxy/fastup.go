package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// forwardNative is FastServer's forward to a plain-http upstream: the
// client's request, already read whole by fasthttp, is written from
// fasthttp's own header list, and the response headers are parsed by
// fasthttp straight into the client's response, over fastTransport's
// keep-alive pool. It does what outbound and forward do for net/http
// requests (hop-by-hop headers dropped, X-Forwarded-* set, bodies held or
// streamed, the same retry rules) without building a second request or
// parsing the response twice.
func (s *FastServer) forwardNative(w *captureWriter, r *http.Request, id string) {
	w.id = id
	p := s.p
	fw := w.rw.(*fastWriter)
	ctx := fw.ctx
	resp := &ctx.Response
	if r.Body != http.NoBody {
		// Through the core's tee, for the capture: the bytes themselves
		// go from fasthttp's buffer.
		_, _ = io.Copy(io.Discard, r.Body)
	}
	var (
		c   *upConn
		err error
	)
	for attempt := 0; ; attempt++ {
		var reused bool
		c, reused, err = p.fast.getConn(ctx)
		if err != nil {
			p.upstreamFailed(w, nil, id, err)
			return
		}
		c.cc.n, c.cc.written = 0, 0
		if err = s.writeUpstream(c, ctx, r, id); err == nil {
			err = readUpstreamHeader(c, &resp.Header, p.fast.headerTimeout)
		} else {
			err = upstreamWriteError{err: err, nothingWritten: c.cc.written == 0}
		}
		if err == nil {
			break
		}
		c.close()
		if attempt > 0 || !reused || c.cc.n > 0 || !replayable(r, err) {
			resp.Header.Reset()
			p.upstreamFailed(w, nil, id, err)
			return
		}
	}

	rh := &resp.Header
	keep := !rh.ConnectionClose() && !r.Close
	rh.ResetConnectionClose() // the upstream's connection, not the client's
	removeFastHopHeaders(rh)
	fw.addHeaders(rh)
	fw.wrote = true
	w.status = rh.StatusCode()
	w.header = responseHeader(rh, fw.rvs[:0])

	cl := rh.ContentLength()
	noBody := r.Method == http.MethodHead || w.status == http.StatusNoContent || w.status == http.StatusNotModified
	switch {
	case noBody:
		if r.Method == http.MethodHead {
			resp.SkipBody = true
		}
		c.release(noStop, keep)
	case cl >= 0 && cl <= maxHeldResponse:
		err := resp.ReadBody(c.br, maxHeldResponse)
		if err != nil {
			c.close()
			s.logger.Debug("upstream body ended early", "request_id", id, "err", err)
			cutShort(w, resp, cl, io.ErrUnexpectedEOF)
			return
		}
		c.release(noStop, keep)
		body := resp.Body()
		if p.cfg.NeutralErrors && w.status >= 400 && len(body) > 0 && len(body) <= maxNeutralHold && r.Method != http.MethodHead {
			s.neutralize(w, rh, bytes.Clone(body))
			body = resp.Body()
		}
		w.captureBody(body)
	default:
		// Longer, chunked or ended by the close: stream it. The read
		// deadline was for the headers only.
		c.readDeadline(time.Time{})
		up := fasthttp.AcquireResponse()
		rh.CopyTo(&up.Header)
		up.StreamBody = true
		_ = up.ReadBody(c.br, 0) // only sets the stream up
		ub := &nativeBody{c: c, up: up, keep: keep && cl != -2}
		var rc io.ReadCloser = ub
		if p.cfg.NeutralErrors && w.status >= 400 && cl < 0 && r.Method != http.MethodHead && neutralReadable(w.header) {
			// An error body of unknown length: held up to maxNeutralHold,
			// as Proxy.neutralize does.
			held, complete, err := holdBody(ub, -1)
			if complete {
				_ = ub.Close() // read to its end: the connection is reusable
				resp.SetBody(held)
				s.neutralize(w, rh, held)
				w.captureBody(resp.Body())
				return
			}
			rc = &heldBody{held: held, rest: ub, err: err}
		}
		sb := &streamBody{rc: rc, w: w}
		w.stream = sb
		if cl == -2 {
			cl = -1 // ended by the close upstream; chunked to the client
		}
		resp.SetBodyStream(sb, cl)
	}
}

// neutralize is Config.NeutralErrors for forwardNative: held is the error
// response's whole body (a copy). When it tells too much, the client's
// response gets the neutral body and headers, and w keeps the original.
func (s *FastServer) neutralize(w *captureWriter, rh *fasthttp.ResponseHeader, held []byte) {
	gz, ok := neutralGzip(w.header)
	if !ok {
		return
	}
	body, ok := s.p.neutralFor(w, w.status, w.header, held, gz)
	if !ok {
		return
	}
	for _, k := range [...]string{"Content-Encoding", "Etag", "Content-Md5", "Digest", "Content-Range"} {
		rh.Del(k)
	}
	rh.SetContentType("application/json")
	rh.Set("X-Content-Type-Options", "nosniff")
	rh.Set(HeaderRequestID, w.id)
	w.rw.(*fastWriter).ctx.Response.SetBody(body)
}

// neutralReadable tells whether Config.NeutralErrors may hold a response
// with these headers (not an event stream, an encoding Vigil reads).
func neutralReadable(h http.Header) bool {
	_, ok := neutralGzip(h)
	return ok
}

// noStop stands for the context stop of fastTransport's round trips:
// native round trips have no client context.
func noStop() bool { return true }

// writeUpstream writes the request of ctx to c: the request line with the
// upstream's path, the client's end-to-end headers, X-Forwarded-* and
// X-Request-Id, and the body with its length.
func (s *FastServer) writeUpstream(c *upConn, ctx *fasthttp.RequestCtx, r *http.Request, id string) error {
	p := s.p
	req := &ctx.Request
	rh := &req.Header
	uri := rh.RequestURI()
	if p.upstream.Path != "" || len(uri) == 0 || uri[0] != '/' {
		u := *r.URL
		u.Path, u.RawPath = joinURLPath(p.upstream, r.URL)
		uri = []byte(u.RequestURI())
	}
	if !validRequestURI(string(uri)) {
		return fmt.Errorf("invalid request URI %q", uri)
	}
	host := p.upstream.Host
	if p.cfg.PreserveHost {
		host = r.Host
	}
	w := c.bw
	w.Write(rh.Method())
	w.WriteByte(' ')
	w.Write(uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	listed := connectionTokens(r.Header["Connection"])
	var xff []byte
	hasID := false
	for k, v := range rh.All() {
		switch string(k) {
		case "Host", "Content-Length": // written here from the request
			continue
		case "Te":
			if hasToken([]string{string(v)}, "trailers") {
				w.WriteString("Te: trailers\r\n")
			}
			continue
		case "X-Forwarded-For":
			if p.cfg.AppendForwardedFor {
				if len(xff) > 0 {
					xff = append(xff, ", "...)
				}
				xff = append(xff, v...)
			}
			continue
		case "X-Request-Id":
			hasID = true
		}
		if isNotForwarded(k) || len(listed) > 0 && tokenIn(listed, k) {
			continue
		}
		w.Write(k)
		w.WriteString(": ")
		w.Write(v)
		w.WriteString("\r\n")
	}
	w.WriteString("X-Forwarded-For: ")
	if len(xff) > 0 {
		w.Write(xff)
		w.WriteString(", ")
	}
	if tcp, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		// Formatted in w's buffer: a buffer of its own would escape.
		ip, _ := tcp.IP.AppendText(w.AvailableBuffer()) // never fails
		w.Write(ip)
	} else {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		w.WriteString(ip)
	}
	w.WriteString("\r\nX-Forwarded-Host: ")
	w.WriteString(r.Host)
	w.WriteString("\r\nX-Forwarded-Proto: http\r\n")
	if !hasID {
		w.WriteString("X-Request-Id: ")
		w.WriteString(id)
		w.WriteString("\r\n")
	}
	return c.writeBody(r.Method, req.Body())
}

var errTooMany1xx = errors.New("upstream sent too many informational responses")

// readUpstreamHeader reads the final response's headers into h within
// timeout, skipping informational responses. A deadline an earlier round
// trip left on c may be kept (upConn.readWithin): the wait is then up to
// deadlineSlack(timeout) shorter.
func readUpstreamHeader(c *upConn, h *fasthttp.ResponseHeader, timeout time.Duration) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = c.readWithin(timeout)
	}
	for i := 0; ; i++ {
		if err := h.Read(c.br); err != nil {
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				// fasthttp's error does not wrap the timeout.
				return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
			}
			return err
		}
		code := h.StatusCode()
		if code == http.StatusSwitchingProtocols {
			return errors.New("upstream switched protocols without an upgrade request")
		}
		if code >= 200 {
			return nil
		}
		if i >= max1xx {
			return errTooMany1xx
		}
	}
}

// isNotForwarded tells the request headers the proxy never passes upstream
// as the client sent them (both engines): the hop-by-hop ones
// (hopHeaderNames), and those the proxy writes itself (the X-Forwarded set,
// as httputil's SetXForwarded does) or drops (Expect, whose 100-continue the
// proxy has already answered by reading the body; a client's Forwarded,
// which would vouch for addresses Vigil did not see). A switch, not a set:
// it compares lengths first and hashes nothing.
func isNotForwarded[T string | []byte](k T) bool {
	switch string(k) {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Expect":
		return true
	}
	return false
}

// connectionTokens are the header names a Connection header lists, other
// than the usual keep-alive and close (nil, without allocating, when there
// are none).
func connectionTokens(conn []string) []string {
	var out []string
	for _, v := range conn {
		for f := range strings.SplitSeq(v, ",") {
			f = textprotoTrim(f)
			if f != "" && !strings.EqualFold(f, "keep-alive") && !strings.EqualFold(f, "close") {
				out = append(out, f)
			}
		}
	}
	return out
}

// tokenIn tells whether name is one of tokens, ignoring ASCII case.
func tokenIn(tokens []string, name []byte) bool {
	for _, t := range tokens {
		if len(t) != len(name) {
			continue
		}
		same := true
		for i := 0; i < len(t) && same; i++ {
			a, b := t[i], name[i]
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			same = a == b
		}
		if same {
			return true
		}
	}
	return false
}

// removeFastHopHeaders deletes the hop-by-hop headers of a response and
// those its Connection header names.
func removeFastHopHeaders(h *fasthttp.ResponseHeader) {
	// Usually there is none: one pass over the headers tells, where a
	// Peek per name would normalize it and scan them all.
	hop := false
	for k := range h.All() {
		if tokenIn(hopHeaderNames[:], k) {
			hop = true
			break
		}
	}
	if !hop {
		return
	}
	if conn := h.Peek("Connection"); len(conn) > 0 {
		for _, f := range bytes.Split(conn, []byte(",")) {
			if f = bytes.TrimSpace(f); len(f) > 0 {
				h.DelBytes(f)
			}
		}
		h.Del("Connection")
	}
	for _, k := range hopHeaderNames {
		// fasthttp frames the client's response itself: its
		// Transfer-Encoding follows the body, not the upstream's.
		if k != "Transfer-Encoding" && len(h.Peek(k)) > 0 {
			h.Del(k)
		}
	}
}

// responseHeader is h as an http.Header, for the Exchange; backing (len 0)
// holds the values' slices when they fit.
func responseHeader(h *fasthttp.ResponseHeader, backing []string) http.Header {
	vals := valueArena{backing: backing}
	for _, v := range h.All() {
		vals.size(v)
	}
	out := make(http.Header, h.Len()+1)
	for k, v := range h.All() {
		vals.add(out, headerKey(k), v)
	}
	return out
}

// nativeBody is a streamed upstream response body: the connection goes back
// to the pool once it has been read to its end, and is closed otherwise.
type nativeBody struct {
	c    *upConn
	up   *fasthttp.Response
	keep bool
	eof  bool
	done bool
}

func (b *nativeBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.up.BodyStream().Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *nativeBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	_ = b.up.CloseBodyStream()
	fasthttp.ReleaseResponse(b.up)
	if b.eof {
		b.c.release(noStop, b.keep)
	} else {
		b.c.close() // not read to its end: it cannot carry another request
	}
	return nil
}

var _ io.ReadCloser = (*nativeBody)(nil)
