package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
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
