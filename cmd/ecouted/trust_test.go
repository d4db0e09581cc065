package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
)

// The register on the command line: a request recorded two months ago is
// shown overdue, one of today with its days left; the export given the
// access request closes it.
func TestRequestsRegisterCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a demo data directory")
	}
	dir := t.TempDir()
	if _, errOut, err := runArgs("", "--data", dir, "seed-demo"); err != nil {
		t.Fatalf("seed-demo: %v %s", err, errOut)
	}
	ctx := context.Background()
	app, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{All: true}, Order: store.OrderStartedAt, Limit: 1})
	app.Close()
	if err != nil || len(cs) == 0 {
		t.Fatalf("a call: %v", err)
	}
	phone := cs[0].CustomerPhone
	old := time.Now().UTC().AddDate(0, -2, 0).Format(time.DateOnly)

	if _, _, err := runArgs("", "--data", dir, "requests", "add", "--kind", "access", "--received", old, "--channel", "email",
		"--phone", phone); err == nil || !strings.Contains(err.Error(), "identity_check") {
		t.Errorf("an e-mail request without identity check: %v", err)
	}
	out, _, err := runArgs("", "--data", dir, "requests", "add", "--kind", "access", "--received", old, "--channel", "email",
		"--identity", "pièce d'identité vérifiée", "--phone", phone, "--requester", "Jeanne Martin")
	if err != nil || !strings.Contains(out, "OVERDUE") {
		t.Fatalf("requests add: %v %q", err, out)
	}
	id := regexp.MustCompile(`request ([0-9a-f]{32}) recorded`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no id in %q", out)
	}
	if out, _, err := runArgs("", "--data", dir, "requests", "add", "--kind", "rectification", "--received",
		time.Now().UTC().Format(time.DateOnly), "--channel", "letter", "--agent", "agent-01"); err != nil ||
		!regexp.MustCompile(`\((2[89]|3[01]) days left\)`).MatchString(out) {
		t.Fatalf("a request of today: %v %q", err, out)
	}
	out, _, err = runArgs("", "--data", dir, "requests", "list")
	if err != nil || !strings.Contains(out, "OVERDUE by") || !strings.Contains(out, "days left") ||
		strings.Index(out, "OVERDUE") > strings.Index(out, "days left") {
		t.Fatalf("requests list (soonest due first):\n%s", out)
	}
	recipient, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := runArgs("", "--data", dir, "export-subject", "--phone", phone, "--recipient", recipient.Recipient().String(),
		"--out", filepath.Join(t.TempDir(), "s.age"), "--request", id[1]); err != nil {
		t.Fatalf("export-subject --request: %v", err)
	}
	out, _, _ = runArgs("", "--data", dir, "requests", "list")
	if strings.Contains(out, id[1]) {
		t.Errorf("the answered request is still open:\n%s", out)
	}
	out, _, _ = runArgs("", "--data", dir, "requests", "list", "--all")
	if !strings.Contains(out, id[1]) || !strings.Contains(out, "exported:") {
		t.Errorf("the answered request:\n%s", out)
	}
	// The register's personal text is sealed in the file.
	b, _ := os.ReadFile(filepath.Join(dir, backend.DBFile))
	if bytes.Contains(b, []byte("Jeanne Martin")) || bytes.Contains(b, []byte("pièce d'identité")) {
		t.Error("the register holds clear text in the database file")
	}
}

// A grant asked over the API (here, by core for an admin caller) waits;
// the command line's operator, a second person, approves it.
func TestGrantCommands(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs("", "--data", dir, "init", "--name", "Paul Renaud"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := app.Core().UserByLogin(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	c := core.Caller{User: admin, Source: "192.0.2.1:5000"}
	u, _, err := app.Core().CreateUser(ctx, c, core.NewAccount{Login: "nhr", FirstName: "Nina", LastName: "Roux",
		Role: domain.RoleHR, Password: "une phrase assez longue"})
	app.Close()
	if err != nil || u.PendingGrant == "" {
		t.Fatalf("create over the API: %v %+v", err, u)
	}
	out, _, err := runArgs("", "--data", dir, "grant", "list")
	if err != nil || !strings.Contains(out, u.PendingGrant) || !strings.Contains(out, "pending until") {
		t.Fatalf("grant list: %v\n%s", err, out)
	}
	if out, _, _ := runArgs("", "--data", dir, "user", "list"); !strings.Contains(out, "awaiting approval") {
		t.Errorf("user list does not show the pending account:\n%s", out)
	}
	if out, _, err := runArgs("", "--data", dir, "grant", "approve", u.PendingGrant); err != nil || !strings.Contains(out, "approved") {
		t.Fatalf("grant approve: %v %q", err, out)
	}
	if _, _, err := runArgs("", "--data", dir, "grant", "approve", u.PendingGrant); err == nil || !strings.Contains(err.Error(), "approved") {
		t.Errorf("second approval: %v", err)
	}
	// Made on the command line, a privileged account applies at once.
	if _, _, err := runArgs("une phrase assez longue\n", "--data", dir, "user", "add", "--login", "sup", "--name", "Sam Up",
		"--role", "hr"); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := runArgs("", "--data", dir, "grant", "list"); strings.Count(out, "\n") != 1 {
		t.Errorf("a grant pending after a command-line account:\n%s", out)
	}
}
