package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/identity"
	"github.com/vigilsec/vigil/pipeline"
	"github.com/vigilsec/vigil/redact"
	"github.com/vigilsec/vigil/sensor/ingest"
)

func newAnalyzeCmd(a *app) *cobra.Command {
	var (
		findingsPath, store, clientIPHeader, failOn string
		trusted                                     []string
		captureBytes                                int64
		noStore                                     bool
		crs                                         crsFlags
	)
	d := config.Default()
	cmd := &cobra.Command{
		Use:   "analyze FILE...",
		Short: "Analyze recorded traffic (HAR or Vigil JSON lines)",
		Long: `Analyze recorded API traffic offline. Each FILE is a HAR 1.2 export (browser
DevTools, mitmproxy) or Vigil JSON lines (docs/traffic-format.md), recognised by
its content; gzip is accepted; "-" reads standard input. Files are streamed, so
memory stays flat however large they are.

A malformed record is reported with its file and line (JSON lines, from 1) or
entry (HAR, from 0) and skipped; the run ends with how many records were read
and skipped, and why. Findings go to the store and, with --findings, to a file
as JSON lines whose exchange_id is "<file>#<record>".`,
		Example: `  vigil analyze traffic.har
  vigil analyze --findings findings.jsonl --fail-on high day1.jsonl.gz day2.jsonl.gz
  zcat big.jsonl.gz | vigil analyze --no-store --findings - -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("analyze needs at least one FILE (or - for standard input)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			set(fs, "store", &a.cfg.Store.Path, store)
			set(fs, "capture-bytes", &a.cfg.Proxy.CaptureBytes, captureBytes)
			set(fs, "client-ip-header", &a.cfg.Identity.ClientIPHeader, clientIPHeader)
			set(fs, "trusted-proxy", &a.cfg.Identity.TrustedProxies, trusted)
			crs.apply(fs, &a.cfg)
			if err := a.validate(); err != nil {
				return err
			}
			var threshold *vigil.Severity
			if failOn != "" {
				s, err := vigil.ParseSeverity(failOn)
				if err != nil {
					return usagef("--fail-on: %v", err)
				}
				threshold = &s
			}
			return a.analyze(cmd.Context(), args, analyzeOpts{findings: findingsPath, store: !noStore, failOn: threshold})
		},
	}
	f := cmd.Flags()
	f.StringVar(&findingsPath, "findings", "", `write every finding as a JSON line to FILE ("-" for standard output)`)
	f.StringVar(&store, "store", d.Store.Path, "SQLite file to record findings, endpoints and samples in")
	f.BoolVar(&noStore, "no-store", false, "do not write a store")
	f.StringVar(&failOn, "fail-on", "", "exit with code 1 when a finding reaches this severity (info, low, medium, high, critical)")
	f.Int64Var(&captureBytes, "capture-bytes", d.Proxy.CaptureBytes, "bytes of each body kept for analysis")
	f.StringVar(&clientIPHeader, "client-ip-header", "", "header with the client address; without it X-Forwarded-For, then X-Real-IP, are used for files that record no peer address")
	f.StringSliceVar(&trusted, "trusted-proxy", nil, "address or CIDR of a proxy whose --client-ip-header entry is skipped (repeatable)")
	crs.add(f)
	return cmd
}

type analyzeOpts struct {
	findings string
	store    bool
	failOn   *vigil.Severity
}

// readStats counts what the readers saw.
type readStats struct {
	read, skipped int
	reasons       map[string]int
}

// batchGCPercent is the GC target of batch analysis. Live memory is small and
// bounded (streamed input, bounded queues), so letting the heap grow to five
// times it costs little memory and saves a third of the CPU the collector
// took at the default of 100 (docs/performance.md). GOGC still overrides it.
const batchGCPercent = 400

// tuneGCForBatch applies batchGCPercent unless the user set GOGC.
func tuneGCForBatch() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(batchGCPercent)
	}
}

func (a *app) analyze(ctx context.Context, files []string, o analyzeOpts) error {
	tuneGCForBatch()
	var sinks []vigil.Sink
	counter := &severityCounter{}
	sinks = append(sinks, counter)
	if o.findings != "" {
		w, closeFn, err := a.createOutput(o.findings)
		if err != nil {
			return err
		}
		defer closeFn()
		sinks = append(sinks, newFindingsWriter(w))
	}
	// One worker unless pipeline.workers says otherwise: the stateful
	// detectors (object ownership, role cohorts, baselines) then see the
	// exchanges in the file's order, and a file gives the same findings on
	// every run. Several workers would analyse actors side by side, and a
	// victim's answer could be analysed after the attacker's read of it.
	eng, err := a.openEngine(ctx, engineOpts{mode: pipeline.Block, workers: 1, store: o.store, sinks: sinks})
	if err != nil {
		return err
	}
	defer eng.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- eng.pipe.Run(context.WithoutCancel(runCtx)) }()

	st := readStats{reasons: map[string]int{}}
	var readErr error
	// Exchanges go to the workers in batches; a slow stream (stdin) still
	// reaches them within the batcher's linger.
	batch := eng.pipe.NewBatcher(0)
	for _, file := range files {
		if err := a.readFile(runCtx, file, eng, batch, &st); err != nil {
			readErr = err
			break
		}
	}
	if err := batch.Close(runCtx); err != nil && readErr == nil {
		readErr = err
	}
	eng.pipe.Close()
	if err := <-done; err != nil && readErr == nil {
		readErr = fmt.Errorf("analysis: %w", err)
	}
	if eng.store != nil {
		if err := saveInventory(context.WithoutCancel(ctx), eng.store, eng.inv); err != nil && readErr == nil {
			readErr = fmt.Errorf("save inventory: %w", err)
		}
	}

	fmt.Fprintf(a.err, "read %d exchanges, skipped %d", st.read, st.skipped)
	if st.skipped > 0 {
		reasons := make([]string, 0, len(st.reasons))
		for r := range st.reasons {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		fmt.Fprint(a.err, " (")
		for i, r := range reasons {
			if i > 0 {
				fmt.Fprint(a.err, "; ")
			}
			fmt.Fprintf(a.err, "%d %s", st.reasons[r], r)
		}
		fmt.Fprint(a.err, ")")
	}
	fmt.Fprintf(a.err, "; %s\n", counter)
	if readErr != nil {
		return readErr
	}
	if o.failOn != nil && counter.atLeast(*o.failOn) > 0 {
		return &exitError{code: exitFindings, msg: fmt.Sprintf("%d findings at or above %s", counter.atLeast(*o.failOn), *o.failOn)}
	}
	return nil
}

// maxReported bounds how many bad records are logged one by one per file.
const maxReported = 20

func (a *app) readFile(ctx context.Context, file string, eng *engine, batch *pipeline.Batcher, st *readStats) error {
	return a.eachExchange(file, eng.resolver, st, func(x *vigil.Exchange) error {
		return batch.Add(ctx, x)
	})
}

// eachExchange streams one traffic file ("-": the command's input) to fn,
// with each exchange's actor resolved (unless the record carries one). A
// malformed record is logged (the first maxReported of them), counted in st
// and skipped.
func (a *app) eachExchange(file string, res *identity.Resolver, st *readStats, fn func(*vigil.Exchange) error) error {
	var (
		src *ingest.Source
		err error
	)
	if file == "-" {
		// The command's own input stream (os.Stdin in the binary), ids "stdin#N".
		src, err = ingest.NewSource(a.in, ingest.Options{Name: "stdin", CaptureBytes: a.cfg.Proxy.CaptureBytes})
	} else {
		src, err = ingest.Open(file, ingest.Options{CaptureBytes: a.cfg.Proxy.CaptureBytes})
	}
	if err != nil {
		return usageError{err}
	}
	defer src.Close()
	reported := 0
	for {
		x, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if rerr, ok := errors.AsType[*ingest.RecordError](err); ok {
			st.skipped++
			st.reasons[reason(rerr.Err)]++
			if reported < maxReported {
				a.logger.Warn("skipped a malformed record", "file", rerr.File, "record", rerr.Record, "err", rerr.Err)
			} else if reported == maxReported {
				a.logger.Warn("more malformed records skipped; counting only", "file", file)
			}
			reported++
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if x.Actor == (vigil.Actor{}) { // a Vigil capture carries the actor its sensor resolved
			// Resolve as the proxy does: a recorded ClientHello fingerprint
			// is part of the actor's fingerprint.
			ja4 := ""
			if x.Client.TLS != nil {
				ja4 = x.Client.TLS.Fingerprint
			}
			x.Actor = res.ResolveTLS(x.Client.Addr, x.Request.Header, ja4)
		}
		if err := fn(x); err != nil {
			return err
		}
		st.read++
	}
}

// reason reduces a record error to a short class for the summary.
func reason(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, ":("); i > 0 {
		msg = msg[:i]
	}
	if len(msg) > 60 {
		msg = msg[:60]
	}
	return strings.TrimSpace(msg)
}

// createOutput opens a file for writing, or standard output for "-".
func (a *app) createOutput(path string) (io.Writer, func() error, error) {
	if path == "-" {
		return a.out, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return f, f.Close, nil
}

// findingsWriter is a sink writing one redacted finding per JSON line.
type findingsWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
	red *redact.Redactor
}

func newFindingsWriter(w io.Writer) *findingsWriter {
	bw := bufio.NewWriter(w)
	return &findingsWriter{w: bw, enc: json.NewEncoder(bw), red: redact.New()}
}

func (fw *findingsWriter) WriteFindings(_ context.Context, fs []vigil.Finding) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	for _, f := range fs {
		if err := fw.enc.Encode(fw.red.Finding(f)); err != nil {
			return fmt.Errorf("write findings: %w", err)
		}
	}
	return fw.w.Flush()
}

// severityCounter is a sink counting findings by severity.
type severityCounter struct {
	mu sync.Mutex
	n  [vigil.SeverityCritical + 1]int
}

func (c *severityCounter) WriteFindings(_ context.Context, fs []vigil.Finding) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range fs {
		if f.Severity >= 0 && f.Severity <= vigil.SeverityCritical {
			c.n[f.Severity]++
		}
	}
	return nil
}

func (c *severityCounter) atLeast(s vigil.Severity) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	for i := s; i <= vigil.SeverityCritical; i++ {
		total += c.n[i]
	}
	return total
}

func (c *severityCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	var parts []string
	for i := vigil.SeverityCritical; i >= vigil.SeverityInfo; i-- {
		total += c.n[i]
		if c.n[i] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n[i], i))
		}
	}
	if total == 0 {
		return "0 findings"
	}
	return fmt.Sprintf("%d findings (%s)", total, strings.Join(parts, ", "))
}
