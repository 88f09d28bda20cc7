package report

import (
	"fmt"
	"golang.org/x/term"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/scan"
)

// maxConsoleErrors caps the errored tests Summary lists one by one; the
// report files list them all.
const maxConsoleErrors = 10

// Summary writes the end-of-scan console summary to w: the findings first,
// most severe first, each with its operation, identity and why; then the
// tests that could not run; then the counts by severity and by status.
// Nothing from the target reaches w unescaped (no terminal control
// sequences).
func Summary(w io.Writer, r *scan.Report) error {
	ew := &errWriter{w: w}
	c := tally(r)
	head := fmt.Sprintf("vigil scan of %s", oneLine(r.Target))
	if r.Spec != "" {
		head += fmt.Sprintf(" (spec %s)", oneLine(r.Spec))
	}
	ew.printf("%s\n", head)
	if r.Partial {
		ew.printf("PARTIAL: the scan was stopped before it finished; only the %d tests that completed are counted.\n", c.Total)
	}
	findings := sortedFindings(r)
	if len(findings) == 0 {
		ew.printf("\nNo findings.\n")
	} else {
		ew.printf("\nFindings (%d):\n", len(findings))
		for _, x := range findings {
			ew.printf("  %-8s %-10s %s  %s\n", strings.ToUpper(x.Severity.String()), oneLine(string(x.Category)), oneLine(x.Operation), oneLine(testName(x)))
			ew.printf("           test %s", oneLine(x.Test))
			if x.Identity != "" {
				ew.printf(", as %s", oneLine(x.Identity))
			}
			ew.printf("\n")
			if x.Detail != "" {
				ew.printf("           %s\n", oneLine(x.Detail))
			}
		}
	}
	if c.Error > 0 {
		ew.printf("\nCould not run (%d):\n", c.Error)
		n := 0
		for _, x := range r.Results {
			if x.Status != scan.StatusError {
				continue
			}
			if n == maxConsoleErrors {
				ew.printf("  … and %d more (see the report file)\n", c.Error-n)
				break
			}
			n++
			ew.printf("  %s %s: %s\n", oneLine(x.Test), oneLine(x.Operation), oneLine(x.Detail))
		}
	}
	ew.printf("\nBy severity:")
	for _, s := range severitiesDesc {
		ew.printf("  %s %d", s, c.BySeverity[s])
	}
	ew.printf("\nTests: %d run, %d passed, %d failed, %d error%s, %d skipped; %d requests",
		c.Total, c.Pass, c.Fail, c.Error, plural(c.Error), c.Skipped, r.Requests)
	if !r.Started.IsZero() && r.Finished.After(r.Started) {
		ew.printf(" in %s", r.Finished.Sub(r.Started).Round(10*time.Millisecond))
	}
	ew.printf("\n")
	return ew.err
}

// errWriter keeps the first write error and skips the writes after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// Progress shows a scan's progress on w: on a terminal, one bar redrawn in
// place (at most every redrawEvery) with each finding printed above it as
// it comes; elsewhere (a pipe, a CI log), plain lines: one per finding and
// one at every tenth of the way. Step and Done are safe for concurrent use.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int
	done     int
	fails    int
	errors   int
	lastDraw time.Time
	lastTick int // tenths reported so far (plain mode)
	finished bool
	now      func() time.Time
}

// redrawEvery limits how often the terminal bar is redrawn.
const redrawEvery = 100 * time.Millisecond

// barWidth is the bar's width in cells.
const barWidth = 30

// NewProgress returns a Progress for a scan of total tests writing to w. It
// draws a bar when w is a terminal (an *os.File on a character device) and
// prints plain lines otherwise.
func NewProgress(w io.Writer, total int) *Progress {
	return &Progress{w: w, tty: isTerminal(w), total: max(total, 0), now: time.Now}
}

// isTerminal reports whether w is a character device, where a line can be
// redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Step records one finished test. Write errors are ignored: progress is a
// courtesy, and the report files carry the results.
func (p *Progress) Step(r scan.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done++
	switch r.Status {
	case scan.StatusFail:
		p.fails++
	case scan.StatusError:
		p.errors++
	}
	if p.tty {
		now := p.now()
		if r.Status == scan.StatusFail {
			fmt.Fprintf(p.w, "\r\033[K%s\n", findingLine(r))
			p.draw(now)
			return
		}
		if now.Sub(p.lastDraw) >= redrawEvery || p.done == p.total {
			p.draw(now)
		}
		return
	}
	if r.Status == scan.StatusFail {
		fmt.Fprintln(p.w, findingLine(r))
	}
	if p.total > 0 {
		if tick := p.done * 10 / p.total; tick > p.lastTick {
			p.lastTick = tick
			fmt.Fprintln(p.w, p.status())
		}
	}
}

// Done ends the display: the final bar and a newline on a terminal, a last
// line otherwise. Steps after Done are ignored; Done is idempotent.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.tty {
		p.draw(p.now())
		fmt.Fprintln(p.w)
		return
	}
	if p.done*10/max(p.total, 1) < 10 || p.total == 0 {
		fmt.Fprintln(p.w, p.status())
	}
}

func (p *Progress) draw(now time.Time) {
	p.lastDraw = now
	filled := barWidth
	if p.total > 0 {
		filled = min(p.done*barWidth/p.total, barWidth)
	}
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	fmt.Fprintf(p.w, "\r\033[K%s %s", bar, p.status())
}

// status is "57/120 tests (47%), 3 findings, 1 error".
func (p *Progress) status() string {
	pct := 100
	if p.total > 0 {
		pct = p.done * 100 / p.total
	}
	s := fmt.Sprintf("%d/%d tests (%d%%), %d finding%s", p.done, p.total, pct, p.fails, plural(p.fails))
	if p.errors > 0 {
		s += fmt.Sprintf(", %d error%s", p.errors, plural(p.errors))
	}
	return s
}

// findingLine is the one-line announcement of a finding.
func findingLine(r scan.Result) string {
	return fmt.Sprintf("FAIL %-8s %s  %s (%s)", strings.ToUpper(r.Severity.String()), oneLine(r.Operation), oneLine(testName(r)), oneLine(r.Test))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
