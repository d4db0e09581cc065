package pgdb_test

import (
	"context"
	"testing"

	"github.com/ecoute/ecoute/backend/store/pgdb"
	"github.com/ecoute/ecoute/internal/pgtest"
)

func TestRebind(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c IN (?,?)", "SELECT a FROM t WHERE b = $1 AND c IN ($2,$3)"},
		{"SELECT '?', 'it''s ?', \"odd?col\" FROM t WHERE x = ?", "SELECT '?', 'it''s ?', \"odd?col\" FROM t WHERE x = $1"},
		{"SELECT 1 -- why?\nWHERE a = ?", "SELECT 1 -- why?\nWHERE a = $1"},
		{"SELECT /* a? */ ? /* unterminated ?", "SELECT /* a? */ $1 /* unterminated ?"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
	}
	for _, c := range cases {
		if got := pgdb.Rebind(c.in); got != c.want {
			t.Errorf("Rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := pgdb.Redact("postgres://ecoute:s3cret@db:5432/ecoute"); got != "postgres://ecoute:xxxxx@db:5432/ecoute" {
		t.Errorf("Redact = %q", got)
	}
}

// TestPlaceholdersOnARealServer: the same statement text as SQLite's, in a
// transaction, prepared, and with a literal question mark.
func TestPlaceholdersOnARealServer(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t)
	db, err := pgdb.Open(c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE calls (id TEXT PRIMARY KEY, note TEXT, at BIGINT)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO calls (id, note, at) VALUES (?, ?, ?)`, "c1", "what?", int64(1764460800000)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	stmt, err := db.PrepareContext(ctx, `SELECT note, at FROM calls WHERE id = ? AND note <> '?'`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	var note string
	var at int64
	if err := stmt.QueryRowContext(ctx, "c1").Scan(&note, &at); err != nil || note != "what?" || at != 1764460800000 {
		t.Fatalf("read back %q %d, %v", note, at, err)
	}
}
