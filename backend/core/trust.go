package core

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
)

// Audit actions of the four-eyes rule.
const (
	ActionGrantApprove = "grant.approve"
	ActionGrantRefuse  = "grant.refuse"
	ActionGrantExpire  = "grant.expire"
)

// Grant is a privileged change waiting for, or given, a second person's
// decision (store.Grant without its secret).
type Grant = store.Grant

// privileged are the roles that read call content or personal data: an
// account made with one waits for a second person (R8, R9).
var privileged = map[string]bool{domain.RoleSupervisor: true, domain.RoleTrainer: true, domain.RoleHR: true,
	domain.RoleDPO: true, domain.RoleAdmin: true}

// Privileged tells whether an account of role needs a second person's
// approval.
func Privileged(role string) bool { return privileged[role] }

// fourEyes tells whether a caller's privileged grants wait for a second
// person: every account does; the operator of the data directory (the
// command line), who holds its keys and database and so could bypass any
// control, grants at once, and is audited as such.
func fourEyes(c Caller) bool { return c.User.Role != domain.RoleSystem }

// newGrant is a pending grant request made by c now.
func (b *Backend) newGrant(c Caller, kind string, u domain.User) store.Grant {
	now := b.Clock.Now()
	return store.Grant{ID: NewID(), Kind: kind, UserID: u.ID, Login: u.Login, Role: u.Role, RequestedBy: c.User.ID,
		RequestedByLogin: c.User.Login, RequestedAt: now, ExpiresAt: config.GrantExpires(now), Status: store.GrantPending}
}

// ListGrants lists the grant requests, pending first (the closed ones too
// when all); the secrets stay behind.
func (b *Backend) ListGrants(ctx context.Context, all bool) ([]Grant, error) {
	gs, err := b.Store.ListGrants(ctx, all)
	if err != nil {
		return nil, domain.Internal("list grant requests", err)
	}
	now := b.Clock.Now()
	for i := range gs {
		gs[i].Secret = ""
		if gs[i].Status == store.GrantPending && !now.Before(gs[i].ExpiresAt) {
			gs[i].Status = store.GrantExpired
		}
	}
	return gs, nil
}

// decide checks that c may decide g: a second person, neither who asked
// nor whom it concerns.
func decide(c Caller, g store.Grant) error {
	self := (g.RequestedBy != "" && g.RequestedBy == c.User.ID) ||
		(g.RequestedBy == "" && g.RequestedByLogin == c.User.Login) ||
		(c.User.ID != "" && g.UserID == c.User.ID)
	if self {
		return domain.New(domain.ReasonSelfApproval,
			"grant %s was asked by %s for %s: a second person decides it, not who asked nor whom it concerns",
			g.ID, g.RequestedByLogin, g.Login)
	}
	return nil
}

// claim moves the pending request id to status for c and returns it with
// its secret; a request decided already, expired or unknown is refused.
func (b *Backend) claim(ctx context.Context, c Caller, id, status string) (store.Grant, entry, error) {
	e := entry{target: id}
	if err := limits.ID("grant_id", id); err != nil {
		return store.Grant{}, e, err
	}
	if id == "" {
		return store.Grant{}, e, domain.Invalid("grant_id", "is required")
	}
	g, err := b.Store.Grant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return g, e, domain.NotFound("grant request %s not found", id)
	} else if err != nil {
		return g, e, domain.Internal("find grant request", err)
	}
	e.details = map[string]string{"kind": g.Kind, "login": g.Login, "role": g.Role, "requested_by": g.RequestedByLogin}
	if err := decide(c, g); err != nil {
		return g, e, err
	}
	now := b.Clock.Now()
	if g.Status != store.GrantPending || !now.Before(g.ExpiresAt) {
		st := g.Status
		if st == store.GrantPending {
			st = store.GrantExpired
		}
		return g, e, domain.New(domain.ReasonGrantClosed, "grant request %s is %s", id, st).With(domain.MetaStatus, st)
	}
	by := c.User.ID
	claimed, err := b.Store.DecideGrant(ctx, id, status, by, c.User.Login, now)
	if errors.Is(err, store.ErrNotFound) {
		return g, e, domain.New(domain.ReasonGrantClosed, "grant request %s was decided meanwhile", id).
			With(domain.MetaStatus, "decided")
	} else if err != nil {
		return g, e, domain.Internal("decide grant request", err)
	}
	claimed.Status, claimed.DecidedBy, claimed.DecidedLogin, claimed.DecidedAt = status, by, c.User.Login, now
	return claimed, e, nil
}

