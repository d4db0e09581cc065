package backend_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/directory"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/service"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// auditCount counts the entries of action naming target.
func auditCount(t *testing.T, app *backend.App, action, target string) int {
	t.Helper()
	links, err := app.Audit().List(context.Background(), audit.Query{Action: action, Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range links {
		if l.Target == target {
			n++
		}
	}
	return n
}

func reasonOf(err error) string {
	info, _ := errorInfo(err)
	return info.GetReason()
}

// TestDirectoryOverGRPC manages a team, a campaign and an agent through
// DirectoryService as an administrator: each change audited once (a
// resent request too), refusals typed; an agent account can be made for
// the new agent, and ending the agent disables it; uploads are refused
// after the end but accepted for a call made before it.
func TestDirectoryOverGRPC(t *testing.T) {
	actx, adm := adminCtx(t)
	dir := ecoutev1.NewDirectoryServiceClient(env.conn)
	if _, err := adm.CreateTeam(actx, &ecoutev1.CreateTeamRequest{TeamId: "team-dir", Name: "Annuaire"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.CreateCampaign(actx, &ecoutev1.CreateCampaignRequest{CampaignId: "camp-dir", Name: "Annuaire",
		ClientName: "Client SA"}); err != nil {
		t.Fatal(err)
	}
	req := &ecoutev1.CreateAgentRequest{AgentId: "dir-1001", Name: "Inès Martin", TeamId: "team-dir", RequestId: "req-dir-1"}
	first, err := dir.CreateAgent(actx, req)
	if err != nil || first.Agent.GetName() != "Inès Martin" || first.Agent.GetCreatedAt() == nil || first.Agent.GetEndedAt() != nil {
		t.Fatalf("create agent: %v %v", first, err)
	}
	again, err := dir.CreateAgent(actx, req)
	if err != nil || again.Agent.GetAgentId() != "dir-1001" {
		t.Fatalf("resent request: %v %v", again, err)
	}
	if n := auditCount(t, env.app, core.ActionAgentCreate, "dir-1001"); n != 1 {
		t.Errorf("agent.create audited %d times", n)
	}
	_, err = dir.CreateAgent(actx, &ecoutev1.CreateAgentRequest{AgentId: "dir-1001", Name: "Autre", TeamId: "team-dir",
		RequestId: "req-dir-1"})
	if reasonOf(err) != "REQUEST_ID_REUSED" {
		t.Errorf("request id reused: %v", err)
	}
	for _, c := range []struct {
		req    *ecoutev1.CreateAgentRequest
		code   codes.Code
		reason string
	}{
		{&ecoutev1.CreateAgentRequest{AgentId: "dir-1001", Name: "Double", TeamId: "team-dir"}, codes.AlreadyExists, "ALREADY_EXISTS"},
		{&ecoutev1.CreateAgentRequest{AgentId: "dir 1002", Name: "Espace", TeamId: "team-dir"}, codes.InvalidArgument, "INVALID_ARGUMENT"},
		{&ecoutev1.CreateAgentRequest{AgentId: "dir-1002", Name: " ", TeamId: "team-dir"}, codes.InvalidArgument, "INVALID_ARGUMENT"},
		{&ecoutev1.CreateAgentRequest{AgentId: "dir-1002", Name: "Sans équipe", TeamId: "team-nulle"}, codes.NotFound, "NOT_FOUND"},
	} {
		_, err := dir.CreateAgent(actx, c.req)
		if code(err) != c.code || reasonOf(err) != c.reason {
			t.Errorf("create %v: %v, want %v %s", c.req, err, c.code, c.reason)
		}
		checkErrorDetails(t, "CreateAgent", err)
	}
	if r, err := dir.RenameAgent(actx, &ecoutev1.RenameAgentRequest{AgentId: "dir-1001", Name: "Inès Martin-Roy"}); err != nil ||
		r.Agent.GetName() != "Inès Martin-Roy" {
		t.Errorf("rename: %v %v", r, err)
	}

	// A supervisor lists the agents of their own teams only.
	sctx := login(t, "supervisor")
	sup, err := dir.ListAgents(sctx, &ecoutev1.ListAgentsRequest{})
	if err != nil || len(sup.Agents) == 0 {
		t.Fatalf("supervisor's agents: %v %v", sup, err)
	}
	mine := env.accounts["supervisor"]
	u, _ := env.app.Core().UserByLogin(context.Background(), mine.Login)
	for _, a := range sup.Agents {
		if !slices.Contains(u.TeamIDs, a.TeamId) {
			t.Errorf("supervisor sees agent %s of team %s", a.AgentId, a.TeamId)
		}
	}
	if _, err := dir.ListAgents(sctx, &ecoutev1.ListAgentsRequest{TeamId: "team-dir"}); code(err) != codes.NotFound {
		t.Errorf("supervisor lists another team: %v", err)
	}

	// An agent account for the new agent, then the agent leaves.
	acc, err := adm.CreateUser(actx, &ecoutev1.CreateUserRequest{Login: "imartin", FirstName: "Inès", LastName: "Martin",
		Role: "agent", AgentId: "dir-1001"})
	if err != nil {
		t.Fatalf("agent account for a directory agent: %v", err)
	}
	// The team must be told when it may be recorded (R6): they were, two
	// days ago.
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := adm.AddRecordingPeriod(actx, &ecoutev1.AddRecordingPeriodRequest{TeamId: "team-dir",
		StartsAt: timestamppb.New(now.Add(-3 * time.Hour)), EndsAt: timestamppb.New(now.Add(3 * time.Hour)),
		InformedAt: timestamppb.New(now.Add(-48 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	meta := func(ext string, start time.Time) *ecoutev1.RecordingMetadata {
		md := metadataFor(ext)
		md.AgentId, md.TeamId, md.CampaignId = "dir-1001", "team-dir", "camp-dir"
		md.StartedAt, md.EndedAt = timestamppb.New(start), timestamppb.New(start.Add(45*time.Second))
		md.Consent.RequestedAt, md.Consent.AnsweredAt = timestamppb.New(start.Add(-10*time.Second)), timestamppb.New(start.Add(-5*time.Second))
		return md
	}
	if _, err := dir.EndTeam(actx, &ecoutev1.EndTeamRequest{TeamId: "team-dir"}); code(err) != codes.FailedPrecondition ||
		reasonOf(err) != "DIRECTORY_IN_USE" {
		t.Errorf("end a team with an active agent: %v", err)
	} else if info, _ := errorInfo(err); info.GetMetadata()["agents"] != "1" {
		t.Errorf("DIRECTORY_IN_USE metadata: %v", info.GetMetadata())
	}
	end, err := dir.EndAgent(actx, &ecoutev1.EndAgentRequest{AgentId: "dir-1001"})
	if err != nil || end.AccountsDisabled != 1 || end.Agent.GetEndedAt() == nil {
		t.Fatalf("end agent: %v %v", end, err)
	}
	users, err := adm.ListUsers(actx, &ecoutev1.ListUsersRequest{})
	if err != nil || !slices.ContainsFunc(users.Accounts, func(a *ecoutev1.Account) bool {
		return a.UserId == acc.Account.UserId && a.Disabled
	}) {
		t.Errorf("the ended agent's account is not disabled: %v", err)
	}
	if _, err := upload(t, meta("dir-apres-fin", time.Now().UTC().Add(time.Second)), clip(t)); code(err) != codes.FailedPrecondition ||
		reasonOf(err) != "DIRECTORY_ENDED" {
		t.Errorf("upload after the agent's end: %v", err)
	} else if info, _ := errorInfo(err); info.GetMetadata()["kind"] != "agent" || info.GetMetadata()["ended_at"] == "" {
		t.Errorf("DIRECTORY_ENDED metadata: %v", info.GetMetadata())
	}
	if _, err := upload(t, meta("dir-avant-fin", now.Add(-time.Hour)), clip(t)); err != nil {
		t.Errorf("late upload of a call made before the end: %v", err)
	}
	for what, err := range map[string]error{
		"rename": func() error {
			_, err := dir.RenameAgent(actx, &ecoutev1.RenameAgentRequest{AgentId: "dir-1001", Name: "X"})
			return err
		}(),
		"end again": func() error {
			_, err := dir.EndAgent(actx, &ecoutev1.EndAgentRequest{AgentId: "dir-1001"})
			return err
		}(),
	} {
		if reasonOf(err) != "DIRECTORY_ENDED" {
			t.Errorf("%s an ended agent: %v", what, err)
		}
	}
	if _, err := adm.CreateUser(actx, &ecoutev1.CreateUserRequest{Login: "imartin2", FirstName: "Inès", LastName: "Martin",
		Role: "agent", AgentId: "dir-1001"}); code(err) != codes.InvalidArgument {
		t.Errorf("account for an ended agent: %v", err)
	}
	listed, err := dir.ListAgents(actx, &ecoutev1.ListAgentsRequest{TeamId: "team-dir"})
	if err != nil || len(listed.Agents) != 0 {
		t.Errorf("active agents of team-dir: %v %v", listed, err)
	}
	listed, err = dir.ListAgents(actx, &ecoutev1.ListAgentsRequest{TeamId: "team-dir", IncludeEnded: true})
	if err != nil || len(listed.Agents) != 1 || listed.Agents[0].EndedAt == nil {
		t.Errorf("every agent of team-dir: %v %v", listed, err)
	}
	// Now the team can end; it then takes no agent and no period.
	if r, err := dir.EndTeam(actx, &ecoutev1.EndTeamRequest{TeamId: "team-dir"}); err != nil || r.Team.GetEndedAt() == nil {
		t.Fatalf("end team: %v %v", r, err)
	}
	if _, err := dir.CreateAgent(actx, &ecoutev1.CreateAgentRequest{AgentId: "dir-1003", Name: "Tard", TeamId: "team-dir"}); reasonOf(err) != "DIRECTORY_ENDED" {
		t.Errorf("agent added to an ended team: %v", err)
	}
	if _, err := adm.AddRecordingPeriod(actx, &ecoutev1.AddRecordingPeriodRequest{TeamId: "team-dir",
		StartsAt: timestamppb.New(now), EndsAt: timestamppb.New(now.Add(time.Hour))}); reasonOf(err) != "DIRECTORY_ENDED" {
		t.Errorf("period for an ended team: %v", err)
	}
	if r, err := dir.EndCampaign(actx, &ecoutev1.EndCampaignRequest{CampaignId: "camp-dir"}); err != nil || r.Campaign.GetEndedAt() == nil {
		t.Errorf("end campaign: %v %v", r, err)
	}
	for action, n := range map[string]int{core.ActionAgentRename: 2, core.ActionAgentEnd: 2, core.ActionTeamEnd: 2,
		core.ActionCampaignEnd: 1} {
		target := "dir-1001"
		switch action {
		case core.ActionTeamEnd:
			target = "team-dir"
		case core.ActionCampaignEnd:
			target = "camp-dir"
		}
		if got := auditCount(t, env.app, action, target); got != n {
			t.Errorf("%s audited %d times, want %d (each attempt, refusals included)", action, got, n)
		}
	}
}

// TestUploadsNeverCreateAgents is the decision of the README ("Who adds
// agents"): the telephony account naming an agent the directory does not
// know is refused, names the field, and leaves the directory as it was.
func TestUploadsNeverCreateAgents(t *testing.T) {
	md := metadataFor("inconnu-1")
	md.AgentId = "ghost-42"
	_, err := upload(t, md, clip(t))
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `metadata.agent_id: unknown "ghost-42"`) ||
		!strings.Contains(err.Error(), "directory") {
		t.Fatalf("upload naming an unknown agent: %v", err)
	}
	if _, br := errorInfo(err); br == nil || br.FieldViolations[0].Field != "metadata.agent_id" {
		t.Errorf("field violations: %v", br)
	}
	if _, err := env.app.Store().AgentByID(context.Background(), "ghost-42"); err == nil {
		t.Error("the upload created the agent")
	}
	// The telephony account may not add one either.
	_, err = ecoutev1.NewDirectoryServiceClient(env.conn).CreateAgent(login(t, "telephony"),
		&ecoutev1.CreateAgentRequest{AgentId: "ghost-42", Name: "Fantôme", TeamId: "team-banque"})
	if code(err) != codes.PermissionDenied {
		t.Errorf("telephony CreateAgent: %v", err)
	}
}

// dirApp is a fresh data directory on a fake clock, sampling everything.
func dirApp(t *testing.T, now time.Time) (*backend.App, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(now)
	s := config.Defaults()
	app, err := backend.Open(context.Background(), backend.Config{DataDir: t.TempDir(), Clock: clk, Settings: s, SampleAll: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app, clk
}

func importText(t *testing.T, b *core.Backend, text string, dry bool) (core.ImportReport, error) {
	t.Helper()
	f, err := directory.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return b.ImportDirectory(context.Background(), core.Local(), f, dry)
}

// TestEndedAgentNameGoesWithTheirLastRecording follows an agent who
// leaves: their kept recording stays until its retention, their name
// with it (no evaluation names them), then the purge replaces the name
// by a pseudonym and deletes the row nothing refers to any more; the
// colleague who stays keeps their name.
func TestEndedAgentNameGoesWithTheirLastRecording(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	app, clk := dirApp(t, t0)
	b := app.Core()
	if _, err := importText(t, b, "kind;id;name;team;client\nteam;T1;Un;;\ncampaign;C1;Camp;;Client\n"+
		"agent;1001;Camille Lefèvre;T1;\nagent;1002;Marc Petit;T1;\n", false); err != nil {
		t.Fatal(err)
	}
	// The agents were told two weeks before (R6).
	if _, err := b.AddRecordingPeriod(ctx, core.Local(), "T1", t0.AddDate(0, 0, -7), t0.AddDate(0, 0, 7), "", t0.AddDate(0, 0, -14)); err != nil {
		t.Fatal(err)
	}
	for _, agent := range []string{"1001", "1002"} {
		md := fixedMeta("call-" + agent)
		md.AgentId, md.TeamId, md.CampaignId = agent, "T1", "C1"
		if _, err := b.Ingest(ctx, core.Local(), service.RecordingFromProto(md), bytes.NewReader(clip(t))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.EndAgent(ctx, core.Local(), "1001"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Sample(ctx, t0.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	name := func(id string) string {
		a, err := app.Store().AgentByID(ctx, id)
		if err != nil {
			return "(deleted)"
		}
		return a.Name
	}
	purge := func(at time.Time) map[string]int {
		t.Helper()
		clk.Set(at)
		counts, err := app.Purge(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return counts
	}
	if c := purge(t0.AddDate(0, 1, 0)); c["agent_names"] != 0 || name("1001") != "Camille Lefèvre" {
		t.Fatalf("a month after the end, with the recording kept: %v, name %q", c, name("1001"))
	}
	// Six months after the call: the recording goes, and the ended agent's
	// name and row with it; the active agent keeps theirs.
	c := purge(t0.AddDate(0, 6, 1))
	if c["recordings"] != 2 || c["agent_names"] != 1 || c["agents"] != 1 {
		t.Fatalf("six months after the call: %v", c)
	}
	if name("1001") != "(deleted)" || name("1002") != "Marc Petit" {
		t.Errorf("after the purge: 1001 %q, 1002 %q", name("1001"), name("1002"))
	}
	// The run is in the audit trail with its counts.
	runs, err := app.Audit().List(ctx, audit.Query{Action: audit.ActionJobPurge})
	if err != nil || len(runs) == 0 || runs[0].Details["agent_names"] != "1" {
		t.Errorf("purge audit: %v %+v", err, runs)
	}
}

// TestImportIsIdempotentAndAtomicPerFile imports a file, the same file
// again (nothing changes, nothing is audited), a dry run (nothing
// changes), then a file that renames, moves and ends in one go, and a
// file with faults (nothing is applied, every faulty line is named).
func TestImportIsIdempotentAndAtomicPerFile(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	app, _ := dirApp(t, t0)
	b := app.Core()
	auditLen := func() int {
		links, err := app.Audit().List(ctx, audit.Query{Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		return len(links)
	}
	first := "kind,id,name,team,client,status\n" +
		"team,T1,Support,,,\nteam,T2,Ventes,,,\n" +
		"campaign,C1,Box,,Opérateur,\n" +
		"agent,1001,Zoé,T1,,\nagent,1002,Marc,T1,,\nagent,1003,Léa,T2,,\n"
	rep, err := importText(t, b, first, false)
	if err != nil || rep.Teams.Created != 2 || rep.Agents.Created != 3 || rep.Campaigns.Created != 1 || rep.Applied != 6 {
		t.Fatalf("first import: %+v %v", rep, err)
	}
	before := auditLen()
	rep, err = importText(t, b, first, false)
	if err != nil || rep.Changes != 0 || rep.Agents.Unchanged != 3 || rep.Teams.Unchanged != 2 || auditLen() != before {
		t.Fatalf("second import: %+v %v (audit %d → %d)", rep, err, before, auditLen())
	}
	second := "kind;id;name;team;status\n" +
		"agent;1001;Zoé Lefèvre;T1;\n" + // renamed
		"agent;1002;Marc;T2;\n" + // moved out of T1
		"agent;1003;;;ended\n" +
		"team;T1;;;ended\n" + // its last agent (1001) moves in the same file
		"agent;1001;Zoé Lefèvre;T3;\n"
	rep, err = importText(t, b, second, true)
	if err == nil || !strings.Contains(domain.Describe(err), "line 6: agent 1001 is already on line 2") {
		t.Fatalf("duplicate line: %v", err)
	}
	second = strings.Replace(second, "agent;1001;Zoé Lefèvre;T3;\n", "team;T3;Qualité;;\n", 1)
	second = strings.Replace(second, "agent;1001;Zoé Lefèvre;T1;\n", "agent;1001;Zoé Lefèvre;T3;\n", 1)
	rep, err = importText(t, b, second, true)
	if err != nil || rep.Changes != 6 || rep.Applied != 0 || auditLen() != before {
		t.Fatalf("dry run: %+v %v", rep, err)
	}
	if a, _ := app.Store().AgentByID(ctx, "1001"); a.Name != "Zoé" {
		t.Fatalf("the dry run changed %+v", a)
	}
	rep, err = importText(t, b, second, false)
	want := core.ImportCounts{Renamed: 1, Moved: 2, Ended: 1}
	if err != nil || rep.Agents != want || rep.Teams.Created != 1 || rep.Teams.Ended != 1 || rep.Applied != 6 {
		t.Fatalf("second file: %+v %v", rep, err)
	}
	if got := auditLen() - before; got != 6 {
		t.Errorf("%d audit entries for 6 changes", got)
	}
	if a, _ := app.Store().AgentByID(ctx, "1001"); a.Name != "Zoé Lefèvre" || a.TeamID != "T3" {
		t.Errorf("1001 after the import: %+v", a)
	}
	if rep, err := importText(t, b, second, false); err != nil || rep.Changes != 0 {
		t.Errorf("the second file again: %+v %v", rep, err)
	}

	// Faults against the directory: every line named, nothing applied.
	before = auditLen()
	bad := "kind,id,name,team,status\n" +
		"agent,1003,Léa,T2,\n" + // ended: not reopened
		"agent,1004,Paul,T1,\n" + // T1 is ended
		"agent,1005,Anne,T9,\n" + // unknown team
		"team,T2,,,ended\n" + // 1002 is still in T2 (1003 is ended)
		"agent,1006,Nouvelle,T2,\n" // T2 ends in this file
	rep, err = importText(t, b, bad, false)
	msg := domain.Describe(err)
	for _, want := range []string{
		"5 problem(s) in the file: nothing was changed",
		"line 2: agent 1003: was ended on 2026-03-04 and is not reopened",
		`line 3: agent 1004: team "T1" is ended`,
		`line 4: agent 1005: team "T9" is neither in the directory nor in the file`,
		"line 5: team T2: still has 1 active agent(s) once the file is applied",
		`line 6: agent 1006: team "T2" is ended (or ended by this file)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("faults: %q lacks %q", msg, want)
		}
	}
	if rep.Applied != 0 || auditLen() != before {
		t.Errorf("a faulty file applied %d changes", rep.Applied)
	}
	if _, err := app.Store().AgentByID(ctx, "1006"); err == nil {
		t.Error("the valid line of a faulty file was applied")
	}
	if !domain.Is(err, domain.ReasonInvalidArgument) {
		t.Errorf("reason: %v", domain.ReasonOf(err))
	}
}
