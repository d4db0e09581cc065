package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend"
)

func TestUserTeamPeriodCommands(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs("", "--data", dir, "init", "--name", "Paul Renaud"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runArgs("", "--data", dir, "team", "add", "--id", "team-x", "--name", "Équipe X"); err != nil {
		t.Fatalf("team add: %v", err)
	}
	if _, _, err := runArgs("", "--data", dir, "team", "add", "--id", "team-x", "--name", "Again"); err == nil {
		t.Error("duplicate team accepted")
	}
	out, _, err := runArgs("", "--data", dir, "user", "add", "--login", "cdubois", "--first", "Claire", "--last", "Dubois",
		"--role", "supervisor", "--team", "team-x")
	if err != nil || !strings.Contains(out, "one-time password (shown once): ") {
		t.Fatalf("user add with generated password: %v %q", err, out)
	}
	pw := strings.TrimSpace(out[strings.LastIndex(out, ": ")+2:])
	if _, _, err := runArgs("Claire-2026-secret\n", "--data", dir, "user", "add", "--login", "c2", "--first", "Claire",
		"--last", "Dubois", "--role", "hr"); err == nil || !strings.Contains(err.Error(), "contains your name") {
		t.Errorf("password with the name: %v", err)
	}

	out, _, err = runArgs("", "--data", dir, "user", "list")
	if err != nil || !strings.Contains(out, "cdubois") || !strings.Contains(out, "must change password") ||
		!strings.Contains(out, "team-x") || !strings.Contains(out, "Claire Dubois") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	if _, _, err := runArgs("", "--data", dir, "user", "disable", "cdubois"); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := runArgs("", "--data", dir, "user", "list"); !strings.Contains(out, "disabled") {
		t.Errorf("not disabled:\n%s", out)
	}
	if _, _, err := runArgs("", "--data", dir, "user", "enable", "cdubois"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runArgs("", "--data", dir, "user", "reset-password", "cdubois")
	if err != nil || !strings.Contains(out, "one-time password for cdubois") {
		t.Fatalf("reset: %v %q", err, out)
	}
	reset := strings.TrimSpace(out[strings.LastIndex(out, ": ")+2:])
	if reset == pw {
		t.Error("reset gave the same password")
	}
	if _, _, err := runArgs("", "--data", dir, "user", "disable", "nobody"); err == nil {
		t.Error("unknown login accepted")
	}

	day := func(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly) }
	for _, bad := range [][]string{
		{"--team", "team-x", "--from", day(30), "--to", day(3)},
		{"--team", "team-x", "--from", "30/11/2026", "--to", day(30)},
		{"--team", "nope", "--from", day(3), "--to", day(30)},
		{"--team", "team-x", "--from", day(-30), "--to", day(30)}, // after the fact (R6)
		{"--team", "team-x", "--from", day(3), "--to", day(400)},  // longer than 3 months
	} {
		if _, _, err := runArgs("", append([]string{"--data", dir, "period", "add"}, bad...)...); err == nil {
			t.Errorf("period add %v accepted", bad)
		}
	}
	if _, _, err := runArgs("", "--data", dir, "period", "add", "--team", "team-x", "--from", day(3),
		"--to", day(33)+"T12:00"); err != nil {
		t.Fatalf("period add: %v", err)
	}

	// The account logs in with the reset password and must change it.
	app, err := backend.Open(context.Background(), backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if _, _, u, err := app.Sessions().Login(context.Background(), "cdubois", reset, ""); err != nil || !u.PasswordChangeRequired {
		t.Errorf("login with the reset password: %v, change required %v", err, u.PasswordChangeRequired)
	}
	ok, err := app.Store().RecordingAllowed(context.Background(), "team-x", mustTime(t, day(33)+"T11:59:00Z"))
	if err != nil || !ok {
		t.Errorf("declared period not in force: %v %v", ok, err)
	}
}

func mustTime(t *testing.T, s string) (tm time.Time) {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
