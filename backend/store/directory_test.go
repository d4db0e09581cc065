package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEndAgentDisablesAccountsAndTeamEndNeedsNoActiveAgent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateTeam(ctx, Team{ID: "t1", Name: "Un", CreatedAt: now}))
	must(s.CreateAgent(ctx, Agent{ID: "a1", Name: "Zoé", TeamID: "t1", CreatedAt: now}))
	must(s.CreateUser(ctx, User{ID: "u1", Login: "zoe", DisplayName: "Zoé", Role: RoleAgent, PasswordHash: "x",
		AgentID: "a1", CreatedAt: now}))
	must(s.CreateSession(ctx, Session{TokenHash: "h1", UserID: "u1", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}))

	if err := s.EndTeam(ctx, "t1", now); !errors.Is(err, ErrInUse) {
		t.Fatalf("end a team with an active agent: %v", err)
	}
	n, err := s.EndAgent(ctx, "a1", now)
	if err != nil || n != 1 {
		t.Fatalf("end agent: %d %v", n, err)
	}
	if u, _ := s.UserByID(ctx, "u1"); !u.Disabled {
		t.Error("the ended agent's account is still enabled")
	}
	if _, err := s.SessionByHash(ctx, "h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the ended agent's session is still open: %v", err)
	}
	if _, err := s.EndAgent(ctx, "a1", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("ending twice: %v", err)
	}
	a, err := s.AgentByID(ctx, "a1")
	if err != nil || !a.EndedAt.Equal(now) || a.Name != "Zoé" {
		t.Fatalf("ended agent: %+v %v", a, err)
	}
	if active, _ := s.ListAgents(ctx, nil, false); len(active) != 0 {
		t.Errorf("active agents: %+v", active)
	}
	if all, _ := s.ListAgents(ctx, []string{"t1"}, true); len(all) != 1 {
		t.Errorf("agents with the ended: %+v", all)
	}
	if none, _ := s.ListAgents(ctx, []string{}, true); len(none) != 0 {
		t.Errorf("no team reaches no agent: %+v", none)
	}
	must(s.EndTeam(ctx, "t1", now))
	if tm, _ := s.TeamByID(ctx, "t1"); !tm.EndedAt.Equal(now) {
		t.Errorf("ended team: %+v", tm)
	}
}

// An ended agent's name stays while a call or an evaluation of a call
// collected within the year names them, and goes the first purge after
// (R4); the row goes once nothing refers to it.
func TestAgentNamesErasedAYearAfterTheLastCollection(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	start := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	base := fixture(t, s, 1) // agents a1, a2 (t1), a3 (t2), each with calls at base
	if !base.Equal(start) {
		t.Fatalf("fixture moved: %v", base)
	}
	ended := start.AddDate(0, 1, 0)
	for _, id := range []string{"a1", "a2"} {
		if _, err := s.EndAgent(ctx, id, ended); err != nil {
			t.Fatal(err)
		}
	}
	// a1 is evaluated: the evaluation outlives the recording.
	if _, _, err := s.SaveGrid(ctx, testGrid("x"), "u1", start); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEvaluation(ctx, Evaluation{ID: "e1", CallID: "a1-00", CallStartedAt: start, GridID: "g1",
		GridVersion: 1, AgentID: "a1", TeamID: "t1", EvaluatorID: "u1", Status: EvalSubmitted, Version: 1,
		CreatedAt: start.AddDate(0, 0, 3), UpdatedAt: start, RetainedUntil: start.AddDate(1, 0, 3)}); err != nil {
		t.Fatal(err)
	}
	erase := func(now time.Time) int {
		t.Helper()
		n, err := s.EraseAgentNames(ctx, now.AddDate(-1, 0, 0), now)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	name := func(id string) string {
		a, err := s.AgentByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return a.Name
	}
	// Before the end: nothing, even a year after the calls.
	if n := erase(ended.Add(-time.Millisecond)); n != 0 {
		t.Fatalf("erased %d names before the agents ended", n)
	}
	// Ended, but their calls are less than a year old.
	if n := erase(start.AddDate(1, 0, 0).Add(-time.Millisecond)); n != 0 || name("a1") != "Zoé" {
		t.Fatalf("erased %d names within the year", n)
	}
	// The recordings went (6 months); a2 has nothing left, a1 the
	// evaluation of a call collected at start.
	if _, err := s.DB().ExecContext(ctx, `DELETE FROM calls WHERE agent_id IN ('a1','a2')`); err != nil {
		t.Fatal(err)
	}
	if n := erase(start.AddDate(0, 7, 0)); n != 1 || name("a1") != "Zoé" ||
		!strings.HasPrefix(name("a2"), FormerAgentPrefix) || name("a2") == FormerAgentPrefix {
		t.Fatalf("at 7 months: %d erased, a1 %q, a2 %q", n, name("a1"), name("a2"))
	}
	if n := erase(start.AddDate(1, 0, 0)); n != 1 || !strings.HasPrefix(name("a1"), FormerAgentPrefix) {
		t.Fatalf("a year after a1's last collection: %d erased, a1 %q", n, name("a1"))
	}
	if name("a3") != "Marc" {
		t.Errorf("an active agent's name was erased: %q", name("a3"))
	}
	if a, _ := s.AgentByID(ctx, "a1"); a.NameErasedAt.IsZero() {
		t.Error("name_erased_at not set")
	}
	if n := erase(start.AddDate(2, 0, 0)); n != 0 {
		t.Errorf("erased again: %d", n)
	}
	// a2's row goes; a1's stays while its evaluation lives.
	n, err := s.DeleteForgottenAgents(ctx)
	if err != nil || n != 1 {
		t.Fatalf("delete forgotten: %d %v", n, err)
	}
	if _, err := s.AgentByID(ctx, "a2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a2 still there: %v", err)
	}
	if _, err := s.AgentByID(ctx, "a1"); err != nil {
		t.Errorf("a1 deleted while evaluated: %v", err)
	}
}
