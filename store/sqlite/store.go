package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/vigilsec/vigil"
)

// WriteFindings stores a batch of findings in one transaction, redacted. A
// finding whose id is already stored replaces it; one without an id gets
// one. Beyond the store's cap the oldest findings are deleted.
func (s *Store) WriteFindings(ctx context.Context, fs []vigil.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	return s.inTx(ctx, "write findings", func(tx *sql.Tx) error {
		del, err := tx.PrepareContext(ctx, `DELETE FROM findings WHERE id = ?`)
		if err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO findings (id, time, detector, severity, data) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		key, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO finding_keys (key, time, seq) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		for _, f := range fs {
			f = s.red.Finding(f)
			if f.ID == "" {
				f.ID = s.newID()
			}
			f.Time = utc(f.Time)
			data, err := json.Marshal(f)
			if err != nil {
				return fmt.Errorf("finding %s: %w", f.ID, err)
			}
			if _, err := del.ExecContext(ctx, f.ID); err != nil {
				return err
			}
			t := nanos(f.Time)
			res, err := ins.ExecContext(ctx, f.ID, t, f.Detector, int(f.Severity), data)
			if err != nil {
				return err
			}
			seq, err := res.LastInsertId()
			if err != nil {
				return err
			}
			for _, k := range f.Actor.Keys() {
				if _, err := key.ExecContext(ctx, k, t, seq); err != nil {
					return err
				}
			}
		}
		// Keep at most maxFind findings: the oldest inserted give way.
		_, err = tx.ExecContext(ctx, `DELETE FROM findings WHERE seq <= (SELECT max(seq) FROM findings) - ?`, s.maxFind)
		return err
	})
}

// Findings returns the findings that match f, newest first.
func (s *Store) Findings(ctx context.Context, f vigil.FindingFilter) ([]vigil.Finding, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultFindingsLimit
	case limit > MaxFindingsLimit:
		limit = MaxFindingsLimit
	}
	// x is the table the time order is read from: finding_keys when the
	// filter names an actor key (walked by index), findings otherwise.
	q, x := `SELECT f.data FROM findings f`, "f"
	var (
		where []string
		args  []any
	)
	if f.ActorKey != "" {
		q, x = `SELECT f.data FROM finding_keys x JOIN findings f ON f.seq = x.seq`, "x"
		where = append(where, "x.key = ?")
		args = append(args, f.ActorKey)
	}
	if !f.Since.IsZero() {
		where = append(where, x+".time >= ?")
		args = append(args, nanos(f.Since))
	}
	if f.Detector != "" {
		where = append(where, "f.detector = ?")
		args = append(args, f.Detector)
	}
	if f.MinSeverity > vigil.SeverityInfo {
		where = append(where, "f.severity >= ?")
		args = append(args, int(f.MinSeverity))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + x + ".time DESC, " + x + ".seq DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	defer rows.Close()
	out := []vigil.Finding{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("findings: %w", err)
		}
		var fd vigil.Finding
		if err := json.Unmarshal(data, &fd); err != nil {
			return nil, fmt.Errorf("findings: stored finding: %w", err)
		}
		out = append(out, fd)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	return out, nil
}

// redactEndpoint masks what a path template may carry (a card number or a
// token in an unfolded segment). Reads and writes both use it, so lookups
// by the caller's endpoint still match.
func (s *Store) redactEndpoint(e vigil.Endpoint) vigil.Endpoint {
	e.Template = s.red.String(e.Template)
	return e
}

// UpsertEndpoints merges stats into the stored endpoints in one
// transaction: counts add up, first and last seen widen.
func (s *Store) UpsertEndpoints(ctx context.Context, stats []vigil.EndpointStats) error {
	if len(stats) == 0 {
		return nil
	}
	return s.inTx(ctx, "upsert endpoints", func(tx *sql.Tx) error {
		get, err := tx.PrepareContext(ctx, `SELECT data FROM endpoints WHERE host = ? AND method = ? AND template = ?`)
		if err != nil {
			return err
		}
		put, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO endpoints (host, method, template, first_seen, last_seen, count, data)
			VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for _, st := range stats {
			st.Endpoint = s.redactEndpoint(st.Endpoint)
			st.FirstSeen, st.LastSeen = utc(st.FirstSeen), utc(st.LastSeen)
			var old []byte
			err := get.QueryRowContext(ctx, st.Host, st.Method, st.Template).Scan(&old)
			switch {
			case err == sql.ErrNoRows:
				st.Statuses, st.Auth = maps.Clone(st.Statuses), maps.Clone(st.Auth)
			case err != nil:
				return err
			default:
				var prev vigil.EndpointStats
				if err := json.Unmarshal(old, &prev); err != nil {
					return fmt.Errorf("stored endpoint %s: %w", st.Endpoint, err)
				}
				st = merge(prev, st)
			}
			data, err := json.Marshal(st)
			if err != nil {
				return err
			}
			if _, err := put.ExecContext(ctx, st.Host, st.Method, st.Template, nanos(st.FirstSeen), nanos(st.LastSeen), st.Count, data); err != nil {
				return err
			}
		}
		return nil
	})
}

