package e2e

import (
	"regexp"
	"testing"
	"time"
)

// TestFrenchJourney: with --lang fr the demo console is in French: a
// supervisor logs in, filters the list, opens a call and plays it, fills
// the evaluation and submits it, reading French all the way (decimal comma,
// French statuses and confirmations).
func TestFrenchJourney(t *testing.T) {
	requireTmux(t)
	bin := buildEcoute(t)
	tm := startTmux(t, 120, 40, []string{"LANG=C"}, bin+" --lang fr demo --silent --data "+t.TempDir())
	tm.waitFor("the call list in French", regexp.MustCompile(`Appels échantillonnés`), 90*time.Second)
	tm.waitFor("the footer", regexp.MustCompile(`appel 1 sur \d+ chargés, \d+ en tout`), 30*time.Second)

	// Filter: the demo agent's calls not evaluated yet (the agent of
	// TestEvaluationJourney, whose grid the first options complete).
	tm.keys("/")
	tm.keys("-l", `agent:"`+demoAgentName+`" evaluated:no`)
	tm.keys("Enter")
	tm.waitFor("the applied filter", regexp.MustCompile(`filtre agent:.* evaluated:no`), 10*time.Second)
	tm.waitFor("the filtered rows", callRowRE, 20*time.Second)

	// Open the first one and play it.
	tm.keys("Enter")
	tm.waitFor("the call screen", regexp.MustCompile(`Supprimé le`), 20*time.Second)
	tm.waitFor("the player", positionRE, 20*time.Second)
	tm.keys("Space")
	tm.waitFor("playing", regexp.MustCompile(`▶ lecture`), 10*time.Second)

	// Evaluate: the first option of every criterion, then submit.
	tm.keys("e")
	tm.waitFor("the draft", regexp.MustCompile(`Statut brouillon`), 20*time.Second)
	for range 30 {
		tm.keys("1")
	}
	tm.waitFor("a live total with a decimal comma", regexp.MustCompile(`Total \d+,\d\x{202f}%`), 10*time.Second)
	tm.waitFor("the saved state", regexp.MustCompile(`✓ enregistrée à \d{2}:\d{2}:\d{2}`), 10*time.Second)
	tm.keys("s")
	tm.waitFor("the confirmation", regexp.MustCompile(`Soumettre cette évaluation\x{202f}\? Total \d+,\d`), 5*time.Second)
	tm.keys("Enter")
	tm.waitFor("the submitted state", regexp.MustCompile(`Statut soumise`), 10*time.Second)
	tm.waitFor("the confirmation message", regexp.MustCompile(`Évaluation soumise\.`), 10*time.Second)
}
