package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Throttle is the failures of one login tried from one source address.
type Throttle struct {
	Login, Source string
	Failures      int
	LockedUntil   time.Time // zero: not locked
	LastFailureAt time.Time
}

// ThrottleStore counts failed logins per login and source address.
type ThrottleStore interface {
	// LoginThrottle returns the pair's row (zero Failures when none).
	LoginThrottle(ctx context.Context, login, source string) (Throttle, error)
	// RecordLoginFailure counts one failure of the pair at at; lock maps
	// the new count to how long the pair is then refused (0: not locked).
	RecordLoginFailureFrom(ctx context.Context, login, source string, at time.Time,
		lock func(failures int) time.Duration) (Throttle, error)
	// ClearLoginThrottle forgets the pair after a good password.
	ClearLoginThrottle(ctx context.Context, login, source string) error
	// LoginLocks lists the pairs locked at now, newest failure first.
	LoginLocks(ctx context.Context, now time.Time) ([]Throttle, error)
	// DeleteLoginThrottles forgets the unlocked pairs whose last failure is
	// before cutoff.
	DeleteLoginThrottles(ctx context.Context, cutoff time.Time) (int, error)
}

var _ ThrottleStore = (*SQLite)(nil)

func scanThrottle(r scanner) (Throttle, error) {
	var t Throttle
	var locked, last int64
	if err := r.Scan(&t.Login, &t.Source, &t.Failures, &locked, &last); err != nil {
		return Throttle{}, err
	}
	t.LockedUntil, t.LastFailureAt = fromMS(locked), fromMS(last)
	return t, nil
}

const throttleCols = `login, source, failures, locked_until, last_failure_at`

// LoginThrottle implements ThrottleStore.
func (s *SQLite) LoginThrottle(ctx context.Context, login, source string) (Throttle, error) {
	t, err := scanThrottle(s.db.QueryRowContext(ctx, `SELECT `+throttleCols+` FROM login_throttles
		WHERE login = ? AND source = ?`, login, source))
	if errors.Is(err, sql.ErrNoRows) {
		return Throttle{Login: login, Source: source}, nil
	}
	if err != nil {
		return Throttle{}, fmt.Errorf("login throttle: %w", err)
	}
	return t, nil
}

// RecordLoginFailureFrom implements ThrottleStore.
func (s *SQLite) RecordLoginFailureFrom(ctx context.Context, login, source string, at time.Time,
	lock func(failures int) time.Duration) (Throttle, error) {
	var t Throttle
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `INSERT INTO login_throttles (login, source, failures, last_failure_at)
			VALUES (?, ?, 1, ?) ON CONFLICT (login, source) DO UPDATE SET failures = failures + 1,
			last_failure_at = excluded.last_failure_at RETURNING failures`, login, source, ms(at)).Scan(&n); err != nil {
			return err
		}
		t = Throttle{Login: login, Source: source, Failures: n, LastFailureAt: at}
		if d := lock(n); d > 0 {
			t.LockedUntil = at.Add(d)
			_, err := tx.ExecContext(ctx, `UPDATE login_throttles SET locked_until = ? WHERE login = ? AND source = ?`,
				ms(t.LockedUntil), login, source)
			return err
		}
		return nil
	})
	if err != nil {
		return Throttle{}, fmt.Errorf("record login failure: %w", err)
	}
	return t, nil
}

// ClearLoginThrottle implements ThrottleStore.
func (s *SQLite) ClearLoginThrottle(ctx context.Context, login, source string) error {
	return s.exec(ctx, "clear login throttle", `DELETE FROM login_throttles WHERE login = ? AND source = ?`, login, source)
}

// LoginLocks implements ThrottleStore.
func (s *SQLite) LoginLocks(ctx context.Context, now time.Time) ([]Throttle, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+throttleCols+` FROM login_throttles WHERE locked_until > ?
		ORDER BY last_failure_at DESC, login, source`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("login locks: %w", err)
	}
	defer rows.Close()
	var out []Throttle
	for rows.Next() {
		t, err := scanThrottle(rows)
		if err != nil {
			return nil, fmt.Errorf("login locks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteLoginThrottles implements ThrottleStore.
func (s *SQLite) DeleteLoginThrottles(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM login_throttles WHERE last_failure_at < ? AND locked_until < ?`,
		ms(cutoff), ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete login throttles: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
