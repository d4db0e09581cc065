package policy

import "github.com/ecoute/ecoute/backend/domain"

// AuditAreas says which entries of the audit trail each reader role may
// read, by action prefix (an action's first word names its area); a role
// absent from the table reads none, a nil list reads all. Audit entries
// carry no scores and no free text (they name the object that holds them),
// but who listened to which call, which evaluation was written or
// disputed, which person asked for their data, is itself personal data:
// the dpo, whose duty is to check the processing, reads the whole trail;
// the administrator, whose duty is the accounts and their security, reads
// the entries of accounts, sessions, logins, refusals, teams, periods, the
// jobs and the trail itself (R8, R10).
var AuditAreas = map[string][]string{
	domain.RoleDPO: nil,
	domain.RoleAdmin: {"auth.", "access.", "account.", "grant.", "team.", "recording_period.", "audit.", "job.",
		"demo.", "user.", "ecoute.v1.AdminService/", "ecoute.v1.TrustService/", "ecoute.v1.AuthService/"},
	domain.RoleSystem: nil,
}

// AuditReadable tells whether role may read entries of action, and the
// prefixes to list with (nil: every entry).
func AuditReadable(role string) (prefixes []string, ok bool) {
	p, ok := AuditAreas[role]
	return p, ok
}
