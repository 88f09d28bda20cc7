package shop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// db is the shop's SQLite database: the catalogue and a copy of the user
// table. The in-memory state is authoritative for users; the table exists so
// that the planted SQL injection in search reaches real password hashes.
//
// Search runs on a read-only handle: the injection is real, but it can only
// read, so a run cannot destroy the demo.
type db struct {
	rw *sql.DB // one connection: writes are serialised
	ro *sql.DB // search
}

// searchTimeout bounds one search query, injected or not.
const (
	searchTimeout = 2 * time.Second
	maxSearchRows = 100
)

const schema = `
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, price REAL NOT NULL, description TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT NOT NULL);
`

func openDB(ctx context.Context, path string, d *seedData) (*db, error) {
	rw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(OFF)")
	if err != nil {
		return nil, fmt.Errorf("open shop db: %w", err)
	}
	rw.SetMaxOpenConns(1)
	if err := seedDB(ctx, rw, d); err != nil {
		rw.Close()
		return nil, err
	}
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		rw.Close()
		return nil, fmt.Errorf("open shop db read-only: %w", err)
	}
	ro.SetMaxOpenConns(4)
	ro.SetMaxIdleConns(4)
	if err := ro.PingContext(ctx); err != nil {
		rw.Close()
		ro.Close()
		return nil, fmt.Errorf("open shop db read-only: %w", err)
	}
	return &db{rw: rw, ro: ro}, nil
}

func seedDB(ctx context.Context, rw *sql.DB, d *seedData) error {
	tx, err := rw.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed shop db: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create shop schema: %w", err)
	}
	for _, p := range d.products {
		if _, err := tx.ExecContext(ctx, `INSERT INTO products VALUES (?, ?, ?, ?, ?)`, p.ID, p.Name, p.Category, p.Price, p.Description); err != nil {
			return fmt.Errorf("seed products: %w", err)
		}
	}
	for _, u := range d.users {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users VALUES (?, ?, ?, ?, ?)`, u.ID, u.Email, u.Name, u.Role, u.PasswordHash); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed shop db: %w", err)
	}
	return nil
}

func (d *db) close() error {
	return errors.Join(d.ro.Close(), d.rw.Close())
}

// search is the planted SQL injection: q is pasted into the query text.
// It returns the rows as generic values, because an injected UNION decides
// what the columns hold. The query text is returned for the verbose error.
func (d *db) search(ctx context.Context, q string) ([]map[string]any, string, error) {
	query := "SELECT id, name, category, price FROM products WHERE name || ' ' || description LIKE '%" + q + "%' ORDER BY id LIMIT 100"
	ctx, cancel := context.WithTimeout(ctx, searchTimeout)
	defer cancel()
	rows, err := d.ro.QueryContext(ctx, query)
	if err != nil {
		return nil, query, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, query, err
	}
	var out []map[string]any
	for rows.Next() && len(out) < maxSearchRows {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, query, err
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if s, ok := v.(string); ok && len(s) > 4096 {
				v = s[:4096]
			}
			row[c] = v
		}
		out = append(out, row)
	}
	return out, query, rows.Err()
}

// searchSafe is the hardened twin's search: the same query and columns,
// with q bound as a parameter (LIKE wildcards in q match literally).
func (d *db) searchSafe(ctx context.Context, q string) ([]map[string]any, error) {
	const query = `SELECT id, name, category, price FROM products WHERE name || ' ' || description LIKE ? ESCAPE '\' ORDER BY id LIMIT 100`
	ctx, cancel := context.WithTimeout(ctx, searchTimeout)
	defer cancel()
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
	rows, err := d.ro.QueryContext(ctx, query, like)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() && len(out) < maxSearchRows {
		var (
			id             int64
			name, category string
			price          float64
		)
		if err := rows.Scan(&id, &name, &category, &price); err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"id": id, "name": name, "category": category, "price": price})
	}
	return out, rows.Err()
}

func (d *db) insertUser(ctx context.Context, u *user) error {
	_, err := d.rw.ExecContext(ctx, `INSERT INTO users VALUES (?, ?, ?, ?, ?)`, u.ID, u.Email, u.Name, u.Role, u.PasswordHash)
	return err
}

func (d *db) updateUser(ctx context.Context, u *user) error {
	_, err := d.rw.ExecContext(ctx, `UPDATE users SET email = ?, name = ?, role = ? WHERE id = ?`, u.Email, u.Name, u.Role, u.ID)
	return err
}

func (d *db) deleteUser(ctx context.Context, id int64) error {
	_, err := d.rw.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	return err
}

func (d *db) insertProduct(ctx context.Context, p *product) error {
	_, err := d.rw.ExecContext(ctx, `INSERT INTO products VALUES (?, ?, ?, ?, ?)`, p.ID, p.Name, p.Category, p.Price, p.Description)
	return err
}
