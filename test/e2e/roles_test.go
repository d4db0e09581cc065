package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// roleScreen is what a role's first screen must and must not show.
type roleScreen struct {
	role      string
	calls     bool     // the call list, with rows
	evals     bool     // the evaluation list, with rows (dated like calls)
	must      []string // texts that must appear
	mustNot   []string // texts that must not appear
	agentOnly string   // every row names this agent
}

var roleScreens = []roleScreen{
	{role: "supervisor", calls: true, must: []string{"Agent", "Team", "Équipe Énergie", "Équipe Banque", "(supervisor)"},
		mustNot: []string{"You may be recorded"}},
	// Trainees only: the agents the trainer's coaching sessions name
	// (the demo trainer coaches an agent of Énergie), never a team's
	// other calls.
	{role: "trainer", calls: true, must: []string{"Agent", "(trainer)"}, mustNot: []string{"Équipe Banque"}},
	{role: "agent", calls: true, agentOnly: "Camille Lefèvre",
		must: []string{"You may be recorded (Équipe Énergie): now ", " · next ", "(agent)"}},
	// Scores, not calls: hr opens on the evaluations it may read.
	{role: "hr", evals: true, must: []string{"Écoute › Evaluations", "Kept until", "(hr)"},
		mustNot: []string{"has no access", "Sampled calls"}},
	// Aggregated statistics only: the monthly tables of the client's
	// company, by team, with the cells that could single an agent out
	// hidden; no agent's name.
	{role: "client", must: []string{"Écoute › Statistics", "no agent can be singled out", "(client)"},
		mustNot: []string{"has no access", "Camille", "Sampled calls"}},
	// Technical metadata only: dates and durations, no names.
	{role: "maintenance", calls: true, must: []string{"Date", "Duration", "(maintenance)"},
		mustNot: []string{"Agent ", "Camille", "Équipe", "Campaign"}},
	// Accounts, not calls: the nominative list of who may use Écoute (R8).
	{role: "dpo", must: []string{"Écoute › Accounts", "demo-supervisor", "Claire Dubois", "team-banque", "(dpo)"},
		mustNot: []string{"has no access"}},
	{role: "admin", must: []string{"Écoute › Accounts", "demo-agent", "agent-01", "(admin)"},
		mustNot: []string{"has no access"}},
}

// TestEachRoleFirstScreenFitsTheRole starts `ecoute demo --as ROLE` for
// every role in tmux and reads the first screen: the call list only for the
// roles that read calls, with only the columns they may see; an agent sees
// their own calls and when they may be recorded (R6). Each capture is
// logged (go test -v) so it can be read as the user sees it.
func TestEachRoleFirstScreenFitsTheRole(t *testing.T) {
	requireTmux(t)
	bin := buildEcoute(t)
	for _, rs := range roleScreens {
		t.Run(rs.role, func(t *testing.T) {
			tm := startTmux(t, 110, 20, nil, bin+" demo --silent --as "+rs.role)
			tm.waitFor("the status bar", regexp.MustCompile(`\(`+rs.role+`\)`), 90*time.Second)
			var screen string
			if rs.calls {
				tm.waitFor("the call list", callRowRE, 30*time.Second)
			} else {
				tm.waitFor("the first screen", regexp.MustCompile(`Statistics|Evaluations|demo-supervisor`), 30*time.Second)
			}
			if rs.role == "agent" {
				tm.waitFor("the recording periods", regexp.MustCompile(`You may be recorded`), 30*time.Second)
			}
			// Let the screen settle (later pages, status messages).
			time.Sleep(500 * time.Millisecond)
			screen = tm.screen()
			t.Logf("first screen of %s:\n%s", rs.role, screen)
			if got := callRowRE.MatchString(screen); got != (rs.calls || rs.evals) {
				t.Errorf("%s: dated rows shown = %v, want %v", rs.role, got, rs.calls || rs.evals)
			}
			for _, s := range rs.must {
				if !strings.Contains(screen, s) {
					t.Errorf("%s: %q not on the first screen", rs.role, s)
				}
			}
			for _, s := range rs.mustNot {
				if strings.Contains(screen, s) {
					t.Errorf("%s: %q on the first screen", rs.role, s)
				}
			}
			if rs.agentOnly != "" {
				for _, line := range strings.Split(screen, "\n") {
					if callRowRE.MatchString(line) && !strings.Contains(line, rs.agentOnly) {
						t.Errorf("%s sees a call of someone else: %q", rs.role, line)
					}
				}
			}
			tm.keys("C-c")
		})
	}
}

// TestForcedPasswordChangeInConsole creates an account with a one-time
// password on a real ecouted, logs in from the console in tmux and goes
// through the change-password screen: each refusal shows its reason, and a
// good password leads to the call list.
func TestForcedPasswordChangeInConsole(t *testing.T) {
	requireTmux(t)
	ecoute := buildEcoute(t)
	srv := newEcouted(t)
	add := exec.Command(srv.bin, "--data", srv.data, "user", "add", "--login", "lmartin", "--first", "Léa",
		"--last", "Martin", "--role", "supervisor", "--team", "team-support")
	add.Stdin = strings.NewReader("mot de passe initial\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	srv.start()
	tm := startTmux(t, 100, 30, nil, fmt.Sprintf("%s --server %s --login lmartin --silent", ecoute, srv.addr))
	tm.waitFor("the login screen", regexp.MustCompile(`Password`), 60*time.Second)
	tm.keys("-l", "mot de passe initial")
	tm.keys("Enter")
	tm.waitFor("the change-password screen", regexp.MustCompile(`Choose a new password`), 30*time.Second)
	t.Logf("after logging in with a one-time password:\n%s", tm.screen())

	tm.keys("-l", "mot de passe initial")
	tm.keys("Tab")
	tm.keys("-l", "court")
	tm.keys("Tab")
	tm.keys("-l", "court")
	tm.keys("Enter")
	tm.waitFor("the length refusal", regexp.MustCompile(`New password refused: too short: 12 characters at least\.`), 20*time.Second)
	// The new fields were cleared and the focus is on the first of them.
	tm.keys("-l", "Martin joue du piano")
	tm.keys("Tab")
	tm.keys("-l", "Martin joue du piano")
	tm.keys("Enter")
	tm.waitFor("the name refusal", regexp.MustCompile(`New password refused: contains your name\.`), 20*time.Second)
	t.Logf("after a refused password:\n%s", tm.screen())
	tm.keys("-l", "une phrase bien a moi")
	tm.keys("Tab")
	tm.keys("-l", "une phrase bien a moi")
	tm.keys("Enter")
	tm.waitFor("the call list", callRowRE, 30*time.Second)
	if s := tm.screen(); !strings.Contains(s, "(supervisor)") || strings.Contains(s, "Choose a new password") {
		t.Errorf("after the change:\n%s", s)
	}
}