// merge adds b to a.
func merge(a, b vigil.EndpointStats) vigil.EndpointStats {
	if a.FirstSeen.IsZero() || (!b.FirstSeen.IsZero() && b.FirstSeen.Before(a.FirstSeen)) {
		a.FirstSeen = b.FirstSeen
	}
	if b.LastSeen.After(a.LastSeen) {
		a.LastSeen = b.LastSeen
	}
	a.Count += b.Count
	for k, v := range b.Statuses {
		if a.Statuses == nil {
			a.Statuses = map[int]int64{}
		}
		a.Statuses[k] += v
	}
	for k, v := range b.Auth {
		if a.Auth == nil {
			a.Auth = map[string]int64{}
		}
		a.Auth[k] += v
	}
	return a
}

// Endpoints returns every stored endpoint, most recently seen first.
func (s *Store) Endpoints(ctx context.Context) ([]vigil.EndpointStats, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT data FROM endpoints ORDER BY last_seen DESC, host, method, template`)
	if err != nil {
		return nil, fmt.Errorf("endpoints: %w", err)
	}
	defer rows.Close()
	out := []vigil.EndpointStats{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("endpoints: %w", err)
		}
		var st vigil.EndpointStats
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("endpoints: stored endpoint: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// AddSamples stores redacted sample exchanges in one transaction and trims
// each endpoint it touched to the newest samples-per-endpoint. Bodies are
// cut to MaxSampleBody (and marked truncated) before they are redacted.
func (s *Store) AddSamples(ctx context.Context, samples []vigil.Sample) error {
	if len(samples) == 0 || s.samples == 0 {
		return nil
	}
	for i, sm := range samples {
		if sm.Exchange == nil || sm.Exchange.Request.Method == "" || sm.Exchange.Request.URL == nil {
			return vigil.Errorf(vigil.EINVALID, "sample %d: an exchange with a method and a URL is required", i)
		}
	}
	return s.inTx(ctx, "add samples", func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO samples (host, method, template, time, exchange, actor) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		touched := map[vigil.Endpoint]bool{}
		for _, sm := range samples {
			e := s.redactEndpoint(sm.Endpoint)
			x := s.red.Exchange(capBodies(sm.Exchange))
			x.Time = utc(x.Time)
			data, err := json.Marshal(x)
			if err != nil {
				return fmt.Errorf("sample of %s: %w", e, err)
			}
			actor, err := json.Marshal(x.Actor)
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, e.Host, e.Method, e.Template, nanos(x.Time), data, actor); err != nil {
				return err
			}
			touched[e] = true
		}
		trim, err := tx.PrepareContext(ctx, `DELETE FROM samples WHERE host = ?1 AND method = ?2 AND template = ?3 AND seq <=
			(SELECT seq FROM samples WHERE host = ?1 AND method = ?2 AND template = ?3 ORDER BY seq DESC LIMIT 1 OFFSET ?4)`)
		if err != nil {
			return err
		}
		for e := range touched {
			if _, err := trim.ExecContext(ctx, e.Host, e.Method, e.Template, s.samples); err != nil {
				return err
			}
		}
		return nil
	})
}

// capBodies returns x, or a shallow copy with its bodies cut to
// MaxSampleBody.
func capBodies(x *vigil.Exchange) *vigil.Exchange {
	if len(x.Request.Body) <= MaxSampleBody && (x.Response == nil || len(x.Response.Body) <= MaxSampleBody) {
		return x
	}
	y := *x
	if len(y.Request.Body) > MaxSampleBody {
		y.Request.Body, y.Request.Truncated = y.Request.Body[:MaxSampleBody], true
	}
	if x.Response != nil && len(x.Response.Body) > MaxSampleBody {
		r := *x.Response
		r.Body, r.Truncated = r.Body[:MaxSampleBody], true
		y.Response = &r
	}
	return &y
}

// Samples returns up to limit of the endpoint's samples, newest first; a
// limit of zero or less returns all it keeps.
func (s *Store) Samples(ctx context.Context, e vigil.Endpoint, limit int) ([]vigil.Exchange, error) {
	if limit <= 0 || limit > s.samples {
		limit = max(s.samples, 1)
	}
	e = s.redactEndpoint(e)
	rows, err := s.r.QueryContext(ctx, `SELECT exchange, actor FROM samples WHERE host = ? AND method = ? AND template = ?
		ORDER BY seq DESC LIMIT ?`, e.Host, e.Method, e.Template, limit)
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	defer rows.Close()
	out := []vigil.Exchange{}
	for rows.Next() {
		var data, actor []byte
		if err := rows.Scan(&data, &actor); err != nil {
			return nil, fmt.Errorf("samples: %w", err)
		}
		var x vigil.Exchange
		if err := json.Unmarshal(data, &x); err != nil {
			return nil, fmt.Errorf("samples: stored exchange: %w", err)
		}
		if err := json.Unmarshal(actor, &x.Actor); err != nil {
			return nil, fmt.Errorf("samples: stored actor: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// PutIncident stores inc (title redacted), replacing one with the same id.
func (s *Store) PutIncident(ctx context.Context, inc vigil.Incident) error {
	if inc.ID == "" {
		return vigil.Errorf(vigil.EINVALID, "incident: an id is required")
	}
	inc = s.red.Incident(inc)
	inc.FirstSeen, inc.LastSeen = utc(inc.FirstSeen), utc(inc.LastSeen)
	data, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("put incident: %w", err)
	}
	return s.inTx(ctx, "put incident", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO incidents (id, actor_key, last_seen, data) VALUES (?, ?, ?, ?)`,
			inc.ID, inc.ActorKey, nanos(inc.LastSeen), data)
		return err
	})
}

