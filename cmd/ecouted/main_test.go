package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/ecoute/ecoute/backend/domain"
)

func runArgs(stdin string, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func TestHelpAndErrors(t *testing.T) {
	if _, errOut, err := runArgs("", "--help"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "user add") {
		t.Errorf("--help: %v %q", err, errOut)
	}
	for _, cmd := range [][]string{{"init"}, {"serve"}, {"seed-demo"}, {"user", "add"}} {
		_, errOut, err := runArgs("", append(cmd, "--help")...)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "Usage: ecouted") {
			t.Errorf("%v --help: %v %q", cmd, err, errOut)
		}
	}
	dir := t.TempDir()
	cases := []struct {
		args []string
		in   string
		want string
	}{
		{nil, "", "missing command"},
		{[]string{"bogus"}, "", "unknown command"},
		{[]string{"init"}, "", "--name"},
		{[]string{"serve", "--insecure", "--listen", "192.0.2.1:7443"}, "", "loopback"},
		{[]string{"serve", "--pprof", "192.0.2.1:6060"}, "", "loopback"},
		{[]string{"user", "add", "--login", "x", "--role", "hr"}, "", "--first"},
		{[]string{"user", "del"}, "", "unknown user command"},
	}
	for _, c := range cases {
		_, _, err := runArgs(c.in, append([]string{"--data", dir}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error mentioning %q", c.args, err, c.want)
		}
	}
}

func TestInitAndUserAdd(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runArgs("", "--data", dir, "init", "--name", "Paul Renaud")
	if err != nil || !strings.Contains(out, "password (shown once): ") {
		t.Fatalf("init with generated password: %v %q", err, out)
	}
	if _, _, err := runArgs("bien trop court\n", "--data", dir, "user", "add", "--login", "s", "--name", "S S", "--role", "supervisor"); err == nil {
		t.Error("supervisor without team accepted")
	}
	if _, _, err := runArgs("un mot de passe correct\n", "--data", dir, "user", "add", "--login", "h", "--name", "Hélène R", "--role", "hr"); err != nil {
		t.Errorf("user add hr: %v", err)
	}
	if _, _, err := runArgs("un mot de passe correct\n", "--data", dir, "user", "add", "--login", "h", "--name", "Hélène R", "--role", "hr"); err == nil {
		t.Error("duplicate login accepted")
	}
	if _, _, err := runArgs("un mot de passe correct\n", "--data", dir, "user", "add", "--login", "z", "--name", "Z Z", "--role", "king"); err == nil || !strings.Contains(err.Error(), "unknown role") {
		t.Errorf("unknown role: %v", err)
	}
}

// Operators read sentences that name what to fix, never gRPC code names or
// nested statuses; field problems name the field.
func TestOperatorErrorsAreSentences(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs("", "--data", dir, "init", "--name", "Paul Renaud"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runArgs("", "--data", dir, "team", "add", "--id", "team-x", "--name", "X"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"init", "--name", "Paul Renaud"}, "init: already initialised: accounts exist"},
		{[]string{"team", "add", "--id", "team-x", "--name", "Again"}, `team add: team_id: "team-x" exists`},
		{[]string{"user", "disable", "nobody"}, `user disable: no account "nobody"`},
		{[]string{"user", "add", "--login", "s", "--name", "S S", "--role", "supervisor"},
			"user add: team_ids: a supervisor needs at least one team"},
		{[]string{"period", "add", "--team", "nope", "--from", "2026-11-01", "--to", "2026-12-01"},
			`period add: team_id: no team "nope"`},
		{[]string{"period", "add", "--team", "team-x", "--from", "2026-12-01", "--to", "2026-11-01"},
			"period add: ends_at: must be after starts_at"},
		{[]string{"grid", "export", "nope"}, "grid export: grid nope not found"},
	}
	for _, c := range cases {
		_, _, err := runArgs("", append([]string{"--data", dir}, c.args...)...)
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
			continue
		}
		for _, bad := range []string{"rpc error", "code =", "InvalidArgument", "NotFound", "AlreadyExists"} {
			if strings.Contains(domain.Describe(err), bad) {
				t.Errorf("%v: %q shows %q", c.args, domain.Describe(err), bad)
			}
		}
	}
}
