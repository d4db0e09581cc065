package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
)

// NewAccount is an account to create. Accounts are named (R9): first and
// last name are required, the login is unique.
type NewAccount struct {
	Login, FirstName, LastName, Role, Password string
	TeamIDs                                    []string
	AgentID                                    string
	// OneTime makes the user choose a new password at first login; every
	// account an administrator makes has it, demo accounts do not.
	OneTime bool
	// DisplayName defaults to "First Last".
	DisplayName string
	// PendingGrant makes the account wait for a second person's approval
	// of this grant request before it can log in.
	PendingGrant string
}

// FieldError is an account request refused because of one field.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// SplitName cuts "First Last" at the first space, for callers that have
// one name string.
func SplitName(full string) (first, last string) {
	first, last, _ = strings.Cut(strings.TrimSpace(full), " ")
	return first, strings.TrimSpace(last)
}

// CreateAccount checks and stores a new account.
func (s *Sessions) CreateAccount(ctx context.Context, a NewAccount) (store.User, error) {
	a.Login = strings.TrimSpace(a.Login)
	a.FirstName, a.LastName = strings.TrimSpace(a.FirstName), strings.TrimSpace(a.LastName)
	switch {
	case a.Login == "":
		return store.User{}, fieldErr("login", "is required")
	case strings.ContainsAny(a.Login, " \t\n"):
		return store.User{}, fieldErr("login", "must not contain spaces")
	case a.FirstName == "" || a.LastName == "":
		return store.User{}, fieldErr("first_name", "first and last name are required: accounts are named (R9)")
	case !policy.ValidRole(a.Role):
		return store.User{}, fieldErr("role", "unknown role %q (one of %s)", a.Role, strings.Join(policy.Roles, ", "))
	}
	if err := s.checkLinks(ctx, a.Role, a.TeamIDs, a.AgentID); err != nil {
		return store.User{}, err
	}
	if a.DisplayName == "" {
		a.DisplayName = a.FirstName + " " + a.LastName
	}
	u := store.User{ID: NewUserID(), Login: a.Login, DisplayName: a.DisplayName, FirstName: a.FirstName,
		LastName: a.LastName, Role: a.Role, PasswordChangeRequired: a.OneTime, AgentID: a.AgentID,
		TeamIDs: a.TeamIDs, CreatedAt: s.Clock.Now(), PendingGrant: a.PendingGrant}
	if err := s.Rules.CheckPassword(PersonOf(u), a.Password); err != nil {
		return store.User{}, fmt.Errorf("password: %w", err)
	}
	hash, err := HashPassword(a.Password, s.Params)
	if err != nil {
		return store.User{}, err
	}
	u.PasswordHash, u.PasswordChangedAt = hash, u.CreatedAt
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return store.User{}, fieldErr("login", "%q is taken", a.Login)
		}
		return store.User{}, err
	}
	return u, nil
}

// checkLinks enforces the links a role needs: teams for supervisors and
// trainers, an agent id for agents, and nothing else.
func (s *Sessions) checkLinks(ctx context.Context, role string, teams []string, agent string) error {
	switch policy.Table[role].Rows {
	case policy.RowsOwnTeams, policy.RowsTrainees:
		if len(teams) == 0 {
			return fieldErr("team_ids", "a %s needs at least one team", role)
		}
	case policy.RowsOwnCalls:
		if agent == "" {
			return fieldErr("agent_id", "an %s account needs an agent id", role)
		}
	}
	if agent != "" && policy.Table[role].Rows != policy.RowsOwnCalls {
		return fieldErr("agent_id", "only an agent account is linked to an agent")
	}
	for _, t := range teams {
		if _, err := s.Store.TeamByID(ctx, t); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fieldErr("team_ids", "no team %q", t)
			}
			return err
		}
	}
	if agent != "" {
		a, err := s.Store.AgentByID(ctx, agent)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fieldErr("agent_id", "no agent %q", agent)
			}
			return err
		}
		if !a.EndedAt.IsZero() {
			return fieldErr("agent_id", "agent %q was ended: an ended agent gets no account", agent)
		}
	}
	return nil
}

// CheckTeams checks teams for an account of role, as SetTeams would.
func (s *Sessions) CheckTeams(ctx context.Context, role string, teams []string) error {
	return s.checkLinks(ctx, role, teams, "")
}

// SetTeams replaces the teams of a supervisor or trainer.
func (s *Sessions) SetTeams(ctx context.Context, userID string, teams []string) (store.User, error) {
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return store.User{}, err
	}
	switch policy.Table[u.Role].Rows {
	case policy.RowsOwnTeams, policy.RowsTrainees:
	default:
		return store.User{}, fieldErr("team_ids", "a %s account is not linked to teams", u.Role)
	}
	if err := s.checkLinks(ctx, u.Role, teams, u.AgentID); err != nil {
		return store.User{}, err
	}
	if err := s.Store.SetUserTeams(ctx, userID, teams); err != nil {
		return store.User{}, err
	}
	return s.Store.UserByID(ctx, userID)
}

// SetDisabled disables (sessions revoked) or re-enables an account.
func (s *Sessions) SetDisabled(ctx context.Context, userID string, disabled bool) (store.User, error) {
	if err := s.Store.SetUserDisabled(ctx, userID, disabled, s.Clock.Now()); err != nil {
		return store.User{}, err
	}
	return s.Store.UserByID(ctx, userID)
}

// ResetPassword gives the user a new random one-time password, revokes
// the user's sessions and returns the password. The caller records it
// (backend/core).
func (s *Sessions) ResetPassword(ctx context.Context, userID string) (string, error) {
	pw := GeneratePassword()
	return pw, s.ResetPasswordTo(ctx, userID, pw)
}

// ResetPasswordTo sets pw as the user's one-time password and revokes the
// user's sessions (backend/core splits pw between two people).
func (s *Sessions) ResetPasswordTo(ctx context.Context, userID, pw string) error {
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	hash, err := HashPassword(pw, s.Params)
	if err != nil {
		return err
	}
	if err := s.Store.ChangePassword(ctx, u.ID, hash, true, s.Clock.Now()); err != nil {
		return err
	}
	return s.Store.DeleteUserSessions(ctx, u.ID, "")
}

// NewUserID returns a random account id.
func NewUserID() string { return "u-" + strings.ToLower(rand.Text()[:16]) }
