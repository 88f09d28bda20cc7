package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil"
)

const helperEnv = "VIGIL_STORE_HELPER_PATH"

func testFinding(i int) vigil.Finding {
	return vigil.Finding{
		ID: "f" + strconv.Itoa(i), Detector: "detect.test", Severity: vigil.Severity(i % 5), Area: vigil.AreaChained,
		Time: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond), Title: "t",
		Actor:    vigil.Actor{Principal: "jwt:" + strconv.Itoa(i%7), Addr: "203.0.113." + strconv.Itoa(i%200)},
		Endpoint: vigil.Endpoint{Host: "shop.test", Method: "GET", Template: "/orders/{id}"},
		Evidence: []vigil.Evidence{{Where: "header.Authorization", Value: "Bearer abc.def.ghi", Why: "w"}},
	}
}

// TestHelperWriter is the child of TestKill9: it commits batches of
// findings and prints the running total after each commit, until killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("only runs as the child of TestKill9")
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	n := 0
	for range 2000 { // bounded: the parent kills it long before
		batch := make([]vigil.Finding, 10)
		for i := range batch {
			batch[i] = testFinding(n + i)
		}
		if err := s.WriteFindings(context.Background(), batch); err != nil {
			fmt.Println("write:", err)
			os.Exit(3)
		}
		n += len(batch)
		fmt.Printf("committed %d\n", n)
	}
	os.Exit(0)
}

// TestKill9: a writer killed with SIGKILL mid-run loses none of the findings
// it reported committed, and the file reopens with a clean integrity check.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "vigil.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	last, lines := 0, 0
	killed := false
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "committed "); ok {
			n, err := strconv.Atoi(c)
			if err != nil {
				t.Fatalf("child said %q", line)
			}
			last = n
			lines++
		} else {
			t.Logf("child: %s", line)
		}
		if lines == 30 && !killed {
			// Mid-run: the child is between or inside commits.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended before it was killed (%d lines, last %d): %v", lines, last, err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v", err)
	}
	t.Logf("child reported %d findings committed before SIGKILL", last)

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.r.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var n int
	if err := s.r.QueryRowContext(t.Context(), `SELECT count(*) FROM findings`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < last {
		t.Errorf("after kill -9 the file holds %d findings; the child had committed %d", n, last)
	}
	// The store still works.
	if err := s.WriteFindings(t.Context(), []vigil.Finding{testFinding(1 << 20)}); err != nil {
		t.Errorf("write after reopen: %v", err)
	}
}

func TestReopenAndMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFindings(t.Context(), []vigil.Finding{testFinding(1), testFinding(2)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err = Open(t.Context(), path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		var versions, maxV int
		if err := s.r.QueryRow(`SELECT count(*), max(version) FROM schema_version`).Scan(&versions, &maxV); err != nil {
			t.Fatal(err)
		}
		if versions != SchemaVersion || maxV != SchemaVersion {
			t.Errorf("schema_version holds %d rows up to %d, want %d", versions, maxV, SchemaVersion)
		}
		var mode string
		if err := s.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v; want wal", mode, err)
		}
		fs, err := s.Findings(t.Context(), vigil.FindingFilter{})
		if err != nil || len(fs) != 2 {
			t.Errorf("after reopen: %d findings, %v", len(fs), err)
		}
		s.Close()
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A store from a newer Vigil.
	newer := filepath.Join(dir, "newer.db")
	s, err := Open(t.Context(), newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`INSERT INTO schema_version (version, applied) VALUES (?, 0)`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A valid SQLite database of someone else's.
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE users (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// A store whose pages were overwritten.
	corrupt := filepath.Join(dir, "corrupt.db")
	s, err = Open(t.Context(), corrupt)
	if err != nil {
		t.Fatal(err)
	}
	var batch []vigil.Finding
	for i := range 300 {
		batch = append(batch, testFinding(i))
	}
	if err := s.WriteFindings(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, err := os.ReadFile(corrupt)
	if err != nil {
		t.Fatal(err)
	}
	for i := 100; i < len(b); i++ {
		b[i] = 0xA5
	}
	write("corrupt.db", b)

	tests := []struct {
		name, path, code, want string
		opts                   []Option
	}{
		{"text file", write("notes.txt", []byte("hello, this is not a database\n")), vigil.EINVALID, "not an SQLite database", nil},
		{"short file", write("short.db", []byte("SQLite")), vigil.EINVALID, "not an SQLite database", nil},
		{"directory", dir, vigil.EINVALID, "is a directory", nil},
		{"newer schema", newer, vigil.EINVALID, "newer than this build", nil},
		{"foreign database", foreign, vigil.EINVALID, "not a Vigil store", nil},
		{"corrupt", corrupt, vigil.EINVALID, "corrupt", nil},
		{"no such directory", filepath.Join(dir, "nope", "x.db"), vigil.EINVALID, "cannot be opened", nil},
		{"negative samples", filepath.Join(dir, "ok.db"), vigil.EINVALID, "negative", []Option{WithSamplesPerEndpoint(-1)}},
		{"empty path", "", vigil.EINVALID, "no file name", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.path, tt.opts...)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", tt.path)
			}
			if vigil.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%s) = %v (code %s), want code %s and %q", tt.path, err, vigil.ErrorCode(err), tt.code, tt.want)
			}
		})
	}
}

