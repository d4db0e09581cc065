package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RecordingPeriod is a span during which a team may be recorded (R6):
// [StartsAt, EndsAt).
type RecordingPeriod struct {
	ID        string
	TeamID    string
	StartsAt  time.Time
	EndsAt    time.Time
	Note      string
	CreatedBy string
	CreatedAt time.Time
}

// UserSession is a session as an administrator lists it.
type UserSession struct {
	Session
	Login string
}

// Identity is what accounts, password life, sessions and recording periods
// need beyond the basic user and session rows.
type Identity interface {
	// ChangePassword stores a new hash, remembers the previous one, sets
	// the change time and clears failures and lock.
	ChangePassword(ctx context.Context, userID, hash string, changeRequired bool, at time.Time) error
	// PasswordHistory returns the user's previous hashes, newest first.
	PasswordHistory(ctx context.Context, userID string, limit int) ([]string, error)
	// RecordLoginFailure counts one failure; when the count reaches
	// lockAfter the account is locked until lockUntil and the count
	// restarts. It returns the count after this failure and whether it
	// locked the account.
	RecordLoginFailure(ctx context.Context, userID string, lockAfter int, lockUntil time.Time) (failures int, locked bool, err error)
	// ResetLoginFailures clears failures and lock after a good login.
	ResetLoginFailures(ctx context.Context, userID string) error
	ListUsers(ctx context.Context) ([]User, error)
	SetUserDisabled(ctx context.Context, userID string, disabled bool, at time.Time) error
	SetUserTeams(ctx context.Context, userID string, teamIDs []string) error
	ListTeams(ctx context.Context) ([]Team, error)
	ListUserSessions(ctx context.Context, userID string) ([]UserSession, error)

	AddRecordingPeriod(ctx context.Context, p RecordingPeriod) error
	// RecordingPeriod returns one period, or ErrNotFound.
	RecordingPeriod(ctx context.Context, id string) (RecordingPeriod, error)
	// RecordingPeriods lists a team's periods ("" = every team) that end
	// after from, in start order.
	RecordingPeriods(ctx context.Context, teamID string, from time.Time) ([]RecordingPeriod, error)
	// RecordingAllowed tells whether at falls inside a declared period of
	// the team.
	RecordingAllowed(ctx context.Context, teamID string, at time.Time) (bool, error)
}

var _ Identity = (*SQLite)(nil)

// ChangePassword implements Identity.
func (s *SQLite) ChangePassword(ctx context.Context, userID, hash string, changeRequired bool, at time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&old); err != nil {
			return notFound(err, "user "+userID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (user_id, hash, created_at) VALUES (?,?,?)`,
			userID, old, ms(at)); err != nil {
			return fmt.Errorf("password history of %s: %w", userID, err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_change_required = ?,
			password_changed_at = ?, failed_logins = 0, locked_until = 0 WHERE id = ?`, hash, b2i(changeRequired), ms(at), userID)
		if err != nil {
			return fmt.Errorf("set password of %s: %w", userID, err)
		}
		// Only the last few matter; older ones are dropped so the table
		// does not grow for ever.
		row := s.rowID()
		_, err = tx.ExecContext(ctx, `DELETE FROM password_history WHERE user_id = ? AND `+row+` NOT IN
			(SELECT `+row+` FROM password_history WHERE user_id = ? ORDER BY created_at DESC, `+row+` DESC LIMIT 10)`, userID, userID)
		if err != nil {
			return fmt.Errorf("trim password history of %s: %w", userID, err)
		}
		return nil
	})
}

// PasswordHistory implements Identity.
func (s *SQLite) PasswordHistory(ctx context.Context, userID string, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hash FROM password_history WHERE user_id = ?
		ORDER BY created_at DESC, `+s.rowID()+` DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("password history of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// RecordLoginFailure implements Identity.
func (s *SQLite) RecordLoginFailure(ctx context.Context, userID string, lockAfter int, lockUntil time.Time) (int, bool, error) {
	var n int
	locked := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?
			RETURNING failed_logins`, userID).Scan(&n); err != nil {
			return notFound(err, "user "+userID)
		}
		if n < lockAfter {
			return nil
		}
		locked = true
		_, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?`, ms(lockUntil), userID)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("record login failure of %s: %w", userID, err)
	}
	return n, locked, nil
}

// ResetLoginFailures implements Identity.
func (s *SQLite) ResetLoginFailures(ctx context.Context, userID string) error {
	return s.exec(ctx, "reset login failures of "+userID,
		`UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ? AND (failed_logins <> 0 OR locked_until <> 0)`, userID)
}

