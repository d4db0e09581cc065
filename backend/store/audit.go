package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AuditStore keeps the audit chain (backend/audit computes and checks the
// hashes; the store only keeps rows, the signed head and purge checkpoints).
type AuditStore interface {
	AppendAudit(ctx context.Context, build func(head AuditHead) (AuditRow, AuditHead, error)) (AuditRow, error)
	AuditHead(ctx context.Context) (AuditHead, error)
	AuditRows(ctx context.Context, afterSeq int64, limit int) ([]AuditRow, error)
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditRow, error)
	LatestAuditCheckpoint(ctx context.Context) (AuditCheckpoint, error)
	PurgeAudit(ctx context.Context, before time.Time, sign func(last AuditRow, purged int64) (AuditCheckpoint, error)) (int64, error)
}

// AuditRow is one stored entry of the audit chain. The store keeps it as
// given; backend/audit computes and checks the hashes.
type AuditRow struct {
	Seq                             int64
	At                              time.Time
	ActorID, ActorLogin, ActorRole  string
	Source, Action, Target, Details string // Details: JSON object of strings
	PrevHash, Hash                  string // hex
}

// AuditHead is the signed tail of the chain.
type AuditHead struct {
	Seq       int64
	Hash      string
	Signature string
}

// AuditCheckpoint stands for a purged prefix of the chain.
type AuditCheckpoint struct {
	Seq          int64 // last purged entry
	Hash         string
	PurgedBefore time.Time
	Purged       int64
	CreatedAt    time.Time
	PublicKey    string // hex Ed25519 public key that signed it
	Signature    string // hex
	// Version is the form of the signature (backend/audit.CheckpointVersion).
	Version int
}

// AuditQuery filters a listing of audit entries, newest first.
type AuditQuery struct {
	ActorID, ActorLogin string
	// Action matches exactly, or as a prefix when it ends with "." or "/".
	Action string
	// Areas, when not nil, keeps only the actions starting with one of
	// these prefixes (what the reader's role may read).
	Areas        []string
	Since, Until time.Time // at >= Since, at < Until; zero = open
	BeforeSeq    int64     // paging: only seq < BeforeSeq; 0 = from the newest
	Limit        int
}

const auditCols = `seq, at, actor_id, actor_login, actor_role, source, action, target, details, prev_hash, hash`

func scanAudit(rows *sql.Rows) (AuditRow, error) {
	var r AuditRow
	var at int64
	err := rows.Scan(&r.Seq, &at, &r.ActorID, &r.ActorLogin, &r.ActorRole, &r.Source, &r.Action, &r.Target,
		&r.Details, &r.PrevHash, &r.Hash)
	r.At = time.UnixMilli(at).UTC()
	return r, err
}

func auditHead(ctx context.Context, tx *sql.Tx) (AuditHead, error) {
	var h AuditHead
	err := tx.QueryRowContext(ctx, `SELECT seq, hash, signature FROM audit_head WHERE id = 1`).
		Scan(&h.Seq, &h.Hash, &h.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return AuditHead{}, nil
	}
	return h, err
}

// AppendAudit adds one entry at the tail of the chain. build receives the
// current signed head (zero Seq for an empty chain) and returns the new row
// and head. It runs inside a write transaction (BEGIN IMMEDIATE): appends
// from concurrent requests or processes are serialised and cannot fork the
// chain.
func (s *SQLite) AppendAudit(ctx context.Context, build func(head AuditHead) (AuditRow, AuditHead, error)) (AuditRow, error) {
	var row AuditRow
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		row, err = s.appendAuditTx(ctx, tx, build)
		return err
	})
	if err != nil {
		return AuditRow{}, fmt.Errorf("append audit entry: %w", err)
	}
	return row, nil
}

// appendAuditTx is AppendAudit inside tx (its statements prepared once).
func (s *SQLite) appendAuditTx(ctx context.Context, tx *sql.Tx, build func(head AuditHead) (AuditRow, AuditHead, error)) (AuditRow, error) {
	var head AuditHead
	st, err := s.txStmt(ctx, tx, `SELECT seq, hash, signature FROM audit_head WHERE id = 1`)
	if err != nil {
		return AuditRow{}, fmt.Errorf("read head: %w", err)
	}
	err = st.QueryRowContext(ctx).Scan(&head.Seq, &head.Hash, &head.Signature)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return AuditRow{}, fmt.Errorf("read head: %w", err)
	}
	row, next, err := build(head)
	if err != nil {
		return AuditRow{}, err
	}
	if st, err = s.txStmt(ctx, tx, `INSERT INTO audit_events (`+auditCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`); err != nil {
		return AuditRow{}, err
	}
	_, err = st.ExecContext(ctx, row.Seq, row.At.UnixMilli(), row.ActorID, row.ActorLogin, row.ActorRole, row.Source,
		row.Action, row.Target, row.Details, row.PrevHash, row.Hash)
	if err != nil {
		return AuditRow{}, err
	}
	if st, err = s.txStmt(ctx, tx, `INSERT INTO audit_head (id, seq, hash, signature) VALUES (1,?,?,?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, signature = excluded.signature`); err != nil {
		return AuditRow{}, err
	}
	_, err = st.ExecContext(ctx, next.Seq, next.Hash, next.Signature)
	return row, err
}

// AuditHead returns the signed head; zero Seq when nothing was ever
// appended.
func (s *SQLite) AuditHead(ctx context.Context) (AuditHead, error) {
	var h AuditHead
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash, signature FROM audit_head WHERE id = 1`).
		Scan(&h.Seq, &h.Hash, &h.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return AuditHead{}, nil
	}
	if err != nil {
		return AuditHead{}, fmt.Errorf("audit head: %w", err)
	}
	return h, nil
}

