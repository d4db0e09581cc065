package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestActivityImportAndCompany: an activity file with an ambiguous date is
// refused naming its line and stores nothing; the corrected file is
// stored; a client account is linked to its company, and only a client
// account can be.
func TestActivityImportAndCompany(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs("", "--data", dir, "init", "--name", "Paul Renaud"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"team", "add", "--id", "T1", "--name", "Support"},
		{"campaign", "add", "--id", "C1", "--name", "Box", "--client", "Opérateur"},
		{"agent", "add", "--id", "A1", "--name", "Zoé Lefèvre", "--team", "T1"},
	} {
		if _, _, err := runArgs("", append([]string{"--data", dir}, args...)...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	day := time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02")
	head := "agent_id,campaign_id,activity_type,started_at,ended_at,calls_handled,calls_lost,talk_seconds,back_office_seconds,ring_seconds\n"
	good := fmt.Sprintf("A1,C1,inbound,%sT09:00:00Z,%sT10:00:00Z,12,1,2400,600,90\n", day, day)
	file := filepath.Join(t.TempDir(), "activity.csv")
	os.WriteFile(file, []byte(head+good+"A1,C1,inbound,03/02/2026 10:00,"+day+"T11:00:00Z,3,0,300,60,20\n"), 0o600)
	_, _, err := runArgs("", "--data", dir, "activity", "import", file)
	if err == nil || !strings.Contains(err.Error(), "line 3: started_at") {
		t.Fatalf("ambiguous date: %v", err)
	}
	os.WriteFile(file, []byte(head+good), 0o600)
	if out, _, err := runArgs("", "--data", dir, "activity", "import", "--dry-run", file); err != nil ||
		!strings.Contains(out, "1 intervals would be stored") {
		t.Fatalf("dry run: %v %s", err, out)
	}
	if out, _, err := runArgs("", "--data", dir, "activity", "import", file); err != nil || !strings.Contains(out, "1 intervals stored") {
		t.Fatalf("import: %v %s", err, out)
	}
	if _, _, err := runArgs("un mot de passe correct\n", "--data", dir, "user", "add", "--login", "cli",
		"--name", "Carla Client", "--role", "client"); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := runArgs("", "--data", dir, "user", "company", "cli", "Opérateur"); err != nil ||
		!strings.Contains(errOut, "cli reads the tables of Opérateur") {
		t.Fatalf("user company: %v %q", err, errOut)
	}
	if _, _, err := runArgs("un autre mot de passe sûr\n", "--data", dir, "user", "add", "--login", "sup",
		"--name", "Sam Sup", "--role", "supervisor", "--team", "T1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runArgs("", "--data", dir, "user", "company", "sup", "Opérateur"); err == nil ||
		!strings.Contains(err.Error(), "only client accounts") {
		t.Fatalf("a supervisor linked to a company: %v", err)
	}
}