// ListUsers implements Identity: every account, by login.
func (s *SQLite) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM users ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]User, 0, len(ids))
	for _, id := range ids {
		u, err := s.UserByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (s *SQLite) mustUpdate(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// SetUserDisabled implements Identity. Disabling also drops the sessions.
func (s *SQLite) SetUserDisabled(ctx context.Context, userID string, disabled bool, at time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		when := int64(0)
		if disabled {
			when = ms(at)
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ?, disabled_at = ? WHERE id = ?`, b2i(disabled), when, userID)
		if err := s.mustUpdate(res, err, "disable user "+userID); err != nil {
			return err
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
				return fmt.Errorf("revoke sessions of %s: %w", userID, err)
			}
		}
		return recordRequest(ctx, tx, userID, 0)
	})
}

// SetUserTeams implements Identity: replaces the user's team links.
func (s *SQLite) SetUserTeams(ctx context.Context, userID string, teamIDs []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_teams WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("unlink teams of %s: %w", userID, err)
		}
		for _, t := range teamIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_teams (user_id, team_id) VALUES (?,?)`, userID, t); err != nil {
				return fmt.Errorf("link team %s to %s: %w", t, userID, err)
			}
		}
		return recordRequest(ctx, tx, userID, 0)
	})
}

// ListTeams implements Identity: every team, ended ones too, by id.
func (s *SQLite) ListTeams(ctx context.Context) ([]Team, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+teamCols+` FROM teams ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	var out []Team
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ListUserSessions implements Identity ("" = every user's).
func (s *SQLite) ListUserSessions(ctx context.Context, userID string) ([]UserSession, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.token_hash, s.user_id, u.login, s.source_addr, s.created_at,
		s.last_used_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE ? = '' OR s.user_id = ? ORDER BY s.created_at`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []UserSession
	for rows.Next() {
		var us UserSession
		var c, l, e int64
		if err := rows.Scan(&us.TokenHash, &us.UserID, &us.Login, &us.SourceAddr, &c, &l, &e); err != nil {
			return nil, err
		}
		us.CreatedAt, us.LastUsedAt, us.ExpiresAt = fromMS(c), fromMS(l), fromMS(e)
		out = append(out, us)
	}
	return out, rows.Err()
}

// AddRecordingPeriod implements Identity.
func (s *SQLite) AddRecordingPeriod(ctx context.Context, p RecordingPeriod) error {
	return s.create(ctx, "add recording period for "+p.TeamID, p.ID, `INSERT INTO recording_periods
		(id, team_id, starts_at, ends_at, note, created_by, created_at) VALUES (?,?,?,?,?,?,?)`,
		p.ID, p.TeamID, ms(p.StartsAt), ms(p.EndsAt), p.Note, p.CreatedBy, ms(p.CreatedAt))
}

// RecordingPeriod implements Identity.
func (s *SQLite) RecordingPeriod(ctx context.Context, id string) (RecordingPeriod, error) {
	var p RecordingPeriod
	var a, b, c int64
	err := s.db.QueryRowContext(ctx, `SELECT id, team_id, starts_at, ends_at, note, created_by, created_at
		FROM recording_periods WHERE id = ?`, id).Scan(&p.ID, &p.TeamID, &a, &b, &p.Note, &p.CreatedBy, &c)
	if err != nil {
		return RecordingPeriod{}, notFound(err, "recording period "+id)
	}
	p.StartsAt, p.EndsAt, p.CreatedAt = fromMS(a), fromMS(b), fromMS(c)
	return p, nil
}

// RecordingPeriods implements Identity.
func (s *SQLite) RecordingPeriods(ctx context.Context, teamID string, from time.Time) ([]RecordingPeriod, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, team_id, starts_at, ends_at, note, created_by, created_at
		FROM recording_periods WHERE (? = '' OR team_id = ?) AND ends_at > ? ORDER BY starts_at, id`,
		teamID, teamID, ms(from))
	if err != nil {
		return nil, fmt.Errorf("recording periods of %s: %w", teamID, err)
	}
	defer rows.Close()
	var out []RecordingPeriod
	for rows.Next() {
		var p RecordingPeriod
		var a, b, c int64
		if err := rows.Scan(&p.ID, &p.TeamID, &a, &b, &p.Note, &p.CreatedBy, &c); err != nil {
			return nil, err
		}
		p.StartsAt, p.EndsAt, p.CreatedAt = fromMS(a), fromMS(b), fromMS(c)
		out = append(out, p)
	}
	return out, rows.Err()
}

// RecordingAllowed implements Identity.
func (s *SQLite) RecordingAllowed(ctx context.Context, teamID string, at time.Time) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM recording_periods WHERE team_id = ? AND starts_at <= ? AND ends_at > ?`,
		teamID, ms(at), ms(at)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("recording periods of %s: %w", teamID, err)
	}
	return n > 0, nil
}
