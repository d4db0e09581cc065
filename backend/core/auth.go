package core

import (
	"context"
	"errors"
	"time"

	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/domain"
)

// Session is an opened session: its bearer token, when it ends at the
// latest, and the account.
type Session struct {
	Token   string
	Expires time.Time
	User    domain.User
}

// Login checks a login and password and opens a session from source (the
// client's address). Logins are audited where they arrive (the gRPC audit
// interceptor records successes and failures with the login tried). An
// unknown login, a wrong password and a throttled one are the same
// refusal, BAD_CREDENTIALS.
func (b *Backend) Login(ctx context.Context, login, password, source string) (Session, error) {
	if login == "" {
		return Session{}, domain.Invalid("login", "is required")
	}
	token, exp, u, err := b.Sessions.Login(ctx, login, password, source)
	if err != nil {
		return Session{}, AccountError("login", err)
	}
	return Session{Token: token, Expires: exp, User: u}, nil
}

// Logout ends the session the token hash names.
func (b *Backend) Logout(ctx context.Context, p auth.Principal) error {
	if err := b.Sessions.Logout(ctx, p); err != nil {
		return domain.Internal("logout", err)
	}
	return nil
}

// ChangePassword replaces the caller's password and opens a new session:
// every session of the user ends, the one used for the change included.
func (b *Backend) ChangePassword(ctx context.Context, p auth.Principal, oldPw, newPw, source string) (Session, error) {
	token, exp, err := b.Sessions.ChangePassword(ctx, p, oldPw, newPw, source)
	var pe *auth.PolicyError
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		return Session{}, AccountError("change password", err)
	case errors.Is(err, auth.ErrBadCredentials):
		return Session{}, domain.InvalidAs(domain.ReasonOldPasswordWrong, "old_password", "does not match")
	case errors.As(err, &pe):
		return Session{}, domain.InvalidAs(domain.ReasonPasswordRefused, "new_password", "%v", pe)
	case err != nil:
		return Session{}, domain.Internal("change password", err)
	}
	return Session{Token: token, Expires: exp, User: p.User}, nil
}
