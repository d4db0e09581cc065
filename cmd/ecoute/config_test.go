package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadConfigFromXDG(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	// No file: an empty config, not an error.
	cfg, err := loadConfig("")
	if err != nil || cfg.Server != "" || len(cfg.Keys) != 0 {
		t.Fatalf("missing default file: %+v, %v", cfg, err)
	}
	path := filepath.Join(dir, "ecoute", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("server: q.example.com:7443\ntheme: high-contrast\npin_file: ~/pins\nsilent: true\nkeys:\n  calls.filter: [\"/\", \"F\"]\n")
	cfg, err = loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != "q.example.com:7443" || cfg.Theme != "high-contrast" || !cfg.Silent ||
		cfg.PinFile != filepath.Join(dir, "pins") || !slices.Equal(cfg.Keys["calls.filter"], []string{"/", "F"}) {
		t.Errorf("config = %+v", cfg)
	}
	for _, bad := range []struct{ text, want string }{
		{"servr: x\n", "servr"},
		{"theme: neon\n", "neon"},
		{"keys:\n  calls.nope: [x]\n", "calls.nope"},
	} {
		write(bad.text)
		if _, err := loadConfig(""); err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: error %v, want one naming %q and the file", bad.text, err, bad.want)
		}
	}
	// A file the user named must exist.
	if _, err := loadConfig(filepath.Join(dir, "nope.yaml")); err == nil {
		t.Error("a missing --config file was accepted")
	}
	if pick("", "b", "c") != "b" || pick("a", "b") != "a" {
		t.Error("pick does not take the first value set")
	}
}

func TestCompletionScriptsNameEveryCommand(t *testing.T) {
	for shell, script := range map[string]string{"bash": bashCompletion(), "zsh": zshCompletion(), "fish": fishCompletion()} {
		for _, want := range append(slices.Clone(completionCommands), "high-contrast", "supervisor", "theme", "config") {
			if !strings.Contains(script, want) {
				t.Errorf("%s completion lacks %q", shell, want)
			}
		}
	}
	if err := runCompletion([]string{"tcsh"}); err == nil {
		t.Error("an unknown shell was accepted")
	}
}