// AuditRows returns up to limit entries with seq > afterSeq, in chain
// order.
func (s *SQLite) AuditRows(ctx context.Context, afterSeq int64, limit int) ([]AuditRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`,
		afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("audit rows after %d: %w", afterSeq, err)
	}
	defer rows.Close()
	var out []AuditRow
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("audit rows after %d: %w", afterSeq, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListAudit lists entries matching q, newest first.
func (s *SQLite) ListAudit(ctx context.Context, q AuditQuery) ([]AuditRow, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if q.ActorID != "" {
		add("actor_id = ?", q.ActorID)
	}
	if q.ActorLogin != "" {
		add("actor_login = ?", q.ActorLogin)
	}
	if a := q.Action; strings.HasSuffix(a, ".") || strings.HasSuffix(a, "/") {
		// Range instead of LIKE: action names may contain "_" or "%".
		add("action >= ?", a)
		add("action < ?", a[:len(a)-1]+string(a[len(a)-1]+1))
	} else if a != "" {
		add("action = ?", a)
	}
	if q.Areas != nil {
		var or []string
		for _, p := range q.Areas {
			if p == "" {
				continue
			}
			or = append(or, "(action >= ? AND action < ?)")
			args = append(args, p, p[:len(p)-1]+string(p[len(p)-1]+1))
		}
		if len(or) == 0 {
			or = []string{"1 = 0"}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if !q.Since.IsZero() {
		add("at >= ?", q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		add("at < ?", q.Until.UnixMilli())
	}
	if q.BeforeSeq > 0 {
		add("seq < ?", q.BeforeSeq)
	}
	query := `SELECT ` + auditCols + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, max(q.Limit, 1))
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditRow
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LatestAuditCheckpoint returns the checkpoint of the most recent purge, or
// ErrNotFound.
func (s *SQLite) LatestAuditCheckpoint(ctx context.Context) (AuditCheckpoint, error) {
	var c AuditCheckpoint
	var before, created int64
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash, purged_before, purged, created_at, public_key, signature,
		version FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).
		Scan(&c.Seq, &c.Hash, &before, &c.Purged, &created, &c.PublicKey, &c.Signature, &c.Version)
	if err != nil {
		return AuditCheckpoint{}, notFound(err, "audit checkpoint")
	}
	c.PurgedBefore, c.CreatedAt = fromMS(before), fromMS(created)
	return c, nil
}

// PurgeAudit deletes the longest prefix of the chain whose entries are all
// older than before, and stores the checkpoint sign makes from the last
// purged entry, in one transaction. It returns the number of entries
// deleted (0: nothing old enough, no checkpoint written).
func (s *SQLite) PurgeAudit(ctx context.Context, before time.Time,
	sign func(last AuditRow, purged int64) (AuditCheckpoint, error)) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The cut is the first entry that is not old enough; a clock that
		// stepped back must not punch a hole in the middle of the chain.
		var cut sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(seq) FROM audit_events WHERE at >= ?`, before.UnixMilli()).
			Scan(&cut); err != nil {
			return err
		}
		cond, args := `seq > 0`, []any{}
		if cut.Valid {
			cond, args = `seq < ?`, []any{cut.Int64}
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_events WHERE `+cond+` ORDER BY seq DESC LIMIT 1`, args...)
		if err != nil {
			return err
		}
		var last AuditRow
		found := rows.Next()
		if found {
			last, err = scanAudit(rows)
		}
		rows.Close()
		if err != nil || !found {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE seq <= ?`, last.Seq).Scan(&n); err != nil {
			return err
		}
		cp, err := sign(last, n)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, purged_before, purged, created_at,
			public_key, signature, version) VALUES (?,?,?,?,?,?,?,?)`, cp.Seq, cp.Hash, ms(cp.PurgedBefore), cp.Purged,
			ms(cp.CreatedAt), cp.PublicKey, cp.Signature, cp.Version)
		if err != nil {
			return fmt.Errorf("store checkpoint: %w", err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM audit_events WHERE seq <= ?`, last.Seq)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge audit before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}