// ApproveGrant applies a pending request decided by a second person. For a
// password reset it returns the second half of the one-time password,
// once: it is destroyed as it is given.
func (b *Backend) ApproveGrant(ctx context.Context, c Caller, id string) (Grant, string, error) {
	g, e, err := b.claim(ctx, c, id, store.GrantApproved)
	secret := ""
	if err == nil {
		switch g.Kind {
		case store.GrantAccount:
			if err = b.Store.SetPendingGrant(ctx, g.UserID, ""); err != nil {
				err = AccountError("approve account", err)
			}
		case store.GrantTeams:
			_, err = b.Sessions.SetTeams(ctx, g.UserID, g.TeamIDs)
			err = AccountError("approve teams", err)
			e.details["teams"] = strings.Join(g.TeamIDs, ",")
		case store.GrantPasswordReset:
			secret = g.Secret
		}
	}
	g.Secret = ""
	return g, secret, b.record(ctx, c, ActionGrantApprove, e, err)
}

// RefuseGrant closes a pending request without applying it: a pending
// account is deleted, a reset's second half destroyed.
func (b *Backend) RefuseGrant(ctx context.Context, c Caller, id string) (Grant, error) {
	g, err := once(ctx, b, c, "grant.refuse", ActionGrantRefuse,
		func(ctx context.Context) (Grant, entry, error) {
			g, e, err := b.claim(ctx, c, id, store.GrantRefused)
			if err == nil && g.Kind == store.GrantAccount {
				if err = b.Store.DeleteUser(ctx, g.UserID); err != nil {
					err = domain.Internal("delete refused account", err)
				}
			}
			return g, e, err
		},
		func(ctx context.Context, r store.Request) (Grant, error) {
			return again(b.Store.Grant(ctx, r.ObjectID))
		})
	g.Secret = ""
	return g, err
}

// ExpireGrants closes the requests nobody decided in time (the daily
// purge): pending accounts are deleted, reset halves destroyed; each is
// audited.
func (b *Backend) ExpireGrants(ctx context.Context, now time.Time) (int, error) {
	gs, err := b.Store.ExpireGrants(ctx, now)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, g := range gs {
		if g.Kind == store.GrantAccount {
			if err := b.Store.DeleteUser(ctx, g.UserID); err != nil {
				errs = append(errs, err)
			}
		}
		errs = append(errs, b.record(ctx, Local(), ActionGrantExpire, entry{target: g.ID,
			details: map[string]string{"kind": g.Kind, "login": g.Login, "requested_by": g.RequestedByLogin}}, nil))
	}
	return len(gs), errors.Join(errs...)
}

// LoginLocks lists the login and source pairs throttled now (R10: every
// lock is also an audit entry).
func (b *Backend) LoginLocks(ctx context.Context) ([]store.Throttle, error) {
	ls, err := b.Store.LoginLocks(ctx, b.Clock.Now())
	if err != nil {
		return nil, domain.Internal("list login locks", err)
	}
	return ls, nil
}

// widens tells whether teams adds a team to those of u.
func widens(u domain.User, teams []string) bool {
	for _, t := range teams {
		if !slices.Contains(u.TeamIDs, t) {
			return true
		}
	}
	return false
}

// readsCalls tells whether a role's teams widen what it hears.
func readsCalls(role string) bool {
	r := policy.Table[role].Rows
	return r == policy.RowsOwnTeams || r == policy.RowsTrainees
}

// halves makes a one-time password of two halves, each given to one
// person: 16 random characters each (80 bits), so neither half alone is
// worth guessing from.
func halves() (string, string) {
	t := rand.Text() + rand.Text()
	return t[:16], t[16:32]
}
