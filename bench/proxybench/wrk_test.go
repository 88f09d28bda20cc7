package proxybench

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseWrk(t *testing.T) {
	tests := []struct {
		file string
		want wrkResult
	}{
		{"testdata/wrk-get.txt", wrkResult{RequestsPerSec: 28022.36, Requests: 30779, P50: 395 * time.Microsecond, P99: 6420 * time.Microsecond}},
		{"testdata/wrk-errors.txt", wrkResult{RequestsPerSec: 4933.51, Requests: 9876, P50: 9870 * time.Microsecond, P99: 1020 * time.Millisecond, Non2xx: 17, SocketErrors: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseWrk(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseWrkRejects(t *testing.T) {
	tests := map[string]string{
		"empty":          "",
		"no latency":     "Requests/sec: 10.0\n",
		"no rps":         "     50%  1.00ms\n     99%  2.00ms\n",
		"bad rps":        "Requests/sec: lots\n     50%  1.00ms\n     99%  2.00ms\n",
		"negative rps":   "Requests/sec: -1\n     50%  1.00ms\n     99%  2.00ms\n",
		"bad unit":       "Requests/sec: 1\n     50%  1.00parsecs\n     99%  2.00ms\n",
		"bad number":     "Requests/sec: 1\n     50%  x.yms\n     99%  2.00ms\n",
		"huge latency":   "Requests/sec: 1\n     50%  1e300h\n     99%  2.00ms\n",
		"bad socket err": "Requests/sec: 1\n     50%  1ms\n     99%  2.00ms\n  Socket errors: connect x, read 0\n",
	}
	for name, out := range tests {
		t.Run(name, func(t *testing.T) {
			if r, err := parseWrk(out); err == nil {
				t.Errorf("parseWrk(%q) = %+v, want an error", out, r)
			}
		})
	}
}

func FuzzParseWrk(f *testing.F) {
	for _, file := range []string{"testdata/wrk-get.txt", "testdata/wrk-errors.txt"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("Requests/sec: 1\n 50% 1us\n 99% 1h\n")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseWrk(out)
		if err != nil {
			return
		}
		if r.RequestsPerSec < 0 || r.P50 < 0 || r.P99 < 0 || r.Requests < 0 || r.Non2xx < 0 || r.SocketErrors < 0 {
			t.Errorf("negative figure from %q: %+v", out, r)
		}
	})
}

func TestRatios(t *testing.T) {
	rs := []Result{
		{Target: TargetDirect, RequestsPerSec: 20000},
		{Target: TargetReverseProxy, RequestsPerSec: 5000},
		{Target: TargetNginx, RequestsPerSec: 10000},
		{Target: TargetNginxFwd, RequestsPerSec: 8000},
		{Target: TargetVigil, RequestsPerSec: 12000},
	}
	ratios(rs)
	var got [][3]float64
	for _, r := range rs {
		got = append(got, [3]float64{r.VsDirect, r.VsNginx, r.VsNginxFwd})
	}
	want := [][3]float64{{1, 2, 2.5}, {0.25, 0.5, 0.625}, {0.5, 1, 1.25}, {0.4, 0.8, 1}, {0.6, 1.2, 1.5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}
