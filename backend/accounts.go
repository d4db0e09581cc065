package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/service"
	"github.com/ecoute/ecoute/backend/store"
)

// configureIdentity applies the password settings and sends the account
// events (lock, expiry, reset, revocation) to the audit trail.
func (a *App) configureIdentity() {
	if a.cfg.PasswordMaxAge > 0 {
		a.sessions.Rules.MaxAge = a.cfg.PasswordMaxAge
	}
	a.sessions.Notify = func(ctx context.Context, e auth.Event) {
		actor := audit.System
		source := "local"
		if p, ok := auth.FromContext(ctx); ok {
			actor = audit.Actor{UserID: p.User.ID, Login: p.User.Login, Role: p.User.Role}
			source = ""
		}
		if e.Action == auth.EventLocked || e.Action == auth.EventPasswordExpired {
			// Happens during Login, before anyone is authenticated: the
			// account concerned is the actor.
			actor = audit.Actor{UserID: e.User.ID, Login: e.User.Login, Role: e.User.Role}
			source = e.Details["source"]
		}
		err := a.audit.Append(ctx, audit.Entry{Actor: actor, Source: source, Action: e.Action, Target: e.User.Login,
			Details: e.Details})
		if err != nil {
			a.log.Error("audit account event", "action", e.Action, "login", e.User.Login, "err", err)
		}
	}
}

// Sessions exposes the session and account manager to tests.
func (a *App) Sessions() *auth.Sessions { return a.sessions }

// CreateAccount checks and creates an account and returns it.
func (a *App) CreateAccount(ctx context.Context, u NewUser) (store.User, error) {
	first, last := u.FirstName, u.LastName
	if first == "" && last == "" {
		first, last = auth.SplitName(u.DisplayName)
	}
	return a.sessions.CreateAccount(ctx, auth.NewAccount{Login: u.Login, FirstName: first, LastName: last,
		DisplayName: u.DisplayName, Role: u.Role, Password: u.Password, TeamIDs: u.TeamIDs, AgentID: u.AgentID,
		OneTime: u.PasswordChangeRequired})
}

func (a *App) userByLogin(ctx context.Context, login string) (store.User, error) {
	u, err := a.store.UserByLogin(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("no account %q", login)
	}
	return u, err
}

// DisableUser disables (and logs out) or re-enables an account.
func (a *App) DisableUser(ctx context.Context, login string, disabled bool) error {
	u, err := a.userByLogin(ctx, login)
	if err != nil {
		return err
	}
	_, err = a.sessions.SetDisabled(ctx, u.ID, disabled)
	return err
}

// ResetPassword gives an account a random one-time password and returns it.
func (a *App) ResetPassword(ctx context.Context, login string) (string, error) {
	u, err := a.userByLogin(ctx, login)
	if err != nil {
		return "", err
	}
	return a.sessions.ResetPassword(ctx, u.ID)
}

// ListUsers lists every account.
func (a *App) ListUsers(ctx context.Context) ([]store.User, error) { return a.store.ListUsers(ctx) }

// AddTeam creates a team.
func (a *App) AddTeam(ctx context.Context, id, name string) error {
	if id == "" || name == "" {
		return errors.New("team id and name are required")
	}
	return a.store.CreateTeam(ctx, store.Team{ID: id, Name: name, CreatedAt: a.cfg.Clock.Now()})
}

// AddRecordingPeriod declares that team may be recorded during [from, to).
func (a *App) AddRecordingPeriod(ctx context.Context, team string, from, to time.Time, note string) (store.RecordingPeriod, error) {
	return service.AddPeriod(ctx, a.store, a.cfg.Clock, team, from, to, note, audit.System.Login)
}
