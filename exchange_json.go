package vigil

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"time"
	"unicode/utf8"
)

// The JSON form of an Exchange (one per line in a .jsonl file) is documented in
// docs/traffic-format.md. These wire types are the single definition of it.

type wireExchange struct {
	ID         string        `json:"id,omitempty"`
	Time       time.Time     `json:"time"`
	Sensor     string        `json:"sensor,omitempty"`
	Client     wireClient    `json:"client,omitzero"`
	Actor      *Actor        `json:"actor,omitempty"`
	Request    wireRequest   `json:"request"`
	Response   *wireResponse `json:"response,omitempty"`
	DurationMS float64       `json:"duration_ms,omitempty"`
}

type wireClient struct {
	Addr string `json:"addr,omitempty"`
	TLS  *TLS   `json:"tls,omitempty"`
}

type wireBody struct {
	Headers      wireHeader `json:"headers,omitempty"`
	Body         string     `json:"body,omitempty"`
	BodyEncoding string     `json:"body_encoding,omitempty"` // "" (UTF-8 text) or "base64"
	BodySize     *int64     `json:"body_size,omitempty"`
	Truncated    bool       `json:"truncated,omitempty"`
}

type wireRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	Proto  string `json:"proto,omitempty"`
	wireBody
}

type wireResponse struct {
	Status int    `json:"status"`
	Proto  string `json:"proto,omitempty"`
	wireBody
}

// wireHeader reads header values given as a string or as an array of strings
// and writes arrays, with canonical names.
type wireHeader map[string][]string

func (h *wireHeader) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(wireHeader, len(raw))
	for k, v := range raw {
		name := textproto.CanonicalMIMEHeaderKey(k)
		v = bytes.TrimSpace(v)
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("header %q: %w", k, err)
			}
			out[name] = append(out[name], s)
		case len(v) > 0 && v[0] == '[':
			var ss []string
			if err := json.Unmarshal(v, &ss); err != nil {
				return fmt.Errorf("header %q: values must be strings", k)
			}
			out[name] = append(out[name], ss...)
		case bytes.Equal(v, []byte("null")):
		default:
			return fmt.Errorf("header %q: value must be a string or an array of strings", k)
		}
	}
	*h = out
	return nil
}

func encodeBody(w *wireBody, h http.Header, body []byte, size int64, truncated bool) {
	w.Headers = wireHeader(h)
	if utf8.Valid(body) {
		w.Body = string(body)
	} else {
		w.Body = base64.StdEncoding.EncodeToString(body)
		w.BodyEncoding = "base64"
	}
	if size >= 0 {
		w.BodySize = &size
	}
	w.Truncated = truncated
}

func decodeBody(w *wireBody) (h http.Header, body []byte, size int64, truncated bool, err error) {
	switch w.BodyEncoding {
	case "":
		body = []byte(w.Body)
	case "base64":
		body, err = base64.StdEncoding.DecodeString(w.Body)
		if err != nil {
			return nil, nil, 0, false, fmt.Errorf("body: invalid base64: %w", err)
		}
	default:
		return nil, nil, 0, false, fmt.Errorf("body_encoding %q: want \"base64\" or none", w.BodyEncoding)
	}
	size = int64(len(body))
	if w.BodySize != nil {
		if *w.BodySize < -1 {
			return nil, nil, 0, false, fmt.Errorf("body_size %d is negative", *w.BodySize)
		}
		size = *w.BodySize
	}
	truncated = w.Truncated || (size >= 0 && size > int64(len(body)))
	if w.Headers == nil {
		h = http.Header{}
	} else {
		h = http.Header(w.Headers)
	}
	return h, body, size, truncated, nil
}

// MarshalJSON writes the traffic format.
func (x Exchange) MarshalJSON() ([]byte, error) {
	w := wireExchange{
		ID:     x.ID,
		Time:   x.Time,
		Sensor: x.Sensor,
		Client: wireClient{Addr: x.Client.Addr, TLS: x.Client.TLS},
		Request: wireRequest{
			Method: x.Request.Method,
			Proto:  x.Request.Proto,
		},
		DurationMS: float64(x.Duration) / float64(time.Millisecond),
	}
	if x.Actor != (Actor{}) {
		w.Actor = &x.Actor
	}
	if x.Request.URL != nil {
		w.Request.URL = x.Request.URL.String()
	}
	encodeBody(&w.Request.wireBody, x.Request.Header, x.Request.Body, x.Request.BodySize, x.Request.Truncated)
	if r := x.Response; r != nil {
		w.Response = &wireResponse{Status: r.Status, Proto: r.Proto}
		encodeBody(&w.Response.wireBody, r.Header, r.Body, r.BodySize, r.Truncated)
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the traffic format. It checks what a converter is likely
// to get wrong and says which field is at fault.
func (x *Exchange) UnmarshalJSON(b []byte) error {
	var w wireExchange
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	return x.fromWire(&w)
}

func (x *Exchange) fromWire(w *wireExchange) error {
	if w.Request.Method == "" {
		return errors.New("request.method is missing")
	}
	if w.Request.URL == "" {
		return errors.New("request.url is missing")
	}
	u, err := url.Parse(w.Request.URL)
	if err != nil {
		return fmt.Errorf("request.url: %w", err)
	}
	if w.DurationMS < 0 {
		return fmt.Errorf("duration_ms %v is negative", w.DurationMS)
	}
	*x = Exchange{
		ID:       w.ID,
		Time:     w.Time,
		Sensor:   w.Sensor,
		Client:   Client{Addr: w.Client.Addr, TLS: w.Client.TLS},
		Duration: time.Duration(w.DurationMS * float64(time.Millisecond)),
		Request:  Request{Method: w.Request.Method, URL: u, Proto: w.Request.Proto},
	}
	if w.Actor != nil {
		x.Actor = *w.Actor
	}
	req := &x.Request
	if req.Header, req.Body, req.BodySize, req.Truncated, err = decodeBody(&w.Request.wireBody); err != nil {
		return fmt.Errorf("request.%w", err)
	}
	if u.Host == "" {
		// A relative URL takes its host from the Host header.
		if host := req.Header.Get("Host"); host != "" {
			u.Host = host
			if u.Scheme == "" {
				u.Scheme = "http"
			}
		}
	}
	if wr := w.Response; wr != nil {
		if wr.Status < 100 || wr.Status > 999 {
			return fmt.Errorf("response.status %d is not an HTTP status", wr.Status)
		}
		r := &Response{Status: wr.Status, Proto: wr.Proto}
		if r.Header, r.Body, r.BodySize, r.Truncated, err = decodeBody(&wr.wireBody); err != nil {
			return fmt.Errorf("response.%w", err)
		}
		x.Response = r
	}
	return nil
}
