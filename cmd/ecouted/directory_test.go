package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirectoryCommands runs the journey of a new call centre on the
// command line: import the HR export (a French spreadsheet), import it
// again (nothing changes), make an agent account for an imported agent,
// end the agent, and read the lists.
func TestDirectoryCommands(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs("", "--data", dir, "init", "--name", "Paul Renaud"); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(t.TempDir(), "annuaire.csv")
	export := "\ufeffType;Identifiant;Nom;Équipe;Client;Statut\r\n" +
		"équipe;T-SUP;Support;;;\r\n" +
		"campagne;C-BOX;Offre Box;;Opérateur;\r\n" +
		"agent;1001;Zoé Lefèvre;T-SUP;;actif\r\n" +
		"agent;1002;Marc Petit;T-SUP;;\r\n"
	if err := os.WriteFile(csv, []byte(export), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runArgs("", "--data", dir, "directory", "import", "--dry-run", csv)
	if err != nil || !strings.Contains(out, "dry run: 4 change(s) would be made; nothing was changed") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if out, _, _ := runArgs("", "--data", dir, "agent", "list"); strings.Contains(out, "1001") {
		t.Fatalf("the dry run created agents:\n%s", out)
	}
	out, _, err = runArgs("", "--data", dir, "directory", "import", csv)
	if err != nil || !strings.Contains(out, "4 change(s) made") ||
		!regexpLine(out, "agents", "2", "0", "0", "0", "0") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, _, err = runArgs("", "--data", dir, "directory", "import", csv)
	if err != nil || !strings.Contains(out, "0 change(s) made") || !regexpLine(out, "agents", "0", "0", "0", "0", "2") {
		t.Fatalf("import again: %v\n%s", err, out)
	}
	if _, _, err := runArgs("un mot de passe correct\n", "--data", dir, "user", "add", "--login", "zoe",
		"--name", "Zoé Lefèvre", "--role", "agent", "--agent", "1001"); err != nil {
		t.Fatalf("user add for an imported agent: %v", err)
	}
	if _, errOut, err := runArgs("", "--data", dir, "agent", "end", "--id", "1001"); err != nil ||
		!strings.Contains(errOut, "agent 1001 ended; 1 account(s) disabled") {
		t.Fatalf("agent end: %v %q", err, errOut)
	}
	out, _, _ = runArgs("", "--data", dir, "user", "list")
	if !regexpLine(out, "zoe", "Zoé", "Lefèvre", "agent", "1001", "disabled,") {
		t.Errorf("the ended agent's account:\n%s", out)
	}
	out, _, _ = runArgs("", "--data", dir, "agent", "list", "--all")
	if !regexpLine(out, "1001", "Zoé", "Lefèvre", "T-SUP", "ended") || !regexpLine(out, "1002", "Marc", "Petit", "T-SUP", "active") {
		t.Errorf("agent list --all:\n%s", out)
	}
	if out, _, _ := runArgs("", "--data", dir, "agent", "list"); strings.Contains(out, "1001") {
		t.Errorf("agent list shows the ended agent:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"agent", "add", "--id", "1003", "--name", "Léa", "--team", "T-NONE"}, `agent add: team_id: no team "T-NONE"`},
		{[]string{"agent", "add", "--id", "1002", "--name", "Léa", "--team", "T-SUP"}, `agent add: agent_id: "1002" exists`},
		{[]string{"agent", "rename", "--id", "1001", "--name", "Zoé L."}, "agent rename: agent 1001 was ended on "},
		{[]string{"team", "end", "--id", "T-SUP"}, "team end: team T-SUP still has 1 active agents: end them or move them to another team first"},
		{[]string{"agent", "add", "--id", "1003"}, "agent add: --name is required"},
		{[]string{"agent", "fire"}, `unknown agent command "fire"`},
		{[]string{"campaign", "rename", "--id", "C-NONE", "--name", "X"}, `campaign rename: campaign_id: no campaign "C-NONE"`},
	} {
		_, _, err := runArgs("", append([]string{"--data", dir}, c.args...)...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	steps := [][]string{
		{"agent", "move", "--id", "1002", "--team", "T-NEW"},
		{"team", "add", "--id", "T-NEW", "--name", "Nouvelle"},
		{"agent", "move", "--id", "1002", "--team", "T-NEW"},
		{"team", "rename", "--id", "T-SUP", "--name", "Support client"},
		{"team", "end", "--id", "T-SUP"},
		{"campaign", "add", "--id", "C-TV", "--name", "Offre TV", "--client", "Opérateur"},
		{"campaign", "rename", "--id", "C-TV", "--name", "Offre TV+"},
		{"campaign", "end", "--id", "C-BOX"},
	}
	for i, s := range steps {
		_, _, err := runArgs("", append([]string{"--data", dir}, s...)...)
		if (i == 0) != (err != nil) {
			t.Errorf("%v: %v", s, err)
		}
	}
	out, _, _ = runArgs("", "--data", dir, "team", "list")
	if !regexpLine(out, "T-SUP", "Support", "client", "ended") || !regexpLine(out, "T-NEW", "Nouvelle", "active") {
		t.Errorf("team list:\n%s", out)
	}
	out, _, _ = runArgs("", "--data", dir, "campaign", "list", "--all")
	if !regexpLine(out, "C-BOX", "Offre", "Box", "Opérateur", "ended") || !regexpLine(out, "C-TV", "Offre", "TV+", "Opérateur", "active") {
		t.Errorf("campaign list:\n%s", out)
	}
	// Each change left one audit entry (and each refusal one).
	out, _, err = runArgs("", "--data", dir, "audit", "list", "--limit", "200")
	if err != nil {
		t.Fatal(err)
	}
	for action, n := range map[string][2]int{"team.create": {2, 0}, "agent.create": {2, 2}, "agent.end": {1, 0},
		"agent.move": {1, 1}, "agent.rename": {0, 1}, "team.end": {1, 1}, "campaign.end": {1, 0}} {
		ok, refused := 0, 0
		for _, line := range strings.Split(out, "\n") {
			switch {
			case !strings.Contains(line, "\t"+action+"\t"):
			case strings.Contains(line, "result=ok"):
				ok++
			default:
				refused++
			}
		}
		if [2]int{ok, refused} != n {
			t.Errorf("%s: %d done and %d refused in the audit trail, want %v", action, ok, refused, n)
		}
	}
}

// regexpLine tells whether out has a line made of these fields, in order,
// separated by spaces.
func regexpLine(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(fields, " ") ||
			strings.HasPrefix(strings.Join(strings.Fields(line), " "), strings.Join(fields, " ")) {
			return true
		}
	}
	return false
}
