// Package sqlite is Vigil's embedded store: one SQLite file in WAL mode,
// written through one connection and read through a small pool. Everything
// is redacted (package redact) before it is written.
//
// Durability: journal_mode=WAL with synchronous=NORMAL. A transaction that
// has committed is in the WAL file, in the operating system's page cache, so
// killing the process (kill -9, a panic, an OOM kill) loses nothing that was
// committed and the file reopens cleanly. A power loss or kernel crash can
// lose the last transactions before the next checkpoint (never corrupt the
// file); WithSynchronousFull trades write speed for that guarantee too.
package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/redact"
)

// Limits.
const (
	// DefaultSamplesPerEndpoint is how many exchanges each endpoint keeps.
	DefaultSamplesPerEndpoint = 20
	// DefaultFindingsLimit is what Findings returns when the filter's Limit
	// is zero; MaxFindingsLimit caps any Limit.
	DefaultFindingsLimit = 100
	MaxFindingsLimit     = 10000
	// MaxSampleBody caps each stored sample body. Bodies are cut before
	// they are redacted, so a mask is never cut in half.
	MaxSampleBody = 64 << 10
	// DefaultMaxFindings is how many findings the file keeps; the oldest
	// give way beyond it.
	DefaultMaxFindings = 1_000_000

	busyTimeout = 5 * time.Second
	readConns   = 4
)

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	w, r     *sql.DB // one writer connection; a pool of read-only ones
	red      *redact.Redactor
	samples  int
	maxFind  int
	syncFull bool
	path     string
	idPrefix string
	idSeq    atomic.Uint64
}

var _ vigil.Store = (*Store)(nil)

// Option configures Open.
type Option func(*Store)

// WithSamplesPerEndpoint sets how many sample exchanges each endpoint keeps
// (default 20). Zero keeps none; a negative n makes Open fail.
func WithSamplesPerEndpoint(n int) Option { return func(s *Store) { s.samples = n } }

// WithRedactor replaces the default redactor (redact.New()), e.g. to add
// header or field names. The store redacts with it whatever it writes.
func WithRedactor(r *redact.Redactor) Option { return func(s *Store) { s.red = r } }

// WithMaxFindings sets how many findings the file keeps (default 1,000,000);
// beyond it the oldest are deleted. It must be at least 1.
func WithMaxFindings(n int) Option { return func(s *Store) { s.maxFind = n } }

// WithSynchronousFull makes every commit wait for fsync (synchronous=FULL),
// so commits also survive a power loss, at the cost of write throughput.
func WithSynchronousFull() Option { return func(s *Store) { s.syncFull = true } }

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// Open opens or creates the store at path and brings its schema up to date.
// A file that is not a Vigil store, is corrupt, or has a newer schema than
// this build knows gives a *vigil.Error with code EINVALID.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	s := &Store{samples: DefaultSamplesPerEndpoint, maxFind: DefaultMaxFindings, path: path}
	for _, o := range opts {
		o(s)
	}
	switch {
	case path == "":
		return nil, vigil.Errorf(vigil.EINVALID, "store: no file name")
	case s.samples < 0:
		return nil, vigil.Errorf(vigil.EINVALID, "store: samples per endpoint must not be negative, got %d", s.samples)
	case s.maxFind < 1:
		return nil, vigil.Errorf(vigil.EINVALID, "store: max findings must be at least 1, got %d", s.maxFind)
	}
	if s.red == nil {
		s.red = redact.New()
	}
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	var p [6]byte
	_, _ = rand.Read(p[:])
	s.idPrefix = "f" + hex.EncodeToString(p[:]) + "-"

	sync := "NORMAL"
	if s.syncFull {
		sync = "FULL"
	}
	base := "file:" + escapePath(path) + "?_pragma=busy_timeout(" + strconv.Itoa(int(busyTimeout/time.Millisecond)) + ")"
	var err error
	s.w, err = sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return nil, openError(path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetConnMaxIdleTime(0)
	s.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=foreign_keys(1)")
	if err != nil {
		s.w.Close()
		return nil, openError(path, err)
	}
	s.r.SetMaxOpenConns(readConns)
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, openError(path, err)
	}
	return s, nil
}

// escapePath makes a file name safe inside an SQLite URI.
func escapePath(p string) string {
	p = filepath.ToSlash(filepath.Clean(p))
	if strings.HasPrefix(p, "//") {
		p = "/" + strings.TrimLeft(p, "/")
	}
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(p)
}

// checkHeader rejects an existing non-empty file that is not SQLite before
// the driver touches it.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "store %s: %v", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return vigil.Errorf(vigil.EINVALID, "store %s is a directory", path)
	}
	var head [len(sqliteMagic)]byte
	n, err := io.ReadFull(f, head[:])
	if n == 0 && (err == io.EOF || err == nil) {
		return nil // an empty file becomes a new store
	}
	if n < len(head) || !bytes.Equal(head[:], []byte(sqliteMagic)) {
		return vigil.Errorf(vigil.EINVALID, "store %s is not an SQLite database (not a Vigil store?)", path)
	}
	return nil
}

// openError turns what went wrong opening the file into a *vigil.Error.
func openError(path string, err error) error {
	if _, ok := errors.AsType[*vigil.Error](err); ok {
		return err
	}
	if e, ok := errors.AsType[*msqlite.Error](err); ok {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return vigil.Errorf(vigil.EINVALID, "store %s is corrupt or not an SQLite database: %v", path, err)
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
			return vigil.Errorf(vigil.EINVALID, "store %s cannot be opened for writing: %v", path, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return vigil.Errorf(vigil.EUNAVAILABLE, "store %s is locked by another process: %v", path, err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return vigil.Errorf(vigil.EINTERNAL, "store %s: %v", path, err)
}

// Close closes the file. Committed writes are already durable.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// Path is the file the store was opened on.
func (s *Store) Path() string { return s.path }

// nanos is t as Unix nanoseconds, 0 for the zero time, clamped to int64.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	if t.Year() < 1678 {
		return 1
	}
	if t.Year() > 2261 {
		return 1<<63 - 1
	}
	return t.UnixNano()
}

// utc drops the location and the monotonic reading so that a stored time
// reads back equal.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// inTx runs fn in one write transaction.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if _, ok := errors.AsType[*vigil.Error](err); ok {
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// newID returns an id for a finding that came without one.
func (s *Store) newID() string {
	return s.idPrefix + strconv.FormatUint(s.idSeq.Add(1), 36)
}