// Incidents returns every incident, most recently active first.
func (s *Store) Incidents(ctx context.Context) ([]vigil.Incident, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT data FROM incidents ORDER BY last_seen DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	defer rows.Close()
	out := []vigil.Incident{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("incidents: %w", err)
		}
		var inc vigil.Incident
		if err := json.Unmarshal(data, &inc); err != nil {
			return nil, fmt.Errorf("incidents: stored incident: %w", err)
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}

// PutAction stores a (reason redacted), replacing one with the same id.
func (s *Store) PutAction(ctx context.Context, a vigil.Action) error {
	switch {
	case a.ID == "":
		return vigil.Errorf(vigil.EINVALID, "action: an id is required")
	case a.Key == "":
		return vigil.Errorf(vigil.EINVALID, "action %s: an actor key is required", a.ID)
	}
	a = s.red.Action(a)
	a.Created, a.Until = utc(a.Created), utc(a.Until)
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("put action: %w", err)
	}
	return s.inTx(ctx, "put action", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO actions (id, key, created, until, data) VALUES (?, ?, ?, ?, ?)`,
			a.ID, a.Key, nanos(a.Created), nanos(a.Until), data)
		return err
	})
}

// DeleteAction removes the action with the id; ENOTFOUND when there is
// none.
func (s *Store) DeleteAction(ctx context.Context, id string) error {
	return s.inTx(ctx, "delete action", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM actions WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return vigil.Errorf(vigil.ENOTFOUND, "no action with id %q", id)
		}
		return nil
	})
}

// Actions returns the actions in force at t (created at or before t, and
// vigil.Action.Active(t): t before Until), or every action when t is zero;
// the latest to expire first.
func (s *Store) Actions(ctx context.Context, t time.Time) ([]vigil.Action, error) {
	q, args := `SELECT data FROM actions`, []any{}
	if !t.IsZero() {
		q += ` WHERE created <= ? AND until > ?`
		args = append(args, nanos(t), nanos(t))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY until DESC, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	defer rows.Close()
	out := []vigil.Action{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("actions: %w", err)
		}
		var a vigil.Action
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, fmt.Errorf("actions: stored action: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
