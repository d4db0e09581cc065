package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
)

// Audit actions of the account operations.
const (
	ActionAccountCreate  = "account.create"
	ActionAccountDisable = "account.disable"
	ActionAccountEnable  = "account.enable"
	ActionAccountTeams   = "account.teams"
	ActionPasswordReset  = auth.EventPasswordReset
	ActionSessionsRevoke = auth.EventSessionsRevoked
)

// AccountError turns what the account rules refuse (auth's errors) into
// typed refusals; other errors become internal failures of what.
func AccountError(what string, err error) error {
	var fe *auth.FieldError
	var pe *auth.PolicyError
	var locked *auth.LockedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*domain.Error)):
		return err
	case errors.As(err, &fe) && strings.HasSuffix(fe.Msg, "is taken"):
		return domain.New(domain.ReasonAlreadyExists, "%s", fe.Error()).With(domain.MetaField, fe.Field)
	case errors.As(err, &fe):
		return domain.Invalid(fe.Field, "%s", fe.Msg)
	case errors.As(err, &pe):
		return domain.InvalidAs(domain.ReasonPasswordRefused, "initial_password", "%v", pe)
	case errors.Is(err, auth.ErrBadCredentials):
		return domain.New(domain.ReasonBadCredentials, "invalid login or password")
	case errors.As(err, &locked):
		return domain.New(domain.ReasonAccountLocked, "%s", locked.Error()).
			With(domain.MetaLockedUntil, locked.Until.UTC().Format(time.RFC3339))
	case errors.Is(err, auth.ErrDisabled):
		return domain.New(domain.ReasonAccountDisabled, "%s", err.Error())
	case errors.Is(err, store.ErrNotFound):
		return domain.NotFound("%s: %v", what, err)
	}
	return domain.Internal(what, err)
}

// ListUsers lists every account, by login.
func (b *Backend) ListUsers(ctx context.Context) ([]domain.User, error) {
	us, err := b.Store.ListUsers(ctx)
	if err != nil {
		return nil, domain.Internal("list users", err)
	}
	return us, nil
}

// UserByLogin finds an account by its login (the command line names
// accounts so).
func (b *Backend) UserByLogin(ctx context.Context, login string) (domain.User, error) {
	u, err := b.Store.UserByLogin(ctx, login)
	return account(u, err, fmt.Sprintf("no account %q", login))
}

// account is a user read from the store: a missing one is NOT_FOUND.
func account(u domain.User, err error, missing string) (domain.User, error) {
	if errors.Is(err, store.ErrNotFound) {
		return domain.User{}, domain.NotFound("%s", missing)
	}
	if err != nil {
		return domain.User{}, domain.Internal("find account", err)
	}
	return u, nil
}

func (b *Backend) userByID(ctx context.Context, id string) (domain.User, error) {
	if strings.TrimSpace(id) == "" {
		return domain.User{}, domain.Invalid("user_id", "is required")
	}
	u, err := b.Store.UserByID(ctx, id)
	return account(u, err, fmt.Sprintf("user_id: no account %q", id))
}

// NewAccount is an account to create: auth's, whose checks apply.
type NewAccount = auth.NewAccount

// CreateUser checks and creates a named account with a one-time password
// (the given one, or a generated one returned as generated). A request
// sent again answers the account, never the generated password (it is not
// kept).
func (b *Backend) CreateUser(ctx context.Context, c Caller, a NewAccount) (u domain.User, generated string, err error) {
	a.OneTime = true
	u, err = once(ctx, b, c, "account.create", ActionAccountCreate,
		func(ctx context.Context) (domain.User, entry, error) {
			e := entry{target: a.Login, details: map[string]string{"role": a.Role}}
			if a.Password == "" {
				a.Password = auth.GeneratePassword()
				generated = a.Password
			}
			u, err := b.Sessions.CreateAccount(ctx, a)
			return u, e, AccountError("create user", err)
		},
		func(ctx context.Context, r store.Request) (domain.User, error) { return b.userByID(ctx, r.ObjectID) })
	if err != nil || u.ID == "" {
		return u, "", err
	}
	return u, generated, nil
}

// InitAdmin creates the first administrator; it refuses once any account
// exists.
func (b *Backend) InitAdmin(ctx context.Context, c Caller, login, displayName, password string) (domain.User, error) {
	n, err := b.Store.CountUsers(ctx)
	if err != nil {
		return domain.User{}, domain.Internal("count accounts", err)
	}
	if n > 0 {
		return domain.User{}, domain.New(domain.ReasonFailedPrecondition, "already initialised: accounts exist")
	}
	first, last := auth.SplitName(displayName)
	u, _, err := b.CreateUser(ctx, c, NewAccount{Login: login, FirstName: first, LastName: last,
		DisplayName: displayName, Role: domain.RoleAdmin, Password: password})
	return u, err
}