func TestEmptyFileBecomesStore(t *testing.T) {
	p := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestPathWithSpecialCharacters(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a dir?#%", "v.db")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(p); err != nil {
		t.Errorf("the store is not where asked: %v", err)
	}
}

// TestConcurrent: writers and readers at once (run with -race).
func TestConcurrent(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "vigil.db"), WithSamplesPerEndpoint(5))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, batches, per = 3, 10, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := make([]vigil.Finding, per)
				for i := range batch {
					batch[i] = testFinding(w*1_000_000 + b*per + i)
				}
				if err := s.WriteFindings(t.Context(), batch); err != nil {
					t.Error(err)
					return
				}
				if err := s.UpsertEndpoints(t.Context(), []vigil.EndpointStats{{Endpoint: batch[0].Endpoint, Count: 1}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 20 {
				if _, err := s.Findings(t.Context(), vigil.FindingFilter{ActorKey: "principal:jwt:3"}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Endpoints(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	fs, err := s.Findings(t.Context(), vigil.FindingFilter{Limit: MaxFindingsLimit})
	if err != nil || len(fs) != writers*batches*per {
		t.Errorf("%d findings, %v; want %d", len(fs), err, writers*batches*per)
	}
	eps, err := s.Endpoints(t.Context())
	if err != nil || len(eps) != 1 || eps[0].Count != writers*batches {
		t.Errorf("endpoints %+v, %v; want one with count %d", eps, err, writers*batches)
	}
}

func TestMaxFindings(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "vigil.db"), WithMaxFindings(25))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for b := range 4 {
		batch := make([]vigil.Finding, 10)
		for i := range batch {
			batch[i] = testFinding(b*10 + i)
		}
		if err := s.WriteFindings(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	var n, keys int
	s.r.QueryRow(`SELECT count(*) FROM findings`).Scan(&n)
	s.r.QueryRow(`SELECT count(DISTINCT seq) FROM finding_keys`).Scan(&keys)
	if n != 25 || keys != 25 {
		t.Errorf("%d findings and keys for %d, want 25 of each", n, keys)
	}
	fs, _ := s.Findings(t.Context(), vigil.FindingFilter{Limit: 1000})
	if len(fs) != 25 || fs[len(fs)-1].ID != "f15" {
		t.Errorf("oldest kept = %v, want f15", fs[len(fs)-1].ID)
	}
}

// TestSamplesZeroAndBigBodies: a cap of zero keeps nothing; bodies over
// MaxSampleBody are cut and marked truncated.
func TestSamplesZeroAndBigBodies(t *testing.T) {
	ep := vigil.Endpoint{Host: "h", Method: "POST", Template: "/up"}
	x := &vigil.Exchange{ID: "big", Request: vigil.Request{Method: "POST", URL: mustParse(t, "http://h/up"),
		Body: []byte(strings.Repeat("a", MaxSampleBody+10) + " 4242424242424242"), BodySize: MaxSampleBody + 27}}
	for _, n := range []int{0, 2} {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "v.db"), WithSamplesPerEndpoint(n))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddSamples(t.Context(), []vigil.Sample{{Endpoint: ep, Exchange: x}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Samples(t.Context(), ep, 0)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case n == 0 && len(got) != 0:
			t.Errorf("cap 0 kept %d samples", len(got))
		case n == 2 && (len(got) != 1 || len(got[0].Request.Body) != MaxSampleBody || !got[0].Request.Truncated || got[0].Request.BodySize != MaxSampleBody+27):
			t.Errorf("big body: %d samples", len(got))
		}
		s.Close()
	}
	if len(x.Request.Body) != MaxSampleBody+27 {
		t.Error("AddSamples cut the caller's body")
	}
}

func TestSampleValidation(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.AddSamples(t.Context(), []vigil.Sample{{Endpoint: vigil.Endpoint{Host: "h"}}})
	if vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("a sample without an exchange: %v", err)
	}
}
