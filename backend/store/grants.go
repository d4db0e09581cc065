package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Grant kinds and statuses (backend/core decides what each means).
const (
	GrantAccount       = "account"
	GrantTeams         = "teams"
	GrantPasswordReset = "password_reset"

	GrantPending  = "pending"
	GrantApproved = "approved"
	GrantRefused  = "refused"
	GrantExpired  = "expired"
)

// Grant is a privileged change waiting for a second person.
type Grant struct {
	ID, Kind                string
	UserID, Login, Role     string
	TeamIDs                 []string
	Secret                  string // sealed at rest; the second half of a reset password
	RequestedBy             string // user id, "" for the command line
	RequestedByLogin        string
	RequestedAt, ExpiresAt  time.Time
	Status                  string
	DecidedBy, DecidedLogin string
	DecidedAt               time.Time
}

// GrantStore keeps the grant requests.
type GrantStore interface {
	CreateGrant(ctx context.Context, g Grant) error
	Grant(ctx context.Context, id string) (Grant, error)
	// ListGrants lists pending requests first, newest first; closed ones
	// too when all.
	ListGrants(ctx context.Context, all bool) ([]Grant, error)
	// DecideGrant moves a pending, unexpired request to status, and
	// returns it as it was with its secret, which the same transaction
	// destroys; ErrNotFound when no such pending request is left.
	DecideGrant(ctx context.Context, id, status, by, byLogin string, at time.Time) (Grant, error)
	// ExpireGrants marks the pending requests whose time is over as
	// expired, destroys their secrets, and returns them.
	ExpireGrants(ctx context.Context, now time.Time) ([]Grant, error)
	// SetPendingGrant sets or clears ("") the grant an account waits for.
	SetPendingGrant(ctx context.Context, userID, grantID string) error
	// DeleteUser deletes an account that never served (a refused one).
	DeleteUser(ctx context.Context, userID string) error
}

var _ GrantStore = (*SQLite)(nil)

const grantCols = `id, kind, user_id, login, role, team_ids, secret, requested_by, requested_by_login, requested_at,
	expires_at, status, decided_by, decided_by_login, decided_at`

func (s *SQLite) scanGrant(r scanner) (Grant, error) {
	var g Grant
	var teams string
	var secret raw
	var req, exp, dec int64
	if err := r.Scan(&g.ID, &g.Kind, &g.UserID, &g.Login, &g.Role, &teams, &secret, &g.RequestedBy,
		&g.RequestedByLogin, &req, &exp, &g.Status, &g.DecidedBy, &g.DecidedLogin, &dec); err != nil {
		return Grant{}, err
	}
	if teams != "" {
		g.TeamIDs = strings.Split(teams, ",")
	}
	var err error
	if g.Secret, err = s.open("grant_requests", "secret", g.ID, secret.v); err != nil {
		return Grant{}, err
	}
	g.RequestedAt, g.ExpiresAt, g.DecidedAt = fromMS(req), fromMS(exp), fromMS(dec)
	return g, nil
}

// CreateGrant implements GrantStore; a request of the context is recorded
// with the grant's account as its object.
func (s *SQLite) CreateGrant(ctx context.Context, g Grant) error {
	return execErr("create grant request", s.inTx(ctx, func(tx *sql.Tx) error {
		var secret any
		if g.Secret != "" {
			secret = s.seal("grant_requests", "secret", g.ID, g.Secret)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO grant_requests (id, kind, user_id, login, role, team_ids, secret,
			requested_by, requested_by_login, requested_at, expires_at, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			g.ID, g.Kind, g.UserID, g.Login, g.Role, strings.Join(g.TeamIDs, ","), secret, g.RequestedBy,
			g.RequestedByLogin, ms(g.RequestedAt), ms(g.ExpiresAt), GrantPending)
		if err != nil {
			return err
		}
		return recordRequest(ctx, tx, g.UserID, 0)
	}))
}

// Grant implements GrantStore.
func (s *SQLite) Grant(ctx context.Context, id string) (Grant, error) {
	g, err := s.scanGrant(s.db.QueryRowContext(ctx, `SELECT `+grantCols+` FROM grant_requests WHERE id = ?`, id))
	if err != nil {
		return Grant{}, notFound(err, "grant request "+id)
	}
	return g, nil
}

// ListGrants implements GrantStore.
func (s *SQLite) ListGrants(ctx context.Context, all bool) ([]Grant, error) {
	q := `SELECT ` + grantCols + ` FROM grant_requests`
	if !all {
		q += ` WHERE status = 'pending'`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY status <> 'pending', requested_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list grant requests: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		g, err := s.scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("list grant requests: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// DecideGrant implements GrantStore.
func (s *SQLite) DecideGrant(ctx context.Context, id, status, by, byLogin string, at time.Time) (Grant, error) {
	var g Grant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = s.scanGrant(tx.QueryRowContext(ctx, `SELECT `+grantCols+` FROM grant_requests
			WHERE id = ? AND status = 'pending' AND expires_at > ?`, id, ms(at)))
		if err != nil {
			return notFound(err, "pending grant request "+id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grant_requests SET status = ?, decided_by = ?, decided_by_login = ?,
			decided_at = ?, secret = NULL WHERE id = ?`, status, by, byLogin, ms(at), id); err != nil {
			return err
		}
		return recordRequest(ctx, tx, id, 0)
	})
	if err != nil {
		return Grant{}, fmt.Errorf("decide grant request %s: %w", id, err)
	}
	return g, nil
}

// ExpireGrants implements GrantStore.
func (s *SQLite) ExpireGrants(ctx context.Context, now time.Time) ([]Grant, error) {
	var out []Grant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+grantCols+` FROM grant_requests WHERE status = 'pending'
			AND expires_at <= ?`, ms(now))
		if err != nil {
			return err
		}
		for rows.Next() {
			g, err := s.scanGrant(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE grant_requests SET status = 'expired', secret = NULL, decided_at = ?
			WHERE status = 'pending' AND expires_at <= ?`, ms(now), ms(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("expire grant requests: %w", err)
	}
	return out, nil
}

// SetPendingGrant implements GrantStore.
func (s *SQLite) SetPendingGrant(ctx context.Context, userID, grantID string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET pending_grant = ? WHERE id = ?`, grantID, userID)
	return s.mustUpdate(res, err, "pending grant of "+userID)
}

// DeleteUser implements GrantStore.
func (s *SQLite) DeleteUser(ctx context.Context, userID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM password_history WHERE user_id = ?`, `DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM user_teams WHERE user_id = ?`, `DELETE FROM users WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("delete user %s: %w", userID, err)
	}
	return nil
}
