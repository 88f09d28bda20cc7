package proxybench

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run printed.
type wrkResult struct {
	RequestsPerSec float64
	Requests       int64
	P50, P99       time.Duration
	Non2xx         int64 // "Non-2xx or 3xx responses"
	SocketErrors   int64 // connect + read + write + timeout
}

// parseWrk reads the output of `wrk --latency`. Requests/sec and the 50% and
// 99% latency lines are required; the error lines are optional.
func parseWrk(out string) (wrkResult, error) {
	var (
		r                       wrkResult
		haveRPS, have50, have99 bool
	)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil || !(v >= 0 && v < 1e12) { // also NaN and Inf
				return r, fmt.Errorf("wrk requests/sec %q: not a number", f[1])
			}
			r.RequestsPerSec, haveRPS = v, true
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return r, fmt.Errorf("wrk latency %s: %w", f[0], err)
			}
			if f[0] == "50%" {
				r.P50, have50 = d, true
			} else {
				r.P99, have99 = d, true
			}
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || n < 0 {
				return r, fmt.Errorf("wrk request count %q: not a number", f[0])
			}
			r.Requests = n
		case len(f) == 5 && f[0] == "Non-2xx":
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil || n < 0 {
				return r, fmt.Errorf("wrk non-2xx count %q: not a number", f[4])
			}
			r.Non2xx = n
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, err := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				if err != nil || n < 0 {
					return r, fmt.Errorf("wrk socket errors %q: not a number", f[i+1])
				}
				r.SocketErrors += n
			}
		}
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("read wrk output: %w", err)
	}
	if !haveRPS || !have50 || !have99 {
		return r, fmt.Errorf("wrk output lacks Requests/sec or the 50%%/99%% latency lines (was --latency given?)")
	}
	return r, nil
}

// parseWrkDuration reads wrk's latency format: a number and one of the units
// us, ms, s, m, h ("812.00us", "1.23ms", "2.00s").
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || !(v >= 0 && v <= 1e6) { // also NaN and Inf
			return 0, fmt.Errorf("%q: not a duration", s)
		}
		return time.Duration(v * float64(u.d)), nil
	}
	return 0, fmt.Errorf("%q: no unit", s)
}
