package backend

import (
	"context"

	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
)

// configureIdentity applies the password settings and sends the events of
// a login (an account locked, a password expired) to the audit trail.
func (a *App) configureIdentity() {
	if a.cfg.PasswordMaxAge > 0 {
		a.sessions.Rules.MaxAge = a.cfg.PasswordMaxAge
	}
	a.sessions.Notify = func(ctx context.Context, e auth.Event) {
		// Happens during Login, before anyone is authenticated: the account
		// concerned is the actor.
		err := a.audit.Append(ctx, audit.Entry{Actor: audit.Actor{UserID: e.User.ID, Login: e.User.Login, Role: e.User.Role},
			Source: e.Details["source"], Action: e.Action, Target: e.User.Login, Details: e.Details})
		if err != nil {
			a.log.Error("audit account event", "action", e.Action, "login", e.User.Login, "err", err)
		}
	}
}

// Sessions exposes the session and account manager to tests.
func (a *App) Sessions() *auth.Sessions { return a.sessions }
