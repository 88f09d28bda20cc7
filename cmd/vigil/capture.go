package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/redact"
)

// captureWriter is an analyzer that records every exchange it sees, redacted,
// as Vigil JSON lines (docs/traffic-format.md), so that a proxy or demo run
// can be replayed with vigil analyze. It raises no findings. The pipeline
// calls it from several workers at once.
type captureWriter struct {
	mu  sync.Mutex
	f   *os.File
	bw  *bufio.Writer
	red *redact.Redactor
	n   int64
	err error // the first write error; later exchanges are not written
}

func newCaptureWriter(path string) (*captureWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, usagef("--capture: %v", err)
	}
	return &captureWriter{f: f, bw: bufio.NewWriterSize(f, 256<<10), red: redact.New()}, nil
}

// Analyze implements vigil.Analyzer.
func (c *captureWriter) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	b, err := json.Marshal(c.red.Exchange(x))
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	b = append(b, '\n')
	if _, err := c.bw.Write(b); err != nil {
		c.err = fmt.Errorf("capture: %w", err)
		return nil, c.err
	}
	c.n++
	return nil, nil
}

// Close flushes and closes the file; it reports how many exchanges were
// written and the first error.
func (c *captureWriter) Close() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.err
	if ferr := c.bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("capture: %w", ferr)
	}
	if cerr := c.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("capture: %w", cerr)
	}
	return c.n, err
}
