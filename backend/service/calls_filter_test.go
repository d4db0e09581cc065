package service

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/rpcerr"
	"github.com/ecoute/ecoute/backend/store"
)

// callsOnRealStore is a Calls service on a real SQLite file with two teams,
// three agents and 12 kept calls.
func callsOnRealStore(t *testing.T) *Calls {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "e.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateTeam(ctx, store.Team{ID: "t1", Name: "Banque"}))
	must(st.CreateTeam(ctx, store.Team{ID: "t2", Name: "Énergie"}))
	must(st.CreateCampaign(ctx, store.Campaign{ID: "c1", Name: "Azur", ClientName: "Azur SA"}))
	agents := []store.Agent{{ID: "a1", Name: "Marie Girard", TeamID: "t1"}, {ID: "a2", Name: "Paul Girard", TeamID: "t1"}, {ID: "a3", Name: "Lucie Martin", TeamID: "t2"}}
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var calls []store.NewCall
	for i := range 12 {
		a := agents[i%3]
		start := base.Add(time.Duration(i) * time.Hour)
		calls = append(calls, store.NewCall{Call: store.Call{
			ID: fmt.Sprintf("call-%02d", i), ExternalID: fmt.Sprintf("x-%d", i), StartedAt: start, EndedAt: start.Add(time.Minute),
			AgentID: a.ID, TeamID: a.TeamID, CampaignID: "c1", Direction: "inbound", ConsentRequestedAt: start,
			ConsentAccepted: true, State: store.StateKept, RetainedUntil: start.AddDate(0, 6, 0),
			Audio: store.Audio{Key: "k", Size: 10, Codec: "mp3", Duration: time.Minute},
		}, Waveform: store.Waveform{Peaks: []byte{1}, FrameOffsets: []int64{0}}})
	}
	for _, a := range agents {
		must(st.CreateAgent(ctx, a))
	}
	must(st.InsertCalls(ctx, calls))
	return &Calls{Store: st}
}

func as(role string, teams ...string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{User: store.User{ID: "u-" + role, Login: role, Role: role, TeamIDs: teams}})
}

// TestListCallsOffersFilterChoices: the first page carries the names a
// supervisor may filter by, within the teams they supervise; later pages
// do not repeat them; a role that may not see agent names gets none.
func TestListCallsOffersFilterChoices(t *testing.T) {
	s := callsOnRealStore(t)
	resp, err := s.ListCalls(as(store.RoleSupervisor, "t1"), &ecoutev1.ListCallsRequest{PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range resp.GetAgents() {
		names = append(names, a.GetName()+"="+a.GetId())
	}
	if fmt.Sprint(names) != "[Marie Girard=a1 Paul Girard=a2]" || len(resp.GetTeams()) != 1 || resp.GetTeams()[0].GetName() != "Banque" {
		t.Errorf("choices for a t1 supervisor: agents %v teams %v", names, resp.GetTeams())
	}
	next, err := s.ListCalls(as(store.RoleSupervisor, "t1"), &ecoutev1.ListCallsRequest{PageSize: 3, PageToken: resp.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.GetAgents())+len(next.GetTeams())+len(next.GetCampaigns()) != 0 {
		t.Error("a later page repeated the choices")
	}
	tech, err := s.ListCalls(as(store.RoleMaintenance), &ecoutev1.ListCallsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tech.GetAgents()) != 0 || len(tech.GetTeams()) != 0 {
		t.Errorf("maintenance was offered names: %v %v", tech.GetAgents(), tech.GetTeams())
	}
	if len(tech.GetCalls()) == 0 {
		t.Error("maintenance lists no call at all")
	}
}

func TestListCallsScoreFilterChecks(t *testing.T) {
	s := callsOnRealStore(t)
	f := func(v float64) *float64 { return &v }
	_, err := s.ListCalls(as(store.RoleMaintenance), &ecoutev1.ListCallsRequest{Filter: &ecoutev1.CallFilter{MinScore: f(50)}})
	if rpcerr.Status(err).Code() != codes.PermissionDenied {
		t.Errorf("maintenance filtering by score: %v, want PermissionDenied", err)
	}
	for _, bad := range []*ecoutev1.CallFilter{{MinScore: f(120)}, {MinScore: f(80), MaxScore: f(20)}, {MaxScore: f(-1)}} {
		if _, err := s.ListCalls(as(store.RoleSupervisor, "t1"), &ecoutev1.ListCallsRequest{Filter: bad}); rpcerr.Status(err).Code() != codes.InvalidArgument {
			t.Errorf("filter %v: %v, want InvalidArgument", bad, err)
		}
	}
	resp, err := s.ListCalls(as(store.RoleSupervisor, "t1"), &ecoutev1.ListCallsRequest{Filter: &ecoutev1.CallFilter{MinScore: f(0)}})
	if err != nil || len(resp.GetCalls()) != 0 {
		t.Errorf("no evaluation yet, score:0..: %d calls, %v", len(resp.GetCalls()), err)
	}
	// The paging token is tied to the filter, score included.
	page, err := s.ListCalls(as(store.RoleSupervisor, "t1"), &ecoutev1.ListCallsRequest{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ListCalls(as(store.RoleSupervisor, "t1"), &ecoutev1.ListCallsRequest{PageSize: 2, PageToken: page.GetNextPageToken(),
		Filter: &ecoutev1.CallFilter{MinScore: f(10)}})
	if rpcerr.Status(err).Code() != codes.InvalidArgument {
		t.Errorf("a token replayed with another filter: %v", err)
	}
}
