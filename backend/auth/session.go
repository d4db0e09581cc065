package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

// Session lifetimes.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// Errors returned to callers; the services map them to Unauthenticated.
var (
	ErrBadCredentials = errors.New("invalid login or password")
	ErrNoSession      = errors.New("session expired or unknown")
)

// Principal is the authenticated caller.
type Principal struct {
	User      store.User
	TokenHash string
}

// Sessions opens, checks and revokes sessions.
type Sessions struct {
	Store  store.Store
	Clock  clock.Clock
	Params Params // for new hashes

	dummy string // hash verified for unknown logins, so timing does not tell them apart
}

// NewSessions builds a session manager.
func NewSessions(st store.Store, c clock.Clock, p Params) (*Sessions, error) {
	dummy, err := HashPassword(rand.Text(), p)
	if err != nil {
		return nil, err
	}
	return &Sessions{Store: st, Clock: c, Params: p, dummy: dummy}, nil
}

// HashToken is how a token is looked up: the database never holds a usable
// token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Login checks the password and opens a session. sourceAddr is kept with the
// session for the audit trail.
func (s *Sessions) Login(ctx context.Context, login, password, sourceAddr string) (token string, expires time.Time, u store.User, err error) {
	u, err = s.Store.UserByLogin(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		_ = VerifyPassword(s.dummy, password)
		return "", time.Time{}, store.User{}, ErrBadCredentials
	}
	if err != nil {
		return "", time.Time{}, store.User{}, fmt.Errorf("login %s: %w", login, err)
	}
	if err := VerifyPassword(u.PasswordHash, password); err != nil {
		if errors.Is(err, ErrMismatch) {
			return "", time.Time{}, store.User{}, ErrBadCredentials
		}
		return "", time.Time{}, store.User{}, fmt.Errorf("login %s: %w", login, err)
	}
	if u.Disabled {
		return "", time.Time{}, store.User{}, ErrBadCredentials
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, store.User{}, fmt.Errorf("token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	now := s.Clock.Now()
	expires = now.Add(AbsoluteTimeout)
	err = s.Store.CreateSession(ctx, store.Session{TokenHash: HashToken(token), UserID: u.ID, SourceAddr: sourceAddr,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: expires})
	if err != nil {
		return "", time.Time{}, store.User{}, err
	}
	return token, expires, u, nil
}

// Authenticate resolves a token to its principal and extends the idle
// timeout. Expired sessions are deleted.
func (s *Sessions) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrNoSession
	}
	h := HashToken(token)
	se, err := s.Store.SessionByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	now := s.Clock.Now()
	if !now.Before(se.ExpiresAt) || !now.Before(se.LastUsedAt.Add(IdleTimeout)) {
		_ = s.Store.DeleteSession(ctx, h)
		return Principal{}, ErrNoSession
	}
	u, err := s.Store.UserByID(ctx, se.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		_ = s.Store.DeleteSession(ctx, h)
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	if err := s.Store.TouchSession(ctx, h, now); err != nil {
		return Principal{}, err
	}
	return Principal{User: u, TokenHash: h}, nil
}

// Logout revokes the session.
func (s *Sessions) Logout(ctx context.Context, p Principal) error {
	return s.Store.DeleteSession(ctx, p.TokenHash)
}

// ChangePassword checks the old password and the policy, stores the new
// hash and revokes every other session of the user.
func (s *Sessions) ChangePassword(ctx context.Context, p Principal, oldPw, newPw string) error {
	u, err := s.Store.UserByID(ctx, p.User.ID)
	if err != nil {
		return err
	}
	if err := VerifyPassword(u.PasswordHash, oldPw); err != nil {
		return ErrBadCredentials
	}
	if err := CheckPolicy(u.Login, newPw); err != nil {
		return &PolicyError{err}
	}
	if oldPw == newPw {
		return &PolicyError{errors.New("new password must differ from the old one")}
	}
	hash, err := HashPassword(newPw, s.Params)
	if err != nil {
		return err
	}
	if err := s.Store.SetPassword(ctx, u.ID, hash, false); err != nil {
		return err
	}
	// Keep the caller's session, drop the others: a changed password must
	// lock out whoever else held one.
	return s.Store.DeleteUserSessions(ctx, u.ID, p.TokenHash)
}

// PolicyError is a password refused by the policy.
type PolicyError struct{ Err error }

func (e *PolicyError) Error() string { return e.Err.Error() }
func (e *PolicyError) Unwrap() error { return e.Err }
