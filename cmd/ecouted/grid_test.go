package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGridImportExport(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "internal", "demo", "grids", "outbound-survey.yaml")
	out, _, err := runArgs("", "--data", dir, "grid", "import", src)
	if err != nil || !strings.Contains(out, "grid outbound-survey version 1 stored as a new version") {
		t.Fatalf("import: %q %v", out, err)
	}
	exported, _, err := runArgs("", "--data", dir, "grid", "export", "outbound-survey")
	if err != nil || !strings.Contains(exported, "consent-before-recording") {
		t.Fatalf("export: %v\n%s", err, exported)
	}
	// The exported form imports again (unused: same version).
	again := filepath.Join(t.TempDir(), "again.yaml")
	if err := os.WriteFile(again, []byte(exported), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runArgs("", "--data", dir, "grid", "import", again)
	if err != nil || !strings.Contains(out, "version 1 updated in place") {
		t.Fatalf("re-import: %q %v", out, err)
	}
	list, _, err := runArgs("", "--data", dir, "grid", "list")
	if err != nil || !strings.Contains(list, "outbound-survey") || !strings.Contains(list, "outbound") {
		t.Errorf("list: %q %v", list, err)
	}
	if _, _, err := runArgs("", "--data", dir, "grid", "export", "nope"); err == nil {
		t.Error("export of an unknown grid succeeded")
	}
}

func TestGridImportReportsLines(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	yaml := "id: bad\nname: Bad\nsections:\n  - id: s\n    title: S\n    weight: 1\n    criteria:\n      - id: c\n        label: C\n        type: stars\n        weight: 1\n"
	if err := os.WriteFile(bad, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runArgs("", "--data", t.TempDir(), "grid", "import", bad)
	if err == nil || !strings.Contains(errOut, "bad.yaml:line 10: sections[0].criteria[0].type") {
		t.Errorf("want a line-numbered problem, got %v\n%s", err, errOut)
	}
}
