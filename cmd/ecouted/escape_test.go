package main

import (
	"context"
	"database/sql"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/internal/termsafe"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// escapes is what an attacker types to rewrite an operator's screen:
// carriage return, erase line, cursor up, a window title, a bidi override.
const escapes = "\r\x1b[2K\x1b[1A\x1b[2K\x1b]0;owned\x07\u202e"

// rawControls finds the first control character of output other than the
// newlines and tabs of the listing itself.
func rawControls(output string) (rune, bool) {
	for _, r := range output {
		if r == '\n' || r == '\t' {
			continue
		}
		if termsafe.Dangerous(r) || r == utf8.RuneError {
			return r, true
		}
	}
	return 0, false
}

// TestListingsEscapeControlCharacters fills a data directory with what
// the input checks now refuse — as a data directory of an older version,
// or a hand-edited database, would hold — plus a real login attempt over
// gRPC with an escape sequence as its login, then runs every listing of
// ecouted: none prints a raw control character, each shows the escape.
func TestListingsEscapeControlCharacters(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs("", "--data", dir, "init", "--name", "Paul Renaud"); err != nil {
		t.Fatal(err)
	}
	grid := "id: g\nname: Grille\nsections:\n  - id: s\n    title: S\n    weight: 1\n    criteria:\n      - {id: c, label: C, type: yes_no, weight: 1}\n"
	gridFile := filepath.Join(t.TempDir(), "g.yaml")
	if err := os.WriteFile(gridFile, []byte(grid), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runArgs("", "--data", dir, "grid", "import", gridFile); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runArgs("", "--data", dir, "requests", "add", "--kind", "access", "--received", "2026-01-05",
		"--channel", "letter", "--agent", "agent-01", "--requester", "Jeanne"); err != nil {
		t.Fatal(err)
	}

	// A login attempt over gRPC with an escape sequence as its login.
	ctx := context.Background()
	app, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := app.NewGRPCServer(false)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ac := ecoutev1.NewAuthServiceClient(conn)
	for range 6 {
		if _, err := ac.Login(ctx, &ecoutev1.LoginRequest{Login: escapes, Password: "x"}); err == nil {
			t.Fatal("logged in")
		}
		// A printable login, throttled after five failures, with a name
		// the listing of locks shows.
		ac.Login(ctx, &ecoutev1.LoginRequest{Login: "jd\u202eupont", Password: "x"})
	}
	conn.Close()
	srv.Stop()
	// Someone else's API request waiting for approval.
	if _, err := app.Sessions().CreateAccount(ctx, auth.NewAccount{Login: "victime", FirstName: "V", LastName: "W",
		Role: "client", Password: "une phrase assez longue"}); err != nil {
		t.Fatal(err)
	}
	app.Close()

	// What older versions let through, written straight to the database.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, backend.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE users SET display_name = 'Eve` + escapes + `' WHERE login = 'victime'`,
		`UPDATE users SET login = 'eve` + escapes + `' WHERE login = 'victime'`,
		`UPDATE grids SET name = 'Grille` + escapes + `', body = json_set(body, '$.name', 'Grille` + escapes + `')`,
		`UPDATE privacy_requests SET requester = 'Jeanne` + escapes + `'`,
		`INSERT INTO grant_requests (id, kind, user_id, login, role, requested_by, requested_by_login, requested_at,
			expires_at, status) VALUES ('g1', 'account', 'u-x', 'mallory` + escapes + `', 'admin', 'u-y', 'adm` + escapes + `',
			1, 4102444800000, 'pending')`,
		`INSERT INTO teams (id, name, created_at) VALUES ('t-esc', 'Équipe` + escapes + `', 1)`,
		`INSERT INTO agents (id, name, team_id, created_at) VALUES ('a-esc', 'Agent` + escapes + `', 't-esc', 1)`,
		`INSERT INTO campaigns (id, name, client_name, created_at) VALUES ('c-esc', 'Campagne` + escapes + `', 'Client` + escapes + `', 1)`,
		`INSERT INTO audit_events (seq, at, actor_id, actor_login, actor_role, source, action, target, details, prev_hash, hash)
			VALUES (100000, 1, '', 'old` + escapes + `', '', '', 'auth.login.failure', 't` + escapes + `', '{"k":"v` + escapes + `"}', '', '')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	listings := [][]string{
		{"user", "list"}, {"user", "locks"}, {"audit", "list", "--limit", "1000"}, {"grid", "list"},
		{"grant", "list", "--all"}, {"requests", "list", "--all"},
		{"team", "list"}, {"agent", "list", "--all"}, {"campaign", "list", "--all"},
	}
	for _, l := range listings {
		out, errOut, err := runArgs("", append([]string{"--data", dir}, l...)...)
		if err != nil {
			t.Errorf("%v: %v", l, err)
			continue
		}
		if r, bad := rawControls(out + errOut); bad {
			t.Errorf("%v prints a raw %U:\n%q", l, r, out)
		}
		if !strings.Contains(out, `\x1b[2K`) && !strings.Contains(out, `\u202e`) {
			t.Errorf("%v does not show the escapes it holds:\n%s", l, out)
		}
	}
	// The login attempt itself is in the trail, escaped.
	out, _, _ := runArgs("", "--data", dir, "audit", "list", "--action", "auth.login.failure")
	if !strings.Contains(out, `\r\x1b[2K\x1b[1A\x1b[2K`) {
		t.Errorf("the escape login is not shown escaped:\n%s", out)
	}
	// An operator's error naming bad input is escaped too.
	_, _, err = runArgs("", "--data", dir, "user", "disable", "x"+escapes)
	if err == nil {
		t.Fatal("unknown login disabled")
	}
	if r, bad := rawControls(termsafe.Line(err.Error())); bad {
		t.Errorf("error message prints a raw %U", r)
	}
}
