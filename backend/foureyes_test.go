package backend_test

import (
	"context"
	"slices"
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"google.golang.org/grpc/codes"
)

// approve has the demo dpo approve a grant request and returns what the
// approval gives (the second half of a reset password).
func approve(t *testing.T, grantID string) string {
	t.Helper()
	r, err := ecoutev1.NewTrustServiceClient(env.conn).ApproveGrant(login(t, "dpo"), &ecoutev1.ApproveGrantRequest{GrantId: grantID})
	if err != nil || r.Grant.Status != "approved" || r.Grant.DecidedBy != "demo-dpo" {
		t.Fatalf("approve %s: %v %v", grantID, r, err)
	}
	return r.SecondHalf
}

// An administrator cannot make, alone, an account that hears calls or
// reads personal data: it waits, nobody approves their own request, and a
// second person (the dpo or another administrator) approves or refuses.
func TestPrivilegedGrantsNeedASecondPerson(t *testing.T) {
	actx, adm := adminCtx(t)
	trust := ecoutev1.NewTrustServiceClient(env.conn)
	ac := ecoutev1.NewAuthServiceClient(env.conn)
	bg := context.Background()

	cr, err := adm.CreateUser(actx, &ecoutev1.CreateUserRequest{Login: "nouveau-dpo", FirstName: "Inès", LastName: "Garnier",
		Role: "dpo", InitialPassword: "une phrase initiale longue"})
	if err != nil || cr.PendingGrantId == "" {
		t.Fatalf("create dpo: %v %v", cr, err)
	}
	if _, err := ac.Login(bg, &ecoutev1.LoginRequest{Login: "nouveau-dpo", Password: "une phrase initiale longue"}); code(err) != codes.PermissionDenied {
		t.Errorf("pending account logs in: %v", err)
	}
	pending, err := trust.ListGrantRequests(actx, &ecoutev1.ListGrantRequestsRequest{})
	if err != nil || !slices.ContainsFunc(pending.Grants, func(g *ecoutev1.GrantRequest) bool {
		return g.GrantId == cr.PendingGrantId && g.Status == "pending" && g.Kind == "account" && g.Role == "dpo" &&
			g.RequestedBy == "demo-admin" && g.ExpiresAt != nil
	}) {
		t.Fatalf("pending grants: %v %v", pending, err)
	}
	// The administrator who asked may not approve it.
	_, err = trust.ApproveGrant(actx, &ecoutev1.ApproveGrantRequest{GrantId: cr.PendingGrantId})
	if info, _ := errorInfo(err); code(err) != codes.PermissionDenied || info.GetReason() != "SELF_APPROVAL" {
		t.Fatalf("self-approval: %v", err)
	}
	approve(t, cr.PendingGrantId)
	if _, err := ac.Login(bg, &ecoutev1.LoginRequest{Login: "nouveau-dpo", Password: "une phrase initiale longue"}); err != nil {
		t.Errorf("approved account: %v", err)
	}
	// Decided once.
	_, err = trust.ApproveGrant(login(t, "dpo"), &ecoutev1.ApproveGrantRequest{GrantId: cr.PendingGrantId})
	if info, _ := errorInfo(err); info.GetReason() != "GRANT_CLOSED" {
		t.Errorf("second approval: %v", err)
	}

	// Refused: the account is gone.
	cs, err := adm.CreateUser(actx, &ecoutev1.CreateUserRequest{Login: "sup-partout", FirstName: "Omar", LastName: "Partout",
		Role: "supervisor", TeamIds: []string{"team-energie", "team-banque", "team-support"}})
	if err != nil || cs.PendingGrantId == "" {
		t.Fatalf("create supervisor: %v %v", cs, err)
	}
	rf, err := trust.RefuseGrant(login(t, "dpo"), &ecoutev1.RefuseGrantRequest{GrantId: cs.PendingGrantId})
	if err != nil || rf.Grant.Status != "refused" {
		t.Fatalf("refuse: %v %v", rf, err)
	}
	users, _ := adm.ListUsers(actx, &ecoutev1.ListUsersRequest{})
	if slices.ContainsFunc(users.Accounts, func(a *ecoutev1.Account) bool { return a.Login == "sup-partout" }) {
		t.Error("refused account still there")
	}

	// A role that reads no call content is made at once.
	cc, err := adm.CreateUser(actx, &ecoutev1.CreateUserRequest{Login: "client-2", FirstName: "Rémi", LastName: "Client",
		Role: "client"})
	if err != nil || cc.PendingGrantId != "" || cc.Account.PendingApproval {
		t.Errorf("client account: %v %v", cc, err)
	}
}