// SetDisabled disables (and logs out) or re-enables an account. An
// administrator may not disable their own account.
func (b *Backend) SetDisabled(ctx context.Context, c Caller, userID string, disabled bool) (domain.User, error) {
	action := ActionAccountEnable
	if disabled {
		action = ActionAccountDisable
	}
	return once(ctx, b, c, "account.set_disabled", action,
		func(ctx context.Context) (domain.User, entry, error) {
			e := entry{target: userID}
			u, err := b.userByID(ctx, userID)
			if err != nil {
				return u, e, err
			}
			e.target = u.Login
			if c.User.ID != "" && c.User.ID == u.ID && disabled {
				return u, e, domain.New(domain.ReasonSelfDisable, "user_id: an administrator may not disable their own account")
			}
			u, err = b.Sessions.SetDisabled(ctx, u.ID, disabled)
			return u, e, AccountError("set user disabled", err)
		},
		func(ctx context.Context, r store.Request) (domain.User, error) { return b.userByID(ctx, r.ObjectID) })
}

// SetTeams replaces the teams of a supervisor or trainer.
func (b *Backend) SetTeams(ctx context.Context, c Caller, userID string, teams []string) (domain.User, error) {
	return once(ctx, b, c, "account.teams", ActionAccountTeams,
		func(ctx context.Context) (domain.User, entry, error) {
			e := entry{target: userID, details: map[string]string{"teams": strings.Join(teams, ",")}}
			u, err := b.userByID(ctx, userID)
			if err != nil {
				return u, e, err
			}
			e.target = u.Login
			u, err = b.Sessions.SetTeams(ctx, u.ID, teams)
			return u, e, AccountError("set user teams", err)
		},
		func(ctx context.Context, r store.Request) (domain.User, error) { return b.userByID(ctx, r.ObjectID) })
}

// ResetPassword gives an account a random one-time password, ends its
// sessions and returns the password (shown once). It takes no request id:
// the password is never kept, and resetting again is safe.
func (b *Backend) ResetPassword(ctx context.Context, c Caller, userID string) (string, error) {
	e := entry{target: userID}
	pw, err := func() (string, error) {
		u, err := b.userByID(ctx, userID)
		if err != nil {
			return "", err
		}
		e.target = u.Login
		pw, err := b.Sessions.ResetPassword(ctx, u.ID)
		return pw, AccountError("reset password", err)
	}()
	return pw, b.record(ctx, c, ActionPasswordReset, e, err)
}

// ListSessions lists the open sessions, of one user ("" = all), oldest
// first; expired sessions (deleted at their next use) are left out.
func (b *Backend) ListSessions(ctx context.Context, userID string) ([]store.UserSession, error) {
	ss, err := b.Store.ListUserSessions(ctx, userID)
	if err != nil {
		return nil, domain.Internal("list sessions", err)
	}
	now := b.Clock.Now()
	return slices.DeleteFunc(ss, func(se store.UserSession) bool {
		return !now.Before(se.ExpiresAt) || !now.Before(se.LastUsedAt.Add(auth.IdleTimeout))
	}), nil
}

// RevokeSessions ends one session of a user (sessionID) or all of them
// ("") and says how many ended.
func (b *Backend) RevokeSessions(ctx context.Context, c Caller, userID, sessionID string) (int, error) {
	n, err := once(ctx, b, c, "sessions.revoke", ActionSessionsRevoke,
		func(ctx context.Context) (int64, entry, error) {
			e := entry{target: userID}
			u, err := b.userByID(ctx, userID)
			if err != nil {
				return 0, e, err
			}
			e.target = u.Login
			before, err := b.Store.ListUserSessions(ctx, u.ID)
			if err != nil {
				return 0, e, domain.Internal("revoke sessions", err)
			}
			if sessionID == "" {
				if err := b.Store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
					return 0, e, domain.Internal("revoke sessions", err)
				}
				e.details = map[string]string{"revoked": strconv.Itoa(len(before))}
				return int64(len(before)), e, nil
			}
			if !slices.ContainsFunc(before, func(se store.UserSession) bool { return se.TokenHash == sessionID }) {
				return 0, e, domain.NotFound("session_id: no such session of %s", u.Login)
			}
			if err := b.Store.DeleteSession(ctx, sessionID); err != nil {
				return 0, e, domain.Internal("revoke session", err)
			}
			e.details = map[string]string{"revoked": "1"}
			return 1, e, nil
		},
		func(_ context.Context, r store.Request) (int64, error) { return r.Count, nil })
	return int(n), err
}
