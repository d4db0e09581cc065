package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestIdentityStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CreateTeam(ctx, Team{ID: "t1", Name: "Un", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTeam(ctx, Team{ID: "t2", Name: "Deux", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	u := User{ID: "u1", Login: "claire", DisplayName: "Claire Dubois", FirstName: "Claire", LastName: "Dubois",
		Role: RoleSupervisor, PasswordHash: "h0", TeamIDs: []string{"t1"}, CreatedAt: t0, PasswordChangedAt: t0}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByLogin(ctx, "claire")
	if err != nil || got.FirstName != "Claire" || got.LastName != "Dubois" || !got.PasswordChangedAt.Equal(t0) {
		t.Fatalf("user %+v, %v", got, err)
	}

	// History: newest first, the current hash moves into it.
	for i, h := range []string{"h1", "h2", "h3"} {
		if err := s.ChangePassword(ctx, "u1", h, i == 2, t0.Add(time.Duration(i+1)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := s.PasswordHistory(ctx, "u1", 5)
	if err != nil || len(hist) != 3 || hist[0] != "h2" || hist[2] != "h0" {
		t.Errorf("history %v, %v", hist, err)
	}
	got, _ = s.UserByID(ctx, "u1")
	if got.PasswordHash != "h3" || !got.PasswordChangeRequired || !got.PasswordChangedAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("after change: %+v", got)
	}

	// Failures lock at the third here, and the count restarts.
	until := t0.Add(24 * time.Hour)
	for i := 1; i <= 3; i++ {
		n, locked, err := s.RecordLoginFailure(ctx, "u1", 3, until)
		if err != nil || n != i || locked != (i == 3) {
			t.Fatalf("failure %d: n=%d locked=%v %v", i, n, locked, err)
		}
	}
	got, _ = s.UserByID(ctx, "u1")
	if !got.LockedUntil.Equal(until) || got.FailedLogins != 0 {
		t.Errorf("lock: %v, %d", got.LockedUntil, got.FailedLogins)
	}
	if err := s.ResetLoginFailures(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.UserByID(ctx, "u1"); !got.LockedUntil.IsZero() {
		t.Errorf("lock kept: %v", got.LockedUntil)
	}
	if _, _, err := s.RecordLoginFailure(ctx, "nobody", 3, until); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}

	// Teams, sessions, disabling.
	if err := s.SetUserTeams(ctx, "u1", []string{"t2", "t1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.UserByID(ctx, "u1"); len(got.TeamIDs) != 2 {
		t.Errorf("teams %v", got.TeamIDs)
	}
	if err := s.SetUserTeams(ctx, "u1", []string{"nope"}); err == nil {
		t.Error("unknown team linked")
	}
	for _, h := range []string{"a", "b"} {
		if err := s.CreateSession(ctx, Session{TokenHash: h, UserID: "u1", CreatedAt: t0, LastUsedAt: t0, ExpiresAt: until}); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := s.ListUserSessions(ctx, "u1")
	if err != nil || len(ss) != 2 || ss[0].Login != "claire" {
		t.Errorf("sessions %v %v", ss, err)
	}
	if err := s.SetUserDisabled(ctx, "u1", true, t0); err != nil {
		t.Fatal(err)
	}
	if ss, _ = s.ListUserSessions(ctx, ""); len(ss) != 0 {
		t.Errorf("sessions of a disabled user: %v", ss)
	}
	if err := s.SetUserDisabled(ctx, "nobody", true, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("disable unknown: %v", err)
	}
	us, err := s.ListUsers(ctx)
	if err != nil || len(us) != 1 || !us[0].Disabled {
		t.Errorf("list %v %v", us, err)
	}

	// Recording periods are half-open.
	p := RecordingPeriod{ID: "p1", TeamID: "t1", StartsAt: t0, EndsAt: t0.Add(48 * time.Hour), CreatedAt: t0}
	if err := s.AddRecordingPeriod(ctx, p); err != nil {
		t.Fatal(err)
	}
	bad := RecordingPeriod{ID: "p2", TeamID: "t1", StartsAt: t0, EndsAt: t0, CreatedAt: t0}
	if err := s.AddRecordingPeriod(ctx, bad); err == nil {
		t.Error("empty period accepted")
	}
	for at, want := range map[time.Time]bool{
		t0.Add(-time.Millisecond): false, t0: true, t0.Add(47 * time.Hour): true, t0.Add(48 * time.Hour): false,
	} {
		if ok, err := s.RecordingAllowed(ctx, "t1", at); err != nil || ok != want {
			t.Errorf("allowed at %v = %v, want %v (%v)", at, ok, want, err)
		}
	}
	if ok, _ := s.RecordingAllowed(ctx, "t2", t0.Add(time.Hour)); ok {
		t.Error("a team without period may be recorded")
	}
	if ps, _ := s.RecordingPeriods(ctx, "t1", t0.Add(48*time.Hour)); len(ps) != 0 {
		t.Errorf("ended period listed: %v", ps)
	}
	if ps, _ := s.RecordingPeriods(ctx, "", time.Time{}); len(ps) != 1 || ps[0].ID != "p1" {
		t.Errorf("all periods: %v", ps)
	}
}
