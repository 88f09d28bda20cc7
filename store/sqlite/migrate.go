package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vigilsec/vigil"
)

// applicationID marks the file as Vigil's ("VIGL") in the SQLite header.
const applicationID = 0x5649474C

// migrations are applied in order, each in its own transaction, and
// recorded in schema_version. Never edit a released one: add a new one.
var migrations = []string{
	// 1: findings, endpoints, samples, incidents and actions.
	`
CREATE TABLE findings (
	seq      INTEGER PRIMARY KEY,          -- insertion order
	id       TEXT    NOT NULL UNIQUE,
	time     INTEGER NOT NULL,             -- Unix ns
	detector TEXT    NOT NULL,
	severity INTEGER NOT NULL,
	data     BLOB    NOT NULL              -- the redacted Finding, JSON
);
CREATE INDEX findings_time ON findings(time, seq);
CREATE INDEX findings_detector ON findings(detector, time, seq);

-- Every key of a finding's actor, so that any of them finds it by index.
CREATE TABLE finding_keys (
	key  TEXT    NOT NULL,
	time INTEGER NOT NULL,
	seq  INTEGER NOT NULL REFERENCES findings(seq) ON DELETE CASCADE,
	PRIMARY KEY (key, time, seq)
) WITHOUT ROWID;
CREATE INDEX finding_keys_seq ON finding_keys(seq);

CREATE TABLE endpoints (
	host       TEXT    NOT NULL,
	method     TEXT    NOT NULL,
	template   TEXT    NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	data       BLOB    NOT NULL,           -- the EndpointStats, JSON
	PRIMARY KEY (host, method, template)
) WITHOUT ROWID;

CREATE TABLE samples (
	seq      INTEGER PRIMARY KEY,
	host     TEXT    NOT NULL,
	method   TEXT    NOT NULL,
	template TEXT    NOT NULL,
	time     INTEGER NOT NULL,
	exchange BLOB    NOT NULL,             -- the redacted Exchange, traffic-format JSON
	actor    BLOB    NOT NULL              -- its Actor, JSON
);
CREATE INDEX samples_endpoint ON samples(host, method, template, seq);

CREATE TABLE incidents (
	id        TEXT    PRIMARY KEY,
	actor_key TEXT    NOT NULL,
	last_seen INTEGER NOT NULL,
	data      BLOB    NOT NULL
);
CREATE INDEX incidents_last_seen ON incidents(last_seen);

CREATE TABLE actions (
	id      TEXT    PRIMARY KEY,
	key     TEXT    NOT NULL,
	created INTEGER NOT NULL,
	until   INTEGER NOT NULL,
	data    BLOB    NOT NULL
);
CREATE INDEX actions_until ON actions(until);
`,
	// 2: the learned API inventory, one document per endpoint.
	`
CREATE TABLE inventory (
	host     TEXT NOT NULL,
	method   TEXT NOT NULL,
	template TEXT NOT NULL,
	data     BLOB NOT NULL,                -- the endpoint's profile, JSON (package inventory)
	PRIMARY KEY (host, method, template)
) WITHOUT ROWID;
`,
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

// migrate brings the file to SchemaVersion. Each step runs in a write
// transaction (BEGIN IMMEDIATE) that re-reads the version, so two processes
// opening a new file at once apply each step once.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateStep(ctx)
		if err != nil || done {
			return err
		}
	}
}

func (s *Store) migrateStep(ctx context.Context) (done bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	v, err := schemaVersion(ctx, tx, s.path)
	if err != nil {
		return false, err
	}
	if v > SchemaVersion {
		return false, vigil.Errorf(vigil.EINVALID,
			"store %s has schema version %d, newer than this build's %d: upgrade Vigil or use another file", s.path, v, SchemaVersion)
	}
	if v == SchemaVersion {
		return true, nil
	}
	if v == 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d;
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL);`, applicationID)); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied) VALUES (?, ?)`, v+1, time.Now().UnixNano()); err != nil {
		return false, err
	}
	return false, tx.Commit()
}

// schemaVersion reads the version of the file: 0 for a new, empty one. A
// database that holds other tables but no schema_version is someone
// else's.
func schemaVersion(ctx context.Context, tx *sql.Tx, path string) (int, error) {
	var tables, hasVersion int
	err := tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name = 'schema_version')
		FROM sqlite_schema WHERE type = 'table'`).Scan(&tables, &hasVersion)
	if err != nil {
		return 0, err
	}
	if hasVersion == 0 {
		if tables > 0 {
			return 0, vigil.Errorf(vigil.EINVALID, "store %s holds %d tables but no schema_version: not a Vigil store", path, tables)
		}
		return 0, nil
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}
