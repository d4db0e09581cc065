// Package domain holds the values every layer of the backend speaks: the
// roles, the account, the reach of a caller (scopes), the evaluation
// states, and the typed errors (errors.go). It imports nothing of the
// project: the rules (policy, lifecycle) depend on it, not on the store, and
// the store keeps these values as they are.
package domain

import "time"

// Roles a user may hold. Telephony is the service account that uploads
// recordings; it is no person and sees nothing.
const (
	RoleSupervisor  = "supervisor"
	RoleTrainer     = "trainer"
	RoleAgent       = "agent"
	RoleHR          = "hr"
	RoleClient      = "client"
	RoleMaintenance = "maintenance"
	RoleDPO         = "dpo"
	RoleAdmin       = "admin"
	RoleTelephony   = "telephony"
)

// RoleSystem is the role of the operator of the command line and of the
// scheduled jobs: no account holds it and no session carries it.
const RoleSystem = "system"

// User is one named account (R9).
type User struct {
	ID                     string
	Login                  string
	DisplayName            string
	Role                   string
	PasswordHash           string
	PasswordChangeRequired bool
	AgentID                string // empty unless the account is an agent's
	TeamIDs                []string
	Disabled               bool
	CreatedAt              time.Time
	// The named person, password life and lockout.
	FirstName, LastName string
	PasswordChangedAt   time.Time // zero = never changed since creation
	FailedLogins        int
	LockedUntil         time.Time // zero = not locked
	// PendingGrant is the grant request a new account with a privileged
	// role waits for; it cannot log in until a second person approves.
	PendingGrant string
}

// Scope limits the calls a caller may read. The zero Scope reads nothing.
type Scope struct {
	All      bool
	TeamIDs  []string // calls of these teams
	AgentIDs []string // calls of these agents
	// Trainer, an account id, reaches a trainer's calls: those of the
	// agents a coaching session of theirs names (their trainees), within
	// TrainerTeams, and the calls their sessions include (clips, attached
	// evaluations), wherever they are.
	Trainer      string
	TrainerTeams []string
}

// Empty tells whether the scope can match no call at all.
func (s Scope) Empty() bool {
	return !s.All && len(s.TeamIDs) == 0 && len(s.AgentIDs) == 0 && s.Trainer == ""
}

// EvalScope is which evaluations a caller may read: those of calls in Scope
// (by team or agent), and only submitted ones unless Drafts.
type EvalScope struct {
	Scope  Scope
	Drafts bool
}

// Evaluation states (backend/lifecycle says which action leads where).
const (
	EvalDraft        = "draft"
	EvalSubmitted    = "submitted"
	EvalAcknowledged = "acknowledged"
	EvalDisputed     = "disputed"
	EvalResolved     = "resolved"
)

// Dispute resolutions.
const (
	ResolutionKept    = "kept"
	ResolutionRevised = "revised"
)

// Coaching session states (backend/lifecycle says which action leads where).
const (
	CoachingDraft        = "draft"
	CoachingShared       = "shared"
	CoachingAcknowledged = "acknowledged"
	CoachingDisputed     = "disputed"
)
