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
	"github.com/ecoute/ecoute/backend/limits"
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
	var throttled *auth.ThrottledError
	var pending *auth.PendingError
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
	case errors.As(err, &throttled):
		return domain.New(domain.ReasonTooManyAttempts, "%s", throttled.Error()).
			With(domain.MetaRetryAfter, throttled.Until.UTC().Format(time.RFC3339))
	case errors.As(err, &pending):
		return domain.New(domain.ReasonGrantPending, "%s", pending.Error()).With(domain.MetaGrantID, pending.GrantID)
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
	if err := limits.ID("user_id", id); err != nil {
		return domain.User{}, err
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
//
// An account whose role reads call content or personal data (supervisor,
// trainer, hr, dpo, admin) waits for a second person's approval before it
// can log in (u.PendingGrant; TrustService.ApproveGrant), unless the
// command line made it.
func (b *Backend) CreateUser(ctx context.Context, c Caller, a NewAccount) (u domain.User, generated string, err error) {
	a.OneTime = true
	u, err = once(ctx, b, c, "account.create", ActionAccountCreate,
		func(ctx context.Context) (domain.User, entry, error) {
			e := entry{target: a.Login, details: map[string]string{"role": a.Role}}
			if err := checkAccount(a); err != nil {
				return domain.User{}, e, err
			}
			if a.Password == "" {
				a.Password = auth.GeneratePassword()
				generated = a.Password
			}
			var g store.Grant
			if Privileged(a.Role) && fourEyes(c) {
				g = b.newGrant(c, store.GrantAccount, domain.User{Login: a.Login, Role: a.Role})
				a.PendingGrant = g.ID
				e.details["grant"] = g.ID
			} else if Privileged(a.Role) {
				e.details["four_eyes"] = "local operator"
			}
			u, err := b.Sessions.CreateAccount(ctx, a)
			if err == nil && g.ID != "" {
				g.UserID = u.ID
				// The request id stays with the account, not the grant.
				if gerr := b.Store.CreateGrant(store.WithRequest(ctx, nil), g); gerr != nil {
					b.Store.DeleteUser(ctx, u.ID)
					return domain.User{}, e, domain.Internal("create grant request", gerr)
				}
			}
			return u, e, AccountError("create user", err)
		},
		func(ctx context.Context, r store.Request) (domain.User, error) { return b.userByID(ctx, r.ObjectID) })
	if err != nil || u.ID == "" {
		return u, "", err
	}
	return u, generated, nil
}

// checkAccount applies the input limits to an account to create.
func checkAccount(a NewAccount) error {
	for _, err := range []error{
		limits.Login("login", a.Login), limits.Line("first_name", a.FirstName, limits.MaxName),
		limits.Line("last_name", a.LastName, limits.MaxName), limits.Line("display_name", a.DisplayName, limits.MaxName),
		limits.Line("role", a.Role, limits.MaxName), limits.IDs("team_ids", a.TeamIDs, limits.MaxTeams),
		limits.ID("agent_id", a.AgentID), limits.Line("initial_password", a.Password, 1024),
	} {
		if err != nil {
			return err
		}
	}
	return nil
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

// SetTeams replaces the teams of a supervisor or trainer. Removing teams
// applies at once; adding some (more calls to hear) waits for a second
// person's approval, whose request is pendingGrant (the account is
// returned unchanged), unless the command line asked.
func (b *Backend) SetTeams(ctx context.Context, c Caller, userID string, teams []string) (u domain.User, pendingGrant string, err error) {
	u, err = once(ctx, b, c, "account.teams", ActionAccountTeams,
		func(ctx context.Context) (domain.User, entry, error) {
			e := entry{target: userID, details: map[string]string{"teams": strings.Join(teams, ",")}}
			if err := limits.IDs("team_ids", teams, limits.MaxTeams); err != nil {
				return domain.User{}, e, err
			}
			u, err := b.userByID(ctx, userID)
			if err != nil {
				return u, e, err
			}
			e.target = u.Login
			if readsCalls(u.Role) && widens(u, teams) && fourEyes(c) {
				if err := b.Sessions.CheckTeams(ctx, u.Role, teams); err != nil {
					return u, e, AccountError("set user teams", err)
				}
				g := b.newGrant(c, store.GrantTeams, u)
				g.TeamIDs = slices.Clone(teams)
				if err := b.Store.CreateGrant(ctx, g); err != nil {
					return u, e, domain.Internal("create grant request", err)
				}
				pendingGrant, e.details["grant"] = g.ID, g.ID
				return u, e, nil
			}
			u, err = b.Sessions.SetTeams(ctx, u.ID, teams)
			return u, e, AccountError("set user teams", err)
		},
		func(ctx context.Context, r store.Request) (domain.User, error) { return b.userByID(ctx, r.ObjectID) })
	return u, pendingGrant, err
}

// Reset is the outcome of ResetPassword: what the asking person gets.
type Reset struct {
	// Password is the whole one-time password: for the command line only.
	Password string
	// FirstHalf is the half the administrator hands to the user; the
	// second half goes, once, to the second person who approves Grant.
	FirstHalf string
	Grant     string
	Expires   time.Time
}

// ResetPassword gives an account a random one-time password and ends its
// sessions. Nobody but the user ever holds it whole: the administrator gets
// its first half, and the second person who approves the grant request
// (another administrator or the dpo) its second half, once; the user types
// both and must then choose a password. Unapproved, the reset expires in
// config.GrantRequests and the halves are worthless (the second is
// destroyed). The command line's operator, who holds the data directory,
// gets the whole password. No request id: nothing of the password is
// kept in clear, and resetting again is safe.
func (b *Backend) ResetPassword(ctx context.Context, c Caller, userID string) (Reset, error) {
	e := entry{target: userID}
	r, err := func() (Reset, error) {
		u, err := b.userByID(ctx, userID)
		if err != nil {
			return Reset{}, err
		}
		e.target = u.Login
		if !fourEyes(c) {
			pw, err := b.Sessions.ResetPassword(ctx, u.ID)
			e.details = map[string]string{"four_eyes": "local operator"}
			return Reset{Password: pw}, AccountError("reset password", err)
		}
		first, second := halves()
		g := b.newGrant(c, store.GrantPasswordReset, u)
		g.Secret = second
		if err := b.Sessions.ResetPasswordTo(ctx, u.ID, first+second); err != nil {
			return Reset{}, AccountError("reset password", err)
		}
		if err := b.Store.CreateGrant(ctx, g); err != nil {
			return Reset{}, domain.Internal("create grant request", err)
		}
		e.details = map[string]string{"grant": g.ID}
		return Reset{FirstHalf: first, Grant: g.ID, Expires: g.ExpiresAt}, nil
	}()
	return r, b.record(ctx, c, ActionPasswordReset, e, err)
}

// ListSessions lists the open sessions, of one user ("" = all), oldest
// first; expired sessions (deleted at their next use) are left out.
func (b *Backend) ListSessions(ctx context.Context, userID string) ([]store.UserSession, error) {
	if err := limits.ID("user_id", userID); err != nil {
		return nil, err
	}
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
			if err := limits.Line("session_id", sessionID, limits.MaxRequestID); err != nil {
				return 0, e, err
			}
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
