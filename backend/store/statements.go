package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// Prepared statements, kept by SQL text. database/sql with this driver
// prepares (parses and plans) every query anew: 12% of the backend's CPU
// under 50 consoles went to parsing the same few statements. The listing,
// the session check and the audit trail run theirs through this cache; a
// *sql.Stmt is prepared once per connection and safe for concurrent use.
type stmtCache struct {
	m sync.Map // SQL text → *sql.Stmt
	n atomic.Int64
}

// maxStmts bounds the cache: the statements vary with the length of id
// lists (scopes, filters), so their number is small but not fixed.
const maxStmts = 512

// stmt returns the prepared statement of q, or nil when the cache is full
// (the caller then runs q unprepared).
func (s *SQLite) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if v, ok := s.stmts.m.Load(q); ok {
		return v.(*sql.Stmt), nil
	}
	if s.stmts.n.Load() >= maxStmts {
		return nil, nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.stmts.m.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	s.stmts.n.Add(1)
	return st, nil
}

// query is QueryContext through the statement cache.
func (s *SQLite) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.db.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is QueryRowContext through the statement cache.
func (s *SQLite) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, q)
	if err != nil || st == nil {
		// A failed prepare reports its error through the row.
		return s.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// txStmt is q prepared for tx (from the cache when it can be).
func (s *SQLite) txStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return tx.PrepareContext(ctx, q)
	}
	return tx.StmtContext(ctx, st), nil
}

// closeStmts closes the cached statements.
func (s *SQLite) closeStmts() {
	s.stmts.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		s.stmts.m.Delete(k)
		return true
	})
	s.stmts.n.Store(0)
}
