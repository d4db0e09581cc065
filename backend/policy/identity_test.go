package policy

import (
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/domain"
)

// The identity methods, written out by hand like TestRoleMethodMatrix.
func TestIdentityMethodMatrix(t *testing.T) {
	methods := []string{MListUsers, MListTeams, MListRecordingPeriods, MListSessions, MCreateUser, MSetUserDisabled,
		MSetUserTeams, MResetPassword, MRevokeSessions, MCreateTeam, MAddRecordingPeriod, MMyRecordingPeriods}
	//                              read  write    mine
	want := map[string]string{
		domain.RoleSupervisor:  "0000 0000000 1",
		domain.RoleTrainer:     "0000 0000000 1",
		domain.RoleAgent:       "0000 0000000 1",
		domain.RoleHR:          "0000 0000000 0",
		domain.RoleClient:      "0000 0000000 0",
		domain.RoleMaintenance: "0000 0000000 0",
		domain.RoleDPO:         "1110 0000000 0",
		domain.RoleAdmin:       "1111 1111111 0",
		domain.RoleTelephony:   "0000 0000000 0",
	}
	for role, row := range want {
		bits := []rune{}
		for _, r := range row {
			if r != ' ' {
				bits = append(bits, r)
			}
		}
		for i, m := range methods {
			if got := Allowed(role, m); got != (bits[i] == '1') {
				t.Errorf("Allowed(%s, %s) = %v", role, m, got)
			}
		}
	}
}

// RedactMessage finds the calls wherever they sit in a response.
func TestRedactMessageWalksNestedMessages(t *testing.T) {
	resp := &ecoutev1.ListCallsResponse{Calls: []*ecoutev1.Call{fullCall(), fullCall()}}
	RedactMessage(domain.RoleSupervisor, resp)
	for _, c := range resp.Calls {
		if c.Customer.GetName() != "" || c.Customer.GetAddress() != "" || c.Customer.GetPhoneE164() != "••••••••42" {
			t.Errorf("supervisor call not redacted: %v", c.Customer)
		}
		if c.AgentName == "" || c.Audio != nil {
			t.Errorf("supervisor fields wrong: agent %q audio %v", c.AgentName, c.Audio)
		}
	}
	// Twice is the same as once: the service and the interceptor both run it.
	RedactMessage(domain.RoleSupervisor, resp)
	if p := resp.Calls[0].Customer.GetPhoneE164(); p != "••••••••42" {
		t.Errorf("masked twice: %q", p)
	}
	one := &ecoutev1.GetCallResponse{Call: fullCall()}
	RedactMessage(domain.RoleMaintenance, one)
	if c := one.Call; c.AgentName != "" || c.AgentId != "" || c.Customer != nil || c.Audio == nil || c.CallId == "" {
		t.Errorf("maintenance: %v", c)
	}
	for _, role := range []string{domain.RoleClient, domain.RoleHR, domain.RoleAdmin, "nobody"} {
		m := &ecoutev1.GetCallResponse{Call: fullCall()}
		RedactMessage(role, m)
		if c := m.Call; c.Customer != nil || c.CallId != "" || c.StartedAt != nil {
			t.Errorf("%s got call content: %v", role, c)
		}
	}
	// Messages the table does not filter are left whole.
	p := &ecoutev1.WhoAmIResponse{Principal: &ecoutev1.Principal{Login: "x", Role: "agent"}}
	RedactMessage(domain.RoleClient, p)
	if p.Principal.GetLogin() != "x" {
		t.Error("principal cleared")
	}
	RedactMessage(domain.RoleClient, nil)
}
